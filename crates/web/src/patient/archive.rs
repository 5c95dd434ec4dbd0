//! `GET /p/{token}/all.zip`: every file of the share in one ZIP, streamed as
//! it is written ([`super::zip`]): `images/` (JPEGs), `videos/` (MP4s),
//! `documents/`, `dicom/` (the de-identified originals) and an `index.html`
//! that shows them offline, in the patient's language, with relative links.
//!
//! Memory stays bounded whatever the share's size: one blob is read at a time
//! in 64 KiB chunks, through a channel of a few chunks to the response.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use studylink_model::{Share, ShareItem};
use studylink_store::BlobStore;

use super::files::{blob_size, open_range};
use super::names::{self, What};
use super::page::{exam_facts, item_label, what_label};
use super::zip::{DosTime, ZipOptions, ZipWriter, archive_len};
use super::{Clinic, Outcome, audit, authorize, day};
use crate::AppState;
use crate::pages::i18n::{self, Arg, Lang};

/// Chunks in flight between the blob reader and the socket.
const CHANNEL_CHUNKS: usize = 4;

/// Where an entry's bytes come from.
enum Source {
    Mem(Bytes),
    Blob(String),
}

struct Entry {
    name: String,
    size: u64,
    source: Source,
}

/// The folder and kind of file an entry is, in the archive's order.
const LAYOUT: [(What, &str); 4] = [
    (What::Jpg, "images"),
    (What::Mp4, "videos"),
    (What::Doc, "documents"),
    (What::Dcm, "dicom"),
];

/// The archive's entries (without `index.html`): `(name, blob key, recorded size)`.
fn files_of(items: &[ShareItem]) -> Vec<(String, String, Option<u64>)> {
    let total = items.len();
    let mut out = Vec::new();
    for (what, folder) in LAYOUT {
        for item in items {
            if let Some(f) = names::item_file(item, what, total) {
                out.push((format!("{folder}/{}", f.file_name), f.key, f.size));
            }
        }
    }
    out
}

/// What the ZIP will weigh, from the sizes recorded when the share was
/// prepared (the landing page shows it; the response's own length is exact).
pub(crate) fn recorded_size(items: &[ShareItem]) -> u64 {
    let files = files_of(items);
    let entries = files.iter().map(|(n, _, s)| (n.as_str(), s.unwrap_or(0)));
    archive_len(entries, ZipOptions::default()) + 8 * 1024
}

pub(crate) struct OfflineItem {
    pub label: String,
    /// `images/image-01.jpg`
    pub jpg: Option<String>,
    pub mp4: Option<String>,
    pub doc: Option<String>,
    pub dcm: String,
    pub tw: u32,
    pub th: u32,
    /// (relative href, link text)
    pub links: Vec<(String, String)>,
}

/// The archive's `index.html`: opens from the unzipped folder without a
/// network, shows the pictures and videos, links every file.
#[derive(Template)]
#[template(path = "patient/offline.html")]
struct OfflinePage {
    lang: Lang,
    title: String,
    clinic: String,
    exam_date: Option<String>,
    exam_description: Option<String>,
    intro: String,
    dicom_note: String,
    expires: String,
    items: Vec<OfflineItem>,
}

impl OfflinePage {
    fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

fn offline_items(lang: Lang, items: &[ShareItem]) -> Vec<OfflineItem> {
    let total = items.len();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = |what: What| {
                let folder = LAYOUT
                    .iter()
                    .find(|(w, _)| *w == what)
                    .map(|(_, f)| *f)
                    .unwrap_or("files");
                names::item_file(item, what, total).map(|f| format!("{folder}/{}", f.file_name))
            };
            let (tw, th) = match (item.columns, item.rows) {
                (Some(c), Some(r)) if c > 0 && r > 0 => (c as u32, r as u32),
                _ => (4, 3),
            };
            let links = names::downloads(item, total)
                .into_iter()
                .filter_map(|f| path(f.what).map(|p| (p, what_label(lang, f.what))))
                .collect();
            OfflineItem {
                label: item_label(lang, item.kind, i + 1, total),
                jpg: path(What::Jpg),
                mp4: path(What::Mp4),
                doc: path(What::Doc),
                dcm: path(What::Dcm).unwrap_or_default(),
                tw,
                th,
                links,
            }
        })
        .collect()
}

