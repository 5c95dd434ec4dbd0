//! Rendered resources (PS3.18 §9.5, §10.4.1.1.3) and thumbnails (§10.4.4):
//! a frame as an 8-bit JPEG or PNG for people, not for diagnostic viewers.
//!
//! - `…/instances/{i}/rendered` is the first frame; `…/frames/{n}/rendered`
//!   frame `n` (from 1; one frame per request).
//! - `…/thumbnail` at study, series, instance and frame level: at most
//!   [`THUMBNAIL_SIZE`] px on the longest side. A study's or series' thumbnail
//!   is that of its first instance with pixels (index order: instance number).
//!   Default-quality JPEG thumbnails of instances are cached in the blob store
//!   under `derived/{account}/thumbs/`, keyed by the instance's blob, and made
//!   again whenever missing.
//! - Full-size JPEG of a frame stored as a browser-safe baseline JPEG is
//!   the stored stream itself, unless `quality` is given (see
//!   [`studylink_imaging::render`]).
//! - `Accept`: `image/jpeg` (also `image/*`, `*/*`, or none) or `image/png`;
//!   anything else is 406. Query: `quality` (1–100, JPEG), `viewport=w,h`
//!   (fit within, never enlarged; the cropping form is refused with 400).
//!
//! Errors: 404 for an unknown instance or a frame it doesn't have; 406 for
//! objects without pixels (PDF, SR…), whose rendered media types per PS3.18
//! Table 8.7.4-1 are not images; 422 when the stored pixel data can't be
//! decoded (a broken or unsupported stream), which no Accept value would fix.
//!
//! Only the header and the wanted frame are read from local blobs (the
//! frame located as for WADO-RS frames); other blobs, and layouts frames
//! can't be cut from, are read whole. Decoding and encoding run on blocking
//! threads. Responses are `private`
//! (patient data never goes to shared caches).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use studylink_imaging::{Format, FrameBytes, RenderError, RenderRequest, Rendered, THUMBNAIL_SIZE};
use studylink_store::{InstanceQuery, InstanceRow, Page};

use super::media::parse_accept;
use super::pixel_layout;
use super::stored::{self, Blob};
use super::wado::{Level, audit_read, instance};
use super::path_uids;
use crate::auth::Principal;
use crate::{AppState, WebError};

/// Rendered pixels of a stored instance don't change; a day is plenty for a
/// staff browser scrolling back and forth.
const CACHE_CONTROL: &str = "private, max-age=86400";
const THUMBNAIL_QUALITY: u8 = 85;
/// Candidates tried for a study or series thumbnail before giving up.
const THUMBNAIL_TRIES: usize = 3;

/// Why a rendered resource isn't there. Wraps [`WebError`] to add 422.
pub enum Failure {
    Web(WebError),
    Unrenderable(String),
}

impl From<WebError> for Failure {
    fn from(e: WebError) -> Self {
        Failure::Web(e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Web(e) => e.into_response(),
            Failure::Unrenderable(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(serde_json::json!({ "error": m }))).into_response()
            }
        }
    }
}

impl From<RenderError> for Failure {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::NotAnImage(_) => not_an_image(),
            RenderError::NoSuchFrame { .. } => Failure::Web(WebError::NotFound),
            other => Failure::Unrenderable(format!("this instance's pixel data can't be rendered ({other})")),
        }
    }
}

fn not_an_image() -> Failure {
    Failure::Web(WebError::NotAcceptable(
        "this instance has no pixel data (e.g. a PDF or a structured report), so it has no rendered image; retrieve it with WADO-RS instead".into(),
    ))
}

type Result<T, E = Failure> = std::result::Result<T, E>;

pub async fn instance_rendered(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study, &series, &sop])?;
    let req = request(&headers, query.as_deref(), 0, None)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    audit_read(&state, &principal, "dicomweb.rendered", Level::Instance, std::slice::from_ref(&row));
    respond(render(&state, &row, req).await?)
}

