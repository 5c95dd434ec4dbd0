//! SMS through Kannel's smsbox HTTP interface (`GET /cgi-bin/sendsms`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Accepted, Outgoing, SendError, Transport, redact, snippet};
use crate::delivery::CallbackUrls;
use crate::message::SmsEncoding;

#[derive(Clone, Deserialize)]
pub struct KannelConfig {
    /// smsbox's sendsms-port, e.g. "http://127.0.0.1:13013".
    pub base_url: String,
    pub username: String,
    pub password: String,
    /// The sender number or ID; Kannel's global-sender applies when absent.
    pub from: Option<String>,
    /// Route through this smsc-id, if the gateway has several.
    pub smsc: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

impl fmt::Debug for KannelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KannelConfig")
            .field("base_url", &self.base_url)
            .field("username", &self.username)
            .field("password", &"***")
            .field("from", &self.from)
            .field("smsc", &self.smsc)
            .finish()
    }
}

pub struct KannelSms {
    config: KannelConfig,
    client: reqwest::Client,
}

/// All five DLR types: delivered, undelivered, queued on SMSC, SMSC accepted, SMSC rejected.
const DLR_MASK: &str = "31";

impl KannelSms {
    pub fn new(config: KannelConfig) -> Result<KannelSms, String> {
        url::Url::parse(&config.base_url).map_err(|e| format!("kannel.base_url: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|e| format!("kannel: {e}"))?;
        Ok(KannelSms { config, client })
    }
}

#[async_trait]
impl Transport for KannelSms {
    fn name(&self) -> &'static str {
        "kannel"
    }

    fn callback_url(&self, urls: &CallbackUrls, id: i64, token: &str) -> Option<String> {
        Some(urls.kannel_dlr(id, token))
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let Outgoing::Sms {
            to, sms, callback, ..
        } = msg
        else {
            return Err(SendError::wrong_channel("kannel"));
        };
        let mut url = url::Url::parse(&self.config.base_url).expect("checked in new()");
        url.set_path("/cgi-bin/sendsms");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("username", &self.config.username)
                .append_pair("password", &self.config.password)
                .append_pair("to", to.as_str())
                .append_pair("text", &sms.text)
                .append_pair("charset", "UTF-8")
                // 0: GSM 7-bit, 2: UCS-2 (Kannel converts from `charset`).
                .append_pair(
                    "coding",
                    if sms.encoding == SmsEncoding::Gsm7 {
                        "0"
                    } else {
                        "2"
                    },
                );
            if let Some(from) = &self.config.from {
                q.append_pair("from", from);
            }
            if let Some(smsc) = &self.config.smsc {
                q.append_pair("smsc", smsc);
            }
            if let Some(cb) = callback {
                // Kannel decodes the parameter, then replaces %d with the DLR type.
                q.append_pair("dlr-mask", DLR_MASK)
                    .append_pair("dlr-url", cb);
            }
        }
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("kannel: {}", e.without_url())))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let detail = || {
            redact(
                &format!("kannel: HTTP {}: {}", status.as_u16(), snippet(&text)),
                msg,
            )
        };
        match status.as_u16() {
            // "0: Accepted for delivery", "3: Queued for later delivery".
            200..=299 => Ok(Accepted { provider_id: None }),
            // Missing or malformed receiver, text too long for max-messages…:
            // the same request will fail again.
            400 => Err(SendError::Permanent(detail())),
            // 403 bad credentials, 503 no SMSC: an admin or time can fix these.
            _ => Err(SendError::Transient(detail())),
        }
    }
}
