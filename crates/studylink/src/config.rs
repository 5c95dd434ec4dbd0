//! Configuration: defaults → `studylink.toml` (or `--config FILE`) →
//! `STUDYLINK__SECTION__KEY` environment variables → command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite database, blobs and spool files live here unless configured elsewhere.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub dicom: DicomConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub ingest: IngestSection,
    pub log: LogConfig,
    pub share: ShareSection,
    /// Email and SMS providers. Not serialised: its defaults are "none", and
    /// `studylink_notify::NotifyConfig` only deserialises.
    #[serde(default, skip_serializing)]
    pub notify: studylink_notify::NotifyConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareSection {
    /// 64 hex digits. Patient links are derived from it: every node of one
    /// installation needs the same key, and changing it breaks resending old
    /// links (they still open). Empty: generated once into
    /// `<data_dir>/secrets/link.key`.
    pub link_key: String,
    /// Objects de-identified and rendered at once per share (0: 2 × cores).
    pub workers: usize,
    /// Reading text inside the image area of burned-in objects with OCR
    /// (libtesseract) and blanking identifying words: "auto" (when the
    /// library is installed, with a warning when it is not), "required" (the
    /// server will not start without it) or "off".
    pub ocr: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Address staff and patients use; defaults to `http://<listen>`.
    pub public_base_url: Option<String>,
    /// Defaults to true when the public URL is https.
    pub secure_cookies: Option<bool>,
    pub session_ttl_hours: i64,
    pub max_upload_mb: u64,
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    /// Proxies whose X-Forwarded-For header names the real client (for login rate limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DicomConfig {
    pub listen: SocketAddr,
    pub ae_title: String,
    /// Empty: any calling AE title may store.
    pub allowed_calling_ae_titles: Vec<String>,
    pub max_pdu_kb: u32,
    pub idle_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://user@host/db`. Empty: `<data_dir>/studylink.db`.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// "local" or "s3".
    pub kind: String,
    /// Local: blob root; empty means `<data_dir>/blobs`.
    pub root: Option<PathBuf>,
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub prefix: Option<String>,
    pub allow_http: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSection {
    pub max_instance_mb: u64,
    /// Tags read for patient phones and emails, as 8 hex digits.
    pub contact_tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// "text" or "json".
    pub format: String,
    /// A tracing filter, e.g. "info" or "studylink=debug". Debug may log UIDs.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./studylink-data"),
            http: HttpConfig {
                listen: "127.0.0.1:8080".parse().unwrap(),
                public_base_url: None,
                secure_cookies: None,
                session_ttl_hours: 12,
                max_upload_mb: 4096,
                login_max_failures: 5,
                login_window_minutes: 15,
                trusted_proxies: vec![],
            },
            dicom: DicomConfig {
                listen: "0.0.0.0:11112".parse().unwrap(),
                ae_title: "STUDYLINK".into(),
                allowed_calling_ae_titles: vec![],
                max_pdu_kb: 1024,
                idle_timeout_secs: 120,
                shutdown_grace_secs: 30,
            },
            database: DatabaseConfig { url: String::new() },
            storage: StorageConfig {
                kind: "local".into(),
                root: None,
                bucket: None,
                endpoint: None,
                region: None,
                access_key_id: None,
                secret_access_key: None,
                prefix: None,
                allow_http: false,
            },
            ingest: IngestSection {
                max_instance_mb: 4096,
                contact_tags: vec!["00102154".into(), "00102155".into(), "00104000".into()],
            },
            log: LogConfig {
                format: "text".into(),
                level: "info".into(),
            },
            share: ShareSection {
                link_key: String::new(),
                workers: 0,
                ocr: "auto".into(),
            },
            notify: Default::default(),
        }
    }
}

/// Flags that override the file and the environment.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dicom_listen: Option<SocketAddr>,
}

impl Config {
    /// `explicit` is `--config`; without it `./studylink.toml` is read if present.
    pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match explicit {
            Some(p) => {
                anyhow::ensure!(p.exists(), "config file {} does not exist", p.display());
                fig = fig.merge(Toml::file_exact(p));
            }
            None => fig = fig.merge(Toml::file("studylink.toml")),
        }
        fig = fig.merge(Env::prefixed("STUDYLINK__").split("__"));
        let mut cfg: Config = fig.extract().context("invalid configuration")?;
        if let Some(d) = &overrides.data_dir {
            cfg.data_dir = d.clone();
        }
        if let Some(a) = overrides.http_listen {
            cfg.http.listen = a;
        }
        if let Some(a) = overrides.dicom_listen {
            cfg.dicom.listen = a;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<()> {
        let ae = self.dicom.ae_title.trim();
        anyhow::ensure!(
            !ae.is_empty()
                && ae.len() <= 16
                && ae.chars().all(|c| c.is_ascii_graphic() || c == ' ')
                && !ae.contains('\\'),
            "dicom.ae_title must be 1–16 printable ASCII characters without backslash"
        );
        anyhow::ensure!(
            matches!(self.storage.kind.as_str(), "local" | "s3"),
            "storage.kind must be \"local\" or \"s3\""
        );
        anyhow::ensure!(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format must be \"text\" or \"json\""
        );
        anyhow::ensure!(
            self.share.link_key.is_empty()
                || (self.share.link_key.len() == 64
                    && self.share.link_key.chars().all(|c| c.is_ascii_hexdigit())),
            "share.link_key must be 64 hex digits (generate one with: openssl rand -hex 32)"
        );
        for t in &self.ingest.contact_tags {
            anyhow::ensure!(
                parse_tag(t).is_some(),
                "ingest.contact_tags: {t:?} is not 8 hex digits like \"00104000\""
            );
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("studylink.db").display())
        } else {
            self.database.url.clone()
        }
    }

    pub fn public_base_url(&self) -> String {
        match &self.http.public_base_url {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
            _ => format!("http://{}", self.http.listen),
        }
    }
}

pub fn parse_tag(s: &str) -> Option<(u16, u16)> {
    let s = s
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .replace(',', "");
    if s.len() != 8 || !s.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some((
        u16::from_str_radix(&s[..4], 16).ok()?,
        u16::from_str_radix(&s[4..], 16).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let c = Config::default();
        assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.dicom.listen.port(), 11112);
        assert_eq!(c.dicom.ae_title, "STUDYLINK");
        assert!(c.database_url().ends_with("studylink-data/studylink.db"));
    }

    #[test]
    fn file_then_env_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[dicom]\nae_title = \"FROMFILE\"\n[http]\nsession_ttl_hours = 3\n",
            )?;
            jail.set_env("STUDYLINK__DICOM__AE_TITLE", "FROMENV");
            let o = Overrides {
                http_listen: Some("127.0.0.1:9999".parse().unwrap()),
                ..Default::default()
            };
            let c = Config::load(Some(Path::new("custom.toml")), &o).unwrap();
            assert_eq!(c.dicom.ae_title, "FROMENV");
            assert_eq!(c.http.session_ttl_hours, 3);
            assert_eq!(c.http.listen.port(), 9999);
            Ok(())
        });
    }

    #[test]
    fn bad_values_are_explained() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("STUDYLINK__DICOM__AE_TITLE", "WAY_TOO_LONG_AE_TITLE");
            let e = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("ae_title"), "{e}");
            Ok(())
        });
        figment::Jail::expect_with(|jail| {
            jail.set_env("STUDYLINK__HTTP__LISTEN", "not an address");
            let e = format!(
                "{:#}",
                Config::load(None, &Overrides::default()).unwrap_err()
            );
            assert!(e.to_lowercase().contains("http.listen"), "{e}");
            Ok(())
        });
    }
}
