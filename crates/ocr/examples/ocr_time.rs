//! Times the text check (`studylink_deid::check_text` with Tesseract) over
//! corpus ultrasound files already de-identified without it, one thread:
//!   cargo run --release -p studylink-ocr --example ocr_time -- [ROUNDS] [FILES…]
//! Prints the words blanked per file (the Acuson file must show its "DOE").
use std::time::Instant;

use studylink_deid::{Deidentifier, Profile, ShareKeys, TextChecked, check_text};

const FILES: &[&str] = &[
    "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm",
    "ultrasound/us_rgb_evrle_burnedin_siemens_s2000.dcm",
    "ultrasound/us_jpegbaseline_ybr422_burnedin_atl.dcm",
    "ultrasound/us_ybrfull_evrle_burnedin_atl.dcm",
    "ultrasound/us_ybrfull_rle_burnedin_acuson.dcm",
    "ultrasound/us_rgb_rle_wg04_us1.dcm",
    "ultrasound/us_palette_rle_philips_cx50.dcm",
    "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm",
    "ultrasound/us_cine_jpegbaseline_87f_burnedin_voluson.dcm",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(3);
    let root = std::env::var("STUDYLINK_CORPUS").unwrap_or_else(|_| "../shared/corpus".into());
    let files: Vec<String> =
        if args.len() > 1 { args[1..].to_vec() } else { FILES.iter().map(|s| s.to_string()).collect() };
    let tess = studylink_ocr::Tesseract::load().expect("libtesseract");
    let deid = Deidentifier::new(Profile::default(), ShareKeys::from_secret([1; 32]));
    let inputs: Vec<(String, Vec<u8>, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let original = std::fs::read(format!("{root}/{f}")).expect("corpus file");
            let out = deid.deidentify(&original).output.expect("an output");
            (f.clone(), original, out)
        })
        .collect();
    let started = Instant::now();
    for round in 0..rounds {
        for (name, original, out) in &inputs {
            let t = Instant::now();
            let words = match check_text(original, out, &tess) {
                Ok(TextChecked::Unchanged) => 0,
                Ok(TextChecked::Blanked { words, .. }) => words,
                Err(e) => panic!("{name}: {e}"),
            };
            if round == 0 {
                println!("{:>7.1} ms  {words} word(s)  {name}", t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let per = started.elapsed().as_secs_f64() * 1e3 / (rounds * inputs.len()) as f64;
    println!("{per:.1} ms per file over {rounds} rounds of {} files", inputs.len());
}
