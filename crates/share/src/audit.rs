//! Audit events of shares. The detail holds counts, channel names and option
//! names only: never a contact, a patient value or a UID (the audit table is
//! append-only, so whatever lands there stays).

use studylink_model::{AccountId, Actor, AuditEvent, ShareId};
use studylink_store::Store;

/// Writes one event about a share. A failed write is logged, not returned:
/// the action it describes has already happened and can't be undone by
/// reporting an error (and the database is then failing anyway).
pub(crate) async fn share_event(
    store: &dyn Store,
    account: AccountId,
    actor: Actor,
    action: &str,
    share: ShareId,
    detail: serde_json::Value,
) {
    let event = AuditEvent {
        account_id: Some(account),
        actor,
        action: action.to_owned(),
        target_kind: Some("share".to_owned()),
        target_id: Some(share.to_string()),
        detail: detail.to_string(),
    };
    if let Err(e) = store.audit(&event).await {
        tracing::error!(error = %e, action, share = %share, "audit write failed");
    }
}

/// The channel names a share's contacts give, for audit details.
pub(crate) fn channels(email: bool, phone: bool) -> Vec<&'static str> {
    let mut v = Vec::new();
    if email {
        v.push("email");
    }
    if phone {
        v.push("sms");
    }
    v
}
