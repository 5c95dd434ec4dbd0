//! Delivery reports. Providers call back on URLs we give them per message:
//!
//! * Twilio: `POST {base}/hooks/sms/twilio/{outbox id}?t={token}` with a form
//!   (MessageSid, MessageStatus, ErrorCode…);
//! * Kannel: `GET {base}/hooks/sms/kannel/{outbox id}?t={token}&type={DLR type}`
//!   (Kannel fills in `%d`).
//!
//! The token is random per attempt and stored only as a hash, so nobody can
//! forge a status without having seen the URL. The web routes parse with
//! [`twilio_status`] / [`kannel_dlr`] and apply with [`apply`]; none of these
//! URLs or fields carries patient data (Kannel's `%p` would: we never ask for it).

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use url::Url;

use studylink_store::outbox::OutboxId;
pub use studylink_store::outbox::{DeliveryOutcome, DeliveryStatus};
use studylink_store::{OutboxStore, StoreResult};

/// Route templates for the web layer (axum syntax).
pub const TWILIO_ROUTE: &str = "/hooks/sms/twilio/{id}";
pub const KANNEL_ROUTE: &str = "/hooks/sms/kannel/{id}";

/// A parsed delivery report, before its token is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryUpdate {
    /// Our outbox id, from the callback's path.
    pub outbox_id: i64,
    /// The provider's id for the message, when the report names it.
    pub provider_id: Option<String>,
    pub status: DeliveryStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("malformed delivery report: {0}")]
    Malformed(&'static str),
}

/// Builds the callback URLs from the server's public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrls {
    base: Url,
}

impl CallbackUrls {
    pub fn new(public_base: Url) -> CallbackUrls {
        CallbackUrls { base: public_base }
    }

    fn route(&self, route: &str, id: i64, token: &str) -> String {
        let path = route.replace("{id}", &id.to_string());
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query(None);
        url.query_pairs_mut().append_pair("t", token);
        url.into()
    }

    /// Twilio's `StatusCallback`.
    pub fn twilio_status(&self, id: i64, token: &str) -> String {
        self.route(TWILIO_ROUTE, id, token)
    }

    /// Kannel's `dlr-url`. A string, not a `Url`: the literal `%d` is Kannel's
    /// placeholder, not a percent-escape.
    pub fn kannel_dlr(&self, id: i64, token: &str) -> String {
        format!("{}&type=%d", self.route(KANNEL_ROUTE, id, token))
    }
}

/// A new callback secret (256 bits, URL-safe) and the hash to store.
pub fn new_callback_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_callback_token(&token);
    (token, hash)
}

pub fn hash_callback_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Twilio's status callback form (`application/x-www-form-urlencoded` body).
/// `Ok(None)` for interim states (queued, sending…) that change nothing.
pub fn twilio_status(
    outbox_id: i64,
    form_body: &str,
) -> Result<Option<DeliveryUpdate>, CallbackError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(form_body)
        .map_err(|_| CallbackError::Malformed("not a form body"))?;
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let status = get("MessageStatus")
        .or_else(|| get("SmsStatus"))
        .ok_or(CallbackError::Malformed("no MessageStatus"))?;
    let provider_id = get("MessageSid")
        .or_else(|| get("SmsSid"))
        .map(str::to_owned);
    let status = match status {
        "sent" => DeliveryStatus::Sent,
        "delivered" | "read" => DeliveryStatus::Delivered,
        "undelivered" | "failed" | "canceled" => {
            let code = get("ErrorCode")
                .map(|c| format!(" (error {c})"))
                .unwrap_or_default();
            DeliveryStatus::Failed {
                reason: format!("twilio: {status}{code}"),
            }
        }
        "queued" | "accepted" | "scheduled" | "sending" | "receiving" | "received" => {
            return Ok(None);
        }
        _ => return Err(CallbackError::Malformed("unknown MessageStatus")),
    };
    Ok(Some(DeliveryUpdate {
        outbox_id,
        provider_id,
        status,
    }))
}

