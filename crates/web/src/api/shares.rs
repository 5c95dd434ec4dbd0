//! Patient links over the API:
//!
//! * `POST /api/v1/studies/{uid}/shares` — send a study (or some of its
//!   instances) to a patient. Following the seed, sending a study whose newest
//!   link is still active to the *same* contacts re-sends that link (200,
//!   `"resent": true`, lifetime renewed); different contacts, or an expired or
//!   revoked newest link, give a new link (201).
//! * `GET /api/v1/studies/{uid}/shares` — the study's links, newest first.
//! * `GET /api/v1/shares/{id}`, `POST …/resend`, `POST …/revoke`.
//!
//! The share service audits what it does (creation, resend, revoke); these
//! handlers only translate. Contacts are patient data: the JSON shows them
//! masked, and nothing here logs them.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use studylink_model::{AccountId, InstanceId, Language, Share, ShareId, ShareState};
use studylink_notify::{E164Phone, EmailAddress, PatientContacts};
use studylink_share::{Requester, ShareError};
use studylink_store::StudyQuery;
use studylink_store::outbox::{OutboxChannel, OutboxMessage};

use super::contacts::{parse_contacts, warnings_json};
use super::{ApiError, ApiJson, Caller, FieldError, caller_lang, rfc3339, rfc3339_opt};
use crate::AppState;
use crate::auth::Principal;
use crate::pages::i18n::{self, Lang};

/// Longest `?wait=true` waits for a share to be prepared; after that the
/// answer says `"state": "preparing"` and the caller polls `GET /shares/{id}`.
pub const WAIT_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Deserialize)]
pub struct CreateBody {
    /// "patient@example.org, +34 612 345 678", as staff type it.
    #[serde(default)]
    contacts: Option<String>,
    /// SOP Instance UIDs of the study; absent or empty: the whole study.
    #[serde(default)]
    instances: Option<Vec<String>>,
    /// "es" or "en"; absent: the clinic's default language, else English.
    #[serde(default)]
    language: Option<String>,
}

/// Who is asking, for the audit log and the Shared tab.
pub fn requester(p: &Principal) -> Requester {
    let label = match p.role {
        Some(_) => p.label.clone(),
        None => format!("API key '{}'", p.label),
    };
    Requester {
        actor: p.actor.clone(),
        label,
    }
}

/// `?wait=true` (or `1`, `yes`).
fn wants_wait(query: Option<&str>) -> bool {
    let Some(q) = query else { return false };
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap_or_default()
        .iter()
        .any(|(k, v)| k == "wait" && matches!(v.as_str(), "true" | "1" | "yes" | ""))
}

pub fn share_error(e: ShareError, lang: Lang) -> ApiError {
    use StatusCode as S;
    match e {
        ShareError::StudyNotFound => ApiError::t(
            S::NOT_FOUND,
            "study_not_found",
            lang,
            "api-error-study-not-found",
        ),
        ShareError::NotFound => {
            ApiError::t(S::NOT_FOUND, "not_found", lang, "api-error-share-not-found")
        }
        ShareError::UnknownInstance => ApiError::invalid(vec![field_error(
            "instances",
            "api-error-unknown-instance",
            lang,
        )]),
        ShareError::Empty => {
            ApiError::invalid(vec![field_error("instances", "api-error-empty", lang)])
        }
        ShareError::Expired => ApiError::t(S::CONFLICT, "expired", lang, "api-error-expired"),
        ShareError::NotReady => ApiError::t(S::CONFLICT, "not_ready", lang, "api-error-not-ready"),
        ShareError::Store(s) => s.into(),
    }
}

fn field_error(field: &str, key: &str, lang: Lang) -> FieldError {
    FieldError {
        field: field.to_owned(),
        key: key.to_owned(),
        message: i18n::t(lang, key),
    }
}

/// The study by its UID, in the caller's account.
pub async fn find_study(
    state: &AppState,
    account: AccountId,
    uid: &str,
) -> Result<Option<studylink_store::StudyRow>, ApiError> {
    // A UID list ("a,b") or a wildcard would match several studies.
    if uid.is_empty() || uid.contains([',', '\\', '*', '?']) {
        return Ok(None);
    }
    let q = StudyQuery {
        study_uid: Some(uid.to_owned()),
        ..Default::default()
    };
    Ok(state
        .store
        .query_studies(account, &q)
        .await?
        .into_iter()
        .find(|r| r.study_uid == uid))
}

