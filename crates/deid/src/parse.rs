//! Lenient, bounded reading of a DICOM file into an in-memory object.
//!
//! The token stream is built into objects here rather than by dicom-object so
//! that nesting depth is bounded (a malicious 100,000-level sequence must not
//! overflow the stack), element lengths are checked against the bytes left
//! before anything is allocated (a header claiming 3 GB costs nothing), and
//! files without file meta information can still be read.
//!
//! Error texts never quote element values: they may be patient data.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use dicom_core::header::{HasLength, Header, Length};
use dicom_core::value::{PixelFragmentSequence, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::mem::{InMemDicomObject, InMemElement};
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::DefaultDicomObject;
use dicom_parser::dataset::read::DataSetReaderOptions;
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::meta::{read_meta, sniff_transfer_syntax, MetaValues};

pub const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
pub const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";
pub const EXPLICIT_VR_BE: &str = "1.2.840.10008.1.2.2";
const DEFLATED: &[&str] = &["1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95", "1.2.840.10008.1.2.4.204"];

/// Real objects (deep SR trees included) stay far below this.
pub const MAX_DEPTH: usize = 48;
/// Bound on an inflated (deflate transfer syntax) data set.
const MAX_INFLATED: u64 = 2 << 30;

/// What was read: the object plus facts about the input's encoding.
pub struct Parsed {
    pub obj: DefaultDicomObject,
    /// The transfer syntax the data set was read with.
    pub transfer_syntax: String,
    /// The input had no usable file meta information; the syntax was guessed.
    pub meta_missing: bool,
    /// Set when the top-level Pixel Data was not read into `obj`: the byte
    /// range of the whole element (header included) in the input.
    pub raw_pixels: Option<std::ops::Range<usize>>,
}

/// Reads everything, pixel data included.
pub fn parse(input: &[u8]) -> Result<Parsed, String> {
    parse_with(input, false)
}

/// Reads the header only when it can: the top-level Pixel Data is located,
/// not read, so it can be copied to the output as it is. Falls back to a
/// full read for deflated data sets and when anything but padding, private
/// attributes or signatures follows the pixel data.
pub fn parse_header(input: &[u8]) -> Result<Parsed, String> {
    parse_with(input, true)
}

fn parse_with(input: &[u8], split: bool) -> Result<Parsed, String> {
    if input.starts_with(&[0x1f, 0x8b]) {
        return Err("gzip-compressed data, not a DICOM file (decompress it first)".into());
    }
    let (meta_start, has_magic) = if input.len() >= 132 && &input[128..132] == b"DICM" {
        (132, true)
    } else if input.starts_with(b"DICM") {
        (4, true)
    } else {
        (0, false)
    };
    let (mut meta, mut ds_start) = if has_magic { read_meta(input, meta_start)? } else { (MetaValues::default(), 0) };
    if has_magic && ds_start == meta_start && meta_start == 132 && input.get(..2) == Some(&[0x08, 0x00]) {
        // "DICM" at offset 128 by chance, inside a bare data set that starts at 0.
        meta = MetaValues::default();
        ds_start = 0;
    }
    if ds_start >= input.len() {
        return Err("the file has no data set after the file meta information".into());
    }
    let declared = meta.transfer_syntax.clone();
    let (ts_uid, meta_missing) = match declared {
        Some(ts) if !ts.is_empty() => (ts, false),
        _ => (sniff_transfer_syntax(&input[ds_start..])?, true),
    };
    let ts = TransferSyntaxRegistry.get(&ts_uid).ok_or_else(|| {
        format!("unknown transfer syntax {}", sanitize_uid(&ts_uid))
    })?;

    let data = &input[ds_start..];
    let inflated;
    let (data, ts) = if DEFLATED.contains(&ts_uid.as_str()) {
        let mut buf = Vec::new();
        flate2::read::DeflateDecoder::new(data)
            .take(MAX_INFLATED)
            .read_to_end(&mut buf)
            .map_err(|_| "the deflated data set cannot be inflated".to_string())?;
        inflated = buf;
        (&inflated[..], TransferSyntaxRegistry.get(EXPLICIT_VR_LE).expect("always registered"))
    } else {
        (data, ts)
    };
    let mut raw_pixels = None;
    let mut header_only = None;
    if split && !DEFLATED.contains(&ts_uid.as_str()) {
        let (elements, pixels) = read_until_pixels(data, ts, DataSetReaderOptions::default()).unwrap_or_default();
        if let Some(range) = pixels
            && let Some(end) = pixel_element_end(data, ts, range.clone())
            && tail_is_disposable(&data[end..], ts)
        {
            raw_pixels = Some(ds_start + range.start..ds_start + end);
            header_only = Some(elements);
        }
    }
    let elements = match header_only {
        Some(e) => e,
        None => read_all(data, ts)?,
    };
    let obj = InMemDicomObject::from_element_iter(elements);
    if !obj.iter().any(|e| e.tag().0 >= 0x0008) && raw_pixels.is_none() {
        return Err("no DICOM data set found: no attributes".into());
    }

    let sop_class = meta.sop_class.clone().or_else(|| top_str(&obj, Tag(0x0008, 0x0016))).unwrap_or_default();
    let sop_instance =
        meta.sop_instance.clone().or_else(|| top_str(&obj, Tag(0x0008, 0x0018))).unwrap_or_default();
    let file_meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(if sop_class.is_empty() { "1.2.840.10008.5.1.4.1.1.7".into() } else { sop_class })
        .media_storage_sop_instance_uid(if sop_instance.is_empty() { "2.25.0".into() } else { sop_instance })
        .transfer_syntax(ts_uid.clone())
        .implementation_class_uid(crate::IMPLEMENTATION_CLASS_UID)
        .build()
        .map_err(|_| "cannot build file meta information".to_string())?;
    Ok(Parsed { obj: obj.with_exact_meta(file_meta), transfer_syntax: ts_uid, meta_missing, raw_pixels })
}

/// Some writers declare explicit VR and write implicit VR: if the declared
/// encoding fails, the decoder probes the real one.
fn read_all(data: &[u8], ts: &dicom_encoding::TransferSyntax) -> Result<Vec<InMemElement>, String> {
    match read_elements(data, ts, DataSetReaderOptions::default()) {
        Ok(e) => Ok(e),
        Err(first) => {
            let mut opts = DataSetReaderOptions::default();
            opts.flexible_decoding = true;
            read_elements(data, ts, opts).map_err(|_| first)
        }
    }
}

/// Reads up to the top-level Pixel Data; returns its element's range
/// (header included, value end only known for native data: see `pixel_element_end`).
fn read_until_pixels(
    data: &[u8],
    ts: &dicom_encoding::TransferSyntax,
    opts: DataSetReaderOptions,
) -> Result<(Vec<InMemElement>, Option<std::ops::Range<usize>>), String> {
    let pos = Rc::new(Cell::new(0u64));
    let reader = Counting { inner: data, pos: pos.clone() };
    let tokens = DataSetReader::new_with_ts_options(reader, ts, opts)
        .map_err(|e| format!("cannot decode data set: {}", safe_error(&e)))?;
    let mut b =
        Builder { tokens, pos, end: data.len() as u64, stop_at_pixels: true, pixels: None, explicit: ts.uid().trim_end_matches(char::from(0)) != IMPLICIT_VR_LE };
    let elements = b.dataset(0, false)?;
    Ok((elements, b.pixels))
}

/// The end of the Pixel Data element whose value starts at `range.end`
/// (`range.start..range.end` is its header), walking fragments when encapsulated.
fn pixel_element_end(data: &[u8], ts: &dicom_encoding::TransferSyntax, range: std::ops::Range<usize>) -> Option<usize> {
    let header = &data[range.clone()];
    let big = ts.endianness() == dicom_encoding::transfer_syntax::Endianness::Big;
    let u32_at = |b: &[u8]| -> u32 {
        let a: [u8; 4] = b.try_into().unwrap();
        if big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
    };
    let u16_at = |b: &[u8]| -> u16 {
        let a: [u8; 2] = b.try_into().unwrap();
        if big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) }
    };
    let len = u32_at(&header[header.len() - 4..]);
    if len != u32::MAX {
        if len % 2 == 1 {
            // Odd length (invalid): a full read lets the encoder pad it.
            return None;
        }
        let end = range.end.checked_add(len as usize)?;
        return (end <= data.len()).then_some(end);
    }
    let mut p = range.end;
    loop {
        let item = data.get(p..p + 8)?;
        let (g, e, l) = (u16_at(&item[0..2]), u16_at(&item[2..4]), u32_at(&item[4..8]));
        match (g, e) {
            (0xFFFE, 0xE0DD) => return Some(p + 8),
            (0xFFFE, 0xE000) if l != u32::MAX => p = p.checked_add(8 + l as usize)?,
            _ => return None,
        }
    }
}

