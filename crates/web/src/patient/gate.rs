//! The password / link-code form in front of a landing page.
//!
//! A link needs it when some shared object could not be de-identified with
//! confidence (`password_required`: the first visitor *creates* a password,
//! every later one *enters* it) and/or when the clinic had a patient link code
//! when the link was made (and hasn't removed the code since). One form asks
//! for whatever is needed.
//!
//! Wrong answers count against the link: the fifth in a row locks it for 15
//! minutes, during which answers aren't even checked. A right answer gives
//! this browser an access cookie (random, only its SHA-256 stored) scoped to
//! `/p/{token}` and valid for 12 hours at most.
//!
//! Patients have no session, so no staff CSRF token: a POST must come from
//! this site (Origin, else Referer, when the browser sends them) and carry the
//! form token from a `SameSite=Strict` cookie set with the form
//! (double submit: another site can neither read the cookie nor make the
//! browser send it).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use studylink_model::Share;
use subtle::ConstantTimeEq;

use super::{
    ACCESS_COOKIE, ACCESS_TTL_MS, Clinic, Frame, Gate, LOCK_MS, MAX_FAILURES, MessagePage, Outcome, audit, authorize,
    clock_time, error_page, gone_page, not_found_page, page_path, preparing_page, random_token, render, sha256_hex,
};
use crate::AppState;
use crate::auth::{hash_password, verify_password};
use crate::pages::i18n::{self, Arg, I18n, Lang};

/// The form is four short fields.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// The double-submit cookie of the form.
const FORM_COOKIE: &str = "studylink_form";
/// Shortest password a patient may choose.
pub const MIN_LEN: usize = 8;
const MAX_LEN: usize = 1024;

/// Passwords everyone tries first (compared ignoring case), in both languages.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "contraseña",
    "contrasena",
    "contraseña1",
    "contrasena1",
    "qwertyui",
    "qwerty12",
    "qwerty123",
    "qwertyuiop",
    "asdfghjk",
    "asdf1234",
    "zxcvbnm1",
    "abcd1234",
    "abc12345",
    "abcdefgh",
    "1q2w3e4r",
    "1qaz2wsx",
    "iloveyou",
    "teamo123",
    "tequiero",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "superman",
    "batman12",
    "dragon12",
    "monkey12",
    "welcome1",
    "welcome123",
    "letmein1",
    "trustno1",
    "admin123",
    "administrador",
    "aaaaaaaa",
    "12345678a",
    "a1234567",
    "mariposa",
    "estrella",
    "corazon1",
    "barcelona",
    "realmadrid",
    "chocolate",
    "america1",
    "bienvenido",
    "hola1234",
    "holahola",
    "studylink",
    "paciente",
    "patient1",
    "imagenes",
    "images12",
];

/// Why a chosen password is refused, as a message id.
pub fn password_problem(password: &str, clinic_name: &str) -> Option<&'static str> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Some("patient-gate-too-short");
    }
    if password.len() > MAX_LEN {
        return Some("patient-gate-too-long");
    }
    if password.chars().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
        return Some("patient-gate-only-digits");
    }
    let folded = password.trim().to_lowercase();
    if COMMON.contains(&folded.as_str()) {
        return Some("patient-gate-too-common");
    }
    let squash =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).map(fold).collect::<String>();
    let (p, c) = (squash(password), squash(clinic_name));
    if !c.is_empty() && (p == c || (p.contains(&c) && p.len() < c.len() + 4)) {
        return Some("patient-gate-clinic-name");
    }
    None
}

/// Latin letters without their accents, so "clinica" matches "Clínica".
fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        c => c,
    }
}

/// What the form asks for, and what went wrong last time.
#[derive(askama::Template)]
#[template(path = "patient/gate.html")]
pub(crate) struct GatePage {
    pub f: Frame,
    pub action: String,
    pub form_token: String,
    pub intro: Vec<String>,
    pub ask_code: bool,
    /// "create", "enter" or "" (no password asked).
    pub mode: &'static str,
    pub error: Option<String>,
    pub code_error: bool,
    pub password_error: Option<String>,
    pub confirm_error: Option<String>,
}

