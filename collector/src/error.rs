//! The one error type of the HTTP side and its one mapping to responses: a status code, a
//! `Retry-After` where a retry can succeed, and a short machine-readable reason. Details go to
//! the log; the response never echoes a payload, a header or an internal error.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The batch is malformed (its envelope; single bad events are rejected one by one).
    #[error("bad batch: {0}")]
    BadBatch(String),
    /// No or unknown write key.
    #[error("bad write key")]
    WriteKey,
    /// The `Origin` is not allowed to send events.
    #[error("origin not allowed")]
    Origin,
    /// Body, decompressed body or batch too large.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Not JSON or text/plain, or an unknown content encoding.
    #[error("unsupported media type: {0}")]
    MediaType(String),
    /// This client sends too fast.
    #[error("rate limited")]
    RateLimited(Duration),
    /// The write queue is full: the collector is overloaded.
    #[error("overloaded")]
    Overloaded,
    /// The store failed or is unreachable.
    #[error("store unavailable")]
    StoreDown,
}

impl AppError {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadBatch(_) => StatusCode::BAD_REQUEST,
            Self::WriteKey => StatusCode::UNAUTHORIZED,
            Self::Origin => StatusCode::FORBIDDEN,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) | Self::Overloaded => StatusCode::TOO_MANY_REQUESTS,
            Self::StoreDown => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable reason (also the metrics label).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadBatch(_) => "bad_batch",
            Self::WriteKey => "bad_write_key",
            Self::Origin => "origin_not_allowed",
            Self::TooLarge(_) => "too_large",
            Self::MediaType(_) => "unsupported_media_type",
            Self::RateLimited(_) => "rate_limited",
            Self::Overloaded => "overloaded",
            Self::StoreDown => "store_unavailable",
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited(d) => Some(*d),
            Self::Overloaded => Some(Duration::from_secs(1)),
            Self::StoreDown => Some(Duration::from_secs(5)),
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        // The detail of a 4xx is ours (a field name and a reason, never a value): safe to return.
        let detail = match &self {
            Self::BadBatch(d) | Self::TooLarge(d) | Self::MediaType(d) => Some(d.clone()),
            _ => None,
        };
        let body = serde_json::json!({ "error": self.code(), "detail": detail });
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Some(after) = self.retry_after() {
            let secs = after.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}
