//! The OCR check of cleaned images runs after the link's messages are
//! queued; until it passes, the image is held back. Real corpus file, real
//! store, real Tesseract behind a gate the test opens.

mod common;

use std::sync::{Arc, Condvar, Mutex};

use common::*;
use studylink_deid::{TextFinder, Word};
use studylink_model::{Language, ShareState, TextCheck};

/// Surname typed inside the image area (DOE^JOHN).
const ACUSON: &str = "ultrasound/us_ybrfull_rle_burnedin_acuson.dcm";

/// Real OCR that waits until the test opens the gate (or fails on purpose).
#[derive(Debug)]
struct Gated {
    inner: Option<studylink_ocr::Tesseract>,
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gated {
    fn new(inner: Option<studylink_ocr::Tesseract>) -> Arc<Gated> {
        Arc::new(Gated { inner, open: Mutex::new(false), cv: Condvar::new() })
    }
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

impl TextFinder for Gated {
    fn find(&self, grey: &[u8], width: u32, height: u32) -> Result<Vec<Word>, String> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
        drop(open);
        match &self.inner {
            Some(t) => t.find(grey, width, height),
            None => Err("engine unavailable".into()),
        }
    }
}

fn tesseract() -> studylink_ocr::Tesseract {
    studylink_ocr::Tesseract::load().expect("libtesseract (scripts/test installs it: apt-get install libtesseract5 tesseract-ocr-eng)")
}

async fn share_acuson(env: &Env) -> studylink_model::Share {
    let us = env.ingest(ACUSON).await;
    env.shares
        .create(env.account, &us.study_uid, &[], &contacts(), Language::En, &env.staff())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_email_goes_out_first_and_the_image_shows_once_read() {
    let gate = Gated::new(Some(tesseract()));
    let env = env_with(Some(gate.clone())).await;
    let share = share_acuson(&env).await;
    let ready = env.shares.wait_ready(share.id).await.unwrap();
    assert_eq!(ready.state, ShareState::Ready, "{:?}", ready.state_error);
    // The messages are queued while OCR has not even started.
    let messages = env.shares.messages(env.account, share.id).await.unwrap();
    assert_eq!(messages.len(), 2, "email and SMS queued before the check");
    let before = env.store.share_items(share.id).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].text_check, TextCheck::Pending);
    let old_dcm = env.blobs.get(&before[0].dicom_key).await.unwrap();
    let old_jpg = env.blobs.get(before[0].jpeg_key.as_ref().unwrap()).await.unwrap();

    gate.open();
    assert!(env.shares.wait_videos(share.id).await.unwrap(), "check still pending");
    let after = env.store.share_items(share.id).await.unwrap();
    assert_eq!(after[0].text_check, TextCheck::Passed);
    let new_dcm = env.blobs.get(&after[0].dicom_key).await.unwrap();
    let new_jpg = env.blobs.get(after[0].jpeg_key.as_ref().unwrap()).await.unwrap();
    assert_ne!(new_dcm, old_dcm, "the surname inside the image was blanked in the stored object");
    assert_ne!(new_jpg, old_jpg, "and in its picture");
    assert_eq!(after[0].dicom_size, new_dcm.len() as i64);
    assert_eq!(after[0].jpeg_size, Some(new_jpg.len() as i64));
    // What the check did is what a check run now finds nothing more in.
    let original = std::fs::read(corpus().join(ACUSON)).unwrap();
    let again = studylink_deid::check_text(&original, &new_dcm, &tesseract()).unwrap();
    assert_eq!(again, studylink_deid::TextChecked::Unchanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_whose_check_fails_is_held_back_for_good() {
    let gate = Gated::new(None);
    gate.open();
    let env = env_with(Some(gate)).await;
    let share = share_acuson(&env).await;
    assert_eq!(env.shares.wait_ready(share.id).await.unwrap().state, ShareState::Ready);
    assert!(env.shares.wait_videos(share.id).await.unwrap());
    let items = env.store.share_items(share.id).await.unwrap();
    assert_eq!(items[0].text_check, TextCheck::Failed);
}
