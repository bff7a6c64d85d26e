//! Crash safety: a child process (this test binary, re-executed) makes rollout
//! transitions in a loop through a real controller with a state file and an audit log,
//! printing an acknowledgement after each one returns. The parent SIGKILLs it at random
//! moments, 50 times, and after every kill checks that the state file parses and holds
//! at least the last acknowledged transition, that the audit log verifies (a torn last
//! line allowed) and holds it too, and that the next run resumes where the files say.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Rng, plan, scratch};
use flags_manifest::Criteria;
use flags_rollout::{
    Attribution, AuditLog, MemoryExposure, Position, RolloutController, StateStore, Status,
    Verification,
};

const CHILD_ENV: &str = "FLAGS_ROLLOUT_CRASH_CHILD";
const KILLS: usize = 50;

fn controller(dir: &Path) -> RolloutController {
    RolloutController::builder(MemoryExposure::default())
        .state_file(dir.join("rollouts.json"))
        .audit_log(dir.join("audit.jsonl"))
        .build()
        .unwrap()
}

fn show(p: Position) -> String {
    format!("{}/{}/{:?}", p.stage, p.percent, p.status)
}

/// The child: runs only when re-executed by the parent with `CHILD_ENV` set.
#[test]
#[ignore = "child process of `sigkill_at_random_moments`; does nothing on its own"]
fn crash_writer_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let c = controller(&dir);
    c.register(
        "f",
        plan(&[1, 5, 25, 50, 100], 600, 100, Criteria::default()),
    )
    .unwrap();
    let s = c.state("f").unwrap();
    let rev = s.history.last().map_or(0, |t| t.revision);
    println!("START {rev} {}", show(s.position));
    // Long reasons make each write span more bytes.
    let padding = "x".repeat(600);
    for n in 0u64.. {
        let s = c.state("f").unwrap();
        let why = format!("crash test step {n} {padding}");
        let t = match s.position.status {
            Status::Running if n % 3 == 0 => {
                c.pause("f", Attribution::by("crash-test").because(&why))
            }
            Status::Running => c.advance("f", Attribution::by("crash-test").because(&why)),
            Status::Paused | Status::RolledBack => {
                c.resume("f", Attribution::by("crash-test").because(&why))
            }
            Status::Completed => c.rollback("f", Attribution::by("crash-test").because(&why)),
        }
        .unwrap();
        println!("ACK {} {}", t.revision, show(t.to));
    }
}

/// Kills the child if the parent panics, so a failed check never leaves it running.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Default, Debug)]
struct Tally {
    acks: u64,
    runs_with_acks: usize,
    torn_tails: usize,
    audit_ahead: usize,
    temp_left: usize,
}

