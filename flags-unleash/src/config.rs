//! How to reach an Unleash server and how often: the [`UnleashConfig`] builder.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the server is, who is asking, and the timing of polls and metrics.
///
/// Defaults follow Unleash's SDKs: toggles polled every 15 s, metrics sent every 60 s,
/// failures retried with jittered exponential backoff up to 10 × the interval.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use flags_unleash::UnleashConfig;
///
/// let config = UnleashConfig::new("http://unleash.internal:4242", "checkout")
///     .token("default:production.abc123")
///     .interval(Duration::from_secs(10))
///     .backup_file("/var/lib/checkout/unleash-backup.json");
/// assert!(config.validate().is_ok());
/// assert_eq!(config.interval_value(), Duration::from_secs(10));
/// assert!(UnleashConfig::new("ftp://x", "app").validate().is_err());
/// ```
#[derive(Clone)]
pub struct UnleashConfig {
    pub(crate) url: String,
    pub(crate) app_name: String,
    pub(crate) instance_id: String,
    pub(crate) token: Option<String>,
    pub(crate) environment: Option<String>,
    pub(crate) context_fields: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) interval: Duration,
    pub(crate) max_backoff: Option<Duration>,
    pub(crate) timeout: Duration,
    pub(crate) start_timeout: Duration,
    pub(crate) backup_file: Option<PathBuf>,
    pub(crate) metrics_interval: Option<Duration>,
}

/// A configuration that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL is not `http://` or `https://`.
    #[error(
        "Unleash URL `{0}` is not http:// or https:// (help: give the server's base URL, e.g. http://unleash:4242)"
    )]
    BadUrl(String),
    /// An `https://` URL without the `tls` feature.
    #[error(
        "Unleash URL `{0}` is https:// but flags-unleash was built without TLS (help: enable the crate feature `tls`)"
    )]
    TlsDisabled(String),
    /// No application name.
    #[error("the application name is empty (help: Unleash groups metrics by it; name the service)")]
    EmptyAppName,
    /// A zero polling interval.
    #[error("the polling interval is zero (help: Unleash's SDKs poll every 15 s)")]
    ZeroInterval,
    /// A header name or value that HTTP cannot carry.
    #[error(
        "header `{0}` has a name or value HTTP cannot carry (control characters or an empty name)"
    )]
    BadHeader(String),
}

impl UnleashConfig {
    /// A configuration for the server at `url` (its base URL; a trailing `/api` is
    /// accepted too) and the application `app_name`.
    pub fn new(url: impl Into<String>, app_name: impl Into<String>) -> UnleashConfig {
        let app_name = app_name.into();
        let host = crate::mapping::system_hostname()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        UnleashConfig {
            url: url.into(),
            instance_id: format!("{app_name}-{host}-{}", std::process::id()),
            app_name: app_name.clone(),
            token: None,
            environment: None,
            context_fields: Vec::new(),
            headers: Vec::new(),
            interval: Duration::from_secs(15),
            max_backoff: None,
            timeout: Duration::from_secs(10),
            start_timeout: Duration::from_secs(5),
            backup_file: Some(default_backup_file(&app_name)),
            metrics_interval: Some(Duration::from_secs(60)),
        }
    }

