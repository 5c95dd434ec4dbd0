//! Where messages go. Each transport hands a message to a provider and says
//! whether that worked; the worker decides about retries.
//!
//! Errors must never carry the recipient: a provider's reply often quotes the
//! address or number, so transports pass their messages through [`redact`].

mod folder;
mod kannel;
mod smtp;
mod twilio;

use async_trait::async_trait;

pub use folder::OutboxFolder;
pub use kannel::{KannelConfig, KannelSms};
pub use smtp::{Smtp, SmtpConfig, TlsMode};
pub use twilio::{TwilioConfig, TwilioSms};

use crate::contacts::{E164Phone, EmailAddress};
use crate::delivery::CallbackUrls;
use crate::message::{RenderedEmail, RenderedSms};

/// One message to hand over. `id` is the outbox row's id: transports that
/// need a stable name for the message (file names, logs) use it.
#[derive(Clone, Copy)]
pub enum Outgoing<'a> {
    Email {
        id: i64,
        to: &'a EmailAddress,
        email: &'a RenderedEmail,
    },
    Sms {
        id: i64,
        to: &'a E164Phone,
        sms: &'a RenderedSms,
        /// Where the provider reports delivery (see [`Transport::callback_url`]).
        callback: Option<&'a str>,
    },
}

/// Without the recipient or the text, so `?msg` in a log line leaks nothing.
impl std::fmt::Debug for Outgoing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Outgoing::Email { .. } => "Email",
            Outgoing::Sms { .. } => "Sms",
        };
        f.debug_struct(kind)
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl Outgoing<'_> {
    pub fn id(&self) -> i64 {
        match self {
            Outgoing::Email { id, .. } | Outgoing::Sms { id, .. } => *id,
        }
    }

    /// The recipient, for [`redact`] only.
    fn recipient(&self) -> &str {
        match self {
            Outgoing::Email { to, .. } => to.as_str(),
            Outgoing::Sms { to, .. } => to.as_str(),
        }
    }
}

/// The provider took the message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accepted {
    /// The provider's id for it (Twilio's SM…, the SMTP server's queue id), if any.
    pub provider_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Retrying cannot help: the address or number is refused, or this
    /// transport does not carry this kind of message.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The provider is down, slow, rate-limiting or misconfigured: try later.
    #[error("temporary: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }

    pub fn message(&self) -> &str {
        match self {
            SendError::Permanent(m) | SendError::Transient(m) => m,
        }
    }

    fn wrong_channel(transport: &str) -> SendError {
        SendError::Permanent(format!(
            "the {transport} transport cannot send this kind of message"
        ))
    }
}

#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Shown on the admin Outbox page and in logs: "smtp", "twilio", "kannel", "folder".
    fn name(&self) -> &'static str;

    /// The delivery-report URL to give the provider for outbox row `id`, if this
    /// transport gets delivery reports. `token` is the row's callback secret.
    fn callback_url(&self, _urls: &CallbackUrls, _id: i64, _token: &str) -> Option<String> {
        None
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<Accepted, SendError>;
}

/// Removes the recipient (in the forms a provider may quote it) from a message
/// that will be stored and logged.
pub fn redact(text: &str, msg: &Outgoing<'_>) -> String {
    let recipient = msg.recipient();
    let mut out = text.to_owned();
    let mut forms = vec![recipient.to_owned()];
    if let Some(digits) = recipient.strip_prefix('+') {
        forms.push(digits.to_owned());
    }
    for form in forms {
        if !form.is_empty() {
            out = replace_ignore_case(&out, &form, "<recipient>");
        }
    }
    out
}

fn replace_ignore_case(haystack: &str, needle: &str, with: &str) -> String {
    let lower_h = haystack.to_lowercase();
    let lower_n = needle.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; fall back to exact matching then.
    if lower_h.len() != haystack.len() || lower_n.len() != needle.len() {
        return haystack.replace(needle, with);
    }
    let mut out = String::with_capacity(haystack.len());
    let mut rest = 0;
    for (at, _) in lower_h.match_indices(&lower_n) {
        if at < rest {
            continue;
        }
        out.push_str(&haystack[rest..at]);
        out.push_str(with);
        rest = at + needle.len();
    }
    out.push_str(&haystack[rest..]);
    out
}

/// A reply body, cut to a size fit for the outbox's last_error column.
fn snippet(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &body[..at]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::CountryCode;

    #[test]
    fn debug_output_hides_the_recipient() {
        let to = EmailAddress::parse("patient@example.org").unwrap();
        let email = crate::message::tests::sample(crate::Lang::En).render_email();
        let shown = format!(
            "{:?}",
            Outgoing::Email {
                id: 3,
                to: &to,
                email: &email
            }
        );
        assert_eq!(shown, "Email { id: 3, .. }");
    }

    #[test]
    fn redact_removes_recipient_in_any_case_and_form() {
        let to = EmailAddress::parse("Patient@Example.org").unwrap();
        let email = crate::message::tests::sample(crate::Lang::En).render_email();
        let msg = Outgoing::Email {
            id: 1,
            to: &to,
            email: &email,
        };
        assert_eq!(
            redact(
                "550 5.1.1 <patient@example.org>: Recipient address rejected",
                &msg
            ),
            "550 5.1.1 <<recipient>>: Recipient address rejected"
        );
        let phone = E164Phone::parse("612345678", CountryCode::SPAIN).unwrap();
        let sms = crate::message::tests::sample(crate::Lang::En).render_sms();
        let msg = Outgoing::Sms {
            id: 1,
            to: &phone,
            sms: &sms,
            callback: None,
        };
        assert_eq!(
            redact("The 'To' number +34612345678 is not valid", &msg),
            "The 'To' number <recipient> is not valid"
        );
        assert_eq!(
            redact("bad receiver 34612345678", &msg),
            "bad receiver <recipient>"
        );
    }
}
