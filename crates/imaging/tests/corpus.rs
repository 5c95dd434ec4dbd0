//! The whole corpus: every image renders, broken files fail cleanly, and
//! codecs DCMTK can't check here agree with lossless copies of the same image.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use dicom_core::{DataElement, DicomValue, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use studylink_imaging::{
    DocumentKind, Format, ImageKind, RenderError, RenderRequest, cine_info, kind, render, render_frame,
};

#[test]
fn every_image_renders_first_and_last_frame() {
    let root = common::corpus_root();
    let manifest: std::collections::HashMap<String, String> =
        common::manifest().into_iter().map(|r| (r["relative_path"].clone(), r["rows_x_cols_x_frames"].clone())).collect();
    let mut rendered = 0;
    let mut failures = Vec::new();
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(&root).unwrap().to_string_lossy().to_string();
        if !entry.file_type().is_file() || rel.starts_with('_') || !rel.contains('/') {
            continue;
        }
        let broken = rel.starts_with("invalid_and_edge/");
        // Objects without pixels (per the manifest) may be refused by ingest.
        let image = manifest.get(&rel).is_some_and(|dims| dims != "no image");
        // Nothing may panic, whatever the file; broken files may fail to open or render.
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<u32, String> {
            let obj = common::open(entry.path())?;
            let ImageKind::Image { frames } = kind(&obj) else { return Ok(0) };
            for frame in [0, frames - 1] {
                // Decoded and re-encoded even where the stored JPEG could be sent.
                let req = RenderRequest { reuse_stored_jpeg: false, ..RenderRequest::new(frame, Format::Jpeg { quality: 90 }) };
                let r = render(&obj, &req).map_err(|e| format!("frame {}: {e}", frame + 1))?;
                if r.width == 0 || r.height == 0 || !r.bytes.starts_with(&[0xFF, 0xD8]) {
                    return Err(format!("frame {}: empty or not a JPEG", frame + 1));
                }
            }
            Ok(frames)
        }));
        match outcome {
            Err(_) => failures.push(format!("{rel}: panicked")),
            Ok(Err(e)) if !broken && image => failures.push(format!("{rel}: {e}")),
            Ok(Ok(n)) if n > 0 => rendered += 1,
            _ => {}
        }
    }
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(rendered >= 90, "only {rendered} images rendered: is the corpus complete?");
}

