//! The patient's landing page end to end: `/p/{token}`, its password and
//! link-code form, lockout, files with ranges, the streamed ZIP, and the
//! headers every response carries. Shares are made directly through the store
//! (the share service's preparation has its own tests), around a real ingested
//! corpus study.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;

use common::{TEST_LINK_KEY, TestApp, corpus, spawn_app};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use studylink_ingest::Origin;
use studylink_model::*;
use studylink_share::token::{token_for, token_hash};
use studylink_store::StudyQuery;
use studylink_web::auth::hash_password;

/// A real ultrasound image; its patient is "ZZZ TEST PATIENTFIVE", ID
/// 2020202020202, born 19510829; the study is "US KIDNEY" of 20170302.
const STUDY_FILE: &str = "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm";
const PATIENT_VALUES: [&str; 5] = [
    "PATIENTFIVE",
    "ZZZ TEST",
    "2020202020202",
    "19510829",
    "1951",
];
const HOUR: i64 = 3600 * 1000;
const DAY: i64 = 24 * HOUR;

const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn now(app: &TestApp) -> Millis {
    now_millis() + app.clock_offset.load(Ordering::SeqCst)
}

/// Bytes 0, 1, 2, … 255, 0, 1 … so any range is recognisable.
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_add(salt)).collect()
}

struct Opts {
    password_required: bool,
    link_code_version: i64,
    finish: bool,
    language: Language,
    lifetime_ms: i64,
    media: Media,
    /// The cine's MP4 is still being encoded.
    video_pending: bool,
    /// The text check of the image (position 0) and the cine (1).
    text_check: studylink_model::TextCheck,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            password_required: false,
            link_code_version: 0,
            finish: true,
            language: Language::En,
            lifetime_ms: 30 * DAY,
            media: Media::made_up(),
            video_pending: false,
            text_check: studylink_model::TextCheck::None,
        }
    }
}

/// The files of the three items.
#[derive(Clone)]
struct Media {
    jpg: Vec<u8>,
    thumb: Vec<u8>,
    cine_jpg: Vec<u8>,
    cine_thumb: Vec<u8>,
    mp4: Vec<u8>,
    pdf: Vec<u8>,
    dcm: Vec<u8>,
}

impl Media {
    fn made_up() -> Media {
        Media {
            jpg: JPEG.to_vec(),
            thumb: JPEG.to_vec(),
            cine_jpg: JPEG.to_vec(),
            cine_thumb: JPEG.to_vec(),
            mp4: pattern(5000, 3),
            pdf: b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec(),
            dcm: pattern(3000, 7),
        }
    }
}

struct Link {
    token: String,
    share: Share,
    url: String,
    mp4: Vec<u8>,
    dcm: Vec<u8>,
}

