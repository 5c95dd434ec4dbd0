//! The upload endpoint: one file per request (DICOM or ZIP), per-file outcomes.

mod common;

use std::io::Write;

use common::{TestApp, corpus, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use studylink_model::{NewUser, Role};
use studylink_web::WebConfig;
use studylink_web::auth::hash_password;

const PASSWORD: &str = "correct horse battery staple";

/// Form posts without reqwest's optional `form` feature.
trait SendForm {
    fn form(self, pairs: &[(&str, &str)]) -> Self;
}

impl SendForm for reqwest::RequestBuilder {
    fn form(self, pairs: &[(&str, &str)]) -> Self {
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(pairs).unwrap())
    }
}

/// A signed-in staff client and the CSRF token from the upload page's meta tag.
async fn staff_client(app: &TestApp) -> (reqwest::Client, String) {
    app.store
        .create_user(&NewUser {
            account_id: app.account,
            email: "tech@clinic.example".into(),
            password_hash: hash_password(PASSWORD).unwrap(),
            role: Role::Staff,
        })
        .await
        .unwrap();
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let csrf = between(&login, "name=\"csrf\" value=\"", "\"");
    let resp = c
        .post(format!("{}/login", app.base))
        .form(&[("email", "tech@clinic.example"), ("password", PASSWORD), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "followed the redirect home");
    let page = c.get(format!("{}/upload", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("webkitdirectory"));
    (c, between(&page, "<meta name=\"csrf-token\" content=\"", "\""))
}

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s.find(start).unwrap() + start.len();
    s[i..i + s[i..].find(end).unwrap()].to_string()
}

async fn upload(app: &TestApp, c: &reqwest::Client, csrf: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    c.post(format!("{}/upload", app.base))
        .header("content-type", "application/octet-stream")
        .header("x-file-name", name)
        .header("x-csrf-token", csrf)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn results(resp: reqwest::Response) -> Vec<Value> {
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["results"].as_array().unwrap().clone()
}

fn ct_small() -> Vec<u8> {
    std::fs::read(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap()
}

#[tokio::test]
async fn dicom_file_is_stored_then_duplicate() {
    let app = spawn_app().await;
    let (c, csrf) = staff_client(&app).await;
    let r = results(upload(&app, &c, &csrf, "CT%20small.dcm", ct_small()).await).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["name"], "CT small.dcm");
    assert_eq!(r[0]["status"], "stored", "{r:?}");
    assert!(r[0]["study_uid"].as_str().is_some_and(|u| !u.is_empty()));
    assert_eq!(app.store.count_instances(app.account).await.unwrap(), 1);

    let r = results(upload(&app, &c, &csrf, "again.dcm", ct_small()).await).await;
    assert_eq!(r[0]["status"], "duplicate");
    assert_eq!(app.store.count_instances(app.account).await.unwrap(), 1);

    // The Studies screen lists it; one audit event per request, counts only.
    let home = c.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("One study"), "{home}");
    let uploads: Vec<_> = app
        .store
        .audit_events(Some(app.account), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.action == "upload")
        .collect();
    assert_eq!(uploads.len(), 2);
    let detail: Value = serde_json::from_str(&uploads.iter().map(|e| e.event.detail.clone()).find(|d| d.contains("\"stored\":1")).unwrap()).unwrap();
    assert_eq!(detail["files"], 1);
}

#[tokio::test]
async fn zip_entries_are_ingested_one_by_one() {
    let app = spawn_app().await;
    let (c, csrf) = staff_client(&app).await;

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("study/", opts).unwrap();
    zip.start_file("study/IM0001", opts).unwrap();
    zip.write_all(&ct_small()).unwrap();
    zip.start_file("study/IM0002.dcm", opts).unwrap();
    zip.write_all(&std::fs::read(corpus().join("ct/ct_wg04_ct1_j2k_lossy.dcm")).unwrap()).unwrap();
    zip.start_file("study/notes.txt", opts).unwrap();
    zip.write_all(b"not an image at all, just some notes").unwrap();
    zip.start_file("__MACOSX/study/._IM0001", opts).unwrap();
    zip.write_all(b"resource fork").unwrap();
    zip.start_file("study/.DS_Store", opts).unwrap();
    zip.write_all(b"finder").unwrap();
    let bytes = zip.finish().unwrap().into_inner();

    let r = results(upload(&app, &c, &csrf, "cd.zip", bytes).await).await;
    assert_eq!(r.len(), 3, "directories and OS clutter are skipped: {r:?}");
    let by_name = |n: &str| r.iter().find(|x| x["name"] == n).unwrap_or_else(|| panic!("{n} in {r:?}"));
    assert_eq!(by_name("cd.zip/study/IM0001")["status"], "stored");
    assert_eq!(by_name("cd.zip/study/IM0002.dcm")["status"], "stored");
    let junk = by_name("cd.zip/study/notes.txt");
    assert_eq!(junk["status"], "refused");
    assert_eq!(junk["reason"], "Not a DICOM file.", "{junk}");
    assert_eq!(app.store.count_instances(app.account).await.unwrap(), 2);

    // A damaged archive is one refused file, not a failed request.
    let r = results(upload(&app, &c, &csrf, "bad.zip", b"PK\x03\x04garbage".to_vec()).await).await;
    assert_eq!(r[0]["status"], "refused");
    assert_eq!(r[0]["name"], "bad.zip");
}

#[tokio::test]
async fn non_dicom_is_refused_with_a_reason() {
    let app = spawn_app().await;
    let (c, csrf) = staff_client(&app).await;
    let r = results(upload(&app, &c, &csrf, "report.pdf", b"%PDF-1.4 not dicom at all".repeat(20)).await).await;
    assert_eq!(r[0]["status"], "refused");
    assert_eq!(r[0]["reason"], "Not a DICOM file.");
    assert!(r[0]["detail"].as_str().is_some_and(|d| !d.is_empty()));

    // In Spanish when the browser asks for it.
    let resp = c
        .post(format!("{}/upload", app.base))
        .header("x-csrf-token", &csrf)
        .header("accept-language", "es")
        .body(b"hello".to_vec())
        .send()
        .await
        .unwrap();
    let r = results(resp).await;
    assert_eq!(r[0]["reason"], "No es un archivo DICOM.");

    let resp = upload(&app, &c, &csrf, "empty", Vec::new()).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.store.count_instances(app.account).await.unwrap(), 0);
}

#[tokio::test]
async fn oversized_upload_is_413() {
    let app = spawn_app_with(WebConfig { max_upload_bytes: 16 * 1024, ..WebConfig::default() }).await;
    let (c, csrf) = staff_client(&app).await;
    let body = ct_small();
    assert!(body.len() > 16 * 1024);
    let resp = upload(&app, &c, &csrf, "big.dcm", body).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Without Content-Length (chunked), the limit holds while streaming.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = ct_small().chunks(4096).map(|c| Ok(c.to_vec())).collect();
    let resp = c
        .post(format!("{}/upload", app.base))
        .header("x-csrf-token", &csrf)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(app.store.count_instances(app.account).await.unwrap(), 0);
}

#[tokio::test]
async fn upload_needs_a_session() {
    let app = spawn_app().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/upload", app.base))
        .header("x-csrf-token", "x")
        .body(ct_small())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
