//! `studylink deid`: the built binary on a folder of corpus files, its report,
//! its outputs, and dciodvfy (dicom3tools) on every output compared with its
//! input: no Error line the input didn't already have.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus() -> PathBuf {
    let p = std::env::var("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(p.join("MANIFEST.tsv").exists(), "corpus not found at {}: set STUDYLINK_CORPUS", p.display());
    p
}

const FILES: &[&str] = &[
    "mr/mr_small_evrle.dcm",
    "mr/mr_small_bigendian.dcm",
    "ct/ct_small_evrle_signed16.dcm",
    "ct/ct_deflated_evrle.dcm",
    "cr_dx_mg/dx_mono1_8bit_small.dcm",
    "charsets/chrFren.dcm",
    "charsets/chrJapMulti.dcm",
    "documents/encapsulated_pdf.dcm",
    "documents/sr_basic_text_offis.dcm",
    "other_modalities/rtstruct.dcm",
    "other_modalities/seg_binary_highdicom.dcm",
    "overlays/mr_siemens_overlay_icon.dcm",
    "private_and_nested/priv_sq_undefined_length.dcm",
    "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm",
    "invalid_and_edge/gzipped_mr.dcm.gz",
    "invalid_and_edge/deeply_nested_sequence.dcm",
];

const SECRET: &str = "0101010101010101010101010101010101010101010101010101010101010101";

fn run(input: &Path, out: &Path, report: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_studylink"))
        .args(["deid", input.to_str().unwrap(), out.to_str().unwrap(), "--report", report.to_str().unwrap()])
        .args(["--secret", SECRET, "--profile", "basic"])
        .status()
        .expect("run studylink");
    assert!(status.success(), "studylink deid failed: {status}");
}

/// dciodvfy's Error lines, with UIDs and numbers masked (they legitimately change).
fn dciodvfy_errors(path: &Path) -> BTreeSet<String> {
    let out = match Command::new("dciodvfy").arg(path).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("dciodvfy not found: install dicom3tools (Debian/Ubuntu: `apt-get install -y dicom3tools`)")
        }
        Err(e) => panic!("running dciodvfy: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter(|l| l.starts_with("Error"))
        .map(|l| {
            let mut s = String::new();
            let mut in_num = false;
            for c in l.chars() {
                let num = c.is_ascii_digit() || (in_num && c == '.');
                if num && !in_num {
                    s.push('#');
                }
                if !num {
                    s.push(c);
                }
                in_num = num;
            }
            s.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn deid_folder_writes_outputs_named_by_new_uid_a_report_and_valid_dicom() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    for f in FILES {
        let dest = input.join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(corpus().join(f), &dest).unwrap();
    }
    let out = tmp.path().join("out");
    let report_path = tmp.path().join("report.json");
    run(&input, &out, &report_path);

    let report: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report.len(), FILES.len(), "one report entry per input");
    let mut dciodvfy_failures = Vec::new();
    for entry in &report {
        let input_path = entry["input"].as_str().unwrap();
        let class = entry["classification"].as_str().unwrap();
        assert!(["clean", "needs_password", "rejected"].contains(&class), "{input_path}: {class}");
        assert!(entry["actions"].is_object() || class == "rejected", "{input_path}: no action counts");
        assert!(entry["options"].is_array());
        if class == "rejected" {
            assert!(entry["output"].is_null());
            assert!(!entry["reason"].as_str().unwrap_or("").is_empty(), "{input_path}: rejected without a reason");
            continue;
        }
        if class == "needs_password" {
            assert!(!entry["reason"].as_str().unwrap_or("").is_empty());
        }
        let output = PathBuf::from(entry["output"].as_str().unwrap());
        let uid = entry["new_sop_instance_uid"].as_str().unwrap();
        assert!(uid.starts_with("2.25."), "{uid}");
        // Two inputs holding one instance (here: one MR image in two encodings) get numbered names.
        let file_name = output.file_name().unwrap().to_str().unwrap().to_string();
        let stem = file_name.strip_suffix(".dcm").unwrap();
        assert!(stem == uid || stem.strip_prefix(uid).is_some_and(|n| n.starts_with('-')), "{file_name} not named by {uid}");
        let expected_dir = if class == "clean" { out.clone() } else { out.join("needs_password") };
        assert_eq!(output.parent().unwrap(), expected_dir);
        assert!(output.is_file());
        let new_errors: Vec<String> =
            dciodvfy_errors(&output).difference(&dciodvfy_errors(Path::new(input_path))).cloned().collect();
        if !new_errors.is_empty() {
            dciodvfy_failures.push(format!("{input_path}:\n  {}", new_errors.join("\n  ")));
        }
    }
    let by_name = |suffix: &str| report.iter().find(|e| e["input"].as_str().unwrap().ends_with(suffix)).unwrap();
    assert_eq!(by_name("gzipped_mr.dcm.gz")["classification"], "rejected");
    assert!(by_name("gzipped_mr.dcm.gz")["reason"].as_str().unwrap().contains("gzip"));
    assert_eq!(by_name("deeply_nested_sequence.dcm")["classification"], "rejected");
    assert_eq!(by_name("encapsulated_pdf.dcm")["classification"], "needs_password");
    assert_eq!(by_name("mr_small_evrle.dcm")["classification"], "clean");
    assert!(dciodvfy_failures.is_empty(), "outputs with new dciodvfy errors:\n{}", dciodvfy_failures.join("\n"));

    // Same secret, same names: a share can be re-run.
    let out2 = tmp.path().join("out2");
    run(&input, &out2, &tmp.path().join("report2.json"));
    let names = |d: &Path| {
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<BTreeSet<_>>()
    };
    assert_eq!(names(&out), names(&out2));
}

#[test]
fn deid_rejects_an_unknown_profile_option() {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_studylink"))
        .args(["deid", corpus().join("mr/mr_small_evrle.dcm").to_str().unwrap(), tmp.path().to_str().unwrap()])
        .args(["--profile", "keep-everything"])
        .status()
        .unwrap();
    assert!(!status.success());
}
