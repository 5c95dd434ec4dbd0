//! The ShareStore contract: every assertion runs against SQLite and
//! PostgreSQL, so the two implementations cannot drift apart.
//!
//! PostgreSQL: `STUDYLINK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) must name a server where this
//! user may create databases; each run uses a fresh database and drops it.

mod common;

use std::sync::Arc;

use studylink_model::*;
use studylink_store::outbox::{NewOutboxMessage, OutboxChannel, OutboxStatus, OutboxStore};
use studylink_store::{FailureState, Store, StoreError, StoreResult, connect_with_outbox};

const T0: Millis = 1_800_000_000_000;
const DAY: Millis = 86_400_000;
const LEASE: Millis = 60_000;

struct Fixture {
    a: AccountId,
    b: AccountId,
    user: UserId,
    /// Account a: a study of four instances, and another of one.
    s1: StudyId,
    i1: Vec<InstanceId>,
    s2: StudyId,
    i2: Vec<InstanceId>,
    /// Account b: a study of two instances.
    sb: StudyId,
    ib: Vec<InstanceId>,
}

async fn fixture(store: &dyn Store) -> Fixture {
    let a = store.create_account("Shares A").await.unwrap().id;
    let b = store.create_account("Shares B").await.unwrap().id;
    let user = store
        .create_user(&NewUser {
            account_id: a,
            email: "ana@clinic.example".into(),
            password_hash: "$argon2id$x".into(),
            role: Role::Staff,
        })
        .await
        .unwrap()
        .id;
    let (s1, i1) = common::study_with_instances(store, a, "1.2.3.100", 4).await;
    let (s2, i2) = common::study_with_instances(store, a, "1.2.3.200", 1).await;
    let (sb, ib) = common::study_with_instances(store, b, "1.2.3.300", 2).await;
    Fixture {
        a,
        b,
        user,
        s1,
        i1,
        s2,
        i2,
        sb,
        ib,
    }
}

fn new_share(account: AccountId, study: StudyId, instances: &[InstanceId], tag: &str) -> NewShare {
    NewShare {
        account_id: account,
        study_id: study,
        token_hash: format!("token-hash-{tag}"),
        token_seed: tag.bytes().cycle().take(32).collect(),
        created_by: None,
        created_by_label: "API key 'ris'".into(),
        created_at: T0,
        expires_at: T0 + 30 * DAY,
        language: Language::En,
        email: None,
        phone: None,
        link_code_version: 0,
        deid_secret: vec![0xAB; 32],
        instance_ids: instances.to_vec(),
    }
}

