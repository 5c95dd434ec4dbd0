//! Debug aid without the server binary: de-identify one file (printing its
//! report) or a folder tree into OUT (writing OUT/report.json), fixed secret.
//! `cargo run -p studylink-deid --example deid_one -- IN OUT`

use std::path::Path;

use studylink_deid::{Deidentifier, Profile, ShareKeys};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let d = Deidentifier::new(Profile::default(), ShareKeys::from_secret([7; 32]));
    let input = Path::new(&args[1]);
    if input.is_file() {
        let out = d.deidentify(&std::fs::read(input).expect("read input"));
        println!("{} {:?}", out.classification.as_str(), out.classification.reason());
        println!("{}", serde_json::to_string_pretty(&out.report).unwrap());
        if let (Some(path), Some(bytes)) = (args.get(2), out.output) {
            std::fs::write(path, bytes).expect("write output");
        }
        return;
    }
    let out_dir = Path::new(&args[2]);
    std::fs::create_dir_all(out_dir).unwrap();
    let mut entries = Vec::new();
    for e in walkdir::WalkDir::new(input).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let out = d.deidentify(&std::fs::read(e.path()).unwrap());
        let output = out.output.as_ref().map(|b| {
            let p = out_dir.join(format!("{}.dcm", out.new_sop_instance_uid.as_deref().unwrap()));
            std::fs::write(&p, b).unwrap();
            p.display().to_string()
        });
        entries.push(serde_json::json!({
            "input": e.path().display().to_string(),
            "output": output,
            "classification": out.classification.as_str(),
            "reason": out.classification.reason(),
            "report": out.report,
        }));
    }
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&entries).unwrap()).unwrap();
}
