//! Corpus-based checks: documents, character sets, private and nested
//! sequences, UID consistency across files, and the MANIFEST's identifying
//! values absent from every output classified clean.

mod common;

use std::collections::HashMap;

use common::*;
use dicom_core::header::Header;
use dicom_core::Tag;
use studylink_deid::Classification;

#[test]
fn every_document_needs_a_password_and_keeps_its_content() {
    let d = deid(5);
    let files = corpus_files("documents");
    assert!(files.len() >= 9, "documents folder incomplete");
    for path in files {
        let input = std::fs::read(&path).unwrap();
        let out = d.deidentify(&input);
        let name = rel(&path);
        let Classification::NeedsPassword { reason } = &out.classification else {
            panic!("{name}: {:?}", out.classification)
        };
        let o = open(out.output.as_ref().unwrap());
        let i = dicom_object::OpenFileOptions::new().open_file(&path).ok();
        if name.contains("pdf") || name.contains("stl") {
            assert!(reason.contains("encapsulated"), "{name}: {reason}");
            let doc_out = o.get(Tag(0x0042, 0x0011)).unwrap().to_bytes().unwrap().into_owned();
            let doc_in = i.as_ref().unwrap().get(Tag(0x0042, 0x0011)).unwrap().to_bytes().unwrap().into_owned();
            assert_eq!(doc_out, doc_in, "{name}: document bytes must be kept intact");
        } else {
            assert!(reason.contains("structured report") || reason.contains("key object"), "{name}: {reason}");
            assert!(o.get(Tag(0x0040, 0xA730)).is_some(), "{name}: content sequence kept");
        }
        // Headers are still de-identified.
        assert_eq!(get(&o, (0x0012, 0x0062)).unwrap(), "YES");
        assert!(get(&o, (0x0010, 0x0010)).is_none_or(|v| v.is_empty() || v == "ANONYMOUS^PATIENT"), "{name}");
    }
}

#[test]
fn character_sets_are_read_and_written_as_utf8_without_the_names() {
    let d = deid(6);
    for path in corpus_files("charsets") {
        let input = std::fs::read(&path).unwrap();
        let name = rel(&path);
        let src = dicom_object::OpenFileOptions::new().open_file(&path).unwrap();
        let pn = src.get(Tag(0x0010, 0x0010)).and_then(|e| e.to_str().ok()).map(|s| s.into_owned()).unwrap_or_default();
        let out = d.deidentify(&input);
        let bytes = out.output.as_ref().unwrap_or_else(|| panic!("{name}: {:?}", out.classification));
        let o = open(bytes);
        assert_eq!(get(&o, (0x0008, 0x0005)).unwrap(), "ISO_IR 192", "{name}");
        if !pn.is_empty() {
            assert_eq!(get(&o, (0x0010, 0x0010)).unwrap(), "ANONYMOUS^PATIENT", "{name}");
        }
        // Every part of the original name, as decoded and in UTF-8, is gone.
        for part in pn.split(['^', '=', ' ']).map(str::trim).filter(|p| p.chars().count() >= 2 && !p.is_ascii()) {
            assert!(!find(bytes, part.as_bytes()), "{name}: a name part survived");
        }
        // Non-patient text that was kept decodes as valid UTF-8 throughout.
        for e in o.iter() {
            if let Ok(s) = e.to_str() {
                assert!(!s.contains('\u{FFFD}') || e.header().tag.0 % 2 == 1, "{name}: ({:04X},{:04X})", e.tag().0, e.tag().1);
            }
        }
    }
}

#[test]
fn nested_private_sequences_are_removed_at_every_depth() {
    let d = deid(8);
    for path in corpus_files("private_and_nested") {
        let name = rel(&path);
        let out = d.deidentify(&std::fs::read(&path).unwrap());
        let Some(bytes) = &out.output else { continue };
        let o = open(bytes);
        fn walk(obj: &dicom_object::mem::InMemDicomObject, name: &str, depth: usize) {
            for e in obj.iter() {
                let t = e.tag();
                assert!(t.0 % 2 == 0, "{name}: private ({:04X},{:04X}) at depth {depth}", t.0, t.1);
                if let Some(items) = e.items() {
                    for item in items {
                        walk(item, name, depth + 1);
                    }
                }
            }
        }
        walk(&o, &name, 0);
        assert!(out.report.actions.get("X_private").copied().unwrap_or(0) > 0, "{name}: no private attribute counted");
    }
}

