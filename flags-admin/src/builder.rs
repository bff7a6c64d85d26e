//! Configuration of an admin endpoint: tokens, hooks, limits and the address, checked
//! once when the [`Admin`] is built.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flags_rollout::RolloutController;
use flags_runtime::Registry;
use flags_runtime::manifest::Date;

use crate::audit::AuditFile;
use crate::auth::Tokens;
use crate::error::AdminError;
use crate::handler::{Admin, Inner, MetricsHook};
use crate::server::AdminServer;

/// Where the standalone server listens unless [`AdminBuilder::bind`] says otherwise:
/// loopback only, so that nothing outside the machine reaches it by accident.
pub const DEFAULT_BIND: &str = "127.0.0.1:9440";

/// The largest request body accepted by default: 64 KiB (a write is a few bytes).
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How long the standalone server waits for a whole request to arrive, and for a
/// response to be taken, before it drops the connection: 10 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds an [`Admin`]: [`AdminBuilder::build`] for the handler alone (to mount in a
/// service), [`AdminBuilder::start`] for the standalone server.
///
/// ```
/// use flags_admin::Admin;
/// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
/// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
/// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
/// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
/// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
/// let server = Admin::builder(&REGISTRY).bind("127.0.0.1:0").start()?;
/// assert!(server.local_addr().ip().is_loopback());
/// assert_ne!(server.local_addr().port(), 0);
/// server.stop();
/// # Ok::<(), flags_admin::AdminError>(())
/// ```
#[must_use = "a builder does nothing until `build` or `start`"]
pub struct AdminBuilder {
    registry: &'static Registry,
    tokens: Vec<(String, String)>,
    controller: Option<Arc<RolloutController>>,
    metrics: Option<MetricsHook>,
    audit: Option<PathBuf>,
    bind: String,
    body_limit: usize,
    timeout: Duration,
    max_connections: usize,
    hosts: Vec<String>,
    today: Option<Date>,
}

impl Admin {
    /// A builder for the admin endpoint of `registry`.
    pub fn builder(registry: &'static Registry) -> AdminBuilder {
        AdminBuilder {
            registry,
            tokens: Vec::new(),
            controller: None,
            metrics: None,
            audit: None,
            bind: DEFAULT_BIND.to_owned(),
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: DEFAULT_TIMEOUT,
            max_connections: 32,
            hosts: Vec::new(),
            today: None,
        }
    }
}

impl AdminBuilder {
    /// Accepts writes from whoever sends `Authorization: Bearer <secret>`, recording
    /// them as `actor`'s. Call once per actor. Without any token every write is
    /// refused.
    pub fn token(mut self, actor: impl Into<String>, secret: impl Into<String>) -> Self {
        self.tokens.push((actor.into(), secret.into()));
        self
    }

    /// The rollout controller whose rollouts `/flags.json` shows and whose manual
    /// pause, resume and rollback the API exposes.
    pub fn controller(mut self, controller: Arc<RolloutController>) -> Self {
        self.controller = Some(controller);
        self
    }

    /// What `GET /metrics` answers instead of the default: `render`'s text, called per
    /// request and served as `content_type` (OpenMetrics text, as prometheus-client
    /// encodes it, must be served as `application/openmetrics-text; version=1.0.0`:
    /// Prometheus refuses its `info` and `# EOF` under the classic
    /// `text/plain; version=0.0.4`). For example an application's whole
    /// prometheus-client registry, with the flags' metrics registered into it
    /// (`flags_observe::FlagMetrics::register`). Without it, `/metrics` serves
    /// [`flags_observe::FlagMetrics`] of the registry (and the controller, if set), in
    /// OpenMetrics text when the scraper asks for it, else Prometheus text 0.0.4.
    pub fn metrics(
        mut self,
        content_type: &'static str,
        render: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        self.metrics = Some((content_type, Arc::new(render)));
        self
    }