/// The caller's account and share id are overwritten by the store.
fn msg(channel: OutboxChannel, n: u32) -> NewOutboxMessage {
    NewOutboxMessage {
        account_id: AccountId(424242),
        share_id: None,
        channel,
        recipient: match channel {
            OutboxChannel::Email => format!("patient{n}@example.org"),
            OutboxChannel::Sms => format!("+3461200{n:04}"),
        },
        payload: format!(r#"{{"n":{n}}}"#),
    }
}

fn item(share: ShareId, position: i32, source: InstanceId, kind: ItemKind) -> ShareItem {
    ShareItem {
        share_id: share,
        position,
        source_instance_id: source,
        kind,
        password_reason: None,
        sop_instance_uid: format!("2.25.{position}"),
        dicom_key: format!("shares/{share}/{position}.dcm"),
        dicom_size: 1000 + i64::from(position),
        jpeg_key: None,
        jpeg_size: None,
        thumb_key: None,
        mp4_key: None,
        mp4_size: None,
        doc_key: None,
        doc_size: None,
        doc_content_type: None,
        rows: None,
        columns: None,
        frames: 0,
        frame_ms: None,
        video_pending: false,
        text_check: studylink_model::TextCheck::None,
    }
}

fn is_not_found<T: std::fmt::Debug>(r: StoreResult<T>) -> bool {
    matches!(r, Err(StoreError::NotFound(_)))
}

fn is_conflict<T: std::fmt::Debug>(r: StoreResult<T>) -> bool {
    matches!(r, Err(StoreError::Conflict(_)))
}

async fn create(store: &dyn Store, new: &NewShare) -> Share {
    store.create_share(new).await.unwrap()
}

/// The whole contract, in the order a share lives it.
async fn contract(store: Arc<dyn Store>, outbox: Arc<dyn OutboxStore>) {
    let f = fixture(&*store).await;
    create_and_read(&*store, &f).await;
    create_rejects(&*store, &f).await;
    items(&*store, &f).await;
    finish_and_fail(&*store, &*outbox, &f).await;
    resend(&*store, &f).await;
    revoke(&*store, &*outbox, &f).await;
    password(store.clone(), &f).await;
    failures(store.clone(), &f).await;
    access(&*store, &f).await;
    counters(&*store, &f).await;
    lists(&*store, &f).await;
    preparing(&*store, &f).await;
    videos(&*store, &f).await;
    text_checks(&*store, &f).await;
}

async fn create_and_read(store: &dyn Store, f: &Fixture) {
    let mut new = new_share(f.a, f.s1, &[f.i1[2], f.i1[0], f.i1[3]], "read");
    new.created_by = Some(f.user);
    new.created_by_label = "Ana López".into();
    new.language = Language::Es;
    new.email = Some("jane@example.org".into());
    new.phone = Some("+34612345678".into());
    new.link_code_version = 3;
    new.deid_secret = (0..32).collect();
    let share = create(store, &new).await;

    let want = Share {
        id: share.id,
        account_id: f.a,
        study_id: f.s1,
        token_seed: new.token_seed.clone(),
        created_by: Some(f.user),
        created_by_label: "Ana López".into(),
        created_at: T0,
        expires_at: T0 + 30 * DAY,
        revoked_at: None,
        language: Language::Es,
        email: Some("jane@example.org".into()),
        phone: Some("+34612345678".into()),
        state: ShareState::Preparing,
        state_error: None,
        password_required: false,
        password_hash: None,
        link_code_version: 3,
        failed_attempts: 0,
        locked_until: None,
        first_opened_at: None,
        last_opened_at: None,
        views: 0,
        downloads: 0,
        last_sent_at: None,
        // The order staff chose, not the instances' order.
        instance_ids: vec![f.i1[2], f.i1[0], f.i1[3]],
    };
    assert_eq!(share, want);
    assert_eq!(
        store.share(f.a, share.id).await.unwrap(),
        Some(want.clone())
    );
    assert_eq!(
        store.share_by_token_hash("token-hash-read").await.unwrap(),
        Some(want)
    );
    assert_eq!(
        store.share_by_token_hash("token-hash-nope").await.unwrap(),
        None
    );
    // Another clinic cannot see it, and unknown ids are simply absent.
    assert_eq!(store.share(f.b, share.id).await.unwrap(), None);
    assert_eq!(store.share(f.a, ShareId(987_654)).await.unwrap(), None);
    assert_eq!(
        store.share_deid_secret(share.id).await.unwrap(),
        Some((0..32).collect())
    );
    assert_eq!(
        store.share_deid_secret(ShareId(987_654)).await.unwrap(),
        None
    );

    // An empty snapshot is the caller's business; the store keeps it.
    let empty = create(store, &new_share(f.a, f.s2, &[], "empty")).await;
    assert!(empty.instance_ids.is_empty());
    assert!(
        store
            .share(f.a, empty.id)
            .await
            .unwrap()
            .unwrap()
            .instance_ids
            .is_empty()
    );
}

async fn create_rejects(store: &dyn Store, f: &Fixture) {
    let before = store.list_shares(f.a, None, 1000).await.unwrap().len();
    // Another account's study.
    assert!(is_not_found(
        store.create_share(&new_share(f.a, f.sb, &f.ib, "x1")).await
    ));
    // An unknown study.
    assert!(is_not_found(
        store
            .create_share(&new_share(f.a, StudyId(987_654), &[], "x2"))
            .await
    ));
    // Instances of another study of the same account, of another account, unknown.
    for (tag, stranger) in [
        ("x3", f.i2[0]),
        ("x4", f.ib[0]),
        ("x5", InstanceId(987_654)),
    ] {
        let r = store
            .create_share(&new_share(f.a, f.s1, &[f.i1[0], stranger, f.i1[1]], tag))
            .await;
        assert!(is_not_found(r), "{tag}");
    }
    // The same instance twice.
    assert!(is_conflict(
        store
            .create_share(&new_share(f.a, f.s1, &[f.i1[0], f.i1[0]], "x6"))
            .await
    ));
    // A token hash already in use.
    assert!(is_conflict(
        store
            .create_share(&new_share(f.a, f.s1, &f.i1, "read"))
            .await
    ));
    // An unknown creator.
    let mut ghost = new_share(f.a, f.s1, &f.i1, "x7");
    ghost.created_by = Some(UserId(987_654));
    assert!(is_not_found(store.create_share(&ghost).await));
    // Nothing half-written.
    assert_eq!(
        store.list_shares(f.a, None, 1000).await.unwrap().len(),
        before
    );
    for tag in ["x1", "x2", "x3", "x4", "x5", "x6", "x7"] {
        let hash = format!("token-hash-{tag}");
        assert_eq!(
            store.share_by_token_hash(&hash).await.unwrap(),
            None,
            "{tag}"
        );
    }

    // A big snapshot crosses the store's batch size and keeps its order.
    let (study, mut many) = common::study_with_instances(store, f.a, "1.2.3.400", 1203).await;
    many.reverse();
    let big = create(store, &new_share(f.a, study, &many, "big")).await;
    assert_eq!(
        store
            .share(f.a, big.id)
            .await
            .unwrap()
            .unwrap()
            .instance_ids,
        many
    );
}

async fn items(store: &dyn Store, f: &Fixture) {
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "items")).await;
    assert!(store.share_items(share.id).await.unwrap().is_empty());

    let full = ShareItem {
        password_reason: Some("burned-in text".into()),
        jpeg_key: Some("shares/x/1.jpg".into()),
        jpeg_size: Some(55_000),
        thumb_key: Some("shares/x/1.thumb.jpg".into()),
        mp4_key: Some("shares/x/1.mp4".into()),
        mp4_size: Some(2_000_000),
        doc_key: Some("shares/x/1.pdf".into()),
        doc_size: Some(12_345),
        doc_content_type: Some("application/pdf".into()),
        rows: Some(480),
        columns: Some(640),
        frames: 90,
        frame_ms: Some(33.366_666_666_666_67),
        video_pending: false,
        text_check: studylink_model::TextCheck::None,
        ..item(share.id, 1, f.i1[1], ItemKind::Cine)
    };
    let first = vec![
        item(share.id, 2, f.i1[2], ItemKind::Document),
        full.clone(),
        item(share.id, 0, f.i1[0], ItemKind::Image),
        item(share.id, 3, f.i1[3], ItemKind::Other),
    ];
    store.put_share_items(share.id, &first).await.unwrap();
    let read = store.share_items(share.id).await.unwrap();
    assert_eq!(
        read.iter().map(|i| i.position).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(read[1], full, "every field round-trips");
    assert_eq!(read[0], first[2]);

    // A restarted preparation replaces them all.
    let second = vec![
        item(share.id, 0, f.i1[3], ItemKind::Image),
        item(share.id, 1, f.i1[0], ItemKind::Image),
    ];
    store.put_share_items(share.id, &second).await.unwrap();
    assert_eq!(store.share_items(share.id).await.unwrap(), second);

    // Items come from the snapshot only, one per position; a rejected call
    // leaves the previous items in place.
    let outsider = [item(share.id, 0, f.i2[0], ItemKind::Image)];
    assert!(is_not_found(
        store.put_share_items(share.id, &outsider).await
    ));
    let twice = [
        item(share.id, 0, f.i1[0], ItemKind::Image),
        item(share.id, 0, f.i1[1], ItemKind::Image),
    ];
    assert!(is_conflict(store.put_share_items(share.id, &twice).await));
    assert_eq!(store.share_items(share.id).await.unwrap(), second);
    assert!(is_not_found(
        store.put_share_items(ShareId(987_654), &second).await
    ));

    // Only while preparing.
    store
        .finish_share(share.id, false, "Ana", &[], T0)
        .await
        .unwrap();
    assert!(is_conflict(store.put_share_items(share.id, &first).await));
    assert_eq!(store.share_items(share.id).await.unwrap(), second);
}

