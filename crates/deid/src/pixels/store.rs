//! Native pixel data held once and rewritten in place.
//!
//! dicom-object keeps OB as bytes and OW as 16-bit words (already in host order, whatever
//! the file's byte order). Converting words to bytes would double the memory of a large
//! cine, so both forms are addressed as a little-endian byte sequence instead.

use dicom_core::value::{C, PrimitiveValue};

pub(crate) enum Store {
    Bytes(Vec<u8>),
    Words(Vec<u16>),
}

impl Store {
    /// Takes the value apart without copying; `None` for value types that are not pixel data.
    pub fn from_value(value: PrimitiveValue) -> Result<Self, PrimitiveValue> {
        match value {
            PrimitiveValue::U8(v) => Ok(Store::Bytes(v.into_vec())),
            PrimitiveValue::U16(v) => Ok(Store::Words(v.into_vec())),
            other => Err(other),
        }
    }

    pub fn into_value(self) -> PrimitiveValue {
        match self {
            Store::Bytes(v) => PrimitiveValue::U8(C::from_vec(v)),
            Store::Words(v) => PrimitiveValue::U16(C::from_vec(v)),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        match self {
            Store::Bytes(v) => v.len(),
            Store::Words(v) => v.len() * 2,
        }
    }

    /// Keep the first `len` bytes, padded to even length as DICOM values are.
    pub fn truncate(&mut self, len: usize) {
        match self {
            Store::Bytes(v) => {
                v.truncate(len);
                if v.len() % 2 == 1 {
                    v.push(0);
                }
            }
            Store::Words(w) => w.truncate(len.div_ceil(2)),
        }
    }

    pub fn read(&self, offset: usize, dst: &mut [u8]) {
        match self {
            Store::Bytes(v) => dst.copy_from_slice(&v[offset..offset + dst.len()]),
            Store::Words(w) => {
                // Whole words where the range is word-aligned, single bytes at the edges.
                let (head, rest) = dst.split_at_mut((offset % 2).min(dst.len()));
                if let Some(d) = head.first_mut() {
                    *d = w[offset / 2].to_le_bytes()[1];
                }
                let first = offset.div_ceil(2);
                let last = first + rest.len() / 2;
                let mut pairs = rest.chunks_exact_mut(2);
                for (d, word) in (&mut pairs).zip(&w[first..]) {
                    d.copy_from_slice(&word.to_le_bytes());
                }
                if let Some(d) = pairs.into_remainder().first_mut() {
                    *d = w[last].to_le_bytes()[0];
                }
            }
        }
    }

    pub fn write(&mut self, offset: usize, src: &[u8]) {
        match self {
            Store::Bytes(v) => v[offset..offset + src.len()].copy_from_slice(src),
            Store::Words(w) => {
                let (head, rest) = src.split_at((offset % 2).min(src.len()));
                if let Some(&b) = head.first() {
                    let mut word = w[offset / 2].to_le_bytes();
                    word[1] = b;
                    w[offset / 2] = u16::from_le_bytes(word);
                }
                let first = offset.div_ceil(2);
                let mut pairs = rest.chunks_exact(2);
                for (s, word) in (&mut pairs).zip(&mut w[first..]) {
                    *word = u16::from_le_bytes([s[0], s[1]]);
                }
                if let Some(&b) = pairs.remainder().first() {
                    let i = first + rest.len() / 2;
                    let mut word = w[i].to_le_bytes();
                    word[0] = b;
                    w[i] = u16::from_le_bytes(word);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_match_bytes_at_every_alignment() {
        let bytes: Vec<u8> = (0..20).collect();
        let words: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        for off in 0..6 {
            for len in 0..9 {
                let (mut a, mut b) = (vec![0; len], vec![0; len]);
                Store::Bytes(bytes.clone()).read(off, &mut a);
                Store::Words(words.clone()).read(off, &mut b);
                assert_eq!(a, b, "read {off}+{len}");
                let patch: Vec<u8> = (100..100 + len as u8).collect();
                let (mut sa, mut sb) = (Store::Bytes(bytes.clone()), Store::Words(words.clone()));
                sa.write(off, &patch);
                sb.write(off, &patch);
                let (mut ra, mut rb) = (vec![0; 20], vec![0; 20]);
                sa.read(0, &mut ra);
                sb.read(0, &mut rb);
                assert_eq!(ra, rb, "write {off}+{len}");
            }
        }
    }

    #[test]
    fn words_read_and_write_as_little_endian_bytes() {
        let mut s = Store::Words(vec![0x0201, 0x0403, 0x0605]);
        let mut buf = [0u8; 3];
        s.read(1, &mut buf);
        assert_eq!(buf, [2, 3, 4]);
        s.write(3, &[9, 8]);
        let mut all = [0u8; 6];
        s.read(0, &mut all);
        assert_eq!(all, [1, 2, 3, 9, 8, 6]);
        assert_eq!(s.len(), 6);
    }
}
