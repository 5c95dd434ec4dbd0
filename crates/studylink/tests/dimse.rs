//! The C-STORE receiver's contract with devices: clear failure statuses that
//! don't disturb anything else, AE title rules, concurrent associations,
//! graceful shutdown that finishes running associations, health and metrics.

mod common;

use std::time::Duration;

use common::scu::Scu;
use common::{corpus, dataset_offset, Server};

const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const US_MF: &str = "1.2.840.10008.5.1.4.1.1.3.1";
const EVRLE: &str = "1.2.840.10008.1.2.1";

fn ct_dataset() -> (String, Vec<u8>) {
    let bytes = std::fs::read(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap();
    let obj = dicom_object::from_reader(&bytes[128..]).unwrap();
    let sop = obj.meta().media_storage_sop_instance_uid().to_string();
    (sop, bytes[dataset_offset(&bytes)..].to_vec())
}

/// A copy of the small CT under a new SOP Instance UID.
fn ct_copy(uid: &str) -> Vec<u8> {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    let mut obj = dicom_object::open_file(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap();
    obj.put(DataElement::new(dicom_dictionary_std::tags::SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from(uid)));
    obj.meta_mut().media_storage_sop_instance_uid = uid.to_string();
    let mut out = Vec::new();
    obj.write_all(&mut out).unwrap();
    out[dataset_offset(&out)..].to_vec()
}

#[test]
fn a_bad_object_gets_a_failure_status_and_the_association_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let mut scu = Scu::connect(server.dicom, &[(CT, EVRLE)]).unwrap();
    let (status, why) = scu.store(CT, "1.2.3.4", EVRLE, b"\x08\x00\x18\x00\xff\xff\xff\x7fgarbage").unwrap();
    assert_eq!(status, 0xC000, "garbage must be 'cannot understand'");
    assert!(!why.is_empty(), "the failure carries a reason in Error Comment");
    let (sop, ds) = ct_dataset();
    let truncated = &ds[..ds.len() - 1000];
    let (status, why) = scu.store(CT, &sop, EVRLE, truncated).unwrap();
    assert_eq!(status, 0xC000, "truncated: {why}");
    let (status, why) = scu.store(CT, &sop, EVRLE, &ds).unwrap();
    assert_eq!(status, 0, "a good object after bad ones is stored: {why}");
    let (status, _) = scu.store(CT, &sop, EVRLE, &ds).unwrap();
    assert_eq!(status, 0, "a resend of a stored SOP Instance UID is a success");
    scu.release();
}

#[test]
fn oversize_objects_are_refused_out_of_resources() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(&dir.path().join("data"), &[("STUDYLINK__INGEST__MAX_INSTANCE_MB", "1")]);
    let bytes = std::fs::read(corpus().join("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm")).unwrap();
    let obj = dicom_object::from_reader(&bytes[128..]).unwrap();
    let sop = obj.meta().media_storage_sop_instance_uid().to_string();
    let mut scu = Scu::connect(server.dicom, &[(US_MF, EVRLE), (CT, EVRLE)]).unwrap();
    let (status, why) = scu.store(US_MF, &sop, EVRLE, &bytes[dataset_offset(&bytes)..]).unwrap();
    assert_eq!(status, 0xA700, "{why}");
    assert!(why.contains("limit"), "{why}");
    let (sop, ds) = ct_dataset();
    assert_eq!(scu.store(CT, &sop, EVRLE, &ds).unwrap().0, 0);
    scu.release();
}

#[test]
fn ae_titles_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        &dir.path().join("data"),
        &[("STUDYLINK__DICOM__ALLOWED_CALLING_AE_TITLES", "[ECHOSCU]")],
    );
    let port = server.dicom.port().to_string();
    let ok = common::dcmtk("echoscu").args(["-aet", "ECHOSCU", "-aec", "STUDYLINK", "127.0.0.1", &port]).output().unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let wrong_caller = common::dcmtk("echoscu").args(["-aet", "STRANGER", "-aec", "STUDYLINK", "127.0.0.1", &port]).output().unwrap();
    assert!(!wrong_caller.status.success(), "an unlisted calling AE title must be rejected");
    let wrong_called = common::dcmtk("echoscu").args(["-aet", "ECHOSCU", "-aec", "OTHER", "127.0.0.1", &port]).output().unwrap();
    assert!(!wrong_called.status.success(), "a wrong called AE title must be rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_associations_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = common::api_key(&data);
    let server = Server::start(&data);
    let addr = server.dicom;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut scu = Scu::connect(addr, &[(CT, EVRLE)]).unwrap();
                for i in 0..25 {
                    let uid = format!("2.25.7{t}{i:04}{}", std::process::id());
                    assert_eq!(scu.store(CT, &uid, EVRLE, &ct_copy(&uid)).unwrap().0, 0);
                }
                scu.release();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let list = common::instance_list(&server.base(), &key).await;
    assert_eq!(list.len(), 100);

    let health = reqwest::get(format!("{}/healthz", server.base())).await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("{}/metrics", server.base())).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("studylink_ingest_instances_total"), "{metrics}");
    assert!(metrics.contains("outcome=\"stored\""), "{metrics}");
}

#[test]
fn sigterm_lets_a_running_association_finish() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("data"));
    let mut scu = Scu::connect(server.dicom, &[(CT, EVRLE)]).unwrap();
    assert_eq!(scu.store(CT, "2.25.11", EVRLE, &ct_copy("2.25.11")).unwrap().0, 0);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.child.id() as i32), nix::sys::signal::Signal::SIGTERM).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // New associations are no longer accepted…
    assert!(Scu::connect(server.dicom, &[(CT, EVRLE)]).is_err(), "the listener should be closed");
    // …but the running one is served to its end.
    assert_eq!(scu.store(CT, "2.25.12", EVRLE, &ct_copy("2.25.12")).unwrap().0, 0);
    scu.release();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "clean exit after the association ended: {status:?}");
}
