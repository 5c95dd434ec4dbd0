//! The clinic settings page end to end: saving, validation, who may, CSRF,
//! the logo, the link code, and the clinic's language and time zone on the
//! staff pages.

mod common;

use common::{TestApp, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use reqwest::multipart::{Form, Part};
use studylink_model::*;
use studylink_store::NewInstance;
use studylink_web::auth::{hash_password, verify_password};

const PASSWORD: &str = "correct horse battery staple";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-not-decoded-only-sniffed";

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html.find(marker).expect("page has a csrf field") + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

/// A signed-in client and the session's CSRF token.
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
    let c = client();
    let page = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let body = serde_urlencoded::to_string([("email", email), ("password", PASSWORD), ("csrf", &csrf_field(&page)), ("next", "/")]).unwrap();
    let resp = c
        .post(format!("{}/login", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let home = c.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    (c, csrf_field(&home))
}

/// A complete, valid settings form with `changes` applied (an empty value
/// drops a field: how browsers send unticked boxes).
fn form(csrf: &str, changes: &[(&str, &str)]) -> Form {
    let mut fields: Vec<(&str, &str)> = vec![
        ("clinic_name", "Clínica del Sol"),
        ("phone", ""),
        ("email", ""),
        ("website", ""),
        ("link_lifetime_days", "90"),
        ("link_code_new", ""),
        ("default_language", ""),
        ("time_zone", "UTC"),
        ("country_code", ""),
        ("deid_retain_dates", "remove"),
    ];
    for (k, v) in changes {
        match fields.iter_mut().find(|(name, _)| name == k) {
            Some(f) => f.1 = v,
            None => fields.push((k, v)),
        }
    }
    let mut form = Form::new().text("csrf", csrf.to_owned());
    for (k, v) in fields {
        form = form.text(k.to_owned(), v.to_owned());
    }
    form
}

fn with_logo(form: Form, bytes: Vec<u8>, name: &str) -> Form {
    form.part("logo", Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/png").unwrap())
}

async fn post(app: &TestApp, c: &reqwest::Client, form: Form) -> reqwest::Response {
    c.post(format!("{}/admin/settings", app.base)).multipart(form).send().await.unwrap()
}

async fn settings_page(app: &TestApp, c: &reqwest::Client) -> String {
    let resp = c.get(format!("{}/admin/settings", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    resp.text().await.unwrap()
}

fn actions(records: &[AuditRecord]) -> Vec<&str> {
    records.iter().map(|r| r.event.action.as_str()).collect()
}

#[tokio::test]
async fn admin_saves_and_staff_pages_follow_the_clinic_language_and_time_zone() {
    let app = spawn_app().await;
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let page = settings_page(&app, &admin).await;
    assert!(page.contains("href=\"/admin/settings\" aria-current=\"page\""), "admins get the nav link");
    assert!(page.contains("name=\"csrf\""));

    let changes = [
        ("clinic_name", "  Clínica del Sol "),
        ("phone", "+34 910 000 000"),
        ("email", "Citas@Sol.example"),
        ("website", "https://sol.example"),
        ("link_lifetime_days", "30"),
        ("link_code_new", "sol-2026"),
        ("default_language", "es"),
        ("time_zone", "Europe/Madrid"),
        ("country_code", "+34"),
        ("deid_retain_dates", "shift"),
        ("landing_show_study_date", "1"),
        ("deid_clean_descriptors", "1"),
    ];
    let resp = post(&app, &admin, form(&csrf, &changes)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[LOCATION], "/admin/settings?saved=1");

    let s = app.store.account_settings(app.account).await.unwrap();
    assert_eq!(s.clinic_name, "Clínica del Sol");
    assert_eq!(s.email.as_deref(), Some("citas@sol.example"));
    assert_eq!(s.link_lifetime_days, 30);
    assert_eq!(s.default_language, Some(Language::Es));
    assert_eq!(s.time_zone, "Europe/Madrid");
    assert_eq!(s.country_code, Some(34));
    assert!(s.landing_show_study_date && !s.landing_show_study_description);
    assert_eq!(s.deid, DeidOptions { retain_dates: DateRetention::Shift, clean_descriptors: true, ..Default::default() });
    assert_eq!(s.link_code_version, Some(1));
    let hash = app.store.link_code_hash(app.account, 1).await.unwrap().unwrap();
    assert!(verify_password("sol-2026", &hash), "stored as an argon2 hash of exactly what was typed");
    let audit = app.store.audit_events(Some(app.account), 10).await.unwrap();
    assert_eq!(actions(&audit)[..2], ["settings.link_code_set", "settings.updated"]);
    assert!(audit.iter().all(|r| !r.event.detail.contains("sol-2026") && !r.event.detail.contains("910")));

    // No cookie, an English browser: the clinic's Spanish wins, and the code is never shown.
    let resp = admin
        .get(format!("{}/admin/settings?saved=1", app.base))
        .header("accept-language", "en-US,en")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()[CACHE_CONTROL], "no-store");
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Configuración guardada."));
    assert!(html.contains("Hay un código configurado."));
    assert!(!html.contains("sol-2026"));
    assert!(html.contains("+34 (España)"));

    // The user's own switch beats the clinic's default.
    admin.get(format!("{}/lang?to=en&next=%2F", app.base)).send().await.unwrap();
    let html = settings_page(&app, &admin).await;
    assert!(html.contains("<html lang=\"en\">") && html.contains("+34 (Spain)"));

    // Our own timestamps are shown in the clinic's zone, DICOM's are not shifted.
    let study_uid = "1.2.826.0.1.3680043.10.1.77";
    let meta = InstanceMeta {
        study: StudyInfo { study_uid: study_uid.into(), date: Some("20261126".into()), time: Some("093000".into()), ..Default::default() },
        series: SeriesInfo { series_uid: "1.2.826.0.1.3680043.10.1.77.1".into(), modality: Some("US".into()), number: Some(1), description: None },
        instance: InstanceInfo {
            sop_uid: "1.2.826.0.1.3680043.10.1.77.1.1".into(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.6.1".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            number: Some(1),
            frames: 1,
            rows: Some(8),
            columns: Some(8),
        },
        ..Default::default()
    };
    let new = NewInstance {
        account_id: app.account,
        meta: &meta,
        blob_key: "originals/test/x.dcm",
        size_bytes: 10,
        source: IngestSource::Upload,
        received_from: "test",
    };
    app.store.insert_instance(&new).await.unwrap();
    let html = admin.get(format!("{}/studies/{study_uid}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("9:30 AM"), "the exam's own time as recorded");
    assert!(html.contains(" CET") || html.contains(" CEST"), "received-at is labelled with the clinic's zone");
    assert!(!html.contains(" UTC"));
}

#[tokio::test]
async fn invalid_settings_are_refused_field_by_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let before = app.store.account_settings(app.account).await.unwrap();

    let bad = [("link_lifetime_days", "45"), ("time_zone", "Mars/Base"), ("country_code", "3456"), ("link_code_new", "s3cret-code")];
    let resp = post(&app, &admin, form(&csrf, &bad)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    for message in [
        "Some settings need fixing. Nothing was saved.",
        "Choose 7, 30, 90, 180 or 365 days.",
        "Unknown time zone. Use a name such as Europe/Madrid.",
        "Enter 1 to 3 digits, such as 34.",
    ] {
        assert!(html.contains(message), "missing {message:?}");
    }
    assert!(html.contains("id=\"time_zone\" name=\"time_zone\" value=\"Mars/Base\""), "what was typed is kept");
    assert!(html.contains("aria-describedby=\"link_lifetime_days-error\""));
    assert!(!html.contains("s3cret-code"), "a code is never echoed");

    // Logos: too big, or not PNG/JPEG (an SVG can carry script).
    let mut big = PNG.to_vec();
    big.resize(600 * 1024, 0);
    let resp = post(&app, &admin, with_logo(form(&csrf, &[]), big, "big.png")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("The logo is larger than 512 KB."));
    let mut huge = PNG.to_vec();
    huge.resize(6 * 1024 * 1024, 0);
    let resp = post(&app, &admin, with_logo(form(&csrf, &[]), huge, "huge.png")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("The logo is larger than 512 KB."));
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    let resp = post(&app, &admin, with_logo(form(&csrf, &[]), svg, "logo.png")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("The logo must be a PNG or JPEG image."));

    // Spanish messages for a Spanish reader.
    let resp = admin
        .post(format!("{}/admin/settings", app.base))
        .header("accept-language", "es")
        .multipart(form(&csrf, &[("link_lifetime_days", "45")]))
        .send()
        .await
        .unwrap();
    assert!(resp.text().await.unwrap().contains("Elija 7, 30, 90, 180 o 365 días."));

    assert_eq!(app.store.account_settings(app.account).await.unwrap(), before);
    let audit = app.store.audit_events(Some(app.account), 10).await.unwrap();
    assert!(!actions(&audit).iter().any(|a| a.starts_with("settings.")));
}

#[tokio::test]
async fn only_admins_with_the_csrf_token_may_change_settings() {
    let app = spawn_app().await;
    let (staff, staff_csrf) = signed_in(&app, "ana@clinic.example", Role::Staff).await;
    let resp = staff.get(format!("{}/admin/settings", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = post(&app, &staff, form(&staff_csrf, &[("link_lifetime_days", "7")])).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let home = staff.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!home.contains("/admin/settings"), "staff don't see the Settings link");

    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let change = [("link_lifetime_days", "7")];
    assert_eq!(post(&app, &admin, form("wrong-token", &change)).await.status(), StatusCode::FORBIDDEN);
    // The token must come first, before any file is read.
    let late = Form::new().text("link_lifetime_days", "7").text("csrf", csrf.clone());
    assert_eq!(post(&app, &admin, late).await.status(), StatusCode::FORBIDDEN);
    let cross_site = admin
        .post(format!("{}/admin/settings", app.base))
        .header("origin", "https://evil.example")
        .multipart(form(&csrf, &change))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let anonymous = client().post(format!("{}/admin/settings", app.base)).multipart(form(&csrf, &change)).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "signed out: sign in again");
    assert!(anonymous.headers()[LOCATION].to_str().unwrap().starts_with("/login?next="));
    assert_eq!(app.store.account_settings(app.account).await.unwrap().link_lifetime_days, 90);

    assert_eq!(post(&app, &admin, form(&csrf, &change)).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.account_settings(app.account).await.unwrap().link_lifetime_days, 7);
}

#[tokio::test]
async fn the_logo_is_served_publicly_as_uploaded_and_can_be_replaced_or_removed() {
    let app = spawn_app().await;
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    let url = format!("{}/clinic/{}/logo", app.base, app.account);
    assert_eq!(client().get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let resp = post(&app, &admin, with_logo(form(&csrf, &[]), PNG.to_vec(), "logo.png")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let logo = app.store.account_settings(app.account).await.unwrap().logo.unwrap();
    assert!(logo.blob_key.starts_with(&format!("settings/{}/logo-", app.account)) && logo.blob_key.ends_with(".png"));
    let html = settings_page(&app, &admin).await;
    let versioned = format!("/clinic/{}/logo?v={}", app.account, logo.version());
    assert!(html.contains(&format!("src=\"{versioned}\"")), "a preview of the current logo");

    // Anyone may fetch it (patients' mail clients do), typed by its content.
    let resp = client().get(format!("{}{versioned}", app.base)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert!(resp.headers()[CACHE_CONTROL].to_str().unwrap().contains("immutable"));
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    let unversioned = client().get(&url).send().await.unwrap();
    assert_eq!(unversioned.headers()[CACHE_CONTROL], "public, max-age=300");

    // A JPEG replaces it; the old blob goes.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'].to_vec();
    post(&app, &admin, with_logo(form(&csrf, &[]), jpeg.clone(), "logo.jpg")).await;
    let new_logo = app.store.account_settings(app.account).await.unwrap().logo.unwrap();
    assert_ne!(new_logo, logo);
    assert!(app.ingest.blobs().get(&logo.blob_key).await.is_err(), "the replaced logo is deleted");
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.headers()[CONTENT_TYPE], "image/jpeg");

    // Saving without a file keeps it; ticking "remove" removes it.
    post(&app, &admin, form(&csrf, &[("phone", "910 000 000")])).await;
    assert_eq!(app.store.account_settings(app.account).await.unwrap().logo, Some(new_logo));
    post(&app, &admin, form(&csrf, &[("logo_remove", "1")])).await;
    assert_eq!(app.store.account_settings(app.account).await.unwrap().logo, None);
    assert_eq!(client().get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let other = client().get(format!("{}/clinic/999999/logo", app.base)).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn changing_the_link_code_keeps_old_versions_and_removing_it_clears_them() {
    let app = spawn_app().await;
    let (admin, csrf) = signed_in(&app, "boss@clinic.example", Role::Admin).await;
    assert!(settings_page(&app, &admin).await.contains("No code is set."));

    post(&app, &admin, form(&csrf, &[("link_code_new", "first-code")])).await;
    post(&app, &admin, form(&csrf, &[("link_code_new", "second-code")])).await;
    assert_eq!(app.store.current_link_code_version(app.account).await.unwrap(), Some(2));
    let v1 = app.store.link_code_hash(app.account, 1).await.unwrap().unwrap();
    assert!(verify_password("first-code", &v1), "links made under v1 keep their code");

    // Saving other fields leaves the code alone.
    post(&app, &admin, form(&csrf, &[("phone", "910 000 000")])).await;
    assert_eq!(app.store.current_link_code_version(app.account).await.unwrap(), Some(2));

    // New code and removal at once is ambiguous: refused.
    let resp = post(&app, &admin, form(&csrf, &[("link_code_new", "third-code"), ("link_code_remove", "1")])).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("Either enter a new code or remove it, not both."));
    let resp = post(&app, &admin, form(&csrf, &[("link_code_new", "short")])).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = post(&app, &admin, form(&csrf, &[("link_code_remove", "1")])).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.current_link_code_version(app.account).await.unwrap(), None);
    assert_eq!(app.store.link_code_hash(app.account, 1).await.unwrap(), None);
    assert_eq!(app.store.link_code_hash(app.account, 2).await.unwrap(), None);
    assert!(settings_page(&app, &admin).await.contains("No code is set."));
    let audit = app.store.audit_events(Some(app.account), 20).await.unwrap();
    assert_eq!(actions(&audit).iter().filter(|a| a.starts_with("settings.link_code")).count(), 3);
}
