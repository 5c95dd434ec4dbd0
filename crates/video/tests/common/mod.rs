//! Shared by the integration tests: test frames, a box walker, ffmpeg calls.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use studylink_video::{PixelFormat, VideoSpec};

/// The real Philips EPIQ cine: 27 grey 800×600 frames, Explicit VR Little Endian.
const CORPUS_CINE: &str = "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm";

/// The shared corpus, found as scripts/test finds it.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("STUDYLINK_CORPUS")
        .map_or_else(|| PathBuf::from("/work/shared/corpus"), PathBuf::from)
}

pub fn corpus_cine() -> (VideoSpec, Vec<Vec<u8>>) {
    use dicom_dictionary_std::tags;
    let path = corpus_dir().join(CORPUS_CINE);
    let obj = dicom_object::open_file(&path).unwrap_or_else(|e| {
        panic!(
            "cannot open corpus cine {} (set STUDYLINK_CORPUS): {e}",
            path.display()
        )
    });
    let int = |tag| obj.element(tag).unwrap().to_int::<u32>().unwrap();
    let (rows, cols, frames) = (
        int(tags::ROWS),
        int(tags::COLUMNS),
        int(tags::NUMBER_OF_FRAMES),
    );
    assert_eq!(int(tags::BITS_ALLOCATED), 8);
    assert_eq!(int(tags::SAMPLES_PER_PIXEL), 1);
    let frame_time_ms = obj
        .element(tags::FRAME_TIME)
        .ok()
        .and_then(|e| e.to_float64().ok());
    let data = obj
        .element(tags::PIXEL_DATA)
        .unwrap()
        .to_bytes()
        .unwrap()
        .into_owned();
    let len = (rows * cols) as usize;
    let frames: Vec<Vec<u8>> = data
        .chunks_exact(len)
        .take(frames as usize)
        .map(<[u8]>::to_vec)
        .collect();
    let fps = frame_time_ms.map_or(30.0, |ms| (1000.0 / ms) as f32);
    (
        VideoSpec {
            width: cols,
            height: rows,
            fps,
            format: PixelFormat::Gray8,
        },
        frames,
    )
}

/// Synthetic ultrasound-like RGB frames: a smooth gradient, speckle-like
/// texture, sharp "burned-in text" edges, colour patches, and a bar that moves
/// so successive frames differ.
pub fn synthetic_rgb(width: u32, height: u32, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|f| {
            let mut out = Vec::with_capacity((width * height * 3) as usize);
            for y in 0..height {
                for x in 0..width {
                    out.extend_from_slice(&synthetic_pixel(x, y, f, width, height));
                }
            }
            out
        })
        .collect()
}

/// Grey version of [`synthetic_rgb`].
pub fn synthetic_grey(width: u32, height: u32, count: usize) -> Vec<Vec<u8>> {
    synthetic_rgb(width, height, count)
        .into_iter()
        .map(|rgb| {
            rgb.chunks_exact(3)
                .map(|p| ((p[0] as u32 * 3 + p[1] as u32 * 6 + p[2] as u32) / 10) as u8)
                .collect()
        })
        .collect()
}

/// BT.601 luma of RGB frames, as a decoder's grey output should show it.
pub fn synthetic_grey_bt601(frames: &[Vec<u8>]) -> Vec<Vec<u8>> {
    frames
        .iter()
        .map(|rgb| {
            rgb.chunks_exact(3)
                .map(|p| {
                    (0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64).round() as u8
                })
                .collect()
        })
        .collect()
}

fn synthetic_pixel(x: u32, y: u32, frame: usize, w: u32, h: u32) -> [u8; 3] {
    // Burned-in annotation: a strip of 1-3 px wide strokes, like small text.
    if y < 24 && x < w / 2 && ((x / 3 + y / 4).is_multiple_of(5) || (x % 11 < 2 && y % 12 > 3)) {
        return [255, 255, 255];
    }
    // Colour patches (Doppler colour bar stand-in), bottom left.
    if y >= h - h / 8 && x < w / 4 {
        return match (x * 4 / (w / 4).max(1)) % 4 {
            0 => [230, 30, 30],
            1 => [30, 200, 40],
            2 => [40, 60, 220],
            _ => [240, 200, 20],
        };
    }
    let bar = ((frame as u32 * 7) % w.max(1)) as i64;
    if (x as i64 - bar).abs() < 6 {
        return [250, 250, 250];
    }
    let grad = (x * 160 / w.max(1) + y * 60 / h.max(1)) as i32;
    let v = (grad + speckle(x, y, frame as u32 / 3)).clamp(0, 255) as u8;
    [v, (v as u32 * 9 / 10) as u8, (v as u32 * 8 / 10) as u8]
}

