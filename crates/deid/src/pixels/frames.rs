//! Frame-by-frame decoding into the output layout, and the rewrite loop.

use dicom_core::value::Value;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::PixelDecoder;

use super::NotCleanable;
use super::area::KeepArea;
use super::colour;
use super::geometry::{Geometry, Photometric};
use super::jpeg;
use super::palette::Plan;
use studylink_rle as rle;
use super::store::Store;

const VIDEO_TS: &[&str] = &[
    "1.2.840.10008.1.2.4.100",
    "1.2.840.10008.1.2.4.100.1", // MPEG-2 MP@ML
    "1.2.840.10008.1.2.4.101",
    "1.2.840.10008.1.2.4.101.1", // MPEG-2 MP@HL
    "1.2.840.10008.1.2.4.102",
    "1.2.840.10008.1.2.4.102.1", // MPEG-4 AVC/H.264
    "1.2.840.10008.1.2.4.103",
    "1.2.840.10008.1.2.4.103.1",
    "1.2.840.10008.1.2.4.104",
    "1.2.840.10008.1.2.4.104.1",
    "1.2.840.10008.1.2.4.105",
    "1.2.840.10008.1.2.4.105.1",
    "1.2.840.10008.1.2.4.106",
    "1.2.840.10008.1.2.4.106.1",
    "1.2.840.10008.1.2.4.107",
    "1.2.840.10008.1.2.4.108", // HEVC/H.265
];

pub(crate) fn is_video_ts(ts: &str) -> bool {
    VIDEO_TS.contains(&ts)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Native,
    Jpeg,
    JpegLs,
    Rle,
    /// Any other codec the transfer syntax registry can decode (RLE, JPEG 2000, HTJ2K).
    Codec,
}

fn kind(ts: &str) -> Result<Kind, NotCleanable> {
    Ok(match ts {
        "1.2.840.10008.1.2"
        | "1.2.840.10008.1.2.1"
        | "1.2.840.10008.1.2.1.99"
        | "1.2.840.10008.1.2.2" => Kind::Native,
        "1.2.840.10008.1.2.4.50"
        | "1.2.840.10008.1.2.4.51"
        | "1.2.840.10008.1.2.4.57"
        | "1.2.840.10008.1.2.4.70" => Kind::Jpeg,
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Kind::JpegLs,
        "1.2.840.10008.1.2.5" => Kind::Rle,
        "1.2.840.10008.1.2.4.94" | "1.2.840.10008.1.2.4.95" => {
            return Err(NotCleanable::Unsupported(
                "JPIP: pixel data is not in the object".into(),
            ));
        }
        _ => Kind::Codec,
    })
}

/// What replaces the Pixel Data value.
pub(crate) enum Written {
    Store(Store),
    Bytes(Vec<u8>),
    /// RLE Lossless, one fragment per frame.
    Fragments(Vec<Vec<u8>>),
}

/// Where blanked frames go.
enum Sink {
    InPlace,
    Bytes(Vec<u8>),
    Rle(Vec<Vec<u8>>),
}

impl Sink {
    fn push(&mut self, frame: &[u8], geo: &Geometry, px: usize) {
        match self {
            Sink::InPlace => unreachable!("handled by the caller"),
            Sink::Bytes(out) => out.extend_from_slice(frame),
            Sink::Rle(frags) => frags.push(rle::encode_frame(
                frame,
                geo.rows as usize,
                geo.cols as usize,
                if px == 3 && geo.samples == 1 {
                    3
                } else {
                    geo.samples as usize
                },
                if px == 3 && geo.samples == 1 {
                    1
                } else {
                    geo.bytes_per_sample()
                },
            )),
        }
    }
}

/// Whether native output can reuse the input's buffer: native input whose
/// frames keep their size.
pub(crate) fn rewrites_in_place(geo: &Geometry, ts: &str, plan: &Plan) -> bool {
    matches!(kind(ts), Ok(Kind::Native))
        && geo.native_frame_len()
            == geo.rows as usize * geo.cols as usize * output_pixel_len(geo, plan)
}

