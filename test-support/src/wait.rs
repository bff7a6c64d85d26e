//! Waiting for a condition, never for a duration. A test that needs something to
//! happen on another thread or process checks for it repeatedly until a deadline that
//! is generous on purpose: it is only reached when the thing never happens, so a
//! loaded machine makes a test slower, not red. Time taken is printed, not asserted:
//! speed claims belong in benchmarks.
//!
//! `TEST_TIME_SCALE` (a positive number, default 1) multiplies every deadline, for
//! machines slower still.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// The environment variable that multiplies every deadline.
pub const TIME_SCALE_VAR: &str = "TEST_TIME_SCALE";

/// The base deadline for anything that should happen "soon": 30 s.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How long to pause between two checks of a condition. The pause is not what the
/// test waits for, the condition is; it only keeps the loop from spinning a core that
/// the thread being waited for may need.
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// `TEST_TIME_SCALE`, or 1 when unset. A value that is not a positive number panics, so
/// that a typo is not silently ignored.
pub fn time_scale() -> f64 {
    match std::env::var(TIME_SCALE_VAR) {
        Err(_) => 1.0,
        Ok(text) => match text.trim().parse::<f64>() {
            Ok(scale) if scale.is_finite() && scale > 0.0 => scale,
            _ => panic!("{TIME_SCALE_VAR}={text:?}: use a positive number such as 2 or 0.5"),
        },
    }
}

/// `base` multiplied by [`time_scale`].
pub fn scaled(base: Duration) -> Duration {
    base.mul_f64(time_scale())
}

/// The deadline for [`wait_until`]: [`PATIENCE`] × `TEST_TIME_SCALE`.
pub fn patience() -> Duration {
    scaled(PATIENCE)
}

/// Waits until `done` holds and returns how long that took; panics, naming `what`,
/// if it has not held after [`patience`].
pub fn wait_until(what: &str, done: impl FnMut() -> bool) -> Duration {
    wait_until_within(what, patience(), done)
}

/// [`wait_until`] with a deadline of its own (scale it with [`scaled`]).
pub fn wait_until_within(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if done() {
            return start.elapsed();
        }
        let waited = start.elapsed();
        assert!(
            waited <= limit,
            "timed out after {waited:?} waiting for {what} (raise {TIME_SCALE_VAR} on a slow machine)"
        );
        // Not synchronisation: a pause between checks of the condition above.
        std::thread::sleep(CHECK_EVERY);
    }
}

/// [`wait_until`], returning the first value `check` gives.
pub fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let mut found = None;
    wait_until(what, || {
        found = check();
        found.is_some()
    });
    match found {
        Some(value) => value,
        None => unreachable!("wait_until returned, so the check gave a value"),
    }
}

/// Waits for `child` to exit and returns its status; kills it and panics, naming
/// `what`, if it still runs after [`patience`] × `factor` (a child doing real work may
/// need more than the default). std has no wait with a timeout, hence the checks.
pub fn wait_for_exit(child: &mut Child, what: &str, factor: u32) -> ExitStatus {
    let limit = patience() * factor;
    let mut status = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until_within(what, limit, || {
            status = child
                .try_wait()
                .unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
            status.is_some()
        })
    }));
    match (outcome, status) {
        (Ok(took), Some(status)) => {
            eprintln!("{what}: exited after {took:?}");
            status
        }
        (outcome, _) => {
            let _ = child.kill();
            let _ = child.wait();
            match outcome {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(_) => unreachable!("wait_until_within returned without a status"),
            }
        }
    }
}
