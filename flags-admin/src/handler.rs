//! The framework-neutral handler: one `http::Request` in, one `http::Response` out.
//! The standalone server calls it for every request; a service with its own HTTP
//! stack (axum, hyper) calls it from a route of its own.

use std::sync::Arc;

use flags_rollout::RolloutController;
use flags_runtime::Registry;
use flags_runtime::manifest::Date;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};

use crate::audit::AuditFile;
use crate::auth::Tokens;
use crate::dashboard;
use crate::error::{ApiError, response};
use crate::view;
use crate::write::{FlagAction, RolloutAction};

/// The hook behind `GET /metrics`.
pub(crate) type MetricsHook = (&'static str, Arc<dyn Fn() -> String + Send + Sync>);

/// The admin endpoint of one registry: every route, behind [`Admin::handle`]. Cheap to
/// clone (shared state). Built by [`Admin::builder`].
///
/// # Mounting it in a service
///
/// Whatever the framework: collect the body into a `Vec<u8>` (at most the body limit),
/// strip the prefix the admin routes are mounted under, call [`Admin::handle`], send
/// the response. `handle` does no I/O but the audit log's append, so calling it from
/// an async handler is fine (or use the runtime's `spawn_blocking` if the log is on a
/// slow disk). The shape, on the `http` types alone:
///
/// ```
/// use flags_admin::Admin;
/// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
/// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
/// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
/// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
/// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
///
/// /// The service's route for `/flags-admin/*`, its body already collected.
/// fn admin_route(admin: &Admin, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
///     let (mut parts, body) = req.into_parts();
///     let path = parts.uri.path().strip_prefix("/flags-admin").unwrap_or("/");
///     parts.uri = if path.is_empty() { "/" } else { path }.parse().expect("a path stays a path");
///     admin.handle(http::Request::from_parts(parts, body))
/// }
///
/// let admin = Admin::builder(&REGISTRY).build()?;
/// let req = http::Request::get("/flags-admin/flags.json").body(Vec::new()).unwrap();
/// assert_eq!(admin_route(&admin, req).status(), 200);
/// # Ok::<(), flags_admin::AdminError>(())
/// ```
///
/// With axum (not a dependency of this crate), the same in its terms:
///
/// ```ignore
/// let admin = flags_admin::Admin::builder(&flags::REGISTRY)
///     .token("alice", secret)
///     .audit_log("/var/log/myapp/flags-admin.jsonl")
///     .build()?;
/// let app = axum::Router::new().nest_service(
///     "/flags-admin",
///     axum::routing::any(move |req: axum::extract::Request| {
///         let admin = admin.clone();
///         async move {
///             let (parts, body) = req.into_parts();
///             match axum::body::to_bytes(body, flags_admin::DEFAULT_BODY_LIMIT).await {
///                 Ok(bytes) => admin
///                     .handle(http::Request::from_parts(parts, bytes.to_vec()))
///                     .map(axum::body::Body::from),
///                 Err(_) => http::Response::builder().status(413).body(axum::body::Body::empty()).unwrap(),
///             }
///         }
///     }),
/// );
/// ```
///
/// The dashboard fetches `flags.json` and `api/...` relative to its own address, so
/// under a prefix it works when served from `/prefix/` (with the trailing slash).
/// The loopback-only `Host` check of the standalone server (see [`AdminServer`](crate::AdminServer)) is
/// the surrounding service's business when mounted.
#[derive(Clone)]
pub struct Admin {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) registry: &'static Registry,
    pub(crate) tokens: Tokens,
    pub(crate) controller: Option<Arc<RolloutController>>,
    pub(crate) metrics: Option<MetricsHook>,
    pub(crate) audit: Option<AuditFile>,
    pub(crate) body_limit: usize,
    pub(crate) today: Option<Date>,
    /// Held by each flag write from reading the value before to applying the new one,
    /// so that the audit log's order and `before` values are those that took effect.
    pub(crate) writes: std::sync::Mutex<()>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("registry", &self.inner.registry)
            .field("writes", &self.inner.writes_enabled())
            .field("controller", &self.inner.controller.is_some())
            .field("metrics", &self.inner.metrics.is_some())
            .finish_non_exhaustive()
    }
}

/// A request routed: what it asks for.
enum Route<'a> {
    Dashboard,
    FlagsJson,
    Metrics,
    Flag(&'a str, FlagAction),
    Rollout(&'a str, RolloutAction),
}

impl Inner {
    pub(crate) fn writes_enabled(&self) -> bool {
        !self.tokens.is_empty() && self.audit.is_some()
    }

    /// The actor allowed to write, or why not.
    fn authorize(&self, req: &Request<Vec<u8>>) -> Result<String, ApiError> {
        if self.tokens.is_empty() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "writes are disabled: no token is configured on this admin endpoint (AdminBuilder::token)",
            ));
        }
        if self.audit.is_none() {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "writes are disabled: no audit log is configured on this admin endpoint (AdminBuilder::audit_log)",
            ));
        }
        self.tokens.actor(req.headers()).map(str::to_owned)
    }
}

