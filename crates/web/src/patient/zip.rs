//! A streaming ZIP writer for the patient's "Download all".
//!
//! Entries are *stored* (images, videos and DICOM files don't compress
//! usefully), their sizes are known before they are written, and their CRC-32
//! is computed while the bytes flow through; a data descriptor after each
//! entry carries it. So nothing is buffered or seeked, and the archive's exact
//! length is known before the first byte is sent ([`archive_len`]), which lets
//! the response carry a `Content-Length` and browsers show progress.
//!
//! ZIP64 records (APPNOTE 6.3.10, sections 4.3.9, 4.3.14–4.3.15, 4.5.3) are
//! written only where a size, an offset or the entry count needs them, so
//! small archives stay plain ZIP that every unzipper opens.
//!
//! The writer does no I/O: it hands back the bytes to send, and the caller
//! feeds it each entry's data ([`ZipWriter::data`]).

use bytes::{BufMut, Bytes, BytesMut};

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// Bit 3: CRC and sizes follow the data in a descriptor. Bit 11: UTF-8 names.
const FLAGS: u16 = 0x0008 | 0x0800;
const VERSION_PLAIN: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// Made by Unix (3), spec 4.5: lets unzip apply the permissions below.
const MADE_BY: u16 = (3 << 8) | VERSION_ZIP64;
/// A regular file, rw-r--r--.
const EXTERNAL_ATTRS: u32 = 0o100644 << 16;

const U32_MAX: u64 = 0xFFFF_FFFF;
const U16_MAX: u64 = 0xFFFF;

/// What differs between archives that must stay readable everywhere and the
/// ones tests write to exercise ZIP64 without writing 4 GiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZipOptions {
    /// ZIP64 records for every entry and the end record, whatever the sizes.
    pub force_zip64: bool,
}

/// Seconds-precision MS-DOS time and date of every entry (local wall clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosTime {
    pub time: u16,
    pub date: u16,
}

impl DosTime {
    /// Years before 1980 can't be written; they become 1980-01-01.
    pub fn from_naive(t: chrono::NaiveDateTime) -> DosTime {
        use chrono::{Datelike, Timelike};
        if t.year() < 1980 {
            return DosTime { time: 0, date: (1 << 5) | 1 };
        }
        let year = (t.year() - 1980).min(127) as u16;
        DosTime {
            time: ((t.hour() as u16) << 11) | ((t.minute() as u16) << 5) | (t.second() as u16 / 2),
            date: (year << 9) | ((t.month() as u16) << 5) | t.day() as u16,
        }
    }
}

/// One finished entry, for the central directory.
struct Written {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
    zip64_local: bool,
}

/// The entry being written.
struct Current {
    name: String,
    size: u64,
    offset: u64,
    written: u64,
    crc: Crc32,
    zip64_local: bool,
}

/// Why the writer refused.
#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("entry data is {got} bytes, {expected} were announced")]
    SizeMismatch { expected: u64, got: u64 },
    #[error("entry name too long")]
    NameTooLong,
    #[error("entries must be started and finished in turn")]
    Sequence,
}

pub struct ZipWriter {
    options: ZipOptions,
    time: DosTime,
    offset: u64,
    done: Vec<Written>,
    current: Option<Current>,
}

