//! Reports as documents a phone opens: the PDF or XML inside an encapsulated
//! document object, or a plain-text reading of a structured report.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

pub(crate) const PDF_CLASS: &str = "1.2.840.10008.5.1.4.1.1.104.1";
pub(crate) const CDA_CLASS: &str = "1.2.840.10008.5.1.4.1.1.104.2";
pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// A document extracted from an object, with its media type and the file
/// extension its blob gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub ext: &'static str,
}

/// The encapsulated document (0042,0011) of `obj`, trimmed to its real length.
/// `class` is the SOP Class UID; the MIME type attribute decides for classes
/// other than PDF and CDA (3D models and future ones).
pub(crate) fn encapsulated(obj: &InMemDicomObject, class: &str) -> Option<Document> {
    let raw = obj.get(tags::ENCAPSULATED_DOCUMENT)?.to_bytes().ok()?;
    let mut bytes = raw.into_owned();
    // The value is padded to an even length; the length attribute, when
    // present and plausible, says where the document ends.
    if let Some(len) = int(obj, tags::ENCAPSULATED_DOCUMENT_LENGTH)
        .filter(|l| *l > 0 && (*l as usize) <= bytes.len())
    {
        bytes.truncate(len as usize);
    }
    let mime =
        string(obj, tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT).map(|m| m.to_ascii_lowercase());
    let (content_type, ext) = if class == PDF_CLASS || mime.as_deref() == Some("application/pdf") {
        trim_pdf(&mut bytes);
        ("application/pdf".to_owned(), "pdf")
    } else if class == CDA_CLASS || matches!(mime.as_deref(), Some("text/xml" | "application/xml"))
    {
        trim_nul(&mut bytes);
        ("text/xml".to_owned(), "xml")
    } else {
        let mime = mime
            .filter(|m| is_token_type(m))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let ext = match mime.as_str() {
            "model/stl" | "model/x.stl-binary" | "model/x.stl-ascii" => "stl",
            "model/obj" => "obj",
            "model/mtl" => "mtl",
            _ => "bin",
        };
        (mime, ext)
    };
    if bytes.is_empty() {
        return None;
    }
    Some(Document {
        bytes,
        content_type,
        ext,
    })
}

/// Cuts what follows the last `%%EOF` (and its end-of-line): the even-length
/// pad byte DICOM adds, which some PDF viewers complain about.
pub(crate) fn trim_pdf(bytes: &mut Vec<u8>) {
    const EOF: &[u8] = b"%%EOF";
    let Some(pos) = bytes.windows(EOF.len()).rposition(|w| w == EOF) else {
        trim_nul(bytes);
        return;
    };
    let mut end = pos + EOF.len();
    if bytes[end..].starts_with(b"\r\n") {
        end += 2;
    } else if bytes[end..].starts_with(b"\n") || bytes[end..].starts_with(b"\r") {
        end += 1;
    }
    bytes.truncate(end);
}

fn trim_nul(bytes: &mut Vec<u8>) {
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
}

/// `type/subtype` with token characters only: the value goes into a
/// Content-Type header, so nothing that could split or extend it.
fn is_token_type(m: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    matches!(m.split_once('/'), Some((a, b)) if ok(a) && ok(b))
}

/// Bounds for a structured report read as text: past them it is not a
/// report a patient reads, and the walk stays cheap whatever the file holds.
const SR_MAX_ITEMS: usize = 5_000;
const SR_MAX_DEPTH: usize = 32;

/// A plain-text reading of a structured report: the title, then each content
/// item's concept name with its text, code meaning, number and unit, or
/// date, indented by nesting. `None` unless the tree is simple enough to read
/// that way (within the bounds above, with at least one value).
///
/// Person names and UID references are left out (observers are not the
/// report's content, UIDs mean nothing to a patient); so are references to
/// images, waveforms and coordinates, which a text can't show.
pub(crate) fn sr_text(obj: &InMemDicomObject) -> Option<String> {
    let mut out = Text {
        lines: Vec::new(),
        items: 0,
        values: 0,
    };
    if let Some(title) = concept_name(obj) {
        out.lines.push(title);
        out.lines.push(String::new());
    }
    walk(obj, 0, &mut out)?;
    (out.values > 0).then(|| {
        let mut s = out.lines.join("\n");
        s.push('\n');
        s
    })
}

struct Text {
    lines: Vec<String>,
    items: usize,
    values: usize,
}

