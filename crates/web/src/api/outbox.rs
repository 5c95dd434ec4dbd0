//! `/admin/outbox`: the clinic's recent patient messages for administrators —
//! when, which channel, to whom (in full: without a provider, staff deliver
//! these by hand), their status and error, the share they belong to, and the
//! message itself as it was rendered.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use studylink_notify::Payload;
use studylink_store::outbox::{OutboxChannel, OutboxMessage, OutboxStatus};

use crate::auth::AdminUser;
use crate::pages::layout::{Chrome, render};
use crate::{AppState, WebError};

/// How many messages the page lists, newest first.
pub const PAGE_SIZE: i64 = 200;

pub struct OutboxRow {
    pub id: i64,
    /// The clinic's wall-clock time, with its zone.
    pub at: String,
    /// RFC 3339 UTC, for `<time datetime>`.
    pub iso: String,
    pub channel: String,
    pub recipient: String,
    pub status: String,
    /// queued | sending | sent | delivered | failed.
    pub status_class: &'static str,
    pub error: Option<String>,
    pub attempts: String,
    pub share_id: Option<i64>,
    pub subject: Option<String>,
    pub text: String,
}

#[derive(Template)]
#[template(path = "admin_outbox.html")]
struct OutboxPage {
    c: Chrome,
    rows: Vec<OutboxRow>,
    /// Sentences about channels without a provider.
    notes: Vec<String>,
    count: String,
}

fn row(c: &Chrome, m: &OutboxMessage) -> OutboxRow {
    let channel = c.t(match m.channel {
        OutboxChannel::Email => "contact-email",
        OutboxChannel::Sms => "shared-sms",
    });
    let status_class = m.status.as_str();
    let status = c.t(match m.status {
        OutboxStatus::Queued => "delivery-queued",
        OutboxStatus::Sending => "delivery-sending",
        OutboxStatus::Sent => "delivery-sent",
        OutboxStatus::Delivered => "delivery-delivered",
        OutboxStatus::Failed => "delivery-failed",
    });
    let (subject, text) = match Payload::from_json(&m.payload) {
        Ok(Payload::Email(e)) => (Some(e.subject), e.text),
        Ok(Payload::Sms(s)) => (None, s.text),
        Err(_) => (None, c.t("outbox-unreadable")),
    };
    OutboxRow {
        id: m.id.0,
        at: c.timestamp(&m.created_at),
        iso: super::rfc3339(m.created_at),
        channel,
        recipient: m.recipient.clone(),
        status,
        status_class,
        error: m.last_error.clone().filter(|e| !e.is_empty()),
        attempts: c.tn("outbox-attempts", "count", m.attempts),
        share_id: m.share_id,
        subject,
        text,
    }
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    AdminUser(staff): AdminUser,
) -> Result<Response, WebError> {
    let messages = state
        .outbox
        .list_recent(staff.user.account_id, PAGE_SIZE)
        .await?;
    let c = Chrome::staff(&headers, &uri, &staff, "outbox");
    let mut notes = Vec::new();
    if !state.delivery.email {
        notes.push(c.t("outbox-email-local"));
    }
    if !state.delivery.sms {
        notes.push(c.t("outbox-sms-local"));
    }
    let rows: Vec<OutboxRow> = messages.iter().map(|m| row(&c, m)).collect();
    let count = c.count("outbox-count", rows.len() as i64);
    Ok(render(
        StatusCode::OK,
        &OutboxPage {
            rows,
            notes,
            count,
            c,
        },
    ))
}