async fn finish_and_fail(store: &dyn Store, outbox: &dyn OutboxStore, f: &Fixture) {
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "finish")).await;
    let now = T0 + 5_000;
    let msgs = [msg(OutboxChannel::Email, 1), msg(OutboxChannel::Sms, 2)];
    let send_id = store
        .finish_share(share.id, true, "Ana López", &msgs, now)
        .await
        .unwrap();

    let ready = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!(ready.state, ShareState::Ready);
    assert!(ready.password_required);
    assert_eq!(ready.last_sent_at, Some(now));
    assert_eq!(
        ready.expires_at, share.expires_at,
        "finishing does not renew"
    );
    assert_eq!(
        store.share_deid_secret(share.id).await.unwrap(),
        None,
        "the secret is erased"
    );

    let sends = store.share_sends(f.a, share.id).await.unwrap();
    assert_eq!(sends.len(), 1);
    let s = &sends[0];
    assert_eq!(
        s.send,
        ShareSend {
            id: send_id,
            share_id: share.id,
            kind: SendKind::Initial,
            at: now,
            by_label: "Ana López".into()
        }
    );
    assert_eq!(s.messages.len(), 2);
    for (m, want) in s.messages.iter().zip(&msgs) {
        assert_eq!(m.account_id, f.a, "the share's account, not the caller's");
        assert_eq!(m.share_id, Some(share.id.0));
        assert_eq!(
            (m.channel, &m.recipient, &m.payload),
            (want.channel, &want.recipient, &want.payload)
        );
        assert_eq!(m.status, OutboxStatus::Queued);
        assert_eq!((m.created_at, m.next_attempt_at), (now, now));
    }
    // The same rows the outbox worker and its admin page see.
    assert_eq!(
        outbox.list_for_share(f.a, share.id.0).await.unwrap(),
        s.messages
    );
    // Other accounts see no sends.
    assert!(store.share_sends(f.b, share.id).await.unwrap().is_empty());

    // Only once, and only from preparing.
    assert!(is_conflict(
        store.finish_share(share.id, false, "Ana", &msgs, now).await
    ));
    assert!(is_conflict(store.fail_share(share.id, "late", now).await));
    assert_eq!(store.share_sends(f.a, share.id).await.unwrap().len(), 1);
    assert!(is_not_found(
        store
            .finish_share(ShareId(987_654), false, "Ana", &[], now)
            .await
    ));
    assert!(is_not_found(
        store.fail_share(ShareId(987_654), "x", now).await
    ));

    // Finishing without messages (no contact: staff copy the link) still records the send.
    let quiet = create(store, &new_share(f.a, f.s1, &f.i1, "quiet")).await;
    let quiet_send = store
        .finish_share(quiet.id, false, "Ana", &[], now)
        .await
        .unwrap();
    let sends = store.share_sends(f.a, quiet.id).await.unwrap();
    assert_eq!((sends.len(), sends[0].send.id), (1, quiet_send));
    assert!(sends[0].messages.is_empty());
    assert!(
        !store
            .share(f.a, quiet.id)
            .await
            .unwrap()
            .unwrap()
            .password_required
    );

    // Failing.
    let doomed = create(store, &new_share(f.a, f.s1, &f.i1, "doomed")).await;
    store
        .fail_share(doomed.id, "every object was rejected", now)
        .await
        .unwrap();
    let failed = store.share(f.a, doomed.id).await.unwrap().unwrap();
    assert_eq!(failed.state, ShareState::Failed);
    assert_eq!(
        failed.state_error.as_deref(),
        Some("every object was rejected")
    );
    assert!(!failed.is_active(now));
    assert_eq!(store.share_deid_secret(doomed.id).await.unwrap(), None);
    assert!(is_conflict(
        store
            .finish_share(doomed.id, false, "Ana", &msgs, now)
            .await
    ));
    assert!(is_conflict(store.fail_share(doomed.id, "again", now).await));
    assert!(store.share_sends(f.a, doomed.id).await.unwrap().is_empty());
}