fn same_contacts(share: &Share, contacts: &PatientContacts) -> bool {
    let email_same = match (share.email.as_deref(), contacts.email()) {
        (None, None) => true,
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b.as_str()),
        _ => false,
    };
    email_same && share.phone.as_deref() == contacts.phone().map(|p| p.as_str())
}

/// Whether an explicit selection is the share's snapshot. `Err` for a UID
/// that isn't an instance of this study.
async fn same_selection(
    state: &AppState,
    account: AccountId,
    study_uid: &str,
    share: &Share,
    instances: &[String],
    lang: Lang,
) -> Result<bool, ApiError> {
    let mut chosen = BTreeSet::<InstanceId>::new();
    for uid in instances {
        match state.store.instance_by_sop(account, uid).await? {
            Some(row) if row.study_uid == study_uid => {
                chosen.insert(row.id);
            }
            _ => return Err(share_error(ShareError::UnknownInstance, lang)),
        }
    }
    Ok(chosen == share.instance_ids.iter().copied().collect::<BTreeSet<_>>())
}

async fn wait_if_asked(
    state: &AppState,
    share: Share,
    wait: bool,
    lang: Lang,
) -> Result<Share, ApiError> {
    if !wait || share.state != ShareState::Preparing {
        return Ok(share);
    }
    match tokio::time::timeout(WAIT_LIMIT, state.shares.wait_ready(share.id)).await {
        Ok(r) => r.map_err(|e| share_error(e, lang)),
        // Still preparing: the answer says so.
        Err(_) => Ok(state
            .store
            .share(share.account_id, share.id)
            .await?
            .unwrap_or(share)),
    }
}

/// `POST /api/v1/studies/{study_uid}/shares`.
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
    RawQuery(query): RawQuery,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let account = p.account_id;
    let settings = state.store.account_settings(account).await?;
    let lang = caller_lang(&headers, &settings);
    let Some(study) = find_study(&state, account, &study_uid).await? else {
        return Err(share_error(ShareError::StudyNotFound, lang));
    };

    let mut errors = Vec::new();
    let contacts = match body
        .contacts
        .as_deref()
        .map(|c| parse_contacts(c, &settings))
    {
        None => {
            errors.push(field_error("contacts", "api-error-contacts-missing", lang));
            None
        }
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            errors.push(FieldError {
                field: "contacts".into(),
                key: e.key().into(),
                message: e.message(super::notify_lang(lang)),
            });
            None
        }
    };
    let language = match body.language.as_deref().map(str::trim) {
        None | Some("") => Some(settings.default_language.unwrap_or(Language::En)),
        Some(code) => {
            let l = Language::parse(&code.to_ascii_lowercase());
            if l.is_none() {
                errors.push(field_error("language", "api-error-language", lang));
            }
            l
        }
    };
    let (Some(contacts), Some(language)) = (contacts, language) else {
        return Err(ApiError::invalid(errors));
    };
    let instances = body.instances.unwrap_or_default();
    let by = requester(&p);
    let wait = wants_wait(query.as_deref());
    let warnings = warnings_json(&contacts, lang);

    // The seed: "send again" to the same contacts re-sends the active link.
    // An explicit selection that differs from that link's images needs a link
    // of its own (the same link would show other images).
    let now = state.clock.now();
    let newest = state
        .store
        .shares_for_study(account, study.id)
        .await?
        .into_iter()
        .next();
    let mut previous_expired = false;
    if let Some(prev) = newest.filter(|s| same_contacts(s, &contacts)) {
        if prev.is_active(now)
            && (instances.is_empty()
                || same_selection(&state, account, &study_uid, &prev, &instances, lang).await?)
        {
            let share = state
                .shares
                .resend(account, prev.id, &by)
                .await
                .map_err(|e| share_error(e, lang))?;
            let mut out = share_json(&state, &share).await?;
            out["resent"] = json!(true);
            out["previous_expired"] = json!(false);
            out["warnings"] = warnings;
            return Ok((StatusCode::OK, Json(out)).into_response());
        }
        previous_expired =
            prev.revoked_at.is_none() && prev.state == ShareState::Ready && prev.expires_at <= now;
    }

    let share = state
        .shares
        .create(account, &study_uid, &instances, &contacts, language, &by)
        .await
        .map_err(|e| share_error(e, lang))?;
    let share = wait_if_asked(&state, share, wait, lang).await?;
    let mut out = share_json(&state, &share).await?;
    out["resent"] = json!(false);
    out["previous_expired"] = json!(previous_expired);
    out["warnings"] = warnings;
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/shares/{}", share.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/studies/{study_uid}/shares`: newest first.
pub async fn list_for_study(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Path(study_uid): Path<String>,
) -> Result<Response, ApiError> {
    let Some(study) = find_study(&state, p.account_id, &study_uid).await? else {
        let settings = state.store.account_settings(p.account_id).await?;
        return Err(share_error(
            ShareError::StudyNotFound,
            caller_lang(&headers, &settings),
        ));
    };
    let shares = state.store.shares_for_study(p.account_id, study.id).await?;
    let mut out = Vec::with_capacity(shares.len());
    for s in &shares {
        out.push(share_json(&state, s).await?);
    }
    Ok(Json(json!({ "study_uid": study.study_uid, "shares": out })).into_response())
}

