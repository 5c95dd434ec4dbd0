//! `KannelSms` → smsbox → bearerbox → fakesmsc, and Kannel's DLR back to us.

use std::time::Duration;

use studylink_notify::delivery::{self, CallbackUrls, DeliveryStatus};
use studylink_notify::message::SmsEncoding;
use studylink_notify::transport::{KannelConfig, KannelSms};
use studylink_notify::{CountryCode, E164Phone, Lang, Outgoing, Transport};

use crate::support::*;

pub fn kannel_config() -> KannelConfig {
    KannelConfig {
        base_url: kannel_sendsms(),
        username: "studylink".into(),
        password: "studylink-test".into(),
        from: Some("Clinica".into()),
        smsc: None,
        timeout_secs: 10,
    }
}

/// fakesmsc logs UCS-2 text as URL-encoded UTF-16BE.
fn decode_ucs2(encoded: &str) -> String {
    let raw = encoded.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' if i + 2 < raw.len() => {
                let hex = std::str::from_utf8(&raw[i + 1..i + 3]).unwrap();
                bytes.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            }
            b'+' => {
                bytes.push(b' ');
                i += 1;
            }
            b => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let units: Vec<u16> = bytes
        .chunks(2)
        .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

#[tokio::test]
async fn sms_reaches_the_fake_smsc_and_the_dlr_comes_back() {
    require_kannel().await;
    let (base, mut reports) = callback_server().await;
    let urls = CallbackUrls::new(base);
    let token = unique_token();
    let phone = E164Phone::parse("612 345 678", CountryCode::SPAIN).unwrap();
    let sms = message(Lang::Es, &token).render_sms();
    assert_eq!(sms.encoding, SmsEncoding::Gsm7);
    let kannel = KannelSms::new(kannel_config()).unwrap();
    let (cb_token, _hash) = delivery::new_callback_token();
    let outbox_id = 4242;
    let callback = kannel.callback_url(&urls, outbox_id, &cb_token).unwrap();

    kannel
        .send(&Outgoing::Sms {
            id: outbox_id,
            to: &phone,
            sms: &sms,
            callback: Some(&callback),
        })
        .await
        .unwrap();

    let lines = eventually(
        "fakesmsc to log the message",
        Duration::from_secs(20),
        || async { Some(fakesmsc_lines(&token)).filter(|l| !l.is_empty()) },
    )
    .await;
    assert_eq!(lines.len(), 1, "one segment: {lines:?}");
    let expected = format!("<Clinica +34612345678 text {}>", sms.text);
    assert!(
        lines[0].ends_with(&expected),
        "{}\nexpected …{expected}",
        lines[0]
    );
    assert!(lines[0].contains(&format!("https://studylink.clinic.example/p/{token}")));

    // The fake SMSC acknowledges at once: Kannel reports "accepted by SMSC" (8).
    let report = tokio::time::timeout(Duration::from_secs(20), reports.recv())
        .await
        .expect("Kannel to call the DLR URL")
        .unwrap();
    assert_eq!(report.id, outbox_id);
    let update = delivery::kannel_dlr(report.id, &report.query)
        .unwrap()
        .expect("a final status");
    assert_eq!(update.outbox_id, outbox_id);
    assert!(
        matches!(
            update.status,
            DeliveryStatus::Sent | DeliveryStatus::Delivered
        ),
        "{update:?}"
    );
    let t = url::form_urlencoded::parse(report.query.as_bytes())
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        t.as_deref(),
        Some(cb_token.as_str()),
        "the callback carries our token"
    );
    assert!(
        !report.query.contains("612345678"),
        "no phone number in the callback"
    );
}

#[tokio::test]
async fn ucs2_sms_when_the_clinic_name_needs_it() {
    require_kannel().await;
    let token = unique_token();
    let mut m = message(Lang::En, &token);
    m.clinic_name = "Клиника".into();
    let sms = m.render_sms();
    assert_eq!(sms.encoding, SmsEncoding::Ucs2);
    let phone = E164Phone::parse("+34 699 000 111", CountryCode::SPAIN).unwrap();
    KannelSms::new(kannel_config())
        .unwrap()
        .send(&Outgoing::Sms {
            id: 1,
            to: &phone,
            sms: &sms,
            callback: None,
        })
        .await
        .unwrap();
    let texts = eventually(
        "fakesmsc to log the UCS-2 message",
        Duration::from_secs(20),
        || async {
            let log = std::fs::read_to_string(fakesmsc_log()).unwrap_or_default();
            let found: String = log
                .lines()
                .filter(|l| {
                    l.contains("+34699000111") && (l.contains(" ucs-2 ") || l.contains(" udh "))
                })
                .filter_map(|l| {
                    l.rsplit_once(' ')
                        .map(|(_, enc)| decode_ucs2(enc.trim_end_matches('>')))
                })
                .collect();
            found.contains(&token).then_some(found)
        },
    )
    .await;
    assert!(texts.contains("Клиника"), "{texts}");
}

#[tokio::test]
async fn kannel_errors_are_classified() {
    require_kannel().await;
    let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
    let sms = message(Lang::En, &unique_token()).render_sms();
    let msg = Outgoing::Sms {
        id: 1,
        to: &phone,
        sms: &sms,
        callback: None,
    };

    let mut wrong = kannel_config();
    wrong.password = "wrong".into();
    let err = KannelSms::new(wrong).unwrap().send(&msg).await.unwrap_err();
    assert!(
        !err.is_permanent(),
        "bad credentials can be fixed by an admin: {err}"
    );
    assert!(err.message().contains("403"), "{err}");
    assert!(
        !err.message().contains("wrong"),
        "no password in errors: {err}"
    );

    let mut down = kannel_config();
    down.base_url = "http://127.0.0.1:9".into();
    let err = KannelSms::new(down).unwrap().send(&msg).await.unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert!(!err.message().contains("studylink-test"), "{err}");
}
