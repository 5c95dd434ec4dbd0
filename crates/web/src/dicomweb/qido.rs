//! QIDO-RS, Search (PS3.18 §10.6).
//!
//! The store matches one value per attribute. Lists (`StudyInstanceUID=a,b`,
//! `ModalitiesInStudy=CT,MR`) become one store query per alternative, merged
//! in order without duplicates and paged across the merge. Series and instance
//! searches across studies that filter on study attributes (PatientName …)
//! first resolve the matching studies, as relational queries do.
//!
//! Results: 200 with a JSON array, `[]` when nothing matches (chosen over 204 so
//! clients can always parse the body). Without an explicit `limit`, searches
//! across studies return at most [`DEFAULT_LIMIT`] results and say so with a
//! `Warning: 299` header when more exist; searches inside one study
//! return everything (viewers ask for a study's instances without a limit).

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::future::BoxFuture;
use serde_json::Value;
use studylink_model::AccountId;
use studylink_store::{InstanceQuery, InstanceRow, Page, SeriesQuery, SeriesRow, Store, StoreResult, StudyQuery, StudyRow};

use super::json::Dataset;
use super::search::{self, Level, Search};
use super::{Urls, attrs, json_response, negotiate_json, path_uids};
use crate::auth::Principal;
use crate::{AppState, WebError};

pub const DEFAULT_LIMIT: i64 = 1000;
const MAX_LIMIT: i64 = 10_000;
/// Inside one study: all of it.
const SCOPED_LIMIT: i64 = 1_000_000;
/// Most studies (or series) a cross-study search may narrow through.
const SCOPE_MAX: i64 = 10_000;

type Params = Query<Vec<(String, String)>>;

pub async fn studies(State(state): State<AppState>, principal: Principal, headers: HeaderMap, Query(params): Params) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Study, None, None).await
}

pub async fn all_series(State(state): State<AppState>, principal: Principal, headers: HeaderMap, Query(params): Params) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Series, None, None).await
}

pub async fn all_instances(State(state): State<AppState>, principal: Principal, headers: HeaderMap, Query(params): Params) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Instance, None, None).await
}

pub async fn study_series(
    State(state): State<AppState>,
    principal: Principal,
    Path(study): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Series, Some(&study), None).await
}

pub async fn study_instances(
    State(state): State<AppState>,
    principal: Principal,
    Path(study): Path<String>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Instance, Some(&study), None).await
}

