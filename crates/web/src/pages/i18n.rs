//! Localisation of the staff pages through Fluent (`locales/{en,es}/main.ftl`,
//! embedded in the binary). Every UI string goes through [`t`] / [`t_args`]
//! so that adding a language is adding a file.
//!
//! Language choice: the `lang` cookie (set by the EN/ES switch in the header),
//! else, on staff pages, the clinic's default language (a setting), else the
//! first supported `Accept-Language`, else English.

use std::sync::LazyLock;

use axum::http::HeaderMap;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

/// A message argument: `"text".into()` or `42.into()` (numbers drive plurals).
pub use fluent_bundle::FluentValue as Arg;

/// The cookie that remembers the user's explicit language choice.
pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// The BCP 47 code, for `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// Accepts `es`, `es-AR`, `EN_us`…: only the primary subtag matters.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Picks the language of a request.
pub struct I18n;

impl I18n {
    pub fn for_request(headers: &HeaderMap) -> Lang {
        Self::with_default(headers, None)
    }

    /// A signed-in user's pages: their own choice, else their clinic's.
    pub fn for_staff(headers: &HeaderMap, clinic: Option<&studylink_model::AccountSettings>) -> Lang {
        Self::with_default(headers, clinic.and_then(|s| s.default_language).map(Lang::from))
    }

    fn with_default(headers: &HeaderMap, default: Option<Lang>) -> Lang {
        if let Some(lang) = crate::auth::cookie(headers, LANG_COOKIE).and_then(|v| Lang::from_code(&v)) {
            return lang;
        }
        if let Some(lang) = default {
            return lang;
        }
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(from_accept_language)
            .unwrap_or(Lang::En)
    }
}

impl From<studylink_model::Language> for Lang {
    fn from(l: studylink_model::Language) -> Lang {
        match l {
            studylink_model::Language::En => Lang::En,
            studylink_model::Language::Es => Lang::Es,
        }
    }
}

/// The supported language the client prefers most (highest q, then order).
fn from_accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        if let Some(lang) = Lang::from_code(tag)
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

// main.ftl: staff pages; patient.ftl: the patient's landing page.
const SOURCES: [(&str, &str); 2] = [
    ("en", concat!(include_str!("../../locales/en/main.ftl"), "\n", include_str!("../../locales/en/patient.ftl"))),
    ("es", concat!(include_str!("../../locales/es/main.ftl"), "\n", include_str!("../../locales/es/patient.ftl"))),
];

static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(code, src)| {
            let langid: LanguageIdentifier = code.parse().expect("valid language id");
            let res = FluentResource::try_new(src.to_string())
                .unwrap_or_else(|(_, errs)| panic!("locales/{code}/main.ftl does not parse: {errs:?}"));
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            // Unicode isolation marks would show up inside HTML attributes and JSON.
            bundle.set_use_isolating(false);
            bundle.add_resource(res).unwrap_or_else(|errs| panic!("locales/{code}/main.ftl: {errs:?}"));
            bundle
        })
        .collect()
});

/// The message `id` in `lang`. A missing message yields the id itself (and a
/// unit test keeps that from shipping).
pub fn t(lang: Lang, id: &str) -> String {
    format(lang, id, None)
}

/// The message `id` with arguments, e.g. `t_args(lang, "login-too-many", &[("minutes", 15.into())])`.
pub fn t_args(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, v.clone());
    }
    format(lang, id, Some(&fargs))
}

fn format(lang: Lang, id: &str, args: Option<&FluentArgs>) -> String {
    let bundle = &BUNDLES[lang.index()];
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::warn!(id, lang = lang.code(), "missing translation");
        return id.to_string();
    };
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::warn!(id, lang = lang.code(), ?errors, "translation formatting error");
    }
    out.into_owned()
}

