//! The outbox worker over a real SQLite store: retries, backoff, permanent
//! failures, crash recovery, and one end-to-end run through MailDev and Kannel.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use studylink_model::AccountId;
use studylink_notify::delivery::{self, CallbackUrls, DeliveryOutcome};
use studylink_notify::transport::{KannelSms, Smtp};
use studylink_notify::worker::Outcome;
use studylink_notify::{
    Accepted, CountryCode, E164Phone, Lang, OutboxWorker, Outgoing, Payload, SendError, Transport,
    Transports, WorkerConfig,
};
use studylink_store::outbox::{NewOutboxMessage, OutboxChannel, OutboxStatus};
use studylink_store::{OutboxStore, Store, connect_with_outbox};

use crate::support::*;

const T0: i64 = 1_800_000_000_000;

struct Db {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    outbox: Arc<dyn OutboxStore>,
    account: AccountId,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/outbox.db", dir.path().display());
    let (store, outbox) = connect_with_outbox(&url).await.unwrap();
    let account = store.default_account().await.unwrap().id;
    Db {
        _dir: dir,
        store,
        outbox,
        account,
    }
}

fn email_row(account: AccountId, share: i64, to: &str, token: &str) -> NewOutboxMessage {
    NewOutboxMessage {
        account_id: account,
        share_id: Some(share),
        channel: OutboxChannel::Email,
        recipient: to.into(),
        payload: Payload::Email(message(Lang::Es, token).render_email()).to_json(),
    }
}

fn sms_row(account: AccountId, share: i64, to: &E164Phone, token: &str) -> NewOutboxMessage {
    NewOutboxMessage {
        account_id: account,
        share_id: Some(share),
        channel: OutboxChannel::Sms,
        recipient: to.as_str().into(),
        payload: Payload::Sms(message(Lang::Es, token).render_sms()).to_json(),
    }
}

/// A transport that answers from a script and counts its calls.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<Accepted, SendError>>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(answers: impl IntoIterator<Item = Result<Accepted, SendError>>) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers: Mutex::new(answers.into_iter().collect()),
            calls: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Transport for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    async fn send(&self, _msg: &Outgoing<'_>) -> Result<Accepted, SendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.answers.lock().unwrap().pop_front().unwrap_or_else(|| {
            Ok(Accepted {
                provider_id: Some("ok".into()),
            })
        })
    }
}

fn clocked(db: &Db, transport: Arc<Scripted>, clock: Arc<AtomicI64>) -> OutboxWorker {
    let t: Arc<dyn Transport> = transport;
    let transports = Transports {
        email: t.clone(),
        sms: t,
    };
    OutboxWorker::new(db.outbox.clone(), transports, WorkerConfig::default())
        .with_clock(move || clock.load(Ordering::SeqCst))
}

fn transient() -> Result<Accepted, SendError> {
    Err(SendError::Transient("421 try later".into()))
}

