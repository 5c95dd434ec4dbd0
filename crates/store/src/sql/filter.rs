//! Builds the QIDO / Studies-screen queries. The SQL text is backend-neutral
//! (`$n` placeholders work in both SQLite and PostgreSQL); values are always
//! bound, never spliced into the text.

use studylink_model::AccountId;

use crate::query::{InstanceQuery, Page, SeriesQuery, StudyQuery};

pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// SQL text plus its bind values, in `$1..$n` order.
pub(super) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub(super) fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: Vec::new(),
        }
    }

    /// Binds `arg` and returns its placeholder.
    pub(super) fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub(super) fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub(super) fn and_eq(&mut self, col: &str, value: i64) {
        let p = self.arg(Arg::Int(value));
        self.push(&format!(" AND {col} = {p}"));
    }

    /// DICOM "list of UID matching": `a,b,c` matches any of the listed UIDs.
    pub(super) fn and_uid_list(&mut self, col: &str, value: Option<&str>) {
        let Some(value) = value else { return };
        let uids: Vec<&str> = value
            .split(['\\', ','])
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .collect();
        if uids.is_empty() {
            return;
        }
        let ps: Vec<String> = uids
            .iter()
            .map(|u| self.arg(Arg::Text((*u).to_owned())))
            .collect();
        self.push(&format!(" AND {col} IN ({})", ps.join(", ")));
    }

    /// DICOM single-value / wildcard matching on `col`.
    fn and_match(&mut self, col: &str, value: Option<&str>) {
        let Some(value) = value.map(str::trim) else {
            return;
        };
        // Empty and `*` are universal matching: no constraint (NULLs match too).
        if value.chars().all(|c| c == '*') {
            return;
        }
        if value.contains(['*', '?']) {
            let p = self.arg(Arg::Text(like_pattern(value)));
            self.push(&format!(" AND {col} LIKE {p} ESCAPE '\\'"));
        } else {
            let p = self.arg(Arg::Text(value.to_owned()));
            self.push(&format!(" AND {col} = {p}"));
        }
    }

    fn and_exact(&mut self, col: &str, value: Option<&str>) {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => {
                let p = self.arg(Arg::Text(v.to_owned()));
                self.push(&format!(" AND {col} = {p}"));
            }
            _ => {}
        }
    }

    pub(super) fn and_cmp(&mut self, col: &str, op: &str, value: Option<&str>) {
        match value.map(str::trim) {
            Some(v) if !v.is_empty() => {
                let p = self.arg(Arg::Text(v.to_owned()));
                self.push(&format!(" AND {col} {op} {p}"));
            }
            _ => {}
        }
    }

    pub(super) fn limit(&mut self, page: Page) {
        let limit = page.limit.clamp(1, 10_000);
        let offset = page.offset.max(0);
        let l = self.arg(Arg::Int(limit));
        let o = self.arg(Arg::Int(offset));
        self.push(&format!(" LIMIT {l} OFFSET {o}"));
    }
}

/// Case folding for PatientName matching. The same function fills
/// `patients.name_search`, so both sides fold identically on every backend.
pub(super) fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

/// Translates DICOM wildcards to a LIKE pattern with `\` as the escape character.
pub(super) fn like_pattern(dicom: &str) -> String {
    let mut out = String::with_capacity(dicom.len() + 4);
    for c in dicom.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Newest first; NULL dates last. Spelled out in full because the backends'
/// default NULL placement differs.
pub(super) const STUDY_ORDER: &str = "ORDER BY s.study_date DESC NULLS LAST, s.study_time DESC NULLS LAST, \
     s.received_at DESC, s.id DESC";

pub(super) fn studies(account: AccountId, q: &StudyQuery) -> Sql {
    // Page the ids first so the per-study aggregates run only for the page.
    let mut sql = Sql::new(
        "WITH page AS (SELECT s.id FROM studies s JOIN patients p ON p.id = s.patient_ref WHERE TRUE",
    );
    sql.and_eq("s.account_id", account.0);
    if let Some(id) = q.id {
        sql.and_eq("s.id", id.0);
    }
    sql.and_uid_list("s.study_uid", q.study_uid.as_deref());
    sql.and_match(
        "p.name_search",
        q.patient_name.as_deref().map(fold_case).as_deref(),
    );
    sql.and_match("p.patient_id", q.patient_id.as_deref());
    sql.and_match("s.accession", q.accession.as_deref());
    if let Some(range) = &q.study_date {
        sql.and_cmp("s.study_date", ">=", range.from.as_deref());
        sql.and_cmp("s.study_date", "<=", range.to.as_deref());
    }
    if let Some(m) = q
        .modality
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        let p = sql.arg(Arg::Text(m.to_owned()));
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM series se WHERE se.study_ref = s.id AND se.modality = {p})"
        ));
    }
    sql.push(" ");
    sql.push(STUDY_ORDER);
    sql.limit(q.page);
    sql.push(") ");
    sql.push(STUDIES_OF_PAGE);
    sql.push(STUDY_ORDER);
    sql
}