pub async fn series_instances(
    State(state): State<AppState>,
    principal: Principal,
    Path((study, series)): Path<(String, String)>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, WebError> {
    run(&state, &principal, &headers, &params, Level::Instance, Some(&study), Some(&series)).await
}

async fn run(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    params: &[(String, String)],
    level: Level,
    study: Option<&str>,
    series: Option<&str>,
) -> Result<Response, WebError> {
    let content_type = negotiate_json(headers)?;
    for uid in [study, series].into_iter().flatten() {
        path_uids([uid])?;
    }
    let mut search = search::parse(params, level)?;
    search.scope(study, series);

    let mut warnings = Vec::new();
    let (default_limit, max_limit) = if study.is_some() { (SCOPED_LIMIT, SCOPED_LIMIT) } else { (DEFAULT_LIMIT, MAX_LIMIT) };
    let limit = match search.limit {
        None => default_limit,
        Some(l) if l > max_limit => {
            warnings.push(format!("limit reduced to {max_limit}, the most this server returns at once"));
            max_limit
        }
        Some(l) => l,
    };
    let q = Searcher { store: state.store.as_ref(), account: principal.account_id, s: &search, urls: Urls::new(state) };
    let (objects, more) = match level {
        Level::Study => q.studies(limit).await?,
        Level::Series => q.series(limit, study.is_none()).await?,
        Level::Instance => q.instances(limit, study.is_none(), series.is_none()).await?,
    };
    if more && search.limit.is_none() {
        warnings.push("There are additional results that can be requested".into());
    }
    if search.fuzzy {
        warnings.push("The fuzzymatching parameter is not supported. Only literal matching has been performed.".into());
    }
    let body = serde_json::to_vec(&Value::Array(objects)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(json_response(StatusCode::OK, content_type, body, &warnings))
}

struct Searcher<'a> {
    store: &'a dyn Store,
    account: AccountId,
    s: &'a Search,
    urls: Urls,
}

type Alt = Option<String>;

/// The alternatives of a list filter; one `None` when unset (no filter).
fn alts(list: &Option<Vec<String>>) -> Vec<Alt> {
    match list {
        None => vec![None],
        Some(v) => v.iter().cloned().map(Some).collect(),
    }
}

impl Searcher<'_> {
    async fn studies(&self, limit: i64) -> Result<(Vec<Value>, bool), WebError> {
        let (rows, more) = self.find_studies(self.s.offset, limit).await?;
        let objects = rows
            .iter()
            .map(|r| {
                let mut ds = Dataset::new();
                attrs::study(&mut ds, r, &self.urls);
                ds.into_value()
            })
            .collect();
        Ok((objects, more))
    }

    async fn series(&self, limit: i64, with_study: bool) -> Result<(Vec<Value>, bool), WebError> {
        let scope = self.study_scope().await?;
        let (rows, more) = self.find_series(&scope, self.s.offset, limit).await?;
        let mut studies = seed(scope);
        let mut objects = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut ds = Dataset::new();
            if with_study && let Some(st) = self.study_row(&r.study_uid, &mut studies).await? {
                attrs::study(&mut ds, &st, &self.urls);
            }
            attrs::series(&mut ds, r, &self.urls);
            objects.push(ds.into_value());
        }
        Ok((objects, more))
    }

    /// Instances, with the attributes of their series when searching a whole
    /// study or more, and of their study when searching across studies
    /// (PS3.18 §10.6.3).
    async fn instances(&self, limit: i64, with_study: bool, with_series: bool) -> Result<(Vec<Value>, bool), WebError> {
        let scope = self.study_scope().await?;
        let (rows, more) = self.find_instances(&scope, self.s.offset, limit).await?;
        let mut studies = seed(scope);
        let mut series: HashMap<String, Option<SeriesRow>> = HashMap::new();
        let mut objects = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut ds = Dataset::new();
            if with_study && let Some(st) = self.study_row(&r.study_uid, &mut studies).await? {
                attrs::study(&mut ds, &st, &self.urls);
            }
            if with_series && let Some(se) = self.series_row(r, &mut series).await? {
                attrs::series(&mut ds, &se, &self.urls);
            }
            attrs::instance(&mut ds, r, &self.urls);
            objects.push(ds.into_value());
        }
        Ok((objects, more))
    }

    async fn find_studies(&self, offset: i64, take: i64) -> Result<(Vec<StudyRow>, bool), WebError> {
        let s = self.s;
        let mut list = Vec::new();
        for uid in alts(&s.study_uids) {
            for modality in alts(&s.modalities_in_study) {
                list.push((uid.clone(), modality));
            }
        }
        paged(list, offset, take, |r: &StudyRow| r.id.0, |(study_uid, modality), page| {
            let q = StudyQuery {
                id: None,
                study_uid,
                patient_name: s.patient_name.clone(),
                patient_id: s.patient_id.clone(),
                accession: s.accession.clone(),
                study_date: s.study_date.clone(),
                modality,
                page,
            };
            Box::pin(async move { self.store.query_studies(self.account, &q).await })
        })
        .await
    }

    /// The studies a series or instance search is confined to when it filters
    /// on study attributes; `None` when only (at most) Study UIDs narrow it.
    async fn study_scope(&self) -> Result<Option<Vec<StudyRow>>, WebError> {
        if !self.s.has_study_filters() {
            return Ok(None);
        }
        let (rows, more) = self.find_studies(0, SCOPE_MAX).await?;
        if more {
            return Err(WebError::BadRequest(format!(
                "the study-level filters match more than {SCOPE_MAX} studies; narrow them"
            )));
        }
        Ok(Some(rows))
    }

    fn study_alts(&self, scope: &Option<Vec<StudyRow>>) -> Vec<Alt> {
        match scope {
            Some(rows) => rows.iter().map(|r| Some(r.study_uid.clone())).collect(),
            None => alts(&self.s.study_uids),
        }
    }

    async fn find_series(&self, scope: &Option<Vec<StudyRow>>, offset: i64, take: i64) -> Result<(Vec<SeriesRow>, bool), WebError> {
        let mut list = Vec::new();
        for study in self.study_alts(scope) {
            for series in alts(&self.s.series_uids) {
                for modality in alts(&self.s.modalities) {
                    list.push((study.clone(), series.clone(), modality));
                }
            }
        }
        paged(list, offset, take, |r: &SeriesRow| r.id.0, |(study_uid, series_uid, modality), page| {
            let q = SeriesQuery { study_uid, series_uid, modality, page };
            Box::pin(async move { self.store.query_series(self.account, &q).await })
        })
        .await
    }

    async fn find_instances(&self, scope: &Option<Vec<StudyRow>>, offset: i64, take: i64) -> Result<(Vec<InstanceRow>, bool), WebError> {
        // Instance rows carry no modality: a Modality filter first resolves the series.
        let pairs: Vec<(Alt, Alt)> = if self.s.modalities.is_some() {
            let (series, more) = self.find_series(scope, 0, SCOPE_MAX).await?;
            if more {
                return Err(WebError::BadRequest(format!("the filters match more than {SCOPE_MAX} series; narrow them")));
            }
            series.into_iter().map(|r| (Some(r.study_uid), Some(r.series_uid))).collect()
        } else {
            let mut pairs = Vec::new();
            for study in self.study_alts(scope) {
                for series in alts(&self.s.series_uids) {
                    pairs.push((study.clone(), series));
                }
            }
            pairs
        };
        let mut list = Vec::new();
        for (study, series) in pairs {
            for sop in alts(&self.s.sop_uids) {
                for class in alts(&self.s.sop_classes) {
                    list.push((study.clone(), series.clone(), sop.clone(), class));
                }
            }
        }
        paged(list, offset, take, |r: &InstanceRow| r.id.0, |(study_uid, series_uid, sop_uid, sop_class_uid), page| {
            let q = InstanceQuery { study_uid, series_uid, sop_uid, sop_class_uid, page };
            Box::pin(async move { self.store.query_instances(self.account, &q).await })
        })
        .await
    }

    async fn study_row(&self, uid: &str, cache: &mut HashMap<String, Option<StudyRow>>) -> Result<Option<StudyRow>, WebError> {
        if let Some(hit) = cache.get(uid) {
            return Ok(hit.clone());
        }
        let q = StudyQuery { study_uid: Some(uid.to_string()), page: Page { limit: 1, offset: 0 }, ..Default::default() };
        let row = self.store.query_studies(self.account, &q).await?.into_iter().next();
        cache.insert(uid.to_string(), row.clone());
        Ok(row)
    }

    async fn series_row(&self, r: &InstanceRow, cache: &mut HashMap<String, Option<SeriesRow>>) -> Result<Option<SeriesRow>, WebError> {
        if let Some(hit) = cache.get(&r.series_uid) {
            return Ok(hit.clone());
        }
        let q = SeriesQuery {
            study_uid: Some(r.study_uid.clone()),
            series_uid: Some(r.series_uid.clone()),
            modality: None,
            page: Page { limit: 1, offset: 0 },
        };
        let row = self.store.query_series(self.account, &q).await?.into_iter().next();
        cache.insert(r.series_uid.clone(), row.clone());
        Ok(row)
    }
}

