//! STOW-RS, Store Instances (PS3.18 §10.5).
//!
//! The body is streamed: each part goes to a temporary file in bounded batches
//! and is ingested by a spawned task while the next part is still arriving (a
//! few in flight, so fsyncs overlap the upload). Nothing holds a whole part, let
//! alone the whole body, in memory.
//!
//! Status (Table 10.5.3-1): 200 all stored (duplicates count as stored: a resend
//! is idempotent), 202 some failed, 409 none stored, 503 none stored because our
//! storage failed (retryable), 400 malformed body, 413 body over
//! `max_upload_bytes`, 415 unsupported Content-Type, 406 unsupported Accept. Each failure is in the
//! Failed SOP Sequence with a Failure Reason (Table I.2-2) and its text in Error
//! Comment (0000,0902), the field C-STORE uses for it (PS3.4 B.2.3, as dcm4chee
//! does); the texts are also sent as `Warning: 299` headers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use dicom_dictionary_std::tags;
use futures::{Stream, StreamExt};
use studylink_ingest::{IngestError, Ingested, Ingestor, Origin, TempObject};
use studylink_model::{AccountId, IngestSource};
use tokio::task::JoinHandle;

use super::json::Dataset;
use super::media::{MediaType, parse_accept};
use super::{DICOM_JSON, Urls, add_warnings, audit, path_uids, xml};
use crate::auth::Principal;
use crate::{AppState, WebError};

/// Failure Reason values (PS3.18 Table I.2-2).
const OUT_OF_RESOURCES: u16 = 0xA700;
const DOES_NOT_MATCH: u16 = 0xA900;
const CANNOT_UNDERSTAND: u16 = 0xC000;

/// Bytes gathered before a blocking write to the temporary file.
const FLUSH_BYTES: usize = 1 << 20;
/// Ingests running while the rest of the body is read.
const IN_FLIGHT: usize = 4;
/// The start of each part is kept to name the instance if it fails (its file
/// meta group holds the SOP Class and Instance UIDs).
const HEAD_BYTES: usize = 16 * 1024;

pub async fn store(State(state): State<AppState>, principal: Principal, headers: HeaderMap, body: Body) -> Result<Response, WebError> {
    stow(state, principal, None, headers, body).await
}

pub async fn store_in_study(
    State(state): State<AppState>,
    principal: Principal,
    Path(study): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, WebError> {
    path_uids([&study])?;
    stow(state, principal, Some(study), headers, body).await
}

enum Payload {
    Multipart { boundary: String },
    Single,
}

#[derive(Clone, Copy)]
enum Format {
    Json(&'static str),
    Xml,
}

/// What became of one part.
enum Outcome {
    Stored(Ingested),
    Failed(Failure),
}

struct Failure {
    part: usize,
    sop_class: Option<String>,
    sop_uid: Option<String>,
    code: u16,
    reason: String,
    /// Our fault (storage, I/O), not the object's: worth retrying.
    ours: bool,
}

enum Slot {
    Running(JoinHandle<Outcome>),
    Done(Outcome),
}

async fn stow(state: AppState, principal: Principal, study: Option<String>, headers: HeaderMap, body: Body) -> Result<Response, WebError> {
    let format = negotiate(&headers)?;
    let payload = payload_kind(&headers)?;
    let max = state.config.max_upload_bytes;
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(WebError::PayloadTooLarge);
    }

    // Count the raw body: the request limit covers boundaries and headers too.
    let exceeded = Arc::new(AtomicBool::new(false));
    let flag = exceeded.clone();
    let mut seen = 0u64;
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > max {
            flag.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("request body over the configured limit"));
        }
        Ok(chunk)
    });

    let origin = Origin {
        source: IngestSource::Stow,
        received_from: principal.label.clone(),
        actor: principal.actor.clone(),
        expected_sop_uid: None,
    };
    let job = Job { ingest: state.ingest.clone(), account: principal.account_id, origin, study: study.clone() };
    let mut slots: VecDeque<Slot> = VecDeque::new();
    let mut outcomes = Vec::new();
    let mut parts = 0usize;

    let body_error = match payload {
        Payload::Single => {
            parts = 1;
            let mut stream = Box::pin(stream);
            match receive(&job.ingest, &mut stream).await {
                Ok(received) => {
                    slots.push_back(job.start(1, received, None));
                    None
                }
                Err(e) => Some(e.to_string()),
            }
        }
        Payload::Multipart { boundary } => {
            let mut multipart = multer::Multipart::new(stream, boundary);
            loop {
                let mut field = match multipart.next_field().await {
                    Ok(Some(f)) => f,
                    Ok(None) => break None,
                    Err(e) => break Some(e.to_string()),
                };
                parts += 1;
                let unsupported = part_type_error(field.content_type().map(|m| m.essence_str()));
                match receive(&job.ingest, &mut field).await {
                    Ok(received) => slots.push_back(job.start(parts, received, unsupported)),
                    Err(e) => break Some(e.to_string()),
                }
                // Bound the work in flight: wait for the oldest before reading on.
                while slots.len() >= IN_FLIGHT {
                    outcomes.push(settle(slots.pop_front().expect("non-empty")).await);
                }
            }
        }
    };
    for slot in slots {
        outcomes.push(settle(slot).await);
    }

    let too_large = exceeded.load(Ordering::Relaxed);
    if too_large || body_error.is_some() {
        // What was stored before the body broke stays stored (and idempotent
        // to resend); the audit log still hears of it.
        let stored = outcomes.iter().filter(|o| matches!(o, Outcome::Stored(_))).count();
        tracing::info!(from = %principal.label, parts, stored, "STOW-RS body refused or unreadable");
        if stored > 0 {
            audit_stow(&state, &principal, &outcomes).await;
        }
        if too_large {
            return Err(WebError::PayloadTooLarge);
        }
        let e = body_error.unwrap_or_default();
        return Err(WebError::BadRequest(format!("malformed request body after {parts} part(s) ({stored} stored): {e}")));
    }
    if outcomes.is_empty() {
        return Err(WebError::BadRequest("the request holds no instances".into()));
    }
    Ok(respond(&state, &principal, study.as_deref(), outcomes, format).await)
}

