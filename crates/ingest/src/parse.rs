//! Reads what the index needs from a DICOM Part 10 file without loading its
//! pixel data, and rejects files that other parts of the system would choke on.
//!
//! The data set is walked as a token stream (iterative, so a maliciously deep
//! sequence can't overflow the stack), keeping only top-level values of the tags
//! the index uses. Element lengths are checked against the bytes left in the file
//! before anything is read, so a header claiming 3 GB costs nothing.

use std::cell::Cell;
use std::fs::File;
use std::rc::Rc;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use dicom_core::header::Length;
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_parser::dataset::{DataSetReader, DataToken};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use studylink_model::{InstanceInfo, InstanceMeta, PatientInfo, SeriesInfo, StudyInfo};

use crate::contacts::extract_contacts;
use crate::IngestError;

/// Sequences nested deeper than this are refused. Real objects (SR trees
/// included) stay far below; the corpus has a file that crashes DCMTK with more.
const MAX_DEPTH: usize = 64;

/// The result of parsing one file.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub meta: InstanceMeta,
    /// Byte offset where the data set (after the file meta group) starts.
    pub dataset_offset: u64,
}

/// Counts the bytes the decoder has consumed. The decoder reads exactly what it
/// parses (the read-ahead buffer sits below this), so after it yields an
/// element header the count is the offset of that element's value.
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

/// Tags whose top-level values we keep (besides the contact tags).
const WANTED: &[Tag] = &[
    tags::SOP_CLASS_UID,
    tags::SOP_INSTANCE_UID,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::ISSUER_OF_PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::STUDY_ID,
    tags::ACCESSION_NUMBER,
    tags::STUDY_DATE,
    tags::STUDY_TIME,
    tags::STUDY_DESCRIPTION,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::MODALITY,
    tags::SERIES_NUMBER,
    tags::SERIES_DESCRIPTION,
    tags::INSTANCE_NUMBER,
    tags::NUMBER_OF_FRAMES,
    tags::ROWS,
    tags::COLUMNS,
    tags::SAMPLES_PER_PIXEL,
    tags::BITS_ALLOCATED,
    tags::PHOTOMETRIC_INTERPRETATION,
];

#[derive(Default)]
struct Values(Vec<(Tag, String)>);

impl Values {
    fn get(&self, tag: Tag) -> Option<String> {
        self.0
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }
    fn int(&self, tag: Tag) -> Option<i64> {
        self.get(tag).and_then(|v| v.split('\\').next()?.trim().parse().ok())
    }
}

/// Parses `path`, a complete DICOM Part 10 file. `contact_tags` are the tags
/// scanned for patient phone numbers and emails.
pub fn parse_file(path: &Path, contact_tags: &[Tag]) -> Result<ParsedFile, IngestError> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut reader = BufReader::with_capacity(64 * 1024, file);

    let mut head = [0u8; 132];
    let got = read_up_to(&mut reader, &mut head)?;
    check_magic(&head[..got])?;

    let file_meta = read_meta(&mut reader)?;
    let ts_uid = file_meta.transfer_syntax.clone();
    if ts_uid.is_empty() {
        return Err(IngestError::Malformed("file meta information has no Transfer Syntax UID (0002,0010)".into()));
    }
    let ts = TransferSyntaxRegistry
        .get(&ts_uid)
        .ok_or_else(|| IngestError::Malformed(format!("unknown transfer syntax {ts_uid}")))?;
    let dataset_offset = reader.stream_position()?;

    let mut values = Values::default();
    let mut contact_values: Vec<(Tag, String)> = Vec::new();
    // Deflated Explicit VR Little Endian and JPIP Referenced Deflate compress the
    // whole data set.
    let deflated = matches!(ts.uid(), "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.4.95");

    let has_pixels;
    let position = Rc::new(Cell::new(dataset_offset));
    let counting = Counting { inner: reader, pos: position.clone() };
    if deflated {
        // Positions inside a deflated stream say nothing about the file, so
        // the length check is relaxed to a sane bound on inflated size.
        const MAX_INFLATED: u64 = 1 << 30;
        let inflated = flate2::read::DeflateDecoder::new(counting).take(MAX_INFLATED);
        let inner_pos = Rc::new(Cell::new(0));
        let explicit_le = TransferSyntaxRegistry
            .get("1.2.840.10008.1.2.1")
            .expect("Explicit VR Little Endian is always registered");
        let tokens = DataSetReader::new_with_ts(Counting { inner: inflated, pos: inner_pos.clone() }, explicit_le)
            .map_err(|e| IngestError::Malformed(format!("cannot decode data set: {}", short(&e))))?;
        has_pixels = walk(tokens, &inner_pos, MAX_INFLATED, &mut values, &mut contact_values, contact_tags)?;
    } else {
        let tokens = DataSetReader::new_with_ts(counting, ts)
            .map_err(|e| IngestError::Malformed(format!("cannot decode data set: {}", short(&e))))?;
        has_pixels = walk(tokens, &position, file_len, &mut values, &mut contact_values, contact_tags)?;
    }

    let mut meta = build_meta(&values, &contact_values, &ts_uid, &file_meta)?;
    if !has_pixels {
        // Rows without pixels (a worklist-like stub, an SR with image
        // attributes): nothing to show, so no frames.
        meta.instance.frames = 0;
    }
    Ok(ParsedFile { meta, dataset_offset })
}

