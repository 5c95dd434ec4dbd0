//! Corpus access for tests and examples.
#![allow(dead_code)]

use std::io::{Cursor, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dicom_object::DefaultDicomObject;

pub fn corpus_root() -> PathBuf {
    let root = std::env::var_os("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        root.join("MANIFEST.tsv").is_file(),
        "the DICOM corpus is missing at {}: set STUDYLINK_CORPUS to the folder holding MANIFEST.tsv",
        root.display()
    );
    root
}

pub fn corpus_file(rel: &str) -> PathBuf {
    corpus_root().join(rel)
}

/// Opens a file the way the server gets objects: ingest must accept it, then
/// the data set is read with the values ingest indexed. Files without a file
/// meta group (ingest refuses them) are read as Implicit VR Little Endian, so
/// the renderer is still exercised on their pixels.
pub fn open(path: &Path) -> Result<DefaultDicomObject, String> {
    match studylink_ingest::parse_file(path, &[]) {
        Ok(parsed) => {
            let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
            f.seek(SeekFrom::Start(parsed.dataset_offset)).map_err(|e| e.to_string())?;
            let i = &parsed.meta.instance;
            studylink_imaging::read_dataset(std::io::BufReader::new(f), &i.transfer_syntax, &i.sop_class_uid, &i.sop_uid)
                .map_err(|e| e.to_string())
        }
        Err(e) => {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            let has_dicm = bytes.get(128..132) == Some(b"DICM");
            if has_dicm || path.to_string_lossy().contains("invalid_and_edge") {
                return Err(format!("ingest refuses it: {e}"));
            }
            studylink_imaging::read_dataset(Cursor::new(bytes), "1.2.840.10008.1.2", "1.2.840.10008.5.1.4.1.1.7", "1.2.3")
                .map_err(|e| e.to_string())
        }
    }
}

/// Rows of MANIFEST.tsv as (relative path, column → value).
pub fn manifest() -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(corpus_root().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split('\t').map(String::from).collect();
    lines.map(|l| header.iter().cloned().zip(l.split('\t').map(String::from)).collect()).collect()
}
