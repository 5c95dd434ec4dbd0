//! Finding where in pixel data an identifying value may be, fast.
//!
//! The verifier searches every output byte for the input's strong needles
//! (full dates, IDs, long names), pixel data included, and in a large cine
//! that is almost all of the bytes. The automaton then runs only on short
//! spans that a filter here picked; together those spans hold every
//! case-insensitive occurrence of every strong needle (the unit tests compare
//! with a naive search).

use std::ops::Range;

use aho_corasick::packed;

/// Case is folded by setting bit 5 of every byte: an ASCII letter becomes
/// lower case, and a few non-letters merge with others ('@' with '`', NUL
/// with space…). So a needle that occurs in any letter case occurs folded in
/// the folded bytes; folding more than letters only adds candidates.
const FOLD: u8 = 0x20;

pub(crate) enum PixelFilter {
    /// The SIMD searcher (Teddy) over folded copies of the bytes: ~9 GB/s
    /// on grey cine and JPEG alike.
    Packed { searcher: packed::Searcher, max_len: usize },
    /// Where the packed searcher can't be built (more than 128 needles, no
    /// SIMD on this CPU): ~2 GB/s, with no false negatives either.
    Grams(GramFilter),
}

/// Bytes folded per step of the packed search.
const CHUNK: usize = 64 * 1024;

impl PixelFilter {
    pub(crate) fn new<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<Self> {
        let max_len = needles.clone().map(<[u8]>::len).max()?;
        let mut folded: Vec<Vec<u8>> = needles.clone().map(|n| n.iter().map(|b| b | FOLD).collect()).collect();
        folded.sort();
        folded.dedup();
        let searcher = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&folded)
            .build();
        match searcher {
            Some(searcher) => Some(PixelFilter::Packed { searcher, max_len }),
            None => GramFilter::new(needles).map(PixelFilter::Grams),
        }
    }

    /// Calls `each` with spans of `r` that together hold every occurrence
    /// lying in `r`.
    pub(crate) fn candidates(&self, bytes: &[u8], r: Range<usize>, mut each: impl FnMut(Range<usize>)) {
        match self {
            PixelFilter::Grams(g) => g.candidates(bytes, r, each),
            PixelFilter::Packed { searcher, max_len } => {
                let mut folded = vec![0u8; CHUNK.min(r.len()) + max_len];
                let mut start = r.start;
                while start < r.end {
                    // Each chunk also holds the next `max_len` bytes, so an
                    // occurrence starting in the chunk lies wholly in it.
                    let end = (start + CHUNK + max_len).min(r.end);
                    let buf = &mut folded[..end - start];
                    for (f, b) in buf.iter_mut().zip(&bytes[start..end]) {
                        *f = b | FOLD;
                    }
                    let starts_before = CHUNK.min(buf.len());
                    let mut at = 0;
                    // Every position where some folded needle starts, in order.
                    while let Some(m) = searcher.find_in(&*buf, aho_corasick::Span { start: at, end: buf.len() }) {
                        if m.start() >= starts_before {
                            break;
                        }
                        let x = start + m.start();
                        each(x..(x + max_len).min(r.end));
                        at = m.start() + 1;
                    }
                    start += CHUNK;
                }
            }
        }
    }
}

/// A filter over pixel data: every strong needle occurrence contains, at a
/// position sampled every `stride` bytes, one of the needles' 3-byte grams.
///
/// With `m` the shortest strong needle, the grams at offsets `0..=m-3` of
/// every needle go into a hashed bit set; sampling every `m-2` bytes lands
/// exactly once in the first `m-2` offsets of any occurrence, whose gram is in
/// the set. Only around a sampled gram that is in the set does the automaton
/// run. Native pixel data is full of bytes that also occur in names, dates
/// and IDs (mid-grey values are ASCII letters and digits), so filtering on
/// single bytes left a third of a grey cine to the automaton; three bytes at
/// once leave well under 1%. Case is folded by setting bit 5 of every byte,
/// which also merges some non-letters: more candidates, never fewer.
pub(crate) struct GramFilter {
    bits: Vec<u64>,
    stride: usize,
    /// Longest strong needle, in bytes.
    max_len: usize,
}

const GRAM: usize = 3;
const GRAM_HASH_BITS: u32 = 16;