    /// The audit log: a JSON Lines file, created if missing and only ever appended to,
    /// one [`AuditRecord`](crate::AuditRecord) per write. Writes are refused without
    /// one.
    pub fn audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit = Some(path.into());
        self
    }

    /// Where the standalone server listens, as `ip:port` (port 0: any free port,
    /// see [`AdminServer::local_addr`]). The default is [`DEFAULT_BIND`]; an address
    /// other than loopback exposes the endpoint to the network, so it must be set
    /// here explicitly.
    pub fn bind(mut self, addr: impl Into<String>) -> Self {
        self.bind = addr.into();
        self
    }

    /// The largest request body accepted (413 above it); default
    /// [`DEFAULT_BODY_LIMIT`].
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The standalone server's deadline for receiving a whole request (head and
    /// body) and for each write of the response; default [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        // At most a day: a deadline is `now + timeout`, which must not overflow.
        self.timeout = timeout.min(Duration::from_secs(86_400));
        self
    }

    /// Accepts requests addressed to `name` (their `Host` header) on a listener that
    /// is reachable on loopback (bound to it, or to every address). IP addresses and
    /// `localhost` are always accepted; other names are refused (403) unless allowed
    /// here, so that a web page cannot read the endpoint through a domain of its own
    /// pointed at 127.0.0.1 (DNS rebinding).
    pub fn allow_host(mut self, name: impl Into<String>) -> Self {
        self.hosts.push(name.into());
        self
    }

    /// How many connections the standalone server serves at once (one thread each);
    /// more are answered 503 at once. Default 32.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// The day expiry is judged against; by default `FLAGS_TODAY` (`YYYY-MM-DD`)
    /// when set, else the clock, read at each request.
    pub fn today(mut self, today: Date) -> Self {
        self.today = Some(today);
        self
    }

    /// The handler alone, to mount in a service's own HTTP stack.
    ///
    /// # Errors
    ///
    /// An empty or duplicated token, a zero limit, an audit log that cannot be opened.
    pub fn build(self) -> Result<Admin, AdminError> {
        self.split().map(|(admin, _)| admin)
    }

    /// Builds the handler and serves it on [`AdminBuilder::bind`]'s address from a
    /// thread of its own, until the returned [`AdminServer`] is stopped or dropped.
    ///
    /// # Errors
    ///
    /// Those of [`AdminBuilder::build`], a bad address, a port that cannot be bound.
    pub fn start(self) -> Result<AdminServer, AdminError> {
        let (admin, server) = self.split()?;
        AdminServer::start(admin, server)
    }

    fn split(self) -> Result<(Admin, ServerConfig), AdminError> {
        if self.body_limit == 0 {
            return Err(AdminError::Zero("the body limit"));
        }
        if self.max_connections == 0 {
            return Err(AdminError::Zero("max_connections"));
        }
        if self.timeout.is_zero() {
            return Err(AdminError::Zero("the timeout"));
        }
        let tokens = Tokens::new(self.tokens)?;
        let audit = match self.audit {
            None => None,
            Some(path) => Some(
                AuditFile::open(&path).map_err(|source| AdminError::AuditLog { path, source })?,
            ),
        };
        let addr: SocketAddr = self
            .bind
            .trim()
            .parse()
            .map_err(|_| AdminError::BadAddress(self.bind.clone()))?;
        let admin = Admin {
            inner: Arc::new(Inner {
                registry: self.registry,
                tokens,
                controller: self.controller,
                metrics: self.metrics,
                audit,
                body_limit: self.body_limit,
                today: self.today,
                writes: std::sync::Mutex::new(()),
            }),
        };
        Ok((
            admin,
            ServerConfig {
                addr,
                timeout: self.timeout,
                body_limit: self.body_limit,
                max_connections: self.max_connections,
                hosts: (addr.ip().is_loopback() || addr.ip().is_unspecified())
                    .then(|| self.hosts.into()),
            },
        ))
    }
}

/// What the standalone server needs beyond the handler.
pub(crate) struct ServerConfig {
    pub(crate) addr: SocketAddr,
    pub(crate) timeout: Duration,
    pub(crate) body_limit: usize,
    pub(crate) max_connections: usize,
    /// Host names requests may carry besides IP addresses and `localhost`, when the
    /// listener is reachable on loopback; `None`: any.
    pub(crate) hosts: Option<Arc<[String]>>,
}
