//! `studylink import PATH…`: the same pipeline as C-STORE, fed from files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use studylink_ingest::Origin;
use studylink_model::{Actor, IngestSource};

use crate::app::open_core;
use crate::config::Config;

/// Files ingested at once: parsing and fsync overlap, the disk stays busy.
const CONCURRENCY: usize = 4;

pub async fn run(cfg: Config, paths: Vec<PathBuf>) -> Result<()> {
    let core = open_core(&cfg).await?;
    let mut files = Vec::new();
    for p in &paths {
        anyhow::ensure!(p.exists(), "{} does not exist", p.display());
        for entry in walkdir::WalkDir::new(p).follow_links(true).sort_by_file_name() {
            let entry = entry?;
            if entry.file_type().is_file() {
                files.push(entry.into_path());
            }
        }
    }
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files  {per_sec}  eta {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let origin = Arc::new(Origin {
        source: IngestSource::Import,
        received_from: "import".into(),
        actor: Actor::System,
        expected_sop_uid: None,
    });
    let ingest = core.ingest.clone();
    let account = core.account;
    // Spawned so parsing runs on all cores; `buffered` keeps CONCURRENCY in flight.
    let mut results = futures::stream::iter(files.into_iter().map(|path| {
        let ingest = ingest.clone();
        let origin = origin.clone();
        tokio::spawn(async move {
            let r = ingest.ingest_path(account, &path, &origin).await;
            (path, r)
        })
    }))
    .buffered(CONCURRENCY);
    let (mut stored, mut dup, mut refused) = (0u64, 0u64, Vec::new());
    while let Some(joined) = results.next().await {
        let (path, r) = joined?;
        match r {
            Ok(d) if d.duplicate => dup += 1,
            Ok(_) => stored += 1,
            Err(e) => refused.push((path, e.to_string())),
        }
        bar.set_message(format!("{stored} stored, {dup} already there, {} refused", refused.len()));
        bar.inc(1);
    }
    bar.finish();
    println!("{stored} stored, {dup} already stored, {} refused", refused.len());
    for (path, why) in &refused {
        println!("  refused {}: {why}", path.display());
    }
    core.store
        .audit(&studylink_model::AuditEvent {
            account_id: Some(account),
            actor: Actor::System,
            action: "import".into(),
            target_kind: None,
            target_id: None,
            detail: format!(r#"{{"stored":{stored},"duplicates":{dup},"refused":{}}}"#, refused.len()),
        })
        .await?;
    if !refused.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
