//! What the admin endpoint's tests share: a fresh registry per test (so tests running
//! in parallel do not see each other's writes), a started server with tokens, an audit
//! log and a rollout controller, and a small HTTP client over loopback.

#![allow(dead_code)] // each test binary uses part of it

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flags_admin::{Admin, AdminBuilder, AdminServer};
use flags_rollout::{ManualClock, RolloutController, Timestamp};
use flags_runtime::__private::{Date, FastCell, FlagMeta, Kind};
use flags_runtime::Registry;
use flags_runtime::manifest::{Criteria, RolloutPlan};
use flags_test_support::scratch::ScratchDir;
use flags_test_support::wait;

/// The description the dashboard must show as text, never run.
pub const HOSTILE: &str = "<script>window.__pwned=1</script>";

pub const ALICE: &str = "alice-secret-0123456789";
pub const BOB: &str = "bob-secret-9876543210";

/// The day expiry is judged against: `beta` (2020-01-01) is stale, `layout`
/// (2026-12-10) expires within the 14-day warning.
pub const TODAY: Date = Date::ymd(2026, 12, 1);

const MANIFEST: &str = r#"
[flags.beta]
description = "<script>window.__pwned=1</script>"
owner = "web"
kind = "release"
expires = 2020-01-01

[flags.layout]
description = "Page layout"
owner = "web"
kind = "experiment"
expires = 2026-12-10
variants = ["classic", "compact"]
default = "classic"

[flags.frozen]
description = "Fixed at build time"
owner = "ops"
kind = "ops"
static = true

[flags.checkout_v2]
description = "New checkout"
owner = "payments"
kind = "ops"
[[flags.checkout_v2.strategies]]
type = "keys"
keys = ["qa-1", "qa-2"]
"#;

/// A registry of its own: `beta` (on/off, stale, hostile description), `layout`
/// (variants, expiring), `frozen` (static), `checkout_v2` (on/off, rolled out).
pub fn registry() -> &'static Registry {
    let meta: &'static [FlagMeta] = Box::leak(Box::new([
        FlagMeta {
            description: HOSTILE,
            owner: "web",
            kind: Kind::Release,
            expires: Some(Date::ymd(2020, 1, 1)),
            ..FlagMeta::bare("beta", 0, &[])
        },
        FlagMeta {
            description: "Page layout",
            owner: "web",
            kind: Kind::Experiment,
            expires: Some(Date::ymd(2026, 12, 10)),
            ..FlagMeta::bare("layout", 1, &["classic", "compact"])
        },
        FlagMeta {
            description: "Fixed at build time",
            owner: "ops",
            is_static: true,
            ..FlagMeta::bare("frozen", 2, &[])
        },
        FlagMeta {
            description: "New checkout",
            owner: "payments",
            ..FlagMeta::bare("checkout_v2", 3, &[])
        },
    ]));
    let cells: &'static [FastCell] = Box::leak(Box::new([const { FastCell::new() }; 4]));
    let registry: &'static Registry =
        Box::leak(Box::new(Registry::new(meta, cells, MANIFEST, "flags.toml")));
    registry.init();
    registry
}

/// A started admin server and what it works on.
pub struct Fixture {
    pub registry: &'static Registry,
    pub controller: Arc<RolloutController>,
    pub server: AdminServer,
    pub base: String,
    pub audit: PathBuf,
    pub rollout_audit: PathBuf,
    pub dir: ScratchDir,
}

/// A rollout controller on `registry` with `checkout_v2` registered (stages 10, 50,
/// 100), its own audit log in `dir`.
pub fn controller(registry: &'static Registry, dir: &ScratchDir) -> Arc<RolloutController> {
    let controller = RolloutController::builder(registry)
        .clock(ManualClock::new(Timestamp::from_millis(1_764_547_200_000)))
        .audit_log(dir.path().join("rollout-audit.jsonl"))
        .build()
        .expect("controller");
    let plan = RolloutPlan {
        stages: vec![10, 50, 100],
        soak: Duration::from_secs(600),
        min_samples: 100,
        criteria: Criteria::default(),
    };
    controller.register("checkout_v2", plan).expect("register");
    Arc::new(controller)
}