fn walk(parent: &InMemDicomObject, depth: usize, out: &mut Text) -> Option<()> {
    let Some(items) = parent.get(tags::CONTENT_SEQUENCE).and_then(|e| e.items()) else {
        return Some(());
    };
    if depth >= SR_MAX_DEPTH {
        return None;
    }
    let indent = "  ".repeat(depth);
    for item in items {
        out.items += 1;
        if out.items > SR_MAX_ITEMS {
            return None;
        }
        let name = concept_name(item);
        let value_type = string(item, tags::VALUE_TYPE)
            .unwrap_or_default()
            .to_ascii_uppercase();
        let value = match value_type.as_str() {
            "CONTAINER" => {
                if let Some(name) = &name {
                    out.lines.push(format!("{indent}{name}"));
                }
                walk(item, depth + 1, out)?;
                continue;
            }
            "TEXT" => string(item, tags::TEXT_VALUE),
            "CODE" => item
                .get(tags::CONCEPT_CODE_SEQUENCE)
                .and_then(|e| e.items())
                .and_then(|i| i.first())
                .and_then(|c| string(c, tags::CODE_MEANING)),
            "NUM" => number(item),
            "DATE" => string(item, tags::DATE),
            "TIME" => string(item, tags::TIME),
            "DATETIME" => string(item, tags::DATE_TIME),
            _ => None,
        };
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            out.values += 1;
            // Continuation lines of a long text keep the item's indentation.
            let value = value
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .replace('\n', &format!("\n{indent}  "));
            out.lines.push(match name {
                Some(name) => format!("{indent}{name}: {value}"),
                None => format!("{indent}{value}"),
            });
        }
        // Items below a TEXT or CODE (e.g. its modifiers) are read too.
        walk(item, depth + 1, out)?;
    }
    Some(())
}

fn concept_name(item: &InMemDicomObject) -> Option<String> {
    let code = item
        .get(tags::CONCEPT_NAME_CODE_SEQUENCE)?
        .items()?
        .first()?;
    string(code, tags::CODE_MEANING).filter(|s| !s.is_empty())
}

/// "12.5 mm": the numeric value and its unit's code value (UCUM units read
/// better as symbols than as their meanings), without UCUM's `{…}`
/// annotations ("{SUVbw}g/ml" reads "g/ml"; "{pixels}" reads as nothing).
fn number(item: &InMemDicomObject) -> Option<String> {
    let mv = item.get(tags::MEASURED_VALUE_SEQUENCE)?.items()?.first()?;
    let value = string(mv, tags::NUMERIC_VALUE)?;
    let unit = mv
        .get(tags::MEASUREMENT_UNITS_CODE_SEQUENCE)
        .and_then(|e| e.items())
        .and_then(|i| i.first())
        .and_then(|u| string(u, tags::CODE_VALUE).or_else(|| string(u, tags::CODE_MEANING)))
        .map(|u| strip_annotations(&u))
        .filter(|u| u != "1" && !u.is_empty());
    Some(match unit {
        Some(u) => format!("{value} {u}"),
        None => value,
    })
}

