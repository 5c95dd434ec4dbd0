//! The Studies screen (`/`), its search, the study view and the Send to
//! patient placeholder, against the real router with studies sent by STOW-RS:
//! corpus files as they are, and copies with names, IDs and dates rewritten.

mod common;

use common::{TestApp, corpus, spawn_app};
use dicom_core::VR;
use dicom_dictionary_std::tags;
use reqwest::StatusCode;
use studylink_model::{AccountId, NewUser, Role};
use studylink_web::auth::hash_password;

const PASSWORD: &str = "correct horse battery staple";
const MR: &str = "mr/mr_small_evrle.dcm"; // CompressedSamples^MR1, 4MR1, 20040826
const CT: &str = "ct/ct_small_evrle_signed16.dcm"; // CompressedSamples^CT1, 1CT1, 20040119
const CINE: &str = "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm"; // 27 frames

// ------------------------------------------------------------------ helpers --

/// Form posts without reqwest's optional `form` feature.
fn form_body(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn between(s: &str, start: &str, end: &str) -> String {
    let i = s.find(start).unwrap_or_else(|| panic!("{start:?} not in page")) + start.len();
    s[i..i + s[i..].find(end).unwrap()].to_string()
}

/// A signed-in staff client of `account`.
async fn staff(app: &TestApp, account: AccountId, email: &str) -> reqwest::Client {
    app.store
        .create_user(&NewUser {
            account_id: account,
            email: email.into(),
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
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    c
}

/// A corpus file's (study, series, SOP instance) UIDs.
fn uids(bytes: &[u8]) -> (String, String, String) {
    let obj = dicom_object::from_reader(&bytes[128..]).unwrap();
    let get = |t| obj.element(t).unwrap().to_str().unwrap().trim_end_matches('\0').trim().to_string();
    (get(tags::STUDY_INSTANCE_UID), get(tags::SERIES_INSTANCE_UID), get(tags::SOP_INSTANCE_UID))
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn new_uid() -> String {
    format!("2.25.{}", uuid::Uuid::new_v4().as_u128())
}

/// A patient of our own making: the small MR file with new UIDs and these values.
struct Made<'a> {
    name: &'a str,
    patient_id: &'a str,
    accession: &'a str,
    date: &'a str,
    modality: &'a str,
    phone: Option<&'a str>,
}

impl Made<'_> {
    /// The DICOM file and its study UID.
    fn file(&self) -> (Vec<u8>, String) {
        let mut obj = dicom_object::open_file(corpus().join(MR)).unwrap();
        let (study, series, sop) = (new_uid(), new_uid(), new_uid());
        // UTF-8, so the accents survive the round trip.
        obj.put_str(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192");
        obj.put_str(tags::PATIENT_NAME, VR::PN, self.name);
        obj.put_str(tags::PATIENT_ID, VR::LO, self.patient_id);
        obj.put_str(tags::ACCESSION_NUMBER, VR::SH, self.accession);
        obj.put_str(tags::STUDY_DATE, VR::DA, self.date);
        obj.put_str(tags::MODALITY, VR::CS, self.modality);
        obj.put_str(tags::STUDY_INSTANCE_UID, VR::UI, study.as_str());
        obj.put_str(tags::SERIES_INSTANCE_UID, VR::UI, series.as_str());
        obj.put_str(tags::SOP_INSTANCE_UID, VR::UI, sop.as_str());
        if let Some(p) = self.phone {
            obj.put_str(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, p);
        }
        obj.update_meta(|m| m.media_storage_sop_instance_uid = sop.clone());
        let mut out = Vec::new();
        obj.write_all(&mut out).unwrap();
        (out, study)
    }
}

const BOUNDARY: &str = "studylink-studies-boundary";

/// STOW-RS with an API key of `account`.
async fn stow(app: &TestApp, account: AccountId, files: Vec<Vec<u8>>) {
    let key = studylink_web::auth::create_api_key(app.store.as_ref(), account, "studies-test").await.unwrap();
    let mut body = Vec::new();
    for f in &files {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend_from_slice(f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let resp = reqwest::Client::new()
        .post(format!("{}/dicomweb/studies", app.base))
        .bearer_auth(key)
        .header("content-type", format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"))
        .header("accept", "application/dicom+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "STOW: {:?}", resp.text().await);
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let resp = c.get(format!("{}{path}", app.base)).send().await.unwrap();
    let status = resp.status();
    (status, resp.text().await.unwrap())
}

fn study_href(uid: &str) -> String {
    format!("href=\"/studies/{uid}\"")
}

/// Which of `studies` the page links to, in page order.
fn listed(page: &str, studies: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> =
        studies.iter().filter_map(|s| page.find(&study_href(s)).map(|i| (i, s.to_string()))).collect();
    found.sort();
    found.into_iter().map(|(_, s)| s).collect()
}

// -------------------------------------------------------------------- tests --

#[tokio::test]
async fn studies_are_listed_newest_first_with_thumbnails() {
    let app = spawn_app().await;
    let c = staff(&app, app.account, "tech@clinic.example").await;
    let (status, page) = get(&c, &app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No studies yet."), "empty state");
    assert!(page.contains("role=\"search\""), "search bar on an empty archive too");

    let (mr, ct) = (read(MR), read(CT));
    let (mr_study, mr_series, mr_sop) = uids(&mr);
    let (ct_study, _, _) = uids(&ct);
    stow(&app, app.account, vec![ct, mr]).await;

    let (status, page) = get(&c, &app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed(&page, &[&ct_study, &mr_study]), [mr_study.clone(), ct_study.clone()], "2004-08-26 before 2004-01-19");
    // PN "CompressedSamples^MR1" shown as "family, given"; dates in English.
    assert!(page.contains(">CompressedSamples, MR1</a>"), "formatted name");
    assert!(page.contains("data-label=\"Patient ID\">4MR1</td>"), "patient ID");
    assert!(page.contains("Aug 26, 2004"), "study date in English");
    assert!(page.contains("data-label=\"Modality\">MR</td>"), "modality");
    assert!(page.contains("2 studies"), "count");
    let thumb = format!("/dicomweb/studies/{mr_study}/series/{mr_series}/instances/{mr_sop}/thumbnail");
    let img = between(&page, &format!("<img src=\"{thumb}\""), ">");
    for attr in ["loading=\"lazy\"", "width=\"64\"", "height=\"64\"", "alt=\"\""] {
        assert!(img.contains(attr), "thumbnail {attr}: {img}");
    }
}

#[tokio::test]
async fn search_finds_names_in_any_order_ids_accessions_dates_and_modalities() {
    let app = spawn_app().await;
    let c = staff(&app, app.account, "tech@clinic.example").await;
    let people = [
        Made { name: "GARCÍA^ANA MARÍA", patient_id: "PAT-001", accession: "ACC-100", date: "20240310", modality: "US", phone: None },
        Made { name: "GARCIA^JOSE", patient_id: "P2", accession: "X9", date: "20240115", modality: "CT", phone: None },
        Made { name: "MARTINEZ^ANA", patient_id: "12345", accession: "Z1", date: "20231201", modality: "MR", phone: None },
    ];
    let (files, studies): (Vec<_>, Vec<_>) = people.iter().map(Made::file).unzip();
    stow(&app, app.account, files).await;
    let [ana_maria, jose, martinez] = [&studies[0], &studies[1], &studies[2]].map(|s| s.as_str());
    let all = [ana_maria, jose, martinez];

    let cases: &[(&str, &[&str])] = &[
        ("q=garcia+ana", &[ana_maria]),
        ("q=ana+garcia", &[ana_maria]),
        ("q=gar+an", &[ana_maria]),
        ("q=garc", &[ana_maria, jose]),
        ("q=jos%C3%A9", &[jose]),         // "josé" finds JOSE
        ("q=maria", &[ana_maria]),        // "maria" finds MARÍA
        ("q=GARCIA%5EANA", &[ana_maria]), // the DICOM form pasted
        ("q=ana", &[ana_maria, martinez]),
        ("q=arcia", &[]), // words match from their start
        ("q=garcia+pedro", &[]),
        ("q=12345", &[martinez]),
        ("q=123", &[martinez]),
        ("q=pat-001", &[ana_maria]),
        ("q=acc-100", &[ana_maria]),
        ("from=2024-01-01&to=2024-02-01", &[jose]),
        ("from=2024-01-15", &[ana_maria, jose]),
        ("to=2024-01-15", &[jose, martinez]),
        ("modality=MR", &[martinez]),
        ("q=ana&modality=US", &[ana_maria]),
        ("q=garcia&from=not-a-date", &[ana_maria, jose]), // a bad date is ignored, not a 400
    ];
    for (query, want) in cases {
        let (status, page) = get(&c, &app, &format!("/?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(listed(&page, &all), want.iter().map(|s| s.to_string()).collect::<Vec<_>>(), "{query}");
        if want.is_empty() {
            assert!(page.contains("No studies match this search."), "{query}: no-match message");
        }
    }
    // The search stays in the form and in the clear link.
    let (_, page) = get(&c, &app, "/?q=garc%C3%ADa&modality=US").await;
    assert!(page.contains("value=\"garcía\""), "search words kept in the box");
    assert!(page.contains("<option value=\"US\" selected>"), "modality kept");
    assert!(page.contains("Clear search"));
}

#[tokio::test]
async fn pages_of_results_carry_counts_and_the_search() {
    let app = spawn_app().await;
    let c = staff(&app, app.account, "tech@clinic.example").await;
    let files: Vec<Vec<u8>> = (0..27)
        .map(|i| {
            let date = format!("202401{:02}", i + 1);
            Made { name: "PAGE^TEST", patient_id: "PG", accession: "A", date: &date, modality: "US", phone: None }.file().0
        })
        .collect();
    stow(&app, app.account, files).await;
    let (_, first) = get(&c, &app, "/?q=page").await;
    assert!(first.contains("1–25 of 27 studies"), "summary of page 1");
    assert!(first.contains("Page 1 of 2"));
    // Askama escapes `&` in attributes as `&#38;`.
    assert!(first.contains("href=\"/?q=page&#38;page=2\""), "next link keeps the search");
    let (_, second) = get(&c, &app, "/?q=page&page=2").await;
    assert!(second.contains("26–27 of 27 studies"), "summary of page 2");
    assert!(second.contains("href=\"/?q=page\""), "previous link");
    assert_eq!(second.matches("href=\"/studies/").count(), 2 * 2, "two rows (name and thumbnails link each)");
}

#[tokio::test]
async fn another_clinics_studies_never_appear() {
    let app = spawn_app().await;
    let ours = staff(&app, app.account, "tech@clinic.example").await;
    let other = app.store.create_account("Other clinic").await.unwrap().id;
    let theirs = staff(&app, other, "tech@other.example").await;
    let (mine, my_study) =
        Made { name: "GARCIA^ANA", patient_id: "1", accession: "A1", date: "20240101", modality: "US", phone: None }.file();
    let (not_mine, their_study) =
        Made { name: "GARCIA^ANA", patient_id: "1", accession: "A1", date: "20240101", modality: "US", phone: None }.file();
    stow(&app, app.account, vec![mine]).await;
    stow(&app, other, vec![not_mine]).await;

    for (client, visible, hidden) in [(&ours, &my_study, &their_study), (&theirs, &their_study, &my_study)] {
        for path in ["/", "/?q=garcia+ana", "/?q=a1", "/?modality=US"] {
            let (_, page) = get(client, &app, path).await;
            assert!(page.contains(&study_href(visible)), "{path}: own study listed");
            assert!(!page.contains(hidden.as_str()), "{path}: the other clinic's study is not");
        }
        let (status, page) = get(client, &app, &format!("/studies/{hidden}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "the other clinic's study view");
        assert!(page.contains("Study not found"));
        assert!(!page.contains("GARCIA"), "nothing about it leaks");
    }
}

#[tokio::test]
async fn study_view_shows_thumbnails_selection_panel_and_send_menu() {
    let app = spawn_app().await;
    let c = staff(&app, app.account, "tech@clinic.example").await;
    let cine = read(CINE);
    let (study, series, sop) = uids(&cine);
    stow(&app, app.account, vec![cine]).await;
    // A second instance of the same study, with a phone number typed on the device.
    let mut second = dicom_object::from_reader(&read(MR)[128..]).unwrap();
    let second_sop = new_uid();
    second.put_str(tags::STUDY_INSTANCE_UID, VR::UI, study.as_str());
    second.put_str(tags::SERIES_INSTANCE_UID, VR::UI, new_uid());
    second.put_str(tags::SOP_INSTANCE_UID, VR::UI, second_sop.as_str());
    second.put_str(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, "+34 600 123 456");
    second.update_meta(|m| m.media_storage_sop_instance_uid = second_sop.clone());
    let mut bytes = Vec::new();
    second.write_all(&mut bytes).unwrap();
    stow(&app, app.account, vec![bytes]).await;

    let (status, page) = get(&c, &app, &format!("/studies/{study}")).await;
    assert_eq!(status, StatusCode::OK);
    let base = format!("/dicomweb/studies/{study}/series/{series}/instances/{sop}");
    assert!(page.contains(&format!("<img src=\"{base}/thumbnail\"")), "thumbnail of the cine");
    assert!(page.contains(&format!("data-base=\"{base}\" data-frames=\"27\"")), "the viewer knows the frame count");
    assert!(page.contains("27 frames"), "cine badge");
    assert!(page.contains("loading=\"lazy\""));
    // The selection: checkboxes named `instances` inside the Send form.
    let send_form = between(&page, "<form id=\"send-form\"", "</form>");
    assert!(send_form.contains(&format!("action=\"/studies/{study}/send\"")));
    assert!(send_form.contains("name=\"csrf\""));
    for s in [&sop, &second_sop] {
        assert!(send_form.contains(&format!("type=\"checkbox\" name=\"instances\" value=\"{s}\"")), "checkbox for {s}");
    }
    assert!(send_form.contains("id=\"send-to-patient\""), "Send to patient button");
    assert!(send_form.contains(">Send to <"), "Send to menu");
    // The side panel: Info with patient, study and contacts; Shared, empty.
    assert!(page.contains("role=\"tab\" id=\"tab-info\" aria-selected=\"true\""));
    assert!(page.contains(">Shared</button>"));
    assert!(page.contains("Not shared yet"));
    assert!(page.contains("+34 600 123 456"), "contact read from DICOM");
    assert!(page.contains("2 images"), "image count");
    assert!(page.contains("<dialog id=\"viewer\""), "viewer");
    assert!(page.contains("study.js"), "the page's script");
    // Unknown study: a page that says so.
    let (status, page) = get(&c, &app, "/studies/1.2.3.4.5.6").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Study not found"));
    let (status, _) = get(&c, &app, &format!("/studies/{study},{}", "1.2")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a UID list is not a study");
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = spawn_app().await;
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/", "/?q=garcia", "/studies/1.2.3"] {
        let resp = anon.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert!(resp.status().is_redirection(), "{path}: {}", resp.status());
        assert!(resp.headers()["location"].to_str().unwrap().starts_with("/login"), "{path}");
    }
}

#[tokio::test]
async fn spanish_pages_format_dates_and_numbers_the_spanish_way() {
    let app = spawn_app().await;
    let c = staff(&app, app.account, "tech@clinic.example").await;
    let mr = read(MR);
    let (study, _, _) = uids(&mr);
    stow(&app, app.account, vec![mr]).await;
    let es = |path: String| {
        c.get(format!("{}{path}", app.base)).header("accept-language", "es-ES,es;q=0.9").send()
    };
    let page = es("/".into()).await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"es\">"));
    assert!(page.contains("Estudios"));
    assert!(page.contains("26/08/2004"), "dd/mm/yyyy");
    assert!(page.contains("Un estudio"), "plural form");
    assert!(page.contains(">Buscar</button>"));
    assert!(page.contains("Paciente, ID o n.º de acceso"));
    let page = es("/?q=nadie".into()).await.unwrap().text().await.unwrap();
    assert!(page.contains("Ningún estudio coincide con esta búsqueda."));
    let page = es(format!("/studies/{study}")).await.unwrap().text().await.unwrap();
    assert!(page.contains(">Compartido</button>"));
    assert!(page.contains("Todavía no se ha compartido"));
    assert!(page.contains("Enviar a paciente"));
    assert!(page.contains("ID del paciente"));
    // The language switch's cookie wins over the header.
    c.get(format!("{}/lang?to=en&next=/", app.base)).send().await.unwrap();
    let page = es("/".into()).await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">"));
    assert!(page.contains("Aug 26, 2004"));
}
