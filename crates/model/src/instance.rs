use serde::{Deserialize, Serialize};

use crate::Contact;

/// Everything the index keeps about one received instance, read from its header.
/// Strings are decoded to UTF-8 using the object's Specific Character Set and
/// trimmed of DICOM padding. Empty DICOM values become `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceMeta {
    pub patient: PatientInfo,
    pub study: StudyInfo,
    pub series: SeriesInfo,
    pub instance: InstanceInfo,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientInfo {
    /// Patient ID (0010,0020).
    pub patient_id: Option<String>,
    /// Issuer of Patient ID (0010,0021).
    pub issuer: Option<String>,
    /// Patient's Name (0010,0010) in DICOM PN form (`FAMILY^GIVEN^…`).
    pub name: Option<String>,
    /// Patient's Birth Date (0010,0030), `YYYYMMDD`.
    pub birth_date: Option<String>,
    /// Patient's Sex (0010,0040).
    pub sex: Option<String>,
}

impl PatientInfo {
    /// The key that decides whether two instances belong to the same patient row
    /// within a clinic. The ID (with its issuer) decides when present; devices that
    /// leave it empty fall back to name + birth date.
    pub fn key(&self) -> String {
        match &self.patient_id {
            Some(id) => format!("id:{}|{}", self.issuer.as_deref().unwrap_or(""), id),
            None => format!(
                "nb:{}|{}",
                self.name.as_deref().unwrap_or(""),
                self.birth_date.as_deref().unwrap_or("")
            ),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyInfo {
    pub study_uid: String,
    pub study_id: Option<String>,
    pub accession: Option<String>,
    /// `YYYYMMDD`.
    pub date: Option<String>,
    /// `HHMMSS[.FFFFFF]`.
    pub time: Option<String>,
    pub description: Option<String>,
    pub referring_physician: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub series_uid: String,
    pub modality: Option<String>,
    pub number: Option<i64>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceInfo {
    pub sop_uid: String,
    pub sop_class_uid: String,
    pub transfer_syntax: String,
    pub number: Option<i64>,
    /// Number of Frames; 1 for single-frame images, 0 for objects without pixels.
    pub frames: i64,
    pub rows: Option<i64>,
    pub columns: Option<i64>,
}