/// The route of `path` and the methods it accepts.
fn route(path: &str) -> Option<(Route<'_>, &'static str)> {
    match path {
        "/" | "/index.html" => return Some((Route::Dashboard, "GET, HEAD")),
        "/flags.json" => return Some((Route::FlagsJson, "GET, HEAD")),
        "/metrics" => return Some((Route::Metrics, "GET, HEAD")),
        _ => {}
    }
    let rest = path.strip_prefix("/api/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["flags", name, "override"] if !name.is_empty() => {
            Some((Route::Flag(name, FlagAction::Override), "POST, DELETE"))
        }
        ["flags", name, "kill"] if !name.is_empty() => {
            Some((Route::Flag(name, FlagAction::Kill), "POST"))
        }
        ["rollouts", flag, verb] if !flag.is_empty() => {
            RolloutAction::parse(verb).map(|a| (Route::Rollout(flag, a), "POST"))
        }
        _ => None,
    }
}

impl Admin {
    /// Answers one request: the routes of the [crate docs](crate), with bad requests
    /// answered 4xx and a JSON `{"error": ..}`. A body over the limit is refused with
    /// 413 here too, whatever the caller already read.
    ///
    /// ```
    /// use flags_admin::Admin;
    /// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
    /// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// let admin = Admin::builder(&REGISTRY).build()?;
    /// let req = http::Request::get("/flags.json").body(Vec::new()).unwrap();
    /// let res = admin.handle(req);
    /// assert_eq!(res.status(), 200);
    /// let view: flags_admin::FlagsView = serde_json::from_slice(res.body()).unwrap();
    /// assert_eq!(view.flags[0].name, "beta");
    ///
    /// // No token configured: every write is refused.
    /// let write = http::Request::post("/api/flags/beta/kill").body(Vec::new()).unwrap();
    /// assert_eq!(admin.handle(write).status(), 403);
    /// # Ok::<(), flags_admin::AdminError>(())
    /// ```
    pub fn handle(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        match self.dispatch(&req) {
            Ok(mut res) => {
                if req.method() == Method::HEAD {
                    res.body_mut().clear();
                }
                res
            }
            Err(e) => e.into_response(),
        }
    }

    fn dispatch(&self, req: &Request<Vec<u8>>) -> Result<Response<Vec<u8>>, ApiError> {
        let inner = &*self.inner;
        let path = req.uri().path();
        let Some((route, allow)) = route(path) else {
            return Err(ApiError::not_found(format!("no such path: {path}")));
        };
        let method = req.method();
        let read = *method == Method::GET || *method == Method::HEAD;
        let allowed = match &route {
            Route::Dashboard | Route::FlagsJson | Route::Metrics => read,
            Route::Flag(_, FlagAction::Override) => {
                *method == Method::POST || *method == Method::DELETE
            }
            Route::Flag(..) | Route::Rollout(..) => *method == Method::POST,
        };
        if !allowed {
            return Err(ApiError::method(allow));
        }
        match route {
            Route::Dashboard => {
                let mut res = ok(
                    "text/html; charset=utf-8",
                    dashboard::PAGE.as_bytes().to_vec(),
                );
                let headers = res.headers_mut();
                headers.insert(
                    http::header::CONTENT_SECURITY_POLICY,
                    http::HeaderValue::from_static(dashboard::CSP),
                );
                headers.insert(
                    http::header::X_CONTENT_TYPE_OPTIONS,
                    http::HeaderValue::from_static("nosniff"),
                );
                Ok(res)
            }
            Route::FlagsJson => {
                let view = view::build(
                    inner.registry,
                    inner.controller.as_deref(),
                    inner.writes_enabled(),
                    view::today(inner.today),
                );
                let body = serde_json::to_vec(&view)
                    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
                Ok(ok("application/json", body))
            }
            Route::Metrics => match &inner.metrics {
                Some((content_type, render)) => Ok(ok(content_type, render().into_bytes())),
                None => {
                    let mut metrics = flags_observe::FlagMetrics::new(inner.registry);
                    if let Some(c) = &inner.controller {
                        metrics = metrics.with_controller(c.clone());
                    }
                    Ok(if accepts_openmetrics(req) {
                        ok(flags_observe::CONTENT_TYPE, metrics.encode().into_bytes())
                    } else {
                        ok(
                            flags_observe::PROMETHEUS_TEXT_CONTENT_TYPE,
                            metrics.encode_prometheus_text().into_bytes(),
                        )
                    })
                }
            },
            Route::Flag(name, action) => {
                let body = limited(req, inner.body_limit)?;
                let actor = inner.authorize(req)?;
                let action = match (action, req.method()) {
                    (FlagAction::Override, &Method::DELETE) => FlagAction::ClearOverride,
                    (a, _) => a,
                };
                let json = inner.flag_write(&actor, name, action, body)?;
                Ok(ok("application/json", json.to_string().into_bytes()))
            }
            Route::Rollout(flag, action) => {
                let body = limited(req, inner.body_limit)?;
                let actor = inner.authorize(req)?;
                let json = inner.rollout_write(&actor, flag, action, body)?;
                Ok(ok("application/json", json.to_string().into_bytes()))
            }
        }
    }
}

fn limited(req: &Request<Vec<u8>>, limit: usize) -> Result<&[u8], ApiError> {
    let body = req.body();
    if body.len() > limit {
        return Err(ApiError::too_large(limit));
    }
    Ok(body)
}

fn ok(content_type: &'static str, body: Vec<u8>) -> Response<Vec<u8>> {
    response(
        Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, content_type)
            .header(CACHE_CONTROL, "no-store"),
        body,
    )
}

/// Whether the scraper asks for OpenMetrics text (Prometheus sends
/// `Accept: application/openmetrics-text;...` when it can parse it).
fn accepts_openmetrics<B>(req: &Request<B>) -> bool {
    req.headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"))
}
