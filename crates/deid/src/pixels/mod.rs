//! Burned-in text in pixel data: detection and cleaning.
//!
//! # Design
//!
//! Ultrasound (and other screen-like) objects carry the patient's name, ID, birth date and
//! clinic as pixels, in a band at the top of the screen. Header de-identification cannot
//! reach them, so this module decides whether an object may carry such text ([`assess`])
//! and, where the screen layout is known, blanks everything that is not diagnostic image
//! ([`clean`]).
//!
//! * **What is kept.** Only the union of the Sequence of Ultrasound Regions (0018,6011)
//!   whose spatial format is image-like (2D, M-mode, spectral, waveform), optionally minus the
//!   rectangles of a device rule ([`DEVICE_RULES`]). Everything else is blanked in every frame.
//!   We keep rather than remove: text we have never seen is removed too.
//! * **Fail closed.** Without a device rule, a region starting above row 24 may hold the
//!   text band (some devices report the whole screen as a region), so the object is
//!   refused; so are regions that do not fit the pixel matrix (resized copies), unknown
//!   devices without regions, screen captures, photographs and video. The caller then
//!   protects the object with a password instead. Device rules that were not checked
//!   against a real image are only ever used together with regions, never alone.
//! * **Not covered.** Text typed by the operator *inside* the image area (an annotation
//!   such as a surname on the scan) is kept with the image; no OCR is done here.
//! * **Decode once, frame by frame.** Each frame is decoded (any transfer syntax the
//!   registry can decode, JPEG with the colour transform the DICOM header declares),
//!   turned into interleaved RGB / grey / palette indices, blanked, and written back
//!   losslessly. Native input keeps its size and is rewritten in its own buffer, so a large
//!   cine is held once plus one frame. A compressed loop (or a native one that changes size,
//!   palette to RGB) becomes RLE Lossless, our own encoder: writing it native would turn a
//!   3.75 MB JPEG loop into 189 MB of disk, download and verification work, while blanked
//!   screens, mostly black, pack several-fold smaller and every DICOM reader decodes RLE.
//!   A compressed still is written native: a few MB at most, and no encoding time.
//! * **Thumbnails.** The Icon Image Sequence (0088,0200) shows the same screen, text band
//!   included; a cleaned object loses it.
//! * **Black.** Zero for MONOCHROME2 and RGB, the largest value for MONOCHROME1, the most
//!   negative value for signed MONOCHROME2, and the black entry for PALETTE COLOR (whose
//!   LUTs are kept); palettes without a black entry, and segmented palettes, become RGB.
//!   YBR is converted to RGB first.
//!
//! Nothing here logs or reports pixel or header values of the patient.

mod area;
mod assess;
mod colour;
mod devices;
mod frames;
mod geometry;
mod jpeg;
mod output;
mod palette;

mod store;
pub(crate) mod words;

use std::fmt;

use dicom_object::DefaultDicomObject;

pub use area::Rect;
pub use devices::{DEVICE_RULES, DeviceRule, Evidence};

/// Whether an object may carry identifying text in its pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assessment {
    NoBurnedInText,
    /// `why` is a fixed explanation, never a value from the object.
    BurnedInText {
        why: &'static str,
    },
}

/// How the area to keep was determined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Union of the Sequence of Ultrasound Regions.
    Regions,
    /// A device rule alone (the object has no usable regions).
    DeviceRule { rule: &'static str },
    /// Union of the regions minus the rectangles of a device rule.
    RegionsAndDeviceRule { rule: &'static str },
}

/// What [`clean`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub method: Method,
    /// Number of frames blanked (all frames of the object).
    pub frames: u32,
    /// Rectangles set to black in every frame; together they are exactly the complement of
    /// the kept area.
    pub blanked: Vec<Rect>,
    /// Transfer syntax UID of the rewritten pixel data.
    pub transfer_syntax: String,
    /// Identifying words read inside the image area (by a [`crate::text::TextFinder`])
    /// and blanked with it.
    pub words_blanked: usize,
}

/// Why an object cannot be cleaned automatically. Display texts never contain patient data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCleanable {
    /// Neither usable ultrasound regions nor a device rule describe where the image is.
    NoRegionsOrRule,
    /// Video transfer syntax (MPEG-2, MPEG-4, HEVC).
    Video,
    /// The pixel data could not be decoded.
    Undecodable(String),
    /// The object or its layout is of a kind this module does not clean.
    Unsupported(String),
}

