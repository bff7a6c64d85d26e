//! The README demo tells its story: widened while healthy, rolled back by itself when
//! the bug shows, with an intact audit log. Its run time is printed, not asserted.

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
    eprintln!("the demo ran in {elapsed:?}");
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