    /// The API token sent as `Authorization` (a client token of the environment).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> UnleashConfig {
        self.token = Some(token.into());
        self
    }

    /// This process's instance id (default: `<app>-<host>-<pid>`).
    #[must_use]
    pub fn instance_id(mut self, id: impl Into<String>) -> UnleashConfig {
        self.instance_id = id.into();
        self
    }

    /// The environment named in metrics and set as the `environment` field of every
    /// evaluation context (default: `default`, as in Unleash's SDKs). The token, not
    /// this name, decides which toggles the server sends.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> UnleashConfig {
        self.environment = Some(environment.into());
        self
    }

    /// A field every evaluation context has unless it sets its own, beside `appName`
    /// and `environment` (Unleash SDKs' static context fields, e.g. a region). Setting
    /// a name twice keeps the last value.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_unleash::UnleashConfig;
    ///
    /// let config = UnleashConfig::new("http://unleash:4242", "checkout")
    ///     .environment("production")
    ///     .context_field("region", "eu-west-1");
    /// let ctx = config.default_context();
    /// assert_eq!(ctx.get("appName"), Some("checkout"));
    /// assert_eq!(ctx.get("environment"), Some("production"));
    /// assert_eq!(ctx.get("region"), Some("eu-west-1"));
    /// ```
    #[must_use]
    pub fn context_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> UnleashConfig {
        let name = name.into();
        self.context_fields.retain(|(n, _)| *n != name);
        self.context_fields.push((name, value.into()));
        self
    }

    /// The default context fields [`start`](crate::start) installs with
    /// [`Context::set_defaults`](flags_runtime::Context::set_defaults): `appName`,
    /// `environment` (`default` unless set) and the [`context_field`](Self::context_field)s
    /// (which may replace the first two).
    #[must_use]
    pub fn default_context(&self) -> flags_runtime::Context {
        let environment = self.environment.as_deref().unwrap_or("default");
        let mut ctx = flags_runtime::Context::new()
            .attr("appName", self.app_name.as_str())
            .attr("environment", environment);
        for (name, value) in &self.context_fields {
            ctx = ctx.attr(name.as_str(), value.as_str());
        }
        ctx
    }

    /// An extra header sent with every request (a proxy's credentials, say).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> UnleashConfig {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How often toggles are fetched (default 15 s).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> UnleashConfig {
        self.interval = interval;
        self
    }

    /// The configured polling interval.
    #[must_use]
    pub fn interval_value(&self) -> Duration {
        self.interval
    }

    /// Longest wait between attempts while the server fails (default 10 × interval).
    #[must_use]
    pub fn max_backoff(mut self, max: Duration) -> UnleashConfig {
        self.max_backoff = Some(max);
        self
    }

    /// Bound on each HTTP call, connection included (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> UnleashConfig {
        self.timeout = timeout;
        self
    }

    /// How long [`start`](crate::start) waits for the server's first answer (default
    /// 5 s). Past it, evaluation starts from the backup file (or the lower layers) and
    /// the first fetch continues in the background, so a server that accepts the
    /// connection and never answers cannot hold up a service's start.
    #[must_use]
    pub fn start_timeout(mut self, wait: Duration) -> UnleashConfig {
        self.start_timeout = wait;
        self
    }

    /// A file holding the last good payload: written (atomically) after each new one,
    /// read at start when the server cannot be reached. Default, as Unleash's SDKs
    /// keep one: `flags-unleash-<app name>.json` in the system's temporary folder
    /// (`std::env::temp_dir()`, `/tmp` on Linux), the app name's characters other
    /// than letters, digits, `-`, `_` and `.` replaced by `_`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_unleash::UnleashConfig;
    ///
    /// let config = UnleashConfig::new("http://unleash:4242", "checkout/eu");
    /// let default = std::env::temp_dir().join("flags-unleash-checkout_eu.json");
    /// assert_eq!(config.backup_path(), Some(default.as_path()));
    /// assert_eq!(config.no_backup_file().backup_path(), None);
    /// ```
    #[must_use]
    pub fn backup_file(mut self, path: impl Into<PathBuf>) -> UnleashConfig {
        self.backup_file = Some(path.into());
        self
    }

    /// Keeps no backup file: at start without the server, flags keep their lower
    /// layers.
    #[must_use]
    pub fn no_backup_file(mut self) -> UnleashConfig {
        self.backup_file = None;
        self
    }

    /// How often usage metrics are sent (default 60 s); `None` sends none and leaves
    /// the registry's counting alone.
    #[must_use]
    pub fn metrics_interval(mut self, interval: Option<Duration>) -> UnleashConfig {
        self.metrics_interval = interval;
        self
    }

    /// The backup file, if any.
    #[must_use]
    pub fn backup_path(&self) -> Option<&Path> {
        self.backup_file.as_deref()
    }

    /// Checks what can be checked before the first request.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.url.trim();
        let lower = url.to_ascii_lowercase();
        let rest = if let Some(rest) = lower.strip_prefix("http://") {
            rest
        } else if let Some(rest) = lower.strip_prefix("https://") {
            if !cfg!(feature = "tls") {
                return Err(ConfigError::TlsDisabled(self.url.clone()));
            }
            rest
        } else {
            return Err(ConfigError::BadUrl(self.url.clone()));
        };
        if rest.is_empty() || rest.starts_with('/') {
            return Err(ConfigError::BadUrl(self.url.clone()));
        }
        if self.app_name.trim().is_empty() {
            return Err(ConfigError::EmptyAppName);
        }
        if self.interval.is_zero() {
            return Err(ConfigError::ZeroInterval);
        }
        let bad = |s: &str| s.chars().any(|c| c.is_control());
        for (name, value) in &self.headers {
            if name.is_empty() || bad(name) || bad(value) || name.contains([':', ' ']) {
                return Err(ConfigError::BadHeader(name.clone()));
            }
        }
        for (name, value) in [
            ("Authorization", self.token.as_deref().unwrap_or_default()),
            ("UNLEASH-APPNAME", &self.app_name),
            ("UNLEASH-INSTANCEID", &self.instance_id),
        ] {
            if bad(value) {
                return Err(ConfigError::BadHeader(name.to_owned()));
            }
        }
        Ok(())
    }

    /// The client API's base: `<url>/api` (once).
    pub(crate) fn api_url(&self) -> String {
        let base = self.url.trim().trim_end_matches('/');
        if base.ends_with("/api") {
            base.to_owned()
        } else {
            format!("{base}/api")
        }
    }

    /// The origin named in errors and telemetry: the server's URL.
    pub(crate) fn origin(&self) -> String {
        self.url.trim().trim_end_matches('/').to_owned()
    }

    /// The longest backoff.
    pub(crate) fn backoff_cap(&self) -> Duration {
        self.max_backoff
            .unwrap_or_else(|| self.interval.saturating_mul(10))
            .max(self.interval)
    }
}