async fn ingest_study(app: &TestApp) -> (StudyId, InstanceId) {
    let origin = Origin {
        source: IngestSource::Import,
        received_from: "test".into(),
        actor: Actor::System,
        expected_sop_uid: None,
    };
    let done = app
        .ingest
        .ingest_path(app.account, &corpus().join(STUDY_FILE), &origin)
        .await
        .unwrap();
    let rows = app
        .store
        .query_studies(
            app.account,
            &StudyQuery {
                study_uid: Some(done.study_uid.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (rows[0].id, done.instance_id)
}

/// A share of the corpus study with three items: an image, a cine loop and a
/// PDF report, whose files are small made-up bytes.
async fn make_share(app: &TestApp, opts: Opts) -> Link {
    let (study, instance) = ingest_study(app).await;
    let seed: Vec<u8> = rand_seed();
    let token = token_for(&TEST_LINK_KEY, &seed);
    let t0 = now(app);
    let share = app
        .store
        .create_share(&NewShare {
            account_id: app.account,
            study_id: study,
            token_hash: token_hash(&token),
            token_seed: seed,
            created_by: None,
            created_by_label: "test".into(),
            created_at: t0,
            expires_at: t0 + opts.lifetime_ms,
            language: opts.language,
            email: Some("patient@example.com".into()),
            phone: None,
            link_code_version: opts.link_code_version,
            deid_secret: vec![1; 32],
            instance_ids: vec![instance],
        })
        .await
        .unwrap();
    let blobs = app.ingest.blobs();
    let base = format!("shares/{}/{}", app.account, share.id);
    let m = opts.media;
    let (mp4, dcm) = (m.mp4.clone(), m.dcm.clone());
    let mut items = Vec::new();
    for (position, kind) in [
        (0, ItemKind::Image),
        (1, ItemKind::Cine),
        (2, ItemKind::Document),
    ] {
        let p = format!("{base}/{position}");
        blobs
            .put_bytes(&format!("{p}.dcm"), dcm.clone().into())
            .await
            .unwrap();
        let mut item = ShareItem {
            share_id: share.id,
            position,
            source_instance_id: instance,
            kind,
            password_reason: None,
            sop_instance_uid: format!("2.25.{position}"),
            dicom_key: format!("{p}.dcm"),
            dicom_size: dcm.len() as i64,
            jpeg_key: None,
            jpeg_size: None,
            thumb_key: None,
            mp4_key: None,
            mp4_size: None,
            doc_key: None,
            doc_size: None,
            doc_content_type: None,
            rows: Some(768),
            columns: Some(1024),
            frames: if kind == ItemKind::Cine { 27 } else { 1 },
            frame_ms: (kind == ItemKind::Cine).then_some(33.3),
            video_pending: false,
            text_check: studylink_model::TextCheck::None,
        };
        if kind != ItemKind::Document {
            let (jpg, thumb) = if kind == ItemKind::Cine {
                (&m.cine_jpg, &m.cine_thumb)
            } else {
                (&m.jpg, &m.thumb)
            };
            blobs
                .put_bytes(&format!("{p}.jpg"), jpg.clone().into())
                .await
                .unwrap();
            blobs
                .put_bytes(&format!("{p}.thumb.jpg"), thumb.clone().into())
                .await
                .unwrap();
            item.jpeg_key = Some(format!("{p}.jpg"));
            item.jpeg_size = Some(jpg.len() as i64);
            item.thumb_key = Some(format!("{p}.thumb.jpg"));
        }
        if kind != ItemKind::Document {
            item.text_check = opts.text_check;
        }
        if kind == ItemKind::Cine && opts.video_pending {
            item.video_pending = true;
        } else if kind == ItemKind::Cine {
            blobs
                .put_bytes(&format!("{p}.mp4"), mp4.clone().into())
                .await
                .unwrap();
            item.mp4_key = Some(format!("{p}.mp4"));
            item.mp4_size = Some(mp4.len() as i64);
        }
        if kind == ItemKind::Document {
            let pdf = m.pdf.clone();
            item.doc_size = Some(pdf.len() as i64);
            blobs
                .put_bytes(&format!("{p}.pdf"), pdf.into())
                .await
                .unwrap();
            item.doc_key = Some(format!("{p}.pdf"));
            item.doc_content_type = Some("application/pdf".into());
            item.rows = None;
            item.columns = None;
        }
        items.push(item);
    }
    app.store.put_share_items(share.id, &items).await.unwrap();
    if opts.finish {
        app.store
            .finish_share(share.id, opts.password_required, "test", &[], now(app))
            .await
            .unwrap();
    }
    let share = app
        .store
        .share(app.account, share.id)
        .await
        .unwrap()
        .unwrap();
    let url = format!("{}/p/{token}", app.base);
    Link {
        token,
        share,
        url,
        mp4,
        dcm,
    }
}

fn rand_seed() -> Vec<u8> {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::SeqCst) ^ (std::process::id() as u64) << 20;
    let mut seed = vec![0u8; 32];
    seed[..8].copy_from_slice(&n.to_le_bytes());
    seed[8..16].copy_from_slice(&now_millis().to_le_bytes());
    seed
}

fn assert_patient_headers(h: &HeaderMap, what: &str) {
    let get = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("cache-control"), "no-store", "{what}");
    assert!(get("x-robots-tag").contains("noindex"), "{what}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    let csp = get("content-security-policy");
    for part in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
}

fn assert_no_patient_data(text: &str, what: &str) {
    for v in PATIENT_VALUES {
        assert!(!text.contains(v), "{what} shows patient data {v:?}");
    }
}

fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in:\n{html}"))
        + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

/// Posts the gate form (with the form token from a fresh GET of the page).
async fn post_form(c: &reqwest::Client, link: &Link, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = c.get(&link.url).send().await.unwrap().text().await.unwrap();
    post_with(c, link, &field(&page, "t"), &field(&page, "mode"), fields).await
}

/// Posts the form with a form token and mode read earlier.
async fn post_with(
    c: &reqwest::Client,
    link: &Link,
    t: &str,
    mode: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("t", t), ("mode", mode)];
    all.extend_from_slice(fields);
    c.post(&link.url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, link.url.split("/p/").next().unwrap())
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap()
}

async fn actions(app: &TestApp) -> Vec<String> {
    let mut a: Vec<String> = app
        .store
        .audit_events(Some(app.account), 500)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event.action)
        .collect();
    a.reverse();
    a
}

async fn set_clinic(app: &TestApp, f: impl FnOnce(&mut AccountSettings)) {
    let mut s = app.store.account_settings(app.account).await.unwrap();
    f(&mut s);
    app.store
        .update_account_settings(app.account, &s, &Actor::System)
        .await
        .unwrap();
}

// --- the page ------------------------------------------------------------------

