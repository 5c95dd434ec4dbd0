//! Monochrome: stored value → Modality LUT → VOI LUT → 8 bits (PS3.3 C.11),
//! MONOCHROME1 inverted last.
//!
//! For data up to 16 bits the whole chain is folded into one table indexed
//! by the stored value, so a frame costs one lookup per pixel whatever the
//! transforms are. Without a window in the object: 8-bit data with no
//! rescale is shown as stored (it is display-ready, as dcmtk's default
//! shows it); anything else uses the frame's min–max (dcmtk `+Wm`), because
//! the full range of 12–16-bit data renders almost uniformly grey.

use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;

use crate::RenderError;
use crate::decode::Decoded;
use crate::info::{self, ImageInfo, lookup};
use crate::lut::Lut;

enum Modality {
    Linear { slope: f64, intercept: f64 },
    Table(Lut),
}

#[derive(Clone, Copy)]
enum Function {
    Linear,
    LinearExact,
    Sigmoid,
}

enum Voi {
    Window { center: f64, width: f64, function: Function },
    Table(Lut),
    MinMax,
    Range,
}

impl Modality {
    fn read(obj: &InMemDicomObject, info: &ImageInfo, frame: u32) -> Modality {
        if let Some(item) = info::items(obj, tags::MODALITY_LUT_SEQUENCE).and_then(|i| i.first())
            && let Some(lut) = Lut::read(item, tags::LUT_DESCRIPTOR, tags::LUT_DATA, None, info.signed)
        {
            return Modality::Table(lut);
        }
        let ds = lookup(obj, frame, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, tags::RESCALE_SLOPE);
        let slope = ds.and_then(|d| info::float(d, tags::RESCALE_SLOPE)).filter(|s| *s != 0.0).unwrap_or(1.0);
        let ds = lookup(obj, frame, tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE, tags::RESCALE_INTERCEPT);
        let intercept = ds.and_then(|d| info::float(d, tags::RESCALE_INTERCEPT)).unwrap_or(0.0);
        Modality::Linear { slope, intercept }
    }

    fn apply(&self, s: i64) -> f64 {
        match self {
            Modality::Linear { slope, intercept } => s as f64 * slope + intercept,
            Modality::Table(lut) => lut.get(s) as f64,
        }
    }

    fn is_identity(&self) -> bool {
        matches!(self, Modality::Linear { slope, intercept } if *slope == 1.0 && *intercept == 0.0)
    }
}

impl Voi {
    fn read(obj: &InMemDicomObject, info: &ImageInfo, frame: u32, modality: &Modality) -> Voi {
        let center = lookup(obj, frame, tags::FRAME_VOILUT_SEQUENCE, tags::WINDOW_CENTER);
        let width = lookup(obj, frame, tags::FRAME_VOILUT_SEQUENCE, tags::WINDOW_WIDTH);
        if let (Some(c), Some(w)) = (center, width)
            && let (Some(center), Some(width)) = (info::float(c, tags::WINDOW_CENTER), info::float(w, tags::WINDOW_WIDTH))
            && width > 0.0
        {
            let function = match info::string(c, tags::VOILUT_FUNCTION).as_deref() {
                Some("LINEAR_EXACT") => Function::LinearExact,
                Some("SIGMOID") => Function::Sigmoid,
                _ => Function::Linear,
            };
            return Voi::Window { center, width, function };
        }
        let signed = info.signed || matches!(modality, Modality::Linear { intercept, .. } if *intercept < 0.0);
        if let Some(item) = info::items(obj, tags::VOILUT_SEQUENCE).and_then(|i| i.first())
            && let Some(lut) = Lut::read(item, tags::LUT_DESCRIPTOR, tags::LUT_DATA, None, signed)
        {
            return Voi::Table(lut);
        }
        if info.bits_stored <= 8 && modality.is_identity() { Voi::Range } else { Voi::MinMax }
    }
}

/// PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT) and C.11.2.1.3.1 (SIGMOID), to 0..=1.
fn window(x: f64, c: f64, w: f64, f: Function) -> f64 {
    match f {
        Function::Linear => {
            let (lo, hi) = (c - 0.5 - (w - 1.0) / 2.0, c - 0.5 + (w - 1.0) / 2.0);
            if x <= lo {
                0.0
            } else if x > hi || w <= 1.0 {
                1.0
            } else {
                ((x - (c - 0.5)) / (w - 1.0) + 0.5).clamp(0.0, 1.0)
            }
        }
        Function::LinearExact => ((x - c) / w + 0.5).clamp(0.0, 1.0),
        Function::Sigmoid => 1.0 / (1.0 + (-4.0 * (x - c) / w).exp()),
    }
}

struct Chain {
    modality: Modality,
    voi: Voi,
    invert: bool,
    /// Bounds of the modality output for min–max or range windows.
    bounds: (f64, f64),
    voi_max: f64,
}

