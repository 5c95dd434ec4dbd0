//! WADO-RS frames (PS3.18 §10.4, the Frame List resource): the pixel data of
//! chosen frames, as stored. This is what web viewers (OHIF, via
//! `…/frames/1`) use to display images.
//!
//! Native little-endian data comes out as `application/octet-stream`
//! (transfer syntax Explicit VR Little Endian, whose frame bytes it is);
//! compressed data keeps its encoding, labelled with the media type registered
//! for its transfer syntax (PS3.18 §8.7.3, see [`compressed_media`]) and a
//! `transfer-syntax` parameter. No transcoding: other requests get 406.

use std::io;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::Bytes;
use futures::stream::{self, StreamExt};
use studylink_store::BlobStore;

use super::media::parse_accept;
use super::pixel_layout::{self, Layout, LayoutError};
use super::stored::Blob;
use super::wado::{Level, audit_read, instance};
use super::path_uids;
use crate::auth::Principal;
use crate::{AppState, WebError};

const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const MAX_FRAMES_PER_REQUEST: usize = 10_000;

/// The media type compressed frames of a transfer syntax are sent as (PS3.18 §8.7.3).
fn compressed_media(ts: &str) -> Option<&'static str> {
    Some(match ts {
        "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" | "1.2.840.10008.1.2.4.57" | "1.2.840.10008.1.2.4.70" => "image/jpeg",
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => "image/jls",
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => "image/jp2",
        "1.2.840.10008.1.2.4.92" | "1.2.840.10008.1.2.4.93" => "image/jpx",
        "1.2.840.10008.1.2.4.201" | "1.2.840.10008.1.2.4.202" | "1.2.840.10008.1.2.4.203" => "image/jphc",
        "1.2.840.10008.1.2.5" => "image/dicom-rle",
        _ => return None,
    })
}

fn is_native_le(ts: &str) -> bool {
    ts == "1.2.840.10008.1.2" || ts == EXPLICIT_LE
}

pub async fn frames(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series, sop, list)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    path_uids([&study, &series, &sop])?;
    let wanted = frame_list(&list)?;
    let row = instance(&state, &principal, &study, &series, &sop).await?;
    if row.frames == 0 || wanted.iter().any(|&n| n > row.frames as usize) {
        return Err(WebError::NotFound);
    }
    let ts = row.transfer_syntax.clone();
    let native = is_native_le(&ts);
    if !native && compressed_media(&ts).is_none() {
        return Err(WebError::NotAcceptable(format!(
            "frames can't be cut from instances stored as {ts}; retrieve the whole instance"
        )));
    }
    let part_type = negotiate(&headers, &ts, native)?;
    let blobs = state.ingest.blobs().clone();
    let layout = locate(&blobs, &row.blob_key, ts.clone(), native).await.map_err(|e| match e {
        LayoutError::NoPixels => WebError::NotFound,
        LayoutError::Unsupported(m) => WebError::NotAcceptable(format!("frames can't be cut from this instance: {m}; retrieve the whole instance")),
        other => WebError::Internal(anyhow::anyhow!("locating frames: {other}")),
    })?;
    if wanted.iter().any(|&n| n > layout.len()) {
        return Err(WebError::NotFound);
    }
    audit_read(&state, &principal, "dicomweb.frames", Level::Instance, std::slice::from_ref(&row));

    let label = if native { EXPLICIT_LE.to_string() } else { ts };
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let (sep, key) = (boundary.clone(), row.blob_key.clone());
    let parts = stream::iter(wanted)
        .map(move |n| {
            let (blobs, key, ranges) = (blobs.clone(), key.clone(), layout[n - 1].clone());
            let head = format!("--{sep}\r\nContent-Type: {part_type}; transfer-syntax={label}\r\n");
            async move {
                let data = read_frame(&blobs, &key, ranges).await?;
                let mut chunk = format!("{head}Content-Length: {}\r\n\r\n", data.len()).into_bytes();
                chunk.extend_from_slice(&data);
                chunk.extend_from_slice(b"\r\n");
                Ok::<_, io::Error>(Bytes::from(chunk))
            }
        })
        .buffered(2);
    let end = stream::once(std::future::ready(Ok(Bytes::from(format!("--{boundary}--\r\n")))));
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, format!("multipart/related; type=\"{part_type}\"; boundary={boundary}"))
        .body(Body::from_stream(parts.chain(end)))
        .expect("valid response"))
}

