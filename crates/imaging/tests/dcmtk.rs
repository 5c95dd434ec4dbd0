//! Our 8-bit output against DCMTK's `dcmj2pnm` with the same windowing, on a
//! set covering each photometric interpretation, bit depth and transfer
//! syntax that DCMTK 3.6.7 can decode (it has no JPEG-LS or JPEG 2000 here;
//! those are checked against the lossless copies of the same images in
//! `corpus.rs`).

mod common;

use std::path::Path;
use std::process::Command;

use dicom_dictionary_std::tags;
use studylink_imaging::{DisplayFrame, render_frame};

/// (file, 1-based frame, max mean |Δ|, max |Δ|).
///
/// Lossless data is held to ±1 level at most (rounding of the window
/// function) and a mean under 0.5; Y'CbCr to ±2 (DCMTK converts in floating
/// point, we in 16.16 fixed point, and three rounded terms can add up). Lossy JPEG gets a looser bound: DCMTK's
/// IJG decoder and jpeg-decoder use different IDCTs and chroma upsampling,
/// which moves single pixels by a few levels at edges, never the picture.
const CASES: &[(&str, u32, f64, u8)] = &[
    ("ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm", 1, 0.5, 1),
    ("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm", 27, 0.5, 1),
    ("ultrasound/us_jpeglossless_mono_philips_epiq.dcm", 1, 0.5, 1),
    ("ultrasound/us_rgb_evrle_burnedin_siemens_s2000.dcm", 1, 0.5, 1),
    ("ultrasound/us_rgb_rle_wg04_us1.dcm", 1, 0.5, 1),
    ("ultrasound/us_rgb_bigendian_epicard.dcm", 1, 0.5, 1),
    ("ultrasound/us_ybrfull_evrle_burnedin_atl.dcm", 1, 0.5, 2),
    ("ultrasound/us_ybrfull_rle_burnedin_acuson.dcm", 1, 0.5, 2),
    ("ultrasound/us_ybr422_evrle_esaote.dcm", 1, 0.5, 2),
    ("secondary_capture/sc_ybr_full_422_uncompressed.dcm", 1, 0.5, 2),
    ("ultrasound/us_palette_implicit_philips_clearvue.dcm", 1, 0.5, 1),
    ("ultrasound/us_palette_rle_2frame_philips_cx50.dcm", 2, 0.5, 1),
    ("ultrasound/us_cine_palette_rle_10f_echo.dcm", 10, 0.5, 1),
    ("ultrasound/us_cine_jpeglossless_rgb_2f_medistim.dcm", 2, 0.5, 1),
    ("ultrasound/us_jpegbaseline_ybr422_burnedin_atl.dcm", 1, 1.0, 6),
    ("ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm", 87, 1.0, 6),
    ("ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm", 17, 1.0, 6),
    ("secondary_capture/sc_rgb_jpeg_baseline_dcmtk.dcm", 1, 1.0, 6),
    ("secondary_capture/sc_rgb_jpeg_no_color_transform.dcm", 1, 1.0, 6),
    ("secondary_capture/sc_rgb_jpeg_lossless_gdcm.dcm", 1, 0.5, 1),
    ("secondary_capture/sc_rgb_rle_16bit.dcm", 1, 0.5, 1),
    ("secondary_capture/sc_rgb_odd_3x3.dcm", 1, 0.5, 1),
    ("ct/ct_small_evrle_signed16.dcm", 1, 0.5, 1),
    ("ct/ct_wg04_ct1_rle.dcm", 1, 0.5, 1),
    ("ct/ct_wg04_ct1_jpeg_lossless_sv1.dcm", 1, 0.5, 1),
    ("ct/ct_deflated_evrle.dcm", 1, 0.5, 1),
    ("ct/ct_8bit_implicit_burnedin_abdo.dcm", 1, 0.5, 1),
    ("secondary_capture/ot_signed16.dcm", 1, 0.5, 1),
    ("mr/mr_small_bigendian.dcm", 1, 0.5, 1),
    ("mr/mr_bigendian_ge_signa.dcm", 1, 0.5, 1),
    ("mr/mr_implicit_ge_genesis.dcm", 1, 0.5, 1),
    ("mr/mr_jpeg_lossless_process14_12bit.dcm", 1, 0.5, 1),
    ("mr/mr_wg04_mr1_jpeg_extended_12bit.dcm", 1, 1.0, 6),
    ("cr_dx_mg/cr_wg04_rg2_mono2_jpeg_extended.dcm", 1, 1.0, 6),
    ("other_modalities/nm_jpeg_extended_12bit_fixed.dcm", 1, 1.0, 6),
    ("cr_dx_mg/cr_mono1_10bit_chest.dcm", 1, 0.5, 1),
    ("cr_dx_mg/cr_mono1_jpegbaseline_8bit_konica.dcm", 1, 1.0, 6),
    ("cr_dx_mg/dx_mono1_8bit_small.dcm", 1, 0.5, 1),
    ("other_modalities/ot_modality_lut_sequence_ihe.dcm", 1, 0.5, 1),
    ("other_modalities/ot_voi_lut_sequence_ihe.dcm", 1, 0.5, 1),
    ("other_modalities/xa_cine_jpegbaseline_96f.dcm", 50, 1.0, 6),
    ("other_modalities/nm_mf_13f_heart.dcm", 13, 0.5, 1),
    ("overlays/mg_overlay_out_of_bounds.dcm", 1, 0.5, 1),
    ("overlays/mr_siemens_overlay_icon.dcm", 1, 0.5, 1),
    ("private_and_nested/us_sc_2211_private_elements_gdcm.dcm", 1, 0.5, 1),
];

