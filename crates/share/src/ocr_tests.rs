//! What a patient's phone shows, read back with OCR (tesseract): no burned-in
//! name, ID, birth date, accession or institution may survive in the shared
//! JPEG or in any sampled frame of the shared MP4. Each file is first read
//! as it arrived, and its identifying text must be found there: that proves
//! the OCR can see what the check looks for.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use studylink_deid::{Deidentifier, Profile, ShareKeys};
use studylink_imaging::{Format, RenderRequest, render};

use crate::object::tests::corpus;
use crate::object::{ObjectOutcome, View, check_text, open, prepare, video};

/// Words of institution names too common to mean anything on an image
/// ("General" is also an ultrasound preset name).
const GENERIC: &[&str] = &[
    "GENERAL", "HOSPITAL", "CLINIC", "MEDICAL", "CENTER", "CENTRE", "CARE", "HEALTH", "HEALTHCARE", "SURGICAL", "THE",
    "AND", "MED", "CTR", "NONE", "INFO",
];

/// `name` (ffmpeg or tesseract), checked once per test process.
fn tool(name: &str) -> Command {
    static PRESENT: OnceLock<bool> = OnceLock::new();
    let present = *PRESENT.get_or_init(|| {
        let ok = |cmd: &str, flag: &str| Command::new(cmd).arg(flag).output().is_ok_and(|o| o.status.success());
        ok("ffmpeg", "-version") && ok("tesseract", "--version")
    });
    assert!(present, "ffmpeg and tesseract are needed for the OCR test: apt-get install tesseract-ocr ffmpeg (scripts/test installs both)");
    Command::new(name)
}

fn text(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.to_string())
        .unwrap_or_default()
}

fn normalise(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

/// The values that identify the patient, as OCR would spell them once
/// punctuation and spaces are dropped.
fn identifying(obj: &DefaultDicomObject) -> Vec<String> {
    let mut out = Vec::new();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .map(normalise)
            .filter(|w| w.len() >= 3 && !GENERIC.contains(&w.as_str()))
            .collect()
    };
    for tag in [tags::PATIENT_NAME, tags::REFERRING_PHYSICIAN_NAME, tags::INSTITUTION_NAME] {
        out.extend(words(&text(obj, tag)));
    }
    for tag in [tags::PATIENT_ID, tags::ACCESSION_NUMBER] {
        let id = normalise(&text(obj, tag));
        if id.len() >= 4 && !GENERIC.contains(&id.as_str()) {
            out.push(id);
        }
    }
    let dob = normalise(&text(obj, tags::PATIENT_BIRTH_DATE));
    if dob.len() == 8 {
        let (y, m, d) = (&dob[..4], &dob[4..6], &dob[6..]);
        out.extend([dob.clone(), format!("{m}{d}{y}"), format!("{d}{m}{y}")]);
    }
    out.sort();
    out.dedup();
    out
}

