//! StudyLink's HTTP surface: staff pages, authentication, DICOMweb, uploads,
//! health and metrics. Handlers stay thin: they parse the request, call the
//! store or the ingest pipeline, and map errors through [`WebError`].

pub mod api;
pub mod auth;
pub mod dicomweb;
mod error;
mod ops;
pub mod pages;
pub mod patient;

use std::ops::Deref;
use std::sync::Arc;

use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use studylink_ingest::Ingestor;
use studylink_model::{AccountId, Clock};
use studylink_share::ShareService;
use studylink_store::{OutboxStore, Store};

pub use error::WebError;

/// HTTP settings (the `[http]` section of the config).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address patients and staff use, e.g. `https://studies.clinic.example`.
    /// Links and the setup URL are built from it.
    pub public_base_url: String,
    /// Mark cookies `Secure`. On by default when the public URL is https.
    pub secure_cookies: bool,
    pub session_ttl_hours: i64,
    /// Largest request body for STOW-RS and uploads.
    pub max_upload_bytes: u64,
    /// Failed logins allowed per email and per client address within the window.
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// Load balancers / reverse proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_base_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            session_ttl_hours: 12,
            max_upload_bytes: 4 * 1024 * 1024 * 1024,
            login_max_failures: 5,
            login_window_minutes: 15,
            trusted_proxies: Vec::new(),
        }
    }
}

pub struct StateInner {
    pub store: Arc<dyn Store>,
    pub ingest: Ingestor,
    pub config: WebConfig,
    /// The clinic single-clinic installs use (devices and uploads land here).
    pub default_account: AccountId,
    pub metrics: Option<PrometheusHandle>,
    /// The same database as `store`, seen as the message outbox.
    pub outbox: Arc<dyn OutboxStore>,
    /// Creating, resending and revoking patient links.
    pub shares: Arc<ShareService>,
    /// "Now" for link expiry and lockouts (tests move it).
    pub clock: Clock,
    /// Which channels really leave the server (false: the outbox folder).
    pub delivery: DeliveryChannels,
}

/// Whether email and SMS have a real provider configured. Without one, the send
/// dialog says plainly that messages go to the Outbox page instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryChannels {
    pub email: bool,
    pub sms: bool,
}

#[derive(Clone)]
pub struct AppState(pub Arc<StateInner>);

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ops::routes())
        .merge(auth::routes())
        .merge(pages::routes())
        .merge(patient::routes())
        .merge(api::routes())
        .nest("/dicomweb", dicomweb::routes())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(ops::span_without_query))
        .with_state(state)
}
