//! Minimal cookie reading and `Set-Cookie` building (we set only our own
//! cookies, with fixed names and token-safe values).

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

pub const SESSION_COOKIE: &str = "studylink_session";
/// Pre-session CSRF token for the login and setup forms (double-submit).
pub const CSRF_COOKIE: &str = "studylink_csrf";

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// How a cookie is scoped.
pub struct CookieSpec<'a> {
    pub name: &'a str,
    pub value: &'a str,
    /// `None`: a browser-session cookie. `Some(0)`: delete it.
    pub max_age_secs: Option<i64>,
    pub http_only: bool,
    pub same_site: &'static str,
    pub secure: bool,
}

impl CookieSpec<'_> {
    pub fn header(&self) -> HeaderValue {
        let mut s = format!("{}={}; Path=/; SameSite={}", self.name, self.value, self.same_site);
        if let Some(age) = self.max_age_secs {
            s.push_str(&format!("; Max-Age={age}"));
        }
        if self.http_only {
            s.push_str("; HttpOnly");
        }
        if self.secure {
            s.push_str("; Secure");
        }
        HeaderValue::from_str(&s).expect("cookie values are token characters")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies() {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, "a=1; studylink_session=abc-_x; lang=es".parse().unwrap());
        assert_eq!(cookie(&h, "studylink_session").as_deref(), Some("abc-_x"));
        assert_eq!(cookie(&h, "lang").as_deref(), Some("es"));
        assert_eq!(cookie(&h, "studylink"), None);
    }

    #[test]
    fn builds_set_cookie() {
        let c = CookieSpec {
            name: SESSION_COOKIE,
            value: "tok",
            max_age_secs: Some(3600),
            http_only: true,
            same_site: "Lax",
            secure: true,
        };
        assert_eq!(
            c.header().to_str().unwrap(),
            "studylink_session=tok; Path=/; SameSite=Lax; Max-Age=3600; HttpOnly; Secure"
        );
    }
}
