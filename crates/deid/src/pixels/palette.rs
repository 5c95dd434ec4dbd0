//! The stored pixel value that displays black.
//!
//! Extreme values are used because every VOI transform is monotonic: the lowest stored value
//! is the darkest for MONOCHROME2 and the highest for MONOCHROME1. For PALETTE COLOR the
//! LUTs stay and the index of a black entry is written; without such an entry the image is
//! converted to RGB so that black is exact.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::NotCleanable;
use super::geometry::{Geometry, Photometric};

/// How blanked pixels are written, and whether palette indices become RGB first.
pub(crate) struct Plan {
    /// One blank pixel in the output layout (interleaved, little endian).
    pub fill: Vec<u8>,
    /// RGB for each stored palette value, from `first` on; set when the palette has no
    /// black entry (blanking would leave a visible grey) or is segmented (many readers,
    /// DCMTK 3.6.7 among them, cannot apply segmented LUTs).
    pub to_rgb: Option<PaletteRgb>,
}

pub(crate) struct PaletteRgb {
    first: i64,
    table: Vec<[u8; 3]>,
}

impl PaletteRgb {
    /// Map one frame of stored values (1 or 2 bytes each) to RGB triplets.
    pub fn apply(&self, indices: &[u8], bytes_per_sample: usize, out: &mut [u8]) {
        let last = self.table.len() as i64 - 1;
        for (px, o) in indices
            .chunks_exact(bytes_per_sample)
            .zip(out.chunks_exact_mut(3))
        {
            let v = if bytes_per_sample == 2 {
                u16::from_le_bytes([px[0], px[1]]) as i64
            } else {
                px[0] as i64
            };
            // Values outside the table take its first or last entry (PS3.3 C.7.6.3.1.5).
            o.copy_from_slice(&self.table[(v - self.first).clamp(0, last) as usize]);
        }
    }
}

pub(crate) fn plan(obj: &DefaultDicomObject, geo: &Geometry) -> Result<Plan, NotCleanable> {
    let bs = geo.bits_stored as u32;
    let value: i64 = match geo.photometric {
        Photometric::Monochrome2 if geo.signed => -(1i64 << (bs - 1)),
        Photometric::Monochrome2 => 0,
        Photometric::Monochrome1 if geo.signed => (1i64 << (bs - 1)) - 1,
        Photometric::Monochrome1 => (1i64 << bs) - 1,
        Photometric::Palette => {
            let lut = read_palette(obj)?;
            let black = (0..lut.rgb[0].len()).find(|&i| lut.rgb.iter().all(|c| c[i] == 0));
            match black {
                Some(i) if !lut.segmented && lut.first + (i as i64) < (1i64 << bs) => {
                    lut.first + i as i64
                }
                _ => {
                    return Ok(Plan {
                        fill: vec![0; 3],
                        to_rgb: Some(lut.to_rgb8()),
                    });
                }
            }
        }
        _ => {
            return Ok(Plan {
                fill: vec![0; geo.pixel_len()],
                to_rgb: None,
            });
        }
    };
    let bytes = (value as u16).to_le_bytes();
    Ok(Plan {
        fill: bytes[..geo.bytes_per_sample()].to_vec(),
        to_rgb: None,
    })
}

struct Lut {
    first: i64,
    bits: i64,
    segmented: bool,
    rgb: [Vec<u16>; 3],
}

impl Lut {
    fn to_rgb8(&self) -> PaletteRgb {
        // 16-bit entries use the full range; 8-bit entries in 16-bit words do not.
        let max = self.rgb.iter().flatten().copied().max().unwrap_or(0);
        let shift = if self.bits == 16 || max > 255 { 8 } else { 0 };
        let table = (0..self.rgb[0].len())
            .map(|i| [0, 1, 2].map(|c| (self.rgb[c][i] >> shift) as u8))
            .collect();
        PaletteRgb {
            first: self.first,
            table,
        }
    }
}