pub async fn frame_rendered(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop, frame)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study, &series, &sop])?;
    let frame = frame_number(&frame)?;
    let req = request(&headers, query.as_deref(), frame, None)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    audit_read(&state, &principal, "dicomweb.rendered", Level::Instance, std::slice::from_ref(&row));
    respond(render(&state, &row, req).await?)
}

pub async fn frame_thumbnail(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop, frame)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study, &series, &sop])?;
    let frame = frame_number(&frame)?;
    let req = request(&headers, query.as_deref(), frame, Some(THUMBNAIL_SIZE))?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    audit_read(&state, &principal, "dicomweb.thumbnail", Level::Instance, std::slice::from_ref(&row));
    respond(render(&state, &row, req).await?)
}

pub async fn instance_thumbnail(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study, &series, &sop])?;
    let req = request(&headers, query.as_deref(), 0, Some(THUMBNAIL_SIZE))?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    audit_read(&state, &principal, "dicomweb.thumbnail", Level::Instance, std::slice::from_ref(&row));
    thumbnail(&state, &principal, &row, req).await
}

pub async fn series_thumbnail(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study, &series])?;
    let req = request(&headers, query.as_deref(), 0, Some(THUMBNAIL_SIZE))?;
    representative(&state, &principal, &study, Some(&series), Level::Series, req).await
}

pub async fn study_thumbnail(
    State(state): State<AppState>,
    principal: Principal,
    Path(study): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    path_uids([&study])?;
    let req = request(&headers, query.as_deref(), 0, Some(THUMBNAIL_SIZE))?;
    representative(&state, &principal, &study, None, Level::Study, req).await
}

