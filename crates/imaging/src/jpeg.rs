//! JPEG frames (baseline, extended, lossless) to raw samples, without colour
//! conversion: the Photometric Interpretation says what the samples are.

use jpeg_decoder::{ColorTransform, Decoder, PixelFormat};

use crate::RenderError;
use crate::info::ImageInfo;

pub struct Samples {
    pub data: Vec<u8>,
    pub bytes: usize,
    /// Y'CbCr was converted to RGB by the decoder.
    pub converted: bool,
}

/// `ybr`: the Photometric Interpretation says the components are Y'CbCr.
/// Lossy frames are then converted by the decoder (its SIMD path); anything
/// else comes back as stored, as dcmtk does by default (`+cp`).
pub fn decode(stream: &[u8], info: &ImageInfo, ybr: bool) -> Result<Samples, RenderError> {
    let sof = start_of_frame(stream).ok_or_else(|| RenderError::Decode("no JPEG frame header".into()))?;
    if sof.precision > 8 && !sof.lossless {
        // (libjpeg-turbo converts colour by its own guess; 12-bit colour JPEG is not seen in practice.)
        return turbo::decode(stream, info);
    }
    // Lossless: libjpeg-turbo is several times faster than jpeg-decoder, and
    // without JFIF/Adobe markers it returns the components as stored.
    if sof.lossless && !sof.markers && let Ok(out) = turbo::decode(stream, info) {
        return Ok(Samples { converted: false, ..out });
    }
    let fast = !sof.lossless && sof.precision == 8 && (sof.components == 1 || sof.components == 3 && ybr);
    if fast && let Ok(out) = zune(stream, info) {
        return Ok(out);
    }
    let mut dec = Decoder::new(stream);
    let converted = ybr && !sof.lossless && sof.components == 3;
    if sof.components == 3 {
        // RGB means "interleave as stored"; jpeg-decoder's None is broken for 3 components.
        dec.set_color_transform(if converted { ColorTransform::YCbCr } else { ColorTransform::RGB });
    }
    dec.set_max_decoding_buffer_size(crate::info::MAX_PIXELS as usize * 6);
    let data = dec.decode().map_err(|e| RenderError::Decode(format!("JPEG: {e}")))?;
    let meta = dec.info().ok_or_else(|| RenderError::Decode("JPEG: no image".into()))?;
    check_size(meta.width as u32, meta.height as u32, info)?;
    let (bytes, spp) = match meta.pixel_format {
        PixelFormat::L8 => (1, 1),
        PixelFormat::L16 => (2, 1),
        PixelFormat::RGB24 => (1, 3),
        PixelFormat::CMYK32 => return Err(RenderError::Unsupported("four-component JPEG".into())),
    };
    if spp != info.samples as usize {
        return Err(RenderError::Decode(format!("JPEG has {spp} components, the header says {}", info.samples)));
    }
    Ok(Samples { data, bytes, converted })
}

/// zune-jpeg (SIMD IDCT, upsampling and colour conversion): about twice as
/// fast as jpeg-decoder on ultrasound cine frames. Anything it refuses is
/// retried with jpeg-decoder, which tolerates other stream defects.
fn zune(stream: &[u8], info: &ImageInfo) -> Result<Samples, RenderError> {
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let out = if info.samples == 1 { ColorSpace::Luma } else { ColorSpace::RGB };
    let opts = DecoderOptions::default().jpeg_set_out_colorspace(out).set_max_width(65535).set_max_height(65535);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(stream, opts);
    let data = dec.decode().map_err(|e| RenderError::Decode(format!("JPEG: {e:?}")))?;
    let meta = dec.info().ok_or_else(|| RenderError::Decode("JPEG: no image".into()))?;
    check_size(meta.width as u32, meta.height as u32, info)?;
    let converted = info.samples == 3 && dec.get_input_colorspace() == Some(ColorSpace::YCbCr);
    if data.len() != info.pixels() * info.samples as usize || (info.samples == 3 && !converted) {
        return Err(RenderError::Decode("JPEG: unexpected layout".into()));
    }
    Ok(Samples { data, bytes: 1, converted })
}

fn check_size(w: u32, h: u32, info: &ImageInfo) -> Result<(), RenderError> {
    if w != info.cols || h != info.rows {
        return Err(RenderError::Decode(format!("JPEG is {w}×{h}, the header says {}×{}", info.cols, info.rows)));
    }
    Ok(())
}

struct Sof {
    precision: u8,
    lossless: bool,
    components: u8,
    /// SOF0–SOF2: what every browser decodes.
    web: bool,
    height: u16,
    width: u16,
    /// Browsers (libjpeg's rule) would read three components as RGB rather
    /// than Y'CbCr: Adobe transform 0, or component ids 'R','G','B'.
    looks_rgb: bool,
    /// A JFIF or Adobe marker, which make libjpeg convert colour.
    markers: bool,
}

