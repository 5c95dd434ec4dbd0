//! The seam to the burned-in pixel module (`crate::pixels`): assessment and
//! cleaning, reduced to what classification and the report need.

use dicom_object::DefaultDicomObject;

use crate::pixels::{self, Assessment};

/// What happened to the pixels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PixelOutcome {
    /// No burned-in text needs to be assumed; pixels untouched (not even decoded).
    NotNeeded,
    /// Burned-in text was removed.
    Cleaned,
    /// Burned-in text must be assumed and could not be removed.
    NotCleanable(String),
}

/// Why burned-in text must be assumed, if it must. Reads the header only, so
/// it may run before the pixel data is loaded.
pub fn assess(obj: &DefaultDicomObject) -> Option<&'static str> {
    match pixels::assess(obj) {
        Assessment::NoBurnedInText => None,
        Assessment::BurnedInText { why } => Some(why),
    }
}

/// Cleans (the object must hold its pixel data). Must run before the header
/// is de-identified: the cleaner reads Manufacturer, model and the regions.
pub fn clean(
    obj: &mut DefaultDicomObject,
    why: &str,
    check: Option<&pixels::words::TextCheck<'_>>,
    notes: &mut Vec<String>,
) -> PixelOutcome {
    match pixels::clean_checked(obj, pixels::Encoding::Auto, check) {
        Ok(c) => {
            if check.is_none() {
                notes.push("text inside the image area was not read (no OCR configured)".into());
            } else if c.words_blanked > 0 {
                notes.push(format!("{} identifying word(s) read inside the image area were blanked", c.words_blanked));
            }
            PixelOutcome::Cleaned
        }
        Err(e) => PixelOutcome::NotCleanable(format!("{why}; {e}")),
    }
}
