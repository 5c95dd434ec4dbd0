//! QIDO-RS query parameters (PS3.18 §10.6.1): what the client asked
//! for, validated. Keys may be keywords (`PatientName`) or tags (`00100010`).
//! Anything we can't match exactly is refused with 400 rather than ignored:
//! silently dropping a filter would hand back other patients' studies.
//! Error messages name keys, never values (values are patient data).

use std::collections::HashSet;

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_dictionary_std::{StandardDataDictionary, tags};
use studylink_store::DateRange;

use super::dataset_json::parse_tag;
use super::is_uid_like;
use crate::WebError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Study,
    Series,
    Instance,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Study => "study",
            Level::Series => "series",
            Level::Instance => "instance",
        }
    }
}

/// Unset means "no filter"; `Some(vec![])` means "matches nothing" (e.g. a
/// UID list that excludes the study named in the URL).
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub study_uids: Option<Vec<String>>,
    pub patient_name: Option<String>,
    pub patient_id: Option<String>,
    pub accession: Option<String>,
    pub study_date: Option<DateRange>,
    pub modalities_in_study: Option<Vec<String>>,
    pub series_uids: Option<Vec<String>>,
    pub modalities: Option<Vec<String>>,
    pub sop_uids: Option<Vec<String>>,
    pub sop_classes: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub offset: i64,
    pub fuzzy: bool,
}

impl Search {
    /// Filters on study attributes beyond a single Study Instance UID: a
    /// series or instance query then first resolves the matching studies.
    pub fn has_study_filters(&self) -> bool {
        self.patient_name.is_some()
            || self.patient_id.is_some()
            || self.accession.is_some()
            || self.study_date.is_some()
            || self.modalities_in_study.is_some()
    }

    /// Narrows to the study (or series) named in the URL.
    pub fn scope(&mut self, study: Option<&str>, series: Option<&str>) {
        fn narrow(list: &mut Option<Vec<String>>, uid: Option<&str>) {
            if let Some(uid) = uid {
                *list = Some(match list.take() {
                    Some(l) if !l.iter().any(|u| u == uid) => vec![],
                    _ => vec![uid.to_string()],
                });
            }
        }
        narrow(&mut self.study_uids, study);
        narrow(&mut self.series_uids, series);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    StudyUid,
    PatientName,
    PatientId,
    Accession,
    StudyDate,
    ModalitiesInStudy,
    Modality,
    SeriesUid,
    SopUid,
    SopClass,
}

const KEYS: &[(Tag, Key, Level)] = &[
    (tags::STUDY_INSTANCE_UID, Key::StudyUid, Level::Study),
    (tags::PATIENT_NAME, Key::PatientName, Level::Study),
    (tags::PATIENT_ID, Key::PatientId, Level::Study),
    (tags::ACCESSION_NUMBER, Key::Accession, Level::Study),
    (tags::STUDY_DATE, Key::StudyDate, Level::Study),
    (tags::MODALITIES_IN_STUDY, Key::ModalitiesInStudy, Level::Study),
    (tags::MODALITY, Key::Modality, Level::Series),
    (tags::SERIES_INSTANCE_UID, Key::SeriesUid, Level::Series),
    (tags::SOP_INSTANCE_UID, Key::SopUid, Level::Instance),
    (tags::SOP_CLASS_UID, Key::SopClass, Level::Instance),
];

const SUPPORTED: &str = "StudyInstanceUID, PatientName, PatientID, AccessionNumber, StudyDate, ModalitiesInStudy, \
Modality, SeriesInstanceUID, SOPInstanceUID, SOPClassUID, limit, offset, includefield, fuzzymatching";

/// Parses the query of a search at `level`.
pub fn parse(params: &[(String, String)], level: Level) -> Result<Search, WebError> {
    let mut s = Search::default();
    let mut seen = HashSet::new();
    for (name, value) in params {
        if name.is_empty() {
            continue;
        }
        if !seen.insert(name.as_str()) && name != "includefield" {
            return Err(bad(format!("query parameter {} is repeated; give several values as a comma-separated list", shown(name))));
        }
        let value = value.trim();
        match name.as_str() {
            "limit" => s.limit = Some(number(name, value, 1)?),
            "offset" => s.offset = number(name, value, 0)?,
            "fuzzymatching" => {
                s.fuzzy = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("fuzzymatching must be true or false".into())),
                }
            }
            "includefield" => check_includefield(value)?,
            _ => apply(&mut s, name, value, level)?,
        }
    }
    Ok(s)
}