impl ZipWriter {
    pub fn new(time: DosTime, options: ZipOptions) -> ZipWriter {
        ZipWriter { options, time, offset: 0, done: Vec::new(), current: None }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The local header of the next entry, which will hold `size` bytes.
    pub fn start_entry(&mut self, name: &str, size: u64) -> Result<Bytes, ZipError> {
        if self.current.is_some() {
            return Err(ZipError::Sequence);
        }
        if name.len() > U16_MAX as usize {
            return Err(ZipError::NameTooLong);
        }
        let zip64 = self.local_zip64(size);
        let mut b = BytesMut::with_capacity(local_header_len(name.len(), zip64) as usize);
        b.put_u32_le(LOCAL_SIG);
        b.put_u16_le(if zip64 { VERSION_ZIP64 } else { VERSION_PLAIN });
        b.put_u16_le(FLAGS);
        b.put_u16_le(0); // stored
        b.put_u16_le(self.time.time);
        b.put_u16_le(self.time.date);
        b.put_u32_le(0); // CRC: in the descriptor
        // Sizes: in the descriptor; 0xFFFFFFFF points to the ZIP64 extra field.
        let size_field = if zip64 { U32_MAX as u32 } else { 0 };
        b.put_u32_le(size_field);
        b.put_u32_le(size_field);
        b.put_u16_le(name.len() as u16);
        b.put_u16_le(if zip64 { 20 } else { 0 });
        b.put_slice(name.as_bytes());
        if zip64 {
            // 4.5.3: the local ZIP64 field holds both sizes (zero here, as bit 3 says).
            b.put_u16_le(ZIP64_EXTRA_ID);
            b.put_u16_le(16);
            b.put_u64_le(0);
            b.put_u64_le(0);
        }
        self.current = Some(Current {
            name: name.to_owned(),
            size,
            offset: self.offset,
            written: 0,
            crc: Crc32::new(),
            zip64_local: zip64,
        });
        self.offset += b.len() as u64;
        Ok(b.freeze())
    }

    /// Counts and checksums a piece of the current entry's data (which the
    /// caller sends as it is).
    pub fn data(&mut self, chunk: &[u8]) -> Result<(), ZipError> {
        let cur = self.current.as_mut().ok_or(ZipError::Sequence)?;
        cur.written += chunk.len() as u64;
        if cur.written > cur.size {
            return Err(ZipError::SizeMismatch { expected: cur.size, got: cur.written });
        }
        cur.crc.update(chunk);
        self.offset += chunk.len() as u64;
        Ok(())
    }

    /// The data descriptor closing the current entry.
    pub fn finish_entry(&mut self) -> Result<Bytes, ZipError> {
        let cur = self.current.take().ok_or(ZipError::Sequence)?;
        if cur.written != cur.size {
            return Err(ZipError::SizeMismatch { expected: cur.size, got: cur.written });
        }
        let crc = cur.crc.finish();
        let mut b = BytesMut::with_capacity(descriptor_len(cur.zip64_local) as usize);
        b.put_u32_le(DESCRIPTOR_SIG);
        b.put_u32_le(crc);
        if cur.zip64_local {
            b.put_u64_le(cur.size);
            b.put_u64_le(cur.size);
        } else {
            b.put_u32_le(cur.size as u32);
            b.put_u32_le(cur.size as u32);
        }
        self.offset += b.len() as u64;
        self.done.push(Written {
            name: cur.name,
            crc,
            size: cur.size,
            offset: cur.offset,
            zip64_local: cur.zip64_local,
        });
        Ok(b.freeze())
    }

    /// The central directory and end records.
    pub fn finish(self) -> Result<Bytes, ZipError> {
        if self.current.is_some() {
            return Err(ZipError::Sequence);
        }
        let force = self.options.force_zip64;
        let cd_offset = self.offset;
        let mut b = BytesMut::new();
        for e in &self.done {
            let big_size = force || e.size >= U32_MAX;
            let big_offset = force || e.offset >= U32_MAX;
            let extra = central_extra_len(big_size, big_offset);
            b.put_u32_le(CENTRAL_SIG);
            b.put_u16_le(MADE_BY);
            b.put_u16_le(if e.zip64_local || extra > 0 { VERSION_ZIP64 } else { VERSION_PLAIN });
            b.put_u16_le(FLAGS);
            b.put_u16_le(0);
            b.put_u16_le(self.time.time);
            b.put_u16_le(self.time.date);
            b.put_u32_le(e.crc);
            let size = if big_size { U32_MAX as u32 } else { e.size as u32 };
            b.put_u32_le(size);
            b.put_u32_le(size);
            b.put_u16_le(e.name.len() as u16);
            b.put_u16_le(extra as u16);
            b.put_u16_le(0); // comment
            b.put_u16_le(0); // disk
            b.put_u16_le(0); // internal attributes
            b.put_u32_le(EXTERNAL_ATTRS);
            b.put_u32_le(if big_offset { U32_MAX as u32 } else { e.offset as u32 });
            b.put_slice(e.name.as_bytes());
            if extra > 0 {
                // 4.5.3: only the fields whose header value is 0xFFFFFFFF, in this order.
                b.put_u16_le(ZIP64_EXTRA_ID);
                b.put_u16_le((extra - 4) as u16);
                if big_size {
                    b.put_u64_le(e.size);
                    b.put_u64_le(e.size);
                }
                if big_offset {
                    b.put_u64_le(e.offset);
                }
            }
        }
        let cd_size = b.len() as u64;
        let count = self.done.len() as u64;
        let end64 = needs_end64(force, count, cd_size, cd_offset);
        if end64 {
            let eocd64_offset = cd_offset + cd_size;
            b.put_u32_le(EOCD64_SIG);
            b.put_u64_le(44); // the record's size after this field
            b.put_u16_le(MADE_BY);
            b.put_u16_le(VERSION_ZIP64);
            b.put_u32_le(0); // this disk
            b.put_u32_le(0); // disk of the central directory
            b.put_u64_le(count);
            b.put_u64_le(count);
            b.put_u64_le(cd_size);
            b.put_u64_le(cd_offset);
            b.put_u32_le(LOCATOR64_SIG);
            b.put_u32_le(0);
            b.put_u64_le(eocd64_offset);
            b.put_u32_le(1); // total disks
        }
        let n16 = if force || count >= U16_MAX { U16_MAX as u16 } else { count as u16 };
        b.put_u32_le(EOCD_SIG);
        b.put_u16_le(0);
        b.put_u16_le(0);
        b.put_u16_le(n16);
        b.put_u16_le(n16);
        b.put_u32_le(if force || cd_size >= U32_MAX { U32_MAX as u32 } else { cd_size as u32 });
        b.put_u32_le(if force || cd_offset >= U32_MAX { U32_MAX as u32 } else { cd_offset as u32 });
        b.put_u16_le(0); // comment
        Ok(b.freeze())
    }

    fn local_zip64(&self, size: u64) -> bool {
        self.options.force_zip64 || size >= U32_MAX
    }
}

fn local_header_len(name_len: usize, zip64: bool) -> u64 {
    30 + name_len as u64 + if zip64 { 20 } else { 0 }
}

fn descriptor_len(zip64: bool) -> u64 {
    if zip64 { 24 } else { 16 }
}

fn central_extra_len(big_size: bool, big_offset: bool) -> u64 {
    let fields = if big_size { 16 } else { 0 } + if big_offset { 8 } else { 0 };
    if fields == 0 { 0 } else { 4 + fields }
}

fn needs_end64(force: bool, count: u64, cd_size: u64, cd_offset: u64) -> bool {
    force || count >= U16_MAX || cd_size >= U32_MAX || cd_offset >= U32_MAX
}

/// The exact length of the archive [`ZipWriter`] writes for these entries
/// (name, size), in this order.
pub fn archive_len<'a>(entries: impl IntoIterator<Item = (&'a str, u64)>, options: ZipOptions) -> u64 {
    let force = options.force_zip64;
    let mut offset = 0u64;
    let mut cd_size = 0u64;
    let mut count = 0u64;
    for (name, size) in entries {
        let zip64 = force || size >= U32_MAX;
        let big_offset = force || offset >= U32_MAX;
        cd_size += 46 + name.len() as u64 + central_extra_len(zip64, big_offset);
        offset += local_header_len(name.len(), zip64) + size + descriptor_len(zip64);
        count += 1;
    }
    let end64 = if needs_end64(force, count, cd_size, offset) { 56 + 20 } else { 0 };
    offset + cd_size + end64 + 22
}

