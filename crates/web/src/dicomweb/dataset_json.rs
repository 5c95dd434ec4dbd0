//! A stored instance's header as the DICOM JSON Model (PS3.18 Annex F), for
//! WADO-RS metadata.
//!
//! Written here rather than with `dicom-json` because that crate writes IS/DS
//! as JSON strings (Annex F wants numbers), panics on some value/VR mismatches
//! that malformed files produce, and has no notion of bulk data. Every element
//! here serialises to *something*: a value that can't be read as its VR falls
//! back to strings instead of failing the whole response.
//!
//! Bulk data: binary values (OB, OD, OF, OL, OV, OW, UN) over [`BULK_THRESHOLD`]
//! bytes become a `BulkDataURI` served by the bulkdata route. Pixel Data
//! (and Float / Double Float Pixel Data) is never read for metadata (the
//! header is read up to it), so it doesn't appear; clients fetch pixels with
//! the frames or instance retrieve.

use base64::Engine;
use dicom_core::header::Header;
use dicom_core::{DicomValue, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;
use serde_json::{Map, Number, Value};

use super::json::{person_name, tag_key};

/// Binary values larger than this are bulk data (sent by reference, not inline).
pub const BULK_THRESHOLD: usize = 1024;

/// Serialises `obj`. `bulk_base` is the instance's bulkdata URL prefix; a bulk
/// value's URI is `{bulk_base}/{tag}[/{item}/{tag}…]`.
pub fn dataset(obj: &InMemDicomObject, bulk_base: &str) -> Value {
    let mut path = Vec::new();
    Value::Object(dataset_at(obj, bulk_base, &mut path))
}

fn dataset_at(obj: &InMemDicomObject, bulk_base: &str, path: &mut Vec<String>) -> Map<String, Value> {
    let mut out = Map::new();
    for e in obj {
        let tag = e.tag();
        // Group lengths are retired and meaningless once re-encoded; the file
        // meta group is not part of the data set.
        if tag.element() == 0 || tag.group() == 0x0002 || tag.group() == 0xFFFE {
            continue;
        }
        path.push(tag_key(tag));
        out.insert(tag_key(tag), element(e, bulk_base, path));
        path.pop();
    }
    out
}

fn element(e: &InMemElement, bulk_base: &str, path: &mut Vec<String>) -> Value {
    let vr = e.vr();
    let mut attr = Map::new();
    attr.insert("vr".into(), Value::String(vr.to_string().to_string()));
    match e.value() {
        DicomValue::Sequence(seq) => {
            let items: Vec<Value> = seq
                .items()
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(i.to_string());
                    let v = Value::Object(dataset_at(item, bulk_base, path));
                    path.pop();
                    v
                })
                .collect();
            if !items.is_empty() {
                attr.insert("Value".into(), Value::Array(items));
            }
        }
        // Encapsulated data outside Pixel Data is rare; always by reference.
        DicomValue::PixelSequence(_) => {
            attr.insert("BulkDataURI".into(), Value::String(bulk_uri(bulk_base, path)));
        }
        DicomValue::Primitive(PrimitiveValue::Empty) => {}
        DicomValue::Primitive(v) => {
            if is_binary(vr) {
                let bytes = v.to_bytes();
                if bytes.len() > BULK_THRESHOLD {
                    attr.insert("BulkDataURI".into(), Value::String(bulk_uri(bulk_base, path)));
                } else {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
                    attr.insert("InlineBinary".into(), Value::String(b64));
                }
            } else {
                let values = if e.tag() == tags::SPECIFIC_CHARACTER_SET {
                    // Text was decoded with the declared set; JSON is UTF-8.
                    vec![Value::String("ISO_IR 192".into())]
                } else {
                    primitive(vr, v)
                };
                if !values.is_empty() {
                    attr.insert("Value".into(), Value::Array(values));
                }
            }
        }
    }
    Value::Object(attr)
}

fn bulk_uri(base: &str, path: &[String]) -> String {
    format!("{base}/{}", path.join("/"))
}

pub fn is_binary(vr: VR) -> bool {
    matches!(vr, VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN)
}

fn primitive(vr: VR, v: &PrimitiveValue) -> Vec<Value> {
    match vr {
        VR::PN => strings(v, true).into_iter().map(|s| s.map(|s| person_name(&s)).unwrap_or(Value::Null)).collect(),
        VR::IS | VR::DS | VR::FL | VR::FD | VR::SL | VR::SS | VR::UL | VR::US | VR::SV | VR::UV => numbers(v),
        VR::AT => match v {
            PrimitiveValue::Tags(ts) => ts.iter().map(|t| Value::String(tag_key(*t))).collect(),
            _ => vec![],
        },
        VR::LT | VR::ST | VR::UT | VR::UR => strings(v, false).into_iter().map(str_or_null).collect(),
        _ => strings(v, true).into_iter().map(str_or_null).collect(),
    }
}

/// Values as trimmed strings; `None` for empty ones. Leading spaces are only
/// significant in the free-text VRs (`trim_start == false`).
fn strings(v: &PrimitiveValue, trim_start: bool) -> Vec<Option<String>> {
    v.to_multi_str()
        .iter()
        .map(|s| {
            let s = s.trim_end_matches([' ', '\0']);
            let s = if trim_start { s.trim_start_matches(' ') } else { s };
            (!s.is_empty()).then(|| s.to_string())
        })
        .collect()
}