fn apply(s: &mut Search, name: &str, value: &str, level: Level) -> Result<(), WebError> {
    let tag = parse_tag(name)
        .or_else(|| StandardDataDictionary.by_name(name).map(|e| e.tag_range().inner()))
        .ok_or_else(|| bad(format!("unknown query parameter {}; supported: {SUPPORTED}", shown(name))))?;
    let label = StandardDataDictionary.by_tag(tag).map(|e| e.alias().to_string()).unwrap_or_else(|| name.to_string());
    let Some(&(_, key, key_level)) = KEYS.iter().find(|(t, _, _)| *t == tag) else {
        return Err(bad(format!("matching on {label} ({:04X},{:04X}) is not supported; supported: {SUPPORTED}", tag.0, tag.1)));
    };
    if key_level > level {
        let hint = if key == Key::Modality { "; to match studies by modality use ModalitiesInStudy" } else { "" };
        return Err(bad(format!("{label} can't be matched in a {}-level query{hint}", level.name())));
    }
    // An empty value (or a lone `*`) matches everything: DICOM universal matching.
    if value.is_empty() || value == "*" {
        return Ok(());
    }
    match key {
        Key::StudyUid => s.study_uids = Some(uids(&label, value)?),
        Key::SeriesUid => s.series_uids = Some(uids(&label, value)?),
        Key::SopUid => s.sop_uids = Some(uids(&label, value)?),
        Key::SopClass => s.sop_classes = Some(uids(&label, value)?),
        Key::PatientName => s.patient_name = Some(text(&label, value)?),
        Key::PatientId => s.patient_id = Some(text(&label, value)?),
        Key::Accession => s.accession = Some(text(&label, value)?),
        Key::StudyDate => s.study_date = Some(date_range(value)?),
        Key::Modality => s.modalities = Some(modalities(&label, value)?),
        Key::ModalitiesInStudy => s.modalities_in_study = Some(modalities(&label, value)?),
    }
    Ok(())
}

fn bad(msg: String) -> WebError {
    WebError::BadRequest(msg)
}

/// A key name as it may appear in an error: printable ASCII, bounded.
fn shown(name: &str) -> String {
    let s: String = name.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
    format!("'{s}'")
}

fn number(name: &str, value: &str, min: i64) -> Result<i64, WebError> {
    match value.parse::<i64>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(bad(format!("{name} must be an integer of at least {min}"))),
    }
}

fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split([',', '\\']).map(str::trim).filter(|v| !v.is_empty())
}

fn uids(label: &str, value: &str) -> Result<Vec<String>, WebError> {
    let list: Vec<String> = split_list(value).map(str::to_string).collect();
    if list.is_empty() || list.len() > 1000 || !list.iter().all(|u| is_uid_like(u)) {
        return Err(bad(format!("{label} must be a UID or a comma-separated list of up to 1000 UIDs")));
    }
    Ok(list)
}

fn text(label: &str, value: &str) -> Result<String, WebError> {
    if value.chars().count() > 256 || value.chars().any(char::is_control) {
        return Err(bad(format!("{label} must be at most 256 printable characters")));
    }
    Ok(value.to_string())
}

fn modalities(label: &str, value: &str) -> Result<Vec<String>, WebError> {
    let list: Vec<String> = split_list(value).map(str::to_ascii_uppercase).collect();
    let valid = |m: &String| m.len() <= 16 && m.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b' ');
    if list.is_empty() || list.len() > 50 || !list.iter().all(valid) {
        return Err(bad(format!("{label} must be a modality code (e.g. CT) or a comma-separated list of them")));
    }
    Ok(list)
}

