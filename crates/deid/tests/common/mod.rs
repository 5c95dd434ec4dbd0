//! Shared helpers for the de-identification tests: the corpus, parsing outputs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dicom_object::{DefaultDicomObject, OpenFileOptions};
use studylink_deid::{Deidentifier, Profile, ShareKeys};

/// The real DICOM corpus: `$STUDYLINK_CORPUS`, else `../shared/corpus` beside the repository.
pub fn corpus() -> PathBuf {
    let p = std::env::var("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        p.join("MANIFEST.tsv").exists(),
        "DICOM corpus not found at {}: set STUDYLINK_CORPUS to the folder holding MANIFEST.tsv",
        p.display()
    );
    p
}

pub fn corpus_file(rel: &str) -> Vec<u8> {
    let p = corpus().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// Every file of a corpus folder (or of the whole corpus with ""), sorted.
pub fn corpus_files(folder: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(corpus().join(folder))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            !matches!(name.as_str(), "MANIFEST.tsv" | "README.md" | "SHA256SUMS")
                && !p.components().any(|c| c.as_os_str() == "_licences_and_provenance")
        })
        .collect();
    v.sort();
    v
}

pub fn rel(p: &Path) -> String {
    p.strip_prefix(corpus()).unwrap_or(p).display().to_string()
}

pub fn deid(secret: u8) -> Deidentifier {
    Deidentifier::new(Profile::default(), ShareKeys::from_secret([secret; 32]))
}

pub fn deid_with(profile: Profile, secret: u8) -> Deidentifier {
    Deidentifier::new(profile, ShareKeys::from_secret([secret; 32]))
}

/// Parses an output with dicom-object (as an independent reader would).
pub fn open(bytes: &[u8]) -> DefaultDicomObject {
    OpenFileOptions::new().from_reader(&bytes[128..]).expect("output must parse as Part 10")
}

pub fn find(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// MANIFEST.tsv rows: (relative path, burned-in / PHI-like column).
pub fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = header.iter().position(|h| h.starts_with("burned_in_annotation")).unwrap();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f.get(col).unwrap_or(&"").to_string())
        })
        .collect()
}

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::mem::{InMemDicomObject, InMemElement};
use dicom_object::meta::FileMetaTableBuilder;

pub fn el(tag: (u16, u16), vr: VR, v: &str) -> InMemElement {
    DataElement::new(Tag(tag.0, tag.1), vr, PrimitiveValue::from(v))
}

pub fn sq(tag: (u16, u16), items: Vec<Vec<InMemElement>>) -> InMemElement {
    let items: Vec<InMemDicomObject> = items.into_iter().map(InMemDicomObject::from_element_iter).collect();
    DataElement::new(Tag(tag.0, tag.1), VR::SQ, DataSetSequence::new(items, Length::UNDEFINED))
}

/// A small CT object with typical identifying attributes; `extra` adds or replaces elements.
pub fn ct_object(sop_instance: &str, extra: Vec<InMemElement>) -> Vec<u8> {
    let mut obj = InMemDicomObject::from_element_iter([
        el((0x0008, 0x0016), VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
        el((0x0008, 0x0018), VR::UI, sop_instance),
        el((0x0008, 0x0020), VR::DA, "20210315"),
        el((0x0008, 0x0022), VR::DA, "20210315"),
        el((0x0008, 0x0030), VR::TM, "101500"),
        el((0x0008, 0x0050), VR::SH, "ACC998877"),
        el((0x0008, 0x0060), VR::CS, "CT"),
        el((0x0008, 0x0070), VR::LO, "ACME"),
        el((0x0008, 0x0080), VR::LO, "Mercy Riverside Infirmary"),
        el((0x0008, 0x0090), VR::PN, "Whitfield^Gregory"),
        el((0x0008, 0x1010), VR::SH, "CTROOM7"),
        el((0x0008, 0x1030), VR::LO, "CT chest Kowalczyk 2021-03-15"),
        el((0x0010, 0x0010), VR::PN, "Kowalczyk^Jadwiga"),
        el((0x0010, 0x0020), VR::LO, "MRN4455667"),
        el((0x0010, 0x0030), VR::DA, "19480923"),
        el((0x0010, 0x0040), VR::CS, "F"),
        el((0x0010, 0x1010), VR::AS, "072Y"),
        el((0x0010, 0x1040), VR::LO, "12 Quarry Lane, Dunmore"),
        el((0x0010, 0x2154), VR::SH, "555-0142-77"),
        el((0x0018, 0x1000), VR::LO, "SN-77120"),
        el((0x0018, 0x0050), VR::DS, "1.25"),
        el((0x0020, 0x000D), VR::UI, "1.2.826.0.1.3680043.99.1"),
        el((0x0020, 0x000E), VR::UI, "1.2.826.0.1.3680043.99.1.2"),
        el((0x0020, 0x0052), VR::UI, "1.2.826.0.1.3680043.99.1.3"),
        el((0x0020, 0x0013), VR::IS, "1"),
        DataElement::new(Tag(0x0028, 0x0002), VR::US, PrimitiveValue::from(1u16)),
        el((0x0028, 0x0004), VR::CS, "MONOCHROME2"),
        DataElement::new(Tag(0x0028, 0x0010), VR::US, PrimitiveValue::from(2u16)),
        DataElement::new(Tag(0x0028, 0x0011), VR::US, PrimitiveValue::from(2u16)),
        DataElement::new(Tag(0x0028, 0x0100), VR::US, PrimitiveValue::from(8u16)),
        DataElement::new(Tag(0x0028, 0x0101), VR::US, PrimitiveValue::from(8u16)),
        DataElement::new(Tag(0x0028, 0x0102), VR::US, PrimitiveValue::from(7u16)),
        DataElement::new(Tag(0x0028, 0x0103), VR::US, PrimitiveValue::from(0u16)),
        el((0x0028, 0x0301), VR::CS, "NO"),
        DataElement::new(Tag(0x7FE0, 0x0010), VR::OB, PrimitiveValue::U8(vec![1, 2, 3, 4].into())),
    ]);
    for e in extra {
        obj.put(e);
    }
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
        .media_storage_sop_instance_uid(sop_instance)
        .transfer_syntax("1.2.840.10008.1.2.1")
        .build()
        .unwrap();
    let mut out = Vec::new();
    obj.with_exact_meta(meta).write_all(&mut out).unwrap();
    out
}

/// The string value of `tag` at the top level of an output, trimmed.
pub fn get(obj: &DefaultDicomObject, tag: (u16, u16)) -> Option<String> {
    obj.get(Tag(tag.0, tag.1)).map(|e| e.to_str().map(|s| s.trim_end_matches(['\0', ' ']).to_string()).unwrap_or_default())
}

/// `needle` as a whole token (no letter or digit on either side), ASCII case-insensitive.
pub fn find_token(hay: &[u8], needle: &[u8]) -> bool {
    let n = needle.len();
    n > 0
        && hay.windows(n).enumerate().any(|(i, w)| {
            w.eq_ignore_ascii_case(needle)
                && (i == 0 || !hay[i - 1].is_ascii_alphanumeric())
                && (i + n == hay.len() || !hay[i + n].is_ascii_alphanumeric())
        })
}
