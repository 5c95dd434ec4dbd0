//! `GET /p/{token}/f/{position}/{what}`: one file of one item, gated like the
//! page. `what` is `thumb`, `jpg`, `mp4`, `dcm` or `doc`; `?dl=1` asks for a
//! download (an attachment, counted) rather than a view.
//!
//! Files stream from the blob store, a byte range at a time if asked
//! (`Range: bytes=…`, which video players use to seek), never whole in memory.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use serde::Deserialize;
use studylink_store::BlobStore;
use tokio::io::AsyncSeekExt;

use super::names::{self, What};
use super::{Outcome, audit, authorize};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct FileQuery {
    dl: Option<String>,
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

pub async fn serve(
    State(state): State<AppState>,
    Path((token, position, what)): Path<(String, String, String)>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
    method: Method,
) -> Response {
    let share = match authorize(&state, &headers, &token).await {
        Ok(Outcome::Open(share)) => share,
        Ok(Outcome::NotFound) => return plain(StatusCode::NOT_FOUND, "not found"),
        Ok(Outcome::Gone(_)) => return plain(StatusCode::GONE, "this link has expired"),
        Ok(Outcome::Preparing(_)) => {
            let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, "still being prepared");
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        }
        Ok(Outcome::Gate(..)) => return plain(StatusCode::FORBIDDEN, "password needed"),
        Err(e) => return e.into_response(),
    };
    let (Ok(position), Some(what)) = (position.parse::<i32>(), What::parse(&what)) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    let items = match state.store.share_items(share.id).await {
        Ok(items) => items,
        Err(e) => return crate::WebError::from(e).into_response(),
    };
    let total = items.len();
    let Some(file) = items.iter().find(|i| i.position == position).and_then(|i| names::item_file(i, what, total))
    else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    // DICOM files and unsafe documents are always attachments; thumbnails never are.
    let download = what != What::Thumb && (q.dl.is_some() || !file.inline_ok);
    let disposition = format!("{}; filename=\"{}\"", if download { "attachment" } else { "inline" }, file.file_name);
    let blobs = state.ingest.blobs();
    let resp =
        match send_blob(blobs, &file.key, file.content_type, &disposition, &headers, method == Method::HEAD).await {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
    let mut resp = resp;
    if file.what == What::Doc && !file.inline_ok {
        // Belt and braces: whatever a document holds, it runs nothing here.
        resp.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'; frame-ancestors 'none'"),
        );
    }
    // A download counts once: not for a HEAD, not for a resumed range.
    let starts_at_zero = resp.status() == StatusCode::OK
        || resp
            .headers()
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("bytes 0-"));
    if download && method == Method::GET && starts_at_zero {
        let now = state.clock.now();
        if let Err(e) = state.store.record_share_download(share.id, now).await {
            tracing::warn!(error = %e, share = %share.id, "could not count a download");
        }
        audit(&state, &share, "share.downloaded", serde_json::json!({ "what": what.as_str(), "position": position }))
            .await;
    }
    resp
}

/// A parsed `Range` header against a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeSpec {
    /// No range, or one we ignore (several ranges, other units): the whole file.
    Full,
    /// `start..=end`.
    Part(u64, u64),
    /// 416.
    Unsatisfiable,
}

pub(crate) fn parse_range(value: Option<&str>, size: u64) -> RangeSpec {
    let Some(v) = value else { return RangeSpec::Full };
    let Some(spec) = v.trim().strip_prefix("bytes=") else { return RangeSpec::Full };
    if spec.contains(',') {
        return RangeSpec::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeSpec::Full };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // The last `b` bytes.
        let Ok(n) = b.parse::<u64>() else { return RangeSpec::Full };
        if n == 0 || size == 0 {
            return RangeSpec::Unsatisfiable;
        }
        return RangeSpec::Part(size - n.min(size), size - 1);
    }
    let Ok(start) = a.parse::<u64>() else { return RangeSpec::Full };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeSpec::Full,
        }
    };
    if start >= size {
        return RangeSpec::Unsatisfiable;
    }
    RangeSpec::Part(start, end.min(size - 1))
}

/// The blob's real size (the file's on local storage, a HEAD on S3).
pub(crate) async fn blob_size(blobs: &BlobStore, key: &str) -> Result<u64, crate::WebError> {
    if let Some(path) = blobs.local_path(key) {
        return match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(crate::WebError::NotFound),
            Err(e) => Err(crate::WebError::Internal(e.into())),
        };
    }
    Ok(blobs.size(key).await?)
}

