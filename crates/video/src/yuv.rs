//! 8-bit RGB / grey frames to limited-range BT.601 I420 (yuv420p).
//!
//! Limited ("TV") range is what every hardware decoder and browser assumes when
//! in doubt; full range is still ignored by some Android decoders, which would
//! show crushed blacks. The cost, 220 instead of 256 luma steps, is below the
//! quantisation error of the encoder.

use crate::PixelFormat;

/// BT.601 luma and chroma weights in 1/65536, already scaled to the limited
/// range (219 luma steps, 224 chroma steps). Each chroma row sums to zero so
/// greys get exactly neutral chroma.
const KY: [i32; 3] = [16829, 33039, 6416];
const KU: [i32; 3] = [-9714, -19070, 28784];
const KV: [i32; 3] = [28784, -24103, -4681];
const Y_BLACK: u8 = 16;
const C_NEUTRAL: u8 = 128;

/// One picture in I420 with even width and height, reused for every frame.
pub(crate) struct I420 {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    grey_lut: [u8; 256],
}

impl I420 {
    /// `width` and `height` must be even.
    pub fn new(width: usize, height: usize) -> I420 {
        debug_assert!(width.is_multiple_of(2) && height.is_multiple_of(2));
        let mut grey_lut = [0u8; 256];
        for (g, out) in grey_lut.iter_mut().enumerate() {
            *out = (16 + (g as u32 * 219 + 127) / 255) as u8;
        }
        I420 {
            width,
            height,
            y: vec![Y_BLACK; width * height],
            u: vec![C_NEUTRAL; width * height / 4],
            v: vec![C_NEUTRAL; width * height / 4],
            grey_lut,
        }
    }

    /// Converts a `src_w`×`src_h` frame (at most one smaller than the picture
    /// in each direction); the rest of the picture stays black.
    pub fn fill(&mut self, format: PixelFormat, src: &[u8], src_w: usize, src_h: usize) {
        debug_assert!(src_w <= self.width && src_h <= self.height);
        match format {
            PixelFormat::Gray8 => self.fill_grey(src, src_w, src_h),
            PixelFormat::Rgb8 => self.fill_rgb(src, src_w, src_h),
        }
    }

    fn fill_grey(&mut self, src: &[u8], src_w: usize, src_h: usize) {
        for (row, line) in src.chunks_exact(src_w).take(src_h).enumerate() {
            let dst = &mut self.y[row * self.width..][..src_w];
            for (d, &g) in dst.iter_mut().zip(line) {
                *d = self.grey_lut[usize::from(g)];
            }
        }
        // Chroma never changes from neutral: the planes were filled at creation.
    }

    fn fill_rgb(&mut self, src: &[u8], src_w: usize, src_h: usize) {
        let stride = src_w * 3;
        for (row, line) in src.chunks_exact(stride).take(src_h).enumerate() {
            let dst = &mut self.y[row * self.width..][..src_w];
            for (d, px) in dst.iter_mut().zip(line.chunks_exact(3)) {
                *d = (16 + ((dot(KY, px) + 32768) >> 16)) as u8;
            }
        }
        let cw = self.width / 2;
        for cy in 0..self.height / 2 {
            let (r0, r1) = (2 * cy * stride, (2 * cy + 1) * stride);
            for cx in 0..cw {
                let (u, v) = if 2 * cy + 1 < src_h && 2 * cx + 1 < src_w {
                    let (a, b) = (&src[r0 + 6 * cx..][..6], &src[r1 + 6 * cx..][..6]);
                    let sum = [0, 1, 2].map(|c| {
                        i32::from(a[c])
                            + i32::from(a[c + 3])
                            + i32::from(b[c])
                            + i32::from(b[c + 3])
                    });
                    chroma(sum, 4)
                } else {
                    edge_chroma(src, src_w, src_h, cx, cy)
                };
                self.u[cy * cw + cx] = u;
                self.v[cy * cw + cx] = v;
            }
        }
    }
}

/// Chroma of a 2×2 block that overlaps the padding: averages only the real
/// pixels, so a padded edge keeps its colour.
fn edge_chroma(src: &[u8], src_w: usize, src_h: usize, cx: usize, cy: usize) -> (u8, u8) {
    let (mut sum, mut n) = ([0i32; 3], 0);
    for y in (2 * cy..2 * cy + 2).filter(|&y| y < src_h) {
        for x in (2 * cx..2 * cx + 2).filter(|&x| x < src_w) {
            let px = &src[(y * src_w + x) * 3..][..3];
            for c in 0..3 {
                sum[c] += i32::from(px[c]);
            }
            n += 1;
        }
    }
    if n == 0 {
        (C_NEUTRAL, C_NEUTRAL)
    } else {
        chroma(sum, n)
    }
}

/// Cb and Cr of the mean of `n` pixels whose RGB components sum to `sum`.
#[inline]
fn chroma(sum: [i32; 3], n: i32) -> (u8, u8) {
    let div = 65536 * n;
    let one = |k| (128 + (dot_i32(k, sum) + div / 2).div_euclid(div)).clamp(0, 255) as u8;
    (one(KU), one(KV))
}

fn dot(k: [i32; 3], px: &[u8]) -> i32 {
    k[0] * i32::from(px[0]) + k[1] * i32::from(px[1]) + k[2] * i32::from(px[2])
}

fn dot_i32(k: [i32; 3], v: [i32; 3]) -> i32 {
    k[0] * v[0] + k[1] * v[1] + k[2] * v[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(px: [u8; 3]) -> (u8, u8, u8) {
        let mut pic = I420::new(2, 2);
        let src: Vec<u8> = px.iter().copied().cycle().take(12).collect();
        pic.fill(PixelFormat::Rgb8, &src, 2, 2);
        (pic.y[0], pic.u[0], pic.v[0])
    }

    #[test]
    fn bt601_limited_range_reference_colours() {
        // Values from BT.601 with 8-bit limited range.
        assert_eq!(rgb([0, 0, 0]), (16, 128, 128));
        assert_eq!(rgb([255, 255, 255]), (235, 128, 128));
        assert_eq!(rgb([255, 0, 0]), (81, 90, 240));
        assert_eq!(rgb([0, 255, 0]), (145, 54, 34));
        assert_eq!(rgb([0, 0, 255]), (41, 240, 110));
        assert_eq!(rgb([128, 128, 128]), (126, 128, 128));
    }

    #[test]
    fn grey_maps_to_limited_luma_and_neutral_chroma() {
        let mut pic = I420::new(4, 2);
        pic.fill(PixelFormat::Gray8, &[0, 128, 255, 7, 1, 2, 3, 4], 4, 2);
        assert_eq!(&pic.y[..4], &[16, 126, 235, 22]);
        assert!(pic.u.iter().chain(&pic.v).all(|&c| c == 128));
    }

    #[test]
    fn odd_frames_are_padded_black_without_bleeding_colour() {
        let mut pic = I420::new(4, 2);
        let red_3x1 = [255, 0, 0, 255, 0, 0, 255, 0, 0];
        pic.fill(PixelFormat::Rgb8, &red_3x1, 3, 1);
        assert_eq!(&pic.y, &[81, 81, 81, 16, 16, 16, 16, 16]);
        // The right chroma block holds one red pixel and three padding pixels.
        assert_eq!((pic.u[1], pic.v[1]), (90, 240));
    }
}
