//! One frame's samples, decompressed and unpacked into a plain layout:
//! interleaved, little-endian, `bytes` bytes per sample.
//!
//! JPEG is decoded here rather than through dicom-pixeldata so that (a) only
//! the requested frame's fragments are touched (its adapter copies every
//! fragment of the object for each frame), (b) colour conversion follows the
//! Photometric Interpretation as dcmtk does instead of the decoder's guess,
//! and (c) 12-bit lossy JPEG, which jpeg-decoder lacks, goes to libjpeg-turbo.
//! RLE is decoded here too, from the frame's own fragment (`rle.rs`). Other
//! codecs (JPEG-LS, JPEG 2000) go through dicom-pixeldata.

use std::borrow::Cow;

use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, DicomValue, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::PixelDecoder;

use crate::info::ImageInfo;
use crate::{RenderError, jpeg};

const RLE_TS: &str = "1.2.840.10008.1.2.5";

/// How three samples are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Rgb,
    /// Full-range Y'CbCr (YBR_FULL, and YBR_FULL_422 once chroma is upsampled).
    YbrFull,
    /// Studio range (YBR_PARTIAL_422/420).
    YbrPartial,
}

pub struct Decoded {
    pub data: Vec<u8>,
    pub bytes: usize,
    pub color: Color,
}

const JPEG_TS: [&str; 4] = [
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
];

/// Where a frame's stored bytes come from.
#[derive(Clone, Copy)]
pub enum Pixels<'a> {
    /// The object's Pixel Data.
    Object,
    /// Cut from the file by the caller; the object holds no Pixel Data.
    Cut(&'a FrameBytes),
}

/// One frame's bytes as stored: native samples, or the compressed stream
/// (fragments concatenated).
#[derive(Debug, Clone)]
pub enum FrameBytes {
    Native(Vec<u8>),
    Encapsulated(Vec<u8>),
}

pub fn frame(
    obj: &DefaultDicomObject,
    info: &ImageInfo,
    frame: u32,
    pixels: Pixels,
) -> Result<Decoded, RenderError> {
    let is_jpeg = JPEG_TS.contains(&info.ts.as_str());
    match pixels {
        Pixels::Cut(FrameBytes::Native(b)) => native(b, info, 0),
        Pixels::Cut(FrameBytes::Encapsulated(b)) if is_jpeg => jpeg_frame(b, info),
        Pixels::Cut(FrameBytes::Encapsulated(b)) if info.ts == RLE_TS => rle_frame(b, info),
        Pixels::Cut(FrameBytes::Encapsulated(b)) => {
            // dicom-pixeldata decodes from an object: give it one holding just this frame.
            let mut one = obj.clone();
            one.put(DataElement::new(
                tags::NUMBER_OF_FRAMES,
                VR::IS,
                PrimitiveValue::from("1"),
            ));
            let seq = PixelFragmentSequence::new(vec![], vec![b.clone()]);
            one.put(DataElement::new(
                tags::PIXEL_DATA,
                VR::OB,
                DicomValue::PixelSequence(seq),
            ));
            codec(&one, info, 0)
        }
        Pixels::Object => {
            let float = obj
                .get(tags::FLOAT_PIXEL_DATA)
                .or_else(|| obj.get(tags::DOUBLE_FLOAT_PIXEL_DATA));
            let pixel_data = obj
                .get(tags::PIXEL_DATA)
                .or(float)
                .ok_or_else(|| RenderError::NotAnImage("the object has no pixel data".into()))?;
            match pixel_data.value() {
                DicomValue::Primitive(p) => native(&p.to_bytes(), info, frame),
                DicomValue::PixelSequence(seq) if is_jpeg => jpeg_frame(
                    &jpeg_fragments(seq.fragments(), seq.offset_table(), frame, info.frames)?,
                    info,
                ),
                // RLE puts each frame in exactly one fragment (PS3.5 G.1).
                DicomValue::PixelSequence(seq)
                    if info.ts == RLE_TS && seq.fragments().len() == info.frames as usize =>
                {
                    let frag = seq
                        .fragments()
                        .get(frame as usize)
                        .ok_or_else(|| RenderError::Invalid("frame number out of range".into()))?;
                    rle_frame(frag, info)
                }
                DicomValue::PixelSequence(_) => codec(obj, info, frame),
                DicomValue::Sequence(_) => {
                    Err(RenderError::Invalid("Pixel Data is a sequence".into()))
                }
            }
        }
    }
}