/// Decode, convert and blank every frame. On error the object is unchanged.
pub(crate) fn rewrite(
    obj: &mut DefaultDicomObject,
    geo: &Geometry,
    ts: &str,
    keep: &KeepArea,
    plan: &Plan,
    rle: bool,
) -> Result<Written, NotCleanable> {
    let kind = kind(ts)?;
    let px_out = output_pixel_len(geo, plan);
    let out_len = geo.rows as usize * geo.cols as usize * px_out;
    let frames = geo.frames as usize;
    check_size(geo, out_len)?;
    if kind == Kind::Native {
        check_native(geo)?;
        // Before any allocation: declared dimensions may be absurd.
        let in_len = geo.native_frame_len();
        if native_len(obj)? < in_len * frames {
            return Err(NotCleanable::Undecodable(
                "pixel data shorter than its frames".into(),
            ));
        }
    }
    let mut recoloured = vec![0u8; if plan.to_rgb.is_some() { out_len } else { 0 }];
    if kind == Kind::Native {
        let mut decoded = vec![0u8; geo.frame_len()];
        let in_len = geo.native_frame_len();
        let mut store = take_store(obj)?;
        let mut raw = vec![0u8; in_len];
        // Same size in and out: rewrite in the buffer we already hold.
        let mut sink = if rle {
            Sink::Rle(Vec::with_capacity(frames))
        } else if in_len == out_len {
            Sink::InPlace
        } else {
            Sink::Bytes(Vec::with_capacity(out_len * frames))
        };
        for f in 0..frames {
            store.read(f * in_len, &mut raw);
            native_to_output(&raw, geo, &mut decoded);
            let frame = recolour(&mut decoded, &mut recoloured, geo, plan);
            blank(frame, geo, px_out, keep, &plan.fill);
            match &mut sink {
                Sink::InPlace => store.write(f * out_len, frame),
                other => other.push(frame, geo, px_out),
            }
        }
        return Ok(match sink {
            Sink::InPlace => {
                store.truncate(out_len * frames);
                Written::Store(store)
            }
            Sink::Bytes(out) => Written::Bytes(out),
            Sink::Rle(frags) => Written::Fragments(frags),
        });
    }
    if frames == 1 && !rle && plan.to_rgb.is_none() {
        // A still: blanked in the decoder's own buffer, which becomes the value.
        let mut frame = decode_encapsulated(obj, geo, kind, 0)?;
        blank(&mut frame, geo, px_out, keep, &plan.fill);
        return Ok(Written::Bytes(frame));
    }
    let mut sink = if rle {
        Sink::Rle(Vec::with_capacity(frames))
    } else {
        Sink::Bytes(Vec::with_capacity(out_len * frames))
    };
    for f in 0..geo.frames {
        let mut decoded = decode_encapsulated(obj, geo, kind, f)?;
        let frame = recolour(&mut decoded, &mut recoloured, geo, plan);
        blank(frame, geo, px_out, keep, &plan.fill);
        sink.push(frame, geo, px_out);
    }
    Ok(match sink {
        Sink::Rle(frags) => Written::Fragments(frags),
        Sink::Bytes(out) => Written::Bytes(out),
        Sink::InPlace => unreachable!("encapsulated input is never rewritten in place"),
    })
}

