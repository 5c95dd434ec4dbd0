//! DICOMweb rendered resources and thumbnails, end to end: STOW corpus files,
//! then fetch JPEG/PNG renderings through the real router.

mod common;

use common::{TestApp, corpus, spawn_app};
use reqwest::StatusCode;

/// Ultrasound cine, 87 frames of 975 × 743, JPEG baseline YBR_FULL_422.
const CINE: &str = "ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm";
const CINE_PATH: &str = "/studies/1.2.276.0.26.1.1.1.2.2020.45.52293.1506048/series/1.2.276.0.26.1.1.1.2.2020.45.52293.6384450/instances/1.2.276.0.26.1.1.1.2.2020.45.52366.2551599.179568640";
/// Palette colour ultrasound, 800 × 600, RLE.
const PALETTE: &str = "ultrasound/us_palette_rle_philips_cx50.dcm";
const PALETTE_PATH: &str = "/studies/1.3.46.670589.14.1000.210.4.199999.20110525182825.1.0/series/1.3.46.670589.14.1000.210.3.199999.20110525182826.1.0/instances/1.3.46.670589.14.1000.210.2.199999.20110525185628.1.0";
const PDF: &str = "documents/encapsulated_pdf.dcm";
const PDF_PATH: &str = "/studies/1.2.276.0.7230010.3.1.2.2344313775.14992.1458058363.6979/series/1.2.276.0.7230010.3.1.3.1901948703.36080.1484835349.617/instances/1.2.276.0.7230010.3.1.4.1901948703.36080.1484835349.618";
/// Accepted by ingest, but its JPEG 2000 stream can't be decoded.
const BROKEN_J2K: &str = "invalid_and_edge/j2k_embedded_sequence_delimiter.dcm";
const BROKEN_J2K_PATH: &str = "/studies/1.3.6.1.4.1.5962.1.2.8.20040826185059.5457/series/1.3.6.1.4.1.5962.1.3.8.1.20040826185059.5457/instances/1.3.6.1.4.1.5962.1.1.8.1.3.20040826185059.5457";

const BOUNDARY: &str = "studylink-rendered-test";

struct Client {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Client {
    async fn new(app: &TestApp, account: studylink_model::AccountId) -> Client {
        let key = studylink_web::auth::create_api_key(app.store.as_ref(), account, "rendered-test").await.unwrap();
        Client { base: format!("{}/dicomweb", app.base), key, http: reqwest::Client::new() }
    }