#[test]
fn sigkill_at_random_moments() {
    let dir = scratch("crash");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::new(0x5eed);
    let mut tally = Tally::default();
    // (revision, position) of the last acknowledged transition, over all runs.
    let mut last_ack: Option<(u64, String)> = None;
    // What the next START must show, from the files after the previous kill.
    let mut expect_start: Option<Vec<String>> = None;
    let started = Instant::now();

    for kill in 0..KILLS {
        let mut child = KillOnDrop(
            Command::new(&exe)
                .args([
                    "crash_writer_child",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let stdout = child.0.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the child to be in its loop, then kill it at a random moment.
        let deadline = Instant::now() + flags_test_support::wait::patience() * 2;
        let start = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("kill {kill}: no START from the child: {e}"));
            // With one test thread libtest prints `test NAME ... ` before the test's own
            // output, on the same line.
            if let Some(at) = line.find("START ") {
                let rest = &line[at + "START ".len()..];
                // "REVISION POSITION": the position is what must match.
                break rest.split_once(' ').map_or(rest, |(_, pos)| pos).to_owned();
            }
        };
        if let Some(options) = expect_start.take() {
            assert!(
                options.contains(&start),
                "kill {kill}: resumed at {start}, the files said one of {options:?}"
            );
        }
        // Let a random number of transitions (0 to 5) complete, then kill at a random
        // point of the next one: the delay is drawn from the time the acknowledged
        // ones took, so kills spread over the write cycle however fast the disk is.
        let wanted = rng.below(6);
        let mut lines = Vec::new();
        let run_start = Instant::now();
        let mut seen = 0;
        while seen < wanted {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("kill {kill}: the child stopped acknowledging: {e}"));
            seen += u64::from(line.starts_with("ACK "));
            lines.push(line);
        }
        let per_ack = run_start.elapsed().as_micros() as u64 / wanted.max(1);
        // Not synchronisation: this picks the random moment of the kill, which is the
        // point of the test; any moment is correct.
        std::thread::sleep(Duration::from_micros(rng.below(per_ack.max(2_000) * 2)));
        child.0.kill().unwrap(); // SIGKILL on Unix
        child.0.wait().unwrap();
        reader.join().unwrap();
        lines.extend(rx.try_iter());
        let mut acks_this_run = 0;
        for line in lines {
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (rev, pos) = rest.split_once(' ').unwrap();
                last_ack = Some((rev.parse().unwrap(), pos.to_owned()));
                acks_this_run += 1;
            }
        }
        tally.acks += acks_this_run;
        tally.runs_with_acks += usize::from(acks_this_run > 0);

        // The state file parses and holds the last acknowledged transition.
        let state = StateStore::new(dir.join("rollouts.json"))
            .load()
            .unwrap_or_else(|e| panic!("kill {kill}: {e}"))
            .unwrap_or_else(|| panic!("kill {kill}: no state file"));
        let rollout = &state.rollouts["f"];
        let state_rev = rollout.history.last().unwrap().revision;
        if let Some((rev, pos)) = &last_ack {
            assert!(
                state_rev >= *rev,
                "kill {kill}: state at {state_rev}, acked {rev}"
            );
            if let Some(t) = rollout.history.iter().find(|t| t.revision == *rev) {
                assert_eq!(&show(t.to), pos, "kill {kill}: acked transition differs");
            } else {
                panic!("kill {kill}: acked revision {rev} missing from the state history");
            }
        }

        // The audit log verifies (a torn last line is allowed), reaches the state's
        // anchor, and holds the acknowledged transition.
        let audit = dir.join("audit.jsonl");
        match AuditLog::verify_file(&audit).unwrap() {
            Verification::Intact { .. } => {}
            Verification::TornTail { .. } => tally.torn_tails += 1,
            v => panic!("kill {kill}: audit log damaged: {v}"),
        }
        let anchor = state.audit_head.clone().unwrap();
        let anchored = AuditLog::verify_anchored(&audit, &anchor).unwrap();
        assert!(
            matches!(
                anchored,
                Verification::Intact { .. } | Verification::TornTail { .. }
            ),
            "kill {kill}: {anchored}"
        );
        let entries = AuditLog::read_entries(&audit).unwrap();
        if let Some((rev, pos)) = &last_ack {
            assert!(
                entries
                    .iter()
                    .any(|e| e.revision == *rev && &show(e.to) == pos),
                "kill {kill}: acked revision {rev} missing from the audit log"
            );
        }
        // At most one entry past the state's anchor: the change being saved when the
        // process died. If it lowered exposure, the restart re-applies it.
        let ahead: Vec<_> = entries.iter().filter(|e| e.seq > anchor.seq).collect();
        assert!(
            ahead.len() <= 1,
            "kill {kill}: {} entries ahead",
            ahead.len()
        );
        let mut options = vec![show(rollout.position)];
        if let Some(e) = ahead.first() {
            tally.audit_ahead += 1;
            assert_eq!(e.from, Some(rollout.position), "kill {kill}");
            if e.to.percent < rollout.position.percent {
                options = vec![show(e.to)];
            }
        }
        expect_start = Some(options);

        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for n in &names {
            match n.as_str() {
                // The lock file of the shared state lives beside it for good.
                "rollouts.json" | "audit.jsonl" | "rollouts.json.lock" => {}
                "rollouts.json.tmp" => tally.temp_left += 1,
                other => panic!("kill {kill}: unexpected file {other}"),
            }
        }
    }

    // A last start in-process: repairs the log and settles any unsaved entry.
    let c = controller(&dir);
    c.register(
        "f",
        plan(&[1, 5, 25, 50, 100], 600, 100, Criteria::default()),
    )
    .unwrap();
    let state = c.state("f").unwrap();
    assert!(
        expect_start.unwrap().contains(&show(state.position)),
        "final resume"
    );
    let anchor = StateStore::new(dir.join("rollouts.json"))
        .load()
        .unwrap()
        .unwrap()
        .audit_head
        .unwrap();
    assert!(
        AuditLog::verify_anchored(dir.join("audit.jsonl"), &anchor)
            .unwrap()
            .is_intact()
    );
    eprintln!(
        "{KILLS} SIGKILLs in {:.1?}: {tally:?}, last acknowledged revision {:?}",
        started.elapsed(),
        last_ack.map(|a| a.0)
    );
    assert!(
        tally.runs_with_acks >= KILLS / 2,
        "most runs must get some work done before the kill: {tally:?}"
    );
    assert!(
        tally.audit_ahead > 0,
        "no kill landed between logging and saving: {tally:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
