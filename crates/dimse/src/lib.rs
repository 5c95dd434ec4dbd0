//! DICOM C-STORE and C-ECHO service class provider.
//!
//! Each association runs in its own task. A C-STORE's P-DATA fragments are
//! appended to a spool file as they arrive (a 300 MB cine never sits in memory),
//! the ingest pipeline makes it durable and indexes it, and only then is the
//! success status sent. If anything fails the device gets a failure status and
//! keeps its copy.

mod command;
mod server;

pub use server::{DimseConfig, DimseServer};
