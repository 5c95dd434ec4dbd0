//! Staff HTML pages: the shared layout, localisation, static files, the
//! Studies screen, the study view, the upload page and the clinic settings.
//!
//! Other screens reuse [`layout::Chrome`] (templates extend `layout.html` and
//! hold it as `c`), [`i18n`] for every string, and [`security_headers`].

pub mod format;
pub mod i18n;
pub mod layout;
mod lang;
pub(crate) mod links;
pub(crate) mod send;
mod shares;
pub mod settings;
pub mod settings_form;
pub(crate) mod static_files;
mod studies;
mod study;
mod unzip;
mod upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(studies::page))
        .route("/studies/{uid}", get(study::page))
        .route("/studies/{uid}/send", get(send::page).post(send::submit))
        .route("/studies/{uid}/send/create", post(send::create))
        .route("/studies/{uid}/shares/{id}", get(shares::page))
        .route("/studies/{uid}/shares/{id}/resend", post(shares::resend))
        .route("/studies/{uid}/shares/{id}/revoke", post(shares::revoke))
        .route("/upload", get(upload::page).post(upload::receive))
        .route("/lang", get(lang::switch))
        .route(
            "/admin/settings",
            get(settings::page).post(settings::save).layer(DefaultBodyLimit::max(settings::MAX_BODY_BYTES)),
        )
        .route("/clinic/{account}/logo", get(settings::logo))
        .route("/static/{name}", get(static_files::serve))
        .layer(axum::middleware::map_response(security_headers))
}

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Browser hardening for HTML responses (CSP without inline script, no
/// framing, no sniffing, no cross-site Referer) and `no-store`, since staff
/// pages show clinic data that must not linger in shared caches.
pub async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    resp
}
