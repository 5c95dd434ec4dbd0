//! A real imaging-device peer (dcmtk) against the real server binary: C-ECHO,
//! the whole corpus through dcmsend, and WADO-RS giving back exactly what was
//! stored.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use common::scu::Scu;
use common::{api_key, corpus, dataset_offset, dcmtk, instance_list, multipart_parts, Server};
use dicom_dictionary_std::tags;

/// Every corpus file outside `invalid_and_edge/`, with its SOP Instance UID as
/// an independent reader (dicom-object, full parse) sees it.
fn valid_corpus() -> Vec<(PathBuf, String, String, String)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(corpus()).sort_by_file_name() {
        let entry = entry.unwrap();
        let p = entry.path();
        if !entry.file_type().is_file() || p.components().any(|c| c.as_os_str() == "invalid_and_edge" || c.as_os_str() == "_licences_and_provenance") {
            continue;
        }
        if let Ok(obj) = dicom_object::open_file(p) {
            // Bytes, not to_str(): some files carry UIDs with VR UN.
            let s = |t| {
                obj.element(t)
                    .ok()
                    .and_then(|e| e.to_bytes().ok())
                    .map(|v| String::from_utf8_lossy(&v).trim_end_matches(['\0', ' ']).to_string())
            };
            if let (Some(sop), Some(class)) = (s(tags::SOP_INSTANCE_UID), s(tags::SOP_CLASS_UID)) {
                out.push((p.to_path_buf(), sop, class, obj.meta().transfer_syntax().to_string()));
            }
        }
    }
    assert!(out.len() > 90, "corpus looks incomplete: {} files", out.len());
    out
}

fn uid(o: &serde_json::Value, tag: &str) -> String {
    o[tag]["Value"][0].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoscu_and_dcmsend_store_every_valid_corpus_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = api_key(&data);
    let server = Server::start(&data);
    let port = server.dicom.port().to_string();

    let echo = dcmtk("echoscu").args(["-aec", "STUDYLINK", "127.0.0.1", &port]).output().unwrap();
    assert!(echo.status.success(), "echoscu failed: {}", String::from_utf8_lossy(&echo.stderr));

    // dcmsend itself segfaults on invalid_and_edge/deeply_nested_sequence.dcm
    // (a DCMTK stack overflow, noted in the corpus README) and then stops, so
    // the broken files go one dcmsend each and the rest folder by folder.
    let mut report = String::new();
    let mut targets: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() && p.file_name().unwrap() == "invalid_and_edge" {
            targets.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.is_dir() && p.file_name().unwrap() != "_licences_and_provenance" {
            targets.push(p);
        }
    }
    for target in &targets {
        let send = dcmtk("dcmsend")
            .args(["-nh", "-aec", "STUDYLINK", "127.0.0.1", &port, "--scan-directories", "--recurse"])
            .arg(target)
            .output()
            .unwrap();
        report += &format!("{}: {:?}\n{}", target.display(), send.status, String::from_utf8_lossy(&send.stderr));
    }

    // dcmsend can't read some valid files itself (e.g. "Invalid tag" in the
    // Philips iU22 JPEG-LS file, HTJ2K, retired SOP classes); our own SCU sends
    // those in the next test.
    let unsendable: Vec<&str> = report
        .lines()
        .filter_map(|l| {
            l.strip_prefix("E: cannot send SOP instance from file: ")
                .or_else(|| l.strip_prefix("E: cannot add DICOM file to the transfer list: "))
        })
        .filter_map(|l| l.split(": ").next())
        .collect();
    let expected: HashSet<String> = valid_corpus()
        .into_iter()
        .filter(|(p, _, _, _)| !unsendable.iter().any(|u| p.ends_with(u.rsplit("corpus/").next().unwrap())))
        .map(|(_, sop, _, _)| sop)
        .collect();
    let stored: HashSet<String> = instance_list(&server.base(), &key).await.iter().map(|o| uid(o, "00080018")).collect();
    let missing: Vec<_> = expected.difference(&stored).collect();
    assert!(missing.is_empty(), "{} valid corpus instances not stored: {missing:?}\ndcmsend said:\n{report}", missing.len());
}

/// Our own SCU sends each file's data set byte for byte (dcmtk may re-encode),
/// so WADO-RS must give back those exact bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wado_rs_returns_the_data_set_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = api_key(&data);
    let server = Server::start(&data);

    // Files whose SOP Instance UID is unique in the corpus (some images exist
    // in several transfer syntaxes under one UID; the first stored wins).
    let files = valid_corpus();
    let mut count: HashMap<String, usize> = HashMap::new();
    for (_, sop, _, _) in &files {
        *count.entry(sop.clone()).or_default() += 1;
    }
    let unique: Vec<_> = files.into_iter().filter(|(_, sop, _, _)| count[sop] == 1).collect();
    let contexts: Vec<(String, String)> = unique
        .iter()
        .map(|(_, _, class, ts)| (class.clone(), ts.clone()))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    // An association carries at most 128 presentation contexts.
    let mut sent = Vec::new();
    for chunk in contexts.chunks(100) {
        let refs: Vec<(&str, &str)> = chunk.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let mut scu = Scu::connect(server.dicom, &refs).expect("associate");
        for (path, sop, class, ts) in &unique {
            if !chunk.iter().any(|(c, t)| c == class && t == ts) {
                continue;
            }
            let bytes = std::fs::read(path).unwrap();
            let ds = &bytes[dataset_offset(&bytes)..];
            let (status, why) = scu.store(class, sop, ts, ds).unwrap();
            assert_eq!(status, 0, "{} refused: {why}", path.display());
            sent.push((path.clone(), sop.clone(), ds.to_vec()));
        }
        scu.release();
    }

    let list = instance_list(&server.base(), &key).await;
    let by_sop: HashMap<String, &serde_json::Value> = list.iter().map(|o| (uid(o, "00080018"), o)).collect();
    let http = reqwest::Client::new();
    for (path, sop, ds) in &sent {
        let o = by_sop.get(sop).unwrap_or_else(|| panic!("{} not listed", path.display()));
        let url = format!(
            "{}/dicomweb/studies/{}/series/{}/instances/{sop}",
            server.base(),
            uid(o, "0020000D"),
            uid(o, "0020000E")
        );
        let resp = http.get(url).bearer_auth(&key).header("accept", "multipart/related; type=\"application/dicom\"").send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", path.display());
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let body = resp.bytes().await.unwrap();
        let parts = multipart_parts(&ct, &body);
        assert_eq!(parts.len(), 1);
        let got = &parts[0][dataset_offset(&parts[0])..];
        assert!(got == &ds[..], "{}: data set differs after the round trip", path.display());
    }
    assert!(sent.len() >= 75, "only {} files were checked", sent.len());
}
