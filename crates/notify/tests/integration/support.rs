//! Finding the peers, a sample message, and a tiny HTTP server for callbacks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::routing::get;
use chrono::NaiveDate;
use studylink_notify::{Lang, ShareMessage};
use tokio::sync::mpsc;
use url::Url;

pub const CLINIC: &str = "Clínica Dental Sonrisa";

pub fn maildev_smtp_port() -> u16 {
    env_port("MAILDEV_SMTP_PORT", 1025)
}

pub fn maildev_web() -> String {
    format!("http://127.0.0.1:{}", env_port("MAILDEV_WEB_PORT", 1080))
}

pub fn kannel_sendsms() -> String {
    format!(
        "http://127.0.0.1:{}",
        env_port("KANNEL_SENDSMS_PORT", 13913)
    )
}

pub fn peers_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("STUDYLINK_PEERS_DIR").unwrap_or_else(|_| "/var/tmp/studylink-peers".into()),
    )
}

pub fn fakesmsc_log() -> PathBuf {
    peers_dir().join("kannel/fakesmsc.log")
}

pub fn env_port(var: &str, default: u16) -> u16 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub async fn require_maildev() {
    let tls_web = format!(
        "http://127.0.0.1:{}",
        env_port("MAILDEV_TLS_WEB_PORT", 1081)
    );
    for web in [maildev_web(), tls_web] {
        let url = format!("{web}/api/healthz");
        let up = reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success());
        assert!(
            up,
            "MailDev is not answering at {url}.\nStart it with\n    scripts/peers/maildev.sh start\n\
             (ports: MAILDEV_SMTP_PORT, MAILDEV_WEB_PORT, MAILDEV_TLS_SMTP_PORT, MAILDEV_TLS_WEB_PORT)"
        );
    }
}

pub async fn require_kannel() {
    let url = format!("{}/cgi-bin/sendsms", kannel_sendsms());
    let up = reqwest::get(&url).await.is_ok();
    assert!(
        up && fakesmsc_log().exists(),
        "Kannel's smsbox is not answering at {url} (or {} is missing).\nStart it with\n    scripts/peers/kannel.sh start",
        fakesmsc_log().display()
    );
}

/// A link token unique to this run, so a test finds its own message among
/// everything the peers have received before.
pub fn unique_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..43)
        .map(|_| {
            let i = rng.random_range(0..64);
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i] as char
        })
        .collect()
}

pub fn message(lang: Lang, token: &str) -> ShareMessage {
    ShareMessage {
        clinic_name: CLINIC.into(),
        clinic_logo_url: Some(Url::parse("https://clinic.example/logo.png").unwrap()),
        link: Url::parse(&format!("https://studylink.clinic.example/p/{token}")).unwrap(),
        expires_at: NaiveDate::from_ymd_opt(2027, 2, 28).unwrap(),
        clinic_phone: Some("+34 910 000 000".into()),
        clinic_email: Some("recepcion@clinic.example".into()),
        language: lang,
    }
}

/// Polls `f` until it yields, failing with `what` after `limit`. A deadline
/// for a peer that never answers, not a performance assertion.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Lines the fake SMSC logged for messages containing `needle`.
pub fn fakesmsc_lines(needle: &str) -> Vec<String> {
    let log = std::fs::read(fakesmsc_log()).unwrap_or_default();
    String::from_utf8_lossy(&log)
        .lines()
        .filter(|l| l.contains("Got message") && l.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// A report received by [`callback_server`]: the path's id and the raw query.
#[derive(Debug)]
pub struct Callback {
    pub id: i64,
    pub query: String,
}

/// Serves `GET /hooks/sms/kannel/{id}` on a loopback port, forwarding each hit.
pub async fn callback_server() -> (Url, mpsc::UnboundedReceiver<Callback>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        studylink_notify::delivery::KANNEL_ROUTE,
        get(move |Path(id): Path<i64>, RawQuery(q): RawQuery| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Callback {
                    id,
                    query: q.unwrap_or_default(),
                });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Url::parse(&format!("http://{addr}/")).unwrap(), rx)
}
