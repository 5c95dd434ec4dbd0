//! CSS, JS and icons embedded in the binary and served from `/static/{name}`.
//! URLs carry `?v=<content hash>`, so browsers may cache them for a year and a
//! new build is still picked up at once.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
    ("upload.js", "text/javascript; charset=utf-8", include_bytes!("../../static/upload.js")),
    ("study.js", "text/javascript; charset=utf-8", include_bytes!("../../static/study.js")),
    ("send.js", "text/javascript; charset=utf-8", include_bytes!("../../static/send.js")),
    ("patient.css", "text/css; charset=utf-8", include_bytes!("../../static/patient.css")),
    ("patient.js", "text/javascript; charset=utf-8", include_bytes!("../../static/patient.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../static/favicon.svg")),
];

/// content type, bytes, short content hash.
type Entry = (&'static str, &'static [u8], String);

static INDEX: LazyLock<HashMap<&'static str, Entry>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, ctype, bytes)| (*name, (*ctype, *bytes, hex::encode(&Sha256::digest(bytes)[..6]))))
        .collect()
});

/// The cache-busting URL of a static file.
pub fn url(name: &str) -> String {
    match INDEX.get(name) {
        Some((_, _, hash)) => format!("/static/{name}?v={hash}"),
        None => {
            tracing::warn!(name, "unknown static file");
            format!("/static/{name}")
        }
    }
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let Some((ctype, bytes, _)) = INDEX.get(name.as_str()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        *bytes,
    )
        .into_response()
}