#[tokio::test]
async fn the_page_shows_the_gallery_without_patient_data() {
    let app = spawn_app().await;
    set_clinic(&app, |s| {
        s.clinic_name = "Clínica del Sol".into();
        s.landing_show_study_date = true;
        s.landing_show_study_description = true;
    })
    .await;
    let link = make_share(&app, Opts::default()).await;
    let resp = client().get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_patient_headers(resp.headers(), "page");
    assert!(
        resp.headers().get(header::SET_COOKIE).is_none(),
        "no gate, no cookie"
    );
    let html = resp.text().await.unwrap();
    assert_no_patient_data(&html, "the page");
    assert!(html.contains("Clínica del Sol"), "{html}");
    assert!(
        html.contains("US KIDNEY"),
        "the clinic shows the description"
    );
    assert!(html.contains("Mar 2, 2017"), "the clinic shows the date");
    for label in ["Image 1 of 3", "Video 2 of 3", "Document 3 of 3"] {
        assert!(html.contains(label), "{label}");
    }
    let t = &link.token;
    assert!(
        html.contains(&format!(
            "<img src=\"/p/{t}/f/0/thumb\" width=\"256\" height=\"192\" alt=\"Image 1 of 3\""
        )),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"/p/{t}/f/1/mp4?dl=1\" download")));
    assert!(html.contains(&format!("href=\"/p/{t}/f/2/doc\"")));
    assert!(html.contains(&format!("href=\"/p/{t}/all.zip\" download")));
    assert!(html.contains("For doctors (DICOM)"));
    assert!(!html.contains("2.25."), "no UIDs");
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
    assert!(html.contains("/static/patient.js?v=") && html.contains("/static/patient.css?v="));

    // Budget: HTML + CSS + JS under 100 KB.
    let mut total = html.len();
    for asset in ["patient.css", "patient.js"] {
        let body = reqwest::get(format!("{}/static/{asset}", app.base))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        total += body.len();
    }
    assert!(total < 100_000, "landing page weighs {total} bytes");

    let share = app
        .store
        .share(app.account, link.share.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(share.views, 1);
    assert!(actions(&app).await.contains(&"share.viewed".to_string()));
    let viewed = app.store.audit_events(Some(app.account), 50).await.unwrap();
    let viewed = viewed
        .iter()
        .find(|r| r.event.action == "share.viewed")
        .unwrap();
    assert_eq!(
        viewed.event.target_id.as_deref(),
        Some(link.share.id.to_string().as_str())
    );
    assert_eq!(viewed.event.detail, "{}");

    // The clinic may hide the exam's date and description.
    set_clinic(&app, |s| {
        s.landing_show_study_date = false;
        s.landing_show_study_description = false;
    })
    .await;
    let html = client()
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("US KIDNEY") && !html.contains("2017"));
}

