use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The error type of every handler. Messages are shown to the caller, so they
/// must never carry patient data; internal details go to the log only.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    NotAcceptable(String),
    #[error("too many attempts; try again later")]
    TooManyRequests,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Internal(e) = &self {
            tracing::error!(error = %e, "request failed");
        }
        let status = self.status();
        let mut resp = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert("www-authenticate", axum::http::HeaderValue::from_static("Bearer realm=\"studylink\""));
        }
        resp
    }
}

impl From<studylink_store::StoreError> for WebError {
    fn from(e: studylink_store::StoreError) -> Self {
        match e {
            studylink_store::StoreError::NotFound(_) => WebError::NotFound,
            studylink_store::StoreError::Conflict(m) => WebError::Conflict(m),
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<anyhow::Error> for WebError {
    fn from(e: anyhow::Error) -> Self {
        WebError::Internal(e)
    }
}
