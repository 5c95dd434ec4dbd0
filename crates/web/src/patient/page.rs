//! `GET /p/{token}`: the landing page itself. Server-rendered: the gallery's
//! thumbnails are plain `<img>` in the HTML (sized, so nothing shifts), every
//! download is a plain link, and `patient.js` only adds the viewer (zoom, pan,
//! video) on top.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use studylink_model::{AccountSettings, ItemKind, Share, ShareItem, TextCheck};
use studylink_store::StudyQuery;

use super::gate::{Errors, Visit, gate_form, locked_page};
use super::names::{self, What};
use super::{
    Clinic, Frame, Outcome, archive, audit, authorize, day, error_page, gone_page, not_found_page,
    page_path, preparing_page, render,
};
use crate::AppState;
use crate::pages::i18n::{self, Arg, I18n, Lang};

/// Thumbnails are rendered at most this big (`studylink_imaging::THUMBNAIL_SIZE`).
const THUMB_SIZE: u32 = 256;
/// Thumbnails loaded at once; the rest wait until scrolled near (`loading=lazy`).
const EAGER_THUMBS: usize = 6;

pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    method: Method,
) -> Response {
    let outcome = match authorize(&state, &headers, &token).await {
        Ok(o) => o,
        Err(e) => return error_page(I18n::for_request(&headers), e),
    };
    match outcome {
        Outcome::NotFound => not_found_page(&headers),
        Outcome::Gone(share) => gone_page(&state, &share).await,
        Outcome::Preparing(share) => preparing_page(&state, &share).await,
        Outcome::Gate(share, gate) => {
            let clinic = match Clinic::load(&state, share.account_id).await {
                Ok(c) => c,
                Err(e) => return error_page(Lang::from(share.language), e),
            };
            let now = state.clock.now();
            if let Some(until) = share.locked_until.filter(|u| *u > now) {
                return locked_page(&token, &share, clinic, until, now);
            }
            let v = Visit {
                headers: &headers,
                token: &token,
                share: &share,
                secure: state.config.secure_cookies,
            };
            gate_form(StatusCode::OK, &v, &gate, clinic, Errors::default())
        }
        Outcome::Open(share) => {
            match landing(&state, &token, &share, method == Method::GET).await {
                Ok(resp) => resp,
                Err(e) => error_page(Lang::from(share.language), e),
            }
        }
    }
}

/// One download link.
pub(crate) struct DlView {
    pub href: String,
    pub label: String,
    pub size: String,
}

pub(crate) struct ItemView {
    /// 0-based, for the viewer.
    pub index: usize,
    /// "Image 1 of 3".
    pub label: String,
    pub kind: &'static str,
    /// What tapping the thumbnail opens (the JPEG, the MP4, the document).
    pub open_href: Option<String>,
    /// Documents open in a new tab.
    pub new_tab: bool,
    pub thumb: Option<String>,
    pub tw: u32,
    pub th: u32,
    pub eager: bool,
    /// A cine's first frame, the video's poster.
    pub poster: Option<String>,
    /// A cine whose MP4 is still being encoded (it opens as its first frame).
    pub video_pending: bool,
    /// Held back until its text check passes: what the page asks for to
    /// know when (the thumbnail, 404 until then).
    pub checking: Option<String>,
    /// Held back for good: its text check failed.
    pub withheld: bool,
    pub downloads: Vec<DlView>,
}

#[derive(Template)]
#[template(path = "patient/page.html")]
struct LandingPage {
    f: Frame,
    exam_date: Option<String>,
    exam_description: Option<String>,
    items: Vec<ItemView>,
    zip_href: String,
    zip_size: String,
    expires: String,
    has_video: bool,
    /// Some loop's MP4 is still being encoded: the page says so and
    /// reloads itself (patient.js) when nothing is open.
    videos_pending: bool,
    /// Some image is still being checked for text: the page says so, offers
    /// no ZIP yet, and reloads itself when it is ready.
    checks_pending: bool,
}

