//! Outcomes of the code a flag chose: which [`Side`] served a request and how it went
//! ([`Outcome`]), routed without a lock to whatever watches the flag, an
//! [`OutcomeSink`] attached per flag. The guarded-rollout controller (the
//! `flags-rollout` crate) attaches its recorders here; `#[feature_gate(.., measure)]`
//! records through [`BoolFlag::record_outcome`](crate::BoolFlag::record_outcome).
//!
//! The runtime knows nothing of rollout plans or statistics: it routes outcomes and
//! exposes the rollout layer ([`IndexAccess::set_rollout_percent`](crate::raw::IndexAccess::set_rollout_percent)), and the controller
//! builds on both.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use crate::registry::Registry;
use crate::served::{Outcome, Side};

/// Whether a routed call's result counts as a success for rollout metrics: `Err` and
/// `None` are failures, everything else succeeds.
///
/// # Examples
///
/// ```
/// use flags_runtime::Succeeded;
/// use std::time::Duration;
///
/// let failed: Result<u32, &str> = Err("timeout");
/// assert!(!failed.outcome(Duration::from_millis(30)).ok);
/// assert!(Some(1).outcome(Duration::from_millis(2)).ok);
/// ```
pub trait Succeeded {
    /// `true` for a success.
    fn succeeded(&self) -> bool;

    /// The [`Outcome`] of a call that returned `self` after `latency`.
    fn outcome(&self, latency: Duration) -> Outcome {
        if self.succeeded() {
            Outcome::ok(latency)
        } else {
            Outcome::error(latency)
        }
    }
}

impl<T, E> Succeeded for Result<T, E> {
    fn succeeded(&self) -> bool {
        self.is_ok()
    }
}

impl<T> Succeeded for Option<T> {
    fn succeeded(&self) -> bool {
        self.is_some()
    }
}

impl Succeeded for () {
    fn succeeded(&self) -> bool {
        true
    }
}

impl Succeeded for bool {
    fn succeeded(&self) -> bool {
        *self
    }
}

/// Receives the outcomes recorded for one flag (a guarded rollout's recorder).
///
/// Called on the request path: an implementation must not block or allocate.
///
/// # Examples
///
/// ```
/// use flags_runtime::{Outcome, OutcomeSink, Side};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// /// Counts failed requests on the new code.
/// #[derive(Default)]
/// struct Failures(AtomicU64);
///
/// impl OutcomeSink for Failures {
///     fn record(&self, side: Side, outcome: Outcome) {
///         if side == Side::Treatment && !outcome.ok {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// # let _ = Failures::default();
/// ```
pub trait OutcomeSink: Send + Sync {
    /// Counts one request served on `side`.
    fn record(&self, side: Side, outcome: Outcome);
}

/// An attached sink. `ArcSwapOption` needs a sized type, hence the box around the
/// trait object: one more pointer to follow on a path that does atomic additions
/// anyway.
struct Attached(Arc<dyn OutcomeSink>);

/// Per-flag sinks, read without a lock on every recorded outcome.
pub(crate) struct Sinks(Box<[ArcSwapOption<Attached>]>);

impl Sinks {
    pub(crate) fn new(n: usize) -> Sinks {
        Sinks((0..n).map(|_| ArcSwapOption::empty()).collect())
    }
}

impl Registry {
    /// Sends the outcomes recorded for flag `index` to `sink` from now on, in place of
    /// any sink attached before; `None` detaches. An index out of range is ignored.
    pub(crate) fn attach_outcomes_at(&self, index: usize, sink: Option<Arc<dyn OutcomeSink>>) {
        if let Some(slot) = self.outcome_sinks().0.get(index) {
            slot.store(sink.map(|s| Arc::new(Attached(s))));
        }
    }

    /// Records the outcome of one request for flag `index`, on the `side` that
    /// served it ([`Side::Treatment`] when the flag was on): into the registry's own
    /// counts while counting is on ([`Registry::outcome_counts`]), and to the sink
    /// attached to the flag, if any. No lock and no allocation (but the first outcome
    /// of a flag on a thread, which sets up its counters).
    #[inline]
    pub(crate) fn record_outcome_at(&self, index: usize, side: Side, outcome: Outcome) {
        let (sinks, counting) = self.outcome_route();
        if counting {
            self.measure_outcome(index, side, outcome);
        }
        if let Some(slot) = sinks.0.get(index)
            && let Some(sink) = &*slot.load()
        {
            sink.0.record(side, outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::IndexAccess;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Log(Mutex<Vec<(Side, bool)>>);

    impl OutcomeSink for Log {
        fn record(&self, side: Side, outcome: Outcome) {
            self.0.lock().unwrap().push((side, outcome.ok));
        }
    }

    use crate::meta::FlagMeta;
    use crate::registry::FastCell;

    static META: [FlagMeta; 2] = [FlagMeta::bare("a", 0, &[]), FlagMeta::bare("b", 1, &[])];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::generated(&META, &CELLS, Vec::new, "", "none.toml");

    #[test]
    fn outcomes_reach_the_attached_sink_only() {
        let log = Arc::new(Log::default());
        let ms = Duration::from_millis(1);
        REGISTRY.record_outcome(0, Side::Treatment, Outcome::ok(ms)); // nothing attached
        REGISTRY.attach_outcomes(0, Some(log.clone()));
        REGISTRY.record_outcome(0, Side::Treatment, Outcome::ok(ms));
        REGISTRY.record_outcome(0, Side::Control, Outcome::error(ms));
        REGISTRY.record_outcome(1, Side::Control, Outcome::error(ms)); // another flag
        REGISTRY.record_outcome(99, Side::Control, Outcome::error(ms)); // out of range
        REGISTRY.attach_outcomes(0, None);
        REGISTRY.record_outcome(0, Side::Treatment, Outcome::ok(ms));
        assert_eq!(
            *log.0.lock().unwrap(),
            [(Side::Treatment, true), (Side::Control, false)]
        );
    }
}