#[tokio::test]
async fn a_loop_shows_its_first_picture_until_its_video_is_made() {
    let app = spawn_app().await;
    let link = make_share(
        &app,
        Opts {
            video_pending: true,
            ..Opts::default()
        },
    )
    .await;
    let t = &link.token;
    let html = client()
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"videos-pending\""),
        "the page says videos are coming: {html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/p/{t}/f/1/jpg\" data-i=\"1\" data-kind=\"cine\""
        )),
        "{html}"
    );
    assert!(
        html.contains(" data-pending"),
        "patient.js polls for the video"
    );
    assert!(
        !html.contains("class=\"badge\""),
        "no play badge on a loop that opens as a still"
    );
    assert!(
        !html.contains(&format!("/p/{t}/f/1/mp4")),
        "no link to a video that does not exist"
    );
    // What patient.js asks for: not there yet, then there.
    let mp4_url = format!("{}/f/1/mp4", link.url);
    assert_eq!(
        client().head(&mp4_url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    let key = format!("shares/{}/{}/1.mp4", app.account, link.share.id);
    app.ingest
        .blobs()
        .put_bytes(&key, link.mp4.clone().into())
        .await
        .unwrap();
    let mp4 = Some((key.as_str(), link.mp4.len() as i64));
    assert!(
        app.store
            .set_share_item_video(link.share.id, 1, mp4)
            .await
            .unwrap()
    );
    assert_eq!(
        client().head(&mp4_url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let html = client()
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("videos-pending") && !html.contains(" data-pending"),
        "{html}"
    );
    assert!(
        html.contains("class=\"badge\""),
        "the play badge once the video exists"
    );
    assert!(
        html.contains(&format!(
            "href=\"/p/{t}/f/1/mp4\" data-i=\"1\" data-kind=\"cine\""
        )),
        "{html}"
    );
    let share = app
        .store
        .share(app.account, link.share.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(share.downloads, 0, "polling is not a download");
}

#[tokio::test]
async fn spanish_links_speak_spanish() {
    let app = spawn_app().await;
    let link = make_share(
        &app,
        Opts {
            language: Language::Es,
            ..Opts::default()
        },
    )
    .await;
    let resp = client()
        .get(&link.url)
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(
        html.contains("Imagen 1 de 3")
            && html.contains("Descargar todo")
            && html.contains("Para médicos (DICOM)")
    );
}

#[tokio::test]
async fn unknown_links_are_404_without_details() {
    let app = spawn_app().await;
    let _real = make_share(&app, Opts::default()).await;
    let unknown = token_for(&TEST_LINK_KEY, b"never issued");
    for path in [
        format!("/p/{unknown}"),
        "/p/short".into(),
        format!("/p/{unknown}/f/0/jpg"),
        format!("/p/{unknown}/all.zip"),
        format!("/p/{unknown}/other"),
    ] {
        let resp = client()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
        assert_patient_headers(resp.headers(), &path);
        let text = resp.text().await.unwrap();
        assert!(
            !text.contains("Clinic") && !text.contains("expired"),
            "{path}: {text}"
        );
    }
}

#[tokio::test]
async fn expired_and_revoked_links_are_410_with_the_clinic_contact() {
    let app = spawn_app().await;
    set_clinic(&app, |s| {
        s.clinic_name = "Clínica del Sol".into();
        s.phone = Some("+34 910 000 000".into());
        s.email = Some("info@sol.example".into());
    })
    .await;
    let link = make_share(
        &app,
        Opts {
            lifetime_ms: DAY,
            ..Opts::default()
        },
    )
    .await;
    let revoked = make_share(
        &app,
        Opts {
            language: Language::Es,
            ..Opts::default()
        },
    )
    .await;
    assert_eq!(
        client().get(&link.url).send().await.unwrap().status(),
        StatusCode::OK
    );

    app.store
        .revoke_share(app.account, revoked.share.id, now(&app))
        .await
        .unwrap();
    let resp = client().get(&revoked.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    assert_patient_headers(resp.headers(), "revoked");
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Este enlace ha caducado") && html.contains("Clínica del Sol"),
        "{html}"
    );

    app.clock_offset.store(DAY + 1000, Ordering::SeqCst);
    let resp = client().get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::GONE);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("This link has expired — please contact Clínica del Sol"),
        "{html}"
    );
    assert!(html.contains("href=\"tel:+34910000000\"") && html.contains("+34 910 000 000"));
    assert!(html.contains("mailto:info@sol.example"));
    assert_no_patient_data(&html, "410 page");
    for path in ["/f/0/jpg", "/all.zip"] {
        let resp = client()
            .get(format!("{}{path}", link.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::GONE, "{path}");
    }
}

#[tokio::test]
async fn a_link_being_prepared_says_so_and_refreshes() {
    let app = spawn_app().await;
    let link = make_share(
        &app,
        Opts {
            finish: false,
            ..Opts::default()
        },
    )
    .await;
    let resp = client().get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("being prepared") && html.contains("http-equiv=\"refresh\""),
        "{html}"
    );
    let resp = client()
        .get(format!("{}/f/0/jpg", link.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
}

// --- password and link code ------------------------------------------------------

#[tokio::test]
async fn the_first_visitor_creates_the_password_and_later_ones_enter_it() {
    let app = spawn_app().await;
    set_clinic(&app, |s| s.clinic_name = "Clínica del Sol".into()).await;
    let link = make_share(
        &app,
        Opts {
            password_required: true,
            ..Opts::default()
        },
    )
    .await;
    let first = client();
    let html = first
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Choose a password")
            && html.contains("name=\"new_password\"")
            && html.contains("name=\"confirm\"")
    );
    assert!(
        !html.contains("/f/0/thumb"),
        "no images before the password"
    );
    assert_eq!(
        first
            .get(format!("{}/f/0/jpg", link.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        first
            .get(format!("{}/all.zip", link.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    // The strength rule, and the confirmation.
    for (pw, msg) in [
        ("short1", "at least 8 characters"),
        ("1234567890", "not only numbers"),
        ("Password123", "too easy to guess"),
        ("clinica del sol", "name as the password"),
    ] {
        let resp = post_form(&first, &link, &[("new_password", pw), ("confirm", pw)]).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{pw}");
        let text = resp.text().await.unwrap();
        assert!(text.contains(msg), "{pw}: {text}");
        assert!(!text.contains(pw), "never echoed");
    }
    let resp = post_form(
        &first,
        &link,
        &[
            ("new_password", "blue heron 42"),
            ("confirm", "blue heron 24"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(resp.text().await.unwrap().contains("not the same"));
    assert_eq!(
        app.store
            .share(app.account, link.share.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0,
        "slips are not attempts"
    );

    let resp = post_form(
        &first,
        &link,
        &[
            ("new_password", "blue heron 42"),
            ("confirm", "blue heron 42"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_patient_headers(resp.headers(), "303");
    let cookie = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("studylink_link="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        cookie.contains(&format!("Path=/p/{}", link.token)),
        "{cookie}"
    );
    assert!(cookie.contains("Max-Age=43200"), "12 hours: {cookie}");
    assert!(!cookie.contains("Secure"), "tests run on http");
    let resp = first.get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.text().await.unwrap().contains("Image 1 of 3"));
    assert_eq!(
        first
            .get(format!("{}/f/0/jpg", link.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let hash = app
        .store
        .share(app.account, link.share.id)
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert!(hash.starts_with("$argon2id$"));

    // Another browser must enter it.
    let second = client();
    let html = second
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Enter the password")
            && html.contains("name=\"password\"")
            && !html.contains("new_password")
    );
    let resp = post_form(&second, &link, &[("password", "blue heron 4")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("4 tries left"));
    let resp = post_form(&second, &link, &[("password", "blue heron 42")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        second.get(&link.url).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        app.store
            .share(app.account, link.share.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0,
        "cleared"
    );

    // A form still showing "create" after someone chose the password.
    let third = client();
    let resp = third
        .post(&link.url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("t=x&mode=create&new_password=another+one+9&confirm=another+one+9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::BAD_REQUEST,
        "no form token: {:?}",
        resp.status()
    );
    let page = third
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let t = field(&page, "t");
    let resp = third
        .post(&link.url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "t={t}&mode=create&new_password=another+one+9&confirm=another+one+9"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("has just chosen a password")
    );
    let a = actions(&app).await;
    assert_eq!(a.iter().filter(|x| *x == "share.password_set").count(), 1);
    assert_eq!(
        a.iter().filter(|x| *x == "share.password_failed").count(),
        1
    );
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_link_for_15_minutes() {
    let app = spawn_app().await;
    let link = make_share(
        &app,
        Opts {
            password_required: true,
            ..Opts::default()
        },
    )
    .await;
    let owner = client();
    let resp = post_form(
        &owner,
        &link,
        &[
            ("new_password", "blue heron 42"),
            ("confirm", "blue heron 42"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let guesser = client();
    let form = guesser
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let t = field(&form, "t");
    for i in 1..=4 {
        let resp = post_form(
            &guesser,
            &link,
            &[("password", &format!("guess number {i}"))],
        )
        .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "attempt {i}");
    }
    let resp = post_form(&guesser, &link, &[("password", "guess number 5")]).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get(header::RETRY_AFTER).is_some());
    assert!(resp.text().await.unwrap().contains("Try again after"));
    // Even the right password is not looked at now.
    let resp = post_with(
        &guesser,
        &link,
        &t,
        "enter",
        &[("password", "blue heron 42")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        guesser.get(&link.url).send().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let a = actions(&app).await;
    assert_eq!(
        a.iter().filter(|x| *x == "share.password_failed").count(),
        5
    );
    assert_eq!(a.iter().filter(|x| *x == "share.locked").count(), 1);
    // Whoever already got in keeps access.
    assert_eq!(
        owner.get(&link.url).send().await.unwrap().status(),
        StatusCode::OK
    );

    app.clock_offset.store(16 * 60 * 1000, Ordering::SeqCst);
    let resp = post_form(&guesser, &link, &[("password", "blue heron 42")]).await;
    assert_eq!(
        resp.status(),
        StatusCode::SEE_OTHER,
        "after the lock, the right password works"
    );
}

#[tokio::test]
async fn the_clinic_link_code_is_asked_kept_for_old_links_and_dropped_when_removed() {
    let app = spawn_app().await;
    set_clinic(&app, |s| s.clinic_name = "Clínica del Sol".into()).await;
    let v1 = app
        .store
        .set_link_code(
            app.account,
            Some(&hash_password("sol-2026").unwrap()),
            &Actor::System,
        )
        .await
        .unwrap();
    let old = make_share(
        &app,
        Opts {
            link_code_version: v1,
            ..Opts::default()
        },
    )
    .await;
    let html = client()
        .get(&old.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Clinic code") && html.contains("Clínica del Sol protects its patient links"),
        "{html}"
    );
    assert!(
        !html.contains("name=\"password\""),
        "no password asked for a clean share"
    );

    let c = client();
    let resp = post_form(&c, &old, &[("code", "wrong-code")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("That code is not right")
    );
    let resp = post_form(&c, &old, &[("code", "sol-2026")]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(&old.url).send().await.unwrap().status(),
        StatusCode::OK
    );

    // A new code: old links keep the code they were made with, new ones take the new.
    let v2 = app
        .store
        .set_link_code(
            app.account,
            Some(&hash_password("luna-2027").unwrap()),
            &Actor::System,
        )
        .await
        .unwrap();
    let new = make_share(
        &app,
        Opts {
            link_code_version: v2,
            ..Opts::default()
        },
    )
    .await;
    let c = client();
    assert_eq!(
        post_form(&c, &old, &[("code", "luna-2027")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(&c, &old, &[("code", "sol-2026")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post_form(&c, &new, &[("code", "sol-2026")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_form(&c, &new, &[("code", "luna-2027")]).await.status(),
        StatusCode::SEE_OTHER
    );

    // Code and password together: one form, both checked.
    let both = make_share(
        &app,
        Opts {
            link_code_version: v2,
            password_required: true,
            ..Opts::default()
        },
    )
    .await;
    let c = client();
    let html = c.get(&both.url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("name=\"code\"") && html.contains("name=\"new_password\""));
    let resp = post_form(
        &c,
        &both,
        &[
            ("code", "wrong"),
            ("new_password", "blue heron 42"),
            ("confirm", "blue heron 42"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(
        app.store
            .share(app.account, both.share.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none(),
        "a wrong code sets nothing"
    );
    let resp = post_form(
        &c,
        &both,
        &[
            ("code", "luna-2027"),
            ("new_password", "blue heron 42"),
            ("confirm", "blue heron 42"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let c2 = client();
    let resp = post_form(
        &c2,
        &both,
        &[("code", "luna-2027"), ("password", "wrong one 1")],
    )
    .await;
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("The code or the password is not right")
    );

    // Removing the code removes the prompt from every link made with one.
    app.store
        .set_link_code(app.account, None, &Actor::System)
        .await
        .unwrap();
    for link in [&old, &new] {
        let resp = client().get(&link.url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.text().await.unwrap().contains("Image 1 of 3"));
    }
    // …but not the patient's own password.
    let html = client()
        .get(&both.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"password\"") && !html.contains("name=\"code\""));
}

#[tokio::test]
async fn cookies_are_secure_when_the_site_is_https() {
    let app = common::spawn_app_with(studylink_web::WebConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let link = make_share(
        &app,
        Opts {
            password_required: true,
            ..Opts::default()
        },
    )
    .await;
    let resp = client().get(&link.url).send().await.unwrap();
    let form_cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(form_cookie.starts_with("studylink_form="), "{form_cookie}");
    assert!(
        form_cookie.contains("SameSite=Strict")
            && form_cookie.contains("HttpOnly")
            && form_cookie.contains("; Secure")
    );
    let t = field(&resp.text().await.unwrap(), "t");
    // The cookie store keeps Secure cookies off plain http, so send it by hand.
    let resp = client()
        .post(&link.url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("studylink_form={t}"))
        .body(format!(
            "t={t}&mode=create&new_password=blue+heron+42&confirm=blue+heron+42"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let access = resp.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        access.starts_with("studylink_link=") && access.ends_with("; Secure"),
        "{access}"
    );
}

#[tokio::test]
async fn posts_from_another_site_are_refused() {
    let app = spawn_app().await;
    let link = make_share(
        &app,
        Opts {
            password_required: true,
            ..Opts::default()
        },
    )
    .await;
    let c = client();
    let page = c.get(&link.url).send().await.unwrap().text().await.unwrap();
    let t = field(&page, "t");
    let body = format!("t={t}&mode=create&new_password=blue+heron+42&confirm=blue+heron+42");
    let post = |origin: Option<&'static str>, referer: Option<&'static str>| {
        let mut r = c
            .post(&link.url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some(o) = origin {
            r = r.header(header::ORIGIN, o);
        }
        if let Some(rf) = referer {
            r = r.header(header::REFERER, rf);
        }
        r.send()
    };
    assert_eq!(
        post(Some("https://evil.example"), None)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, Some("https://evil.example/p/x"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        app.store
            .share(app.account, link.share.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    // `Origin: null` (what no-referrer pages send) falls back to the form token.
    assert_eq!(
        post(Some("null"), None).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
}

// --- files -----------------------------------------------------------------------

#[tokio::test]
async fn files_stream_with_names_types_and_ranges() {
    let app = spawn_app().await;
    let link = make_share(&app, Opts::default()).await;
    let c = client();
    let get = |path: &str| c.get(format!("{}{path}", link.url));

    let resp = get("/f/0/thumb").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_patient_headers(resp.headers(), "thumb");
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "inline; filename=\"image-01-small.jpg\""
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), JPEG);

    let resp = get("/f/0/jpg?dl=1").send().await.unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"image-01.jpg\""
    );
    let resp = get("/f/0/dcm").send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/dicom");
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"image-01.dcm\"",
        "DICOM always downloads"
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), link.dcm.as_slice());
    let resp = get("/f/2/doc").send().await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "inline; filename=\"report-03.pdf\""
    );
    let resp = get("/f/2/doc?dl=1").send().await.unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"report-03.pdf\""
    );

    // The video, whole and in ranges.
    let resp = get("/f/1/mp4").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(resp.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(resp.headers()[header::CONTENT_LENGTH], "5000");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), link.mp4.as_slice());
    for (range, start, end) in [
        ("bytes=0-1", 0, 1),
        ("bytes=100-1099", 100, 1099),
        ("bytes=4990-", 4990, 4999),
        ("bytes=-10", 4990, 4999),
        ("bytes=4000-9999", 4000, 4999),
    ] {
        let resp = get("/f/1/mp4")
            .header(header::RANGE, range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            resp.headers()[header::CONTENT_RANGE],
            format!("bytes {start}-{end}/5000").as_str(),
            "{range}"
        );
        assert_eq!(
            resp.headers()[header::CONTENT_LENGTH],
            (end - start + 1).to_string().as_str()
        );
        assert_patient_headers(resp.headers(), range);
        assert_eq!(
            resp.bytes().await.unwrap().as_ref(),
            &link.mp4[start..=end],
            "{range}"
        );
    }
    let resp = get("/f/1/mp4")
        .header(header::RANGE, "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(resp.headers()[header::CONTENT_RANGE], "bytes */5000");

    for bad in ["/f/9/jpg", "/f/0/mp4", "/f/0/png", "/f/x/jpg", "/f/2/jpg"] {
        assert_eq!(
            get(bad).send().await.unwrap().status(),
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }

    // Downloads count (and are audited); views and thumbnails don't.
    let share = app
        .store
        .share(app.account, link.share.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        share.downloads, 3,
        "jpg?dl, dcm and doc?dl; the thumbnail, the inline PDF and the video's ranges are views"
    );
    let resp = get("/f/1/mp4?dl=1")
        .header(header::RANGE, "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        app.store
            .share(app.account, link.share.id)
            .await
            .unwrap()
            .unwrap()
            .downloads,
        3,
        "a resumed download counts once"
    );
    let a = actions(&app).await;
    assert_eq!(a.iter().filter(|x| *x == "share.downloaded").count(), 3);
}

// --- the ZIP -----------------------------------------------------------------------

#[tokio::test]
async fn download_all_is_a_zip_that_unzip_accepts() {
    let app = spawn_app().await;
    set_clinic(&app, |s| {
        s.clinic_name = "Clínica del Sol".into();
        s.landing_show_study_description = true;
    })
    .await;
    let link = make_share(
        &app,
        Opts {
            language: Language::Es,
            ..Opts::default()
        },
    )
    .await;
    let resp = client()
        .get(format!("{}/all.zip", link.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_patient_headers(resp.headers(), "zip");
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/zip");
    assert_eq!(
        resp.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"imagenes.zip\""
    );
    let length: usize = resp.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(bytes.len(), length, "Content-Length is exact");

    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&bytes).unwrap();
    f.flush().unwrap();
    let out = std::process::Command::new("unzip")
        .arg("-t")
        .arg(f.path())
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success() && listing.contains("No errors detected"),
        "{listing}"
    );
    for name in [
        "index.html",
        "images/image-01.jpg",
        "images/cine-02.jpg",
        "videos/cine-02.mp4",
        "documents/report-03.pdf",
        "dicom/image-01.dcm",
        "dicom/cine-02.dcm",
        "dicom/report-03.dcm",
    ] {
        assert!(
            listing.contains(&format!("testing: {name} ")),
            "{name} missing:\n{listing}"
        );
    }
    let unzip_p = |name: &str| {
        std::process::Command::new("unzip")
            .arg("-p")
            .arg(f.path())
            .arg(name)
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(unzip_p("videos/cine-02.mp4"), link.mp4);
    let index = String::from_utf8(unzip_p("index.html")).unwrap();
    assert!(
        index.contains("<html lang=\"es\">")
            && index.contains("Imagen 1 de 3")
            && index.contains("Clínica del Sol")
    );
    assert!(
        index.contains("src=\"images/image-01.jpg\"")
            && index.contains("src=\"videos/cine-02.mp4\"")
    );
    assert!(
        index.contains("href=\"documents/report-03.pdf\"")
            && index.contains("href=\"dicom/image-01.dcm\"")
    );
    assert!(
        index.contains("US KIDNEY"),
        "the description the clinic allows"
    );
    assert!(
        !index.contains("http://") && !index.contains("https://") && !index.contains(&link.token),
        "offline, no link back"
    );
    assert_no_patient_data(&index, "index.html");

    let share = app
        .store
        .share(app.account, link.share.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(share.downloads, 1);
    // HEAD tells the size without counting.
    let resp = client()
        .head(format!("{}/all.zip", link.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()[header::CONTENT_LENGTH].to_str().unwrap(),
        length.to_string()
    );
    assert_eq!(
        app.store
            .share(app.account, link.share.id)
            .await
            .unwrap()
            .unwrap()
            .downloads,
        1
    );
}

/// Peak memory while streaming a 2 GB share stays bounded (the archive is
/// never held). Slow: writes 2 GB of sparse blobs and streams them once.
#[tokio::test]
async fn a_2gb_zip_streams_in_bounded_memory() {
    let app = spawn_app().await;
    let link = make_share(&app, Opts::default()).await;
    // Swap the made-up DICOM files for 680 MB sparse ones (three: 2 GB).
    let blobs = app.ingest.blobs();
    let mut items = app.store.share_items(link.share.id).await.unwrap();
    const BIG: u64 = 680 * 1024 * 1024;
    for item in &mut items {
        let path = blobs.local_path(&item.dicom_key).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(BIG)
            .unwrap();
        item.dicom_size = BIG as i64;
    }
    let before = peak_rss_kb();
    let resp = client()
        .get(format!("{}/all.zip", link.url))
        .send()
        .await
        .unwrap();
    let length: u64 = resp.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > 3 * BIG);
    let mut stream = resp.bytes_stream();
    let mut got = 0u64;
    use futures::StreamExt;
    while let Some(chunk) = stream.next().await {
        got += chunk.unwrap().len() as u64;
    }
    assert_eq!(got, length);
    let after = peak_rss_kb();
    eprintln!("peak RSS: {before} kB before, {after} kB after streaming {got} bytes");
    assert!(after < 150 * 1024, "peak RSS {after} kB");
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Zip entry names, from the central directory (no unzip needed).
fn zip_entry_names(bytes: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i + 46 <= bytes.len() {
        if bytes[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            let n = u16::from_le_bytes([bytes[i + 28], bytes[i + 29]]) as usize;
            names.push(String::from_utf8_lossy(&bytes[i + 46..i + 46 + n]).to_string());
            i += 46 + n;
        } else {
            i += 1;
        }
    }
    names
}

#[tokio::test]
async fn images_wait_for_their_text_check_and_a_failed_one_never_shows() {
    use studylink_model::TextCheck;
    use studylink_store::TextCheckResult;
    let app = spawn_app().await;
    let link = make_share(&app, Opts { video_pending: true, text_check: TextCheck::Pending, ..Opts::default() }).await;
    let t = &link.token;
    let page = || async { client().get(&link.url).send().await.unwrap().text().await.unwrap() };
    let status = |what: &'static str| {
        let url = format!("{}/f/{what}", link.url);
        async move { client().get(url).send().await.unwrap().status() }
    };
    let html = page().await;
    assert!(html.contains("id=\"checks-pending\""), "the page says images are coming: {html}");
    assert!(html.contains(&format!("data-checking=\"/p/{t}/f/0/thumb\"")), "patient.js polls the first one: {html}");
    assert!(html.contains("Being prepared"), "{html}");
    assert!(!html.contains("all.zip"), "no ZIP until every image is ready: {html}");
    assert!(!html.contains("videos-pending"), "a loop being checked has no video on the way yet");
    for p in [0, 1] {
        assert!(!html.contains(&format!("href=\"/p/{t}/f/{p}/")), "no link to item {p}'s files: {html}");
        assert!(!html.contains(&format!("src=\"/p/{t}/f/{p}/")), "no picture of item {p}: {html}");
    }
    for what in ["0/thumb", "0/jpg", "0/dcm", "1/jpg", "1/thumb", "1/dcm", "1/mp4"] {
        assert_eq!(status(what).await, StatusCode::NOT_FOUND, "{what} served before its check");
    }
    assert_eq!(status("2/doc").await, StatusCode::OK, "the report needs no text check");
    // Asked for directly, the ZIP leaves the unchecked images out.
    let zip = client().get(format!("{}/all.zip", link.url)).send().await.unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    let names = zip_entry_names(&zip.bytes().await.unwrap());
    assert!(names.iter().any(|n| n.contains("report")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("/image-") || n.contains("/cine-")), "{names:?}");

    // Checked: the image shows; the loop held back for good.
    let passed = TextCheckResult::Passed { dicom_size: None, jpeg_size: None };
    assert!(app.store.set_share_item_text_check(link.share.id, 0, passed).await.unwrap());
    assert!(app.store.set_share_item_text_check(link.share.id, 1, TextCheckResult::Failed).await.unwrap());
    for what in ["0/thumb", "0/jpg", "0/dcm"] {
        assert_eq!(status(what).await, StatusCode::OK, "{what}");
    }
    for what in ["1/jpg", "1/thumb", "1/dcm", "1/mp4"] {
        assert_eq!(status(what).await, StatusCode::NOT_FOUND, "{what} of a failed check");
    }
    let html = page().await;
    assert!(!html.contains("checks-pending") && !html.contains("data-checking"), "{html}");
    assert!(html.contains(&format!("href=\"/p/{t}/all.zip\" download")), "{html}");
    assert!(html.contains("Not available: please ask the clinic"), "{html}");
    assert!(html.contains(&format!("href=\"/p/{t}/f/0/jpg\"")), "{html}");
    assert!(!html.contains(&format!("/p/{t}/f/1/")), "{html}");
    let zip = client().get(format!("{}/all.zip", link.url)).send().await.unwrap();
    let names = zip_entry_names(&zip.bytes().await.unwrap());
    assert!(names.iter().any(|n| n.contains("/image-")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("/cine-")), "{names:?}");
}