#[test]
fn the_same_input_uid_maps_to_the_same_output_uid_across_files_and_shares_differ() {
    // The small MR test image exists in several transfer syntaxes: same
    // instance, same study, same frame of reference.
    let names = ["mr/mr_small_evrle.dcm", "mr/mr_small_implicit.dcm", "mr/mr_small_bigendian.dcm", "mr/mr_small_rle.dcm"];
    let d = deid(11);
    let mut seen: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for n in names {
        let src = dicom_object::OpenFileOptions::new().open_file(corpus().join(n)).unwrap();
        let out = d.deidentify(&corpus_file(n));
        let o = open(out.output.as_ref().unwrap());
        for (label, tag) in [("sop", (0x0008, 0x0018)), ("study", (0x0020, 0x000D)), ("series", (0x0020, 0x000E)), ("for", (0x0020, 0x0052))] {
            let input_uid = get(&src, tag);
            let expect = input_uid.as_deref().map(|u| d.map_uid(u));
            assert_eq!(get(&o, tag), expect, "{n} {label}");
            seen.entry(label).or_default().push(get(&o, tag));
        }
    }
    for (label, v) in seen {
        assert!(v.windows(2).all(|w| w[0] == w[1]), "{label} differs across copies of one instance");
    }
    let a = deid(11).deidentify(&corpus_file(names[0])).new_sop_instance_uid;
    let b = deid(12).deidentify(&corpus_file(names[0])).new_sop_instance_uid;
    assert_ne!(a, b);
}

/// Identifying values the MANIFEST lists for a file (PN, PID, DOB, Inst, Acc).
fn manifest_values(column: &str) -> Vec<String> {
    let mut out = Vec::new();
    for field in column.split("; ") {
        let Some((key, value)) = field.split_once('=') else { continue };
        let value = value.trim().trim_matches('"');
        if value.is_empty() || value == "absent" || value == "NONE" {
            continue;
        }
        match key.trim() {
            "PN" => out.extend(
                value
                    .split(['^', ' '])
                    .filter(|p| p.len() >= 4 && !["ANONYMOUS", "ANONYMIZED", "PATIENT", "NAME"].contains(&p.to_uppercase().as_str()))
                    .map(str::to_string),
            ),
            "PID" | "Acc" if value.len() >= 5 => out.push(value.to_string()),
            "DOB" if value.len() == 8 => out.push(value.to_string()),
            "Inst" if value.len() >= 5 && !value.contains('*') => out.push(value.to_string()),
            _ => {}
        }
    }
    out
}

#[test]
fn clean_outputs_hold_none_of_the_manifest_identifying_values() {
    let d = deid(13);
    let mut checked = 0;
    for (path, column) in manifest() {
        let full = corpus().join(&path);
        if !full.is_file() {
            continue;
        }
        let out = d.deidentify(&std::fs::read(&full).unwrap());
        if out.classification != Classification::Clean {
            continue;
        }
        let bytes = out.output.unwrap();
        // Pixel data is the pixel module's concern and holds random byte runs:
        // check the bytes before it.
        let o = open(&bytes);
        let header_end = o.get(Tag(0x7FE0, 0x0010)).map_or(bytes.len(), |_| {
            bytes.windows(4).rposition(|w| w == [0xE0, 0x7F, 0x10, 0x00]).unwrap_or(bytes.len())
        });
        // Manufacturer is kept by design; a site named after its vendor isn't a leak.
        let manufacturer = dicom_object::OpenFileOptions::new()
            .open_file(&full)
            .ok()
            .and_then(|i| get(&i, (0x0008, 0x0070)))
            .unwrap_or_default()
            .to_uppercase();
        for v in manifest_values(&column).into_iter().filter(|v| manufacturer.is_empty() || !manufacturer.contains(&v.to_uppercase())) {
            assert!(!find_token(&bytes[..header_end], v.as_bytes()), "{path}: a MANIFEST identifying value survived");
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} clean files checked");
}