fn parse_id(id: &str) -> Option<ShareId> {
    id.parse::<i64>().ok().filter(|i| *i > 0).map(ShareId)
}

async fn not_found(state: &AppState, p: &Principal, headers: &HeaderMap) -> ApiError {
    let lang = match state.store.account_settings(p.account_id).await {
        Ok(s) => caller_lang(headers, &s),
        Err(_) => Lang::En,
    };
    share_error(ShareError::NotFound, lang)
}

/// `GET /api/v1/shares/{id}`.
pub async fn get_share(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let share = match parse_id(&id) {
        Some(id) => state.store.share(p.account_id, id).await?,
        None => None,
    };
    let Some(share) = share else {
        return Err(not_found(&state, &p, &headers).await);
    };
    Ok(Json(share_json(&state, &share).await?).into_response())
}

/// `POST /api/v1/shares/{id}/resend`: the same link, lifetime renewed.
pub async fn resend(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(id) = parse_id(&id) else {
        return Err(not_found(&state, &p, &headers).await);
    };
    let settings = state.store.account_settings(p.account_id).await?;
    let lang = caller_lang(&headers, &settings);
    let share = state
        .shares
        .resend(p.account_id, id, &requester(&p))
        .await
        .map_err(|e| share_error(e, lang))?;
    Ok(Json(share_json(&state, &share).await?).into_response())
}

/// `POST /api/v1/shares/{id}/revoke`: irreversible.
pub async fn revoke(
    State(state): State<AppState>,
    Caller(p): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let Some(id) = parse_id(&id) else {
        return Err(not_found(&state, &p, &headers).await);
    };
    let settings = state.store.account_settings(p.account_id).await?;
    let lang = caller_lang(&headers, &settings);
    let share = state
        .shares
        .revoke(p.account_id, id, &requester(&p))
        .await
        .map_err(|e| share_error(e, lang))?;
    Ok(Json(share_json(&state, &share).await?).into_response())
}

// --- the share as JSON ----------------------------------------------------------

fn mask(channel: OutboxChannel, recipient: &str) -> String {
    let masked = match channel {
        OutboxChannel::Email => EmailAddress::parse(recipient).map(|e| e.mask()),
        OutboxChannel::Sms => E164Phone::from_e164(recipient).map(|p| p.mask()),
    };
    masked.unwrap_or_else(|| "•••".into())
}

fn delivery_json(m: &OutboxMessage) -> Value {
    json!({
        "id": m.id.0,
        "channel": m.channel.as_str(),
        "recipient_masked": mask(m.channel, &m.recipient),
        "status": m.status.as_str(),
        "error": m.last_error,
        "attempts": m.attempts,
        "sent_at": rfc3339_opt(m.sent_at),
        "delivered_at": rfc3339_opt(m.delivered_at),
    })
}

