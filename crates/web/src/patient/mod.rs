//! The patient's landing page, `/p/{token}`: no account, no install.
//!
//! * `GET /p/{token}`: the page (clinic, exam, gallery, viewer, downloads), or
//!   the password / link-code form when the link needs one, or a plain message
//!   (unknown link: 404; expired, revoked or failed: 410 with the clinic's
//!   contact; still being prepared: a page that refreshes itself).
//! * `POST /p/{token}`: the form (see [`gate`]).
//! * `GET /p/{token}/f/{position}/{what}`: an item's files (see [`files`]).
//! * `GET /p/{token}/all.zip`: everything, as a streamed ZIP (see [`archive`]).
//!
//! Every response here carries [`patient_headers`]: no referrer (the token is
//! in the URL), no caching, no indexing, a strict CSP. Tokens never reach the
//! logs (request spans redact `/p/…`, and nothing here logs one).

mod archive;
mod files;
mod gate;
mod names;
mod page;
pub mod zip;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use sha2::{Digest, Sha256};
use studylink_model::{AccountId, AccountSettings, Actor, AuditEvent, Share, ShareState};
use studylink_share::token::{looks_like_token, token_hash};

use crate::AppState;
use crate::pages::i18n::{self, Arg, I18n, Lang};
use crate::pages::static_files;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/p/{token}", get(page::show).post(gate::submit))
        .route("/p/{token}/all.zip", get(archive::download))
        .route("/p/{token}/f/{position}/{what}", get(files::serve))
        .route("/p/{token}/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(gate::MAX_FORM_BYTES))
        .layer(axum::middleware::map_response(patient_headers))
}

/// No inline script or style, nothing from another site, no framing.
pub const CSP: &str = "default-src 'none'; img-src 'self' blob:; media-src 'self'; style-src 'self'; \
                       script-src 'self'; connect-src 'self'; font-src 'none'; frame-ancestors 'none'; \
                       base-uri 'none'; form-action 'self'";

/// Added to every response under `/p/`. A handler may set a stricter CSP
/// (documents get `sandbox` too); the rest is forced.
pub async fn patient_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    resp
}

/// Wrong passwords or codes before a link locks, and for how long.
pub const MAX_FAILURES: i64 = 5;
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// The longest an access cookie lasts (never past the link itself).
pub const ACCESS_TTL_MS: i64 = 12 * 3600 * 1000;
/// The cookie that proves the password/code was given, scoped to `/p/{token}`.
pub const ACCESS_COOKIE: &str = "studylink_link";

/// What a link allows right now.
pub(crate) enum Outcome {
    /// No such link (or not shaped like one).
    NotFound,
    /// Expired, revoked, or its preparation failed.
    Gone(Box<Share>),
    Preparing(Box<Share>),
    /// Needs the password and/or the code, and this browser hasn't given them.
    Gate(Box<Share>, Gate),
    Open(Box<Share>),
}

/// What the form must ask for.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    /// The link needs a password (some object could not be de-identified with confidence).
    pub password: bool,
    /// …and a first visitor already chose it (else the form creates it).
    pub password_set: bool,
    /// The clinic's link code in force for this link, as an argon2 hash.
    pub code_hash: Option<String>,
}

impl Gate {
    pub fn needed(&self) -> bool {
        self.password || self.code_hash.is_some()
    }
}

pub(crate) async fn lookup(state: &AppState, token: &str) -> Result<Option<Share>, crate::WebError> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    Ok(state.store.share_by_token_hash(&token_hash(token)).await?)
}

/// The gate a share needs (the link code of its version, unless the clinic
/// removed the code since).
pub(crate) async fn gate_of(state: &AppState, share: &Share) -> Result<Gate, crate::WebError> {
    let code_hash = if share.link_code_version > 0 {
        state.store.link_code_hash(share.account_id, share.link_code_version).await?
    } else {
        None
    };
    Ok(Gate { password: share.password_required, password_set: share.password_hash.is_some(), code_hash })
}

