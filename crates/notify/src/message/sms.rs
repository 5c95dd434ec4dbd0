//! The patient SMS: one segment (160 GSM-7 characters) whenever possible.
//! In order: transliterate accents GSM-7 lacks, shorten the clinic's name,
//! switch to the terse template. The link is never cut: a message that still
//! doesn't fit goes out in several segments.

use super::gsm7::{gsm7_septets, sms_length, transliterate};
use super::{RenderedSms, ShareMessage, short_date};
use crate::i18n::{Arg, t};

/// A clinic name is not shortened below this many characters.
const MIN_CLINIC_CHARS: usize = 10;

pub(super) fn render(m: &ShareMessage) -> RenderedSms {
    let clinic: String = m
        .clinic_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let name_len = clinic.chars().count();
    let min_len = name_len.min(MIN_CLINIC_CHARS);
    let mut fallback = None;
    for template in ["sms-body", "sms-body-short"] {
        for len in (min_len..=name_len).rev() {
            let text = fill(m, template, &shorten(&clinic, len));
            let rendered = rendered(text);
            if rendered.segments == 1 {
                return rendered;
            }
            // Several segments either way: keep as much of the name as that allows.
            if fallback
                .as_ref()
                .is_none_or(|f: &RenderedSms| rendered.segments < f.segments)
            {
                fallback = Some(rendered);
            }
        }
    }
    fallback.expect("at least one candidate")
}

fn fill(m: &ShareMessage, template: &str, clinic: &str) -> String {
    let date = short_date(m.language, m.expires_at);
    let text = t(
        m.language,
        template,
        &[
            ("clinic", Arg::from(clinic)),
            ("link", Arg::from(m.link.as_str())),
            ("date", Arg::from(date.as_str())),
        ],
    );
    // Keep the accents when the phone can show them at no cost (UCS-2 anyway,
    // e.g. a clinic name in another script); drop them when that buys GSM-7.
    if gsm7_septets(&text).is_some() {
        return text;
    }
    let plain = transliterate(&text);
    if gsm7_septets(&plain).is_some() {
        plain
    } else {
        text
    }
}

fn rendered(text: String) -> RenderedSms {
    let (encoding, _, segments) = sms_length(&text);
    RenderedSms {
        text,
        encoding,
        segments,
    }
}

/// The first `len` characters, marked with a final "." when cut.
fn shorten(name: &str, len: usize) -> String {
    let total = name.chars().count();
    if len >= total {
        return name.to_owned();
    }
    let cut: String = name.chars().take(len.saturating_sub(1)).collect();
    format!("{}.", cut.trim_end().trim_end_matches(['.', ',', '-']))
}
