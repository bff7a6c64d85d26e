//! The controller as a fleet's single writer: read-back before writes (a foreign change
//! pauses, never overwritten), metrics outages held, counter resets, failed writes
//! retried, a state file shared with another process, and state per environment.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{plan, scratch};
use flags_manifest::{Criteria, RolloutPlan};
use flags_rollout::{
    Attribution, AuditLog, ExposureTarget, FnExposure, FnMetrics, ManualClock, MemoryExposure,
    Metrics, MetricsError, RolloutController, RolloutError, SideMetrics, Status, TargetError,
    Timestamp, Verification,
};

const START: u64 = 1_776_159_000_000;

fn guarded_plan() -> RolloutPlan {
    plan(
        &[1, 5, 25, 100],
        600,
        100,
        Criteria {
            max_error_rate_increase: Some(0.01),
            ..Criteria::default()
        },
    )
}

/// Fleet-wide cumulative metrics a test moves by hand; `down` makes reads fail.
#[derive(Clone, Default)]
struct Fleet {
    totals: Arc<Mutex<Metrics>>,
    down: Arc<AtomicBool>,
}

impl Fleet {
    /// Adds `n` requests per side, `t_err` and `c_err` of them failed, 10 ms each.
    fn add(&self, n: u64, t_err: u64, c_err: u64) {
        let mut m = self.totals.lock().unwrap();
        let side = |old: &SideMetrics, errors: u64| {
            SideMetrics::from_sums(
                old.samples() + n,
                old.errors() + errors,
                old.latency_sum_us() + n * 10_000,
                old.latency_sum_squares_us2() + u128::from(n) * 100_000_000,
            )
        };
        m.treatment = side(&m.treatment, t_err);
        m.control = side(&m.control, c_err);
    }

    fn reset(&self) {
        *self.totals.lock().unwrap() = Metrics::default();
    }

    fn source(
        &self,
    ) -> FnMetrics<impl Fn(&str) -> Result<Metrics, MetricsError> + Send + Sync + use<>> {
        let me = self.clone();
        FnMetrics(move |_: &str| {
            if me.down.load(Ordering::SeqCst) {
                Err(MetricsError::Unavailable {
                    origin: "test".into(),
                    detail: "connection refused".into(),
                })
            } else {
                Ok(*me.totals.lock().unwrap())
            }
        })
    }
}

struct Setup {
    clock: ManualClock,
    target: Arc<MemoryExposure>,
    fleet: Fleet,
    controller: RolloutController,
}

fn setup() -> Setup {
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let target = Arc::new(MemoryExposure::default());
    let fleet = Fleet::default();
    let controller = RolloutController::with_target(target.clone())
        .clock(clock.clone())
        .metrics(fleet.source())
        .build()
        .unwrap();
    controller.register("f", guarded_plan()).unwrap();
    Setup {
        clock,
        target,
        fleet,
        controller,
    }
}

#[test]
fn a_clean_stage_advances_on_fleet_sums() {
    let s = setup();
    assert_eq!(s.target.percent("f"), Some(1));
    s.fleet.add(1_000, 0, 0);
    s.clock.advance(Duration::from_secs(601));
    let t = s.controller.tick();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(s.target.percent("f"), Some(5));
}

#[test]
fn a_percentage_changed_by_someone_else_pauses_and_is_never_overwritten() {
    let s = setup();
    s.target.write_exposure("f", 40).unwrap(); // a person in the UI
    s.fleet.add(1_000, 0, 0);
    s.clock.advance(Duration::from_secs(601));
    let t = s.controller.tick();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].to.status, Status::Paused);
    assert_eq!(t[0].to.percent, 40);
    assert!(t[0].reason.contains("someone else"), "{}", t[0].reason);
    for _ in 0..3 {
        s.clock.advance(Duration::from_secs(601));
        s.fleet.add(1_000, 0, 0);
        assert!(s.controller.tick().is_empty());
    }
    assert_eq!(s.target.percent("f"), Some(40), "never overwritten");
    // A person resumes: the stage's percentage is written again.
    s.controller.resume("f", Attribution::by("ops")).unwrap();
    assert_eq!(s.target.percent("f"), Some(1));
}

