//! The one ingest pipeline behind every door (C-STORE, STOW-RS, the upload page,
//! `studylink import`).
//!
//! A received object is first streamed to a temporary file inside the data dir,
//! then: header parsed (never the pixel data) → blob moved into the blob store and
//! made durable → index row committed. Only then does the caller acknowledge the
//! sender. A crash at any point leaves either nothing, or an orphan blob that no
//! row points to (harmless; swept later), never an acknowledged instance without
//! its bytes.

mod contacts;
mod error;
mod parse;
mod pipeline;
mod spool;

pub use contacts::{extract_contacts, DEFAULT_CONTACT_TAGS};
pub use error::IngestError;
pub use parse::{parse_file, ParsedFile};
pub use pipeline::{IngestConfig, Ingested, Ingestor, Origin};
pub use spool::TempObject;
