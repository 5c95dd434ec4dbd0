//! GSM 03.38: which texts fit the 7-bit default alphabet, and how many
//! septets they take (extension-table characters take two).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsEncoding {
    Gsm7,
    Ucs2,
}

const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets in GSM-7, or `None` if some character has no GSM-7 form.
pub fn gsm7_septets(text: &str) -> Option<usize> {
    text.chars().try_fold(0, |n, c| {
        if c != '\u{1b}' && BASIC.contains(c) {
            Some(n + 1)
        } else if EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// The encoding a text needs, its length in that encoding's units (septets or
/// UTF-16 code units) and the number of SMS segments it takes.
pub fn sms_length(text: &str) -> (SmsEncoding, usize, usize) {
    match gsm7_septets(text) {
        Some(n) => (SmsEncoding::Gsm7, n, segments(n, 160, 153)),
        None => {
            let n = text.encode_utf16().count();
            (SmsEncoding::Ucs2, n, segments(n, 70, 67))
        }
    }
}

/// Concatenated SMS lose room to the header that joins them.
fn segments(len: usize, single: usize, part: usize) -> usize {
    if len <= single { 1 } else { len.div_ceil(part) }
}

/// Replaces characters GSM-7 lacks with the closest ones it has: Spanish
/// accents (á í ó ú) would otherwise switch the whole SMS to UCS-2, which
/// holds 70 characters instead of 160.
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let r: &str = match c {
            'á' | 'â' | 'ã' => "a",
            'Á' | 'À' | 'Â' | 'Ã' => "A",
            'í' | 'î' | 'ï' => "i",
            'Í' | 'Ì' | 'Î' | 'Ï' => "I",
            'ó' | 'ô' | 'õ' => "o",
            'Ó' | 'Ò' | 'Ô' | 'Õ' => "O",
            'ú' | 'û' => "u",
            'Ú' | 'Ù' | 'Û' => "U",
            'ê' | 'ë' => "e",
            'È' | 'Ê' | 'Ë' => "E",
            'ç' => "c",
            '‘' | '’' | '´' | '`' => "'",
            '“' | '”' | '«' | '»' => "\"",
            '–' | '—' => "-",
            '…' => "...",
            '\u{a0}' | '\t' => " ",
            'ª' => "a",
            'º' => "o",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_alphabet_has_128_characters() {
        assert_eq!(BASIC.chars().count(), 128);
    }

    #[test]
    fn counts_septets() {
        assert_eq!(gsm7_septets("Hello"), Some(5));
        assert_eq!(gsm7_septets("Año, señor, ¿qué?"), Some(17));
        assert_eq!(gsm7_septets("€10 [x]"), Some(10));
        assert_eq!(gsm7_septets("https://x.example/p/aZ-_09"), Some(26));
        assert_eq!(gsm7_septets("imágenes"), None);
        assert_eq!(gsm7_septets("emoji 🙂"), None);
        assert_eq!(gsm7_septets("\u{1b}"), None);
    }

    #[test]
    fn segments_and_encodings() {
        assert_eq!(sms_length(&"a".repeat(160)), (SmsEncoding::Gsm7, 160, 1));
        assert_eq!(sms_length(&"a".repeat(161)), (SmsEncoding::Gsm7, 161, 2));
        assert_eq!(sms_length(&"{".repeat(80)), (SmsEncoding::Gsm7, 160, 1));
        assert_eq!(sms_length(&"{".repeat(81)).2, 2);
        assert_eq!(sms_length(&"á".repeat(70)), (SmsEncoding::Ucs2, 70, 1));
        assert_eq!(sms_length(&"á".repeat(71)), (SmsEncoding::Ucs2, 71, 2));
        // Astral characters are two UTF-16 units.
        assert_eq!(sms_length("🙂").1, 2);
    }

    #[test]
    fn transliteration_reaches_gsm7_for_spanish() {
        let t = transliterate("Clínica Dr. Núñez — imágenes “ok” …");
        assert_eq!(t, "Clinica Dr. Nuñez - imagenes \"ok\" ...");
        assert!(gsm7_septets(&t).is_some());
        // Characters GSM-7 has are kept.
        assert_eq!(transliterate("ñÑéüÉ"), "ñÑéüÉ");
    }
}