fn seed(scope: Option<Vec<StudyRow>>) -> HashMap<String, Option<StudyRow>> {
    scope.unwrap_or_default().into_iter().map(|r| (r.study_uid.clone(), Some(r))).collect()
}

/// Runs one store query per alternative and pages across their concatenation
/// without duplicates. Returns at most `take` rows, and whether more exist.
async fn paged<'a, A, T>(
    list: Vec<A>,
    offset: i64,
    take: i64,
    id: impl Fn(&T) -> i64,
    mut fetch: impl FnMut(A, Page) -> BoxFuture<'a, StoreResult<Vec<T>>>,
) -> Result<(Vec<T>, bool), WebError> {
    let want = take.saturating_add(1); // one extra tells whether more exist
    if list.len() == 1 {
        let alt = list.into_iter().next().expect("one alternative");
        let mut rows = fetch(alt, Page { limit: want, offset }).await?;
        let more = rows.len() as i64 > take;
        rows.truncate(take as usize);
        return Ok((rows, more));
    }
    let (mut out, mut seen, mut skip) = (Vec::new(), HashSet::new(), offset);
    for alt in list {
        // Rows already seen may come back again; ask for enough to cover them.
        let need = skip + (want - out.len() as i64) + seen.len() as i64;
        for row in fetch(alt, Page { limit: need, offset: 0 }).await? {
            if !seen.insert(id(&row)) {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            out.push(row);
            if out.len() as i64 == want {
                break;
            }
        }
        if out.len() as i64 == want {
            break;
        }
    }
    let more = out.len() as i64 > take;
    out.truncate(take as usize);
    Ok((out, more))
}
