//! A real Unleash server for the integration tests (tests/server.rs,
//! tests/server_edits.rs): its admin API, the client configuration that reaches it,
//! and waits for conditions with the shared generous deadline. Each test binary uses
//! part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use flags_test_support::{service, wait};
use flags_unleash::UnleashConfig;

/// The poll interval the tests' clients use.
pub const INTERVAL: Duration = Duration::from_millis(1000);

/// The server from `scripts/unleash-server.sh start`'s exports.
pub struct Server {
    pub url: String,
    pub admin: String,
    pub client: String,
    pub script: PathBuf,
    http: ureq::Agent,
}

impl Server {
    /// The server from the environment, or `None` (after saying so) when it is not
    /// running and not required.
    pub fn from_env() -> Option<Server> {
        let url = service::from_env(
            "TEST_UNLEASH_URL",
            "an Unleash server",
            "`eval \"$(scripts/unleash-server.sh start)\"` from the workspace root",
        )?;
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("{name} is not set: use the exports of scripts/unleash-server.sh start")
            })
        };
        let script = std::env::var_os("TEST_UNLEASH_SCRIPT").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/unleash-server.sh"),
            PathBuf::from,
        );
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(wait::patience()))
            .http_status_as_error(false)
            .build()
            .into();
        Some(Server {
            url: url.trim_end_matches('/').to_owned(),
            admin: var("TEST_UNLEASH_ADMIN_TOKEN"),
            client: var("TEST_UNLEASH_CLIENT_TOKEN"),
            script,
            http,
        })
    }

    pub fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, String) {
        let url = format!("{}{path}", self.url);
        let response = match (method, body) {
            ("GET", _) => self
                .http
                .get(&url)
                .header("Authorization", &self.admin)
                .call(),
            ("DELETE", _) => self
                .http
                .delete(&url)
                .header("Authorization", &self.admin)
                .call(),
            ("PUT", body) => self
                .http
                .put(&url)
                .header("Authorization", &self.admin)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| serde_json::json!({})).to_string()),
            (_, body) => self
                .http
                .post(&url)
                .header("Authorization", &self.admin)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| serde_json::json!({})).to_string()),
        };
        match response {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => panic!("{method} {url}: {e}"),
        }
    }

    pub fn ok(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> String {
        let (status, text) = self.admin(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status}: {text}"
        );
        text
    }

    /// Archives and deletes toggle `name` if it exists (a previous run's leftovers).
    /// Only before a test: deleting a toggle whose usage metrics the server is still
    /// filing can crash Unleash 6.
    pub fn remove(&self, name: &str) {
        let _ = self.admin(
            "DELETE",
            &format!("/api/admin/projects/default/features/{name}"),
            None,
        );
        let _ = self.admin("DELETE", &format!("/api/admin/archive/{name}"), None);
    }

    /// Creates toggle `name` with one strategy in the development environment and
    /// returns the strategy's id.
    pub fn create(&self, name: &str, strategy: serde_json::Value) -> String {
        self.ok(
            "POST",
            "/api/admin/projects/default/features",
            Some(serde_json::json!({"name": name, "type": "release"})),
        );
        let created = self.ok(
            "POST",
            &format!(
                "/api/admin/projects/default/features/{name}/environments/development/strategies"
            ),
            Some(strategy),
        );
        let created: serde_json::Value = serde_json::from_str(&created).unwrap_or_default();
        created["id"].as_str().unwrap_or_default().to_owned()
    }

    /// The "yes" evaluations of `toggle` that the server has stored for `app` in the
    /// last hour (its usage metrics).
    pub fn yes_count(&self, toggle: &str, app: &str) -> u64 {
        let (_, text) = self.admin(
            "GET",
            &format!("/api/admin/client-metrics/features/{toggle}/raw?hoursBack=1"),
            None,
        );
        let data: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        data["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["appName"] == app)
            .filter_map(|d| d["yes"].as_u64())
            .sum()
    }

    pub fn switch(&self, name: &str, on: bool) {
        let verb = if on { "on" } else { "off" };
        self.ok(
            "POST",
            &format!("/api/admin/projects/default/features/{name}/environments/development/{verb}"),
            None,
        );
    }

    /// Runs the server script (`node-stop`, `node-start`).
    pub fn script(&self, command: &str) {
        let started = Instant::now();
        let out = Command::new("bash")
            .arg(&self.script)
            .arg(command)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", self.script.display()));
        assert!(
            out.status.success(),
            "{} {command}: {}",
            self.script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{command} took {:.1} s", started.elapsed().as_secs_f64());
    }

    pub fn config(&self, app: &str) -> UnleashConfig {
        UnleashConfig::new(&self.url, app)
            .token(&self.client)
            .interval(INTERVAL)
            .max_backoff(Duration::from_secs(2))
            .timeout(wait::patience())
    }
}

/// Waits for `pred` with the shared generous deadline, prints and returns how long it
/// took.
pub fn wait(what: &str, pred: impl FnMut() -> bool) -> Duration {
    let took = wait::wait_until(what, pred);
    eprintln!("{what}: after {:.0} ms", took.as_secs_f64() * 1000.0);
    took
}

/// [`wait`] for what the server does on its own schedule (storing metrics and
/// registrations): twice the deadline.
pub fn wait_on_server(what: &str, pred: impl FnMut() -> bool) -> Duration {
    let took = wait::wait_until_within(what, wait::patience() * 2, pred);
    eprintln!("{what}: after {:.0} ms", took.as_secs_f64() * 1000.0);
    took
}