impl GramFilter {
    pub(crate) fn new<'n>(needles: impl Iterator<Item = &'n [u8]> + Clone) -> Option<Self> {
        let min_len = needles.clone().map(<[u8]>::len).min()?;
        if min_len < GRAM {
            return None;
        }
        let mut f = GramFilter {
            bits: vec![0; (1 << GRAM_HASH_BITS) / 64],
            stride: min_len - GRAM + 1,
            max_len: needles.clone().map(<[u8]>::len).max()?,
        };
        for n in needles {
            for w in n.windows(GRAM).take(f.stride) {
                let k = Self::key(u32::from_le_bytes([w[0], w[1], w[2], 0]));
                f.bits[k >> 6] |= 1 << (k & 63);
            }
        }
        Some(f)
    }

    /// The gram's hash; the fourth byte of `word` is ignored.
    #[inline(always)]
    fn key(word: u32) -> usize {
        (((word | 0x2020_2020) & 0x00FF_FFFF).wrapping_mul(0x9E37_79B1) >> (32 - GRAM_HASH_BITS)) as usize
    }

    #[inline(always)]
    fn hit(&self, bytes: &[u8], p: usize) -> bool {
        let word = match bytes.get(p..p + 4) {
            Some(w) => u32::from_le_bytes([w[0], w[1], w[2], w[3]]),
            None => u32::from_le_bytes([bytes[p], bytes[p + 1], bytes[p + 2], 0]),
        };
        let k = Self::key(word);
        self.bits[k >> 6] >> (k & 63) & 1 != 0
    }

    /// Spans of `r` that may hold an occurrence; together they hold every one.
    fn candidates(&self, bytes: &[u8], r: Range<usize>, mut each: impl FnMut(Range<usize>)) {
        let s = self.stride;
        let Some(last) = r.end.checked_sub(GRAM) else { return };
        let mut p = r.start;
        while p <= last {
            // Four samples per step: nearly every step has no hit.
            if p + 3 * s <= last && !(self.hit(bytes, p) | self.hit(bytes, p + s) | self.hit(bytes, p + 2 * s) | self.hit(bytes, p + 3 * s)) {
                p += 4 * s;
                continue;
            }
            if self.hit(bytes, p) {
                // The occurrence starts at most `s - 1` bytes before `p`.
                each(p.saturating_sub(s - 1).max(r.start)..(p + self.max_len).min(r.end));
            }
            p += s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(f: &PixelFilter, hay: &[u8], r: Range<usize>) -> Vec<Range<usize>> {
        let mut v = Vec::new();
        f.candidates(hay, r, |s| v.push(s));
        v
    }

    #[test]
    fn both_filters_point_at_a_needle_in_any_case_across_chunk_edges() {
        let needles: [&[u8]; 2] = [b"Cleveland", b"19510829"];
        let packed = PixelFilter::new(needles.iter().copied()).unwrap();
        assert!(matches!(packed, PixelFilter::Packed { .. }), "this CPU has SSSE3 or NEON");
        let grams = PixelFilter::Grams(GramFilter::new(needles.iter().copied()).unwrap());
        for at in [0, 5, CHUNK - 4, CHUNK, CHUNK + 1, 2 * CHUNK - 9] {
            let mut hay = vec![0x41u8; 2 * CHUNK + 100];
            hay[at..at + 9].copy_from_slice(b"cLEVELAND");
            for f in [&packed, &grams] {
                let got = spans(f, &hay, 0..hay.len());
                assert!(got.iter().any(|s| s.start <= at && at + 9 <= s.end), "missed at {at}: {got:?}");
            }
            // Not when the range ends inside the occurrence.
            assert!(spans(&packed, &hay, 0..at + 8).iter().all(|s| s.end < at + 9));
        }
    }

    #[test]
    fn more_needles_than_the_packed_searcher_takes_fall_back_to_grams() {
        let many: Vec<Vec<u8>> = (0..200).map(|i| format!("ID{i:06}").into_bytes()).collect();
        let f = PixelFilter::new(many.iter().map(Vec::as_slice)).unwrap();
        assert!(matches!(f, PixelFilter::Grams(_)));
        let mut hay = vec![0u8; 1000];
        hay[500..508].copy_from_slice(b"id000137");
        assert!(spans(&f, &hay, 0..hay.len()).iter().any(|s| s.start <= 500 && 508 <= s.end));
    }
}
