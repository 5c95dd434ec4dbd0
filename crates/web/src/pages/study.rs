//! `/studies/{StudyInstanceUID}`: one study. Every instance as a thumbnail
//! (grouped by series), a viewer for a larger image or a cine loop, the
//! selection that "Send to patient" will send, and the Info / Shared panel.
//!
//! The page works without script (thumbnails, checkboxes, the Send form, the
//! Info panel); `study.js` adds the viewer, shift-click ranges, select all,
//! the Send to menu and the tabs.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use studylink_model::{Contact, ContactKind};
use studylink_store::{InstanceQuery, InstanceRow, Page, SeriesQuery, SeriesRow, StudyQuery, StudyRow};

use super::format;
use super::i18n::{self, Arg};
use super::layout::{Chrome, error_page_with, render};
use super::links;
use crate::auth::StaffUser;
use crate::{AppState, WebError};

/// Enough for any real study; beyond this the page would be unusable anyway.
const MAX_INSTANCES: i64 = 5_000;

const SR_CLASS_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.88.";
const PDF_CLASS: &str = "1.2.840.10008.5.1.4.1.1.104.1";

struct Thumb {
    sop: String,
    /// `/dicomweb/…/instances/{sop}`, for the viewer's rendered URLs.
    base: String,
    thumb: String,
    number: String,
    frames: i64,
    /// None for images; the kind's label for reports and documents.
    document: Option<String>,
    /// Hidden start of the button's name ("View image"); the visible number
    /// and badge complete it, so what is read matches what is shown.
    verb: String,
    select_label: String,
    alt: String,
    badge: String,
}

struct SeriesGroup {
    heading: String,
    detail: String,
    thumbs: Vec<Thumb>,
}

struct Field {
    label: String,
    value: String,
}

struct ContactLine {
    kind: String,
    value: String,
}

