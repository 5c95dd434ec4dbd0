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
use crate::pixel_scan::PixelFilter;

pub struct Verifier<'a> {
    ids: &'a Identifiers,
    ac: Option<AhoCorasick>,
    /// Strong needles only (indexes into `ids.needles`), for pixel data.
    strong: Option<(AhoCorasick, Vec<usize>)>,
    /// Where in pixel data a strong needle may be (see `pixel_scan`).
    filter: Option<PixelFilter>,
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
        let strong = (!strong_idx.is_empty()).then(|| {
            // No prefilter of the crate's own (it can't fold case with SIMD):
            // the automaton runs only on `PixelFilter` candidates (short
            // spans), so a contiguous NFA (cheap to build per object) costs
            // less in all than a DFA.
            let ac = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .prefilter(false)
                .match_kind(MatchKind::Standard)
                .build(strong_idx.iter().map(|&i| &ids.needles[i].bytes))
                .expect("patterns are bounded in number and size");
            (ac, strong_idx)
        });
        let filter = strong.as_ref().and_then(|(_, idx)| PixelFilter::new(idx.iter().map(|&i| ids.needles[i].bytes.as_slice())));
        Verifier { ids, ac, strong, filter }
    }

    /// Scans `bytes`; inside `weak_free` (pixel data) only strong patterns
    /// count, searched with a prefiltered non-overlapping scan (pixel data is
    /// most of the bytes of a large object).
    pub fn scan_bytes(&self, bytes: &[u8], weak_free: Option<Range<usize>>, place: &str, out: &mut Findings) {
        let Some(ac) = &self.ac else { return };
        if let Some(r) = &weak_free {
            self.scan_pixels(bytes, r.clone(), place, out);
            self.scan_overlapping(ac, &bytes[..r.start], place, out);
            self.scan_overlapping_from(ac, bytes, r.end, place, out);
            return;
        }
        self.scan_overlapping(ac, bytes, place, out);
    }

    /// Scans `bytes[r]`, pixel data, for strong patterns only.
    pub fn scan_pixels(&self, bytes: &[u8], r: Range<usize>, place: &str, out: &mut Findings) {
        let Some((strong, idx)) = &self.strong else { return };
        let mut found = |span: Range<usize>| {
            for m in strong.find_overlapping_iter(aho_corasick::Input::new(bytes).span(span)) {
                let needle = &self.ids.needles[idx[m.pattern().as_usize()]];
                if bounded(bytes, m.start(), m.end(), &needle.bytes) {
                    out.kinds.insert(needle.kind);
                    out.places.insert(place.to_string());
                }
            }
        };
        match &self.filter {
            Some(f) => f.candidates(bytes, r, &mut found),
            None => found(r),
        }
    }

    /// Finds strong patterns that straddle the seam of `head` followed by
    /// `tail` (pixel data on both sides), which a scan of each side misses.
    pub fn scan_seam(&self, head: &[u8], tail: &[u8], place: &str, out: &mut Findings) {
        let Some((strong, idx)) = &self.strong else { return };
        let longest = idx.iter().map(|&i| self.ids.needles[i].bytes.len()).max().unwrap_or(0);
        // One byte more on each side, for the whole-token check.
        let a = &head[head.len().saturating_sub(longest)..];
        let b = &tail[..tail.len().min(longest)];
        let seam = [a, b].concat();
        for m in strong.find_overlapping_iter(&seam) {
            let needle = &self.ids.needles[idx[m.pattern().as_usize()]];
            let straddles = m.start() < a.len() && m.end() > a.len();
            if straddles && bounded(&seam, m.start(), m.end(), &needle.bytes) {
                out.kinds.insert(needle.kind);
                out.places.insert(place.to_string());
            }
        }
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

    /// Every bounded, case-insensitive occurrence of a strong needle, found
    /// the slow way.
    fn naive_strong(ids: &Identifiers, hay: &[u8], r: Range<usize>) -> BTreeSet<Kind> {
        let mut kinds = BTreeSet::new();
        for n in ids.needles.iter().filter(|n| n.strong) {
            let l = n.bytes.len();
            for x in (r.start..r.end.saturating_sub(l - 1)).filter(|x| x + l <= r.end) {
                if hay[x..x + l].eq_ignore_ascii_case(&n.bytes) && bounded(hay, x, x + l, &n.bytes) {
                    kinds.insert(n.kind);
                }
            }
        }
        kinds
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        /// The gram filter never hides an occurrence the automaton would find:
        /// noise drawn from the needles' own letters (like mid-grey pixels),
        /// needles planted at any offset in any letter case, any pixel range.
        #[test]
        fn pixel_scan_finds_exactly_what_a_naive_search_finds(
            noise in proptest::collection::vec(0usize..24, 0..600),
            plants in proptest::collection::vec((0usize..700, 0usize..5, proptest::prelude::any::<u32>()), 0..4),
            cut in (0usize..40, 0usize..40),
        ) {
            let needles = [
                (Kind::PatientName, &b"PATIENTFIVE"[..]),
                (Kind::BirthDate, &b"1951-08-29"[..]),
                (Kind::PatientId, &b"10101010101"[..]),
                (Kind::Institution, &b"CANADA"[..]),
                (Kind::Accession, &b"A1b2C3"[..]),
            ];
            let ids = Identifiers::from_needles(
                needles.iter().map(|(kind, b)| Needle { kind: *kind, bytes: b.to_vec(), strong: true }).collect(),
            );
            let alphabet = b"PATIENFVCD01589-/ aZ\0\xff";
            let mut hay: Vec<u8> = noise.iter().map(|&i| alphabet[i % alphabet.len()]).collect();
            for (at, which, case) in plants {
                let mut n = needles[which].1.to_vec();
                for (j, b) in n.iter_mut().enumerate() {
                    if case >> (j % 32) & 1 == 1 { *b = b.to_ascii_lowercase(); }
                }
                // Mostly as a whole token, sometimes glued to the noise.
                let sep: &[u8] = if case % 5 == 0 { b"" } else { b" " };
                let at = at.min(hay.len());
                hay.splice(at..at, [sep, &n, sep].concat());
            }
            let r = cut.0.min(hay.len())..hay.len().saturating_sub(cut.1).max(cut.0.min(hay.len()));
            let mut v = Verifier::new(&ids);
            let packed = matches!(v.filter, Some(PixelFilter::Packed { .. }));
            proptest::prop_assert!(packed);
            let mut f = Findings::default();
            v.scan_bytes(&hay, Some(r.clone()), "bytes", &mut f);
            // The fallback filter finds the same.
            let strong = ids.needles.iter().map(|n| n.bytes.as_slice());
            v.filter = Some(PixelFilter::Grams(crate::pixel_scan::GramFilter::new(strong).unwrap()));
            let mut g = Findings::default();
            v.scan_bytes(&hay, Some(r.clone()), "bytes", &mut g);
            proptest::prop_assert_eq!(&g.kinds, &f.kinds);
            // Outside the range every needle counts (weak ones too).
            let mut expected = naive_strong(&ids, &hay, r.clone());
            let mut outside = Findings::default();
            let ac = v.ac.as_ref().unwrap();
            v.scan_overlapping(ac, &hay[..r.start], "x", &mut outside);
            v.scan_overlapping_from(ac, &hay, r.end, "x", &mut outside);
            expected.extend(outside.kinds);
            proptest::prop_assert_eq!(f.kinds, expected);
        }
    }

    #[test]
    fn a_value_across_the_seam_of_a_split_output_is_found_and_only_as_a_whole_token() {
        let ids = ids();
        let v = Verifier::new(&ids);
        let mut f = Findings::default();
        v.scan_seam(b"\0\0\0\0\0 1951", b"0829 \0\0\0\0", "bytes", &mut f);
        assert!(f.kinds.contains(&Kind::BirthDate));
        let mut f = Findings::default();
        v.scan_seam(b"\0\0\0\0\0x1951", b"0829 \0\0\0\0", "bytes", &mut f);
        assert!(f.is_empty(), "glued to a letter: not a whole token");
        // Wholly on one side: that side's own scan reports it, not the seam's.
        let mut f = Findings::default();
        v.scan_seam(b" 19510829 ", b"\0\0\0", "bytes", &mut f);
        assert!(f.is_empty());
    }
}