fn pixels(rel: &str, frame: u32) -> studylink_imaging::DisplayFrame {
    let obj = common::open(&common::corpus_file(rel)).unwrap();
    render_frame(&obj, frame).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn diff(a: &studylink_imaging::DisplayFrame, b: &studylink_imaging::DisplayFrame) -> (f64, u8) {
    assert_eq!((a.width, a.height, a.rgb), (b.width, b.height, b.rgb));
    let d: Vec<u8> = a.pixels.iter().zip(&b.pixels).map(|(x, y)| x.abs_diff(*y)).collect();
    (d.iter().map(|v| *v as f64).sum::<f64>() / d.len() as f64, d.iter().copied().max().unwrap_or(0))
}

/// JPEG-LS and JPEG 2000 (no DCMTK decoder here) against RLE/native copies.
#[test]
fn codecs_agree_on_the_same_image() {
    let ct = pixels("ct/ct_wg04_ct1_rle.dcm", 0);
    assert_eq!(diff(&ct, &pixels("ct/ct_wg04_ct1_jpegls_lossless.dcm", 0)).1, 0, "JPEG-LS lossless");
    assert_eq!(diff(&ct, &pixels("ct/ct_wg04_ct1_jpeg_lossless_sv1.dcm", 0)).1, 0, "JPEG lossless");
    // 69:1 lossy: the min–max window follows the lossy extremes, so only
    // roughly equal (JPEG 2000 exactness is checked on the lossless MR below).
    let (mean, _) = diff(&ct, &pixels("ct/ct_wg04_ct1_j2k_lossy.dcm", 0));
    assert!(mean < 8.0, "JPEG 2000 lossy: mean {mean}");
    let mr = pixels("mr/mr_small_evrle.dcm", 0);
    for rel in ["mr/mr_small_implicit.dcm", "mr/mr_small_bigendian.dcm", "mr/mr_small_rle.dcm", "mr/mr_small_jpeg_ls_lossless.dcm", "mr/mr_small_jp2klossless.dcm"] {
        assert_eq!(diff(&mr, &pixels(rel, 0)).1, 0, "{rel}");
    }
    for frame in [0, 9] {
        let (mean, _) = diff(&pixels("ultrasound/us_cine_palette_rle_10f_echo.dcm", frame), &pixels("ultrasound/us_cine_palette_jpegls_10f_echo.dcm", frame));
        assert!(mean < 0.01, "palette JPEG-LS frame {frame}: mean {mean}");
    }
}

#[test]
fn monochrome1_is_inverted_and_palette_is_colour() {
    // A chest CR stored as MONOCHROME1: lungs (air) dark, spine bright.
    let cr = pixels("cr_dx_mg/cr_mono1_10bit_chest.dcm", 0);
    assert!(!cr.rgb);
    let row = (cr.height as usize * 2 / 5) * cr.width as usize;
    let (lung, spine) = (cr.pixels[row + cr.width as usize * 28 / 100], cr.pixels[row + cr.width as usize / 2]);
    assert!(lung + 60 < spine, "lung {lung}, spine {spine}");
    let pal = pixels("ultrasound/us_palette16_segmentedlut_implicit_aloka.dcm", 0);
    assert!(pal.rgb);
    assert!(pal.pixels.chunks_exact(3).any(|p| p[0] != p[1] || p[1] != p[2]), "a palette image with no colour at all");
}

#[test]
fn thumbnails_keep_aspect_within_256() {
    let obj = common::open(&common::corpus_file("ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm")).unwrap();
    let t = render(&obj, &RenderRequest::thumbnail()).unwrap();
    assert_eq!((t.width, t.height), (256, 195));
    assert_eq!(t.content_type, "image/jpeg");
    let mut req = RenderRequest::new(0, Format::Png);
    req.viewport = Some((100, 100));
    let p = render(&obj, &req).unwrap();
    assert_eq!((p.width, p.height), (100, 76));
    assert!(p.bytes.starts_with(b"\x89PNG"));
    // Small images are never enlarged.
    let small = common::open(&common::corpus_file("secondary_capture/sc_rgb_odd_3x3.dcm")).unwrap();
    let t = render(&small, &RenderRequest::thumbnail()).unwrap();
    assert_eq!((t.width, t.height), (3, 3));
}

#[test]
fn frames_out_of_range_and_documents_are_errors() {
    let obj = common::open(&common::corpus_file("ultrasound/us_cine_jpegbaseline_30f_sonosite.dcm")).unwrap();
    assert!(matches!(render_frame(&obj, 30), Err(RenderError::NoSuchFrame { frame: 31, frames: 30 })));
    let pdf = common::open(&common::corpus_file("documents/encapsulated_pdf.dcm")).unwrap();
    assert_eq!(kind(&pdf), ImageKind::Document(DocumentKind::Pdf));
    assert!(matches!(render_frame(&pdf, 0), Err(RenderError::NotAnImage(_))));
    let sr = common::open(&common::corpus_file("documents/sr_basic_text_offis.dcm")).unwrap();
    assert_eq!(kind(&sr), ImageKind::Document(DocumentKind::StructuredReport));
    let rtstruct = common::open(&common::corpus_file("other_modalities/gsps_presentation_state.dcm")).unwrap();
    assert_eq!(kind(&rtstruct), ImageKind::NoPixels);
}

#[test]
fn cine_timing() {
    let obj = common::open(&common::corpus_file("ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm")).unwrap();
    let cine = cine_info(&obj).unwrap();
    assert_eq!(cine.frames, 87);
    assert!((cine.frame_time_ms - 34.9927).abs() < 0.001 && (cine.fps - 28.577).abs() < 0.01, "{cine:?}");
    // A stack of NM views is not a loop; a single frame neither.
    assert!(cine_info(&common::open(&common::corpus_file("other_modalities/nm_mf_13f_heart.dcm")).unwrap()).is_none());
    assert!(cine_info(&common::open(&common::corpus_file("ultrasound/us_rgb_rle_wg04_us1.dcm")).unwrap()).is_none());

    let mut obj = InMemDicomObject::new_empty();
    obj.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, PrimitiveValue::from("4")));
    obj.put(DataElement::new(tags::FRAME_TIME_VECTOR, VR::DS, PrimitiveValue::Strs(["0", "40", "40", "40"].map(String::from).to_vec().into())));
    assert_eq!(cine_info(&obj).map(|c| c.fps), Some(25.0));
    obj.remove_element(tags::FRAME_TIME_VECTOR);
    obj.put(DataElement::new(tags::CINE_RATE, VR::IS, PrimitiveValue::from("50")));
    assert_eq!(cine_info(&obj).map(|c| c.frame_time_ms), Some(20.0));
}