/// One frame in the output layout, without blanking.
pub(crate) fn decode_one(
    obj: &DefaultDicomObject,
    geo: &Geometry,
    ts: &str,
    plan: &Plan,
    f: u32,
) -> Result<Vec<u8>, NotCleanable> {
    if f >= geo.frames {
        return Err(NotCleanable::Unsupported(
            "frame number out of range".into(),
        ));
    }
    let kind = kind(ts)?;
    check_size(geo, geo.frame_len())?;
    let mut decoded = if kind != Kind::Native {
        decode_encapsulated(obj, geo, kind, f)?
    } else {
        check_native(geo)?;
        let value = obj
            .get(tags::PIXEL_DATA)
            .and_then(|e| e.value().primitive())
            .ok_or_else(|| NotCleanable::Undecodable("no native pixel data".into()))?;
        let bytes = value.to_bytes();
        let in_len = geo.native_frame_len();
        let raw = bytes
            .get(f as usize * in_len..(f as usize + 1) * in_len)
            .ok_or_else(|| {
                NotCleanable::Undecodable("pixel data shorter than its frames".into())
            })?;
        let mut frame = vec![0u8; geo.frame_len()];
        native_to_output(raw, geo, &mut frame);
        frame
    };
    let mut recoloured = vec![
        0u8;
        if plan.to_rgb.is_some() {
            geo.rows as usize * geo.cols as usize * 3
        } else {
            0
        }
    ];
    Ok(recolour(&mut decoded, &mut recoloured, geo, plan).to_vec())
}

pub(crate) fn output_pixel_len(geo: &Geometry, plan: &Plan) -> usize {
    if plan.to_rgb.is_some() {
        3
    } else {
        geo.pixel_len()
    }
}

fn recolour<'a>(
    decoded: &'a mut [u8],
    rgb: &'a mut [u8],
    geo: &Geometry,
    plan: &Plan,
) -> &'a mut [u8] {
    match &plan.to_rgb {
        Some(p) => {
            p.apply(decoded, geo.bytes_per_sample(), rgb);
            rgb
        }
        None => decoded,
    }
}

/// Limits that keep a hostile header from exhausting memory before any decoder complains.
const MAX_FRAME_BYTES: usize = 256 << 20;
const MAX_TOTAL_BYTES: usize = 4 << 30;

fn check_size(geo: &Geometry, out_len: usize) -> Result<(), NotCleanable> {
    let frame = geo.frame_len().max(out_len);
    if frame > MAX_FRAME_BYTES || frame.saturating_mul(geo.frames as usize) > MAX_TOTAL_BYTES {
        return Err(NotCleanable::Unsupported(
            "image too large to clean in memory".into(),
        ));
    }
    Ok(())
}

fn check_native(geo: &Geometry) -> Result<(), NotCleanable> {
    if geo.photometric == Photometric::YbrFull422 && geo.cols % 2 == 1 {
        return Err(NotCleanable::Unsupported(
            "native YBR_FULL_422 with an odd number of columns".into(),
        ));
    }
    Ok(())
}

fn native_len(obj: &DefaultDicomObject) -> Result<usize, NotCleanable> {
    match obj.get(tags::PIXEL_DATA).map(|e| e.value()) {
        Some(Value::Primitive(p)) => Ok(p.calculate_byte_len()),
        Some(_) => Err(NotCleanable::Undecodable(
            "encapsulated pixel data in a native transfer syntax".into(),
        )),
        None => Err(NotCleanable::Undecodable("no pixel data".into())),
    }
}

fn take_store(obj: &mut DefaultDicomObject) -> Result<Store, NotCleanable> {
    let elem = obj
        .take(tags::PIXEL_DATA)
        .ok_or_else(|| NotCleanable::Undecodable("no pixel data".into()))?;
    let (header, value) = (*elem.header(), elem.into_value());
    let Value::Primitive(p) = value else {
        unreachable!("checked by native_len")
    };
    Store::from_value(p).map_err(|p| {
        obj.put(dicom_object::mem::InMemElement::new(
            header.tag, header.vr, p,
        ));
        NotCleanable::Undecodable("pixel data has an unexpected value type".into())
    })
}

