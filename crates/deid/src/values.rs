//! Replacement values: dummies consistent with the VR, shifted dates, cleaned text.

use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_object::mem::{InMemDicomObject, InMemElement};

use crate::profile::ShareKeys;

pub const DUMMY_PATIENT_NAME: &str = "ANONYMOUS^PATIENT";
pub const DUMMY_NAME: &str = "ANONYMOUS^STAFF";
pub const DUMMY_TEXT: &str = "ANONYMIZED";

pub fn empty(tag: Tag, vr: VR) -> InMemElement {
    if vr == VR::SQ {
        DataElement::new(tag, VR::SQ, Value::new_sequence(Vec::<InMemDicomObject>::new(), dicom_core::Length::UNDEFINED))
    } else {
        DataElement::new(tag, vr, PrimitiveValue::Empty)
    }
}

/// A non-identifying value valid for `vr`. The Patient ID pseudonym derives
/// from the share's secret and the original ID, so one patient keeps one ID
/// within a share and gets unrelated IDs in other shares.
pub fn dummy(tag: Tag, vr: VR, original: &InMemElement, keys: &ShareKeys) -> InMemElement {
    if tag == Tag(0x0010, 0x0020) {
        let orig = original.to_str().map(|s| s.trim().to_string()).unwrap_or_default();
        let h = keys.derive("patient-id", orig.as_bytes());
        return DataElement::new(tag, vr, PrimitiveValue::from(format!("SL{}", hex::encode_upper(&h[..6]))));
    }
    if tag == Tag(0x0010, 0x0010) {
        return DataElement::new(tag, vr, PrimitiveValue::from(DUMMY_PATIENT_NAME));
    }
    let v: PrimitiveValue = match vr {
        VR::PN => DUMMY_NAME.into(),
        VR::LO | VR::SH | VR::LT | VR::ST | VR::UT | VR::UC | VR::CS | VR::AE => DUMMY_TEXT.into(),
        VR::DA => "19000101".into(),
        VR::TM => "000000".into(),
        VR::DT => "19000101000000".into(),
        VR::AS => "000D".into(),
        VR::IS | VR::DS => "0".into(),
        VR::US => PrimitiveValue::from(0u16),
        VR::SS => PrimitiveValue::from(0i16),
        VR::UL => PrimitiveValue::from(0u32),
        VR::SL => PrimitiveValue::from(0i32),
        VR::FL => PrimitiveValue::from(0f32),
        VR::FD => PrimitiveValue::from(0f64),
        VR::SQ => return empty(tag, vr),
        _ => PrimitiveValue::Empty,
    };
    DataElement::new(tag, vr, v)
}

/// Shifts every YYYYMMDD date found at the start of a value (DA, DT, DA ranges) by `days`.
pub fn shift_dates(text: &str, days: i32) -> String {
    text.split('\\')
        .map(|v| v.split('-').map(|part| shift_one(part.trim(), days)).collect::<Vec<_>>().join("-"))
        .collect::<Vec<_>>()
        .join("\\")
}

fn shift_one(v: &str, days: i32) -> String {
    if v.len() < 8 || !v.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        // A partial or malformed date can't be shifted; an empty value leaks nothing.
        return String::new();
    }
    let Ok(d) = chrono::NaiveDate::parse_from_str(&v[..8], "%Y%m%d") else {
        return String::new();
    };
    let shifted = d + chrono::Duration::days(i64::from(days));
    format!("{}{}", shifted.format("%Y%m%d"), &v[8..])
}

/// Cleans free text (Clean Descriptors): words equal to an identifying value,
/// words with four or more digits (dates, IDs, phone numbers) and anything with
/// an `@` are replaced by `*`.
pub fn scrub_text(text: &str, is_identifying: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            let digits = word.chars().filter(char::is_ascii_digit).count();
            if digits >= 4 || word.contains('@') || is_identifying(word) {
                out.push('*');
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if c.is_alphanumeric() || matches!(c, '@' | '.' | '-' | '/' | '_' | '+') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_shift_and_keep_time_parts() {
        assert_eq!(shift_dates("20200301", -1), "20200229");
        assert_eq!(shift_dates("20200301120000.5", -1), "20200229120000.5");
        assert_eq!(shift_dates("20200301\\20200302", 1), "20200302\\20200303");
        assert_eq!(shift_dates("2020", 1), "");
    }

    #[test]
    fn scrub_removes_ids_dates_and_names() {
        let id = |w: &str| w.eq_ignore_ascii_case("doe");
        assert_eq!(scrub_text("CT head 2020-03-05 Dr Doe john@x.org", &id), "CT head * Dr * *");
        assert_eq!(scrub_text("T1 3D MPRAGE", &id), "T1 3D MPRAGE");
    }
}
