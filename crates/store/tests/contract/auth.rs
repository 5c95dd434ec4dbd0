//! Accounts, users, sessions, setup tokens, login failures, API keys, audit log.

use std::sync::Arc;

use studylink_model::*;
use studylink_store::{Store, StoreError};

use crate::support::Raw;

pub async fn accounts(store: &dyn Store) {
    let (a, b) = tokio::join!(store.default_account(), store.default_account());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a, b,
        "concurrent first calls must agree on one default account"
    );
    assert_eq!(store.default_account().await.unwrap(), a);

    let other = store.create_account("Clinic B").await.unwrap();
    assert_ne!(other.id, a.id);
    assert_eq!(other.name, "Clinic B");
    assert!(other.created_at > 0);
    assert_eq!(store.account(other.id).await.unwrap(), Some(other.clone()));
    assert_eq!(store.account(AccountId(999_999)).await.unwrap(), None);
    // A second named account does not become the default.
    assert_eq!(store.default_account().await.unwrap(), a);
}

fn new_user(account: AccountId, email: &str, role: Role) -> NewUser {
    NewUser {
        account_id: account,
        email: email.into(),
        password_hash: "$argon2id$x".into(),
        role,
    }
}

pub async fn users(store: &dyn Store) {
    let acc = store.default_account().await.unwrap().id;
    let other = store.create_account("Users B").await.unwrap().id;
    assert_eq!(store.count_users().await.unwrap(), 0);

    let admin = store
        .create_user(&new_user(acc, "admin@clinic.test", Role::Admin))
        .await
        .unwrap();
    assert_eq!(admin.email, "admin@clinic.test");
    assert_eq!(admin.role, Role::Admin);
    assert!(!admin.disabled);
    let staff = store
        .create_user(&new_user(acc, "staff@clinic.test", Role::Staff))
        .await
        .unwrap();
    assert_eq!(staff.role, Role::Staff);

    // Emails are unique across accounts.
    let err = store
        .create_user(&new_user(other, "admin@clinic.test", Role::Staff))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(store.count_users().await.unwrap(), 2);

    assert_eq!(
        store.user_by_email("admin@clinic.test").await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(
        store.user_by_email("nobody@clinic.test").await.unwrap(),
        None
    );
    assert_eq!(store.user(staff.id).await.unwrap(), Some(staff.clone()));
    assert_eq!(store.user(UserId(999_999)).await.unwrap(), None);
    assert_eq!(
        store.list_users(acc).await.unwrap(),
        vec![admin.clone(), staff.clone()]
    );
    assert_eq!(store.list_users(other).await.unwrap(), vec![]);

    store
        .set_user_password(admin.id, "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(
        store.user(admin.id).await.unwrap().unwrap().password_hash,
        "$argon2id$new"
    );
    let err = store
        .set_user_password(UserId(999_999), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
}

pub async fn sessions(store: &dyn Store, raw: &Raw) {
    let acc = store.default_account().await.unwrap().id;
    let user = store
        .create_user(&new_user(acc, "session@clinic.test", Role::Staff))
        .await
        .unwrap();
    let session = Session {
        token_hash: "tok-1".into(),
        user_id: user.id,
        csrf_token: "csrf-1".into(),
        created_at: 1_000,
        expires_at: 2_000,
    };
    store.create_session(&session).await.unwrap();
    let err = store.create_session(&session).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    assert_eq!(
        store.session("tok-1", 1_999).await.unwrap(),
        Some((session.clone(), user.clone()))
    );
    assert_eq!(
        store.session("tok-1", 2_000).await.unwrap(),
        None,
        "expired at expires_at"
    );
    assert_eq!(store.session("tok-x", 1_500).await.unwrap(), None);

    // A disabled user's sessions stop working at once.
    let id = user.id.0;
    raw.exec(&format!("UPDATE users SET disabled = TRUE WHERE id = {id}"))
        .await
        .unwrap();
    assert_eq!(store.session("tok-1", 1_500).await.unwrap(), None);
    assert!(store.user(user.id).await.unwrap().unwrap().disabled);
    raw.exec(&format!(
        "UPDATE users SET disabled = FALSE WHERE id = {id}"
    ))
    .await
    .unwrap();
    assert!(store.session("tok-1", 1_500).await.unwrap().is_some());

    store.delete_session("tok-1").await.unwrap();
    store.delete_session("tok-1").await.unwrap();
    assert_eq!(store.session("tok-1", 1_500).await.unwrap(), None);

    for (i, expires_at) in [(2, 5_000), (3, 6_000), (4, 9_000)] {
        let s = Session {
            token_hash: format!("tok-{i}"),
            expires_at,
            ..session.clone()
        };
        store.create_session(&s).await.unwrap();
    }
    assert_eq!(store.delete_expired_sessions(6_000).await.unwrap(), 2);
    assert_eq!(store.delete_expired_sessions(6_000).await.unwrap(), 0);
    assert!(store.session("tok-4", 6_000).await.unwrap().is_some());
}

pub async fn setup_tokens(store: Arc<dyn Store>) {
    store.put_setup_token("setup-1", 10_000).await.unwrap();
    assert!(!store.take_setup_token("wrong", 5_000).await.unwrap());
    assert!(
        !store.take_setup_token("setup-1", 10_000).await.unwrap(),
        "expired at expires_at"
    );
    assert!(store.take_setup_token("setup-1", 9_999).await.unwrap());
    assert!(
        !store.take_setup_token("setup-1", 9_999).await.unwrap(),
        "consumed once"
    );

    // A new token replaces the old one.
    store.put_setup_token("setup-2", 10_000).await.unwrap();
    store.put_setup_token("setup-3", 10_000).await.unwrap();
    assert!(!store.take_setup_token("setup-2", 1).await.unwrap());

    // Two racing takers: exactly one wins.
    let (a, b) = (store.clone(), store.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { a.take_setup_token("setup-3", 1).await.unwrap() }),
        tokio::spawn(async move { b.take_setup_token("setup-3", 1).await.unwrap() }),
    );
    assert!(ra.unwrap() ^ rb.unwrap());
}

pub async fn login_failures(store: &dyn Store) {
    for at in [100, 200, 300] {
        store.record_login_failure("ip:10.0.0.1", at).await.unwrap();
    }
    store
        .record_login_failure("email:a@b.test", 250)
        .await
        .unwrap();
    assert_eq!(
        store.count_login_failures("ip:10.0.0.1", 0).await.unwrap(),
        3
    );
    assert_eq!(
        store
            .count_login_failures("ip:10.0.0.1", 200)
            .await
            .unwrap(),
        2,
        "since is inclusive"
    );
    assert_eq!(
        store
            .count_login_failures("ip:10.0.0.1", 301)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store.count_login_failures("ip:10.0.0.2", 0).await.unwrap(),
        0
    );
    store.clear_login_failures("ip:10.0.0.1").await.unwrap();
    assert_eq!(
        store.count_login_failures("ip:10.0.0.1", 0).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .count_login_failures("email:a@b.test", 0)
            .await
            .unwrap(),
        1
    );
}

pub async fn api_keys(store: &dyn Store) {
    let acc = store.default_account().await.unwrap().id;
    let other = store.create_account("Keys B").await.unwrap().id;
    let k1 = store
        .create_api_key(acc, "PACS upload", "sl_ab12", "hash-1")
        .await
        .unwrap();
    assert_eq!(
        (k1.account_id, k1.name.as_str(), k1.prefix.as_str()),
        (acc, "PACS upload", "sl_ab12")
    );
    assert_eq!(k1.revoked_at, None);
    let k2 = store
        .create_api_key(acc, "Second", "sl_cd34", "hash-2")
        .await
        .unwrap();
    let err = store
        .create_api_key(other, "Dup", "sl_ab12", "hash-1")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");

    assert_eq!(
        store.api_key_by_hash("hash-1").await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(store.api_key_by_hash("hash-x").await.unwrap(), None);
    assert_eq!(
        store.list_api_keys(acc).await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );
    assert_eq!(store.list_api_keys(other).await.unwrap(), vec![]);

    assert!(
        !store.revoke_api_key(other, k1.id, 5_000).await.unwrap(),
        "another account's key"
    );
    assert!(store.revoke_api_key(acc, k1.id, 5_000).await.unwrap());
    assert!(
        !store.revoke_api_key(acc, k1.id, 6_000).await.unwrap(),
        "already revoked"
    );
    assert_eq!(store.api_key_by_hash("hash-1").await.unwrap(), None);
    let listed = store.list_api_keys(acc).await.unwrap();
    assert_eq!(listed[0].revoked_at, Some(5_000));
    assert_eq!(listed[1], k2);
}

pub async fn audit_log(store: &dyn Store, raw: &Raw) {
    let acc = store.default_account().await.unwrap().id;
    let other = store.create_account("Audit B").await.unwrap().id;
    let events = [
        AuditEvent {
            account_id: Some(acc),
            actor: Actor::User(UserId(7)),
            action: "user.login".into(),
            target_kind: None,
            target_id: None,
            detail: "{}".into(),
        },
        AuditEvent {
            account_id: Some(acc),
            actor: Actor::Device("CT_SCANNER".into()),
            action: "study.received".into(),
            target_kind: Some("study".into()),
            target_id: Some("42".into()),
            detail: r#"{"instances":3}"#.into(),
        },
        AuditEvent {
            account_id: Some(other),
            actor: Actor::ApiKey(ApiKeyId(3)),
            action: "stow".into(),
            target_kind: None,
            target_id: None,
            detail: "{}".into(),
        },
        AuditEvent {
            account_id: None,
            actor: Actor::System,
            action: "server.start".into(),
            target_kind: None,
            target_id: None,
            detail: "{}".into(),
        },
    ];
    let before = now_millis();
    let mut ids = Vec::new();
    for e in &events {
        ids.push(store.audit(e).await.unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let mine = store.audit_events(Some(acc), 100).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(
        (mine[0].id, &mine[0].event),
        (ids[1], &events[1]),
        "newest first"
    );
    assert_eq!((mine[1].id, &mine[1].event), (ids[0], &events[0]));
    assert!(mine[0].at >= before);

    let all = store.audit_events(None, 100).await.unwrap();
    let all_events: Vec<_> = all.iter().map(|r| r.event.clone()).collect();
    assert_eq!(all_events, events.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(store.audit_events(None, 1).await.unwrap()[0].id, ids[3]);

    // Append-only, enforced by the database itself.
    let update = raw
        .exec("UPDATE audit_events SET action = 'tampered'")
        .await;
    assert!(update.is_err(), "UPDATE of audit_events must fail");
    let delete = raw.exec("DELETE FROM audit_events").await;
    assert!(delete.is_err(), "DELETE from audit_events must fail");
    assert_eq!(store.audit_events(None, 100).await.unwrap(), all);
}
