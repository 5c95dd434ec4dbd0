//! One object of a share, on a blocking thread: de-identify it, then make
//! what the landing page shows from the de-identified bytes only. Those hold
//! the cleaned pixels; rendering the original would put burned-in names back
//! into the patient's JPEG and video.

use std::panic::{AssertUnwindSafe, catch_unwind};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use studylink_deid::{Classification, Deidentifier};
use studylink_imaging::{
    DEFAULT_JPEG_QUALITY, DocumentKind, Format, ImageKind, RenderRequest, kind, render,
};

use crate::THUMBNAIL_MAX;
use crate::cine;
use crate::document::{self, Document};

pub(crate) enum ObjectOutcome {
    /// Not shareable: the de-identifier's reason (no patient data in it).
    Rejected(String),
    Prepared(Prepared),
}

pub(crate) struct Prepared {
    /// Set when the object may be shared only behind a password.
    pub password_reason: Option<String>,
    pub sop_instance_uid: String,
    /// The de-identified Part 10 file.
    pub dicom: Vec<u8>,
    pub view: View,
    pub rows: Option<i32>,
    pub columns: Option<i32>,
    /// 0 for objects without pixel data.
    pub frames: i32,
    /// Burned-in text was blanked: the image area still needs its text check.
    pub pixels_cleaned: bool,
    /// Why the object shows less than its kind allows (a frame that would
    /// not decode, a video that would not encode); for the log.
    pub note: Option<String>,
}

pub(crate) enum View {
    Image {
        jpeg: Vec<u8>,
        thumb: Vec<u8>,
    },
    /// A loop: its first frame now, its MP4 later ([`video`]).
    Cine {
        jpeg: Vec<u8>,
        thumb: Vec<u8>,
        frame_ms: f64,
    },
    Document(Document),
    Other,
}

/// De-identifies `original` and derives its views. Never panics.
pub(crate) fn prepare(deid: &Deidentifier, original: &[u8]) -> ObjectOutcome {
    let out = deid.deidentify(original);
    let pixels_cleaned = out.report.pixels == "cleaned";
    let password_reason = match out.classification {
        Classification::Rejected { reason } => return ObjectOutcome::Rejected(reason),
        Classification::NeedsPassword { reason } => Some(reason),
        Classification::Clean => None,
    };
    let (Some(dicom), Some(sop_instance_uid)) = (out.output, out.new_sop_instance_uid) else {
        return ObjectOutcome::Rejected("the de-identifier produced no output".into());
    };
    let derived = catch_unwind(AssertUnwindSafe(|| derive(&dicom))).unwrap_or_else(|_| Derived {
        note: Some("rendering failed unexpectedly".into()),
        ..Derived::default()
    });
    ObjectOutcome::Prepared(Prepared {
        password_reason,
        sop_instance_uid,
        dicom,
        view: derived.view,
        rows: derived.rows,
        columns: derived.columns,
        frames: derived.frames,
        pixels_cleaned,
        note: derived.note,
    })
}

/// What a text check changed: the rewritten object and, for an image, its
/// new JPEG and thumbnail (`None` if they would not render).
pub(crate) struct Checked {
    pub dicom: Vec<u8>,
    pub words: usize,
    pub previews: Option<(Vec<u8>, Vec<u8>)>,
}

/// Reads the image area of a stored de-identified object for the
/// original's identifying values ([`studylink_deid::check_text`]) and, when
/// words were blanked, renders its previews again. `None`: nothing to change.
/// Errors carry no patient data.
pub(crate) fn check_text(
    original: &[u8],
    dicom: &[u8],
    finder: &dyn studylink_deid::TextFinder,
) -> Result<Option<Checked>, String> {
    let (output, words) = match studylink_deid::check_text(original, dicom, finder)? {
        studylink_deid::TextChecked::Unchanged => return Ok(None),
        studylink_deid::TextChecked::Blanked { output, words } => (output, words),
    };
    let derived = catch_unwind(AssertUnwindSafe(|| derive(&output))).unwrap_or_default();
    let previews = match derived.view {
        View::Image { jpeg, thumb } | View::Cine { jpeg, thumb, .. } => Some((jpeg, thumb)),
        _ => None,
    };
    Ok(Some(Checked { dicom: output, words, previews }))
}

struct Derived {
    view: View,
    rows: Option<i32>,
    columns: Option<i32>,
    frames: i32,
    note: Option<String>,
}

impl Default for Derived {
    fn default() -> Self {
        Derived {
            view: View::Other,
            rows: None,
            columns: None,
            frames: 0,
            note: None,
        }
    }
}

