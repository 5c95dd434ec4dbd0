//! `GET /lang?to=es&next=/upload`: the header's EN/ES switch. A plain link
//! (no script, works on the sign-in page too) that remembers the choice in a
//! cookie and goes back. Changing someone's display language is harmless, so
//! this needs no CSRF token.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::i18n::Lang;
use crate::AppState;

#[derive(Deserialize)]
pub struct SwitchQuery {
    to: Option<String>,
    next: Option<String>,
}

pub async fn switch(State(state): State<AppState>, Query(q): Query<SwitchQuery>) -> Response {
    let next = crate::auth::safe_next(q.next.as_deref());
    let mut resp = Redirect::to(&next).into_response();
    if let Some(lang) = q.to.as_deref().and_then(Lang::from_code) {
        let cookie = crate::auth::lang_cookie(lang.code(), state.config.secure_cookies);
        resp.headers_mut().append(header::SET_COOKIE, cookie);
    }
    resp
}