impl fmt::Display for NotCleanable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotCleanable::NoRegionsOrRule => f.write_str(
                "no usable Sequence of Ultrasound Regions and no known device layout: \
                 burned-in text cannot be located",
            ),
            NotCleanable::Video => {
                f.write_str("video transfer syntax: frames cannot be cleaned and re-encoded")
            }
            NotCleanable::Undecodable(why) => write!(f, "pixel data cannot be decoded: {why}"),
            NotCleanable::Unsupported(why) => write!(f, "cannot clean burned-in text: {why}"),
        }
    }
}

impl std::error::Error for NotCleanable {}

/// Decide whether the object may show identifying text in its pixels.
pub fn assess(obj: &DefaultDicomObject) -> Assessment {
    assess::assess(obj)
}

/// Lossless encodings [`clean_with`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// RLE for a multi-frame object that cannot be rewritten in place (compressed input, or
    /// palette to RGB); native otherwise (in place for native input).
    #[default]
    Auto,
    /// Explicit VR Little Endian, uncompressed.
    Native,
    /// RLE Lossless, one fragment per frame with a Basic Offset Table.
    RleLossless,
}

/// Blank everything outside the diagnostic image area in every frame.
///
/// On success the object's Pixel Data, pixel-module attributes and meta transfer syntax are
/// rewritten ([`Encoding::Auto`]: RLE Lossless for a compressed loop, else native Explicit VR
/// Little Endian) and the Icon Image Sequence is removed.
/// On failure the object is left unchanged.
/// Burned In Annotation is not touched: the caller records the outcome.
pub fn clean(obj: &mut DefaultDicomObject) -> Result<Cleaned, NotCleanable> {
    clean_with(obj, Encoding::Auto)
}

/// [`clean`], writing the given lossless encoding.
pub fn clean_with(
    obj: &mut DefaultDicomObject,
    encoding: Encoding,
) -> Result<Cleaned, NotCleanable> {
    clean_checked(obj, encoding, None)
}

/// The object's transfer syntax, unless its frames are video (not cleanable).
pub(crate) fn frame_ts(obj: &DefaultDicomObject) -> Result<String, NotCleanable> {
    let ts = obj.meta().transfer_syntax().trim_end_matches(['\0', ' ']).to_string();
    if frames::is_video_ts(&ts) {
        return Err(NotCleanable::Video);
    }
    Ok(ts)
}

/// [`clean_with`], also blanking identifying words that `check` reads inside the kept area.
pub(crate) fn clean_checked(
    obj: &mut DefaultDicomObject,
    encoding: Encoding,
    check: Option<&words::TextCheck<'_>>,
) -> Result<Cleaned, NotCleanable> {
    let ts = frame_ts(obj)?;
    if let Some(why) = assess::uncleanable_class(obj) {
        return Err(NotCleanable::Unsupported(why.to_string()));
    }
    let geo = geometry::Geometry::read(obj)?;
    let (mut keep, method) = area::keep_area(obj, &geo)?;
    let plan = palette::plan(obj, &geo)?;
    let words_blanked = match check {
        Some(c) => words::remove_identifying_words(c, obj, &geo, &ts, &plan, &mut keep)?,
        None => 0,
    };
    let blanked = keep.blanked_rects();
    let rle = match encoding {
        Encoding::Native => false,
        Encoding::RleLossless => true,
        // A still written native is at most a few MB and costs nothing to
        // encode; a loop would grow by its frame count.
        Encoding::Auto => geo.frames > 1 && !frames::rewrites_in_place(&geo, &ts, &plan),
    };
    let written = frames::rewrite(obj, &geo, &ts, &keep, &plan, rle)?;
    let out_ts = output::finish(obj, &geo, &ts, &plan, written);
    Ok(Cleaned {
        method,
        frames: geo.frames,
        blanked,
        words_blanked,
        transfer_syntax: out_ts.to_string(),
    })
}

/// Decode one frame of `obj` the way [`clean`] writes it, before blanking: interleaved
/// samples, little endian, YBR (and palettes without black) converted to RGB.
/// Exposed for tests and for callers that want to check a result.
#[doc(hidden)]
pub fn decode_frame(obj: &DefaultDicomObject, frame: u32) -> Result<Vec<u8>, NotCleanable> {
    let ts = frame_ts(obj)?;
    let geo = geometry::Geometry::read(obj)?;
    let plan = palette::plan(obj, &geo)?;
    frames::decode_one(obj, &geo, &ts, &plan, frame)
}
