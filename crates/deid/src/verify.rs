//! The fail-closed check: none of the input's identifying values may occur in
//! the output, neither in any attribute at any depth nor anywhere in its bytes.

use std::collections::BTreeSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use dicom_core::header::Header;
use dicom_core::value::{PrimitiveValue, Value};
use dicom_core::Tag;
use dicom_object::mem::InMemDicomObject;

use crate::ident::{Identifiers, Kind};

pub struct Verifier<'a> {
    ids: &'a Identifiers,
    ac: Option<AhoCorasick>,
    /// Strong needles only (indexes into `ids.needles`), for pixel data.
    strong: Option<(AhoCorasick, Vec<usize>)>,
    /// Every byte value of every strong needle, both ASCII cases.
    strong_bytes: [bool; 256],
    strong_min_len: usize,
}

/// What was found: kinds only, never values.
#[derive(Debug, Default)]
pub struct Findings {
    pub kinds: BTreeSet<Kind>,
    /// Where (attribute tags, or "bytes"), for the report.
    pub places: BTreeSet<String>,
}

impl Findings {
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    pub fn reason(&self) -> String {
        let kinds: Vec<&str> = self.kinds.iter().map(|k| k.label()).collect();
        format!("verification found the input's {} in the output", kinds.join(", "))
    }
}

impl<'a> Verifier<'a> {
    pub fn new(ids: &'a Identifiers) -> Self {
        let ac = (!ids.needles.is_empty()).then(|| {
            // Built once per object and run over a few KB of header: a
            // contiguous NFA builds several times faster than the DFA the
            // builder would pick for so few patterns, which cost more than the scan.
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .match_kind(MatchKind::Standard)
                .build(ids.needles.iter().map(|n| &n.bytes))
                .expect("patterns are bounded in number and size")
        });
        let strong_idx: Vec<usize> = (0..ids.needles.len()).filter(|&i| ids.needles[i].strong).collect();
        let mut strong_bytes = [false; 256];
        let mut strong_min_len = usize::MAX;
        for &i in &strong_idx {
            let b = &ids.needles[i].bytes;
            strong_min_len = strong_min_len.min(b.len());
            for &c in b {
                strong_bytes[c as usize] = true;
                strong_bytes[c.to_ascii_lowercase() as usize] = true;
                strong_bytes[c.to_ascii_uppercase() as usize] = true;
            }
        }
        let strong = (!strong_idx.is_empty()).then(|| {
            // No prefilter: pixel data defeats them (its bytes look like text
            // often enough). The automaton runs only on `candidate_runs`, a
            // small part of the pixels, so a contiguous NFA (cheap to build
            // per object) costs less in all than a DFA.
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .prefilter(false)
                .match_kind(MatchKind::LeftmostFirst)
                .build(strong_idx.iter().map(|&i| &ids.needles[i].bytes))
                .expect("patterns are bounded in number and size");
            (ac, strong_idx)
        });
        Verifier { ids, ac, strong, strong_bytes, strong_min_len: strong_min_len.max(1) }
    }

    /// Runs of at least `strong_min_len` bytes that all occur in strong
    /// needles: every match lies inside one. Checking one byte per window
    /// skips most of an image (dark areas are zeros) without missing any.
    fn candidate_runs(&self, bytes: &[u8], r: Range<usize>) -> Vec<Range<usize>> {
        let m = self.strong_min_len;
        let mut runs = Vec::new();
        let mut i = r.start + m - 1;
        while i < r.end {
            if !self.strong_bytes[bytes[i] as usize] {
                i += m;
                continue;
            }
            let mut a = i;
            while a > r.start && self.strong_bytes[bytes[a - 1] as usize] {
                a -= 1;
            }
            let mut b = i + 1;
            while b < r.end && self.strong_bytes[bytes[b] as usize] {
                b += 1;
            }
            if b - a >= m {
                runs.push(a..b);
            }
            i = b + m;
        }
        runs
    }

    /// Scans `bytes`; inside `weak_free` (pixel data) only strong patterns
    /// count, searched with a prefiltered non-overlapping scan (pixel data is
    /// most of the bytes of a large object).
    pub fn scan_bytes(&self, bytes: &[u8], weak_free: Option<Range<usize>>, place: &str, out: &mut Findings) {
        let Some(ac) = &self.ac else { return };
        if let Some(r) = &weak_free {
            if let Some((strong, idx)) = &self.strong {
                for run in self.candidate_runs(bytes, r.clone()) {
                    let input = aho_corasick::Input::new(bytes).span(run);
                    for m in strong.find_iter(input) {
                        let needle = &self.ids.needles[idx[m.pattern().as_usize()]];
                        if bounded(bytes, m.start(), m.end(), &needle.bytes) {
                            out.kinds.insert(needle.kind);
                            out.places.insert(place.to_string());
                        }
                    }
                }
            }
            self.scan_overlapping(ac, &bytes[..r.start], place, out);
            self.scan_overlapping_from(ac, bytes, r.end, place, out);
            return;
        }
        self.scan_overlapping(ac, bytes, place, out);
    }

