//! The command line as an operator uses it, and `serve` on the grown-up
//! stack: PostgreSQL for rows and an S3-compatible server (moto) for blobs.

mod common;

use std::process::Command;
use std::time::Duration;

use common::scu::Scu;
use common::{corpus, dataset_offset, multipart_parts, Server, BIN};

#[test]
fn user_add_prints_a_password_once_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = common::cli(&data, &["user", "add", "Admin@Clinic.example", "--admin"]);
    assert!(out.contains("admin@clinic.example"), "{out}");
    let pw = out.lines().find_map(|l| l.strip_prefix("Password: ")).expect("a generated password");
    assert!(pw.len() >= 16, "{pw}");
    let again = Command::new(BIN).arg("--data-dir").arg(&data).args(["user", "add", "admin@clinic.example"]).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("admin@clinic.example"));
    let bad = Command::new(BIN).arg("--data-dir").arg(&data).args(["user", "add", "not-an-email"]).output().unwrap();
    assert!(!bad.status.success());
}

#[test]
fn import_reports_stored_duplicates_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |paths: &[std::path::PathBuf]| Command::new(BIN).arg("--data-dir").arg(&data).arg("import").args(paths).output().unwrap();
    let ct = corpus().join("ct");
    let first = run(&[ct.clone()]);
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{text}{}", String::from_utf8_lossy(&first.stderr));
    let n = std::fs::read_dir(&ct).unwrap().count();
    assert!(text.contains(&format!("{n} stored")) || text.contains(" stored, "), "{text}");
    let again = run(&[ct.clone(), corpus().join("invalid_and_edge/truncated_pixel_data.dcm")]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(1), "a refused file makes the exit status 1: {text}");
    assert!(text.contains("0 stored"), "{text}");
    assert!(text.contains("refused") && text.contains("truncated_pixel_data.dcm") && text.contains("truncated?"), "{text}");
}

#[test]
fn bad_configuration_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve"])
        .env("STUDYLINK__DICOM__AE_TITLE", "A_TITLE_THAT_IS_TOO_LONG")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ae_title"));
}

struct Moto(std::process::Child, u16);
impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_moto() -> Moto {
    let venv = std::env::var("STUDYLINK_VENV").unwrap_or_else(|_| "/var/tmp/studylink-venv".into());
    let bin = format!("{venv}/bin/moto_server");
    assert!(
        std::path::Path::new(&bin).exists(),
        "{bin} not found: python3 -m venv {venv} && {venv}/bin/pip install 'moto[server]' (scripts/test does this)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Moto(child, port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto_server did not start");
}

fn psql(sql: &str) {
    let url = std::env::var("STUDYLINK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let out = Command::new("psql").arg(&url).args(["-v", "ON_ERROR_STOP=1", "-c", sql]).output().expect("psql");
    assert!(
        out.status.success(),
        "PostgreSQL not usable at {url}: {} — start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgresql_and_s3() {
    let moto = start_moto();
    let bucket = "studylink-test";
    reqwest::Client::new().put(format!("http://127.0.0.1:{}/{bucket}", moto.1)).send().await.unwrap();
    let db = format!("studylink_cli_{}", std::process::id());
    psql(&format!("DROP DATABASE IF EXISTS {db}"));
    psql(&format!("CREATE DATABASE {db}"));
    let pg = std::env::var("STUDYLINK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let db_url = format!("{}/{db}", pg.rsplit_once('/').unwrap().0);
    let endpoint = format!("http://127.0.0.1:{}", moto.1);
    let env: Vec<(&str, &str)> = vec![
        ("STUDYLINK__DATABASE__URL", &db_url),
        ("STUDYLINK__STORAGE__KIND", "s3"),
        ("STUDYLINK__STORAGE__BUCKET", bucket),
        ("STUDYLINK__STORAGE__ENDPOINT", &endpoint),
        ("STUDYLINK__STORAGE__ALLOW_HTTP", "true"),
        ("STUDYLINK__STORAGE__ACCESS_KEY_ID", "test"),
        ("STUDYLINK__STORAGE__SECRET_ACCESS_KEY", "test"),
        ("STUDYLINK__STORAGE__PREFIX", "clinic1"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = {
        let mut c = Command::new(BIN);
        c.arg("--data-dir").arg(&data).args(["api-key", "create"]);
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let server = Server::start_with_env(&data, &env);

    // Small and large (13 MB, multipart upload to S3) objects.
    let files = ["ct/ct_small_evrle_signed16.dcm", "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm"];
    let mut sent = Vec::new();
    for f in files {
        let bytes = std::fs::read(corpus().join(f)).unwrap();
        let obj = dicom_object::from_reader(&bytes[128..]).unwrap();
        let (class, sop, ts) = (
            obj.meta().media_storage_sop_class_uid().to_string(),
            obj.meta().media_storage_sop_instance_uid().to_string(),
            obj.meta().transfer_syntax().to_string(),
        );
        let mut scu = Scu::connect(server.dicom, &[(&class, &ts)]).unwrap();
        let ds = bytes[dataset_offset(&bytes)..].to_vec();
        assert_eq!(scu.store(&class, &sop, &ts, &ds).unwrap().0, 0, "{f}");
        scu.release();
        sent.push((sop, ds));
    }
    let http = reqwest::Client::new();
    let list: Vec<serde_json::Value> =
        http.get(format!("{}/dicomweb/instances", server.base())).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(list.len(), 2);
    for (sop, ds) in &sent {
        let o = list.iter().find(|o| o["00080018"]["Value"][0] == sop.as_str()).unwrap();
        let url = format!(
            "{}/dicomweb/studies/{}/series/{}/instances/{sop}",
            server.base(),
            o["0020000D"]["Value"][0].as_str().unwrap(),
            o["0020000E"]["Value"][0].as_str().unwrap()
        );
        let resp = http.get(url).bearer_auth(&key).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let body = resp.bytes().await.unwrap();
        let part = &multipart_parts(&ct, &body)[0];
        assert!(&part[dataset_offset(part)..] == &ds[..], "{sop}: not identical after S3");
    }
    // The blobs really are in the bucket, under the prefix, not on local disk.
    let listing = http.get(format!("http://127.0.0.1:{}/{bucket}?list-type=2&prefix=clinic1/", moto.1)).send().await.unwrap().text().await.unwrap();
    assert_eq!(listing.matches("<Key>").count(), 2, "{listing}");
    assert!(!data.join("blobs").exists());
    drop(server);
    psql(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
}
