//! Where each frame's bytes sit inside a stored Part 10 file.
//!
//! The header is parsed up to Pixel Data (never the pixels); native data is then
//! sliced arithmetically, and for encapsulated data only the 8-byte item headers
//! are read, seeking over the fragments. A frame of a 2 GB cine costs a few
//! reads, not a pass over the file.

use std::cell::Cell;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;

use dicom_core::header::HasLength;
use dicom_core::{PrimitiveValue, Tag};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::stored::skip_meta;

const EXTENDED_OFFSET_TABLE: Tag = Tag(0x7FE0, 0x0001);
const FLOAT_PIXEL_DATA: Tag = Tag(0x7FE0, 0x0008);
const DOUBLE_FLOAT_PIXEL_DATA: Tag = Tag(0x7FE0, 0x0009);
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const MAX_FRAGMENTS: usize = 1 << 20;

/// For each frame, in order, the `(offset, length)` byte ranges that make it up.
pub type Layout = Vec<Vec<(u64, u64)>>;

#[derive(Debug)]
pub enum LayoutError {
    /// The instance has no pixel data.
    NoPixels,
    /// Valid, but frames can't be cut out of it (bit-packed, unmappable fragments).
    Unsupported(String),
    Corrupt(String),
    Io(io::Error),
}

impl From<io::Error> for LayoutError {
    fn from(e: io::Error) -> Self {
        LayoutError::Io(e)
    }
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::NoPixels => f.write_str("no pixel data"),
            LayoutError::Unsupported(m) | LayoutError::Corrupt(m) => f.write_str(m),
            LayoutError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

/// Counts what the parser consumes, so the offset of Pixel Data's value is known.
struct Counting<R> {
    inner: R,
    pos: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

#[derive(Default)]
struct Header {
    photometric: String,
    rows: u64,
    columns: u64,
    samples: u64,
    bits: u64,
    frames: u64,
    extended_offsets: Vec<u64>,
}

/// Finds every frame of a stored instance whose transfer syntax is `ts_uid`
/// (`native`: uncompressed little endian).
pub fn locate<R: Read + Seek>(mut file: R, ts_uid: &str, native: bool) -> Result<Layout, LayoutError> {
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| LayoutError::Unsupported(format!("unknown transfer syntax {ts_uid}")))?;
    let start = skip_meta(&mut file)?;
    file.seek(SeekFrom::Start(start))?;
    // `length` is `None` for encapsulated pixel data; `bits` overrides Bits
    // Allocated for float pixel data.
    let (header, value_at, length, bits) = {
        let pos = Rc::new(Cell::new(start));
        let counting = Counting { inner: BufReader::with_capacity(32 * 1024, &mut file), pos: pos.clone() };
        let mut tokens = DataSetReader::new_with_ts(counting, ts).map_err(|e| LayoutError::Corrupt(e.to_string()))?;
        let mut header = Header::default();
        let (mut depth, mut pending) = (0usize, None);
        let (length, bits) = loop {
            let token = match tokens.next() {
                None => return Err(LayoutError::NoPixels),
                Some(t) => t.map_err(|e| LayoutError::Corrupt(e.to_string()))?,
            };
            match token {
                // The parser announces encapsulated Pixel Data with this token alone.
                DataToken::PixelSequenceStart if depth == 0 => break (None, None),
                DataToken::SequenceStart { .. } | DataToken::ItemStart { .. } | DataToken::PixelSequenceStart => depth += 1,
                DataToken::SequenceEnd | DataToken::ItemEnd => depth = depth.saturating_sub(1),
                DataToken::ElementHeader(h) if depth == 0 && h.tag == tags::PIXEL_DATA => {
                    break (h.length().get().map(u64::from), None);
                }
                DataToken::ElementHeader(h) if depth == 0 && h.tag == FLOAT_PIXEL_DATA => {
                    break (h.length().get().map(u64::from), Some(32));
                }
                DataToken::ElementHeader(h) if depth == 0 && h.tag == DOUBLE_FLOAT_PIXEL_DATA => {
                    break (h.length().get().map(u64::from), Some(64));
                }
                DataToken::ElementHeader(h) => pending = (depth == 0).then_some(h.tag),
                DataToken::PrimitiveValue(v) => {
                    if let Some(tag) = pending.take() {
                        header.keep(tag, &v);
                    }
                }
                _ => {}
            }
        };
        (header, pos.get(), length, bits)
    };
    let frames = header.frames.max(1);
    match (native, length) {
        (true, Some(len)) => native_frames(&header, bits, frames, value_at, len),
        (false, None) => {
            // Back to where the value starts (the parser's buffer read past it).
            file.seek(SeekFrom::Start(value_at))?;
            encapsulated_frames(&mut file, frames, value_at, &header.extended_offsets)
        }
        _ => Err(LayoutError::Corrupt("pixel data encoding doesn't match the transfer syntax".into())),
    }
}

impl Header {
    fn keep(&mut self, tag: Tag, v: &PrimitiveValue) {
        let int = || v.to_int::<u64>().unwrap_or(0);
        match tag {
            tags::PHOTOMETRIC_INTERPRETATION => self.photometric = v.to_str().trim().to_string(),
            tags::ROWS => self.rows = int(),
            tags::COLUMNS => self.columns = int(),
            tags::SAMPLES_PER_PIXEL => self.samples = int(),
            tags::BITS_ALLOCATED => self.bits = int(),
            tags::NUMBER_OF_FRAMES => self.frames = int(),
            EXTENDED_OFFSET_TABLE => {
                self.extended_offsets = match v {
                    PrimitiveValue::U64(xs) => xs.to_vec(),
                    other => other.to_bytes().chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
                }
            }
            _ => {}
        }
    }
}

/// Native frames are consecutive and equally sized. YBR_FULL_422 stores two
/// samples per pixel, not three (PS3.3 C.7.6.3.1.2); 1-bit frames are
/// bit-packed and can only be cut where a frame ends on a byte boundary.
fn native_frames(h: &Header, bits: Option<u64>, frames: u64, value_at: u64, len: u64) -> Result<Layout, LayoutError> {
    let bits = bits.unwrap_or(h.bits);
    let samples = match h.photometric.as_str() {
        "YBR_FULL_422" | "YBR_PARTIAL_422" => 2,
        _ => h.samples.max(1),
    };
    let frame_bits = h.rows * h.columns * samples * bits;
    if frame_bits == 0 {
        return Err(LayoutError::Corrupt("pixel data without Rows, Columns or Bits Allocated".into()));
    }
    if !frame_bits.is_multiple_of(8) && frames > 1 {
        return Err(LayoutError::Unsupported("its bit-packed frames don't end on byte boundaries".into()));
    }
    let size = frame_bits.div_ceil(8);
    if size.saturating_mul(frames) > len {
        return Err(LayoutError::Corrupt("pixel data is shorter than its frames".into()));
    }
    Ok((0..frames).map(|i| vec![(value_at + i * size, size)]).collect())
}

/// Walks the items of encapsulated pixel data (PS3.5 A.4) and groups the
/// fragments into frames: one per frame, or by the (extended) offset table,
/// or all of them for a single frame.
fn encapsulated_frames<R: Read + Seek>(file: &mut R, frames: u64, value_at: u64, extended: &[u64]) -> Result<Layout, LayoutError> {
    let mut pos = value_at;
    let mut offset_table: Option<Vec<u64>> = None;
    // (offset of the item tag relative to the first fragment's, data offset, length)
    let mut fragments: Vec<(u64, u64, u64)> = Vec::new();
    let mut first_item = None;
    loop {
        let mut head = [0u8; 8];
        file.read_exact(&mut head)?;
        let group = u16::from_le_bytes([head[0], head[1]]);
        let element = u16::from_le_bytes([head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as u64;
        if (group, element) == SEQUENCE_END {
            break;
        }
        if (group, element) != ITEM || len == 0xFFFF_FFFF {
            return Err(LayoutError::Corrupt("malformed encapsulated pixel data".into()));
        }
        if offset_table.is_none() {
            let mut table = vec![0u8; len.min(8 * 1024 * 1024) as usize];
            file.read_exact(&mut table)?;
            offset_table = Some(table.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")) as u64).collect());
            pos += 8 + len;
            file.seek(SeekFrom::Start(pos))?;
            continue;
        }
        let base = *first_item.get_or_insert(pos);
        fragments.push((pos - base, pos + 8, len));
        if fragments.len() > MAX_FRAGMENTS {
            return Err(LayoutError::Corrupt("too many fragments".into()));
        }
        pos += 8 + len;
        file.seek(SeekFrom::Start(pos))?;
    }
    let n = frames as usize;
    let ranges = |f: &[(u64, u64, u64)]| f.iter().map(|&(_, at, len)| (at, len)).collect::<Vec<_>>();
    if fragments.len() == n {
        return Ok(fragments.iter().map(|f| ranges(std::slice::from_ref(f))).collect());
    }
    if n == 1 {
        return Ok(vec![ranges(&fragments)]);
    }
    let table: Vec<u64> = if extended.len() == n { extended.to_vec() } else { offset_table.unwrap_or_default() };
    if table.len() != n {
        return Err(LayoutError::Unsupported("fragments can't be assigned to frames (no offset table)".into()));
    }
    Ok((0..n)
        .map(|i| {
            let (from, to) = (table[i], table.get(i + 1).copied().unwrap_or(u64::MAX));
            ranges(&fragments.iter().copied().filter(|&(rel, _, _)| rel >= from && rel < to).collect::<Vec<_>>())
        })
        .collect())
}

/// Reads the byte ranges of one frame, in order.
pub fn read_ranges<R: Read + Seek>(mut file: R, ranges: &[(u64, u64)]) -> io::Result<Vec<u8>> {
    let total: u64 = ranges.iter().map(|r| r.1).sum();
    let mut out = Vec::with_capacity(total as usize);
    for &(at, len) in ranges {
        file.seek(SeekFrom::Start(at))?;
        (&mut file).take(len).read_to_end(&mut out)?;
    }
    if out.len() as u64 != total {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(out)
}