    fn scan_overlapping(&self, ac: &AhoCorasick, bytes: &[u8], place: &str, out: &mut Findings) {
        self.scan_overlapping_from(ac, bytes, 0, place, out);
    }

    fn scan_overlapping_from(&self, ac: &AhoCorasick, bytes: &[u8], from: usize, place: &str, out: &mut Findings) {
        if from >= bytes.len() {
            return;
        }
        let input = aho_corasick::Input::new(bytes).span(from..bytes.len());
        for m in ac.find_overlapping_iter(input) {
            let needle = &self.ids.needles[m.pattern().as_usize()];
            if bounded(bytes, m.start(), m.end(), &needle.bytes) {
                out.kinds.insert(needle.kind);
                out.places.insert(place.to_string());
            }
        }
    }

    /// Scans every attribute value at every depth except native or encapsulated
    /// pixel data, which `scan_bytes` covers with strong patterns.
    pub fn scan_object(&self, obj: &InMemDicomObject, out: &mut Findings) {
        self.walk(obj, out, 0);
    }

    fn walk(&self, obj: &InMemDicomObject, out: &mut Findings, depth: usize) {
        for e in obj {
            let tag = e.tag();
            match e.value() {
                Value::Sequence(seq) if depth < 128 => {
                    for item in seq.items() {
                        self.walk(item, out, depth + 1);
                    }
                }
                Value::Primitive(v) if !is_pixel_data(tag) => {
                    let place = format!("({:04X},{:04X})", tag.0, tag.1);
                    match v {
                        PrimitiveValue::U8(b) => self.scan_bytes(b, None, &place, out),
                        PrimitiveValue::Strs(s) => self.scan_bytes(s.join("\\").as_bytes(), None, &place, out),
                        PrimitiveValue::Str(s) => self.scan_bytes(s.as_bytes(), None, &place, out),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

fn is_pixel_data(tag: Tag) -> bool {
    tag.0 == 0x7FE0 && matches!(tag.1, 0x0008 | 0x0009 | 0x0010)
}

/// A hit counts only as a whole token: the bytes around it are not letters or
/// digits (for ASCII patterns; ideographic text has no word breaks).
fn bounded(hay: &[u8], start: usize, end: usize, needle: &[u8]) -> bool {
    // '_' joins words in code strings (TOSHIBA_MEC is not TOSHIBA).
    let alnum = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let first = needle.first().copied().unwrap_or(b' ');
    let last = needle.last().copied().unwrap_or(b' ');
    let left_ok = !alnum(first) || start == 0 || !alnum(hay[start - 1]);
    let right_ok = !alnum(last) || end >= hay.len() || !alnum(hay[end]);
    left_ok && right_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ident::Needle;

    fn ids() -> Identifiers {
        Identifiers::from_needles(vec![
                Needle { kind: Kind::PatientName, bytes: b"DOE".to_vec(), strong: false },
                Needle { kind: Kind::BirthDate, bytes: b"19510829".to_vec(), strong: true },
        ])
    }

    #[test]
    fn finds_whole_tokens_case_insensitively() {
        let ids = ids();
        let v = Verifier::new(&ids);
        let mut f = Findings::default();
        v.scan_bytes(b"xx john doe yy", None, "bytes", &mut f);
        assert!(f.kinds.contains(&Kind::PatientName));
        let mut f = Findings::default();
        v.scan_bytes(b"DOES NOT MATCH", None, "bytes", &mut f);
        assert!(f.is_empty());
    }

    #[test]
    fn strong_patterns_are_found_anywhere_in_pixel_data_whatever_surrounds_them() {
        let ids = ids();
        let v = Verifier::new(&ids);
        for pad in 0..20 {
            let mut hay = vec![0u8; pad];
            hay.extend_from_slice(b"x19510829");
            hay.extend(std::iter::repeat_n(0u8, pad % 7));
            let mut f = Findings::default();
            v.scan_bytes(&hay, Some(0..hay.len()), "bytes", &mut f);
            assert!(f.is_empty(), "'x' glued to the date is not a whole token");
            hay[pad] = b' ';
            let mut f = Findings::default();
            v.scan_bytes(&hay, Some(0..hay.len()), "bytes", &mut f);
            assert!(f.kinds.contains(&Kind::BirthDate), "missed at offset {pad}");
        }
    }

    #[test]
    fn weak_patterns_are_ignored_in_pixel_data_strong_ones_are_not() {
        let ids = ids();
        let v = Verifier::new(&ids);
        let hay = b"....DOE.....19510829..";
        let mut f = Findings::default();
        v.scan_bytes(hay, Some(0..hay.len()), "bytes", &mut f);
        assert_eq!(f.kinds.iter().copied().collect::<Vec<_>>(), vec![Kind::BirthDate]);
        assert!(f.reason().contains("birth date") && !f.reason().contains("1951"));
    }
}
