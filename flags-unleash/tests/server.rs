//! Against a real Unleash server (npm unleash-server 6.x with PostgreSQL), started by
//! `scripts/unleash-server.sh start`, which prints `TEST_UNLEASH_URL` and the tokens:
//!
//! ```sh
//! eval "$(scripts/unleash-server.sh start)"
//! cargo test -p flags-unleash --test server
//! scripts/unleash-server.sh stop
//! ```
//!
//! Without `TEST_UNLEASH_URL` this test prints "skipped: ..." with that command and
//! passes, unless `TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) makes it
//! mandatory.
//!
//! The test creates toggles through the admin API, sees the accessors follow at the
//! next polls, stops the server (the accessors keep the last state through several
//! failed polls; a second client started meanwhile serves the backup file), restarts
//! it and sees polling resume, and finds its usage metrics and registration on the
//! server. Every wait is for a condition, with a generous deadline
//! (`TEST_TIME_SCALE` scales it); the times measured are printed, not asserted.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use flags_runtime::{Context, Layer};
use flags_test_support::{service, wait};
use flags_unleash::{Origin, UnleashConfig};

mod client_flags {
    flags_runtime::flags!(pub mod flags = "tests/server_flags.toml");
}
mod backup_flags {
    flags_runtime::flags!(pub mod flags = "tests/server_flags.toml");
}

const SEARCH: &str = "flags_it_search";
const LAYOUT: &str = "flags_it_layout";
const INTERVAL: Duration = Duration::from_millis(1000);

struct Server {
    url: String,
    admin: String,
    client: String,
    script: PathBuf,
    http: ureq::Agent,
}

