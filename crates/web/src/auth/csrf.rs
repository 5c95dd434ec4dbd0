//! Cross-site request forgery defences, in two layers:
//! 1. a secret token per session (per browser before sign-in) that every unsafe
//!    request must echo, in the `csrf` form field or the `X-CSRF-Token` header;
//! 2. the browser's own `Origin` / `Sec-Fetch-Site` headers, when present.

use axum::http::{HeaderMap, Method};

use super::cookie::{CookieSpec, CSRF_COOKIE, cookie};
use super::token::{ct_eq, random_token};

pub const CSRF_HEADER: &str = "x-csrf-token";

/// Methods that change state and so need a CSRF token.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// True when the browser tells us the request comes from another site.
/// Requests without these headers (curl, older browsers) pass this layer and
/// rely on the token alone.
pub fn is_cross_site(headers: &HeaderMap, public_base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site.eq_ignore_ascii_case("cross-site")
    {
        return true;
    }
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if origin.eq_ignore_ascii_case(base_origin(public_base_url)) {
        return false;
    }
    // Behind a proxy the public URL may not be what the browser used (e.g. an
    // internal name); the Host the browser sent is then the reference.
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, a)| a);
    !matches!((host, authority), (Some(h), Some(a)) if h.eq_ignore_ascii_case(a))
}

/// `https://host:port` from a base URL that may carry a path.
fn base_origin(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

/// The token the request sent in the header.
pub fn header_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// Constant-time check of a submitted token against the expected one.
pub fn token_matches(expected: &str, given: Option<&str>) -> bool {
    matches!(given, Some(g) if !expected.is_empty() && ct_eq(expected, g))
}

/// The pre-session CSRF token of this browser (login and setup forms), and the
/// cookie to set when it has none yet.
pub fn pre_session_token(headers: &HeaderMap, secure: bool) -> (String, Option<axum::http::HeaderValue>) {
    if let Some(existing) = cookie(headers, CSRF_COOKIE).filter(|v| v.len() == 43) {
        return (existing, None);
    }
    let token = random_token();
    let header = CookieSpec {
        name: CSRF_COOKIE,
        value: &token,
        max_age_secs: None,
        http_only: true,
        same_site: "Strict",
        secure,
    }
    .header();
    (token, Some(header))
}

/// Double-submit check for the pre-session forms: the field must equal the cookie.
pub fn pre_session_ok(headers: &HeaderMap, field: &str) -> bool {
    match cookie(headers, CSRF_COOKIE) {
        Some(c) => token_matches(&c, Some(field)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origin_checks() {
        let base = "https://studies.clinic.example";
        assert!(!is_cross_site(&headers(&[]), base));
        assert!(!is_cross_site(&headers(&[("origin", "https://studies.clinic.example")]), base));
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example")]), base));
        assert!(is_cross_site(&headers(&[("origin", "null")]), base));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")]), base));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "same-origin")]), base));
        assert!(!is_cross_site(&headers(&[("origin", "http://10.0.0.5:8080"), ("host", "10.0.0.5:8080")]), base));
        assert!(is_cross_site(&headers(&[("origin", "http://evil:8080"), ("host", "10.0.0.5:8080")]), base));
        assert_eq!(base_origin("https://a.example/studylink/"), "https://a.example");
    }

    #[test]
    fn token_checks() {
        assert!(token_matches("abc", Some("abc")));
        assert!(!token_matches("abc", Some("abd")));
        assert!(!token_matches("abc", None));
        assert!(!token_matches("", Some("")));
        assert!(is_unsafe(&Method::POST) && is_unsafe(&Method::DELETE) && !is_unsafe(&Method::GET));
    }

    #[test]
    fn pre_session_double_submit() {
        let (tok, set) = pre_session_token(&HeaderMap::new(), false);
        assert!(set.is_some());
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("studylink_csrf={tok}").parse().unwrap());
        let (again, set) = pre_session_token(&h, false);
        assert_eq!(again, tok);
        assert!(set.is_none());
        assert!(pre_session_ok(&h, &tok));
        assert!(!pre_session_ok(&h, "other"));
        assert!(!pre_session_ok(&HeaderMap::new(), &tok));
    }
}