/// "Image 1 of 3", "Video 2 of 3"…
pub(crate) fn item_label(lang: Lang, kind: ItemKind, n: usize, total: usize) -> String {
    let id = match kind {
        ItemKind::Image => "patient-item-image",
        ItemKind::Cine => "patient-item-cine",
        ItemKind::Document => "patient-item-document",
        ItemKind::Other => "patient-item-other",
    };
    i18n::t_args(
        lang,
        id,
        &[
            ("n", Arg::from(n as i64)),
            ("total", Arg::from(total as i64)),
        ],
    )
}

/// What each download link says.
pub(crate) fn what_label(lang: Lang, what: What) -> String {
    i18n::t(
        lang,
        match what {
            What::Jpg => "patient-dl-jpg",
            What::Mp4 => "patient-dl-mp4",
            What::Dcm => "patient-dl-dcm",
            What::Doc | What::Thumb => "patient-dl-doc",
        },
    )
}

/// The thumbnail's size: the item's aspect ratio within 256×256.
fn thumb_dims(item: &ShareItem) -> (u32, u32) {
    match (item.columns, item.rows) {
        (Some(c), Some(r)) if c > 0 && r > 0 => {
            let (c, r) = (c as u64, r as u64);
            let long = c.max(r);
            let scale = |v: u64| ((v * THUMB_SIZE as u64).div_ceil(long)).max(1) as u32;
            if long <= THUMB_SIZE as u64 {
                (c as u32, r as u32)
            } else {
                (scale(c), scale(r))
            }
        }
        _ => (THUMB_SIZE, THUMB_SIZE * 3 / 4),
    }
}

pub(crate) fn file_href(token: &str, position: i32, what: What) -> String {
    format!("{}/f/{position}/{}", page_path(token), what.as_str())
}