/// What the landing page does with a de-identified object.
fn derive(dicom: &[u8]) -> Derived {
    let obj = match open(dicom) {
        Ok(o) => o,
        Err(e) => {
            return Derived {
                note: Some(e),
                ..Derived::default()
            };
        }
    };
    let class = document::string(&obj, tags::SOP_CLASS_UID).unwrap_or_default();
    match kind(&obj) {
        ImageKind::Image { frames } => image(&obj, frames),
        ImageKind::Document(DocumentKind::StructuredReport) => sr(&obj),
        ImageKind::Document(_) => match document::encapsulated(&obj, &class) {
            Some(doc) => Derived {
                view: View::Document(doc),
                ..Derived::default()
            },
            None => Derived {
                note: Some("the encapsulated document is empty".into()),
                ..Derived::default()
            },
        },
        ImageKind::NoPixels => Derived::default(),
    }
}

fn sr(obj: &DefaultDicomObject) -> Derived {
    match document::sr_text(obj) {
        Some(text) => Derived {
            view: View::Document(Document {
                bytes: text.into_bytes(),
                content_type: document::TEXT_PLAIN.into(),
                ext: "txt",
            }),
            ..Derived::default()
        },
        None => Derived::default(),
    }
}

fn image(obj: &DefaultDicomObject, frames: u32) -> Derived {
    let dims = |d: &mut Derived| {
        d.rows = document::int(obj, tags::ROWS).and_then(|v| i32::try_from(v).ok());
        d.columns = document::int(obj, tags::COLUMNS).and_then(|v| i32::try_from(v).ok());
        d.frames = i32::try_from(frames).unwrap_or(i32::MAX);
    };
    let mut d = Derived::default();
    dims(&mut d);
    let full = RenderRequest::new(
        0,
        Format::Jpeg {
            quality: DEFAULT_JPEG_QUALITY,
        },
    );
    let thumb = RenderRequest {
        max_size: Some(THUMBNAIL_MAX),
        ..RenderRequest::new(0, Format::Jpeg { quality: 85 })
    };
    let (jpeg, thumb) = match (render(obj, &full), render(obj, &thumb)) {
        (Ok(j), Ok(t)) => (j.bytes, t.bytes),
        (Err(e), _) | (_, Err(e)) => {
            d.note = Some(format!("first frame: {e}"));
            return d;
        }
    };
    d.view = if frames <= 1 {
        View::Image { jpeg, thumb }
    } else {
        View::Cine {
            jpeg,
            thumb,
            frame_ms: cine::frame_ms(obj, frames),
        }
    };
    d
}

/// The MP4 of a de-identified multi-frame object (its stored `.dcm`), made
/// after the share is ready. Never panics; errors carry no patient data.
pub(crate) fn video(dicom: &[u8]) -> Result<Vec<u8>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let obj = open(dicom)?;
        let frames = match kind(&obj) {
            ImageKind::Image { frames } if frames > 1 => frames,
            _ => return Err("not a multi-frame image".to_owned()),
        };
        cine::encode(&obj, frames)
    }))
    .unwrap_or_else(|_| Err("video encoding failed unexpectedly".to_owned()))
}

