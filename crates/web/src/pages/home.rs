//! `/`: the Studies screen. For now a placeholder with the number of stored
//! instances and a way to upload; the real list comes later.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::layout::{Chrome, render};
use crate::auth::StaffUser;
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    instances: i64,
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, staff: StaffUser) -> Result<Response, WebError> {
    let instances = state.store.count_instances(staff.user.account_id).await?;
    let c = Chrome::staff(&headers, &uri, &staff, "studies");
    Ok(render(StatusCode::OK, &HomePage { c, instances }))
}