fn negotiate(headers: &HeaderMap) -> Result<Format, WebError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in parse_accept(accept) {
        match range.essence.as_str() {
            "application/dicom+json" | "*/*" | "application/*" => return Ok(Format::Json(DICOM_JSON)),
            "application/json" => return Ok(Format::Json("application/json")),
            "application/dicom+xml" => return Ok(Format::Xml),
            _ => {}
        }
    }
    Err(WebError::NotAcceptable("the store response is available as application/dicom+json or application/dicom+xml".into()))
}

fn payload_kind(headers: &HeaderMap) -> Result<Payload, WebError> {
    let expected = "send multipart/related; type=\"application/dicom\" (or a single application/dicom body)";
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(MediaType::parse)
        .ok_or_else(|| WebError::UnsupportedMediaType(format!("missing or unreadable Content-Type: {expected}")))?;
    match ct.essence.as_str() {
        "multipart/related" => {
            if let Some(t) = ct.param("type")
                && !t.eq_ignore_ascii_case("application/dicom")
            {
                return Err(WebError::UnsupportedMediaType(format!(
                    "multipart/related type \"{t}\" is not supported: only application/dicom instances can be stored"
                )));
            }
            match ct.param("boundary") {
                Some(b) if !b.is_empty() && b.len() <= 200 => Ok(Payload::Multipart { boundary: b.to_string() }),
                _ => Err(WebError::BadRequest("multipart/related without a boundary parameter".into())),
            }
        }
        "application/dicom" => Ok(Payload::Single),
        other => Err(WebError::UnsupportedMediaType(format!("Content-Type {other} is not supported: {expected}"))),
    }
}

/// Parts are DICOM files; a missing type (allowed when the request's `type`
/// says so) and the generic octet-stream that some tools send are accepted.
fn part_type_error(essence: Option<&str>) -> Option<String> {
    match essence.map(str::to_ascii_lowercase).as_deref() {
        None | Some("application/dicom") | Some("application/octet-stream") => None,
        Some(other) => Some(format!("part has Content-Type {other}; only application/dicom parts are stored")),
    }
}

/// A part spooled to disk, or why it could not be (too large, disk error).
struct Received {
    file: Result<TempObject, IngestError>,
    head: Vec<u8>,
}

/// Reads one part to its end. `Err` only when the request body itself broke;
/// a part that can't be kept is drained and reported in `Received::file`.
async fn receive<S, E>(ingest: &Ingestor, chunks: &mut S) -> Result<Received, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut file = ingest.new_temp().map_err(IngestError::from);
    let mut head = Vec::new();
    let mut buf = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        if head.len() < HEAD_BYTES {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
        }
        if file.is_err() {
            continue; // drain the rest of a refused part
        }
        buf.extend_from_slice(&chunk);
        if buf.len() >= FLUSH_BYTES {
            file = flush(file, &mut buf).await;
        }
    }
    if file.is_ok() && !buf.is_empty() {
        file = flush(file, &mut buf).await;
    }
    Ok(Received { file, head })
}

