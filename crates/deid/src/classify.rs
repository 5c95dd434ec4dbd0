//! Which objects carry content that header de-identification can't make safe:
//! documents, reports with text, presentation states with text. Their content
//! is kept intact (only UIDs are replaced) and they need a password.

use dicom_core::header::{HasLength, Header};
use dicom_core::value::Value;
use dicom_core::{Tag, VR};
use dicom_object::mem::InMemDicomObject;

/// How the object's content is treated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// Top-level attributes kept as they are (UIDs inside still replaced).
    pub keep: &'static [Tag],
    /// Why the object needs a password, if it does.
    pub needs_password: Option<String>,
}

const ENCAPSULATED: &[Tag] = &[Tag(0x0042, 0x0011)];

/// SR document content and the document-level attributes SR needs.
const SR_CONTENT: &[Tag] = &[
    Tag(0x0040, 0xA040), // Value Type
    Tag(0x0040, 0xA043), // Concept Name Code Sequence
    Tag(0x0040, 0xA050), // Continuity Of Content
    Tag(0x0040, 0xA504), // Content Template Sequence
    Tag(0x0040, 0xA730), // Content Sequence
    Tag(0x0040, 0xA491), // Completion Flag
    Tag(0x0040, 0xA493), // Verification Flag
    Tag(0x0040, 0xA375), // Current Requested Procedure Evidence Sequence
    Tag(0x0040, 0xA385), // Pertinent Other Evidence Sequence
    Tag(0x0040, 0xA525), // Identical Documents Sequence
];

const PRESENTATION_CONTENT: &[Tag] = &[
    Tag(0x0070, 0x0001), // Graphic Annotation Sequence
    Tag(0x0070, 0x0060), // Graphic Layer Sequence
];

pub fn sop_class(obj: &InMemDicomObject) -> String {
    obj.get(Tag(0x0008, 0x0016))
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string())
        .unwrap_or_default()
}

pub fn content(obj: &InMemDicomObject) -> Content {
    let class = sop_class(obj);
    let none = Content { keep: &[], needs_password: None };
    if class.starts_with("1.2.840.10008.5.1.4.1.1.104.") {
        let what = match class.as_str() {
            "1.2.840.10008.5.1.4.1.1.104.1" => "encapsulated PDF",
            "1.2.840.10008.5.1.4.1.1.104.2" => "encapsulated CDA",
            "1.2.840.10008.5.1.4.1.1.104.3" => "encapsulated STL",
            "1.2.840.10008.5.1.4.1.1.104.4" => "encapsulated OBJ",
            "1.2.840.10008.5.1.4.1.1.104.5" => "encapsulated MTL",
            _ => "encapsulated document",
        };
        return Content {
            keep: ENCAPSULATED,
            needs_password: Some(format!("{what}: document content kept intact and can't be verified")),
        };
    }
    if obj.get(Tag(0x0042, 0x0011)).is_some() {
        return Content {
            keep: ENCAPSULATED,
            needs_password: Some("encapsulated document: content kept intact and can't be verified".into()),
        };
    }
    let is_sr = class.starts_with("1.2.840.10008.5.1.4.1.1.88.");
    if is_sr || obj.get(Tag(0x0040, 0xA730)).is_some() {
        let what = if class == "1.2.840.10008.5.1.4.1.1.88.59" { "key object selection" } else { "structured report" };
        let reason = SR_CONTENT
            .iter()
            .filter_map(|t| obj.get(*t))
            .any(|e| has_free_values(e.value(), 0))
            .then(|| format!("{what} with text, names or dates in its content (kept intact)"));
        return Content { keep: SR_CONTENT, needs_password: reason };
    }
    if class.starts_with("1.2.840.10008.5.1.4.1.1.11.") {
        let reason = PRESENTATION_CONTENT
            .iter()
            .filter_map(|t| obj.get(*t))
            .any(|e| has_free_values(e.value(), 0))
            .then(|| "presentation state with text annotations (kept intact)".to_string());
        return Content { keep: PRESENTATION_CONTENT, needs_password: reason };
    }
    none
}

/// Attributes inside content that only carry codes, not free text.
fn is_code_attribute(tag: Tag) -> bool {
    tag.0 == 0x0008 && (0x0100..=0x0124).contains(&tag.1)
        || matches!((tag.0, tag.1), (0x0040, 0xA040) | (0x0040, 0xA010) | (0x0040, 0xA050) | (0x0040, 0xA491) | (0x0040, 0xA493)
            | (0x0040, 0xDB00) | (0x0070, 0x0023) | (0x0070, 0x0002) | (0x0070, 0x0005) | (0x0070, 0x0014) | (0x0070, 0x0010)
            | (0x0070, 0x0011) | (0x0070, 0x0012) | (0x0070, 0x0003) | (0x0070, 0x0062) | (0x0070, 0x0066) | (0x0070, 0x0067)
            | (0x0008, 0x1150) | (0x0008, 0x1155) | (0x0040, 0xA30A) | (0x0040, 0x08EA) | (0x0008, 0x0005))
}

/// Whether content holds text, names, dates or times (anything that may identify).
fn has_free_values(v: &Value<InMemDicomObject, Vec<u8>>, depth: usize) -> bool {
    match v {
        Value::Sequence(seq) => {
            depth > 64
                || seq.items().iter().any(|item| {
                    item.iter().any(|e| {
                        let textual = matches!(
                            e.vr(),
                            VR::PN | VR::LO | VR::LT | VR::ST | VR::UT | VR::SH | VR::UC | VR::DA | VR::DT | VR::TM | VR::UN | VR::OB
                        );
                        (textual && !is_code_attribute(e.tag()) && !e.value().primitive().is_some_and(|p| p.length() == dicom_core::Length(0)))
                            || has_free_values(e.value(), depth + 1)
                    })
                })
        }
        _ => false,
    }
}
