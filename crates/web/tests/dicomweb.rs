//! DICOMweb end to end: STOW-RS, QIDO-RS and WADO-RS against the real router,
//! with files from the shared corpus.

mod common;

use common::{TestApp, corpus, spawn_app, spawn_app_with};
use reqwest::StatusCode;
use serde_json::Value;
use studylink_web::WebConfig;

const MR: &str = "mr/mr_small_evrle.dcm"; // CompressedSamples^MR1, 4MR1, 20040826, MR
const CT: &str = "ct/ct_small_evrle_signed16.dcm"; // CompressedSamples^CT1, 1CT1, 20040119, CT
const DX: &str = "cr_dx_mg/dx_mono1_8bit_small.dcm"; // Dog^AVeryGood, 123456, 20200125, DX, accession 16387a
const MR_STUDY: &str = "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457";
const MR_SERIES: &str = "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457";
const MR_SOP: &str = "1.3.6.1.4.1.5962.1.1.4.1.1.20040826185059.5457";
/// One CT series stored in three transfer syntaxes (J2K lossy, JPEG lossless, JPEG-LS).
const CT1_SERIES_FILES: [&str; 3] =
    ["ct/ct_wg04_ct1_j2k_lossy.dcm", "ct/ct_wg04_ct1_jpeg_lossless_sv1.dcm", "ct/ct_wg04_ct1_jpegls_lossless.dcm"];
const CT1_STUDY: &str = "1.3.6.1.4.1.5962.1.2.1.20040826185059.5457";
const CT1_SERIES: &str = "1.3.6.1.4.1.5962.1.3.1.1.20040826185059.5457";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

async fn client(app: &TestApp) -> Client {
    let key = studylink_web::auth::create_api_key(app.store.as_ref(), app.account, "dicomweb-test").await.unwrap();
    Client { base: format!("{}/dicomweb", app.base), key, http: reqwest::Client::new() }
}

const BOUNDARY: &str = "studylink-test-boundary-7f3a";