#[derive(Template)]
#[template(path = "study.html")]
struct StudyPage {
    c: Chrome,
    title: String,
    subtitle: String,
    send_href: String,
    groups: Vec<SeriesGroup>,
    total: i64,
    patient: Vec<Field>,
    study: Vec<Field>,
    contacts: Vec<ContactLine>,
    /// `data-*` strings for study.js, already in the page's language.
    /// The Shared tab: "Last sent …" and the study's links, newest first.
    last_sent: Option<String>,
    shares: Vec<super::shares::ShareView>,
    selected_one: String,
    selected_many: String,
    viewer_frame: String,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    staff: StaffUser,
    Path(uid): Path<String>,
) -> Result<Response, WebError> {
    let account = staff.user.account_id;
    let c = Chrome::staff(&headers, &uri, &staff, "studies");
    let Some(study) = find_study(&state, account, &uid).await? else {
        return Ok(not_found(c));
    };
    let series = state
        .store
        .query_series(account, &SeriesQuery { study_uid: Some(uid.clone()), page: Page { limit: 10_000, offset: 0 }, ..Default::default() })
        .await?;
    let instances = state
        .store
        .query_instances(
            account,
            &InstanceQuery { study_uid: Some(uid.clone()), page: Page { limit: MAX_INSTANCES, offset: 0 }, ..Default::default() },
        )
        .await?;
    let contacts = state.store.study_contacts(account, &uid).await?;
    let (last_sent, shares) = super::shares::study_shares(&state, &c, account, &study).await?;

    let tpl = StudyPage {
        title: study.patient_name.as_deref().map(format::person_name).filter(|n| !n.is_empty()).unwrap_or_else(|| c.t("studies-no-name")),
        subtitle: [c.date(&study.date), study.modalities.join(", "), study.description.clone().unwrap_or_default()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
        send_href: links::send_page(&uid),
        groups: groups(&c, &series, &instances),
        total: instances.len() as i64,
        patient: patient_fields(&c, &study),
        study: study_fields(&c, &study),
        contacts: contacts.iter().map(|ct| contact_line(&c, ct)).collect(),
        last_sent,
        shares,
        selected_one: c.t("study-selected-one"),
        selected_many: c.t1("study-selected-many", "count", "{n}"),
        viewer_frame: i18n::t_args(c.lang, "viewer-frame", &[("n", Arg::from("{n}")), ("total", Arg::from("{total}"))]),
        c,
    };
    Ok(render(StatusCode::OK, &tpl))
}

pub async fn find_study(state: &AppState, account: studylink_model::AccountId, uid: &str) -> Result<Option<StudyRow>, WebError> {
    // A UID list ("a,b") would match several studies: this page is about one.
    if uid.is_empty() || uid.contains([',', '\\', '*', '?']) {
        return Ok(None);
    }
    let rows = state.store.query_studies(account, &StudyQuery { study_uid: Some(uid.to_owned()), ..Default::default() }).await?;
    Ok(rows.into_iter().find(|r| r.study_uid == uid))
}

pub fn not_found(c: Chrome) -> Response {
    let (title, message, back) = (c.t("study-not-found-title"), c.t("study-not-found"), c.t("study-back"));
    error_page_with(c, StatusCode::NOT_FOUND, title, message, ("/", back))
}

fn groups(c: &Chrome, series: &[SeriesRow], instances: &[InstanceRow]) -> Vec<SeriesGroup> {
    let mut out: Vec<SeriesGroup> = Vec::new();
    for se in series {
        let thumbs: Vec<Thumb> =
            instances.iter().filter(|i| i.series_uid == se.series_uid).enumerate().map(|(k, i)| thumb(c, i, k)).collect();
        if thumbs.is_empty() {
            continue;
        }
        let heading = match se.number {
            Some(n) => c.t1("study-series-heading", "number", &n.to_string()),
            None => c.t("study-series-unnumbered"),
        };
        let detail = [se.modality.clone().unwrap_or_default(), se.description.clone().unwrap_or_default(), c.count("study-images-count", thumbs.len() as i64)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
        out.push(SeriesGroup { heading, detail, thumbs });
    }
    out
}

fn thumb(c: &Chrome, i: &InstanceRow, index: usize) -> Thumb {
    let number = i.number.map(|n| n.to_string()).unwrap_or_else(|| (index + 1).to_string());
    let document = (!has_pixels(i)).then(|| {
        let kind = if i.sop_class_uid.starts_with(SR_CLASS_PREFIX) {
            "study-kind-report"
        } else if i.sop_class_uid == PDF_CLASS {
            "study-kind-pdf"
        } else {
            "study-kind-document"
        };
        c.t(kind)
    });
    let frames = i.frames.max(1);
    let verb = c.t(match (&document, frames) {
        (Some(_), _) => "study-view-document",
        (None, 1) => "study-view-image",
        (None, _) => "study-view-cine",
    });
    Thumb {
        base: links::instance(&i.study_uid, &i.series_uid, &i.sop_uid),
        thumb: links::thumbnail(&i.study_uid, &i.series_uid, &i.sop_uid),
        select_label: c.t1("study-select-image", "number", &number),
        alt: c.t1("study-image", "number", &number),
        badge: c.t1("study-cine-badge", "frames", &c.num(frames)),
        sop: i.sop_uid.clone(),
        number,
        frames,
        document,
        verb,
    }
}

/// Whether the server can render the instance. Reports, PDFs and other
/// objects without pixel data get an icon instead of a thumbnail.
pub fn has_pixels(i: &InstanceRow) -> bool {
    i.rows.is_some() && i.frames > 0
}

fn field(label: String, value: String) -> Option<Field> {
    (!value.trim().is_empty()).then_some(Field { label, value })
}

fn patient_fields(c: &Chrome, s: &StudyRow) -> Vec<Field> {
    let sex = match s.patient_sex.as_deref().map(str::trim) {
        Some("F") => c.t("sex-f"),
        Some("M") => c.t("sex-m"),
        Some("O") => c.t("sex-o"),
        Some(other) => other.to_owned(),
        None => String::new(),
    };
    [
        field(c.t("study-patient-name"), s.patient_name.as_deref().map(format::person_name).unwrap_or_default()),
        field(c.t("study-patient-id"), s.patient_id.clone().unwrap_or_default()),
        field(c.t("study-birth-date"), c.date(&s.patient_birth_date)),
        field(c.t("study-sex"), sex),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn study_fields(c: &Chrome, s: &StudyRow) -> Vec<Field> {
    let when = [c.date(&s.date), c.time(&s.time)].into_iter().filter(|v| !v.is_empty()).collect::<Vec<_>>().join(" ");
    let counts = format!("{} · {}", c.count("study-series-count", s.num_series), c.count("study-images-count", s.num_instances));
    [
        field(c.t("study-date"), when),
        field(c.t("study-description"), s.description.clone().unwrap_or_default()),
        field(c.t("study-modalities"), s.modalities.join(", ")),
        field(c.t("study-accession"), s.accession.clone().unwrap_or_default()),
        field(c.t("study-id"), s.study_id.clone().unwrap_or_default()),
        field(c.t("study-referring"), s.referring_physician.as_deref().map(format::person_name).unwrap_or_default()),
        field(c.t("studies-col-images"), counts),
        field(c.t("study-received"), c.timestamp(&s.received_at)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn contact_line(c: &Chrome, ct: &Contact) -> ContactLine {
    let kind = match ct.kind {
        ContactKind::Email => c.t("contact-email"),
        ContactKind::Phone => c.t("contact-phone"),
    };
    ContactLine { kind, value: ct.value.clone() }
}
