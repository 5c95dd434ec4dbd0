//! An independent decoder (FFmpeg) reads what we wrote: stream parameters,
//! frame count, duration, and the pictures themselves.

mod common;

use std::time::Duration;

use common::{crop, ffmpeg_decode, ffprobe_json, psnr, scratch};
use studylink_video::{Mp4Encoder, PixelFormat, Quality, VideoSpec, encode_mp4};

fn stream(probe: &serde_json::Value) -> &serde_json::Value {
    let streams = probe["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "exactly one stream: {probe}");
    &streams[0]
}

fn secs(v: &serde_json::Value) -> f64 {
    v.as_str().unwrap().parse().unwrap()
}

/// Minimum and mean PSNR over frames.
fn psnr_per_frame(
    src: &[Vec<u8>],
    decoded: &[u8],
    stride_px: usize,
    w: usize,
    h: usize,
    bpp: usize,
) -> (f64, f64) {
    let frame_len = decoded.len() / src.len();
    let scores: Vec<f64> = src
        .iter()
        .zip(decoded.chunks_exact(frame_len))
        .map(|(s, d)| psnr(s, &crop(d, stride_px, w, h, bpp)))
        .collect();
    let min = scores.iter().copied().fold(f64::INFINITY, f64::min);
    (min, scores.iter().sum::<f64>() / scores.len() as f64)
}

#[test]
fn corpus_cine_decodes_to_the_same_pictures() {
    let (spec, frames) = common::corpus_cine();
    assert_eq!((spec.width, spec.height, frames.len()), (800, 600, 27));
    let mp4 = encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap();
    let path = scratch("corpus.mp4", &mp4);

    let probe = ffprobe_json(&path);
    let s = stream(&probe);
    assert_eq!(s["codec_name"], "h264");
    assert_eq!(s["profile"], "Constrained Baseline");
    assert_eq!(s["pix_fmt"], "yuv420p");
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(800), Some(600))
    );
    assert_eq!(s["nb_read_frames"], "27");
    assert_eq!(s["color_range"], "tv");
    assert_eq!(s["color_space"], "smpte170m");
    // Frame Time 33.333 ms: 27 frames last 0.9 s.
    assert!(
        (secs(&s["duration"]) - 0.9).abs() < 0.001,
        "{}",
        s["duration"]
    );
    assert!((secs(&probe["format"]["duration"]) - 0.9).abs() < 0.001);

    let decoded = ffmpeg_decode(&path, "gray");
    assert_eq!(decoded.len(), 27 * 800 * 600);
    let (min, mean) = psnr_per_frame(&frames, &decoded, 800, 800, 600, 1);
    eprintln!(
        "corpus cine: PSNR min {min:.2} dB, mean {mean:.2} dB, {} KiB",
        mp4.len() / 1024
    );
    assert!(min >= 45.0, "PSNR {min:.2} dB is not near-lossless");
}

#[test]
fn rgb_frames_keep_their_colours() {
    let (w, h) = (320, 240);
    let frames = common::synthetic_rgb(w, h, 12);
    let spec = VideoSpec {
        width: w,
        height: h,
        fps: 60.0,
        format: PixelFormat::Rgb8,
    };
    let path = scratch(
        "rgb.mp4",
        &encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap(),
    );

    let probe = ffprobe_json(&path);
    let s = stream(&probe);
    assert_eq!(s["nb_read_frames"], "12");
    assert_eq!(s["r_frame_rate"], "60/1");
    assert!((secs(&s["duration"]) - 0.2).abs() < 0.001);

    // Luma is where the detail is; chroma is halved by 4:2:0 by design.
    let (min, mean) = psnr_per_frame(
        &common::synthetic_grey_bt601(&frames),
        &ffmpeg_decode(&path, "gray"),
        w as usize,
        w as usize,
        h as usize,
        1,
    );
    eprintln!("synthetic RGB luma: PSNR min {min:.2} dB, mean {mean:.2} dB");
    assert!(min >= 40.0, "luma PSNR {min:.2} dB");

    let rgb = ffmpeg_decode(&path, "rgb24");
    let (min, mean) = psnr_per_frame(&frames, &rgb, w as usize, w as usize, h as usize, 3);
    eprintln!("synthetic RGB: PSNR min {min:.2} dB, mean {mean:.2} dB");
    assert!(min >= 37.0, "RGB PSNR {min:.2} dB");
    // Flat colour patches come back as the same colour (matrix and range agree
    // between encoder and decoder): red patch centre, bottom left.
    let at = |x: usize, y: usize| &rgb[(y * w as usize + x) * 3..][..3];
    let red = at(8, h as usize - 10);
    for (got, want) in red.iter().zip([230u8, 30, 30]) {
        assert!(got.abs_diff(want) <= 6, "red patch decoded as {red:?}");
    }
}

#[test]
fn odd_sized_frames_survive_with_every_source_pixel() {
    let (w, h) = (321, 241);
    let frames = common::synthetic_grey(w, h, 5);
    let spec = VideoSpec {
        width: w,
        height: h,
        fps: 15.0,
        format: PixelFormat::Gray8,
    };
    let path = scratch(
        "odd.mp4",
        &encode_mp4(spec, frames.iter().map(Vec::as_slice)).unwrap(),
    );
    let s = stream(&ffprobe_json(&path)).clone();
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(322), Some(242))
    );
    let decoded = ffmpeg_decode(&path, "gray");
    let (min, _) = psnr_per_frame(&frames, &decoded, 322, w as usize, h as usize, 1);
    assert!(min >= 40.0, "PSNR {min:.2} dB");
    // The padding column is black, not a copy of the image.
    let last_col: Vec<u8> = decoded[..322 * 242]
        .chunks_exact(322)
        .map(|r| r[321])
        .collect();
    assert!(
        last_col.iter().all(|&v| v < 24),
        "padding column: {last_col:?}"
    );
}

#[test]
fn variable_frame_times_reach_the_decoder() {
    let frames = common::synthetic_grey(64, 48, 3);
    let mut enc = Mp4Encoder::new(
        VideoSpec {
            width: 64,
            height: 48,
            fps: 25.0,
            format: PixelFormat::Gray8,
        },
        Quality::Medium,
    )
    .unwrap();
    for (f, ms) in frames.iter().zip([40, 120, 40]) {
        enc.push_with_duration(f, Duration::from_millis(ms))
            .unwrap();
    }
    let path = scratch("vfr.mp4", &enc.finish().unwrap());
    let out = common::tool("ffprobe", "install it with `apt-get install -y ffmpeg`")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=pts_time,duration_time",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let packets: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let mut it = l.split(',').map(|v| v.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect();
    assert_eq!(packets, vec![(0.0, 0.04), (0.04, 0.12), (0.16, 0.04)]);
}