fn stored_frame(obj: &dicom_object::DefaultDicomObject, frame: usize) -> Vec<u8> {
    let DicomValue::PixelSequence(seq) = obj.get(tags::PIXEL_DATA).unwrap().value() else { panic!("not encapsulated") };
    let f = &seq.fragments()[frame];
    let end = f.windows(2).rposition(|w| w == [0xFF, 0xD9]).unwrap() + 2;
    f[..end].to_vec()
}

/// Decoded as a browser would (libjpeg's colour rules, which jpeg-decoder
/// follows), the stream shows what we render, within JPEG decoder differences.
fn browser_view_matches(jpeg: &[u8], ours: &studylink_imaging::DisplayFrame) -> bool {
    let shown = jpeg_decoder::Decoder::new(jpeg).decode().unwrap();
    let mean = shown.iter().zip(&ours.pixels).map(|(a, b)| a.abs_diff(*b) as f64).sum::<f64>() / shown.len() as f64;
    shown.len() == ours.pixels.len() && mean < 1.0
}

#[test]
fn stored_baseline_jpeg_frames_are_sent_as_is() {
    let jpeg = |q| Format::Jpeg { quality: q };
    let cine = common::open(&common::corpus_file("ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm")).unwrap();
    let sent = render(&cine, &RenderRequest::new(86, jpeg(90))).unwrap();
    assert!(sent.bytes == stored_frame(&cine, 86), "not the stored frame");
    assert_eq!((sent.width, sent.height), (975, 743));
    // What a browser makes of the stored stream is what we would have rendered.
    assert!(browser_view_matches(&sent.bytes, &render_frame(&cine, 86).unwrap()));
    // Asked not to (an explicit quality), resized, or PNG: rendered.
    let forced = render(&cine, &RenderRequest { reuse_stored_jpeg: false, ..RenderRequest::new(86, jpeg(90)) }).unwrap();
    assert_ne!(forced.bytes, sent.bytes);
    assert_ne!(render(&cine, &RenderRequest::thumbnail()).unwrap().bytes, stored_frame(&cine, 0));
    // Grey with nothing to window is sent as is; MONOCHROME1 never.
    let xa = common::open(&common::corpus_file("other_modalities/xa_cine_jpegbaseline_96f.dcm")).unwrap();
    // (Its frames span several fragments, so compare what is shown.)
    let xa_sent = render(&xa, &RenderRequest::new(5, jpeg(90))).unwrap().bytes;
    let forced = render(&xa, &RenderRequest { reuse_stored_jpeg: false, ..RenderRequest::new(5, jpeg(90)) }).unwrap().bytes;
    assert!(xa_sent != forced && xa_sent.ends_with(&[0xFF, 0xD9]));
    assert!(browser_view_matches(&xa_sent, &render_frame(&xa, 5).unwrap()));
    let cr = common::open(&common::corpus_file("cr_dx_mg/cr_mono1_jpegbaseline_8bit_konica.dcm")).unwrap();
    assert_ne!(render(&cr, &RenderRequest::new(0, jpeg(90))).unwrap().bytes, stored_frame(&cr, 0));
}

