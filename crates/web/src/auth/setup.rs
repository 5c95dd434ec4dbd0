//! First-admin setup: while the database has no user, the server prints a
//! one-time URL (`/setup/{token}`, valid 24 h) where the first admin picks
//! their email and password.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use studylink_model::{Actor, NewUser, Role, now_millis};
use studylink_store::{Store, StoreError};

use super::audit::audit;
use super::csrf::{is_cross_site, pre_session_ok, pre_session_token};
use super::login::{normalize_email, plausible_email};
use super::password::{hash_password, password_problem};
use super::session::start_session;
use super::token::{random_token, token_hash};
use crate::pages::layout::{Chrome, error_page_with, render};
use crate::{AppState, WebError};

const SETUP_TOKEN_TTL_MS: i64 = 24 * 3_600_000;

/// When no user exists yet: stores a fresh setup token (replacing any earlier
/// one) and returns the URL to print; `None` once the clinic has users.
pub async fn issue_setup_url(store: &dyn Store, public_base_url: &str) -> anyhow::Result<Option<String>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let token = random_token();
    store.put_setup_token(&token_hash(&token), now_millis() + SETUP_TOKEN_TTL_MS).await?;
    Ok(Some(format!("{}/setup/{token}", public_base_url.trim_end_matches('/'))))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
    email: String,
    error: Option<String>,
}

/// The setup URL no longer works: used, expired, or users exist already.
fn setup_unavailable(headers: &HeaderMap, uri: &Uri) -> Response {
    let c = Chrome::anonymous(headers, uri, String::new());
    let (title, message, link) = (c.t("setup-invalid-title"), c.t("setup-invalid-body"), c.t("login-title"));
    error_page_with(c, StatusCode::GONE, title, message, ("/login", link))
}

fn setup_page(state: &AppState, headers: &HeaderMap, uri: &Uri, status: StatusCode, email: String, error: Option<&str>) -> Response {
    let (csrf, set_cookie) = pre_session_token(headers, state.config.secure_cookies);
    let c = Chrome::anonymous(headers, uri, csrf);
    let error = error.map(|id| c.t(id));
    let mut resp = render(status, &SetupPage { c, email, error });
    if let Some(cookie) = set_cookie {
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}

pub async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(_token): Path<String>,
) -> Result<Response, WebError> {
    // The token can only be checked by consuming it, so the form is shown to
    // anyone holding a URL until someone has set up the first admin.
    if state.store.count_users().await? > 0 {
        return Ok(setup_unavailable(&headers, &uri));
    }
    Ok(setup_page(&state, &headers, &uri, StatusCode::OK, String::new(), None))
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if is_cross_site(&headers, &state.config.public_base_url) || !pre_session_ok(&headers, &form.csrf) {
        return Ok(crate::pages::layout::error_page(
            &headers,
            StatusCode::FORBIDDEN,
            "error-forbidden-title",
            "error-csrf-login",
        ));
    }
    let email = normalize_email(&form.email);
    // Validate before consuming the token, so a typo doesn't burn it.
    let problem = if !plausible_email(&email) {
        Some("form-email-invalid")
    } else if let Some(p) = password_problem(&form.password) {
        Some(p)
    } else if form.password != form.confirm {
        Some("password-mismatch")
    } else {
        None
    };
    if let Some(id) = problem {
        return Ok(setup_page(&state, &headers, &uri, StatusCode::BAD_REQUEST, email, Some(id)));
    }
    if state.store.count_users().await? > 0 || !state.store.take_setup_token(&token_hash(&token), now_millis()).await? {
        return Ok(setup_unavailable(&headers, &uri));
    }

    let password = form.password;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.into()))??;
    let new = NewUser { account_id: state.default_account, email: email.clone(), password_hash, role: Role::Admin };
    let user = match state.store.create_user(&new).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => return Ok(setup_unavailable(&headers, &uri)),
        Err(e) => return Err(e.into()),
    };
    audit(
        &state,
        Some(user.account_id),
        Actor::User(user.id),
        "user.created",
        Some(("user", user.id.to_string())),
        serde_json::json!({ "role": "admin", "via": "setup" }),
    )
    .await;
    let (_, cookie) = start_session(&state, &user).await?;
    audit(&state, Some(user.account_id), Actor::User(user.id), "user.login", Some(("user", user.id.to_string())), serde_json::json!({ "via": "setup" })).await;
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}
