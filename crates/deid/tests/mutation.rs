//! Property: corrupted real files (bytes flipped, truncated, spliced) never
//! make de-identification panic, and never produce an output without a
//! classification. Bounded number of cases so the suite stays fast.

mod common;

use common::*;
use proptest::prelude::*;
use studylink_deid::Classification;

const SEEDS: &[&str] = &[
    "mr/mr_small_evrle.dcm",
    "mr/mr_small_implicit.dcm",
    "mr/mr_small_bigendian.dcm",
    "charsets/chrSQEncoding.dcm",
    "private_and_nested/nested_private_sq.dcm",
    "private_and_nested/priv_sq_undefined_length.dcm",
    "other_modalities/seg_binary_highdicom.dcm",
    "documents/sr_basic_text_offis.dcm",
];

fn check(input: &[u8]) {
    let out = deid(3).deidentify(input);
    match &out.classification {
        Classification::Rejected { reason } => {
            // deidentify catches panics as a last resort; a caught panic is still a bug.
            assert!(!reason.contains("internal error"), "de-identification panicked");
            assert!(out.output.is_none());
        }
        _ => assert!(out.output.is_some() && out.new_sop_instance_uid.is_some()),
    }
}

proptest! {
    // 256 cases per property by default; PROPTEST_CASES raises it for a longer hunt.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn flipped_bytes_never_panic(seed in 0..SEEDS.len(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12)) {
        let mut data = corpus_file(SEEDS[seed]);
        for (i, b) in flips {
            let i = i.index(data.len());
            data[i] = b;
        }
        check(&data);
    }

    #[test]
    fn truncated_files_never_panic(seed in 0..SEEDS.len(), cut in any::<prop::sample::Index>()) {
        let data = corpus_file(SEEDS[seed]);
        let n = cut.index(data.len());
        check(&data[..n]);
    }

    #[test]
    fn lengths_and_tags_overwritten_never_panic(seed in 0..SEEDS.len(), at in any::<prop::sample::Index>(), word in any::<u32>()) {
        // Four bytes at once: hits element lengths and tags far more often than single flips.
        let mut data = corpus_file(SEEDS[seed]);
        let i = at.index(data.len().saturating_sub(4).max(1));
        let end = (i + 4).min(data.len());
        data[i..end].copy_from_slice(&word.to_le_bytes()[..end - i]);
        check(&data);
    }
}

#[test]
fn every_invalid_corpus_file_gets_a_clear_outcome() {
    for path in corpus_files("invalid_and_edge") {
        let input = std::fs::read(&path).unwrap();
        let out = deid(4).deidentify(&input);
        if let Classification::Rejected { reason } = &out.classification {
            assert!(!reason.contains("internal error"), "{}: panicked", rel(&path));
            assert!(reason.len() > 10, "{}: unclear reason", rel(&path));
        }
    }
}
