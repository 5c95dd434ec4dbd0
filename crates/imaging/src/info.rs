//! The image attributes rendering needs, read once per request.
//!
//! Enhanced multi-frame objects keep rescale and window per frame inside
//! functional groups; [`lookup`] looks there first so every frame gets its own
//! values, then falls back to the top-level attribute classic objects use.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::RenderError;

/// Larger frames are refused before any allocation: a header can claim
/// 65535 × 65535 pixels and a server must not try to honour that.
pub const MAX_PIXELS: u64 = 1 << 27;

#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub rows: u32,
    pub cols: u32,
    pub samples: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub high_bit: u16,
    pub signed: bool,
    pub photometric: String,
    pub planar: bool,
    pub frames: u32,
    pub ts: String,
    /// Float (32) or Double Float (64) Pixel Data: IEEE values, no rescale.
    pub float: bool,
}

impl ImageInfo {
    /// `cut`: the caller supplies the frame's bytes (no Pixel Data in `obj`).
    pub fn read(obj: &InMemDicomObject, ts: &str, cut: bool) -> Result<Self, RenderError> {
        let integer_pixels = obj.get(tags::PIXEL_DATA).is_some();
        let float_pixels = obj.get(tags::FLOAT_PIXEL_DATA).is_some() || obj.get(tags::DOUBLE_FLOAT_PIXEL_DATA).is_some();
        if !cut && !integer_pixels && !float_pixels {
            return Err(RenderError::NotAnImage("the object has no pixel data".into()));
        }
        let bad = |m: &str| RenderError::Invalid(m.to_string());
        let rows: u32 = int(obj, tags::ROWS).ok_or_else(|| bad("Rows is missing"))?;
        let cols: u32 = int(obj, tags::COLUMNS).ok_or_else(|| bad("Columns is missing"))?;
        if rows == 0 || cols == 0 {
            return Err(bad("the image has no rows or columns"));
        }
        if rows as u64 * cols as u64 > MAX_PIXELS {
            return Err(bad("the image is too large to render"));
        }
        let samples: u16 = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1);
        let bits_allocated: u16 = int(obj, tags::BITS_ALLOCATED).ok_or_else(|| bad("Bits Allocated is missing"))?;
        // Float pixel data has no Bits Stored (PS3.3 C.7.6.24); without the
        // pixel data element (frames cut by the caller) that is how to tell.
        let float = float_pixels || (cut && matches!(bits_allocated, 32 | 64) && obj.get(tags::BITS_STORED).is_none());
        let supported = matches!(bits_allocated, 1 | 8 | 16 | 32) || float && bits_allocated == 64;
        if !supported {
            return Err(RenderError::Unsupported(format!("{bits_allocated} bits allocated")));
        }
        let bits_stored = int::<u16>(obj, tags::BITS_STORED).filter(|b| (1..=bits_allocated).contains(b)).unwrap_or(bits_allocated);
        let high_bit = int::<u16>(obj, tags::HIGH_BIT)
            .filter(|h| *h < bits_allocated && *h + 1 >= bits_stored)
            .unwrap_or(bits_stored - 1);
        let signed = int::<u16>(obj, tags::PIXEL_REPRESENTATION) == Some(1);
        let photometric = string(obj, tags::PHOTOMETRIC_INTERPRETATION).map(|p| p.to_ascii_uppercase()).unwrap_or_else(|| {
            if samples == 3 { "RGB" } else { "MONOCHROME2" }.into()
        });
        if !matches!(samples, 1 | 3) {
            return Err(RenderError::Unsupported(format!("{samples} samples per pixel")));
        }
        let planar = samples == 3 && int::<u16>(obj, tags::PLANAR_CONFIGURATION) == Some(1);
        // Number of Frames is IS; some writers leave it empty or put garbage in.
        let frames = int::<u32>(obj, tags::NUMBER_OF_FRAMES).filter(|n| *n > 0).unwrap_or(1);
        if float && samples != 1 {
            return Err(RenderError::Unsupported("colour float pixel data".into()));
        }
        Ok(ImageInfo { rows, cols, samples, bits_allocated, bits_stored, high_bit, signed, photometric, planar, frames, ts: ts.to_string(), float })
    }

    pub fn pixels(&self) -> usize {
        self.rows as usize * self.cols as usize
    }

    pub fn is_color(&self) -> bool {
        self.samples == 3 || self.photometric == "PALETTE COLOR"
    }
}

pub fn int<T: num_like::FromI64>(obj: &InMemDicomObject, tag: Tag) -> Option<T> {
    let e = obj.get(tag)?;
    // Integer strings (IS) arrive as text; binary VRs as numbers.
    e.to_int::<i64>().ok().and_then(T::from_i64)
}

pub fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    obj.get(tag)?.to_multi_float64().ok()?.first().copied().filter(|f| f.is_finite())
}

pub fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    obj.get(tag)?.to_multi_float64().ok().filter(|v| !v.is_empty())
}

pub fn string(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = obj.get(tag)?.to_str().ok()?;
    let s = s.trim_matches(|c: char| c == ' ' || c == '\0').to_string();
    (!s.is_empty()).then_some(s)
}

pub fn items(obj: &InMemDicomObject, tag: Tag) -> Option<&[InMemDicomObject]> {
    obj.get(tag)?.items()
}

/// The data set holding `tag` for `frame`: the per-frame functional group,
/// then the shared one (both inside `group`), then the top level.
pub fn lookup<'a>(obj: &'a InMemDicomObject, frame: u32, group: Tag, tag: Tag) -> Option<&'a InMemDicomObject> {
    let in_group = |fg: Option<&'a InMemDicomObject>| fg.and_then(|fg| items(fg, group)?.first()).filter(|g| g.get(tag).is_some());
    in_group(items(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE).and_then(|f| f.get(frame as usize)))
        .or_else(|| in_group(items(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE).and_then(|f| f.first())))
        .or_else(|| obj.get(tag).map(|_| obj))
}


pub mod num_like {
    pub trait FromI64: Sized {
        fn from_i64(v: i64) -> Option<Self>;
    }
    macro_rules! from_i64 {
        ($($t:ty),*) => {$(impl FromI64 for $t {
            fn from_i64(v: i64) -> Option<Self> { <$t>::try_from(v).ok() }
        })*};
    }
    from_i64!(u16, u32, i32, i64, usize);
}
