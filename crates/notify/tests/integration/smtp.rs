//! `Smtp` → MailDev, read back through MailDev's REST API.

use std::time::Duration;

use serde_json::Value;
use studylink_notify::transport::{Smtp, SmtpConfig, TlsMode};
use studylink_notify::{EmailAddress, Lang, Outgoing, Transport};

use crate::support::*;

pub fn maildev_config() -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(maildev_smtp_port()),
        tls: TlsMode::None,
        username: None,
        password: None,
        from: "noreply@clinic.example".into(),
        ca_cert: None,
        timeout_secs: 10,
    }
}

/// The second MailDev: SMTPS with AUTH and a certificate from a test CA.
fn maildev_tls_config() -> SmtpConfig {
    SmtpConfig {
        port: Some(env_port("MAILDEV_TLS_SMTP_PORT", 1465)),
        tls: TlsMode::Tls,
        username: Some("studylink".into()),
        password: Some("studylink-test".into()),
        ca_cert: Some(peers_dir().join("maildev/tls/ca.pem")),
        ..maildev_config()
    }
}

/// The message MailDev holds for `to`, once it has arrived.
pub async fn received_by(to: &str) -> Value {
    received_at(&maildev_web(), to).await
}

async fn received_at(web: &str, to: &str) -> Value {
    let url = format!("{web}/api/email");
    eventually(
        &format!("MailDev to receive mail for {to}"),
        Duration::from_secs(20),
        || {
            let url = url.clone();
            let to = to.to_owned();
            async move {
                let all: Vec<Value> = reqwest::get(&url).await.ok()?.json().await.ok()?;
                all.into_iter()
                    .find(|m| m["to"][0]["address"].as_str() == Some(to.as_str()))
            }
        },
    )
    .await
}

#[tokio::test]
async fn email_reaches_maildev_with_link_expiry_and_no_patient_data() {
    require_maildev().await;
    let token = unique_token();
    let to = format!(
        "patient+{}@example.org",
        &token[..10].to_lowercase().replace(['-', '_'], "x")
    );
    let to = EmailAddress::parse(&to).unwrap();
    let email = message(Lang::Es, &token).render_email();
    let smtp = Smtp::new(&maildev_config()).unwrap();

    let accepted = smtp
        .send(&Outgoing::Email {
            id: 1,
            to: &to,
            email: &email,
        })
        .await
        .unwrap();
    assert!(
        accepted.provider_id.is_some(),
        "MailDev answers 250 with a queue note"
    );

    let got = received_by(to.as_str()).await;
    assert_eq!(got["subject"], "Sus imágenes de Clínica Dental Sonrisa");
    assert_eq!(got["from"][0]["address"], "noreply@clinic.example");
    assert_eq!(got["from"][0]["name"], CLINIC);
    assert_eq!(got["to"].as_array().unwrap().len(), 1);
    let html = got["html"].as_str().expect("an HTML part");
    let text = got["text"].as_str().expect("a text part");
    let link = format!("https://studylink.clinic.example/p/{token}");
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(text.contains(&link), "{text}");
    assert!(html.contains("28 de febrero de 2027") && text.contains("28 de febrero de 2027"));
    assert!(html.contains("Ver mis imágenes"));
    // The body names the clinic, not the patient: not even their address.
    for body in [html, text, got["subject"].as_str().unwrap()] {
        assert!(
            !body.contains(to.local()),
            "the recipient appears in the message"
        );
    }
    // Replies go to the clinic, not to the no-reply sender.
    let source_url = format!(
        "{}/api/email/{}/source",
        maildev_web(),
        got["id"].as_str().unwrap()
    );
    let source = reqwest::get(&source_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let reply_to = source
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("reply-to:"))
        .unwrap_or_default();
    assert!(reply_to.contains("recepcion@clinic.example"), "{source}");
    assert!(source.contains("multipart/alternative"), "{source}");
}

#[tokio::test]
async fn english_email() {
    require_maildev().await;
    let token = unique_token();
    let to = EmailAddress::parse(&format!(
        "en+{}@example.org",
        &token[..8].to_lowercase().replace(['-', '_'], "x")
    ))
    .unwrap();
    let email = message(Lang::En, &token).render_email();
    Smtp::new(&maildev_config())
        .unwrap()
        .send(&Outgoing::Email {
            id: 2,
            to: &to,
            email: &email,
        })
        .await
        .unwrap();
    let got = received_by(to.as_str()).await;
    assert_eq!(got["subject"], "Your images from Clínica Dental Sonrisa");
    assert!(got["text"].as_str().unwrap().contains("28 February 2027"));
}

#[tokio::test]
async fn unreachable_server_is_a_temporary_error_without_the_recipient() {
    // Port 9 (discard) is closed on loopback.
    let mut config = maildev_config();
    config.port = Some(9);
    let to = EmailAddress::parse("someone@example.org").unwrap();
    let email = message(Lang::En, &unique_token()).render_email();
    let err = Smtp::new(&config)
        .unwrap()
        .send(&Outgoing::Email {
            id: 3,
            to: &to,
            email: &email,
        })
        .await
        .unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert!(!err.message().contains("someone"), "{err}");
}

#[tokio::test]
async fn smtp_refuses_sms_and_bad_config() {
    let smtp = Smtp::new(&maildev_config()).unwrap();
    let phone =
        studylink_notify::E164Phone::parse("612345678", studylink_notify::CountryCode::SPAIN)
            .unwrap();
    let sms = message(Lang::En, "x").render_sms();
    let err = smtp
        .send(&Outgoing::Sms {
            id: 1,
            to: &phone,
            sms: &sms,
            callback: None,
        })
        .await
        .unwrap_err();
    assert!(err.is_permanent());
    let mut bad = maildev_config();
    bad.from = "not an address".into();
    assert!(Smtp::new(&bad).is_err());
}

#[tokio::test]
async fn tls_with_credentials_and_the_clinics_own_ca() {
    require_maildev().await;
    let token = unique_token();
    let local = token[..8].to_lowercase().replace(['-', '_'], "x");
    let to = EmailAddress::parse(&format!("tls+{local}@example.org")).unwrap();
    let email = message(Lang::En, &token).render_email();
    let msg = Outgoing::Email {
        id: 5,
        to: &to,
        email: &email,
    };
    Smtp::new(&maildev_tls_config())
        .unwrap()
        .send(&msg)
        .await
        .unwrap();
    let web = format!(
        "http://127.0.0.1:{}",
        env_port("MAILDEV_TLS_WEB_PORT", 1081)
    );
    let got = received_at(&web, to.as_str()).await;
    assert!(got["text"].as_str().unwrap().contains(&token));

    // Without the CA the certificate is not trusted: no mail, a retryable error.
    let untrusted = SmtpConfig {
        ca_cert: None,
        ..maildev_tls_config()
    };
    let err = Smtp::new(&untrusted).unwrap().send(&msg).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    // A wrong password is the admin's to fix, not a reason to drop the message.
    let wrong = SmtpConfig {
        password: Some("wrong".into()),
        ..maildev_tls_config()
    };
    let err = Smtp::new(&wrong).unwrap().send(&msg).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert!(!err.message().contains("wrong"), "{err}");
    let missing = SmtpConfig {
        ca_cert: Some("/nonexistent/ca.pem".into()),
        ..maildev_tls_config()
    };
    assert!(Smtp::new(&missing).is_err());
}
