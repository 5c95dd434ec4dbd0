//! Staff authentication: passwords (argon2id), sessions, CSRF, API keys,
//! login rate limiting, the first-admin setup link, and the login/logout/users pages.
//!
//! For the CLI: [`hash_password`], [`generate_password`], [`create_api_key`],
//! [`issue_setup_url`], [`normalize_email`].

mod admin;
mod api_key;
mod audit;
mod cookie;
mod csrf;
mod extract;
mod login;
mod me;
mod password;
mod session;
mod setup;
mod token;

use axum::Router;
use axum::routing::{get, post};
use studylink_model::{AccountId, Actor, Role, Session, User};

use crate::AppState;

pub use api_key::create_api_key;
pub use cookie::cookie;
pub use csrf::CSRF_HEADER;
pub use extract::{AdminUser, StaffForm, StaffMultipart, login_redirect};
pub use login::{ClientIp, normalize_email, plausible_email};
pub use password::{MIN_PASSWORD_LEN, generate_password, hash_password, verify_password};
pub use session::safe_next;
pub use setup::issue_setup_url;
pub use token::token_hash;

/// The `Set-Cookie` header remembering a display language for a year.
pub fn lang_cookie(code: &str, secure: bool) -> axum::http::HeaderValue {
    cookie::CookieSpec {
        name: crate::pages::i18n::LANG_COOKIE,
        value: code,
        max_age_secs: Some(365 * 86_400),
        http_only: true,
        same_site: "Lax",
        secure,
    }
    .header()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::login_form).post(login::login))
        .route("/logout", post(login::logout))
        .route("/setup/{token}", get(setup::setup_form).post(setup::setup_submit))
        .route("/admin/users", get(admin::list_users).post(admin::add_user))
        .route("/admin/api-keys", get(admin::list_keys).post(admin::add_key))
        .route("/admin/api-keys/{id}/revoke", post(admin::revoke_key))
        .route("/api/v1/me", get(me::me))
        .layer(axum::middleware::map_response(crate::pages::security_headers))
}

/// Whoever is calling the JSON API or DICOMweb: a staff session (cookie; unsafe
/// methods must then carry the session's CSRF token in `X-CSRF-Token`) or an API
/// key (`Authorization: Bearer …`). Extracting it from a request without either
/// gives `WebError::Unauthorized` (401 JSON).
#[derive(Debug, Clone)]
pub struct Principal {
    pub account_id: AccountId,
    pub actor: Actor,
    /// `None` for API keys (which act for their clinic).
    pub role: Option<Role>,
    /// For `received_from` and logs: the user's email or the key's name.
    pub label: String,
}

/// A signed-in staff member (HTML pages). Without a valid session, HTML pages
/// redirect to `/login?next=…`.
#[derive(Debug, Clone)]
pub struct StaffUser {
    pub user: User,
    pub session: Session,
    /// The clinic's settings (language, time zone) for HTML pages: loaded by
    /// the `StaffUser`, `StaffForm` and `StaffMultipart` extractors, `None`
    /// on the API and DICOMweb paths, which don't need them.
    pub clinic: Option<std::sync::Arc<studylink_model::AccountSettings>>,
}
