//! The clinic's settings over the API (administrators and API keys only):
//!
//! * `GET /api/v1/settings`;
//! * `PATCH /api/v1/settings` — any subset of the fields; the result is
//!   checked with the settings page's own rules
//!   ([`SettingsInput::validate`]) and saved (the store audits the names of
//!   the fields that changed);
//! * `PUT /api/v1/settings/link-code` `{"code": "…"}` / `DELETE` — the
//!   patient link code, hashed like the settings page does (argon2id) and
//!   never returned.
//!
//! The logo is uploaded on the settings page only; here it is read-only.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use studylink_model::{AccountId, AccountSettings, Role};

use super::{ApiError, ApiJson, Caller, FieldError, caller_lang, rfc3339_opt};
use crate::AppState;
use crate::auth::{Principal, hash_password};
use crate::pages::i18n::{self, Lang};
use crate::pages::settings::logo_url;
use crate::pages::settings_form::SettingsInput;

/// Administrators, and API keys (which act for their clinic).
fn require_admin(p: &Principal, lang: Lang) -> Result<(), ApiError> {
    match p.role {
        None | Some(Role::Admin) => Ok(()),
        Some(_) => Err(ApiError::t(
            StatusCode::FORBIDDEN,
            "forbidden",
            lang,
            "api-error-admin-only",
        )),
    }
}

async fn load(
    state: &AppState,
    p: &Principal,
    headers: &HeaderMap,
) -> Result<(AccountSettings, Lang), ApiError> {
    let settings = state.store.account_settings(p.account_id).await?;
    let lang = caller_lang(headers, &settings);
    require_admin(p, lang)?;
    Ok((settings, lang))
}

pub fn settings_json(account: AccountId, s: &AccountSettings) -> Value {
    json!({
        "clinic_name": s.clinic_name,
        "phone": s.phone,
        "email": s.email,
        "website": s.website,
        "logo_url": s.logo.as_ref().map(|l| logo_url(account, l)),
        "default_language": s.default_language.map(|l| l.as_str()),
        "time_zone": s.time_zone,
        "country_code": s.country_code,
        "link_lifetime_days": s.link_lifetime_days,
        "landing_show_study_date": s.landing_show_study_date,
        "landing_show_study_description": s.landing_show_study_description,
        "deid": {
            "retain_dates": s.deid.retain_dates.as_str(),
            "retain_patient_characteristics": s.deid.retain_patient_characteristics,
            "retain_device_identity": s.deid.retain_device_identity,
            "clean_descriptors": s.deid.clean_descriptors,
            "retain_safe_private": s.deid.retain_safe_private,
        },
        "link_code_set": s.link_code_version.is_some(),
        "updated_at": rfc3339_opt(s.updated_at),
    })
}

pub async fn get_settings(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (settings, _) = load(&state, &p, &headers).await?;
    Ok(Json(settings_json(p.account_id, &settings)))
}

/// The API's name for a field the form names otherwise.
fn api_field(form_field: &str) -> &str {
    match form_field {
        "deid_retain_dates" => "deid.retain_dates",
        "link_code_new" => "code",
        other => other,
    }
}

fn field_error(field: &str, key: &str, lang: Lang) -> FieldError {
    FieldError {
        field: field.to_owned(),
        key: key.to_owned(),
        message: i18n::t(lang, key),
    }
}

/// Fields shown by `GET` that `PATCH` can't change: sent back unchanged, they are ignored.
const READ_ONLY: [&str; 3] = ["logo_url", "link_code_set", "updated_at"];

/// Overlays a PATCH body on the form as the saved settings fill it.
/// Type errors are collected; values are checked later by the form's rules.
fn overlay(f: &mut SettingsInput, body: &Map<String, Value>, lang: Lang) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let type_error = |field: &str| field_error(field, "api-error-type", lang);
    // Text fields: a string, or null to clear.
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        _ => None,
    };
    // Numbers may come as numbers or strings ("+34").
    let number = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Null => Some(String::new()),
        _ => None,
    };
    for (key, v) in body {
        let ok = match key.as_str() {
            "clinic_name" => text(v).map(|s| f.clinic_name = s).is_some(),
            "phone" => text(v).map(|s| f.phone = s).is_some(),
            "email" => text(v).map(|s| f.email = s).is_some(),
            "website" => text(v).map(|s| f.website = s).is_some(),
            "default_language" => text(v).map(|s| f.default_language = s).is_some(),
            "time_zone" => text(v).map(|s| f.time_zone = s).is_some(),
            "country_code" => number(v).map(|s| f.country_code = s).is_some(),
            "link_lifetime_days" => number(v).map(|s| f.link_lifetime_days = s).is_some(),
            "landing_show_study_date" => {
                v.as_bool().map(|b| f.landing_show_study_date = b).is_some()
            }
            "landing_show_study_description" => v
                .as_bool()
                .map(|b| f.landing_show_study_description = b)
                .is_some(),
            "deid" => match v.as_object() {
                None => false,
                Some(deid) => {
                    for (dk, dv) in deid {
                        let ok = match dk.as_str() {
                            "retain_dates" => dv
                                .as_str()
                                .map(|s| f.deid_retain_dates = s.to_owned())
                                .is_some(),
                            "retain_patient_characteristics" => dv
                                .as_bool()
                                .map(|b| f.deid_retain_patient_characteristics = b)
                                .is_some(),
                            "retain_device_identity" => dv
                                .as_bool()
                                .map(|b| f.deid_retain_device_identity = b)
                                .is_some(),
                            "clean_descriptors" => {
                                dv.as_bool().map(|b| f.deid_clean_descriptors = b).is_some()
                            }
                            "retain_safe_private" => dv
                                .as_bool()
                                .map(|b| f.deid_retain_safe_private = b)
                                .is_some(),
                            _ => {
                                errors.push(field_error(
                                    &format!("deid.{dk}"),
                                    "api-error-unknown-field",
                                    lang,
                                ));
                                true
                            }
                        };
                        if !ok {
                            errors.push(type_error(&format!("deid.{dk}")));
                        }
                    }
                    true
                }
            },
            k if READ_ONLY.contains(&k) => true,
            _ => {
                errors.push(field_error(key, "api-error-unknown-field", lang));
                true
            }
        };
        if !ok {
            errors.push(type_error(key));
        }
    }
    errors
}

