//! The clinic settings form: what an admin submitted, checked field by field
//! into [`AccountSettings`], with a message id for each rejected field. Kept
//! apart from the page so the JSON API can apply the same rules.

use bytes::Bytes;
use studylink_model::{AccountSettings, DateRetention, DeidOptions, LINK_LIFETIMES_DAYS, Language};

use crate::auth::plausible_email;

/// Logos travel in every patient email: keep them small.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// Patients type the code on a phone; 5 wrong tries lock the link, so short is safe enough.
pub const LINK_CODE_CHARS: std::ops::RangeInclusive<usize> = 6..=64;

/// Offered in the country code field (each has a `country-N` message); any
/// other 1–3 digit code may be typed.
pub const COUNTRY_CODES: [u16; 26] = [
    34, 1, 33, 39, 44, 49, 51, 52, 53, 54, 56, 57, 58, 212, 351, 376, 502, 503, 504, 505, 506, 507, 591, 593, 595,
    598,
];

/// Offered in the time zone field; any IANA name may be typed.
pub const COMMON_ZONES: [&str; 20] = [
    "Europe/Madrid",
    "Atlantic/Canary",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Rome",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Caracas",
    "America/Santiago",
    "America/Argentina/Buenos_Aires",
    "America/Montevideo",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "UTC",
];

/// The form's fields as submitted (text as typed, checkboxes as present).
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub clinic_name: String,
    pub phone: String,
    pub email: String,
    pub website: String,
    pub default_language: String,
    pub time_zone: String,
    pub country_code: String,
    pub link_lifetime_days: String,
    pub landing_show_study_date: bool,
    pub landing_show_study_description: bool,
    pub deid_retain_dates: String,
    pub deid_retain_patient_characteristics: bool,
    pub deid_retain_device_identity: bool,
    pub deid_clean_descriptors: bool,
    pub deid_retain_safe_private: bool,
    /// Write-only: never filled from the saved settings.
    pub link_code_new: String,
    pub link_code_remove: bool,
    pub logo: Option<Bytes>,
    /// The upload went past [`MAX_LOGO_BYTES`] and was not kept.
    pub logo_too_big: bool,
    pub logo_remove: bool,
}

/// A raster logo recognised by its first bytes (never by what the browser claims).
#[derive(Debug, Clone)]
pub struct LogoUpload {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub extension: &'static str,
}

#[derive(Debug, Clone)]
pub enum LogoChange {
    Keep,
    Replace(LogoUpload),
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkCodeChange {
    Keep,
    Set(String),
    Remove,
}

/// A valid submission: the settings to save (logo and link code version as
/// they were) and the two changes that need more than a row update.
#[derive(Debug, Clone)]
pub struct Valid {
    pub settings: AccountSettings,
    pub logo: LogoChange,
    pub link_code: LinkCodeChange,
}

/// (field name, message id) for each rejected field.
pub type FieldErrors = Vec<(&'static str, &'static str)>;

impl SettingsInput {
    /// The form as the saved settings fill it.
    pub fn from_settings(s: &AccountSettings) -> SettingsInput {
        SettingsInput {
            clinic_name: s.clinic_name.clone(),
            phone: s.phone.clone().unwrap_or_default(),
            email: s.email.clone().unwrap_or_default(),
            website: s.website.clone().unwrap_or_default(),
            default_language: s.default_language.map(|l| l.as_str().to_owned()).unwrap_or_default(),
            time_zone: s.time_zone.clone(),
            country_code: s.country_code.map(|c| c.to_string()).unwrap_or_default(),
            link_lifetime_days: s.link_lifetime_days.to_string(),
            landing_show_study_date: s.landing_show_study_date,
            landing_show_study_description: s.landing_show_study_description,
            deid_retain_dates: s.deid.retain_dates.as_str().to_owned(),
            deid_retain_patient_characteristics: s.deid.retain_patient_characteristics,
            deid_retain_device_identity: s.deid.retain_device_identity,
            deid_clean_descriptors: s.deid.clean_descriptors,
            deid_retain_safe_private: s.deid.retain_safe_private,
            ..SettingsInput::default()
        }
    }

