//! A guarded rollout decided once for a fleet, with every part real and on loopback:
//! three instances of this example read `new_checkout` from Unleash and export their
//! outcomes; a real Prometheus scrapes them every second; a controller process reads
//! Prometheus and writes the stage into Unleash; Unleash's Python SDK reads the same
//! toggle. Checked in order:
//!
//! 1. the controller widens 1% → 5% while both sides are healthy;
//! 2. a person changes the percentage in Unleash: the controller pauses and does not
//!    overwrite it; a manual resume from another process reaches it;
//! 3. SIGKILL mid-stage and a restart: the same stage, no duplicate transition;
//! 4. Prometheus down: the stage is held (no advance past its soak), the outage
//!    reported; Prometheus back: the rollout continues to 25%, where the Python SDK
//!    serves about a quarter of its users;
//! 5. the treatment fails on every instance: one rollback, every instance serves 0%
//!    within scrape interval + query + poll interval + 1 s of the failure becoming
//!    visible in Prometheus (printed), and the Python SDK serves nobody.
//!
//! The controller process is this test binary re-executed (`controller_child`), running
//! the same library calls `cargo flags rollout run` makes (that command's own loop,
//! signals and SIGKILL recovery are tested in cargo-flags/tests/rollout_run.rs).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use flags_fleet::{PrometheusSource, UnleashTarget};
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{
    Attribution, AuditLog, ControllerConfig, ExposureTarget, RolloutController, Status,
};
use flags_test_support::prometheus::{Prometheus, get};
use flags_test_support::scratch::ScratchDir;
use flags_test_support::{service, wait};
use serde_json::{Value, json};

const FLAG: &str = "new_checkout";
const FAULT: &str = "fail_new_checkout";
const ENV: &str = "development";
const CHILD: &str = "FLEET_E2E_CONTROLLER";
/// Instances poll Unleash this often; Prometheus scrapes every second; the controller
/// ticks every 250 ms.
const POLL: Duration = Duration::from_millis(250);
const SCRAPE: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(250);

fn plan() -> RolloutPlan {
    RolloutPlan {
        stages: vec![1, 5, 25, 50],
        soak: Duration::from_secs(5),
        min_samples: 200,
        criteria: Criteria {
            max_error_rate_increase: Some(0.01),
            ..Criteria::default()
        },
    }
}

fn controller(
    dir: &Path,
    unleash: &str,
    token: &str,
    prometheus: Option<&str>,
) -> RolloutController {
    let target = UnleashTarget::new(unleash, token, ENV).unwrap();
    let mut b = RolloutController::with_target(target)
        .environment(ENV)
        .state_file(dir.join("state.json"))
        .audit_log(dir.join("audit.jsonl"))
        // A look at almost every tick: the reaction time is the pipeline's, not the
        // look schedule's.
        .config(ControllerConfig {
            look_growth: 1.05,
            ..ControllerConfig::default()
        });
    if let Some(url) = prometheus {
        b = b.metrics(PrometheusSource::new(url).unwrap());
    }
    b.build().unwrap()
}

/// The controller process: ticks until its standard input closes, printing
/// `transition ...`, `state ...` and one `tick N ok|held` line per tick.
#[test]
#[ignore = "the controller process of `a_fleet_rolls_out_and_back_together`; does nothing on its own"]
fn controller_child() {
    let Ok(config) = std::env::var(CHILD) else {
        return;
    };
    let c: Value = serde_json::from_str(&config).unwrap();
    let s = |k: &str| c[k].as_str().unwrap().to_owned();
    let target = UnleashTarget::new(&s("unleash"), &s("token"), ENV).unwrap();
    let ctl = RolloutController::with_target(target)
        .metrics(PrometheusSource::new(&s("prometheus")).unwrap())
        .environment(ENV)
        .state_file(PathBuf::from(s("dir")).join("state.json"))
        .audit_log(PathBuf::from(s("dir")).join("audit.jsonl"))
        .config(ControllerConfig {
            look_growth: 1.05,
            ..ControllerConfig::default()
        })
        .on_transition(|t| println!("transition {} -> {} ({})", t.flag, t.to, t.reason))
        .build()
        .unwrap();
    ctl.register(FLAG, plan()).unwrap();
    println!("state {}", ctl.state(FLAG).unwrap().position);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            stop.store(true, Ordering::SeqCst);
        });
    }
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        ctl.tick();
        n += 1;
        let held = if ctl.outages().is_empty() {
            "ok"
        } else {
            "held"
        };
        println!("tick {n} {held}");
        let _ = std::io::stdout().flush();
        // Pacing of a long-running loop, not synchronisation.
        std::thread::sleep(TICK);
    }
}

