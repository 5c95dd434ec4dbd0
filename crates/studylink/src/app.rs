//! Wiring: open the store and blob store, build the ingest pipeline, run the
//! HTTP and DICOM servers until a signal, then shut down gracefully.

use std::sync::Arc;
use std::time::Duration;

use std::io::Write;

use anyhow::{Context, Result};
use studylink_dimse::{DimseConfig, DimseServer};
use studylink_ingest::{IngestConfig, Ingestor};
use studylink_model::Clock;
use studylink_model::{AccountId, Actor, AuditEvent, NewUser, Role};
use studylink_notify::{CallbackUrls, OutboxWorker, Transports, WorkerConfig};
use studylink_share::{ShareConfig, ShareService};
use studylink_store::outbox::OutboxChannel;
use studylink_store::{BlobConfig, BlobStore, OutboxStore, Store};
use studylink_web::{AppState, DeliveryChannels, StateInner, WebConfig};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, parse_tag};

pub fn init_tracing(cfg: &Config) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("STUDYLINK_LOG").unwrap_or_else(|_| EnvFilter::new(&cfg.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    Ok(())
}

pub struct Core {
    pub store: Arc<dyn Store>,
    pub outbox: Arc<dyn OutboxStore>,
    pub blobs: BlobStore,
    pub ingest: Ingestor,
    pub account: AccountId,
}

pub async fn open_core(cfg: &Config) -> Result<Core> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    let (store, outbox) = studylink_store::connect_with_outbox(&cfg.database_url())
        .await
        .context("cannot open the database")?;
    let blob_cfg = match cfg.storage.kind.as_str() {
        "s3" => BlobConfig::S3 {
            bucket: cfg
                .storage
                .bucket
                .clone()
                .context("storage.bucket is required for s3")?,
            endpoint: cfg.storage.endpoint.clone(),
            region: cfg.storage.region.clone(),
            access_key_id: cfg.storage.access_key_id.clone(),
            secret_access_key: cfg.storage.secret_access_key.clone(),
            prefix: cfg.storage.prefix.clone(),
            allow_http: cfg.storage.allow_http,
        },
        _ => BlobConfig::Local {
            root: cfg
                .storage
                .root
                .clone()
                .unwrap_or_else(|| cfg.data_dir.join("blobs")),
        },
    };
    let blobs = BlobStore::open(&blob_cfg)
        .await
        .context("cannot open blob storage")?;
    let contact_tags = cfg
        .ingest
        .contact_tags
        .iter()
        .filter_map(|t| parse_tag(t))
        .map(|(g, e)| dicom_tag(g, e))
        .collect();
    let ingest = Ingestor::new(
        store.clone(),
        blobs.clone(),
        IngestConfig {
            tmp_dir: cfg.data_dir.join("tmp"),
            max_instance_bytes: cfg.ingest.max_instance_mb * 1024 * 1024,
            contact_tags,
        },
    )
    .context("cannot prepare the spool directory")?;
    let account = store.default_account().await?.id;
    Ok(Core {
        store,
        outbox,
        blobs,
        ingest,
        account,
    })
}

fn dicom_tag(g: u16, e: u16) -> dicom_core::Tag {
    dicom_core::Tag(g, e)
}

