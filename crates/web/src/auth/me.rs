//! `GET /api/v1/me`: who the API thinks you are (for integrators checking a
//! key, and for tests of [`Principal`]).

use axum::Json;

use super::Principal;

pub async fn me(p: Principal) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "account_id": p.account_id,
        "actor": p.actor,
        "role": p.role,
        "label": p.label,
    }))
}
