//! `TwilioSms` against a local server that checks requests the way Twilio's
//! Messages API does and answers in its JSON shape.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use serde_json::json;
use studylink_notify::delivery::{self, CallbackUrls, DeliveryStatus};
use studylink_notify::transport::{TwilioConfig, TwilioSms};
use studylink_notify::{CountryCode, E164Phone, Lang, Outgoing, Transport};
use url::Url;

use crate::support::*;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const AUTH: &str = "test-auth-token";
/// The fake carrier refuses this number, as Twilio does numbers it can't reach.
const UNREACHABLE: &str = "+34699999999";

type Received = Arc<Mutex<Vec<Vec<(String, String)>>>>;

async fn messages(
    State(received): State<Received>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, axum::Json<serde_json::Value>) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{AUTH}"))
    );
    let authorised =
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str());
    if !authorised || sid != SID {
        let e = json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401});
        return (StatusCode::UNAUTHORIZED, axum::Json(e));
    }
    let form_ok = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    received.lock().unwrap().push(form.clone());
    let (Some(to), Some(text), true) = (get("To"), get("Body"), form_ok) else {
        let e =
            json!({"code": 21604, "message": "A 'To' phone number is required.", "status": 400});
        return (StatusCode::BAD_REQUEST, axum::Json(e));
    };
    if get("From").is_none() && get("MessagingServiceSid").is_none() {
        let e = json!({"code": 21603, "message": "A 'From' or 'MessagingServiceSid' parameter is required", "status": 400});
        return (StatusCode::BAD_REQUEST, axum::Json(e));
    }
    if to == UNREACHABLE {
        let e = json!({"code": 21614, "message": format!("'To' number {to} is not a valid mobile number"), "more_info": "https://www.twilio.com/docs/errors/21614", "status": 400});
        return (StatusCode::BAD_REQUEST, axum::Json(e));
    }
    let n = received.lock().unwrap().len();
    let created = json!({
        "account_sid": SID, "api_version": "2010-04-01", "body": text, "direction": "outbound-api",
        "from": get("From"), "messaging_service_sid": get("MessagingServiceSid"),
        "num_segments": "1", "sid": format!("SM{n:032x}"), "status": "queued", "to": to,
        "error_code": null, "error_message": null
    });
    (StatusCode::CREATED, axum::Json(created))
}

async fn fake_twilio() -> (String, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(messages))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), received)
}

fn config(base: &str) -> TwilioConfig {
    TwilioConfig {
        base_url: base.into(),
        account_sid: SID.into(),
        auth_token: AUTH.into(),
        from: Some("+15005550006".into()),
        messaging_service_sid: None,
        timeout_secs: 10,
    }
}

#[tokio::test]
async fn sends_the_form_twilio_expects_and_reads_the_sid() {
    let (base, received) = fake_twilio().await;
    let twilio = TwilioSms::new(config(&base)).unwrap();
    let token = unique_token();
    let sms = message(Lang::Es, &token).render_sms();
    let phone = E164Phone::parse("612 345 678", CountryCode::SPAIN).unwrap();
    let urls = CallbackUrls::new(Url::parse("https://studylink.clinic.example/").unwrap());
    let (cb_token, _) = delivery::new_callback_token();
    let callback = twilio.callback_url(&urls, 77, &cb_token).unwrap();

    let accepted = twilio
        .send(&Outgoing::Sms {
            id: 77,
            to: &phone,
            sms: &sms,
            callback: Some(&callback),
        })
        .await
        .unwrap();
    let sid = accepted.provider_id.expect("Twilio's message SID");
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");

    let forms = received.lock().unwrap().clone();
    let form = forms.last().unwrap();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("To"), Some("+34612345678"));
    assert_eq!(get("From"), Some("+15005550006"));
    assert_eq!(get("Body"), Some(sms.text.as_str()));
    assert!(get("Body").unwrap().contains(&token));
    assert_eq!(
        get("StatusCallback"),
        Some(format!("https://studylink.clinic.example/hooks/sms/twilio/77?t={cb_token}").as_str())
    );

    // Twilio then posts the message's progress to the StatusCallback.
    let report = format!(
        "MessageSid={sid}&MessageStatus=delivered&AccountSid={SID}&To=%2B34612345678&ApiVersion=2010-04-01"
    );
    let update = delivery::twilio_status(77, &report).unwrap().unwrap();
    assert_eq!(update.status, DeliveryStatus::Delivered);
    assert_eq!(update.provider_id.as_deref(), Some(sid.as_str()));
}

#[tokio::test]
async fn messaging_service_instead_of_from() {
    let (base, received) = fake_twilio().await;
    let mut c = config(&base);
    c.from = None;
    c.messaging_service_sid = Some("MG0123456789abcdef0123456789abcdef".into());
    let sms = message(Lang::En, &unique_token()).render_sms();
    let phone = E164Phone::parse("(415) 555-2671", CountryCode::US).unwrap();
    TwilioSms::new(c)
        .unwrap()
        .send(&Outgoing::Sms {
            id: 1,
            to: &phone,
            sms: &sms,
            callback: None,
        })
        .await
        .unwrap();
    let form = received.lock().unwrap().last().unwrap().clone();
    assert!(
        form.iter()
            .any(|(k, v)| k == "MessagingServiceSid" && v.starts_with("MG"))
    );
    assert!(
        !form
            .iter()
            .any(|(k, _)| k == "From" || k == "StatusCallback")
    );
}

#[tokio::test]
async fn an_unreachable_number_fails_for_good_and_the_error_hides_it() {
    let (base, _) = fake_twilio().await;
    let sms = message(Lang::En, &unique_token()).render_sms();
    let phone = E164Phone::parse(UNREACHABLE, CountryCode::SPAIN).unwrap();
    let err = TwilioSms::new(config(&base))
        .unwrap()
        .send(&Outgoing::Sms {
            id: 1,
            to: &phone,
            sms: &sms,
            callback: None,
        })
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(err.message().contains("21614"), "{err}");
    assert!(!err.message().contains("699999999"), "{err}");
}

#[tokio::test]
async fn bad_credentials_and_a_down_server_are_temporary() {
    let (base, _) = fake_twilio().await;
    let sms = message(Lang::En, &unique_token()).render_sms();
    let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
    let msg = Outgoing::Sms {
        id: 1,
        to: &phone,
        sms: &sms,
        callback: None,
    };
    let mut wrong = config(&base);
    wrong.auth_token = "nope".into();
    let err = TwilioSms::new(wrong).unwrap().send(&msg).await.unwrap_err();
    assert!(
        !err.is_permanent() && err.message().contains("401"),
        "{err}"
    );

    let err = TwilioSms::new(config("http://127.0.0.1:9"))
        .unwrap()
        .send(&msg)
        .await
        .unwrap_err();
    assert!(!err.is_permanent(), "{err}");
    assert!(
        !err.message().contains(SID),
        "the account SID stays out of errors: {err}"
    );

    let mut neither = config(&base);
    neither.from = None;
    assert!(TwilioSms::new(neither).is_err());
}
