//! Encoding speed and size on a real cine and a synthetic RGB loop.
//!
//!     cargo run --release -p studylink-video --example bench [-- OUT_DIR]
//!
//! With OUT_DIR the MP4 files are written there for inspection.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use studylink_video::{Mp4Encoder, PixelFormat, Quality, VideoSpec};

fn main() {
    let out_dir = std::env::args().nth(1).map(std::path::PathBuf::from);
    let (spec, frames) = common::corpus_cine();
    run("corpus cine (grey)", spec, &frames, out_dir.as_deref());
    let spec = VideoSpec {
        width: 1024,
        height: 768,
        fps: 30.0,
        format: PixelFormat::Rgb8,
    };
    let frames = common::synthetic_rgb(spec.width, spec.height, 100);
    run("synthetic RGB loop", spec, &frames, out_dir.as_deref());
}

fn run(name: &str, spec: VideoSpec, frames: &[Vec<u8>], out_dir: Option<&std::path::Path>) {
    for quality in [Quality::High, Quality::Medium, Quality::Low] {
        let start = Instant::now();
        let mut enc = Mp4Encoder::new(spec, quality).expect("spec");
        for f in frames {
            enc.push(f).expect("encode");
        }
        let mp4 = enc.finish().expect("finish");
        let secs = start.elapsed().as_secs_f64();
        let seconds_of_video = frames.len() as f64 / f64::from(spec.fps);
        println!(
            "{name}: {}x{} {} frames @ {:.2} fps, {quality:?}: {:.1} frames/s, {} KiB ({:.2} Mbit/s)",
            spec.width,
            spec.height,
            frames.len(),
            spec.fps,
            frames.len() as f64 / secs,
            mp4.len() / 1024,
            mp4.len() as f64 * 8.0 / seconds_of_video / 1e6,
        );
        if let Some(dir) = out_dir {
            let file = format!(
                "{}-{quality:?}.mp4",
                name.split(' ').next().unwrap_or("out")
            )
            .to_lowercase();
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(file), &mp4).unwrap();
        }
    }
}