async fn resend(store: &dyn Store, f: &Fixture) {
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "resend")).await;
    // Not ready yet.
    assert!(is_conflict(
        store
            .resend_share(f.a, share.id, T0 + 60 * DAY, "Bo", &[], T0)
            .await
    ));
    let first = store
        .finish_share(share.id, false, "Ana", &[msg(OutboxChannel::Email, 3)], T0)
        .await
        .unwrap();

    let now = T0 + 10 * DAY;
    let renewed = now + 30 * DAY;
    let second = store
        .resend_share(
            f.a,
            share.id,
            renewed,
            "Bo",
            &[msg(OutboxChannel::Sms, 4)],
            now,
        )
        .await
        .unwrap();
    assert!(second > first);
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!((s.expires_at, s.last_sent_at), (renewed, Some(now)));
    let sends = store.share_sends(f.a, share.id).await.unwrap();
    assert_eq!(
        sends.iter().map(|s| s.send.id).collect::<Vec<_>>(),
        [first, second],
        "oldest first"
    );
    assert_eq!(sends[1].send.kind, SendKind::Resend);
    assert_eq!(
        (sends[1].send.at, sends[1].send.by_label.as_str()),
        (now, "Bo")
    );
    assert_eq!(sends[0].messages.len(), 1);
    assert_eq!(sends[0].messages[0].channel, OutboxChannel::Email);
    assert_eq!(sends[1].messages.len(), 1);
    assert_eq!(sends[1].messages[0].channel, OutboxChannel::Sms);
    assert_eq!(sends[1].messages[0].share_id, Some(share.id.0));

    // Another account: not found, and nothing changed.
    assert!(is_not_found(
        store
            .resend_share(f.b, share.id, renewed + DAY, "Eve", &[], now)
            .await
    ));
    assert!(is_not_found(
        store
            .resend_share(f.a, ShareId(987_654), renewed, "Bo", &[], now)
            .await
    ));

    // Expired (at exactly expires_at too): never renewed.
    for late in [renewed, renewed + 1] {
        let r = store
            .resend_share(
                f.a,
                share.id,
                late + 30 * DAY,
                "Bo",
                &[msg(OutboxChannel::Sms, 5)],
                late,
            )
            .await;
        assert!(is_conflict(r), "at {late}");
    }
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!((s.expires_at, s.last_sent_at), (renewed, Some(now)));
    assert_eq!(store.share_sends(f.a, share.id).await.unwrap().len(), 2);

    // Failed shares are not resent.
    let failed = create(store, &new_share(f.a, f.s1, &f.i1, "resend-failed")).await;
    store.fail_share(failed.id, "x", T0).await.unwrap();
    assert!(is_conflict(
        store
            .resend_share(f.a, failed.id, T0 + DAY, "Bo", &[], T0)
            .await
    ));
}

