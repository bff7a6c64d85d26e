//! The few HTTP calls an Unleash client makes, over a blocking `ureq` agent: fetch the
//! toggles with `If-None-Match`, post JSON (registration, metrics). Every call is
//! bounded by the configured timeout and never runs on the evaluation path.

use std::time::Duration;

use crate::config::UnleashConfig;

/// Largest payload read from the server; a larger one is refused (and reported).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// What a fetch of the toggles returned.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// `304 Not Modified`: the ETag sent is current.
    NotModified,
    /// A new payload and its ETag.
    Body {
        bytes: Vec<u8>,
        etag: Option<String>,
    },
}

/// A client of one Unleash server.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    agent: ureq::Agent,
    api: String,
    headers: Vec<(String, String)>,
}

impl Http {
    pub(crate) fn new(config: &UnleashConfig) -> Http {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.timeout.min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .user_agent(format!("flags-unleash/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let mut headers = vec![
            ("UNLEASH-APPNAME".to_owned(), config.app_name.clone()),
            ("UNLEASH-INSTANCEID".to_owned(), config.instance_id.clone()),
            ("UNLEASH-SDK".to_owned(), crate::SDK_VERSION.to_owned()),
            // The spec version whose suite this crate passes: servers use it to decide,
            // for instance, whether to send segments or inline their constraints.
            (
                "Unleash-Client-Spec".to_owned(),
                crate::CLIENT_SPEC.to_owned(),
            ),
        ];
        if let Some(token) = &config.token {
            headers.push(("Authorization".to_owned(), token.clone()));
        }
        headers.extend(config.headers.iter().cloned());
        Http {
            agent,
            api: config.api_url(),
            headers,
        }
    }

    /// The URL of client-API endpoint `path` (`client/features`).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.api)
    }

    /// `GET client/features`, conditional on `etag`.
    pub(crate) fn features(&self, etag: Option<&str>) -> Result<Fetched, String> {
        let url = self.url("client/features");
        let mut request = self.agent.get(&url).header("Accept", "application/json");
        for (k, v) in &self.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(etag) = etag {
            request = request.header("If-None-Match", etag);
        }
        let response = request.call().map_err(|e| describe(&url, &e))?;
        let status = response.status().as_u16();
        match status {
            304 => Ok(Fetched::NotModified),
            200 => {
                let etag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = response
                    .into_body()
                    .with_config()
                    .limit(MAX_BODY)
                    .read_to_vec()
                    .map_err(|e| format!("GET {url}: reading the body: {e}"))?;
                Ok(Fetched::Body { bytes, etag })
            }
            _ => Err(status_error("GET", &url, status)),
        }
    }

    /// `POST path` with a JSON body; any 2xx is success.
    pub(crate) fn post_json(&self, path: &str, body: &[u8]) -> Result<(), String> {
        let url = self.url(path);
        let mut request = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        for (k, v) in &self.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let response = request.send(body).map_err(|e| describe(&url, &e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(status_error("POST", &url, status))
        }
    }
}

fn describe(url: &str, e: &ureq::Error) -> String {
    format!("{url}: {e}")
}

fn status_error(method: &str, url: &str, status: u16) -> String {
    let help = match status {
        401 | 403 => " (help: check the API token: a client token for this environment)",
        404 => " (help: check the URL: the server's base URL, with or without `/api`)",
        429 | 500..=599 => " (the server is overloaded or failing; retrying with backoff)",
        _ => "",
    };
    format!("{method} {url}: HTTP {status}{help}")
}
