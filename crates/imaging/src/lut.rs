//! Lookup tables as DICOM stores them: a descriptor (entries, first mapped
//! value, bits per entry) and data, possibly segmented (palette colour).

use dicom_core::Tag;
use dicom_object::InMemDicomObject;

#[derive(Debug, Clone)]
pub struct Lut {
    pub first: i64,
    pub bits: u16,
    pub data: Vec<u16>,
}

impl Lut {
    /// `signed_input`: the first mapped value is then signed even when the
    /// descriptor is stored as US (PS3.3 C.11.1.1.2 lets either VR through).
    pub fn read(obj: &InMemDicomObject, descriptor: Tag, data: Tag, segmented: Option<Tag>, signed_input: bool) -> Option<Lut> {
        let desc = obj.get(descriptor)?.to_multi_int::<i64>().ok()?;
        if desc.len() < 3 {
            return None;
        }
        let entries = match desc[0] & 0xFFFF {
            0 => 65536,
            n => n as usize,
        };
        let mut first = desc[1];
        if signed_input && first > 32767 {
            first -= 65536;
        }
        if !signed_input && first < 0 {
            first += 65536;
        }
        let bits = (desc[2] as u16).clamp(1, 16);
        let values = match obj.get(data) {
            Some(e) => {
                let bytes = e.to_bytes().ok()?;
                if bits <= 8 && (bytes.len() == entries || bytes.len() == entries + 1) {
                    // Some writers pack two 8-bit entries per 16-bit word.
                    bytes[..entries].iter().map(|b| *b as u16).collect()
                } else {
                    words(&bytes)
                }
            }
            None => expand_segments(&words(&obj.get(segmented?)?.to_bytes().ok()?), entries)?,
        };
        if values.is_empty() {
            return None;
        }
        Some(Lut { first, bits, data: values })
    }

    pub fn get(&self, x: i64) -> u16 {
        let i = (x - self.first).clamp(0, self.data.len() as i64 - 1);
        self.data[i as usize]
    }

    /// The largest value an entry can take. Some tables declare 16 bits but
    /// hold 8-bit values (or the reverse); the data decide, as dcmtk does.
    pub fn max_output(&self) -> u32 {
        let declared = (1u32 << self.bits) - 1;
        let actual = self.data.iter().copied().max().unwrap_or(0) as u32;
        if actual > declared { if actual > 255 { 65535 } else { 255 } } else { declared }
    }
}

fn words(bytes: &[u8]) -> Vec<u16> {
    bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect()
}

/// PS3.3 C.7.9.2: discrete (0), linear (1) and indirect (2) segments.
fn expand_segments(words: &[u16], entries: usize) -> Option<Vec<u16>> {
    let mut out: Vec<u16> = Vec::with_capacity(entries);
    let mut i = 0;
    while i + 1 < words.len() && out.len() < entries {
        if words[i] == 2 {
            // Copy `n` earlier segments, the first at a byte offset (32 bits, low word first).
            let n = words[i + 1] as usize;
            let offset = (*words.get(i + 2)? as usize | (*words.get(i + 3)? as usize) << 16) / 2;
            let mut j = offset;
            for _ in 0..n {
                j = segment(words, j, &mut out)?;
            }
            i += 4;
        } else {
            i = segment(words, i, &mut out)?;
        }
    }
    out.truncate(entries);
    Some(out)
}

/// Expands the discrete or linear segment at `i`; returns where the next starts.
fn segment(words: &[u16], i: usize, out: &mut Vec<u16>) -> Option<usize> {
    let n = *words.get(i + 1)? as usize;
    match words[i] {
        0 => {
            out.extend_from_slice(words.get(i + 2..i + 2 + n)?);
            Some(i + 2 + n)
        }
        1 => {
            let (y0, y1) = (*out.last()? as f64, *words.get(i + 2)? as f64);
            out.extend((1..=n).map(|k| (y0 + (y1 - y0) * k as f64 / n as f64).round() as u16));
            Some(i + 3)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_expand() {
        // discrete 0,10; linear to 40 over 3; indirect: the first segment again.
        let words = [0, 2, 0, 10, 1, 3, 40, 2, 1, 0, 0];
        assert_eq!(expand_segments(&words, 100).unwrap(), vec![0, 10, 20, 30, 40, 0, 10]);
        assert_eq!(expand_segments(&words, 3).unwrap(), vec![0, 10, 20]);
        assert!(expand_segments(&[7, 1, 1], 10).is_none(), "unknown opcode");
        assert!(expand_segments(&[1, 3, 40], 10).is_none(), "linear with nothing before it");
    }
}
