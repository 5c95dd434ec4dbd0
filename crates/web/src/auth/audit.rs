//! Writing audit events from auth handlers. A failed audit write is logged but
//! does not undo what the user just did (the database is then failing anyway).

use studylink_model::{AccountId, Actor, AuditEvent};

use crate::AppState;

pub async fn audit(
    state: &AppState,
    account_id: Option<AccountId>,
    actor: Actor,
    action: &str,
    target: Option<(&str, String)>,
    detail: serde_json::Value,
) {
    let (target_kind, target_id) = match target {
        Some((kind, id)) => (Some(kind.to_string()), Some(id)),
        None => (None, None),
    };
    let event = AuditEvent { account_id, actor, action: action.to_string(), target_kind, target_id, detail: detail.to_string() };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, action, "audit write failed");
    }
}
