//! `GET/POST /login`, `POST /logout`, with database-backed rate limiting.

use std::convert::Infallible;
use std::net::SocketAddr;

use askama::Template;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use studylink_model::{Actor, now_millis};

use super::audit::audit;
use super::csrf::{is_cross_site, pre_session_ok, pre_session_token};
use super::extract::StaffForm;
use super::password::{dummy_verify, verify_password};
use super::session::{clear_session_cookie, current_session, end_session, safe_next, start_session};
use crate::pages::i18n::Arg;
use crate::pages::layout::{Chrome, error_page, render};
use crate::{AppState, WebError};

/// Emails are compared trimmed and lower-cased (stored that way too).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible address: something@domain, no spaces, sane length. Real
/// validation is the person receiving their password.
pub fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

/// The peer address (the load balancer's, behind one: see the report on
/// trusted proxies). `unknown` when the server runs without connect info.
pub struct ClientIp(pub String);

/// The per-address limit is this many times the per-email one.
pub const IP_LIMIT_FACTOR: i64 = 4;

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ci| ci.0.ip());
        let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let ip = client_ip(peer, forwarded, &state.config.trusted_proxies);
        Ok(ClientIp(ip.map(|i| i.to_string()).unwrap_or_else(|| "unknown".into())))
    }
}

/// The address to rate-limit. Behind trusted proxies (load balancers) every
/// request comes from a proxy, so the client is the right-most address in
/// X-Forwarded-For that is not itself a trusted proxy; the header is ignored
/// otherwise, since anyone can send it.
fn client_ip(peer: Option<std::net::IpAddr>, forwarded: Option<&str>, trusted: &[std::net::IpAddr]) -> Option<std::net::IpAddr> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let hops = forwarded.unwrap_or("").split(',').filter_map(|h| h.trim().parse::<std::net::IpAddr>().ok());
    Some(hops.rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer))
}

#[cfg(test)]
mod client_ip_tests {
    use super::client_ip;

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let lb: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let client: std::net::IpAddr = "203.0.113.9".parse().unwrap();
        let spoof = Some("1.2.3.4, 203.0.113.9");
        assert_eq!(client_ip(Some(lb), spoof, &[lb]), Some(client));
        assert_eq!(client_ip(Some(client), Some("1.2.3.4"), &[lb]), Some(client), "untrusted peers can't pick their address");
        assert_eq!(client_ip(Some(lb), None, &[lb]), Some(lb));
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<NextQuery>,
) -> Result<Response, WebError> {
    let next = safe_next(q.next.as_deref());
    if current_session(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(login_page(&state, &headers, &uri, StatusCode::OK, String::new(), next, None))
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    status: StatusCode,
    email: String,
    next: String,
    error: Option<String>,
) -> Response {
    let (csrf, set_cookie) = pre_session_token(headers, state.config.secure_cookies);
    let page = LoginPage { c: Chrome::anonymous(headers, uri, csrf), email, next, error };
    let mut resp = render(status, &page);
    if let Some(c) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    if is_cross_site(&headers, &state.config.public_base_url) || !pre_session_ok(&headers, &form.csrf) {
        return Ok(error_page(&headers, StatusCode::FORBIDDEN, "error-forbidden-title", "error-csrf-login"));
    }
    let email = normalize_email(&form.email);
    let next = safe_next(form.next.as_deref());
    let lang = Chrome::anonymous(&headers, &uri, String::new()).lang;

    // Refuse before looking at the password, so a locked-out key can't be
    // brute-forced at all. Limits are per email and per client address.
    let cfg = &state.config;
    let keys = [format!("email:{email}"), format!("ip:{ip}")];
    let since = now_millis() - cfg.login_window_minutes * 60_000;
    // A clinic's staff usually share one public address, so the address limit is
    // looser than the per-account one: one person's typos must not lock out
    // the whole front desk, while password spraying from one address still stops.
    let limits = [cfg.login_max_failures, cfg.login_max_failures * IP_LIMIT_FACTOR];
    for (key, limit) in keys.iter().zip(limits) {
        if state.store.count_login_failures(key, since).await? >= limit {
            tracing::warn!(limit_key = key.split(':').next().unwrap_or(""), "login rate limited");
            let msg = crate::pages::i18n::t_args(
                lang,
                "login-too-many",
                &[("minutes", Arg::from(cfg.login_window_minutes))],
            );
            return Ok(login_page(&state, &headers, &uri, StatusCode::TOO_MANY_REQUESTS, email, next, Some(msg)));
        }
    }

    let user = state.store.user_by_email(&email).await?;
    let password = form.password;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    // argon2 takes tens of milliseconds of CPU: keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || match stored_hash {
        Some(h) => verify_password(&password, &h),
        None => {
            dummy_verify(&password);
            false
        }
    })
    .await
    .map_err(|e| WebError::Internal(e.into()))?;

    let user = match user {
        Some(u) if verified && !u.disabled => u,
        other => {
            let at = now_millis();
            for key in &keys {
                state.store.record_login_failure(key, at).await?;
            }
            let reason = match &other {
                None => "unknown_email",
                Some(u) if u.disabled && verified => "disabled",
                Some(_) => "wrong_password",
            };
            audit(
                &state,
                other.as_ref().map(|u| u.account_id),
                Actor::System,
                "user.login_failed",
                other.as_ref().map(|u| ("user", u.id.to_string())),
                serde_json::json!({ "email": email, "reason": reason, "ip": ip }),
            )
            .await;
            let msg = crate::pages::i18n::t(lang, "login-failed");
            return Ok(login_page(&state, &headers, &uri, StatusCode::UNAUTHORIZED, email, next, Some(msg)));
        }
    };

    state.store.clear_login_failures(&keys[0]).await?;
    // Rotate: whatever session cookie the browser had is dropped.
    end_session(&state, &headers).await?;
    let (_, cookie) = start_session(&state, &user).await?;
    audit(
        &state,
        Some(user.account_id),
        Actor::User(user.id),
        "user.login",
        Some(("user", user.id.to_string())),
        serde_json::json!({ "ip": ip }),
    )
    .await;
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

#[derive(Deserialize)]
pub struct NoFields {}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, f: StaffForm<NoFields>) -> Result<Response, WebError> {
    end_session(&state, &headers).await?;
    let user = &f.staff.user;
    audit(&state, Some(user.account_id), Actor::User(user.id), "user.logout", Some(("user", user.id.to_string())), serde_json::json!({})).await;
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(header::SET_COOKIE, clear_session_cookie(&state));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(normalize_email("  Ana@Clinic.EXAMPLE "), "ana@clinic.example");
        assert!(plausible_email("ana@clinic.example"));
        assert!(!plausible_email("ana@clinic"));
        assert!(!plausible_email("ana clinic@x.example"));
        assert!(!plausible_email("@x.example"));
        assert!(!plausible_email("ana@.example"));
    }
}
