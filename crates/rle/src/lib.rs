//! RLE Lossless (PS3.5 Annex G), one frame to or from its own fragment.
//!
//! The de-identifier writes cleaned loops as RLE (blanked screens, mostly
//! black, pack several-fold smaller than native and every DICOM reader
//! decodes them) and reads RLE input; the renderer and the video encoder read
//! those loops frame by frame. dicom-pixeldata's decoder copies every fragment
//! of the object to decode one frame, so a loop read frame by frame costs
//! frames² copies: hence this codec.

use std::fmt;

/// A damaged or mismatched RLE fragment. The text names the defect only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RleError(&'static str);

impl fmt::Display for RleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RLE: {}", self.0)
    }
}

impl std::error::Error for RleError {}

fn bad(why: &'static str) -> RleError {
    RleError(why)
}

/// Encode one frame (interleaved samples, little endian) as one RLE fragment.
pub fn encode_frame(
    frame: &[u8],
    rows: usize,
    cols: usize,
    samples: usize,
    bps: usize,
) -> Vec<u8> {
    let segments = samples * bps;
    debug_assert!(segments <= 15, "the RLE header holds 15 segment offsets");
    // Segments hold the most significant byte of a sample first: segment
    // `k` is byte `source[k]` of each pixel.
    let source: Vec<usize> = (0..segments)
        .map(|k| (k / bps) * bps + (bps - 1 - k % bps))
        .collect();
    let mut packed: Vec<Vec<u8>> = (0..segments)
        .map(|_| Vec::with_capacity(rows * cols / 4))
        .collect();
    let mut planes = vec![0u8; cols * segments];
    for row in frame.chunks_exact(cols * segments).take(rows) {
        if segments == 1 {
            pack_bits(row, &mut packed[0]);
            continue;
        }
        // One pass over the row splits it into its segments' rows.
        let (p, rest) = planes.split_at_mut(cols);
        if segments == 3 {
            let (q, r) = rest.split_at_mut(cols);
            for (x, px) in row.chunks_exact(3).enumerate() {
                p[x] = px[source[0]];
                q[x] = px[source[1]];
                r[x] = px[source[2]];
            }
        } else {
            for (x, px) in row.chunks_exact(segments).enumerate() {
                for (k, &b) in source.iter().enumerate() {
                    planes[k * cols + x] = px[b];
                }
            }
        }
        // Runs never cross rows (G.3.1), so each row is packed on its own.
        for (k, out) in packed.iter_mut().enumerate() {
            pack_bits(&planes[k * cols..(k + 1) * cols], out);
        }
    }
    let mut out = vec![0u8; 64];
    out[..4].copy_from_slice(&(segments as u32).to_le_bytes());
    for (k, seg) in packed.iter().enumerate() {
        let offset = out.len() as u32;
        out[4 + 4 * k..8 + 4 * k].copy_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(seg);
        if out.len() % 2 == 1 {
            out.push(0);
        }
    }
    out
}

fn pack_bits(row: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < row.len() {
        let v = row[i];
        let run = 1 + row[i + 1..row.len().min(i + 128)]
            .iter()
            .take_while(|&&b| b == v)
            .count();
        if run >= 3 {
            out.push((257 - run) as u8);
            out.push(row[i]);
            i += run;
            continue;
        }
        let start = i;
        while i < row.len() && i - start < 128 {
            if i + 2 < row.len() && row[i] == row[i + 1] && row[i] == row[i + 2] {
                break;
            }
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend_from_slice(&row[start..i]);
    }
}

/// Decodes one frame into interleaved samples, little endian, `bytes` bytes
/// per sample (segments hold each sample's most significant byte first).
pub fn decode_frame(
    frag: &[u8],
    pixels: usize,
    samples: usize,
    bytes: usize,
) -> Result<Vec<u8>, RleError> {
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
fn unpack(mut src: &[u8], plane: &mut [u8]) -> Result<(), RleError> {
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


    fn unpack_all(mut data: &[u8], n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while out.len() < n {
            let h = data[0] as i8;
            if h >= 0 {
                out.extend_from_slice(&data[1..2 + h as usize]);
                data = &data[2 + h as usize..];
            } else if h != -128 {
                out.extend(std::iter::repeat_n(data[1], (1 - h as isize) as usize));
                data = &data[2..];
            } else {
                data = &data[1..];
            }
        }
        out
    }

    #[test]
    fn rows_round_trip() {
        let rows: Vec<Vec<u8>> = vec![
            vec![0; 300],
            (0..=255).collect(),
            vec![1, 1, 2, 2, 2, 3, 4, 4, 4, 4, 5],
            vec![7],
            [
                vec![9; 2],
                (0..200).map(|i| (i % 7) as u8).collect(),
                vec![3; 129],
            ]
            .concat(),
        ];
        for row in rows {
            let mut packed = Vec::new();
            pack_bits(&row, &mut packed);
            assert_eq!(unpack_all(&packed, row.len()), row);
        }
    }

    #[test]
    fn frames_round_trip() {
        // 3 rows × 5 columns, RGB 8-bit and grey 16-bit.
        let rgb: Vec<u8> = (0..45).map(|i| (i * 7 % 11) as u8).collect();
        assert_eq!(decode_frame(&encode_frame(&rgb, 3, 5, 3, 1), 15, 3, 1).unwrap(), rgb);
        let grey16: Vec<u8> = (0..30).map(|i| if i % 4 < 2 { 0 } else { i as u8 }).collect();
        assert_eq!(decode_frame(&encode_frame(&grey16, 3, 5, 1, 2), 15, 1, 2).unwrap(), grey16);
    }

    #[test]
    fn header_lists_segments_msb_first() {
        // 2 pixels, 1 sample, 16 bits: values 0x0102, 0x0304
        let enc = encode_frame(&[0x02, 0x01, 0x04, 0x03], 1, 2, 1, 2);
        assert_eq!(u32::from_le_bytes(enc[0..4].try_into().unwrap()), 2);
        let s0 = u32::from_le_bytes(enc[4..8].try_into().unwrap()) as usize;
        let s1 = u32::from_le_bytes(enc[8..12].try_into().unwrap()) as usize;
        assert_eq!(s0, 64);
        assert_eq!(unpack_all(&enc[s0..s1], 2), vec![0x01, 0x03]);
        assert_eq!(unpack_all(&enc[s1..], 2), vec![0x02, 0x04]);
        assert_eq!(enc.len() % 2, 0);
    }


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
        assert_eq!(decode_frame(&f, 6, 1, 1).unwrap(), [7, 7, 7, 1, 2, 3]);
    }

    #[test]
    fn sixteen_bit_rgb_interleaves_little_endian() {
        // 1 pixel, 3 samples × 2 bytes: segments R-hi R-lo G-hi G-lo B-hi B-lo.
        let mut f = header(&[64, 66, 68, 70, 72, 74]);
        for v in [1u8, 2, 3, 4, 5, 6] {
            f.extend_from_slice(&[0, v]);
        }
        assert_eq!(decode_frame(&f, 1, 3, 2).unwrap(), [2, 1, 4, 3, 6, 5]);
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
                let ours = decode_frame(frag, rows * cols, spp, bytes).unwrap();
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
        assert!(decode_frame(&f, 6, 1, 1).is_err(), "short");
        assert!(decode_frame(&f, 3, 3, 1).is_err(), "wrong segment count");
        assert!(decode_frame(&f[..10], 3, 1, 1).is_err(), "no header");
        let mut g = header(&[100]);
        g.extend_from_slice(&[0xFE, 7]);
        assert!(decode_frame(&g, 3, 1, 1).is_err(), "offset past the end");
    }
}
