//! The JSON API (`/api/v1/…`: an API key, or a staff session plus the
//! `X-CSRF-Token` header on unsafe methods), the SMS providers' delivery-report
//! hooks (`/hooks/sms/…`, authenticated by the token in their URL) and the
//! admin Outbox page (`/admin/outbox`).
//!
//! * [`shares`] — send a study to a patient, read, resend and revoke links;
//! * [`contacts`] — the send dialog's live check of what staff type;
//! * [`settings`] — the clinic's settings (admins and API keys), with the same
//!   validation as the settings page ([`crate::pages::settings_form`]);
//! * [`hooks`] — Twilio status callbacks and Kannel DLRs;
//! * [`outbox`] — the admin page listing the clinic's messages.
//!
//! Every handler is scoped to the caller's account. Errors are JSON
//! `{"error": code, "message": text}` (plus `errors: [{field, key, message}]`
//! for rejected fields); messages never carry patient data except the
//! contact the caller typed, echoed back to them (and never logged).
//! The OpenAPI 3.1 description is `openapi.json`, served at
//! `GET /api/v1/openapi.json`.

pub mod contacts;
pub mod hooks;
pub mod outbox;
pub mod settings;
pub mod shares;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use studylink_model::{AccountSettings, Millis};

use crate::auth::Principal;
use crate::pages::i18n::{self, Arg, I18n, Lang};
use crate::{AppState, WebError};

/// The hand-written OpenAPI 3.1 description of everything in this module.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    use studylink_notify::delivery::{KANNEL_ROUTE, TWILIO_ROUTE};
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/studies/{study_uid}/shares",
            post(shares::create).get(shares::list_for_study),
        )
        .route("/api/v1/shares/{id}", get(shares::get_share))
        .route("/api/v1/shares/{id}/resend", post(shares::resend))
        .route("/api/v1/shares/{id}/revoke", post(shares::revoke))
        .route("/api/v1/contacts/check", post(contacts::check))
        .route(
            "/api/v1/settings",
            get(settings::get_settings).patch(settings::patch_settings),
        )
        .route(
            "/api/v1/settings/link-code",
            delete(settings::remove_link_code).put(settings::set_link_code),
        )
        .route(TWILIO_ROUTE, post(hooks::twilio))
        .route(KANNEL_ROUTE, get(hooks::kannel))
        .route("/admin/outbox", get(outbox::page))
        .layer(axum::middleware::map_response(
            crate::pages::security_headers,
        ))
}

async fn openapi() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        OPENAPI_JSON,
    )
        .into_response()
}

// --- errors -----------------------------------------------------------------

/// One rejected field: which, the message id and the message in the caller's language.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub key: String,
    pub message: String,
}

/// The error of every API handler: `{"error": code, "message": text}`, and
/// `errors` when fields were rejected.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A localised error: `key` is a message id of `locales/*/main.ftl`.
    pub fn t(status: StatusCode, code: &'static str, lang: Lang, key: &str) -> ApiError {
        ApiError::new(status, code, i18n::t(lang, key))
    }

    /// 422 with the rejected fields; the first one's message is the summary.
    pub fn invalid(errors: Vec<FieldError>) -> ApiError {
        let message = errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "invalid request".into());
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message,
            errors,
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> ApiError {
        let e: anyhow::Error = e.into();
        tracing::error!(error = %e, "api request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_ACCEPTABLE => "not_acceptable",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        _ => "internal",
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> ApiError {
        match e {
            WebError::Internal(inner) => ApiError::internal(inner),
            other => ApiError::new(other.status(), code_for(other.status()), other.to_string()),
        }
    }
}

impl From<studylink_store::StoreError> for ApiError {
    fn from(e: studylink_store::StoreError) -> ApiError {
        WebError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.code, "message": self.message });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"studylink\""),
            );
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

// --- extractors ---------------------------------------------------------------

/// [`Principal`] with its rejection (401, 403 for a missing CSRF header) in
/// the API's error shape.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Principal::from_request_parts(parts, state)
            .await
            .map(Caller)
            .map_err(ApiError::from)
    }
}

/// A JSON body whose rejection is in the API's error shape. The text of a
/// rejection may quote the body (which may hold contacts): it goes back to the
/// caller only, never to the log.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let status = r.status();
    ApiError::new(status, code_for(status), r.body_text())
}

// --- helpers shared by the handlers -------------------------------------------

/// The caller's language for messages: their `lang` cookie (sessions), else
/// the clinic's default language, else `Accept-Language`, else English.
pub fn caller_lang(headers: &HeaderMap, settings: &AccountSettings) -> Lang {
    I18n::for_staff(headers, Some(settings))
}

pub use crate::pages::send::notify_lang;

/// A stored timestamp as RFC 3339 in UTC ("2026-11-26T13:45:00.000Z").
pub fn rfc3339(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub fn rfc3339_opt(ms: Option<Millis>) -> serde_json::Value {
    ms.map(|m| serde_json::Value::String(rfc3339(m)))
        .unwrap_or(serde_json::Value::Null)
}

/// A localised message with text arguments.
pub fn t_args(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let args: Vec<(&str, Arg<'_>)> = args
        .iter()
        .map(|(k, v)| (*k, Arg::from(v.as_str())))
        .collect();
    i18n::t_args(lang, key, &args)
}

/// The message ids this module uses from `locales/*/main.ftl` (checked by a test).
#[cfg(test)]
pub(crate) const MESSAGE_IDS: &[&str] = &[
    "api-error-study-not-found",
    "api-error-share-not-found",
    "api-error-expired",
    "api-error-not-ready",
    "api-error-unknown-instance",
    "api-error-empty",
    "api-error-language",
    "api-error-admin-only",
    "api-error-unknown-field",
    "api-error-type",
    "api-error-contacts-missing",
    "outbox-title",
    "outbox-nav",
    "outbox-intro",
    "outbox-email-local",
    "outbox-sms-local",
    "outbox-empty",
    "outbox-col-time",
    "outbox-col-channel",
    "outbox-col-recipient",
    "outbox-col-status",
    "outbox-col-share",
    "outbox-col-message",
    "outbox-show-message",
    "outbox-subject",
    "outbox-unreadable",
    "outbox-attempts",
    "outbox-count",
    "contact-email",
    "shared-sms",
    "delivery-queued",
    "delivery-sending",
    "delivery-sent",
    "delivery-delivered",
    "delivery-failed",
    "settings-error-link-code",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        for lang in Lang::ALL {
            for id in MESSAGE_IDS {
                assert!(
                    i18n::has_message(lang, id),
                    "{id} missing in {}",
                    lang.code()
                );
            }
        }
    }

    #[test]
    fn openapi_is_json_and_lists_the_routes() {
        let doc: serde_json::Value =
            serde_json::from_str(OPENAPI_JSON).expect("openapi.json parses");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true)
        );
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/studies/{study_uid}/shares",
            "/api/v1/shares/{id}",
            "/api/v1/shares/{id}/resend",
            "/api/v1/shares/{id}/revoke",
            "/api/v1/contacts/check",
            "/api/v1/settings",
            "/api/v1/settings/link-code",
            "/api/v1/openapi.json",
            studylink_notify::delivery::TWILIO_ROUTE,
            studylink_notify::delivery::KANNEL_ROUTE,
        ] {
            assert!(paths.contains_key(p), "{p} is not documented");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_795_700_700_000), "2026-11-26T13:45:00.000Z");
        assert_eq!(rfc3339_opt(None), serde_json::Value::Null);
    }
}
