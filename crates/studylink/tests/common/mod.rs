//! Helpers for the end-to-end suites: run the real `studylink` binary on
//! loopback ports with a temp data dir, talk to it as a device would.
#![allow(dead_code)]

pub mod scu;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_studylink");

pub struct Server {
    pub child: Child,
    pub http: SocketAddr,
    pub dicom: SocketAddr,
    pub data_dir: PathBuf,
}

impl Server {
    /// Starts `studylink serve` on free loopback ports and waits until both
    /// listeners are up (it prints their addresses once bound).
    pub fn start(data_dir: &Path) -> Server {
        Self::start_with_env(data_dir, &[])
    }

    pub fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path(data_dir))
            .unwrap();
        let mut cmd = Command::new(BIN);
        cmd.arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--http", "127.0.0.1:0", "--dicom", "127.0.0.1:0"])
            .env_remove("STUDYLINK_LOG")
            .stdout(Stdio::piped())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start studylink");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining after start-up so the server never sees a closed pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (mut http, mut dicom) = (None, None);
        while http.is_none() || dicom.is_none() {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("studylink did not start; see {}", log_path(data_dir).display()));
            if let Some(rest) = line.trim().strip_prefix("web:") {
                let a = rest.trim().trim_start_matches("http://");
                http = Some(a.split_whitespace().next().unwrap().parse().unwrap());
            }
            if let Some(rest) = line.trim().strip_prefix("DICOM:") {
                dicom = Some(rest.rsplit(' ').next().unwrap().parse().unwrap());
            }
        }
        Server { child, http: http.unwrap(), dicom: dicom.unwrap(), data_dir: data_dir.to_path_buf() }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.http)
    }

    pub fn kill9(&mut self) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), nix::sys::signal::Signal::SIGTERM);
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Server logs go under the target dir, which outlives the test's temp dir.
pub fn log_path(data_dir: &Path) -> PathBuf {
    let name = format!("{}-{}.log", data_dir.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy(), std::process::id());
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Runs a CLI subcommand against `data_dir` and returns its stdout.
pub fn cli(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).arg("--data-dir").arg(data_dir).args(args).output().unwrap();
    assert!(out.status.success(), "studylink {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

pub fn api_key(data_dir: &Path) -> String {
    cli(data_dir, &["api-key", "create", "--name", "tests"]).trim().to_string()
}

pub fn corpus() -> PathBuf {
    let p = std::env::var("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    assert!(
        p.join("MANIFEST.tsv").exists(),
        "test corpus not found at {}: set STUDYLINK_CORPUS to the shared corpus folder",
        p.display()
    );
    p
}

/// Byte offset where a Part 10 file's data set starts: walks the group-2
/// elements (always Explicit VR Little Endian) rather than trusting the group
/// length, which some files get wrong.
pub fn dataset_offset(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[128..132], b"DICM");
    let mut pos = 132;
    while pos + 8 <= bytes.len() && u16::from_le_bytes([bytes[pos], bytes[pos + 1]]) == 2 {
        let vr = &bytes[pos + 4..pos + 6];
        if matches!(vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN" | b"UC" | b"UR" | b"OD" | b"OL" | b"OV") {
            let len = u32::from_le_bytes(bytes[pos + 8..pos + 12].try_into().unwrap()) as usize;
            pos += 12 + len;
        } else {
            let len = u16::from_le_bytes([bytes[pos + 6], bytes[pos + 7]]) as usize;
            pos += 8 + len;
        }
    }
    pos
}

/// Requires a dcmtk tool, failing with instructions if it's missing.
pub fn dcmtk(tool: &str) -> Command {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().unwrap();
    assert!(found.status.success(), "{tool} not found: install dcmtk (apt-get install dcmtk); scripts/test does this");
    let mut c = Command::new(tool);
    c.env("TCP_NODELAY", "1");
    c
}

/// Splits a `multipart/related` body into its parts' contents (headers dropped).
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Vec<u8>> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .expect("multipart response without boundary")
        .trim_matches('"')
        .to_string();
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let mut parts = Vec::new();
    let mut starts: Vec<usize> = body.windows(d.len()).enumerate().filter(|(_, w)| *w == d).map(|(i, _)| i).collect();
    starts.dedup();
    for pair in starts.windows(2) {
        let seg = &body[pair[0] + d.len()..pair[1]];
        let head_end = seg.windows(4).position(|w| w == b"\r\n\r\n").expect("part headers") + 4;
        let mut content = &seg[head_end..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        parts.push(content.to_vec());
    }
    parts
}

/// Every stored instance, as QIDO-RS lists them (DICOM JSON objects).
pub async fn instance_list(base: &str, key: &str) -> Vec<serde_json::Value> {
    reqwest::Client::new()
        .get(format!("{base}/dicomweb/instances?limit=10000"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json::<Vec<serde_json::Value>>()
        .await
        .unwrap()
}