/// Walks the token stream, keeping wanted top-level values; stops at the
/// top-level Pixel Data after checking its length. Returns whether the object
/// has pixel data (integer, float or double).
fn walk<S>(
    mut tokens: DataSetReader<S>,
    position: &Rc<Cell<u64>>,
    end: u64,
    values: &mut Values,
    contact_values: &mut Vec<(Tag, String)>,
    contact_tags: &[Tag],
) -> Result<bool, IngestError>
where
    DataSetReader<S>: Iterator<Item = dicom_parser::dataset::read::Result<DataToken>>,
{
    let mut depth = 0usize;
    let mut has_pixels = false;
    let mut pending: Option<Tag> = None;
    loop {
        let token = match tokens.next() {
            None if depth > 0 => {
                return Err(IngestError::Malformed(
                    "the file ends inside a sequence or the encapsulated pixel data (truncated?)".into(),
                ));
            }
            None => return Ok(has_pixels),
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                return Err(IngestError::Malformed(format!("cannot parse data set: {}", short(&e))));
            }
        };
        match token {
            DataToken::SequenceStart { .. } | DataToken::ItemStart { .. } => {
                depth += 1;
                if depth > MAX_DEPTH * 2 {
                    return Err(IngestError::Malformed(format!("sequences nested deeper than {MAX_DEPTH} levels")));
                }
            }
            DataToken::PixelSequenceStart => {
                // Encapsulated (compressed) pixel data has no element header
                // token; keep walking so truncated fragments are still caught.
                has_pixels |= depth == 0;
                depth += 1;
            }
            DataToken::SequenceEnd | DataToken::ItemEnd => depth = depth.saturating_sub(1),
            DataToken::ElementHeader(h) => {
                let pos = position.get();
                if let Length(len) = h.len
                    && len != u32::MAX
                    && pos + len as u64 > end
                {
                    return Err(IngestError::Malformed(format!(
                        "element ({:04X},{:04X}) claims {} bytes but the file ends {} bytes later (truncated?)",
                        h.tag.0,
                        h.tag.1,
                        len,
                        end - pos.min(end)
                    )));
                }
                if depth == 0 && h.tag == tags::PIXEL_DATA {
                    return check_native_pixel_length(values, h.len.0, h.vr).map(|()| true);
                }
                if depth == 0 && (h.tag == tags::FLOAT_PIXEL_DATA || h.tag == tags::DOUBLE_FLOAT_PIXEL_DATA) {
                    return Ok(true);
                }
                pending = (depth == 0 && (WANTED.contains(&h.tag) || contact_tags.contains(&h.tag))).then_some(h.tag);
            }
            DataToken::PrimitiveValue(v) => {
                if let Some(tag) = pending.take() {
                    keep(tag, &v, values, contact_values, contact_tags);
                }
            }
            DataToken::ItemValue(_) | DataToken::OffsetTable(_) => {}
        }
    }
}

fn keep(
    tag: Tag,
    v: &dicom_core::PrimitiveValue,
    values: &mut Values,
    contact_values: &mut Vec<(Tag, String)>,
    contact_tags: &[Tag],
) {
    // A value read as VR UN (or OB) arrives as raw bytes: the index wants its text.
    let text = match v {
        dicom_core::PrimitiveValue::U8(bytes) => clean(&String::from_utf8_lossy(bytes)),
        other => clean(&other.to_str()),
    };
    if contact_tags.contains(&tag) {
        contact_values.push((tag, text.clone()));
    }
    if WANTED.contains(&tag) {
        values.0.push((tag, text));
    }
}