/// Speckle-like texture, ±30: value noise on a 4×2 pixel lattice (ultrasound
/// speckle is elongated laterally), bilinearly interpolated, changing every
/// few frames like a slowly moving probe.
fn speckle(x: u32, y: u32, phase: u32) -> i32 {
    let hash = |cx: u32, cy: u32| {
        let mut s = cx.wrapping_mul(374_761_393)
            ^ cy.wrapping_mul(668_265_263)
            ^ phase.wrapping_mul(2_246_822_519);
        s = (s ^ (s >> 13)).wrapping_mul(1_274_126_177);
        ((s >> 24) as i32 % 61) - 30
    };
    let (cx, fx) = (x / 4, (x % 4) as i32);
    let (cy, fy) = (y / 2, (y % 2) as i32);
    let top = hash(cx, cy) * (4 - fx) + hash(cx + 1, cy) * fx;
    let bottom = hash(cx, cy + 1) * (4 - fx) + hash(cx + 1, cy + 1) * fx;
    (top * (2 - fy) + bottom * fy) / 8
}

/// One box found by [`walk`]: type, offset of its header, total size.
#[derive(Debug, Clone)]
pub struct Mp4Box {
    pub kind: String,
    pub offset: usize,
    pub size: usize,
    pub body: std::ops::Range<usize>,
}

/// Top-level boxes of `data[range]`; panics on a malformed size.
pub fn walk(data: &[u8], range: std::ops::Range<usize>) -> Vec<Mp4Box> {
    let mut out = Vec::new();
    let mut pos = range.start;
    while pos < range.end {
        assert!(pos + 8 <= range.end, "truncated box header at {pos}");
        let size = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = String::from_utf8_lossy(&data[pos + 4..pos + 8]).into_owned();
        assert!(
            size >= 8 && pos + size <= range.end,
            "box {kind} at {pos} has bad size {size}"
        );
        out.push(Mp4Box {
            kind,
            offset: pos,
            size,
            body: pos + 8..pos + size,
        });
        pos += size;
    }
    out
}

/// Follows a path like `moov/trak/mdia/mdhd` through container boxes.
pub fn find(data: &[u8], path: &str) -> Option<Mp4Box> {
    let mut range = 0..data.len();
    let mut found = None;
    for (i, name) in path.split('/').enumerate() {
        if i > 0 {
            range = found.as_ref().map(|b: &Mp4Box| b.body.clone())?;
        }
        found = Some(
            walk(data, range.clone())
                .into_iter()
                .find(|b| b.kind == name)?,
        );
    }
    found
}

pub fn be32(data: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(data[at..at + 4].try_into().unwrap())
}

/// Writes `bytes` under a per-test scratch directory and returns the path.
pub fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join("studylink-video-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs a tool that must be installed; fails with an install hint otherwise.
pub fn tool(name: &str, hint: &str) -> Command {
    let found = Command::new(name).arg("-version").output().is_ok()
        || Command::new(name).arg("--version").output().is_ok();
    assert!(found, "`{name}` is not installed; {hint}");
    Command::new(name)
}

pub fn ffprobe_json(path: &Path) -> serde_json::Value {
    let out = tool("ffprobe", "install it with `apt-get install -y ffmpeg`")
        .args([
            "-v",
            "error",
            "-count_frames",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Decodes every frame with ffmpeg to raw `pix_fmt` (e.g. "gray", "rgb24").
pub fn ffmpeg_decode(path: &Path, pix_fmt: &str) -> Vec<u8> {
    let out = tool("ffmpeg", "install it with `apt-get install -y ffmpeg`")
        .args(["-v", "warning", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
        .output()
        .unwrap();
    // Any complaint (missing PPS, corrupt slice, bad timestamps) is a bug here.
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "ffmpeg decode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// PSNR in dB of `b` against `a` (same length).
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
        .sum();
    let mse = se / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64.powi(2) / mse).log10()
    }
}

/// Crops `w`×`h` (times `bpp` bytes) from a frame whose rows are `stride_px` wide.
pub fn crop(frame: &[u8], stride_px: usize, w: usize, h: usize, bpp: usize) -> Vec<u8> {
    frame
        .chunks_exact(stride_px * bpp)
        .take(h)
        .flat_map(|row| &row[..w * bpp])
        .copied()
        .collect()
}
