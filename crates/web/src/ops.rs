//! Operational endpoints: `/healthz` and Prometheus `/metrics`.

use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// 200 when the database answers; 503 otherwise, so a load balancer drops the node.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok", "database": state.store.backend()}))),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"})))
        }
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match &state.metrics {
        Some(h) => (StatusCode::OK, [("content-type", "text/plain; version=0.0.4")], h.render()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Request spans carry the method and path but never the query string: QIDO
/// queries hold patient names and IDs.
pub fn span_without_query<B>(req: &Request<B>) -> tracing::Span {
    tracing::info_span!("http", method = %req.method(), path = %redact_path(req.uri().path()))
}

/// Patient links (`/p/{token}`) and setup tokens must not reach logs, nor
/// UIDs at info level (study pages, DICOMweb and the API carry them in paths):
/// a segment shaped like a UID becomes `{uid}`.
fn redact_path(path: &str) -> String {
    for prefix in ["/p/", "/setup/"] {
        if let Some(rest) = path.strip_prefix(prefix) {
            let tail = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
            return format!("{prefix}…{tail}");
        }
    }
    path.split('/').map(|seg| if looks_like_uid(seg) { "{uid}" } else { seg }).collect::<Vec<_>>().join("/")
}

/// Digits and dots with at least one dot, possibly percent-encoded: "1.2.840.113619.2.55".
fn looks_like_uid(seg: &str) -> bool {
    let seg = seg.replace("%2E", ".").replace("%2e", ".");
    seg.contains('.') && seg.len() > 2 && seg.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_redacted() {
        assert_eq!(super::redact_path("/p/abcdef/zip"), "/p/…/zip");
        assert_eq!(super::redact_path("/setup/xyz"), "/setup/…");
        assert_eq!(super::redact_path("/dicomweb/studies"), "/dicomweb/studies");
        assert_eq!(
            super::redact_path("/dicomweb/studies/1.2.840.1/series/2.25.77/instances/1.2.3/frames/1/rendered"),
            "/dicomweb/studies/{uid}/series/{uid}/instances/{uid}/frames/1/rendered"
        );
        assert_eq!(super::redact_path("/api/v1/studies/1.2.3/shares"), "/api/v1/studies/{uid}/shares");
        assert_eq!(super::redact_path("/static/app.css"), "/static/app.css");
    }
}
