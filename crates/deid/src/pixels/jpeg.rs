//! Encapsulated frames and the JPEG-family details the generic decoders leave open.

use std::borrow::Cow;

use jpeg_decoder::{ColorTransform, Decoder};

use super::NotCleanable;
use super::geometry::{Geometry, Photometric};

/// The compressed bytes of one frame.
pub(crate) fn frame_bytes<'a>(
    fragments: &'a [Vec<u8>],
    offsets: &[u32],
    frames: u32,
    frame: u32,
) -> Result<Cow<'a, [u8]>, NotCleanable> {
    if fragments.len() == frames as usize {
        return Ok(Cow::Borrowed(&fragments[frame as usize]));
    }
    if frames == 1 {
        return Ok(Cow::Owned(fragments.concat()));
    }
    if offsets.len() == frames as usize {
        let start = offsets[frame as usize] as usize;
        let end = offsets
            .get(frame as usize + 1)
            .map_or(usize::MAX, |&o| o as usize);
        let mut pos = 0usize;
        let mut out = Vec::new();
        for f in fragments {
            if pos >= start && pos < end {
                out.extend_from_slice(f);
            }
            // Offsets count the 8-byte item header of every fragment.
            pos += f.len() + 8;
        }
        if !out.is_empty() {
            return Ok(Cow::Owned(out));
        }
    }
    // No usable offsets: JPEG streams end with EOI (FF D9), which entropy-coded data cannot
    // contain, so the concatenated fragments split into frames there.
    let all = fragments.concat();
    let mut found = Vec::new();
    let mut start = 0;
    for i in 1..all.len() {
        if all[i - 1] == 0xFF && all[i] == 0xD9 {
            found.push(start..i + 1);
            // Skip padding up to the next SOI.
            start = all[i + 1..]
                .windows(2)
                .position(|w| w == [0xFF, 0xD8])
                .map_or(all.len(), |p| i + 1 + p);
        }
    }
    if found.len() == frames as usize {
        return Ok(Cow::Owned(all[found[frame as usize].clone()].to_vec()));
    }
    Err(NotCleanable::Unsupported(
        "cannot locate the frames in the encapsulated pixel data".into(),
    ))
}

/// Decode one JPEG (baseline, extended, lossless) frame. The colour transform follows the
/// DICOM Photometric Interpretation, not markers inside the stream, as DICOM requires;
/// returns whether the samples are RGB (true) or still YBR (lossless streams are never
/// colour-transformed).
pub(crate) fn decode_jpeg(bytes: &[u8], geo: &Geometry) -> Result<(Vec<u8>, bool), NotCleanable> {
    let ybr = matches!(
        geo.photometric,
        Photometric::YbrFull | Photometric::YbrFull422
    );
    if let Some(rgb) = turbo::decode(bytes, geo, ybr) {
        return Ok((rgb, true));
    }
    let mut decoder = Decoder::new(bytes);
    if geo.samples == 3 {
        decoder.set_color_transform(if ybr {
            ColorTransform::YCbCr
        } else {
            ColorTransform::RGB
        });
    }
    let data = decoder
        .decode()
        .map_err(|e| NotCleanable::Undecodable(format!("JPEG: {e}")))?;
    let lossless = decoder
        .info()
        .is_some_and(|i| i.coding_process == jpeg_decoder::CodingProcess::Lossless);
    Ok((data, !(ybr && lossless)))
}

/// libjpeg-turbo (SIMD): several times faster than jpeg-decoder on the 8-bit lossy frames of
/// ultrasound loops. It picks the colour transform from the stream's markers, so it is used
/// only when its pick agrees with the Photometric Interpretation; everything else (lossless,
/// 12-bit, a disagreement, a stream it refuses) goes to jpeg-decoder, which is told the
/// transform.
mod turbo {
    use std::cell::RefCell;

    use turbojpeg_sys as tj;

    use super::Geometry;

    struct Handle(tj::tjhandle);

    impl Drop for Handle {
        fn drop(&mut self) {
            unsafe { tj::tj3Destroy(self.0) }
        }
    }

    thread_local! {
        // One decompressor per thread: a loop decodes hundreds of frames.
        static HANDLE: RefCell<Option<Handle>> = const { RefCell::new(None) };
    }

