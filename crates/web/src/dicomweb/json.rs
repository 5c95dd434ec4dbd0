//! Building objects of the DICOM JSON Model (PS3.18 Annex F) from index rows:
//! QIDO-RS results and the STOW-RS Store Instances Response.

use dicom_core::Tag;
use serde_json::{Map, Value, json};

/// `"GGGGEEEE"`, the key of an attribute in the JSON model (PS3.18 Annex F).
pub fn tag_key(tag: Tag) -> String {
    format!("{:04X}{:04X}", tag.0, tag.1)
}

/// VRs whose values are never multi-valued, so a backslash is text, not a separator.
fn single_valued(vr: &str) -> bool {
    matches!(vr, "LT" | "ST" | "UT" | "UR")
}

/// A Person Name value: the `=`-separated component groups become
/// `Alphabetic`, `Ideographic` and `Phonetic`; empty groups are left out.
pub fn person_name(pn: &str) -> Value {
    let mut obj = Map::new();
    for (group, key) in pn.splitn(3, '=').zip(["Alphabetic", "Ideographic", "Phonetic"]) {
        let group = group.trim_end_matches([' ', '\0']);
        if !group.is_empty() {
            obj.insert(key.into(), Value::String(group.into()));
        }
    }
    Value::Object(obj)
}

/// A data set under construction. Keys are sorted (serde_json's map is a
/// BTreeMap), which for `GGGGEEEE` keys is ascending tag order, as Annex F asks.
#[derive(Default)]
pub struct Dataset(Map<String, Value>);

impl Dataset {
    pub fn new() -> Self {
        Dataset(Map::new())
    }

    /// An attribute with a string VR. `None` or empty gives the attribute with
    /// no `Value` (how the JSON model writes an empty Type 2 attribute).
    pub fn text(&mut self, tag: Tag, vr: &str, value: Option<&str>) -> &mut Self {
        let values: Vec<Value> = match value.map(|v| v.trim_end_matches([' ', '\0'])) {
            Some(v) if !v.is_empty() => {
                if single_valued(vr) {
                    vec![Value::String(v.into())]
                } else {
                    v.split('\\').map(|s| str_or_null(s.trim())).collect()
                }
            }
            _ => vec![],
        };
        self.put(tag, vr, values)
    }

    pub fn texts(&mut self, tag: Tag, vr: &str, values: &[String]) -> &mut Self {
        self.put(tag, vr, values.iter().map(|s| str_or_null(s)).collect())
    }

    pub fn pn(&mut self, tag: Tag, value: Option<&str>) -> &mut Self {
        let values = match value {
            Some(v) if !v.trim().is_empty() => v.split('\\').map(person_name).collect(),
            _ => vec![],
        };
        self.put(tag, "PN", values)
    }

    /// IS, US, UL …: numbers in JSON.
    pub fn int(&mut self, tag: Tag, vr: &str, value: Option<i64>) -> &mut Self {
        self.put(tag, vr, value.map(|v| vec![json!(v)]).unwrap_or_default())
    }

    pub fn seq(&mut self, tag: Tag, items: Vec<Dataset>) -> &mut Self {
        self.put(tag, "SQ", items.into_iter().map(Dataset::into_value).collect())
    }

    pub fn put(&mut self, tag: Tag, vr: &str, values: Vec<Value>) -> &mut Self {
        let mut attr = Map::new();
        attr.insert("vr".into(), Value::String(vr.into()));
        if !values.is_empty() {
            attr.insert("Value".into(), Value::Array(values));
        }
        self.0.insert(tag_key(tag), Value::Object(attr));
        self
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// Empty values inside a multi-valued attribute are `null`.
fn str_or_null(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { Value::String(s.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_dictionary_std::tags;

    #[test]
    fn person_names_split_into_groups() {
        assert_eq!(person_name("Doe^John"), json!({"Alphabetic": "Doe^John"}));
        assert_eq!(
            person_name("Yamada^Tarou=山田^太郎=やまだ^たろう"),
            json!({"Alphabetic": "Yamada^Tarou", "Ideographic": "山田^太郎", "Phonetic": "やまだ^たろう"})
        );
        assert_eq!(person_name("=山田^太郎"), json!({"Ideographic": "山田^太郎"}));
    }

    #[test]
    fn empty_and_multi_values() {
        let mut ds = Dataset::new();
        ds.text(tags::ACCESSION_NUMBER, "SH", None)
            .text(tags::MODALITIES_IN_STUDY, "CS", Some("CT\\MR"))
            .text(tags::STUDY_DESCRIPTION, "LO", Some("a\\b"))
            .int(tags::NUMBER_OF_STUDY_RELATED_SERIES, "IS", Some(3));
        let v = ds.into_value();
        assert_eq!(v["00080050"], json!({"vr": "SH"}));
        assert_eq!(v["00080061"]["Value"], json!(["CT", "MR"]));
        assert_eq!(v["00201206"]["Value"], json!([3]));
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }
}
