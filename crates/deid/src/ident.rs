//! The input's identifying values, gathered before anything is changed, as the
//! byte patterns that must not occur in the output.

use dicom_core::header::Header;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::{Tag, VR};
use dicom_encoding::text::{SpecificCharacterSet, TextCodec};
use dicom_object::mem::InMemDicomObject;
use serde::Serialize;

/// The kind of an identifying value; reasons and reports name kinds, never values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    PatientName,
    PatientId,
    BirthDate,
    Accession,
    OtherId,
    Institution,
    PersonName,
    Address,
    Phone,
    Email,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::PatientName => "patient name",
            Kind::PatientId => "patient ID",
            Kind::BirthDate => "birth date",
            Kind::Accession => "accession number",
            Kind::OtherId => "study or order identifier",
            Kind::Institution => "institution name or address",
            Kind::PersonName => "staff name",
            Kind::Address => "address",
            Kind::Phone => "phone number",
            Kind::Email => "email address",
        }
    }
}

/// One pattern to search for.
#[derive(Clone, Debug)]
pub struct Needle {
    pub kind: Kind,
    pub bytes: Vec<u8>,
    /// Long or specific enough to be searched inside pixel data too, where
    /// short tokens would match by chance.
    pub strong: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Identifiers {
    pub needles: Vec<Needle>,
    /// Words of the device's Manufacturer and model: a staff or institution
    /// name word equal to one of them (an operator called "ADMIN/Agfa", a site
    /// named after the vendor) names the device, not a person. Whole values
    /// are still searched.
    device_words: Vec<String>,
}

/// Tokens that identify no one (and that our own dummies use).
const STOP: &[&str] = &[
    "ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANON", "UNKNOWN", "NONE", "NULL", "N/A", "PATIENT", "NAME", "NOT",
    "AND", "THE", "STAFF", "MRS", "MISS", "PROF", "PHD", "JR.", "SR.",
];
/// Words of institution names too common to mean one place.
const STOP_INSTITUTION: &[&str] = &[
    "CLINIC", "CLINICS", "HOSPITAL", "MEDICAL", "CENTER", "CENTRE", "UNIVERSITY", "DEPARTMENT", "RADIOLOGY",
    "IMAGING", "HEALTH", "INSTITUTE", "SERVICE", "SERVICES", "STREET", "ROAD", "AVENUE", "SUITE", "GENERAL",
];

fn kind_of(tag: Tag, vr: VR) -> Option<Kind> {
    Some(match (tag.0, tag.1) {
        (0x0010, 0x0010) | (0x0010, 0x1001) | (0x0010, 0x1005) | (0x0010, 0x1060) | (0x0010, 0x0012) => Kind::PatientName,
        (0x0010, 0x0020) | (0x0010, 0x1000) | (0x0010, 0x1090) | (0x0038, 0x0010) | (0x0038, 0x0400)
        | (0x0010, 0x0050) | (0x0010, 0x1050) | (0x0010, 0x2297) => Kind::PatientId,
        (0x0010, 0x0030) => Kind::BirthDate,
        (0x0008, 0x0050) => Kind::Accession,
        (0x0020, 0x0010) | (0x0040, 0x2016) | (0x0040, 0x2017) | (0x0040, 0x1001) | (0x0040, 0x0009)
        | (0x0040, 0x0253) => Kind::OtherId,
        (0x0008, 0x0080) | (0x0008, 0x0081) | (0x0008, 0x1040) | (0x0008, 0x0082) => Kind::Institution,
        (0x0010, 0x1040) | (0x0008, 0x0092) | (0x0040, 0x1102) | (0x0010, 0x2152) => Kind::Address,
        (0x0010, 0x2154) | (0x0008, 0x0094) | (0x0040, 0x1103) => Kind::Phone,
        (0x0010, 0x2155) => Kind::Email,
        _ if vr == VR::PN => Kind::PersonName,
        _ => return None,
    })
}

impl Identifiers {
    #[cfg(test)]
    pub(crate) fn from_needles(needles: Vec<Needle>) -> Self {
        Identifiers { needles, device_words: Vec::new() }
    }

    /// Gathers identifying values at every depth of `obj` (private attributes
    /// aside: their meaning is unknown, and they are removed anyway).
    pub fn collect(obj: &InMemDicomObject) -> Self {
        let charset = obj
            .get(Tag(0x0008, 0x0005))
            .and_then(|e| e.to_multi_str().ok().map(|v| v.to_vec()))
            .unwrap_or_default();
        let charsets: Vec<SpecificCharacterSet> =
            charset.iter().filter_map(|c| SpecificCharacterSet::from_code(c.trim())).collect();
        let mut ids = Identifiers::default();
        for t in [Tag(0x0008, 0x0070), Tag(0x0008, 0x1090)] {
            if let Some(v) = obj.get(t).and_then(|e| e.to_str().ok()) {
                ids.device_words.extend(words(&v).map(str::to_uppercase));
            }
        }
        ids.walk(obj, &charsets, 0);
        ids.needles.sort_by(|a, b| (a.kind, &a.bytes).cmp(&(b.kind, &b.bytes)));
        ids.needles.dedup_by(|a, b| a.bytes.eq_ignore_ascii_case(&b.bytes));
        ids
    }

