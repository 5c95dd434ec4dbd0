//! Rendering throughput on the corpus ultrasound files: every frame of every
//! file to a full-size JPEG (quality 90), like one /rendered request after
//! another. Run in release:
//!
//!     cargo run --release -p studylink-imaging --example render_bench [corpus]
//!
//! Prints frames/s (1) with stored baseline JPEG frames sent as is (what
//! /rendered does by default), (2) with every frame decoded and re-encoded
//! (what `?quality=` forces), both with the object in memory, and (3) with
//! the file opened and parsed for every frame, as a stateless request does,
//! on one thread and on all cores.
//!
//! Other work on the machine slows the wall clock, so frames per CPU-second
//! of this process (from /proc, Linux) is printed too: the throughput one
//! core gives when it is not shared.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::time::Instant;

use dicom_object::DefaultDicomObject;
use studylink_imaging::{Format, ImageKind, RenderRequest, kind, render};

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Clock ticks are 100 per second on every Linux configuration in use.
    (tick(11) + tick(12)) / 100.0
}

fn request(frame: u32, reuse: bool) -> RenderRequest {
    RenderRequest { reuse_stored_jpeg: reuse, ..RenderRequest::new(frame, Format::Jpeg { quality: 90 }) }
}

fn frames(obj: &DefaultDicomObject) -> u32 {
    match kind(obj) {
        ImageKind::Image { frames } => frames,
        _ => 0,
    }
}

fn in_memory(objects: &[(PathBuf, DefaultDicomObject)], reuse: bool, verbose: bool) {
    let (mut total, mut failures, mut bytes) = (0u32, 0u32, 0usize);
    let (start, cpu) = (Instant::now(), cpu_seconds());
    for (path, obj) in objects {
        let n = frames(obj);
        let t = Instant::now();
        for f in 0..n {
            match render(obj, &request(f, reuse)) {
                Ok(r) => bytes += r.bytes.len(),
                Err(e) => {
                    failures += 1;
                    eprintln!("{}: frame {}: {e}", path.display(), f + 1);
                }
            }
        }
        if verbose {
            let name = path.file_name().unwrap().to_string_lossy();
            println!("  {name:<58} {n:>3} frames {:>8.1} frames/s", n as f64 / t.elapsed().as_secs_f64());
        }
        total += n;
    }
    let (el, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let how = if reuse { "stored JPEG reused" } else { "all re-encoded" };
    println!(
        "in memory, {how}: {total} frames in {el:.2} s = {:.0} frames/s ({:.0} per CPU-second), {failures} failures, {} KiB",
        total as f64 / el,
        total as f64 / cpu,
        bytes / 1024
    );
}

/// Open, parse and render each frame from scratch, on `threads` threads.
fn per_request(files: &[(PathBuf, u32)], threads: usize) {
    let jobs: Vec<(PathBuf, u32)> = files.iter().flat_map(|(p, n)| (0..*n).map(move |f| (p.clone(), f))).collect();
    let (start, cpu) = (Instant::now(), cpu_seconds());
    std::thread::scope(|s| {
        for chunk in jobs.chunks(jobs.len().div_ceil(threads)) {
            s.spawn(move || {
                for (path, f) in chunk {
                    let obj = common::open(path).unwrap();
                    render(&obj, &request(*f, true)).unwrap();
                }
            });
        }
    });
    let (el, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let n = jobs.len() as f64;
    println!("open + parse + render per frame, {threads} thread(s): {n} frames in {el:.2} s = {:.0} frames/s ({:.0} per CPU-second)", n / el, n / cpu);
}

fn main() {
    if let Some(root) = std::env::args().nth(1) {
        // SAFETY: single-threaded, before anything reads the environment.
        unsafe { std::env::set_var("STUDYLINK_CORPUS", root) };
    }
    let dir = common::corpus_root().join("ultrasound");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let objects: Vec<(PathBuf, DefaultDicomObject)> = paths.iter().map(|p| (p.clone(), common::open(p).unwrap())).collect();
    in_memory(&objects, true, false);
    in_memory(&objects, false, true);
    let files: Vec<(PathBuf, u32)> = objects.iter().map(|(p, o)| (p.clone(), frames(o))).collect();
    per_request(&files, 1);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if cores > 1 {
        per_request(&files, cores);
    }
}