fn str_or_null(s: Option<String>) -> Value {
    s.map(Value::String).unwrap_or(Value::Null)
}

fn numbers(v: &PrimitiveValue) -> Vec<Value> {
    match v {
        PrimitiveValue::F32(xs) => xs.iter().map(|x| float(*x as f64)).collect(),
        PrimitiveValue::F64(xs) => xs.iter().map(|x| float(*x)).collect(),
        PrimitiveValue::I64(xs) => xs.iter().map(|x| int(*x as i128)).collect(),
        PrimitiveValue::U64(xs) => xs.iter().map(|x| int(*x as i128)).collect(),
        PrimitiveValue::U8(_) | PrimitiveValue::I16(_) | PrimitiveValue::U16(_) | PrimitiveValue::I32(_) | PrimitiveValue::U32(_) => {
            match v.to_multi_int::<i64>() {
                Ok(xs) => xs.into_iter().map(|x| int(x as i128)).collect(),
                Err(_) => vec![],
            }
        }
        // IS and DS arrive as text; anything unparsable stays a string rather than vanishing.
        _ => strings(v, true)
            .into_iter()
            .map(|s| match s {
                None => Value::Null,
                Some(s) => parse_number(&s),
            })
            .collect(),
    }
}

/// Integers beyond ±2^53 lose precision as JSON numbers; Annex F allows strings for them.
fn int(x: i128) -> Value {
    if x.abs() <= 1 << 53 { Value::Number((x as i64).into()) } else { Value::String(x.to_string()) }
}

fn float(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("inf".into()),
        None => Value::String("-inf".into()),
    }
}

fn parse_number(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return int(i as i128);
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() => float(f),
        _ => Value::String(s.to_string()),
    }
}

/// The element a bulk data path (`tag[/item/tag]…`) points at.
pub fn find<'a>(obj: &'a InMemDicomObject, path: &[&str]) -> Option<&'a InMemElement> {
    let (first, rest) = path.split_first()?;
    let tag = parse_tag(first)?;
    let e = obj.get(tag)?;
    if rest.is_empty() {
        return Some(e);
    }
    let (index, rest) = rest.split_first()?;
    let index: usize = index.parse().ok()?;
    let item = e.value().items()?.get(index)?;
    find(item, rest)
}

pub fn parse_tag(s: &str) -> Option<Tag> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let g = u16::from_str_radix(&s[..4], 16).ok()?;
    let e = u16::from_str_radix(&s[4..], 16).ok()?;
    Some(Tag(g, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::dicom_value;
    use dicom_core::value::DataSetSequence;
    use serde_json::json;

    #[test]
    fn values_follow_annex_f() {
        let item = InMemDicomObject::from_element_iter([InMemElement::new(tags::CODE_VALUE, VR::SH, PrimitiveValue::from("T-1"))]);
        let obj = InMemDicomObject::from_element_iter([
            InMemElement::new(tags::SPECIFIC_CHARACTER_SET, VR::CS, PrimitiveValue::from("ISO_IR 100")),
            InMemElement::new(tags::PATIENT_NAME, VR::PN, dicom_value!(Strs, ["Doe^John "])),
            InMemElement::new(tags::INSTANCE_NUMBER, VR::IS, dicom_value!(Strs, [" 12"])),
            InMemElement::new(tags::SLICE_THICKNESS, VR::DS, dicom_value!(Strs, ["2.5", "x"])),
            InMemElement::new(tags::ROWS, VR::US, dicom_value!(U16, [512])),
            InMemElement::new(tags::IMAGE_TYPE, VR::CS, dicom_value!(Strs, ["ORIGINAL", "", "AXIAL"])),
            InMemElement::new(tags::FRAME_INCREMENT_POINTER, VR::AT, dicom_value!(Tags, [Tag(0x0018, 0x1063)])),
            InMemElement::new(Tag(0x0009, 0x1001), VR::OB, PrimitiveValue::U8(vec![1u8; 2000].into())),
            InMemElement::new(Tag(0x0009, 0x1002), VR::OB, PrimitiveValue::U8(vec![1u8, 2].into())),
            InMemElement::new(tags::ANATOMIC_REGION_SEQUENCE, VR::SQ, DataSetSequence::from(vec![item])),
        ]);
        let v = dataset(&obj, "http://x/bulk");
        assert_eq!(v["00080005"]["Value"], json!(["ISO_IR 192"]));
        assert_eq!(v["00100010"]["Value"], json!([{"Alphabetic": "Doe^John"}]));
        assert_eq!(v["00200013"]["Value"], json!([12]));
        assert_eq!(v["00180050"]["Value"], json!([2.5, "x"]));
        assert_eq!(v["00280010"]["Value"], json!([512]));
        assert_eq!(v["00080008"]["Value"], json!(["ORIGINAL", null, "AXIAL"]));
        assert_eq!(v["00280009"]["Value"], json!(["00181063"]));
        assert_eq!(v["00091001"], json!({"vr": "OB", "BulkDataURI": "http://x/bulk/00091001"}));
        assert_eq!(v["00091002"], json!({"vr": "OB", "InlineBinary": "AQI="}));
        assert_eq!(v["00082218"]["Value"][0]["00080100"]["Value"], json!(["T-1"]));
        assert!(find(&obj, &["00082218", "0", "00080100"]).is_some());
        assert!(find(&obj, &["00082218", "1", "00080100"]).is_none());
    }
}