/// `len` bytes of the blob from `start`, in chunks of at most 64 KiB; an
/// error if the blob ends sooner (so a response never ends short silently).
pub(crate) async fn open_range(
    blobs: &BlobStore,
    key: &str,
    start: u64,
    len: u64,
) -> Result<BoxStream<'static, std::io::Result<Bytes>>, crate::WebError> {
    const CHUNK: usize = 64 * 1024;
    let (inner, skip): (BoxStream<'static, std::io::Result<Bytes>>, u64) = match blobs.local_path(key) {
        Some(path) => {
            let mut file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(crate::WebError::NotFound),
                Err(e) => return Err(crate::WebError::Internal(e.into())),
            };
            if start > 0 {
                file.seek(std::io::SeekFrom::Start(start)).await.map_err(|e| crate::WebError::Internal(e.into()))?;
            }
            (tokio_util::io::ReaderStream::with_capacity(file, CHUNK).boxed(), 0)
        }
        None => {
            let s = blobs.get_stream(key).await?;
            (s.map(|r| r.map_err(std::io::Error::other)).boxed(), start)
        }
    };
    Ok(exact(inner, skip, len))
}

/// Skips `skip` bytes, then yields exactly `len` bytes (or an error).
fn exact(
    inner: BoxStream<'static, std::io::Result<Bytes>>,
    skip: u64,
    len: u64,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    futures::stream::unfold((inner, skip, len), |(mut inner, mut skip, left)| async move {
        if left == 0 {
            return None;
        }
        loop {
            match inner.next().await {
                None => {
                    let e =
                        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "blob shorter than its recorded size");
                    return Some((Err(e), (inner, skip, 0)));
                }
                Some(Err(e)) => return Some((Err(e), (inner, skip, 0))),
                Some(Ok(mut chunk)) => {
                    if skip >= chunk.len() as u64 {
                        skip -= chunk.len() as u64;
                        continue;
                    }
                    chunk = chunk.slice(skip as usize..);
                    skip = 0;
                    if chunk.len() as u64 > left {
                        chunk.truncate(left as usize);
                    }
                    let left = left - chunk.len() as u64;
                    return Some((Ok(chunk), (inner, skip, left)));
                }
            }
        }
    })
    .boxed()
}

/// Streams a blob with `Range` support.
pub(crate) async fn send_blob(
    blobs: &BlobStore,
    key: &str,
    content_type: &'static str,
    disposition: &str,
    headers: &HeaderMap,
    head_only: bool,
) -> Result<Response, crate::WebError> {
    let size = blob_size(blobs, key).await?;
    // If-Range would need validators we don't send (no-store): serve it all.
    let range = if headers.contains_key(header::IF_RANGE) {
        None
    } else {
        headers.get(header::RANGE).and_then(|v| v.to_str().ok())
    };
    let (status, start, len) = match parse_range(range, size) {
        RangeSpec::Full => (StatusCode::OK, 0, size),
        RangeSpec::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        RangeSpec::Unsatisfiable => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            r.headers_mut().insert(header::CONTENT_RANGE, hv(&format!("bytes */{size}"))?);
            return Ok(r);
        }
    };
    let body = if head_only || len == 0 {
        Body::empty()
    } else {
        Body::from_stream(open_range(blobs, key, start, len).await?)
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, hv(&len.to_string())?);
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_DISPOSITION, hv(disposition)?);
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(header::CONTENT_RANGE, hv(&format!("bytes {start}-{}/{size}", start + len - 1))?);
    }
    Ok(r)
}

fn hv(s: &str) -> Result<HeaderValue, crate::WebError> {
    HeaderValue::from_str(s).map_err(|e| crate::WebError::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeSpec::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(parse_range(Some("bytes=0-"), 100), Part(0, 99));
        assert_eq!(parse_range(Some("bytes=0-0"), 100), Part(0, 0));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), Part(10, 19));
        assert_eq!(parse_range(Some("bytes=90-500"), 100), Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-500"), 100), Part(0, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Full);
        assert_eq!(parse_range(Some("bytes=x-"), 100), Full);
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    }

    #[tokio::test]
    async fn exact_ranges_of_a_chunked_stream() {
        let chunks: Vec<std::io::Result<Bytes>> =
            vec![Ok(Bytes::from_static(b"abc")), Ok(Bytes::from_static(b"defg")), Ok(Bytes::from_static(b"hij"))];
        let collect = |skip, len| {
            let s = futures::stream::iter(chunks.iter().map(|c| Ok(c.as_ref().unwrap().clone())).collect::<Vec<_>>());
            async move {
                let parts: Vec<std::io::Result<Bytes>> = exact(s.boxed(), skip, len).collect().await;
                parts.into_iter().collect::<std::io::Result<Vec<Bytes>>>().map(|v| v.concat())
            }
        };
        assert_eq!(collect(0, 10).await.unwrap(), b"abcdefghij");
        assert_eq!(collect(2, 3).await.unwrap(), b"cde");
        assert_eq!(collect(4, 2).await.unwrap(), b"ef");
        assert_eq!(collect(9, 1).await.unwrap(), b"j");
        assert!(collect(5, 6).await.is_err(), "a blob shorter than announced is an error, not a short body");
    }
}