/// Appends `buf` to the temporary file off the async workers.
async fn flush(file: Result<TempObject, IngestError>, buf: &mut Vec<u8>) -> Result<TempObject, IngestError> {
    let mut tmp = file?;
    let data = std::mem::take(buf);
    let (tmp, mut data, result) = tokio::task::spawn_blocking(move || {
        let r = tmp.write_all(&data);
        (tmp, data, r)
    })
    .await
    .map_err(|e| IngestError::Storage(format!("write task failed: {e}")))?;
    result?;
    data.clear();
    *buf = data; // keep the allocation for the next batch
    Ok(tmp)
}

/// What every part of one request shares.
#[derive(Clone)]
struct Job {
    ingest: Ingestor,
    account: AccountId,
    origin: Origin,
    /// The study of `POST /studies/{study}`: instances of other studies are refused.
    study: Option<String>,
}

impl Job {
    fn start(&self, part: usize, received: Received, unsupported: Option<String>) -> Slot {
        let fail = |code, reason: String, ours| {
            let (sop_class, sop_uid) = uids_from_head(&received.head);
            Slot::Done(Outcome::Failed(Failure { part, sop_class, sop_uid, code, reason, ours }))
        };
        if let Some(reason) = unsupported {
            return fail(CANNOT_UNDERSTAND, reason, false);
        }
        match received.file {
            Err(e) => fail(failure_code(&e), e.to_string(), !e.is_client_error()),
            Ok(tmp) => {
                let job = self.clone();
                Slot::Running(tokio::spawn(async move { job.ingest_part(part, tmp, received.head).await }))
            }
        }
    }

