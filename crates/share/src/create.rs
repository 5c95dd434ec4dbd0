//! Creating a share: the study and the chosen instances are checked, the
//! share row is written (state `preparing`), and its preparation starts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rand::RngCore;
use studylink_model::{AccountId, Language, NewShare, Share, StudyId};
use studylink_notify::PatientContacts;
use studylink_store::{
    InstanceQuery, InstanceRow, Page, SeriesQuery, Store, StoreError, StudyQuery, StudyRow,
};

use crate::{DAY_MS, Requester, ShareError, ShareService, audit, token};

/// The store clamps pages to this many rows.
const PAGE: i64 = 10_000;

impl ShareService {
    pub(crate) async fn create_share(
        self: &Arc<Self>,
        account: AccountId,
        study_uid: &str,
        instances: &[String],
        contacts: &PatientContacts,
        language: Language,
        by: &Requester,
    ) -> Result<Share, ShareError> {
        let store = &*self.store;
        let study = find_study(store, account, study_uid)
            .await?
            .ok_or(ShareError::StudyNotFound)?;
        let all = study_instances(store, account, &study.study_uid).await?;
        let chosen = choose(all, instances)?;
        let settings = store.account_settings(account).await?;
        let link_code_version = store.current_link_code_version(account).await?.unwrap_or(0);

        let now = self.clock.now();
        let seed = random_32();
        let new = NewShare {
            account_id: account,
            study_id: study.id,
            token_hash: token::token_hash(&token::token_for(&self.config.link_key, &seed)),
            token_seed: seed.to_vec(),
            created_by: match by.actor {
                studylink_model::Actor::User(u) => Some(u),
                _ => None,
            },
            created_by_label: by.label.clone(),
            created_at: now,
            expires_at: now + settings.link_lifetime_days * DAY_MS,
            language,
            email: contacts.email().map(|e| e.as_str().to_owned()),
            phone: contacts.phone().map(|p| p.as_str().to_owned()),
            link_code_version,
            deid_secret: random_32().to_vec(),
            instance_ids: chosen.iter().map(|r| r.id).collect(),
        };
        let share = store.create_share(&new).await.map_err(|e| match e {
            // The study or an instance went away between our queries and the
            // insert. Anything else the store finds missing (the creating
            // user, deleted meanwhile) stays a store error.
            StoreError::NotFound(what) if what.starts_with("study") => ShareError::StudyNotFound,
            StoreError::NotFound(what) if what.contains("instance") => ShareError::UnknownInstance,
            e => ShareError::Store(e),
        })?;
        tracing::info!(share = %share.id, account = %account, objects = chosen.len(), "share created");
        audit::share_event(
            store,
            account,
            by.actor.clone(),
            "share.created",
            share.id,
            serde_json::json!({
                "instances": chosen.len(),
                "whole_study": instances.is_empty(),
                "channels": audit::channels(share.email.is_some(), share.phone.is_some()),
                "language": language.as_str(),
                "lifetime_days": settings.link_lifetime_days,
                "link_code": link_code_version > 0,
            }),
        )
        .await;
        self.start_preparation(share.clone(), Some(chosen));
        Ok(share)
    }
}

fn random_32() -> [u8; 32] {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b
}

/// The study with exactly this UID in the account. The store reads a list
/// of UIDs out of a value with `,` or `\`, so the match is checked here.
pub(crate) async fn find_study(
    store: &dyn Store,
    account: AccountId,
    study_uid: &str,
) -> Result<Option<StudyRow>, ShareError> {
    let uid = study_uid.trim();
    if uid.is_empty() || uid.contains([',', '\\']) {
        return Ok(None);
    }
    let q = StudyQuery {
        study_uid: Some(uid.to_owned()),
        page: Page {
            limit: 10,
            offset: 0,
        },
        ..Default::default()
    };
    Ok(store
        .query_studies(account, &q)
        .await?
        .into_iter()
        .find(|s| s.study_uid == uid))
}

