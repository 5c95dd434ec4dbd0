//! Clinic settings and the patient link code's versions.

use studylink_model::*;
use studylink_store::{Store, StoreError};

use crate::support::Raw;

fn admin() -> Actor {
    Actor::User(UserId(7))
}

async fn actions(store: &dyn Store, account: AccountId) -> Vec<(String, String)> {
    store
        .audit_events(Some(account), 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.event.action, r.event.detail))
        .collect()
}

pub async fn defaults_and_round_trip(store: &dyn Store, raw: &Raw) {
    let account = store.create_account("Clínica del Sol").await.unwrap();
    let other = store.create_account("Settings B").await.unwrap();
    let defaults = AccountSettings::defaults("Clínica del Sol");
    assert_eq!(store.account_settings(account.id).await.unwrap(), defaults);
    assert!(matches!(
        store.account_settings(AccountId(999_999)).await,
        Err(StoreError::NotFound(_))
    ));

    let mut s = defaults.clone();
    s.clinic_name = "Clínica del Sol · Ecografía".into();
    s.phone = Some("+34 910 000 000".into());
    s.email = Some("citas@sol.example".into());
    s.website = Some("https://sol.example".into());
    s.logo = Some(Logo { blob_key: format!("settings/{}/logo-abc.png", account.id), content_type: "image/png".into() });
    s.default_language = Some(Language::Es);
    s.time_zone = "Europe/Madrid".into();
    s.country_code = Some(34);
    s.link_lifetime_days = 30;
    s.landing_show_study_date = true;
    s.deid = DeidOptions { retain_dates: DateRetention::Shift, clean_descriptors: true, ..Default::default() };
    let changed = store.update_account_settings(account.id, &s, &admin()).await.unwrap();
    assert_eq!(changed.len(), 12, "{changed:?}");
    assert!(changed.contains(&"deid.retain_dates") && !changed.contains(&"landing_show_study_description"));

    let saved = store.account_settings(account.id).await.unwrap();
    assert!(saved.updated_at.is_some());
    assert_eq!(AccountSettings { updated_at: None, ..saved.clone() }, s);
    // Another clinic is untouched.
    assert_eq!(store.account_settings(other.id).await.unwrap(), AccountSettings::defaults("Settings B"));

    // The audit names the fields, not their values.
    let events = actions(store, account.id).await;
    let (action, detail) = &events[0];
    assert_eq!(action, "settings.updated");
    assert!(detail.contains("\"phone\"") && !detail.contains("910"), "{detail}");

    // Saving the same values changes and audits nothing.
    let again = store.update_account_settings(account.id, &saved, &admin()).await.unwrap();
    assert!(again.is_empty());
    assert_eq!(actions(store, account.id).await.len(), events.len());

    // Clearing optional fields stores NULLs, not empty strings.
    let cleared = AccountSettings { phone: None, logo: None, default_language: None, country_code: None, ..saved };
    store.update_account_settings(account.id, &cleared, &admin()).await.unwrap();
    let back = store.account_settings(account.id).await.unwrap();
    assert_eq!((back.phone, back.logo, back.default_language, back.country_code), (None, None, None, None));

    // The schema refuses what the model's rules refuse, on both backends.
    for bad in [
        AccountSettings { link_lifetime_days: 45, ..defaults.clone() },
        AccountSettings { country_code: Some(1000), ..defaults.clone() },
        AccountSettings {
            logo: Some(Logo { blob_key: "settings/x/logo-1.svg".into(), content_type: "image/svg+xml".into() }),
            ..defaults.clone()
        },
    ] {
        let err = store.update_account_settings(other.id, &bad, &admin()).await;
        assert!(matches!(err, Err(StoreError::Database(_))), "{err:?}");
    }
    assert_eq!(store.account_settings(other.id).await.unwrap(), AccountSettings::defaults("Settings B"));
    assert!(matches!(
        store.update_account_settings(AccountId(999_999), &defaults, &admin()).await,
        Err(StoreError::NotFound(_))
    ));

    // A row the link code created holds the column DEFAULTs: they must equal the model's.
    let fresh = store.create_account("Defaults C").await.unwrap();
    store.set_link_code(fresh.id, None, &admin()).await.unwrap();
    assert_eq!(store.account_settings(fresh.id).await.unwrap(), AccountSettings::defaults("Defaults C"));
    let n = raw.exec(&format!("UPDATE account_settings SET updated_at = 1 WHERE account_id = {}", fresh.id)).await;
    assert_eq!(n.unwrap(), 1, "the link code made the row");
}