/// Whether what follows the pixel data is only what de-identification removes
/// anyway (padding, private groups, signatures), so the output may end with
/// the pixel data copied as it is.
fn tail_is_disposable(tail: &[u8], ts: &dicom_encoding::TransferSyntax) -> bool {
    if tail.is_empty() {
        return true;
    }
    match read_elements(tail, ts, DataSetReaderOptions::default()) {
        Ok(elements) => elements.iter().all(|e| {
            let g = e.header().tag.0;
            g % 2 == 1 || g >= 0xFFFA
        }),
        Err(_) => false,
    }
}

/// Parses a data set encoded with `ts` from `data` (used for values read as UN, too).
pub fn read_elements(
    data: &[u8],
    ts: &dicom_encoding::TransferSyntax,
    opts: DataSetReaderOptions,
) -> Result<Vec<InMemElement>, String> {
    let pos = Rc::new(Cell::new(0u64));
    let reader = Counting { inner: data, pos: pos.clone() };
    let tokens = DataSetReader::new_with_ts_options(reader, ts, opts)
        .map_err(|e| format!("cannot decode data set: {}", safe_error(&e)))?;
    let mut b =
        Builder { tokens, pos, end: data.len() as u64, stop_at_pixels: false, pixels: None, explicit: ts.uid().trim_end_matches(char::from(0)) != IMPLICIT_VR_LE };
    b.dataset(0, false)
}