    pub(super) fn decode(bytes: &[u8], geo: &Geometry, ybr: bool) -> Option<Vec<u8>> {
        if geo.bits_allocated != 8 || !matches!(geo.samples, 1 | 3) {
            return None;
        }
        HANDLE.with(|cell| {
            let mut slot = cell.borrow_mut();
            if slot.is_none() {
                let h = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as i32) };
                if h.is_null() {
                    return None;
                }
                *slot = Some(Handle(h));
            }
            let h = slot.as_ref()?.0;
            let (src, len) = (bytes.as_ptr(), bytes.len() as _);
            if unsafe { tj::tj3DecompressHeader(h, src, len) } != 0 {
                return None;
            }
            let get = |p: tj::TJPARAM| unsafe { tj::tj3Get(h, p as i32) };
            let colour = get(tj::TJPARAM_TJPARAM_COLORSPACE);
            let agrees = match geo.samples {
                1 => colour == tj::TJCS_TJCS_GRAY as i32,
                _ if ybr => colour == tj::TJCS_TJCS_YCbCr as i32,
                _ => colour == tj::TJCS_TJCS_RGB as i32,
            };
            if !agrees
                || get(tj::TJPARAM_TJPARAM_LOSSLESS) != 0
                || get(tj::TJPARAM_TJPARAM_PRECISION) != 8
                || get(tj::TJPARAM_TJPARAM_JPEGWIDTH) as u32 != geo.cols
                || get(tj::TJPARAM_TJPARAM_JPEGHEIGHT) as u32 != geo.rows
            {
                return None;
            }
            let format = if geo.samples == 1 { tj::TJPF_TJPF_GRAY } else { tj::TJPF_TJPF_RGB };
            let n = geo.rows as usize * geo.cols as usize * geo.samples as usize;
            // Not zeroed first (that memset and its page faults were ~5% of a
            // burst): a successful decompression writes every byte.
            let mut out: Vec<u8> = Vec::with_capacity(n);
            // Any error, warnings included, goes to the stricter decoder.
            let rc = unsafe { tj::tj3Decompress8(h, src, len, out.as_mut_ptr(), 0, format) };
            if rc != 0 {
                return None;
            }
            // SAFETY: width × height checked above, pitch 0 = packed rows of
            // `format`'s pixel size, and rc == 0: all `n` bytes were written.
            unsafe { out.set_len(n) };
            Some(out)
        })
    }
}

/// CharLS returns colour-by-plane output for streams coded without interleave (ILV=0).
pub(crate) fn jpegls_is_planar(bytes: &[u8]) -> bool {
    // Walk the marker segments after SOI up to the first SOS.
    let mut i = 2;
    while i + 4 < bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if marker == 0xDA {
            // SOS: length(2), Ns(1), Ns × (Cs, Tm), NEAR, ILV, ...
            let ns = bytes[i + 4] as usize;
            let ilv = bytes.get(i + 5 + 2 * ns + 1).copied();
            return ns == 1 || ilv == Some(0);
        }
        i += 2 + len;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_from_offset_table() {
        let frags = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        // frame 0 = fragment 0, frame 1 = fragments 1 and 2
        let f1 = frame_bytes(&frags, &[0, 10], 2, 1).unwrap();
        assert_eq!(&*f1, &[3, 4, 5, 6]);
        assert_eq!(&*frame_bytes(&frags, &[0, 10], 2, 0).unwrap(), &[1, 2]);
        assert!(frame_bytes(&frags, &[], 2, 1).is_err());
        assert_eq!(&*frame_bytes(&frags, &[], 3, 2).unwrap(), &[5, 6]);
    }

    #[test]
    fn frames_split_at_end_of_image_without_offsets() {
        // frame 0 spans two fragments; frame 1 is padded.
        let frags = vec![
            vec![0xFF, 0xD8, 1],
            vec![0xFF, 0xD9],
            vec![0xFF, 0xD8, 2, 0xFF, 0xD9, 0],
        ];
        assert_eq!(
            &*frame_bytes(&frags, &[], 2, 0).unwrap(),
            &[0xFF, 0xD8, 1, 0xFF, 0xD9]
        );
        assert_eq!(
            &*frame_bytes(&frags, &[], 2, 1).unwrap(),
            &[0xFF, 0xD8, 2, 0xFF, 0xD9]
        );
        assert!(frame_bytes(&frags, &[], 4, 0).is_err());
    }
}