/// `1,3,5`: frame numbers, counted from 1, in the order wanted.
fn frame_list(list: &str) -> Result<Vec<usize>, WebError> {
    let bad = || WebError::BadRequest("the frame list must be comma-separated frame numbers starting at 1".into());
    let numbers: Vec<usize> = list.split(',').map(|n| n.trim().parse::<usize>().ok().filter(|&n| n >= 1)).collect::<Option<_>>().ok_or_else(bad)?;
    if numbers.is_empty() || numbers.len() > MAX_FRAMES_PER_REQUEST {
        return Err(bad());
    }
    Ok(numbers)
}

/// The media type of the parts: octet-stream, or the compressed type itself.
fn negotiate(headers: &HeaderMap, ts: &str, native: bool) -> Result<&'static str, WebError> {
    let own = if native { "application/octet-stream" } else { compressed_media(ts).unwrap_or("application/octet-stream") };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    for range in parse_accept(accept) {
        let ts_ok = |p: Option<&str>| match p {
            // No parameter means the type's default syntax; we answer with the stored one
            // rather than fail (as for instances), labelled in each part.
            None | Some("*") => true,
            Some(t) => t == ts || (native && t == EXPLICIT_LE),
        };
        match range.essence.as_str() {
            "*/*" | "multipart/*" => return Ok(own),
            "multipart/related" => {
                let ty = range.param("type").unwrap_or("application/octet-stream").to_ascii_lowercase();
                if !ts_ok(range.param("transfer-syntax")) {
                    continue;
                }
                if ty == "application/octet-stream" {
                    return Ok("application/octet-stream");
                }
                if ty == own {
                    return Ok(own);
                }
            }
            _ => {}
        }
    }
    Err(WebError::NotAcceptable(format!(
        "frames of this instance are available as multipart/related; type=\"{own}\" or type=\"application/octet-stream\", transfer syntax {ts}; there is no transcoding"
    )))
}

async fn locate(blobs: &BlobStore, key: &str, ts: String, native: bool) -> Result<Layout, LayoutError> {
    let blob = Blob::open(blobs, key).await?;
    tokio::task::spawn_blocking(move || pixel_layout::locate(blob.source()?, &ts, native))
        .await
        .map_err(|e| LayoutError::Io(io::Error::other(e)))?
}

/// One frame's bytes (frames are read one at a time, never the whole file).
async fn read_frame(blobs: &BlobStore, key: &str, ranges: Vec<(u64, u64)>) -> io::Result<Vec<u8>> {
    let blob = Blob::open(blobs, key).await?;
    tokio::task::spawn_blocking(move || pixel_layout::read_ranges(blob.source()?, &ranges)).await.map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lists() {
        assert_eq!(frame_list("1").unwrap(), vec![1]);
        assert_eq!(frame_list("3, 1,2").unwrap(), vec![3, 1, 2]);
        for bad in ["0", "", "1,,2", "a", "-1"] {
            assert!(frame_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn negotiation() {
        let h = |accept: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT, accept.parse().unwrap());
            m
        };
        let jpeg = "1.2.840.10008.1.2.4.50";
        assert_eq!(negotiate(&h("*/*"), jpeg, false).unwrap(), "image/jpeg");
        assert_eq!(negotiate(&h("multipart/related; type=application/octet-stream; transfer-syntax=*"), jpeg, false).unwrap(), "application/octet-stream");
        assert_eq!(negotiate(&h("multipart/related; type=\"image/jpeg\""), jpeg, false).unwrap(), "image/jpeg");
        assert!(negotiate(&h("multipart/related; type=\"image/jls\""), jpeg, false).is_err());
        assert!(negotiate(&h("multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"), jpeg, false).is_err());
        assert_eq!(negotiate(&h("multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"), "1.2.840.10008.1.2", true).unwrap(), "application/octet-stream");
    }
}
