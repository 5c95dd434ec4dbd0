//! `/admin/settings`: the clinic's settings page (admins only), and
//! `/clinic/{account}/logo`, the clinic's logo, public because patients'
//! emails and landing pages show it.
//!
//! The form is `multipart/form-data` (it carries the logo), so its CSRF token
//! is the first field (see [`StaffMultipart`]). A successful save redirects
//! (POST/redirect/GET) so reloading doesn't submit again.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use studylink_model::{AccountId, AccountSettings, Actor, DateRetention, LINK_LIFETIMES_DAYS, Language, Logo};
use studylink_store::StoreError;

use super::i18n::Arg;
use super::layout::{Chrome, error_page, render};
use super::settings_form::{
    COMMON_ZONES, COUNTRY_CODES, FieldErrors, LinkCodeChange, LogoChange, MAX_LOGO_BYTES, SettingsInput, Valid,
};
use crate::auth::{AdminUser, StaffMultipart, StaffUser, hash_password};
use crate::{AppState, WebError};

/// The settings POST may carry a logo a bit over the limit, so that it can be
/// refused with a message next to the field rather than a bare 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The logo's address; `v` changes with the logo, so caches may keep it for ever.
pub fn logo_url(account: AccountId, logo: &Logo) -> String {
    format!("/clinic/{account}/logo?v={}", logo.version())
}

/// Error messages by field name, already localised.
pub struct FieldMessages(Vec<(&'static str, String)>);

impl FieldMessages {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// (value, label, selected) for a `<select>` or radio group.
type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    c: Chrome,
    f: SettingsInput,
    e: FieldMessages,
    saved: bool,
    logo_url: Option<String>,
    link_code_set: bool,
    lifetimes: Vec<Choice>,
    languages: Vec<Choice>,
    date_options: Vec<Choice>,
    zones: &'static [&'static str],
    /// (code, "+34 (Spain)") for the country code suggestions.
    countries: Vec<(u16, String)>,
    country_shown: String,
}

fn choices<T: Copy>(items: &[T], value: impl Fn(T) -> String, label: impl Fn(T) -> String, current: &str) -> Vec<Choice> {
    items
        .iter()
        .map(|&i| {
            let v = value(i);
            let selected = v == current;
            (v, label(i), selected)
        })
        .collect()
}

fn country_label(c: &Chrome, code: u16) -> String {
    let name = c.t(&format!("country-{code}"));
    super::i18n::t_args(c.lang, "settings-country-code-shown", &[("code", Arg::from(code.to_string())), ("country", Arg::from(name))])
}

fn render_page(
    headers: &HeaderMap,
    staff: &StaffUser,
    current: &AccountSettings,
    f: SettingsInput,
    errors: FieldErrors,
    saved: bool,
) -> Response {
    let c = Chrome::staff(headers, &Uri::from_static("/admin/settings"), staff, "settings");
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let e = FieldMessages(errors.into_iter().map(|(field, id)| (field, c.t(id))).collect());
    let lifetimes = choices(
        &LINK_LIFETIMES_DAYS,
        |d| d.to_string(),
        |d| super::i18n::t_args(c.lang, "settings-lifetime-days", &[("days", Arg::from(d))]),
        &f.link_lifetime_days,
    );
    let mut languages = vec![(String::new(), c.t("settings-language-browser"), f.default_language.is_empty())];
    languages.extend(choices(&Language::ALL, |l| l.as_str().to_owned(), |l| c.t(&format!("settings-language-{}", l.as_str())), &f.default_language));
    let date_options = choices(
        &DateRetention::ALL,
        |d| d.as_str().to_owned(),
        |d| c.t(&format!("settings-deid-dates-{}", d.as_str())),
        &f.deid_retain_dates,
    );
    let countries = COUNTRY_CODES.iter().map(|&code| (code, country_label(&c, code))).collect();
    let country_shown = f
        .country_code
        .trim()
        .trim_start_matches('+')
        .parse::<u16>()
        .ok()
        .filter(|code| COUNTRY_CODES.contains(code))
        .map(|code| country_label(&c, code))
        .unwrap_or_default();
    let page = SettingsPage {
        f,
        e,
        saved,
        logo_url: current.logo.as_ref().map(|l| logo_url(staff.user.account_id, l)),
        link_code_set: current.link_code_version.is_some(),
        lifetimes,
        languages,
        date_options,
        zones: &COMMON_ZONES,
        countries,
        country_shown,
        c,
    };
    let mut resp = render(status, &page);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The settings the extractor loaded for this request.
async fn clinic_of(state: &AppState, staff: &StaffUser) -> Result<AccountSettings, WebError> {
    match &staff.clinic {
        Some(s) => Ok(AccountSettings::clone(s)),
        None => Ok(state.store.account_settings(staff.user.account_id).await?),
    }
}

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    AdminUser(staff): AdminUser,
) -> Result<Response, WebError> {
    let current = clinic_of(&state, &staff).await?;
    let f = SettingsInput::from_settings(&current);
    Ok(render_page(&headers, &staff, &current, f, Vec::new(), q.saved.is_some()))
}

/// Why the form could not be read at all.
enum ReadError {
    /// Past the route's body limit: only a huge logo gets there.
    TooLarge,
    Malformed,
}

async fn read_form(m: &mut Multipart) -> Result<SettingsInput, ReadError> {
    let mut f = SettingsInput::default();
    let fail = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE { ReadError::TooLarge } else { ReadError::Malformed }
    };
    while let Some(mut field) = m.next_field().await.map_err(fail)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "logo" {
            let mut kept = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(fail)? {
                if kept.len() + chunk.len() > MAX_LOGO_BYTES {
                    f.logo_too_big = true;
                } else if !f.logo_too_big {
                    kept.extend_from_slice(&chunk);
                }
            }
            f.logo = (!f.logo_too_big).then(|| kept.into());
            continue;
        }
        let value = field.text().await.map_err(fail)?;
        // Checkboxes: present means ticked.
        let on = true;
        match name.as_str() {
            "clinic_name" => f.clinic_name = value,
            "phone" => f.phone = value,
            "email" => f.email = value,
            "website" => f.website = value,
            "default_language" => f.default_language = value,
            "time_zone" => f.time_zone = value,
            "country_code" => f.country_code = value,
            "link_lifetime_days" => f.link_lifetime_days = value,
            "deid_retain_dates" => f.deid_retain_dates = value,
            "link_code_new" => f.link_code_new = value,
            "landing_show_study_date" => f.landing_show_study_date = on,
            "landing_show_study_description" => f.landing_show_study_description = on,
            "deid_retain_patient_characteristics" => f.deid_retain_patient_characteristics = on,
            "deid_retain_device_identity" => f.deid_retain_device_identity = on,
            "deid_clean_descriptors" => f.deid_clean_descriptors = on,
            "deid_retain_safe_private" => f.deid_retain_safe_private = on,
            "link_code_remove" => f.link_code_remove = on,
            "logo_remove" => f.logo_remove = on,
            _ => {}
        }
    }
    Ok(f)
}