/// Everything tesseract reads in an image, tried as it is and as 2× grey
/// negative (light text on a coloured band reads better dark on light), each
/// as a page and as sparse text.
fn ocr(image: &Path) -> String {
    let dir = image.parent().unwrap();
    let negative = dir.join(format!("{}-neg.png", image.file_stem().unwrap().to_string_lossy()));
    let st = tool("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(image)
        .args(["-vf", "format=gray,negate,scale=iw*2:ih*2:flags=bicubic"])
        .arg(&negative)
        .status()
        .unwrap();
    assert!(st.success(), "ffmpeg could not make the negative of {}", image.display());
    let mut all = String::new();
    for img in [image, negative.as_path()] {
        for psm in ["3", "6", "11"] {
            let out = tool("tesseract").arg(img).arg("-").args(["--psm", psm]).output().unwrap();
            assert!(out.status.success(), "tesseract failed on {}", img.display());
            all.push_str(&String::from_utf8_lossy(&out.stdout));
            all.push('\n');
        }
    }
    normalise(&all)
}

fn hits(ocr: &str, values: &[String]) -> Vec<String> {
    values.iter().filter(|v| ocr.contains(v.as_str())).cloned().collect()
}

/// Frames 0, the middle one and the last of an MP4, as PNG files.
fn mp4_frames(mp4: &[u8], frames: i32, dir: &Path) -> Vec<std::path::PathBuf> {
    let file = dir.join("shared.mp4");
    std::fs::write(&file, mp4).unwrap();
    [0, frames / 2, frames - 1]
        .into_iter()
        .map(|n| {
            let png = dir.join(format!("frame-{n}.png"));
            let st = tool("ffmpeg")
                .args(["-loglevel", "error", "-y", "-i"])
                .arg(&file)
                .args(["-vf", &format!("select=eq(n\\,{n})"), "-vsync", "0", "-frames:v", "1"])
                .arg(&png)
                .status()
                .unwrap();
            assert!(st.success() && png.exists(), "ffmpeg could not extract frame {n}");
            png
        })
        .collect()
}

fn check(rel: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bytes = corpus(rel);
    let original = open(&bytes).unwrap();
    let values = identifying(&original);
    assert!(!values.is_empty(), "{rel}: no identifying values in the header");

    // Lossless, the control's best chance.
    let before = render(&original, &RenderRequest::new(0, Format::Png)).unwrap();
    let path = dir.path().join("original.png");
    std::fs::write(&path, &before.bytes).unwrap();
    let seen = hits(&ocr(&path), &values);
    assert!(!seen.is_empty(), "{rel}: OCR reads none of {values:?} in the original, so it proves nothing");

    // As a share does it: de-identified first, read for text after.
    let tesseract = studylink_ocr::Tesseract::load().expect("libtesseract (scripts/test installs it)");
    let deid = Deidentifier::new(Profile::default(), ShareKeys::from_secret([7; 32]));
    let p = match prepare(&deid, &bytes) {
        ObjectOutcome::Prepared(p) => p,
        ObjectOutcome::Rejected(r) => panic!("{rel}: rejected: {r}"),
    };
    assert!(p.password_reason.is_none(), "{rel}: expected clean, got {:?}", p.password_reason);
    assert!(p.pixels_cleaned, "{rel}: pixels not cleaned");
    let (mut dicom, mut jpeg) = match &p.view {
        View::Image { jpeg, .. } | View::Cine { jpeg, .. } => (p.dicom.clone(), jpeg.clone()),
        _ => panic!("{rel}: no image view: {:?}", p.note),
    };
    let checked = check_text(&bytes, &dicom, &tesseract).unwrap_or_else(|e| panic!("{rel}: text check: {e}"));
    if rel.contains("acuson") {
        // Its surname is typed inside the image area, which region blanking keeps.
        assert!(checked.is_some(), "{rel}: the surname inside the image was not found");
    }
    if let Some(c) = checked {
        let (j, _) = c.previews.unwrap_or_else(|| panic!("{rel}: checked image does not render"));
        (dicom, jpeg) = (c.dicom, j);
    }
    let mut shown = Vec::new();
    let path = dir.path().join("shared.jpg");
    std::fs::write(&path, &jpeg).unwrap();
    shown.push(path);
    if matches!(p.view, View::Cine { .. }) {
        let mp4 = video(&dicom).unwrap_or_else(|e| panic!("{rel}: no video: {e}"));
        shown.extend(mp4_frames(&mp4, p.frames, dir.path()));
    }
    for image in &shown {
        let found = hits(&ocr(image), &values);
        assert!(
            found.is_empty(),
            "{rel}: OCR reads {found:?} in what the patient sees ({}); the original showed {seen:?}",
            image.file_name().unwrap().to_string_lossy()
        );
    }
}

macro_rules! ocr_tests {
    ($($name:ident => $file:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            check($file);
        }
    )*};
}

// Burned-in ultrasound files whose text band shows identifying values
// (visually confirmed in the corpus MANIFEST).
ocr_tests! {
    ocr_epiq_still => "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm",
    ocr_siemens_s2000 => "ultrasound/us_rgb_evrle_burnedin_siemens_s2000.dcm",
    ocr_atl_jpeg => "ultrasound/us_jpegbaseline_ybr422_burnedin_atl.dcm",
    ocr_atl_ybr_full => "ultrasound/us_ybrfull_evrle_burnedin_atl.dcm",
    ocr_acuson => "ultrasound/us_ybrfull_rle_burnedin_acuson.dcm",
    ocr_ge_logiq_wg04 => "ultrasound/us_rgb_rle_wg04_us1.dcm",
    ocr_philips_cx50 => "ultrasound/us_palette_rle_philips_cx50.dcm",
    ocr_epiq_cine => "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm",
    ocr_voluson_jpeg_loop => "ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm",
}
