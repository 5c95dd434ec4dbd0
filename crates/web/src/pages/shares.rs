//! A study's patient links for staff: the status page after Send (progress
//! while the images are prepared, then each channel's delivery), Resend and
//! Revoke, and the rows of the study view's Shared tab.
//!
//! Contacts are shown masked in lists; the status page of a link shows them in
//! full to the staff member who just typed them.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use studylink_model::{AccountId, Share, ShareId, ShareState};
use studylink_notify::{E164Phone, EmailAddress};
use studylink_share::ShareError;
use studylink_store::InstanceQuery;
use studylink_store::outbox::{OutboxChannel, OutboxMessage, OutboxStatus};

use super::i18n::{self, Arg};
use super::layout::{Chrome, error_page_with, render};
use super::{links, send};
use crate::auth::{StaffForm, StaffUser};
use crate::{AppState, WebError};

/// One channel's message of one send.
pub struct DeliveryLine {
    pub channel: String,
    pub recipient: String,
    pub status: String,
    /// queued | sending | sent | delivered | failed, for the badge's colour.
    pub status_class: &'static str,
    pub detail: String,
}

pub struct SendLine {
    pub heading: String,
    pub deliveries: Vec<DeliveryLine>,
}

/// A share as the Shared tab and the status page show it.
pub struct ShareView {
    pub id: i64,
    pub heading: String,
    pub facts: Vec<(String, String)>,
    pub sends: Vec<SendLine>,
    pub resend_action: String,
    pub revoke_action: String,
    pub page: String,
    /// Why Resend is greyed out.
    pub resend_disabled_reason: Option<String>,
    pub can_revoke: bool,
}

#[derive(Template)]
#[template(path = "share.html")]
struct SharePage {
    c: Chrome,
    back: String,
    share: ShareView,
    /// `Some((done, total))` while preparing.
    progress: Option<(i64, i64)>,
    progress_text: String,
    confirmation: Option<String>,
    failed: Option<String>,
    link: Option<String>,
    /// Seconds until the page reloads itself (preparing, messages in flight).
    refresh: Option<u32>,
    delivery_notes: Vec<String>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    staff: StaffUser,
    Path((uid, id)): Path<(String, i64)>,
) -> Result<Response, WebError> {
    let c = Chrome::staff(&headers, &uri, &staff, "studies");
    let account = staff.user.account_id;
    let Some(share) = state.store.share(account, ShareId(id)).await? else {
        return Ok(not_found(c, &uid));
    };
    let view = view(&state, &c, &uid, &share).await?;
    let now = state.clock.now();
    let progress = (share.state == ShareState::Preparing).then(|| {
        let p = state.shares.progress(share.id).unwrap_or_default();
        (p.done as i64, p.total.max(share.instance_ids.len()) as i64)
    });
    let progress_text = progress
        .map(|(done, total)| i18n::t_args(c.lang, "share-preparing", &[("done", Arg::from(done)), ("total", Arg::from(total))]))
        .unwrap_or_default();
    let in_flight = view.sends.iter().flat_map(|s| &s.deliveries).any(|d| matches!(d.status_class, "queued" | "sending"));
    let refresh = if progress.is_some() {
        Some(1)
    } else if in_flight && now - share.last_sent_at.unwrap_or(0) < 10 * 60_000 {
        Some(3)
    } else {
        None
    };
    let confirmation = (share.state == ShareState::Ready && share.is_active(now)).then(|| {
        let key = if view.sends.len() > 1 { "share-resent" } else { "share-handed-over" };
        c.t1(key, "until", &c.timestamp(&share.expires_at))
    });
    let failed = (share.state == ShareState::Failed)
        .then(|| c.t1("share-failed", "reason", share.state_error.as_deref().unwrap_or("")));
    let link = (share.state != ShareState::Failed && share.is_active(now)).then(|| state.shares.link(&share).to_string());
    let mut delivery_notes = Vec::new();
    if !state.delivery.email && share.email.is_some() {
        delivery_notes.push(c.t("send-email-local"));
    }
    if !state.delivery.sms && share.phone.is_some() {
        delivery_notes.push(c.t("send-sms-local"));
    }
    let tpl = SharePage {
        back: links::study_page(&uid),
        share: view,
        progress,
        progress_text,
        confirmation,
        failed,
        link,
        refresh,
        delivery_notes,
        c,
    };
    Ok(render(StatusCode::OK, &tpl))
}

