//! Each action code of Table E.1-1 and each option, on a synthetic object
//! whose identifying values are known.

mod common;

use common::*;
use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, Tag, VR};
use studylink_deid::{Classification, DateOption, Profile};

const UID: &str = "1.2.826.0.1.3680043.99.1.2.3";

fn run(profile: Profile, extra: Vec<dicom_object::mem::InMemElement>) -> (studylink_deid::Outcome, dicom_object::DefaultDicomObject) {
    let out = deid_with(profile, 3).deidentify(&ct_object(UID, extra));
    let obj = open(out.output.as_ref().expect("output"));
    (out, obj)
}

#[test]
fn basic_profile_applies_d_z_x_u_and_combined_codes() {
    let (out, o) = run(Profile::default(), vec![]);
    assert_eq!(out.classification, Classification::Clean, "{:?}", out.report);
    // D
    assert_eq!(get(&o, (0x0010, 0x0010)).unwrap(), "ANONYMOUS^PATIENT");
    let pid = get(&o, (0x0010, 0x0020)).unwrap();
    assert!(pid.starts_with("SL") && pid != "MRN4455667");
    // Z
    assert_eq!(get(&o, (0x0008, 0x0050)).as_deref(), Some(""));
    assert_eq!(get(&o, (0x0008, 0x0020)).as_deref(), Some(""));
    assert_eq!(get(&o, (0x0010, 0x0030)).as_deref(), Some(""));
    // X
    assert!(get(&o, (0x0010, 0x1040)).is_none(), "address removed");
    assert!(get(&o, (0x0008, 0x1030)).is_none(), "study description removed");
    assert!(get(&o, (0x0010, 0x1010)).is_none(), "age removed");
    // X/Z -> Z, X/Z/D -> Z (not Type 1 here), X/Z/D Device Serial Number -> D (Type 1 in enhanced)
    assert_eq!(get(&o, (0x0008, 0x0022)).as_deref(), Some(""));
    assert_eq!(get(&o, (0x0008, 0x1010)).as_deref(), Some(""));
    assert_eq!(get(&o, (0x0008, 0x0080)).as_deref(), Some(""));
    assert_eq!(get(&o, (0x0018, 0x1000)).as_deref(), Some("ANONYMIZED"));
    // U
    for t in [(0x0008, 0x0018), (0x0020, 0x000D), (0x0020, 0x000E), (0x0020, 0x0052)] {
        let v = get(&o, t).unwrap();
        assert!(v.starts_with("2.25."), "{t:?} = {v}");
    }
    assert_eq!(out.new_sop_instance_uid.as_deref(), get(&o, (0x0008, 0x0018)).as_deref());
    // Kept technical attributes and well-known UIDs
    assert_eq!(get(&o, (0x0008, 0x0016)).unwrap(), "1.2.840.10008.5.1.4.1.1.2");
    assert_eq!(get(&o, (0x0018, 0x0050)).unwrap(), "1.25");
    assert_eq!(get(&o, (0x0008, 0x0070)).unwrap(), "ACME");
    // Marked as de-identified
    assert_eq!(get(&o, (0x0012, 0x0062)).unwrap(), "YES");
    assert_eq!(get(&o, (0x0028, 0x0303)).unwrap(), "REMOVED");
    assert_eq!(get(&o, (0x0008, 0x0005)).unwrap(), "ISO_IR 192");
    let codes = o.get(Tag(0x0012, 0x0064)).unwrap().items().unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].get(Tag(0x0008, 0x0100)).unwrap().to_str().unwrap(), "113100");
    let counts = &out.report.actions;
    for k in ["D", "Z", "X", "U"] {
        assert!(counts.get(k).copied().unwrap_or(0) > 0, "no {k} counted: {counts:?}");
    }
}

#[test]
fn full_dates_keep_and_shifted_dates_move_by_the_share_offset() {
    let full = Profile { retain_dates: DateOption::Full, ..Profile::default() };
    let (_, o) = run(full, vec![]);
    assert_eq!(get(&o, (0x0008, 0x0020)).unwrap(), "20210315");
    assert_eq!(get(&o, (0x0028, 0x0303)).unwrap(), "UNMODIFIED");

    let shift = Profile { retain_dates: DateOption::Shift, ..Profile::default() };
    let (out, o) = run(shift, vec![]);
    let days = studylink_deid::ShareKeys::from_secret([3; 32]).date_shift_days();
    assert!(days != 0);
    let expected = (chrono::NaiveDate::from_ymd_opt(2021, 3, 15).unwrap() + chrono::Duration::days(days.into()))
        .format("%Y%m%d")
        .to_string();
    assert_eq!(get(&o, (0x0008, 0x0020)).unwrap(), expected);
    assert_eq!(get(&o, (0x0028, 0x0303)).unwrap(), "MODIFIED");
    assert!(out.report.options.contains(&"retain_longitudinal_modified_dates".to_string()));
    let codes: Vec<String> = o.get(Tag(0x0012, 0x0064)).unwrap().items().unwrap().iter()
        .map(|i| i.get(Tag(0x0008, 0x0100)).unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["113100", "113107"]);
}

