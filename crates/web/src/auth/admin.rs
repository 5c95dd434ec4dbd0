//! Admin pages: the clinic's users (`/admin/users`) and API keys
//! (`/admin/api-keys`). New passwords and keys are shown exactly once, in the
//! response to the POST that made them (never in a URL), with `no-store`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use studylink_model::{Actor, ApiKey, ApiKeyId, NewUser, Role, User, now_millis};
use studylink_store::StoreError;

use super::api_key::create_api_key_row;
use super::audit::audit;
use super::extract::{AdminUser, StaffForm};
use super::login::{normalize_email, plausible_email};
use super::password::{generate_password, hash_password};
use super::StaffUser;
use crate::pages::layout::{Chrome, error_page, fmt_time, render};
use crate::{AppState, WebError};

/// The 403 page for a form POST by someone who isn't an admin (GET pages use
/// the `AdminUser` extractor instead).
fn not_admin(headers: &HeaderMap, staff: &StaffUser) -> Option<Response> {
    (!staff.is_admin()).then(|| error_page(headers, StatusCode::FORBIDDEN, "error-forbidden-title", "error-admin-only"))
}

// --- users -------------------------------------------------------------

pub struct UserRow {
    pub email: String,
    pub role_id: &'static str,
    pub created: String,
    pub disabled: bool,
}

impl From<&User> for UserRow {
    fn from(u: &User) -> Self {
        UserRow {
            email: u.email.clone(),
            role_id: match u.role {
                Role::Admin => "role-admin",
                Role::Staff => "role-staff",
            },
            created: fmt_time(u.created_at),
            disabled: u.disabled,
        }
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserRow>,
    /// After creating a user: their email and generated password, shown once.
    created: Option<(String, String)>,
    error: Option<String>,
    form_email: String,
}

async fn users_page(
    state: &AppState,
    headers: &HeaderMap,
    staff: &StaffUser,
    status: StatusCode,
    created: Option<(String, String)>,
    error: Option<&str>,
    form_email: String,
) -> Result<Response, WebError> {
    let users = state.store.list_users(staff.user.account_id).await?;
    let c = Chrome::staff(headers, &Uri::from_static("/admin/users"), staff, "users");
    let error = error.map(|id| c.t(id));
    let page = UsersPage { users: users.iter().map(UserRow::from).collect(), created, error, form_email, c };
    Ok(render(status, &page))
}

pub async fn list_users(State(state): State<AppState>, headers: HeaderMap, AdminUser(staff): AdminUser) -> Result<Response, WebError> {
    users_page(&state, &headers, &staff, StatusCode::OK, None, None, String::new()).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

pub async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    f: StaffForm<NewUserForm>,
) -> Result<Response, WebError> {
    let staff = f.staff;
    if let Some(resp) = not_admin(&headers, &staff) {
        return Ok(resp);
    }
    let email = normalize_email(&f.form.email);
    let Some(role) = Role::parse(&f.form.role) else {
        return users_page(&state, &headers, &staff, StatusCode::BAD_REQUEST, None, Some("error-bad-form"), email).await;
    };
    if !plausible_email(&email) {
        return users_page(&state, &headers, &staff, StatusCode::BAD_REQUEST, None, Some("form-email-invalid"), email).await;
    }
    let password = generate_password();
    let to_hash = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&to_hash))
        .await
        .map_err(|e| WebError::Internal(e.into()))??;
    let new = NewUser { account_id: staff.user.account_id, email: email.clone(), password_hash, role };
    let user = match state.store.create_user(&new).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => {
            return users_page(&state, &headers, &staff, StatusCode::CONFLICT, None, Some("users-email-taken"), email).await;
        }
        Err(e) => return Err(e.into()),
    };
    audit(
        &state,
        Some(staff.user.account_id),
        Actor::User(staff.user.id),
        "user.created",
        Some(("user", user.id.to_string())),
        serde_json::json!({ "email": user.email, "role": role.as_str() }),
    )
    .await;
    users_page(&state, &headers, &staff, StatusCode::OK, Some((user.email, password)), None, String::new()).await
}

// --- API keys ------------------------------------------------------------

pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub revoked: Option<String>,
}

impl From<&ApiKey> for KeyRow {
    fn from(k: &ApiKey) -> Self {
        KeyRow {
            id: k.id.0,
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            created: fmt_time(k.created_at),
            revoked: k.revoked_at.map(fmt_time),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_api_keys.html")]
struct KeysPage {
    c: Chrome,
    keys: Vec<KeyRow>,
    /// After creating a key: its name and the full key, shown once.
    created: Option<(String, String)>,
    error: Option<String>,
}

async fn keys_page(
    state: &AppState,
    headers: &HeaderMap,
    staff: &StaffUser,
    status: StatusCode,
    created: Option<(String, String)>,
    error: Option<&str>,
) -> Result<Response, WebError> {
    let keys = state.store.list_api_keys(staff.user.account_id).await?;
    let c = Chrome::staff(headers, &Uri::from_static("/admin/api-keys"), staff, "api-keys");
    let error = error.map(|id| c.t(id));
    Ok(render(status, &KeysPage { keys: keys.iter().map(KeyRow::from).collect(), created, error, c }))
}

pub async fn list_keys(State(state): State<AppState>, headers: HeaderMap, AdminUser(staff): AdminUser) -> Result<Response, WebError> {
    keys_page(&state, &headers, &staff, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
}

pub async fn add_key(State(state): State<AppState>, headers: HeaderMap, f: StaffForm<NewKeyForm>) -> Result<Response, WebError> {
    let staff = f.staff;
    if let Some(resp) = not_admin(&headers, &staff) {
        return Ok(resp);
    }
    let name = f.form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return keys_page(&state, &headers, &staff, StatusCode::BAD_REQUEST, None, Some("keys-name-invalid")).await;
    }
    let (key, row) = create_api_key_row(state.store.as_ref(), staff.user.account_id, &name).await?;
    audit(
        &state,
        Some(staff.user.account_id),
        Actor::User(staff.user.id),
        "api_key.created",
        Some(("api_key", row.id.to_string())),
        serde_json::json!({ "name": row.name, "prefix": row.prefix }),
    )
    .await;
    keys_page(&state, &headers, &staff, StatusCode::OK, Some((row.name, key)), None).await
}

pub async fn revoke_key(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    f: StaffForm<super::login::NoFields>,
) -> Result<Response, WebError> {
    let staff = f.staff;
    if let Some(resp) = not_admin(&headers, &staff) {
        return Ok(resp);
    }
    // Scoped by account in the store: an admin can't revoke another clinic's key.
    if state.store.revoke_api_key(staff.user.account_id, ApiKeyId(id), now_millis()).await? {
        audit(
            &state,
            Some(staff.user.account_id),
            Actor::User(staff.user.id),
            "api_key.revoked",
            Some(("api_key", id.to_string())),
            serde_json::json!({}),
        )
        .await;
    }
    Ok(Redirect::to("/admin/api-keys").into_response())
}