/// The first instance with pixels that renders.
async fn representative(state: &AppState, principal: &Principal, study: &str, series: Option<&str>, level: Level, req: RenderRequest) -> Result<Response> {
    let q = InstanceQuery {
        study_uid: Some(study.to_string()),
        series_uid: series.map(str::to_string),
        page: Page { limit: 10_000, offset: 0 },
        ..Default::default()
    };
    let rows = state.store.query_instances(principal.account_id, &q).await.map_err(WebError::from)?;
    if rows.is_empty() {
        return Err(WebError::NotFound.into());
    }
    audit_read(state, principal, "dicomweb.thumbnail", level, &rows);
    // Instances indexed with frames first; the rest may still hold pixels
    // (the index's frame count is a hint, see `render`).
    let mut candidates: Vec<&InstanceRow> = rows.iter().collect();
    candidates.sort_by_key(|r| r.frames == 0);
    let mut last = not_an_image();
    for row in candidates.into_iter().take(THUMBNAIL_TRIES) {
        match thumbnail(state, principal, row, req.clone()).await {
            Ok(resp) => return Ok(resp),
            Err(e @ (Failure::Unrenderable(_) | Failure::Web(WebError::NotAcceptable(_)))) => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Default thumbnails come from (and go to) the blob store; others are made each time.
async fn thumbnail(state: &AppState, principal: &Principal, row: &InstanceRow, req: RenderRequest) -> Result<Response> {
    let cacheable = req.format == (Format::Jpeg { quality: THUMBNAIL_QUALITY }) && req.viewport.is_none();
    if !cacheable {
        return respond(render(state, row, req).await?);
    }
    let blobs = state.ingest.blobs();
    let key = thumbnail_key(principal.account_id.0, &row.blob_key);
    if let Ok(bytes) = blobs.get(&key).await {
        return Ok(image_response("image/jpeg", bytes));
    }
    let rendered = render(state, row, req).await?;
    let bytes = Bytes::from(rendered.bytes);
    if let Err(e) = blobs.put_bytes(&key, bytes.clone()).await {
        // Still answer; the next request tries again.
        tracing::warn!(error = %e, "could not cache a thumbnail");
    }
    Ok(image_response("image/jpeg", bytes))
}

/// Keyed by the instance's blob, so a replaced instance gets a new thumbnail.
pub fn thumbnail_key(account: i64, blob_key: &str) -> String {
    let hash = hex::encode(Sha256::digest(blob_key.as_bytes()));
    format!("derived/{account}/thumbs/{}/{hash}.jpg", &hash[..2])
}

/// The index's frame count only short-cuts requests past the last frame:
/// whether there are pixels at all is decided by reading the object (an
/// index row may say 0 frames for an image).
async fn render(state: &AppState, row: &InstanceRow, req: RenderRequest) -> Result<Rendered> {
    if row.frames > 0 && req.frame as i64 >= row.frames {
        return Err(WebError::NotFound.into());
    }
    let task = |e: tokio::task::JoinError| WebError::Internal(anyhow::anyhow!("rendering task: {e}"));
    if let Some(path) = state.ingest.blobs().local_path(&row.blob_key) {
        let row = row.clone();
        // A header read on its own can come out short on odd files (seen:
        // Rows missing); reading the whole object is the fallback, not a 422.
        return tokio::task::spawn_blocking(move || match render_cut(&path, &row, &req) {
            Ok(Some(r)) => Ok(r),
            Ok(None) | Err(Failure::Unrenderable(_)) => render_whole(Blob::Path(path), &row, &req),
            Err(e) => Err(e),
        })
        .await
        .map_err(task)?;
    }
    let blob = Blob::open(state.ingest.blobs(), &row.blob_key).await.map_err(|e| WebError::Internal(e.into()))?;
    let row = row.clone();
    tokio::task::spawn_blocking(move || render_whole(blob, &row, &req)).await.map_err(task)?
}

/// Reads only the header and the wanted frame's bytes (local files). `None`
/// when the frame can't be cut out (big endian, deflated, bit-packed…): the
/// caller then reads the whole object. Blocking.
fn render_cut(path: &std::path::Path, row: &InstanceRow, req: &RenderRequest) -> Result<Option<Rendered>> {
    let ts = row.transfer_syntax.as_str();
    let native = matches!(ts, "1.2.840.10008.1.2" | "1.2.840.10008.1.2.1");
    let open = || File::open(path).map_err(|e| Failure::from(WebError::Internal(e.into())));
    let Ok(layout) = pixel_layout::locate(open()?, ts, native) else { return Ok(None) };
    let Some(ranges) = layout.get(req.frame as usize) else { return Ok(None) };
    let Ok(header) = stored::read_header(stored::Source::File(open()?), row) else { return Ok(None) };
    let bytes = pixel_layout::read_ranges(open()?, ranges).map_err(|e| WebError::Internal(e.into()))?;
    let obj = studylink_imaging::with_meta(header, ts, &row.sop_class_uid, &row.sop_uid)?;
    let frame = if native { FrameBytes::Native(bytes) } else { FrameBytes::Encapsulated(bytes) };
    Ok(Some(studylink_imaging::render_cut(&obj, req, &frame)?))
}

/// Reads the whole object, pixel data included. Blocking.
fn render_whole(blob: Blob, row: &InstanceRow, req: &RenderRequest) -> Result<Rendered> {
    let internal = |e: std::io::Error| Failure::from(WebError::Internal(e.into()));
    let mut source = blob.source().map_err(internal)?;
    let start = stored::skip_meta(&mut source).map_err(internal)?;
    source.seek(SeekFrom::Start(start)).map_err(internal)?;
    let obj = studylink_imaging::read_dataset(BufReader::with_capacity(256 * 1024, source), &row.transfer_syntax, &row.sop_class_uid, &row.sop_uid)?;
    Ok(studylink_imaging::render(&obj, req)?)
}

fn respond(r: Rendered) -> Result<Response> {
    Ok(image_response(r.content_type, Bytes::from(r.bytes)))
}

fn image_response(content_type: &'static str, bytes: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, CACHE_CONTROL), (header::VARY, "Accept")],
        bytes,
    )
        .into_response()
}

/// A frame number from the path, counted from 1; lists are not rendered.
fn frame_number(s: &str) -> Result<u32> {
    match s.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ if s.contains(',') => Err(WebError::BadRequest("rendered frames are one per request: give a single frame number".into()).into()),
        _ => Err(WebError::BadRequest("the frame number must be an integer starting at 1".into()).into()),
    }
}

fn request(headers: &HeaderMap, query: Option<&str>, frame: u32, max_size: Option<u32>) -> Result<RenderRequest> {
    let params: HashMap<String, String> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| WebError::BadRequest("malformed query string".into()))?;
    let quality = match params.get("quality") {
        None if max_size.is_some() => THUMBNAIL_QUALITY,
        None => studylink_imaging::DEFAULT_JPEG_QUALITY,
        Some(q) => q.trim().parse::<u8>().ok().filter(|q| (1..=100).contains(q)).ok_or_else(|| WebError::BadRequest("quality must be an integer from 1 to 100".into()))?,
    };
    let viewport = params.get("viewport").map(|v| viewport(v)).transpose()?;
    let format = negotiate(headers, quality)?;
    // An explicit quality means "encode at this quality", never the stored stream.
    let reuse_stored_jpeg = !params.contains_key("quality");
    Ok(RenderRequest { frame, max_size, viewport, format, reuse_stored_jpeg })
}