/// The request a form is rendered for.
pub(crate) struct Visit<'a> {
    pub headers: &'a HeaderMap,
    pub token: &'a str,
    pub share: &'a Share,
    /// `Secure` cookies (https).
    pub secure: bool,
}

/// Renders the form, reusing this browser's form token or setting a new one.
pub(crate) fn gate_form(status: StatusCode, v: &Visit<'_>, gate: &Gate, clinic: Clinic, errors: Errors) -> Response {
    let Visit { headers, token, share, secure } = *v;
    let lang = Lang::from(share.language);
    let existing = crate::auth::cookie(headers, FORM_COOKIE).filter(|v| v.len() == 43);
    let form_token = existing.clone().unwrap_or_else(random_token);
    let mode = match (gate.password, gate.password_set) {
        (false, _) => "",
        (true, false) => "create",
        (true, true) => "enter",
    };
    let title = match mode {
        "create" => "patient-gate-create-title",
        "enter" => "patient-gate-enter-title",
        _ => "patient-gate-code-title",
    };
    let name = clinic.name.clone();
    let f = Frame { lang, clinic: Some(clinic), title: i18n::t(lang, title) };
    let mut intro = Vec::new();
    match mode {
        "create" => intro.push(f.t("patient-gate-create-intro")),
        "enter" => intro.push(f.t("patient-gate-enter-intro")),
        _ => {}
    }
    if gate.code_hash.is_some() {
        intro.push(f.t1("patient-gate-code-intro", "clinic", &name));
    }
    let page = GatePage {
        action: page_path(token),
        form_token: form_token.clone(),
        intro,
        ask_code: gate.code_hash.is_some(),
        mode,
        error: errors.summary.map(|(id, left)| match left {
            Some(n) => i18n::t_args(lang, id, &[("left", Arg::from(n))]),
            None => i18n::t(lang, id),
        }),
        code_error: errors.code,
        password_error: errors.password.map(|id| i18n::t(lang, id)),
        confirm_error: errors.confirm.map(|id| i18n::t(lang, id)),
        f,
    };
    let mut resp = render(status, &page);
    if existing.is_none() {
        let cookie = format!(
            "{FORM_COOKIE}={form_token}; Path={}; HttpOnly; SameSite=Strict{}",
            page_path(token),
            if secure { "; Secure" } else { "" }
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Errors to show on the form (message ids).
#[derive(Default)]
pub(crate) struct Errors {
    /// The message at the top, with the attempts left when it was a wrong answer.
    pub summary: Option<(&'static str, Option<i64>)>,
    pub code: bool,
    pub password: Option<&'static str>,
    pub confirm: Option<&'static str>,
}

/// "Too many attempts, try again after 14:05" (429).
pub(crate) fn locked_page(token: &str, share: &Share, clinic: Clinic, until: i64, now: i64) -> Response {
    let lang = Lang::from(share.language);
    let at = clock_time(lang, clinic.tz, until);
    let f = Frame { lang, clinic: Some(clinic), title: i18n::t(lang, "patient-locked-title") };
    let paragraphs = vec![f.t1("patient-locked", "time", &at)];
    let mut resp = render(
        StatusCode::TOO_MANY_REQUESTS,
        &MessagePage { f, paragraphs, contact: true, refresh: false, retry_href: Some(page_path(token)) },
    );
    let secs = ((until - now).max(0) + 999) / 1000;
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GateForm {
    /// The form token (double submit).
    t: String,
    /// What the form showed: "create", "enter" or "".
    mode: String,
    code: String,
    password: String,
    new_password: String,
    confirm: String,
}

/// Whether a browser says the form was posted from this site. A browser that
/// sends neither header (or `Origin: null`, which `Referrer-Policy:
/// no-referrer` makes browsers send) is left to the form token.
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
    let public = authority(&state.config.public_base_url);
    let ok = |url: &str| {
        let a = authority(url);
        a.is_some() && (a == host || a == public)
    };
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
        && origin != "null"
    {
        return ok(origin);
    }
    match headers.get(header::REFERER).and_then(|v| v.to_str().ok()) {
        Some(referer) => ok(referer),
        None => true,
    }
}

/// `host[:port]` of an absolute URL, lower-cased.
fn authority(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let a = &rest[..end];
    let a = a.rsplit_once('@').map_or(a, |(_, h)| h);
    (!a.is_empty()).then(|| a.to_ascii_lowercase())
}

async fn verify(secret: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&secret, &hash)).await.unwrap_or(false)
}

/// `POST /p/{token}`.
pub async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = match authorize(&state, &headers, &token).await {
        Ok(o) => o,
        Err(e) => return error_page(I18n::for_request(&headers), e),
    };
    let (share, gate) = match outcome {
        Outcome::NotFound => return not_found_page(&headers),
        Outcome::Gone(share) => return gone_page(&state, &share).await,
        Outcome::Preparing(share) => return preparing_page(&state, &share).await,
        // Nothing to ask, or already answered.
        Outcome::Open(_) => return Redirect::to(&page_path(&token)).into_response(),
        Outcome::Gate(share, gate) => (share, gate),
    };
    let lang = Lang::from(share.language);
    match handle(&state, &headers, &token, &share, &gate, &body).await {
        Ok(resp) => resp,
        Err(e) => error_page(lang, e),
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    share: &Share,
    gate: &Gate,
    body: &[u8],
) -> Result<Response, crate::WebError> {
    let v = Visit { headers, token, share, secure: state.config.secure_cookies };
    let clinic = Clinic::load(state, share.account_id).await?;
    let form: GateForm = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let form_cookie = crate::auth::cookie(headers, FORM_COOKIE).unwrap_or_default();
    let token_ok = !form.t.is_empty() && bool::from(form.t.as_bytes().ct_eq(form_cookie.as_bytes()));
    if !same_origin(state, headers) {
        return Ok(gate_form(StatusCode::FORBIDDEN, &v, gate, clinic, expired_form()));
    }
    if !token_ok {
        return Ok(gate_form(StatusCode::BAD_REQUEST, &v, gate, clinic, expired_form()));
    }
    let now = state.clock.now();
    // While locked, answers are not looked at.
    if let Some(until) = share.locked_until.filter(|u| *u > now) {
        return Ok(locked_page(token, share, clinic, until, now));
    }
    let creating = gate.password && !gate.password_set;
    if gate.password && gate.password_set && form.mode == "create" {
        // Someone else with the link chose the password between this form and now.
        let errors = Errors { summary: Some(("patient-gate-taken", None)), ..Errors::default() };
        return Ok(gate_form(StatusCode::CONFLICT, &v, gate, clinic, errors));
    }

    // Empty fields are a slip, not a wrong answer.
    let mut errors = Errors::default();
    if gate.code_hash.is_some() && form.code.trim().is_empty() {
        errors.code = true;
    }
    if gate.password_set && form.password.is_empty() {
        errors.password = Some("patient-gate-empty");
    }
    if creating && form.new_password.is_empty() {
        errors.password = Some("patient-gate-empty");
    }
    if errors.code || errors.password.is_some() {
        errors.summary = Some(("patient-gate-fill-in", None));
        return Ok(gate_form(StatusCode::BAD_REQUEST, &v, gate, clinic, errors));
    }

    // Check every secret asked for (both, so the answer doesn't say which was wrong).
    let mut wrong = false;
    if let Some(hash) = &gate.code_hash {
        wrong |= !verify(form.code.trim().to_owned(), hash.clone()).await;
    }
    if gate.password_set {
        let hash = share.password_hash.clone().unwrap_or_default();
        wrong |= !verify(form.password.clone(), hash).await;
    }
    if wrong {
        let failure = state.store.record_share_failure(share.id, MAX_FAILURES, LOCK_MS, now).await?;
        audit(state, share, "share.password_failed", serde_json::json!({ "attempts": failure.failed_attempts })).await;
        if let Some(until) = failure.locked_until {
            audit(state, share, "share.locked", serde_json::json!({ "until": until })).await;
            return Ok(locked_page(token, share, clinic, until, now));
        }
        let both = gate.code_hash.is_some() && gate.password_set;
        let id = match (both, gate.code_hash.is_some()) {
            (true, _) => "patient-gate-wrong-either",
            (false, true) => "patient-gate-wrong-code",
            (false, false) => "patient-gate-wrong-password",
        };
        let left = (MAX_FAILURES - failure.failed_attempts).max(1);
        let errors = Errors {
            summary: Some((id, Some(left))),
            code: gate.code_hash.is_some(),
            password: gate.password_set.then_some("patient-gate-check"),
            confirm: None,
        };
        return Ok(gate_form(StatusCode::FORBIDDEN, &v, gate, clinic, errors));
    }

    if creating {
        let problem = password_problem(&form.new_password, &clinic.name);
        let mismatch = problem.is_none() && form.new_password != form.confirm;
        if problem.is_some() || mismatch {
            let errors = Errors {
                summary: Some((problem.unwrap_or("patient-gate-mismatch"), None)),
                code: false,
                password: problem,
                confirm: mismatch.then_some("patient-gate-mismatch"),
            };
            return Ok(gate_form(StatusCode::BAD_REQUEST, &v, gate, clinic, errors));
        }
        let password = form.new_password.clone();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| crate::WebError::Internal(e.into()))??;
        if !state.store.set_share_password(share.id, &hash, now).await? {
            let gate = Gate { password_set: true, ..gate.clone() };
            let errors = Errors { summary: Some(("patient-gate-taken", None)), ..Errors::default() };
            return Ok(gate_form(StatusCode::CONFLICT, &v, &gate, clinic, errors));
        }
        audit(state, share, "share.password_set", serde_json::json!({})).await;
    }

    // Unconditionally: the count loaded with the share may be older than a racing failure.
    state.store.clear_share_failures(share.id).await?;
    let access = random_token();
    let expires = share.expires_at.min(now + ACCESS_TTL_MS);
    state.store.create_share_access(share.id, &sha256_hex(&access), expires, now).await?;
    let mut resp = Redirect::to(&page_path(token)).into_response();
    let cookie = format!(
        "{ACCESS_COOKIE}={access}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        page_path(token),
        ((expires - now) / 1000).max(1),
        if v.secure { "; Secure" } else { "" }
    );
    resp.headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|e| crate::WebError::Internal(e.into()))?);
    Ok(resp)
}

