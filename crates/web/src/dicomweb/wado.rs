//! WADO-RS, Retrieve (PS3.18 §10.4): instances, metadata, bulk data.
//!
//! Instances go out as stored, byte for byte, streamed from the blob store in
//! a `multipart/related; type="application/dicom"` body (a study may be GBs).
//! There is no transcoding: an Accept naming a transfer syntax other than the
//! stored one gets 406. Deviation, for interoperability: an Accept without a
//! `transfer-syntax` parameter gets the stored syntax too (PS3.18 §8.7.3 makes
//! the default Explicit VR Little Endian, which most clients don't expect).
//!
//! Metadata reads each header up to the pixel data (never the pixels) off the
//! async workers, a few instances at a time, and streams the JSON array out as
//! each object is ready.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use dicom_core::DicomValue;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use studylink_store::{BlobStore, InstanceQuery, InstanceRow, Page, SeriesQuery, StudyQuery};
use tokio_util::io::ReaderStream;

use super::json::Dataset;
use super::media::parse_accept;
use super::stored::{self, Blob};
use super::{Urls, audit, dataset_json, negotiate_json, path_uids};
use crate::auth::Principal;
use crate::{AppState, WebError};

/// Headers read (and blob streams opened) ahead of the one being sent.
const AHEAD: usize = 4;
const MAX_INSTANCES: i64 = 1_000_000;

const AUDIT_WINDOW: Duration = Duration::from_secs(600);

/// Reads audited lately, per process (another node may write its own row:
/// harmless). Bounded: stale entries are dropped when it grows.
fn recently_audited(key: String) -> bool {
    static RECENT: LazyLock<Mutex<HashMap<String, Instant>>> = LazyLock::new(Default::default);
    let now = Instant::now();
    let mut recent = RECENT.lock().unwrap_or_else(|e| e.into_inner());
    if recent.len() > 10_000 {
        recent.retain(|_, at| now.duration_since(*at) < AUDIT_WINDOW);
    }
    match recent.get(&key) {
        Some(at) if now.duration_since(*at) < AUDIT_WINDOW => true,
        _ => {
            recent.insert(key, now);
            false
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Level {
    Study,
    Series,
    Instance,
}

// ---- retrieve -------------------------------------------------------------

pub async fn retrieve_study(State(state): State<AppState>, principal: Principal, Path(study): Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    path_uids([&study])?;
    let want = negotiate_dicom(&headers, false)?;
    let rows = instances(&state, &principal, &study, None).await?;
    retrieve(&state, &principal, Level::Study, rows, want).await
}

pub async fn retrieve_series(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series])?;
    let want = negotiate_dicom(&headers, false)?;
    let rows = instances(&state, &principal, &study, Some(&series)).await?;
    retrieve(&state, &principal, Level::Series, rows, want).await
}

pub async fn retrieve_instance(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series, &sop])?;
    let want = negotiate_dicom(&headers, true)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    retrieve(&state, &principal, Level::Instance, vec![row], want).await
}

/// What the Accept header allows.
struct Wanted {
    /// A bare `application/dicom` body rather than multipart (single instances only).
    single: bool,
    /// `None`: any transfer syntax; otherwise the acceptable ones.
    syntaxes: Option<Vec<String>>,
}

fn negotiate_dicom(headers: &HeaderMap, single_ok: bool) -> Result<Wanted, WebError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let mut chosen: Option<Wanted> = None;
    for range in parse_accept(accept) {
        let (single, ts) = match range.essence.as_str() {
            "*/*" | "multipart/*" => (false, None),
            "multipart/related" => match range.param("type") {
                None => (false, range.param("transfer-syntax")),
                Some(t) if t.eq_ignore_ascii_case("application/dicom") => (false, range.param("transfer-syntax")),
                Some(_) => continue,
            },
            "application/dicom" if single_ok => (true, range.param("transfer-syntax")),
            _ => continue,
        };
        // The best range picks the rendition; ranges of that rendition pool their syntaxes.
        let w = chosen.get_or_insert(Wanted { single, syntaxes: Some(vec![]) });
        if w.single != single {
            continue;
        }
        match (ts, &mut w.syntaxes) {
            (None | Some("*"), s) => *s = None,
            (Some(ts), Some(list)) => list.push(ts.to_string()),
            (Some(_), None) => {}
        }
    }
    chosen.ok_or_else(|| {
        WebError::NotAcceptable(
            "instances are available as multipart/related; type=\"application/dicom\" (any transfer-syntax parameter must be * or the stored one)".into(),
        )
    })
}

