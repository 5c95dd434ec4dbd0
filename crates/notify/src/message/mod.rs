//! What the patient receives. Inputs are the clinic's own details, the link
//! and its expiry: there is deliberately no field for anything about the patient.

mod email;
mod gsm7;
mod sms;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::i18n::Lang;

pub use gsm7::{SmsEncoding, sms_length};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareMessage {
    pub clinic_name: String,
    pub clinic_logo_url: Option<Url>,
    /// `https://{public base}/p/{token}`.
    pub link: Url,
    /// The last day the link works, in the clinic's time zone; each language
    /// writes it its own way.
    pub expires_at: NaiveDate,
    pub clinic_phone: Option<String>,
    pub clinic_email: Option<String>,
    pub language: Lang,
}

/// The email as sent: `from_name` is the clinic's name, shown beside the
/// configured From address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    pub from_name: String,
    /// The clinic's own address, so a patient's reply reaches a person.
    pub reply_to: Option<String>,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedSms {
    pub text: String,
    pub encoding: SmsEncoding,
    /// How many SMS the carrier bills: 1 whenever the renderer could make it fit.
    pub segments: usize,
}

/// The outbox row's `payload` column: the rendered message, so a retry sends
/// exactly what was first rendered even if the templates changed since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Payload {
    Email(RenderedEmail),
    Sms(RenderedSms),
}

impl Payload {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("payloads serialise")
    }

    pub fn from_json(s: &str) -> Result<Payload, serde_json::Error> {
        serde_json::from_str(s)
    }
}

impl ShareMessage {
    pub fn render_email(&self) -> RenderedEmail {
        email::render(self)
    }

    pub fn render_sms(&self) -> RenderedSms {
        sms::render(self)
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// "30 November 2026" / "30 de noviembre de 2026": day first and the month in
/// words, so nobody reads 03/04 as the wrong month.
pub fn long_date(lang: Lang, d: NaiveDate) -> String {
    let m = d.month0() as usize;
    match lang {
        Lang::En => format!("{} {} {}", d.day(), MONTHS_EN[m], d.year()),
        Lang::Es => format!("{} de {} de {}", d.day(), MONTHS_ES[m], d.year()),
    }
}

/// For SMS, where every character counts: "30 Nov 2026" / "30/11/2026"
/// (Spanish readers take d/m/y for granted).
pub fn short_date(lang: Lang, d: NaiveDate) -> String {
    match lang {
        Lang::En => format!(
            "{} {} {}",
            d.day(),
            &MONTHS_EN[d.month0() as usize][..3],
            d.year()
        ),
        Lang::Es => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
    }
}

#[cfg(test)]
pub(crate) mod tests;