fn expired_form() -> Errors {
    Errors { summary: Some(("patient-gate-expired-form", None)), ..Errors::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        assert_eq!(password_problem("short1", "X"), Some("patient-gate-too-short"));
        assert_eq!(password_problem("12345678901", "X"), Some("patient-gate-only-digits"));
        assert_eq!(password_problem("1234 5678 90", "X"), Some("patient-gate-only-digits"));
        assert_eq!(password_problem("Password1", "X"), Some("patient-gate-too-common"));
        assert_eq!(password_problem("Contraseña", "X"), Some("patient-gate-too-common"));
        assert_eq!(password_problem("Clínica del Sol", "Clínica del Sol"), Some("patient-gate-clinic-name"));
        assert_eq!(password_problem("clinicadelsol", "Clinica del Sol"), Some("patient-gate-clinic-name"));
        assert_eq!(password_problem("clinica del sol", "Clínica del Sol"), Some("patient-gate-clinic-name"));
        assert_eq!(password_problem("ClinicaDelSol1", "Clinica del Sol"), Some("patient-gate-clinic-name"));
        assert_eq!(password_problem("paseo marítimo 7", "Clínica del Sol"), None);
        assert_eq!(password_problem("ñandú-azul", "X"), None, "characters, not bytes");
        assert_eq!(password_problem(&"x".repeat(2000), "X"), Some("patient-gate-too-long"));
    }

    #[test]
    fn origins() {
        assert_eq!(authority("https://Studies.Clinic.example/p/x").as_deref(), Some("studies.clinic.example"));
        assert_eq!(authority("http://127.0.0.1:8080").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(authority("http://u@h:1/x?y").as_deref(), Some("h:1"));
        assert_eq!(authority("nonsense"), None);
    }
}