/// The usual endpoint: tokens of alice and bob, an audit log, the controller, on a
/// free loopback port; `more` adds to the builder.
pub fn start_with(more: impl FnOnce(AdminBuilder) -> AdminBuilder) -> Fixture {
    let registry = registry();
    let dir = ScratchDir::new("flags-admin");
    let controller = controller(registry, &dir);
    let audit = dir.path().join("admin-audit.jsonl");
    let builder = Admin::builder(registry)
        .token("alice", ALICE)
        .token("bob", BOB)
        .audit_log(&audit)
        .controller(controller.clone())
        .today(TODAY)
        .bind("127.0.0.1:0");
    let server = more(builder).start().expect("admin server starts");
    let base = format!("http://{}", server.local_addr());
    Fixture {
        registry,
        controller,
        server,
        base,
        audit,
        rollout_audit: dir.path().join("rollout-audit.jsonl"),
        dir,
    }
}

pub fn start() -> Fixture {
    start_with(|b| b)
}

/// A response: status and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub allow: Option<String>,
    pub content_type: Option<String>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `error` message of a refusal.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.body))
            .to_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(wait::patience()))
        .build()
        .into()
}

/// Sends `method url` with an optional bearer token and body.
pub fn send(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let has_body = body.is_some();
    if has_body {
        req = req.header("Content-Type", "application/json");
    }
    let req = req
        .body(body.unwrap_or("").as_bytes().to_vec())
        .expect("request");
    let agent = agent();
    let (parts, bytes) = req.into_parts();
    let result = if has_body {
        agent.run(http::Request::from_parts(parts, bytes))
    } else {
        agent.run(http::Request::from_parts(parts, ()))
    };
    let mut res = result.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let allow = header("allow");
    let content_type = header("content-type");
    Reply {
        status: res.status().as_u16(),
        allow,
        content_type,
        body: res.body_mut().read_to_string().unwrap_or_default(),
    }
}

pub fn get(url: &str) -> Reply {
    send("GET", url, None, None)
}

impl Fixture {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn flags_json(&self) -> serde_json::Value {
        let r = get(&self.url("/flags.json"));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }

    /// Flag `name` as `/flags.json` shows it.
    pub fn flag(&self, name: &str) -> serde_json::Value {
        self.flags_json()["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no flag {name} in /flags.json"))
            .clone()
    }

    /// The audit log's lines, parsed.
    pub fn audit_records(&self) -> Vec<flags_admin::AuditRecord> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad audit line {l}: {e}")))
            .collect()
    }

    /// Everything a refused write must leave as it was: every flag and rollout as
    /// `/flags.json` shows them, the registry's generation, and both audit logs.
    pub fn state(&self) -> (serde_json::Value, u64, String, String) {
        (
            self.flags_json()["flags"].clone(),
            self.registry.generation(),
            std::fs::read_to_string(&self.audit).unwrap_or_default(),
            std::fs::read_to_string(&self.rollout_audit).unwrap_or_default(),
        )
    }
}

/// A remote source that serves `beta` on, revision `rev-7`, then fails.
pub struct FlakySource {
    pub polls: u32,
}

impl flags_runtime::Source for FlakySource {
    fn name(&self) -> &str {
        "https://flags.example/api"
    }

    fn layer(&self) -> flags_runtime::Layer {
        flags_runtime::Layer::Remote
    }

    fn poll(
        &mut self,
        _registry: &Registry,
    ) -> Result<Option<flags_runtime::Update>, flags_runtime::SourceError> {
        self.polls += 1;
        if self.polls == 1 {
            let on = flags_runtime::manifest::Rules {
                value: Some(flags_runtime::Value::Bool(true)),
                ..Default::default()
            };
            Ok(Some(
                flags_runtime::Update::new(vec![(0, on)]).with_revision("rev-7"),
            ))
        } else {
            Err(flags_runtime::SourceError::new(
                "https://flags.example/api",
                "HTTP 503 from the flag service",
            ))
        }
    }
}

/// Feeds `registry` one good update from a [`FlakySource`], then one failure.
pub fn flaky_remote(registry: &'static Registry) {
    let mut source = FlakySource { polls: 0 };
    assert_eq!(registry.apply(&mut source), Ok(true));
    assert!(registry.apply(&mut source).is_err());
}
