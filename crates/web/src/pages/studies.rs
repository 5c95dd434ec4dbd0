//! `/`: the Studies screen. The search bar on top, then the clinic's studies,
//! newest first, a page at a time, each with a strip of thumbnails.
//!
//! Search words never reach the logs: the request span leaves out query
//! strings, and nothing here logs them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde::Deserialize;
use studylink_store::{DateRange, InstanceRow, Page, StudyRow, StudySearch};

use super::format;
use super::layout::{Chrome, render};
use super::links;
use crate::auth::StaffUser;
use crate::{AppState, WebError};

const PAGE_SIZE: i64 = 25;
/// Thumbnails per row of the list.
const PREVIEWS: i64 = 3;
/// The modality filter's choices: what clinics sharing with patients store.
/// Others still work typed into the URL.
pub const MODALITIES: [&str; 16] =
    ["CR", "CT", "DX", "ECG", "ES", "IO", "MG", "MR", "NM", "OT", "PT", "PX", "RF", "SR", "US", "XA"];

/// Every field is text so that a hand-edited URL never gets a 400: what
/// doesn't parse is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    q: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    modality: String,
    #[serde(default)]
    page: String,
}

impl Params {
    fn modality(&self) -> Option<String> {
        let m = self.modality.trim().to_ascii_uppercase();
        let valid = !m.is_empty() && m.len() <= 16 && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        valid.then_some(m)
    }

    fn page(&self) -> i64 {
        self.page.trim().parse::<i64>().unwrap_or(1).clamp(1, 100_000)
    }

    fn is_search(&self) -> bool {
        !self.q.trim().is_empty() || html_date(&self.from).is_some() || html_date(&self.to).is_some() || self.modality().is_some()
    }

    /// This search's URL at another page.
    fn href(&self, page: i64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.q.trim().is_empty() {
            pairs.push(("q", self.q.trim().to_owned()));
        }
        if html_date(&self.from).is_some() {
            pairs.push(("from", self.from.clone()));
        }
        if html_date(&self.to).is_some() {
            pairs.push(("to", self.to.clone()));
        }
        if let Some(m) = self.modality() {
            pairs.push(("modality", m));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        match serde_urlencoded::to_string(&pairs) {
            Ok(q) if !q.is_empty() => format!("/?{q}"),
            _ => "/".into(),
        }
    }
}

/// `<input type=date>` sends `YYYY-MM-DD`; the index holds DICOM `YYYYMMDD`.
fn html_date(v: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok().map(|d| d.format("%Y%m%d").to_string())
}

struct Item {
    href: String,
    name: String,
    patient_id: String,
    birth: String,
    date: String,
    time: String,
    modalities: String,
    description: String,
    images: i64,
    thumbs: Vec<String>,
    /// Has only reports/documents: an icon instead of thumbnails.
    documents_only: bool,
}

struct Pager {
    summary: String,
    page_of: String,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "studies.html")]
struct StudiesPage {
    c: Chrome,
    q: String,
    from: String,
    to: String,
    /// (value, selected) for the modality filter.
    modalities: Vec<(&'static str, bool)>,
    searching: bool,
    clear_href: &'static str,
    items: Vec<Item>,
    pager: Option<Pager>,
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    staff: StaffUser,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    let account = staff.user.account_id;
    let c = Chrome::staff(&headers, &uri, &staff, "studies");
    let page = p.page();
    let search = StudySearch {
        text: Some(p.q.clone()),
        date: Some(DateRange { from: html_date(&p.from), to: html_date(&p.to) }),
        modality: p.modality(),
        page: Page { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE },
    };
    let found = state.store.search_studies(account, &search).await?;
    let uids: Vec<String> = found.rows.iter().map(|r| r.study_uid.clone()).collect();
    let previews = state.store.study_previews(account, &uids, PREVIEWS).await?;
    let items = found.rows.iter().map(|r| item(&c, r, &previews)).collect();
    let pager = pager(&c, &p, page, found.total, found.rows.len() as i64);
    let tpl = StudiesPage {
        q: p.q.clone(),
        from: html_date(&p.from).map(|_| p.from.clone()).unwrap_or_default(),
        to: html_date(&p.to).map(|_| p.to.clone()).unwrap_or_default(),
        modalities: MODALITIES.iter().map(|m| (*m, p.modality().as_deref() == Some(*m))).collect(),
        searching: p.is_search(),
        clear_href: "/",
        items,
        pager,
        c,
    };
    Ok(render(StatusCode::OK, &tpl))
}

fn item(c: &Chrome, r: &StudyRow, previews: &[InstanceRow]) -> Item {
    let mine: Vec<&InstanceRow> = previews.iter().filter(|i| i.study_uid == r.study_uid).collect();
    let thumbs: Vec<String> = mine
        .iter()
        .filter(|i| super::study::has_pixels(i))
        .map(|i| links::thumbnail(&i.study_uid, &i.series_uid, &i.sop_uid))
        .collect();
    Item {
        href: links::study_page(&r.study_uid),
        name: r.patient_name.as_deref().map(format::person_name).unwrap_or_default(),
        patient_id: r.patient_id.clone().unwrap_or_default(),
        birth: c.date(&r.patient_birth_date),
        date: c.date(&r.date),
        time: c.time(&r.time),
        modalities: r.modalities.join(", "),
        description: r.description.clone().unwrap_or_default(),
        images: r.num_instances,
        documents_only: thumbs.is_empty() && !mine.is_empty(),
        thumbs,
    }
}

fn pager(c: &Chrome, p: &Params, page: i64, total: i64, shown: i64) -> Option<Pager> {
    if total == 0 {
        return None;
    }
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let first = (page - 1) * PAGE_SIZE + 1;
    let summary = if shown == 0 || pages == 1 {
        c.count("studies-count", total)
    } else {
        super::i18n::t_args(
            c.lang,
            "studies-range",
            &[
                ("first", c.num(first).into()),
                ("last", c.num(first + shown - 1).into()),
                ("total", c.count("studies-count", total).into()),
            ],
        )
    };
    Some(Pager {
        summary,
        page_of: super::i18n::t_args(
            c.lang,
            "studies-page-of",
            &[("page", c.num(page).into()), ("pages", c.num(pages).into())],
        ),
        prev: (page > 1).then(|| p.href((page - 1).min(pages))),
        next: (page < pages).then(|| p.href(page + 1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_urls_keep_the_search() {
        let p = Params { q: " garcía ana ".into(), modality: "us".into(), from: "2024-01-31".into(), to: "junk".into(), ..Default::default() };
        assert_eq!(p.href(2), "/?q=garc%C3%ADa+ana&from=2024-01-31&modality=US&page=2");
        assert_eq!(p.href(1), "/?q=garc%C3%ADa+ana&from=2024-01-31&modality=US");
        assert_eq!(Params::default().href(1), "/");
        assert!(p.is_search());
        assert!(!Params { page: "3".into(), ..Default::default() }.is_search());
    }

    #[test]
    fn lenient_parameters() {
        let p = Params { page: "-4".into(), modality: "<x>".into(), ..Default::default() };
        assert_eq!(p.page(), 1);
        assert_eq!(p.modality(), None);
        assert_eq!(html_date("2024-02-30"), None);
        assert_eq!(html_date("2024-02-29").as_deref(), Some("20240229"));
    }
}