/// Kannel's DLR callback: the query string of our `dlr-url` after Kannel
/// replaced `%d`. Types: 1 delivered to phone, 2 not delivered, 4 queued on
/// the SMSC, 8 accepted by the SMSC, 16 rejected by the SMSC.
pub fn kannel_dlr(outbox_id: i64, query: &str) -> Result<Option<DeliveryUpdate>, CallbackError> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| CallbackError::Malformed("not a query string"))?;
    let kind: u32 = fields
        .iter()
        .find(|(n, _)| n == "type")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or(CallbackError::Malformed("no DLR type"))?;
    let status = match kind {
        1 => DeliveryStatus::Delivered,
        8 => DeliveryStatus::Sent,
        2 => DeliveryStatus::Failed {
            reason: "kannel: not delivered to the phone".into(),
        },
        16 => DeliveryStatus::Failed {
            reason: "kannel: rejected by the SMSC".into(),
        },
        4 => return Ok(None),
        _ => return Err(CallbackError::Malformed("unknown DLR type")),
    };
    Ok(Some(DeliveryUpdate {
        outbox_id,
        provider_id: None,
        status,
    }))
}

/// Checks the token and applies the report.
pub async fn apply(
    store: &dyn OutboxStore,
    update: &DeliveryUpdate,
    token: &str,
    now: studylink_model::Millis,
) -> StoreResult<DeliveryOutcome> {
    store
        .apply_delivery_update(
            OutboxId(update.outbox_id),
            &hash_callback_token(token),
            &update.status,
            now,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> CallbackUrls {
        CallbackUrls::new(Url::parse("https://studylink.clinic.example/base/").unwrap())
    }

    #[test]
    fn callback_urls_carry_id_and_token_only() {
        let (token, hash) = new_callback_token();
        assert_eq!(token.len(), 43);
        assert_eq!(hash, hash_callback_token(&token));
        assert_ne!(new_callback_token().0, token);
        assert_eq!(
            urls().twilio_status(42, "tok"),
            "https://studylink.clinic.example/base/hooks/sms/twilio/42?t=tok"
        );
        assert_eq!(
            urls().kannel_dlr(42, "tok"),
            "https://studylink.clinic.example/base/hooks/sms/kannel/42?t=tok&type=%d"
        );
        let no_path = CallbackUrls::new(Url::parse("http://127.0.0.1:8080").unwrap());
        assert_eq!(
            no_path.twilio_status(1, "a-b_c"),
            "http://127.0.0.1:8080/hooks/sms/twilio/1?t=a-b_c"
        );
    }

    #[test]
    fn twilio_statuses() {
        let u = twilio_status(
            5,
            "MessageSid=SM123&MessageStatus=delivered&To=%2B34612345678",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            u,
            DeliveryUpdate {
                outbox_id: 5,
                provider_id: Some("SM123".into()),
                status: DeliveryStatus::Delivered
            }
        );
        assert_eq!(
            twilio_status(5, "MessageSid=SM1&MessageStatus=sent")
                .unwrap()
                .unwrap()
                .status,
            DeliveryStatus::Sent
        );
        let failed = twilio_status(
            5,
            "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            failed.status,
            DeliveryStatus::Failed {
                reason: "twilio: undelivered (error 30003)".into()
            }
        );
        assert_eq!(
            twilio_status(5, "SmsSid=SM1&SmsStatus=queued").unwrap(),
            None
        );
        assert!(twilio_status(5, "MessageSid=SM1").is_err());
        assert!(twilio_status(5, "MessageStatus=exploded").is_err());
    }

    #[test]
    fn kannel_dlr_types() {
        assert_eq!(
            kannel_dlr(9, "t=x&type=1").unwrap().unwrap().status,
            DeliveryStatus::Delivered
        );
        assert_eq!(
            kannel_dlr(9, "t=x&type=8").unwrap().unwrap().status,
            DeliveryStatus::Sent
        );
        assert!(matches!(
            kannel_dlr(9, "type=2").unwrap().unwrap().status,
            DeliveryStatus::Failed { .. }
        ));
        assert!(matches!(
            kannel_dlr(9, "type=16").unwrap().unwrap().status,
            DeliveryStatus::Failed { .. }
        ));
        assert_eq!(kannel_dlr(9, "type=4").unwrap(), None);
        assert!(
            kannel_dlr(9, "type=%d").is_err(),
            "an unsubstituted placeholder"
        );
        assert!(kannel_dlr(9, "type=99").is_err());
        assert!(kannel_dlr(9, "t=x").is_err());
    }
}