pub async fn serve(cfg: Config) -> Result<()> {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let core = open_core(&cfg).await?;
    let http = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", cfg.http.listen))?;
    // Without a configured public URL, links use the address actually bound
    // (which matters with `--http 127.0.0.1:0`).
    let base = match &cfg.http.public_base_url {
        Some(u) if !u.is_empty() => cfg.public_base_url(),
        _ => format!("http://{}", http.local_addr()?),
    };
    let web_cfg = WebConfig {
        public_base_url: base.clone(),
        secure_cookies: cfg
            .http
            .secure_cookies
            .unwrap_or(base.starts_with("https://")),
        session_ttl_hours: cfg.http.session_ttl_hours,
        max_upload_bytes: cfg.http.max_upload_mb * 1024 * 1024,
        login_max_failures: cfg.http.login_max_failures,
        login_window_minutes: cfg.http.login_window_minutes,
        trusted_proxies: cfg.http.trusted_proxies.clone(),
    };
    let public_url: url::Url = base
        .parse()
        .with_context(|| format!("http.public_base_url {base:?} is not a URL"))?;
    let transports = Transports::from_config(&cfg.notify, &cfg.data_dir.join("outbox"))
        .map_err(|e| anyhow::anyhow!("invalid [notify] configuration: {e}"))?;
    let delivery = DeliveryChannels {
        email: !transports.is_local_only(OutboxChannel::Email),
        sms: !transports.is_local_only(OutboxChannel::Sms),
    };
    let worker = OutboxWorker::new(
        core.outbox.clone(),
        transports,
        WorkerConfig {
            callbacks: Some(CallbackUrls::new(public_url.clone())),
            ..WorkerConfig::default()
        },
    );
    let clock = Clock::system();
    let shares = ShareService::new(
        core.store.clone(),
        core.outbox.clone(),
        core.blobs.clone(),
        ShareConfig {
            public_base_url: public_url,
            link_key: load_link_key(&cfg)?,
            // Each object also waits on durable writes (three files, each
            // fsynced): twice the cores keeps them busy meanwhile.
            workers: if cfg.share.workers == 0 {
                std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
            } else {
                cfg.share.workers
            },
            text_finder: text_finder(&cfg.share.ocr)?,
        },
        clock.clone(),
        Some(worker.waker()),
    );
    let state = AppState(Arc::new(StateInner {
        store: core.store.clone(),
        ingest: core.ingest.clone(),
        config: web_cfg,
        default_account: core.account,
        metrics: Some(metrics),
        outbox: core.outbox.clone(),
        shares: shares.clone(),
        clock,
        delivery,
    }));
    let dimse = DimseServer::bind(
        DimseConfig {
            bind: cfg.dicom.listen,
            ae_title: cfg.dicom.ae_title.trim().to_string(),
            allowed_calling_ae_titles: cfg.dicom.allowed_calling_ae_titles.clone(),
            account: core.account,
            max_pdu_length: cfg.dicom.max_pdu_kb.clamp(4, 16 * 1024) * 1024,
            idle_timeout: Duration::from_secs(cfg.dicom.idle_timeout_secs),
            shutdown_grace: Duration::from_secs(cfg.dicom.shutdown_grace_secs),
        },
        core.ingest.clone(),
    )
    .await
    .with_context(|| format!("cannot listen for DICOM on {}", cfg.dicom.listen))?;

    let http_addr = http.local_addr()?;
    let dicom_addr = dimse.local_addr()?;
    // Written with writeln! and errors ignored: a closed stdout (a service
    // manager, a test harness) must not take the server down.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "StudyLink {} is running", env!("CARGO_PKG_VERSION"));
    let _ = writeln!(out, "  web:    http://{http_addr}  (public URL {base})");
    let _ = writeln!(
        out,
        "  DICOM:  AE title {} on {dicom_addr}",
        cfg.dicom.ae_title.trim()
    );
    let _ = writeln!(
        out,
        "  data:   {} ({})",
        cfg.data_dir.display(),
        core.store.backend()
    );
    if let Some(url) = studylink_web::auth::issue_setup_url(core.store.as_ref(), &base).await? {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "No users yet. Create the first administrator here (valid 24 hours, once):"
        );
        let _ = writeln!(out, "  {url}");
    }
    let _ = out.flush();
    drop(out);

    let shutdown = CancellationToken::new();
    tokio::spawn(signal_watcher(shutdown.clone()));
    let dimse_task = tokio::spawn(dimse.serve(shutdown.clone()));
    tokio::spawn(maintenance(core.store.clone(), shutdown.clone()));
    let worker_shutdown = shutdown.clone();
    let worker_task = tokio::spawn(worker.run(async move { worker_shutdown.cancelled().await }));
    match shares.resume().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            shares = n,
            "resumed preparing shares interrupted by a restart"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot resume interrupted shares"),
    }
    let app = studylink_web::router(state);
    let http_shutdown = shutdown.clone();
    // Without TCP_NODELAY every streamed response stalls ~40 ms on Nagle + delayed ACK.
    use axum::serve::ListenerExt;
    let http = http.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        http,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { http_shutdown.cancelled().await })
    .await
    .context("HTTP server failed")?;
    let _ = dimse_task.await;
    let _ = worker_task.await;
    tracing::info!("StudyLink stopped");
    Ok(())
}

