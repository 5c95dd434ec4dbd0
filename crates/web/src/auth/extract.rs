//! Extractors that authenticate a request:
//! * [`StaffUser`] / [`AdminUser`] — HTML pages (redirect to sign-in when absent);
//!   on unsafe methods they demand the session's CSRF token in `X-CSRF-Token`
//!   (so they fail closed if used on a form handler by mistake);
//! * [`StaffForm`] — a form POST: session + `csrf` form field + the form itself;
//! * [`Principal`] — JSON API / DICOMweb: API key or session.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use studylink_model::{Actor, Role};

use super::api_key::find_api_key;
use super::csrf::{header_token, is_cross_site, is_unsafe, token_matches};
use super::session::current_session;
use super::{Principal, StaffUser};
use crate::pages::layout::error_page;
use crate::{AppState, WebError};

/// Largest staff form body (the forms are a few short fields).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// An admin of their clinic. Others get a 403 page.
#[derive(Debug, Clone)]
pub struct AdminUser(pub StaffUser);

/// A form POST from a signed-in staff member, CSRF-checked.
pub struct StaffForm<T> {
    pub staff: StaffUser,
    pub form: T,
}

impl StaffUser {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

/// The session's user, looked up once per request.
async fn staff_of(parts: &mut Parts, state: &AppState) -> Result<Option<StaffUser>, WebError> {
    if let Some(s) = parts.extensions.get::<StaffUser>() {
        return Ok(Some(s.clone()));
    }
    let found =
        current_session(state, &parts.headers).await?.map(|(session, user)| StaffUser { user, session, clinic: None });
    if let Some(s) = &found {
        parts.extensions.insert(s.clone());
    }
    Ok(found)
}

/// Adds the clinic's settings for an HTML page, once per request.
async fn with_clinic(parts: &mut Parts, state: &AppState, mut staff: StaffUser) -> Result<StaffUser, Response> {
    if staff.clinic.is_none() {
        let settings = state.store.account_settings(staff.user.account_id).await.map_err(|e| WebError::from(e).into_response())?;
        staff.clinic = Some(std::sync::Arc::new(settings));
        parts.extensions.insert(staff.clone());
    }
    Ok(staff)
}

/// Where to send someone who must sign in first.
pub fn login_redirect(parts: &Parts) -> Response {
    let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next = percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// A form posted after the session expired: sign in again, then come back
/// to the page (not the POST target's result).
fn sign_in_again(parts: &Parts) -> Response {
    let back = parts
        .headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..])))
        .map(|p| super::session::safe_next(Some(p)))
        .unwrap_or_else(|| "/".into());
    let next = percent_encoding::utf8_percent_encode(&back, percent_encoding::NON_ALPHANUMERIC);
    Redirect::to(&format!("/login?next={next}")).into_response()
}

fn forbidden_cross_site(headers: &HeaderMap) -> Response {
    error_page(headers, StatusCode::FORBIDDEN, "error-forbidden-title", "error-csrf")
}

impl FromRequestParts<AppState> for StaffUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = staff_of(parts, state).await.map_err(IntoResponse::into_response)?;
        let Some(staff) = staff else {
            return Err(if matches!(parts.method, Method::GET | Method::HEAD) {
                login_redirect(parts)
            } else {
                WebError::Unauthorized.into_response()
            });
        };
        if is_unsafe(&parts.method)
            && (is_cross_site(&parts.headers, &state.config.public_base_url)
                || !token_matches(&staff.session.csrf_token, header_token(&parts.headers)))
        {
            return Err(WebError::Forbidden("missing or invalid CSRF token".into()).into_response());
        }
        with_clinic(parts, state, staff).await
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let staff = StaffUser::from_request_parts(parts, state).await?;
        if !staff.is_admin() {
            return Err(error_page(&parts.headers, StatusCode::FORBIDDEN, "error-forbidden-title", "error-admin-only"));
        }
        Ok(AdminUser(staff))
    }
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for StaffForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = staff_of(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let Some(staff) = staff else {
            return Err(sign_in_again(&parts));
        };
        if is_cross_site(&parts.headers, &state.config.public_base_url) {
            return Err(forbidden_cross_site(&parts.headers));
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| WebError::PayloadTooLarge.into_response())?;
        let csrf: CsrfField = serde_urlencoded::from_bytes(&bytes).unwrap_or(CsrfField { csrf: String::new() });
        if !token_matches(&staff.session.csrf_token, Some(&csrf.csrf)) {
            return Err(forbidden_cross_site(&parts.headers));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            error_page(&parts.headers, StatusCode::BAD_REQUEST, "error-bad-request-title", "error-bad-form")
        })?;
        let staff = with_clinic(&mut parts, state, staff).await?;
        Ok(StaffForm { staff, form })
    }
}

/// A `multipart/form-data` POST from a signed-in staff member: plain HTML
/// forms with a file can't send the CSRF header, so the `csrf` field must be
/// the form's first field, and it is checked before anything else is read.
pub struct StaffMultipart {
    pub staff: StaffUser,
    /// The fields after `csrf`.
    pub multipart: axum::extract::Multipart,
}

impl FromRequest<AppState> for StaffMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = staff_of(&mut parts, state).await.map_err(IntoResponse::into_response)?;
        let Some(staff) = staff else {
            return Err(sign_in_again(&parts));
        };
        if is_cross_site(&parts.headers, &state.config.public_base_url) {
            return Err(forbidden_cross_site(&parts.headers));
        }
        let staff = with_clinic(&mut parts, state, staff).await?;
        let headers = parts.headers.clone();
        let mut multipart = axum::extract::Multipart::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| error_page(&headers, StatusCode::BAD_REQUEST, "error-bad-request-title", "error-bad-form"))?;
        let first = multipart.next_field().await.ok().flatten();
        let token = match first {
            Some(f) if f.name() == Some("csrf") => f.text().await.ok(),
            _ => None,
        };
        if !token_matches(&staff.session.csrf_token, token.as_deref()) {
            return Err(forbidden_cross_site(&headers));
        }
        Ok(StaffMultipart { staff, multipart })
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            // A request that presents a key is judged by the key alone: a bad
            // key never falls back to a cookie.
            let key = auth
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, k)| k.trim())
                .ok_or(WebError::Unauthorized)?;
            let found = find_api_key(state.store.as_ref(), key).await?.ok_or(WebError::Unauthorized)?;
            return Ok(Principal {
                account_id: found.account_id,
                actor: Actor::ApiKey(found.id),
                role: None,
                label: found.name,
            });
        }
        let staff = staff_of(parts, state).await?.ok_or(WebError::Unauthorized)?;
        if is_unsafe(&parts.method)
            && (is_cross_site(&parts.headers, &state.config.public_base_url)
                || !token_matches(&staff.session.csrf_token, header_token(&parts.headers)))
        {
            return Err(WebError::Forbidden("missing or invalid CSRF token".into()));
        }
        Ok(Principal {
            account_id: staff.user.account_id,
            actor: Actor::User(staff.user.id),
            role: Some(staff.user.role),
            label: staff.user.email,
        })
    }
}