fn read_palette(obj: &DefaultDicomObject) -> Result<Lut, NotCleanable> {
    let channels = [
        (
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ];
    let mut rgb: [Vec<u16>; 3] = Default::default();
    let (mut first, mut bits, mut segmented) = (0, 16, false);
    for (c, (desc_tag, data_tag, seg_tag)) in channels.into_iter().enumerate() {
        let desc: Vec<i64> = obj
            .get(desc_tag)
            .and_then(|e| e.to_multi_int::<i64>().ok())
            .filter(|d| d.len() == 3)
            .ok_or_else(|| bad("palette descriptor missing"))?;
        let entries = if desc[0] == 0 {
            65536
        } else {
            desc[0] as usize
        };
        // First Stored Pixel Value Mapped is US or SS; read as unsigned 16-bit.
        first = desc[1] & 0xFFFF;
        bits = desc[2];
        rgb[c] = if let Some(words) = words(obj, data_tag) {
            unpack(words, entries, desc[2])?
        } else if let Some(words) = words(obj, seg_tag) {
            segmented = true;
            expand_segmented(&words, entries)?
        } else {
            return Err(bad("palette data missing"));
        };
    }
    if rgb[1].len() != rgb[0].len() || rgb[2].len() != rgb[0].len() || rgb[0].is_empty() {
        return Err(bad("palette channels differ in length"));
    }
    Ok(Lut {
        first,
        bits,
        segmented,
        rgb,
    })
}

fn words(obj: &DefaultDicomObject, tag: Tag) -> Option<Vec<u16>> {
    let e = obj.get(tag)?;
    let v = e.value().primitive()?;
    match v {
        dicom_core::PrimitiveValue::U8(b) => Some(
            b.chunks(2)
                .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect(),
        ),
        other => other.to_multi_int::<u16>().ok(),
    }
}

/// 8-bit LUT entries are sometimes packed two per word; otherwise one entry per word.
fn unpack(words: Vec<u16>, entries: usize, bits: i64) -> Result<Vec<u16>, NotCleanable> {
    if words.len() == entries {
        Ok(words)
    } else if bits == 8 && words.len() * 2 == entries {
        Ok(words
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .map(u16::from)
            .collect())
    } else {
        Err(bad("palette length does not match its descriptor"))
    }
}

/// PS3.3 C.7.9.2: discrete (0) and linear (1) segments; indirect (2) is not supported.
fn expand_segmented(words: &[u16], entries: usize) -> Result<Vec<u16>, NotCleanable> {
    let mut out: Vec<u16> = Vec::with_capacity(entries);
    let mut i = 0;
    while i + 1 < words.len() {
        let (op, n) = (words[i], words[i + 1] as usize);
        match op {
            0 => {
                let seg = words
                    .get(i + 2..i + 2 + n)
                    .ok_or_else(|| bad("segmented palette truncated"))?;
                out.extend_from_slice(seg);
                i += 2 + n;
            }
            1 => {
                let y0 = *out
                    .last()
                    .ok_or_else(|| bad("segmented palette starts with a ramp"))?
                    as i64;
                let y1 = *words
                    .get(i + 2)
                    .ok_or_else(|| bad("segmented palette truncated"))?
                    as i64;
                out.extend((1..=n as i64).map(|k| (y0 + (y1 - y0) * k / n as i64) as u16));
                i += 3;
            }
            _ => return Err(bad("indirect segmented palettes are not supported")),
        }
        if out.len() > entries {
            return Err(bad("segmented palette longer than its descriptor"));
        }
    }
    if out.len() != entries {
        return Err(bad(
            "segmented palette length does not match its descriptor",
        ));
    }
    Ok(out)
}

fn bad(why: &str) -> NotCleanable {
    NotCleanable::Unsupported(why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segmented_discrete_and_linear() {
        let lut = expand_segmented(&[0, 2, 10, 20, 1, 2, 40], 4).unwrap();
        assert_eq!(lut, vec![10, 20, 30, 40]);
        assert!(expand_segmented(&[0, 2, 10, 20], 3).is_err());
        assert!(expand_segmented(&[2, 1, 0, 0], 3).is_err());
    }

    #[test]
    fn packed_8bit_entries() {
        assert_eq!(
            unpack(vec![0x0201, 0x0403], 4, 8).unwrap(),
            vec![1, 2, 3, 4]
        );
        assert!(unpack(vec![1, 2, 3], 4, 16).is_err());
    }
}