/// A child process whose stdout lines are collected; killed when dropped.
struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(mut cmd: Command, label: &'static str) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if !line.starts_with("tick ") {
                    eprintln!("{label}: {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        Proc {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn printed(&self, text: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(text))
    }

    /// The number of the last `tick N` line.
    fn ticks(&self) -> u64 {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix("tick ")?.split(' ').next()?.parse().ok())
            .unwrap_or(0)
    }

    fn last_tick_held(&self) -> bool {
        let lines = self.lines.lock().unwrap();
        lines
            .iter()
            .rev()
            .find(|l| l.starts_with("tick "))
            .is_some_and(|l| l.ends_with("held"))
    }

    /// Waits for `n` more ticks.
    fn wait_ticks(&self, n: u64, what: &str) {
        let from = self.ticks();
        wait::wait_until(what, || self.ticks() >= from + n);
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Admin {
    url: String,
    token: String,
    http: ureq::Agent,
}

impl Admin {
    /// One call, once more after a transport error (a keep-alive connection the
    /// server closed as it was reused); every call here may be repeated safely.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.try_call(method, path, body.clone())
            .unwrap_or_else(|_| {
                self.try_call(method, path, body)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
    }

    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.url);
        let auth = ("Authorization", self.token.as_str());
        let r = match method {
            "GET" => self.http.get(&url).header(auth.0, auth.1).call(),
            "DELETE" => self.http.delete(&url).header(auth.0, auth.1).call(),
            "PATCH" => self
                .http
                .patch(&url)
                .header(auth.0, auth.1)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_default().to_string()),
            _ => self
                .http
                .post(&url)
                .header(auth.0, auth.1)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let mut r = r.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method, path, body);
        assert!((200..300).contains(&s), "{method} {path}: {s} {v}");
        v
    }

    /// Toggle `name` with `strategy` alone in the environment, switched `on`. An
    /// existing toggle is reset in place: archiving and deleting one right away can
    /// crash Unleash 6 (its lifecycle bookkeeping races the deletion).
    fn reset(&self, name: &str, strategy: Value, on: bool) {
        let features = "/api/admin/projects/default/features";
        let (s, v) = self.call(
            "POST",
            features,
            Some(json!({"name": name, "type": "release"})),
        );
        assert!(
            (200..300).contains(&s) || s == 409,
            "create {name}: {s} {v}"
        );
        let strategies = format!("{features}/{name}/environments/{ENV}/strategies");
        let existing = self.ok("GET", &strategies, None);
        for old in existing.as_array().into_iter().flatten() {
            let id = old["id"].as_str().unwrap_or_default();
            self.ok("DELETE", &format!("{strategies}/{id}"), None);
        }
        self.ok("POST", &strategies, Some(strategy));
        self.switch(name, on);
    }

    fn switch(&self, name: &str, on: bool) {
        let verb = if on { "on" } else { "off" };
        self.ok(
            "POST",
            &format!("/api/admin/projects/default/features/{name}/environments/{ENV}/{verb}"),
            None,
        );
    }

    /// Sets the rollout by hand, as a person in the UI would.
    fn set_by_hand(&self, percent: u8) {
        let path =
            format!("/api/admin/projects/default/features/{FLAG}/environments/{ENV}/strategies");
        let id = self.ok("GET", &path, None)[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.ok(
            "PATCH",
            &format!("{path}/{id}"),
            Some(json!([{"op": "replace", "path": "/parameters/rollout", "value": percent.to_string()}])),
        );
    }
}

/// The share of 2,000 users the Python SDK serves `new_checkout` to.
fn python_share(python: &str, url: &str, client_token: &str) -> f64 {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flags-unleash/tests/python/evaluate.py");
    let users: Vec<String> = (0..2000).map(|i| format!("py-user-{i}")).collect();
    let job = json!({"url": format!("{url}/api"), "token": client_token, "app": "fleet-python",
        "environment": ENV, "toggles": [FLAG], "user_ids": users});
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the Python SDK failed");
    let answers: Value = serde_json::from_slice(&out.stdout).unwrap();
    let on = answers[FLAG]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a[0] == true)
        .count();
    on as f64 / 2000.0
}

/// The rollout each instance serves, from its /flags.json (`7% rollout`).
fn served(instances: &[String]) -> Vec<Option<String>> {
    instances
        .iter()
        .map(|base| {
            let addr = base.trim_start_matches("http://").parse().ok()?;
            let (_, body) = get(addr, "/flags.json")?;
            let v: Value = serde_json::from_str(&body).ok()?;
            let flag = v["flags"].as_array()?.iter().find(|f| f["name"] == FLAG)?;
            flag["layers"]
                .as_array()?
                .iter()
                .find(|l| l["layer"] == "remote")
                .and_then(|l| l["rules"].as_str())
                .map(str::to_owned)
        })
        .collect()
}