/// The UID of a study known by id (a share stores the id only).
pub(crate) async fn study_uid_by_id(
    store: &dyn Store,
    account: AccountId,
    id: StudyId,
) -> Result<Option<String>, ShareError> {
    let q = StudyQuery { id: Some(id), ..Default::default() };
    Ok(store.query_studies(account, &q).await?.into_iter().next().map(|s| s.study_uid))
}

/// Every instance of the study in the order staff see them: series by series
/// number, then instances by instance number.
pub(crate) async fn study_instances(
    store: &dyn Store,
    account: AccountId,
    study_uid: &str,
) -> Result<Vec<InstanceRow>, ShareError> {
    let mut rows = Vec::new();
    loop {
        let q = InstanceQuery {
            study_uid: Some(study_uid.to_owned()),
            page: Page {
                limit: PAGE,
                offset: rows.len() as i64,
            },
            ..Default::default()
        };
        let page = store.query_instances(account, &q).await?;
        let n = page.len();
        rows.extend(page.into_iter().filter(|r| r.study_uid == study_uid));
        if (n as i64) < PAGE {
            break;
        }
    }
    let mut series_rank = HashMap::new();
    let mut offset = 0;
    loop {
        let q = SeriesQuery {
            study_uid: Some(study_uid.to_owned()),
            page: Page {
                limit: PAGE,
                offset,
            },
            ..Default::default()
        };
        let page = store.query_series(account, &q).await?;
        let n = page.len() as i64;
        for s in page {
            let rank = series_rank.len();
            series_rank.entry(s.series_uid).or_insert(rank);
        }
        if n < PAGE {
            break;
        }
        offset += PAGE;
    }
    // Stable: instance order within a series is the store's.
    rows.sort_by_key(|r| {
        series_rank
            .get(&r.series_uid)
            .copied()
            .unwrap_or(usize::MAX)
    });
    Ok(rows)
}

/// The chosen instances (by SOP Instance UID, duplicates ignored) in the
/// study's order, or the whole study when none are named.
fn choose(all: Vec<InstanceRow>, wanted: &[String]) -> Result<Vec<InstanceRow>, ShareError> {
    let chosen = if wanted.is_empty() {
        all
    } else {
        let wanted: HashSet<&str> = wanted.iter().map(|u| u.trim()).collect();
        let present: HashSet<&str> = all.iter().map(|r| r.sop_uid.as_str()).collect();
        if wanted.iter().any(|u| !present.contains(u)) {
            return Err(ShareError::UnknownInstance);
        }
        all.into_iter()
            .filter(|r| wanted.contains(r.sop_uid.as_str()))
            .collect()
    };
    if chosen.is_empty() {
        return Err(ShareError::Empty);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_model::InstanceId;

    fn row(id: i64, uid: &str) -> InstanceRow {
        InstanceRow {
            id: InstanceId(id),
            study_uid: "1.2".into(),
            series_uid: "1.2.3".into(),
            sop_uid: uid.into(),
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.6.1".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            number: None,
            frames: 1,
            rows: None,
            columns: None,
            size_bytes: 1,
            blob_key: format!("originals/1/{id}.dcm"),
            received_at: 0,
        }
    }

    #[test]
    fn choose_keeps_study_order_and_ignores_duplicates() {
        let all = vec![row(1, "1.1"), row(2, "1.2"), row(3, "1.3")];
        let got = choose(all.clone(), &["1.3".into(), "1.1".into(), "1.3".into()]).unwrap();
        assert_eq!(got.iter().map(|r| r.id.0).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(choose(all.clone(), &[]).unwrap().len(), 3);
        assert!(matches!(
            choose(all, &["9.9".into()]),
            Err(ShareError::UnknownInstance)
        ));
        assert!(matches!(choose(vec![], &[]), Err(ShareError::Empty)));
    }
}
