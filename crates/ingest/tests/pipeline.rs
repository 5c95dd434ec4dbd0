//! The pipeline against a real SQLite store and local blob store: what is
//! acknowledged is stored; what is refused leaves nothing behind.

use std::path::PathBuf;

use studylink_ingest::{IngestConfig, IngestError, Ingestor, Origin, DEFAULT_CONTACT_TAGS};
use studylink_model::{Actor, IngestSource};
use studylink_store::{BlobConfig, BlobStore, InstanceQuery, StudyQuery};

fn corpus() -> PathBuf {
    std::env::var("STUDYLINK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"))
}

async fn setup(max: u64) -> (tempfile::TempDir, Ingestor) {
    let dir = tempfile::tempdir().unwrap();
    let store = studylink_store::connect(&format!("sqlite://{}", dir.path().join("db.sqlite").display())).await.unwrap();
    let blobs = BlobStore::open(&BlobConfig::Local { root: dir.path().join("blobs") }).await.unwrap();
    let ingest = Ingestor::new(
        store,
        blobs,
        IngestConfig { tmp_dir: dir.path().join("tmp"), max_instance_bytes: max, contact_tags: DEFAULT_CONTACT_TAGS.to_vec() },
    )
    .unwrap();
    (dir, ingest)
}

fn origin() -> Origin {
    Origin { source: IngestSource::Import, received_from: "test".into(), actor: Actor::System, expected_sop_uid: None }
}

fn files_under(p: &std::path::Path) -> usize {
    file_sizes_under(p).len()
}

fn file_sizes_under(p: &std::path::Path) -> Vec<u64> {
    walkdir::WalkDir::new(p)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .collect()
}

#[tokio::test]
async fn stored_once_idempotent_and_byte_identical() {
    let (dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let path = corpus().join("ultrasound/us_palette_rle_philips_cx50.dcm");
    let first = ingest.ingest_path(account, &path, &origin()).await.unwrap();
    assert!(!first.duplicate);
    let again = ingest.ingest_path(account, &path, &origin()).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.instance_id, first.instance_id);
    assert_eq!(ingest.store().count_instances(account).await.unwrap(), 1);
    assert_eq!(files_under(&dir.path().join("blobs")), 1, "a resend must not leave a second blob");
    assert_eq!(files_under(&dir.path().join("tmp")), 0, "spool files must not linger");

    let rows = ingest
        .store()
        .query_instances(account, &InstanceQuery { sop_uid: Some(first.sop_uid.clone()), ..Default::default() })
        .await
        .unwrap();
    let stored = ingest.blobs().get(&rows[0].blob_key).await.unwrap();
    assert_eq!(&stored[..], &std::fs::read(&path).unwrap()[..], "the archive keeps the file byte for byte");
}

