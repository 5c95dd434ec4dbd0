//! Reading stored Part 10 files: local blobs as files, remote ones as a stream
//! (forward-only, never buffered whole), and the data set found without
//! trusting the file meta group's parser.
//!
//! Why not `dicom_object::open_file`: it refuses file meta groups that ingest
//! accepts (e.g. an Implementation Version Name over 16 characters). We walk
//! the meta group ourselves and hand dicom-object a clean one built from the
//! index row, so every instance we accepted can be read back.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::PathBuf;

use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions, Tag};
use futures::TryStreamExt;
use studylink_store::{BlobStore, InstanceRow};
use tokio_util::io::{StreamReader, SyncIoBridge};

/// Reading stops before Float Pixel Data (7FE0,0008), which precedes Pixel
/// Data, so no kind of pixel data is loaded with the header.
pub const HEADER_END: Tag = Tag(0x7FE0, 0x0008);

/// A blob about to be read on a blocking thread.
pub enum Blob {
    Path(PathBuf),
    Stream(Box<dyn Read + Send>),
}

impl Blob {
    /// Must be called from async context (a remote stream is bridged to the runtime).
    pub async fn open(blobs: &BlobStore, key: &str) -> io::Result<Blob> {
        if let Some(path) = blobs.local_path(key) {
            return Ok(Blob::Path(path));
        }
        let stream = blobs.get_stream(key).await.map_err(io::Error::other)?.map_err(io::Error::other);
        Ok(Blob::Stream(Box::new(SyncIoBridge::new(StreamReader::new(stream)))))
    }

    /// Blocking: opens the file.
    pub fn source(self) -> io::Result<Source> {
        Ok(match self {
            Blob::Path(p) => Source::File(File::open(p)?),
            Blob::Stream(r) => Source::Stream(Forward::new(r)),
        })
    }
}

pub enum Source {
    File(File),
    Stream(Forward),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
            Source::Stream(s) => s.read(buf),
        }
    }
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Source::File(f) => f.seek(to),
            Source::Stream(s) => s.seek(to),
        }
    }
}

/// A stream made seekable: forwards by discarding, backwards within the last
/// [`REWIND`] bytes (what a parser's read-ahead buffer may have taken).
pub struct Forward {
    inner: Box<dyn Read + Send>,
    /// Position of the next byte `read` returns.
    pos: u64,
    /// The most recent bytes pulled from `inner`, ending at `end`.
    history: VecDeque<u8>,
    end: u64,
}

const REWIND: usize = 256 * 1024;

impl Forward {
    fn new(inner: Box<dyn Read + Send>) -> Self {
        Forward { inner, pos: 0, history: VecDeque::new(), end: 0 }
    }
}

impl Read for Forward {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.end {
            // Replaying after a backward seek.
            let back = (self.end - self.pos) as usize;
            let start = self.history.len() - back;
            let n = back.min(buf.len());
            for (i, b) in self.history.range(start..start + n).enumerate() {
                buf[i] = *b;
            }
            self.pos += n as u64;
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        self.history.extend(&buf[..n]);
        let excess = self.history.len().saturating_sub(REWIND);
        self.history.drain(..excess);
        self.pos += n as u64;
        self.end = self.pos;
        Ok(n)
    }
}

impl Seek for Forward {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(_) => None,
        }
        .ok_or_else(|| io::Error::other("unsupported seek on a stream"))?;
        if target < self.end.saturating_sub(self.history.len() as u64) {
            return Err(io::Error::other("a stream can't seek that far back"));
        }
        if target <= self.end {
            self.pos = target;
            return Ok(target);
        }
        self.pos = self.end;
        let gap = target - self.end;
        io::copy(&mut (&mut *self).take(gap), &mut io::sink())?;
        if self.pos != target {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(target)
    }
}

/// Where the data set starts: after the preamble, `DICM` and the file meta
/// group (always explicit VR little endian), walked element by element rather
/// than trusting its group length.
pub fn skip_meta<R: Read + Seek>(file: &mut R) -> io::Result<u64> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_string());
    file.seek(SeekFrom::Start(128))?;
    let mut magic = [0u8; 4];
    file.read_exact(&mut magic)?;
    if &magic != b"DICM" {
        return Err(bad("no DICM prefix"));
    }
    let mut pos = 132u64;
    loop {
        let mut head = Vec::with_capacity(8);
        (&mut *file).take(8).read_to_end(&mut head)?;
        if head.len() < 8 || u16::from_le_bytes([head[0], head[1]]) != 0x0002 {
            return Ok(pos);
        }
        let long = matches!(&head[4..6], b"OB" | b"OW" | b"OF" | b"OD" | b"OL" | b"OV" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR" | b"SV" | b"UV");
        let len = if long {
            let mut l = [0u8; 4];
            file.read_exact(&mut l)?;
            pos += 12;
            u32::from_le_bytes(l) as u64
        } else {
            pos += 8;
            u16::from_le_bytes([head[6], head[7]]) as u64
        };
        if len == 0xFFFF_FFFF {
            return Err(bad("undefined length in the file meta group"));
        }
        pos += len;
        file.seek(SeekFrom::Start(pos))?;
    }
}