pub async fn patch_settings(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let (current, lang) = load(&state, &p, &headers).await?;
    let mut input = SettingsInput::from_settings(&current);
    let errors = overlay(&mut input, &body, lang);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let valid = input.validate(&current).map_err(|errs| {
        ApiError::invalid(
            errs.into_iter()
                .map(|(field, key)| field_error(api_field(field), key, lang))
                .collect(),
        )
    })?;
    // Neither the logo nor the link code travel in a PATCH: `valid` keeps both.
    let changed = state
        .store
        .update_account_settings(p.account_id, &valid.settings, &p.actor)
        .await?;
    let saved = state.store.account_settings(p.account_id).await?;
    let mut out = settings_json(p.account_id, &saved);
    out["changed"] = json!(changed);
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct LinkCodeBody {
    #[serde(default)]
    code: String,
}

/// `PUT /api/v1/settings/link-code`: sets or changes the code. Links made
/// before keep the code they were made with.
pub async fn set_link_code(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LinkCodeBody>,
) -> Result<Response, ApiError> {
    let (current, lang) = load(&state, &p, &headers).await?;
    // The settings form's rule for the code (length, no control characters);
    // an empty code is "keep" to the form, but an error here.
    let input = SettingsInput {
        link_code_new: body.code.clone(),
        ..SettingsInput::from_settings(&current)
    };
    let code_error = match input.validate(&current) {
        Ok(_) => body.code.is_empty().then_some("settings-error-link-code"),
        Err(errs) => errs
            .into_iter()
            .find(|(f, _)| *f == "link_code_new")
            .map(|(_, key)| key),
    };
    if let Some(key) = code_error {
        return Err(ApiError::invalid(vec![field_error("code", key, lang)]));
    }
    let code = body.code;
    let hash = tokio::task::spawn_blocking(move || hash_password(&code))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let version = state
        .store
        .set_link_code(p.account_id, Some(&hash), &p.actor)
        .await?;
    Ok(Json(json!({ "link_code_set": true, "version": version })).into_response())
}

/// `DELETE /api/v1/settings/link-code`: existing links stop asking for it.
pub async fn remove_link_code(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (current, _) = load(&state, &p, &headers).await?;
    if current.link_code_version.is_some() {
        state
            .store
            .set_link_code(p.account_id, None, &p.actor)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_overlays_only_what_it_names() {
        let current = AccountSettings::defaults("Clínica");
        let mut f = SettingsInput::from_settings(&current);
        let body = json!({
            "country_code": 34,
            "link_lifetime_days": 30,
            "phone": null,
            "deid": { "retain_dates": "shift", "clean_descriptors": true },
            "link_code_set": false,
        });
        assert!(overlay(&mut f, body.as_object().unwrap(), Lang::En).is_empty());
        let v = f.validate(&current).unwrap();
        assert_eq!(v.settings.country_code, Some(34));
        assert_eq!(v.settings.link_lifetime_days, 30);
        assert_eq!(
            v.settings.deid.retain_dates,
            studylink_model::DateRetention::Shift
        );
        assert!(v.settings.deid.clean_descriptors);
        assert_eq!(v.settings.clinic_name, "Clínica");
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named() {
        let current = AccountSettings::defaults("C");
        let mut f = SettingsInput::from_settings(&current);
        let body =
            json!({ "landing_show_study_date": "yes", "colour": "red", "deid": { "x": true } });
        let errs = overlay(&mut f, body.as_object().unwrap(), Lang::En);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"landing_show_study_date")
                && fields.contains(&"colour")
                && fields.contains(&"deid.x"),
            "{fields:?}"
        );
    }
}
