//! Flags by dense index and values as [`Value`]: the access that sources, rollout
//! controllers, test harnesses and other integrations need, kept out of the way of
//! application code, which reads typed handles (`flags::X.get()`, `flags::x()`).
//!
//! Bring [`IndexAccess`] into scope to use it:
//!
//! ```
//! use flags_runtime::raw::IndexAccess;
//! # use flags_runtime::__private::{FastCell, FlagMeta, Registry, Value};
//! # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
//! # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
//! # static REGISTRY: Registry = Registry::new(&META, &CELLS,
//! #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
//! let beta = REGISTRY.index_of("beta").unwrap();
//! REGISTRY.set_override_value(beta, Value::Bool(true))?;
//! assert_eq!(REGISTRY.value(beta), Value::Bool(true));
//! # Ok::<(), flags_runtime::UpdateError>(())
//! ```

use std::sync::Arc;

use crate::context::Context;
use crate::explain::{Detail, Layer, Payload};
use crate::gate::Gate;
use crate::meta::Value;
use crate::outcome::OutcomeSink;
use crate::registry::LayerRules;
use crate::registry::{Registry, UpdateError};
use crate::served::{Outcome, Side};
use flags_manifest::Rules;

/// Index-based reads and writes of a [`Registry`]; see the [module docs](self).
pub trait IndexAccess {
    /// The current value of flag `index` in the ambient context (`off` for an index
    /// out of range).
    fn value(&self, index: usize) -> Value;

    /// The current value of flag `index` for `ctx`.
    fn value_for(&self, index: usize, ctx: &Context) -> Value;

    /// The value held in flag `index`'s fast cell, when reads are served from it (the
    /// same for everyone, nothing forcing the slow path); `None` otherwise.
    fn fast_value(&self, index: usize) -> Option<Value>;

    /// The value of flag `index` for a `#[feature_gate]` call, counted for `gate`
    /// while counting is on (ambient context, or `ctx`).
    fn route(&'static self, index: usize, ctx: Option<&Context>, gate: &'static Gate) -> Value;

    /// Why flag `index` has its value for `ctx`. Counted as a read while the registry
    /// counts, like any other; an index out of range explains as `off` with
    /// [`crate::Reason::Error`].
    fn explain(&self, index: usize, ctx: &Context) -> Detail;

    /// [`explain`](Self::explain) for every context whose targeting key is `key`,
    /// when flag `index` is decided by the key alone (its rules in force are one
    /// sticky rollout on the key, and no scoped override is in play): then no
    /// [`Context`] needs to be built, whatever else the caller knows about the
    /// user. `None` when the flag needs more than the key: build the context and
    /// call [`explain`](Self::explain). Counted like `explain` when it answers.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::raw::IndexAccess;
    /// use flags_runtime::Context;
    /// # use flags_runtime::__private::{FastCell, FlagMeta, Registry};
    /// # static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\
    /// #      [[flags.beta.strategies]]\ntype = \"rollout\"\npercent = 50\n", "flags.toml");
    /// let beta = REGISTRY.index_of("beta").unwrap();
    /// let keyed = REGISTRY.explain_key(beta, "user-42");
    /// let full = REGISTRY.explain(beta, &Context::with_key("user-42").attr("plan", "pro"));
    /// assert_eq!(keyed.map(|d| (d.value, d.reason, d.layer)), Some((full.value, full.reason, full.layer)));
    /// ```
    fn explain_key(&self, index: usize, key: &str) -> Option<Detail> {
        let _ = (index, key);
        None
    }

    /// Forces flag `index` to `value` for the whole process (the override layer).
    /// Typed form: [`Registry::set_override`].
    ///
    /// # Errors
    ///
    /// An unknown index, a static flag, or a value that does not fit the flag.
    fn set_override_value(&self, index: usize, value: Value) -> Result<(), UpdateError>;

    /// Sets (`Some`) or clears (`None`) a guarded rollout's exposure of on/off flag
    /// `index`: the percentage of targeting keys that see it on, bucketed as
    /// Unleash does.
    ///
    /// # Errors
    ///
    /// An unknown index, a static flag, or a variant flag.
    fn set_rollout_percent(&self, index: usize, percent: Option<u8>) -> Result<(), UpdateError>;

    /// Sends the outcomes recorded for flag `index` to `sink` from now on, in place of
    /// any sink attached before; `None` detaches. An index out of range is ignored.
    /// (What a guarded-rollout controller attaches; a typed handle's
    /// `record_outcome` feeds it.)
    fn attach_outcomes(&self, index: usize, sink: Option<Arc<dyn OutcomeSink>>);

    /// Records the outcome of one request for flag `index`, on the `side` that served
    /// it: what `BoolFlag::record_outcome` does for a typed handle.
    fn record_outcome(&self, index: usize, side: Side, outcome: Outcome);

    /// What each layer says about flag `index`, lowest first: the layers with rules
    /// for it, with their origin and a short description (the highest one decides,
    /// as [`SnapshotAccess::explain`] shows). Empty for an index out of
    /// range.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag, Layer};
    /// use flags_runtime::raw::IndexAccess;
    /// use flags_runtime::manifest::Rules;
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// let on = Rules { value: Some(Value::Bool(true)), ..Rules::default() };
    /// REGISTRY.set_layer(Layer::Remote, "https://flags.example", vec![(0, on)])?;
    /// let layers = REGISTRY.layers_of(0);
    /// assert_eq!(layers.len(), 1);
    /// assert_eq!((layers[0].layer, layers[0].origin.as_str()), (Layer::Remote, "https://flags.example"));
    /// assert_eq!(layers[0].rules, "on");
    /// # Ok::<(), flags_runtime::UpdateError>(())
    /// ```
    fn layers_of(&self, index: usize) -> Vec<LayerRules>;

