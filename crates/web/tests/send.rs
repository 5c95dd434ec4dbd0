//! The staff side of "Send to patient": the dialog (pre-filled contacts,
//! inline errors, language), the link's status page, the seed's resend rules
//! (same contacts + active link = the same link again; expired = a new one)
//! and the Shared tab, against the real router, store and share service.

mod common;

use std::sync::atomic::Ordering;

use common::{TestApp, corpus, spawn_app};
use dicom_core::VR;
use dicom_dictionary_std::tags;
use reqwest::StatusCode;
use studylink_model::{NewUser, Role, ShareId};
use studylink_web::auth::hash_password;

const PASSWORD: &str = "correct horse battery staple";
const MR: &str = "mr/mr_small_evrle.dcm";
const DAY_MS: i64 = 86_400_000;

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s.find(start).unwrap_or_else(|| panic!("{start:?} not in page:\n{s}")) + start.len();
    s[i..i + s[i..].find(end).unwrap()].to_string()
}

fn new_uid() -> String {
    format!("2.25.{}", uuid::Uuid::new_v4().as_u128())
}

/// A one-image study of a made-up patient whose phone the device entered.
fn study_file() -> (Vec<u8>, String, String) {
    let mut obj = dicom_object::open_file(corpus().join(MR)).unwrap();
    let (study, series, sop) = (new_uid(), new_uid(), new_uid());
    obj.put_str(tags::PATIENT_NAME, VR::PN, "Sendtest^Lucia");
    obj.put_str(tags::PATIENT_ID, VR::LO, "PID-SEND-42");
    obj.put_str(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, "612 345 678");
    obj.put_str(tags::STUDY_INSTANCE_UID, VR::UI, study.as_str());
    obj.put_str(tags::SERIES_INSTANCE_UID, VR::UI, series.as_str());
    obj.put_str(tags::SOP_INSTANCE_UID, VR::UI, sop.as_str());
    obj.update_meta(|m| m.media_storage_sop_instance_uid = sop.clone());
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    (out, study, sop)
}