async fn landing(
    state: &AppState,
    token: &str,
    share: &Share,
    count_view: bool,
) -> Result<Response, crate::WebError> {
    let lang = Lang::from(share.language);
    let settings = state.store.account_settings(share.account_id).await?;
    let clinic = Clinic::new(share.account_id, &settings);
    let items = state.store.share_items(share.id).await?;
    let (exam_date, exam_description) = exam_facts(state, share, &settings, lang).await?;
    let total = items.len();
    let views: Vec<ItemView> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let has = |w| names::item_file(item, w, total).is_some();
            let open = match item.kind {
                ItemKind::Image if has(What::Jpg) => Some(What::Jpg),
                ItemKind::Cine if has(What::Mp4) => Some(What::Mp4),
                ItemKind::Cine if has(What::Jpg) => Some(What::Jpg),
                ItemKind::Document if has(What::Doc) => Some(What::Doc),
                _ => None,
            };
            let doc_inline = names::item_file(item, What::Doc, total).is_some_and(|f| f.inline_ok);
            let open_href = open.map(|w| {
                let href = file_href(token, item.position, w);
                if w == What::Doc && !doc_inline {
                    format!("{href}?dl=1")
                } else {
                    href
                }
            });
            let (tw, th) = thumb_dims(item);
            ItemView {
                index: i,
                label: item_label(lang, item.kind, i + 1, total),
                kind: item.kind.as_str(),
                open_href,
                new_tab: item.kind == ItemKind::Document,
                thumb: has(What::Thumb).then(|| file_href(token, item.position, What::Thumb)),
                tw,
                th,
                eager: i < EAGER_THUMBS,
                video_pending: item.video_pending,
                checking: (item.text_check == TextCheck::Pending)
                    .then(|| file_href(token, item.position, What::Thumb)),
                withheld: item.text_check == TextCheck::Failed,
                poster: (item.kind == ItemKind::Cine && has(What::Jpg))
                    .then(|| file_href(token, item.position, What::Jpg)),
                downloads: names::downloads(item, total)
                    .into_iter()
                    .map(|f| DlView {
                        href: format!("{}?dl=1", file_href(token, item.position, f.what)),
                        label: what_label(lang, f.what),
                        size: f
                            .size
                            .map(|s| names::human_size(lang, s))
                            .unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    // The ZIP's size from the recorded sizes: what the archive will hold, give
    // or take the few kilobytes of headers and its index page.
    let zip_bytes: u64 = archive::recorded_size(&items);
    let has_video = items.iter().any(|i| i.mp4_key.is_some() || i.video_pending);
    let checks_pending = items.iter().any(|i| i.text_check == TextCheck::Pending);
    // A loop still being checked has no video to wait for yet.
    let videos_pending = items.iter().any(|i| i.video_pending && i.text_check.shows());
    let name = clinic.name.clone();
    let expires = i18n::t_args(
        lang,
        "patient-expires",
        &[
            ("date", Arg::from(day(lang, clinic.tz, share.expires_at))),
            ("clinic", Arg::from(name)),
        ],
    );
    let f = Frame {
        lang,
        clinic: Some(clinic),
        title: i18n::t(lang, "patient-title"),
    };
    let page = LandingPage {
        f,
        exam_date,
        exam_description,
        items: views,
        zip_href: format!("{}/all.zip", page_path(token)),
        zip_size: names::human_size(lang, zip_bytes),
        expires,
        has_video,
        videos_pending,
        checks_pending,
    };
    let resp = render(StatusCode::OK, &page);
    if count_view && resp.status() == StatusCode::OK {
        let now = state.clock.now();
        if let Err(e) = state.store.record_share_view(share.id, now).await {
            tracing::warn!(error = %e, share = %share.id, "could not count a landing page view");
        }
        audit(state, share, "share.viewed", serde_json::json!({})).await;
    }
    Ok(resp)
}

/// The exam's date and description, only as far as the clinic's settings say
/// the landing page may show them. Never anything about the patient.
pub(crate) async fn exam_facts(
    state: &AppState,
    share: &Share,
    settings: &AccountSettings,
    lang: Lang,
) -> Result<(Option<String>, Option<String>), crate::WebError> {
    if !settings.landing_show_study_date && !settings.landing_show_study_description {
        return Ok((None, None));
    }
    let Some(row) = find_study(state, share).await? else {
        return Ok((None, None));
    };
    let date = settings
        .landing_show_study_date
        .then(|| row.date.as_deref().and_then(crate::pages::format::parse_da))
        .flatten()
        .map(|d| crate::pages::format::date(lang, d));
    let description = settings
        .landing_show_study_description
        .then(|| {
            row.description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned)
        })
        .flatten();
    Ok((date, description))
}

/// The share's study row.
async fn find_study(
    state: &AppState,
    share: &Share,
) -> Result<Option<studylink_store::StudyRow>, crate::WebError> {
    let q = StudyQuery {
        id: Some(share.study_id),
        ..StudyQuery::default()
    };
    Ok(state
        .store
        .query_studies(share.account_id, &q)
        .await?
        .into_iter()
        .next())
}

#[cfg(test)]
mod tests {
    use super::*;
    use studylink_model::{InstanceId, ShareId};

    #[test]
    fn thumbnails_keep_the_aspect_ratio() {
        let mut item = ShareItem {
            share_id: ShareId(1),
            position: 0,
            source_instance_id: InstanceId(1),
            kind: ItemKind::Image,
            password_reason: None,
            sop_instance_uid: String::new(),
            dicom_key: String::new(),
            dicom_size: 0,
            jpeg_key: None,
            jpeg_size: None,
            thumb_key: None,
            mp4_key: None,
            mp4_size: None,
            doc_key: None,
            doc_size: None,
            doc_content_type: None,
            rows: Some(768),
            columns: Some(1024),
            frames: 1,
            frame_ms: None,
            video_pending: false,
            text_check: studylink_model::TextCheck::None,
        };
        assert_eq!(thumb_dims(&item), (256, 192));
        item.rows = Some(100);
        item.columns = Some(50);
        assert_eq!(
            thumb_dims(&item),
            (50, 100),
            "small images are not enlarged"
        );
        item.rows = None;
        assert_eq!(thumb_dims(&item), (256, 192));
    }

    #[test]
    fn labels() {
        assert_eq!(item_label(Lang::En, ItemKind::Image, 1, 3), "Image 1 of 3");
        assert_eq!(item_label(Lang::Es, ItemKind::Cine, 2, 3), "Vídeo 2 de 3");
    }
}
