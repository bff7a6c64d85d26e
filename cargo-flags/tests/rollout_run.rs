//! `cargo flags rollout run` as a process: metrics from a real Prometheus scraping
//! three fake instances, exposure in a shared rule file. It advances on clean fleet
//! sums, survives SIGKILL (a restart resumes the same stage with no duplicate
//! transition), takes a rollback from another `cargo flags rollout` process at its next
//! tick, and stops with exit 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use flags_rollout::AuditLog;
use flags_test_support::prometheus::{Exporter, Prometheus};
use flags_test_support::scratch::ScratchDir;
use flags_test_support::wait;

const FLAG: &str = "new_checkout";

fn exposition(n: u64) -> String {
    let mut out = String::from("# TYPE flags_outcomes_total counter\n");
    // One in ten requests is in the treatment; nothing fails.
    for (side, count) in [("treatment", n / 10), ("control", n - n / 10)] {
        out += &format!(
            "flags_outcomes_total{{flag=\"{FLAG}\",side=\"{side}\",result=\"ok\"}} {count}\n"
        );
        out += &format!(
            "flags_outcomes_total{{flag=\"{FLAG}\",side=\"{side}\",result=\"error\"}} 0\n"
        );
    }
    out
}

fn percent_in(rules: &Path) -> Option<u8> {
    let text = std::fs::read_to_string(rules).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let p = table["flags"][FLAG]["strategies"][0]["percent"].as_integer()?;
    u8::try_from(p).ok()
}

/// The controller process and the lines it has printed so far.
struct Running {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

/// A failing test must not leave a controller behind.
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn printed(&self, text: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(text))
    }
}

fn controller(dir: &Path, prom: &str, rules: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-flags"))
        .current_dir(dir)
        .args(["rollout", "run", "--metrics"])
        .arg(format!("prometheus={prom}"))
        .arg("--target")
        .arg(format!("file={}", rules.display()))
        .args(["--interval", "200ms"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = child.stdout.take().unwrap();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            eprintln!("controller: {line}");
            sink.lock().unwrap().push(line);
        }
    });
    Running { child, lines }
}

fn kill(child: &mut Child, signal: &str) -> std::process::ExitStatus {
    let ok = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok);
    wait::wait_for_exit(child, "the controller to exit", 1)
}

#[test]
fn advances_survives_sigkill_takes_manual_commands_and_stops_on_sigterm() {
    let instances: Vec<Exporter> = (0..3).map(|_| Exporter::start()).collect();
    let addrs: Vec<_> = instances.iter().map(Exporter::addr).collect();
    let Some(prom) = Prometheus::start(&addrs) else {
        return;
    };
    // Traffic on every instance while the test runs.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let stop = stop.clone();
        let instances: Vec<_> = instances.iter().map(|i| i.handle()).collect();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                n += 200;
                for i in &instances {
                    i.set(exposition(n));
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let dir = ScratchDir::new("cargo-flags-rollout-run");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    std::fs::write(
        dir.join("flags.toml"),
        flags_test_support::fixtures::flag(FLAG)
            + &format!("[flags.{FLAG}.rollout]\nstages = [1, 5, 25]\nsoak = \"2s\"\nmin_samples = 20\nmax_error_rate_increase = 0.05\n"),
    )
    .unwrap();
    let rules = dir.join("rules.toml");
    let audit = dir.join(".flags/audit.jsonl");

    let mut c = controller(&dir, &prom.url, &rules);
    wait::wait_until("stage 1 applied", || percent_in(&rules) == Some(1));
    wait::wait_until("stage 2 after a clean soak", || {
        percent_in(&rules) == Some(5)
    });

    // SIGKILL mid-stage, then a restart: same stage, no transition recorded again.
    kill(&mut c.child, "KILL");
    let before = AuditLog::read_entries(&audit).unwrap().len();
    let mut c = controller(&dir, &prom.url, &rules);
    wait::wait_until("the restarted controller resumed at stage 2", || {
        c.printed(&format!("{FLAG}: stage 2 at 5% (running)"))
    });
    // A manual rollback from another process reaches it at its next tick.
    let o = Command::new(env!("CARGO_BIN_EXE_cargo-flags"))
        .current_dir(&dir)
        .args(["rollout", "rollback", FLAG, "--reason", "pager"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    wait::wait_until("the rollback applied by the running controller", || {
        percent_in(&rules) == Some(0)
    });
    let entries = AuditLog::read_entries(&audit).unwrap();
    let to_5 = entries.iter().filter(|e| e.to.percent == 5).count();
    assert_eq!(to_5, 1, "no duplicate transition after the restart");
    assert_eq!(entries.len(), before + 1, "only the rollback was added");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.transition().is_rollback())
            .count(),
        1
    );
    wait::wait_until("the running controller reports the rollback", || {
        c.printed("rolled back")
    });
    let status = kill(&mut c.child, "TERM");
    assert!(status.success(), "SIGTERM stops it cleanly: {status:?}");
    stop.store(true, Ordering::SeqCst);
    traffic.join().unwrap();
}