fn top_str(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let v = obj.get(tag)?.to_str().ok()?;
    let v = v.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!v.is_empty()).then(|| v.to_string())
}

struct Counting<R> {
    inner: R,
    pos: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos.set(self.pos.get() + n as u64);
        Ok(n)
    }
}

struct Builder<I> {
    tokens: I,
    pos: Rc<Cell<u64>>,
    end: u64,
    /// Stop at the top-level Pixel Data, recording its header's byte range.
    stop_at_pixels: bool,
    pixels: Option<std::ops::Range<usize>>,
    explicit: bool,
}

impl<I> Builder<I>
where
    I: Iterator<Item = dicom_parser::dataset::read::Result<DataToken>>,
{
    fn next(&mut self) -> Result<Option<DataToken>, String> {
        match self.tokens.next() {
            None => Ok(None),
            Some(Ok(t)) => Ok(Some(t)),
            Some(Err(e)) => Err(format!(
                "cannot parse data set near byte {}: {}",
                self.pos.get(),
                safe_error(&e)
            )),
        }
    }

    fn dataset(&mut self, depth: usize, in_item: bool) -> Result<Vec<InMemElement>, String> {
        let mut out = Vec::new();
        loop {
            let Some(token) = self.next()? else {
                if in_item {
                    return Err("the file ends inside a sequence item (truncated?)".into());
                }
                return Ok(out);
            };
            let top_pixels = depth == 0
                && !in_item
                && self.stop_at_pixels
                && match &token {
                    DataToken::ElementHeader(h) => h.tag == Tag(0x7FE0, 0x0010) && h.len.is_defined(),
                    DataToken::PixelSequenceStart => true,
                    _ => false,
                };
            if top_pixels {
                // The header has just been read: explicit VR OB/OW headers are
                // 12 bytes, implicit VR ones 8.
                let value_start = self.pos.get() as usize;
                let header_len = if self.explicit { 12 } else { 8 };
                self.pixels = Some(value_start.saturating_sub(header_len)..value_start);
                return Ok(out);
            }
            match token {
                DataToken::ElementHeader(h) => {
                    let remaining = self.end.saturating_sub(self.pos.get());
                    if let Length(len) = h.len
                        && len != u32::MAX
                        && u64::from(len) > remaining
                    {
                        return Err(format!(
                            "element ({:04X},{:04X}) claims {} bytes but only {} remain (truncated?)",
                            h.tag.0, h.tag.1, len, remaining
                        ));
                    }
                    match self.next()? {
                        Some(DataToken::PrimitiveValue(v)) => out.push(DataElement::new(h.tag, h.vr, v)),
                        _ => {
                            return Err(format!("element ({:04X},{:04X}) has no value", h.tag.0, h.tag.1));
                        }
                    }
                }
                DataToken::SequenceStart { tag, len } => {
                    if depth + 1 > MAX_DEPTH {
                        return Err(format!("sequences nested deeper than {MAX_DEPTH} levels"));
                    }
                    if let Length(l) = len
                        && l != u32::MAX
                        && u64::from(l) > self.end.saturating_sub(self.pos.get())
                    {
                        return Err(format!("sequence ({:04X},{:04X}) is longer than the file", tag.0, tag.1));
                    }
                    let items = self.sequence(depth + 1)?;
                    out.push(DataElement::new(tag, VR::SQ, Value::new_sequence(items, Length::UNDEFINED)));
                }
                DataToken::PixelSequenceStart => {
                    let value = self.fragments()?;
                    out.push(DataElement::new(Tag(0x7FE0, 0x0010), VR::OB, value));
                }
                DataToken::ItemEnd if in_item => return Ok(out),
                other => {
                    return Err(format!("unexpected {} in the data set", token_kind(&other)));
                }
            }
        }
    }

    fn sequence(&mut self, depth: usize) -> Result<Vec<InMemDicomObject>, String> {
        let mut items = Vec::new();
        loop {
            match self.next()? {
                None => return Err("the file ends inside a sequence (truncated?)".into()),
                Some(DataToken::ItemStart { .. }) => {
                    let elements = self.dataset(depth, true)?;
                    items.push(InMemDicomObject::from_element_iter(elements));
                }
                Some(DataToken::SequenceEnd) => return Ok(items),
                Some(other) => return Err(format!("unexpected {} in a sequence", token_kind(&other))),
            }
        }
    }

    fn fragments(&mut self) -> Result<Value<InMemDicomObject, Vec<u8>>, String> {
        let mut offsets = None;
        let mut fragments: Vec<Vec<u8>> = Vec::new();
        loop {
            match self.next()? {
                None => return Err("the file ends inside the encapsulated pixel data (truncated?)".into()),
                Some(DataToken::OffsetTable(t)) => offsets = Some(t),
                Some(DataToken::ItemValue(v)) => fragments.push(v),
                Some(DataToken::ItemStart { len }) => {
                    if let Length(l) = len
                        && l != u32::MAX
                        && u64::from(l) > self.end.saturating_sub(self.pos.get())
                    {
                        return Err("a pixel data fragment is longer than the file (truncated?)".into());
                    }
                }
                Some(DataToken::ItemEnd) => {
                    if offsets.is_none() {
                        offsets = Some(Vec::new());
                    }
                }
                Some(DataToken::SequenceEnd) => break,
                Some(other) => {
                    return Err(format!("unexpected {} in the encapsulated pixel data", token_kind(&other)));
                }
            }
        }
        Ok(Value::PixelSequence(PixelFragmentSequence::new(offsets.unwrap_or_default(), fragments)))
    }
}