impl Chain {
    fn to8(&self, m: f64) -> u8 {
        let y = match &self.voi {
            Voi::Window { center, width, function } => window(m, *center, *width, *function),
            Voi::Table(lut) => lut.get(m.round() as i64) as f64 / self.voi_max,
            Voi::MinMax | Voi::Range => {
                let (lo, hi) = self.bounds;
                // dcmtk +Wm: center (min+max)/2, width max-min+1.
                window(m, (lo + hi) / 2.0, hi - lo + 1.0, Function::Linear)
            }
        };
        let y = if self.invert { 1.0 - y } else { y };
        // Truncation, not rounding: what dcmtk does, so outputs agree exactly.
        (y * 255.0).clamp(0.0, 255.0) as u8
    }
}

/// Stored values are shown unchanged (8-bit, no rescale, no window, not inverted).
pub fn is_identity(obj: &InMemDicomObject, info: &ImageInfo, frame: u32) -> bool {
    let modality = Modality::read(obj, info, frame);
    info.bits_stored == 8
        && !info.signed
        && info.photometric == "MONOCHROME2"
        && modality.is_identity()
        && matches!(Voi::read(obj, info, frame, &modality), Voi::Range)
}

pub fn render(obj: &InMemDicomObject, info: &ImageInfo, frame: u32, d: &Decoded) -> Result<Vec<u8>, RenderError> {
    let modality = Modality::read(obj, info, frame);
    let voi = Voi::read(obj, info, frame, &modality);
    let invert = info.photometric == "MONOCHROME1";
    let voi_max = match &voi {
        Voi::Table(lut) => lut.max_output().max(1) as f64,
        _ => 1.0,
    };
    let mut chain = Chain { modality, voi, invert, bounds: (0.0, 0.0), voi_max };
    let px = info.pixels();
    let bits = info.bits_stored.min(8 * d.bytes as u16);
    let shift = (info.high_bit + 1).saturating_sub(bits).min(8 * d.bytes as u16 - bits);
    let signed = info.signed && bits > 1;
    let extend = |u: u32| -> i64 {
        if signed && u & (1 << (bits - 1)) != 0 { u as i64 - (1i64 << bits) } else { u as i64 }
    };
    if d.data.len() < px * d.bytes {
        return Err(RenderError::Decode("too few samples".into()));
    }
    if info.float {
        return Ok(render_float(&mut chain, d, px));
    }
    if d.bytes > 2 {
        return Ok(render32(&mut chain, d, px, shift, bits, &extend));
    }
    let mask: u32 = if bits >= 32 { u32::MAX } else { (1u32 << bits) - 1 };
    let index = |i: usize| -> usize {
        let raw = if d.bytes == 1 { d.data[i] as u32 } else { u16::from_le_bytes([d.data[2 * i], d.data[2 * i + 1]]) as u32 };
        ((raw >> shift) & mask) as usize
    };
    let n = mask as usize + 1;
    match chain.voi {
        Voi::MinMax => {
            let mut present = vec![false; n];
            for i in 0..px {
                present[index(i)] = true;
            }
            chain.bounds = bounds((0..n).filter(|u| present[*u]).map(|u| chain.modality.apply(extend(u as u32))));
        }
        Voi::Range => {
            let (lo, hi) = if signed { (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1) } else { (0, mask as i64) };
            chain.bounds = bounds([chain.modality.apply(lo), chain.modality.apply(hi)].into_iter());
        }
        _ => {}
    }
    let table: Vec<u8> = (0..n).map(|u| chain.to8(chain.modality.apply(extend(u as u32)))).collect();
    Ok(if d.bytes == 1 && shift == 0 {
        d.data[..px].iter().map(|v| table[(*v as u32 & mask) as usize]).collect()
    } else {
        (0..px).map(|i| table[index(i)]).collect()
    })
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Float and Double Float Pixel Data (parametric maps): real values as
/// stored; non-finite values are left out of the min–max window.
fn render_float(chain: &mut Chain, d: &Decoded, px: usize) -> Vec<u8> {
    let values: Vec<f64> = match d.bytes {
        8 => d.data[..px * 8].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
        _ => d.data[..px * 4].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64).collect(),
    };
    chain.modality = Modality::Linear { slope: 1.0, intercept: 0.0 };
    // LINEAR's ±0.5 and width − 1 assume integer steps; on real values a
    // window of width 1 (common for 0..1 maps) would become a threshold.
    if let Voi::Window { function: f @ Function::Linear, .. } = &mut chain.voi {
        *f = Function::LinearExact;
    }
    if matches!(chain.voi, Voi::MinMax | Voi::Range) {
        chain.voi = Voi::MinMax;
        chain.bounds = bounds(values.iter().copied().filter(|v| v.is_finite()));
    }
    values.iter().map(|m| if m.is_finite() { chain.to8(*m) } else { 0 }).collect()
}

/// 32-bit integer data (RT Dose): no table, value by value.
fn render32(chain: &mut Chain, d: &Decoded, px: usize, shift: u16, bits: u16, extend: &dyn Fn(u32) -> i64) -> Vec<u8> {
    let mask: u64 = (1u64 << bits) - 1;
    let values: Vec<f64> = d.data[..px * 4]
        .chunks_exact(4)
        .map(|c| chain.modality.apply(extend(((u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u64 >> shift) & mask) as u32)))
        .collect();
    if matches!(chain.voi, Voi::MinMax | Voi::Range) {
        chain.voi = Voi::MinMax;
        chain.bounds = bounds(values.iter().copied());
    }
    values.iter().map(|m| chain.to8(*m)).collect()
}
