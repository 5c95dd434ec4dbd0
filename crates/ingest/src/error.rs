use thiserror::Error;

/// Why an object was not stored. The messages go back to the sender (DICOM error
/// comment, HTTP body) and into logs, so they never quote attribute values: a
/// value could be a patient's name.
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("object is larger than the configured limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("not a DICOM object: {0}")]
    NotDicom(String),
    #[error("malformed DICOM object: {0}")]
    Malformed(String),
    #[error("required attribute missing or empty: {0}")]
    Missing(&'static str),
    #[error("data set does not match the request: {0}")]
    Mismatch(String),
    #[error("storage failure: {0}")]
    Storage(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl IngestError {
    /// True when the sender's object is at fault (HTTP 4xx / DICOM "cannot
    /// understand"); false when we failed to store it (HTTP 5xx / "out of resources").
    pub fn is_client_error(&self) -> bool {
        !matches!(self, IngestError::Storage(_) | IngestError::Io(_))
    }

    /// A short label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            IngestError::TooLarge { .. } => "too_large",
            IngestError::NotDicom(_) => "not_dicom",
            IngestError::Malformed(_) => "malformed",
            IngestError::Missing(_) => "missing_attribute",
            IngestError::Mismatch(_) => "mismatch",
            IngestError::Storage(_) => "storage",
            IngestError::Io(_) => "io",
        }
    }
}

impl From<studylink_store::StoreError> for IngestError {
    fn from(e: studylink_store::StoreError) -> Self {
        IngestError::Storage(e.to_string())
    }
}
