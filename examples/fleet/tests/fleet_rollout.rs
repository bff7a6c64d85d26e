//! The fleet controller's restarts and manual commands against the real services:
//! three instances of this example read `new_checkout` from Unleash and export their
//! outcomes, a real Prometheus scrapes them every second, and a controller process
//! reads Prometheus and writes the stage into Unleash. Checked in order:
//!
//! 1. the controller widens 1% → 5% while both sides are healthy;
//! 2. a person sets the percentage in Unleash: the controller pauses and does not
//!    overwrite it; a manual resume from another process (the same state files and
//!    target) writes the stage back, and the running controller takes it over;
//! 3. SIGKILL mid-stage and a restart: the same stage, no transition recorded again.
//!
//! The rollout through 25%, the rollback when the new path fails everywhere, the
//! Prometheus outage and the Python SDK are `cargo-flags/tests/rollout_fleet.rs`, which
//! drives `cargo flags rollout run` itself. Here the controller process is this test
//! binary re-executed (`controller_child`), making the library calls that command
//! makes, so that it can be killed and restarted at will.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flags_fleet::{PrometheusSource, UnleashTarget};
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{Attribution, AuditLog, ControllerConfig, ExposureTarget, RolloutController};
use flags_test_support::prometheus::{Prometheus, get};
use flags_test_support::scratch::ScratchDir;
use flags_test_support::unleash::{Admin, ENV};
use flags_test_support::wait;
use serde_json::{Value, json};

const FLAG: &str = "new_checkout";
const FAULT: &str = "fail_new_checkout";
const CHILD: &str = "FLEET_E2E_CONTROLLER";
/// Instances poll Unleash this often; the controller ticks every 250 ms.
const POLL: Duration = Duration::from_millis(250);
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
/// `transition ...`, `state ...` and one `tick N` line per tick.
#[test]
#[ignore = "the controller process of `the_fleet_controller_survives_sigkill_and_takes_manual_commands`; does nothing on its own"]
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

/// Sets the rollout by hand, as a person in the UI would.
fn set_by_hand(admin: &Admin, percent: u8) {
    let path = format!("/api/admin/projects/default/features/{FLAG}/environments/{ENV}/strategies");
    let id = admin.strategies(FLAG)[0]["id"].as_str().unwrap().to_owned();
    let (s, v) = admin.call(
        "PATCH",
        &format!("{path}/{id}"),
        Some(
            json!([{"op": "replace", "path": "/parameters/rollout", "value": percent.to_string()}]),
        ),
    );
    assert_eq!(s, 200, "{v}");
}

#[test]
fn the_fleet_controller_survives_sigkill_and_takes_manual_commands() {
    let Some(admin) = Admin::from_env() else {
        return;
    };
    let client_token = std::env::var("TEST_UNLEASH_CLIENT_TOKEN")
        .expect("TEST_UNLEASH_CLIENT_TOKEN: use the exports of scripts/unleash-server.sh start");
    let (url, admin_token) = (admin.url.clone(), admin.token.clone());
    admin.toggle(
        FLAG,
        &[json!({"name": "flexibleRollout", "parameters": {"rollout": "0", "stickiness": "default", "groupId": FLAG}})],
    );
    admin.switch(FLAG, true);
    admin.toggle(FAULT, &[json!({"name": "default"})]);

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
    let Some(prom) = Prometheus::start(&addrs) else {
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
    set_by_hand(&admin, 40);
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

    drop(ctl);
    drop(instances);
}