/// A minimal, valid file meta group (with `DICM`) for `row`.
fn clean_meta(row: &InstanceRow) -> Vec<u8> {
    fn element(out: &mut Vec<u8>, elem: u16, vr: &[u8; 2], value: &[u8]) {
        let mut v = value.to_vec();
        if v.len() % 2 == 1 {
            v.push(0);
        }
        out.extend_from_slice(&0x0002u16.to_le_bytes());
        out.extend_from_slice(&elem.to_le_bytes());
        out.extend_from_slice(vr);
        if vr == b"OB" {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(v.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(&v);
    }
    let mut group = Vec::new();
    element(&mut group, 0x0001, b"OB", &[0, 1]);
    element(&mut group, 0x0002, b"UI", row.sop_class_uid.as_bytes());
    element(&mut group, 0x0003, b"UI", row.sop_uid.as_bytes());
    element(&mut group, 0x0010, b"UI", row.transfer_syntax.as_bytes());
    let mut out = b"DICM".to_vec();
    element(&mut out, 0x0000, b"UL", &(group.len() as u32).to_le_bytes());
    out.extend_from_slice(&group);
    out
}

/// The header of a stored instance, up to (not including) any pixel data.
/// Blocking.
pub fn read_header(mut source: Source, row: &InstanceRow) -> anyhow::Result<InMemDicomObject> {
    let start = skip_meta(&mut source)?;
    source.seek(SeekFrom::Start(start))?;
    let stream = Cursor::new(clean_meta(row)).chain(source);
    let obj = OpenFileOptions::new().read_until(HEADER_END).read_preamble(ReadPreamble::Never).from_reader(stream)?;
    Ok(obj.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicomweb::pixel_layout;

    /// A stream that hands out a few bytes at a time, like a network would.
    struct Trickle(Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(7);
            self.0.read(&mut buf[..n])
        }
    }

    fn stream(data: Vec<u8>) -> Source {
        Source::Stream(Forward::new(Box::new(Trickle(Cursor::new(data)))))
    }

    #[test]
    fn forward_seeks_within_its_window() {
        let data: Vec<u8> = (0..=255u8).cycle().take(REWIND * 2).collect();
        let mut s = stream(data.clone());
        let mut b = [0u8; 4];
        s.seek(SeekFrom::Start(1000)).unwrap();
        s.read_exact(&mut b).unwrap();
        assert_eq!(b, data[1000..1004]);
        s.seek(SeekFrom::Start(10)).unwrap();
        s.read_exact(&mut b).unwrap();
        assert_eq!(b, data[10..14]);
        s.seek(SeekFrom::Start(REWIND as u64 + 2000)).unwrap();
        s.read_exact(&mut b).unwrap();
        assert_eq!(b, data[REWIND + 2000..REWIND + 2004]);
        assert!(s.seek(SeekFrom::Start(10)).is_err(), "beyond the window");
        assert!(s.seek(SeekFrom::Start(data.len() as u64 + 1)).is_err(), "past the end");
    }

    fn corpus(rel: &str) -> Option<Vec<u8>> {
        let root = std::env::var("STUDYLINK_CORPUS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").to_string());
        std::fs::read(format!("{root}/{rel}")).ok()
    }

    #[test]
    fn streams_read_like_files() {
        let cases = [
            ("mr/mr_small_evrle.dcm", "1.2.840.10008.1.2.1", true),
            ("other_modalities/nm_mf_13f_heart.dcm", "1.2.840.10008.1.2.1", true),
            ("ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm", "1.2.840.10008.1.2.4.50", false),
            ("secondary_capture/sc_rgb_rle_ai_report_milvue.dcm", "1.2.840.10008.1.2.5", false),
        ];
        for (rel, ts, native) in cases {
            let Some(data) = corpus(rel) else { return };
            let from_file = pixel_layout::locate(Cursor::new(data.clone()), ts, native).unwrap();
            let from_stream = pixel_layout::locate(stream(data.clone()), ts, native).unwrap();
            assert_eq!(from_file, from_stream, "{rel}");
            let frame = pixel_layout::read_ranges(stream(data.clone()), &from_file[0]).unwrap();
            let (at, len) = from_file[0][0];
            assert_eq!(&frame[..len as usize], &data[at as usize..(at + len) as usize], "{rel}");
            let row = studylink_store::InstanceRow {
                id: studylink_model::InstanceId(1),
                study_uid: "1.2".into(),
                series_uid: "1.2".into(),
                sop_uid: "1.2.3".into(),
                sop_class_uid: "1.2.4".into(),
                transfer_syntax: ts.into(),
                number: None,
                frames: 1,
                rows: None,
                columns: None,
                size_bytes: data.len() as i64,
                blob_key: String::new(),
                received_at: 0,
            };
            let header = read_header(stream(data), &row).unwrap();
            assert!(header.get(dicom_dictionary_std::tags::SOP_INSTANCE_UID).is_some(), "{rel}");
        }
    }
}
