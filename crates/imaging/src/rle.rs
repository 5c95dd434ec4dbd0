//! RLE Lossless (PS3.5 Annex G), one frame from its own fragment.
//!
//! dicom-pixeldata's decoder copies every fragment of the object to decode
//! one frame, so a loop's video (every frame in turn) costs frames² copies;
//! de-identified loops are RLE, so this path is the video encoder's input.

use crate::RenderError;

fn bad(why: &str) -> RenderError {
    RenderError::Decode(format!("RLE: {why}"))
}

/// Decodes one frame into interleaved samples, little endian, `bytes` bytes
/// per sample (segments hold each sample's most significant byte first).
pub(crate) fn decode(
    frag: &[u8],
    pixels: usize,
    samples: usize,
    bytes: usize,
) -> Result<Vec<u8>, RenderError> {
    let segments = samples * bytes;
    if frag.len() < 64 {
        return Err(bad("fragment shorter than its header"));
    }
    let word = |i: usize| u32::from_le_bytes(frag[i * 4..i * 4 + 4].try_into().unwrap()) as usize;
    if word(0) != segments {
        return Err(bad("segment count does not match the image"));
    }
    let offsets: Vec<usize> = (1..=segments).map(word).collect();
    // Segments first, one plane each, then interleaved in one pass.
    let mut planes = vec![0u8; pixels * segments];
    for (k, &start) in offsets.iter().enumerate() {
        let end = offsets.get(k + 1).copied().unwrap_or(frag.len());
        if start < 64 || start > end || end > frag.len() {
            return Err(bad("segment offsets out of order"));
        }
        unpack(&frag[start..end], &mut planes[k * pixels..(k + 1) * pixels])?;
    }
    if segments == 1 {
        return Ok(planes);
    }
    // Segment k holds byte `bytes - 1 - k % bytes` of sample `k / bytes`.
    let target: Vec<usize> = (0..segments)
        .map(|k| (k / bytes) * bytes + (bytes - 1 - k % bytes))
        .collect();
    let mut out = vec![0u8; pixels * segments];
    if segments == 3 {
        let (p, rest) = planes.split_at(pixels);
        let (q, r) = rest.split_at(pixels);
        for (i, px) in out.chunks_exact_mut(3).enumerate() {
            px[target[0]] = p[i];
            px[target[1]] = q[i];
            px[target[2]] = r[i];
        }
    } else {
        for (i, px) in out.chunks_exact_mut(segments).enumerate() {
            for (k, &t) in target.iter().enumerate() {
                px[t] = planes[k * pixels + i];
            }
        }
    }
    Ok(out)
}

/// PackBits into exactly `plane.len()` bytes; a short segment is an error.
fn unpack(mut src: &[u8], plane: &mut [u8]) -> Result<(), RenderError> {
    let mut pos = 0;
    while pos < plane.len() {
        let (&h, rest) = src.split_first().ok_or_else(|| bad("segment ends early"))?;
        src = rest;
        let h = h as i8;
        if h >= 0 {
            let n = h as usize + 1;
            let lit = src.get(..n).ok_or_else(|| bad("segment ends early"))?;
            let n = n.min(plane.len() - pos);
            plane[pos..pos + n].copy_from_slice(&lit[..n]);
            pos += n;
            src = &src[lit.len()..];
        } else if h != -128 {
            let n = ((1 - h as isize) as usize).min(plane.len() - pos);
            let (&v, rest) = src.split_first().ok_or_else(|| bad("segment ends early"))?;
            plane[pos..pos + n].fill(v);
            pos += n;
            src = rest;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(offsets: &[u32]) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&(offsets.len() as u32).to_le_bytes());
        for (i, o) in offsets.iter().enumerate() {
            h[4 + 4 * i..8 + 4 * i].copy_from_slice(&o.to_le_bytes());
        }
        h
    }

    #[test]
    fn runs_literals_and_noops() {
        // 6 pixels, grey 8-bit: run of 3×7, no-op, literal 1 2 3.
        let mut f = header(&[64]);
        f.extend_from_slice(&[0xFE, 7, 0x80, 2, 1, 2, 3]);
        assert_eq!(decode(&f, 6, 1, 1).unwrap(), [7, 7, 7, 1, 2, 3]);
    }

    #[test]
    fn sixteen_bit_rgb_interleaves_little_endian() {
        // 1 pixel, 3 samples × 2 bytes: segments R-hi R-lo G-hi G-lo B-hi B-lo.
        let mut f = header(&[64, 66, 68, 70, 72, 74]);
        for v in [1u8, 2, 3, 4, 5, 6] {
            f.extend_from_slice(&[0, v]);
        }
        assert_eq!(decode(&f, 1, 3, 2).unwrap(), [2, 1, 4, 3, 6, 5]);
    }

    /// Every frame of the corpus's RLE files, as dicom-pixeldata decodes it.
    #[test]
    fn corpus_frames_match_dicom_pixeldata() {
        use dicom_pixeldata::PixelDecoder;
        let root = std::env::var_os("STUDYLINK_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
            });
        let mut checked = 0;
        for rel in [
            "ct/ct_wg04_ct1_rle.dcm",
            "mr/mr_small_rle.dcm",
            "secondary_capture/sc_rgb_rle.dcm",
            "secondary_capture/sc_rgb_rle_16bit.dcm",
            "ultrasound/us_cine_palette_rle_10f_echo.dcm",
        ] {
            let path = root.join(rel);
            let obj = dicom_object::open_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (set STUDYLINK_CORPUS)", path.display()));
            let int = |t| obj.element(t).unwrap().to_int::<usize>().unwrap();
            let (rows, cols) = (
                int(dicom_dictionary_std::tags::ROWS),
                int(dicom_dictionary_std::tags::COLUMNS),
            );
            let spp = int(dicom_dictionary_std::tags::SAMPLES_PER_PIXEL);
            let bytes = int(dicom_dictionary_std::tags::BITS_ALLOCATED).div_ceil(8);
            let frags = obj
                .element(dicom_dictionary_std::tags::PIXEL_DATA)
                .unwrap()
                .fragments()
                .unwrap()
                .to_vec();
            for (f, frag) in frags.iter().enumerate() {
                let ours = decode(frag, rows * cols, spp, bytes).unwrap();
                let theirs = obj.decode_pixel_data_frame(f as u32).unwrap().into_data();
                assert_eq!(ours, theirs[..ours.len()], "{rel} frame {f}");
                checked += 1;
            }
        }
        assert!(checked >= 14, "{checked} frames");
    }

    #[test]
    fn damaged_streams_are_errors() {
        let mut f = header(&[64]);
        f.extend_from_slice(&[0xFE, 7]);
        assert!(decode(&f, 6, 1, 1).is_err(), "short");
        assert!(decode(&f, 3, 3, 1).is_err(), "wrong segment count");
        assert!(decode(&f[..10], 3, 1, 1).is_err(), "no header");
        let mut g = header(&[100]);
        g.extend_from_slice(&[0xFE, 7]);
        assert!(decode(&g, 3, 1, 1).is_err(), "offset past the end");
    }
}