#[tokio::test]
async fn transient_failures_back_off_then_succeed() {
    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new([transient(), transient()]);
    let worker = clocked(&db, transport.clone(), clock.clone());
    let id = db
        .outbox
        .enqueue(&[email_row(db.account, 1, "p@example.org", "tok")], T0)
        .await
        .unwrap()[0];

    let first = worker.run_once().await.unwrap();
    let Outcome::Retry { at } = first[0].1 else {
        panic!("{first:?}")
    };
    assert!(
        (T0 + 24_000..=T0 + 36_000).contains(&at),
        "30 s ± 20 %: {}",
        at - T0
    );
    // Not due yet: nothing is claimed, nothing sent.
    clock.store(at - 1, Ordering::SeqCst);
    assert!(worker.run_once().await.unwrap().is_empty());
    assert_eq!(transport.calls.load(Ordering::SeqCst), 1);

    clock.store(at, Ordering::SeqCst);
    let second = worker.run_once().await.unwrap();
    let Outcome::Retry { at: at2 } = second[0].1 else {
        panic!("{second:?}")
    };
    assert!(
        (at + 96_000..=at + 144_000).contains(&at2),
        "2 min ± 20 %: {}",
        at2 - at
    );

    clock.store(at2, Ordering::SeqCst);
    assert_eq!(worker.run_once().await.unwrap()[0].1, Outcome::Sent);
    let row = db
        .outbox
        .outbox_message(db.account, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 3);
    assert_eq!(row.sent_at, Some(at2));
    assert_eq!(
        row.last_error.as_deref(),
        Some("421 try later"),
        "the last failure stays visible"
    );
    assert_eq!(transport.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new((0..10).map(|_| transient()));
    let worker = clocked(&db, transport.clone(), clock.clone());
    let id = db
        .outbox
        .enqueue(&[email_row(db.account, 1, "p@example.org", "tok")], T0)
        .await
        .unwrap()[0];
    let mut last = None;
    for _ in 0..6 {
        let out = worker.run_once().await.unwrap();
        assert_eq!(out.len(), 1);
        last = Some(out[0].1.clone());
        if let Outcome::Retry { at } = out[0].1 {
            clock.store(at, Ordering::SeqCst);
        }
    }
    assert_eq!(last, Some(Outcome::Failed));
    let row = db
        .outbox
        .outbox_message(db.account, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, OutboxStatus::Failed);
    assert_eq!(row.attempts, 6);
    assert!(row.last_error.unwrap().contains("after 6 attempts"));
    clock.fetch_add(86_400_000, Ordering::SeqCst);
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "a failed message stays failed"
    );
    assert_eq!(transport.calls.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn permanent_errors_fail_at_once() {
    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new([Err(SendError::Permanent("550 no such user".into()))]);
    let worker = clocked(&db, transport.clone(), clock);
    let id = db
        .outbox
        .enqueue(&[email_row(db.account, 1, "p@example.org", "tok")], T0)
        .await
        .unwrap()[0];
    assert_eq!(worker.run_once().await.unwrap()[0].1, Outcome::Failed);
    let row = db
        .outbox
        .outbox_message(db.account, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Failed, 1));
    assert_eq!(row.last_error.as_deref(), Some("550 no such user"));
}

#[tokio::test]
async fn unusable_rows_fail_without_reaching_a_transport() {
    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new([]);
    let worker = clocked(&db, transport.clone(), clock);
    let mut bad_payload = email_row(db.account, 1, "p@example.org", "tok");
    bad_payload.payload = "{not json".into();
    let mut bad_phone = sms_row(
        db.account,
        1,
        &E164Phone::parse("612345678", CountryCode::SPAIN).unwrap(),
        "t",
    );
    bad_phone.recipient = "612345678".into();
    let mut mismatched = email_row(db.account, 1, "p@example.org", "tok");
    mismatched.channel = OutboxChannel::Sms;
    db.outbox
        .enqueue(&[bad_payload, bad_phone, mismatched], T0)
        .await
        .unwrap();
    let out = worker.run_once().await.unwrap();
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|(_, o)| *o == Outcome::Failed), "{out:?}");
    assert_eq!(transport.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_crash_after_claiming_is_retried_once_the_lease_expires_and_not_before() {
    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new([]);
    let worker = clocked(&db, transport.clone(), clock.clone());
    let id = db
        .outbox
        .enqueue(&[email_row(db.account, 1, "p@example.org", "tok")], T0)
        .await
        .unwrap()[0];
    // Another worker claimed it and died before recording anything.
    let lease = WorkerConfig::default().lease.as_millis() as i64;
    assert_eq!(db.outbox.claim_due(T0, lease, 10).await.unwrap().len(), 1);

    clock.store(T0 + lease - 1, Ordering::SeqCst);
    assert!(
        worker.run_once().await.unwrap().is_empty(),
        "never re-sent while the lease holds"
    );
    assert_eq!(transport.calls.load(Ordering::SeqCst), 0);

    clock.store(T0 + lease, Ordering::SeqCst);
    assert_eq!(worker.run_once().await.unwrap()[0].1, Outcome::Sent);
    let row = db
        .outbox
        .outbox_message(db.account, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status, row.attempts), (OutboxStatus::Sent, 2));
    // The dead worker's late mark for attempt 1 changes nothing.
    assert!(
        !db.outbox
            .mark_failed_final(id, 1, "late", T0 + lease + 5)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn run_wakes_on_notify_and_stops_on_shutdown() {
    let db = db().await;
    let dir = tempfile::tempdir().unwrap();
    // Long enough that only the wake-up can explain a prompt send.
    let config = WorkerConfig {
        poll_interval: Duration::from_secs(3600),
        ..WorkerConfig::default()
    };
    let worker = OutboxWorker::new(db.outbox.clone(), Transports::folder(dir.path()), config);
    let waker = worker.waker();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    let token = unique_token();
    let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
    let ids = db
        .outbox
        .enqueue(
            &[
                email_row(db.account, 9, "p@example.org", &token),
                sms_row(db.account, 9, &phone, &token),
            ],
            studylink_model::now_millis(),
        )
        .await
        .unwrap();
    waker.notify_one();
    let outbox = db.outbox.clone();
    let account = db.account;
    eventually(
        "the worker to send both messages",
        Duration::from_secs(20),
        || {
            let outbox = outbox.clone();
            async move {
                let rows = outbox.list_for_share(account, 9).await.ok()?;
                rows.iter()
                    .all(|r| r.status == OutboxStatus::Sent)
                    .then_some(())
            }
        },
    )
    .await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("run() returns on shutdown")
        .unwrap();

    let eml =
        std::fs::read_to_string(dir.path().join(format!("{:08}-email.eml", ids[0].0))).unwrap();
    assert!(eml.contains("To: p@example.org"));
    let txt = std::fs::read_to_string(dir.path().join(format!("{:08}-sms.txt", ids[1].0))).unwrap();
    assert!(txt.contains(&token));
}

#[tokio::test]
async fn end_to_end_through_maildev_and_kannel_with_delivery_report() {
    require_maildev().await;
    require_kannel().await;
    let db = db().await;
    let (base, mut reports) = callback_server().await;
    let token = unique_token();
    let to = format!(
        "e2e+{}@example.org",
        &token[..10].to_lowercase().replace(['-', '_'], "x")
    );
    let phone = E164Phone::parse("+34 612 000 321", CountryCode::SPAIN).unwrap();
    let transports = Transports {
        email: Arc::new(Smtp::new(&crate::smtp::maildev_config()).unwrap()),
        sms: Arc::new(KannelSms::new(crate::kannel::kannel_config()).unwrap()),
    };
    let config = WorkerConfig {
        callbacks: Some(CallbackUrls::new(base)),
        ..WorkerConfig::default()
    };
    let worker = OutboxWorker::new(db.outbox.clone(), transports, config);
    let now = studylink_model::now_millis();
    db.outbox
        .enqueue(
            &[
                email_row(db.account, 5, &to, &token),
                sms_row(db.account, 5, &phone, &token),
            ],
            now,
        )
        .await
        .unwrap();

    let out = worker.run_once().await.unwrap();
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|(_, o)| *o == Outcome::Sent), "{out:?}");

    let mail = crate::smtp::received_by(&to).await;
    assert!(mail["text"].as_str().unwrap().contains(&token));
    let lines = eventually(
        "fakesmsc to log the SMS",
        Duration::from_secs(20),
        || async { Some(fakesmsc_lines(&token)).filter(|l| !l.is_empty()) },
    )
    .await;
    assert!(lines[0].contains("+34612000321"));

    let report = tokio::time::timeout(Duration::from_secs(20), reports.recv())
        .await
        .unwrap()
        .unwrap();
    let update = delivery::kannel_dlr(report.id, &report.query)
        .unwrap()
        .unwrap();
    let cb_token: String = url::form_urlencoded::parse(report.query.as_bytes())
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let forged = delivery::apply(&*db.outbox, &update, "not-the-token", now)
        .await
        .unwrap();
    assert_eq!(forged, DeliveryOutcome::Rejected);
    let applied = delivery::apply(&*db.outbox, &update, &cb_token, now)
        .await
        .unwrap();
    // "Accepted by the SMSC" after mark_sent changes nothing; before it, it sets sent.
    assert!(
        matches!(
            applied,
            DeliveryOutcome::Ignored | DeliveryOutcome::Applied(OutboxStatus::Sent)
        ),
        "{applied:?}"
    );
    let rows = db.outbox.list_for_share(db.account, 5).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    let sms = rows
        .iter()
        .find(|r| r.channel == OutboxChannel::Sms)
        .unwrap();
    assert_eq!(sms.id.0, report.id);
    drop(db.store);
}

