//! Transports and the worker against real peers: MailDev (SMTP), Kannel with
//! its fake SMSC, and a Twilio-compatible HTTP server run by the test.
//! MailDev and Kannel must be running: `scripts/peers/maildev.sh start` and
//! `scripts/peers/kannel.sh start`; the tests fail (not skip) without them.

// The parts live in integration/ so Cargo doesn't build each as its own test crate.
#[path = "integration/kannel.rs"]
mod kannel;
#[path = "integration/smtp.rs"]
mod smtp;
#[path = "integration/support.rs"]
mod support;
#[path = "integration/twilio.rs"]
mod twilio;
#[path = "integration/worker.rs"]
mod worker;