async fn ingest(app: &TestApp, bytes: &[u8]) {
    let dir = app.dir.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.dcm", uuid::Uuid::new_v4()));
    std::fs::write(&path, bytes).unwrap();
    let key = studylink_web::auth::create_api_key(app.store.as_ref(), app.account, "send-test").await.unwrap();
    let boundary = "send-test-boundary";
    let mut body = format!("--{boundary}\r\nContent-Type: application/dicom\r\n\r\n").into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{}/dicomweb/studies", app.base))
        .bearer_auth(key)
        .header("content-type", format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

struct Staff {
    c: reqwest::Client,
    csrf: String,
}

async fn staff(app: &TestApp) -> Staff {
    app.store
        .create_user(&NewUser {
            account_id: app.account,
            email: "tech@clinic.example".into(),
            password_hash: hash_password(PASSWORD).unwrap(),
            role: Role::Staff,
        })
        .await
        .unwrap();
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = between(&login, "name=\"csrf\" value=\"", "\"");
    let body = serde_urlencoded::to_string([("email", "tech@clinic.example"), ("password", PASSWORD), ("csrf", &csrf)]).unwrap();
    let resp = c
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection() || resp.status().is_success());
    let page = c.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = between(&page, "<meta name=\"csrf-token\" content=\"", "\"");
    Staff { c, csrf }
}

impl Staff {
    async fn get(&self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let resp = self.c.get(format!("{}{path}", app.base)).send().await.unwrap();
        let status = resp.status();
        (status, resp.text().await.unwrap())
    }

    /// POST a form; returns the status and the Location or the body.
    async fn post(&self, app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, String) {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(pairs);
        let resp = self
            .c
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", app.base.clone())
            .body(serde_urlencoded::to_string(&all).unwrap())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let loc = resp.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        (status, loc.unwrap_or(resp.text().await.unwrap()))
    }
}

fn share_id(location: &str) -> ShareId {
    ShareId(location.rsplit('/').next().unwrap().parse().unwrap())
}

#[tokio::test]
async fn send_dialog_creates_a_link_then_resends_it_and_offers_a_new_one_after_expiry() {
    let app = spawn_app().await;
    let s = staff(&app).await;
    let (file, study, sop) = study_file();
    ingest(&app, &file).await;

    // The dialog: the device's phone pre-filled, the selection carried, delivery notes.
    let (status, page) = s.post(&app, &format!("/studies/{study}/send"), &[("instances", &sop)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("One image will be sent."), "{page}");
    assert!(between(&page, "id=\"contacts\"", ">").contains("value=\"612 345 678\""), "pre-filled from (0010,2154)");
    assert!(page.contains("Only a phone number: adding an email helps delivery."), "phone-only warning");
    assert!(page.contains("Email is not set up on this server"), "says plainly where messages go");
    assert!(!page.contains("Sendtest") || page.contains("Sendtest"), "staff may see the name");

    // Bad input: an inline error that says the expected form; nothing created.
    let create = format!("/studies/{study}/send/create");
    let (status, page) = s.post(&app, &create, &[("contacts", "patient@example, 12"), ("instances", &sop)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("is not an email address"), "{page}");
    assert!(page.contains("aria-invalid=\"true\""));
    let study_id = app.store.query_studies(app.account, &Default::default()).await.unwrap()[0].id;
    assert!(app.store.shares_for_study(app.account, study_id).await.unwrap().is_empty());

    // A valid send: to the status page, which shows progress and then the hand-over.
    let contacts = "patient@example.org, 612 345 678";
    let (status, location) = s.post(&app, &create, &[("contacts", contacts), ("language", "es"), ("instances", &sop)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let first = share_id(&location);
    let share = app.shares.wait_ready(first).await.unwrap();
    assert_eq!(share.email.as_deref(), Some("patient@example.org"));
    assert_eq!(share.phone.as_deref(), Some("+34612345678"));
    assert_eq!(share.language, studylink_model::Language::Es);
    assert_eq!(share.instance_ids.len(), 1);
    let (status, page) = s.get(&app, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"share-confirmation\""), "{page}");
    assert!(page.contains("Queued"), "per-channel status");
    assert!(page.contains("/p/"), "the link for staff to read out");

    // The Shared tab: when, by whom, masked contacts, the send and its channels.
    let (_, page) = s.get(&app, &format!("/studies/{study}")).await;
    let panel = between(&page, "id=\"panel-shared\"", "</aside>");
    assert!(panel.contains("Last sent"), "{panel}");
    assert!(panel.contains("tech@clinic.example"));
    assert!(!panel.contains("patient@example.org"), "contacts are masked in lists");
    assert!(panel.contains("@example.org"));
    assert!(!between(&panel, "class=\"resend\"", ">").contains("disabled"));

    // Send again with the same contacts while active: the same link, renewed.
    app.clock_offset.store(10 * DAY_MS, Ordering::SeqCst);
    let (_, page) = s.get(&app, &format!("/studies/{study}/send")).await;
    assert!(page.contains("id=\"send-active\""), "the dialog offers the active link first");
    let (status, location) = s.post(&app, &create, &[("contacts", "612345678, patient@example.org")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(share_id(&location), first, "same contacts + active link = the same link");
    let renewed = app.store.share(app.account, first).await.unwrap().unwrap();
    assert!(renewed.expires_at >= share.expires_at + 10 * DAY_MS - 1000, "lifetime renewed");
    assert_eq!(app.store.share_sends(app.account, first).await.unwrap().len(), 2);

    // Different contacts always mean a new link.
    let (_, location) = s.post(&app, &create, &[("contacts", "other@example.org"), ("instances", &sop)]).await;
    let other = share_id(&location);
    assert_ne!(other, first);
    app.shares.wait_ready(other).await.unwrap();

    // After expiry: Resend is refused and greyed out, the dialog offers a new link.
    app.clock_offset.store(200 * DAY_MS, Ordering::SeqCst);
    let (status, _) = s.post(&app, &format!("/studies/{study}/shares/{}/resend", first.0), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, page) = s.get(&app, &format!("/studies/{study}")).await;
    let panel = between(&page, "id=\"panel-shared\"", "</aside>");
    assert!(between(&panel, "class=\"resend\"", ">").contains("disabled"), "Resend greyed out");
    assert!(panel.contains("Resend is not available"), "with the reason");
    let (_, page) = s.get(&app, &format!("/studies/{study}/send")).await;
    assert!(page.contains("id=\"send-expired\""), "{page}");
    let new_link_form = between(&page, "id=\"send-expired\"", "</form>");
    assert!(new_link_form.contains("value=\"other@example.org\""), "one click re-uses the contacts");
    let (status, location) = s.post(&app, &create, &[("contacts", "other@example.org"), ("instances", &sop)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let fresh = share_id(&location);
    assert!(fresh != other && fresh != first, "an expired link is never renewed: a new one");
    let fresh = app.shares.wait_ready(fresh).await.unwrap();
    assert!(fresh.is_active(app.shares.clock().now()));

    // Revoke: irreversible, shown on the tab.
    let (status, _) = s.post(&app, &format!("/studies/{study}/shares/{}/revoke", fresh.id.0), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = s.get(&app, &format!("/studies/{study}")).await;
    assert!(page.contains("Revoked on"));
    let (status, _) = s.post(&app, &format!("/studies/{study}/shares/{}/resend", fresh.id.0), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn send_pages_are_scoped_and_need_a_session() {
    let app = spawn_app().await;
    let s = staff(&app).await;
    let (status, _) = s.get(&app, "/studies/9.9.9/send").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get(&app, "/studies/9.9.9/shares/12345").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.post(&app, "/studies/9.9.9/shares/12345/resend", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = anon.get(format!("{}/studies/1.2/send", app.base)).send().await.unwrap();
    assert!(resp.status().is_redirection() || resp.status() == StatusCode::UNAUTHORIZED);
    // A forged CSRF token sends nothing.
    let resp = s
        .c
        .post(format!("{}/studies/1.2/send/create", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=forged&contacts=a%40example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}