/// Walks the marker segments up to the frame header.
fn start_of_frame(s: &[u8]) -> Option<Sof> {
    let mut i = 2;
    if !s.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let (mut adobe_rgb, mut markers) = (false, false);
    while i + 4 <= s.len() {
        if s[i] != 0xFF {
            return None;
        }
        let marker = s[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([s[i + 2], s[i + 3]]) as usize;
        let seg = s.get(i + 4..i + 2 + len)?;
        if marker == 0xEE && seg.starts_with(b"Adobe") && seg.len() >= 12 {
            adobe_rgb = seg[11] == 0;
            markers = true;
        }
        markers |= marker == 0xE0 && seg.starts_with(b"JFIF");
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let components = *seg.get(5)?;
            let ids: Vec<u8> = (0..components as usize).filter_map(|c| seg.get(6 + 3 * c).copied()).collect();
            return Some(Sof {
                precision: seg[0],
                lossless: matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF),
                components,
                web: matches!(marker, 0xC0..=0xC2),
                height: u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]),
                width: u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]),
                looks_rgb: adobe_rgb || ids == b"RGB",
                markers,
            });
        }
        i += 2 + len;
    }
    None
}

/// Whether a browser shows this stored frame as the renderer would: an
/// 8-bit DCT stream of the image's size whose components it reads correctly
/// (grey, or Y'CbCr when the Photometric Interpretation says Y'CbCr).
pub fn web_ready(stream: &[u8], info: &ImageInfo, ybr: bool) -> bool {
    let Some(sof) = start_of_frame(stream) else { return false };
    sof.web
        && sof.precision == 8
        && (sof.width as u32, sof.height as u32) == (info.cols, info.rows)
        && sof.components as u16 == info.samples
        && (sof.components == 1 || ybr && !sof.looks_rgb)
        && stream.ends_with(&[0xFF, 0xD9])
}

/// libjpeg-turbo: 12-bit lossy JPEG (process 4), which jpeg-decoder does not
/// implement, and lossless JPEG of any precision.
mod turbo {
    use std::ffi::CStr;

    use turbojpeg_sys as tj;

    use super::{RenderError, Samples, check_size};
    use crate::info::ImageInfo;

    struct Handle(tj::tjhandle);

    impl Drop for Handle {
        fn drop(&mut self) {
            unsafe { tj::tj3Destroy(self.0) }
        }
    }

    impl Handle {
        fn error(&self) -> RenderError {
            let msg = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) };
            RenderError::Decode(format!("JPEG: {}", msg.to_string_lossy()))
        }

        /// Warnings (a slightly corrupt stream, as in some NEMA samples) still give an image.
        fn check(&self, rc: i32) -> Result<(), RenderError> {
            if rc != 0 && unsafe { tj::tj3GetErrorCode(self.0) } != tj::TJERR_TJERR_WARNING as i32 {
                return Err(self.error());
            }
            Ok(())
        }
    }

    pub fn decode(stream: &[u8], info: &ImageInfo) -> Result<Samples, RenderError> {
        let h = Handle(unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as i32) });
        if h.0.is_null() {
            return Err(RenderError::Decode("JPEG: libjpeg-turbo did not start".into()));
        }
        h.check(unsafe { tj::tj3DecompressHeader(h.0, stream.as_ptr(), stream.len() as _) })?;
        let get = |p: tj::TJPARAM| unsafe { tj::tj3Get(h.0, p as i32) };
        let (w, ht, precision) = (get(tj::TJPARAM_TJPARAM_JPEGWIDTH), get(tj::TJPARAM_TJPARAM_JPEGHEIGHT), get(tj::TJPARAM_TJPARAM_PRECISION));
        check_size(w as u32, ht as u32, info)?;
        let spp = info.samples as usize;
        let format = if spp == 1 { tj::TJPF_TJPF_GRAY } else { tj::TJPF_TJPF_RGB };
        let n = w as usize * ht as usize * spp;
        let (src, len) = (stream.as_ptr(), stream.len() as _);
        match precision {
            ..=8 => {
                let mut out = vec![0u8; n];
                h.check(unsafe { tj::tj3Decompress8(h.0, src, len, out.as_mut_ptr(), 0, format) })?;
                Ok(Samples { data: out, bytes: 1, converted: spp == 3 })
            }
            9..=12 => {
                let mut out = vec![0i16; n];
                h.check(unsafe { tj::tj3Decompress12(h.0, src, len, out.as_mut_ptr(), 0, format) })?;
                Ok(Samples { data: out.iter().flat_map(|v| (*v as u16).to_le_bytes()).collect(), bytes: 2, converted: spp == 3 })
            }
            _ => {
                let mut out = vec![0u16; n];
                h.check(unsafe { tj::tj3Decompress16(h.0, src, len, out.as_mut_ptr(), 0, format) })?;
                Ok(Samples { data: out.iter().flat_map(|v| v.to_le_bytes()).collect(), bytes: 2, converted: spp == 3 })
            }
        }
    }
}
