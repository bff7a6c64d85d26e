//! The README demo tells its story: widened while healthy, rolled back by itself when
//! the bug shows, with an intact audit log, told in simulated time since the start.

use std::process::Command;
use std::time::Instant;

#[test]
fn the_demo_rolls_back_by_itself() {
    let dir = std::env::temp_dir().join(format!("rollout-demo-test-{}", std::process::id()));
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rollout-demo"))
        .env("ROLLOUT_DEMO_DIR", &dir)
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // How long the simulation took is printed, not bounded: a busy machine is slow.
    println!("the demo ran in {elapsed:?}");
    // Healthy stages advance first ...
    assert!(stdout.contains("stage 2 at 5% (running)"), "{stdout}");
    assert!(stdout.contains("stage 3 at 25% (running)"), "{stdout}");
    // ... then the bug shows at 25% and the controller withdraws the flag.
    assert!(stdout.contains("stage 3 at 0% (rolled back)"), "{stdout}");
    assert!(
        stderr.contains("ALERT  new_checkout rolled back"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("50% (running)"),
        "never widened past the bug: {stdout}"
    );
    assert!(stdout.contains("audit chain verified: intact"), "{stdout}");
    // Times are simulated time since the start, never the epoch: each transition and
    // audit line opens with `+MmSSs`, and they never go back.
    assert!(!stdout.contains("1970-"), "{stdout}");
    let times: Vec<u64> = stdout
        .lines()
        .filter(|l| l.contains("[automatic by controller]"))
        .map(|l| {
            let t = l.trim_start();
            let t = t
                .strip_prefix('+')
                .unwrap_or_else(|| panic!("no elapsed time: {l}"));
            let (m, rest) = t.split_once('m').unwrap_or_else(|| panic!("{l}"));
            let (s, _) = rest.split_once("s ").unwrap_or_else(|| panic!("{l}"));
            m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap()
        })
        .collect();
    assert_eq!(times.len(), 4, "{stdout}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // The rollout starts when it is registered, at the start of simulated time, and is
    // rolled back after simulated minutes of traffic.
    assert_eq!(times[0], 0, "{stdout}");
    assert!(times[3] >= 60, "{times:?}");
    // The transition line says the same time as its audit entry.
    let rollback = stdout
        .lines()
        .find(|l| l.contains("stage 3 at 0% (rolled back)") && !l.contains('#'))
        .unwrap();
    let stamp = format!("+{}m{:02}s", times[3] / 60, times[3] % 60);
    assert!(rollback.trim_start().starts_with(&stamp), "{rollback}");
    assert_eq!(
        stdout.matches("[automatic by controller]").count(),
        4,
        "{stdout}"
    );
    // The files are there for `cargo flags audit` and a restart.
    assert!(dir.join("state.json").is_file());
    assert!(dir.join("audit.jsonl").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
