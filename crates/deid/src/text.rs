//! Text inside the image area. Blanking outside the ultrasound regions leaves
//! whatever the sonographer typed onto the image itself (a surname, a
//! mother's ID); a [`TextFinder`] (OCR, supplied by the caller: this crate
//! does no I/O) reads the kept area, and any word that matches one of the
//! input's identifying values is blanked in every frame.

use crate::ident::Identifiers;

/// One word read in an image, its box in pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Reads words in an 8-bit grey image (`width` × `height`, one byte per pixel).
pub trait TextFinder: Send + Sync + std::fmt::Debug {
    fn find(&self, grey: &[u8], width: u32, height: u32) -> Result<Vec<Word>, String>;
}

/// The identifying values as OCR spells them: letters and digits only, upper case.
#[derive(Debug, Default)]
pub(crate) struct Tokens(Vec<String>);

pub(crate) fn normalise(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect()
}

impl Tokens {
    pub(crate) fn from_identifiers(ids: &Identifiers) -> Self {
        let mut v: Vec<String> = ids
            .needles
            .iter()
            .map(|n| normalise(&String::from_utf8_lossy(&n.bytes)))
            .filter(|t| t.len() >= 3)
            .collect();
        v.sort();
        v.dedup();
        Tokens(v)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a word read by OCR is (part of) an identifying value. OCR cuts
    /// words short and runs them together, so containment counts both ways
    /// from four characters; three-character words must match a whole token.
    /// A false match only blanks a label: the cheap side to err on.
    pub(crate) fn matches(&self, word: &str) -> bool {
        let w = normalise(word);
        if w.len() < 3 {
            return false;
        }
        self.0.iter().any(|t| {
            *t == w || (w.len() >= 4 && t.contains(w.as_str())) || (t.len() >= 4 && w.contains(t.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_tokens_as_ocr_reads_them() {
        let t = Tokens(vec!["DOE".into(), "PATIENTFIVE".into(), "19510829".into(), "08291951".into()]);
        assert!(t.matches("DOE,"));
        assert!(t.matches("PATIENTFI\\.."), "a word cut short");
        assert!(t.matches("08/29/1951"));
        assert!(t.matches("DOB:08/29/1951"), "run together");
        assert!(!t.matches("DO"));
        assert!(!t.matches("Liver"));
        assert!(!t.matches("OE"));
    }
}
