//! `cargo flags rollout` and `cargo flags audit` end to end on a fixture workspace:
//! manual transitions land in the state file and the audit log, and `audit verify`
//! tells an intact log from a torn and from a tampered one.

use std::path::Path;
use std::process::{Command, Output};

use flags_test_support::scratch::ScratchDir;

fn workspace(name: &str) -> ScratchDir {
    let dir = ScratchDir::new(&format!("cargo-flags-rollout-{name}"));
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
    std::fs::write(
        dir.join("flags.toml"),
        flags_test_support::fixtures::flag("new_checkout")
            + "[flags.new_checkout.rollout]\nstages = [1, 10, 100]\nsoak = \"1m\"\n",
    )
    .unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-flags"))
        .current_dir(dir)
        .args(args)
        .env("USER", "alice")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn manual_transitions_are_persisted_and_audited() {
    let dir = workspace("manual");
    let o = run(&dir, &["rollout", "status"]);
    assert!(stdout(&o).contains("no rollout state"), "{}", stdout(&o));

    let o = run(
        &dir,
        &[
            "rollout",
            "advance",
            "new_checkout",
            "--reason",
            "looks good",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains(
            "new_checkout: stage 1 at 1% (running) -> stage 2 at 10% (running) (looks good)"
        ),
        "{}",
        stdout(&o)
    );

    assert_eq!(
        run(&dir, &["rollout", "pause", "new_checkout"])
            .status
            .code(),
        Some(0)
    );
    let o = run(
        &dir,
        &[
            "rollout",
            "rollback",
            "new_checkout",
            "--reason",
            "pager went off",
        ],
    );
    assert!(stdout(&o).contains("at 0% (rolled back)"), "{}", stdout(&o));

    let o = run(&dir, &["rollout", "status"]);
    assert!(
        stdout(&o).contains("new_checkout: stage 2 at 0% (rolled back)"),
        "{}",
        stdout(&o)
    );

    let o = run(&dir, &["audit"]);
    let log = stdout(&o);
    assert_eq!(
        log.lines().count(),
        4,
        "start, advance, pause, rollback: {log}"
    );
    assert!(log.contains("[manual by alice] looks good"), "{log}");
    assert!(log.contains("pager went off"), "{log}");

    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("intact, 4 entries"), "{}", stdout(&o));

    let o = run(&dir, &["rollout", "advance", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn audit_verify_tells_torn_from_tampered() {
    let dir = workspace("verify");
    for action in ["advance", "pause", "resume"] {
        assert_eq!(
            run(&dir, &["rollout", action, "new_checkout"])
                .status
                .code(),
            Some(0)
        );
    }
    let log = dir.join(".flags/audit.jsonl");
    let original = std::fs::read(&log).unwrap();

    // A crash mid-write: the last line is cut short.
    std::fs::write(&log, &original[..original.len() - 20]).unwrap();
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("torn line 4"), "{}", stdout(&o));

    // Tampering in the middle: one byte of line 2 changed.
    let mut tampered = original.clone();
    let line2 = original.iter().position(|&b| b == b'\n').unwrap() + 1;
    let at = line2 + 40;
    tampered[at] = if tampered[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&log, &tampered).unwrap();
    let o = run(&dir, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("audit.jsonl:2: the audit log does not verify"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_report_shows_the_rollout_stage() {
    let dir = workspace("report");
    assert_eq!(
        run(&dir, &["rollout", "advance", "new_checkout"])
            .status
            .code(),
        Some(0)
    );
    let o = run(
        &dir,
        &[
            "report",
            "--format",
            "md",
            "--rollouts",
            ".flags/state.json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("stage 2 at 10% (running)"),
        "{}",
        stdout(&o)
    );
    let o = run(&dir, &["report", "--format", "md"]);
    assert!(
        !stdout(&o).contains("stage 2 at 10%"),
        "no state file, no stage: {}",
        stdout(&o)
    );
}
