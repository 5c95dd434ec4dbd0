//! `POST /api/v1/contacts/check`: the send dialog's live preview of what staff
//! typed — the email and the E.164 phone it will use, errors and warnings in
//! the caller's language, and a corrected field when the email's domain looks
//! misspelt. No side effects, and the input is patient data: never logged.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use studylink_model::AccountSettings;
use studylink_notify::{ContactError, ContactWarning, PatientContacts};

use super::{ApiError, ApiJson, Caller, caller_lang, notify_lang};
use crate::AppState;
use crate::pages::i18n::Lang;

/// The same country rule as the HTML send dialog.
pub use crate::pages::send::clinic_country;

pub fn parse_contacts(
    input: &str,
    settings: &AccountSettings,
) -> Result<PatientContacts, ContactError> {
    PatientContacts::parse(input, clinic_country(settings))
}

/// `[{key, message}]` for the parse's warnings.
pub fn warnings_json(contacts: &PatientContacts, lang: Lang) -> Value {
    let l = notify_lang(lang);
    Value::Array(
        contacts
            .warnings
            .iter()
            .map(|w| json!({ "key": w.key(), "message": w.message(l) }))
            .collect(),
    )
}

/// The field as it would be with the suggested email, if the domain looks misspelt.
fn suggestion(contacts: &PatientContacts) -> Option<String> {
    let (entered, fixed) = contacts.warnings.iter().find_map(|w| match w {
        ContactWarning::EmailTypo {
            entered,
            suggestion,
        } => Some((entered, suggestion)),
        _ => None,
    })?;
    let fixed = PatientContacts {
        emails: contacts
            .emails
            .iter()
            .map(|e| {
                if e == entered {
                    fixed.clone()
                } else {
                    e.clone()
                }
            })
            .collect(),
        ..contacts.clone()
    };
    Some(fixed.display())
}

#[derive(Deserialize)]
pub struct CheckBody {
    #[serde(default)]
    contacts: String,
}

pub async fn check(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CheckBody>,
) -> Result<Json<Value>, ApiError> {
    let settings = state.store.account_settings(p.account_id).await?;
    let lang = caller_lang(&headers, &settings);
    let l = notify_lang(lang);
    let country = clinic_country(&settings);
    let out = match PatientContacts::parse(&body.contacts, country) {
        Ok(c) => json!({
            "ok": true,
            "email": c.email().map(|e| e.as_str()),
            "phone": c.phone().map(|p| p.as_str()),
            "phone_display": c.phone().map(|p| p.display()),
            "display": c.display(),
            "channels": c.email().map(|_| "email").into_iter().chain(c.phone().map(|_| "sms")).collect::<Vec<_>>(),
            "errors": [],
            "warnings": warnings_json(&c, lang),
            "suggestion": suggestion(&c),
            "country_calling_code": country.calling_code(),
        }),
        Err(e) => json!({
            "ok": false,
            "email": null,
            "phone": null,
            "phone_display": null,
            "display": null,
            "channels": [],
            "errors": [{ "key": e.key(), "message": e.message(l) }],
            "warnings": [],
            "suggestion": null,
            "country_calling_code": country.calling_code(),
        }),
    };
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use studylink_notify::CountryCode;
    use super::*;

    #[test]
    fn the_clinic_country_reads_numbers_without_plus() {
        let mut s = AccountSettings::defaults("C");
        assert_eq!(clinic_country(&s), CountryCode::SPAIN);
        s.country_code = Some(1);
        assert_eq!(clinic_country(&s), CountryCode::US);
        let c = parse_contacts("(415) 555-2671", &s).unwrap();
        assert_eq!(c.phone().unwrap().as_str(), "+14155552671");
    }

    #[test]
    fn a_misspelt_domain_gets_a_corrected_field() {
        let c = PatientContacts::parse("ana@gmial.com, 612 345 678", CountryCode::SPAIN).unwrap();
        assert_eq!(
            suggestion(&c).as_deref(),
            Some("ana@gmail.com, +34 612 345 678")
        );
        let c = PatientContacts::parse("ana@example.org", CountryCode::SPAIN).unwrap();
        assert_eq!(suggestion(&c), None);
    }
}
