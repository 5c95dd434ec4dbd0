//! The text check inside the kept image area, with a scripted `TextFinder`
//! (the real OCR is tested in studylink-ocr and, end to end, in
//! studylink-share's OCR read-back tests).

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use studylink_deid::{Classification, TextFinder, Word};

/// Answers every call with `words` placed relative to the image it is given
/// (fractions of width and height), and remembers the image sizes.
#[derive(Debug)]
struct Scripted {
    words: Vec<(&'static str, f32, f32)>,
    fail: bool,
    calls: Mutex<Vec<(u32, u32)>>,
}

impl Scripted {
    fn new(words: Vec<(&'static str, f32, f32)>) -> Arc<Self> {
        Arc::new(Scripted { words, fail: false, calls: Mutex::new(Vec::new()) })
    }
}

impl TextFinder for Scripted {
    fn find(&self, grey: &[u8], width: u32, height: u32) -> Result<Vec<Word>, String> {
        assert_eq!(grey.len(), (width * height) as usize);
        self.calls.lock().unwrap().push((width, height));
        if self.fail {
            return Err("engine unavailable".into());
        }
        // A negative fraction puts the word on the brightest pixel: certainly not black already.
        let bright = grey.iter().enumerate().max_by_key(|(_, v)| **v).map_or(0, |(i, _)| i) as u32;
        Ok(self
            .words
            .iter()
            .map(|&(text, fx, fy)| Word {
                text: text.into(),
                x: if fx < 0.0 { (bright % width).saturating_sub(5) } else { (width as f32 * fx) as u32 },
                y: if fy < 0.0 { (bright / width).saturating_sub(5) } else { (height as f32 * fy) as u32 },
                width: 10,
                height: 10,
            })
            .collect())
    }
}

const ACUSON: &str = "ultrasound/us_ybrfull_rle_burnedin_acuson.dcm"; // DOE^JOHN
const EPIQ_CINE: &str = "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm";

fn frames(out: &[u8]) -> Vec<Vec<u8>> {
    let obj = open(out);
    let n = get(&obj, (0x0028, 0x0008)).and_then(|s| s.trim().parse().ok()).unwrap_or(1u32);
    (0..n).map(|f| studylink_deid::pixels::decode_frame(&obj, f).unwrap()).collect()
}

/// Every frame of `b` differs from `a` by one word's box (10×10 plus margins, grey samples) at most.
fn assert_one_word_blanked_per_frame(a: &[Vec<u8>], b: &[Vec<u8>]) {
    for (f, (a, b)) in a.iter().zip(b).enumerate() {
        let changed = a.iter().zip(b).filter(|(x, y)| x != y).count();
        assert!(changed > 0 && changed <= 16 * 16 * 2, "frame {f}: {changed} samples changed");
    }
}

fn run(rel: &str, finder: Option<Arc<Scripted>>) -> studylink_deid::Outcome {
    let mut d = deid(3);
    if let Some(f) = finder {
        d = d.with_text_finder(f);
    }
    d.deidentify(&corpus_file(rel))
}

#[test]
fn a_word_matching_the_patient_is_blanked_and_nothing_else() {
    let plain = run(ACUSON, None);
    assert!(plain.report.notes.iter().any(|n| n.contains("not read")), "{:?}", plain.report.notes);
    let finder = Scripted::new(vec![("DOE,", -1.0, -1.0), ("Sagittal", 0.2, 0.2)]);
    let checked = run(ACUSON, Some(finder.clone()));
    assert_eq!(checked.classification, Classification::Clean);
    assert_eq!(finder.calls.lock().unwrap().len(), 1, "a still is read once");
    assert!(checked.report.notes.iter().any(|n| n.starts_with("1 identifying word")), "{:?}", checked.report.notes);
    let (a, b) = (&frames(plain.output.as_ref().unwrap())[0], &frames(checked.output.as_ref().unwrap())[0]);
    // RGB output: a 10×10 box plus a 3-pixel margin is at most 16×16 pixels.
    let changed: Vec<usize> = (0..a.len() / 3).filter(|&i| a[i * 3..i * 3 + 3] != b[i * 3..i * 3 + 3]).collect();
    assert!(!changed.is_empty(), "the word's box was not blanked");
    assert!(changed.len() <= 16 * 16, "{} pixels changed", changed.len());
    assert!(changed.iter().all(|&i| b[i * 3..i * 3 + 3] == [0, 0, 0]), "blanked to black");
}

#[test]
fn words_that_identify_no_one_change_nothing() {
    let plain = run(ACUSON, None);
    let checked = run(ACUSON, Some(Scripted::new(vec![("Sagittal", 0.5, 0.5), ("65dB", 0.3, 0.6), ("OE", 0.4, 0.4)])));
    assert_eq!(frames(plain.output.as_ref().unwrap()), frames(checked.output.as_ref().unwrap()));
    assert!(checked.report.notes.iter().all(|n| !n.contains("identifying word")));
}

#[test]
fn a_loop_is_read_at_its_first_and_last_frame_and_blanked_in_all() {
    let plain = run(EPIQ_CINE, None);
    let finder = Scripted::new(vec![("PATIENTFIVE", -1.0, -1.0)]);
    let checked = run(EPIQ_CINE, Some(finder.clone()));
    assert_eq!(checked.classification, Classification::Clean);
    assert_eq!(finder.calls.lock().unwrap().len(), 2);
    assert!(checked.report.notes.iter().any(|n| n.starts_with("2 identifying word")), "{:?}", checked.report.notes);
    let (a, b) = (frames(plain.output.as_ref().unwrap()), frames(checked.output.as_ref().unwrap()));
    assert_eq!(a.len(), 27);
    assert_one_word_blanked_per_frame(&a, &b);
}

#[test]
fn a_failing_text_check_fails_closed() {
    let finder = Arc::new(Scripted { words: vec![], fail: true, calls: Mutex::new(Vec::new()) });
    let out = run(ACUSON, Some(finder));
    match out.classification {
        Classification::NeedsPassword { reason } => assert!(reason.contains("text check failed"), "{reason}"),
        other => panic!("expected needs_password, got {other:?}"),
    }
}

// The same check run later, on what `deidentify` wrote without a finder
// (how a share hands the link out first and holds the images back).

fn ts(out: &[u8]) -> String {
    open(out).meta().transfer_syntax().trim_end_matches('\0').to_string()
}

#[test]
fn a_later_check_blanks_what_the_inline_one_does() {
    let original = corpus_file(ACUSON);
    let plain = run(ACUSON, None).output.unwrap();
    let words = vec![("DOE,", -1.0, -1.0), ("Sagittal", 0.2, 0.2)];
    let inline = run(ACUSON, Some(Scripted::new(words.clone()))).output.unwrap();
    let finder = Scripted::new(words);
    let later = match studylink_deid::check_text(&original, &plain, &*finder).unwrap() {
        studylink_deid::TextChecked::Blanked { output, words } => {
            assert_eq!(words, 1);
            output
        }
        other => panic!("expected a blanked word, got {other:?}"),
    };
    assert_eq!(frames(&later), frames(&inline), "the later check read and blanked the same box");
    assert_ne!(frames(&later), frames(&plain));
    assert_eq!(ts(&later), ts(&plain));
    let (a, b) = (open(&later), open(&plain));
    assert_eq!(get(&a, (0x0008, 0x0018)), get(&b, (0x0008, 0x0018)), "same object, same UID");
    assert_eq!(get(&a, (0x0010, 0x0010)), get(&b, (0x0010, 0x0010)));
}

#[test]
fn a_later_check_of_a_loop_blanks_every_frame_in_its_own_encoding() {
    let original = corpus_file(EPIQ_CINE);
    let plain = run(EPIQ_CINE, None).output.unwrap();
    let finder = Scripted::new(vec![("PATIENTFIVE", -1.0, -1.0)]);
    let out = studylink_deid::check_text(&original, &plain, &*finder).unwrap();
    let studylink_deid::TextChecked::Blanked { output, words: 2 } = out else { panic!("{out:?}") };
    assert_eq!(finder.calls.lock().unwrap().len(), 2, "first and last frame read");
    assert_eq!(ts(&output), ts(&plain));
    let (a, b) = (frames(&plain), frames(&output));
    assert_eq!(b.len(), 27);
    assert_one_word_blanked_per_frame(&a, &b);
}

#[test]
fn a_later_check_that_reads_nothing_identifying_leaves_the_object() {
    let original = corpus_file(ACUSON);
    let plain = run(ACUSON, None).output.unwrap();
    let finder = Scripted::new(vec![("Sagittal", 0.5, 0.5), ("OE", 0.4, 0.4)]);
    assert_eq!(studylink_deid::check_text(&original, &plain, &*finder), Ok(studylink_deid::TextChecked::Unchanged));
    // The area read is the image, not the blank band around it.
    let (w, h) = finder.calls.lock().unwrap()[0];
    let obj = open(&plain);
    let cols: u32 = get(&obj, (0x0028, 0x0011)).unwrap().trim().parse().unwrap();
    let rows: u32 = get(&obj, (0x0028, 0x0010)).unwrap().trim().parse().unwrap();
    assert!(w * h < cols * rows * 9 / 10, "read {w}x{h} of {cols}x{rows}");
}

#[test]
fn a_later_check_fails_with_a_reason_and_no_output() {
    let original = corpus_file(ACUSON);
    let plain = run(ACUSON, None).output.unwrap();
    let failing = Scripted { words: vec![], fail: true, calls: Mutex::new(Vec::new()) };
    let err = studylink_deid::check_text(&original, &plain, &failing).unwrap_err();
    assert!(err.contains("text check failed"), "{err}");
    let err = studylink_deid::check_text(b"not dicom", &plain, &failing).unwrap_err();
    assert!(!err.is_empty());
    assert!(studylink_deid::check_text(&original, b"garbage", &failing).is_err());
}
