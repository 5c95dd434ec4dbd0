//! Drains the outbox: claims due messages, hands them to the transport for
//! their channel, and records the outcome with retries and backoff.
//! The delivery guarantee is the store's (see `studylink_store::outbox`); the
//! worker keeps its side of it by bounding every send well inside the lease.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rand::Rng;
use serde::Deserialize;
use studylink_model::{Millis, now_millis};
use studylink_store::outbox::{OutboxChannel, OutboxMessage};
use studylink_store::{OutboxStore, StoreResult};
use tokio::sync::Notify;
use tracing::Instrument;

use crate::contacts::{E164Phone, EmailAddress};
use crate::delivery::{CallbackUrls, new_callback_token};
use crate::message::Payload;
use crate::transport::{
    KannelConfig, KannelSms, OutboxFolder, Outgoing, SendError, Smtp, SmtpConfig, Transport,
    TwilioConfig, TwilioSms,
};

/// `[notify]` in the server's configuration. Everything is optional: with
/// nothing set, messages go to the outbox folder.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NotifyConfig {
    pub smtp: Option<SmtpConfig>,
    pub sms: Option<SmsConfig>,
    pub outbox_dir: Option<std::path::PathBuf>,
}

/// `[notify.sms]`: `provider = "twilio"` or `"kannel"` and its settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum SmsConfig {
    Twilio(TwilioConfig),
    Kannel(KannelConfig),
}

/// The transport for each channel.
#[derive(Clone)]
pub struct Transports {
    pub email: Arc<dyn Transport>,
    pub sms: Arc<dyn Transport>,
}

impl Transports {
    /// Both channels to a local folder: what a fresh install does.
    pub fn folder(dir: impl Into<std::path::PathBuf>) -> Transports {
        let folder: Arc<dyn Transport> =
            Arc::new(OutboxFolder::new(dir, None).expect("the default from address parses"));
        Transports {
            email: folder.clone(),
            sms: folder,
        }
    }

    /// The transports a configuration names; a channel without a provider
    /// goes to `NotifyConfig::outbox_dir`, else `default_outbox_dir`.
    pub fn from_config(
        config: &NotifyConfig,
        default_outbox_dir: &std::path::Path,
    ) -> Result<Transports, String> {
        let dir = config
            .outbox_dir
            .clone()
            .unwrap_or_else(|| default_outbox_dir.to_path_buf());
        let from = config.smtp.as_ref().map(|s| s.from.as_str());
        let folder: Arc<dyn Transport> = Arc::new(OutboxFolder::new(dir, from)?);
        let email: Arc<dyn Transport> = match &config.smtp {
            Some(smtp) => Arc::new(Smtp::new(smtp)?),
            None => folder.clone(),
        };
        let sms: Arc<dyn Transport> = match &config.sms {
            Some(SmsConfig::Twilio(c)) => Arc::new(TwilioSms::new(c.clone())?),
            Some(SmsConfig::Kannel(c)) => Arc::new(KannelSms::new(c.clone())?),
            None => folder,
        };
        Ok(Transports { email, sms })
    }

    /// Whether this channel only writes to the local outbox folder: the send
    /// dialog must then say that nothing reaches the patient.
    pub fn is_local_only(&self, channel: OutboxChannel) -> bool {
        self.for_channel(channel).name() == "folder"
    }

    fn for_channel(&self, channel: OutboxChannel) -> &Arc<dyn Transport> {
        match channel {
            OutboxChannel::Email => &self.email,
            OutboxChannel::Sms => &self.sms,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often to look for due messages when nobody wakes the worker.
    pub poll_interval: Duration,
    /// How long a claim protects a message from other workers.
    pub lease: Duration,
    /// A send still running after this is abandoned and retried. Must be well
    /// under `lease`, or another worker could claim the message mid-send.
    pub send_timeout: Duration,
    /// Messages claimed per round.
    pub batch: i64,
    /// Messages sent at once.
    pub concurrency: usize,
    /// Attempts before a message fails for good.
    pub max_attempts: i64,
    /// Wait before retry n (the last entry repeats), ±20 % jitter so a
    /// provider's outage doesn't end in a synchronised burst.
    pub backoff: Vec<Duration>,
    /// Where providers report delivery; `None` leaves SMS at "sent".
    pub callbacks: Option<CallbackUrls>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(300),
            send_timeout: Duration::from_secs(60),
            batch: 32,
            concurrency: 8,
            max_attempts: 6,
            backoff: [30, 120, 600, 3600, 3600].map(Duration::from_secs).to_vec(),
            callbacks: None,
        }
    }
}

