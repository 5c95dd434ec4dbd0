//! The Studies screen's search over the `search_terms` table
//! (migrations `0002_study_search.sql`).
//!
//! Triggers fill the table with the folded words of each study's patient name,
//! patient ID and accession number. A query word `w` matches a study when some
//! term of the study starts with `fold(w)`: a range scan `term >= w AND term < w'`
//! (`w'` = `w` with its last character incremented) on the primary key, in the
//! same byte order on both backends. Every word must match (one `IN` per word),
//! so word order does not matter.
//!
//! The fold here must equal the SQL one: Unicode lower case (what ingest stores
//! in `patients.name_search`), then the accent table, then dropping apostrophes
//! and combining marks. `tests::migrations_fold_like_rust` checks the migration
//! text against [`FOLD_FROM`]/[`FOLD_TO`].

use studylink_model::AccountId;

use super::filter::{Arg, STUDIES_OF_PAGE, STUDY_ORDER, Sql};
use crate::query::StudySearch;

/// Accented letters and the base letters they fold to, pairwise.
const FOLD_FROM: &str = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįıłñńňòóôõöøōőŕřśšşťţùúûüūůűųýÿźżž\
                         ÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤŢÙÚÛÜŪŮŰŲÝŸŹŻŽİ";
const FOLD_TO: &str = "aaaaaaaaacccddeeeeeeeeiiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzz\
                       aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrsssttuuuuuuuuyyzzzi";
/// Dropped: apostrophes (O'BRIEN is found as "obrien") and the combining marks
/// of decomposed accents.
const FOLD_DROP: [char; 15] = [
    '\'', '\u{2019}', '\u{300}', '\u{301}', '\u{302}', '\u{303}', '\u{304}', '\u{306}', '\u{307}',
    '\u{308}', '\u{30a}', '\u{30b}', '\u{30c}', '\u{327}', '\u{328}',
];
/// Word separators, as in the migrations' split.
const SEPARATORS: [char; 7] = ['^', '=', ' ', ',', '.', '/', '-'];
/// More words than this are ignored: each costs an index range scan.
const MAX_WORDS: usize = 8;

fn fold_char(c: char) -> Option<char> {
    if FOLD_DROP.contains(&c) {
        return None;
    }
    match FOLD_FROM.chars().position(|f| f == c) {
        Some(i) => FOLD_TO.chars().nth(i),
        None => Some(c),
    }
}

/// The words of a search box entry, folded as the index folds, deduplicated,
/// at most [`MAX_WORDS`]. Empty when there is nothing to search for.
pub fn search_terms(text: &str) -> Vec<String> {
    let folded: String = text.to_lowercase().chars().filter_map(fold_char).collect();
    let mut words: Vec<String> = Vec::new();
    for w in folded.split(SEPARATORS).filter(|w| !w.is_empty()) {
        // A repeated word adds nothing but another range scan.
        if !words.iter().any(|x| x == w) {
            words.push(w.to_owned());
        }
    }
    words.truncate(MAX_WORDS);
    words
}

/// The smallest string greater than every string starting with `prefix`.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // Skip the surrogate gap; U+10FFFF has no successor, so drop it and
        // increment the character before.
        let next = match last as u32 {
            0xD7FF => Some('\u{E000}'),
            n => char::from_u32(n + 1),
        };
        if let Some(n) = next {
            chars.push(n);
            return chars.into_iter().collect();
        }
    }
    // Only U+10FFFF characters (never in a real name or ID): close enough.
    format!("{prefix}\u{10FFFF}")
}

/// `WHERE` conditions on studies `s` shared by the page and count queries.
fn conditions(sql: &mut Sql, account: AccountId, q: &StudySearch) {
    sql.and_eq("s.account_id", account.0);
    let words = q.text.as_deref().map(search_terms).unwrap_or_default();
    for w in words {
        let acc = sql.arg(Arg::Int(account.0));
        let end = prefix_end(&w);
        let lo = sql.arg(Arg::Text(w));
        let hi = sql.arg(Arg::Text(end));
        sql.push(&format!(
            " AND s.id IN (SELECT t.study_ref FROM search_terms t \
               WHERE t.account_id = {acc} AND t.term >= {lo} AND t.term < {hi})"
        ));
    }
    if let Some(range) = &q.date {
        sql.and_cmp("s.study_date", ">=", range.from.as_deref());
        sql.and_cmp("s.study_date", "<=", range.to.as_deref());
    }
    if let Some(m) = q.modality.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        let p = sql.arg(Arg::Text(m.to_owned()));
        sql.push(&format!(
            " AND EXISTS (SELECT 1 FROM series se WHERE se.study_ref = s.id AND se.modality = {p})"
        ));
    }
}

/// The page of studies (columns as [`super::rows::StudyDb`]).
pub(super) fn page(account: AccountId, q: &StudySearch) -> Sql {
    let mut sql = Sql::new("WITH page AS (SELECT s.id FROM studies s WHERE TRUE");
    conditions(&mut sql, account, q);
    sql.push(" ");
    sql.push(STUDY_ORDER);
    sql.limit(q.page);
    sql.push(") ");
    sql.push(STUDIES_OF_PAGE);
    sql.push(STUDY_ORDER);
    sql
}

