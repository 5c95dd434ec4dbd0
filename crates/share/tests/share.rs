//! The share service end to end: real corpus files ingested into a real
//! SQLite store and local blob store, shares created, prepared, resent,
//! revoked; what lands in the blob store, the outbox and the audit log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use studylink_model::{
    AccountSettings, Actor, DateRetention, ItemKind, Language, Logo, NewShare, SendKind, Share,
    ShareItem, ShareState,
};
use studylink_notify::{PatientContacts, Payload};
use studylink_share::{ShareError, token};
use studylink_store::outbox::OutboxChannel;

const STILL: &str = "ultrasound/us_mono_evrle_burnedin_philips_epiq.dcm";
const CINE: &str = "ultrasound/us_cine_mono_evrle_27f_burnedin_philips_epiq.dcm";
const PDF: &str = "documents/encapsulated_pdf.dcm";
/// Patient values of STILL and CINE (one study, two patient IDs).
const US_VALUES: [&str; 5] = [
    "PATIENTFIVE",
    "2020202020202",
    "10101010101",
    "19510829",
    "CLEVELAND",
];

async fn ready(env: &Env, share: &Share) -> (Share, Vec<ShareItem>) {
    let started = Instant::now();
    let done = env.shares.wait_ready(share.id).await.unwrap();
    eprintln!(
        "share {} left preparing after {} ms",
        share.id,
        started.elapsed().as_millis()
    );
    assert_eq!(done.state, ShareState::Ready, "{:?}", done.state_error);
    env.settled(share.id).await;
    // Loops get their MP4 after the share is ready.
    assert!(
        env.shares.wait_videos(share.id).await.unwrap(),
        "videos still pending"
    );
    let items = env.store.share_items(share.id).await.unwrap();
    (done, items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn still_and_cine_become_an_image_and_a_cine_made_from_cleaned_pixels() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let cine = env.ingest(CINE).await;
    assert_eq!(still.study_uid, cine.study_uid);
    let before = env.now();
    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[cine.sop_uid.clone(), still.sop_uid.clone()],
            &contacts(),
            Language::Es,
            &env.staff(),
        )
        .await
        .unwrap();
    assert_eq!(share.state, ShareState::Preparing);
    assert_eq!(share.instance_ids.len(), 2);
    assert_eq!(share.email.as_deref(), Some("patient@example.org"));
    assert_eq!(share.phone.as_deref(), Some("+34612345678"));
    assert_eq!(share.created_by_label, "Ana López");
    let lifetime = share.expires_at - share.created_at;
    assert_eq!(lifetime, 90 * DAY_MS, "the default lifetime");
    assert!(share.created_at >= before);
    assert!(env.shares.progress(share.id).is_some_and(|p| p.total == 2));

    let (share, items) = ready(&env, &share).await;
    assert_eq!(
        env.shares.progress(share.id),
        None,
        "not preparing any more"
    );
    assert!(
        !share.password_required,
        "cleaned ultrasound needs no password: {items:?}"
    );
    assert_eq!(items.len(), 2);
    let image = items
        .iter()
        .find(|i| i.kind == ItemKind::Image)
        .expect("an image item");
    let cine_item = items
        .iter()
        .find(|i| i.kind == ItemKind::Cine)
        .expect("a cine item");
    assert_eq!(image.source_instance_id, still.instance_id);
    assert_eq!(cine_item.source_instance_id, cine.instance_id);

    // The still: a JPEG the size of the image, a thumbnail within 320 px.
    let jpeg = env
        .blobs
        .get(image.jpeg_key.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(jpeg_size(&jpeg), (1024, 768));
    assert_eq!(image.jpeg_size, Some(jpeg.len() as i64));
    let thumb = env
        .blobs
        .get(image.thumb_key.as_deref().unwrap())
        .await
        .unwrap();
    let (tw, th) = jpeg_size(&thumb);
    assert!(tw.max(th) <= 320, "{tw}x{th}");
    assert_eq!(
        (image.rows, image.columns, image.frames),
        (Some(768), Some(1024), 1)
    );
    assert!(image.mp4_key.is_none() && image.doc_key.is_none());

    // The cine: first frame, thumbnail and an MP4 at its native 30 fps.
    assert_eq!(
        jpeg_size(
            &env.blobs
                .get(cine_item.jpeg_key.as_deref().unwrap())
                .await
                .unwrap()
        ),
        (800, 600)
    );
    let mp4 = env
        .blobs
        .get(cine_item.mp4_key.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");
    assert_eq!(cine_item.mp4_size, Some(mp4.len() as i64));
    assert_eq!(cine_item.frames, 27);
    assert!(
        (cine_item.frame_ms.unwrap() - 33.333).abs() < 0.01,
        "{:?}",
        cine_item.frame_ms
    );

    // The shared DICOM files: de-identified, new UIDs, under the share's keys.
    for (item, original_uid) in [(image, &still.sop_uid), (cine_item, &cine.sop_uid)] {
        assert_eq!(
            item.dicom_key,
            format!("shares/{}/{}/{}.dcm", env.account, share.id, item.position)
        );
        let dicom = env.blobs.get(&item.dicom_key).await.unwrap();
        assert_eq!(item.dicom_size, dicom.len() as i64);
        assert_ne!(&item.sop_instance_uid, original_uid);
        assert!(contains(&dicom, &item.sop_instance_uid));
        assert!(
            !contains(&dicom, original_uid),
            "original UID in the shared file"
        );
        for value in US_VALUES {
            assert!(!contains(&dicom, value), "{value} in {}", item.dicom_key);
        }
    }

    // One initial send: an email and an SMS carrying the link, nothing about the patient.
    let link = env.shares.link(&share);
    assert!(
        link.as_str()
            .starts_with("https://studies.clinic.example/p/"),
        "{link}"
    );
    let token = link.path_segments().unwrap().next_back().unwrap();
    assert!(token::looks_like_token(token));
    let found = env
        .store
        .share_by_token_hash(&token::token_hash(token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, share.id);
    let sends = env.store.share_sends(env.account, share.id).await.unwrap();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].send.kind, SendKind::Initial);
    assert_eq!(sends[0].send.by_label, "Ana López");
    let msgs = &sends[0].messages;
    assert_eq!(
        msgs.iter().map(|m| m.channel).collect::<Vec<_>>(),
        vec![OutboxChannel::Email, OutboxChannel::Sms]
    );
    assert_eq!(msgs[0].recipient, "patient@example.org");
    assert_eq!(msgs[1].recipient, "+34612345678");
    for m in msgs {
        assert!(m.payload.contains(link.as_str()), "{}", m.payload);
        for value in US_VALUES.iter().chain(&["ZZZ TEST"]) {
            assert!(
                !contains(m.payload.as_bytes(), value),
                "{value} in a message"
            );
        }
    }
    match Payload::from_json(&msgs[0].payload).unwrap() {
        Payload::Email(e) => assert!(e.from_name.contains("Default"), "{}", e.from_name),
        other => panic!("{other:?}"),
    }
    assert_eq!(share.last_sent_at.is_some(), true);
    tokio::time::timeout(Duration::from_secs(1), env.waker.notified())
        .await
        .expect("the outbox worker was woken");

    // Audit: created and ready, with counts only.
    let events = env.store.audit_events(Some(env.account), 50).await.unwrap();
    let created = events
        .iter()
        .find(|e| e.event.action == "share.created")
        .expect("share.created");
    assert_eq!(created.event.actor, Actor::User(env.user));
    assert_eq!(share.created_by, Some(env.user));
    assert_eq!(
        created.event.target_id.as_deref(),
        Some(share.id.to_string().as_str())
    );
    let ready = events
        .iter()
        .find(|e| e.event.action == "share.ready")
        .expect("share.ready");
    for e in [created, ready] {
        let d = &e.event.detail;
        for secret in [
            "patient@example.org",
            "612345678",
            "612 345 678",
            &still.sop_uid,
            &still.study_uid,
            "PATIENTFIVE",
        ] {
            assert!(!d.contains(secret), "{secret} in audit detail {d}");
        }
    }
    assert!(
        created.event.detail.contains("\"instances\":2"),
        "{}",
        created.event.detail
    );
    assert!(
        ready.event.detail.contains("\"items\":2"),
        "{}",
        ready.event.detail
    );
    eprintln!("still + cine: {}", ready.event.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_report_is_a_document_behind_a_password() {
    let env = env().await;
    let pdf = env.ingest(PDF).await;
    let email_only =
        PatientContacts::parse("patient@example.org", studylink_notify::CountryCode::SPAIN)
            .unwrap();
    // No instances named: the whole study.
    let share = env
        .shares
        .create(
            env.account,
            &pdf.study_uid,
            &[],
            &email_only,
            Language::En,
            &env.staff(),
        )
        .await
        .unwrap();
    let (share, items) = ready(&env, &share).await;
    assert!(share.password_required);
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item.kind, ItemKind::Document);
    assert!(item.password_reason.is_some());
    assert_eq!(item.doc_content_type.as_deref(), Some("application/pdf"));
    let doc = env
        .blobs
        .get(item.doc_key.as_deref().unwrap())
        .await
        .unwrap();
    assert!(doc.starts_with(b"%PDF"));
    assert!(
        String::from_utf8_lossy(&doc[doc.len() - 7..])
            .trim_end()
            .ends_with("%%EOF")
    );
    assert_eq!(item.doc_size, Some(doc.len() as i64));
    assert!(item.jpeg_key.is_none() && item.mp4_key.is_none());
    let dicom = env.blobs.get(&item.dicom_key).await.unwrap();
    for value in ["3456", "19530601"] {
        assert!(
            !contains(&dicom[..dicom.len() - doc.len()], value),
            "{value} in the shared header"
        );
    }
    let sends = env.store.share_sends(env.account, share.id).await.unwrap();
    assert_eq!(sends[0].messages.len(), 1, "email only");
    assert_eq!(sends[0].messages[0].channel, OutboxChannel::Email);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resend_renews_the_lifetime_until_the_link_expires() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[still.sop_uid.clone()],
            &contacts(),
            Language::En,
            &env.staff(),
        )
        .await
        .unwrap();
    let (share, _) = ready(&env, &share).await;
    let link = env.shares.link(&share);

    env.advance_days(10);
    let by = studylink_share::Requester {
        actor: Actor::System,
        label: "API key 'ris'".into(),
    };
    let resent = env.shares.resend(env.account, share.id, &by).await.unwrap();
    let now = env.now();
    assert!(
        resent.expires_at > share.expires_at + 9 * DAY_MS,
        "renewed from now, not from creation"
    );
    assert!((resent.expires_at - (now + 90 * DAY_MS)).abs() < 60_000);
    assert_eq!(env.shares.link(&resent), link, "the same link");
    let sends = env.store.share_sends(env.account, share.id).await.unwrap();
    assert_eq!(
        sends.iter().map(|s| s.send.kind).collect::<Vec<_>>(),
        vec![SendKind::Initial, SendKind::Resend]
    );
    assert_eq!(sends[1].send.by_label, "API key 'ris'");
    assert_eq!(sends[1].messages.len(), 2);
    for m in &sends[1].messages {
        assert!(m.payload.contains(link.as_str()));
    }
    let events = env.store.audit_events(Some(env.account), 50).await.unwrap();
    assert!(events.iter().any(|e| e.event.action == "share.resent"));

    // Past the renewed expiry: gone for good.
    env.advance_days(91);
    assert!(matches!(
        env.shares.resend(env.account, share.id, &env.staff()).await,
        Err(ShareError::Expired)
    ));
    assert_eq!(
        env.store
            .share_sends(env.account, share.id)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(matches!(
        env.shares
            .resend(
                env.account,
                studylink_model::ShareId(share.id.0 + 1000),
                &env.staff()
            )
            .await,
        Err(ShareError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoke_ends_the_link_and_stops_resends() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[],
            &contacts(),
            Language::En,
            &env.staff(),
        )
        .await
        .unwrap();
    let (share, _) = ready(&env, &share).await;
    let revoked = env
        .shares
        .revoke(env.account, share.id, &env.staff())
        .await
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(!revoked.is_active(env.now()));
    assert!(matches!(
        env.shares.resend(env.account, share.id, &env.staff()).await,
        Err(ShareError::Expired)
    ));
    // Again: no error, no second audit event.
    let again = env
        .shares
        .revoke(env.account, share.id, &env.staff())
        .await
        .unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    let events = env.store.audit_events(Some(env.account), 50).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.action == "share.revoked")
            .count(),
        1
    );
    // Another clinic's id or an unknown one.
    let other = env.store.create_account("Other clinic").await.unwrap().id;
    assert!(matches!(
        env.shares.revoke(other, share.id, &env.staff()).await,
        Err(ShareError::NotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_share_whose_only_object_is_rejected_fails() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    // The stored original damaged after ingest: the de-identifier refuses it.
    let row = env
        .store
        .instance_by_sop(env.account, &still.sop_uid)
        .await
        .unwrap()
        .unwrap();
    let path = env.blobs.local_path(&row.blob_key).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..1000]).unwrap();

    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[],
            &contacts(),
            Language::En,
            &env.staff(),
        )
        .await
        .unwrap();
    let done = env.shares.wait_ready(share.id).await.unwrap();
    assert_eq!(done.state, ShareState::Failed);
    env.settled(share.id).await;
    let reason = done.state_error.clone().unwrap();
    assert!(reason.contains("could not be de-identified"), "{reason}");
    assert!(!done.is_active(env.now()));
    assert!(env.store.share_items(share.id).await.unwrap().is_empty());
    assert!(
        env.store
            .share_sends(env.account, share.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        env.shares.resend(env.account, share.id, &env.staff()).await,
        Err(ShareError::Expired)
    ));
    let events = env.store.audit_events(Some(env.account), 50).await.unwrap();
    let failed = events
        .iter()
        .find(|e| e.event.action == "share.failed")
        .expect("share.failed");
    assert!(
        failed.event.detail.contains("all_rejected"),
        "{}",
        failed.event.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_original_fails_the_share_with_a_reason() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let row = env
        .store
        .instance_by_sop(env.account, &still.sop_uid)
        .await
        .unwrap()
        .unwrap();
    env.blobs.delete(&row.blob_key).await.unwrap();
    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[],
            &contacts(),
            Language::En,
            &env.staff(),
        )
        .await
        .unwrap();
    let done = env.shares.wait_ready(share.id).await.unwrap();
    assert_eq!(done.state, ShareState::Failed);
    env.settled(share.id).await;
    assert!(done.state_error.unwrap().contains("missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_checks_the_study_and_the_instances() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let (a, c, l, by) = (env.account, contacts(), Language::En, env.staff());
    let err = env
        .shares
        .create(a, "1.2.3.4", &[], &c, l, &by)
        .await
        .unwrap_err();
    assert!(matches!(err, ShareError::StudyNotFound), "{err:?}");
    let list = format!("{},{}", still.study_uid, still.study_uid);
    assert!(matches!(
        env.shares.create(a, &list, &[], &c, l, &by).await,
        Err(ShareError::StudyNotFound)
    ));
    let other = env.store.create_account("Other clinic").await.unwrap().id;
    assert!(matches!(
        env.shares
            .create(other, &still.study_uid, &[], &c, l, &by)
            .await,
        Err(ShareError::StudyNotFound)
    ));
    let err = env
        .shares
        .create(a, &still.study_uid, &["1.2.3.999".into()], &c, l, &by)
        .await
        .unwrap_err();
    assert!(matches!(err, ShareError::UnknownInstance), "{err:?}");
    // A UID of another study of the same clinic is not part of this one.
    let pdf = env.ingest(PDF).await;
    let err = env
        .shares
        .create(a, &still.study_uid, &[pdf.sop_uid.clone()], &c, l, &by)
        .await
        .unwrap_err();
    assert!(matches!(err, ShareError::UnknownInstance), "{err:?}");
    assert!(env.store.list_shares(a, None, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clinic_settings_shape_the_share_and_its_messages() {
    let env = env().await;
    let mut settings: AccountSettings = env.store.account_settings(env.account).await.unwrap();
    settings.clinic_name = "Clínica Sol".into();
    settings.link_lifetime_days = 7;
    settings.time_zone = "Europe/Madrid".into();
    settings.phone = Some("+34 900 000 000".into());
    settings.logo = Some(Logo {
        blob_key: format!("settings/{}/logo-0a1b2c.png", env.account),
        content_type: "image/png".into(),
    });
    settings.deid.retain_dates = DateRetention::Shift;
    env.store
        .update_account_settings(env.account, &settings, &Actor::System)
        .await
        .unwrap();
    let version = env
        .store
        .set_link_code(env.account, Some("$argon2id$code"), &Actor::System)
        .await
        .unwrap();

    let still = env.ingest(STILL).await;
    let share = env
        .shares
        .create(
            env.account,
            &still.study_uid,
            &[],
            &contacts(),
            Language::Es,
            &env.staff(),
        )
        .await
        .unwrap();
    assert_eq!(share.expires_at - share.created_at, 7 * DAY_MS);
    assert_eq!(share.link_code_version, version);
    let (share, items) = ready(&env, &share).await;
    let sends = env.store.share_sends(env.account, share.id).await.unwrap();
    let email = match Payload::from_json(&sends[0].messages[0].payload).unwrap() {
        Payload::Email(e) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(email.from_name, "Clínica Sol");
    let logo = format!(
        "https://studies.clinic.example/clinic/{}/logo?v=0a1b2c",
        env.account
    );
    assert!(
        email.html.contains(&logo.replace('&', "&amp;")),
        "{}",
        email.html
    );

    // Modified dates: the study date is still there, moved by the share's offset.
    let dicom = env.blobs.get(&items[0].dicom_key).await.unwrap();
    assert!(
        !contains(&dicom, "20170302"),
        "the original study date survived"
    );
    assert!(contains(&dicom, "MODIFIED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_prepares_shares_left_preparing_by_a_crash() {
    let env = env().await;
    let still = env.ingest(STILL).await;
    let cine = env.ingest(CINE).await;
    // A share row as `create` writes it, whose preparation never ran.
    let study = env
        .store
        .query_studies(env.account, &Default::default())
        .await
        .unwrap()
        .remove(0);
    let seed = vec![7u8; 32];
    let now = env.now();
    let share = env
        .store
        .create_share(&NewShare {
            account_id: env.account,
            study_id: study.id,
            token_hash: token::token_hash(&token::token_for(&LINK_KEY, &seed)),
            token_seed: seed,
            created_by: None,
            created_by_label: "API key 'ris'".into(),
            created_at: now,
            expires_at: now + 30 * DAY_MS,
            language: Language::En,
            email: None,
            phone: Some("+34612345678".into()),
            link_code_version: 0,
            deid_secret: vec![9; 32],
            instance_ids: vec![cine.instance_id, still.instance_id],
        })
        .await
        .unwrap();
    assert!(matches!(
        env.shares.resend(env.account, share.id, &env.staff()).await,
        Err(ShareError::NotReady)
    ));
    assert_eq!(env.shares.resume().await.unwrap(), 1);
    let (share, items) = ready(&env, &share).await;
    assert_eq!(
        items.iter().map(|i| i.kind).collect::<Vec<_>>(),
        vec![ItemKind::Cine, ItemKind::Image],
        "snapshot order"
    );
    assert_eq!(
        items.iter().map(|i| i.position).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let sends = env.store.share_sends(env.account, share.id).await.unwrap();
    assert_eq!(sends[0].send.by_label, "API key 'ris'");
    assert_eq!(sends[0].messages.len(), 1);
    assert_eq!(sends[0].messages[0].recipient, "+34612345678");
    assert!(
        sends[0].messages[0]
            .payload
            .contains(env.shares.link(&share).as_str()),
        "the link rebuilt from the seed"
    );
    assert_eq!(
        env.shares.resume().await.unwrap(),
        0,
        "nothing left preparing"
    );
}