/// Where the request stands for this token.
pub(crate) async fn authorize(state: &AppState, headers: &HeaderMap, token: &str) -> Result<Outcome, crate::WebError> {
    let Some(share) = lookup(state, token).await? else { return Ok(Outcome::NotFound) };
    let share = Box::new(share);
    let now = state.clock.now();
    if share.revoked_at.is_some() || share.expires_at <= now || share.state == ShareState::Failed {
        return Ok(Outcome::Gone(share));
    }
    if share.state == ShareState::Preparing {
        return Ok(Outcome::Preparing(share));
    }
    let gate = gate_of(state, &share).await?;
    if !gate.needed() {
        return Ok(Outcome::Open(share));
    }
    if let Some(value) = crate::auth::cookie(headers, ACCESS_COOKIE)
        && value.len() <= 64
        && state.store.share_access_valid(share.id, &sha256_hex(&value), now).await?
    {
        return Ok(Outcome::Open(share));
    }
    Ok(Outcome::Gate(share, gate))
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// 32 random bytes, base64url: access cookies and form tokens.
pub(crate) fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// An audit event about a share by its visitor. Only the share's id and
/// counts: never the token, a password or anything about the patient.
/// (The model has no "anonymous visitor" actor; the system acts for them.)
pub(crate) async fn audit(state: &AppState, share: &Share, action: &str, detail: serde_json::Value) {
    let event = AuditEvent {
        account_id: Some(share.account_id),
        actor: Actor::System,
        action: action.to_owned(),
        target_kind: Some("share".to_owned()),
        target_id: Some(share.id.to_string()),
        detail: detail.to_string(),
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, action, share = %share.id, "audit write failed");
    }
}

/// The clinic as the patient sees it.
pub(crate) struct Clinic {
    pub name: String,
    pub logo_url: Option<String>,
    pub phone: Option<String>,
    /// `tel:+34900000000`
    pub phone_href: Option<String>,
    pub email: Option<String>,
    pub tz: chrono_tz::Tz,
}

impl Clinic {
    pub fn new(account: AccountId, s: &AccountSettings) -> Clinic {
        let phone = s.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned);
        let phone_href = phone.as_deref().map(|p| {
            let digits: String = p
                .chars()
                .enumerate()
                .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
                .map(|(_, c)| c)
                .collect();
            format!("tel:{digits}")
        });
        Clinic {
            name: s.clinic_name.clone(),
            logo_url: s.logo.as_ref().map(|l| crate::pages::settings::logo_url(account, l)),
            phone,
            phone_href,
            email: s.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_owned),
            tz: crate::pages::format::zone(&s.time_zone),
        }
    }

    pub async fn load(state: &AppState, account: AccountId) -> Result<Clinic, crate::WebError> {
        Ok(Clinic::new(account, &state.store.account_settings(account).await?))
    }

    pub fn has_contact(&self) -> bool {
        self.phone.is_some() || self.email.is_some()
    }
}

/// What every patient template holds as `f`: language, clinic, title.
pub(crate) struct Frame {
    pub lang: Lang,
    pub clinic: Option<Clinic>,
    pub title: String,
}

impl Frame {
    pub fn t(&self, id: &str) -> String {
        i18n::t(self.lang, id)
    }

    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        i18n::t_args(self.lang, id, &[(name, Arg::from(value))])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn asset(&self, name: &str) -> String {
        static_files::url(name)
    }
}

/// A page that only says something: not found, expired, being prepared,
/// locked, or an error.
#[derive(askama::Template)]
#[template(path = "patient/message.html")]
pub(crate) struct MessagePage {
    pub f: Frame,
    pub paragraphs: Vec<String>,
    /// Show the clinic's phone and email.
    pub contact: bool,
    /// Reload every few seconds (while the link is being prepared).
    pub refresh: bool,
    /// A link back to the page (after "locked").
    pub retry_href: Option<String>,
}

pub(crate) fn render(status: StatusCode, tpl: &impl askama::Template) -> Response {
    match tpl.render() {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "patient template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// The generic "this link doesn't work" page: nothing about any share.
pub(crate) fn not_found_page(headers: &HeaderMap) -> Response {
    let lang = I18n::for_request(headers);
    let f = Frame { lang, clinic: None, title: i18n::t(lang, "patient-notfound-title") };
    let paragraphs = vec![f.t("patient-notfound")];
    render(StatusCode::NOT_FOUND, &MessagePage { f, paragraphs, contact: false, refresh: false, retry_href: None })
}

async fn not_found(headers: HeaderMap) -> Response {
    not_found_page(&headers)
}

/// 410: the link expired, was revoked or could not be prepared. The patient's
/// next step is the clinic, so its phone and email are on the page.
pub(crate) async fn gone_page(state: &AppState, share: &Share) -> Response {
    let lang = Lang::from(share.language);
    let clinic = match Clinic::load(state, share.account_id).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, e),
    };
    let name = clinic.name.clone();
    let f = Frame { lang, clinic: Some(clinic), title: i18n::t(lang, "patient-expired-title") };
    let paragraphs = vec![f.t1("patient-expired", "clinic", &name)];
    render(StatusCode::GONE, &MessagePage { f, paragraphs, contact: true, refresh: false, retry_href: None })
}

