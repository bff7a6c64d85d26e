//! Instrumentation on the read path: evaluation counts, sampled exposure events, and
//! the override scopes that send every read down the slow path.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::context::{self, Context};
use crate::exposure::{EventFormat, ExposureSampling};
use crate::meta::Value;
use crate::snapshot::View;
use crate::telemetry::{self, Counts};

use super::read::with_current;
use super::{Registry, State};

impl Registry {
    /// The slow path with scoped overrides, counting or exposure sampling in play (out
    /// of line: it would weigh on the plain slow path's registers).
    #[inline(never)]
    pub(super) fn value_instrumented(
        &self,
        state: &State,
        index: usize,
        ctx: Option<&Context>,
    ) -> Value {
        let scoped = (state.scopes.load(Ordering::Relaxed) > 0).then(|| self.id());
        let one_in = state.exposure_one_in.load(Ordering::Relaxed);
        let value = if one_in != 0 && telemetry::sampled(one_in) {
            self.value_exposed(state, index, ctx, scoped)
        } else {
            // Returns only the value: small results keep this path free of memory
            // shuffling.
            with_current(state, &|data| {
                if scoped.is_none()
                    && let Some(value) = data.slots[index].uniform
                {
                    return value;
                }
                let view = View {
                    statics: &state.statics,
                    data,
                    scoped,
                };
                match ctx {
                    Some(ctx) => view.evaluate(index, ctx).value,
                    None => context::with_ambient(|ctx| view.evaluate(index, ctx).value),
                }
            })
        };
        if state.counting.load(Ordering::Relaxed) {
            state.counters.count(index, value);
        }
        value
    }

    /// A sampled evaluation: evaluates and emits an exposure event.
    #[cold]
    pub(super) fn value_exposed(
        &self,
        state: &State,
        index: usize,
        ctx: Option<&Context>,
        scoped: Option<usize>,
    ) -> Value {
        let exposure_key = state.exposure_key.load();
        let (outcome, key_hash) = with_current(state, &|data| {
            let view = View {
                statics: &state.statics,
                data,
                scoped,
            };
            let run = |ctx: &Context| {
                let outcome = view.evaluate(index, ctx);
                (
                    outcome,
                    ctx.targeting_key()
                        .zip(exposure_key.as_ref())
                        .map(|(k, key)| key.hash(k)),
                )
            };
            match ctx {
                Some(ctx) => run(ctx),
                None => context::with_ambient(run),
            }
        });
        let meta = &self.meta[index];
        let label = meta.label(outcome.value);
        if state.exposure_otel.load(Ordering::Relaxed) {
            telemetry::otel_evaluation(self.manifest_path, meta, label, outcome.reason, key_hash);
        } else {
            telemetry::exposure(meta.name, label, outcome.reason, outcome.layer, key_hash);
        }
        outcome.value
    }

    pub(crate) fn scope_opened(&self) {
        let state = self.state();
        let _w = state.lock();
        if state.scopes.fetch_add(1, Ordering::Relaxed) == 0 {
            self.publish_locked(state, &state.snapshot.load());
        }
    }

    pub(crate) fn scope_closed(&self) {
        let state = self.state();
        let _w = state.lock();
        if state.scopes.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.publish_locked(state, &state.snapshot.load());
        }
    }

    // ---- telemetry -----------------------------------------------------------------

    /// Turns per-flag, per-value evaluation counting on or off, and with it the
    /// registry's own outcome counts ([`Registry::outcome_counts`]). Off by default.
    /// Counters are per thread (see [`Counts`]): a counted read of a flag with one
    /// value for everyone costs a few nanoseconds more than an uncounted one, from one
    /// thread or many.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// REGISTRY.set_counting(true);
    /// for _ in 0..3 { let _ = BETA.get(); }
    /// assert_eq!(REGISTRY.counts().get("beta", "off"), 3);
    /// ```
    pub fn set_counting(&self, on: bool) {
        let state = self.state();
        let _w = state.lock();
        state.counting.store(on, Ordering::Relaxed);
        self.publish_locked(state, &state.snapshot.load());
    }

    /// Counts a read of flag `index` that gave `value` (while counting is on) for the
    /// read paths outside the accessors: snapshots, `explain`, payload look-ups.
    pub(crate) fn count_read(&self, index: usize, value: Value) {
        let state = self.state();
        if state.counting.load(Ordering::Relaxed) {
            state.counters.count(index, value);
        }
    }

    /// Whether counting is on.
    #[inline]
    pub fn is_counting(&self) -> bool {
        self.state().counting.load(Ordering::Relaxed)
    }

    /// A copy of the evaluation counters.
    pub fn counts(&self) -> Counts {
        self.state().counters.snapshot(self.meta)
    }

    /// Sets every counter back to zero: evaluations and outcomes
    /// ([`Registry::outcome_counts`]).
    pub fn reset_counts(&self) {
        self.state().counters.reset();
        self.reset_outcome_counts();
    }

    /// Turns sampled exposure events on (`Some`) or off (`None`). While on, reads take
    /// the slow path. Events carry a targeting key's hash only when `sampling` has a
    /// key ([`ExposureKey`](crate::ExposureKey)).
    pub fn set_exposure_sampling(&self, sampling: Option<ExposureSampling>) {
        let state = self.state();
        let _w = state.lock();
        let otel = sampling
            .as_ref()
            .is_some_and(|s| s.format == EventFormat::OpenTelemetry);
        let (one_in, key) = sampling.map_or((0, None), |s| (s.one_in, s.key.map(Arc::new)));
        state.exposure_key.store(key);
        state.exposure_otel.store(otel, Ordering::Relaxed);
        state.exposure_one_in.store(one_in, Ordering::Relaxed);
        self.publish_locked(state, &state.snapshot.load());
    }
}