/// Collects everything the worker logs.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_the_message_but_never_the_patient_contact() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, not scoped: tracing caches per-callsite interest process-wide,
    // and a thread-scoped subscriber misses events when tests run in parallel.
    // Other tests' worker logs land here too, which only widens the check.
    tracing::subscriber::set_global_default(subscriber).expect("the only test that sets one");

    let db = db().await;
    let clock = Arc::new(AtomicI64::new(T0));
    let transport = Scripted::new([
        Err(SendError::Transient("451 greylisted".into())),
        Err(SendError::Permanent("invalid number".into())),
    ]);
    let worker = clocked(&db, transport, clock);
    let phone = E164Phone::parse("612 987 654", CountryCode::SPAIN).unwrap();
    let ids = db
        .outbox
        .enqueue(
            &[
                email_row(db.account, 1, "ana.garcia@example.org", "tok"),
                sms_row(db.account, 1, &phone, "tok"),
            ],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().len(), 2);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(&format!("outbox_id={}", ids[0].0)), "{text}");
    assert!(
        text.contains("will retry") && text.contains("refused for good"),
        "{text}"
    );
    for secret in ["ana.garcia", "example.org", "612987654", "612 987 654"] {
        assert!(!text.contains(secret), "{secret:?} was logged:\n{text}");
    }
}
