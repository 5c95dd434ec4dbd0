//! Pulling DICOM files out of an uploaded ZIP. Runs on a blocking thread and
//! hands each entry, spooled to its own temp object, to the async side through
//! a small channel, so extraction and ingestion overlap and memory stays flat.
//!
//! Entry paths are only ever displayed, never used to write files.

use std::io::Read;

use studylink_ingest::{IngestError, Ingestor, TempObject};
use tokio::sync::mpsc::Sender;

/// Why an entry (or the archive) could not be handed to the ingest pipeline.
#[derive(Debug)]
pub struct Refusal {
    /// Message id of the localised reason.
    pub reason_id: &'static str,
    /// Technical detail (never patient data: names and library errors only).
    pub detail: String,
    /// The server, not the file, is at fault.
    pub server_error: bool,
}

impl Refusal {
    fn client(reason_id: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal { reason_id, detail: detail.into(), server_error: false }
    }
}

pub struct ZipItem {
    pub name: String,
    pub content: Result<TempObject, Refusal>,
}

/// Most entries one archive may have (a big CT series is a few thousand).
const MAX_ENTRIES: usize = 100_000;

pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// Metadata that archivers and operating systems add; not the user's files.
/// DICOMDIR is the index of a CD/DVD, not an image.
pub fn skip_entry(name: &str) -> bool {
    if name.ends_with('/') || name.ends_with('\\') {
        return true;
    }
    let mut parts = name.split(['/', '\\']).filter(|p| !p.is_empty()).peekable();
    let mut last = "";
    while let Some(p) = parts.next() {
        if p.starts_with('.') || p == "__MACOSX" {
            return true;
        }
        if parts.peek().is_none() {
            last = p;
        }
    }
    last.is_empty() || last.eq_ignore_ascii_case("DICOMDIR")
}

/// A name safe to display: no control characters, bounded length.
pub fn display_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(300).collect();
    if cleaned.is_empty() { "?".into() } else { cleaned }
}

/// Reads every entry of `zip`, spooling at most `budget` uncompressed bytes in
/// all (a defence against ZIP bombs on top of the per-object size limit).
pub fn extract(zip: std::fs::File, zip_name: &str, ingest: &Ingestor, mut budget: u64, tx: &Sender<ZipItem>) {
    let send = |name: String, content| tx.blocking_send(ZipItem { name, content }).is_ok();
    let mut archive = match zip::ZipArchive::new(std::io::BufReader::new(zip)) {
        Ok(a) => a,
        Err(e) => {
            send(zip_name.to_string(), Err(Refusal::client("upload-reason-bad-zip", e.to_string())));
            return;
        }
    };
    let mut buf = vec![0u8; 256 * 1024];
    for i in 0..archive.len() {
        let raw_name = archive.name_for_index(i).unwrap_or("?").to_string();
        let name = format!("{zip_name}/{}", display_name(&raw_name));
        if i >= MAX_ENTRIES {
            send(zip_name.to_string(), Err(Refusal::client("upload-reason-zip-too-many", format!("more than {MAX_ENTRIES} entries"))));
            return;
        }
        if skip_entry(&raw_name) {
            continue;
        }
        let mut entry = match archive.by_index(i) {
            Ok(e) if e.is_dir() => continue,
            Ok(e) => e,
            Err(e) => {
                if !send(name, Err(Refusal::client("upload-reason-zip-entry", e.to_string()))) {
                    return;
                }
                continue;
            }
        };
        let mut tmp = match ingest.new_temp() {
            Ok(t) => t,
            Err(e) => {
                let refusal = Refusal { reason_id: "upload-reason-server", detail: e.to_string(), server_error: true };
                send(name, Err(refusal));
                return;
            }
        };
        let content = loop {
            match entry.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) if n as u64 > budget => {
                    break Err(Refusal::client("upload-reason-zip-bomb", "archive expands beyond the allowed size"));
                }
                Ok(n) => {
                    budget -= n as u64;
                    if let Err(e) = tmp.write_all(&buf[..n]) {
                        break Err(match e {
                            IngestError::TooLarge { .. } => Refusal::client("upload-reason-too-large", e.to_string()),
                            other => Refusal { reason_id: "upload-reason-server", detail: other.to_string(), server_error: true },
                        });
                    }
                }
                Err(e) => break Err(Refusal::client("upload-reason-zip-entry", e.to_string())),
            }
        };
        let exhausted = budget == 0 || matches!(&content, Err(r) if r.reason_id == "upload-reason-zip-bomb");
        if !send(name, content.map(|()| tmp)) || exhausted {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_metadata() {
        assert!(skip_entry("__MACOSX/study/._IM0001"));
        assert!(skip_entry("study/.DS_Store"));
        assert!(skip_entry(".hidden"));
        assert!(skip_entry("CD/DICOMDIR"));
        assert!(skip_entry("dir/"));
        assert!(!skip_entry("study/IM0001"));
        assert!(!skip_entry("IM0001.dcm"));
        assert!(skip_entry("../../etc/passwd"), "dot components are never user files");
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("a\u{0}b\nc"), "abc");
        assert_eq!(display_name(""), "?");
        assert_eq!(display_name(&"x".repeat(500)).len(), 300);
    }

    #[test]
    fn zip_magic() {
        assert!(is_zip(b"PK\x03\x04rest"));
        assert!(!is_zip(b"PK\x05\x06"));
        assert!(!is_zip(b"DICM"));
    }
}