fn rle_frame(frag: &[u8], info: &ImageInfo) -> Result<Decoded, RenderError> {
    let bytes = (info.bits_allocated as usize).div_ceil(8).max(1);
    let data = studylink_rle::decode_frame(frag, info.pixels(), info.samples as usize, bytes)
        .map_err(|e| RenderError::Decode(e.to_string()))?;
    Ok(Decoded {
        data,
        bytes,
        color: stored_color(info),
    })
}

fn jpeg_frame(bytes: &[u8], info: &ImageInfo) -> Result<Decoded, RenderError> {
    let color = stored_color(info);
    let out = jpeg::decode(bytes, info, color == Color::YbrFull)?;
    let color = if out.converted { Color::Rgb } else { color };
    Ok(Decoded {
        data: out.data,
        bytes: out.bytes,
        color,
    })
}

/// The frame's JPEG stream as stored, when a browser can show it as is and
/// `plain` (no VOI transform would change a grey image).
pub fn stored_jpeg(
    obj: &DefaultDicomObject,
    info: &ImageInfo,
    frame: u32,
    pixels: Pixels,
    plain: impl FnOnce() -> bool,
) -> Option<Vec<u8>> {
    if !matches!(
        info.ts.as_str(),
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51"
    ) || info.bits_allocated != 8
    {
        return None;
    }
    let ybr = matches!(info.photometric.as_str(), "YBR_FULL_422" | "YBR_FULL");
    if !(ybr && info.samples == 3 || info.samples == 1 && info.photometric == "MONOCHROME2") {
        return None;
    }
    let bytes = match pixels {
        Pixels::Cut(FrameBytes::Encapsulated(b)) => Cow::Borrowed(b.as_slice()),
        Pixels::Cut(FrameBytes::Native(_)) => return None,
        Pixels::Object => {
            let DicomValue::PixelSequence(seq) = obj.get(tags::PIXEL_DATA)?.value() else {
                return None;
            };
            jpeg_fragments(seq.fragments(), seq.offset_table(), frame, info.frames).ok()?
        }
    };
    // Devices pad streams after EOI (a zero byte for even length, sometimes
    // more); decoders stop at EOI, so cut there.
    let tail = bytes.len().saturating_sub(64);
    let end = bytes[tail..]
        .windows(2)
        .rposition(|w| w == [0xFF, 0xD9])
        .map(|p| tail + p + 2)
        .unwrap_or(bytes.len());
    let stream = &bytes[..end];
    (jpeg::web_ready(stream, info, ybr) && (info.samples == 3 || plain())).then(|| stream.to_vec())
}

fn stored_color(info: &ImageInfo) -> Color {
    match info.photometric.as_str() {
        "YBR_FULL" | "YBR_FULL_422" => Color::YbrFull,
        "YBR_PARTIAL_422" | "YBR_PARTIAL_420" => Color::YbrPartial,
        _ => Color::Rgb,
    }
}

fn codec(obj: &DefaultDicomObject, info: &ImageInfo, frame: u32) -> Result<Decoded, RenderError> {
    let px = obj
        .decode_pixel_data_frame(frame)
        .map_err(|e| RenderError::Decode(e.to_string()))?;
    let bytes = (px.bits_allocated() as usize).div_ceil(8).max(1);
    let mut data = px.into_data();
    let want = info.pixels() * info.samples as usize * bytes;
    if data.len() < want {
        return Err(RenderError::Decode(
            "the decoder returned fewer samples than the image holds".into(),
        ));
    }
    data.truncate(want);
    // JPEG 2000 applies its own colour transform (YBR_ICT/RCT, which are not
    // matched below); RLE and JPEG-LS hand back the samples as stored.
    Ok(Decoded {
        data,
        bytes,
        color: stored_color(info),
    })
}

