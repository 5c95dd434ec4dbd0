//! Reading the kept image area with a caller's OCR, before the frames are
//! rewritten: the boxes of identifying words are cut out of the kept area,
//! so the one rewrite pass blanks them in every frame.

use dicom_object::DefaultDicomObject;

use super::NotCleanable;
use super::area::{KeepArea, Rect};
use super::frames;
use super::geometry::Geometry;
use super::palette::Plan;
use crate::text::{TextFinder, Tokens};

/// Pixels added around a word's box: OCR boxes hug the ink, and
/// anti-aliased edges of the glyphs lie just outside.
const MARGIN: u32 = 3;

pub(crate) struct TextCheck<'a> {
    pub finder: &'a dyn TextFinder,
    pub tokens: &'a Tokens,
}

/// Reads the first and the last frame (annotations typed on a loop stay put;
/// a second frame catches one added while it was recorded) and removes every
/// identifying word's box from `keep`. Returns how many words were removed.
pub(crate) fn remove_identifying_words(
    check: &TextCheck<'_>,
    obj: &DefaultDicomObject,
    geo: &Geometry,
    ts: &str,
    plan: &Plan,
    keep: &mut KeepArea,
) -> Result<usize, NotCleanable> {
    if check.tokens.is_empty() {
        return Ok(0);
    }
    let Some(bounds) = keep.bounds() else { return Ok(0) };
    let mut removed = 0;
    let mut sampled = vec![0];
    if geo.frames > 1 {
        sampled.push(geo.frames - 1);
    }
    for f in sampled {
        let frame = frames::decode_one(obj, geo, ts, plan, f)?;
        let px = frames::output_pixel_len(geo, plan);
        let grey = kept_grey(&frame, geo, px, keep, bounds).ok_or_else(|| {
            NotCleanable::Unsupported("text check: samples wider than 8 bits are not read".into())
        })?;
        let words = check
            .finder
            .find(&grey, bounds.x1 - bounds.x0, bounds.y1 - bounds.y0)
            .map_err(|e| NotCleanable::Unsupported(format!("text check failed: {e}")))?;
        for w in words.iter().filter(|w| check.tokens.matches(&w.text)) {
            keep.subtract(Rect {
                x0: (bounds.x0 + w.x).saturating_sub(MARGIN),
                y0: (bounds.y0 + w.y).saturating_sub(MARGIN),
                x1: bounds.x0 + w.x + w.width + MARGIN,
                y1: bounds.y0 + w.y + w.height + MARGIN,
            });
            removed += 1;
        }
    }
    Ok(removed)
}

/// The kept area's bounding box as 8-bit grey, blanked pixels black: OCR sees
/// only what the patient would.
fn kept_grey(frame: &[u8], geo: &Geometry, px: usize, keep: &KeepArea, b: Rect) -> Option<Vec<u8>> {
    if px != 1 && px != 3 {
        return None;
    }
    let (w, h) = ((b.x1 - b.x0) as usize, (b.y1 - b.y0) as usize);
    let mut out = vec![0u8; w * h];
    let cols = geo.cols as usize;
    for y in 0..h {
        let row = &frame[(b.y0 as usize + y) * cols * px..][..cols * px];
        let line = &mut out[y * w..][..w];
        for (a, e) in keep.spans(b.y0 + y as u32) {
            for x in a as usize..e as usize {
                line[x - b.x0 as usize] = if px == 1 {
                    row[x]
                } else {
                    let p = &row[x * 3..x * 3 + 3];
                    // Coloured annotation text (yellow, green) is bright in at least one channel.
                    p[0].max(p[1]).max(p[2])
                };
            }
        }
    }
    Some(out)
}
