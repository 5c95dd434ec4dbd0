//! A clinic's own settings (the vendor's "account settings"): how it presents
//! itself to patients, how long patient links live, the language and time zone
//! of its staff pages, and how images are de-identified before sharing.
//!
//! Validation that needs more than this crate has (IANA zone names) lives with
//! the forms and the API; the database CHECKs the closed sets again.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// The choices of the "Default patient links expire" drop-down.
pub const LINK_LIFETIMES_DAYS: [i64; 5] = [7, 30, 90, 180, 365];
/// The vendor reports 90 days as the most common choice.
pub const DEFAULT_LINK_LIFETIME_DAYS: i64 = 90;
/// Until a clinic says where it is, times are shown in UTC and labelled so.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "en" => Some(Language::En),
            "es" => Some(Language::Es),
            _ => None,
        }
    }
}

/// PS3.15 "Retain Longitudinal Temporal Information": what happens to dates
/// inside the shared DICOM files (the landing page's exam date is separate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateRetention {
    /// The Basic profile: dates are removed.
    #[default]
    Remove,
    /// Full Dates option.
    Full,
    /// Modified Dates option: shifted by a per-share offset.
    Shift,
}

impl DateRetention {
    pub const ALL: [DateRetention; 3] = [DateRetention::Remove, DateRetention::Full, DateRetention::Shift];

    pub fn as_str(self) -> &'static str {
        match self {
            DateRetention::Remove => "remove",
            DateRetention::Full => "full",
            DateRetention::Shift => "shift",
        }
    }

    pub fn parse(s: &str) -> Option<DateRetention> {
        DateRetention::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// The options of the de-identification profile. Field names and serde names
/// match `studylink_deid::Profile`, so one converts to the other through serde.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeidOptions {
    pub retain_dates: DateRetention,
    pub retain_patient_characteristics: bool,
    pub retain_device_identity: bool,
    pub clean_descriptors: bool,
    pub retain_safe_private: bool,
}

/// The clinic's logo in the blob store. Only raster types: an SVG can carry script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logo {
    pub blob_key: String,
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
}

impl Logo {
    /// Changes whenever the logo does (each upload gets a new key), so URLs
    /// that carry it can be cached for ever.
    pub fn version(&self) -> &str {
        let name = self.blob_key.rsplit('/').next().unwrap_or("");
        let stem = name.split('.').next().unwrap_or(name);
        stem.strip_prefix("logo-").unwrap_or(stem)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    /// Shown to patients (emails, SMS, landing page). Defaults to the account's name.
    pub clinic_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub logo: Option<Logo>,
    /// `None`: staff pages follow each browser's Accept-Language.
    pub default_language: Option<Language>,
    /// An IANA name, e.g. `Europe/Madrid`.
    pub time_zone: String,
    /// E.164 country calling code used for phone numbers typed without `+`
    /// (34 for Spain). `None`: staff must type the `+`.
    pub country_code: Option<u16>,
    /// One of [`LINK_LIFETIMES_DAYS`].
    pub link_lifetime_days: i64,
    /// What the patient's landing page may show besides the images.
    pub landing_show_study_date: bool,
    pub landing_show_study_description: bool,
    pub deid: DeidOptions,
    /// The patient link code in force (its version), if any. Read-only here:
    /// only `Store::set_link_code` changes it, and the code itself never
    /// travels with the settings.
    pub link_code_version: Option<i64>,
    /// `None` until first saved.
    pub updated_at: Option<Millis>,
}

impl AccountSettings {
    pub fn defaults(account_name: &str) -> AccountSettings {
        AccountSettings {
            clinic_name: account_name.to_owned(),
            phone: None,
            email: None,
            website: None,
            logo: None,
            default_language: None,
            time_zone: DEFAULT_TIME_ZONE.to_owned(),
            country_code: None,
            link_lifetime_days: DEFAULT_LINK_LIFETIME_DAYS,
            landing_show_study_date: false,
            landing_show_study_description: false,
            deid: DeidOptions::default(),
            link_code_version: None,
            updated_at: None,
        }
    }

    /// Names of the editable fields that differ, for the audit log (names
    /// only: values may be contact data).
    pub fn changed_fields(&self, new: &AccountSettings) -> Vec<&'static str> {
        let (a, b) = (self, new);
        let pairs = [
            ("clinic_name", a.clinic_name != b.clinic_name),
            ("phone", a.phone != b.phone),
            ("email", a.email != b.email),
            ("website", a.website != b.website),
            ("logo", a.logo != b.logo),
            ("default_language", a.default_language != b.default_language),
            ("time_zone", a.time_zone != b.time_zone),
            ("country_code", a.country_code != b.country_code),
            ("link_lifetime_days", a.link_lifetime_days != b.link_lifetime_days),
            ("landing_show_study_date", a.landing_show_study_date != b.landing_show_study_date),
            ("landing_show_study_description", a.landing_show_study_description != b.landing_show_study_description),
            ("deid.retain_dates", a.deid.retain_dates != b.deid.retain_dates),
            (
                "deid.retain_patient_characteristics",
                a.deid.retain_patient_characteristics != b.deid.retain_patient_characteristics,
            ),
            ("deid.retain_device_identity", a.deid.retain_device_identity != b.deid.retain_device_identity),
            ("deid.clean_descriptors", a.deid.clean_descriptors != b.deid.clean_descriptors),
            ("deid.retain_safe_private", a.deid.retain_safe_private != b.deid.retain_safe_private),
        ];
        pairs.into_iter().filter(|(_, changed)| *changed).map(|(name, _)| name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_conservative_choices() {
        let s = AccountSettings::defaults("Clínica Sol");
        assert_eq!(s.clinic_name, "Clínica Sol");
        assert_eq!(s.link_lifetime_days, 90);
        assert!(LINK_LIFETIMES_DAYS.contains(&s.link_lifetime_days));
        assert_eq!(s.time_zone, "UTC");
        assert!(!s.landing_show_study_date && !s.landing_show_study_description);
        assert_eq!(s.deid.retain_dates, DateRetention::Remove);
        assert_eq!(s.link_code_version, None);
    }

    #[test]
    fn changed_fields_names_only_what_changed() {
        let a = AccountSettings::defaults("A");
        assert!(a.changed_fields(&a).is_empty());
        let mut b = a.clone();
        b.phone = Some("+34 900 000 000".into());
        b.deid.clean_descriptors = true;
        b.link_code_version = Some(3); // not an editable field
        assert_eq!(a.changed_fields(&b), vec!["phone", "deid.clean_descriptors"]);
    }

    #[test]
    fn logo_version_is_the_uuid_in_its_key() {
        let l = Logo { blob_key: "settings/1/logo-0a1b.png".into(), content_type: "image/png".into() };
        assert_eq!(l.version(), "0a1b");
    }

    #[test]
    fn names_round_trip() {
        for d in DateRetention::ALL {
            assert_eq!(DateRetention::parse(d.as_str()), Some(d));
        }
        for l in Language::ALL {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
        assert_eq!(Language::parse("fr"), None);
    }
}