/// The messages a share will send once it is prepared (none are queued yet).
fn pending_deliveries(s: &Share) -> Vec<Value> {
    let email = s.email.as_deref().map(|e| (OutboxChannel::Email, e));
    let phone = s.phone.as_deref().map(|p| (OutboxChannel::Sms, p));
    email
        .into_iter()
        .chain(phone)
        .map(|(channel, r)| {
            json!({
                "id": null,
                "channel": channel.as_str(),
                "recipient_masked": mask(channel, r),
                "status": "pending",
                "error": null,
                "attempts": 0,
                "sent_at": null,
                "delivered_at": null,
            })
        })
        .collect()
}

/// The share as every endpoint returns it.
pub async fn share_json(state: &AppState, s: &Share) -> Result<Value, ApiError> {
    let now = state.clock.now();
    let sends = state.store.share_sends(s.account_id, s.id).await?;
    let deliveries: Vec<Value> = match sends.last() {
        Some(last) => last.messages.iter().map(delivery_json).collect(),
        None if s.state == ShareState::Preparing => pending_deliveries(s),
        None => Vec::new(),
    };
    let sends: Vec<Value> = sends
        .iter()
        .map(|sw| {
            json!({
                "id": sw.send.id,
                "kind": sw.send.kind.as_str(),
                "at": rfc3339(sw.send.at),
                "by": sw.send.by_label,
                "deliveries": sw.messages.iter().map(delivery_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let progress = if s.state == ShareState::Preparing {
        let p = state.shares.progress(s.id).unwrap_or_default();
        json!({ "done": p.done, "total": p.total.max(s.instance_ids.len()) })
    } else {
        Value::Null
    };
    // After the share became ready: loops whose MP4 is still being encoded,
    // images still held back for their text check.
    let (videos_pending, images_checking) = if s.state == ShareState::Ready {
        let items = state.store.share_items(s.id).await?;
        (
            items.iter().filter(|i| i.video_pending).count(),
            items.iter().filter(|i| i.text_check == studylink_model::TextCheck::Pending).count(),
        )
    } else {
        (0, 0)
    };
    let masked: Vec<String> = s
        .email
        .as_deref()
        .map(|e| mask(OutboxChannel::Email, e))
        .into_iter()
        .chain(s.phone.as_deref().map(|p| mask(OutboxChannel::Sms, p)))
        .collect();
    Ok(json!({
        "id": s.id.0,
        "url": state.shares.link(s).to_string(),
        "state": s.state.as_str(),
        "state_error": s.state_error,
        "active": s.is_active(now),
        "expired": s.expires_at <= now,
        "expires_at": rfc3339(s.expires_at),
        "password_required": s.password_required,
        "link_code_required": s.link_code_version > 0,
        "language": s.language.as_str(),
        "contacts_masked": masked,
        "instances": s.instance_ids.len(),
        "created_at": rfc3339(s.created_at),
        "created_by": s.created_by_label,
        "revoked_at": rfc3339_opt(s.revoked_at),
        "last_sent_at": rfc3339_opt(s.last_sent_at),
        "views": s.views,
        "downloads": s.downloads,
        "first_opened_at": rfc3339_opt(s.first_opened_at),
        "last_opened_at": rfc3339_opt(s.last_opened_at),
        "progress": progress,
        "videos_pending": videos_pending,
        "images_checking": images_checking,
        "deliveries": deliveries,
        "sends": sends,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_flag() {
        assert!(wants_wait(Some("wait=true")));
        assert!(wants_wait(Some("x=1&wait=1")));
        assert!(!wants_wait(Some("wait=false")));
        assert!(!wants_wait(None));
    }

    #[test]
    fn masks_never_show_the_whole_contact() {
        assert_eq!(
            mask(OutboxChannel::Email, "patient@example.org"),
            "p•••@example.org"
        );
        assert_eq!(mask(OutboxChannel::Sms, "+34612345678"), "+34 ••• ••• 678");
        assert_eq!(mask(OutboxChannel::Sms, "garbage"), "•••");
    }
}
