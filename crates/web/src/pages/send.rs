//! The "Send to patient" dialog, `/studies/{uid}/send`.
//!
//! The study view posts its selection here (or staff open it for the whole
//! study). The dialog is pre-filled with the contacts the device entered,
//! checks what staff type (E.164 with the clinic's country code, email typos),
//! and follows the seed's rules: a study whose link is still active gets that
//! same link re-sent to the same contacts; an expired link can't be renewed
//! and offers a new one in one click; different contacts always mean a new link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use studylink_model::{AccountSettings, ContactKind, Language, Share};
use studylink_notify::{CountryCode, PatientContacts};
use studylink_share::{Requester, ShareError};

use super::i18n::{self, Arg};
use super::layout::{Chrome, render};
use super::{links, shares, study};
use crate::auth::{StaffForm, StaffUser};
use crate::{AppState, WebError};

#[derive(Template)]
#[template(path = "send.html")]
struct SendPage {
    c: Chrome,
    back: String,
    action: String,
    /// SOP Instance UIDs; empty = the whole study.
    instances: Vec<String>,
    summary: String,
    contacts: String,
    error: Option<String>,
    warnings: Vec<String>,
    languages: Vec<(&'static str, String, bool)>,
    /// Sentences about channels that only reach the Outbox page.
    delivery_notes: Vec<String>,
    /// The study's newest link, while it is active: Send re-sends it.
    active: Option<ShareLine>,
    /// The study's newest link, when it expired (or was revoked).
    expired: Option<ShareLine>,
}

struct ShareLine {
    sentence: String,
    resend_action: String,
    /// The expired link's contacts and images, for "send a new link".
    contacts: String,
    instances: Vec<String>,
    language: &'static str,
}

/// GET: the whole study.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    staff: StaffUser,
    Path(uid): Path<String>,
) -> Result<Response, WebError> {
    let c = Chrome::staff(&headers, &uri, &staff, "studies");
    show(&state, c, &staff, &uid, Vec::new(), None, None, None, StatusCode::OK).await
}

/// POST from the study view: `csrf` plus one `instances` field per checked thumbnail.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(uid): Path<String>,
    form: StaffForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let instances = values(&form.form, "instances");
    let c = Chrome::staff(&headers, &uri, &form.staff, "studies");
    show(&state, c, &form.staff, &uid, instances, None, None, None, StatusCode::OK).await
}

