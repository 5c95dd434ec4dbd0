//! Rendering: any frame of any DICOM image to an 8-bit display image (JPEG/PNG).
//!
//! The pipeline is decode ([`decode`]) → 8-bit pixels ([`gray`] for
//! monochrome, [`color`] for RGB, Y'CbCr and palette) → optional downscale →
//! encode. [`render_frame`] stops before encoding, for callers with their own
//! encoder (video export).
//!
//! Every entry point returns an error rather than panicking, whatever the
//! file holds: decoders that panic on malformed streams are contained.

mod color;
mod decode;
mod encode;
mod gray;
mod info;
mod jpeg;
mod lut;
mod meta;
mod open;
mod resize;

use std::panic::{AssertUnwindSafe, catch_unwind};

use decode::Pixels;
use dicom_object::DefaultDicomObject;

pub use decode::FrameBytes;
pub use meta::{Cine, DocumentKind, ImageKind, cine_info, kind};
pub use open::{read_dataset, with_meta};

/// Longest side of thumbnails.
pub const THUMBNAIL_SIZE: u32 = 256;
pub const DEFAULT_JPEG_QUALITY: u8 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg { quality: u8 },
    Png,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg { .. } => "image/jpeg",
            Format::Png => "image/png",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RenderRequest {
    /// 0-based.
    pub frame: u32,
    /// Longest side in pixels; images are only ever made smaller.
    pub max_size: Option<u32>,
    /// Fit within width × height (DICOMweb `viewport`).
    pub viewport: Option<(u32, u32)>,
    pub format: Format,
    /// For JPEG output at full size, send a stored baseline JPEG frame as is
    /// when it displays the same (see [`render`]). Callers that were asked
    /// for a specific quality turn this off.
    pub reuse_stored_jpeg: bool,
}

impl RenderRequest {
    pub fn new(frame: u32, format: Format) -> Self {
        RenderRequest {
            frame,
            max_size: None,
            viewport: None,
            format,
            reuse_stored_jpeg: true,
        }
    }

