//! The outbox store on SQLite and PostgreSQL: one body, both backends.
//!
//! PostgreSQL: `STUDYLINK_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) must let this user create
//! databases; each run uses a fresh database and drops it.

mod common;

use std::sync::Arc;

use studylink_model::AccountId;
use studylink_store::outbox::{
    DeliveryOutcome, DeliveryStatus, NewOutboxMessage, OutboxChannel, OutboxId, OutboxStatus,
    OutboxStore,
};
use studylink_store::{PgStore, SqliteStore, Store, connect_with_outbox};

const T0: i64 = 1_800_000_000_000;
const LEASE: i64 = 60_000;

fn msg(
    account: AccountId,
    share: Option<i64>,
    channel: OutboxChannel,
    n: usize,
) -> NewOutboxMessage {
    NewOutboxMessage {
        account_id: account,
        share_id: share,
        channel,
        recipient: match channel {
            OutboxChannel::Email => format!("p{n}@example.org"),
            OutboxChannel::Sms => format!("+3461234{n:04}"),
        },
        payload: format!(r#"{{"kind":"test","n":{n}}}"#),
    }
}

async fn contract(store: Arc<dyn Store>, outbox: Arc<dyn OutboxStore>) {
    let a = store.create_account("Outbox A").await.unwrap().id;
    let b = store.create_account("Outbox B").await.unwrap().id;
    enqueue_and_read(&*outbox, a, b).await;
    claim_lease_and_fencing(&*outbox, a).await;
    retries(&*outbox, a).await;
    delivery_reports(&*outbox, a).await;
    concurrent_claims(outbox.clone(), a).await;
    audited(&*store, a).await;
}

/// Every delivery status change left an audit row: the channel and share by
/// id, never the recipient.
async fn audited(store: &dyn Store, a: AccountId) {
    let rows = store.audit_events(Some(a), 100_000).await.unwrap();
    let delivery: Vec<_> = rows.iter().filter(|r| r.event.action.starts_with("delivery.")).collect();
    for action in ["delivery.sent", "delivery.delivered", "delivery.failed"] {
        assert!(delivery.iter().any(|r| r.event.action == action), "{action} audited");
    }
    for r in &delivery {
        assert_eq!(r.event.target_kind.as_deref(), Some("outbox"));
        let detail: serde_json::Value = serde_json::from_str(&r.event.detail).unwrap();
        assert!(detail["channel"].is_string(), "{detail}");
        assert!(!r.event.detail.contains("@example.org") && !r.event.detail.contains("+34"), "no recipient: {detail}");
    }
    assert!(rows.iter().all(|r| r.event.account_id == Some(a)));
}

/// Claims everything due by `now` so the next step starts from an empty queue.
async fn drain(outbox: &dyn OutboxStore, now: i64) {
    for m in outbox.claim_due(now, LEASE, 1000).await.unwrap() {
        assert!(outbox.mark_sent(m.id, m.attempts, None, now).await.unwrap());
    }
}

async fn enqueue_and_read(outbox: &dyn OutboxStore, a: AccountId, b: AccountId) {
    let ids = outbox
        .enqueue(
            &[
                msg(a, Some(1), OutboxChannel::Email, 1),
                msg(a, Some(1), OutboxChannel::Sms, 2),
                msg(a, None, OutboxChannel::Email, 3),
                msg(b, Some(1), OutboxChannel::Email, 4),
            ],
            T0,
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in input order");

    let share = outbox.list_for_share(a, 1).await.unwrap();
    assert_eq!(share.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]);
    let first = &share[0];
    assert_eq!(first.account_id, a);
    assert_eq!(first.share_id, Some(1));
    assert_eq!(first.channel, OutboxChannel::Email);
    assert_eq!(first.recipient, "p1@example.org");
    assert_eq!(first.payload, r#"{"kind":"test","n":1}"#);
    assert_eq!(first.status, OutboxStatus::Queued);
    assert_eq!(first.attempts, 0);
    assert_eq!(first.next_attempt_at, T0);
    assert_eq!((first.created_at, first.updated_at), (T0, T0));
    assert_eq!(
        (first.lease_until, first.sent_at, first.delivered_at),
        (None, None, None)
    );
    assert_eq!(
        (first.provider_id.as_deref(), first.last_error.as_deref()),
        (None, None)
    );

    // Accounts don't see each other's messages.
    assert_eq!(outbox.list_for_share(b, 1).await.unwrap().len(), 1);
    assert!(outbox.outbox_message(b, ids[0]).await.unwrap().is_none());
    assert_eq!(
        outbox
            .outbox_message(a, ids[2])
            .await
            .unwrap()
            .unwrap()
            .share_id,
        None
    );

    let recent = outbox.list_recent(a, 2).await.unwrap();
    assert_eq!(
        recent.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[2], ids[1]],
        "newest first"
    );
    assert!(outbox.enqueue(&[], T0).await.unwrap().is_empty());
    drain(outbox, T0).await;
}

async fn claim_lease_and_fencing(outbox: &dyn OutboxStore, a: AccountId) {
    let t = T0 + 1_000_000;
    let ids = outbox
        .enqueue(
            &[
                msg(a, Some(2), OutboxChannel::Email, 1),
                msg(a, Some(2), OutboxChannel::Sms, 2),
            ],
            t,
        )
        .await
        .unwrap();
    let later = outbox
        .enqueue(&[msg(a, Some(2), OutboxChannel::Email, 3)], t + 10)
        .await
        .unwrap()[0];
    assert!(
        outbox.claim_due(t - 1, LEASE, 10).await.unwrap().is_empty(),
        "nothing due before its time"
    );

    let claimed = outbox.claim_due(t, LEASE, 1).await.unwrap();
    assert_eq!(claimed.len(), 1, "the limit holds");
    assert_eq!(claimed[0].id, ids[0], "oldest due first");
    assert_eq!(claimed[0].status, OutboxStatus::Sending);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].lease_until, Some(t + LEASE));
    let rest = outbox.claim_due(t + 10, LEASE, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[1], later],
        "claimed rows are not claimed twice"
    );

    // While the lease holds, nobody else gets the message.
    assert!(
        outbox
            .claim_due(t + LEASE - 1, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // A worker that died: once the lease is over, the message is claimed again.
    let again = outbox.claim_due(t + LEASE, LEASE, 10).await.unwrap();
    assert_eq!(again.iter().map(|m| m.id).collect::<Vec<_>>(), [ids[0]]);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].lease_until, Some(t + 2 * LEASE));

    // The first claimant's marks are stale now; the current attempt's count.
    assert!(
        !outbox
            .mark_sent(ids[0], 1, Some("old"), t + LEASE + 1)
            .await
            .unwrap()
    );
    assert!(
        !outbox
            .mark_failed_final(ids[0], 1, "old", t + LEASE + 1)
            .await
            .unwrap()
    );
    assert!(
        !outbox
            .set_callback_token(ids[0], 1, "h", t + LEASE + 1)
            .await
            .unwrap()
    );
    assert!(
        outbox
            .mark_sent(ids[0], 2, Some("queue-id-1"), t + LEASE + 2)
            .await
            .unwrap()
    );
    let sent = outbox.outbox_message(a, ids[0]).await.unwrap().unwrap();
    assert_eq!(sent.status, OutboxStatus::Sent);
    assert_eq!(sent.provider_id.as_deref(), Some("queue-id-1"));
    assert_eq!(sent.sent_at, Some(t + LEASE + 2));
    assert_eq!(sent.lease_until, None);
    assert!(
        !outbox
            .mark_failed_retry(ids[0], 2, t, "x", t)
            .await
            .unwrap(),
        "only a sending row can fail"
    );

    assert!(
        outbox
            .mark_failed_final(ids[1], 1, "550 no such mailbox", t + 5)
            .await
            .unwrap()
    );
    let failed = outbox.outbox_message(a, ids[1]).await.unwrap().unwrap();
    assert_eq!(failed.status, OutboxStatus::Failed);
    assert_eq!(failed.last_error.as_deref(), Some("550 no such mailbox"));
    assert!(outbox.mark_sent(later, 1, None, t + 6).await.unwrap());
    // Sent and failed messages are never claimed again.
    assert!(
        outbox
            .claim_due(t + 100 * LEASE, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn retries(outbox: &dyn OutboxStore, a: AccountId) {
    let t = T0 + 10_000_000;
    let id = outbox
        .enqueue(&[msg(a, Some(3), OutboxChannel::Sms, 1)], t)
        .await
        .unwrap()[0];
    let m = &outbox.claim_due(t, LEASE, 10).await.unwrap()[0];
    assert!(
        outbox
            .mark_failed_retry(id, m.attempts, t + 30_000, "503 busy", t + 1)
            .await
            .unwrap()
    );
    let queued = outbox.outbox_message(a, id).await.unwrap().unwrap();
    assert_eq!(queued.status, OutboxStatus::Queued);
    assert_eq!(queued.next_attempt_at, t + 30_000);
    assert_eq!(queued.lease_until, None);
    assert_eq!(queued.last_error.as_deref(), Some("503 busy"));
    assert!(
        outbox
            .claim_due(t + 29_999, LEASE, 10)
            .await
            .unwrap()
            .is_empty(),
        "backoff respected"
    );
    let retry = outbox.claim_due(t + 30_000, LEASE, 10).await.unwrap();
    assert_eq!((retry[0].id, retry[0].attempts), (id, 2));
    assert!(outbox.mark_sent(id, 2, None, t + 30_001).await.unwrap());
}

async fn delivery_reports(outbox: &dyn OutboxStore, a: AccountId) {
    let t = T0 + 20_000_000;
    let ids = outbox
        .enqueue(
            &[
                msg(a, Some(4), OutboxChannel::Sms, 1),
                msg(a, Some(4), OutboxChannel::Sms, 2),
                msg(a, Some(4), OutboxChannel::Sms, 3),
            ],
            t,
        )
        .await
        .unwrap();
    let claimed = outbox.claim_due(t, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 3);
    for (i, id) in ids.iter().enumerate() {
        assert!(
            outbox
                .set_callback_token(*id, 1, &format!("hash{i}"), t)
                .await
                .unwrap()
        );
    }

    // 1. The ordinary path: sent, then reports.
    assert!(
        outbox
            .mark_sent(ids[0], 1, Some("SM1"), t + 1)
            .await
            .unwrap()
    );
    let forged = outbox
        .apply_delivery_update(ids[0], "hash1", &DeliveryStatus::Delivered, t + 2)
        .await
        .unwrap();
    assert_eq!(forged, DeliveryOutcome::Rejected, "another row's token");
    let unknown = outbox
        .apply_delivery_update(OutboxId(i64::MAX), "hash0", &DeliveryStatus::Delivered, t)
        .await
        .unwrap();
    assert_eq!(unknown, DeliveryOutcome::Rejected);
    assert_eq!(
        outbox
            .apply_delivery_update(ids[0], "hash0", &DeliveryStatus::Sent, t + 2)
            .await
            .unwrap(),
        DeliveryOutcome::Ignored
    );
    assert_eq!(
        outbox
            .apply_delivery_update(ids[0], "hash0", &DeliveryStatus::Delivered, t + 3)
            .await
            .unwrap(),
        DeliveryOutcome::Applied(OutboxStatus::Delivered)
    );
    let failed_late = DeliveryStatus::Failed {
        reason: "late".into(),
    };
    assert_eq!(
        outbox
            .apply_delivery_update(ids[0], "hash0", &failed_late, t + 4)
            .await
            .unwrap(),
        DeliveryOutcome::Ignored,
        "delivered is final"
    );
    let row = outbox.outbox_message(a, ids[0]).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.delivered_at, row.sent_at),
        (OutboxStatus::Delivered, Some(t + 3), Some(t + 1))
    );
    assert_eq!(row.provider_id.as_deref(), Some("SM1"));

    // 2. The report races ahead of mark_sent: the report's status stays.
    assert_eq!(
        outbox
            .apply_delivery_update(ids[1], "hash1", &DeliveryStatus::Delivered, t + 5)
            .await
            .unwrap(),
        DeliveryOutcome::Applied(OutboxStatus::Delivered)
    );
    assert!(
        outbox
            .mark_sent(ids[1], 1, Some("SM2"), t + 6)
            .await
            .unwrap()
    );
    let row = outbox.outbox_message(a, ids[1]).await.unwrap().unwrap();
    assert_eq!(row.status, OutboxStatus::Delivered);
    assert_eq!(row.provider_id.as_deref(), Some("SM2"));

    // 3. The carrier gives up after accepting.
    assert!(outbox.mark_sent(ids[2], 1, None, t + 7).await.unwrap());
    let undelivered = DeliveryStatus::Failed {
        reason: "twilio: undelivered (error 30003)".into(),
    };
    assert_eq!(
        outbox
            .apply_delivery_update(ids[2], "hash2", &undelivered, t + 8)
            .await
            .unwrap(),
        DeliveryOutcome::Applied(OutboxStatus::Failed)
    );
    let row = outbox.outbox_message(a, ids[2]).await.unwrap().unwrap();
    assert_eq!(
        row.last_error.as_deref(),
        Some("twilio: undelivered (error 30003)")
    );
    assert_eq!(row.delivered_at, None);

    // Whatever the reports said, none of these is sent again.
    assert!(
        outbox
            .claim_due(t + 10 * LEASE, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Four workers claim at once: every message goes to exactly one of them.
async fn concurrent_claims(outbox: Arc<dyn OutboxStore>, a: AccountId) {
    let t = T0 + 30_000_000;
    let msgs: Vec<_> = (0..40)
        .map(|n| msg(a, Some(5), OutboxChannel::Email, n))
        .collect();
    outbox.enqueue(&msgs, t).await.unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = outbox.claim_due(t, LEASE, 3).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a message was claimed twice");
    assert_eq!(all.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/outbox.db", dir.path().display());
    let (store, outbox) = connect_with_outbox(&url).await.unwrap();
    contract(store, outbox).await;

    // Enqueued inside a caller's transaction: gone on rollback, there on commit.
    let store = SqliteStore::connect(&url).await.unwrap();
    let account = store.default_account().await.unwrap().id;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    SqliteStore::enqueue_outbox_tx(
        &mut tx,
        &[msg(account, Some(77), OutboxChannel::Email, 1)],
        T0,
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(store.list_for_share(account, 77).await.unwrap().is_empty());
    let mut tx = pool.begin().await.unwrap();
    SqliteStore::enqueue_outbox_tx(
        &mut tx,
        &[msg(account, Some(77), OutboxChannel::Email, 1)],
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.list_for_share(account, 77).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    common::with_fresh_pg(|url| async move {
        let url = url.as_str();
        let (store, outbox) = connect_with_outbox(url).await.unwrap();
        assert_eq!(store.backend(), "postgres");
        contract(store, outbox).await;

        let store = PgStore::connect(url).await.unwrap();
        let account = store.default_account().await.unwrap().id;
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        PgStore::enqueue_outbox_tx(
            &mut tx,
            &[msg(account, Some(77), OutboxChannel::Sms, 1)],
            T0,
        )
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert!(store.list_for_share(account, 77).await.unwrap().is_empty());
        let mut tx = pool.begin().await.unwrap();
        PgStore::enqueue_outbox_tx(
            &mut tx,
            &[msg(account, Some(77), OutboxChannel::Sms, 1)],
            T0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.list_for_share(account, 77).await.unwrap().len(), 1);
        pool.close().await;
    })
    .await;
}
