//! Fluent messages for patient notifications and contact errors
//! (`locales/{en,es}/notify.ftl`, embedded in the binary).

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

pub use fluent_bundle::FluentValue as Arg;

/// The language of the messages a patient receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

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
}

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../locales/en/notify.ftl")),
    (Lang::Es, include_str!("../locales/es/notify.ftl")),
];

static BUNDLES: LazyLock<Vec<(Lang, FluentBundle<FluentResource>)>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(lang, src)| {
            let code = lang.code();
            let langid: LanguageIdentifier = code.parse().expect("valid language id");
            let res = FluentResource::try_new((*src).to_string())
                .unwrap_or_else(|(_, e)| panic!("locales/{code}/notify.ftl does not parse: {e:?}"));
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            // Isolation marks would end up inside SMS text (and cost UCS-2 encoding).
            bundle.set_use_isolating(false);
            bundle
                .add_resource(res)
                .unwrap_or_else(|e| panic!("locales/{code}/notify.ftl: {e:?}"));
            (*lang, bundle)
        })
        .collect()
});

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    &BUNDLES
        .iter()
        .find(|(l, _)| *l == lang)
        .expect("every Lang has a bundle")
        .1
}

/// The message `id` with arguments. A missing message yields the id itself;
/// a unit test keeps that from shipping.
pub fn t(lang: Lang, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let bundle = bundle(lang);
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::warn!(id, lang = lang.code(), "missing notify translation");
        return id.to_owned();
    };
    let mut fargs = FluentArgs::new();
    for (k, v) in args {
        fargs.set(*k, v.clone());
    }
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, Some(&fargs), &mut errors);
    if !errors.is_empty() {
        tracing::warn!(
            id,
            lang = lang.code(),
            ?errors,
            "notify translation formatting error"
        );
    }
    out.into_owned()
}

pub fn has_message(lang: Lang, id: &str) -> bool {
    bundle(lang).has_message(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(src: &str) -> Vec<&str> {
        src.lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim()))
            .collect()
    }

    #[test]
    fn every_message_exists_in_every_language() {
        for (_, src) in SOURCES {
            for id in ids(src) {
                for lang in Lang::ALL {
                    assert!(has_message(lang, id), "{id} missing in {}", lang.code());
                }
            }
        }
    }

    #[test]
    fn language_codes() {
        assert_eq!(Lang::from_code("es-AR"), Some(Lang::Es));
        assert_eq!(Lang::from_code("EN_us"), Some(Lang::En));
        assert_eq!(Lang::from_code("fr"), None);
    }
}