    /// Replaces `layer` (file, env or remote) with `rules`, all or nothing: for
    /// sources that push rather than being polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag, Layer, Reason};
    /// use flags_runtime::raw::IndexAccess;
    /// use flags_runtime::manifest::Rules;
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// let on = Rules { value: Some(Value::Bool(true)), ..Rules::default() };
    /// REGISTRY.set_layer(Layer::Remote, "https://flags.example", vec![(0, on)])?;
    /// let detail = BETA.explain(&flags_runtime::Context::new());
    /// assert!(detail.value);
    /// assert_eq!((detail.reason, detail.layer), (Reason::Fixed, Layer::Remote));
    ///
    /// let bad = Rules { value: Some(Value::Variant(3)), ..Rules::default() };
    /// assert!(REGISTRY.set_layer(Layer::Remote, "https://flags.example", vec![(0, bad)]).is_err());
    /// assert!(BETA.get(), "the last good state stays");
    /// # Ok::<(), flags_runtime::UpdateError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The manifest or override layer, an index out of range, or rules that do not
    /// fit their flag; the layer keeps its last good rules.
    fn set_layer(
        &self,
        layer: Layer,
        origin: &str,
        rules: Vec<(usize, Rules)>,
    ) -> Result<(), UpdateError>;
}

/// Index-based writes to a scoped [`OverrideGuard`](crate::OverrideGuard), for tools
/// that work by name, such as matrix runners; code reads `guard.set(flags::X, value)`.
pub trait GuardAccess {
    /// Forces flag `index` of the guard's first registry to an untyped `value`,
    /// checked against the flag.
    ///
    /// # Errors
    ///
    /// An index out of range, or a value that does not fit the flag.
    fn try_insert_value(&mut self, index: usize, value: Value) -> Result<(), UpdateError>;
}

/// Index-based reads of a [`Snapshot`](crate::Snapshot): the same reads as
/// [`Snapshot::get`](crate::Snapshot::get)/[`get_for`](crate::Snapshot::get_for) with a
/// typed handle, by dense index, with the explanation and
/// the payload that integrations (an Unleash client, an OpenFeature provider, a
/// dashboard) need from one consistent view.
pub trait SnapshotAccess {
    /// Flag `index`'s value for `ctx` in this snapshot (default `false` for an index
    /// out of range). Counted in usage counts while the registry counts.
    #[must_use]
    fn value_for(&self, index: usize, ctx: &Context) -> Value;

    /// Flag `index`'s value in the ambient context.
    #[must_use]
    fn value(&self, index: usize) -> Value;

    /// Why flag `index` has its value for `ctx` in this snapshot; `None` for an index
    /// out of range. A read like any other: counted in usage counts while the
    /// registry counts.
    #[must_use]
    fn explain(&self, index: usize, ctx: &Context) -> Option<Detail>;

    /// The payload of the variant `detail` chose, where `detail` is this snapshot's
    /// [`explain`](Self::explain) of flag `index`: the weighted variant's payload in
    /// the rules that decided, borrowed from this snapshot. `None` when no weighted
    /// list decided (defaults, overrides, kill switches) or the variant has no payload.
    #[must_use]
    fn payload(&self, index: usize, detail: &Detail) -> Option<Payload<'_>>;

    /// The layer that decides flag `index` in this snapshot (before prerequisites and
    /// scoped overrides).
    #[must_use]
    fn layer(&self, index: usize) -> Option<Layer>;

    /// The value of flag `index` when it is the same for every context.
    #[must_use]
    fn uniform_value(&self, index: usize) -> Option<Value>;
}

impl IndexAccess for Registry {
    #[inline]
    fn value(&self, index: usize) -> Value {
        Registry::value_at(self, index)
    }

    #[inline]
    fn value_for(&self, index: usize, ctx: &Context) -> Value {
        Registry::value_for_at(self, index, ctx)
    }

    #[inline]
    fn fast_value(&self, index: usize) -> Option<Value> {
        Registry::fast_value_at(self, index)
    }

    #[inline]
    fn route(&'static self, index: usize, ctx: Option<&Context>, gate: &'static Gate) -> Value {
        Registry::route_at(self, index, ctx, gate)
    }

    fn explain(&self, index: usize, ctx: &Context) -> Detail {
        Registry::explain_at(self, index, ctx)
    }

    fn explain_key(&self, index: usize, key: &str) -> Option<Detail> {
        Registry::explain_key_at(self, index, key)
    }

    fn set_override_value(&self, index: usize, value: Value) -> Result<(), UpdateError> {
        Registry::set_override_at(self, index, value)
    }

    fn set_rollout_percent(&self, index: usize, percent: Option<u8>) -> Result<(), UpdateError> {
        Registry::set_rollout_at(self, index, percent)
    }

    fn attach_outcomes(&self, index: usize, sink: Option<Arc<dyn OutcomeSink>>) {
        Registry::attach_outcomes_at(self, index, sink);
    }

    #[inline]
    fn record_outcome(&self, index: usize, side: Side, outcome: Outcome) {
        Registry::record_outcome_at(self, index, side, outcome);
    }

    fn layers_of(&self, index: usize) -> Vec<LayerRules> {
        Registry::layers_of_at(self, index)
    }

    fn set_layer(
        &self,
        layer: Layer,
        origin: &str,
        rules: Vec<(usize, Rules)>,
    ) -> Result<(), UpdateError> {
        Registry::set_layer_at(self, layer, origin, rules)
    }
}
