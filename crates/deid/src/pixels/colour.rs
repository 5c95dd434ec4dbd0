//! Sample layout and colour conversions to interleaved RGB.
//!
//! YBR is converted rather than blanked in place: "black" in YBR is (0,128,128), and writing
//! RGB lets every viewer show the result without a colour-space step. The full-range
//! equations are those of PS3.3 C.7.6.3.1.2.

/// YBR_FULL → RGB, in place on interleaved 8-bit triplets.
pub(crate) fn ybr_full_to_rgb(buf: &mut [u8]) {
    for px in buf.chunks_exact_mut(3) {
        let rgb = ycc(px[0], px[1], px[2]);
        px.copy_from_slice(&rgb);
    }
}

/// Native YBR_FULL_422 (Y1 Y2 Cb Cr per horizontal pixel pair) → interleaved RGB.
pub(crate) fn ybr_422_to_rgb(src: &[u8], dst: &mut [u8]) {
    for (quad, out) in src.chunks_exact(4).zip(dst.chunks_exact_mut(6)) {
        let [y1, y2, cb, cr] = [quad[0], quad[1], quad[2], quad[3]];
        out[..3].copy_from_slice(&ycc(y1, cb, cr));
        out[3..].copy_from_slice(&ycc(y2, cb, cr));
    }
}

fn ycc(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (y as f32, cb as f32 - 128.0, cr as f32 - 128.0);
    let r = y + 1.402 * cr;
    let g = y - 0.344_136 * cb - 0.714_136 * cr;
    let b = y + 1.772 * cb;
    [clamp(r), clamp(g), clamp(b)]
}

fn clamp(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

/// Colour-by-plane (RRR…GGG…BBB…) → colour-by-pixel, for `bps` bytes per sample.
pub(crate) fn planar_to_interleaved(src: &[u8], dst: &mut [u8], bps: usize) {
    let plane = src.len() / 3;
    let pixels = plane / bps;
    for p in 0..pixels {
        for c in 0..3 {
            let s = c * plane + p * bps;
            let d = (p * 3 + c) * bps;
            dst[d..d + bps].copy_from_slice(&src[s..s + bps]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ybr_black_white_and_grey_map_to_rgb() {
        let mut b = [0, 128, 128, 255, 128, 128, 100, 128, 128];
        ybr_full_to_rgb(&mut b);
        assert_eq!(b, [0, 0, 0, 255, 255, 255, 100, 100, 100]);
    }

    #[test]
    fn ybr_422_shares_chroma_per_pair() {
        let mut out = [0u8; 6];
        ybr_422_to_rgb(&[10, 200, 128, 128], &mut out);
        assert_eq!(out, [10, 10, 10, 200, 200, 200]);
    }

    #[test]
    fn planar_is_interleaved() {
        let mut out = [0u8; 6];
        planar_to_interleaved(&[1, 2, 3, 4, 5, 6], &mut out, 1);
        assert_eq!(out, [1, 3, 5, 2, 4, 6]);
    }
}
