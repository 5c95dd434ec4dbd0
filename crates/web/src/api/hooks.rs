//! Delivery reports from the SMS providers, on the per-message URLs the
//! outbox worker gave them (see `studylink_notify::delivery`):
//!
//! * Twilio: `POST /hooks/sms/twilio/{outbox id}?t={token}`, a form body;
//! * Kannel: `GET /hooks/sms/kannel/{outbox id}?t={token}&type={DLR type}`.
//!
//! No session or key: the random per-attempt token in the URL is the
//! credential, checked against its stored hash. 204 when the report was
//! applied or changed nothing, 404 when the id and token don't match a
//! message's current attempt, 400 when the report can't be read. The query
//! holds the token, so nothing here logs it (request spans log the path only).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use studylink_notify::delivery::{self, CallbackError, DeliveryOutcome, DeliveryUpdate};

use crate::AppState;

/// `t` from the query string, if present and non-empty.
fn token(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

async fn apply(
    state: &AppState,
    provider: &'static str,
    parsed: Result<Option<DeliveryUpdate>, CallbackError>,
    token: &str,
) -> StatusCode {
    let update = match parsed {
        Ok(Some(u)) => u,
        // An interim state (queued, sending…): nothing to record.
        Ok(None) => return StatusCode::NO_CONTENT,
        Err(e) => {
            tracing::info!(provider, error = %e, "unreadable delivery report");
            return StatusCode::BAD_REQUEST;
        }
    };
    match delivery::apply(state.outbox.as_ref(), &update, token, state.clock.now()).await {
        Ok(DeliveryOutcome::Applied(status)) => {
            tracing::info!(
                provider,
                outbox_id = update.outbox_id,
                status = status.as_str(),
                "delivery report applied"
            );
            StatusCode::NO_CONTENT
        }
        Ok(DeliveryOutcome::Ignored) => StatusCode::NO_CONTENT,
        Ok(DeliveryOutcome::Rejected) => {
            tracing::info!(
                provider,
                outbox_id = update.outbox_id,
                "delivery report with an unknown id or token"
            );
            StatusCode::NOT_FOUND
        }
        Err(e) => {
            tracing::error!(provider, error = %e, "applying a delivery report failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// Path id and token, or 404.
fn credentials(id: &str, query: Option<&str>) -> Result<(i64, String), StatusCode> {
    let id = id.parse::<i64>().map_err(|_| StatusCode::NOT_FOUND)?;
    let token = token(query).ok_or(StatusCode::NOT_FOUND)?;
    Ok((id, token))
}

/// Twilio's status callback.
pub async fn twilio(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> StatusCode {
    let (id, token) = match credentials(&id, query.as_deref()) {
        Ok(c) => c,
        Err(s) => return s,
    };
    let Ok(form) = std::str::from_utf8(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    apply(&state, "twilio", delivery::twilio_status(id, form), &token).await
}

/// Kannel's DLR callback.
pub async fn kannel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> StatusCode {
    let (id, token) = match credentials(&id, query.as_deref()) {
        Ok(c) => c,
        Err(s) => return s,
    };
    let query = query.unwrap_or_default();
    apply(&state, "kannel", delivery::kannel_dlr(id, &query), &token).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_t() {
        assert_eq!(token(Some("t=abc&type=1")).as_deref(), Some("abc"));
        assert_eq!(token(Some("type=1&t=a-b_c")).as_deref(), Some("a-b_c"));
        assert_eq!(token(Some("t=&type=1")), None);
        assert_eq!(token(Some("type=1")), None);
        assert_eq!(token(None), None);
        assert_eq!(credentials("x", Some("t=a")), Err(StatusCode::NOT_FOUND));
    }
}