    async fn ingest_part(self, part: usize, tmp: TempObject, head: Vec<u8>) -> Outcome {
        let fail = |code, reason: String, uids: Option<(String, String)>, ours| {
            let (sop_class, sop_uid) = match uids {
                Some((c, i)) => (Some(c), Some(i)),
                None => uids_from_head(&head),
            };
            Outcome::Failed(Failure { part, sop_class, sop_uid, code, reason, ours })
        };
        if let Some(study) = &self.study {
            // Checked before ingesting so a mismatched instance never lands in the archive.
            let path = tmp.path().to_path_buf();
            match tokio::task::spawn_blocking(move || studylink_ingest::parse_file(&path, &[])).await {
                Ok(Ok(parsed)) if &parsed.meta.study.study_uid != study => {
                    let i = parsed.meta.instance;
                    return fail(
                        DOES_NOT_MATCH,
                        "the instance's Study Instance UID differs from the study in the request URL".into(),
                        Some((i.sop_class_uid, i.sop_uid)),
                        false,
                    );
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return fail(failure_code(&e), e.to_string(), None, !e.is_client_error()),
                Err(e) => return fail(OUT_OF_RESOURCES, format!("parse task failed: {e}"), None, true),
            }
        }
        match self.ingest.ingest_file(self.account, tmp, &self.origin).await {
            Ok(done) => Outcome::Stored(done),
            Err(e) => fail(failure_code(&e), e.to_string(), None, !e.is_client_error()),
        }
    }
}

async fn settle(slot: Slot) -> Outcome {
    match slot {
        Slot::Done(o) => o,
        Slot::Running(task) => task.await.unwrap_or_else(|e| {
            Outcome::Failed(Failure {
                part: 0,
                sop_class: None,
                sop_uid: None,
                code: OUT_OF_RESOURCES,
                reason: format!("ingest task failed: {e}"),
                ours: true,
            })
        }),
    }
}

fn failure_code(e: &IngestError) -> u16 {
    match e {
        IngestError::TooLarge { .. } | IngestError::Storage(_) | IngestError::Io(_) => OUT_OF_RESOURCES,
        IngestError::Mismatch(_) => DOES_NOT_MATCH,
        _ => CANNOT_UNDERSTAND,
    }
}

/// SOP Class and Instance UIDs from a part's file meta group, if it has a readable one.
fn uids_from_head(head: &[u8]) -> (Option<String>, Option<String>) {
    if head.len() < 132 || &head[128..132] != b"DICM" {
        return (None, None);
    }
    match dicom_object::meta::FileMetaTable::from_reader(&head[128..]) {
        Ok(meta) => {
            let clean = |s: &str| {
                let s = s.trim_end_matches(['\0', ' ']);
                super::is_uid(s).then(|| s.to_string())
            };
            (clean(meta.media_storage_sop_class_uid()), clean(meta.media_storage_sop_instance_uid()))
        }
        Err(_) => (None, None),
    }
}

/// One audit record per request, with counts only.
async fn audit_stow(state: &AppState, principal: &Principal, outcomes: &[Outcome]) {
    let (mut stored, mut duplicates, mut failed, mut bytes) = (0, 0, 0, 0u64);
    for o in outcomes {
        match o {
            Outcome::Stored(i) if i.duplicate => duplicates += 1,
            Outcome::Stored(i) => {
                stored += 1;
                bytes += i.size_bytes;
            }
            Outcome::Failed(_) => failed += 1,
        }
    }
    let detail = format!(r#"{{"stored":{stored},"duplicates":{duplicates},"failed":{failed},"bytes":{bytes}}}"#);
    audit(state, principal, "dicomweb.stow", None, detail).await;
}

async fn respond(state: &AppState, principal: &Principal, study: Option<&str>, outcomes: Vec<Outcome>, format: Format) -> Response {
    audit_stow(state, principal, &outcomes).await;
    let urls = Urls::new(state);
    let (mut stored, mut failed) = (Vec::new(), Vec::new());
    for o in outcomes {
        match o {
            Outcome::Stored(i) => stored.push(i),
            Outcome::Failed(f) => failed.push(f),
        }
    }
    let duplicates = stored.iter().filter(|i| i.duplicate).count();
    let bytes: u64 = stored.iter().filter(|i| !i.duplicate).map(|i| i.size_bytes).sum();
    let status = match (stored.is_empty(), failed.is_empty()) {
        (_, true) => StatusCode::OK,
        (false, false) => StatusCode::ACCEPTED,
        // Nothing stored because our storage failed: tell the sender to retry
        // (503) rather than that its objects are at fault.
        (true, false) if failed.iter().all(|f| f.ours) => StatusCode::SERVICE_UNAVAILABLE,
        (true, false) => StatusCode::CONFLICT,
    };

    let mut ds = Dataset::new();
    // Type 2: the study's URL when the stored instances belong to one study.
    let one_study = study.map(str::to_string).or_else(|| {
        let first = &stored.first()?.study_uid;
        stored.iter().all(|i| &i.study_uid == first).then(|| first.clone())
    });
    let url = one_study.filter(|_| !stored.is_empty()).map(|s| urls.study(&s));
    ds.text(tags::RETRIEVE_URL, "UR", url.as_deref());
    if !failed.is_empty() {
        let items = failed
            .iter()
            .map(|f| {
                let mut item = Dataset::new();
                if let Some(c) = &f.sop_class {
                    item.text(tags::REFERENCED_SOP_CLASS_UID, "UI", Some(c));
                }
                if let Some(i) = &f.sop_uid {
                    item.text(tags::REFERENCED_SOP_INSTANCE_UID, "UI", Some(i));
                }
                item.int(tags::FAILURE_REASON, "US", Some(f.code as i64));
                item.text(tags::ERROR_COMMENT, "LO", Some(&f.reason));
                item
            })
            .collect();
        ds.seq(tags::FAILED_SOP_SEQUENCE, items);
    }
    if !stored.is_empty() {
        let items = stored
            .iter()
            .map(|i| {
                let mut item = Dataset::new();
                item.text(tags::REFERENCED_SOP_CLASS_UID, "UI", Some(&i.sop_class_uid))
                    .text(tags::REFERENCED_SOP_INSTANCE_UID, "UI", Some(&i.sop_uid))
                    .text(tags::RETRIEVE_URL, "UR", Some(&urls.instance(&i.study_uid, &i.series_uid, &i.sop_uid)));
                item
            })
            .collect();
        ds.seq(tags::REFERENCED_SOP_SEQUENCE, items);
    }

    tracing::info!(
        from = %principal.label,
        stored = stored.len() - duplicates,
        duplicates,
        failed = failed.len(),
        bytes,
        "STOW-RS request"
    );

    let value = ds.into_value();
    let (content_type, body) = match format {
        Format::Json(ct) => (ct, serde_json::to_vec(&value).unwrap_or_default()),
        Format::Xml => ("application/dicom+xml", xml::native_dicom_model(&value).into_bytes()),
    };
    let mut resp = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("static response parts");
    let warnings: Vec<String> = failed.iter().map(|f| format!("part {}: {}", f.part, f.reason)).collect();
    add_warnings(resp.headers_mut(), &warnings);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let h = |ct: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            payload_kind(&m)
        };
        assert!(matches!(h(r#"multipart/related; type="application/dicom"; boundary=x"#), Ok(Payload::Multipart { .. })));
        assert!(matches!(h("multipart/related; type=application/dicom; boundary=x"), Ok(Payload::Multipart { .. })));
        assert!(matches!(h("multipart/related; boundary=x"), Ok(Payload::Multipart { .. })));
        assert!(matches!(h("application/dicom"), Ok(Payload::Single)));
        assert!(matches!(h(r#"multipart/related; type="application/dicom+json"; boundary=x"#), Err(WebError::UnsupportedMediaType(_))));
        assert!(matches!(h("multipart/related; type=application/dicom"), Err(WebError::BadRequest(_))));
        assert!(matches!(h("application/json"), Err(WebError::UnsupportedMediaType(_))));
    }
}