async fn revoke(store: &dyn Store, outbox: &dyn OutboxStore, f: &Fixture) {
    let t = T0 + 100 * DAY;
    let mut new = new_share(f.a, f.s1, &f.i1, "revoke");
    new.expires_at = t + 30 * DAY;
    let share = create(store, &new).await;
    let initial = [msg(OutboxChannel::Email, 6), msg(OutboxChannel::Sms, 7)];
    store
        .finish_share(share.id, false, "Ana", &initial, t)
        .await
        .unwrap();
    // A worker holds the first send's messages (and whatever else is due).
    let claimed = outbox.claim_due(t, LEASE, 10_000).await.unwrap();
    assert_eq!(
        claimed
            .iter()
            .filter(|m| m.share_id == Some(share.id.0))
            .count(),
        2
    );
    store
        .resend_share(
            f.a,
            share.id,
            t + 30 * DAY,
            "Bo",
            &[msg(OutboxChannel::Email, 8)],
            t + 1,
        )
        .await
        .unwrap();

    assert!(
        !store.revoke_share(f.b, share.id, t + 2).await.unwrap(),
        "another account's"
    );
    assert!(
        !store
            .revoke_share(f.a, ShareId(987_654), t + 2)
            .await
            .unwrap()
    );
    assert!(store.revoke_share(f.a, share.id, t + 2).await.unwrap());
    assert!(
        !store.revoke_share(f.a, share.id, t + 3).await.unwrap(),
        "already revoked"
    );

    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!(s.revoked_at, Some(t + 2), "the first revocation's time");
    assert!(!s.is_active(t + 2));
    let sends = store.share_sends(f.a, share.id).await.unwrap();
    for m in &sends[0].messages {
        assert_eq!(
            m.status,
            OutboxStatus::Sending,
            "in a worker's hands: its own mark decides"
        );
    }
    let queued = &sends[1].messages[0];
    assert_eq!(queued.status, OutboxStatus::Failed);
    assert_eq!(queued.last_error.as_deref(), Some("link revoked"));
    assert_eq!(queued.updated_at, t + 2);
    assert!(
        outbox
            .claim_due(t + 10, LEASE, 10_000)
            .await
            .unwrap()
            .iter()
            .all(|m| m.id != queued.id)
    );

    // The worker holding the first send's messages died: their lease runs
    // out, and no one hands them to a provider again.
    let after_lease = outbox.claim_due(t + 2 + LEASE + 1, LEASE, 10_000).await.unwrap();
    assert!(
        after_lease.iter().all(|m| m.share_id != Some(share.id.0)),
        "a revoked link's message attempted again"
    );

    // Revoked links are not resent.
    assert!(is_conflict(
        store
            .resend_share(f.a, share.id, t + 60 * DAY, "Bo", &[], t + 4)
            .await
    ));

    // Revoked while preparing: finishing records the send, but sends nothing.
    let early = create(store, &new_share(f.a, f.s1, &f.i1, "revoke-early")).await;
    assert!(store.revoke_share(f.a, early.id, t).await.unwrap());
    store
        .finish_share(early.id, false, "Ana", &[msg(OutboxChannel::Sms, 9)], t + 5)
        .await
        .unwrap();
    let sends = store.share_sends(f.a, early.id).await.unwrap();
    assert_eq!(sends[0].messages.len(), 1);
    assert_eq!(sends[0].messages[0].status, OutboxStatus::Failed);
    assert_eq!(
        sends[0].messages[0].last_error.as_deref(),
        Some("link revoked")
    );
}

