//! Debian's Chromium plays the files: the check a patient's browser makes.
//! Needs node, npm and /usr/bin/chromium (`apt-get install -y chromium`);
//! installs playwright-core from tests/browser/package-lock.json on first run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::scratch;
use studylink_video::{PixelFormat, VideoSpec, encode_mp4};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "Chromium not found at {path}; install it with `apt-get install -y chromium` (or set CHROMIUM)"
    );
    path
}

fn ensure_playwright() {
    let dir = browser_dir();
    common::tool(
        "node",
        "install Node.js (Debian: `apt-get install -y nodejs npm`)",
    );
    let installed = || {
        dir.join("node_modules/playwright-core/package.json")
            .exists()
    };
    if installed() {
        return;
    }
    // nextest runs each test in its own process: only one may run `npm ci`.
    let lock =
        std::fs::File::create(std::env::temp_dir().join("studylink-video-npm.lock")).unwrap();
    lock.lock().unwrap();
    if installed() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm is not installed; install it with `apt-get install -y npm`");
    assert!(status.success(), "`npm ci` failed in {}", dir.display());
}

/// Runs check.mjs and returns its JSON report.
fn play(mp4: &Path, screenshot: &str, probes: &[(u32, u32)]) -> serde_json::Value {
    let chromium = chromium();
    ensure_playwright();
    let shot = std::env::temp_dir().join(screenshot);
    let out = Command::new("node")
        .arg(browser_dir().join("check.mjs"))
        .arg(mp4)
        .arg(&shot)
        .args(probes.iter().map(|(x, y)| format!("{x},{y}")))
        .env("CHROMIUM", chromium)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check.mjs failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}: {stdout}screenshot: {}", mp4.display(), shot.display());
    serde_json::from_str(stdout.trim()).unwrap()
}

fn assert_plays(report: &serde_json::Value, width: u64, height: u64, duration: f64) {
    assert_eq!(report["error"], serde_json::Value::Null, "{report}");
    assert!(
        report["readyState"].as_u64().unwrap() >= 2,
        "no decoded frame: {report}"
    );
    assert_eq!(report["videoWidth"].as_u64(), Some(width), "{report}");
    assert_eq!(report["videoHeight"].as_u64(), Some(height), "{report}");
    let got = report["duration"].as_f64().unwrap();
    assert!(
        (got - duration).abs() < 0.01,
        "duration {got}, expected {duration}"
    );
    assert_eq!(
        report["advanced"], true,
        "playback did not advance: {report}"
    );
    assert_eq!(
        report["looped"], true,
        "playback never reached the end: {report}"
    );
    let reached = report["maxTime"].as_f64().unwrap();
    assert!(
        reached > duration * 0.75,
        "played only to {reached} s of {duration} s"
    );
    assert!(report["decodedFrames"].as_u64().unwrap() > 1, "{report}");
}

#[test]
fn chromium_plays_the_corpus_cine() {
    let (spec, frames) = common::corpus_cine();
    let mp4 = encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap();
    let path = scratch("browser-corpus.mp4", &mp4);
    // Frame Time 33.333 ms × 27 frames.
    assert_plays(
        &play(&path, "studylink-video-corpus.png", &[]),
        800,
        600,
        0.9,
    );
}

#[test]
fn chromium_plays_rgb_with_the_right_colours() {
    let (w, h) = (640, 480);
    let frames = common::synthetic_rgb(w, h, 48);
    let spec = VideoSpec {
        width: w,
        height: h,
        fps: 23.8,
        format: PixelFormat::Rgb8,
    };
    let path = scratch(
        "browser-rgb.mp4",
        &encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap(),
    );
    // Centres of the four colour patches along the bottom left.
    let probes: Vec<(u32, u32)> = (0..4).map(|i| (w / 16 * i + w / 32, h - h / 16)).collect();
    let report = play(&path, "studylink-video-rgb.png", &probes);
    assert_plays(&report, 640, 480, 48.0 / 23.8);

    let decoded = report["probes"].as_array().unwrap();
    assert_eq!(decoded.len(), probes.len(), "{report}");
    for ((x, y), got) in probes.iter().zip(decoded) {
        let want = &frames[0][((y * w + x) * 3) as usize..][..3];
        let got: Vec<u8> = got
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u8)
            .collect();
        let off = got
            .iter()
            .zip(want)
            .map(|(g, w)| g.abs_diff(*w))
            .max()
            .unwrap();
        assert!(
            off <= 6,
            "pixel {x},{y}: Chromium shows {got:?}, source is {want:?}"
        );
    }
}

#[test]
fn chromium_plays_odd_sized_60fps_grey() {
    let frames = common::synthetic_grey(321, 241, 30);
    let spec = VideoSpec {
        width: 321,
        height: 241,
        fps: 60.0,
        format: PixelFormat::Gray8,
    };
    let path = scratch(
        "browser-odd.mp4",
        &encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap(),
    );
    assert_plays(&play(&path, "studylink-video-odd.png", &[]), 322, 242, 0.5);
}
