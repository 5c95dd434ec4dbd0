//! Assessment rules, refusals, and cleaning through every decodable transfer syntax
//! (corpus images made into ultrasound objects by adding regions).

mod pixels_support;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, FileMetaTableBuilder, InMemDicomObject};
use pixels_support::*;
use studylink_deid::pixels::{self, Assessment, Method, NotCleanable, Rect};

const US: &str = "1.2.840.10008.5.1.4.1.1.6.1";
const US_MF: &str = "1.2.840.10008.5.1.4.1.1.3.1";
const SC: &str = "1.2.840.10008.5.1.4.1.1.7";
const SC_TRUE_COLOR: &str = "1.2.840.10008.5.1.4.1.1.7.4";
const VIDEO_ENDO: &str = "1.2.840.10008.5.1.4.1.1.77.1.1.1";
const VIDEO_PHOTO: &str = "1.2.840.10008.5.1.4.1.1.77.1.4.1";
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const MR: &str = "1.2.840.10008.5.1.4.1.1.4";

fn header_only(class: &str, modality: &str, bia: Option<&str>, ts: &str) -> DefaultDicomObject {
    let mut obj = InMemDicomObject::new_empty();
    obj.put(DataElement::new(
        tags::SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from(class),
    ));
    obj.put(DataElement::new(
        tags::SOP_INSTANCE_UID,
        VR::UI,
        PrimitiveValue::from("2.25.1"),
    ));
    obj.put(DataElement::new(
        tags::MODALITY,
        VR::CS,
        PrimitiveValue::from(modality),
    ));
    if let Some(v) = bia {
        obj.put(DataElement::new(
            tags::BURNED_IN_ANNOTATION,
            VR::CS,
            PrimitiveValue::from(v),
        ));
    }
    obj.with_meta(
        FileMetaTableBuilder::new()
            .transfer_syntax(ts)
            .media_storage_sop_class_uid(class)
            .media_storage_sop_instance_uid("2.25.1"),
    )
    .unwrap()
}

fn burned(obj: &DefaultDicomObject) -> bool {
    matches!(pixels::assess(obj), Assessment::BurnedInText { .. })
}

#[test]
fn assessment_rules() {
    let evrle = "1.2.840.10008.1.2.1";
    let cases: &[(&str, &str, Option<&str>, bool)] = &[
        (US, "US", Some("YES"), true),
        (US, "US", None, true),
        (US, "US", Some(""), true), // empty is absent, and absent never means NO
        (US_MF, "US", None, true),
        ("1.2.840.10008.5.1.4.1.1.6", "US", None, true), // retired US class
        (US, "US", Some("NO"), false),
        (US_MF, "US", Some("NO"), false),
        (SC, "OT", None, true),
        (SC_TRUE_COLOR, "XC", None, true),
        (SC, "OT", Some("NO"), true), // screen captures: NO is not trusted
        (SC, "OT", Some("YES"), true),
        (VIDEO_ENDO, "ES", None, true),
        (VIDEO_PHOTO, "XC", Some("NO"), true),
        (CT, "CT", None, false),
        (CT, "CT", Some("NO"), false),
        (CT, "CT", Some("YES"), true),
        (MR, "MR", Some("MAYBE"), true), // unrecognised value: fail closed
        ("1.2.840.10008.5.1.4.1.1.77.1.4", "US", None, true), // modality US on another class
    ];
    for &(class, modality, bia, expected) in cases {
        let obj = header_only(class, modality, bia, evrle);
        assert_eq!(burned(&obj), expected, "{class} {modality} {bia:?}");
    }
    // Any object with a Conversion Type is a capture.
    let mut obj = header_only(MR, "MR", Some("NO"), evrle);
    obj.put(DataElement::new(
        tags::CONVERSION_TYPE,
        VR::CS,
        PrimitiveValue::from("WSD"),
    ));
    assert!(burned(&obj));
    // `why` never carries object values.
    let Assessment::BurnedInText { why } = pixels::assess(&header_only(US, "US", None, evrle))
    else {
        panic!()
    };
    assert!(why.contains("absent"));
}

#[test]
fn video_transfer_syntaxes_are_not_cleanable() {
    for ts in [
        "1.2.840.10008.1.2.4.100",
        "1.2.840.10008.1.2.4.102",
        "1.2.840.10008.1.2.4.103",
        "1.2.840.10008.1.2.4.107",
        "1.2.840.10008.1.2.4.108",
    ] {
        let mut obj = header_only(VIDEO_ENDO, "ES", None, ts);
        assert_eq!(pixels::clean(&mut obj), Err(NotCleanable::Video), "{ts}");
        // Also on an ultrasound class: the transfer syntax decides.
        let mut obj = header_only(US_MF, "US", None, ts);
        assert_eq!(pixels::clean(&mut obj), Err(NotCleanable::Video), "{ts}");
        assert!(NotCleanable::Video.to_string().contains("video"));
    }
}

