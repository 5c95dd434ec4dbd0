//! Shared helpers for the pixel-cleaning tests: corpus access, an independent reference
//! decode, and the DCMTK cross-check.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use dicom_pixeldata::PixelDecoder;
use studylink_deid::pixels::{self, Cleaned, Rect};

pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "DICOM test corpus not found at {} (set STUDYLINK_CORPUS to the folder holding MANIFEST.tsv)",
        dir.display()
    );
    dir
}

pub fn open(rel: &str) -> DefaultDicomObject {
    let path = corpus_dir().join(rel);
    dicom_object::open_file(&path).unwrap_or_else(|e| panic!("cannot open {rel}: {e}"))
}

pub fn text(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> String {
    obj.get(tag)
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_matches(['\0', ' ']).to_string())
        .unwrap_or_default()
}

pub fn uint(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<u32> {
    obj.get(tag).and_then(|e| e.to_int::<u32>().ok())
}

pub struct Geo {
    pub rows: usize,
    pub cols: usize,
    pub frames: u32,
    pub spp: usize,
    pub bps: usize,
}

impl Geo {
    pub fn of(obj: &DefaultDicomObject) -> Geo {
        Geo {
            rows: uint(obj, tags::ROWS).unwrap() as usize,
            cols: uint(obj, tags::COLUMNS).unwrap() as usize,
            frames: uint(obj, tags::NUMBER_OF_FRAMES).unwrap_or(1).max(1),
            spp: uint(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1) as usize,
            bps: uint(obj, tags::BITS_ALLOCATED).unwrap() as usize / 8,
        }
    }
    pub fn px(&self) -> usize {
        self.spp * self.bps
    }
}

/// Decode a frame of an *input* object without the module under test: dicom-pixeldata, plus
/// the steps it leaves to the caller (colour-by-plane, YBR of native and RLE data, native
/// YBR_FULL_422), written independently here.
pub fn reference_frame(obj: &DefaultDicomObject, f: u32) -> Vec<u8> {
    let ts = obj
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    let native = matches!(
        ts.as_str(),
        "1.2.840.10008.1.2"
            | "1.2.840.10008.1.2.1"
            | "1.2.840.10008.1.2.2"
            | "1.2.840.10008.1.2.1.99"
    );
    let pi = text(obj, tags::PHOTOMETRIC_INTERPRETATION);
    let g = Geo::of(obj);
    let planar = uint(obj, tags::PLANAR_CONFIGURATION).unwrap_or(0);
    if native && pi == "YBR_FULL_422" {
        let bytes = obj.element(tags::PIXEL_DATA).unwrap().to_bytes().unwrap();
        let n = g.rows * g.cols * 2;
        let raw = &bytes[f as usize * n..(f as usize + 1) * n];
        let mut out = Vec::with_capacity(g.rows * g.cols * 3);
        for q in raw.chunks_exact(4) {
            out.extend(ybr(q[0], q[2], q[3]));
            out.extend(ybr(q[1], q[2], q[3]));
        }
        return out;
    }
    let lossy_jpeg = matches!(
        ts.as_str(),
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51"
    );
    if lossy_jpeg && pi == "RGB" {
        // DICOM (and DCMTK) take PI=RGB at its word; jpeg-decoder alone would guess YCbCr.
        let pd = obj.element(tags::PIXEL_DATA).unwrap();
        let frags = pd.fragments().unwrap();
        assert_eq!(
            frags.len(),
            g.frames as usize,
            "test handles one fragment per frame"
        );
        let mut d = jpeg_decoder::Decoder::new(&frags[f as usize][..]);
        d.set_color_transform(jpeg_decoder::ColorTransform::RGB);
        return d.decode().unwrap();
    }
    let decoded = obj
        .decode_pixel_data_frame(f)
        .unwrap_or_else(|e| panic!("reference decode failed: {e}"));
    let mut data = decoded.data().to_vec();
    if native && g.spp == 3 && planar == 1 {
        let plane = g.rows * g.cols;
        data = (0..plane * 3)
            .map(|i| data[(i % 3) * plane + i / 3])
            .collect();
    }
    let rle = ts == "1.2.840.10008.1.2.5";
    if pi == "YBR_FULL" && (native || rle) {
        data = data
            .chunks_exact(3)
            .flat_map(|p| ybr(p[0], p[1], p[2]))
            .collect();
    }
    data
}

/// How far two conforming decoders of one lossy JPEG frame may disagree per sample.
const LOSSY_LEVELS: u8 = 4;

/// Apply an object's palette (plain or segmented) to stored values, giving 8-bit RGB.
pub fn apply_palette(obj: &DefaultDicomObject, indices: &[u8]) -> Vec<u8> {
    let mut luts = Vec::new();
    let mut first = 0i64;
    for (d, data, seg) in [
        (
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_RED_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_GREEN_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
        (
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR,
            tags::BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
            tags::SEGMENTED_BLUE_PALETTE_COLOR_LOOKUP_TABLE_DATA,
        ),
    ] {
        let desc: Vec<i64> = obj.element(d).unwrap().to_multi_int().unwrap();
        first = desc[1] & 0xFFFF;
        let lut: Vec<u16> = if let Some(e) = obj.get(data) {
            e.to_multi_int().unwrap()
        } else {
            let w: Vec<u16> = obj.element(seg).unwrap().to_multi_int().unwrap();
            let mut out: Vec<u16> = Vec::new();
            let mut i = 0;
            while i < w.len() {
                let n = w[i + 1] as usize;
                if w[i] == 0 {
                    out.extend_from_slice(&w[i + 2..i + 2 + n]);
                    i += 2 + n;
                } else {
                    assert_eq!(w[i], 1, "test supports discrete and linear segments only");
                    let (y0, y1) = (*out.last().unwrap() as f64, w[i + 2] as f64);
                    out.extend(
                        (1..=n).map(|k| (y0 + (y1 - y0) * k as f64 / n as f64).floor() as u16),
                    );
                    i += 3;
                }
            }
            out
        };
        luts.push(lut);
    }
    let wide = luts.iter().flatten().any(|&v| v > 255);
    let bps = if uint(obj, tags::BITS_ALLOCATED) == Some(16) {
        2
    } else {
        1
    };
    indices
        .chunks_exact(bps)
        .flat_map(|p| {
            let v = if bps == 2 {
                u16::from_le_bytes([p[0], p[1]]) as i64
            } else {
                p[0] as i64
            };
            let i = (v - first).clamp(0, luts[0].len() as i64 - 1) as usize;
            [0, 1, 2].map(|c| {
                if wide {
                    (luts[c][i] >> 8) as u8
                } else {
                    luts[c][i] as u8
                }
            })
        })
        .collect()
}

/// The whole object as written, to prove it was not touched.
pub fn serialized(obj: &DefaultDicomObject) -> Vec<u8> {
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    out
}

fn ybr(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (y as f64, cb as f64 - 128.0, cr as f64 - 128.0);
    let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    [
        c(y + 1.402 * cr),
        c(y - 0.344136 * cb - 0.714136 * cr),
        c(y + 1.772 * cb),
    ]
}

/// Per-pixel mask of what `clean` reported as blanked.
pub fn blank_mask(cleaned: &Cleaned, rows: usize, cols: usize) -> Vec<bool> {
    let mut m = vec![false; rows * cols];
    for r in &cleaned.blanked {
        for y in r.y0 as usize..r.y1 as usize {
            for x in r.x0 as usize..r.x1 as usize {
                assert!(!m[y * cols + x], "blanked rectangles overlap at ({x},{y})");
                m[y * cols + x] = true;
            }
        }
    }
    m
}

/// Run DCMTK on a file: every frame must convert without error. Returns the PNM images.
pub fn dcmtk_frames(path: &Path) -> Vec<Pnm> {
    let out_dir = tempfile::tempdir().unwrap();
    let base = out_dir.path().join("frame");
    let result = Command::new("dcmj2pnm")
        .arg("+Fa")
        .arg("+op")
        .arg(path)
        .arg(&base)
        .output();
    let result = match result {
        Ok(r) => r,
        Err(e) => panic!("dcmj2pnm not runnable ({e}): apt-get install dcmtk"),
    };
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "dcmj2pnm failed: {stderr}");
    assert!(
        !stderr.contains("E: ") && !stderr.contains("F: "),
        "dcmj2pnm reported: {stderr}"
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    // frame.0.ppm, frame.1.ppm, ... or a single frame.ppm
    files.sort_by_key(|p| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('.')
            .nth(1)
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    files.iter().map(|p| Pnm::read(p)).collect()
}

/// DCMTK's rendering of a corpus input, if DCMTK can read it at all.
pub fn dcmtk_frames_if_readable(path: &Path) -> Option<Vec<Pnm>> {
    let out_dir = tempfile::tempdir().unwrap();
    let base = out_dir.path().join("frame");
    let result = Command::new("dcmj2pnm")
        .arg("+Fa")
        .arg("+op")
        .arg(path)
        .arg(&base)
        .output()
        .ok()?;
    if !result.status.success() {
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort_by_key(|p| {
        p.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('.')
            .nth(1)
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    Some(files.iter().map(|p| Pnm::read(p)).collect())
}

pub struct Pnm {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub data: Vec<u8>,
}

impl Pnm {
    fn read(path: &Path) -> Pnm {
        let bytes = std::fs::read(path).unwrap();
        let mut fields = Vec::new();
        let mut i = 0;
        while fields.len() < 4 {
            while bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if bytes[i] == b'#' {
                while bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            let start = i;
            while !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
        }
        let channels = if fields[0] == "P6" { 3 } else { 1 };
        assert!(
            fields[3] == "255",
            "expected 8-bit PNM, got maxval {}",
            fields[3]
        );
        Pnm {
            width: fields[1].parse().unwrap(),
            height: fields[2].parse().unwrap(),
            channels,
            data: bytes[i + 1..].to_vec(),
        }
    }
}

/// Turn an object into an ultrasound image with the given image regions (inclusive max
/// coordinates, as in DICOM).
pub fn make_ultrasound(obj: &mut DefaultDicomObject, regions: &[Rect]) {
    obj.put(DataElement::new(
        tags::SOP_CLASS_UID,
        VR::UI,
        PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.6.1"),
    ));
    obj.put(DataElement::new(
        tags::MODALITY,
        VR::CS,
        PrimitiveValue::from("US"),
    ));
    obj.remove_element(tags::CONVERSION_TYPE);
    let items: Vec<InMemDicomObject> = regions
        .iter()
        .map(|r| {
            InMemDicomObject::from_element_iter([
                DataElement::new(
                    tags::REGION_SPATIAL_FORMAT,
                    VR::US,
                    PrimitiveValue::from(1u16),
                ),
                DataElement::new(tags::REGION_DATA_TYPE, VR::US, PrimitiveValue::from(1u16)),
                DataElement::new(
                    tags::REGION_LOCATION_MIN_X0,
                    VR::UL,
                    PrimitiveValue::from(r.x0),
                ),
                DataElement::new(
                    tags::REGION_LOCATION_MIN_Y0,
                    VR::UL,
                    PrimitiveValue::from(r.y0),
                ),
                DataElement::new(
                    tags::REGION_LOCATION_MAX_X1,
                    VR::UL,
                    PrimitiveValue::from(r.x1),
                ),
                DataElement::new(
                    tags::REGION_LOCATION_MAX_Y1,
                    VR::UL,
                    PrimitiveValue::from(r.y1),
                ),
            ])
        })
        .collect();
    obj.put(DataElement::new(
        tags::SEQUENCE_OF_ULTRASOUND_REGIONS,
        VR::SQ,
        DataSetSequence::from(items),
    ));
}

/// Write, read back and check a cleaned object against its input (`file`: corpus path).
pub fn verify_cleaned(
    file: &str,
    original: &dicom_object::DefaultDicomObject,
    cleaned_obj: dicom_object::DefaultDicomObject,
    cleaned: &Cleaned,
    shows_text: bool,
) -> Vec<u8> {
    let g = Geo::of(original);
    assert_eq!(cleaned.frames, g.frames, "{file}");
    let rle = cleaned.transfer_syntax == "1.2.840.10008.1.2.5";
    assert!(
        rle || cleaned.transfer_syntax == "1.2.840.10008.1.2.1",
        "{file}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleaned.dcm");
    cleaned_obj.write_to_file(&path).unwrap();
    drop(cleaned_obj);
    let out = dicom_object::open_file(&path).unwrap();

    // Pixel module consistent with the data.
    assert_eq!(
        out.meta().transfer_syntax().trim_end_matches('\0'),
        cleaned.transfer_syntax
    );
    let pi_in = text(original, tags::PHOTOMETRIC_INTERPRETATION);
    let pi_out = text(&out, tags::PHOTOMETRIC_INTERPRETATION);
    if pi_in == "PALETTE COLOR" && pi_out == "RGB" {
        // No black palette entry, or a segmented palette: converted to 8-bit RGB.
        assert!(
            out.get(tags::RED_PALETTE_COLOR_LOOKUP_TABLE_DESCRIPTOR)
                .is_none(),
            "{file}"
        );
        for (tag, v) in [
            (tags::SAMPLES_PER_PIXEL, 3),
            (tags::BITS_ALLOCATED, 8),
            (tags::BITS_STORED, 8),
            (tags::HIGH_BIT, 7),
            (tags::PIXEL_REPRESENTATION, 0),
        ] {
            assert_eq!(uint(&out, tag), Some(v), "{file}: {tag}");
        }
    } else {
        let expected_pi = if pi_in.starts_with("YBR") {
            "RGB"
        } else {
            pi_in.as_str()
        };
        assert_eq!(pi_out, expected_pi, "{file}");
        for tag in [
            tags::SAMPLES_PER_PIXEL,
            tags::BITS_ALLOCATED,
            tags::BITS_STORED,
            tags::HIGH_BIT,
            tags::PIXEL_REPRESENTATION,
        ] {
            assert_eq!(uint(&out, tag), uint(original, tag), "{file}: {tag}");
        }
    }
    if uint(&out, tags::SAMPLES_PER_PIXEL) == Some(3) {
        assert_eq!(uint(&out, tags::PLANAR_CONFIGURATION), Some(0), "{file}");
    }
    for tag in [tags::ROWS, tags::COLUMNS] {
        assert_eq!(uint(&out, tag), uint(original, tag), "{file}: {tag}");
    }
    assert_eq!(Geo::of(&out).frames, g.frames, "{file}");
    let ts_in = original
        .meta()
        .transfer_syntax()
        .trim_end_matches('\0')
        .to_string();
    if ts_in == "1.2.840.10008.1.2.4.50" || text(original, tags::LOSSY_IMAGE_COMPRESSION) == "01" {
        assert_eq!(text(&out, tags::LOSSY_IMAGE_COMPRESSION), "01", "{file}");
    }
    let pd = out.element(tags::PIXEL_DATA).unwrap();
    if rle {
        assert_eq!(
            pd.fragments().map(|f| f.len()),
            Some(g.frames as usize),
            "{file}: one fragment per frame"
        );
    }
    let expected_vr = if rle {
        vec![dicom_core::VR::OB]
    } else if Geo::of(&out).bps == 2 {
        vec![dicom_core::VR::OW]
    } else {
        vec![dicom_core::VR::OB, dicom_core::VR::OW]
    };
    assert!(
        expected_vr.contains(&pd.vr()),
        "{file}: Pixel Data VR {:?}",
        pd.vr()
    );

    // Lossy DCT input: the module decodes with libjpeg-turbo, the reference with jpeg-decoder.
    let lossy_dct = matches!(
        ts_in.as_str(),
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51"
    );
    let mask = blank_mask(cleaned, g.rows, g.cols);
    assert!(mask.iter().any(|&b| b), "{file}: nothing blanked");
    assert!(mask.iter().any(|&b| !b), "{file}: nothing kept");
    let px = g.px();
    let mut blank_value: Option<Vec<u8>> = None;
    let mut ink_removed = 0usize;
    let palette_to_rgb =
        text(original, tags::PHOTOMETRIC_INTERPRETATION) == "PALETTE COLOR" && pi_out == "RGB";
    let px = if palette_to_rgb { 3 } else { px };
    for f in 0..g.frames {
        let mut reference = reference_frame(original, f);
        if palette_to_rgb {
            reference = apply_palette(original, &reference);
        }
        let mine = pixels::decode_frame(original, f).unwrap();
        assert_eq!(mine.len(), reference.len(), "{file} frame {f}");
        if lossy_dct {
            // Conforming decoders differ by a few levels (IDCT, chroma upsampling,
            // colour rounding); a wrong frame, colour model or layout differs far more.
            let off = mine.iter().zip(&reference).filter(|(a, b)| a != b).count();
            let worst = mine.iter().zip(&reference).map(|(a, b)| a.abs_diff(*b)).max();
            assert!(
                worst <= Some(LOSSY_LEVELS) && off * 20 <= mine.len(),
                "{file} frame {f}: module decode differs from reference decode \
                 (worst {worst:?} levels, {off} of {} samples)",
                mine.len()
            );
        } else {
            assert!(
                mine == reference,
                "{file} frame {f}: module decode differs from reference decode"
            );
        }
        let decoded = out.decode_pixel_data_frame(f).unwrap();
        let data = decoded.data();
        assert_eq!(data.len(), reference.len(), "{file} frame {f}");
        for (i, &blanked) in mask.iter().enumerate() {
            let (o, r) = (
                &data[i * px..(i + 1) * px],
                &reference[i * px..(i + 1) * px],
            );
            if blanked {
                let v = blank_value.get_or_insert_with(|| o.to_vec());
                assert_eq!(o, &v[..], "{file} frame {f}: blanked pixel {i} not uniform");
                if r != &v[..] {
                    ink_removed += 1;
                }
            } else {
                let kept = if lossy_dct {
                    o.iter().zip(r).all(|(a, b)| a.abs_diff(*b) <= LOSSY_LEVELS)
                } else {
                    o == r
                };
                assert!(
                    kept,
                    "{file} frame {f}: kept pixel ({}, {}) changed: {o:?}, reference {r:?}",
                    i % g.cols,
                    i / g.cols
                );
            }
        }
    }
    if shows_text {
        assert!(ink_removed > 0, "{file}: the blanked area held nothing");
    }

    // Independent decoder: every frame converts, and the blanked area displays black.
    let images = dcmtk_frames(&path);
    let input_images = dcmtk_frames_if_readable(&corpus_dir().join(file));
    assert_eq!(images.len() as u32, g.frames, "{file}: DCMTK frame count");
    for (f, img) in images.iter().enumerate() {
        assert_eq!((img.width, img.height), (g.cols, g.rows));
        for (i, &blanked) in mask.iter().enumerate() {
            if blanked {
                // A VOI window may put even the darkest stored value a level above 0.
                let p = &img.data[i * img.channels..(i + 1) * img.channels];
                assert!(
                    p.iter().all(|&v| v <= 2),
                    "{file} frame {f}: blanked pixel {i} displays {p:?}"
                );
            }
        }
        // The kept image looks the same to DCMTK before and after (its own JPEG and colour
        // code differs from ours by a few levels at most).
        if let Some(before) = input_images.as_ref().and_then(|v| v.get(f)) {
            assert_eq!(before.channels, img.channels, "{file}");
            let (mut sum, mut far, mut n) = (0u64, 0usize, 0usize);
            for (i, _) in mask.iter().enumerate().filter(|(_, b)| !**b) {
                for c in 0..img.channels {
                    let d = (before.data[i * img.channels + c] as i32
                        - img.data[i * img.channels + c] as i32)
                        .unsigned_abs();
                    sum += d as u64;
                    far += usize::from(d > 16);
                    n += 1;
                }
            }
            let mean = sum as f64 / n as f64;
            assert!(
                mean < 2.0 && far * 200 < n,
                "{file} frame {f}: DCMTK sees a different image (mean diff {mean:.2}, {far} far)"
            );
        }
    }
    blank_value.expect("blanked pixels seen")
}