async fn password(store: Arc<dyn Store>, f: &Fixture) {
    let share = create(&*store, &new_share(f.a, f.s1, &f.i1, "password")).await;
    assert!(
        store
            .set_share_password(share.id, "$argon2id$first", T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_share_password(share.id, "$argon2id$second", T0)
            .await
            .unwrap()
    );
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!(s.password_hash.as_deref(), Some("$argon2id$first"));
    assert!(is_not_found(
        store
            .set_share_password(ShareId(987_654), "$argon2id$x", T0)
            .await
    ));

    // Racing first visitors: exactly one wins, and it is the stored one.
    let race = create(&*store, &new_share(f.a, f.s1, &f.i1, "password-race")).await;
    let race = race.id;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let hash = format!("$argon2id${n}");
                store
                    .set_share_password(race, &hash, T0)
                    .await
                    .unwrap()
                    .then_some(hash)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        winners.extend(t.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let s = store.share(f.a, race).await.unwrap().unwrap();
    assert_eq!(s.password_hash.as_ref(), Some(&winners[0]));
}

async fn failures(store: Arc<dyn Store>, f: &Fixture) {
    let share = create(&*store, &new_share(f.a, f.s1, &f.i1, "failures")).await;
    let lock = 15 * 60_000;
    for n in 1..=4 {
        let state = store
            .record_share_failure(share.id, 5, lock, T0 + n)
            .await
            .unwrap();
        assert_eq!(
            state,
            FailureState {
                failed_attempts: n,
                locked_until: None
            }
        );
    }
    let state = store
        .record_share_failure(share.id, 5, lock, T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        state,
        FailureState {
            failed_attempts: 0,
            locked_until: Some(T0 + 5 + lock)
        },
        "the 5th locks"
    );
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!(
        (s.failed_attempts, s.locked_until),
        (0, Some(T0 + 5 + lock))
    );

    // Counting starts again; a later failure reports no new lock.
    let later = T0 + 5 + lock + 1;
    for n in 1..=2 {
        let state = store
            .record_share_failure(share.id, 5, lock, later)
            .await
            .unwrap();
        assert_eq!(
            state,
            FailureState {
                failed_attempts: n,
                locked_until: None
            }
        );
    }
    store.clear_share_failures(share.id).await.unwrap();
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!(s.failed_attempts, 0);
    assert_eq!(
        s.locked_until,
        Some(T0 + 5 + lock),
        "clearing the count leaves the old lock's time"
    );
    assert!(is_not_found(
        store
            .record_share_failure(ShareId(987_654), 5, lock, T0)
            .await
    ));
    assert!(is_not_found(
        store.clear_share_failures(ShareId(987_654)).await
    ));

    // Concurrent wrong guesses: none is lost, and exactly every 5th locks.
    let race = create(&*store, &new_share(f.a, f.s1, &f.i1, "failures-race")).await;
    let race = race.id;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { store.record_share_failure(race, 5, lock, T0).await.unwrap() },
            )
        })
        .collect();
    let mut counts = Vec::new();
    for t in tasks {
        let state = t.await.unwrap();
        assert_eq!(state.locked_until.is_some(), state.failed_attempts == 0);
        counts.push(state.failed_attempts);
    }
    counts.sort();
    assert_eq!(counts, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    assert_eq!(
        store
            .share(f.a, race)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
}

async fn access(store: &dyn Store, f: &Fixture) {
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "access")).await;
    let other = create(store, &new_share(f.a, f.s1, &f.i1, "access-other")).await;
    store
        .create_share_access(share.id, "cookie-1", T0 + 1000, T0)
        .await
        .unwrap();
    assert!(
        store
            .share_access_valid(share.id, "cookie-1", T0)
            .await
            .unwrap()
    );
    assert!(
        store
            .share_access_valid(share.id, "cookie-1", T0 + 999)
            .await
            .unwrap()
    );
    assert!(
        !store
            .share_access_valid(share.id, "cookie-1", T0 + 1000)
            .await
            .unwrap(),
        "expired"
    );
    assert!(
        !store
            .share_access_valid(other.id, "cookie-1", T0)
            .await
            .unwrap(),
        "another share's"
    );
    assert!(
        !store
            .share_access_valid(share.id, "cookie-2", T0)
            .await
            .unwrap(),
        "never granted"
    );

    assert!(is_conflict(
        store
            .create_share_access(other.id, "cookie-1", T0 + 1000, T0)
            .await
    ));
    assert!(is_not_found(
        store
            .create_share_access(ShareId(987_654), "cookie-9", T0 + 1000, T0)
            .await
    ));

    // A later grant sweeps the share's expired ones; valid ones stay.
    store
        .create_share_access(share.id, "cookie-2", T0 + 5000, T0 + 10)
        .await
        .unwrap();
    store
        .create_share_access(share.id, "cookie-3", T0 + 9000, T0 + 2000)
        .await
        .unwrap();
    assert!(
        !store
            .share_access_valid(share.id, "cookie-1", T0)
            .await
            .unwrap(),
        "swept"
    );
    assert!(
        store
            .share_access_valid(share.id, "cookie-2", T0 + 2000)
            .await
            .unwrap()
    );
    assert!(
        store
            .share_access_valid(share.id, "cookie-3", T0 + 2000)
            .await
            .unwrap()
    );
    // So a swept hash may be granted again.
    store
        .create_share_access(other.id, "cookie-1", T0 + 9000, T0 + 2000)
        .await
        .unwrap();
    assert!(
        store
            .share_access_valid(other.id, "cookie-1", T0 + 2000)
            .await
            .unwrap()
    );
}

async fn counters(store: &dyn Store, f: &Fixture) {
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "counters")).await;
    store.record_share_view(share.id, T0 + 200).await.unwrap();
    store.record_share_view(share.id, T0 + 300).await.unwrap();
    // Served out of order: first and last still hold the extremes.
    store.record_share_view(share.id, T0 + 100).await.unwrap();
    for n in 0..3 {
        store
            .record_share_download(share.id, T0 + 400 + n)
            .await
            .unwrap();
    }
    let s = store.share(f.a, share.id).await.unwrap().unwrap();
    assert_eq!((s.views, s.downloads), (3, 3));
    assert_eq!(
        (s.first_opened_at, s.last_opened_at),
        (Some(T0 + 100), Some(T0 + 300))
    );
    assert!(is_not_found(
        store.record_share_view(ShareId(987_654), T0).await
    ));
    assert!(is_not_found(
        store.record_share_download(ShareId(987_654), T0).await
    ));
}