/// POST `/studies/{uid}/shares/{id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path((uid, id)): Path<(String, i64)>,
    form: StaffForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Chrome::staff(&headers, &uri, &form.staff, "studies");
    match state.shares.resend(form.staff.user.account_id, ShareId(id), &send::requester(&form.staff)).await {
        Ok(_) => Ok(Redirect::to(&links::share_page(&uid, id)).into_response()),
        Err(ShareError::NotFound) => Ok(not_found(c, &uid)),
        Err(ShareError::Expired | ShareError::NotReady) => {
            let (title, msg, back) = (c.t("share-cannot-resend-title"), c.t("share-cannot-resend"), c.t("send-back"));
            Ok(error_page_with(c, StatusCode::CONFLICT, title, msg, (&links::send_page(&uid), back)))
        }
        Err(e) => Err(send::share_error(e)),
    }
}

/// POST `/studies/{uid}/shares/{id}/revoke`: irreversible.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path((uid, id)): Path<(String, i64)>,
    form: StaffForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let c = Chrome::staff(&headers, &uri, &form.staff, "studies");
    match state.shares.revoke(form.staff.user.account_id, ShareId(id), &send::requester(&form.staff)).await {
        Ok(_) => Ok(Redirect::to(&format!("{}#shared", links::study_page(&uid))).into_response()),
        Err(ShareError::NotFound) => Ok(not_found(c, &uid)),
        Err(e) => Err(send::share_error(e)),
    }
}

fn not_found(c: Chrome, uid: &str) -> Response {
    let (title, msg, back) = (c.t("share-not-found-title"), c.t("share-not-found"), c.t("send-back"));
    error_page_with(c, StatusCode::NOT_FOUND, title, msg, (&links::study_page(uid), back))
}

/// The Shared tab of a study: its links newest first, and when it was last sent.
pub async fn study_shares(
    state: &AppState,
    c: &Chrome,
    account: AccountId,
    study: &studylink_store::StudyRow,
) -> Result<(Option<String>, Vec<ShareView>), WebError> {
    let shares = state.store.shares_for_study(account, study.id).await?;
    let last = shares.iter().filter_map(|s| s.last_sent_at).max().map(|t| c.t1("shared-last-sent", "when", &c.timestamp(&t)));
    let mut out = Vec::with_capacity(shares.len());
    for s in &shares {
        out.push(view(state, c, &study.study_uid, s).await?);
    }
    Ok((last, out))
}

pub async fn view(state: &AppState, c: &Chrome, uid: &str, s: &Share) -> Result<ShareView, WebError> {
    let now = state.clock.now();
    let sends = state.store.share_sends(s.account_id, s.id).await?;
    let items = s.instance_ids.len() as i64;
    let status = if s.revoked_at.is_some() {
        c.t1("shared-revoked", "when", &c.timestamp(&s.revoked_at.unwrap_or_default()))
    } else if s.state == ShareState::Failed {
        c.t("shared-failed")
    } else if s.expires_at <= now {
        c.t1("shared-expired", "when", &c.timestamp(&s.expires_at))
    } else if s.state == ShareState::Preparing {
        c.t("shared-preparing")
    } else {
        c.t1("shared-active-until", "when", &c.timestamp(&s.expires_at))
    };
    let mut facts = vec![
        (c.t("shared-status"), status),
        (c.t("shared-created"), c.timestamp(&s.created_at)),
        (c.t("shared-by"), s.created_by_label.clone()),
        (c.t("shared-images"), c.count("study-images-count", items)),
        (c.t("shared-contacts"), contacts_masked(s)),
    ];
    if s.password_required {
        facts.push((c.t("shared-protection"), c.t("shared-password")));
    }
    if s.link_code_version > 0 {
        facts.push((c.t("shared-protection"), c.t("shared-link-code")));
    }
    let opened = match (s.first_opened_at, s.last_opened_at) {
        (Some(first), Some(last)) => i18n::t_args(
            c.lang,
            "shared-opened",
            &[("first", Arg::from(c.timestamp(&first))), ("last", Arg::from(c.timestamp(&last))), ("views", Arg::from(s.views))],
        ),
        _ => c.t("shared-not-opened"),
    };
    facts.push((c.t("shared-opened-label"), opened));
    facts.push((c.t("shared-downloads"), c.num(s.downloads)));
    let sends = sends
        .iter()
        .map(|sw| SendLine {
            heading: i18n::t_args(
                c.lang,
                if sw.send.kind == studylink_model::SendKind::Resend { "shared-send-resend" } else { "shared-send-initial" },
                &[("when", Arg::from(c.timestamp(&sw.send.at))), ("by", Arg::from(sw.send.by_label.clone()))],
            ),
            deliveries: sw.messages.iter().map(|m| delivery_line(c, m)).collect(),
        })
        .collect();
    let active = s.is_active(now) && s.state == ShareState::Ready;
    let resend_disabled_reason = if active {
        None
    } else if s.state == ShareState::Preparing {
        Some(c.t("shared-resend-preparing"))
    } else {
        Some(c.t("shared-resend-expired"))
    };
    Ok(ShareView {
        id: s.id.0,
        heading: c.t1("shared-link-heading", "when", &c.timestamp(&s.created_at)),
        facts,
        sends,
        resend_action: links::share_action(uid, s.id.0, "resend"),
        revoke_action: links::share_action(uid, s.id.0, "revoke"),
        page: links::share_page(uid, s.id.0),
        resend_disabled_reason,
        can_revoke: s.revoked_at.is_none() && s.state != ShareState::Failed,
    })
}