async fn retrieve(state: &AppState, principal: &Principal, level: Level, rows: Vec<InstanceRow>, want: Wanted) -> Result<Response, WebError> {
    if let Some(list) = &want.syntaxes
        && let Some(row) = rows.iter().find(|r| !list.contains(&r.transfer_syntax))
    {
        return Err(WebError::NotAcceptable(format!(
            "an instance is stored as transfer syntax {} and this server does not transcode; ask for transfer-syntax=* (or that syntax)",
            row.transfer_syntax
        )));
    }
    audit_read(state, principal, "dicomweb.retrieve", level, &rows);
    let blobs = state.ingest.blobs().clone();
    if want.single {
        let row = &rows[0];
        let body = blob_stream(&blobs, &row.blob_key).await.map_err(|e| WebError::Internal(e.into()))?;
        return Ok(Response::builder()
            .header(header::CONTENT_TYPE, format!("application/dicom; transfer-syntax={}", row.transfer_syntax))
            .header(header::CONTENT_LENGTH, row.size_bytes)
            .body(Body::from_stream(body))
            .expect("valid response"));
    }
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let sep = boundary.clone();
    let parts = stream::iter(rows)
        .map(move |row| part(blobs.clone(), row, sep.clone()))
        .buffered(AHEAD)
        .flatten();
    let end = stream::once(std::future::ready(Ok(Bytes::from(format!("--{boundary}--\r\n")))));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, format!("multipart/related; type=\"application/dicom\"; boundary={boundary}"))
        .body(Body::from_stream(parts.chain(end)))
        .expect("valid response"))
}

/// One body part: headers, the stored file as-is, CRLF. A blob that can't be
/// opened aborts the body (the client sees a truncated multipart, not a lie).
async fn part(blobs: BlobStore, row: InstanceRow, boundary: String) -> BoxStream<'static, io::Result<Bytes>> {
    let head = format!(
        "--{boundary}\r\nContent-Type: application/dicom; transfer-syntax={}\r\nContent-Length: {}\r\n\r\n",
        row.transfer_syntax, row.size_bytes
    );
    match blob_stream(&blobs, &row.blob_key).await {
        Ok(body) => stream::once(std::future::ready(Ok(Bytes::from(head))))
            .chain(body)
            .chain(stream::once(std::future::ready(Ok(Bytes::from_static(b"\r\n")))))
            .boxed(),
        Err(e) => {
            tracing::error!(error = %e, instance = %row.id, "stored instance could not be read");
            stream::once(std::future::ready(Err(io::Error::other(e)))).boxed()
        }
    }
}

/// A stored file as a byte stream. Local files are read directly in large
/// chunks (the object store's local reader uses small ones, which costs
/// throughput); remote blobs come from the store's stream.
async fn blob_stream(blobs: &BlobStore, key: &str) -> io::Result<BoxStream<'static, io::Result<Bytes>>> {
    if let Some(path) = blobs.local_path(key) {
        let file = tokio::fs::File::open(path).await?;
        return Ok(ReaderStream::with_capacity(file, 256 * 1024).boxed());
    }
    Ok(blobs.get_stream(key).await.map_err(io::Error::other)?.map_err(io::Error::other).boxed())
}

// ---- metadata -------------------------------------------------------------

pub async fn study_metadata(State(state): State<AppState>, principal: Principal, Path(study): Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    path_uids([&study])?;
    let ct = negotiate_json(&headers)?;
    let rows = instances(&state, &principal, &study, None).await?;
    metadata(&state, &principal, Level::Study, rows, ct).await
}

pub async fn series_metadata(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series])?;
    let ct = negotiate_json(&headers)?;
    let rows = instances(&state, &principal, &study, Some(&series)).await?;
    metadata(&state, &principal, Level::Series, rows, ct).await
}

pub async fn instance_metadata(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series, &sop])?;
    let ct = negotiate_json(&headers)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    metadata(&state, &principal, Level::Instance, vec![row], ct).await
}

