//! The controller: automatic stages, manual commands, hooks and tracing events,
//! persistence across restarts, the order of effects, and the background ticker.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use common::{Capture, plan, scratch};
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{
    Attribution, AuditLog, Cause, ControllerConfig, FnExposure, ManualClock, MemoryExposure,
    Outcome, Recorder, RolloutController, RolloutError, Side, StateStore, Status, Timestamp,
    Transition,
};

const START: u64 = 1_776_159_000_000;

fn clean_plan() -> RolloutPlan {
    plan(&[1, 10, 50, 100], 600, 100, Criteria::default())
}

/// `n` requests split by `percent`, all fine and fast.
fn healthy(r: &Recorder, percent: u8, n: u64) {
    for i in 0..n {
        let on = i % 100 < u64::from(percent);
        r.record(Side::from_bool(on), Outcome::ok(Duration::from_millis(10)));
    }
}

/// `n` requests split by `percent`; the treatment fails half the time.
fn broken(r: &Recorder, percent: u8, n: u64) {
    for i in 0..n {
        let on = i % 100 < u64::from(percent);
        let o = if on && i % 2 == 0 {
            Outcome::error(Duration::from_millis(10))
        } else {
            Outcome::ok(Duration::from_millis(10))
        };
        r.record(Side::from_bool(on), o);
    }
}

struct Setup {
    clock: ManualClock,
    exposure: Arc<MemoryExposure>,
    controller: RolloutController,
}

