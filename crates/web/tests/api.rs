//! The JSON API end to end: sending a real ultrasound study to a patient,
//! reading, resending (lifetime renewed), expiry, revoking, the seed's "send
//! again = resend the same link", validation, scoping to the caller's clinic,
//! the contacts check, clinic settings, the OpenAPI document, the SMS
//! delivery-report hooks and the admin Outbox page.

mod common;

use std::sync::atomic::Ordering;

use common::{TestApp, corpus, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use studylink_ingest::Origin;
use studylink_model::{AccountId, Actor, IngestSource, NewUser, Role, now_millis};
use studylink_notify::{Payload, ShareMessage};
use studylink_store::outbox::{NewOutboxMessage, OutboxChannel, OutboxId, OutboxStatus};
use studylink_web::auth::{create_api_key, hash_password};

const PASSWORD: &str = "correct horse battery staple";
/// A single-frame ultrasound without burned-in names (BurnedInAnnotation=NO).
const US: &str = "ultrasound/us_ybr422_evrle_esaote.dcm";
const DAY_MS: i64 = 86_400_000;

// ------------------------------------------------------------------ helpers --

/// Ingests the corpus file into `account`: (Study Instance UID, SOP Instance UID).
async fn ingest(app: &TestApp, account: AccountId, rel: &str) -> (String, String) {
    let origin = Origin {
        source: IngestSource::Upload,
        received_from: "api-test".into(),
        actor: Actor::System,
        expected_sop_uid: None,
    };
    let done = app
        .ingest
        .ingest_path(account, &corpus().join(rel), &origin)
        .await
        .unwrap();
    (done.study_uid, done.sop_uid)
}

struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    async fn new(app: &TestApp, account: AccountId, name: &str) -> Api {
        let key = create_api_key(app.store.as_ref(), account, name)
            .await
            .unwrap();
        Api {
            base: app.base.clone(),
            key,
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

fn move_clock(app: &TestApp, ms: i64) {
    app.clock_offset.fetch_add(ms, Ordering::SeqCst);
}

fn server_now(app: &TestApp) -> i64 {
    now_millis() + app.clock_offset.load(Ordering::SeqCst)
}

fn time_of(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
}

fn token_of(url: &str) -> &str {
    let i = url.find("/p/").unwrap_or_else(|| panic!("no /p/ in {url}")) + 3;
    &url[i..]
}

fn channels(deliveries: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = deliveries
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["channel"].as_str().unwrap().to_owned(),
                d["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html.find(marker).expect("page has a csrf field") + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

/// A signed-in staff client and its session's CSRF token.
async fn signed_in(app: &TestApp, email: &str, role: Role) -> (reqwest::Client, String) {
    app.store
        .create_user(&NewUser {
            account_id: app.account,
            email: email.into(),
            password_hash: hash_password(PASSWORD).unwrap(),
            role,
        })
        .await
        .unwrap();
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body = serde_urlencoded::to_string([
        ("email", email),
        ("password", PASSWORD),
        ("csrf", &csrf_field(&page)),
        ("next", "/"),
    ])
    .unwrap();
    let resp = c
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let home = c
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (c, csrf_field(&home))
}

/// A rendered message as the share service queues it.
fn payload(channel: OutboxChannel) -> String {
    let msg = ShareMessage {
        clinic_name: "Clínica del Sol".into(),
        clinic_logo_url: None,
        link: "https://studies.clinic.example/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            .parse()
            .unwrap(),
        expires_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        clinic_phone: Some("+34 900 000 000".into()),
        clinic_email: None,
        language: studylink_notify::Lang::En,
    };
    match channel {
        OutboxChannel::Email => Payload::Email(msg.render_email()).to_json(),
        OutboxChannel::Sms => Payload::Sms(msg.render_sms()).to_json(),
    }
}

/// Queues one email and one SMS directly (no share): their ids.
async fn enqueue_pair(app: &TestApp) -> (OutboxId, OutboxId) {
    let msgs = [
        NewOutboxMessage {
            account_id: app.account,
            share_id: None,
            channel: OutboxChannel::Email,
            recipient: "maria.garcia@example.org".into(),
            payload: payload(OutboxChannel::Email),
        },
        NewOutboxMessage {
            account_id: app.account,
            share_id: None,
            channel: OutboxChannel::Sms,
            recipient: "+34612345678".into(),
            payload: payload(OutboxChannel::Sms),
        },
    ];
    let ids = app.outbox.enqueue(&msgs, server_now(app)).await.unwrap();
    (ids[0], ids[1])
}

// -------------------------------------------------------------------- tests --

#[tokio::test]
async fn send_read_resend_expire_and_revoke() {
    let app = spawn_app().await;
    let (study, _) = ingest(&app, app.account, US).await;
    let api = Api::new(&app, app.account, "ris").await;
    let shares = format!("/api/v1/studies/{study}/shares");

    // Send: a new link, prepared before the answer with ?wait=true.
    let contacts = "patient@example.org, +34 612 345 678";
    let (status, first) = api
        .post(
            &format!("{shares}?wait=true"),
            json!({ "contacts": contacts, "language": "es" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let url = first["url"].as_str().unwrap();
    assert!(url.starts_with(&app.base) && url.contains("/p/"), "{url}");
    let token = token_of(url);
    assert_eq!(token.len(), 43, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(first["state"], "ready");
    assert_eq!(first["resent"], false);
    assert_eq!(first["previous_expired"], false);
    assert_eq!(first["language"], "es");
    assert!(first["password_required"].is_boolean());
    assert_eq!(
        channels(&first["deliveries"]),
        vec![
            ("email".into(), "queued".into()),
            ("sms".into(), "queued".into())
        ]
    );
    let masked: Vec<&str> = first["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["recipient_masked"].as_str().unwrap())
        .collect();
    assert!(
        masked.contains(&"p•••@example.org") && masked.contains(&"+34 ••• ••• 678"),
        "{masked:?}"
    );
    let body = first.to_string();
    assert!(
        !body.contains("patient@example.org") && !body.contains("612345678"),
        "contacts are masked: {body}"
    );
    let id = first["id"].as_i64().unwrap();
    let first_expiry = time_of(&first["expires_at"]);
    let lifetime = first_expiry.timestamp_millis() - server_now(&app);
    assert!(
        (89 * DAY_MS..=90 * DAY_MS).contains(&lifetime),
        "the clinic's default lifetime is 90 days: {lifetime}"
    );

    // Read it back.
    let (status, got) = api.get(&format!("/api/v1/shares/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["id"], id);
    assert_eq!(got["url"], first["url"]);
    assert_eq!(got["created_by"], "API key 'ris'");
    assert_eq!(got["views"], 0);
    assert_eq!(got["downloads"], 0);
    assert_eq!(got["revoked_at"], Value::Null);
    assert_eq!(got["first_opened_at"], Value::Null);
    assert_eq!(got["progress"], Value::Null, "ready: no progress");
    time_of(&got["created_at"]);
    let sends = got["sends"].as_array().unwrap();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["kind"], "initial");
    assert_eq!(sends[0]["by"], "API key 'ris'");
    assert_eq!(channels(&sends[0]["deliveries"]).len(), 2);

    // A day later, Resend renews the lifetime.
    move_clock(&app, DAY_MS);
    let (status, resent) = api
        .post(&format!("/api/v1/shares/{id}/resend"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["url"], first["url"], "the same link");
    let renewed = time_of(&resent["expires_at"]);
    assert!(
        renewed.timestamp_millis() - first_expiry.timestamp_millis() >= DAY_MS - 60_000,
        "{first_expiry} → {renewed}"
    );
    assert_eq!(resent["sends"].as_array().unwrap().len(), 2);
    assert_eq!(resent["sends"][1]["kind"], "resend");
    assert_eq!(
        channels(&resent["deliveries"]).len(),
        2,
        "the resend's own messages"
    );

    // Sending the study again to the same contacts re-sends the same link.
    let (status, again) = api
        .post(
            &shares,
            json!({ "contacts": "Patient@EXAMPLE.org; 612345678" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["resent"], true);
    assert_eq!(again["id"], id);
    assert_eq!(again["url"], first["url"]);
    assert_eq!(again["sends"].as_array().unwrap().len(), 3);

    // Different contacts: a new link. A phone alone is accepted with a warning.
    let (status, phone_only) = api
        .post(
            &format!("{shares}?wait=true"),
            json!({ "contacts": "+34 699 111 222" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{phone_only}");
    assert_ne!(phone_only["id"], id);
    assert_ne!(phone_only["url"], first["url"]);
    let warnings: Vec<&str> = phone_only["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, vec!["contact-warning-sms-only"]);
    assert!(
        !phone_only["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        channels(&phone_only["deliveries"]),
        vec![("sms".into(), "queued".into())]
    );
    assert_eq!(
        phone_only["language"], "en",
        "no language asked, no clinic default: English"
    );
    let phone_id = phone_only["id"].as_i64().unwrap();

    // The study's links, newest first.
    let (status, list) = api.get(&shares).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<i64> = list["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![phone_id, id]);

    // Past the lifetime: no resend, and sending again makes a new link.
    move_clock(&app, 200 * DAY_MS);
    let (status, err) = api
        .post(&format!("/api/v1/shares/{id}/resend"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"], "expired");
    assert!(!err["message"].as_str().unwrap().is_empty());
    let (status, got) = api.get(&format!("/api/v1/shares/{phone_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["active"], false);
    assert_eq!(got["expired"], true);
    let (status, fresh) = api
        .post(
            &format!("{shares}?wait=true"),
            json!({ "contacts": "+34 699 111 222" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{fresh}");
    assert_eq!(fresh["resent"], false);
    assert_eq!(fresh["previous_expired"], true);
    assert_ne!(fresh["id"], phone_id);
    assert_ne!(fresh["url"], phone_only["url"]);
    assert_eq!(fresh["active"], true);
    let fresh_id = fresh["id"].as_i64().unwrap();

    // Revoke: irreversible, and a revoked link can't be resent.
    let (status, revoked) = api
        .post(&format!("/api/v1/shares/{fresh_id}/revoke"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(revoked["active"], false);
    let (status, err) = api
        .post(&format!("/api/v1/shares/{fresh_id}/resend"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"], "expired");
}

#[tokio::test]
async fn a_chosen_instance_and_waiting_for_preparation() {
    let app = spawn_app().await;
    let (study, sop) = ingest(&app, app.account, US).await;
    let api = Api::new(&app, app.account, "ris").await;
    let shares = format!("/api/v1/studies/{study}/shares");

    // Without ?wait the answer may come while preparing: planned deliveries.
    let (status, made) = api
        .post(
            &shares,
            json!({ "contacts": "ana@example.org", "instances": [sop] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["instances"], 1);
    let state = made["state"].as_str().unwrap();
    if state == "preparing" {
        assert_eq!(
            channels(&made["deliveries"]),
            vec![("email".into(), "pending".into())]
        );
        assert!(made["progress"]["total"].as_i64().unwrap() >= 1);
    }
    let id = made["id"].as_i64().unwrap();
    let ready = app
        .shares
        .wait_ready(studylink_model::ShareId(id))
        .await
        .unwrap();
    assert_eq!(ready.state, studylink_model::ShareState::Ready);
    let (_, got) = api.get(&format!("/api/v1/shares/{id}")).await;
    assert_eq!(
        channels(&got["deliveries"]),
        vec![("email".into(), "queued".into())]
    );

    // An instance of no study of ours.
    let (status, err) = api
        .post(
            &shares,
            json!({ "contacts": "ben@example.org", "instances": ["1.2.3.4.5"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["errors"][0]["field"], "instances");
}

#[tokio::test]
async fn invalid_requests_unauthenticated_callers_and_other_clinics() {
    let app = spawn_app().await;
    let (study, _) = ingest(&app, app.account, US).await;
    let api = Api::new(&app, app.account, "ris").await;
    let shares = format!("/api/v1/studies/{study}/shares");

    // Invalid contacts: 422 with the field, the message id and the message.
    let (status, err) = api
        .post(&shares, json!({ "contacts": "ana@example" }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"], "invalid");
    assert_eq!(err["errors"][0]["field"], "contacts");
    assert_eq!(err["errors"][0]["key"], "contact-error-email");
    assert!(
        err["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ana@example"),
        "{err}"
    );
    assert_eq!(err["message"], err["errors"][0]["message"]);
    let (status, err) = api.post(&shares, json!({ "contacts": "12" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["key"], "contact-error-phone");
    let (status, err) = api.post(&shares, json!({ "contacts": "  " })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["key"], "contact-error-empty");
    let (status, err) = api.post(&shares, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["field"], "contacts");
    let (status, err) = api
        .post(
            &shares,
            json!({ "contacts": "ana@example.org", "language": "fr" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["field"], "language");
    // In the caller's language.
    let resp = api
        .http
        .post(format!("{}{shares}", app.base))
        .bearer_auth(&api.key)
        .header("accept-language", "es-ES,es;q=0.9")
        .json(&json!({ "contacts": "ana@example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = resp.json().await.unwrap();
    assert!(err["message"].as_str().unwrap().contains("no es"), "{err}");
    // Not JSON at all.
    let resp = api
        .http
        .post(format!("{}{shares}", app.base))
        .bearer_auth(&api.key)
        .body("contacts=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "unsupported_media_type");
    // No such study.
    let (status, err) = api
        .post(
            "/api/v1/studies/1.2.3.999/shares",
            json!({ "contacts": "ana@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"], "study_not_found");
    let (status, _) = api.get("/api/v1/shares/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get("/api/v1/shares/not-a-number").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Nobody: 401, nothing created.
    let (status, made) = api
        .post(
            &format!("{shares}?wait=true"),
            json!({ "contacts": "ana@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_i64().unwrap();
    let anon = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::POST, shares.clone()),
        (reqwest::Method::GET, shares.clone()),
        (reqwest::Method::GET, format!("/api/v1/shares/{id}")),
        (reqwest::Method::POST, format!("/api/v1/shares/{id}/resend")),
        (reqwest::Method::POST, format!("/api/v1/shares/{id}/revoke")),
        (reqwest::Method::POST, "/api/v1/contacts/check".into()),
        (reqwest::Method::GET, "/api/v1/settings".into()),
        (reqwest::Method::PATCH, "/api/v1/settings".into()),
        (reqwest::Method::PUT, "/api/v1/settings/link-code".into()),
        (reqwest::Method::DELETE, "/api/v1/settings/link-code".into()),
    ] {
        let resp = anon
            .request(method.clone(), format!("{}{path}", app.base))
            .json(&json!({ "contacts": "ana@example.org" }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(resp.headers().contains_key("www-authenticate"));
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"], "unauthorized");
        assert!(err["message"].is_string());
    }
    let resp = anon
        .get(format!("{}/api/v1/shares/{id}", app.base))
        .bearer_auth("slk_00000000_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "a bad key");

    // Another clinic sees none of it.
    let other = app.store.create_account("Otra clínica").await.unwrap();
    let theirs = Api::new(&app, other.id, "other").await;
    for path in [format!("/api/v1/shares/{id}"), shares.clone()] {
        let (status, _) = theirs.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    for action in ["resend", "revoke"] {
        let (status, err) = theirs
            .post(&format!("/api/v1/shares/{id}/{action}"), json!({}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action}: {err}");
    }
    let (status, _) = theirs
        .post(&shares, json!({ "contacts": "ana@example.org" }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, still) = api.get(&format!("/api/v1/shares/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["revoked_at"], Value::Null, "their revoke did nothing");

    // A staff session works with its CSRF header, and not without it.
    let (staff, csrf) = signed_in(&app, "nurse@clinic.example", Role::Staff).await;
    let resp = staff
        .get(format!("{}/api/v1/shares/{id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = staff
        .post(format!("{}/api/v1/shares/{id}/resend", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"], "forbidden");
    let resp = staff
        .post(format!("{}/api/v1/shares/{id}/resend", app.base))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value = resp.json().await.unwrap();
    assert_eq!(
        got["sends"].as_array().unwrap().last().unwrap()["by"],
        "nurse@clinic.example"
    );
}

#[tokio::test]
async fn contacts_check_previews_without_side_effects() {
    let app = spawn_app().await;
    let api = Api::new(&app, app.account, "dialog").await;
    let audit_before = app
        .store
        .audit_events(Some(app.account), 1000)
        .await
        .unwrap()
        .len();

    let (status, ok) = api
        .post(
            "/api/v1/contacts/check",
            json!({ "contacts": "ana@gmial.com, 612 345 678" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["email"], "ana@gmial.com");
    assert_eq!(
        ok["phone"], "+34612345678",
        "Spain until the clinic sets a country"
    );
    assert_eq!(ok["phone_display"], "+34 612 345 678");
    assert_eq!(ok["errors"], json!([]));
    assert_eq!(ok["warnings"][0]["key"], "contact-warning-email-typo");
    assert_eq!(ok["suggestion"], "ana@gmail.com, +34 612 345 678");

    let (status, bad) = api
        .post(
            "/api/v1/contacts/check",
            json!({ "contacts": "ana@@example.org" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["errors"][0]["key"], "contact-error-email");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ana@@example.org")
    );

    let resp = api
        .http
        .post(format!("{}/api/v1/contacts/check", app.base))
        .bearer_auth(&api.key)
        .header("accept-language", "es")
        .json(&json!({ "contacts": "612 345 678" }))
        .send()
        .await
        .unwrap();
    let es: Value = resp.json().await.unwrap();
    assert_eq!(es["warnings"][0]["key"], "contact-warning-sms-only");
    assert!(
        es["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("correo"),
        "{es}"
    );

    let audit_after = app
        .store
        .audit_events(Some(app.account), 1000)
        .await
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after, "a check writes nothing");
}

#[tokio::test]
async fn clinic_settings_for_admins_and_keys() {
    let app = spawn_app().await;
    let api = Api::new(&app, app.account, "admin-script").await;

    let (status, s) = api.get("/api/v1/settings").await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["link_lifetime_days"], 90);
    assert_eq!(s["time_zone"], "UTC");
    assert_eq!(s["country_code"], Value::Null);
    assert_eq!(s["link_code_set"], false);
    assert_eq!(s["deid"]["retain_dates"], "remove");

    // A change of some fields; the rest stays.
    let patch = json!({
        "clinic_name": "Clínica del Sol",
        "country_code": 1,
        "time_zone": "America/New_York",
        "link_lifetime_days": 30,
        "default_language": "es",
        "landing_show_study_date": true,
        "deid": { "retain_dates": "shift" },
    });
    let (status, s) = api
        .call(reqwest::Method::PATCH, "/api/v1/settings", Some(patch))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["country_code"], 1);
    assert_eq!(s["link_lifetime_days"], 30);
    assert_eq!(s["default_language"], "es");
    assert_eq!(s["deid"]["retain_dates"], "shift");
    assert_eq!(s["deid"]["clean_descriptors"], false);
    assert!(
        s["changed"]
            .as_array()
            .unwrap()
            .contains(&json!("time_zone"))
    );
    let saved = app.store.account_settings(app.account).await.unwrap();
    assert_eq!(saved.clinic_name, "Clínica del Sol");
    assert_eq!(saved.country_code, Some(1));
    assert_eq!(saved.time_zone, "America/New_York");

    // The clinic's country now reads national numbers.
    let (_, check) = api
        .post(
            "/api/v1/contacts/check",
            json!({ "contacts": "(415) 555-2671" }),
        )
        .await;
    assert_eq!(check["phone"], "+14155552671");

    // The settings page's rules, field by field; nothing is saved.
    let (status, err) = api
        .call(reqwest::Method::PATCH, "/api/v1/settings", Some(json!({ "time_zone": "Mars/Base", "link_lifetime_days": 45, "clinic_name": "Nuevo" })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let fields: Vec<&str> = err["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"time_zone") && fields.contains(&"link_lifetime_days"),
        "{fields:?}"
    );
    assert_eq!(
        err["errors"][0]["key"]
            .as_str()
            .map(|k| k.starts_with("settings-error-")),
        Some(true)
    );
    assert_eq!(
        app.store
            .account_settings(app.account)
            .await
            .unwrap()
            .clinic_name,
        "Clínica del Sol"
    );
    let (status, err) = api
        .call(
            reqwest::Method::PATCH,
            "/api/v1/settings",
            Some(json!({ "favourite_colour": "red" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["field"], "favourite_colour");
    let (status, _) = api
        .call(
            reqwest::Method::PATCH,
            "/api/v1/settings",
            Some(json!({ "landing_show_study_date": "yes" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The patient link code.
    let (status, err) = api
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/link-code",
            Some(json!({ "code": "12345" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["errors"][0]["field"], "code");
    let (status, set) = api
        .call(
            reqwest::Method::PUT,
            "/api/v1/settings/link-code",
            Some(json!({ "code": "sol-2026" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert!(
        !set.to_string().contains("sol-2026"),
        "the code is never sent back"
    );
    let saved = app.store.account_settings(app.account).await.unwrap();
    let version = saved.link_code_version.expect("a code is in force");
    let hash = app
        .store
        .link_code_hash(app.account, version)
        .await
        .unwrap()
        .unwrap();
    assert!(studylink_web::auth::verify_password("sol-2026", &hash));
    let (_, s) = api.get("/api/v1/settings").await;
    assert_eq!(s["link_code_set"], true);
    let (status, _) = api
        .call(reqwest::Method::DELETE, "/api/v1/settings/link-code", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, s) = api.get("/api/v1/settings").await;
    assert_eq!(s["link_code_set"], false);

    // Staff who aren't administrators may not.
    let (staff, csrf) = signed_in(&app, "nurse@clinic.example", Role::Staff).await;
    let resp = staff
        .get(format!("{}/api/v1/settings", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = staff
        .patch(format!("{}/api/v1/settings", app.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "clinic_name": "Hacked" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let resp = admin
        .patch(format!("{}/api/v1/settings", app.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "phone": null, "landing_show_study_description": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        app.store
            .account_settings(app.account)
            .await
            .unwrap()
            .clinic_name,
        "Clínica del Sol"
    );
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint() {
    let app = spawn_app().await;
    let resp = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "public");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = resp.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let implemented = [
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/studies/{study_uid}/shares", "post"),
        ("/api/v1/studies/{study_uid}/shares", "get"),
        ("/api/v1/shares/{id}", "get"),
        ("/api/v1/shares/{id}/resend", "post"),
        ("/api/v1/shares/{id}/revoke", "post"),
        ("/api/v1/contacts/check", "post"),
        ("/api/v1/settings", "get"),
        ("/api/v1/settings", "patch"),
        ("/api/v1/settings/link-code", "put"),
        ("/api/v1/settings/link-code", "delete"),
        ("/hooks/sms/twilio/{id}", "post"),
        ("/hooks/sms/kannel/{id}", "get"),
    ];
    for (path, method) in implemented {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} is not documented"
        );
    }
    assert_eq!(
        studylink_notify::delivery::TWILIO_ROUTE,
        "/hooks/sms/twilio/{id}"
    );
    assert_eq!(
        studylink_notify::delivery::KANNEL_ROUTE,
        "/hooks/sms/kannel/{id}"
    );
    // Every $ref points at something.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push(x.as_str().unwrap());
                    } else {
                        refs(x, out);
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let pointer = r.strip_prefix('#').unwrap();
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {r}");
    }
}

#[tokio::test]
async fn delivery_report_hooks() {
    let app = spawn_app().await;
    let (email_id, sms_id) = enqueue_pair(&app).await;
    let now = server_now(&app);
    let claimed = app.outbox.claim_due(now, 60_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let attempt = |id: OutboxId| claimed.iter().find(|m| m.id == id).unwrap().attempts;
    let (kannel_token, kannel_hash) = studylink_notify::delivery::new_callback_token();
    assert!(
        app.outbox
            .set_callback_token(sms_id, attempt(sms_id), &kannel_hash, now)
            .await
            .unwrap()
    );
    let (twilio_token, twilio_hash) = studylink_notify::delivery::new_callback_token();
    assert!(
        app.outbox
            .set_callback_token(email_id, attempt(email_id), &twilio_hash, now)
            .await
            .unwrap()
    );
    assert!(
        app.outbox
            .mark_sent(sms_id, attempt(sms_id), Some("kannel-1"), now)
            .await
            .unwrap()
    );
    let http = reqwest::Client::new();
    let kannel = |q: String| {
        let http = http.clone();
        let url = format!("{}/hooks/sms/kannel/{sms_id}?{q}", app.base);
        async move { http.get(url).send().await.unwrap().status() }
    };

    // Forged or stale: 404, nothing changes.
    let (wrong, _) = studylink_notify::delivery::new_callback_token();
    assert_eq!(
        kannel(format!("t={wrong}&type=1")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        kannel("type=1".into()).await,
        StatusCode::NOT_FOUND,
        "no token"
    );
    let resp = http
        .get(format!(
            "{}/hooks/sms/kannel/999999?t={kannel_token}&type=1",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::NOT_FOUND,
        "another message's token"
    );
    assert_eq!(
        app.outbox
            .outbox_message(app.account, sms_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Sent
    );
    // Unreadable: 400.
    assert_eq!(
        kannel(format!("t={kannel_token}&type=%25d")).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        kannel(format!("t={kannel_token}")).await,
        StatusCode::BAD_REQUEST
    );
    // Queued on the SMSC: nothing to record.
    assert_eq!(
        kannel(format!("t={kannel_token}&type=4")).await,
        StatusCode::NO_CONTENT
    );
    // Delivered to the phone.
    assert_eq!(
        kannel(format!("t={kannel_token}&type=1")).await,
        StatusCode::NO_CONTENT
    );
    let m = app
        .outbox
        .outbox_message(app.account, sms_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, OutboxStatus::Delivered);
    assert!(m.delivered_at.is_some());
    // A late "accepted by the SMSC" changes nothing but is fine.
    assert_eq!(
        kannel(format!("t={kannel_token}&type=8")).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.outbox
            .outbox_message(app.account, sms_id)
            .await
            .unwrap()
            .unwrap()
            .status,
        OutboxStatus::Delivered
    );

    // Twilio posts a form.
    let twilio = |token: String, body: &'static str| {
        let http = http.clone();
        let url = format!("{}/hooks/sms/twilio/{email_id}?t={token}", app.base);
        async move {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        twilio(wrong.clone(), "MessageSid=SM1&MessageStatus=delivered").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        twilio(twilio_token.clone(), "MessageSid=SM1").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        twilio(twilio_token.clone(), "MessageSid=SM1&MessageStatus=sending").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        twilio(
            twilio_token.clone(),
            "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003"
        )
        .await,
        StatusCode::NO_CONTENT
    );
    let m = app
        .outbox
        .outbox_message(app.account, email_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, OutboxStatus::Failed);
    assert!(m.last_error.unwrap().contains("30003"));
}

#[tokio::test]
async fn admin_outbox_page() {
    let app = spawn_app().await;
    let (email_id, sms_id) = enqueue_pair(&app).await;
    let now = server_now(&app);
    let claimed = app.outbox.claim_due(now, 60_000, 10).await.unwrap();
    let sms_attempt = claimed.iter().find(|m| m.id == sms_id).unwrap().attempts;
    assert!(
        app.outbox
            .mark_failed_final(sms_id, sms_attempt, "kannel: rejected by the SMSC", now)
            .await
            .unwrap()
    );

    let (admin, _) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let resp = admin
        .get(format!("{}/admin/outbox", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers().contains_key("content-security-policy"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("Outbox"), "{html}");
    assert!(
        html.contains("maria.garcia@example.org") && html.contains("+34612345678"),
        "recipients in full for admins"
    );
    assert!(
        html.contains("Email is not configured"),
        "local-only email is explained"
    );
    assert!(html.contains("Text messages are not configured"));
    assert!(
        html.contains("kannel: rejected by the SMSC"),
        "the error is shown"
    );
    assert!(
        html.contains("<details"),
        "the message is in a details element"
    );
    assert!(html.contains("Clínica del Sol"), "the rendered message");
    assert!(
        html.contains("/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "with its link"
    );
    assert!(html.contains(&format!("id=\"outbox-{email_id}\"")));
    assert!(
        html.contains(" UTC"),
        "times in the clinic's zone (UTC until set)"
    );

    // In Spanish.
    let resp = admin
        .get(format!("{}/lang?to=es&next=/admin/outbox", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let html = admin
        .get(format!("{}/admin/outbox", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Bandeja de salida"));

    // Staff who aren't administrators: 403. Nobody: sign in.
    let (staff, _) = signed_in(&app, "nurse@clinic.example", Role::Staff).await;
    let resp = staff
        .get(format!("{}/admin/outbox", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = anon
        .get(format!("{}/admin/outbox", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );

    // Another clinic's messages are not listed.
    let other = app.store.create_account("Otra").await.unwrap();
    app.outbox
        .enqueue(
            &[NewOutboxMessage {
                account_id: other.id,
                share_id: None,
                channel: OutboxChannel::Email,
                recipient: "someone.else@example.org".into(),
                payload: payload(OutboxChannel::Email),
            }],
            now,
        )
        .await
        .unwrap();
    let html = admin
        .get(format!("{}/admin/outbox", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("someone.else@example.org"));
}