/// CRC-32 (ISO-HDLC, the ZIP polynomial), slice-by-8: about a byte per cycle,
/// so checksumming a 2 GB share costs a couple of seconds of one core.
#[derive(Debug, Clone, Copy)]
pub struct Crc32(u32);

const fn crc_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut s = 1;
        while s < 8 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            s += 1;
        }
        i += 1;
    }
    t
}

static CRC_TABLES: [[u32; 256]; 8] = crc_tables();

impl Default for Crc32 {
    fn default() -> Self {
        Crc32::new()
    }
}

impl Crc32 {
    pub fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    pub fn update(&mut self, data: &[u8]) {
        let t = &CRC_TABLES;
        let mut c = self.0;
        let mut chunks = data.chunks_exact(8);
        for b in &mut chunks {
            let lo = c ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            c = t[7][(lo & 0xFF) as usize]
                ^ t[6][((lo >> 8) & 0xFF) as usize]
                ^ t[5][((lo >> 16) & 0xFF) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][b[4] as usize]
                ^ t[2][b[5] as usize]
                ^ t[1][b[6] as usize]
                ^ t[0][b[7] as usize];
        }
        for &b in chunks.remainder() {
            c = (c >> 8) ^ t[0][((c ^ b as u32) & 0xFF) as usize];
        }
        self.0 = c;
    }

