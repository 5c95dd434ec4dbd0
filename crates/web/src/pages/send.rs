//! `/studies/{uid}/send`: where "Send to patient" lands. Sending arrives with
//! the next issue; for now the page says so and how many images were chosen,
//! so the study view's form, button and selection are already the real ones.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::layout::{Chrome, render};
use super::{links, study};
use crate::auth::{StaffForm, StaffUser};
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "send.html")]
struct SendPage {
    c: Chrome,
    /// The 'N images were selected' sentence, after a POST from the study view.
    selected: Option<String>,
    back: String,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    staff: StaffUser,
    Path(uid): Path<String>,
) -> Result<Response, WebError> {
    show(&state, Chrome::staff(&headers, &uri, &staff, "studies"), &staff, &uid, None).await
}

/// The study view's form: `csrf` plus one `instances` field per checked thumbnail.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(uid): Path<String>,
    form: StaffForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let selected = form.form.iter().filter(|(k, _)| k == "instances").count() as i64;
    let c = Chrome::staff(&headers, &uri, &form.staff, "studies");
    show(&state, c, &form.staff, &uid, Some(selected)).await
}

async fn show(state: &AppState, c: Chrome, staff: &StaffUser, uid: &str, selected: Option<i64>) -> Result<Response, WebError> {
    if study::find_study(state, staff.user.account_id, uid).await?.is_none() {
        return Ok(study::not_found(c));
    }
    let selected = selected.map(|n| c.count("send-selected", n));
    Ok(render(StatusCode::OK, &SendPage { c, selected, back: links::study_page(uid) }))
}