async fn metadata(state: &AppState, principal: &Principal, level: Level, rows: Vec<InstanceRow>, ct: &'static str) -> Result<Response, WebError> {
    audit_read(state, principal, "dicomweb.metadata", level, &rows);
    let blobs = state.ingest.blobs().clone();
    let urls = Urls::new(state);
    let objects = stream::iter(rows)
        .map(move |row| {
            let (blobs, urls) = (blobs.clone(), urls.clone());
            async move { instance_json(&blobs, &urls, &row).await }
        })
        .buffered(AHEAD)
        .enumerate()
        .map(|(i, json)| {
            let mut chunk = Vec::with_capacity(json.len() + 1);
            chunk.push(if i == 0 { b'[' } else { b',' });
            chunk.extend_from_slice(&json);
            Ok::<_, io::Error>(Bytes::from(chunk))
        });
    let end = stream::once(std::future::ready(Ok(Bytes::from_static(b"]"))));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from_stream(objects.chain(end)))
        .expect("valid response"))
}

/// One instance's metadata. A header that can't be read (it was accepted, so
/// this is rare: an unsupported character set, a storage error) is replaced by
/// what the index knows, so one bad file doesn't fail a whole study.
async fn instance_json(blobs: &BlobStore, urls: &Urls, row: &InstanceRow) -> Vec<u8> {
    let bulk_base = format!("{}/bulkdata", urls.instance(&row.study_uid, &row.series_uid, &row.sop_uid));
    let read = with_header(blobs, row, move |obj| serde_json::to_vec(&dataset_json::dataset(&obj, &bulk_base))).await;
    match read {
        Ok(Ok(json)) => json,
        Ok(Err(e)) => fallback(row, &e.to_string()),
        Err(e) => fallback(row, &e.to_string()),
    }
}

fn fallback(row: &InstanceRow, error: &str) -> Vec<u8> {
    tracing::warn!(instance = %row.id, error, "metadata: header unreadable, answering from the index");
    let mut ds = Dataset::new();
    ds.text(tags::SPECIFIC_CHARACTER_SET, "CS", Some("ISO_IR 192"))
        .text(tags::SOP_CLASS_UID, "UI", Some(&row.sop_class_uid))
        .text(tags::SOP_INSTANCE_UID, "UI", Some(&row.sop_uid))
        .text(tags::STUDY_INSTANCE_UID, "UI", Some(&row.study_uid))
        .text(tags::SERIES_INSTANCE_UID, "UI", Some(&row.series_uid))
        .int(tags::INSTANCE_NUMBER, "IS", row.number);
    if row.frames > 0 {
        ds.int(tags::NUMBER_OF_FRAMES, "IS", Some(row.frames)).int(tags::ROWS, "US", row.rows).int(tags::COLUMNS, "US", row.columns);
    }
    serde_json::to_vec(&ds.into_value()).unwrap_or_else(|_| b"{}".to_vec())
}

/// Reads a stored instance's header (up to the pixel data) on a blocking
/// thread and hands it to `f` there.
async fn with_header<T, F>(blobs: &BlobStore, row: &InstanceRow, f: F) -> anyhow::Result<T>
where
    F: FnOnce(InMemDicomObject) -> T + Send + 'static,
    T: Send + 'static,
{
    let blob = Blob::open(blobs, &row.blob_key).await?;
    let row = row.clone();
    tokio::task::spawn_blocking(move || Ok(f(stored::read_header(blob.source()?, &row)?))).await?
}

// ---- bulk data ------------------------------------------------------------

/// The value a metadata `BulkDataURI` points at, as
/// `multipart/related; type="application/octet-stream"`, or bare
/// `application/octet-stream` when that is what the client asks for.
pub async fn bulkdata(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop, path)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series, &sop])?;
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let well_formed = segments.len() % 2 == 1
        && segments.len() <= 33
        && segments.iter().enumerate().all(|(i, s)| if i % 2 == 0 { dataset_json::parse_tag(s).is_some() } else { s.parse::<usize>().is_ok() });
    if !well_formed {
        return Err(WebError::NotFound);
    }
    let single = negotiate_bulk(&headers)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    let value = with_header(state.ingest.blobs(), &row, move |obj| {
        let path: Vec<&str> = segments.iter().map(String::as_str).collect();
        let e = dataset_json::find(&obj, &path)?;
        match e.value() {
            DicomValue::Primitive(v) if dataset_json::is_binary(e.vr()) => Some(v.to_bytes().into_owned()),
            _ => None,
        }
    })
    .await
    .map_err(WebError::Internal)?
    .ok_or(WebError::NotFound)?;
    audit_read(&state, &principal, "dicomweb.bulkdata", Level::Instance, std::slice::from_ref(&row));

    if single {
        return Ok(Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(value))
            .expect("valid response"));
    }
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let mut body = format!("--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n", value.len()).into_bytes();
    body.extend_from_slice(&value);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, format!("multipart/related; type=\"application/octet-stream\"; boundary={boundary}"))
        .body(Body::from(body))
        .expect("valid response"))
}

