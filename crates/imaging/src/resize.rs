//! Downscaling by area averaging: each output pixel is the mean of the source
//! pixels it covers (fractional edges weighted), which keeps thin bright
//! structures and burned-in text legible in thumbnails, unlike point sampling.

/// The size that fits `w`×`h` within the limits, aspect kept, never enlarged.
pub fn fit(w: u32, h: u32, longest: Option<u32>, viewport: Option<(u32, u32)>) -> (u32, u32) {
    let mut scale = 1.0f64;
    if let Some(m) = longest {
        scale = scale.min(m.max(1) as f64 / w.max(h) as f64);
    }
    if let Some((vw, vh)) = viewport {
        scale = scale
            .min(vw.max(1) as f64 / w as f64)
            .min(vh.max(1) as f64 / h as f64);
    }
    if scale >= 1.0 {
        return (w, h);
    }
    (
        ((w as f64 * scale).round() as u32).max(1),
        ((h as f64 * scale).round() as u32).max(1),
    )
}

/// For each output index: the source indices it covers and their weights (summing to 1).
fn spans(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            let (a, b) = (i as f64 * scale, ((i + 1) as f64 * scale).min(src as f64));
            let mut out = Vec::with_capacity(scale.ceil() as usize + 1);
            let mut k = a.floor() as usize;
            while (k as f64) < b && k < src {
                let cover = (b.min(k as f64 + 1.0) - a.max(k as f64)).max(0.0);
                if cover > 0.0 {
                    out.push((k, (cover / (b - a)) as f32));
                }
                k += 1;
            }
            out
        })
        .collect()
}

pub fn downscale(px: &[u8], w: u32, h: u32, channels: usize, nw: u32, nh: u32) -> Vec<u8> {
    if (nw, nh) == (w, h) {
        return px.to_vec();
    }
    let (w, h, nw, nh) = (w as usize, h as usize, nw as usize, nh as usize);
    let xs = spans(w, nw);
    let ys = spans(h, nh);
    // Horizontal pass into floats, then vertical.
    let mut mid = vec![0f32; h * nw * channels];
    for y in 0..h {
        let row = &px[y * w * channels..(y + 1) * w * channels];
        let out = &mut mid[y * nw * channels..(y + 1) * nw * channels];
        // Grey and RGB (every thumbnail) get a loop the compiler keeps in registers.
        match channels {
            1 => {
                for (o, span) in out.iter_mut().zip(&xs) {
                    *o = span.iter().map(|&(k, wt)| row[k] as f32 * wt).sum();
                }
            }
            3 => {
                for (o, span) in out.chunks_exact_mut(3).zip(&xs) {
                    let mut acc = [0f32; 3];
                    for &(k, wt) in span {
                        let p = &row[k * 3..k * 3 + 3];
                        acc[0] += p[0] as f32 * wt;
                        acc[1] += p[1] as f32 * wt;
                        acc[2] += p[2] as f32 * wt;
                    }
                    o.copy_from_slice(&acc);
                }
            }
            _ => {
                for (x, span) in xs.iter().enumerate() {
                    for c in 0..channels {
                        out[x * channels + c] = span
                            .iter()
                            .map(|(k, wt)| row[k * channels + c] as f32 * wt)
                            .sum();
                    }
                }
            }
        }
    }
    let stride = nw * channels;
    let mut out = vec![0u8; nh * stride];
    for (y, span) in ys.iter().enumerate() {
        let dst = &mut out[y * stride..(y + 1) * stride];
        let mut acc = vec![0f32; stride];
        for (k, wt) in span {
            for (a, v) in acc.iter_mut().zip(&mid[k * stride..(k + 1) * stride]) {
                *a += v * wt;
            }
        }
        // Weights are non-negative: adding 0.5 and truncating rounds half up
        // without a libm call per sample (the `as` cast saturates at 0 and 255).
        for (d, a) in dst.iter_mut().zip(acc) {
            *d = (a + 0.5) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_aspect_and_never_enlarges() {
        assert_eq!(fit(1024, 768, Some(256), None), (256, 192));
        assert_eq!(fit(100, 50, Some(256), None), (100, 50));
        assert_eq!(fit(1000, 10, Some(256), None), (256, 3));
        assert_eq!(fit(1000, 500, None, Some((100, 100))), (100, 50));
        assert_eq!(fit(4000, 1, Some(1), None), (1, 1));
    }

    #[test]
    fn downscale_averages_areas() {
        let px = [0u8, 255, 0, 255, 100, 100, 100, 100];
        assert_eq!(downscale(&px, 4, 2, 1, 2, 1), vec![114, 114]);
        let big = vec![77u8; 30 * 20 * 3];
        assert!(downscale(&big, 30, 20, 3, 7, 5).iter().all(|v| *v == 77));
    }
}