/// The key patient links are derived from: `share.link_key`, else the one
/// generated on first start in `<data_dir>/secrets/link.key` (mode 0600).
fn load_link_key(cfg: &Config) -> Result<[u8; 32]> {
    let text = if cfg.share.link_key.is_empty() {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = cfg.data_dir.join("secrets");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("link.key");
        match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                let text = hex::encode(key);
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                f.write_all(text.as_bytes())?;
                f.sync_all()?;
                text
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    } else {
        cfg.share.link_key.clone()
    };
    let bytes = hex::decode(text.trim()).context("the link key is not hex")?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("the link key must be 32 bytes (64 hex digits)"))
}

/// Hourly housekeeping. Any node may run it; the statements are idempotent.
async fn maintenance(store: Arc<dyn Store>, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store
            .delete_expired_sessions(studylink_model::now_millis())
            .await
        {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired staff sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
        }
    }
}

async fn signal_watcher(token: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down: finishing running requests and DICOM associations");
    token.cancel();
}

pub async fn user_add(cfg: Config, email: &str, admin: bool) -> Result<()> {
    let core = open_core(&cfg).await?;
    let email = studylink_web::auth::normalize_email(email);
    anyhow::ensure!(
        email.contains('@') && !email.starts_with('@') && !email.ends_with('@'),
        "{email:?} is not an email address"
    );
    let password = studylink_web::auth::generate_password();
    let hash = studylink_web::auth::hash_password(&password)?;
    let role = if admin { Role::Admin } else { Role::Staff };
    let user = core
        .store
        .create_user(&NewUser {
            account_id: core.account,
            email: email.clone(),
            password_hash: hash,
            role,
        })
        .await
        .with_context(|| format!("cannot create user {email}"))?;
    core.store
        .audit(&AuditEvent {
            account_id: Some(core.account),
            actor: Actor::System,
            action: "user.created".into(),
            target_kind: Some("user".into()),
            target_id: Some(user.id.to_string()),
            detail: format!(r#"{{"via":"cli","role":"{}"}}"#, role.as_str()),
        })
        .await?;
    println!("Created {} {email}", role.as_str());
    println!("Password: {password}");
    Ok(())
}

pub async fn api_key_create(cfg: Config, name: &str) -> Result<()> {
    let core = open_core(&cfg).await?;
    let key = studylink_web::auth::create_api_key(core.store.as_ref(), core.account, name).await?;
    println!("{key}");
    eprintln!("Use it as: Authorization: Bearer <key>. It is shown only now.");
    Ok(())
}

/// The OCR for text inside the image area, per `share.ocr`.
fn text_finder(mode: &str) -> Result<Option<Arc<dyn studylink_deid::TextFinder>>> {
    match mode {
        "off" => Ok(None),
        "auto" | "required" => match studylink_ocr::Tesseract::load() {
            Ok(t) => Ok(Some(Arc::new(t))),
            Err(e) if mode == "auto" => {
                tracing::warn!(
                    "text inside ultrasound images will not be read: {e}; set share.ocr = \"off\" to silence this"
                );
                Ok(None)
            }
            Err(e) => anyhow::bail!("share.ocr = \"required\": {e}"),
        },
        other => anyhow::bail!("share.ocr must be \"auto\", \"required\" or \"off\", not {other:?}"),
    }
}
