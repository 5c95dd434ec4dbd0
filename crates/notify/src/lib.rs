//! Patient notifications for shares: the link goes out by email and SMS.
//!
//! * [`contacts`] — what staff type in the send dialog, parsed into an email
//!   address and/or an E.164 phone number.
//! * [`message`] — the email (HTML + text) and the SMS, in Spanish or English.
//!   They carry the clinic's name, the link and the expiry date: never patient data.
//! * [`transport`] — SMTP, Twilio-compatible REST, Kannel `sendsms`, and a local
//!   outbox folder (the default when nothing is configured).
//! * [`delivery`] — delivery reports (Twilio status callbacks, Kannel DLRs) and
//!   the unguessable callback URLs they arrive on.
//! * [`worker`] — drains the transactional outbox table (`studylink_store::OutboxStore`)
//!   with leases, retries and backoff.

pub mod contacts;
pub mod delivery;
pub mod i18n;
pub mod message;
pub mod transport;
pub mod worker;

pub use contacts::{
    ContactError, ContactWarning, CountryCode, E164Phone, EmailAddress, PatientContacts,
};
pub use delivery::{CallbackUrls, DeliveryStatus, DeliveryUpdate};
pub use i18n::Lang;
pub use message::{Payload, RenderedEmail, RenderedSms, ShareMessage};
pub use transport::{Accepted, Outgoing, SendError, Transport};
pub use worker::{NotifyConfig, OutboxWorker, Outcome, SmsConfig, Transports, WorkerConfig};
