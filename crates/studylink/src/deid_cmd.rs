//! `studylink deid IN OUT`: de-identifies a file or a folder tree into OUT,
//! naming outputs by their new SOP Instance UID, in parallel on all cores.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use rayon::prelude::*;
use serde::Serialize;
use studylink_deid::{Classification, DateOption, Deidentifier, ObjectReport, Profile, ShareKeys};

#[derive(Args, Debug)]
pub struct DeidArgs {
    /// A DICOM file, or a folder searched recursively.
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// Output folder (created). Objects that need a password go to OUT/needs_password/.
    #[arg(value_name = "OUT")]
    output: PathBuf,
    /// Write a JSON report (one entry per input file) here.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Comma-separated: basic (default), full-dates, shifted-dates,
    /// patient-characteristics, device-identity, clean-descriptors, safe-private.
    #[arg(long, value_delimiter = ',', default_value = "basic")]
    profile: Vec<String>,
    /// The share's secret as 64 hex digits (default: a new random secret, so
    /// UIDs differ from any other run).
    #[arg(long, value_name = "HEX", env = "STUDYLINK_DEID_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Also read the image area of burned-in objects with OCR (libtesseract) and blank words that match
    /// the patient's identifying values, as the server does before anything reaches a patient
    /// (`share.ocr`). About 0.1 s of CPU per cleaned image.
    #[arg(long, env = "STUDYLINK_DEID_OCR", value_parser = clap::builder::FalseyValueParser::new())]
    ocr: bool,
}

#[derive(Serialize)]
struct Entry {
    input: String,
    output: Option<String>,
    classification: &'static str,
    reason: Option<String>,
    new_sop_instance_uid: Option<String>,
    #[serde(flatten)]
    report: ObjectReport,
}

fn profile_from(names: &[String]) -> Result<Profile> {
    let mut p = Profile::default();
    for n in names.iter().map(|s| s.trim().to_ascii_lowercase()) {
        match n.as_str() {
            "" | "basic" => {}
            "full-dates" => p.retain_dates = DateOption::Full,
            "shifted-dates" | "modified-dates" => p.retain_dates = DateOption::Shift,
            "patient-characteristics" => p.retain_patient_characteristics = true,
            "device-identity" => p.retain_device_identity = true,
            "clean-descriptors" => p.clean_descriptors = true,
            "safe-private" => p.retain_safe_private = true,
            other => bail!("unknown profile option {other:?}"),
        }
    }
    Ok(p)
}

fn keys_from(secret: Option<&str>) -> Result<ShareKeys> {
    let Some(hex_secret) = secret else { return Ok(ShareKeys::random()) };
    let bytes = hex::decode(hex_secret.trim()).context("--secret must be hex")?;
    let secret: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("--secret must be 32 bytes (64 hex digits)"))?;
    Ok(ShareKeys::from_secret(secret))
}

fn inputs(root: &Path) -> Result<Vec<PathBuf>> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    if !root.is_dir() {
        bail!("{} is neither a file nor a folder", root.display());
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    Ok(files)
}

/// Writes `parts` as `dir/<uid>.dcm`, never overwriting: a second object with
/// the same UID (a duplicate input) gets a numbered name.
fn write_new(dir: &Path, uid: &str, parts: &[&[u8]]) -> std::io::Result<PathBuf> {
    for n in 0u32.. {
        let name = if n == 0 { format!("{uid}.dcm") } else { format!("{uid}-{n}.dcm") };
        let path = dir.join(name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                for part in parts {
                    f.write_all(part)?;
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!()
}

thread_local! {
    /// Each worker reads its inputs into the same buffer: a fresh one per
    /// 13 MB cine cost a page fault and a zeroed page every 4 KB.
    static INPUT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    buf.clear();
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len() as usize;
    buf.reserve(len + 1);
    f.read_to_end(buf)?;
    Ok(())
}

fn process(deid: &Deidentifier, path: &Path, out: &Path, protected: &Path) -> Entry {
    INPUT.with_borrow_mut(|buf| process_in(deid, path, out, protected, buf))
}

fn process_in(deid: &Deidentifier, path: &Path, out: &Path, protected: &Path, bytes: &mut Vec<u8>) -> Entry {
    let input = path.display().to_string();
    match read_into(path, bytes) {
        Ok(()) => {}
        Err(e) => {
            return Entry {
                input,
                output: None,
                classification: "rejected",
                reason: Some(format!("cannot read file: {}", e.kind())),
                new_sop_instance_uid: None,
                report: ObjectReport::default(),
            };
        }
    };
    let outcome = deid.deidentify_split(bytes);
    let dir = if matches!(outcome.classification, Classification::Clean) { out } else { protected };
    let mut classification = outcome.classification.as_str();
    let mut reason = outcome.classification.reason().map(str::to_string);
    let mut output = None;
    if let (Some(data), Some(uid)) = (&outcome.output, &outcome.new_sop_instance_uid) {
        let tail = outcome.tail.clone().map_or(&[][..], |t| &bytes[t]);
        match write_new(dir, uid, &[data, tail]) {
            Ok(p) => output = Some(p.display().to_string()),
            Err(e) => {
                classification = "rejected";
                reason = Some(format!("cannot write output: {}", e.kind()));
            }
        }
    }
    Entry { input, output, classification, reason, new_sop_instance_uid: outcome.new_sop_instance_uid, report: outcome.report }
}

pub fn run(args: DeidArgs) -> Result<()> {
    // A caught panic is reported per file; its message could quote data.
    std::panic::set_hook(Box::new(|_| eprintln!("internal error while de-identifying a file (details withheld)")));
    let profile = profile_from(&args.profile)?;
    let keys = keys_from(args.secret.as_deref())?;
    let files = inputs(&args.input)?;
    let protected = args.output.join("needs_password");
    std::fs::create_dir_all(&protected).with_context(|| format!("creating {}", protected.display()))?;
    let mut deid = Deidentifier::new(profile, keys);
    if args.ocr {
        let t = studylink_ocr::Tesseract::load().map_err(|e| anyhow::anyhow!("--ocr: {e}"))?;
        deid = deid.with_text_finder(std::sync::Arc::new(t));
    }

    let mut pool = rayon::ThreadPoolBuilder::new().stack_size(32 << 20);
    if let Some(j) = args.jobs {
        pool = pool.num_threads(j.max(1));
    }
    let pool = pool.build()?;
    let started = Instant::now();
    let entries: Vec<Entry> =
        pool.install(|| files.par_iter().map(|f| process(&deid, f, &args.output, &protected)).collect());
    let elapsed = started.elapsed().as_secs_f64();

    let count = |c: &str| entries.iter().filter(|e| e.classification == c).count();
    eprintln!(
        "{} files in {:.2}s ({:.0}/s): {} clean, {} need a password, {} rejected",
        entries.len(),
        elapsed,
        entries.len() as f64 / elapsed.max(1e-9),
        count("clean"),
        count("needs_password"),
        count("rejected"),
    );
    if let Some(report) = &args.report {
        let json = serde_json::to_vec_pretty(&entries)?;
        std::fs::write(report, json).with_context(|| format!("writing {}", report.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_parse_and_unknown_fails() {
        let p = profile_from(&["shifted-dates".into(), "device-identity".into()]).unwrap();
        assert_eq!(p.retain_dates, DateOption::Shift);
        assert!(p.retain_device_identity);
        assert!(profile_from(&["nonsense".into()]).is_err());
        assert!(keys_from(Some("zz")).is_err());
        assert!(keys_from(Some(&"ab".repeat(32))).is_ok());
    }
}