#[test]
fn a_metrics_outage_holds_the_stage_and_data_coming_back_resumes_it() {
    let s = setup();
    s.fleet.add(200, 0, 0);
    s.controller.tick();
    s.fleet.down.store(true, Ordering::SeqCst);
    // During the outage the treatment breaks and the soak ends: nothing may happen.
    s.fleet.add(5_000, 2_500, 0);
    for _ in 0..10 {
        s.clock.advance(Duration::from_secs(600));
        assert!(s.controller.tick().is_empty());
    }
    assert_eq!(s.target.percent("f"), Some(1));
    let outages = s.controller.outages();
    assert!(outages["f"].contains("connection refused"), "{outages:?}");
    assert_eq!(
        s.controller.state("f").unwrap().position.status,
        Status::Running,
        "no pause for missing data"
    );
    s.fleet.down.store(false, Ordering::SeqCst);
    let t = s.controller.tick();
    assert!(s.controller.outages().is_empty());
    assert_eq!(t.len(), 1, "{t:?}");
    assert!(t[0].is_rollback(), "the window covers the outage: {t:?}");
    assert_eq!(s.target.percent("f"), Some(0));
}

#[test]
fn a_counter_reset_restarts_the_window_instead_of_reading_garbage() {
    let s = setup();
    s.fleet.add(1_000, 0, 0);
    s.controller.tick();
    s.fleet.reset();
    s.fleet.add(50, 0, 0);
    s.clock.advance(Duration::from_secs(601));
    assert!(
        s.controller.tick().is_empty(),
        "new window, too few samples"
    );
    s.fleet.add(500, 0, 0);
    let t = s.controller.tick();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].to.percent, 5);
}

/// A target whose writes (and optionally reads) fail while `down`.
struct Flaky {
    inner: MemoryExposure,
    down: AtomicBool,
    reads_fail: AtomicBool,
}

impl ExposureTarget for Flaky {
    fn describe(&self) -> String {
        "flaky".into()
    }
    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        if self.reads_fail.load(Ordering::SeqCst) {
            return Err(TargetError::Unavailable {
                origin: "flaky".into(),
                detail: "read refused".into(),
            });
        }
        self.inner.read_exposure(flag)
    }
    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(TargetError::Unavailable {
                origin: "flaky".into(),
                detail: "write refused".into(),
            });
        }
        self.inner.write_exposure(flag, percent)
    }
}

#[test]
fn a_failed_write_is_retried_and_not_mistaken_for_a_foreign_change() {
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let target = Arc::new(Flaky {
        inner: MemoryExposure::default(),
        down: AtomicBool::new(false),
        reads_fail: AtomicBool::new(false),
    });
    let fleet = Fleet::default();
    let c = RolloutController::with_target(target.clone())
        .clock(clock.clone())
        .metrics(fleet.source())
        .build()
        .unwrap();
    c.register("f", guarded_plan()).unwrap();
    target.down.store(true, Ordering::SeqCst);
    c.rollback("f", Attribution::by("ops")).unwrap();
    assert_eq!(target.inner.percent("f"), Some(1), "the write failed");
    assert!(c.outages()["f"].contains("write refused"));
    assert!(c.tick().is_empty());
    target.down.store(false, Ordering::SeqCst);
    assert!(c.tick().is_empty(), "retried, not a conflict");
    assert_eq!(target.inner.percent("f"), Some(0));
    assert_eq!(c.state("f").unwrap().position.status, Status::RolledBack);
    assert!(c.outages().is_empty());

    // A target that cannot be read holds a running flag.
    c.resume("f", Attribution::by("ops")).unwrap();
    target.reads_fail.store(true, Ordering::SeqCst);
    fleet.add(1_000, 0, 0);
    clock.advance(Duration::from_secs(601));
    c.tick();
    fleet.add(1_000, 0, 0);
    assert!(c.tick().is_empty());
    assert_eq!(target.inner.percent("f"), Some(1));
    target.reads_fail.store(false, Ordering::SeqCst);
    let t = c.tick();
    assert_eq!(t.len(), 1, "{t:?}");
    assert_eq!(target.inner.percent("f"), Some(5));
}