pub async fn save(State(state): State<AppState>, headers: HeaderMap, form: StaffMultipart) -> Result<Response, WebError> {
    let StaffMultipart { staff, mut multipart } = form;
    if !staff.is_admin() {
        return Ok(error_page(&headers, StatusCode::FORBIDDEN, "error-forbidden-title", "error-admin-only"));
    }
    let current = clinic_of(&state, &staff).await?;
    let input = match read_form(&mut multipart).await {
        Ok(input) => input,
        Err(ReadError::TooLarge) => {
            // The rest of the form was never read: show what is saved.
            let f = SettingsInput::from_settings(&current);
            return Ok(render_page(&headers, &staff, &current, f, vec![("logo", "settings-error-logo-too-big")], false));
        }
        Err(ReadError::Malformed) => {
            return Ok(error_page(&headers, StatusCode::BAD_REQUEST, "error-bad-request-title", "error-bad-form"));
        }
    };
    match input.validate(&current) {
        Ok(valid) => {
            apply(&state, &staff, &current, valid).await?;
            Ok(Redirect::to("/admin/settings?saved=1").into_response())
        }
        Err(errors) => {
            // Never echo a code back into the page.
            let f = SettingsInput { link_code_new: String::new(), link_code_remove: false, ..input };
            Ok(render_page(&headers, &staff, &current, f, errors, false))
        }
    }
}

async fn apply(state: &AppState, staff: &StaffUser, current: &AccountSettings, valid: Valid) -> Result<(), WebError> {
    let account = staff.user.account_id;
    let actor = Actor::User(staff.user.id);
    let Valid { mut settings, logo, link_code } = valid;
    match logo {
        LogoChange::Keep => {}
        LogoChange::Remove => settings.logo = None,
        LogoChange::Replace(upload) => {
            // A failure after this leaves an unreferenced blob, which is harmless.
            let key = format!("settings/{account}/logo-{}.{}", uuid::Uuid::new_v4().simple(), upload.extension);
            state.ingest.blobs().put_bytes(&key, upload.bytes).await?;
            settings.logo = Some(Logo { blob_key: key, content_type: upload.content_type.to_owned() });
        }
    }
    state.store.update_account_settings(account, &settings, &actor).await?;
    if let Some(old) = &current.logo
        && settings.logo.as_ref() != Some(old)
        && let Err(e) = state.ingest.blobs().delete(&old.blob_key).await
    {
        tracing::warn!(error = %e, "could not delete the replaced logo");
    }
    match link_code {
        LinkCodeChange::Keep => {}
        LinkCodeChange::Remove if current.link_code_version.is_none() => {}
        LinkCodeChange::Remove => {
            state.store.set_link_code(account, None, &actor).await?;
        }
        LinkCodeChange::Set(code) => {
            let hash = tokio::task::spawn_blocking(move || hash_password(&code))
                .await
                .map_err(|e| WebError::Internal(e.into()))??;
            state.store.set_link_code(account, Some(&hash), &actor).await?;
        }
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct LogoQuery {
    v: Option<String>,
}

pub async fn logo(
    State(state): State<AppState>,
    Path(account): Path<i64>,
    Query(q): Query<LogoQuery>,
) -> Result<Response, WebError> {
    let settings = match state.store.account_settings(AccountId(account)).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let Some(logo) = settings.logo else { return Err(WebError::NotFound) };
    let bytes = state.ingest.blobs().get(&logo.blob_key).await?;
    let cache = if q.v.as_deref() == Some(logo.version()) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let content_type = match logo.content_type.as_str() {
        "image/jpeg" => "image/jpeg",
        _ => "image/png",
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'"),
        ],
        bytes,
    )
        .into_response())
}