    pub fn finish(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn crc(data: &[u8]) -> u32 {
        let mut c = Crc32::new();
        c.update(data);
        c.finish()
    }

    #[test]
    fn crc32_check_values() {
        assert_eq!(crc(b""), 0);
        assert_eq!(crc(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
        // Split anywhere, same result.
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let whole = crc(&data);
        for split in [1, 7, 8, 9, 4095, 9999] {
            let mut c = Crc32::new();
            c.update(&data[..split]);
            c.update(&data[split..]);
            assert_eq!(c.finish(), whole, "split at {split}");
        }
        // Against the bitwise definition.
        let mut slow = 0xFFFF_FFFFu32;
        for &b in &data {
            slow ^= b as u32;
            for _ in 0..8 {
                slow = if slow & 1 != 0 { 0xEDB8_8320 ^ (slow >> 1) } else { slow >> 1 };
            }
        }
        assert_eq!(whole, !slow);
    }

    #[test]
    fn dos_time() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 3, 14).unwrap().and_hms_opt(15, 9, 27).unwrap();
        let d = DosTime::from_naive(t);
        assert_eq!(d.date, (46 << 9) | (3 << 5) | 14);
        assert_eq!(d.time, (15 << 11) | (9 << 5) | 13);
        let old = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(DosTime::from_naive(old), DosTime { time: 0, date: 33 });
    }

    /// Writes the entries in uneven chunks; returns the archive.
    fn build(entries: &[(&str, Vec<u8>)], options: ZipOptions) -> Vec<u8> {
        let time =
            DosTime::from_naive(chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap().and_hms_opt(3, 4, 6).unwrap());
        let mut w = ZipWriter::new(time, options);
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend_from_slice(&w.start_entry(name, data.len() as u64).unwrap());
            for chunk in data.chunks(1000) {
                w.data(chunk).unwrap();
                out.extend_from_slice(chunk);
            }
            out.extend_from_slice(&w.finish_entry().unwrap());
            assert_eq!(w.offset(), out.len() as u64);
        }
        out.extend_from_slice(&w.finish().unwrap());
        let expected = archive_len(entries.iter().map(|(n, d)| (*n, d.len() as u64)), options);
        assert_eq!(out.len() as u64, expected, "archive_len predicts the real length");
        out
    }