#[test]
fn screen_captures_are_refused_unchanged() {
    for file in [
        "secondary_capture/sc_rgb_rle.dcm",
        "secondary_capture/sc_rgb_jpeg_baseline_dcmtk.dcm",
        "secondary_capture/sc_ybr_full_422_uncompressed.dcm",
    ] {
        let mut obj = open(file);
        assert!(burned(&obj), "{file}");
        let before = serialized(&obj);
        let err = pixels::clean(&mut obj).expect_err(file);
        assert!(
            matches!(&err, NotCleanable::Unsupported(why) if why.contains("screen capture")),
            "{file}: {err:?}"
        );
        assert!(serialized(&obj) == before, "{file} modified");
    }
}

#[test]
fn burned_in_ct_has_no_layout() {
    // A CT screen saved as secondary capture: refused as a capture.
    let mut obj = open("ct/ct_8bit_implicit_burnedin_abdo.dcm");
    assert!(burned(&obj));
    assert!(matches!(
        pixels::clean(&mut obj),
        Err(NotCleanable::Unsupported(_))
    ));
    // The same pixels in a CT object that says YES: no layout is known for CT.
    let mut obj = open("ct/ct_8bit_implicit_burnedin_abdo.dcm");
    obj.put(DataElement::new(
        tags::SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from(CT),
    ));
    obj.put(DataElement::new(
        tags::BURNED_IN_ANNOTATION,
        VR::CS,
        PrimitiveValue::from("YES"),
    ));
    obj.remove_element(tags::CONVERSION_TYPE);
    assert!(burned(&obj));
    assert_eq!(pixels::clean(&mut obj), Err(NotCleanable::NoRegionsOrRule));
}

#[test]
fn regions_reaching_the_band_need_a_device_rule() {
    // Unknown device, region from row 0: the text band may be inside it.
    let mut obj = open("ultrasound/us_rgb_evrle_small_esopecho.dcm");
    make_ultrasound(
        &mut obj,
        &[Rect {
            x0: 0,
            y0: 0,
            x1: 255,
            y1: 119,
        }],
    );
    let err = pixels::clean(&mut obj).unwrap_err();
    assert!(
        matches!(&err, NotCleanable::Unsupported(w) if w.contains("top text band")),
        "{err:?}"
    );

    // Known device: the same kind of region is cut by the device band.
    let original = {
        let mut o = open("ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm");
        make_ultrasound(
            &mut o,
            &[Rect {
                x0: 0,
                y0: 0,
                x1: 1023,
                y1: 767,
            }],
        );
        o
    };
    let mut obj = original.clone();
    let cleaned = pixels::clean(&mut obj).unwrap();
    assert_eq!(
        cleaned.method,
        Method::RegionsAndDeviceRule {
            rule: "Philips EPIQ 1024x768"
        }
    );
    assert_eq!(
        cleaned.blanked,
        vec![Rect {
            x0: 0,
            y0: 0,
            x1: 1024,
            y1: 26
        }]
    );
    verify_cleaned(
        "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm",
        &original,
        obj,
        &cleaned,
        true,
    );
}

#[test]
fn malformed_or_misplaced_regions_are_refused() {
    let mut obj = open("ultrasound/us_rgb_evrle_small_esopecho.dcm");
    make_ultrasound(
        &mut obj,
        &[Rect {
            x0: 200,
            y0: 50,
            x1: 100,
            y1: 100,
        }],
    );
    assert!(
        matches!(pixels::clean(&mut obj), Err(NotCleanable::Unsupported(w)) if w.contains("malformed"))
    );
    let mut obj = open("ultrasound/us_rgb_evrle_small_esopecho.dcm");
    make_ultrasound(
        &mut obj,
        &[Rect {
            x0: 10,
            y0: 30,
            x1: 400,
            y1: 100,
        }],
    );
    assert!(
        matches!(pixels::clean(&mut obj), Err(NotCleanable::Unsupported(w)) if w.contains("do not fit"))
    );
}

#[test]
fn undecodable_pixel_data_is_reported_and_left_unchanged() {
    // 12-bit lossy JPEG: not supported by the Rust JPEG decoder.
    let mut obj = open("other_modalities/nm_jpeg_extended_12bit_fixed.dcm");
    make_ultrasound(
        &mut obj,
        &[Rect {
            x0: 10,
            y0: 30,
            x1: 200,
            y1: 1000,
        }],
    );
    let before = serialized(&obj);
    let err = pixels::clean(&mut obj).unwrap_err();
    assert!(matches!(err, NotCleanable::Undecodable(_)), "{err:?}");
    assert!(serialized(&obj) == before);
}