fn setup() -> Setup {
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let exposure = Arc::new(MemoryExposure::default());
    let controller = RolloutController::builder(exposure.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Setup {
        clock,
        exposure,
        controller,
    }
}

#[test]
fn clean_stages_advance_to_completion() {
    let s = setup();
    let seen = Arc::new(Mutex::new(Vec::<Transition>::new()));
    let controller = {
        let seen = seen.clone();
        RolloutController::builder(s.exposure.clone())
            .clock(s.clock.clone())
            .on_transition(move |t| seen.lock().unwrap().push(t.clone()))
            .build()
            .unwrap()
    };
    let r = controller.register("f", clean_plan()).unwrap();
    assert_eq!(s.exposure.percent("f"), Some(1));
    let mut percents = vec![1];
    for _ in 0..20 {
        let p = s.exposure.percent("f").unwrap();
        healthy(&r, p, 20_000);
        s.clock.advance(Duration::from_secs(200));
        for t in controller.tick() {
            assert_eq!(t.source, Cause::Automatic);
            assert!(t.evidence.is_some(), "automatic decisions carry evidence");
            percents.push(t.to.percent);
        }
    }
    assert_eq!(percents, [1, 10, 50, 100, 100]);
    let state = controller.state("f").unwrap();
    assert_eq!(state.position.status, Status::Completed);
    assert_eq!(state.position.stage, 3);
    // started + 3 advances + completion
    assert_eq!(state.history.len(), 5);
    assert_eq!(seen.lock().unwrap().len(), 5);
    assert!(state.history[0].from.is_none());
    // A stage never advanced before its soak: each took 3 ticks of 200 s.
    for w in state.history.windows(2) {
        assert_eq!(w[1].at.since(w[0].at), Duration::from_secs(600));
    }
}

#[test]
fn regression_rolls_back_calls_hooks_and_logs_an_error_event() {
    let s = setup();
    let rollbacks = Arc::new(AtomicUsize::new(0));
    let controller = {
        let rollbacks = rollbacks.clone();
        RolloutController::builder(s.exposure.clone())
            .clock(s.clock.clone())
            .on_rollback(move |_| {
                rollbacks.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    let capture = Capture::default();
    capture.during(|| {
        let r = controller.register("f", clean_plan()).unwrap();
        broken(&r, 1, 30_000);
        s.clock.advance(Duration::from_secs(60));
        let done = controller.tick();
        assert_eq!(done.len(), 1);
        let t = &done[0];
        assert!(t.is_rollback());
        assert_eq!(t.to.percent, 0);
        assert_eq!(t.to.stage, 0);
        assert!(t.reason.contains("max_error_rate_increase"), "{}", t.reason);
        let ev = t.evidence.as_ref().unwrap();
        assert_eq!(ev.look, 1);
        assert!(ev.breach().is_some());
        // Nothing more happens once rolled back, whatever the traffic.
        broken(&r, 1, 30_000);
        s.clock.advance(Duration::from_secs(6000));
        assert!(controller.tick().is_empty());
    });
    assert_eq!(s.exposure.percent("f"), Some(0));
    assert_eq!(rollbacks.load(Ordering::SeqCst), 1);
    let events = capture.events.lock().unwrap();
    let errors: Vec<_> = events
        .iter()
        .filter(|e| e.level == tracing::Level::ERROR)
        .collect();
    assert_eq!(errors.len(), 1, "{events:?}");
    assert_eq!(errors[0].message, "rollout rolled back");
    assert_eq!(errors[0].flag, "f");
}

#[test]
fn manual_commands() {
    let s = setup();
    let rollbacks = Arc::new(AtomicUsize::new(0));
    let controller = {
        let rollbacks = rollbacks.clone();
        RolloutController::builder(s.exposure.clone())
            .clock(s.clock.clone())
            .on_rollback(move |_| {
                rollbacks.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap()
    };
    let capture = Capture::default();
    let r = controller.register("f", clean_plan()).unwrap();
    capture.during(|| {
        let t = controller
            .pause("f", Attribution::by("alice").because("looking at a ticket"))
            .unwrap();
        assert_eq!(t.to.status, Status::Paused);
        assert_eq!((t.actor.as_str(), t.source), ("alice", Cause::Manual));
        assert_eq!(t.reason, "looking at a ticket");
    });
    let warns = capture
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.level == tracing::Level::WARN && e.message == "rollout paused")
        .count();
    assert_eq!(warns, 1);

    // Paused: neither a regression nor a finished soak moves it.
    broken(&r, 1, 30_000);
    s.clock.advance(Duration::from_secs(10_000));
    assert!(controller.tick().is_empty());
    assert_eq!(s.exposure.percent("f"), Some(1));

    let err = controller.pause("f", Attribution::by("alice")).unwrap_err();
    assert!(matches!(
        err,
        RolloutError::InvalidTransition {
            action: "pause",
            status: Status::Paused,
            ..
        }
    ));

    // Resume: same stage, fresh window (the broken traffic above is not held against it).
    let t = controller.resume("f", Attribution::by("alice")).unwrap();
    assert_eq!(
        (t.to.stage, t.to.percent, t.to.status),
        (0, 1, Status::Running)
    );
    assert_eq!(t.reason, "resume by hand");
    healthy(&r, 1, 30_000);
    s.clock.advance(Duration::from_secs(100));
    assert!(controller.tick().is_empty(), "soak restarted at resume");

    let t = controller
        .advance("f", Attribution::by("bob").because("skip ahead"))
        .unwrap();
    assert_eq!((t.to.stage, t.to.percent), (1, 10));
    assert_eq!(s.exposure.percent("f"), Some(10));

    let t = controller
        .rollback("f", Attribution::by("bob").because("page from support"))
        .unwrap();
    assert!(t.is_rollback());
    assert_eq!((t.to.stage, t.to.percent), (1, 0));
    assert_eq!(s.exposure.percent("f"), Some(0));
    assert_eq!(rollbacks.load(Ordering::SeqCst), 1);
    assert!(matches!(
        controller.rollback("f", Attribution::by("bob")),
        Err(RolloutError::InvalidTransition { .. })
    ));
    let err = controller.advance("f", Attribution::by("bob")).unwrap_err();
    assert!(err.to_string().contains("resume it"), "{err}");

    // Resume after a rollback restarts at the first stage.
    let t = controller
        .resume("f", Attribution::by("bob").because("fixed in 1.2.3"))
        .unwrap();
    assert_eq!(
        (t.to.stage, t.to.percent, t.to.status),
        (0, 1, Status::Running)
    );

    // Advancing by hand through the last stage completes it.
    for _ in 0..3 {
        controller.advance("f", Attribution::by("bob")).unwrap();
    }
    let t = controller.advance("f", Attribution::by("bob")).unwrap();
    assert_eq!(
        (t.to.stage, t.to.percent, t.to.status),
        (3, 100, Status::Completed)
    );
    assert!(matches!(
        controller.advance("f", Attribution::by("bob")),
        Err(RolloutError::InvalidTransition { .. })
    ));
    assert!(matches!(
        controller.resume("f", Attribution::by("bob")),
        Err(RolloutError::InvalidTransition { .. })
    ));
    // A completed rollout can still be rolled back (a kill switch).
    controller.rollback("f", Attribution::by("bob")).unwrap();
    assert_eq!(s.exposure.percent("f"), Some(0));

    assert!(matches!(
        controller.pause("nope", Attribution::by("bob")),
        Err(RolloutError::UnknownFlag { .. })
    ));
}

#[test]
fn low_traffic_pauses_with_a_warning() {
    let s = setup();
    let controller = RolloutController::builder(s.exposure.clone())
        .clock(s.clock.clone())
        .config(ControllerConfig {
            stall_soaks: 2,
            ..ControllerConfig::default()
        })
        .build()
        .unwrap();
    let r = controller.register("f", clean_plan()).unwrap();
    healthy(&r, 1, 5_000); // 50 treatment outcomes, 100 needed
    s.clock.advance(Duration::from_secs(1199));
    assert!(controller.tick().is_empty());
    s.clock.advance(Duration::from_secs(1));
    let done = controller.tick();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].to.status, Status::Paused);
    assert!(
        done[0].reason.contains("not enough traffic: 50 treatment"),
        "{}",
        done[0].reason
    );
    assert_eq!(s.exposure.percent("f"), Some(1));
}

#[test]
fn invalid_plans_are_refused() {
    let s = setup();
    let mut p = clean_plan();
    p.stages = vec![50, 10];
    let err = s.controller.register("f", p).unwrap_err();
    assert!(matches!(err, RolloutError::InvalidPlan { .. }), "{err}");
    assert!(s.controller.state("f").is_none());
}

#[test]
fn registers_the_plans_of_a_manifest() {
    let manifest = flags_manifest::parse_str(
        r#"
[flags.search_v2]
description = "New search"
owner = "search-team"
kind = "ops"

[flags.search_v2.rollout]
stages = [5, 50, 100]
soak = "30s"
min_samples = 200

[flags.plain]
description = "No plan"
owner = "search-team"
kind = "ops"
"#,
        "flags.toml",
    )
    .unwrap();
    let s = setup();
    let recorders = s.controller.register_manifest(&manifest).unwrap();
    assert_eq!(recorders.keys().collect::<Vec<_>>(), ["search_v2"]);
    assert_eq!(s.exposure.percent("search_v2"), Some(5));
    assert!(Arc::ptr_eq(
        &recorders["search_v2"],
        &s.controller.recorder("search_v2").unwrap()
    ));
}

#[test]
fn state_and_looks_survive_a_restart() {
    let dir = scratch("restart");
    let state = dir.join("rollouts.json");
    let audit = dir.join("audit.jsonl");
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let build = |exposure: Arc<MemoryExposure>| {
        RolloutController::builder(exposure)
            .clock(clock.clone())
            .state_file(&state)
            .audit_log(&audit)
            .build()
            .unwrap()
    };
    let first = Arc::new(MemoryExposure::default());
    let c = build(first.clone());
    let r = c.register("f", clean_plan()).unwrap();
    c.advance("f", Attribution::by("alice")).unwrap(); // 10%
    healthy(&r, 10, 10_000);
    clock.advance(Duration::from_secs(300));
    assert!(c.tick().is_empty());
    let before = c.state("f").unwrap();
    assert_eq!(before.looks, 1);
    drop(c);

    // A new process: fresh exposure, fresh counters, same files.
    let second = Arc::new(MemoryExposure::default());
    let c = build(second.clone());
    assert_eq!(c.state("f").unwrap(), before, "loaded as saved");
    let r = c.register("f", clean_plan()).unwrap();
    assert_eq!(second.percent("f"), Some(10), "exposure re-applied");
    let after = c.state("f").unwrap();
    assert_eq!(after.position, before.position);
    assert_eq!(after.since, before.since, "the soak keeps its start");
    assert_eq!(after.looks, 1, "the look count continues");

    // The soak is measured from the saved start: 300 s more finish it.
    healthy(&r, 10, 10_000);
    clock.advance(Duration::from_secs(300));
    let done = c.tick();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].to.percent, 50);
    assert_eq!(done[0].evidence.as_ref().unwrap().look, 2);

    // Every transition is in the audit log, in order, and the log reaches the state's
    // anchor.
    let saved = StateStore::new(&state).load().unwrap().unwrap();
    let entries = AuditLog::read_entries(&audit).unwrap();
    let history = &saved.rollouts["f"].history;
    assert_eq!(entries.len(), history.len());
    for (e, t) in entries.iter().zip(history) {
        assert_eq!(&e.transition(), t);
    }
    let anchor = saved.audit_head.unwrap();
    assert!(
        AuditLog::verify_anchored(&audit, &anchor)
            .unwrap()
            .is_intact()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_changed_plan_never_raises_exposure() {
    let dir = scratch("replan");
    let state = dir.join("rollouts.json");
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let exposure = Arc::new(MemoryExposure::default());
    let build = || {
        RolloutController::builder(exposure.clone())
            .clock(clock.clone())
            .state_file(&state)
            .build()
            .unwrap()
    };
    let c = build();
    c.register(
        "f",
        plan(&[1, 5, 25, 50, 100], 600, 100, Criteria::default()),
    )
    .unwrap();
    c.advance("f", Attribution::by("a")).unwrap();
    c.advance("f", Attribution::by("a")).unwrap(); // 25%
    drop(c);

    let c = build();
    c.register("f", plan(&[1, 10, 50, 100], 600, 100, Criteria::default()))
        .unwrap();
    let s = c.state("f").unwrap();
    assert_eq!((s.position.stage, s.position.percent), (1, 10));
    assert_eq!(s.position.status, Status::Running);
    assert!(s.reason.starts_with("plan changed"), "{}", s.reason);
    assert_eq!(exposure.percent("f"), Some(10));
    drop(c);

    let c = build();
    c.register("f", plan(&[50, 100], 600, 100, Criteria::default()))
        .unwrap();
    let s = c.state("f").unwrap();
    assert_eq!(
        (s.position.stage, s.position.percent, s.position.status),
        (0, 0, Status::Paused)
    );
    assert_eq!(exposure.percent("f"), Some(0));
    c.resume("f", Attribution::by("a")).unwrap();
    assert_eq!(exposure.percent("f"), Some(50));
    std::fs::remove_dir_all(dir).unwrap();
}

/// The order of effects: exposure goes up only after the audit entry and the state are
/// on disk, and goes down before either is written.
#[test]
fn exposure_rises_after_the_records_and_falls_before_them() {
    let dir = scratch("order");
    let state = dir.join("rollouts.json");
    let audit = dir.join("audit.jsonl");
    let observed = Arc::new(Mutex::new(Vec::new()));
    let exposure = {
        let (state, audit, observed) = (state.clone(), audit.clone(), observed.clone());
        FnExposure(move |_flag: &str, percent: u8| {
            let entries = AuditLog::read_entries(&audit).map_or(0, |e| e.len());
            let saved = StateStore::new(&state)
                .load()
                .unwrap()
                .map(|s| s.rollouts["f"].position.percent);
            observed.lock().unwrap().push((percent, entries, saved));
        })
    };
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let c = RolloutController::builder(exposure)
        .clock(clock)
        .state_file(&state)
        .audit_log(&audit)
        .build()
        .unwrap();
    c.register("f", clean_plan()).unwrap();
    c.advance("f", Attribution::by("a")).unwrap();
    c.rollback("f", Attribution::by("a")).unwrap();
    assert_eq!(
        *observed.lock().unwrap(),
        [
            (1, 1, Some(1)),   // start: logged and saved, then applied
            (10, 2, Some(10)), // advance: logged and saved, then applied
            (0, 2, Some(10)),  // rollback: applied before anything was written
        ]
    );
    assert_eq!(AuditLog::read_entries(&audit).unwrap().len(), 3);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unsaveable_raise_is_refused_and_a_rollback_still_happens() {
    let dir = scratch("unsaveable");
    let state_dir = dir.join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let state = state_dir.join("rollouts.json");
    let audit = dir.join("audit.jsonl");
    let exposure = Arc::new(MemoryExposure::default());
    let c = RolloutController::builder(exposure.clone())
        .clock(ManualClock::new(Timestamp::from_millis(START)))
        .state_file(&state)
        .audit_log(&audit)
        .build()
        .unwrap();
    c.register("f", clean_plan()).unwrap();

    // Replace the state directory with a file: every save now fails (even for root).
    std::fs::remove_dir_all(&state_dir).unwrap();
    std::fs::write(&state_dir, b"not a directory").unwrap();

    let err = c.advance("f", Attribution::by("a")).unwrap_err();
    assert!(matches!(err, RolloutError::State(_)), "{err}");
    assert_eq!(exposure.percent("f"), Some(1), "exposure not raised");
    assert_eq!(c.state("f").unwrap().position.percent, 1, "state unchanged");
    let entries = AuditLog::read_entries(&audit).unwrap();
    assert_eq!(entries.len(), 3, "start, the attempt, and its undoing");
    assert!(
        entries[2].reason.starts_with("not applied"),
        "{}",
        entries[2].reason
    );
    assert_eq!(entries[2].to.percent, 1);

    let t = c
        .rollback("f", Attribution::by("a").because("incident"))
        .unwrap();
    assert!(t.is_rollback());
    assert_eq!(exposure.percent("f"), Some(0), "rollback applied anyway");

    // Once the disk is back, the next tick saves what memory holds.
    std::fs::remove_file(&state_dir).unwrap();
    std::fs::create_dir_all(&state_dir).unwrap();
    c.tick();
    let saved = StateStore::new(&state).load().unwrap().unwrap();
    assert_eq!(saved.rollouts["f"].position.status, Status::RolledBack);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn background_ticker_ticks_until_stopped() {
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let exposure = Arc::new(MemoryExposure::default());
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let c = RolloutController::builder(exposure.clone())
        .clock(clock.clone())
        .on_transition(move |t| {
            let _ = tx.lock().unwrap().send(t.to);
        })
        .build()
        .unwrap();
    let r = c.register("f", clean_plan()).unwrap();
    assert_eq!(rx.recv().unwrap().percent, 1);
    let ticker = c.spawn_ticker(Duration::from_millis(5)).unwrap();
    healthy(&r, 1, 20_000);
    clock.advance(Duration::from_secs(600));
    let next = rx
        .recv_timeout(flags_test_support::wait::patience())
        .expect("the ticker advanced the stage");
    assert_eq!(next.percent, 10);
    // `stop` joins the ticker's thread: once it returns, nothing ticks any more.
    ticker.stop();
    // Stopped: a finished soak with clean traffic no longer advances anything.
    healthy(&r, 10, 20_000);
    clock.advance(Duration::from_secs(600));
    assert!(rx.try_recv().is_err());
    assert_eq!(exposure.percent("f"), Some(10));
    // A tick would have advanced it: the check above was not vacuous.
    c.tick();
    assert_eq!(rx.try_recv().map(|p| p.percent), Ok(50));
}

#[test]
fn preview_does_not_spend_a_look() {
    let s = setup();
    let r = s.controller.register("f", clean_plan()).unwrap();
    broken(&r, 1, 30_000);
    let ev = s.controller.preview("f").unwrap();
    assert_eq!(ev.look, 1);
    assert!(ev.breach().is_some());
    assert_eq!(s.controller.state("f").unwrap().looks, 0);
    assert_eq!(s.exposure.percent("f"), Some(1));
}

/// A crash between logging a change and saving it leaves an audit entry the state does
/// not have. On the next start a change that raised or kept exposure is declared not
/// applied; one that lowered exposure (already applied before the crash) is re-applied.
#[test]
fn unsaved_audit_entries_are_settled_on_start() {
    let dir = scratch("reconcile");
    let state = dir.join("rollouts.json");
    let audit = dir.join("audit.jsonl");
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let exposure = Arc::new(MemoryExposure::default());
    let build = || {
        RolloutController::builder(exposure.clone())
            .clock(clock.clone())
            .state_file(&state)
            .audit_log(&audit)
            .build()
            .unwrap()
    };
    let c = build();
    c.register("f", clean_plan()).unwrap();
    let saved = c.state("f").unwrap();
    drop(c);

    // The process logged an advance and died before saving it.
    let logged = |to: flags_rollout::Position, reason: &str| {
        let mut log = AuditLog::open(&audit).unwrap();
        log.append(&Transition {
            revision: 2,
            at: Timestamp::from_millis(START),
            flag: "f".into(),
            from: Some(saved.position),
            to,
            reason: reason.into(),
            actor: "bob".into(),
            source: Cause::Manual,
            evidence: None,
        })
        .unwrap();
    };
    logged(
        flags_rollout::Position {
            stage: 1,
            percent: 10,
            status: Status::Running,
        },
        "advance that never happened",
    );
    let c = build();
    c.register("f", clean_plan()).unwrap();
    assert_eq!(c.state("f").unwrap().position, saved.position);
    assert_eq!(exposure.percent("f"), Some(1));
    let entries = AuditLog::read_entries(&audit).unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2].revision, 2);
    assert!(
        entries[2].reason.starts_with("not applied"),
        "{}",
        entries[2].reason
    );
    assert_eq!(entries[2].to, saved.position);
    // Revisions stay unique: the next change does not reuse 2.
    let t = c.pause("f", Attribution::by("bob")).unwrap();
    assert!(t.revision > 2, "{}", t.revision);
    c.resume("f", Attribution::by("bob")).unwrap();
    let saved = c.state("f").unwrap();
    drop(c);

    // Settled entries are not settled twice.
    drop(build());
    assert_eq!(AuditLog::read_entries(&audit).unwrap().len(), 5);

    // The process logged a rollback (exposure was already 0) and died before saving.
    let mut log = AuditLog::open(&audit).unwrap();
    log.append(&Transition {
        revision: 6,
        at: Timestamp::from_millis(START),
        flag: "f".into(),
        from: Some(saved.position),
        to: flags_rollout::Position {
            stage: 0,
            percent: 0,
            status: Status::RolledBack,
        },
        reason: "breach".into(),
        actor: "controller".into(),
        source: Cause::Automatic,
        evidence: None,
    })
    .unwrap();
    drop(log);
    let c = build();
    c.register("f", clean_plan()).unwrap();
    let s = c.state("f").unwrap();
    assert_eq!(s.position.status, Status::RolledBack);
    assert_eq!(s.reason, "breach");
    assert_eq!(
        exposure.percent("f"),
        Some(0),
        "a logged rollback is never undone"
    );
    assert_eq!(AuditLog::read_entries(&audit).unwrap().len(), 6);
    let on_disk = StateStore::new(&state).load().unwrap().unwrap();
    assert_eq!(on_disk.rollouts["f"].position.status, Status::RolledBack);
    assert_eq!(on_disk.audit_head.unwrap().seq, 6);
    std::fs::remove_dir_all(dir).unwrap();
}