    /// Checks every field (all errors at once, so the admin fixes them in one go).
    pub fn validate(&self, current: &AccountSettings) -> Result<Valid, FieldErrors> {
        let mut errors: FieldErrors = Vec::new();
        let mut check = |field, ok: bool, id| {
            if !ok {
                errors.push((field, id));
            }
        };

        let clinic_name = self.clinic_name.trim().to_owned();
        check("clinic_name", !clinic_name.is_empty() && clinic_name.chars().count() <= 120 && !has_control(&clinic_name), "settings-error-name");
        let phone = optional(&self.phone);
        check("phone", phone.as_deref().is_none_or(plausible_phone), "settings-error-phone");
        let email = optional(&self.email).map(|e| e.to_lowercase());
        check("email", email.as_deref().is_none_or(|e| plausible_email(e) && e.len() <= 254), "settings-error-email");
        let website = optional(&self.website);
        check("website", website.as_deref().is_none_or(plausible_website), "settings-error-website");

        let default_language = match self.default_language.trim() {
            "" => Some(None),
            code => Language::parse(code).map(Some),
        };
        check("default_language", default_language.is_some(), "settings-error-language");
        let time_zone = self.time_zone.trim().to_owned();
        check("time_zone", time_zone.parse::<chrono_tz::Tz>().is_ok(), "settings-error-time-zone");
        let country_code = match self.country_code.trim().trim_start_matches('+') {
            "" => Some(None),
            c => parse_country_code(c).map(Some),
        };
        check("country_code", country_code.is_some(), "settings-error-country-code");
        let lifetime = self.link_lifetime_days.trim().parse::<i64>().ok().filter(|d| LINK_LIFETIMES_DAYS.contains(d));
        check("link_lifetime_days", lifetime.is_some(), "settings-error-lifetime");
        let retain_dates = DateRetention::parse(self.deid_retain_dates.trim());
        check("deid_retain_dates", retain_dates.is_some(), "settings-error-dates");

        let link_code = match (self.link_code_new.as_str(), self.link_code_remove) {
            ("", false) => LinkCodeChange::Keep,
            ("", true) => LinkCodeChange::Remove,
            (code, false) => {
                // Kept as typed: patients must type exactly this.
                check("link_code_new", LINK_CODE_CHARS.contains(&code.chars().count()) && !has_control(code), "settings-error-link-code");
                LinkCodeChange::Set(code.to_owned())
            }
            (_, true) => {
                check("link_code_new", false, "settings-error-link-code-both");
                LinkCodeChange::Keep
            }
        };

        let logo = if self.logo_too_big {
            check("logo", false, "settings-error-logo-too-big");
            LogoChange::Keep
        } else if let Some(bytes) = self.logo.clone().filter(|b| !b.is_empty()) {
            match sniff_logo(&bytes) {
                Some((content_type, extension)) => LogoChange::Replace(LogoUpload { bytes, content_type, extension }),
                None => {
                    check("logo", false, "settings-error-logo-type");
                    LogoChange::Keep
                }
            }
        } else if self.logo_remove {
            LogoChange::Remove
        } else {
            LogoChange::Keep
        };

        let (Some(default_language), Some(country_code), Some(link_lifetime_days), Some(retain_dates)) =
            (default_language, country_code, lifetime, retain_dates)
        else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let settings = AccountSettings {
            clinic_name,
            phone,
            email,
            website,
            default_language,
            time_zone,
            country_code,
            link_lifetime_days,
            landing_show_study_date: self.landing_show_study_date,
            landing_show_study_description: self.landing_show_study_description,
            deid: DeidOptions {
                retain_dates,
                retain_patient_characteristics: self.deid_retain_patient_characteristics,
                retain_device_identity: self.deid_retain_device_identity,
                clean_descriptors: self.deid_clean_descriptors,
                retain_safe_private: self.deid_retain_safe_private,
            },
            ..current.clone()
        };
        Ok(Valid { settings, logo, link_code })
    }
}

fn optional(v: &str) -> Option<String> {
    Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_owned)
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn plausible_phone(p: &str) -> bool {
    p.len() <= 40
        && p.chars().filter(char::is_ascii_digit).count() >= 3
        && p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

fn plausible_website(w: &str) -> bool {
    let rest = w.strip_prefix("https://").or_else(|| w.strip_prefix("http://"));
    w.len() <= 200 && rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) && !w.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'`".contains(c))
}

/// E.164 country calling codes have 1 to 3 digits and never start with 0.
fn parse_country_code(c: &str) -> Option<u16> {
    if c.is_empty() || c.len() > 3 || !c.bytes().all(|b| b.is_ascii_digit()) || c.starts_with('0') {
        return None;
    }
    c.parse().ok()
}

/// PNG or JPEG by signature: (content type, file extension).
pub fn sniff_logo(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_input() -> SettingsInput {
        SettingsInput::from_settings(&AccountSettings::defaults("Clínica"))
    }

    fn errors(input: SettingsInput) -> FieldErrors {
        input.validate(&AccountSettings::defaults("Clínica")).unwrap_err()
    }

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let current = AccountSettings::defaults("Clínica");
        let v = valid_input().validate(&current).unwrap();
        assert_eq!(v.settings, current);
        assert_eq!(v.link_code, LinkCodeChange::Keep);
        assert!(matches!(v.logo, LogoChange::Keep));
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases: Vec<(SettingsInput, (&str, &str))> = vec![
            (SettingsInput { link_lifetime_days: "45".into(), ..valid_input() }, ("link_lifetime_days", "settings-error-lifetime")),
            (SettingsInput { time_zone: "Mars/Base".into(), ..valid_input() }, ("time_zone", "settings-error-time-zone")),
            (SettingsInput { country_code: "3456".into(), ..valid_input() }, ("country_code", "settings-error-country-code")),
            (SettingsInput { country_code: "034".into(), ..valid_input() }, ("country_code", "settings-error-country-code")),
            (SettingsInput { clinic_name: "  ".into(), ..valid_input() }, ("clinic_name", "settings-error-name")),
            (SettingsInput { phone: "call me".into(), ..valid_input() }, ("phone", "settings-error-phone")),
            (SettingsInput { email: "nope".into(), ..valid_input() }, ("email", "settings-error-email")),
            (SettingsInput { website: "javascript:alert(1)".into(), ..valid_input() }, ("website", "settings-error-website")),
            (SettingsInput { default_language: "fr".into(), ..valid_input() }, ("default_language", "settings-error-language")),
            (SettingsInput { deid_retain_dates: "keep".into(), ..valid_input() }, ("deid_retain_dates", "settings-error-dates")),
            (SettingsInput { link_code_new: "12345".into(), ..valid_input() }, ("link_code_new", "settings-error-link-code")),
            (SettingsInput { link_code_new: "123456".into(), link_code_remove: true, ..valid_input() }, ("link_code_new", "settings-error-link-code-both")),
            (SettingsInput { logo: Some(Bytes::from_static(b"<svg onload=alert(1)>")), ..valid_input() }, ("logo", "settings-error-logo-type")),
            (SettingsInput { logo_too_big: true, ..valid_input() }, ("logo", "settings-error-logo-too-big")),
        ];
        for (input, expected) in cases {
            assert_eq!(errors(input), vec![expected]);
        }
        let many = SettingsInput { link_lifetime_days: "45".into(), time_zone: "Mars/Base".into(), ..valid_input() };
        assert_eq!(errors(many).len(), 2, "all problems are reported at once");
    }