fn strip_annotations(unit: &str) -> String {
    let mut out = String::with_capacity(unit.len());
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

pub(crate) fn string(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = obj.get(tag)?.to_str().ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    Some(s.to_owned())
}

pub(crate) fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.get(tag)?.to_int::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::value::DataSetSequence;
    use dicom_core::{DataElement, Length, PrimitiveValue, VR};

    fn el(tag: Tag, vr: VR, v: &str) -> DataElement<InMemDicomObject> {
        DataElement::new(tag, vr, PrimitiveValue::from(v))
    }

    fn seq(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
        DataElement::new(tag, VR::SQ, DataSetSequence::new(items, Length::UNDEFINED))
    }

    fn code(meaning: &str) -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            el(tags::CODE_VALUE, VR::SH, "X"),
            el(tags::CODING_SCHEME_DESIGNATOR, VR::SH, "99"),
            el(tags::CODE_MEANING, VR::LO, meaning),
        ])
    }

    fn item(
        value_type: &str,
        name: &str,
        extra: Vec<DataElement<InMemDicomObject>>,
    ) -> InMemDicomObject {
        let mut o = InMemDicomObject::from_element_iter([
            el(tags::VALUE_TYPE, VR::CS, value_type),
            seq(tags::CONCEPT_NAME_CODE_SEQUENCE, vec![code(name)]),
        ]);
        for e in extra {
            o.put(e);
        }
        o
    }

    #[test]
    fn pdf_loses_the_pad_after_eof_only() {
        let mut b = b"%PDF-1.4\n...%%EOF trailer?\n%%EOF\n\0".to_vec();
        trim_pdf(&mut b);
        assert_eq!(b, b"%PDF-1.4\n...%%EOF trailer?\n%%EOF\n");
        let mut b = b"%PDF-1.4 x %%EOF\0".to_vec();
        trim_pdf(&mut b);
        assert_eq!(b, b"%PDF-1.4 x %%EOF");
        let mut b = b"%PDF-1.4 no end\0\0".to_vec();
        trim_pdf(&mut b);
        assert_eq!(b, b"%PDF-1.4 no end");
    }

    #[test]
    fn encapsulated_pdf_uses_the_length_attribute_and_class() {
        let obj = InMemDicomObject::from_element_iter([
            DataElement::new(
                tags::ENCAPSULATED_DOCUMENT,
                VR::OB,
                PrimitiveValue::from(b"%PDF-1.7 body %%EOF\n\0".to_vec()),
            ),
            el(
                tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
                VR::LO,
                "application/pdf",
            ),
        ]);
        let d = encapsulated(&obj, PDF_CLASS).unwrap();
        assert_eq!(d.bytes, b"%PDF-1.7 body %%EOF\n");
        assert_eq!((d.content_type.as_str(), d.ext), ("application/pdf", "pdf"));

        let obj = InMemDicomObject::from_element_iter([
            DataElement::new(
                tags::ENCAPSULATED_DOCUMENT,
                VR::OB,
                PrimitiveValue::from(b"<ClinicalDocument/>\0".to_vec()),
            ),
            el(tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT, VR::LO, "text/xml"),
        ]);
        let d = encapsulated(&obj, CDA_CLASS).unwrap();
        assert_eq!(d.bytes, b"<ClinicalDocument/>");
        assert_eq!(d.content_type, "text/xml");

        let obj = InMemDicomObject::from_element_iter([
            DataElement::new(
                tags::ENCAPSULATED_DOCUMENT,
                VR::OB,
                PrimitiveValue::from(b"solid x".to_vec()),
            ),
            el(
                tags::MIME_TYPE_OF_ENCAPSULATED_DOCUMENT,
                VR::LO,
                "model/stl\r\nX-Evil: 1",
            ),
        ]);
        let d = encapsulated(&obj, "1.2.840.10008.5.1.4.1.1.104.3").unwrap();
        assert_eq!(
            (d.content_type.as_str(), d.ext),
            ("application/octet-stream", "bin")
        );
    }

    #[test]
    fn structured_report_reads_as_indented_text() {
        let findings = item(
            "CONTAINER",
            "Findings",
            vec![seq(
                tags::CONTENT_SEQUENCE,
                vec![
                    item(
                        "TEXT",
                        "Finding",
                        vec![el(tags::TEXT_VALUE, VR::UT, "Normal liver.\nNo lesions.")],
                    ),
                    item(
                        "CODE",
                        "Impression",
                        vec![seq(tags::CONCEPT_CODE_SEQUENCE, vec![code("Normal")])],
                    ),
                    item(
                        "NUM",
                        "Length",
                        vec![seq(
                            tags::MEASURED_VALUE_SEQUENCE,
                            vec![InMemDicomObject::from_element_iter([
                                el(tags::NUMERIC_VALUE, VR::DS, "12.5"),
                                seq(
                                    tags::MEASUREMENT_UNITS_CODE_SEQUENCE,
                                    vec![{
                                        let mut u = code("millimeter");
                                        u.put(el(tags::CODE_VALUE, VR::SH, "mm"));
                                        u
                                    }],
                                ),
                            ])],
                        )],
                    ),
                    item(
                        "PNAME",
                        "Observer",
                        vec![el(tags::PERSON_NAME, VR::PN, "Doe^Jane")],
                    ),
                    item("IMAGE", "Key image", vec![]),
                ],
            )],
        );
        let mut root = item(
            "CONTAINER",
            "Ultrasound report",
            vec![seq(tags::CONTENT_SEQUENCE, vec![findings])],
        );
        root.put(el(
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.88.11",
        ));
        let text = sr_text(&root).unwrap();
        assert_eq!(
            text,
            "Ultrasound report\n\nFindings\n  Finding: Normal liver.\n    No lesions.\n  Impression: Normal\n  Length: 12.5 mm\n"
        );
        assert!(!text.contains("Doe"));
    }

    #[test]
    fn ucum_annotations_are_dropped() {
        assert_eq!(strip_annotations("{SUVbw}g/ml"), "g/ml");
        assert_eq!(strip_annotations("{pixels}"), "");
        assert_eq!(strip_annotations("mm"), "mm");
    }

    #[test]
    fn structured_report_without_values_is_not_a_document() {
        let root = item(
            "CONTAINER",
            "Empty",
            vec![seq(
                tags::CONTENT_SEQUENCE,
                vec![item("IMAGE", "Key image", vec![])],
            )],
        );
        assert_eq!(sr_text(&root), None);
        // Too deep: not a report anyone reads.
        let mut deep = item("TEXT", "Leaf", vec![el(tags::TEXT_VALUE, VR::UT, "x")]);
        for _ in 0..40 {
            deep = item(
                "CONTAINER",
                "Level",
                vec![seq(tags::CONTENT_SEQUENCE, vec![deep])],
            );
        }
        assert_eq!(sr_text(&deep), None);
    }
}