/// POST `/studies/{uid}/send/create`: the dialog's Send button.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(uid): Path<String>,
    form: StaffForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let staff = &form.staff;
    let c = Chrome::staff(&headers, &uri, staff, "studies");
    let instances = values(&form.form, "instances");
    let input = values(&form.form, "contacts").into_iter().next().unwrap_or_default();
    let language = values(&form.form, "language").first().and_then(|l| Language::parse(l));
    let account = staff.user.account_id;
    let settings = state.store.account_settings(account).await?;
    let contacts = match PatientContacts::parse(&input, clinic_country(&settings)) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.message(notify_lang(c.lang));
            return show(&state, c, staff, &uid, instances, Some(input), Some(msg), language, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let Some(study_row) = study::find_study(&state, account, &uid).await? else {
        return Ok(study::not_found(c));
    };
    let language = language.or(settings.default_language).unwrap_or(Language::En);
    let by = requester(staff);
    // Same contacts as the study's active link: the seed's "send again" re-sends it.
    let newest = state.store.shares_for_study(account, study_row.id).await?.into_iter().next();
    // A different selection is a different set of images: that needs its own link.
    if let Some(s) = newest.filter(|s| s.is_active(state.clock.now()) && same_contacts(s, &contacts))
        && (instances.is_empty() || same_set(&instances, &shares::instance_uids(&state, account, &uid, &s).await?))
    {
        return match state.shares.resend(account, s.id, &by).await {
            Ok(s) => Ok(Redirect::to(&links::share_page(&uid, s.id.0)).into_response()),
            Err(e) => Err(share_error(e)),
        };
    }
    match state.shares.create(account, &uid, &instances, &contacts, language, &by).await {
        Ok(share) => Ok(Redirect::to(&links::share_page(&uid, share.id.0)).into_response()),
        Err(ShareError::UnknownInstance | ShareError::Empty) => {
            let msg = c.t("send-error-images");
            show(&state, c, staff, &uid, Vec::new(), Some(input), Some(msg), Some(language), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(ShareError::StudyNotFound) => Ok(study::not_found(c)),
        Err(e) => Err(share_error(e)),
    }
}

pub fn requester(staff: &StaffUser) -> Requester {
    Requester { actor: studylink_model::Actor::User(staff.user.id), label: staff.user.email.clone() }
}

pub fn share_error(e: ShareError) -> WebError {
    match e {
        ShareError::Store(s) => WebError::from(s),
        other => WebError::Internal(anyhow::anyhow!("{other}")),
    }
}

/// The clinic's country for numbers typed without `+`. Until an admin sets it,
/// Spain, whose clinics this product was first built for; Settings says so.
pub fn clinic_country(settings: &AccountSettings) -> CountryCode {
    settings
        .country_code
        .and_then(|code| format!("+{code}").parse().ok())
        .unwrap_or(CountryCode::SPAIN)
}

pub fn notify_lang(lang: super::i18n::Lang) -> studylink_notify::Lang {
    match lang {
        super::i18n::Lang::En => studylink_notify::Lang::En,
        super::i18n::Lang::Es => studylink_notify::Lang::Es,
    }
}

fn same_contacts(share: &Share, contacts: &PatientContacts) -> bool {
    share.email.as_deref() == contacts.email().map(|e| e.as_str())
        && share.phone.as_deref() == contacts.phone().map(|p| p.as_str())
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

fn values(form: &[(String, String)], key: &str) -> Vec<String> {
    form.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    c: Chrome,
    staff: &StaffUser,
    uid: &str,
    instances: Vec<String>,
    typed: Option<String>,
    error: Option<String>,
    language: Option<Language>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let account = staff.user.account_id;
    let Some(study_row) = study::find_study(state, account, uid).await? else {
        return Ok(study::not_found(c));
    };
    let settings = state.store.account_settings(account).await?;
    let contacts = match typed {
        Some(t) => t,
        None => {
            let found = state.store.study_contacts(account, uid).await?;
            // Emails first: the email carries the clinic's logo and survives a changed number.
            let mut v: Vec<_> = found.iter().filter(|c| c.kind == ContactKind::Email).map(|c| c.value.clone()).collect();
            v.extend(found.iter().filter(|c| c.kind == ContactKind::Phone).map(|c| c.value.clone()));
            v.dedup();
            v.join(", ")
        }
    };
    let warnings = match PatientContacts::parse(&contacts, clinic_country(&settings)) {
        Ok(p) if error.is_none() => p.warnings.iter().map(|w| w.message(notify_lang(c.lang))).collect(),
        _ => Vec::new(),
    };
    let count = if instances.is_empty() { study_row.num_instances } else { instances.len() as i64 };
    let summary = if instances.is_empty() { c.count("send-whole-study", count) } else { c.count("send-selected", count) };
    let language = language.or(settings.default_language).unwrap_or(match c.lang {
        super::i18n::Lang::Es => Language::Es,
        super::i18n::Lang::En => Language::En,
    });
    let languages = Language::ALL
        .iter()
        .map(|l| (l.as_str(), c.t(&format!("settings-language-{}", l.as_str())), *l == language))
        .collect();
    let mut delivery_notes = Vec::new();
    if !state.delivery.email {
        delivery_notes.push(c.t("send-email-local"));
    }
    if !state.delivery.sms {
        delivery_notes.push(c.t("send-sms-local"));
    }
    let now = state.clock.now();
    let newest = state.store.shares_for_study(account, study_row.id).await?.into_iter().find(|s| s.state != studylink_model::ShareState::Failed);
    let (mut active, mut expired) = (None, None);
    if let Some(s) = newest {
        let instances = shares::instance_uids(state, account, uid, &s).await?;
        let line = ShareLine {
            sentence: String::new(),
            resend_action: links::share_action(uid, s.id.0, "resend"),
            contacts: shares::contacts_display(&s),
            instances,
            language: s.language.as_str(),
        };
        if s.is_active(now) {
            let sentence = i18n::t_args(
                c.lang,
                "send-active",
                &[
                    ("contacts", Arg::from(shares::contacts_masked(&s))),
                    ("sent", Arg::from(c.timestamp(&s.last_sent_at.unwrap_or(s.created_at)))),
                    ("until", Arg::from(c.timestamp(&(now + settings.link_lifetime_days * 86_400_000)))),
                ],
            );
            active = Some(ShareLine { sentence, ..line });
        } else {
            let key = if s.revoked_at.is_some() { "send-revoked" } else { "send-expired" };
            let sentence = c.t1(key, "when", &c.timestamp(&s.revoked_at.unwrap_or(s.expires_at)));
            expired = Some(ShareLine { sentence, ..line });
        }
    }
    let tpl = SendPage {
        back: links::study_page(uid),
        action: links::send_create(uid),
        instances,
        summary,
        contacts,
        error,
        warnings,
        languages,
        delivery_notes,
        active,
        expired,
        c,
    };
    Ok(render(status, &tpl))
}
