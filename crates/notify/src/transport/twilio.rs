//! SMS through Twilio's REST API, or any provider that speaks it
//! (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Accepted, Outgoing, SendError, Transport, redact, snippet};
use crate::delivery::CallbackUrls;

#[derive(Clone, Deserialize)]
pub struct TwilioConfig {
    #[serde(default = "default_base")]
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// A sender number or alphanumeric sender ID; or use `messaging_service_sid`.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_base() -> String {
    "https://api.twilio.com".into()
}

fn default_timeout() -> u64 {
    30
}

impl fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"***")
            .field("from", &self.from)
            .field("messaging_service_sid", &self.messaging_service_sid)
            .finish()
    }
}

pub struct TwilioSms {
    config: TwilioConfig,
    client: reqwest::Client,
}

/// Twilio's error codes that mean "this number will never work".
const PERMANENT_CODES: &[i64] = &[
    21211, // invalid 'To' number
    21214, // 'To' number cannot be reached
    21217, // phone number does not appear to be valid
    21401, // invalid phone number
    21407, // this phone number type does not support SMS
    21408, // permission to send to this region is not enabled
    21610, // recipient unsubscribed (replied STOP)
    21612, // the 'To' number is not reachable from this sender
    21614, // 'To' number is not a valid mobile number
];

#[derive(Deserialize)]
struct Created {
    sid: String,
}

#[derive(Deserialize)]
struct ApiError {
    code: Option<i64>,
    message: Option<String>,
}

impl TwilioSms {
    pub fn new(config: TwilioConfig) -> Result<TwilioSms, String> {
        if config.from.is_none() && config.messaging_service_sid.is_none() {
            return Err("twilio: set `from` or `messaging_service_sid`".into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|e| format!("twilio: {e}"))?;
        Ok(TwilioSms { config, client })
    }

    fn endpoint(&self) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.config.base_url.trim_end_matches('/'),
            self.config.account_sid
        )
    }
}

#[async_trait]
impl Transport for TwilioSms {
    fn name(&self) -> &'static str {
        "twilio"
    }

    fn callback_url(&self, urls: &CallbackUrls, id: i64, token: &str) -> Option<String> {
        Some(urls.twilio_status(id, token))
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<Accepted, SendError> {
        let Outgoing::Sms {
            to, sms, callback, ..
        } = msg
        else {
            return Err(SendError::wrong_channel("twilio"));
        };
        let mut form: Vec<(&str, &str)> = vec![("To", to.as_str()), ("Body", sms.text.as_str())];
        match (&self.config.messaging_service_sid, &self.config.from) {
            (Some(service), _) => form.push(("MessagingServiceSid", service)),
            (None, Some(from)) => form.push(("From", from)),
            (None, None) => unreachable!("checked in new()"),
        }
        if let Some(cb) = callback {
            form.push(("StatusCallback", cb));
        }
        let body = serde_urlencoded::to_string(&form).expect("strings encode");
        let response = self
            .client
            .post(self.endpoint())
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                SendError::Transient(redact(&format!("twilio: {}", without_url(e)), msg))
            })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            let created: Created = serde_json::from_str(&text).map_err(|_| {
                SendError::Transient(format!(
                    "twilio: unexpected reply ({status}): {}",
                    snippet(&redact(&text, msg))
                ))
            })?;
            return Ok(Accepted {
                provider_id: Some(created.sid),
            });
        }
        let api: Option<ApiError> = serde_json::from_str(&text).ok();
        let code = api.as_ref().and_then(|a| a.code);
        let detail = api
            .and_then(|a| a.message)
            .unwrap_or_else(|| snippet(&text));
        let detail = redact(
            &format!(
                "twilio: HTTP {}{}: {detail}",
                status.as_u16(),
                code.map(|c| format!(" error {c}")).unwrap_or_default()
            ),
            msg,
        );
        // Bad credentials or a wrong account (401/403/404) are configuration
        // errors an admin can fix: retry rather than give up on the patient.
        if code.is_some_and(|c| PERMANENT_CODES.contains(&c)) {
            Err(SendError::Permanent(detail))
        } else {
            Err(SendError::Transient(detail))
        }
    }
}

/// reqwest errors print the URL, which holds the account SID: keep the kind only.
fn without_url(e: reqwest::Error) -> String {
    e.without_url().to_string()
}
