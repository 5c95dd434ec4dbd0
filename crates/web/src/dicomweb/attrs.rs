//! QIDO-RS result attributes from index rows (PS3.18 §10.6.3, the
//! default attributes of each level). A level's attributes are written after those of the
//! levels above it, so Retrieve URL ends up naming the most specific resource.

use dicom_dictionary_std::tags;
use studylink_store::{InstanceRow, SeriesRow, StudyRow};

use super::Urls;
use super::json::Dataset;

/// The index holds decoded text; JSON is UTF-8.
const UTF8: &str = "ISO_IR 192";

pub fn study(ds: &mut Dataset, r: &StudyRow, urls: &Urls) {
    ds.text(tags::SPECIFIC_CHARACTER_SET, "CS", Some(UTF8))
        .text(tags::STUDY_DATE, "DA", r.date.as_deref())
        .text(tags::STUDY_TIME, "TM", r.time.as_deref())
        .text(tags::ACCESSION_NUMBER, "SH", r.accession.as_deref())
        .text(tags::INSTANCE_AVAILABILITY, "CS", Some("ONLINE"))
        .texts(tags::MODALITIES_IN_STUDY, "CS", &r.modalities)
        .pn(tags::REFERRING_PHYSICIAN_NAME, r.referring_physician.as_deref())
        .text(tags::STUDY_DESCRIPTION, "LO", r.description.as_deref())
        .text(tags::RETRIEVE_URL, "UR", Some(&urls.study(&r.study_uid)))
        .pn(tags::PATIENT_NAME, r.patient_name.as_deref())
        .text(tags::PATIENT_ID, "LO", r.patient_id.as_deref())
        .text(tags::PATIENT_BIRTH_DATE, "DA", r.patient_birth_date.as_deref())
        .text(tags::PATIENT_SEX, "CS", r.patient_sex.as_deref())
        .text(tags::STUDY_INSTANCE_UID, "UI", Some(&r.study_uid))
        .text(tags::STUDY_ID, "SH", r.study_id.as_deref())
        .int(tags::NUMBER_OF_STUDY_RELATED_SERIES, "IS", Some(r.num_series))
        .int(tags::NUMBER_OF_STUDY_RELATED_INSTANCES, "IS", Some(r.num_instances));
}

pub fn series(ds: &mut Dataset, r: &SeriesRow, urls: &Urls) {
    ds.text(tags::SPECIFIC_CHARACTER_SET, "CS", Some(UTF8))
        .text(tags::MODALITY, "CS", r.modality.as_deref())
        .text(tags::SERIES_DESCRIPTION, "LO", r.description.as_deref())
        .text(tags::RETRIEVE_URL, "UR", Some(&urls.series(&r.study_uid, &r.series_uid)))
        .text(tags::STUDY_INSTANCE_UID, "UI", Some(&r.study_uid))
        .text(tags::SERIES_INSTANCE_UID, "UI", Some(&r.series_uid))
        .int(tags::SERIES_NUMBER, "IS", r.number)
        .int(tags::NUMBER_OF_SERIES_RELATED_INSTANCES, "IS", Some(r.num_instances));
}

pub fn instance(ds: &mut Dataset, r: &InstanceRow, urls: &Urls) {
    ds.text(tags::SPECIFIC_CHARACTER_SET, "CS", Some(UTF8))
        .text(tags::SOP_CLASS_UID, "UI", Some(&r.sop_class_uid))
        .text(tags::SOP_INSTANCE_UID, "UI", Some(&r.sop_uid))
        .text(tags::INSTANCE_AVAILABILITY, "CS", Some("ONLINE"))
        .text(tags::RETRIEVE_URL, "UR", Some(&urls.instance(&r.study_uid, &r.series_uid, &r.sop_uid)))
        .text(tags::AVAILABLE_TRANSFER_SYNTAX_UID, "UI", Some(&r.transfer_syntax))
        .text(tags::STUDY_INSTANCE_UID, "UI", Some(&r.study_uid))
        .text(tags::SERIES_INSTANCE_UID, "UI", Some(&r.series_uid))
        .int(tags::INSTANCE_NUMBER, "IS", r.number)
        .int(tags::NUMBER_OF_FRAMES, "IS", (r.frames > 0).then_some(r.frames))
        .int(tags::ROWS, "US", r.rows)
        .int(tags::COLUMNS, "US", r.columns);
}
