//! Cleaning throughput on the burned-in cine loops (a benchmark, not a test).
//! `cargo run --release -p studylink-deid --example pixels_bench`

#[path = "../tests/pixels_support/mod.rs"]
mod pixels_support;

use std::time::Instant;

use dicom_dictionary_std::tags;
use pixels_support::open;
use studylink_deid::pixels::{self, Encoding};

fn main() {
    for file in [
        "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm",
        "ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm",
        "ultrasound/us_palette_rle_2frame_philips_cx50.dcm",
        "ultrasound/us_cine_jpeglossless_rgb_2f_medistim.dcm",
    ] {
        let original = open(file);
        for encoding in [Encoding::Auto, Encoding::Native, Encoding::RleLossless] {
            let mut best = f64::MAX;
            let (mut frames, mut bytes) = (0, 0);
            for _ in 0..3 {
                let mut obj = original.clone();
                let start = Instant::now();
                let cleaned = pixels::clean_with(&mut obj, encoding).expect(file);
                best = best.min(start.elapsed().as_secs_f64());
                frames = cleaned.frames;
                let pd = obj.element(tags::PIXEL_DATA).unwrap();
                bytes = match pd.fragments() {
                    Some(f) => f.iter().map(Vec::len).sum(),
                    None => pd.to_bytes().unwrap().len(),
                };
            }
            println!(
                "{file} {encoding:?}: {frames} frames in {best:.3} s = {:.0} frames/s, pixel data {:.1} MB",
                frames as f64 / best,
                bytes as f64 / 1e6
            );
        }
    }
}