/// DICOM pads with spaces and NULs; devices add stray whitespace too.
fn clean(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\0').to_string()
}

fn check_native_pixel_length(values: &Values, len: u32, _vr: VR) -> Result<(), IngestError> {
    if len == u32::MAX {
        return Ok(()); // encapsulated: fragments are checked as they are read
    }
    let rows = values.int(tags::ROWS).unwrap_or(0);
    let cols = values.int(tags::COLUMNS).unwrap_or(0);
    let frames = values.int(tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1);
    let spp = values.int(tags::SAMPLES_PER_PIXEL).unwrap_or(1).max(1);
    let bits = values.int(tags::BITS_ALLOCATED).unwrap_or(8).max(1);
    if rows <= 0 || cols <= 0 {
        // Nothing to check against (e.g. a private or incomplete image module).
        return Ok(());
    }
    // 4:2:2 subsampled YCbCr carries two samples per pixel, not three.
    let photometric = values.get(tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default();
    let spp = if photometric.ends_with("_422") { 2 } else { spp };
    let bits_total = (rows as u128) * (cols as u128) * (frames as u128) * (spp as u128) * (bits as u128);
    let expected = bits_total.div_ceil(8);
    if (len as u128) < expected {
        return Err(IngestError::Malformed(format!(
            "pixel data holds {len} bytes but Rows × Columns × frames × samples × bits needs {expected}"
        )));
    }
    Ok(())
}

fn build_meta(
    values: &Values,
    contact_values: &[(Tag, String)],
    ts_uid: &str,
    fm: &MetaInfo,
) -> Result<InstanceMeta, IngestError> {
    let or_meta = |tag: Tag, from_meta: &str, name: &'static str| {
        values
            .get(tag)
            .or_else(|| (!from_meta.is_empty()).then(|| from_meta.to_string()))
            .ok_or(IngestError::Missing(name))
    };
    let sop_uid = or_meta(tags::SOP_INSTANCE_UID, &fm.sop_instance_uid, "SOPInstanceUID (0008,0018)")?;
    let sop_class_uid = or_meta(tags::SOP_CLASS_UID, &fm.sop_class_uid, "SOPClassUID (0008,0016)")?;
    let patient = PatientInfo {
        patient_id: values.get(tags::PATIENT_ID),
        issuer: values.get(tags::ISSUER_OF_PATIENT_ID),
        name: values.get(tags::PATIENT_NAME),
        birth_date: values.get(tags::PATIENT_BIRTH_DATE),
        sex: values.get(tags::PATIENT_SEX),
    };
    // Study and Series Instance UIDs are Type 1, yet real objects (old SRs,
    // screen captures) lack them. Refusing them would lose the patient's data;
    // instead the index files them under stable derived UIDs, so instances that
    // share patient, date and accession still land in one study. The stored
    // file is never changed.
    let study_uid = values.get(tags::STUDY_INSTANCE_UID).unwrap_or_else(|| {
        derived_uid(&[
            "study",
            &patient.key(),
            &values.get(tags::STUDY_DATE).unwrap_or_default(),
            &values.get(tags::ACCESSION_NUMBER).unwrap_or_default(),
            &values.get(tags::STUDY_ID).unwrap_or_default(),
        ])
    });
    let series_uid = values.get(tags::SERIES_INSTANCE_UID).unwrap_or_else(|| {
        derived_uid(&[
            "series",
            &study_uid,
            &values.get(tags::MODALITY).unwrap_or_default(),
            &values.get(tags::SERIES_NUMBER).unwrap_or_default(),
        ])
    });
    let frames = match values.int(tags::NUMBER_OF_FRAMES) {
        Some(n) if n > 0 => n,
        _ if values.get(tags::ROWS).is_some() => 1,
        _ => 0,
    };
    Ok(InstanceMeta {
        patient,
        study: StudyInfo {
            study_uid,
            study_id: values.get(tags::STUDY_ID),
            accession: values.get(tags::ACCESSION_NUMBER),
            date: values.get(tags::STUDY_DATE),
            time: values.get(tags::STUDY_TIME),
            description: values.get(tags::STUDY_DESCRIPTION),
            referring_physician: values.get(tags::REFERRING_PHYSICIAN_NAME),
        },
        series: SeriesInfo {
            series_uid,
            modality: values.get(tags::MODALITY),
            number: values.int(tags::SERIES_NUMBER),
            description: values.get(tags::SERIES_DESCRIPTION),
        },
        instance: InstanceInfo {
            sop_uid,
            sop_class_uid,
            transfer_syntax: ts_uid.to_string(),
            number: values.int(tags::INSTANCE_NUMBER),
            frames,
            rows: values.int(tags::ROWS),
            columns: values.int(tags::COLUMNS),
        },
        contacts: extract_contacts(contact_values),
    })
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn check_magic(head: &[u8]) -> Result<(), IngestError> {
    if head.starts_with(&[0x1f, 0x8b]) {
        return Err(IngestError::NotDicom("this is a gzip-compressed file; decompress it and send the .dcm inside".into()));
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err(IngestError::NotDicom("this is a ZIP archive; upload it on the upload page or unpack it first".into()));
    }
    if head.len() < 132 || &head[128..132] != b"DICM" {
        return Err(IngestError::NotDicom(
            "no DICM prefix at byte 128: a DICOM Part 10 file (preamble + file meta information) is required".into(),
        ));
    }
    Ok(())
}

/// Error texts from the parser can be long; keep the first line, bounded.
fn short(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    let line = s.lines().next().unwrap_or("");
    line.chars().take(200).collect()
}


/// The parts of the file meta group we use.
#[derive(Debug, Default)]
struct MetaInfo {
    transfer_syntax: String,
    sop_class_uid: String,
    sop_instance_uid: String,
}

/// Reads the file meta group (always Explicit VR Little Endian) element by
/// element. dicom-object's reader refuses files whose meta values exceed their
/// VR's length (e.g. an 18-character Source AE Title), which real devices write
/// and other archives accept; we only need three UIDs from it.
fn read_meta<R: Read + Seek>(r: &mut R) -> Result<MetaInfo, IngestError> {
    const MAX_META: u64 = 64 * 1024;
    let start = r.stream_position()?;
    let mut info = MetaInfo::default();
    let bad = |what: &str| IngestError::Malformed(format!("unreadable file meta information: {what}"));
    loop {
        let pos = r.stream_position()?;
        if pos - start > MAX_META {
            return Err(bad("file meta group longer than 64 KiB"));
        }
        let mut head = [0u8; 8];
        if read_up_to(r, &mut head)? < 8 {
            return Err(bad("file ends inside the file meta group"));
        }
        let group = u16::from_le_bytes([head[0], head[1]]);
        if group != 0x0002 {
            r.seek(std::io::SeekFrom::Start(pos))?;
            break;
        }
        let elem = u16::from_le_bytes([head[2], head[3]]);
        let vr = [head[4], head[5]];
        if !vr.iter().all(u8::is_ascii_uppercase) {
            return Err(bad("not encoded in Explicit VR Little Endian"));
        }
        let len = if matches!(&vr, b"OB" | b"OW" | b"OF" | b"OD" | b"OL" | b"OV" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR" | b"SV" | b"UV") {
            let mut l = [0u8; 4];
            if read_up_to(r, &mut l)? < 4 {
                return Err(bad("file ends inside the file meta group"));
            }
            u32::from_le_bytes(l) as u64
        } else {
            u16::from_le_bytes([head[6], head[7]]) as u64
        };
        if len > MAX_META {
            return Err(bad("element too long"));
        }
        let mut value = vec![0u8; len as usize];
        if read_up_to(r, &mut value)? < value.len() {
            return Err(bad("file ends inside the file meta group"));
        }
        let text = || String::from_utf8_lossy(&value).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string();
        match elem {
            0x0002 => info.sop_class_uid = text(),
            0x0003 => info.sop_instance_uid = text(),
            0x0010 => info.transfer_syntax = text(),
            _ => {}
        }
    }
    Ok(info)
}

/// A UID under the 2.25 (UUID) root derived from `parts`, stable across runs.
fn derived_uid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let n = u128::from_be_bytes(d[..16].try_into().expect("16 bytes")) >> 2;
    format!("2.25.{n}")
}
