//! Email through an SMTP server (lettre), as multipart/alternative text + HTML.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use super::{Accepted, Outgoing, SendError, Transport, redact, snippet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP: only for a relay on the same host or network (and tests).
    None,
    /// Plain connection upgraded with STARTTLS, which is then required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone, Deserialize)]
pub struct SmtpConfig {
    pub host: String,
    /// Defaults to 25, 587 or 465 by `tls`.
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The envelope and header sender, e.g. "noreply@clinic.example". The
    /// display name is the clinic's, from each message.
    pub from: String,
    /// A PEM file with an extra CA to trust, for a server whose certificate
    /// comes from the clinic's own CA (the system's CAs stay trusted too).
    #[serde(default)]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Per message, connection included.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
}

impl Smtp {
    pub fn new(config: &SmtpConfig) -> Result<Smtp, String> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("smtp.from {:?} is not an email address: {e}", config.from))?;
        let host = config.host.as_str();
        let tls = |params: fn(TlsParameters) -> Tls| -> Result<Option<Tls>, String> {
            let Some(path) = &config.ca_cert else {
                return Ok(None);
            };
            let pem =
                std::fs::read(path).map_err(|e| format!("smtp.ca_cert {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| format!("smtp.ca_cert {}: {e}", path.display()))?;
            let p = TlsParameters::builder(host.to_owned())
                .add_root_certificate(cert)
                .build_rustls()
                .map_err(|e| format!("smtp: {e}"))?;
            Ok(Some(params(p)))
        };
        let relay = |params: fn(TlsParameters) -> Tls, port: u16| -> Result<_, String> {
            Ok(match tls(params)? {
                Some(t) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(t),
                None if matches!(config.tls, TlsMode::Tls) => {
                    AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| format!("smtp: {e}"))?
                }
                None => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                    .map_err(|e| format!("smtp: {e}"))?,
            }
            .port(config.port.unwrap_or(port)))
        };
        let mut builder = match config.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(config.port.unwrap_or(25)),
            TlsMode::Starttls => relay(Tls::Required, 587)?,
            TlsMode::Tls => relay(Tls::Wrapper, 465)?,
        };
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                config.password.clone().unwrap_or_default(),
            ));
        }
        let transport = builder
            .timeout(Some(Duration::from_secs(config.timeout_secs)))
            .build();
        Ok(Smtp {
            transport,
            from: from.email,
        })
    }
}

#[async_trait]
impl Transport for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let Outgoing::Email { to, email, .. } = msg else {
            return Err(SendError::wrong_channel("smtp"));
        };
        let to: Address = to.as_str().parse().map_err(|_| {
            SendError::Permanent("the email address is not deliverable by SMTP".into())
        })?;
        let mut builder = Message::builder()
            .from(Mailbox::new(
                Some(email.from_name.clone()),
                self.from.clone(),
            ))
            .to(Mailbox::new(None, to))
            .subject(email.subject.clone());
        if let Some(reply_to) = email
            .reply_to
            .as_deref()
            .and_then(|r| r.parse::<Address>().ok())
        {
            builder = builder.reply_to(Mailbox::new(Some(email.from_name.clone()), reply_to));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))?;
        match self.transport.send(message).await {
            Ok(response) => {
                let reply = response.message().collect::<Vec<_>>().join(" ");
                Ok(Accepted {
                    provider_id: Some(snippet(&redact(&reply, msg))).filter(|s| !s.is_empty()),
                })
            }
            Err(e) => {
                let text = redact(&format!("smtp: {e}"), msg);
                // 5xx is the server's final word about this message, except
                // authentication refusals, which an admin can fix; anything
                // else (4xx, timeouts, TLS, connection) may pass later.
                let code = e.status().map(|c| c.to_string());
                let auth = matches!(code.as_deref(), Some("530" | "534" | "535" | "538"));
                if e.is_permanent() && !auth {
                    Err(SendError::Permanent(text))
                } else {
                    Err(SendError::Transient(text))
                }
            }
        }
    }
}