/// Parses the de-identifier's output (a Part 10 file with its preamble).
pub(crate) fn open(dicom: &[u8]) -> Result<DefaultDicomObject, String> {
    let body = match dicom.get(128..132) {
        Some(b"DICM") => &dicom[128..],
        _ => dicom,
    };
    OpenFileOptions::new()
        .from_reader(body)
        // The parser's message may quote the data: not for the log.
        .map_err(|_| "the de-identified object does not parse".to_owned())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use studylink_deid::{Profile, ShareKeys};

    use super::*;

    pub(crate) fn corpus(rel: &str) -> Vec<u8> {
        let root = std::env::var_os("STUDYLINK_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
            });
        std::fs::read(root.join(rel))
            .unwrap_or_else(|e| panic!("{rel}: {e} (set STUDYLINK_CORPUS)"))
    }

    fn deid() -> Deidentifier {
        Deidentifier::new(Profile::default(), ShareKeys::from_secret([5; 32]))
    }

    fn prepared(rel: &str) -> Prepared {
        match prepare(&deid(), &corpus(rel)) {
            ObjectOutcome::Prepared(p) => p,
            ObjectOutcome::Rejected(r) => panic!("{rel}: rejected: {r}"),
        }
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
    }

    fn decode_jpeg(bytes: &[u8]) -> (u16, u16, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(bytes);
        let pixels = d.decode().expect("a JPEG");
        let info = d.info().unwrap();
        (info.width, info.height, pixels)
    }

    /// Brightest grey value in the top `rows` rows of a JPEG.
    fn top_band_max(jpeg: &[u8], rows: usize) -> u8 {
        let (w, h, px) = decode_jpeg(jpeg);
        let channels = px.len() / (w as usize * h as usize);
        px[..rows * w as usize * channels]
            .iter()
            .copied()
            .max()
            .unwrap()
    }

    #[test]
    fn ultrasound_still_is_an_image_rendered_from_cleaned_pixels() {
        let rel = "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm";
        let p = prepared(rel);
        let View::Image { jpeg, thumb } = &p.view else {
            panic!("not an image: {:?}", p.note)
        };
        let (w, h, _) = decode_jpeg(jpeg);
        assert_eq!((w, h), (1024, 768));
        assert_eq!((p.rows, p.columns, p.frames), (Some(768), Some(1024), 1));
        let (tw, th, _) = decode_jpeg(thumb);
        assert!(
            tw.max(th) as u32 <= THUMBNAIL_MAX && tw.max(th) >= 200,
            "{tw}x{th}"
        );
        for value in ["PATIENTFIVE", "2020202020202", "19510829", "CLEVELAND"] {
            assert!(!contains(&p.dicom, value), "{value} in the shared DICOM");
        }
        // The burned-in band (name, ID, birth date) above the image region
        // (which starts at row 38) is black in what the patient sees, while
        // the original shows text there.
        let original = open(&corpus(rel)).unwrap();
        let before = render(
            &original,
            &RenderRequest::new(0, Format::Jpeg { quality: 90 }),
        )
        .unwrap();
        assert!(
            top_band_max(&before.bytes, 34) > 150,
            "the original has no text band?"
        );
        assert!(
            top_band_max(jpeg, 34) < 40,
            "text band visible in the shared JPEG"
        );
        assert!(
            top_band_max(thumb, 10) < 40,
            "text band visible in the thumbnail"
        );
    }

    #[test]
    fn ultrasound_cine_becomes_an_mp4_at_its_frame_rate() {
        let rel = "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm";
        let p = prepared(rel);
        let View::Cine {
            jpeg,
            thumb,
            frame_ms,
        } = &p.view
        else {
            panic!("not a cine: {:?}", p.note)
        };
        assert_eq!((p.rows, p.columns, p.frames), (Some(600), Some(800), 27));
        assert!((frame_ms - 33.333).abs() < 0.01, "{frame_ms}");
        // The video is made from the stored de-identified object, later.
        let mp4 = video(&p.dicom).expect("an MP4");
        assert_eq!(&mp4[4..8], b"ftyp");
        // The image region starts at row 31; the text band is above it.
        let original = open(&corpus(rel)).unwrap();
        let before = render(
            &original,
            &RenderRequest::new(0, Format::Jpeg { quality: 90 }),
        )
        .unwrap();
        assert!(
            top_band_max(&before.bytes, 28) > 150,
            "the original has no text band?"
        );
        assert!(
            top_band_max(jpeg, 28) < 40,
            "text band visible in the shared JPEG"
        );
        assert!(decode_jpeg(thumb).0 <= 320);
        for value in ["PATIENTFIVE", "10101010101", "19510829"] {
            assert!(!contains(&p.dicom, value), "{value} in the shared DICOM");
        }
    }

    #[test]
    fn encapsulated_pdf_is_a_document_behind_a_password() {
        let p = prepared("documents/encapsulated_pdf.dcm");
        assert!(
            p.password_reason.is_some(),
            "a PDF's text can't be checked, so it needs a password"
        );
        let View::Document(doc) = &p.view else {
            panic!("not a document: {:?}", p.note)
        };
        assert_eq!(doc.content_type, "application/pdf");
        assert_eq!(doc.ext, "pdf");
        assert!(doc.bytes.starts_with(b"%PDF"));
        let tail = String::from_utf8_lossy(&doc.bytes[doc.bytes.len() - 8..]).to_string();
        assert!(tail.trim_end().ends_with("%%EOF"), "{tail:?}");
        assert!(!doc.bytes.ends_with(b"\0"));
        assert_eq!(p.frames, 0);
    }

    #[test]
    fn basic_text_sr_reads_as_text() {
        let p = prepared("documents/sr_basic_text_offis.dcm");
        let View::Document(doc) = &p.view else {
            panic!("not a document: {:?}", p.note)
        };
        assert_eq!(doc.content_type, document::TEXT_PLAIN);
        let text = String::from_utf8(doc.bytes.clone()).unwrap();
        assert!(text.lines().count() > 3, "{text}");
        assert!(!text.contains("Last Name"), "{text}");
    }

    #[test]
    fn a_still_has_no_video() {
        let p = prepared("ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm");
        assert_eq!(video(&p.dicom), Err("not a multi-frame image".to_owned()));
        assert!(video(b"garbage").is_err());
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        match prepare(&deid(), b"not dicom at all") {
            ObjectOutcome::Rejected(r) => assert!(!r.is_empty()),
            ObjectOutcome::Prepared(_) => panic!("garbage accepted"),
        }
    }
}
