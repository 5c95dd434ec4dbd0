//! The upload page (`GET /upload`) and its endpoint (`POST /upload`): one file
//! per request as the raw body, streamed to disk, then ingested — or, for a
//! ZIP, each entry ingested in turn. The JSON reply lists an outcome per file.

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Serialize;
use studylink_ingest::{IngestError, Ingested, Origin, TempObject};
use studylink_model::{Actor, AuditEvent, IngestSource};

use super::i18n::{I18n, Lang, t};
use super::layout::{Chrome, render};
use super::unzip::{self, Refusal, ZipItem};
use crate::auth::StaffUser;
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    c: Chrome,
    max_bytes: u64,
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap, uri: Uri, staff: StaffUser) -> Response {
    let c = Chrome::staff(&headers, &uri, &staff, "upload");
    render(StatusCode::OK, &UploadPage { c, max_bytes: state.config.max_upload_bytes })
}

#[derive(Debug, Serialize)]
pub struct FileResult {
    pub name: String,
    /// `stored`, `duplicate`, `refused` (the file's fault) or `error` (ours: try again).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub study_uid: Option<String>,
}

impl FileResult {
    fn from_ingest(name: String, lang: Lang, r: Result<Ingested, IngestError>) -> FileResult {
        match r {
            Ok(done) => FileResult {
                name,
                status: if done.duplicate { "duplicate" } else { "stored" },
                reason: None,
                detail: None,
                study_uid: Some(done.study_uid),
            },
            Err(e) => {
                let (status, id) = if e.is_client_error() {
                    ("refused", reason_id(&e))
                } else {
                    tracing::error!(error = %e, "upload: could not store an object");
                    ("error", "upload-reason-server")
                };
                FileResult { name, status, reason: Some(t(lang, id)), detail: Some(e.to_string()), study_uid: None }
            }
        }
    }

    fn refused(name: String, lang: Lang, r: Refusal) -> FileResult {
        let status = if r.server_error { "error" } else { "refused" };
        FileResult { name, status, reason: Some(t(lang, r.reason_id)), detail: Some(r.detail), study_uid: None }
    }
}

fn reason_id(e: &IngestError) -> &'static str {
    match e {
        IngestError::TooLarge { .. } => "upload-reason-too-large",
        IngestError::NotDicom(_) => "upload-reason-not-dicom",
        IngestError::Malformed(_) => "upload-reason-malformed",
        IngestError::Missing(_) => "upload-reason-missing",
        IngestError::Mismatch(_) => "upload-reason-malformed",
        IngestError::Storage(_) | IngestError::Io(_) => "upload-reason-server",
    }
}

/// The file name from `X-File-Name` (URL-encoded by the page), for display only.
fn file_name(headers: &HeaderMap) -> String {
    let raw = headers.get("x-file-name").and_then(|v| v.to_str().ok()).unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    unzip::display_name(decoded.trim())
}

/// Where the body goes while it arrives: undecided until its first 4 bytes say
/// whether it is a ZIP.
enum Spool {
    Head(Vec<u8>),
    Object(TempObject),
    Zip(tempfile::NamedTempFile),
}

impl Spool {
    fn write(&mut self, state: &AppState, data: &[u8]) -> Result<(), WebError> {
        use std::io::Write;
        match self {
            Spool::Head(head) => {
                head.extend_from_slice(data);
                if head.len() >= 4 {
                    let head = std::mem::take(head);
                    *self = Spool::open(state, &head)?;
                    self.write(state, &head)?;
                }
                Ok(())
            }
            Spool::Object(tmp) => tmp.write_all(data).map_err(|e| match e {
                IngestError::TooLarge { .. } => WebError::PayloadTooLarge,
                other => WebError::Internal(other.into()),
            }),
            Spool::Zip(f) => f.as_file_mut().write_all(data).map_err(|e| WebError::Internal(e.into())),
        }
    }