/// The ZIP's name as the browser saves it.
fn zip_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "images.zip",
        Lang::Es => "imagenes.zip",
    }
}

pub async fn download(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    method: Method,
) -> Response {
    let share = match authorize(&state, &headers, &token).await {
        Ok(Outcome::Open(share)) => share,
        Ok(Outcome::NotFound) => return (StatusCode::NOT_FOUND, "not found").into_response(),
        Ok(Outcome::Gone(_)) => return (StatusCode::GONE, "this link has expired").into_response(),
        Ok(Outcome::Preparing(_)) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "5")],
                "still being prepared",
            )
                .into_response();
        }
        Ok(Outcome::Gate(..)) => return (StatusCode::FORBIDDEN, "password needed").into_response(),
        Err(e) => return e.into_response(),
    };
    match build(&state, &share, method == Method::HEAD).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn build(
    state: &AppState,
    share: &Share,
    head_only: bool,
) -> Result<Response, crate::WebError> {
    let lang = Lang::from(share.language);
    let settings = state.store.account_settings(share.account_id).await?;
    let clinic = Clinic::new(share.account_id, &settings);
    let items = state.store.share_items(share.id).await?;
    let (exam_date, exam_description) = exam_facts(state, share, &settings, lang).await?;
    let blobs = state.ingest.blobs().clone();

    let page = OfflinePage {
        lang,
        title: i18n::t(lang, "patient-title"),
        exam_date,
        exam_description,
        intro: i18n::t_args(
            lang,
            "patient-offline-intro",
            &[("clinic", Arg::from(clinic.name.clone()))],
        ),
        dicom_note: i18n::t(lang, "patient-about-dcm"),
        expires: i18n::t_args(
            lang,
            "patient-offline-saved",
            &[("date", Arg::from(day(lang, clinic.tz, state.clock.now())))],
        ),
        clinic: clinic.name.clone(),
        items: offline_items(lang, &items),
    };
    let index = Bytes::from(
        page.render()
            .map_err(|e| crate::WebError::Internal(e.into()))?,
    );

    let mut entries = vec![Entry {
        name: "index.html".into(),
        size: index.len() as u64,
        source: Source::Mem(index),
    }];
    for (name, key, _) in files_of(&items) {
        let size = blob_size(&blobs, &key).await?;
        entries.push(Entry {
            name,
            size,
            source: Source::Blob(key),
        });
    }
    let options = ZipOptions::default();
    let total = archive_len(entries.iter().map(|e| (e.name.as_str(), e.size)), options);
    let time = chrono::DateTime::from_timestamp_millis(state.clock.now())
        .map(|t| DosTime::from_naive(t.with_timezone(&clinic.tz).naive_local()))
        .unwrap_or(DosTime { time: 0, date: 33 });

    let body = if head_only {
        Body::empty()
    } else {
        let now = state.clock.now();
        if let Err(e) = state.store.record_share_download(share.id, now).await {
            tracing::warn!(error = %e, share = %share.id, "could not count a download");
        }
        audit(
            state,
            share,
            "share.downloaded",
            serde_json::json!({ "what": "zip", "files": entries.len() - 1 }),
        )
        .await;
        let (tx, rx) = futures::channel::mpsc::channel::<std::io::Result<Bytes>>(CHANNEL_CHUNKS);
        let share_id = share.id;
        tokio::spawn(async move {
            let mut tx = tx;
            if let Err(e) = write_zip(&blobs, entries, time, options, &mut tx).await {
                // The client has gone, or a blob could not be read: the
                // response then ends short of its Content-Length, which
                // browsers report as a failed download.
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    tracing::warn!(error = %e, share = %share_id, "ZIP download stopped");
                    let _ = tx.send(Err(e)).await;
                }
            }
        });
        Body::from_stream(rx)
    };
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", zip_name(lang)))
            .map_err(|e| crate::WebError::Internal(e.into()))?,
    );
    Ok(r)
}