    #[test]
    fn accepted_values_are_normalised() {
        let input = SettingsInput {
            clinic_name: "  Clínica del Sol ".into(),
            email: "Citas@Sol.Example".into(),
            country_code: "+34".into(),
            time_zone: " America/Argentina/Buenos_Aires ".into(),
            default_language: "es".into(),
            link_lifetime_days: "365".into(),
            link_code_new: " código 2026 ".into(),
            logo: Some(Bytes::from_static(b"\x89PNG\r\n\x1a\n....")),
            ..valid_input()
        };
        let v = input.validate(&AccountSettings::defaults("x")).unwrap();
        assert_eq!(v.settings.clinic_name, "Clínica del Sol");
        assert_eq!(v.settings.email.as_deref(), Some("citas@sol.example"));
        assert_eq!(v.settings.country_code, Some(34));
        assert_eq!(v.settings.time_zone, "America/Argentina/Buenos_Aires");
        assert_eq!(v.settings.default_language, Some(Language::Es));
        assert_eq!(v.settings.link_lifetime_days, 365);
        assert_eq!(v.link_code, LinkCodeChange::Set(" código 2026 ".into()), "the code is kept exactly as typed");
        assert!(matches!(v.logo, LogoChange::Replace(LogoUpload { content_type: "image/png", .. })));
    }

    #[test]
    fn every_suggestion_is_valid_and_named() {
        use crate::pages::i18n::{Lang, has_message};
        for zone in COMMON_ZONES {
            assert!(zone.parse::<chrono_tz::Tz>().is_ok(), "{zone}");
        }
        for code in COUNTRY_CODES {
            assert_eq!(parse_country_code(&code.to_string()), Some(code));
            for lang in Lang::ALL {
                assert!(has_message(lang, &format!("country-{code}")), "country-{code} ({})", lang.code());
            }
        }
    }

    #[test]
    fn logos_are_recognised_by_content() {
        assert_eq!(sniff_logo(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(("image/jpeg", "jpg")));
        assert_eq!(sniff_logo(b"GIF89a"), None);
        assert_eq!(sniff_logo(b""), None);
    }
}
