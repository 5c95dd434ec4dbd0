//! How fast the Studies screen's queries are on a big archive.
//!
//! Fills a fresh database with N studies of index rows (patients, studies,
//! series, instances; the migrations' triggers build the search index as
//! ingest would), then times `search_studies` (page + count) and
//! `study_previews` for a few query shapes and prints p50/p95.
//!
//! ```sh
//! cargo run -p studylink-store --example search_bench -- [sqlite|postgres|both] [studies]
//! ```
//!
//! PostgreSQL: `STUDYLINK_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! must allow CREATE DATABASE; the benchmark database is dropped afterwards
//! unless `KEEP_DB` is set (to EXPLAIN queries on it).

use std::time::{Duration, Instant};

use sqlx::{Connection, Executor};
use studylink_model::AccountId;
use studylink_store::{DateRange, Page, Store, StudySearch, connect};

const FAMILIES: [&str; 40] = [
    "GARCÍA", "RODRÍGUEZ", "GONZÁLEZ", "FERNÁNDEZ", "LÓPEZ", "MARTÍNEZ", "SÁNCHEZ", "PÉREZ", "GÓMEZ", "MARTÍN",
    "JIMÉNEZ", "RUIZ", "HERNÁNDEZ", "DÍAZ", "MORENO", "MUÑOZ", "ÁLVAREZ", "ROMERO", "ALONSO", "GUTIÉRREZ",
    "NAVARRO", "TORRES", "DOMÍNGUEZ", "VÁZQUEZ", "RAMOS", "GIL", "RAMÍREZ", "SERRANO", "BLANCO", "MOLINA",
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "MILLER", "DAVIS", "WILSON", "ANDERSON", "TAYLOR",
];
const GIVENS: [&str; 30] = [
    "ANA", "MARÍA", "JOSÉ", "JUAN", "CARMEN", "LUIS", "LAURA", "PEDRO", "LUCÍA", "JAVIER", "ELENA", "DAVID",
    "PAULA", "MIGUEL", "SARA", "JORGE", "MARTA", "PABLO", "SOFÍA", "ÁNGEL", "JOHN", "MARY", "JAMES", "LINDA",
    "ROBERT", "SUSAN", "MICHAEL", "KAREN", "WILLIAM", "NANCY",
];
const MODALITIES: [&str; 6] = ["US", "US", "US", "CT", "MR", "CR"];
const BATCH: usize = 400;

/// xorshift64*: reproducible data without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// Patient i's name: two family names and one or two given names.
fn name(rng: &mut Rng) -> String {
    let given = if rng.next() % 3 == 0 { format!("{} {}", rng.pick(&GIVENS), rng.pick(&GIVENS)) } else { rng.pick(&GIVENS).to_owned() };
    format!("{} {}^{}", rng.pick(&FAMILIES), rng.pick(&FAMILIES), given)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn exec<C: Connection>(c: &mut C, sql: String)
where
    for<'c> &'c mut C: Executor<'c>,
{
    c.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
}

/// Loads `n` studies for `account` into an empty database.
async fn load<C: Connection>(c: &mut C, account: i64, n: usize) -> (String, String)
where
    for<'c> &'c mut C: Executor<'c>,
{
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let patients = n * 3 / 5;
    let names: Vec<String> = (0..patients).map(|_| name(&mut rng)).collect();
    let t0 = Instant::now();
    exec(c, "BEGIN".into()).await;
    for chunk in (0..patients).collect::<Vec<_>>().chunks(BATCH) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let nm = &names[i];
                format!(
                    "({account}, {}, {}, {}, {}, '19{:02}0{}1{}', '{}', 0)",
                    quote(&format!("id:|P{i:07}")),
                    quote(&format!("P{i:07}")),
                    quote(nm),
                    quote(&nm.to_lowercase()),
                    40 + i % 60,
                    1 + i % 9,
                    i % 10,
                    if i % 2 == 0 { "F" } else { "M" }
                )
            })
            .collect();
        exec(c, format!("INSERT INTO patients (account_id, patient_key, patient_id, name, name_search, birth_date, sex, created_at) VALUES {}", rows.join(","))).await;
    }
    // A fresh database: ids start at 1 on both backends.
    let first_patient: i64 = 1;
    for chunk in (0..n).collect::<Vec<_>>().chunks(BATCH) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|&i| {
                let p = first_patient + (i % patients) as i64;
                let day = i % 4000;
                let date = chrono_like(day);
                format!(
                    "({account}, {p}, '2.25.{i}', 'A{i:08}', '{date}', '{:02}{:02}00', 'Exam {}', {i}, {i})",
                    8 + i % 10,
                    i % 60,
                    i % 7
                )
            })
            .collect();
        exec(c, format!("INSERT INTO studies (account_id, patient_ref, study_uid, accession, study_date, study_time, description, received_at, updated_at) VALUES {}", rows.join(","))).await;
    }
    // A fresh database: ids start at 1 on both backends.
    let first_study: i64 = 1;
    // One or two series per study, three instances per series.
    let mut series = Vec::new();
    for i in 0..n {
        for k in 0..(1 + i % 2) {
            series.push((first_study + i as i64, format!("2.25.{i}.{k}"), MODALITIES[(i + k) % MODALITIES.len()], k));
        }
    }
    for chunk in series.chunks(BATCH) {
        let rows: Vec<String> =
            chunk.iter().map(|(st, uid, m, k)| format!("({account}, {st}, '{uid}', '{m}', {})", k + 1)).collect();
        exec(c, format!("INSERT INTO series (account_id, study_ref, series_uid, modality, series_number) VALUES {}", rows.join(","))).await;
    }
    // A fresh database: ids start at 1 on both backends.
    let first_series: i64 = 1;
    let instances: Vec<(i64, i64, String, usize)> = series
        .iter()
        .enumerate()
        .flat_map(|(j, (st, uid, _, _))| (0..3).map(move |x| (*st, first_series + j as i64, format!("{uid}.{x}"), x)))
        .collect();
    for chunk in instances.chunks(BATCH) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|(st, se, uid, x)| {
                format!("({account}, {st}, {se}, '{uid}', '1.2.840.10008.5.1.4.1.1.6.1', '1.2.840.10008.1.2.1', {}, 1, 600, 800, 1000, 'k/{uid}', 'dimse', 'US1', 0)", x + 1)
            })
            .collect();
        exec(c, format!("INSERT INTO instances (account_id, study_ref, series_ref, sop_uid, sop_class_uid, transfer_syntax, instance_number, frames, pixel_rows, pixel_columns, size_bytes, blob_key, source, received_from, received_at) VALUES {}", rows.join(","))).await;
    }
    exec(c, "COMMIT".into()).await;
    println!(
        "  loaded {n} studies, {patients} patients, {} series, {} instances in {:.1} s",
        series.len(),
        instances.len(),
        t0.elapsed().as_secs_f64()
    );
    // A real patient to look for by full name, and one by ID.
    let rare = names[patients / 2].clone();
    (rare, format!("P{:07}", patients / 3))
}

