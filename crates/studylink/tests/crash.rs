//! The promise the product rests on: an instance whose C-STORE got a success
//! status survives a crash. The server is SIGKILLed in the middle of a
//! 1,000-instance burst, restarted, and every acknowledged instance must be
//! listed and readable.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::scu::Scu;
use common::{api_key, corpus, dataset_offset, Server};

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;

const BURST: usize = 1000;
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const EVRLE: &str = "1.2.840.10008.1.2.1";

/// 1,000 copies of a small CT with fresh SOP Instance UIDs, as data set bytes.
fn burst() -> Vec<(String, Vec<u8>)> {
    let path = corpus().join("ct/ct_small_evrle_signed16.dcm");
    let obj = dicom_object::open_file(&path).unwrap();
    (0..BURST)
        .map(|i| {
            let uid = format!("2.25.99{}{:06}", std::process::id(), i);
            let mut o = obj.clone();
            o.put(DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from(uid.clone())));
            o.meta_mut().media_storage_sop_instance_uid = uid.clone();
            o.update_meta(|_| {});
            let mut file = Vec::new();
            o.write_all(&mut file).unwrap();
            let off = dataset_offset(&file);
            (uid, file[off..].to_vec())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_loses_no_acknowledged_instance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = api_key(&data);
    let mut server = Server::start(&data);
    let instances = burst();

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let sender = {
        let acked = acked.clone();
        let addr = server.dicom;
        std::thread::spawn(move || {
            let mut scu = Scu::connect(addr, &[(CT, EVRLE)]).expect("associate");
            for (uid, ds) in &instances {
                match scu.store(CT, uid, EVRLE, ds) {
                    Ok((0, _)) => acked.lock().unwrap().push(uid.clone()),
                    Ok((status, why)) => panic!("store refused with {status:04X}: {why}"),
                    Err(_) => return, // the server died under us: expected
                }
            }
        })
    };
    // Kill somewhere in the middle of the burst, while instances are in flight.
    let kill_at = 250 + (std::process::id() as usize % 400);
    let start = Instant::now();
    while acked.lock().unwrap().len() < kill_at {
        assert!(start.elapsed() < Duration::from_secs(120), "burst too slow: {} acked", acked.lock().unwrap().len());
        if sender.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill9();
    sender.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= kill_at.min(BURST), "only {} instances were acknowledged", acked.len());
    assert!(acked.len() < BURST, "the kill came after the whole burst; the test proved nothing");

    let server = Server::start(&data);
    let http = reqwest::Client::new();
    let list = common::instance_list(&server.base(), &key).await;
    let stored: std::collections::HashSet<String> = list
        .iter()
        .map(|o| o["00080018"]["Value"][0].as_str().unwrap().to_string())
        .collect();
    let missing: Vec<_> = acked.iter().filter(|u| !stored.contains(*u)).collect();
    assert!(missing.is_empty(), "{} acknowledged instances lost after SIGKILL, e.g. {:?}", missing.len(), missing.first());

    // Readable, not just listed: fetch a sample spread over the acked range.
    let study = list[0]["0020000D"]["Value"][0].as_str().unwrap().to_string();
    let series = list[0]["0020000E"]["Value"][0].as_str().unwrap().to_string();
    for uid in acked.iter().step_by((acked.len() / 25).max(1)).chain(acked.last()) {
        let resp = http
            .get(format!("{}/dicomweb/studies/{study}/series/{series}/instances/{uid}", server.base()))
            .bearer_auth(&key)
            .header("accept", "multipart/related; type=\"application/dicom\"")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "instance {uid} not retrievable");
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let body = resp.bytes().await.unwrap();
        let parts = common::multipart_parts(&ct, &body);
        assert_eq!(parts.len(), 1);
        let obj = dicom_object::from_reader(&parts[0][128..]).expect("stored file parses");
        assert_eq!(obj.element(tags::SOP_INSTANCE_UID).unwrap().to_str().unwrap().trim_end_matches('\0'), uid.as_str());
    }
}
