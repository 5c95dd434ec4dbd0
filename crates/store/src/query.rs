//! Query and row types for the DICOM index (QIDO-RS and the Studies screen).

use serde::{Deserialize, Serialize};
use studylink_model::{InstanceId, Millis, SeriesId, StudyId};

/// An inclusive `YYYYMMDD` range; either end may be open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 100,
            offset: 0,
        }
    }
}

/// Study-level filters. Text matches follow DICOM rules: `*` and `?` are
/// wildcards, otherwise exact; PatientName matching is case-insensitive.
#[derive(Debug, Clone, Default)]
pub struct StudyQuery {
    /// One study by its row id (a share records the id, not the UID).
    pub id: Option<StudyId>,
    pub study_uid: Option<String>,
    pub patient_name: Option<String>,
    pub patient_id: Option<String>,
    pub accession: Option<String>,
    pub study_date: Option<DateRange>,
    /// Matches studies having at least one series with this modality.
    pub modality: Option<String>,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct SeriesQuery {
    pub study_uid: Option<String>,
    pub series_uid: Option<String>,
    pub modality: Option<String>,
    pub page: Page,
}

#[derive(Debug, Clone, Default)]
pub struct InstanceQuery {
    pub study_uid: Option<String>,
    pub series_uid: Option<String>,
    pub sop_uid: Option<String>,
    pub sop_class_uid: Option<String>,
    pub page: Page,
}

/// One study with its patient, as QIDO-RS and the Studies screen show it.
/// Sorted newest first (study date/time, then received time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyRow {
    pub id: StudyId,
    pub study_uid: String,
    pub patient_name: Option<String>,
    pub patient_id: Option<String>,
    pub patient_birth_date: Option<String>,
    pub patient_sex: Option<String>,
    pub study_id: Option<String>,
    pub accession: Option<String>,
    pub date: Option<String>,
    pub time: Option<String>,
    pub description: Option<String>,
    pub referring_physician: Option<String>,
    /// Distinct modalities of its series, sorted.
    pub modalities: Vec<String>,
    pub num_series: i64,
    pub num_instances: i64,
    pub received_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRow {
    pub id: SeriesId,
    pub study_uid: String,
    pub series_uid: String,
    pub modality: Option<String>,
    pub number: Option<i64>,
    pub description: Option<String>,
    pub num_instances: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRow {
    pub id: InstanceId,
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub sop_class_uid: String,
    pub transfer_syntax: String,
    pub number: Option<i64>,
    pub frames: i64,
    pub rows: Option<i64>,
    pub columns: Option<i64>,
    pub size_bytes: i64,
    pub blob_key: String,
    pub received_at: Millis,
}

/// The Studies screen's search. `text` holds words matched against the
/// patient's name (any order, each word a prefix of a name part, case and
/// accents ignored), the patient ID and the accession number (also by prefix,
/// split into parts at `-`, `.`, `/` …); every word must match. The filters
/// narrow further. Newest first, like [`StudyQuery`].
#[derive(Debug, Clone, Default)]
pub struct StudySearch {
    pub text: Option<String>,
    pub date: Option<DateRange>,
    /// Studies having at least one series of this modality.
    pub modality: Option<String>,
    pub page: Page,
}

/// One page of a [`StudySearch`] and how many studies match in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudySearchPage {
    pub rows: Vec<StudyRow>,
    pub total: i64,
}