    async fn stow(&self, files: &[&str]) {
        let mut body = Vec::new();
        for f in files {
            body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n").as_bytes());
            body.extend_from_slice(&std::fs::read(corpus().join(f)).unwrap());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let resp = self
            .http
            .post(format!("{}/studies", self.base))
            .bearer_auth(&self.key)
            .header("content-type", format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"))
            .header("accept", "application/dicom+json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.text().await);
    }

    async fn get(&self, path: &str, accept: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.key);
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        req.send().await.unwrap()
    }

    /// 200 with `content_type`; the body.
    async fn image(&self, path: &str, accept: Option<&str>, content_type: &str) -> Vec<u8> {
        let resp = self.get(path, accept).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}: {:?}", resp.text().await);
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        let cache = resp.headers()["cache-control"].to_str().unwrap().to_string();
        assert!(cache.starts_with("private"), "{path}: {cache}");
        resp.bytes().await.unwrap().to_vec()
    }
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    d.decode().expect("a decodable JPEG");
    let info = d.info().unwrap();
    (info.width as u32, info.height as u32)
}

fn png_size(bytes: &[u8]) -> (u32, u32, png::ColorType) {
    let mut r = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().expect("a PNG");
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).expect("a decodable PNG");
    (info.width, info.height, info.color_type)
}

async fn error_message(resp: reqwest::Response) -> String {
    resp.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn renders_frames_as_jpeg_and_png() {
    let app = spawn_app().await;
    let c = Client::new(&app, app.account).await;
    c.stow(&[CINE, PALETTE]).await;

    let first = c.image(&format!("{CINE_PATH}/rendered"), None, "image/jpeg").await;
    assert_eq!(jpeg_size(&first), (975, 743));
    let last = c.image(&format!("{CINE_PATH}/frames/87/rendered"), Some("image/png"), "image/png").await;
    assert_eq!(png_size(&last), (975, 743, png::ColorType::Rgb));
    let any = c.image(&format!("{CINE_PATH}/frames/2/rendered"), Some("image/*"), "image/jpeg").await;
    assert_ne!(any, first, "frame 2 is not frame 1");

    let fit = c.image(&format!("{CINE_PATH}/rendered?viewport=200,200"), Some("image/jpeg"), "image/jpeg").await;
    assert_eq!(jpeg_size(&fit), (200, 152));
    let low = c.image(&format!("{CINE_PATH}/rendered?quality=10"), None, "image/jpeg").await;
    let high = c.image(&format!("{CINE_PATH}/rendered?quality=95"), None, "image/jpeg").await;
    assert!(low.len() * 2 < high.len(), "quality 10: {} bytes, 95: {}", low.len(), high.len());

    let palette = c.image(&format!("{PALETTE_PATH}/rendered"), Some("image/png"), "image/png").await;
    assert_eq!(png_size(&palette), (800, 600, png::ColorType::Rgb));

    // Refusals.
    assert_eq!(c.get(&format!("{CINE_PATH}/rendered"), Some("image/gif")).await.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(c.get(&format!("{CINE_PATH}/frames/88/rendered"), None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get(&format!("{CINE_PATH}/frames/0/rendered"), None).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get(&format!("{CINE_PATH}/frames/1,2/rendered"), None).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get(&format!("{CINE_PATH}/rendered?quality=0"), None).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get(&format!("{CINE_PATH}/rendered?viewport=0,0,10,10,100,100"), None).await.status(), StatusCode::BAD_REQUEST);
    let unknown = CINE_PATH.replace("179568640", "179568641");
    assert_eq!(c.get(&format!("{unknown}/rendered"), None).await.status(), StatusCode::NOT_FOUND);
    let wrong_series = CINE_PATH.replace("6384450", "6384451");
    assert_eq!(c.get(&format!("{wrong_series}/rendered"), None).await.status(), StatusCode::NOT_FOUND);
}

/// Thumbnail files in the local blob store.
fn cached_thumbnails(app: &TestApp) -> Vec<std::path::PathBuf> {
    let root = app.dir.path().join("blobs").join("derived").join(app.account.0.to_string()).join("thumbs");
    let mut out = Vec::new();
    for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        out.extend(std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.path()));
    }
    out
}

#[tokio::test]
async fn thumbnails_are_small_and_cached() {
    let app = spawn_app().await;
    let c = Client::new(&app, app.account).await;
    c.stow(&[CINE]).await;
    assert!(cached_thumbnails(&app).is_empty());

    let thumb = c.image(&format!("{CINE_PATH}/thumbnail"), None, "image/jpeg").await;
    assert_eq!(jpeg_size(&thumb), (256, 195));
    let cached = cached_thumbnails(&app);
    assert_eq!(cached.len(), 1, "the thumbnail is stored");
    assert_eq!(std::fs::read(&cached[0]).unwrap(), thumb);

    // The second request is served from the blob store: swap the cached bytes
    // for a recognisable image and get exactly those back.
    let marker = c.image(&format!("{CINE_PATH}/rendered?viewport=64,64"), None, "image/jpeg").await;
    std::fs::write(&cached[0], &marker).unwrap();
    assert_eq!(c.image(&format!("{CINE_PATH}/thumbnail"), None, "image/jpeg").await, marker);
    // Study and series thumbnails are the first image instance's (cached too).
    let study = CINE_PATH.split("/series/").next().unwrap().to_string();
    let series = CINE_PATH.split("/instances/").next().unwrap().to_string();
    assert_eq!(c.image(&format!("{study}/thumbnail"), None, "image/jpeg").await, marker);
    assert_eq!(c.image(&format!("{series}/thumbnail"), Some("image/jpeg"), "image/jpeg").await, marker);

    // Missing again: regenerated.
    std::fs::remove_file(&cached[0]).unwrap();
    assert_eq!(c.image(&format!("{CINE_PATH}/thumbnail"), None, "image/jpeg").await, thumb);
    assert!(cached[0].exists());

    // PNG and frame thumbnails are made on the fly, same size rules.
    let png = c.image(&format!("{CINE_PATH}/thumbnail"), Some("image/png"), "image/png").await;
    assert_eq!(png_size(&png), (256, 195, png::ColorType::Rgb));
    let frame = c.image(&format!("{CINE_PATH}/frames/40/thumbnail"), None, "image/jpeg").await;
    assert_eq!(jpeg_size(&frame), (256, 195));
    assert_eq!(cached_thumbnails(&app).len(), 1);
    assert_eq!(c.get(&format!("{CINE_PATH}/thumbnail"), Some("image/gif")).await.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn documents_broken_pixels_and_other_accounts() {
    let app = spawn_app().await;
    let c = Client::new(&app, app.account).await;
    c.stow(&[PDF, CINE, BROKEN_J2K]).await;

    let resp = c.get(&format!("{PDF_PATH}/rendered"), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    assert!(error_message(resp).await.contains("no pixel data"));
    let resp = c.get(&format!("{PDF_PATH}/thumbnail"), None).await;
    assert_eq!(resp.status(), StatusCode::NOT_ACCEPTABLE);
    let pdf_study = PDF_PATH.split("/series/").next().unwrap();
    assert_eq!(c.get(&format!("{pdf_study}/thumbnail"), None).await.status(), StatusCode::NOT_ACCEPTABLE);

    let resp = c.get(&format!("{BROKEN_J2K_PATH}/rendered"), None).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_message(resp).await.contains("can't be rendered"));

    // Another clinic sees nothing, and nothing is cached on its behalf.
    let other = app.store.create_account("Other clinic").await.unwrap();
    let theirs = Client::new(&app, other.id).await;
    for path in [format!("{CINE_PATH}/rendered"), format!("{CINE_PATH}/frames/1/rendered"), format!("{CINE_PATH}/thumbnail")] {
        assert_eq!(theirs.get(&path, None).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let study = CINE_PATH.split("/series/").next().unwrap();
    assert_eq!(theirs.get(&format!("{study}/thumbnail"), None).await.status(), StatusCode::NOT_FOUND);
    assert!(!app.dir.path().join("blobs/derived").join(other.id.0.to_string()).exists());

    // No credentials: 401.
    let anon = reqwest::get(format!("{}/dicomweb{CINE_PATH}/rendered", app.base)).await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}

/// The server reads just the header and one frame from local blobs (whole
/// objects otherwise); either way the image is what rendering the whole
/// file gives.
#[tokio::test]
async fn served_frames_match_rendering_the_whole_file() {
    use std::io::{Seek, SeekFrom};
    let cases = [
        ("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm", 27), // native multi-frame
        ("ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm", 20),            // JPEG, one fragment per frame
        ("other_modalities/xa_cine_jpegbaseline_96f.dcm", 50),              // JPEG frames over several fragments
        ("ultrasound/us_cine_palette_rle_10f_echo.dcm", 10),                // RLE palette
        ("ultrasound/us_cine_palette_jpegls_10f_echo.dcm", 3),              // JPEG-LS
        ("mr/mr_enhanced_mf_10f.dcm", 7),                                   // per-frame functional groups
        ("mr/mr_small_bigendian.dcm", 1),                                   // can't be cut: read whole
        ("ct/ct_deflated_evrle.dcm", 1),                                    // can't be cut: read whole
        ("ultrasound/us_ybr422_evrle_esaote.dcm", 1),                       // native YBR_FULL_422
        ("ultrasound/us_jpegls_mono_bia_yes_philips_iu22.dcm", 1),          // header alone comes out short: read whole
    ];
    let app = spawn_app().await;
    let c = Client::new(&app, app.account).await;
    c.stow(&cases.map(|c| c.0)).await;
    for (rel, frame) in cases {
        let path = corpus().join(rel);
        let parsed = studylink_ingest::parse_file(&path, &[]).unwrap();
        let mut file = std::fs::File::open(&path).unwrap();
        file.seek(SeekFrom::Start(parsed.dataset_offset)).unwrap();
        let i = &parsed.meta.instance;
        let obj = studylink_imaging::read_dataset(std::io::BufReader::new(file), &i.transfer_syntax, &i.sop_class_uid, &i.sop_uid).unwrap();
        let req = studylink_imaging::RenderRequest::new(frame - 1, studylink_imaging::Format::Png);
        let expected = studylink_imaging::render(&obj, &req).unwrap().bytes;
        let url = format!("/studies/{}/series/{}/instances/{}/frames/{frame}/rendered", parsed.meta.study.study_uid, parsed.meta.series.series_uid, i.sop_uid);
        let got = c.image(&url, Some("image/png"), "image/png").await;
        assert!(got == expected, "{rel} frame {frame}: served image differs");
    }
}
