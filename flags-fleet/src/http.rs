//! The HTTP client the sources and targets share: a blocking `ureq` agent with a
//! timeout, statuses returned as values (so a 4xx is told apart from an outage), and
//! plain `http://` only (the workspace builds ureq without TLS).

use std::time::Duration;

/// How long one request may take before the service counts as unavailable.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// A source, target or webhook was configured with something unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL is not `http://HOST[:PORT][/PATH]`.
    #[error("`{url}` is not a usable URL: {why}")]
    Url {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// A required value is empty.
    #[error("{what} is empty")]
    Empty {
        /// Which value.
        what: &'static str,
    },
}

/// Checks `url` and returns it without a trailing slash.
pub(crate) fn base_url(url: &str) -> Result<String, ConfigError> {
    let url = url.trim();
    let bad = |why: &str| ConfigError::Url {
        url: url.to_owned(),
        why: why.to_owned(),
    };
    let rest = if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else if url.starts_with("https://") {
        return Err(bad(
            "https is not supported by this build; put a plain-HTTP proxy on loopback in front",
        ));
    } else {
        return Err(bad("it must start with http://"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("no host"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// An agent with the shared timeout that returns every status as a response.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends an idempotent request (a GET, a PATCH that sets a value) and reads it, once
/// more if the first attempt failed in transport: a server may close a pooled
/// keep-alive connection just as it is reused, which is no outage.
pub(crate) fn idempotent(
    send: impl Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), String> {
    read(send()).or_else(|_| read(send()))
}

/// The status and body of a response, or the transport error as text.
pub(crate) fn read(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, String), String> {
    let mut r = response.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            base_url("http://127.0.0.1:9090/").unwrap(),
            "http://127.0.0.1:9090"
        );
        assert!(
            base_url("https://x")
                .unwrap_err()
                .to_string()
                .contains("https")
        );
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("http://").is_err());
    }
}