fn native_to_output(raw: &[u8], geo: &Geometry, out: &mut [u8]) {
    match geo.photometric {
        Photometric::YbrFull422 => colour::ybr_422_to_rgb(raw, out),
        _ if geo.samples == 3 && geo.planar == 1 => {
            colour::planar_to_interleaved(raw, out, geo.bytes_per_sample())
        }
        _ => out.copy_from_slice(raw),
    }
    if geo.photometric == Photometric::YbrFull {
        colour::ybr_full_to_rgb(out);
    }
}

fn decode_encapsulated(
    obj: &DefaultDicomObject,
    geo: &Geometry,
    kind: Kind,
    f: u32,
) -> Result<Vec<u8>, NotCleanable> {
    let expected = geo.frame_len();
    let pixel = obj
        .get(tags::PIXEL_DATA)
        .ok_or_else(|| NotCleanable::Undecodable("no pixel data".into()))?;
    let (Some(fragments), Some(offsets)) = (pixel.fragments(), pixel.offset_table()) else {
        return Err(NotCleanable::Undecodable(
            "native pixel data in an encapsulated transfer syntax".into(),
        ));
    };
    let (mut frame, is_rgb) = match kind {
        Kind::Jpeg => {
            let bytes = jpeg::frame_bytes(fragments, offsets, geo.frames, f)?;
            jpeg::decode_jpeg(&bytes, geo)?
        }
        // One fragment per frame, as the standard requires: decoded from
        // its own fragment, without dicom-pixeldata's copy of them all.
        Kind::Rle
            if fragments.len() == geo.frames as usize
                && matches!(geo.bits_allocated, 8 | 16)
                && geo.photometric != Photometric::YbrFull422 =>
        {
            let pixels = geo.rows as usize * geo.cols as usize;
            let data = rle::decode_frame(&fragments[f as usize], pixels, geo.samples as usize, geo.bytes_per_sample())
                .map_err(|e| NotCleanable::Undecodable(format!("frame {f}: {e}")))?;
            (data, geo.photometric != Photometric::YbrFull)
        }
        _ => {
            if geo.photometric == Photometric::YbrFull422 {
                return Err(NotCleanable::Unsupported(
                    "YBR_FULL_422 outside JPEG and native".into(),
                ));
            }
            let decoded = obj
                .decode_pixel_data_frame(f)
                .map_err(|e| NotCleanable::Undecodable(format!("frame {f}: {e}")))?;
            let mut data = decoded.data().to_vec();
            if kind == Kind::JpegLs && geo.samples == 3 && data.len() == expected {
                let bytes = jpeg::frame_bytes(fragments, offsets, geo.frames, f)?;
                if jpeg::jpegls_is_planar(&bytes) {
                    let mut inter = vec![0u8; expected];
                    colour::planar_to_interleaved(&data, &mut inter, geo.bytes_per_sample());
                    data = inter;
                }
            }
            // RLE, JPEG-LS and JPEG 2000 without a component transform return samples as
            // stored; only YBR_ICT/YBR_RCT are turned into RGB inside the codec.
            (data, geo.photometric != Photometric::YbrFull)
        }
    };
    if frame.len() != expected {
        return Err(NotCleanable::Undecodable(format!(
            "frame {f} decodes to {} bytes, expected {expected}",
            frame.len()
        )));
    }
    if !is_rgb {
        colour::ybr_full_to_rgb(&mut frame);
    }
    Ok(frame)
}

fn blank(frame: &mut [u8], geo: &Geometry, px: usize, keep: &KeepArea, fill: &[u8]) {
    let row_len = geo.cols as usize * px;
    let uniform = fill.iter().all(|&b| b == fill[0]);
    for y in 0..geo.rows {
        let row = &mut frame[y as usize * row_len..(y as usize + 1) * row_len];
        for (a, b) in keep.gaps(y) {
            let seg = &mut row[a as usize * px..b as usize * px];
            if uniform {
                seg.fill(fill[0]);
            } else {
                seg.chunks_exact_mut(px)
                    .for_each(|c| c.copy_from_slice(fill));
            }
        }
    }
}