/// How many studies match, for the pager.
pub(super) fn count(account: AccountId, q: &StudySearch) -> Sql {
    let mut sql = Sql::new("SELECT COUNT(*) FROM studies s WHERE TRUE");
    conditions(&mut sql, account, q);
    sql
}

/// Preview instances of some studies (see `Store::study_previews`).
pub(super) fn previews(account: AccountId, study_uids: &[String], per_study: i64) -> Sql {
    let mut sql = Sql::new(
        "WITH chosen AS (SELECT st.id FROM studies st WHERE TRUE",
    );
    sql.and_eq("st.account_id", account.0);
    sql.and_uid_list("st.study_uid", Some(&study_uids.join(",")));
    let per = sql.arg(Arg::Int(per_study.clamp(1, 100)));
    sql.push(&format!(
        "), ranked AS (SELECT i.id, i.study_ref, i.series_ref, \
             CASE WHEN i.pixel_rows IS NULL OR i.frames = 0 THEN 1 ELSE 0 END AS non_image, \
             ROW_NUMBER() OVER (PARTITION BY i.series_ref \
               ORDER BY i.instance_number ASC NULLS LAST, i.sop_uid) AS in_series \
           FROM instances i JOIN chosen c ON c.id = i.study_ref), \
         picked AS (SELECT r.id, ROW_NUMBER() OVER (PARTITION BY r.study_ref \
               ORDER BY r.non_image, r.in_series, se.series_number ASC NULLS LAST, se.series_uid) AS n \
           FROM ranked r JOIN series se ON se.id = r.series_ref) \
         {} JOIN picked pk ON pk.id = i.id WHERE pk.n <= {per} ORDER BY i.study_ref, pk.n",
        super::queries::INSTANCE_SELECT
    ));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_accents_and_separators() {
        assert_eq!(search_terms("  García  ANA "), ["garcia", "ana"]);
        assert_eq!(search_terms("JOSÉ^MARÍA"), ["jose", "maria"]);
        assert_eq!(search_terms("O'Brien Núñez-Ibáñez"), ["obrien", "nunez", "ibanez"]);
        // Decomposed accents (e + U+0301) fold like precomposed ones.
        assert_eq!(search_terms("Jose\u{301}"), ["jose"]);
        assert_eq!(search_terms("ana ana"), ["ana"]);
        assert!(search_terms(" ^ - ").is_empty());
        assert_eq!(search_terms("a b c d e f g h i j").len(), MAX_WORDS);
    }

    #[test]
    fn prefix_ranges() {
        assert_eq!(prefix_end("gar"), "gas");
        assert_eq!(prefix_end("a\u{D7FF}"), "a\u{E000}");
        assert_eq!(prefix_end("a\u{10FFFF}"), "b");
        assert!("garcia" >= "gar" && "garcia" < prefix_end("gar").as_str());
        assert!("gas" >= prefix_end("gar").as_str());
    }

    #[test]
    fn fold_table_is_pairwise() {
        assert_eq!(FOLD_FROM.chars().count(), FOLD_TO.chars().count());
        // Every accented letter maps to what Unicode decomposition says (ł, đ,
        // ø and dotless/dotted i, which don't decompose, by hand).
        assert_eq!(fold_char('Ñ'), Some('n'));
        assert_eq!(fold_char('ø'), Some('o'));
        assert_eq!(fold_char('\u{301}'), None);
    }

    /// The SQL folds (PostgreSQL translate(), SQLite replace() chains) use
    /// exactly this table, so a query folds like the index.
    #[test]
    fn migrations_fold_like_rust() {
        let pg = include_str!("../../migrations/postgres/0002_study_search.sql");
        let ascii_from: String = ('A'..='Z').collect();
        let ascii_to: String = ('a'..='z').collect();
        assert!(pg.contains(&format!("'{ascii_from}{FOLD_FROM}' ||")), "PostgreSQL from-list differs");
        assert!(pg.contains(&format!("'{ascii_to}{FOLD_TO}'")), "PostgreSQL to-list differs");
        for c in FOLD_DROP {
            let lit = if c == '\'' { "''''".to_owned() } else { format!("chr({})", c as u32) };
            assert!(pg.contains(&lit), "PostgreSQL does not drop {c:?}");
        }
        let sqlite = include_str!("../../migrations/sqlite/0002_study_search.sql");
        for (f, t) in FOLD_FROM.chars().zip(FOLD_TO.chars()) {
            assert!(sqlite.contains(&format!(", '{f}', '{t}')")), "SQLite does not fold {f}");
        }
        for c in FOLD_DROP {
            let lit = if c == '\'' { "''''".to_owned() } else { format!("char({})", c as u32) };
            assert!(sqlite.contains(&format!(", {lit}, '')")), "SQLite does not drop {c:?}");
        }
        for sep in SEPARATORS {
            assert!(pg.contains("'[-= ,./^]+'") && pg.contains(sep), "PostgreSQL split differs");
            assert!(sqlite.contains(&format!("'{sep}', '\",\"')")), "SQLite does not split at {sep:?}");
        }
    }
}
