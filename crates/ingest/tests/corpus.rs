//! Every broken file in the corpus gets its expected outcome, and every real
//! file that is a complete Part 10 object parses.

use std::path::PathBuf;

use studylink_ingest::{parse_file, IngestError, DEFAULT_CONTACT_TAGS};

fn corpus() -> PathBuf {
    let p = std::env::var("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(p.join("MANIFEST.tsv").exists(), "corpus not found at {}: set STUDYLINK_CORPUS", p.display());
    p
}

enum Expect {
    /// Stored: the header is sound even if the pixel stream is not (an archive
    /// keeps what the device sent; rendering reports its own errors).
    Stored,
    /// Refused with this error kind and a reason containing this text.
    Refused(&'static str, &'static str),
}
use Expect::*;

const INVALID: &[(&str, Expect)] = &[
    ("bad_sequence_un_implicit.dcm", Stored),
    ("bad_vr.dcm", Stored),
    ("ct_bigendian_undefined_length_broken.dcm", Refused("malformed", "cannot parse data set")),
    ("deeply_nested_sequence.dcm", Refused("malformed", "nested deeper than 64")),
    ("empty_charset.dcm", Refused("missing_attribute", "SOPInstanceUID")),
    ("gzipped_mr.dcm.gz", Refused("not_dicom", "gzip")),
    ("j2k_embedded_sequence_delimiter.dcm", Stored),
    ("j2k_pixelrep_mismatch.dcm", Stored),
    ("j2k_too_short.dcm", Refused("malformed", "ends inside a sequence or the encapsulated pixel data")),
    ("jpeg_lossless_bad_stream.dcm", Stored),
    ("meta_missing_transfer_syntax.dcm", Refused("malformed", "no Transfer Syntax UID")),
    ("no_meta_explicit_big_endian.dcm", Refused("not_dicom", "Part 10")),
    ("no_meta_explicit_little_endian.dcm", Refused("not_dicom", "Part 10")),
    ("no_preamble_dicm_in_data.dcm", Refused("malformed", "no Transfer Syntax UID")),
    ("no_preamble_no_meta_ct.dcm", Refused("not_dicom", "Part 10")),
    ("not_dicom_bad.dcm", Refused("malformed", "file ends inside the file meta group")),
    ("oob_dimensions_46341.dcm", Refused("malformed", "pixel data holds 9330 bytes")),
    ("oob_dimensions_65535.dcm", Refused("malformed", "pixel data holds 256 bytes")),
    ("sr_wrong_vr_0040A170.dcm", Refused("malformed", "cannot parse data set")),
    ("truncated_3gb_bulk_header.dcm", Refused("malformed", "claims 3221225472 bytes")),
    ("truncated_mid_element_rtplan.dcm", Refused("malformed", "claims 50 bytes")),
    ("truncated_pixel_data.dcm", Refused("malformed", "claims 8192 bytes")),
];

#[test]
fn every_invalid_and_edge_file_has_its_expected_outcome() {
    let dir = corpus().join("invalid_and_edge");
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, INVALID.len(), "a file in invalid_and_edge/ has no expected outcome here");
    let mut wrong = Vec::new();
    for (name, expect) in INVALID {
        let got = parse_file(&dir.join(name), DEFAULT_CONTACT_TAGS);
        let ok = match (expect, &got) {
            (Stored, Ok(_)) => true,
            (Refused(kind, text), Err(e)) => e.kind() == *kind && e.to_string().contains(text) && e.is_client_error(),
            _ => false,
        };
        if !ok {
            wrong.push(format!("{name}: got {:?}", got.as_ref().map(|p| &p.meta.instance.sop_uid).map_err(|e| e.to_string())));
        }
    }
    assert!(wrong.is_empty(), "unexpected outcomes:\n{}", wrong.join("\n"));
}