/// Make a corpus image an ultrasound object with one region, clean it, verify it.
fn clean_as_ultrasound(file: &str, region: Rect) -> Vec<u8> {
    let mut original = open(file);
    make_ultrasound(&mut original, &[region]);
    let mut obj = original.clone();
    let cleaned = pixels::clean(&mut obj).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(cleaned.method, Method::Regions);
    verify_cleaned(file, &original, obj, &cleaned, false)
}

#[test]
fn jpeg2000_signed_monochrome2_blanks_to_minimum() {
    let v = clean_as_ultrasound(
        "ct/ct_wg04_ct1_j2k_lossy.dcm",
        Rect {
            x0: 100,
            y0: 100,
            x1: 399,
            y1: 399,
        },
    );
    assert_eq!(v, (-32768i16).to_le_bytes());
}

#[test]
fn jpeg2000_lossless_and_12_bit() {
    clean_as_ultrasound(
        "mr/mr_small_jp2klossless.dcm",
        Rect {
            x0: 8,
            y0: 30,
            x1: 55,
            y1: 60,
        },
    );
    let v = clean_as_ultrasound(
        "ct/ct_jp2_header_in_j2k_elscint.dcm",
        Rect {
            x0: 50,
            y0: 60,
            x1: 450,
            y1: 450,
        },
    );
    assert_eq!(v, [0, 0]);
}

#[test]
fn jpeg2000_monochrome1_blanks_to_maximum() {
    let v = clean_as_ultrasound(
        "cr_dx_mg/cr_wg04_rg3_mono1_j2k_lossy.dcm",
        Rect {
            x0: 300,
            y0: 300,
            x1: 1400,
            y1: 1500,
        },
    );
    assert_eq!(v, 1023u16.to_le_bytes(), "10 bits stored");
}

#[test]
fn jpegls_lossless_and_near_lossless() {
    let v = clean_as_ultrasound(
        "ct/ct_wg04_ct1_jpegls_lossless.dcm",
        Rect {
            x0: 100,
            y0: 100,
            x1: 399,
            y1: 399,
        },
    );
    assert_eq!(v, (-32768i16).to_le_bytes());
    clean_as_ultrasound(
        "ct/ct_wg04_ct2_jpegls_nearlossless.dcm",
        Rect {
            x0: 30,
            y0: 40,
            x1: 480,
            y1: 500,
        },
    );
    clean_as_ultrasound(
        "other_modalities/pt_jpegls_14bit.dcm",
        Rect {
            x0: 10,
            y0: 30,
            x1: 100,
            y1: 120,
        },
    );
}

#[test]
fn jpegls_palette_cine_keeps_its_palette() {
    let v = clean_as_ultrasound(
        "ultrasound/us_cine_palette_jpegls_10f_echo.dcm",
        Rect {
            x0: 100,
            y0: 40,
            x1: 560,
            y1: 420,
        },
    );
    assert_eq!(v.len(), 1, "still one palette index per pixel");
}

#[test]
fn rle_signed_16_bit() {
    let v = clean_as_ultrasound(
        "ct/ct_wg04_ct1_rle.dcm",
        Rect {
            x0: 100,
            y0: 100,
            x1: 399,
            y1: 399,
        },
    );
    assert_eq!(v, (-32768i16).to_le_bytes());
}

#[test]
fn jpeg_colour_transform_follows_the_photometric_interpretation() {
    // YBR_FULL in the header: YCbCr → RGB.
    clean_as_ultrasound(
        "secondary_capture/sc_rgb_jpeg_baseline_dcmtk.dcm",
        Rect {
            x0: 5,
            y0: 30,
            x1: 90,
            y1: 90,
        },
    );
    // RGB in the header: no colour transform, whatever the stream's markers suggest.
    clean_as_ultrasound(
        "secondary_capture/sc_rgb_jpeg_no_color_transform.dcm",
        Rect {
            x0: 20,
            y0: 30,
            x1: 230,
            y1: 240,
        },
    );
    // Lossless JPEG is never colour-transformed.
    clean_as_ultrasound(
        "secondary_capture/sc_rgb_jpeg_lossless_gdcm.dcm",
        Rect {
            x0: 5,
            y0: 30,
            x1: 90,
            y1: 90,
        },
    );
}