async fn lists(store: &dyn Store, f: &Fixture) {
    let (study, instances) = common::study_with_instances(store, f.a, "1.2.3.500", 3).await;
    let mut made = Vec::new();
    for n in 0..3 {
        let snapshot = &instances[..=n];
        made.push(
            create(
                store,
                &new_share(f.a, study, snapshot, &format!("list-{n}")),
            )
            .await,
        );
    }
    let newest_first: Vec<Share> = made.iter().rev().cloned().collect();
    assert_eq!(
        store.shares_for_study(f.a, study).await.unwrap(),
        newest_first
    );
    assert!(store.shares_for_study(f.b, study).await.unwrap().is_empty());
    assert!(
        store
            .shares_for_study(f.a, f.s2)
            .await
            .unwrap()
            .iter()
            .all(|s| s.study_id == f.s2)
    );

    // The account's list pages by id, newest first.
    let page1 = store.list_shares(f.a, None, 2).await.unwrap();
    assert_eq!(page1, newest_first[..2]);
    let page2 = store.list_shares(f.a, Some(page1[1].id), 2).await.unwrap();
    assert_eq!(page2[0], newest_first[2]);
    assert!(page2[1].id < made[0].id);
    let all = store.list_shares(f.a, None, 10_000).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert!(all.iter().all(|s| s.account_id == f.a));
    // Every share keeps its own snapshot in a list.
    let big = all
        .iter()
        .find(|s| s.instance_ids.len() == 1203)
        .expect("the big share");
    assert_eq!(
        big.study_id,
        store
            .share_by_token_hash("token-hash-big")
            .await
            .unwrap()
            .unwrap()
            .study_id
    );

    let b_share = create(store, &new_share(f.b, f.sb, &f.ib, "list-b")).await;
    assert_eq!(store.list_shares(f.b, None, 10).await.unwrap(), [b_share]);
    assert!(
        store
            .list_shares(f.a, None, 10_000)
            .await
            .unwrap()
            .iter()
            .all(|s| s.account_id == f.a)
    );
}

async fn preparing(store: &dyn Store, f: &Fixture) {
    let done = create(store, &new_share(f.a, f.s1, &f.i1, "prep-done")).await;
    store
        .finish_share(done.id, false, "Ana", &[], T0)
        .await
        .unwrap();
    let waiting = create(store, &new_share(f.b, f.sb, &f.ib, "prep-waiting")).await;

    let found = store.preparing_shares().await.unwrap();
    assert!(found.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert!(found.iter().all(|s| s.state == ShareState::Preparing));
    assert!(found.iter().any(|s| s.account_id == f.a) && found.iter().any(|s| s.account_id == f.b));
    assert!(!found.iter().any(|s| s.id == done.id));
    assert_eq!(found.last(), Some(&waiting));
    for s in &found {
        assert!(
            store.share_deid_secret(s.id).await.unwrap().is_some(),
            "share {}",
            s.id
        );
    }
}

/// Loops encoded after the share became ready.
async fn videos(store: &dyn Store, f: &Fixture) {
    let pending = |id, position, instance| ShareItem {
        video_pending: true,
        text_check: studylink_model::TextCheck::None,
        frames: 27,
        ..item(id, position, instance, ItemKind::Cine)
    };
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "videos")).await;
    let items = vec![
        pending(share.id, 0, f.i1[0]),
        item(share.id, 1, f.i1[1], ItemKind::Image),
        pending(share.id, 2, f.i1[2]),
    ];
    store.put_share_items(share.id, &items).await.unwrap();
    let of_share = |all: Vec<ShareItem>| {
        all.into_iter()
            .filter(|i| i.share_id == share.id)
            .map(|i| i.position)
            .collect::<Vec<_>>()
    };
    // Not while preparing: the preparation itself still owns them.
    assert!(of_share(store.pending_share_videos().await.unwrap()).is_empty());
    store
        .finish_share(share.id, false, "Ana", &[], T0)
        .await
        .unwrap();
    assert_eq!(
        of_share(store.pending_share_videos().await.unwrap()),
        [0, 2]
    );

    assert!(
        store
            .set_share_item_video(share.id, 0, Some(("shares/v/0.mp4", 1234)))
            .await
            .unwrap()
    );
    // A second encoder (another node) finishing later changes nothing.
    assert!(
        !store
            .set_share_item_video(share.id, 0, Some(("other.mp4", 1)))
            .await
            .unwrap()
    );
    assert!(
        !store.set_share_item_video(share.id, 1, None).await.unwrap(),
        "not pending"
    );
    let read = store.share_items(share.id).await.unwrap();
    assert_eq!(read[0].mp4_key.as_deref(), Some("shares/v/0.mp4"));
    assert_eq!(
        (read[0].mp4_size, read[0].video_pending),
        (Some(1234), false)
    );
    assert_eq!(read[1], items[1]);
    assert!(read[2].video_pending);
    assert_eq!(of_share(store.pending_share_videos().await.unwrap()), [2]);

    // A revoked link's loops are not worth encoding; giving up keeps a still.
    assert!(store.revoke_share(f.a, share.id, T0 + 1).await.unwrap());
    assert!(of_share(store.pending_share_videos().await.unwrap()).is_empty());
    assert!(store.set_share_item_video(share.id, 2, None).await.unwrap());
    let last = &store.share_items(share.id).await.unwrap()[2];
    assert!(!last.video_pending && last.mp4_key.is_none());
}

