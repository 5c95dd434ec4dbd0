//! Colour: RGB, Y'CbCr and palette colour to 8-bit RGB.

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::RenderError;
use crate::decode::{Color, Decoded};
use crate::info::ImageInfo;
use crate::lut::Lut;

pub fn render(obj: &InMemDicomObject, info: &ImageInfo, d: &Decoded) -> Result<Vec<u8>, RenderError> {
    let px = info.pixels();
    if info.samples == 1 {
        return palette(obj, info, d);
    }
    if d.data.len() < px * 3 * d.bytes {
        return Err(RenderError::Decode("too few samples".into()));
    }
    let mut rgb = if d.bytes == 1 {
        d.data[..px * 3].to_vec()
    } else {
        let bits = info.bits_stored.min(8 * d.bytes as u16) as u32;
        let shift = (info.high_bit as u32 + 1).saturating_sub(bits);
        let max = (1u64 << bits) - 1;
        d.data[..px * 3 * d.bytes]
            .chunks_exact(d.bytes)
            .map(|c| {
                let raw = c.iter().rev().fold(0u64, |a, b| (a << 8) | *b as u64);
                let v = (raw >> shift) & max;
                ((v * 255 + max / 2) / max) as u8
            })
            .collect()
    };
    match d.color {
        Color::Rgb => {}
        Color::YbrFull => ybr_to_rgb(&mut rgb, &YbrTables::full()),
        Color::YbrPartial => ybr_to_rgb(&mut rgb, &YbrTables::partial()),
    }
    Ok(rgb)
}

/// Fixed-point Y'CbCr → RGB per PS3.3 C.7.6.3.1.2, precomputed per byte value.
struct YbrTables {
    y: [i32; 256],
    cr_r: [i32; 256],
    cb_g: [i32; 256],
    cr_g: [i32; 256],
    cb_b: [i32; 256],
}

const ONE: f64 = 65536.0;

impl YbrTables {
    fn build(y_scale: f64, y_offset: f64, kr: f64, kgb: f64, kgr: f64, kb: f64) -> Self {
        let t = |k: f64, off: f64| std::array::from_fn(|v| ((v as f64 - off) * k * ONE).round() as i32);
        YbrTables { y: t(y_scale, y_offset), cr_r: t(kr, 128.0), cb_g: t(kgb, 128.0), cr_g: t(kgr, 128.0), cb_b: t(kb, 128.0) }
    }
    fn full() -> Self {
        Self::build(1.0, 0.0, 1.402, 0.344136, 0.714136, 1.772)
    }
    fn partial() -> Self {
        Self::build(1.1644, 16.0, 1.5960, 0.3917, 0.8129, 2.0172)
    }
}

fn ybr_to_rgb(px: &mut [u8], t: &YbrTables) {
    let clamp = |v: i32| ((v + (1 << 15)) >> 16).clamp(0, 255) as u8;
    for p in px.chunks_exact_mut(3) {
        let (y, cb, cr) = (t.y[p[0] as usize], p[1] as usize, p[2] as usize);
        p[0] = clamp(y + t.cr_r[cr]);
        p[1] = clamp(y - t.cb_g[cb] - t.cr_g[cr]);
        p[2] = clamp(y + t.cb_b[cb]);
    }
}

fn palette(obj: &InMemDicomObject, info: &ImageInfo, d: &Decoded) -> Result<Vec<u8>, RenderError> {
    let read = |desc, data, seg| Lut::read(obj, desc, data, Some(seg), false);
    let missing = || RenderError::Invalid("PALETTE COLOR without a usable palette".into());
    let luts = [
        read(tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA, tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA).ok_or_else(missing)?,
        read(tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA, tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA).ok_or_else(missing)?,
        read(tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR, tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA, tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA).ok_or_else(missing)?,
    ];
    let px = info.pixels();
    if d.data.len() < px * d.bytes || d.bytes > 2 {
        return Err(RenderError::Decode("too few samples".into()));
    }
    let bits = info.bits_stored.min(8 * d.bytes as u16) as u32;
    let shift = (info.high_bit as u32 + 1).saturating_sub(bits);
    let mask = (1u32 << bits) - 1;
    let max = luts.each_ref().map(|l| l.max_output().max(1));
    // One RGB triple per possible index, so each pixel is a single lookup.
    let table: Vec<[u8; 3]> = (0..=mask)
        .map(|i| std::array::from_fn(|c| ((luts[c].get(i as i64) as u32 * 255 + max[c] / 2) / max[c]) as u8))
        .collect();
    let mut out = Vec::with_capacity(px * 3);
    if d.bytes == 1 {
        for v in &d.data[..px] {
            out.extend_from_slice(&table[((*v as u32 >> shift) & mask) as usize]);
        }
    } else {
        for c in d.data[..px * 2].chunks_exact(2) {
            out.extend_from_slice(&table[((u16::from_le_bytes([c[0], c[1]]) as u32 >> shift) & mask) as usize]);
        }
    }
    Ok(out)
}
