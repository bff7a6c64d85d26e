//! A refused request: its status and the message sent back as `{"error": ".."}`.

use http::header::{ALLOW, CONTENT_TYPE};
use http::{Response, StatusCode};

/// Why a request was refused.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    /// For 405: the methods the path accepts.
    pub(crate) allow: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            allow: None,
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    pub(crate) fn method(allow: &'static str) -> ApiError {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: format!("method not allowed here; this path accepts {allow}"),
            allow: Some(allow),
        }
    }

    pub(crate) fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over the limit of {limit} bytes"),
        )
    }

    pub(crate) fn into_response(self) -> Response<Vec<u8>> {
        let body = serde_json::json!({ "error": self.message }).to_string();
        let mut builder = Response::builder()
            .status(self.status)
            .header(CONTENT_TYPE, "application/json");
        if let Some(allow) = self.allow {
            builder = builder.header(ALLOW, allow);
        }
        response(builder, body.into_bytes())
    }
}

/// Finishes a response whose parts are all valid by construction (static header
/// names and values, a status code from `StatusCode`).
pub(crate) fn response(builder: http::response::Builder, body: Vec<u8>) -> Response<Vec<u8>> {
    match builder.body(body) {
        Ok(r) => r,
        // Unreachable with the constant parts used in this crate; an empty 500 rather
        // than a panic if one ever is not.
        Err(_) => {
            let mut r = Response::new(Vec::new());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }
    }
}
