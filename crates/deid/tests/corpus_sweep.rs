//! Every corpus file: an outcome and never a panic; every output that is
//! classified clean parses and holds none of its input's identifying values.

mod common;

use common::*;
use studylink_deid::Classification;

#[test]
fn every_corpus_file_gets_an_outcome_and_clean_outputs_leak_nothing() {
    let d = deid(7);
    let mut summary = Vec::new();
    for path in corpus_files("") {
        let input = std::fs::read(&path).unwrap();
        let out = d.deidentify(&input);
        let name = rel(&path);
        summary.push(format!("{:<16} {:<70} {}", out.classification.as_str(), name, out.classification.reason().unwrap_or("")));
        match &out.classification {
            Classification::Rejected { reason } => {
                assert!(out.output.is_none(), "{name}: rejected but has output");
                assert!(!reason.is_empty(), "{name}: rejected without a reason");
            }
            _ => {
                let bytes = out.output.as_ref().unwrap_or_else(|| panic!("{name}: no output"));
                let obj = open(bytes);
                assert_eq!(
                    obj.element(dicom_dictionary_std::tags::PATIENT_IDENTITY_REMOVED).unwrap().to_str().unwrap().trim(),
                    "YES",
                    "{name}"
                );
                assert_eq!(
                    obj.meta().media_storage_sop_instance_uid().trim_end_matches('\0'),
                    out.new_sop_instance_uid.as_deref().unwrap(),
                    "{name}: meta and data set disagree"
                );
            }
        }
    }
    println!("{}", summary.join("\n"));
}

#[test]
fn copying_pixel_data_unread_or_leaving_it_in_the_input_gives_the_same_bytes_as_reading_it() {
    let d = deid(7);
    let mut split_tails = 0;
    for path in corpus_files("") {
        let input = std::fs::read(&path).unwrap();
        let lazy = d.deidentify(&input);
        let full = d.deidentify_full_read(&input);
        let name = rel(&path);
        assert_eq!(lazy.classification, full.classification, "{name}");
        assert!(lazy.output == full.output, "{name}: outputs differ");
        // The split output, joined, is the same file.
        let split = d.deidentify_split(&input);
        assert_eq!(split.classification, lazy.classification, "{name}");
        assert_eq!(split.report.verification, lazy.report.verification, "{name}");
        let tail = split.tail.clone();
        split_tails += usize::from(tail.is_some());
        let joined = split.output.map(|mut head| {
            if let Some(t) = tail {
                head.extend_from_slice(&input[t]);
            }
            head
        });
        assert!(joined == lazy.output, "{name}: split output differs");
    }
    assert!(split_tails > 20, "only {split_tails} outputs left their pixel data in the input");
}
