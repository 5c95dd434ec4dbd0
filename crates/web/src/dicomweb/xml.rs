//! The Native DICOM Model (PS3.19 Annex A) for the STOW-RS response, because
//! common STOW clients (dcm4che `stowrs`, several gateways) ask for
//! `application/dicom+xml` there. Converts our JSON-model objects; handles the
//! value kinds the Store Instances Response uses (text, numbers, sequences).

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::StandardDataDictionary;
use serde_json::Value;

use super::dataset_json::parse_tag;

pub fn native_dicom_model(ds: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<NativeDicomModel xmlns=\"http://dicom.nema.org/PS3.19/models/NativeDICOM\">");
    attributes(ds, &mut out);
    out.push_str("</NativeDicomModel>\n");
    out
}

fn attributes(ds: &Value, out: &mut String) {
    let Some(map) = ds.as_object() else { return };
    for (tag, attr) in map {
        let vr = attr["vr"].as_str().unwrap_or("UN");
        let keyword = parse_tag(tag).and_then(|t| StandardDataDictionary.by_tag(t)).map(|e| e.alias().to_string());
        out.push_str(&format!("<DicomAttribute tag=\"{tag}\" vr=\"{vr}\""));
        if let Some(k) = keyword {
            out.push_str(&format!(" keyword=\"{}\"", escape(&k)));
        }
        out.push('>');
        let values = attr.get("Value").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        for (i, v) in values.iter().enumerate() {
            let n = i + 1;
            match v {
                Value::Object(_) if vr == "SQ" => {
                    out.push_str(&format!("<Item number=\"{n}\">"));
                    attributes(v, out);
                    out.push_str("</Item>");
                }
                Value::String(s) => out.push_str(&format!("<Value number=\"{n}\">{}</Value>", escape(s))),
                Value::Number(x) => out.push_str(&format!("<Value number=\"{n}\">{x}</Value>")),
                _ => {}
            }
        }
        out.push_str("</DicomAttribute>");
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn writes_sequences_and_values() {
        let ds = json!({
            "00081190": {"vr": "UR", "Value": ["http://x/studies/1.2"]},
            "00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": [49152]}}]}
        });
        let xml = super::native_dicom_model(&ds);
        assert!(xml.contains(r#"<DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"><Value number="1">http://x/studies/1.2</Value></DicomAttribute>"#));
        assert!(xml.contains(r#"<Item number="1"><DicomAttribute tag="00081197" vr="US" keyword="FailureReason"><Value number="1">49152</Value>"#));
    }
}