pub async fn link_code_versions(store: &dyn Store) {
    let account = store.create_account("Link codes").await.unwrap().id;
    let other = store.create_account("Link codes B").await.unwrap().id;
    assert_eq!(store.current_link_code_version(account).await.unwrap(), None);
    assert_eq!(store.link_code_hash(account, 1).await.unwrap(), None);

    let v1 = store.set_link_code(account, Some("$argon2id$one"), &admin()).await.unwrap();
    assert_eq!(v1, 1);
    assert_eq!(store.current_link_code_version(account).await.unwrap(), Some(1));
    assert_eq!(store.account_settings(account).await.unwrap().link_code_version, Some(1));
    assert_eq!(store.link_code_hash(account, 1).await.unwrap().as_deref(), Some("$argon2id$one"));
    assert_eq!(store.link_code_hash(other, 1).await.unwrap(), None, "scoped by account");

    // Changing keeps the old link on its old code.
    let v2 = store.set_link_code(account, Some("$argon2id$two"), &admin()).await.unwrap();
    assert_eq!(v2, 2);
    assert_eq!(store.current_link_code_version(account).await.unwrap(), Some(2));
    assert_eq!(store.link_code_hash(account, 1).await.unwrap().as_deref(), Some("$argon2id$one"));
    assert_eq!(store.link_code_hash(account, 2).await.unwrap().as_deref(), Some("$argon2id$two"));

    // Saving other settings leaves the code alone, even with a stale version in hand.
    let mut s = store.account_settings(account).await.unwrap();
    s.link_code_version = None;
    s.phone = Some("+34 600 000 000".into());
    store.update_account_settings(account, &s, &admin()).await.unwrap();
    assert_eq!(store.current_link_code_version(account).await.unwrap(), Some(2));

    // Removing it takes the prompt off every existing link.
    let v3 = store.set_link_code(account, None, &admin()).await.unwrap();
    assert_eq!(v3, 3);
    assert_eq!(store.current_link_code_version(account).await.unwrap(), None);
    assert_eq!(store.account_settings(account).await.unwrap().link_code_version, None);
    for v in [1, 2, 3] {
        assert_eq!(store.link_code_hash(account, v).await.unwrap(), None, "v{v}");
    }

    // A new code after the removal applies to new links only.
    let v4 = store.set_link_code(account, Some("$argon2id$four"), &admin()).await.unwrap();
    assert_eq!(v4, 4);
    assert_eq!(store.link_code_hash(account, 4).await.unwrap().as_deref(), Some("$argon2id$four"));
    assert_eq!(store.link_code_hash(account, 2).await.unwrap(), None);

    // Audited by version, never with the hash.
    let events = actions(store, account).await;
    let codes: Vec<_> = events.iter().filter(|(a, _)| a.starts_with("settings.link_code")).collect();
    assert_eq!(codes.len(), 4);
    assert_eq!(codes[1].0, "settings.link_code_removed");
    assert!(codes.iter().all(|(_, d)| !d.contains("argon2")), "{codes:?}");

    assert!(matches!(
        store.set_link_code(AccountId(999_999), Some("$argon2id$x"), &admin()).await,
        Err(StoreError::NotFound(_))
    ));
}

/// Two admins changing the code at once get distinct versions, not an error.
pub async fn concurrent_link_code_changes(store: std::sync::Arc<dyn Store>) {
    let account = store.create_account("Link codes race").await.unwrap().id;
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.set_link_code(account, Some(&format!("$argon2id${i}")), &admin()).await })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=8).collect::<Vec<_>>());
    assert_eq!(store.current_link_code_version(account).await.unwrap(), Some(8));
}
