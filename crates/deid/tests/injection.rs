//! The patient's identifying values injected into one attribute at a time (every
//! attribute at every depth, private ones and binary ones included) of real
//! files: an output classified clean must not contain them anywhere.

mod common;

use common::*;
use dicom_core::header::Header;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_object::mem::InMemDicomObject;
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use studylink_deid::Classification;

const NAME: &str = "Qwertzuiop^Asdfghjkl";
const ID: &str = "98765432";
const DOB: &str = "19610704";
/// What must never be in a clean output (the name parts, the ID, the birth date in several formats).
const NEEDLES: &[&str] = &["Qwertzuiop", "Asdfghjkl", ID, DOB, "1961-07-04", "04/07/1961", "07/04/1961", "04.07.1961"];

const FILES: &[&str] = &[
    "mr/mr_small_evrle.dcm",
    "mr/mr_small_implicit.dcm",
    "ct/ct_small_evrle_signed16.dcm",
    "cr_dx_mg/dx_mono1_8bit_small.dcm",
    "other_modalities/seg_binary_highdicom.dcm",
    "other_modalities/waveform_ecg.dcm",
    "overlays/mr_siemens_overlay_icon.dcm",
    "charsets/chrJapMulti.dcm",
    "ultrasound/us_ybrfull_rle_burnedin_acuson.dcm",
];

fn value_for(vr: VR) -> Option<PrimitiveValue> {
    Some(match vr {
        VR::PN => PrimitiveValue::from(NAME),
        VR::DA => PrimitiveValue::from(DOB),
        VR::DT => PrimitiveValue::from(format!("{DOB}120000")),
        VR::IS | VR::DS => PrimitiveValue::from(ID),
        VR::UI => PrimitiveValue::from(format!("1.2.{ID}")),
        VR::CS | VR::AE | VR::AS | VR::TM => PrimitiveValue::from("QWERTZUIOP"),
        VR::LO | VR::SH | VR::LT | VR::ST | VR::UT | VR::UC | VR::UR => {
            PrimitiveValue::from(format!("Qwertzuiop Asdfghjkl {ID} 04/07/1961"))
        }
        VR::OB | VR::UN | VR::OW => PrimitiveValue::U8(format!("{NAME} {ID} {DOB}").into_bytes().into()),
        _ => return None,
    })
}

/// Replaces the `target`-th injectable attribute (depth-first) and says whether it found it.
fn inject(obj: &mut InMemDicomObject, target: usize, n: &mut usize) -> bool {
    let tags: Vec<Tag> = obj.iter().map(|e| e.tag()).collect();
    for t in tags {
        let e = obj.get(t).unwrap();
        let vr = e.vr();
        if matches!(e.value(), Value::Sequence(_)) {
            let mut done = false;
            obj.update_value(t, |v| {
                if let Some(items) = v.items_mut() {
                    for item in items.iter_mut() {
                        if inject(item, target, n) {
                            done = true;
                            break;
                        }
                    }
                }
            });
            if done {
                return true;
            }
            continue;
        }
        if matches!(e.value(), Value::PixelSequence(_)) || t == Tag(0x0008, 0x0005) {
            continue;
        }
        let Some(v) = value_for(vr) else { continue };
        if *n == target {
            obj.put(DataElement::new(t, vr, v));
            return true;
        }
        *n += 1;
    }
    false
}

fn base(rel: &str) -> DefaultDicomObject {
    let raw = corpus_file(rel);
    let mut obj = OpenFileOptions::new().from_reader(&raw[..]).unwrap_or_else(|e| panic!("{rel}: {e}"));
    obj.put(DataElement::new(Tag(0x0010, 0x0010), VR::PN, PrimitiveValue::from(NAME)));
    obj.put(DataElement::new(Tag(0x0010, 0x0020), VR::LO, PrimitiveValue::from(ID)));
    obj.put(DataElement::new(Tag(0x0010, 0x0030), VR::DA, PrimitiveValue::from(DOB)));
    obj
}

fn bytes(obj: &DefaultDicomObject) -> Vec<u8> {
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    out
}

#[test]
fn identifying_values_injected_anywhere_never_reach_a_clean_output() {
    let d = deid(21);
    let mut clean = 0;
    let mut flagged = 0;
    for rel in FILES {
        for target in 0.. {
            let mut obj = base(rel);
            let mut n = 0;
            if !inject(&mut obj, target, &mut n) {
                break;
            }
            let out = d.deidentify(&bytes(&obj));
            match out.classification {
                Classification::Clean => {
                    clean += 1;
                    let b = out.output.unwrap();
                    for needle in NEEDLES {
                        assert!(!find(&b, needle.as_bytes()), "{rel}: attribute #{target}: an injected value reached a clean output");
                    }
                }
                Classification::NeedsPassword { reason } => {
                    flagged += 1;
                    for needle in NEEDLES {
                        assert!(!reason.contains(needle), "reason quotes a value");
                    }
                }
                Classification::Rejected { reason } => panic!("{rel}: attribute #{target}: rejected: {reason}"),
            }
        }
    }
    assert!(clean > 100 && flagged > 0, "clean {clean}, flagged {flagged}");
}