fn viewport(v: &str) -> Result<(u32, u32)> {
    let bad = || WebError::BadRequest("viewport must be width,height in pixels (cropping is not supported)".into());
    let parts: Vec<u32> = v.split(',').map(|p| p.trim().parse::<u32>().ok().filter(|n| (1..=16384).contains(n))).collect::<Option<_>>().ok_or_else(bad)?;
    match parts[..] {
        [w, h] => Ok((w, h)),
        _ => Err(bad().into()),
    }
}

fn negotiate(headers: &HeaderMap, quality: u8) -> Result<Format> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in parse_accept(accept) {
        match range.essence.as_str() {
            "image/jpeg" | "image/*" | "*/*" => return Ok(Format::Jpeg { quality }),
            "image/png" => return Ok(Format::Png),
            _ => {}
        }
    }
    Err(WebError::NotAcceptable("rendered images are available as image/jpeg or image/png".into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, v.parse().unwrap());
        h
    }

    #[test]
    fn negotiation_and_parameters() {
        let r = request(&HeaderMap::new(), None, 0, None).ok().unwrap();
        assert_eq!(r.format, Format::Jpeg { quality: studylink_imaging::DEFAULT_JPEG_QUALITY });
        let r = request(&accept("image/gif, image/png;q=0.5"), Some("viewport=200,100"), 2, None).ok().unwrap();
        assert_eq!((r.format, r.viewport, r.frame), (Format::Png, Some((200, 100)), 2));
        let r = request(&accept("image/*"), Some("quality=40"), 0, Some(256)).ok().unwrap();
        assert_eq!((r.format, r.max_size), (Format::Jpeg { quality: 40 }, Some(256)));
        assert!(request(&accept("image/gif"), None, 0, None).is_err());
        for q in ["quality=0", "quality=101", "quality=x", "viewport=10", "viewport=1,2,3,4,5,6", "viewport=0,5"] {
            assert!(request(&HeaderMap::new(), Some(q), 0, None).is_err(), "{q}");
        }
    }

    #[test]
    fn frame_numbers() {
        assert_eq!(frame_number("1").ok(), Some(0));
        assert_eq!(frame_number("87").ok(), Some(86));
        for bad in ["0", "-1", "1,2", "x", ""] {
            assert!(frame_number(bad).is_err(), "{bad}");
        }
    }
}