type Tx = futures::channel::mpsc::Sender<std::io::Result<Bytes>>;

async fn send(tx: &mut Tx, b: Bytes) -> std::io::Result<()> {
    tx.send(Ok(b))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
}

async fn write_zip(
    blobs: &BlobStore,
    entries: Vec<Entry>,
    time: DosTime,
    options: ZipOptions,
    tx: &mut Tx,
) -> std::io::Result<()> {
    let zip_err = |e: super::zip::ZipError| std::io::Error::other(e.to_string());
    let mut w = ZipWriter::new(time, options);
    for e in entries {
        send(tx, w.start_entry(&e.name, e.size).map_err(zip_err)?).await?;
        match e.source {
            Source::Mem(b) => {
                w.data(&b).map_err(zip_err)?;
                send(tx, b).await?;
            }
            Source::Blob(key) => {
                let mut stream = open_range(blobs, &key, 0, e.size)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    w.data(&chunk).map_err(zip_err)?;
                    send(tx, chunk).await?;
                }
            }
        }
        send(tx, w.finish_entry().map_err(zip_err)?).await?;
    }
    send(tx, w.finish().map_err(zip_err)?).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_model::{InstanceId, ItemKind, ShareId};

    fn item(kind: ItemKind, position: i32) -> ShareItem {
        let base = format!("shares/1/1/{position}");
        ShareItem {
            share_id: ShareId(1),
            position,
            source_instance_id: InstanceId(1),
            kind,
            password_reason: None,
            sop_instance_uid: "2.25.9".into(),
            dicom_key: format!("{base}.dcm"),
            dicom_size: 10,
            jpeg_key: matches!(kind, ItemKind::Image | ItemKind::Cine)
                .then(|| format!("{base}.jpg")),
            jpeg_size: Some(5),
            thumb_key: None,
            mp4_key: (kind == ItemKind::Cine).then(|| format!("{base}.mp4")),
            mp4_size: Some(7),
            doc_key: (kind == ItemKind::Document).then(|| format!("{base}.pdf")),
            doc_size: Some(3),
            doc_content_type: Some("application/pdf".into()),
            rows: None,
            columns: None,
            frames: 1,
            frame_ms: None,
            video_pending: false,
            text_check: studylink_model::TextCheck::None,
        }
    }

    #[test]
    fn layout_by_folder() {
        let items = [
            item(ItemKind::Image, 0),
            item(ItemKind::Cine, 1),
            item(ItemKind::Document, 2),
            item(ItemKind::Other, 3),
        ];
        let names: Vec<String> = files_of(&items).into_iter().map(|(n, _, _)| n).collect();
        assert_eq!(
            names,
            [
                "images/image-01.jpg",
                "images/cine-02.jpg",
                "videos/cine-02.mp4",
                "documents/report-03.pdf",
                "dicom/image-01.dcm",
                "dicom/cine-02.dcm",
                "dicom/report-03.dcm",
                "dicom/file-04.dcm",
            ]
        );
        let offline = offline_items(Lang::En, &items);
        assert_eq!(offline[1].mp4.as_deref(), Some("videos/cine-02.mp4"));
        assert_eq!(offline[2].doc.as_deref(), Some("documents/report-03.pdf"));
        assert_eq!(
            offline[3].links,
            [(
                "dicom/file-04.dcm".to_string(),
                "For doctors (DICOM)".to_string()
            )]
        );
    }
}