/// The value each instance's /flags.json reports for the flag: `off` when it is off
/// for everyone, `null` (`None`) while it depends on the key.
fn served_values(instances: &[String]) -> Vec<Option<String>> {
    instances
        .iter()
        .map(|base| {
            let addr = base.trim_start_matches("http://").parse().ok()?;
            let (_, body) = get(addr, "/flags.json")?;
            let v: Value = serde_json::from_str(&body).ok()?;
            let flag = v["flags"].as_array()?.iter().find(|f| f["name"] == FLAG)?;
            flag["value"].as_str().map(str::to_owned)
        })
        .collect()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[test]
fn a_fleet_rolls_out_and_back_together() {
    let Some(url) = service::from_env(
        "TEST_UNLEASH_URL",
        "an Unleash server",
        "`eval \"$(scripts/unleash-server.sh start)\"` from the workspace root",
    ) else {
        return;
    };
    let Some(python) = service::from_env(
        "TEST_UNLEASH_PYTHON",
        "Unleash's Python SDK",
        "`eval \"$(scripts/unleash-python.sh)\"` (scripts/test.sh does)",
    ) else {
        return;
    };
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name}: use the exports of scripts/unleash-server.sh start")
        })
    };
    let (admin_token, client_token) = (
        var("TEST_UNLEASH_ADMIN_TOKEN"),
        var("TEST_UNLEASH_CLIENT_TOKEN"),
    );
    let url = url.trim_end_matches('/').to_owned();
    let admin = Admin {
        url: url.clone(),
        token: admin_token.clone(),
        http: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into(),
    };
    admin.reset(
        FLAG,
        json!({"name": "flexibleRollout", "parameters": {"rollout": "0", "stickiness": "default", "groupId": FLAG}}),
        true,
    );
    admin.reset(FAULT, json!({"name": "default"}), false);

    // Three instances, then Prometheus scraping them.
    let instances: Vec<Proc> = ["a", "b", "c"]
        .into_iter()
        .map(|name| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleet"));
            cmd.args([
                "--unleash",
                &url,
                "--token",
                &client_token,
                "--instance",
                name,
            ])
            .args([
                "--poll-ms",
                &POLL.as_millis().to_string(),
                "--exit-on-stdin-close",
            ]);
            Proc::spawn(cmd, "instance")
        })
        .collect();
    let bases: Vec<String> = instances
        .iter()
        .map(|p| wait::wait_for("instance address", || p.lines().first().cloned()))
        .collect();
    let addrs: Vec<_> = bases
        .iter()
        .map(|b| b.trim_start_matches("http://").parse().unwrap())
        .collect();
    let Some(mut prom) = Prometheus::start(&addrs) else {
        return;
    };
    let prom_addr = prom.addr();
    let up = || {
        // Control outcomes exist from the first request (the treatment's at 1%).
        get(
            prom_addr,
            "/api/v1/query?query=count(flags_outcomes_total%7Bside%3D%22control%22%7D)",
        )
        .is_some_and(|(_, b)| b.contains("\"6\""))
    };
    wait::wait_until("Prometheus scraping all three instances", up);

    let dir = ScratchDir::new("fleet-e2e");
    let config =
        json!({"dir": dir.path(), "unleash": url, "token": admin_token, "prometheus": prom.url})
            .to_string();
    let spawn_controller = || {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "controller_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &config);
        Proc::spawn(cmd, "controller")
    };
    let target = UnleashTarget::new(&url, &admin_token, ENV).unwrap();
    let percent = || target.read_exposure(FLAG).ok().flatten();
    let audit = dir.join("audit.jsonl");

    // 1. 1% -> 5% on clean sums.
    let mut ctl = spawn_controller();
    wait::wait_until("stage 1 (1%) in Unleash", || percent() == Some(1));
    wait::wait_until("stage 2 (5%) in Unleash", || percent() == Some(5));

    // 2. A person sets 40%: paused, not overwritten; a manual resume reaches it.
    admin.set_by_hand(40);
    wait::wait_until("the controller pauses", || ctl.printed("(paused)"));
    ctl.wait_ticks(4, "a few more ticks");
    assert_eq!(percent(), Some(40), "never overwritten");
    {
        let manual = controller(dir.path(), &url, &admin_token, None);
        manual.register(FLAG, plan()).unwrap();
        manual
            .resume(FLAG, Attribution::by("ops").because("checked"))
            .unwrap();
        assert_eq!(manual.state(FLAG).unwrap().position.percent, 5);
    }
    assert_eq!(percent(), Some(5), "the resume wrote the stage back");
    ctl.wait_ticks(2, "the running controller takes the resume over");
    let taken_over = AuditLog::read_entries(&audit).unwrap().len();

    // 3. SIGKILL mid-stage, then a restart: same stage, no transition added.
    let _ = ctl.child.kill();
    let _ = ctl.child.wait();
    drop(ctl);
    let ctl = spawn_controller();
    wait::wait_until("the restarted controller", || ctl.printed("state "));
    assert!(
        ctl.printed("state stage 2 at 5% (running)"),
        "{:?}",
        ctl.lines()
    );
    ctl.wait_ticks(2, "ticks after the restart");
    assert_eq!(
        AuditLog::read_entries(&audit).unwrap().len(),
        taken_over,
        "no duplicate transition"
    );

    // 4. Prometheus down: held past the soak; back: on to 25%.
    prom.stop();
    wait::wait_until("the outage reported", || ctl.last_tick_held());
    let held_from = Instant::now();
    wait::wait_until("held for longer than the soak", || {
        held_from.elapsed() > plan().soak + TICK * 2 && ctl.last_tick_held()
    });
    assert_eq!(percent(), Some(5), "no advance on missing data");
    prom.restart();
    wait::wait_until("Prometheus scraping all three again", up);
    wait::wait_until("stage 3 (25%) in Unleash", || percent() == Some(25));
    wait::wait_until("every instance serves 25%", || {
        served(&bases)
            .iter()
            .all(|r| r.as_deref() == Some("25% rollout"))
    });
    // Unleash refreshes the copy it serves each kind of client on its own schedule, so
    // a fresh Python client may see the stage a moment later than the instances did.
    let mut share = 0.0;
    let took = wait::wait_until("the Python SDK serves about 25%", || {
        share = python_share(&python, &url, &client_token);
        (0.20..=0.30).contains(&share)
    });
    eprintln!(
        "Python SDK at 25%: {:.1}% of 2,000 users (after {took:?})",
        share * 100.0
    );

    // 5. The treatment fails everywhere: one rollback, every instance at 0%.
    let fault_at = Instant::now();
    admin.switch(FAULT, true);
    let errors = "/api/v1/query?query=sum(flags_outcomes_total%7Bflag%3D%22new_checkout%22%2Cside%3D%22treatment%22%2Cresult%3D%22error%22%7D)";
    let visible = wait::wait_until("treatment errors visible in Prometheus", || {
        get(prom_addr, errors).is_some_and(|(_, b)| {
            serde_json::from_str::<Value>(&b)
                .ok()
                .and_then(|v| {
                    v["data"]["result"][0]["value"][1]
                        .as_str()?
                        .parse::<f64>()
                        .ok()
                })
                .is_some_and(|n| n > 0.0)
        })
    });
    let visible_at = fault_at + visible;
    // At 0% the runtime holds the rules as "nobody" and the value as plain `off`.
    wait::wait_until("every instance serves 0%", || {
        served_values(&bases)
            .iter()
            .all(|v| v.as_deref() == Some("off"))
    });
    let zero = visible_at.elapsed();
    let decided = AuditLog::read_entries(&audit)
        .unwrap()
        .iter()
        .find(|e| e.transition().is_rollback())
        .map(|e| e.at.as_millis());
    eprintln!(
        "fleet-wide 0%: {:.0} ms after the errors were visible in Prometheus, {:.0} ms after the fault was switched on; the decision came {} ms before the last instance served 0%",
        zero.as_secs_f64() * 1000.0,
        fault_at.elapsed().as_secs_f64() * 1000.0,
        decided.map_or(-1, |d| unix_ms() as i64 - d as i64)
    );
    // The bound: scrape interval + query + poll interval + 1 s (the query and
    // the controller's tick within the second), scaled on a slow machine.
    assert!(
        zero <= wait::scaled(SCRAPE + POLL + TICK + Duration::from_secs(1)),
        "fleet-wide 0% took {zero:?}"
    );
    let entries = AuditLog::read_entries(&audit).unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.transition().is_rollback())
            .count(),
        1
    );
    assert_eq!(
        entries.last().map(|e| e.to.status),
        Some(Status::RolledBack)
    );
    wait::wait_until("the Python SDK serves nobody", || {
        python_share(&python, &url, &client_token) == 0.0
    });
    drop(ctl);
    drop(instances);
}
