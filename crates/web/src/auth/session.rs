//! Staff sessions: a random cookie whose hash keys a database row (so any node
//! can serve any request), each with its own CSRF token.

use axum::http::{HeaderMap, HeaderValue};
use studylink_model::{Session, User, now_millis};

use super::cookie::{CookieSpec, SESSION_COOKIE, cookie};
use super::token::{random_token, token_hash};
use crate::{AppState, WebError};

/// Creates a session for `user`; returns it and the `Set-Cookie` header that
/// carries its token (the only place the token exists in clear).
pub async fn start_session(state: &AppState, user: &User) -> Result<(Session, HeaderValue), WebError> {
    let token = random_token();
    let now = now_millis();
    let ttl_hours = state.config.session_ttl_hours.max(1);
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + ttl_hours * 3_600_000,
    };
    state.store.create_session(&session).await?;
    let cookie = CookieSpec {
        name: SESSION_COOKIE,
        value: &token,
        max_age_secs: Some(ttl_hours * 3600),
        http_only: true,
        // Lax, not Strict: a staff member following a link to StudyLink from
        // mail or the intranet lands signed in. Cross-site POSTs still carry no
        // cookie, and every unsafe request needs the CSRF token anyway.
        same_site: "Lax",
        secure: state.config.secure_cookies,
    }
    .header();
    Ok((session, cookie))
}

/// The `Set-Cookie` header that removes the session cookie.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    CookieSpec {
        name: SESSION_COOKIE,
        value: "",
        max_age_secs: Some(0),
        http_only: true,
        same_site: "Lax",
        secure: state.config.secure_cookies,
    }
    .header()
}

/// The live session of this request and its (enabled) user, if any.
pub async fn current_session(state: &AppState, headers: &HeaderMap) -> Result<Option<(Session, User)>, WebError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    // A malformed cookie can't be one of ours; skip the database round trip.
    if token.len() != 43 {
        return Ok(None);
    }
    Ok(state.store.session(&token_hash(&token), now_millis()).await?)
}

/// Ends the request's session, if it has one.
pub async fn end_session(state: &AppState, headers: &HeaderMap) -> Result<(), WebError> {
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        state.store.delete_session(&token_hash(&token)).await?;
    }
    Ok(())
}

/// `next` if it is a path on this site, else `/`: redirects after login must
/// not be usable to send staff to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control())
                && n.len() <= 2048 =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_same_site_only() {
        assert_eq!(safe_next(Some("/upload")), "/upload");
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\tx")), "/");
        assert_eq!(safe_next(Some("")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