impl Server {
    /// The server from the environment, or `None` (after saying so) when it is not
    /// running and not required.
    fn from_env() -> Option<Server> {
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

    fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> (u16, String) {
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

    fn ok(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> String {
        let (status, text) = self.admin(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: HTTP {status}: {text}"
        );
        text
    }

    /// Archives and deletes toggle `name` if it exists (a previous run's leftovers).
    fn remove(&self, name: &str) {
        let _ = self.admin(
            "DELETE",
            &format!("/api/admin/projects/default/features/{name}"),
            None,
        );
        let _ = self.admin("DELETE", &format!("/api/admin/archive/{name}"), None);
    }

    fn create(&self, name: &str, strategy: serde_json::Value) {
        self.ok(
            "POST",
            "/api/admin/projects/default/features",
            Some(serde_json::json!({"name": name, "type": "release"})),
        );
        self.ok(
            "POST",
            &format!(
                "/api/admin/projects/default/features/{name}/environments/development/strategies"
            ),
            Some(strategy),
        );
    }

    fn switch(&self, name: &str, on: bool) {
        let verb = if on { "on" } else { "off" };
        self.ok(
            "POST",
            &format!("/api/admin/projects/default/features/{name}/environments/development/{verb}"),
            None,
        );
    }

    /// Runs the server script (`node-stop`, `node-start`).
    fn script(&self, command: &str) {
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

    fn config(&self, app: &str) -> UnleashConfig {
        UnleashConfig::new(&self.url, app)
            .token(&self.client)
            .interval(INTERVAL)
            .max_backoff(Duration::from_secs(2))
            .timeout(wait::patience())
    }
}

/// Restarts Unleash if the test stopped it and then failed.
struct Restart<'a>(&'a Server, bool);

impl Drop for Restart<'_> {
    fn drop(&mut self) {
        if self.1 {
            let _ = Command::new("bash")
                .arg(&self.0.script)
                .arg("node-start")
                .status();
        }
    }
}

/// Waits for `pred` with the shared generous deadline, prints and returns how long it
/// took.
fn wait(what: &str, pred: impl FnMut() -> bool) -> Duration {
    let took = wait::wait_until(what, pred);
    eprintln!("{what}: after {:.0} ms", took.as_secs_f64() * 1000.0);
    took
}

/// [`wait`] for what the server does on its own schedule (storing metrics and
/// registrations): twice the deadline.
fn wait_on_server(what: &str, pred: impl FnMut() -> bool) -> Duration {
    let took = wait::wait_until_within(what, wait::patience() * 2, pred);
    eprintln!("{what}: after {:.0} ms", took.as_secs_f64() * 1000.0);
    took
}

#[test]
fn follows_a_real_unleash_server() {
    let Some(server) = Server::from_env() else {
        return;
    };
    use client_flags::flags;
    server.remove(SEARCH);
    server.remove(LAYOUT);
    let dir = flags_test_support::scratch::ScratchDir::new("unleash-server");
    let backup = dir.join("unleash-backup.json");

    let app = format!("flags-unleash-it-{}", std::process::id());
    let unleash = flags_unleash::start(
        &flags::REGISTRY,
        server
            .config(&app)
            .backup_file(&backup)
            .metrics_interval(Some(Duration::from_secs(1))),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let status = unleash.status();
    assert_eq!(status.origin, Some(Origin::Server), "{status:?}");
    assert!(
        !flags::flags_it_search(),
        "no toggle yet: the manifest default"
    );
    assert!(flags::flags_it_absent());
    for name in [SEARCH, LAYOUT, "flags_it_absent"] {
        assert!(
            status.binding.missing_on_server.contains(&name),
            "{status:?}"
        );
    }

    // Created and switched on through the admin API: the accessor follows at a next
    // poll (every INTERVAL).
    server.create(
        SEARCH,
        serde_json::json!({"name": "flexibleRollout", "constraints": [],
            "parameters": {"rollout": "100", "stickiness": "default", "groupId": SEARCH}}),
    );
    server.create(
        LAYOUT,
        serde_json::json!({"name": "flexibleRollout", "constraints": [],
            "parameters": {"rollout": "100", "stickiness": "default", "groupId": LAYOUT},
            "variants": [{"name": "compact", "weight": 1000, "weightType": "variable",
                          "stickiness": "default", "payload": {"type": "string", "value": "one column"}}]}),
    );
    let switched = Instant::now();
    server.switch(SEARCH, true);
    server.switch(LAYOUT, true);
    wait("the accessor to flip on", flags::flags_it_search);
    eprintln!(
        "flip seen {:.0} ms after the switch began (poll interval {INTERVAL:?})",
        switched.elapsed().as_secs_f64() * 1000.0
    );
    wait("the variant flag", || {
        flags::flags_it_layout() == flags::FlagsItLayout::Compact
    });
    let v = unleash.variant(flags::FLAGS_IT_LAYOUT, &Context::with_key("u1"));
    assert_eq!((v.name, v.layer), ("compact", Layer::Remote));
    assert_eq!(v.payload.map(|p| p.value).as_deref(), Some("one column"));
    let bound = unleash.status().binding;
    assert_eq!(bound.missing_on_server, ["flags_it_absent"]);

    // Usage metrics reach the server.
    for _ in 0..5 {
        assert!(flags::flags_it_search());
    }
    wait_on_server("usage metrics on the server", || {
        let (_, text) = server.admin(
            "GET",
            &format!("/api/admin/client-metrics/features/{SEARCH}/raw?hoursBack=1"),
            None,
        );
        let data: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        data["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["appName"] == app.as_str())
            .filter_map(|d| d["yes"].as_u64())
            .sum::<u64>()
            >= 5
    });
    wait_on_server("the registration", || {
        server
            .admin(
                "GET",
                &format!("/api/admin/metrics/applications/{app}"),
                None,
            )
            .0
            == 200
    });

    // The server goes down: the last state stays, through several failed polls.
    let mut restart = Restart(&server, true);
    server.script("node-stop");
    wait("three failed polls", || {
        unleash.status().consecutive_failures >= 3
    });
    assert!(
        flags::flags_it_search(),
        "the last state stays while the server is down"
    );
    assert!(unleash.status().last_error.is_some());

    // A second client starting now serves the backup file.
    {
        use backup_flags::flags as b;
        let second = flags_unleash::start(
            &b::REGISTRY,
            server
                .config("flags-unleash-it-backup")
                .backup_file(&backup)
                .metrics_interval(None),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(second.status().origin, Some(Origin::Backup(backup.clone())));
        assert!(b::flags_it_search(), "served from the backup");
        assert_eq!(b::flags_it_layout(), b::FlagsItLayout::Compact);
    }

    // Back up: polling resumes and follows a change.
    server.script("node-start");
    restart.1 = false;
    wait("polling to resume", || {
        unleash.status().consecutive_failures == 0
    });
    server.switch(SEARCH, false);
    wait("the accessor to flip off", || !flags::flags_it_search());

    unleash.stop();
    server.remove(SEARCH);
    server.remove(LAYOUT);
}