fn delivery_line(c: &Chrome, m: &OutboxMessage) -> DeliveryLine {
    let channel = c.t(match m.channel {
        OutboxChannel::Email => "contact-email",
        OutboxChannel::Sms => "shared-sms",
    });
    let recipient = match m.channel {
        OutboxChannel::Email => EmailAddress::parse(&m.recipient).map(|e| e.mask()).unwrap_or_default(),
        OutboxChannel::Sms => E164Phone::from_e164(&m.recipient).map(|p| p.mask()).unwrap_or_default(),
    };
    let (status, class) = match m.status {
        OutboxStatus::Queued => (c.t("delivery-queued"), "queued"),
        OutboxStatus::Sending => (c.t("delivery-sending"), "sending"),
        OutboxStatus::Sent => (c.t("delivery-sent"), "sent"),
        OutboxStatus::Delivered => (c.t("delivery-delivered"), "delivered"),
        OutboxStatus::Failed => (c.t("delivery-failed"), "failed"),
    };
    let detail = match m.status {
        OutboxStatus::Failed => m.last_error.clone().unwrap_or_default(),
        OutboxStatus::Delivered => m.delivered_at.map(|t| c.timestamp(&t)).unwrap_or_default(),
        OutboxStatus::Sent => m.sent_at.map(|t| c.timestamp(&t)).unwrap_or_default(),
        OutboxStatus::Queued if m.attempts > 0 => {
            c.t1("delivery-retrying", "error", m.last_error.as_deref().unwrap_or(""))
        }
        _ => String::new(),
    };
    DeliveryLine { channel, recipient, status, status_class: class, detail }
}

/// "p•••@example.org, +34 ••• ••• 678".
pub fn contacts_masked(s: &Share) -> String {
    let email = s.email.as_deref().and_then(EmailAddress::parse).map(|e| e.mask());
    let phone = s.phone.as_deref().and_then(E164Phone::from_e164).map(|p| p.mask());
    email.into_iter().chain(phone).collect::<Vec<_>>().join(", ")
}

/// The contacts as the dialog's field takes them, for "send a new link".
pub fn contacts_display(s: &Share) -> String {
    let phone = s.phone.as_deref().and_then(E164Phone::from_e164).map(|p| p.display());
    s.email.clone().into_iter().chain(phone).collect::<Vec<_>>().join(", ")
}

/// The share's images as SOP Instance UIDs of its study (those still stored).
pub async fn instance_uids(state: &AppState, account: AccountId, study_uid: &str, s: &Share) -> Result<Vec<String>, WebError> {
    let rows = state
        .store
        .query_instances(
            account,
            &InstanceQuery {
                study_uid: Some(study_uid.to_owned()),
                page: studylink_store::Page { limit: 100_000, offset: 0 },
                ..Default::default()
            },
        )
        .await?;
    Ok(s.instance_ids.iter().filter_map(|id| rows.iter().find(|r| r.id == *id).map(|r| r.sop_uid.clone())).collect())
}
