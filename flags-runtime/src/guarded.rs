//! The runtime side of guarded rollouts (the `flags-rollout` crate, re-exported as
//! [`crate::rollout`]): a registry is the [`Exposure`] a controller widens and
//! withdraws flags through, and it routes each recorded outcome to the flag's
//! [`Recorder`] on the side (treatment or control) the caller was on.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use flags_rollout::{Exposure, Outcome, Recorder, RolloutController, Side};

use crate::registry::Registry;

impl Exposure for &'static Registry {
    fn set_exposure(&self, flag: &str, percent: u8) {
        let result = match self.index_of(flag) {
            Some(index) => self.set_rollout_percent(index, Some(percent)),
            None => Err(crate::UpdateError::UnknownName {
                name: flag.to_owned(),
            }),
        };
        if let Err(e) = result {
            tracing::error!(target: crate::TARGET, flag, percent, error = %e, "rollout exposure not applied");
        }
    }
}

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

/// Per-flag recorders, read without a lock on every recorded outcome.
pub(crate) struct Recorders(Box<[ArcSwapOption<Recorder>]>);

impl Recorders {
    pub(crate) fn new(n: usize) -> Recorders {
        Recorders((0..n).map(|_| ArcSwapOption::empty()).collect())
    }
}

impl Registry {
    /// Sends the outcomes recorded for this registry's flags to `controller`'s
    /// recorders, for every flag it has a rollout for.
    pub fn attach_rollouts(&self, controller: &RolloutController) {
        let recorders = self.recorders();
        for (index, meta) in self.flags().iter().enumerate() {
            if let (Some(slot), Some(r)) = (recorders.0.get(index), controller.recorder(meta.name))
            {
                slot.store(Some(r));
            }
        }
    }

    /// Attaches one flag's recorder directly.
    pub fn attach_recorder(&self, index: usize, recorder: Arc<Recorder>) {
        if let Some(slot) = self.recorders().0.get(index) {
            slot.store(Some(recorder));
        }
    }

    /// Records the outcome of one request for flag `index`'s rollout, on the `side`
    /// that served it ([`Side::Treatment`] when the flag was on). No lock and no
    /// allocation; a flag without an attached rollout ignores it.
    #[inline]
    pub fn record_outcome(&self, index: usize, side: Side, outcome: Outcome) {
        if let Some(slot) = self.recorders().0.get(index)
            && let Some(r) = &*slot.load()
        {
            r.record(side, outcome);
        }
    }
}
