//! DICOMweb (PS3.18) under `/dicomweb`: STOW-RS, QIDO-RS, WADO-RS.
//!
//! Every handler takes a [`Principal`](crate::auth::Principal) and scopes every
//! store call to its account, so one clinic never sees another's objects.
//! Query values (patient names, IDs) are never logged.
//!
//! | route | GET | POST |
//! |---|---|---|
//! | `/studies` | QIDO studies | STOW |
//! | `/studies/{study}` | WADO study | STOW into that study |
//! | `/studies/{study}/metadata` | WADO metadata | |
//! | `/studies/{study}/series` | QIDO series of a study | |
//! | `/studies/{study}/instances` | QIDO instances of a study | |
//! | `/studies/{study}/series/{series}` | WADO series | |
//! | `/studies/{study}/series/{series}/metadata` | WADO metadata | |
//! | `/studies/{study}/series/{series}/instances` | QIDO instances of a series | |
//! | `/studies/{study}/series/{series}/instances/{instance}` | WADO instance | |
//! | `…/instances/{instance}/metadata` | WADO metadata | |
//! | `…/instances/{instance}/frames/{list}` | WADO frames (pixel data as stored) | |
//! | `…/instances/{instance}/bulkdata/{path}` | bulk data named by a metadata BulkDataURI | |
//! | `…/instances/{instance}/rendered`, `…/frames/{n}/rendered` | JPEG/PNG of the first or n-th frame ([`rendered`]) | |
//! | `/studies/{study}/thumbnail`, `…/series/{series}/thumbnail`, `…/instances/{instance}/thumbnail`, `…/frames/{n}/thumbnail` | thumbnails ([`rendered`]) | |
//! | `/series`, `/instances` | QIDO across all studies | |

mod attrs;
mod dataset_json;
mod frames;
mod json;
mod media;
mod pixel_layout;
mod qido;
mod rendered;
mod search;
mod stored;
mod stow;
mod wado;
mod xml;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use studylink_model::AuditEvent;

use crate::auth::Principal;
use crate::{AppState, WebError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/studies", get(qido::studies).post(stow::store))
        .route("/studies/{study}", get(wado::retrieve_study).post(stow::store_in_study))
        .route("/studies/{study}/metadata", get(wado::study_metadata))
        .route("/studies/{study}/series", get(qido::study_series))
        .route("/studies/{study}/instances", get(qido::study_instances))
        .route("/studies/{study}/series/{series}", get(wado::retrieve_series))
        .route("/studies/{study}/series/{series}/metadata", get(wado::series_metadata))
        .route("/studies/{study}/series/{series}/instances", get(qido::series_instances))
        .route("/studies/{study}/series/{series}/instances/{instance}", get(wado::retrieve_instance))
        .route("/studies/{study}/series/{series}/instances/{instance}/metadata", get(wado::instance_metadata))
        .route("/studies/{study}/series/{series}/instances/{instance}/frames/{frames}", get(frames::frames))
        .route("/studies/{study}/series/{series}/instances/{instance}/bulkdata/{*path}", get(wado::bulkdata))
        .route("/studies/{study}/series/{series}/instances/{instance}/rendered", get(rendered::instance_rendered))
        .route("/studies/{study}/series/{series}/instances/{instance}/frames/{frames}/rendered", get(rendered::frame_rendered))
        .route("/studies/{study}/thumbnail", get(rendered::study_thumbnail))
        .route("/studies/{study}/series/{series}/thumbnail", get(rendered::series_thumbnail))
        .route("/studies/{study}/series/{series}/instances/{instance}/thumbnail", get(rendered::instance_thumbnail))
        .route("/studies/{study}/series/{series}/instances/{instance}/frames/{frames}/thumbnail", get(rendered::frame_thumbnail))
        .route("/series", get(qido::all_series))
        .route("/instances", get(qido::all_instances))
}

pub(crate) const DICOM_JSON: &str = "application/dicom+json";

/// Absolute URLs of resources, for RetrieveURL and BulkDataURI.
#[derive(Clone)]
pub(crate) struct Urls(String);

impl Urls {
    pub fn new(state: &AppState) -> Self {
        Urls(format!("{}/dicomweb", state.config.public_base_url.trim_end_matches('/')))
    }
    pub fn study(&self, study: &str) -> String {
        format!("{}/studies/{}", self.0, seg(study))
    }
    pub fn series(&self, study: &str, series: &str) -> String {
        format!("{}/studies/{}/series/{}", self.0, seg(study), seg(series))
    }
    pub fn instance(&self, study: &str, series: &str, sop: &str) -> String {
        format!("{}/studies/{}/series/{}/instances/{}", self.0, seg(study), seg(series), seg(sop))
    }
}

/// A UID as a path segment. Conformant UIDs pass unchanged; devices do send
/// others (spaces, hex), which must still make valid URLs.
fn seg(uid: &str) -> percent_encoding::PercentEncode<'_> {
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(uid, SEGMENT)
}

/// A UID as PS3.5 §9.1 defines it: digits and dots, at most 64 characters.
pub(crate) fn is_uid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// What we accept where a UID is expected. Looser than [`is_uid`] because
/// ingest stores what devices send, and whatever was stored must be
/// retrievable; wildcards are out so UID matching stays exact.
pub(crate) fn is_uid_like(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c.is_control() || c == '*' || c == '?')
}

/// UIDs taken from the URL path.
pub(crate) fn path_uids<const N: usize>(uids: [&str; N]) -> Result<(), WebError> {
    match uids.iter().all(|u| is_uid_like(u)) {
        true => Ok(()),
        false => Err(WebError::BadRequest("the URL holds a malformed UID".into())),
    }
}

/// Content negotiation for DICOM JSON resources: `application/dicom+json`,
/// or plain `application/json` for clients that ask only for that.
pub(crate) fn negotiate_json(headers: &HeaderMap) -> Result<&'static str, WebError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in media::parse_accept(accept) {
        match range.essence.as_str() {
            "application/dicom+json" | "*/*" | "application/*" => return Ok(DICOM_JSON),
            "application/json" => return Ok("application/json"),
            _ => {}
        }
    }
    Err(WebError::NotAcceptable(
        "this resource is available as application/dicom+json (or application/json) only".into(),
    ))
}

pub(crate) fn json_response(status: StatusCode, content_type: &'static str, body: Vec<u8>, warnings: &[String]) -> Response {
    let mut resp = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    add_warnings(resp.headers_mut(), warnings);
    resp
}

/// `Warning: 299 studylink "…"` headers (RFC 7234 §5.5; PS3.18 uses code 299).
/// The text is reduced to printable ASCII so it is always a valid header.
pub(crate) fn add_warnings(headers: &mut HeaderMap, warnings: &[String]) {
    for w in warnings.iter().take(20) {
        let text: String = w
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .map(|c| if c == '"' { '\'' } else { c })
            .filter(|c| *c != '\\')
            .take(500)
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("299 studylink \"{text}\"")) {
            headers.append(header::WARNING, v);
        }
    }
}

/// Appends an audit record; failures are logged, not fatal (the data already
/// moved). Details hold counts and row ids only, never patient data.
pub(crate) async fn audit(state: &AppState, who: &Principal, action: &str, target: Option<(&str, String)>, detail: String) {
    let event = AuditEvent {
        account_id: Some(who.account_id),
        actor: who.actor.clone(),
        action: action.into(),
        target_kind: target.as_ref().map(|t| t.0.to_string()),
        target_id: target.map(|t| t.1),
        detail,
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, action, "could not write the audit record");
    }
}