/// `<temp>/flags-unleash-<app>.json`, the app name made safe for a file name.
fn default_backup_file(app_name: &str) -> PathBuf {
    let safe: String = app_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(format!("flags-unleash-{safe}.json"))
}

impl fmt::Debug for UnleashConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a secret: never printed.
        f.debug_struct("UnleashConfig")
            .field("url", &self.url)
            .field("app_name", &self.app_name)
            .field("instance_id", &self.instance_id)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("environment", &self.environment)
            .field("context_fields", &self.context_fields)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("interval", &self.interval)
            .field("max_backoff", &self.backoff_cap())
            .field("timeout", &self.timeout)
            .field("start_timeout", &self.start_timeout)
            .field("backup_file", &self.backup_file)
            .field("metrics_interval", &self.metrics_interval)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_url_appends_api_once() {
        for (url, api) in [
            ("http://h:4242", "http://h:4242/api"),
            ("http://h:4242/", "http://h:4242/api"),
            ("http://h:4242/api", "http://h:4242/api"),
            ("http://h/unleash/api/", "http://h/unleash/api"),
            ("http://h/unleash", "http://h/unleash/api"),
        ] {
            assert_eq!(UnleashConfig::new(url, "a").api_url(), api, "{url}");
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let ok = UnleashConfig::new("http://127.0.0.1:1", "app");
        assert_eq!(ok.validate(), Ok(()));
        assert_eq!(
            UnleashConfig::new("127.0.0.1:1", "app").validate(),
            Err(ConfigError::BadUrl("127.0.0.1:1".into()))
        );
        assert_eq!(
            UnleashConfig::new("http://", "app").validate(),
            Err(ConfigError::BadUrl("http://".into()))
        );
        assert_eq!(
            UnleashConfig::new("http://h", " ").validate(),
            Err(ConfigError::EmptyAppName)
        );
        assert_eq!(
            ok.clone().interval(Duration::ZERO).validate(),
            Err(ConfigError::ZeroInterval)
        );
        assert_eq!(
            ok.clone().token("a\r\nb").validate(),
            Err(ConfigError::BadHeader("Authorization".into()))
        );
        assert_eq!(
            ok.clone().header("X: y", "v").validate(),
            Err(ConfigError::BadHeader("X: y".into()))
        );
        let https = UnleashConfig::new("https://unleash.example", "app").validate();
        if cfg!(feature = "tls") {
            assert_eq!(https, Ok(()));
        } else {
            assert_eq!(
                https,
                Err(ConfigError::TlsDisabled("https://unleash.example".into()))
            );
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = UnleashConfig::new("http://h", "a").token("s3cr3t");
        let text = format!("{c:?}");
        assert!(
            !text.contains("s3cr3t") && text.contains("<redacted>"),
            "{text}"
        );
        assert_eq!(c.backoff_cap(), Duration::from_secs(150));
        assert_eq!(
            c.max_backoff(Duration::from_secs(1)).backoff_cap(),
            Duration::from_secs(15),
            "never below the interval"
        );
    }
}