/// Day `d` after 2015-01-01 as YYYYMMDD (30-day months are enough here).
fn chrono_like(d: usize) -> String {
    format!("{}{:02}{:02}", 2015 + d / 360, 1 + (d % 360) / 30, 1 + d % 30)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn time_queries(store: &dyn Store, account: AccountId, rare: &str, pid: &str) {
    let text = |t: &str| StudySearch { text: Some(t.into()), ..Default::default() };
    let rare_words = rare.replace('^', " ").to_lowercase();
    let shapes: Vec<(&str, StudySearch)> = vec![
        ("no filter (first page)", StudySearch::default()),
        ("no filter, page 200", StudySearch { page: Page { limit: 25, offset: 25 * 199 }, ..Default::default() }),
        ("one common prefix: gar", text("gar")),
        ("two words: garcia ana", text("garcia ana")),
        ("accents: josé martínez", text("josé martínez")),
        ("one patient's full name", text(&rare_words)),
        ("patient ID", text(pid)),
        ("accession", text("A00054321")),
        ("date range (1 month) + US", StudySearch {
            date: Some(DateRange { from: Some("20200301".into()), to: Some("20200331".into()) }),
            modality: Some("US".into()),
            ..Default::default()
        }),
        ("name + modality MR", StudySearch { text: Some("lopez".into()), modality: Some("MR".into()), ..Default::default() }),
        ("no match: zzzz", text("zzzz")),
    ];
    println!("  {:<30} {:>8} {:>9} {:>9} {:>12} {:>12}", "query (25 per page)", "matches", "p50 ms", "p95 ms", "+thumbs p50", "+thumbs p95");
    for (what, q) in shapes {
        let q = StudySearch { page: if q.page.limit == 100 { Page { limit: 25, offset: 0 } } else { q.page }, ..q };
        let mut search = Vec::new();
        let mut with_previews = Vec::new();
        let mut total = 0;
        for run in 0..45 {
            let t = Instant::now();
            let page = store.search_studies(account, &q).await.unwrap();
            let searched = t.elapsed();
            let uids: Vec<String> = page.rows.iter().map(|r| r.study_uid.clone()).collect();
            store.study_previews(account, &uids, 3).await.unwrap();
            if run >= 5 {
                search.push(searched);
                with_previews.push(t.elapsed());
            }
            total = page.total;
        }
        search.sort();
        with_previews.sort();
        println!(
            "  {:<30} {:>8} {:>9.2} {:>9.2} {:>12.2} {:>12.2}",
            what,
            total,
            pct(&search, 0.5),
            pct(&search, 0.95),
            pct(&with_previews, 0.5),
            pct(&with_previews, 0.95)
        );
    }
    let mut counts = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        store.count_instances(account).await.unwrap();
        counts.push(t.elapsed());
    }
    counts.sort();
    println!("  count_instances (page header): p50 {:.2} ms, p95 {:.2} ms", pct(&counts, 0.5), pct(&counts, 0.95));
}

async fn sqlite(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let store = connect(&url).await.unwrap();
    let account = store.create_account("Bench").await.unwrap().id;
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    println!("SQLite ({url})");
    let (rare, pid) = load(&mut c, account.0, n).await;
    exec(&mut c, "ANALYZE".into()).await;
    drop(c);
    time_queries(store.as_ref(), account, &rare, &pid).await;
}

async fn postgres(n: usize) {
    let admin_url =
        std::env::var("STUDYLINK_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let db = format!("studylink_bench_{}", std::process::id());
    exec(&mut admin, format!("CREATE DATABASE {db}")).await;
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&db);
    let url = url.to_string();
    {
        let store = connect(&url).await.unwrap();
        let account = store.create_account("Bench").await.unwrap().id;
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        println!("PostgreSQL ({db})");
        let (rare, pid) = load(&mut c, account.0, n).await;
        // What autovacuum does soon after a bulk load (visibility map, statistics).
        exec(&mut c, "VACUUM ANALYZE".into()).await;
        drop(c);
        time_queries(store.as_ref(), account, &rare, &pid).await;
    }
    if std::env::var_os("KEEP_DB").is_some() {
        println!("  kept {url}");
        return;
    }
    exec(&mut admin, format!("DROP DATABASE {db} WITH (FORCE)")).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("both");
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    if matches!(which, "sqlite" | "both") {
        sqlite(n).await;
    }
    if matches!(which, "postgres" | "both") {
        postgres(n).await;
    }
}