fn multipart(files: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for f in files {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
        body.extend_from_slice(f);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn stow_to(&self, path: &str, files: &[&str]) -> reqwest::Response {
        let files: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
        self.http
            .post(self.url(path))
            .bearer_auth(&self.key)
            .header("content-type", format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"))
            .header("accept", "application/dicom+json")
            .body(multipart(&files))
            .send()
            .await
            .unwrap()
    }

    async fn stow(&self, files: &[&str]) -> reqwest::Response {
        self.stow_to("/studies", files).await
    }

    async fn get(&self, path: &str, accept: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(&self.key).header("accept", accept).send().await.unwrap()
    }

    async fn qido(&self, path: &str) -> Vec<Value> {
        let resp = self.get(path, "application/dicom+json").await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}: {:?}", resp.text().await);
        assert_eq!(resp.headers()["content-type"], "application/dicom+json");
        resp.json::<Vec<Value>>().await.unwrap()
    }
}

/// The string values of attribute `tag` in a DICOM JSON object.
fn strs(obj: &Value, tag: &str) -> Vec<String> {
    obj[tag]["Value"].as_array().map(|v| v.iter().map(|x| x.as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
}

fn first(obj: &Value, tag: &str) -> String {
    strs(obj, tag).into_iter().next().unwrap_or_default()
}

/// Splits a multipart body into (part headers, part body).
fn parts(resp_content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = resp_content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("boundary")
        .trim_matches('"');
    let delim = format!("--{boundary}").into_bytes();
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let mut out = Vec::new();
    let mut pos = find(body, &delim).expect("first boundary") + delim.len();
    while !body[pos..].starts_with(b"--") {
        pos += 2; // CRLF after the boundary
        let head_len = find(&body[pos..], b"\r\n\r\n").expect("part headers");
        let headers = String::from_utf8_lossy(&body[pos..pos + head_len]).to_string();
        let start = pos + head_len + 4;
        let mut end_marker = b"\r\n".to_vec();
        end_marker.extend_from_slice(&delim);
        let len = find(&body[start..], &end_marker).expect("closing boundary");
        out.push((headers, body[start..start + len].to_vec()));
        pos = start + len + end_marker.len();
    }
    out
}

#[tokio::test]
async fn stow_qido_wado_round_trip() {
    let app = spawn_app().await;
    let c = client(&app).await;

    // STOW three instances of three studies in one request.
    let resp = c.stow(&[MR, CT, DX]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/dicom+json");
    let body: Value = resp.json().await.unwrap();
    let refs = body["00081199"]["Value"].as_array().unwrap();
    assert_eq!(refs.len(), 3);
    assert_eq!(first(&refs[0], "00081155"), MR_SOP);
    assert_eq!(first(&refs[0], "00081150"), "1.2.840.10008.5.1.4.1.1.4");
    assert_eq!(first(&refs[0], "00081190"), format!("{}/studies/{MR_STUDY}/series/{MR_SERIES}/instances/{MR_SOP}", c.base));
    assert!(body.get("00081198").is_none());
    // Three studies: Retrieve URL is present but empty (Type 2).
    assert_eq!(body["00081190"], serde_json::json!({"vr": "UR"}));

    // QIDO studies: PatientName wildcard, case-insensitive.
    let found = c.qido("/studies?PatientName=compressedsamples*").await;
    assert_eq!(found.len(), 2);
    let found = c.qido("/studies?00100010=COMPRESSEDSAMPLES%5EMR1").await;
    assert_eq!(found.len(), 1);
    let found = c.qido("/studies?PatientID=4MR1").await;
    assert_eq!(found.len(), 1);
    let mr = &found[0];
    assert_eq!(mr["00100010"]["Value"][0]["Alphabetic"], "CompressedSamples^MR1");
    assert_eq!(first(mr, "0020000D"), MR_STUDY);
    assert_eq!(first(mr, "00080020"), "20040826");
    assert_eq!(strs(mr, "00080061"), vec!["MR"]);
    assert_eq!(mr["00201206"]["Value"][0], 1);
    assert_eq!(mr["00201208"]["Value"][0], 1);
    assert_eq!(first(mr, "00081190"), format!("{}/studies/{MR_STUDY}", c.base));
    assert_eq!(first(mr, "00080005"), "ISO_IR 192");
    assert_eq!(c.qido("/studies?AccessionNumber=16387a").await.len(), 1);
    assert_eq!(c.qido("/studies?PatientID=nobody").await.len(), 0);

    // Dates: single, closed, open-ended ranges.
    assert_eq!(c.qido("/studies?StudyDate=20040826").await.len(), 1);
    assert_eq!(c.qido("/studies?StudyDate=20040101-20041231").await.len(), 2);
    assert_eq!(c.qido("/studies?StudyDate=20200101-").await.len(), 1);
    assert_eq!(c.qido("/studies?StudyDate=-20040120").await.len(), 1);

    // Modalities, lists of them, UID lists.
    assert_eq!(c.qido("/studies?ModalitiesInStudy=CT").await.len(), 1);
    assert_eq!(c.qido("/studies?ModalitiesInStudy=CT,MR").await.len(), 2);
    assert_eq!(c.qido(&format!("/studies?StudyInstanceUID={MR_STUDY},1.2.3")).await.len(), 1);

    // Paging.
    let all = c.qido("/studies").await;
    assert_eq!(all.len(), 3);
    let p1 = c.qido("/studies?limit=2").await;
    let p2 = c.qido("/studies?limit=2&offset=2").await;
    assert_eq!((p1.len(), p2.len()), (2, 1));
    let mut uids: Vec<String> = p1.iter().chain(&p2).map(|s| first(s, "0020000D")).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 3);
    assert_eq!(c.qido("/studies?offset=3").await.len(), 0);
    assert_eq!(c.qido("/studies?ModalitiesInStudy=CT,MR,DX&limit=1&offset=2").await.len(), 1);

    // Series and instance levels.
    let series = c.qido(&format!("/studies/{MR_STUDY}/series")).await;
    assert_eq!(series.len(), 1);
    assert_eq!(first(&series[0], "0020000E"), MR_SERIES);
    assert_eq!(first(&series[0], "00080060"), "MR");
    assert_eq!(series[0]["00201209"]["Value"][0], 1);
    assert_eq!(c.qido("/series?Modality=DX").await.len(), 1);
    let ct_series = c.qido("/series?PatientID=1CT1").await;
    assert_eq!(ct_series.len(), 1);
    assert_eq!(first(&ct_series[0], "00100020"), "1CT1", "series across studies carry study attributes");
    assert_eq!(c.qido(&format!("/studies/{MR_STUDY}/series?Modality=CT")).await.len(), 0);

    let inst = c.qido(&format!("/studies/{MR_STUDY}/series/{MR_SERIES}/instances")).await;
    assert_eq!(inst.len(), 1);
    assert_eq!(first(&inst[0], "00080018"), MR_SOP);
    assert_eq!(first(&inst[0], "00083002"), "1.2.840.10008.1.2.1");
    assert_eq!(inst[0]["00280010"]["Value"][0], 64);
    assert_eq!(c.qido(&format!("/studies/{MR_STUDY}/instances")).await.len(), 1);
    assert_eq!(c.qido(&format!("/instances?SOPInstanceUID={MR_SOP}")).await.len(), 1);
    assert_eq!(c.qido("/instances?Modality=CT").await.len(), 1);
    let by_class = c.qido("/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.4&PatientName=*MR1").await;
    assert_eq!(by_class.len(), 1);
    assert_eq!(first(&by_class[0], "00080060"), "MR");

    // Refusals.
    for (query, needle) in [
        ("/studies?PatientNam=x", "PatientNam"),
        ("/studies?StudyDescription=x", "StudyDescription"),
        ("/studies?Modality=CT", "ModalitiesInStudy"),
        ("/studies?StudyDate=2004", "StudyDate"),
        ("/studies?limit=abc", "limit"),
    ] {
        let resp = c.get(query, "application/dicom+json").await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        let text = resp.text().await.unwrap();
        assert!(text.contains(needle), "{query}: {text}");
    }
    assert_eq!(c.get("/studies", "application/dicom+xml").await.status(), StatusCode::NOT_ACCEPTABLE);

    // WADO-RS: the instance comes back byte for byte.
    let path = format!("/studies/{MR_STUDY}/series/{MR_SERIES}/instances/{MR_SOP}");
    let resp = c.get(&path, "multipart/related; type=\"application/dicom\"; transfer-syntax=*").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("multipart/related; type=\"application/dicom\""), "{ct}");
    let got = parts(&ct, &resp.bytes().await.unwrap());
    assert_eq!(got.len(), 1);
    assert!(got[0].0.contains("application/dicom; transfer-syntax=1.2.840.10008.1.2.1"), "{}", got[0].0);
    assert!(got[0].1 == read(MR), "retrieved instance differs from the uploaded file");

    // Metadata: the header as DICOM JSON, without pixel data.
    let resp = c.get(&format!("{path}/metadata"), "application/dicom+json").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let meta: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0]["00100010"]["Value"][0]["Alphabetic"], "CompressedSamples^MR1");
    assert_eq!(first(&meta[0], "00080018"), MR_SOP);
    assert_eq!(meta[0]["00280010"]["Value"][0], 64);
    assert!(meta[0].get("7FE00010").is_none());
    let study_meta: Vec<Value> = c.get(&format!("/studies/{MR_STUDY}/metadata"), "*/*").await.json().await.unwrap();
    assert_eq!(study_meta.len(), 1);

    // Misses.
    for missing in [
        "/studies/1.2.3".to_string(),
        "/studies/1.2.3/metadata".to_string(),
        format!("/studies/{MR_STUDY}/series/1.2.3"),
        format!("/studies/{MR_STUDY}/series/{MR_SERIES}/instances/1.2.3"),
        format!("/studies/{MR_STUDY}/series/{MR_SERIES}/instances/1.2.3/metadata"),
        // The instance exists, but not under this study.
        format!("/studies/1.2.3/series/{MR_SERIES}/instances/{MR_SOP}"),
    ] {
        assert_eq!(c.get(&missing, "*/*").await.status(), StatusCode::NOT_FOUND, "{missing}");
    }
    assert_eq!(c.get("/studies/not-a-uid", "*/*").await.status(), StatusCode::NOT_FOUND);

    // Stores and reads are audited (a repeated read once), with no patient data.
    assert_eq!(c.get(&path, "*/*").await.status(), StatusCode::OK);
    // Read audits are written in the background; give them a moment.
    let mut events = Vec::new();
    for _ in 0..100 {
        events = app.store.audit_events(Some(app.account), 100).await.unwrap();
        if events.len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let count = |action: &str| events.iter().filter(|e| e.event.action == action).count();
    assert_eq!(count("dicomweb.stow"), 1);
    assert_eq!(count("dicomweb.retrieve"), 1);
    assert_eq!(count("dicomweb.metadata"), 2, "instance and study metadata");
    for e in &events {
        assert!(!e.event.detail.contains("CompressedSamples") && !e.event.detail.contains("4MR1"), "{:?}", e.event);
    }
    assert_eq!(c.get("/studies?StudyInstanceUID=1.2.*", "*/*").await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn stow_reports_failures_per_instance() {
    let app = spawn_app().await;
    let c = client(&app).await;
    let resp = c.stow(&[MR, "invalid_and_edge/not_dicom_bad.dcm", DX, "invalid_and_edge/truncated_pixel_data.dcm"]).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let warnings: Vec<String> = resp.headers().get_all("warning").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("299 studylink \"part 2: "), "{warnings:?}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["00081199"]["Value"].as_array().unwrap().len(), 2);
    let failed = body["00081198"]["Value"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    for f in failed {
        assert_eq!(f["00081197"]["Value"][0], 0xC000);
        assert!(!first(f, "00000902").is_empty(), "failure without a reason: {f}");
    }
    // The truncated file has a readable file meta group: its UIDs are reported.
    assert_eq!(first(&failed[1], "00081155"), MR_SOP);
    assert!(first(&failed[1], "00000902").contains("truncated"), "{}", failed[1]);
    // The good ones are stored.
    assert_eq!(c.qido("/studies").await.len(), 2);

    // Nothing storable: 409.
    let resp = c.stow(&["invalid_and_edge/not_dicom_bad.dcm"]).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("00081199").is_none());
    assert_eq!(body["00081198"]["Value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn stow_is_idempotent_and_checks_the_study_in_the_url() {
    let app = spawn_app().await;
    let c = client(&app).await;
    // Two of these share one SOP Instance UID (same image, different encodings).
    let sc = ["secondary_capture/sc_rgb_rle.dcm", "secondary_capture/sc_rgb_rle_16bit.dcm", "secondary_capture/sc_rgb_jpeg_baseline_dcmtk.dcm"];
    let resp = c.stow(&sc).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["00081199"]["Value"].as_array().unwrap().len(), 3);
    // One study, so the Retrieve URL names it.
    assert!(first(&body, "00081190").contains("/studies/1.2.826.0.1.3680043.8.498.12406831542731051035295345080039845114"));
    assert_eq!(c.stow(&sc).await.status(), StatusCode::OK, "a resend succeeds");
    let studies = c.qido("/studies").await;
    assert_eq!(studies.len(), 1);
    assert_eq!(studies[0]["00201208"]["Value"][0], 2);

    // POST /studies/{study}: an instance of another study is refused, and not stored.
    let resp = c.stow_to(&format!("/studies/{CT1_STUDY}"), &[MR]).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    let failed = &body["00081198"]["Value"][0];
    assert_eq!(failed["00081197"]["Value"][0], 0xA900);
    assert_eq!(first(failed, "00081155"), MR_SOP);
    assert_eq!(c.qido(&format!("/studies?StudyInstanceUID={MR_STUDY}")).await.len(), 0);
    // … and one of that study is taken.
    let resp = c.stow_to(&format!("/studies/{CT1_STUDY}"), &[CT1_SERIES_FILES[0]]).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // A single application/dicom body, and the XML response some clients ask for.
    let resp = c
        .http
        .post(c.url("/studies"))
        .bearer_auth(&c.key)
        .header("content-type", "application/dicom")
        .header("accept", "application/dicom+xml")
        .body(read(DX))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/dicom+xml");
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<NativeDicomModel") && xml.contains("keyword=\"ReferencedSOPSequence\""), "{xml}");
}

#[tokio::test]
async fn stow_refusals() {
    let app = spawn_app_with(WebConfig { max_upload_bytes: 20_000, ..WebConfig::default() }).await;
    let c = client(&app).await;
    let body = multipart(&[read(MR)]);

    // No credentials: 401, for every kind of request.
    let resp = c
        .http
        .post(c.url("/studies"))
        .header("content-type", format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.http.get(c.url("/studies")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.http.get(c.url(&format!("/studies/{MR_STUDY}"))).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let resp = c.http.get(c.url("/studies")).bearer_auth("not-a-key").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    let post = |ct: &str, body: Vec<u8>| {
        c.http.post(c.url("/studies")).bearer_auth(&c.key).header("content-type", ct.to_string()).body(body).send()
    };
    assert_eq!(post("text/plain", body.clone()).await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let json_parts = format!("multipart/related; type=\"application/dicom+json\"; boundary={BOUNDARY}");
    assert_eq!(post(&json_parts, body.clone()).await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Unquoted type, no type at all: accepted.
    let unquoted = format!("multipart/related; type=application/dicom; boundary={BOUNDARY}");
    assert_eq!(post(&unquoted, body.clone()).await.unwrap().status(), StatusCode::OK);
    let untyped = format!("multipart/related; boundary={BOUNDARY}");
    assert_eq!(post(&untyped, body.clone()).await.unwrap().status(), StatusCode::OK);
    // Malformed multipart.
    let resp = post(&untyped, b"this is not multipart".to_vec()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // A body over max_upload_bytes: 413.
    let big = multipart(&[read(MR), read(MR), read(MR)]);
    assert_eq!(post(&untyped, big).await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn retrieve_series_and_study_and_negotiate() {
    let app = spawn_app().await;
    let c = client(&app).await;
    assert_eq!(c.stow(&CT1_SERIES_FILES).await.status(), StatusCode::OK);
    let originals: Vec<Vec<u8>> = CT1_SERIES_FILES.iter().map(|f| read(f)).collect();

    for path in [format!("/studies/{CT1_STUDY}/series/{CT1_SERIES}"), format!("/studies/{CT1_STUDY}")] {
        let resp = c.get(&path, "multipart/related; type=\"application/dicom\"").await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let got = parts(&ct, &resp.bytes().await.unwrap());
        assert_eq!(got.len(), 3, "{path}");
        for original in &originals {
            assert!(got.iter().any(|(_, b)| b == original), "{path}: a stored file is missing or altered");
        }
    }
    // */* works too.
    assert_eq!(c.get(&format!("/studies/{CT1_STUDY}"), "*/*").await.status(), StatusCode::OK);
    // A transfer syntax only some instances have: no transcoding, so 406.
    let jpeg_lossless = "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.70";
    let resp = c.get(&format!("/studies/{CT1_STUDY}"), jpeg_lossless).await;
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    assert!(resp.text().await.unwrap().contains("transcode"));
    assert_eq!(c.get(&format!("/studies/{CT1_STUDY}"), "application/zip").await.status(), StatusCode::NOT_ACCEPTABLE);

    // The instance stored as JPEG lossless, asked for in that syntax; and as a bare body.
    let inst = c.qido(&format!("/studies/{CT1_STUDY}/series/{CT1_SERIES}/instances?limit=10")).await;
    let lossless = inst.iter().find(|i| first(i, "00083002") == "1.2.840.10008.1.2.4.70").expect("JPEG lossless instance");
    let path = format!("/studies/{CT1_STUDY}/series/{CT1_SERIES}/instances/{}", first(lossless, "00080018"));
    assert_eq!(c.get(&path, jpeg_lossless).await.status(), StatusCode::OK);
    let resp = c.get(&path, "application/dicom").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/dicom; transfer-syntax=1.2.840.10008.1.2.4.70"));
    assert!(resp.bytes().await.unwrap() == originals[1]);

    // Series metadata: one object per instance, no pixel data.
    let meta: Vec<Value> = c.get(&format!("/studies/{CT1_STUDY}/series/{CT1_SERIES}/metadata"), "application/json").await.json().await.unwrap();
    assert_eq!(meta.len(), 3);
    assert!(meta.iter().all(|m| m.get("7FE00010").is_none() && first(m, "00080060") == "CT"));
}

#[tokio::test]
async fn metadata_bulk_data_and_account_scope() {
    let app = spawn_app().await;
    let c = client(&app).await;
    assert_eq!(c.stow(&["documents/encapsulated_pdf.dcm"]).await.status(), StatusCode::OK);
    let inst = c.qido("/instances").await;
    assert_eq!(inst.len(), 1);
    let url = first(&inst[0], "00081190");
    let meta: Vec<Value> = c.http.get(format!("{url}/metadata")).bearer_auth(&c.key).send().await.unwrap().json().await.unwrap();
    let doc = &meta[0]["00420011"];
    assert_eq!(doc["vr"], "OB");
    let bulk = doc["BulkDataURI"].as_str().expect("the PDF is bulk data").to_string();
    assert_eq!(bulk, format!("{url}/bulkdata/00420011"));
    let resp = c.http.get(&bulk).bearer_auth(&c.key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let got = parts(&ct, &resp.bytes().await.unwrap());
    assert!(got[0].1.starts_with(b"%PDF"));
    let resp = c.http.get(format!("{url}/bulkdata/00100010")).bearer_auth(&c.key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND, "not bulk data");

    // Another clinic sees none of it.
    let other = app.store.create_account("Other clinic").await.unwrap();
    let key = studylink_web::auth::create_api_key(app.store.as_ref(), other.id, "other").await.unwrap();
    let theirs = Client { base: c.base.clone(), key, http: reqwest::Client::new() };
    assert_eq!(theirs.qido("/studies").await.len(), 0);
    assert_eq!(theirs.qido("/instances").await.len(), 0);
    let resp = theirs.http.get(format!("{url}/metadata")).bearer_auth(&theirs.key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let resp = theirs.http.get(&url).bearer_auth(&theirs.key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

/// The value of native Pixel Data (explicit VR little endian, OW) in a file.
fn native_pixels(file: &[u8]) -> &[u8] {
    let header = [0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0];
    let at = file.windows(8).position(|w| w == header).expect("native pixel data") + 8;
    let len = u32::from_le_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    &file[at + 4..at + 4 + len]
}

#[tokio::test]
async fn frames_as_stored() {
    let app = spawn_app().await;
    let c = client(&app).await;
    let files = [
        MR,
        "other_modalities/nm_mf_13f_heart.dcm",
        "ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm",
        "ultrasound/us_palette_rle_2frame_philips_cx50.dcm",
        "ultrasound/us_rgb_bigendian_epicard.dcm",
        "documents/encapsulated_pdf.dcm",
    ];
    assert_eq!(c.stow(&files).await.status(), StatusCode::OK);
    let url_of = async |patient_id: &str| {
        let found = c.qido(&format!("/instances?PatientID={patient_id}")).await;
        assert_eq!(found.len(), 1, "{patient_id}");
        first(&found[0], "00081190").replace(&c.base, "")
    };
    let frames = async |path: String, accept: &str| {
        let resp = c.get(&path, accept).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        (ct.clone(), parts(&ct, &resp.bytes().await.unwrap()))
    };
    let any = "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*";

    // Native, single frame: the pixel data is the end of the file.
    let mr = url_of("4MR1").await;
    let (ct, got) = frames(format!("{mr}/frames/1"), any).await;
    assert!(ct.starts_with("multipart/related; type=\"application/octet-stream\""), "{ct}");
    assert_eq!(got.len(), 1);
    assert!(got[0].0.contains("transfer-syntax=1.2.840.10008.1.2.1"), "{}", got[0].0);
    assert!(got[0].1 == native_pixels(&read(MR)));

    // Native, 13 frames of 64×64×16 bits, asked out of order.
    let nm_file = read("other_modalities/nm_mf_13f_heart.dcm");
    let pixels = native_pixels(&nm_file);
    assert_eq!(pixels.len(), 13 * 8192);
    let found = c.qido("/instances?SOPClassUID=1.2.840.10008.5.1.4.1.1.20").await;
    let nm = first(&found[0], "00081190").replace(&c.base, "");
    let (_, got) = frames(format!("{nm}/frames/13,2"), "*/*").await;
    assert_eq!(got.len(), 2);
    assert!(got[0].1 == pixels[12 * 8192..]);
    assert!(got[1].1 == pixels[8192..2 * 8192]);

    // JPEG baseline cine: one fragment per frame, sent as image/jpeg.
    let echo = url_of("HP_EXAMPLE").await;
    let (ct, got) = frames(format!("{echo}/frames/1,34"), "multipart/related; type=\"image/jpeg\"").await;
    assert!(ct.starts_with("multipart/related; type=\"image/jpeg\""), "{ct}");
    assert_eq!(got.len(), 2);
    for (headers, data) in &got {
        assert!(headers.contains("image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50"), "{headers}");
        assert_eq!(&data[..2], &[0xFF, 0xD8], "a JPEG starts with SOI");
    }
    assert_eq!(c.get(&format!("{echo}/frames/35"), any).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get(&format!("{echo}/frames/0"), any).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get(&format!("{echo}/frames/1"), "multipart/related; type=\"image/jls\"").await.status(), StatusCode::NOT_ACCEPTABLE);

    // RLE: two frames, each an RLE header (segment count 1 for 8-bit palette) + data.
    let rle = url_of("11-05-25-142825").await;
    let (_, got) = frames(format!("{rle}/frames/2"), any).await;
    assert!(got[0].0.contains("application/octet-stream; transfer-syntax=1.2.840.10008.1.2.5"), "{}", got[0].0);
    assert_eq!(u32::from_le_bytes(got[0].1[..4].try_into().unwrap()), 1);

    // Big endian storage can't be cut without transcoding; documents have no frames.
    let found = c.qido("/studies?PatientName=Anonymized&ModalitiesInStudy=US").await;
    let big_endian = c.qido(&format!("/studies/{}/instances", first(&found[0], "0020000D"))).await;
    let be = first(&big_endian[0], "00081190").replace(&c.base, "");
    assert_eq!(c.get(&format!("{be}/frames/1"), any).await.status(), StatusCode::NOT_ACCEPTABLE);
    let pdf = url_of("3456").await;
    assert_eq!(c.get(&format!("{pdf}/frames/1"), any).await.status(), StatusCode::NOT_FOUND);
}