#[test]
fn patient_characteristics_and_device_identity_options_keep_their_rows() {
    let p = Profile { retain_patient_characteristics: true, retain_device_identity: true, ..Profile::default() };
    let (_, o) = run(p, vec![]);
    assert_eq!(get(&o, (0x0010, 0x1010)).unwrap(), "072Y");
    assert_eq!(get(&o, (0x0010, 0x0040)).unwrap(), "F");
    assert_eq!(get(&o, (0x0018, 0x1000)).unwrap(), "SN-77120");
    assert_eq!(get(&o, (0x0008, 0x1010)).unwrap(), "CTROOM7");
    // Patient identity itself is never retained.
    assert_eq!(get(&o, (0x0010, 0x0010)).unwrap(), "ANONYMOUS^PATIENT");
}

#[test]
fn clean_descriptors_keeps_descriptions_without_names_or_dates() {
    let p = Profile { clean_descriptors: true, ..Profile::default() };
    let (out, o) = run(p, vec![]);
    let d = get(&o, (0x0008, 0x1030)).expect("study description kept, cleaned");
    assert!(d.starts_with("CT chest"), "{d}");
    assert!(!d.to_lowercase().contains("kowalczyk") && !d.contains("2021"), "{d}");
    assert_eq!(out.classification, Classification::Clean);
}

#[test]
fn private_overlay_icon_signature_and_unknown_public_attributes_are_removed() {
    let extra = vec![
        el((0x0009, 0x0010), VR::LO, "ACME PRIVATE"),
        el((0x0009, 0x1001), VR::LO, "Kowalczyk secret"),
        sq((0x0029, 0x1010), vec![vec![el((0x0010, 0x0010), VR::PN, "Kowalczyk^Jadwiga"), sq((0x0029, 0x1011), vec![vec![el((0x0029, 0x1012), VR::LO, "deep")]])]]),
        DataElement::new(Tag(0x6000, 0x0010), VR::US, PrimitiveValue::from(2u16)),
        DataElement::new(Tag(0x6000, 0x3000), VR::OW, PrimitiveValue::U8(vec![0; 4].into())),
        el((0x6000, 0x4000), VR::LT, "overlay comment"),
        DataElement::new(Tag(0x5000, 0x3000), VR::OW, PrimitiveValue::U8(vec![0; 4].into())),
        sq((0x0088, 0x0200), vec![vec![DataElement::new(Tag(0x0028, 0x0010), VR::US, PrimitiveValue::from(1u16))]]),
        sq((0xFFFA, 0xFFFA), vec![vec![el((0x0400, 0x0015), VR::CS, "SHA256")]]),
        DataElement::new(Tag(0xFFFC, 0xFFFC), VR::OB, PrimitiveValue::U8(vec![0; 8].into())),
        // Rows newer editions added (not in the 2024b table): removed by the allow-list rule
        el((0x0010, 0x0012), VR::PN, "Jadzia"),
        el((0x0010, 0x0045), VR::LT, "gender identity comment"),
        el((0x0040, 0xB034), VR::LO, "new row"),
    ];
    let (out, o) = run(Profile::default(), extra);
    assert_eq!(out.classification, Classification::Clean, "{:?}", out.report);
    for t in [(0x0009, 0x0010), (0x0009, 0x1001), (0x0029, 0x1010), (0x6000, 0x0010), (0x6000, 0x3000), (0x6000, 0x4000),
        (0x5000, 0x3000), (0x0088, 0x0200), (0xFFFA, 0xFFFA), (0xFFFC, 0xFFFC), (0x0010, 0x0012), (0x0010, 0x0045), (0x0040, 0xB034)]
    {
        assert!(o.get(Tag(t.0, t.1)).is_none(), "({:04X},{:04X}) should be gone", t.0, t.1);
    }
    let bytes = out.output.unwrap();
    for s in ["ACME PRIVATE", "secret", "deep", "overlay comment", "Jadzia", "gender identity"] {
        assert!(!find(&bytes, s.as_bytes()), "{s} leaked");
    }
    assert!(out.report.actions["X_private"] >= 3);
}