fn token_kind(t: &DataToken) -> &'static str {
    match t {
        DataToken::ElementHeader(_) => "element header",
        DataToken::SequenceStart { .. } => "sequence start",
        DataToken::PixelSequenceStart => "pixel sequence start",
        DataToken::SequenceEnd => "sequence delimiter",
        DataToken::ItemStart { .. } => "item start",
        DataToken::ItemEnd => "item delimiter",
        DataToken::PrimitiveValue(_) => "value",
        DataToken::ItemValue(_) => "item value",
        DataToken::OffsetTable(_) => "offset table",
    }
}

/// A library error's text with anything that could quote data removed.
pub fn safe_error(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let cut = s.find(['"', '\'', '[', '{', '`']).unwrap_or(s.len());
    let mut s: String = s[..cut].chars().filter(|c| !c.is_control()).take(160).collect();
    while s.ends_with([' ', ':', '(']) {
        s.pop();
    }
    s
}

fn sanitize_uid(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit() || *c == '.').take(64).collect()
}

/// Length of an element's value as encoded (for pixel data: fragments and item headers).
pub fn encoded_len(e: &InMemElement) -> u64 {
    match e.value() {
        Value::PixelSequence(seq) => {
            let frags: u64 = seq.fragments().iter().map(|f| 8 + f.len() as u64).sum();
            frags + 8 + 4 * seq.offset_table().len() as u64 + 8
        }
        _ => e.length().get().map(u64::from).unwrap_or(0).max(e.value().length().get().map(u64::from).unwrap_or(0)),
    }
}
