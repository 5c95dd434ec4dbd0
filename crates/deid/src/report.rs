//! Per-object classification and report.

use std::collections::BTreeMap;

use serde::Serialize;

/// What may be done with the output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Classification {
    /// De-identified and verified: may be shared without a password.
    Clean,
    /// De-identified as far as possible, but content (a document, a report,
    /// burned-in text) can't be made safe: share only behind a password.
    NeedsPassword { reason: String },
    /// Not processed (unreadable, or could not be written).
    Rejected { reason: String },
}

impl Classification {
    pub fn as_str(&self) -> &'static str {
        match self {
            Classification::Clean => "clean",
            Classification::NeedsPassword { .. } => "needs_password",
            Classification::Rejected { .. } => "rejected",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Classification::Clean => None,
            Classification::NeedsPassword { reason } | Classification::Rejected { reason } => Some(reason),
        }
    }
}

/// Counts per action and what was found; never a patient value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ObjectReport {
    pub sop_class_uid: Option<String>,
    pub input_transfer_syntax: Option<String>,
    pub output_transfer_syntax: Option<String>,
    /// Attributes per action: D, Z, X, K, C, U, plus X_private, X_overlay_curve,
    /// X_not_allowlisted, K_allowlist, K_content, K_safe_private.
    pub actions: BTreeMap<String, u64>,
    pub options: Vec<String>,
    /// not_needed | cleaned | not_cleanable
    pub pixels: String,
    /// Kinds of identifying values the verification found in the output.
    pub verification: Vec<String>,
    /// Where they were found: attribute tags, or "bytes".
    pub verification_places: Vec<String>,
    pub notes: Vec<String>,
}