/// Files outside invalid_and_edge are real objects. A few are not Part 10
/// files (no file meta) or hit known limits; everything else must parse.
#[test]
fn real_corpus_files_parse() {
    let refused_on_purpose = [
        // No file meta information: only C-STORE (which supplies it) can bring these in.
        "other_modalities/rtstruct.dcm",
        "private_and_nested/pt_private_mdn_no_meta.dcm",
        "secondary_capture/ot_palette_implicit_no_meta_face.dcm",
        // No SOP Instance UID anywhere, not even in the file meta.
        "private_and_nested/nested_private_sq.dcm",
        // A private sequence with VR UN and undefined length that dicom-rs 0.10
        // mis-decodes (DCMTK reads it as implicit VR, CP-246).
        "private_and_nested/un_private_sequence.dcm",
    ];
    let mut failures = Vec::new();
    let mut parsed = 0;
    for entry in walkdir::WalkDir::new(corpus()).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(corpus()).unwrap().to_string_lossy().to_string();
        if !entry.file_type().is_file() || !rel.contains('/') || rel.starts_with("invalid_and_edge") || rel.starts_with("_licences") {
            continue;
        }
        match parse_file(entry.path(), DEFAULT_CONTACT_TAGS) {
            Ok(p) => {
                parsed += 1;
                assert!(!p.meta.study.study_uid.is_empty() && !p.meta.series.series_uid.is_empty(), "{rel}");
                assert!(p.meta.instance.sop_uid.chars().all(|c| c.is_ascii_digit() || c == '.'), "{rel}: odd SOP UID {:?}", p.meta.instance.sop_uid);
                if refused_on_purpose.contains(&rel.as_str()) {
                    failures.push(format!("{rel}: now parses; update the list"));
                }
            }
            Err(e) if refused_on_purpose.contains(&rel.as_str()) => {
                assert!(e.is_client_error(), "{rel}: {e}");
            }
            Err(e) => failures.push(format!("{rel}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(parsed >= 100, "only {parsed} files parsed");
}

#[test]
fn header_values_and_contacts_are_read() {
    let p = parse_file(&corpus().join("ct/ct_small_evrle_signed16.dcm"), DEFAULT_CONTACT_TAGS).unwrap();
    assert_eq!(p.meta.patient.name.as_deref(), Some("CompressedSamples^CT1"));
    assert_eq!(p.meta.patient.patient_id.as_deref(), Some("1CT1"));
    assert_eq!(p.meta.series.modality.as_deref(), Some("CT"));
    assert_eq!(p.meta.instance.frames, 1);
    assert_eq!(p.meta.instance.rows, Some(128));
    // A 27-frame cine: frames from Number of Frames, pixel data never read.
    let cine = parse_file(&corpus().join("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm"), DEFAULT_CONTACT_TAGS).unwrap();
    assert_eq!(cine.meta.instance.frames, 27);
    assert_eq!(cine.meta.instance.transfer_syntax, "1.2.840.10008.1.2.1");
    // Compressed (encapsulated) pixel data counts too.
    let jpeg = parse_file(&corpus().join("ultrasound/us_jpegbaseline_ybr422_burnedin_atl.dcm"), DEFAULT_CONTACT_TAGS).unwrap();
    assert_eq!(jpeg.meta.instance.frames, 1);
    // Rows and Columns but no Pixel Data: nothing to display, so no frames.
    let stub = parse_file(&corpus().join("charsets/dx_cyrillic_no_pixels.dcm"), DEFAULT_CONTACT_TAGS).unwrap();
    assert!(stub.meta.instance.rows.is_some());
    assert_eq!(stub.meta.instance.frames, 0);
}

#[test]
fn text_is_decoded_with_the_specific_character_set() {
    let p = parse_file(&corpus().join("charsets/chrRuss.dcm"), DEFAULT_CONTACT_TAGS).unwrap();
    let name = p.meta.patient.name.unwrap();
    assert!(name.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)), "expected Cyrillic, got {name:?}");
}

#[test]
fn errors_never_quote_values() {
    // Refusal reasons go to senders and logs; none may contain header values.
    let dir = corpus().join("invalid_and_edge");
    for (name, _) in INVALID {
        if let Err(e) = parse_file(&dir.join(name), DEFAULT_CONTACT_TAGS) {
            let msg = e.to_string();
            assert!(!msg.contains("MERILEES"), "{name}: {msg}");
            let _: &IngestError = &e;
        }
    }
}