/// The study rows (with per-study aggregates) of the ids in a `page` CTE.
pub(super) const STUDIES_OF_PAGE: &str = "SELECT s.id, s.study_uid, p.name AS patient_name, p.patient_id, \
       p.birth_date AS patient_birth_date, p.sex AS patient_sex, s.study_id, s.accession, \
       s.study_date, s.study_time, s.description, s.referring_physician, \
       (SELECT string_agg(d.modality, ',') FROM \
          (SELECT DISTINCT se.modality FROM series se \
           WHERE se.study_ref = s.id AND se.modality IS NOT NULL) d) AS modalities, \
       (SELECT COUNT(*) FROM series se WHERE se.study_ref = s.id) AS num_series, \
       (SELECT COUNT(*) FROM instances i WHERE i.study_ref = s.id) AS num_instances, \
       s.received_at \
     FROM page JOIN studies s ON s.id = page.id JOIN patients p ON p.id = s.patient_ref ";

pub(super) fn series(account: AccountId, q: &SeriesQuery) -> Sql {
    let mut sql = Sql::new(
        "SELECT se.id, st.study_uid, se.series_uid, se.modality, se.series_number, se.description, \
           (SELECT COUNT(*) FROM instances i WHERE i.series_ref = se.id) AS num_instances \
         FROM series se JOIN studies st ON st.id = se.study_ref WHERE TRUE",
    );
    sql.and_eq("se.account_id", account.0);
    sql.and_uid_list("st.study_uid", q.study_uid.as_deref());
    sql.and_uid_list("se.series_uid", q.series_uid.as_deref());
    sql.and_exact("se.modality", q.modality.as_deref());
    sql.push(" ORDER BY se.series_number ASC NULLS LAST, se.series_uid ASC");
    sql.limit(q.page);
    sql
}

pub(super) fn instances(account: AccountId, q: &InstanceQuery) -> Sql {
    let mut sql = Sql::new(super::queries::INSTANCE_SELECT);
    sql.push(" WHERE TRUE");
    sql.and_eq("i.account_id", account.0);
    sql.and_uid_list("st.study_uid", q.study_uid.as_deref());
    sql.and_uid_list("se.series_uid", q.series_uid.as_deref());
    sql.and_uid_list("i.sop_uid", q.sop_uid.as_deref());
    sql.and_uid_list("i.sop_class_uid", q.sop_class_uid.as_deref());
    sql.push(" ORDER BY i.instance_number ASC NULLS LAST, i.sop_uid ASC");
    sql.limit(q.page);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_like_patterns() {
        assert_eq!(like_pattern("GARCIA*"), "GARCIA%");
        assert_eq!(like_pattern("*ana*"), "%ana%");
        assert_eq!(like_pattern("J?N"), "J_N");
        assert_eq!(like_pattern("100%_a\\b*"), "100\\%\\_a\\\\b%");
    }

    #[test]
    fn universal_matching_adds_no_condition() {
        let mut sql = Sql::new("x");
        sql.and_match("c", Some("*"));
        sql.and_match("c", Some(""));
        sql.and_uid_list("c", Some(" , "));
        assert_eq!(sql.text, "x");
        assert!(sql.args.is_empty());
    }

    #[test]
    fn uid_lists_bind_each_uid() {
        let mut sql = Sql::new("x");
        sql.and_uid_list("c", Some("1.2, 1.3\\1.4"));
        assert_eq!(sql.text, "x AND c IN ($1, $2, $3)");
    }
}