#[test]
fn a_restart_after_a_crash_before_the_write_completes_it() {
    let dir = scratch("fleet-crash");
    let state = dir.join("state.json");
    let target = Arc::new(MemoryExposure::default());
    let clock = ManualClock::new(Timestamp::from_millis(START));
    // A controller whose writes never land: the process "dies" after saving.
    let dead = RolloutController::with_target(FnExposureTarget)
        .clock(clock.clone())
        .state_file(&state)
        .build()
        .unwrap();
    target.write_exposure("f", 1).unwrap();
    dead.register("f", guarded_plan()).unwrap();
    dead.advance("f", Attribution::by("ops")).unwrap();
    drop(dead);
    assert_eq!(target.percent("f"), Some(1));
    let c = RolloutController::with_target(target.clone())
        .clock(clock)
        .state_file(&state)
        .build()
        .unwrap();
    c.register("f", guarded_plan()).unwrap();
    assert_eq!(
        target.percent("f"),
        Some(5),
        "the interrupted write is made"
    );
    assert_eq!(c.state("f").unwrap().position.status, Status::Running);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A target that accepts writes and drops them, reading back nothing.
struct FnExposureTarget;

impl ExposureTarget for FnExposureTarget {
    fn describe(&self) -> String {
        "nowhere".into()
    }
    fn read_exposure(&self, _: &str) -> Result<Option<u8>, TargetError> {
        Ok(None)
    }
    fn write_exposure(&self, _: &str, _: u8) -> Result<(), TargetError> {
        Ok(())
    }
}

#[test]
fn a_command_from_another_process_reaches_the_running_controller_at_its_next_tick() {
    let dir = scratch("fleet-shared");
    let (state, audit) = (dir.join("state.json"), dir.join("audit.jsonl"));
    let target = Arc::new(MemoryExposure::default());
    let fleet = Fleet::default();
    let clock = ManualClock::new(Timestamp::from_millis(START));
    let running = RolloutController::with_target(target.clone())
        .clock(clock.clone())
        .metrics(fleet.source())
        .state_file(&state)
        .audit_log(&audit)
        .build()
        .unwrap();
    running.register("f", guarded_plan()).unwrap();
    fleet.add(1_000, 0, 0);
    clock.advance(Duration::from_secs(601));
    assert_eq!(running.tick().len(), 1);
    assert_eq!(target.percent("f"), Some(5));

    // `cargo flags rollout rollback` elsewhere: same files, no access to the target.
    let cli = RolloutController::builder(FnExposure(|_: &str, _: u8| {}))
        .clock(clock.clone())
        .state_file(&state)
        .audit_log(&audit)
        .build()
        .unwrap();
    cli.register("f", guarded_plan()).unwrap();
    cli.rollback("f", Attribution::by("alice").because("pager"))
        .unwrap();
    drop(cli);
    assert_eq!(target.percent("f"), Some(5), "not yet applied");

    let adopted = running.tick();
    assert_eq!(
        adopted.len(),
        1,
        "taken over and told, not a conflict: {adopted:?}"
    );
    assert!(adopted[0].is_rollback());
    assert_eq!(adopted[0].actor, "alice");
    assert_eq!(target.percent("f"), Some(0));
    assert_eq!(
        running.state("f").unwrap().position.status,
        Status::RolledBack
    );
    // The running controller goes on appending to the same chain.
    running.resume("f", Attribution::by("alice")).unwrap();
    assert_eq!(target.percent("f"), Some(1));
    assert!(matches!(
        AuditLog::verify_file(&audit).unwrap(),
        Verification::Intact { entries: 4, .. }
    ));
    let rollbacks = AuditLog::read_entries(&audit)
        .unwrap()
        .iter()
        .filter(|e| e.transition().is_rollback())
        .count();
    assert_eq!(rollbacks, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn state_is_kept_per_environment() {
    let dir = scratch("fleet-env");
    let state = dir.join("state.json");
    let c = RolloutController::with_target(Arc::new(MemoryExposure::default()))
        .environment("production")
        .state_file(&state)
        .build()
        .unwrap();
    c.register("f", guarded_plan()).unwrap();
    drop(c);
    let err = RolloutController::with_target(Arc::new(MemoryExposure::default()))
        .environment("staging")
        .state_file(&state)
        .build()
        .err()
        .unwrap();
    assert!(matches!(err, RolloutError::Environment { .. }), "{err}");
    assert!(err.to_string().contains("production"), "{err}");

    // A running controller does not take over another environment's file put in
    // place of its own either.
    let prod = RolloutController::with_target(Arc::new(MemoryExposure::default()))
        .environment("production")
        .state_file(&state)
        .build()
        .unwrap();
    let staging_state = dir.join("staging.json");
    let staging = RolloutController::with_target(Arc::new(MemoryExposure::default()))
        .environment("staging")
        .state_file(&staging_state)
        .build()
        .unwrap();
    staging.register("f", guarded_plan()).unwrap();
    for _ in 0..3 {
        staging.pause("f", Attribution::by("t")).unwrap();
        staging.resume("f", Attribution::by("t")).unwrap();
    }
    std::fs::copy(&staging_state, &state).unwrap();
    let err = prod.pause("f", Attribution::by("t")).err().unwrap();
    assert!(matches!(err, RolloutError::Environment { .. }), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