/// The wait before retrying after failed attempt `attempt` (1-based).
/// `jitter` in [0, 1) picks the point in ±20 %.
pub fn retry_delay(backoff: &[Duration], attempt: i64, jitter: f64) -> Duration {
    let Some(last) = backoff.last() else {
        return Duration::ZERO;
    };
    let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(0);
    let base = backoff.get(index).unwrap_or(last);
    base.mul_f64(0.8 + 0.4 * jitter.clamp(0.0, 1.0))
}

type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    transports: Transports,
    config: WorkerConfig,
    wake: Arc<Notify>,
    clock: Clock,
}

/// What happened to one claimed message (for tests and logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retry {
        at: Millis,
    },
    Failed,
    /// Another worker took over (our lease had expired): nothing recorded.
    Stale,
}

impl OutboxWorker {
    pub fn new(
        store: Arc<dyn OutboxStore>,
        transports: Transports,
        config: WorkerConfig,
    ) -> OutboxWorker {
        assert!(
            config.send_timeout < config.lease,
            "send_timeout must be shorter than the lease"
        );
        OutboxWorker {
            store,
            transports,
            config,
            wake: Arc::new(Notify::new()),
            clock: Arc::new(now_millis),
        }
    }

    /// For tests: a clock to drive backoff and leases.
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> Millis + Send + Sync + 'static,
    ) -> OutboxWorker {
        self.clock = Arc::new(clock);
        self
    }

    /// Call `notify_one()` on this after committing new messages to send them
    /// now rather than at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown` completes. A batch in progress is finished
    /// (each send is bounded by `send_timeout`) so nothing is left mid-lease.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(
            email = self.transports.email.name(),
            sms = self.transports.sms.name(),
            "outbox worker started"
        );
        loop {
            let handled = match self.run_once().await {
                Ok(outcomes) => outcomes.len(),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: claiming messages failed");
                    0
                }
            };
            // A full batch means more may be due right now.
            if handled as i64 >= self.config.batch {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// One round: claims what is due and sends it.
    pub async fn run_once(&self) -> StoreResult<Vec<(OutboxMessage, Outcome)>> {
        let now = (self.clock)();
        let lease_ms = i64::try_from(self.config.lease.as_millis()).unwrap_or(i64::MAX);
        let claimed = self
            .store
            .claim_due(now, lease_ms, self.config.batch)
            .await?;
        let results = futures::stream::iter(claimed)
            .map(|m| async move {
                let span = tracing::info_span!(
                    "outbox_send",
                    outbox_id = m.id.0,
                    channel = m.channel.as_str(),
                    attempt = m.attempts
                );
                let outcome = self.process(&m).instrument(span).await;
                (m, outcome)
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect::<Vec<_>>()
            .await;
        let mut out = Vec::with_capacity(results.len());
        for (m, outcome) in results {
            match outcome {
                Ok(o) => out.push((m, o)),
                Err(e) => {
                    // The lease will expire and the message be retried.
                    tracing::warn!(outbox_id = m.id.0, error = %e, "outbox: recording an outcome failed");
                }
            }
        }
        Ok(out)
    }

    async fn process(&self, m: &OutboxMessage) -> StoreResult<Outcome> {
        let transport = self.transports.for_channel(m.channel).clone();
        if m.attempts > self.config.max_attempts {
            // Only reachable through repeated crashes mid-send.
            let error = format!("gave up after {} interrupted attempts", m.attempts - 1);
            return self.fail(m, &error).await;
        }
        let payload = match Payload::from_json(&m.payload) {
            Ok(p) => p,
            Err(e) => return self.fail(m, &format!("unreadable payload: {e}")).await,
        };
        let result = match (&payload, m.channel) {
            (Payload::Email(email), OutboxChannel::Email) => {
                let Some(to) = EmailAddress::parse(&m.recipient) else {
                    return self.fail(m, "invalid email address").await;
                };
                let msg = Outgoing::Email {
                    id: m.id.0,
                    to: &to,
                    email,
                };
                self.send(&*transport, &msg).await
            }
            (Payload::Sms(sms), OutboxChannel::Sms) => {
                let Some(to) = E164Phone::from_e164(&m.recipient) else {
                    return self.fail(m, "invalid phone number").await;
                };
                let callback = match &self.config.callbacks {
                    Some(urls) => {
                        let (token, hash) = new_callback_token();
                        match transport.callback_url(urls, m.id.0, &token) {
                            Some(url) => {
                                if !self
                                    .store
                                    .set_callback_token(m.id, m.attempts, &hash, (self.clock)())
                                    .await?
                                {
                                    return Ok(Outcome::Stale);
                                }
                                Some(url)
                            }
                            None => None,
                        }
                    }
                    None => None,
                };
                let msg = Outgoing::Sms {
                    id: m.id.0,
                    to: &to,
                    sms,
                    callback: callback.as_deref(),
                };
                self.send(&*transport, &msg).await
            }
            _ => return self.fail(m, "payload does not match the channel").await,
        };
        let now = (self.clock)();
        match result {
            Ok(accepted) => {
                let current = self
                    .store
                    .mark_sent(m.id, m.attempts, accepted.provider_id.as_deref(), now)
                    .await?;
                tracing::info!(transport = transport.name(), "outbox: message handed over");
                Ok(if current {
                    Outcome::Sent
                } else {
                    Outcome::Stale
                })
            }
            Err(e) if e.is_permanent() => {
                tracing::warn!(error = e.message(), "outbox: message refused for good");
                self.fail(m, e.message()).await
            }
            Err(e) if m.attempts >= self.config.max_attempts => {
                tracing::warn!(error = e.message(), "outbox: last attempt failed");
                self.fail(
                    m,
                    &format!("{} (after {} attempts)", e.message(), m.attempts),
                )
                .await
            }
            Err(e) => {
                let delay = retry_delay(
                    &self.config.backoff,
                    m.attempts,
                    rand::rng().random::<f64>(),
                );
                let at = now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
                tracing::info!(
                    error = e.message(),
                    retry_in_s = delay.as_secs(),
                    "outbox: will retry"
                );
                let current = self
                    .store
                    .mark_failed_retry(m.id, m.attempts, at, e.message(), now)
                    .await?;
                Ok(if current {
                    Outcome::Retry { at }
                } else {
                    Outcome::Stale
                })
            }
        }
    }

    async fn send(
        &self,
        transport: &dyn Transport,
        msg: &Outgoing<'_>,
    ) -> Result<crate::Accepted, SendError> {
        match tokio::time::timeout(self.config.send_timeout, transport.send(msg)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Transient(format!(
                "{}: no answer within {} s",
                transport.name(),
                self.config.send_timeout.as_secs()
            ))),
        }
    }

    async fn fail(&self, m: &OutboxMessage, error: &str) -> StoreResult<Outcome> {
        let current = self
            .store
            .mark_failed_final(m.id, m.attempts, error, (self.clock)())
            .await?;
        Ok(if current {
            Outcome::Failed
        } else {
            Outcome::Stale
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_means_the_local_folder() {
        let dir = std::path::Path::new("/tmp/studylink-outbox-test");
        let t = Transports::from_config(&NotifyConfig::default(), dir).unwrap();
        assert!(t.is_local_only(OutboxChannel::Email) && t.is_local_only(OutboxChannel::Sms));

        let config: NotifyConfig = serde_json::from_value(serde_json::json!({
            "smtp": {"host": "mail.example", "tls": "starttls", "from": "noreply@clinic.example"},
            "sms": {"provider": "kannel", "base_url": "http://127.0.0.1:13913", "username": "u", "password": "p"}
        }))
        .unwrap();
        let t = Transports::from_config(&config, dir).unwrap();
        assert_eq!((t.email.name(), t.sms.name()), ("smtp", "kannel"));
        assert!(!t.is_local_only(OutboxChannel::Sms));
        assert!(
            !format!("{config:?}").contains("\"p\""),
            "no secrets in Debug: {config:?}"
        );

        let twilio: NotifyConfig = serde_json::from_value(serde_json::json!({
            "sms": {"provider": "twilio", "account_sid": "AC1", "auth_token": "secret", "from": "+15005550006"}
        }))
        .unwrap();
        let t = Transports::from_config(&twilio, dir).unwrap();
        assert_eq!((t.email.name(), t.sms.name()), ("folder", "twilio"));
        assert!(!format!("{twilio:?}").contains("secret"));
    }

    #[test]
    fn backoff_schedule_with_jitter_bounds() {
        let b = WorkerConfig::default().backoff;
        assert_eq!(retry_delay(&b, 1, 0.5), Duration::from_secs(30));
        assert_eq!(retry_delay(&b, 2, 0.5), Duration::from_secs(120));
        assert_eq!(retry_delay(&b, 3, 0.5), Duration::from_secs(600));
        assert_eq!(retry_delay(&b, 4, 0.5), Duration::from_secs(3600));
        assert_eq!(retry_delay(&b, 9, 0.5), Duration::from_secs(3600));
        assert_eq!(retry_delay(&b, 1, 0.0), Duration::from_secs(24));
        assert_eq!(retry_delay(&b, 1, 1.0), Duration::from_secs(36));
        assert_eq!(retry_delay(&b, 0, 0.5), Duration::from_secs(30));
        assert_eq!(retry_delay(&[], 1, 0.5), Duration::ZERO);
    }
}