/// The bytes of one frame as a caller would cut them from the file.
fn cut(obj: &dicom_object::DefaultDicomObject, frame: usize) -> studylink_imaging::FrameBytes {
    match obj.get(tags::PIXEL_DATA).unwrap().value() {
        // (These files have one fragment per frame, or one frame.)
        DicomValue::PixelSequence(seq) if seq.fragments().len() > 1 && frame == 0 => studylink_imaging::FrameBytes::Encapsulated(seq.fragments().concat()),
        DicomValue::PixelSequence(seq) => studylink_imaging::FrameBytes::Encapsulated(seq.fragments()[frame].clone()),
        DicomValue::Primitive(p) => {
            let all = p.to_bytes();
            let frames = obj.get(tags::NUMBER_OF_FRAMES).map(|e| e.to_int::<usize>().unwrap()).unwrap_or(1);
            let len = all.len() / frames;
            studylink_imaging::FrameBytes::Native(all[frame * len..(frame + 1) * len].to_vec())
        }
        _ => unreachable!(),
    }
}

#[test]
fn frames_cut_from_the_file_render_the_same() {
    let cases = [
        ("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm", 26),
        ("ultrasound/us_cine_jpegbaseline_34f_hp_echo.dcm", 16),
        ("ultrasound/us_cine_palette_rle_10f_echo.dcm", 9),
        ("ultrasound/us_cine_palette_jpegls_10f_echo.dcm", 4),
        ("mr/mr_enhanced_mf_10f.dcm", 6),
        ("ct/ct_wg04_ct1_j2k_lossy.dcm", 0),
        ("ct/ct_wg04_ct1_jpeg_lossless_sv1.dcm", 0),
        ("ultrasound/us_jpegbaseline_ybr422_burnedin_atl.dcm", 0),
    ];
    for (rel, frame) in cases {
        let obj = common::open(&common::corpus_file(rel)).unwrap();
        let bytes = cut(&obj, frame);
        let mut header = obj.clone();
        header.remove_element(tags::PIXEL_DATA);
        for req in [RenderRequest::new(frame as u32, Format::Png), RenderRequest::new(frame as u32, Format::Jpeg { quality: 90 })] {
            let whole = render(&obj, &req).unwrap();
            let from_cut = studylink_imaging::render_cut(&header, &req, &bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert!(whole.bytes == from_cut.bytes, "{rel} frame {}: differs", frame + 1);
        }
    }
    let obj = common::open(&common::corpus_file("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm")).unwrap();
    let mut header = obj.clone();
    header.remove_element(tags::PIXEL_DATA);
    let short = studylink_imaging::FrameBytes::Native(vec![0; 100]);
    assert!(studylink_imaging::render_cut(&header, &RenderRequest::new(0, Format::Png), &short).is_err());
}

#[test]
fn float_pixel_data_renders_through_its_window() {
    let obj = common::open(&common::corpus_file("other_modalities/parametric_map_float.dcm")).unwrap();
    assert_eq!(kind(&obj), ImageKind::Image { frames: 1 });
    let f = render_frame(&obj, 0).unwrap();
    assert_eq!((f.width, f.height, f.rgb), (128, 128, false));
    // Values 0–0.94, most near 0.5, window 0.5/1.0: mostly mid-grey, not a threshold.
    let mean = f.pixels.iter().map(|v| *v as f64).sum::<f64>() / f.pixels.len() as f64;
    assert!((90.0..170.0).contains(&mean), "mean {mean}");
    assert!(f.pixels.iter().any(|v| *v < 60), "the dark end is shown");
}