fn dcmj2pnm_available() {
    let ok = Command::new("dcmj2pnm").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(ok, "dcmj2pnm (DCMTK) is needed for this test: apt-get install -y dcmtk");
}

/// The windowing we apply, spelled as dcmj2pnm options (see gray.rs).
fn window_options(obj: &dicom_object::DefaultDicomObject) -> Vec<&'static str> {
    let samples = obj.get(tags::SAMPLES_PER_PIXEL).and_then(|e| e.to_int::<u16>().ok()).unwrap_or(1);
    let pi = obj.get(tags::PHOTOMETRIC_INTERPRETATION).and_then(|e| e.to_str().ok()).unwrap_or_default().trim().to_string();
    if samples != 1 || pi == "PALETTE COLOR" {
        return vec![];
    }
    let width = obj.get(tags::WINDOW_WIDTH).and_then(|e| e.to_multi_float64().ok()).and_then(|w| w.first().copied());
    if obj.get(tags::WINDOW_CENTER).is_some() && width.is_some_and(|w| w > 0.0) {
        return vec!["+Wi", "1"];
    }
    if obj.get(tags::VOILUT_SEQUENCE).is_some() {
        return vec!["+Wl", "1"];
    }
    let bits = obj.get(tags::BITS_STORED).and_then(|e| e.to_int::<u16>().ok()).unwrap_or(8);
    let slope = obj.get(tags::RESCALE_SLOPE).and_then(|e| e.to_float64().ok()).unwrap_or(1.0);
    let intercept = obj.get(tags::RESCALE_INTERCEPT).and_then(|e| e.to_float64().ok()).unwrap_or(0.0);
    let identity = slope == 1.0 && intercept == 0.0 && obj.get(tags::MODALITY_LUT_SEQUENCE).is_none();
    if bits <= 8 && identity { vec![] } else { vec!["+Wm"] }
}

fn dcmtk(path: &Path, frame: u32, opts: &[&str]) -> DisplayFrame {
    let out = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
    let status = Command::new("dcmj2pnm")
        // -O: no overlays; we don't burn overlay planes in (yet).
        .args(["+on", "-O", "+F", &frame.to_string()])
        .args(opts)
        .arg(path)
        .arg(out.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "dcmj2pnm failed on {}: {}", path.display(), String::from_utf8_lossy(&status.stderr));
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(out.path()).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    let rgb = match info.color_type {
        png::ColorType::Grayscale => false,
        png::ColorType::Rgb => true,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    DisplayFrame { width: info.width, height: info.height, rgb, pixels: buf }
}

#[test]
fn matches_dcmtk() {
    dcmj2pnm_available();
    let mut failures = Vec::new();
    for &(rel, frame, max_mean, max_abs) in CASES {
        let path = common::corpus_file(rel);
        let obj = common::open(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let ours = render_frame(&obj, frame - 1).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let theirs = dcmtk(&path, frame, &window_options(&obj));
        assert_eq!((ours.width, ours.height, ours.rgb), (theirs.width, theirs.height, theirs.rgb), "{rel}: size or colour");
        let diffs: Vec<u8> = ours.pixels.iter().zip(&theirs.pixels).map(|(a, b)| a.abs_diff(*b)).collect();
        let mean = diffs.iter().map(|d| *d as f64).sum::<f64>() / diffs.len() as f64;
        let max = diffs.iter().copied().max().unwrap_or(0);
        println!("{rel} frame {frame}: mean |Δ| {mean:.3}, max |Δ| {max}");
        if mean > max_mean || max > max_abs {
            failures.push(format!("{rel} frame {frame}: mean {mean:.3} (≤ {max_mean}), max {max} (≤ {max_abs})"));
        }
    }
    assert!(failures.is_empty(), "differs from dcmj2pnm:\n{}", failures.join("\n"));
}