/// `true` for a bare octet stream, `false` for multipart.
fn negotiate_bulk(headers: &HeaderMap) -> Result<bool, WebError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in parse_accept(accept) {
        match range.essence.as_str() {
            "*/*" | "multipart/*" => return Ok(false),
            "multipart/related" if range.param("type").is_none_or(|t| t.eq_ignore_ascii_case("application/octet-stream")) => return Ok(false),
            "application/octet-stream" => return Ok(true),
            _ => {}
        }
    }
    Err(WebError::NotAcceptable("bulk data is available as multipart/related; type=\"application/octet-stream\"".into()))
}

// ---- lookups --------------------------------------------------------------

async fn instances(state: &AppState, principal: &Principal, study: &str, series: Option<&str>) -> Result<Vec<InstanceRow>, WebError> {
    let q = InstanceQuery {
        study_uid: Some(study.to_string()),
        series_uid: series.map(str::to_string),
        page: Page { limit: MAX_INSTANCES, offset: 0 },
        ..Default::default()
    };
    let rows = state.store.query_instances(principal.account_id, &q).await?;
    if rows.is_empty() {
        return Err(WebError::NotFound);
    }
    Ok(rows)
}

pub(super) async fn instance(state: &AppState, principal: &Principal, study: &str, series: &str, sop: &str) -> Result<InstanceRow, WebError> {
    match state.store.instance_by_sop(principal.account_id, sop).await? {
        Some(row) if row.study_uid == study && row.series_uid == series => Ok(row),
        _ => Err(WebError::NotFound),
    }
}

/// Audits a read of patient data, naming the study, series or instance by row
/// id. Repeats of the same read by the same caller within [`AUDIT_WINDOW`] are
/// not written again: a viewer fetches an instance's frames one request at a
/// time, and a row per frame would bury the log.
///
/// The record is written by a spawned task so the response doesn't wait on a
/// commit; a failure is logged either way (see [`audit`]).
pub(super) fn audit_read(state: &AppState, principal: &Principal, action: &'static str, level: Level, rows: &[InstanceRow]) {
    let Some(first) = rows.first() else { return };
    let account = principal.account_id;
    let uid = match level {
        Level::Study => &first.study_uid,
        Level::Series => &first.series_uid,
        Level::Instance => &first.sop_uid,
    };
    let key = format!(
        "{:p}|{account}|{}|{}|{action}|{level:?}|{uid}",
        Arc::as_ptr(&state.0),
        principal.actor.kind(),
        principal.actor.id_text(),
    );
    if recently_audited(key) {
        return;
    }
    let (state, principal, first, count) = (state.clone(), principal.clone(), first.clone(), rows.len());
    tokio::spawn(async move { write_read_audit(&state, &principal, action, level, &first, count).await });
}

async fn write_read_audit(state: &AppState, principal: &Principal, action: &str, level: Level, first: &InstanceRow, count: usize) {
    let account = principal.account_id;
    let target = match level {
        Level::Instance => Some(("instance", first.id.to_string())),
        Level::Series => {
            let q = SeriesQuery {
                study_uid: Some(first.study_uid.clone()),
                series_uid: Some(first.series_uid.clone()),
                modality: None,
                page: Page { limit: 1, offset: 0 },
            };
            state.store.query_series(account, &q).await.ok().and_then(|r| r.into_iter().next()).map(|r| ("series", r.id.to_string()))
        }
        Level::Study => {
            let q = StudyQuery { study_uid: Some(first.study_uid.clone()), page: Page { limit: 1, offset: 0 }, ..Default::default() };
            state.store.query_studies(account, &q).await.ok().and_then(|r| r.into_iter().next()).map(|r| ("study", r.id.to_string()))
        }
    };
    audit(state, principal, action, target, format!(r#"{{"instances":{count}}}"#)).await;
}