pub(crate) async fn preparing_page(state: &AppState, share: &Share) -> Response {
    let lang = Lang::from(share.language);
    let clinic = match Clinic::load(state, share.account_id).await {
        Ok(c) => c,
        Err(e) => return error_page(lang, e),
    };
    let f = Frame { lang, clinic: Some(clinic), title: i18n::t(lang, "patient-preparing-title") };
    let paragraphs = vec![f.t("patient-preparing")];
    render(StatusCode::OK, &MessagePage { f, paragraphs, contact: false, refresh: true, retry_href: None })
}

/// A friendly 500 (the details go to the log, without the token).
pub(crate) fn error_page(lang: Lang, e: crate::WebError) -> Response {
    if let crate::WebError::NotFound = e {
        let f = Frame { lang, clinic: None, title: i18n::t(lang, "patient-notfound-title") };
        let paragraphs = vec![f.t("patient-notfound")];
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage { f, paragraphs, contact: false, refresh: false, retry_href: None },
        );
    }
    tracing::error!(error = %e, "patient page failed");
    let f = Frame { lang, clinic: None, title: i18n::t(lang, "patient-error-title") };
    let paragraphs = vec![f.t("patient-error")];
    render(
        StatusCode::INTERNAL_SERVER_ERROR,
        &MessagePage { f, paragraphs, contact: false, refresh: false, retry_href: None },
    )
}

/// The page's own address (tokens are base64url: nothing to encode).
pub(crate) fn page_path(token: &str) -> String {
    format!("/p/{token}")
}

/// "14:05 (CET)" in the clinic's zone: when a lock ends.
pub(crate) fn clock_time(lang: Lang, tz: chrono_tz::Tz, ms: i64) -> String {
    let Some(dt) = chrono::DateTime::from_timestamp_millis(ms) else { return String::new() };
    let local = dt.with_timezone(&tz);
    format!("{} ({})", crate::pages::format::time(lang, local.naive_local().time()), local.format("%Z"))
}

/// The link's last day, in the clinic's zone.
pub(crate) fn day(lang: Lang, tz: chrono_tz::Tz, ms: i64) -> String {
    let Some(dt) = chrono::DateTime::from_timestamp_millis(ms) else { return String::new() };
    crate::pages::format::date(lang, dt.with_timezone(&tz).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_patient_message_exists_in_both_languages() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates/patient", "src/patient"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
            }
        }
        let mut checked = 0;
        for text in &sources {
            for part in text.split('"').skip(1).step_by(2) {
                let is_id = part.starts_with("patient-")
                    && part.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()));
                if !is_id {
                    continue;
                }
                checked += 1;
                for lang in Lang::ALL {
                    assert!(i18n::has_message(lang, part), "missing message {part} ({})", lang.code());
                }
            }
        }
        assert!(checked > 30, "only {checked} message ids found");
    }

    #[test]
    fn phone_links_keep_digits_and_a_leading_plus() {
        let mut s = AccountSettings::defaults("Clínica");
        s.phone = Some("+34 (91) 555-01-02".into());
        let c = Clinic::new(AccountId(1), &s);
        assert_eq!(c.phone_href.as_deref(), Some("tel:+34915550102"));
        assert_eq!(c.phone.as_deref(), Some("+34 (91) 555-01-02"));
        s.phone = Some("  ".into());
        assert!(Clinic::new(AccountId(1), &s).phone.is_none());
    }

    #[test]
    fn lock_times_are_clinic_wall_clock() {
        let ms = chrono::DateTime::parse_from_rfc3339("2026-01-15T13:05:00Z").unwrap().timestamp_millis();
        assert_eq!(clock_time(Lang::Es, "Europe/Madrid".parse().unwrap(), ms), "14:05 (CET)");
        assert_eq!(clock_time(Lang::En, chrono_tz::UTC, ms), "1:05 PM (UTC)");
    }
}
