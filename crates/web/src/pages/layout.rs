//! The page frame every staff page shares (header, navigation, language
//! switch, sign-out) and helpers to render templates and error pages.

use askama::Template;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use super::i18n::{self, Arg, I18n, Lang};
use super::{format, static_files};
use crate::auth::StaffUser;
use studylink_model::Role;

/// What the layout needs to know about the request. Templates hold it as `c`.
pub struct Chrome {
    pub lang: Lang,
    /// The CSRF token for forms and `<meta name="csrf-token">`: the session's
    /// when signed in, else the pre-session one (login, setup), else empty.
    pub csrf: String,
    pub user_email: Option<String>,
    pub is_admin: bool,
    /// Which nav entry is current: "studies", "upload", "users", "api-keys", "settings" or "".
    pub nav: &'static str,
    /// Path and query of this page, for the language switch to come back to.
    pub here: String,
    /// The clinic's time zone for our own timestamps (UTC before sign-in).
    pub tz: chrono_tz::Tz,
}

impl Chrome {
    /// For a page behind sign-in.
    pub fn staff(headers: &HeaderMap, uri: &Uri, staff: &StaffUser, nav: &'static str) -> Chrome {
        let clinic = staff.clinic.as_deref();
        Chrome {
            lang: I18n::for_staff(headers, clinic),
            csrf: staff.session.csrf_token.clone(),
            user_email: Some(staff.user.email.clone()),
            is_admin: staff.user.role == Role::Admin,
            nav,
            here: here(uri),
            tz: clinic.map_or(chrono_tz::UTC, |s| format::zone(&s.time_zone)),
        }
    }

    /// For a page without a session (login, setup, errors).
    pub fn anonymous(headers: &HeaderMap, uri: &Uri, csrf: String) -> Chrome {
        Chrome {
            lang: I18n::for_request(headers),
            csrf,
            user_email: None,
            is_admin: false,
            nav: "",
            here: here(uri),
            tz: chrono_tz::UTC,
        }
    }

    pub fn t(&self, id: &str) -> String {
        i18n::t(self.lang, id)
    }

    /// A message with one text argument.
    pub fn t1(&self, id: &str, name: &str, value: &str) -> String {
        i18n::t_args(self.lang, id, &[(name, Arg::from(value))])
    }

    /// A message with one numeric argument (plurals).
    pub fn tn(&self, id: &str, name: &str, value: impl std::borrow::Borrow<i64>) -> String {
        i18n::t_args(self.lang, id, &[(name, Arg::from(*value.borrow()))])
    }

    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }

    pub fn is_nav(&self, name: &str) -> bool {
        self.nav == name
    }

    /// A DICOM date (DA) for display, e.g. "Nov 26, 2026" / "26/11/2026".
    pub fn date(&self, da: &Option<String>) -> String {
        format::da(self.lang, da.as_deref())
    }

    /// A DICOM time (TM) for display.
    pub fn time(&self, tm: &Option<String>) -> String {
        format::tm(self.lang, tm.as_deref())
    }

    /// A stored timestamp (ms) in the clinic's time zone.
    pub fn timestamp(&self, ms: &i64) -> String {
        format::timestamp_in(self.lang, self.tz, *ms)
    }

    /// A count with the language's digit grouping.
    pub fn num(&self, n: impl std::borrow::Borrow<i64>) -> String {
        format::int(self.lang, *n.borrow())
    }

    /// A plural message whose number is also shown: `$count` selects the
    /// variant, `$shown` is the grouped number.
    pub fn count(&self, id: &str, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        i18n::t_args(self.lang, id, &[("count", Arg::from(n)), ("shown", Arg::from(self.num(n)))])
    }

    /// Versioned URL of an embedded static file.
    pub fn asset(&self, name: &str) -> String {
        static_files::url(name)
    }

    /// (code, label, href, current) for each language of the switch.
    pub fn langs(&self) -> Vec<(&'static str, String, String, bool)> {
        let next = percent_encoding::utf8_percent_encode(&self.here, percent_encoding::NON_ALPHANUMERIC);
        Lang::ALL
            .iter()
            .map(|l| {
                let label = l.code().to_ascii_uppercase();
                (l.code(), label, format!("/lang?to={}&next={next}", l.code()), *l == self.lang)
            })
            .collect()
    }
}

fn here(uri: &Uri) -> String {
    uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
}

/// Renders a template as an HTML response (500 page if rendering fails).
pub fn render(status: StatusCode, tpl: &impl Template) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: Chrome,
    title: String,
    message: String,
    link_href: &'a str,
    link_text: String,
}

/// A localised error page without navigation. `title_id` and `message_id` are
/// message ids; the page links back home.
pub fn error_page(headers: &HeaderMap, status: StatusCode, title_id: &str, message_id: &str) -> Response {
    let c = Chrome::anonymous(headers, &Uri::from_static("/"), String::new());
    let page = ErrorPage {
        title: c.t(title_id),
        message: c.t(message_id),
        link_href: "/",
        link_text: c.t("error-back-home"),
        c,
    };
    render(status, &page)
}

/// An error page with an already formatted message and a chosen link.
pub fn error_page_with(
    c: Chrome,
    status: StatusCode,
    title: String,
    message: String,
    link: (&str, String),
) -> Response {
    render(status, &ErrorPage { c, title, message, link_href: link.0, link_text: link.1 })
}

/// A timestamp for staff lists. UTC until accounts carry a time zone.
pub fn fmt_time(ms: studylink_model::Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}
