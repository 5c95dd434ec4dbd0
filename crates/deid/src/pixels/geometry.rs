//! The image pixel module attributes that decoding and blanking depend on.

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::NotCleanable;

/// Colour model of the stored samples before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Photometric {
    Monochrome1,
    Monochrome2,
    Palette,
    Rgb,
    YbrFull,
    YbrFull422,
    /// JPEG 2000 component transforms: the codec already returns RGB.
    YbrIctOrRct,
}

#[derive(Debug, Clone)]
pub(crate) struct Geometry {
    pub rows: u32,
    pub cols: u32,
    pub frames: u32,
    pub samples: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    pub signed: bool,
    pub photometric: Photometric,
    /// Planar Configuration as stored (1 = colour-by-plane).
    pub planar: u16,
}

impl Geometry {
    pub fn read(obj: &DefaultDicomObject) -> Result<Self, NotCleanable> {
        let rows = int(obj, tags::ROWS).ok_or_else(|| missing("Rows"))?;
        let cols = int(obj, tags::COLUMNS).ok_or_else(|| missing("Columns"))?;
        let samples = int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1) as u16;
        let bits_allocated =
            int(obj, tags::BITS_ALLOCATED).ok_or_else(|| missing("Bits Allocated"))? as u16;
        let bits_stored = int(obj, tags::BITS_STORED).unwrap_or(bits_allocated as u32) as u16;
        let signed = int(obj, tags::PIXEL_REPRESENTATION).unwrap_or(0) == 1;
        let planar = int(obj, tags::PLANAR_CONFIGURATION).unwrap_or(0) as u16;
        // Absent or unreadable Number of Frames means one frame (PS3.3 C.7.6.6).
        let frames = int(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
        let pi = obj
            .get(tags::PHOTOMETRIC_INTERPRETATION)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_matches(['\0', ' ']).to_ascii_uppercase())
            .ok_or_else(|| missing("Photometric Interpretation"))?;
        let photometric = match (pi.as_str(), samples) {
            ("MONOCHROME1", 1) => Photometric::Monochrome1,
            ("MONOCHROME2", 1) => Photometric::Monochrome2,
            ("PALETTE COLOR", 1) => Photometric::Palette,
            ("RGB", 3) => Photometric::Rgb,
            ("YBR_FULL", 3) => Photometric::YbrFull,
            ("YBR_FULL_422", 3) => Photometric::YbrFull422,
            ("YBR_ICT" | "YBR_RCT", 3) => Photometric::YbrIctOrRct,
            _ => {
                return Err(NotCleanable::Unsupported(
                    "photometric interpretation or samples per pixel not supported".into(),
                ));
            }
        };
        if rows == 0 || cols == 0 || rows > 65535 || cols > 65535 {
            return Err(NotCleanable::Unsupported(
                "image dimensions out of range".into(),
            ));
        }
        if bits_allocated != 8 && bits_allocated != 16 {
            return Err(NotCleanable::Unsupported(
                "only 8 and 16 bits allocated are supported".into(),
            ));
        }
        if bits_stored == 0 || bits_stored > bits_allocated {
            return Err(NotCleanable::Unsupported("inconsistent Bits Stored".into()));
        }
        if samples == 3 && bits_allocated != 8 && photometric != Photometric::Rgb {
            return Err(NotCleanable::Unsupported(
                "16-bit YBR is not supported".into(),
            ));
        }
        Ok(Geometry {
            rows,
            cols,
            frames,
            samples,
            bits_allocated,
            bits_stored,
            signed,
            photometric,
            planar,
        })
    }

    pub fn bytes_per_sample(&self) -> usize {
        self.bits_allocated as usize / 8
    }

    /// Size of one frame as [`super::clean`] writes it (interleaved, full resolution).
    pub fn frame_len(&self) -> usize {
        self.rows as usize * self.cols as usize * self.samples as usize * self.bytes_per_sample()
    }

    /// Size of one stored native frame; YBR_FULL_422 keeps two samples per pixel.
    pub fn native_frame_len(&self) -> usize {
        if self.photometric == Photometric::YbrFull422 {
            self.rows as usize * self.cols as usize * 2
        } else {
            self.frame_len()
        }
    }

    pub fn pixel_len(&self) -> usize {
        self.samples as usize * self.bytes_per_sample()
    }
}

fn int(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<u32> {
    obj.get(tag).and_then(|e| e.to_int::<u32>().ok())
}

fn missing(what: &str) -> NotCleanable {
    NotCleanable::Unsupported(format!("{what} missing or unreadable"))
}