/// `YYYYMMDD`, `YYYYMMDD-`, `-YYYYMMDD` or `YYYYMMDD-YYYYMMDD` (PS3.4 C.2.2.2.5).
pub fn date_range(value: &str) -> Result<DateRange, WebError> {
    let err = || bad("StudyDate must be YYYYMMDD, YYYYMMDD-, -YYYYMMDD or YYYYMMDD-YYYYMMDD".into());
    let date = |d: &str| -> Result<Option<String>, WebError> {
        let d = d.trim();
        if d.is_empty() {
            return Ok(None);
        }
        let ok = d.len() == 8
            && d.bytes().all(|b| b.is_ascii_digit())
            && chrono::NaiveDate::parse_from_str(d, "%Y%m%d").is_ok();
        if ok { Ok(Some(d.to_string())) } else { Err(err()) }
    };
    let range = match value.split_once('-') {
        None => {
            let d = date(value)?.ok_or_else(err)?;
            DateRange { from: Some(d.clone()), to: Some(d) }
        }
        Some((a, b)) => DateRange { from: date(a)?, to: date(b)? },
    };
    if range.from.is_none() && range.to.is_none() {
        return Err(err());
    }
    if let (Some(a), Some(b)) = (&range.from, &range.to)
        && a > b
    {
        return Err(bad("StudyDate range starts after it ends".into()));
    }
    Ok(range)
}

/// `includefield` names attributes to return (or `all`). We always return
/// every attribute the index holds, so valid names need no further action;
/// names that aren't attributes at all are refused.
fn check_includefield(value: &str) -> Result<(), WebError> {
    for field in value.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let known = field == "all"
            || field.split('.').all(|p| parse_tag(p).is_some() || StandardDataDictionary.by_name(p).is_some());
        if !known {
            return Err(bad(format!("includefield names an unknown attribute {}", shown(field))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn keywords_and_tags() {
        let s = parse(&p(&[("PatientName", "doe*"), ("00100020", "ID1"), ("limit", "5"), ("includefield", "all")]), Level::Study).unwrap();
        assert_eq!(s.patient_name.as_deref(), Some("doe*"));
        assert_eq!(s.patient_id.as_deref(), Some("ID1"));
        assert_eq!(s.limit, Some(5));
        let s = parse(&p(&[("StudyInstanceUID", "1.2,1.3"), ("ModalitiesInStudy", "ct")]), Level::Study).unwrap();
        assert_eq!(s.study_uids.unwrap(), vec!["1.2", "1.3"]);
        assert_eq!(s.modalities_in_study.unwrap(), vec!["CT"]);
        assert!(parse(&p(&[("PatientName", "")]), Level::Study).unwrap().patient_name.is_none());
    }

    #[test]
    fn refusals() {
        for (k, v, level) in [
            ("PatientNam", "x", Level::Study),
            ("StudyDescription", "x", Level::Study),
            ("Modality", "CT", Level::Study),
            ("SOPInstanceUID", "1.2", Level::Series),
            ("StudyInstanceUID", "1.2.*", Level::Study),
            ("StudyDate", "2020", Level::Study),
            ("StudyDate", "20200231", Level::Study),
            ("limit", "0", Level::Study),
            ("offset", "-1", Level::Study),
            ("includefield", "NotAnAttribute", Level::Study),
        ] {
            assert!(matches!(parse(&p(&[(k, v)]), level), Err(WebError::BadRequest(_))), "{k}={v}");
        }
    }

    #[test]
    fn date_ranges() {
        let r = date_range("20200101-").unwrap();
        assert_eq!((r.from.as_deref(), r.to), (Some("20200101"), None));
        let r = date_range("-20200101").unwrap();
        assert_eq!((r.from, r.to.as_deref()), (None, Some("20200101")));
        let r = date_range("20200101").unwrap();
        assert_eq!(r.from, r.to);
        assert!(date_range("20200102-20200101").is_err());
        assert!(date_range("-").is_err());
    }

    #[test]
    fn scope_intersects() {
        let mut s = Search { study_uids: Some(vec!["1.2".into()]), ..Default::default() };
        s.scope(Some("1.3"), None);
        assert_eq!(s.study_uids, Some(vec![]));
        let mut s = Search::default();
        s.scope(Some("1.3"), Some("1.4"));
        assert_eq!(s.study_uids, Some(vec!["1.3".to_string()]));
        assert_eq!(s.series_uids, Some(vec!["1.4".to_string()]));
    }
}