    fn sample() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("index.html", b"<!doctype html><title>x</title>".to_vec()),
            ("images/image-01.jpg", (0..5000u32).map(|i| (i % 251) as u8).collect()),
            ("videos/cine-02.mp4", vec![]),
            ("dicom/image-01.dcm", vec![0x44; 12_345]),
            ("documents/report-03.pdf", b"%PDF-1.4\n%%EOF\n".to_vec()),
        ]
    }

    /// `unzip -t` (Info-ZIP) accepts the archive and lists the entries; and
    /// `unzip -p` gives the bytes back.
    fn check_with_unzip(bytes: &[u8], entries: &[(&str, Vec<u8>)]) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f.flush().unwrap();
        let out = std::process::Command::new("unzip").arg("-t").arg(f.path()).output().expect("unzip is installed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "unzip -t failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("No errors detected"), "{text}");
        for (name, data) in entries {
            assert!(text.contains(name), "{name} missing:\n{text}");
            let got = std::process::Command::new("unzip").arg("-p").arg(f.path()).arg(name).output().unwrap();
            assert_eq!(&got.stdout, data, "{name}");
        }
    }

    #[test]
    fn plain_archive_passes_unzip_t() {
        let entries = sample();
        let bytes = build(&entries, ZipOptions::default());
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        check_with_unzip(&bytes, &entries);
        // The zip crate (another reader) agrees, CRCs included.
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(z.len(), entries.len());
        for (name, data) in &entries {
            let mut f = z.by_name(name).unwrap();
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut got).unwrap();
            assert_eq!(&got, data);
        }
    }

    #[test]
    fn zip64_records_pass_unzip_t() {
        let entries = sample();
        let bytes = build(&entries, ZipOptions { force_zip64: true });
        check_with_unzip(&bytes, &entries);
        let z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(z.len(), entries.len());
    }

    #[test]
    fn empty_archive() {
        let bytes = build(&[], ZipOptions::default());
        assert_eq!(bytes.len(), 22);
        let z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(z.len(), 0);
    }

    #[test]
    fn length_prediction_for_huge_entries() {
        // No data is written: only the arithmetic of sizes and offsets past 4 GiB.
        let five_gb = 5 * 1024 * 1024 * 1024u64;
        let len = archive_len([("a.dcm", five_gb), ("b.dcm", 10)], ZipOptions::default());
        // a: ZIP64 local header (30+5+20) + data + 24-byte descriptor.
        // b: plain header (30+5) + 10 + 16, but its offset is past 4 GiB.
        let a = 55 + five_gb + 24;
        let b = 35 + 10 + 16;
        let cd = (46 + 5 + 20) + (46 + 5 + 12);
        assert_eq!(len, a + b + cd + 56 + 20 + 22);
        // Many small entries: the count alone needs the ZIP64 end record.
        let names: Vec<String> = (0..70_000).map(|i| format!("f{i}")).collect();
        let plain = archive_len(names.iter().take(100).map(|n| (n.as_str(), 1)), ZipOptions::default());
        let many = archive_len(names.iter().map(|n| (n.as_str(), 1)), ZipOptions::default());
        let sum: u64 = names.iter().map(|n| 30 + n.len() as u64 + 1 + 16 + 46 + n.len() as u64).sum();
        assert_eq!(many, sum + 56 + 20 + 22);
        assert!(plain < many);
    }

    #[test]
    fn wrong_sizes_are_refused() {
        let t = DosTime { time: 0, date: 33 };
        let mut w = ZipWriter::new(t, ZipOptions::default());
        w.start_entry("a", 3).unwrap();
        w.data(b"ab").unwrap();
        assert!(matches!(w.finish_entry(), Err(ZipError::SizeMismatch { expected: 3, got: 2 })));
        let mut w = ZipWriter::new(t, ZipOptions::default());
        w.start_entry("a", 1).unwrap();
        assert!(w.data(b"ab").is_err());
        let mut w = ZipWriter::new(t, ZipOptions::default());
        w.start_entry("a", 0).unwrap();
        assert!(w.start_entry("b", 0).is_err(), "one entry at a time");
    }
}
