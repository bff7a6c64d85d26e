//! A refused request: its status and the message sent back as `{"error": ".."}`.

use http::header::{ALLOW, CONTENT_TYPE};
use http::{Response, StatusCode};
use std::net::SocketAddr;
use std::path::PathBuf;

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

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A token with an empty actor or secret.
    #[error(
        "token #{position}: {what} is empty (help: give each token an actor name and a non-empty secret)"
    )]
    EmptyToken {
        /// 1-based position among the `.token(..)` calls.
        position: usize,
        /// `the actor` or `the secret`.
        what: &'static str,
    },
    /// Two tokens with the same secret: the audit log could not tell who wrote.
    #[error(
        "tokens of `{first}` and `{second}` have the same secret (help: give every actor a secret of its own)"
    )]
    DuplicateSecret {
        /// The first actor.
        first: String,
        /// The second actor.
        second: String,
    },
    /// The audit log cannot be opened for appending.
    #[error("cannot open the audit log {}: {source} (help: check the directory exists and is writable)", path.display())]
    AuditLog {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The address is not `host:port`.
    #[error("bind address `{0}` is not an IP address and port such as 127.0.0.1:9440")]
    BadAddress(String),
    /// The server could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A limit of zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// The server's accept thread could not be started.
    #[error("cannot start the admin server thread: {0}")]
    Thread(std::io::Error),
}