#[test]
fn rle_rgb_16_bit() {
    let v = clean_as_ultrasound(
        "secondary_capture/sc_rgb_rle_16bit.dcm",
        Rect {
            x0: 5,
            y0: 30,
            x1: 90,
            y1: 90,
        },
    );
    assert_eq!(v, [0; 6]);
}

#[test]
fn high_throughput_jpeg2000_rgb() {
    let file = "other_modalities/htj2k_lossy_rgb.dcm";
    let mut original = open(file);
    make_ultrasound(
        &mut original,
        &[Rect {
            x0: 50,
            y0: 40,
            x1: 600,
            y1: 470,
        }],
    );
    let mut obj = original.clone();
    match pixels::clean(&mut obj) {
        Ok(cleaned) => {
            verify_cleaned(file, &original, obj, &cleaned, false);
        }
        // The Rust openjp2 port may not implement HTJ2K; then refusing is the only answer.
        Err(e) => assert!(matches!(e, NotCleanable::Undecodable(_)), "{e:?}"),
    }
}

#[test]
fn icon_thumbnail_is_removed() {
    let file = "overlays/mr_siemens_overlay_icon.dcm";
    let mut original = open(file);
    assert!(original.get(tags::ICON_IMAGE_SEQUENCE).is_some());
    let (rows, cols) = (
        uint(&original, tags::ROWS).unwrap(),
        uint(&original, tags::COLUMNS).unwrap(),
    );
    make_ultrasound(
        &mut original,
        &[Rect {
            x0: 10,
            y0: 30,
            x1: cols - 10,
            y1: rows - 10,
        }],
    );
    let mut obj = original.clone();
    let cleaned = pixels::clean(&mut obj).unwrap();
    assert!(obj.get(tags::ICON_IMAGE_SEQUENCE).is_none());
    verify_cleaned(file, &original, obj, &cleaned, false);
}

#[test]
fn never_panics_on_any_corpus_file() {
    let mut reached_decoder = 0;
    for entry in walkdir::WalkDir::new(corpus_dir())
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        // Stack exhaustion is the parser's concern, not this module's.
        if !entry.file_type().is_file() || path.ends_with("deeply_nested_sequence.dcm") {
            continue;
        }
        let Ok(obj) = dicom_object::open_file(path) else {
            continue;
        };
        let _ = pixels::assess(&obj);
        let _ = pixels::clean(&mut obj.clone());
        let (Some(rows), Some(cols)) = (uint(&obj, tags::ROWS), uint(&obj, tags::COLUMNS)) else {
            continue;
        };
        if rows > 40 && cols > 2 && rows <= 65535 && cols <= 65535 {
            let mut us = obj.clone();
            make_ultrasound(
                &mut us,
                &[Rect {
                    x0: 0,
                    y0: 30,
                    x1: cols - 1,
                    y1: rows - 1,
                }],
            );
            match pixels::clean(&mut us) {
                Ok(c) => assert!(!c.blanked.is_empty(), "{}", path.display()),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            reached_decoder += 1;
        }
    }
    assert!(
        reached_decoder > 50,
        "only {reached_decoder} images exercised"
    );
}

#[test]
fn jpeg_frames_spread_over_fragments_without_offset_table() {
    let mut original = open("ultrasound/us_cine_jpegbaseline_30f_sonosite.dcm");
    make_ultrasound(
        &mut original,
        &[Rect {
            x0: 40,
            y0: 30,
            x1: 300,
            y1: 230,
        }],
    );
    let mut split = original.clone();
    let halves: Vec<Vec<u8>> = split
        .element(tags::PIXEL_DATA)
        .unwrap()
        .fragments()
        .unwrap()
        .iter()
        .flat_map(|f| {
            let mid = (f.len() / 2) & !1;
            [f[..mid].to_vec(), f[mid..].to_vec()]
        })
        .collect();
    assert_eq!(halves.len(), 60);
    split.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        dicom_core::value::PixelFragmentSequence::new(dicom_core::value::C::new(), halves),
    ));
    let mut whole = original.clone();
    let a = pixels::clean(&mut whole).unwrap();
    let b = pixels::clean(&mut split).unwrap();
    assert_eq!(a, b);
    // A JPEG loop in, RLE out: one fragment per frame either way.
    assert_eq!(a.transfer_syntax, "1.2.840.10008.1.2.5");
    let bytes = |o: &DefaultDicomObject| {
        let pd = o.element(tags::PIXEL_DATA).unwrap();
        match pd.fragments() {
            Some(f) => f.to_vec(),
            None => vec![pd.to_bytes().unwrap().to_vec()],
        }
    };
    assert_eq!(bytes(&whole).len(), 30);
    assert!(
        bytes(&whole) == bytes(&split),
        "same frames whichever way they were fragmented"
    );
}