fn native(all: &[u8], info: &ImageInfo, frame: u32) -> Result<Decoded, RenderError> {
    let px = info.pixels();
    let spp = info.samples as usize;
    let truncated =
        || RenderError::Invalid("the pixel data is shorter than the image attributes say".into());
    if info.bits_allocated == 1 {
        let bits = px * spp;
        let start = bits * frame as usize;
        if (start + bits).div_ceil(8) > all.len() {
            return Err(truncated());
        }
        let data = (start..start + bits)
            .map(|b| (all[b / 8] >> (b % 8)) & 1)
            .collect();
        return Ok(Decoded {
            data,
            bytes: 1,
            color: Color::Rgb,
        });
    }
    let bytes = info.bits_allocated as usize / 8;
    let sub422 = spp == 3 && info.photometric.ends_with("_422") && bytes == 1;
    let frame_len = if sub422 { px * 2 } else { px * spp * bytes };
    let start = frame_len * frame as usize;
    let src = all.get(start..start + frame_len).ok_or_else(truncated)?;
    let color = stored_color(info);
    let data = if sub422 {
        upsample_422(src, info.cols as usize)
    } else if spp == 3 && info.planar {
        interleave(src, px, bytes)
    } else {
        src.to_vec()
    };
    Ok(Decoded { data, bytes, color })
}

/// YBR_FULL_422 stores Y1 Y2 Cb Cr for each horizontal pair; both pixels take
/// the pair's chroma (what dcmtk does), an odd last column its own.
fn upsample_422(src: &[u8], cols: usize) -> Vec<u8> {
    let rows = src.len() / (cols * 2);
    let mut out = vec![0u8; rows * cols * 3];
    let mut s = 0;
    for row in out.chunks_exact_mut(cols * 3) {
        let mut x = 0;
        while x < cols {
            let (y1, y2, cb, cr) = (src[s], src[s + 1], src[s + 2], src[s + 3]);
            row[x * 3..x * 3 + 3].copy_from_slice(&[y1, cb, cr]);
            if x + 1 < cols {
                row[x * 3 + 3..x * 3 + 6].copy_from_slice(&[y2, cb, cr]);
            }
            s += 4;
            x += 2;
        }
    }
    out
}

fn interleave(src: &[u8], px: usize, bytes: usize) -> Vec<u8> {
    let plane = px * bytes;
    let mut out = vec![0u8; plane * 3];
    for i in 0..px {
        for c in 0..3 {
            let from = c * plane + i * bytes;
            let to = (i * 3 + c) * bytes;
            out[to..to + bytes].copy_from_slice(&src[from..from + bytes]);
        }
    }
    out
}

/// The compressed bytes of one frame. Devices disagree on fragment layout:
/// one fragment per frame is usual, but a frame may span fragments, with or
/// without a Basic Offset Table.
fn jpeg_fragments<'a>(
    frags: &'a [Vec<u8>],
    bot: &[u32],
    frame: u32,
    frames: u32,
) -> Result<Cow<'a, [u8]>, RenderError> {
    let missing = || {
        RenderError::Invalid(format!(
            "the compressed data of frame {} is missing",
            frame + 1
        ))
    };
    let f = frame as usize;
    if frags.len() == frames as usize {
        return frags
            .get(f)
            .map(|b| Cow::Borrowed(b.as_slice()))
            .ok_or_else(missing);
    }
    if frames == 1 {
        return Ok(Cow::Owned(frags.concat()));
    }
    if bot.len() == frames as usize {
        let (from, to) = (
            bot[f] as usize,
            bot.get(f + 1).map(|o| *o as usize).unwrap_or(usize::MAX),
        );
        let mut at = 0usize;
        let mut out = Vec::new();
        for frag in frags {
            if at >= from && at < to {
                out.extend_from_slice(frag);
            }
            at += frag.len() + 8;
        }
        return if out.is_empty() {
            Err(missing())
        } else {
            Ok(Cow::Owned(out))
        };
    }
    // No usable offset table: a fragment starting with SOI starts a frame.
    let mut starts = frags
        .iter()
        .enumerate()
        .filter(|(_, b)| b.starts_with(&[0xFF, 0xD8]))
        .map(|(i, _)| i);
    let first = starts.nth(f).ok_or_else(missing)?;
    let end = frags
        .iter()
        .enumerate()
        .skip(first + 1)
        .find(|(_, b)| b.starts_with(&[0xFF, 0xD8]))
        .map(|(i, _)| i)
        .unwrap_or(frags.len());
    Ok(Cow::Owned(frags[first..end].concat()))
}