/// Images held back from patients until OCR has read them.
async fn text_checks(store: &dyn Store, f: &Fixture) {
    use studylink_model::TextCheck;
    use studylink_store::TextCheckResult;
    let share = create(store, &new_share(f.a, f.s1, &f.i1, "text-checks")).await;
    let items = vec![
        ShareItem { text_check: TextCheck::Pending, ..item(share.id, 0, f.i1[0], ItemKind::Image) },
        ShareItem {
            text_check: TextCheck::Pending,
            video_pending: true,
            frames: 27,
            ..item(share.id, 1, f.i1[1], ItemKind::Cine)
        },
        item(share.id, 2, f.i1[2], ItemKind::Document),
    ];
    store.put_share_items(share.id, &items).await.unwrap();
    let of_share = |all: Vec<(ShareItem, String)>| {
        all.into_iter()
            .filter(|(i, _)| i.share_id == share.id)
            .map(|(i, key)| (i.position, key))
            .collect::<Vec<_>>()
    };
    let videos_of_share = |all: Vec<ShareItem>| all.iter().filter(|i| i.share_id == share.id).count();
    // Not while preparing.
    assert!(of_share(store.pending_share_text_checks().await.unwrap()).is_empty());
    store.finish_share(share.id, false, "Ana", &[], T0).await.unwrap();
    assert_eq!(
        of_share(store.pending_share_text_checks().await.unwrap()),
        [(0, "originals/test/1.2.3.100.0.dcm".to_string()), (1, "originals/test/1.2.3.100.1.dcm".to_string())],
        "each with its original's blob"
    );
    // A loop's video waits for its check: it would show the unchecked frames.
    assert_eq!(videos_of_share(store.pending_share_videos().await.unwrap()), 0);

    let passed = TextCheckResult::Passed { dicom_size: Some(777), jpeg_size: Some(55) };
    assert!(store.set_share_item_text_check(share.id, 1, passed).await.unwrap());
    assert!(
        !store.set_share_item_text_check(share.id, 1, TextCheckResult::Failed).await.unwrap(),
        "recorded once: a later result changes nothing"
    );
    assert!(
        !store
            .set_share_item_text_check(share.id, 2, TextCheckResult::Failed)
            .await
            .unwrap(),
        "not pending"
    );
    assert_eq!(videos_of_share(store.pending_share_videos().await.unwrap()), 1);
    let read = store.share_items(share.id).await.unwrap();
    assert_eq!((read[1].text_check, read[1].dicom_size, read[1].jpeg_size), (TextCheck::Passed, 777, Some(55)));
    assert_eq!(read[0].text_check, TextCheck::Pending);
    assert_eq!(read[2], items[2]);

    assert!(store.set_share_item_text_check(share.id, 0, TextCheckResult::Failed).await.unwrap());
    let read = store.share_items(share.id).await.unwrap();
    assert_eq!((read[0].text_check, read[0].dicom_size), (TextCheck::Failed, items[0].dicom_size));
    assert!(of_share(store.pending_share_text_checks().await.unwrap()).is_empty());

    // Unchanged sizes stay; a revoked link's checks are not worth the CPU.
    let other = create(store, &new_share(f.a, f.s1, &f.i1, "text-checks-revoked")).await;
    let pending = ShareItem { text_check: TextCheck::Pending, ..item(other.id, 0, f.i1[3], ItemKind::Image) };
    store.put_share_items(other.id, std::slice::from_ref(&pending)).await.unwrap();
    store.finish_share(other.id, false, "Ana", &[], T0).await.unwrap();
    let listed = store.pending_share_text_checks().await.unwrap();
    assert!(listed.iter().any(|(i, _)| i.share_id == other.id));
    let unchanged = TextCheckResult::Passed { dicom_size: None, jpeg_size: None };
    assert!(store.set_share_item_text_check(other.id, 0, unchanged).await.unwrap());
    let read = &store.share_items(other.id).await.unwrap()[0];
    assert_eq!((read.text_check, read.dicom_size, read.jpeg_size), (TextCheck::Passed, pending.dicom_size, pending.jpeg_size));
    let third = create(store, &new_share(f.a, f.s1, &f.i1, "text-checks-revoked-2")).await;
    let pending = ShareItem { text_check: TextCheck::Pending, ..item(third.id, 0, f.i1[3], ItemKind::Image) };
    store.put_share_items(third.id, &[pending]).await.unwrap();
    store.finish_share(third.id, false, "Ana", &[], T0).await.unwrap();
    assert!(store.revoke_share(f.a, third.id, T0 + 1).await.unwrap());
    assert!(!store.pending_share_text_checks().await.unwrap().iter().any(|(i, _)| i.share_id == third.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/shares.db", dir.path().display());
    let (store, outbox) = connect_with_outbox(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    contract(store, outbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    common::with_fresh_pg(|url| async move {
        let (store, outbox) = connect_with_outbox(&url).await.unwrap();
        assert_eq!(store.backend(), "postgres");
        contract(store, outbox).await;
    })
    .await;
}