    pub fn thumbnail() -> Self {
        RenderRequest {
            frame: 0,
            max_size: Some(THUMBNAIL_SIZE),
            viewport: None,
            format: Format::Jpeg { quality: 85 },
            reuse_stored_jpeg: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
}

/// 8-bit pixels, row by row: one byte per pixel, or R, G, B when `rgb`.
#[derive(Debug, Clone)]
pub struct DisplayFrame {
    pub width: u32,
    pub height: u32,
    pub rgb: bool,
    pub pixels: Vec<u8>,
}

impl DisplayFrame {
    pub fn into_rgb8(self) -> DisplayFrame {
        if self.rgb {
            return self;
        }
        let pixels = self.pixels.iter().flat_map(|v| [*v, *v, *v]).collect();
        DisplayFrame {
            rgb: true,
            pixels,
            ..self
        }
    }

    /// Same frame, smaller (never larger), aspect kept.
    pub fn downscaled(self, max_size: Option<u32>, viewport: Option<(u32, u32)>) -> DisplayFrame {
        let (w, h) = resize::fit(self.width, self.height, max_size, viewport);
        if (w, h) == (self.width, self.height) {
            return self;
        }
        let channels = if self.rgb { 3 } else { 1 };
        let pixels = resize::downscale(&self.pixels, self.width, self.height, channels, w, h);
        DisplayFrame {
            width: w,
            height: h,
            rgb: self.rgb,
            pixels,
        }
    }
}

/// Messages never contain patient data: they are shown to callers and logged.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    #[error("not an image: {0}")]
    NotAnImage(String),
    #[error("frame {frame} does not exist (the image has {frames})")]
    NoSuchFrame { frame: u32, frames: u32 },
    #[error("invalid image: {0}")]
    Invalid(String),
    #[error("unsupported image: {0}")]
    Unsupported(String),
    #[error("could not decode the pixel data: {0}")]
    Decode(String),
    #[error("could not encode the image: {0}")]
    Encode(String),
}

/// One frame, displayed and encoded.
///
/// Ultrasound and XA cines are mostly stored as baseline JPEG already. When
/// such a frame would come out unchanged by display processing (Y'CbCr, or
/// grey with nothing to window) and JPEG at full size is wanted, its stored
/// bytes are returned: no decode, no generation loss. Browsers read these
/// streams as dcmtk does; frames they would misread (RGB-flagged streams,
/// 12-bit, lossless) are always rendered.
pub fn render(obj: &DefaultDicomObject, req: &RenderRequest) -> Result<Rendered, RenderError> {
    render_from(obj, req, Pixels::Object)
}

/// [`render`] for callers that cut the frame's bytes out of the stored file
/// themselves (reading a 2 GB cine to show one frame is wasteful): `header`
/// is the object without Pixel Data, `frame` the stored bytes of frame
/// `req.frame`.
pub fn render_cut(
    header: &DefaultDicomObject,
    req: &RenderRequest,
    frame: &FrameBytes,
) -> Result<Rendered, RenderError> {
    render_from(header, req, Pixels::Cut(frame))
}

fn render_from(
    obj: &DefaultDicomObject,
    req: &RenderRequest,
    pixels: Pixels,
) -> Result<Rendered, RenderError> {
    if req.reuse_stored_jpeg && matches!(req.format, Format::Jpeg { .. }) {
        let stored = contain(|| {
            let info = info::ImageInfo::read(
                obj,
                obj.meta().transfer_syntax(),
                matches!(pixels, Pixels::Cut(_)),
            )?;
            let fits = resize::fit(info.cols, info.rows, req.max_size, req.viewport)
                == (info.cols, info.rows);
            if req.frame >= info.frames || !fits {
                return Ok(None);
            }
            Ok(decode::stored_jpeg(obj, &info, req.frame, pixels, || {
                gray::is_identity(obj, &info, req.frame)
            })
            .map(|b| (b, info)))
        });
        if let Ok(Some((bytes, info))) = stored {
            return Ok(Rendered {
                bytes,
                width: info.cols,
                height: info.rows,
                content_type: "image/jpeg",
            });
        }
    }
    let frame = display(obj, req.frame, pixels)?.downscaled(req.max_size, req.viewport);
    let bytes = contain(|| encode::encode(&frame, req.format))?;
    Ok(Rendered {
        bytes,
        width: frame.width,
        height: frame.height,
        content_type: req.format.content_type(),
    })
}

/// One frame (0-based) as 8-bit pixels: greyscale for monochrome images, RGB otherwise.
pub fn render_frame(obj: &DefaultDicomObject, frame: u32) -> Result<DisplayFrame, RenderError> {
    display(obj, frame, Pixels::Object)
}

fn display(
    obj: &DefaultDicomObject,
    frame: u32,
    pixels: Pixels,
) -> Result<DisplayFrame, RenderError> {
    contain(|| {
        let info = info::ImageInfo::read(
            obj,
            obj.meta().transfer_syntax(),
            matches!(pixels, Pixels::Cut(_)),
        )?;
        if frame >= info.frames {
            return Err(RenderError::NoSuchFrame {
                frame: frame + 1,
                frames: info.frames,
            });
        }
        let decoded = decode::frame(obj, &info, frame, pixels)?;
        let (rgb, pixels) = if info.is_color() {
            (true, color::render(obj, &info, &decoded)?)
        } else {
            (false, gray::render(obj, &info, frame, &decoded)?)
        };
        Ok(DisplayFrame {
            width: info.cols,
            height: info.rows,
            rgb,
            pixels,
        })
    })
}

/// [`render_frame`], always RGB (for encoders that take only RGB).
pub fn render_frame_rgb8(
    obj: &DefaultDicomObject,
    frame: u32,
) -> Result<DisplayFrame, RenderError> {
    render_frame(obj, frame).map(DisplayFrame::into_rgb8)
}

fn contain<T>(f: impl FnOnce() -> Result<T, RenderError>) -> Result<T, RenderError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(RenderError::Decode(
            "the decoder failed on malformed data".into(),
        ))
    })
}