    fn walk(&mut self, obj: &InMemDicomObject, charsets: &[SpecificCharacterSet], depth: usize) {
        for e in obj {
            let tag = e.tag();
            if tag.0 % 2 == 1 {
                continue;
            }
            match e.value() {
                Value::Sequence(seq) => {
                    if depth < 64 {
                        for item in seq.items() {
                            self.walk(item, charsets, depth + 1);
                        }
                    }
                }
                Value::Primitive(v) => {
                    let vr = if e.vr() == VR::UN { crate::allow::dictionary_vr(tag).unwrap_or(VR::UN) } else { e.vr() };
                    if let Some(kind) = kind_of(tag, vr) {
                        for text in texts(v) {
                            self.add_value(kind, &text, charsets);
                        }
                    } else if matches!(vr, VR::LO | VR::LT | VR::ST | VR::UT | VR::SH | VR::UC) {
                        for text in texts(v) {
                            for w in text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';' | '(' | ')')) {
                                if looks_like_email(w) {
                                    self.push(Kind::Email, w, true, charsets);
                                }
                            }
                        }
                    }
                }
                Value::PixelSequence(_) => {}
            }
        }
    }

    fn add_value(&mut self, kind: Kind, value: &str, charsets: &[SpecificCharacterSet]) {
        let value = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
        if value.is_empty() {
            return;
        }
        match kind {
            Kind::PatientName | Kind::PersonName => self.add_name(kind, value, charsets),
            Kind::BirthDate => {
                let d: String = value.chars().filter(char::is_ascii_digit).collect();
                if d.len() >= 8 {
                    let (y, m, dd) = (&d[0..4], &d[4..6], &d[6..8]);
                    for f in [
                        format!("{y}{m}{dd}"),
                        format!("{y}-{m}-{dd}"),
                        format!("{y}/{m}/{dd}"),
                        format!("{y}.{m}.{dd}"),
                        format!("{dd}/{m}/{y}"),
                        format!("{m}/{dd}/{y}"),
                        format!("{dd}.{m}.{y}"),
                        format!("{dd}-{m}-{y}"),
                        format!("{m}-{dd}-{y}"),
                    ] {
                        self.push(kind, &f, true, charsets);
                    }
                }
            }
            Kind::Phone => {
                self.push(kind, value, true, charsets);
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                if digits.len() >= 7 {
                    self.push(kind, &digits, true, charsets);
                }
            }
            Kind::Institution | Kind::Address => {
                self.push(kind, value, value.chars().count() >= 6, charsets);
                for w in words(value) {
                    let upper = w.to_uppercase();
                    if w.chars().count() >= 4 && !STOP_INSTITUTION.contains(&upper.as_str()) && !self.device_words.contains(&upper) {
                        self.push(kind, w, w.chars().count() >= 6, charsets);
                    }
                }
            }
            Kind::Email => {
                for w in value.split_whitespace() {
                    self.push(kind, w, true, charsets);
                }
            }
            Kind::PatientId | Kind::Accession | Kind::OtherId => {
                let digits_only = value.chars().all(|c| c.is_ascii_digit());
                let n = value.chars().count();
                if (digits_only && n >= 5) || (!digits_only && n >= 3) {
                    self.push(kind, value, n >= 6, charsets);
                }
            }
        }
    }

    fn add_name(&mut self, kind: Kind, value: &str, charsets: &[SpecificCharacterSet]) {
        // Alphabetic, ideographic and phonetic groups are separated by '='.
        for group in value.split('=') {
            let comps: Vec<&str> = group.split('^').map(str::trim).collect();
            for c in &comps {
                for w in words(c) {
                    let n = w.chars().count();
                    let non_ascii = !w.is_ascii();
                    let device = kind == Kind::PersonName && self.device_words.contains(&w.to_uppercase());
                    if (n >= 3 || (non_ascii && n >= 2)) && !device {
                        self.push(kind, w, n >= 6 || non_ascii, charsets);
                    }
                }
            }
            let family = comps.first().copied().unwrap_or("");
            let given = comps.get(1).copied().unwrap_or("");
            if family.chars().count() >= 2 && given.chars().count() >= 2 {
                for f in [
                    format!("{family}^{given}"),
                    format!("{family}, {given}"),
                    format!("{family},{given}"),
                    format!("{given} {family}"),
                    format!("{family} {given}"),
                ] {
                    self.push(kind, &f, true, charsets);
                }
            }
        }
    }

    fn push(&mut self, kind: Kind, text: &str, strong: bool, charsets: &[SpecificCharacterSet]) {
        let text = text.trim();
        if text.is_empty() || STOP.contains(&text.to_uppercase().as_str()) {
            return;
        }
        let mut forms: Vec<Vec<u8>> = vec![text.as_bytes().to_vec()];
        if !text.is_ascii() {
            // The output is UTF-8, but an encoded copy of the input (say, in a
            // kept document) would use the input's character set.
            for cs in charsets {
                if let Ok(b) = cs.encode(text) {
                    forms.push(b);
                }
            }
            if text.chars().all(|c| (c as u32) < 256) {
                forms.push(text.chars().map(|c| c as u8).collect());
            }
        }
        forms.sort();
        forms.dedup();
        for bytes in forms {
            self.needles.push(Needle { kind, bytes, strong });
        }
    }

    /// Whether `word` equals an identifying value (for Clean Descriptors).
    pub fn is_identifying_word(&self, word: &str) -> bool {
        let w = word.as_bytes();
        self.needles.iter().any(|n| n.bytes.eq_ignore_ascii_case(w))
    }
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | '(' | ')' | '"' | '/'))
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
}

fn looks_like_email(w: &str) -> bool {
    let Some((user, domain)) = w.split_once('@') else { return false };
    !user.is_empty() && domain.contains('.') && !domain.starts_with('.')
}

fn texts(v: &PrimitiveValue) -> Vec<String> {
    match v {
        PrimitiveValue::Strs(s) => s.iter().cloned().collect(),
        PrimitiveValue::Str(s) => s.split('\\').map(str::to_string).collect(),
        PrimitiveValue::U8(b) => String::from_utf8_lossy(b).split('\\').map(str::to_string).collect(),
        PrimitiveValue::Empty => Vec::new(),
        other => vec![other.to_str().into_owned()],
    }
}