#[test]
fn retain_safe_private_keeps_only_listed_numeric_private_attributes() {
    let extra = vec![
        el((0x0019, 0x0010), VR::LO, "SIEMENS MR HEADER"),
        el((0x0019, 0x100C), VR::IS, "1000"),
        el((0x0019, 0x1008), VR::CS, "IMAGE NUM 4"),
        el((0x0029, 0x0010), VR::LO, "SIEMENS CSA HEADER"),
        el((0x0029, 0x1010), VR::LO, "Kowalczyk"),
    ];
    let p = Profile { retain_safe_private: true, ..Profile::default() };
    let (out, o) = run(p, extra);
    assert_eq!(get(&o, (0x0019, 0x100C)).unwrap(), "1000");
    assert_eq!(get(&o, (0x0019, 0x0010)).unwrap(), "SIEMENS MR HEADER");
    assert!(o.get(Tag(0x0019, 0x1008)).is_none());
    assert!(o.get(Tag(0x0029, 0x1010)).is_none());
    assert!(o.get(Tag(0x0029, 0x0010)).is_none());
    assert_eq!(out.classification, Classification::Clean);
}

#[test]
fn references_map_to_the_same_uids_as_the_referenced_objects() {
    let first = ct_object("1.2.826.0.1.3680043.99.1.2.1", vec![]);
    let second = ct_object(
        "1.2.826.0.1.3680043.99.1.2.2",
        vec![sq((0x0008, 0x1140), vec![vec![
            el((0x0008, 0x1150), VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            el((0x0008, 0x1155), VR::UI, "1.2.826.0.1.3680043.99.1.2.1"),
        ]])],
    );
    let d = deid(9);
    let a = d.deidentify(&first);
    let b = d.deidentify(&second);
    let ob = open(b.output.as_ref().unwrap());
    let item = &ob.get(Tag(0x0008, 0x1140)).unwrap().items().unwrap()[0];
    assert_eq!(item.get(Tag(0x0008, 0x1155)).unwrap().to_str().unwrap().trim_end_matches('\0'), a.new_sop_instance_uid.as_deref().unwrap());
    assert_eq!(item.get(Tag(0x0008, 0x1150)).unwrap().to_str().unwrap().trim_end_matches('\0'), "1.2.840.10008.5.1.4.1.1.2");
    let oa = open(a.output.as_ref().unwrap());
    for t in [(0x0020, 0x000D), (0x0020, 0x0052)] {
        assert_eq!(get(&oa, t), get(&ob, t), "study and frame of reference shared");
    }
    assert_eq!(get(&oa, (0x0010, 0x0020)), get(&ob, (0x0010, 0x0020)), "same patient, same pseudonym");
    // Another share: other UIDs, other pseudonym.
    let c = deid(10).deidentify(&first);
    let oc = open(c.output.as_ref().unwrap());
    assert_ne!(c.new_sop_instance_uid, a.new_sop_instance_uid);
    assert_ne!(get(&oc, (0x0020, 0x000D)), get(&oa, (0x0020, 0x000D)));
    assert_ne!(get(&oc, (0x0010, 0x0020)), get(&oa, (0x0010, 0x0020)));
}

#[test]
fn identifying_value_in_a_kept_attribute_fails_verification_without_naming_it() {
    // A technician typed the patient's name into a kept technical attribute.
    let (out, _) = run(Profile::default(), vec![el((0x0008, 0x1090), VR::LO, "Kowalczyk scanner")]);
    match &out.classification {
        Classification::NeedsPassword { reason } => {
            assert!(reason.contains("patient name"), "{reason}");
            assert!(!reason.to_lowercase().contains("kowalczyk"), "{reason}");
        }
        other => panic!("expected needs_password, got {other:?}"),
    }
    // Birth date in another format, in a kept code string.
    let (out, _) = run(Profile::default(), vec![el((0x0018, 0x1030), VR::LO, "x"), el((0x0008, 0x1090), VR::LO, "23.09.1948")]);
    assert!(matches!(&out.classification, Classification::NeedsPassword { reason } if reason.contains("birth date")));
}

#[test]
fn garbage_and_truncated_input_are_rejected_with_a_reason() {
    for input in [&b"hello world, not dicom at all"[..], &[0u8; 10][..], &[][..]] {
        let out = deid(1).deidentify(input);
        assert!(matches!(out.classification, Classification::Rejected { .. }), "{:?}", out.classification);
        assert!(out.output.is_none());
    }
    let full = ct_object(UID, vec![]);
    let out = deid(1).deidentify(&full[..full.len() - 3]);
    let Classification::Rejected { reason } = out.classification else { panic!("truncated file accepted") };
    assert!(reason.contains("truncated"), "{reason}");
    assert!(!reason.contains("Kowalczyk"));
}