#[tokio::test]
async fn refused_objects_leave_nothing_behind() {
    let (dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    for name in ["truncated_pixel_data.dcm", "not_dicom_bad.dcm", "gzipped_mr.dcm.gz", "deeply_nested_sequence.dcm"] {
        let err = ingest.ingest_path(account, &corpus().join("invalid_and_edge").join(name), &origin()).await.unwrap_err();
        assert!(err.is_client_error(), "{name}: {err}");
    }
    assert_eq!(ingest.store().count_instances(account).await.unwrap(), 0);
    assert_eq!(files_under(&dir.path().join("blobs")), 0);
    assert_eq!(files_under(&dir.path().join("tmp")), 0);
}

#[tokio::test]
async fn oversize_is_refused_before_it_is_stored() {
    let (_dir, ingest) = setup(1 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let big = corpus().join("ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm");
    let err = ingest.ingest_path(account, &big, &origin()).await.unwrap_err();
    assert!(matches!(err, IngestError::TooLarge { limit } if limit == 1 << 20), "{err}");
    assert!(err.is_client_error());
    let mut tmp = ingest.new_temp().unwrap();
    assert!(matches!(tmp.write_all(&vec![0u8; (1 << 20) + 1]), Err(IngestError::TooLarge { .. })));
}

#[tokio::test]
async fn contacts_entered_on_the_device_are_indexed() {
    let (_dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    // Take a real file and add the contact attributes a reception desk would type.
    let src = corpus().join("ct/ct_small_evrle_signed16.dcm");
    let mut obj = dicom_object::open_file(&src).unwrap();
    use dicom_core::{DataElement, PrimitiveValue, VR};
    use dicom_dictionary_std::tags;
    obj.put(DataElement::new(tags::PATIENT_TELEPHONE_NUMBERS, VR::SH, PrimitiveValue::from("612 345 678")));
    obj.put(DataElement::new(tags::PATIENT_COMMENTS, VR::LT, PrimitiveValue::from("email: ana.garcia@example.org")));
    let mut bytes = Vec::new();
    obj.write_all(&mut bytes).unwrap();
    let done = ingest.ingest_bytes(account, &bytes, &origin()).await.unwrap();
    let contacts = ingest.store().study_contacts(account, &done.study_uid).await.unwrap();
    let values: Vec<_> = contacts.iter().map(|c| (c.kind.as_str(), c.value.as_str(), c.source_tag.as_str())).collect();
    assert_eq!(values, vec![("phone", "612 345 678", "00102154"), ("email", "ana.garcia@example.org", "00104000")]);
}

#[tokio::test]
async fn reserved_blob_files_keep_accepted_objects_only() {
    let (dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let bytes = std::fs::read(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap();

    // The C-STORE door receives straight into a file already in the blob store.
    let mut tmp = ingest.new_temp_for(account).unwrap();
    let first_path = tmp.path().to_path_buf();
    assert!(first_path.starts_with(dir.path().join("blobs")), "reserved files live in the blob store");
    tmp.write_all(&bytes).unwrap();
    let stored = ingest.ingest_file(account, tmp, &origin()).await.unwrap();
    assert!(!stored.duplicate);
    let rows = ingest
        .store()
        .query_instances(account, &InstanceQuery { sop_uid: Some(stored.sop_uid.clone()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(ingest.blobs().local_path(&rows[0].blob_key).unwrap(), first_path, "indexed where it was received");
    assert_eq!(std::fs::read(&first_path).unwrap(), bytes);

    // Refused, and resent: the reserved file goes away, the stored one stays.
    let mut bad = ingest.new_temp_for(account).unwrap();
    let bad_path = bad.path().to_path_buf();
    bad.write_all(b"not a DICOM file at all").unwrap();
    assert!(ingest.ingest_file(account, bad, &origin()).await.unwrap_err().is_client_error());
    assert!(!bad_path.exists(), "a refused object leaves no file");
    let mut again = ingest.new_temp_for(account).unwrap();
    let again_path = again.path().to_path_buf();
    again.write_all(&bytes).unwrap();
    assert!(ingest.ingest_file(account, again, &origin()).await.unwrap().duplicate);
    assert!(!again_path.exists(), "a resend leaves no second copy");

    // Dropped mid-receive (association aborted): nothing left either.
    let mut partial = ingest.new_temp_for(account).unwrap();
    let partial_path = partial.path().to_path_buf();
    partial.write_all(&bytes[..100]).unwrap();
    drop(partial);
    assert!(!partial_path.exists());

    let non_empty = file_sizes_under(&dir.path().join("blobs")).into_iter().filter(|&n| n > 0).count();
    assert_eq!(non_empty, 1);
    assert_eq!(ingest.store().count_instances(account).await.unwrap(), 1);
}

#[tokio::test]
async fn a_resend_replaces_a_stored_copy_that_a_crash_left_short() {
    // The index row and the file's flush are committed at the same time; a
    // crash in between leaves a row whose file is short (no success was sent).
    let (_dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let bytes = std::fs::read(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap();
    let receive = |ingest: &Ingestor| {
        let mut tmp = ingest.new_temp_for(account).unwrap();
        tmp.write_all(&bytes).unwrap();
        tmp
    };
    let first = ingest.ingest_file(account, receive(&ingest), &origin()).await.unwrap();
    let row = |ingest: Ingestor, sop: String| async move {
        let q = InstanceQuery { sop_uid: Some(sop), ..Default::default() };
        ingest.store().query_instances(account, &q).await.unwrap().remove(0)
    };
    let before = row(ingest.clone(), first.sop_uid.clone()).await;
    let old_path = ingest.blobs().local_path(&before.blob_key).unwrap();
    std::fs::File::options().write(true).open(&old_path).unwrap().set_len(bytes.len() as u64 / 3).unwrap();

    let again = ingest.ingest_file(account, receive(&ingest), &origin()).await.unwrap();
    assert_eq!(again.instance_id, first.instance_id, "the same instance, not a second one");
    assert!(!again.duplicate, "the resent copy was stored");
    let after = row(ingest.clone(), first.sop_uid.clone()).await;
    assert_ne!(after.blob_key, before.blob_key);
    assert_eq!(&ingest.blobs().get(&after.blob_key).await.unwrap()[..], &bytes[..]);
    assert!(!old_path.exists(), "the short copy is gone");
    assert_eq!(ingest.store().count_instances(account).await.unwrap(), 1);

    // A copy that is whole is kept: the next resend is a plain duplicate.
    let third = ingest.ingest_file(account, receive(&ingest), &origin()).await.unwrap();
    assert!(third.duplicate);
    assert_eq!(row(ingest.clone(), first.sop_uid.clone()).await.blob_key, after.blob_key);

    // Through the spool door (not a reserved file) the repair works the same.
    let path = ingest.blobs().local_path(&after.blob_key).unwrap();
    std::fs::remove_file(&path).unwrap();
    let fourth = ingest.ingest_bytes(account, &bytes, &origin()).await.unwrap();
    assert!(!fourth.duplicate);
    let last = row(ingest.clone(), first.sop_uid.clone()).await;
    assert_eq!(&ingest.blobs().get(&last.blob_key).await.unwrap()[..], &bytes[..]);
}

#[tokio::test]
async fn at_startup_rows_whose_file_a_crash_left_short_are_removed() {
    let (dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let bytes = std::fs::read(corpus().join("ct/ct_small_evrle_signed16.dcm")).unwrap();
    let mut tmp = ingest.new_temp_for(account).unwrap();
    tmp.write_all(&bytes).unwrap();
    let short = ingest.ingest_file(account, tmp, &origin()).await.unwrap();
    let kept = ingest
        .ingest_bytes(account, &std::fs::read(corpus().join("ct/ct_8bit_implicit_burnedin_abdo.dcm")).unwrap(), &origin())
        .await
        .unwrap();
    let q = InstanceQuery { sop_uid: Some(short.sop_uid.clone()), ..Default::default() };
    let key = ingest.store().query_instances(account, &q).await.unwrap().remove(0).blob_key;
    let path = ingest.blobs().local_path(&key).unwrap();
    std::fs::File::options().write(true).open(&path).unwrap().set_len(100).unwrap();
    let studies = |i: Ingestor| async move { i.store().query_studies(account, &StudyQuery::default()).await.unwrap().len() };
    assert_eq!(studies(ingest.clone()).await, 2);

    // What `serve` does when it starts again after the crash.
    let again = Ingestor::new(
        ingest.store().clone(),
        ingest.blobs().clone(),
        IngestConfig { tmp_dir: dir.path().join("tmp"), max_instance_bytes: 64 << 20, contact_tags: DEFAULT_CONTACT_TAGS.to_vec() },
    )
    .unwrap();
    assert!(again.store().query_instances(account, &q).await.unwrap().is_empty(), "the short copy's row is gone");
    assert!(!path.exists());
    assert_eq!(again.store().count_instances(account).await.unwrap(), 1, "the whole one stays");
    assert_eq!(studies(again.clone()).await, 1, "its empty study went with it");
    let kept_q = InstanceQuery { sop_uid: Some(kept.sop_uid.clone()), ..Default::default() };
    assert_eq!(again.store().query_instances(account, &kept_q).await.unwrap().len(), 1);

    // The device's resend stores it again.
    let resent = again.ingest_bytes(account, &bytes, &origin()).await.unwrap();
    assert!(!resent.duplicate);
    assert_eq!(again.store().count_instances(account).await.unwrap(), 2);
}

#[tokio::test]
async fn reserved_files_are_refilled_before_they_run_out() {
    let (dir, ingest) = setup(64 << 20).await;
    let account = ingest.store().default_account().await.unwrap().id;
    let files = || files_under(&dir.path().join("blobs"));
    let mut held: Vec<_> = (0..40).map(|_| ingest.new_temp_for(account).unwrap()).collect();
    // The first take created a batch of 64; the 33rd left fewer than half and
    // started the next batch on another thread.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while files() < 128 {
        assert!(std::time::Instant::now() < deadline, "no background batch: {} files", files());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    held.extend((0..200).map(|_| ingest.new_temp_for(account).unwrap()));
    let distinct: std::collections::HashSet<_> = held.iter().map(|t| t.path().to_path_buf()).collect();
    assert_eq!(distinct.len(), 240, "no file is handed out twice");
    drop(held);
    let left = file_sizes_under(&dir.path().join("blobs"));
    assert!(left.iter().all(|&n| n == 0), "only unused reserved files are left");
    assert!(left.len() <= 2 * 64, "at most two batches wait unused, found {}", left.len());
}