    fn open(state: &AppState, head: &[u8]) -> Result<Spool, WebError> {
        if unzip::is_zip(head) {
            // Archives may be bigger than one object may be, so they are spooled
            // outside TempObject (bounded by max_upload_bytes instead).
            let f = tempfile::Builder::new()
                .prefix("upload-")
                .suffix(".zip")
                .tempfile_in(&state.ingest.config().tmp_dir)
                .map_err(|e| WebError::Internal(e.into()))?;
            Ok(Spool::Zip(f))
        } else {
            Ok(Spool::Object(state.ingest.new_temp().map_err(|e| WebError::Internal(e.into()))?))
        }
    }
}

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    staff: StaffUser,
    body: Body,
) -> Result<Response, WebError> {
    let lang = I18n::for_request(&headers);
    let limit = state.config.max_upload_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(WebError::PayloadTooLarge);
    }
    let name = file_name(&headers);

    // Stream the body to disk chunk by chunk; it is never held in memory.
    let mut spool = Spool::Head(Vec::new());
    let mut received: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| WebError::BadRequest("upload interrupted".into()))?;
        received += chunk.len() as u64;
        if received > limit {
            return Err(WebError::PayloadTooLarge);
        }
        spool.write(&state, &chunk)?;
    }
    if received == 0 {
        return Err(WebError::BadRequest("empty upload".into()));
    }
    if let Spool::Head(head) = spool {
        // Shorter than 4 bytes: certainly not DICOM, but let the pipeline say so.
        spool = Spool::open(&state, &head)?;
        spool.write(&state, &head)?;
    }

    let origin = Origin {
        source: IngestSource::Upload,
        received_from: staff.user.email.clone(),
        actor: Actor::User(staff.user.id),
        expected_sop_uid: None,
    };
    let account = staff.user.account_id;
    let (results, zip) = match spool {
        Spool::Object(tmp) => {
            let r = state.ingest.ingest_file(account, tmp, &origin).await;
            (vec![FileResult::from_ingest(name, lang, r)], false)
        }
        Spool::Zip(file) => (ingest_zip(&state, account, file, name, &origin, lang).await?, true),
        Spool::Head(_) => unreachable!("opened above"),
    };

    let count = |s: &str| results.iter().filter(|r| r.status == s).count();
    let event = AuditEvent {
        account_id: Some(account),
        actor: Actor::User(staff.user.id),
        action: "upload".into(),
        target_kind: None,
        target_id: None,
        detail: serde_json::json!({
            "zip": zip,
            "bytes": received,
            "files": results.len(),
            "stored": count("stored"),
            "duplicate": count("duplicate"),
            "refused": count("refused"),
            "error": count("error"),
        })
        .to_string(),
    };
    if let Err(e) = state.store.audit(&event).await {
        tracing::error!(error = %e, "audit write failed");
    }
    Ok(Json(serde_json::json!({ "results": results })).into_response())
}

async fn ingest_zip(
    state: &AppState,
    account: studylink_model::AccountId,
    file: tempfile::NamedTempFile,
    zip_name: String,
    origin: &Origin,
    lang: Lang,
) -> Result<Vec<FileResult>, WebError> {
    let reopened = file.reopen().map_err(|e| WebError::Internal(e.into()))?;
    // Uncompressed bytes one request may unpack: generous for DICOM (which
    // compresses ~2–3×), fatal for a ZIP bomb.
    let budget = state.config.max_upload_bytes.saturating_mul(4).max(64 * 1024 * 1024);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ZipItem>(2);
    let archive_name = zip_name.clone();
    let ingest = state.ingest.clone();
    let reader = tokio::task::spawn_blocking(move || {
        unzip::extract(reopened, &zip_name, &ingest, budget, &tx);
        drop(file); // the archive's temp file goes once every entry is read
    });
    let mut results = Vec::new();
    while let Some(item) = rx.recv().await {
        results.push(match item.content {
            Ok(tmp) => {
                let r = state.ingest.ingest_file(account, tmp, origin).await;
                FileResult::from_ingest(item.name, lang, r)
            }
            Err(refusal) => FileResult::refused(item.name, lang, refusal),
        });
    }
    reader.await.map_err(|e| WebError::Internal(e.into()))?;
    if results.is_empty() {
        let none = Refusal { reason_id: "upload-reason-zip-empty", detail: String::new(), server_error: false };
        results.push(FileResult::refused(archive_name, lang, none));
    }
    Ok(results)
}