/// Whether a message exists in every language (used by tests).
pub fn has_message(lang: Lang, id: &str) -> bool {
    BUNDLES[lang.index()].has_message(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_ids(src: &str) -> Vec<String> {
        src.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_string()))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let en = message_ids(SOURCES[0].1);
        let es = message_ids(SOURCES[1].1);
        assert!(en.len() > 20);
        for id in &en {
            assert!(has_message(Lang::Es, id), "missing in es: {id}");
        }
        for id in &es {
            assert!(has_message(Lang::En, id), "missing in en: {id}");
        }
    }

    /// Every message-id-looking string literal (`"upload-reason-…"`, `"nav-…"`)
    /// in templates and code names a real message in every language.
    #[test]
    fn every_used_id_exists() {
        const PREFIXES: [&str; 23] = [
            "nav", "error", "login", "form", "password", "setup", "home", "users", "role", "keys", "upload", "app",
            "studies", "study", "viewer", "send", "fmt", "sex", "contact", "settings", "share", "shared", "delivery",
        ];
        // Element ids and classes share the prefixes (send-to-patient).
        const NOT_MESSAGES: [&str; 7] = ["id=", "class=", "aria-controls=", "aria-labelledby=", "aria-describedby=", "for=", "form="];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        // Top level only: templates/patient/ and src/patient/ use patient.ftl's ids.
        for dir in ["templates", "src/auth", "src/pages"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let parts: Vec<&str> = text.split('"').collect();
                for (i, literal) in parts.iter().enumerate().skip(1).step_by(2) {
                    let before = parts[i - 1];
                    let attribute = NOT_MESSAGES.iter().any(|a| {
                        before.strip_suffix(a).is_some_and(|b| b.ends_with(char::is_whitespace))
                    });
                    let is_id = !attribute
                        && literal.contains('-')
                        && literal.split('-').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
                        && PREFIXES.contains(&literal.split('-').next().unwrap());
                    if !is_id || *literal == "upload-" {
                        continue;
                    }
                    checked += 1;
                    for lang in Lang::ALL {
                        assert!(has_message(lang, literal), "{}: unknown message id {literal} ({})", path.display(), lang.code());
                    }
                }
            }
        }
        assert!(checked > 50, "only {checked} ids found");
    }

    #[test]
    fn accept_language() {
        assert_eq!(from_accept_language("es-AR,es;q=0.9,en;q=0.8"), Some(Lang::Es));
        assert_eq!(from_accept_language("fr-FR, en;q=0.5, es;q=0.7"), Some(Lang::Es));
        assert_eq!(from_accept_language("de"), None);
        assert_eq!(from_accept_language("es;q=0, en"), Some(Lang::En));
    }

    #[test]
    fn cookie_beats_header() {
        let mut h = HeaderMap::new();
        h.insert("accept-language", "es".parse().unwrap());
        assert_eq!(I18n::for_request(&h), Lang::Es);
        h.insert("cookie", "a=b; lang=en".parse().unwrap());
        assert_eq!(I18n::for_request(&h), Lang::En);
        assert_eq!(I18n::for_request(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn user_choice_then_clinic_default_then_browser() {
        let mut clinic = studylink_model::AccountSettings::defaults("C");
        clinic.default_language = Some(studylink_model::Language::Es);
        let mut h = HeaderMap::new();
        h.insert("accept-language", "en-US,en".parse().unwrap());
        assert_eq!(I18n::for_staff(&h, Some(&clinic)), Lang::Es, "the clinic's default beats the browser");
        assert_eq!(I18n::for_staff(&HeaderMap::new(), Some(&clinic)), Lang::Es);
        h.insert("cookie", "lang=en".parse().unwrap());
        assert_eq!(I18n::for_staff(&h, Some(&clinic)), Lang::En, "the user's switch beats the clinic");
        clinic.default_language = None;
        let mut h = HeaderMap::new();
        h.insert("accept-language", "es".parse().unwrap());
        assert_eq!(I18n::for_staff(&h, Some(&clinic)), Lang::Es, "no clinic default: the browser");
        assert_eq!(I18n::for_staff(&HeaderMap::new(), None), Lang::En);
    }

    #[test]
    fn arguments_and_plurals() {
        let s = t_args(Lang::En, "login-too-many", &[("minutes", 15.into())]);
        assert!(s.contains("15"), "{s}");
        let count = |lang, n: i64| t_args(lang, "studies-count", &[("count", n.into()), ("shown", n.to_string().into())]);
        assert_eq!(count(Lang::Es, 1), "Un estudio");
        assert_eq!(count(Lang::Es, 3), "3 estudios");
        assert_eq!(count(Lang::En, 0), "No studies");
        assert_eq!(t(Lang::En, "no-such-message"), "no-such-message");
    }
}
