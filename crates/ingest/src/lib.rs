//! The one ingest pipeline behind every door (C-STORE, STOW-RS, the upload page,
//! `studylink import`).
//!
//! A received object is first streamed to a temporary file inside the data dir
//! (or, for C-STORE on local disk, to a blob file reserved in advance), then:
//! header parsed (never the pixel data) → blob moved into the blob store and
//! made durable → index row committed. Only then does the caller acknowledge the
//! sender. For a reserved blob file, the flush of its bytes and the index commit
//! run at the same time. A crash at any point leaves nothing, an orphan blob
//! that no row points to (harmless; swept later), or a row whose blob is short,
//! which the sender's resend repairs (no success was sent for it); never an
//! acknowledged instance without its bytes.

mod contacts;
mod error;
mod flush;
mod parse;
mod pipeline;
mod spool;

pub use contacts::{extract_contacts, DEFAULT_CONTACT_TAGS};
pub use error::IngestError;
pub use parse::{parse_file, ParsedFile};
pub use pipeline::{IngestConfig, Ingested, Ingestor, Origin};
pub use spool::TempObject;
