//! Reading the kept image area with a caller's OCR: the boxes of identifying
//! words are cut out of the kept area, so one rewrite pass blanks them in
//! every frame. Runs either inside cleaning (before the frames are rewritten)
//! or later, on an object cleaning already wrote ([`recheck`]).

use dicom_object::DefaultDicomObject;

use super::area::{KeepArea, Rect};
use super::geometry::Geometry;
use super::palette::{self, Plan};
use super::{NotCleanable, frames, output};
use crate::text::{TextFinder, Tokens};

/// Pixels added around a word's box: OCR boxes hug the ink, and
/// anti-aliased edges of the glyphs lie just outside.
const MARGIN: u32 = 3;

/// Blank pixels kept around the content read: Tesseract reads text that
/// touches the image edge worse.
const PAD: u32 = 8;

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
    let mut found = Vec::new();
    let mut sampled = vec![0];
    if geo.frames > 1 {
        sampled.push(geo.frames - 1);
    }
    for f in sampled {
        let frame = frames::decode_one(obj, geo, ts, plan, f)?;
        let px = frames::output_pixel_len(geo, plan);
        let grey = kept_grey(&frame, geo, px, keep, bounds, &plan.fill).ok_or_else(|| {
            NotCleanable::Unsupported("text check: samples wider than 8 bits are not read".into())
        })?;
        let (w, h) = (bounds.x1 - bounds.x0, bounds.y1 - bounds.y0);
        // Only the part that shows anything: blanked pixels hold no text,
        // and OCR time grows with the area read.
        let Some(c) = content(&grey, w, h) else { continue };
        let crop: Vec<u8> = (c.y0..c.y1)
            .flat_map(|y| &grey[(y * w + c.x0) as usize..(y * w + c.x1) as usize])
            .copied()
            .collect();
        let words = check
            .finder
            .find(&crop, c.x1 - c.x0, c.y1 - c.y0)
            .map_err(|e| NotCleanable::Unsupported(format!("text check failed: {e}")))?;
        let (ox, oy) = (bounds.x0 + c.x0, bounds.y0 + c.y0);
        found.extend(words.iter().filter(|w| check.tokens.matches(&w.text)).map(|w| Rect {
            x0: (ox + w.x).saturating_sub(MARGIN),
            y0: (oy + w.y).saturating_sub(MARGIN),
            x1: ox + w.x + w.width + MARGIN,
            y1: oy + w.y + w.height + MARGIN,
        }));
    }
    for r in &found {
        keep.subtract(*r);
    }
    Ok(found.len())
}

/// The text check on an object whose pixels cleaning already wrote (blanked
/// outside the image area, so the whole frame is read and the blank parts
/// are skipped): identifying words are blanked in every frame, in the
/// object's own transfer syntax. Returns how many; with none the object is
/// not touched.
pub(crate) fn recheck(obj: &mut DefaultDicomObject, check: &TextCheck<'_>) -> Result<usize, NotCleanable> {
    let ts = super::frame_ts(obj)?;
    let geo = Geometry::read(obj)?;
    let plan = palette::plan(obj, &geo)?;
    let mut keep = KeepArea::whole(geo.cols, geo.rows);
    let n = remove_identifying_words(check, obj, &geo, &ts, &plan, &mut keep)?;
    if n > 0 {
        let written = frames::rewrite(obj, &geo, &ts, &keep, &plan, ts == output::RLE_TS)?;
        output::finish(obj, &geo, &ts, &plan, written);
    }
    Ok(n)
}

/// The smallest rectangle of non-zero pixels, grown by [`PAD`] within the image.
fn content(grey: &[u8], w: u32, h: u32) -> Option<Rect> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for (y, line) in grey.chunks_exact(w as usize).enumerate() {
        let (Some(a), Some(b)) = (line.iter().position(|&v| v != 0), line.iter().rposition(|&v| v != 0)) else {
            continue;
        };
        (x0, x1) = (x0.min(a as u32), x1.max(b as u32 + 1));
        (y0, y1) = (y0.min(y as u32), y as u32 + 1);
    }
    (x0 < x1).then(|| Rect {
        x0: x0.saturating_sub(PAD),
        y0: y0.saturating_sub(PAD),
        x1: (x1 + PAD).min(w),
        y1: (y1 + PAD).min(h),
    })
}

/// The kept area's bounding box as 8-bit grey, blanked pixels (and pixels
/// already holding the blank value) black: OCR sees only what the patient would.
fn kept_grey(frame: &[u8], geo: &Geometry, px: usize, keep: &KeepArea, b: Rect, fill: &[u8]) -> Option<Vec<u8>> {
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
                let p = &row[x * px..x * px + px];
                line[x - b.x0 as usize] = if p == fill {
                    0
                } else if px == 1 {
                    p[0]
                } else {
                    // Coloured annotation text (yellow, green) is bright in at least one channel.
                    p[0].max(p[1]).max(p[2])
                };
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_the_padded_box_of_what_shows() {
        let (w, h) = (40u32, 30u32);
        let mut g = vec![0u8; (w * h) as usize];
        g[(12 * w + 20) as usize] = 9;
        g[(14 * w + 25) as usize] = 9;
        assert_eq!(content(&g, w, h), Some(Rect { x0: 12, y0: 4, x1: 34, y1: 23 }));
        g[0] = 1;
        assert_eq!(content(&g, w, h), Some(Rect { x0: 0, y0: 0, x1: 34, y1: 23 }));
        assert_eq!(content(&vec![0; (w * h) as usize], w, h), None);
    }
}
