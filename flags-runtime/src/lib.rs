//! Nanosecond flag evaluation for flags declared in `flags.toml`.
//!
//! The `flags!` macro (re-exported here) reads the manifest at build time and
//! generates a module of typed accessors backed by a [`Registry`]; this crate decides
//! their values at run time from layered sources:
//!
//! | layer (low → high) | set by |
//! |---|---|
//! | [`Layer::Manifest`] | defaults and rules in `flags.toml` |
//! | [`Layer::File`] | a rule/state file, hot-reloaded ([`Registry::watch_file`]) |
//! | [`Layer::Env`] | `FLAGS_<NAME>=on\|off\|<variant>` and `FLAGS="a=on,b=x"` ([`EnvSource`]) |
//! | [`Layer::Remote`] | any [`Source`] (a flag service) |
//! | [`Layer::Rollout`] | a guarded rollout's exposure ([`raw::IndexAccess::set_rollout_percent`], driven by the `flags-rollout` controller) |
//! | [`Layer::Override`] | [`Registry::set_override`], [`Registry::scoped_overrides`] |
//!
//! For each flag the highest layer with something to say decides; prerequisites
//! (`requires`, `excludes`) are checked first. Evaluation follows Unleash's client
//! specification (strategies, constraints, sticky rollouts with Unleash's bucketing,
//! weighted variants) and [`RuleSet`] exposes it as a pure function of rules and
//! [`Context`].
//!
//! A flag whose value is the same for everyone is read with one atomic load (acquire: a plain load on x86);
//! a sticky rollout costs one hash of the targeting key. Neither allocates.
//!
//! # Semantics worth knowing
//!
//! - **Layers**: the highest layer with rules for a flag decides it whole (rules are
//!   not merged across layers). Prerequisites are checked for every layer except
//!   overrides, which are absolute; a scoped override wins over a process-wide one.
//! - **Unleash compatibility**: answers follow Unleash's engine, Yggdrasil, checked
//!   by a differential test on random payloads and contexts. Rollout buckets and
//!   variant points are Unleash's (murmur3, see [`bucket`]); an empty key or value
//!   is a value (bucketed like any other), and an empty group id is a group id;
//!   default stickiness is the key, then `sessionId`, then random (for rollouts and
//!   variants alike); a rollout on a named attribute that the context lacks admits
//!   nobody; the first matching strategy's variants win over the flag's.
//!   Constraints: `in`/`not_in` compare exactly (`case_insensitive` applies to the
//!   `str_*` operators and `regex`, lower-casing as `str::to_lowercase`); a missing
//!   attribute fails every operator except `not_in`; `inverted` negates the result;
//!   an operand that does not parse (number, date, version, regex, CIDR) never
//!   matches; numbers are read as Rust parses floats (no surrounding spaces) and
//!   `num_eq` compares within `f64::EPSILON`; a missing `currentTime` is the time of
//!   evaluation (`2026-01-31T12:00:00Z`, whole seconds) for every operator; a date
//!   without an offset is UTC; an IPv4-mapped IPv6 address is not in IPv4 ranges.
//! - **Layer prerequisites** ([`manifest::LayerPrerequisite`], Unleash's feature
//!   dependencies): rules of one layer may require a parent to be on or off and at
//!   some variants; the parent's rules in that layer travel with them and are
//!   evaluated one level deep (a parent with prerequisites of its own never satisfies
//!   one), its variant read even when it is off, as Unleash does.
//! - **Variant flags** are "on" for a prerequisite when not at their default variant;
//!   with no strategy matching they are at their default variant.
//! - **Regex** (`regex` operator): the `regex` crate, the engine Yggdrasil uses
//!   (Unicode classes such as `\p{L}` included; matching never backtracks and is
//!   linear in the value). A pattern is compiled once, when rules are built, with a
//!   10 MiB limit on the compiled program, 2 MiB on the lazy DFA and a nesting
//!   depth of 250 (the `regex` crate's defaults, so that Yggdrasil and this crate
//!   accept the same patterns); a pattern that does not compile never matches.
//! - **Cost**: every operator is linear in its input (the context value and the
//!   operands); case-insensitive comparisons lower-case the value once into a
//!   per-thread buffer. Like Unleash's engine, no length limit is put on operands or
//!   context values.
//!
//! # Features
//!
//! - `rule-files` (on by default): reading TOML at run time — rule files
//!   ([`FileSource`], [`Registry::watch_file`]), [`Registry::manifest`] and
//!   hand-written registries built from manifest text ([`Registry::new`]). It brings
//!   `toml` and `serde` (through `flags-manifest`'s `parse` feature). The registry
//!   `flags!` generates never parses: its rules are data checked at build time, so
//!   with `default-features = false` every flag, rule, override and source other than
//!   the file layer works the same, and a hand-written registry takes its rules as
//!   data through [`Registry::generated`].
//!
//! # Example
//!
//! The `flags!` macro generates these statics from `flags.toml`; written by hand:
//!
//! ```
//! use flags_runtime::__private::*;
//! use flags_runtime::{BoolFlag, Context, Reason};
//!
//! const MANIFEST: &str = r#"
//! [flags.new_search]
//! description = "New search ranking"
//! owner = "search"
//! kind = "ops"
//! [[flags.new_search.strategies]]
//! type = "rollout"
//! percent = 50
//! "#;
//! static META: [FlagMeta; 1] = [FlagMeta { name: "new_search", index: 0, description: "",
//!     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
//!     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
//!     excludes: &[] }];
//! static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
//! static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");
//! const NEW_SEARCH: BoolFlag = BoolFlag::new(&REGISTRY, 0);
//!
//! let user = Context::with_key("user-42");
//! let on = NEW_SEARCH.get_for(&user); // sticky: the same answer every time
//! assert_eq!(on, NEW_SEARCH.get_for(&user));
//! let why = NEW_SEARCH.explain(&user);
//! assert!(matches!(why.reason, Reason::Rollout { percent: 50, .. } | Reason::NoStrategyMatched));
//!
//! // Tests force values for their own thread only.
//! let _flags = REGISTRY.scoped_overrides().set(NEW_SEARCH, true);
//! assert!(NEW_SEARCH.get_for(&user));
//! ```

pub mod bucket;
mod context;
mod eval;
mod explain;
mod exposure;
mod gate;
mod handle;
mod measure;
mod meta;
mod operator;
mod outcome;
mod overrides;
pub mod raw;
mod registry;
mod rules;
mod scope;
mod served;
pub mod shard;
mod snapshot;
mod source;
mod telemetry;

pub use context::{AttrValue, Context, ContextGuard, WithContext, with_context};
pub use eval::{FlagDef, RuleSet, RuleSetError};
pub use explain::{Detail, Explanation, Layer, Payload, Reason};
pub use exposure::{
    EXPOSURE_KEY_VAR, EventFormat, ExposureKey, ExposureKeyError, ExposureSampling,
};
pub use flags_macros::{feature_gate, flags};
pub use flags_manifest as manifest;
pub use gate::{Gate, GateCounts};
pub use handle::{BoolFlag, FlagHandle, Variant, VariantFlag};
pub use measure::{BucketsError, DEFAULT_LATENCY_BUCKETS, FlagOutcomes, OutcomeCounts, SideCounts};
pub use meta::{FlagMeta, Kind, Lifecycle, Requirement, Value};
pub use outcome::{OutcomeSink, Succeeded};
pub use overrides::{OverrideGuard, Overrides, WithOverrides};
pub use registry::{FastCell, LayerRules, Registry, UpdateError};
pub use rules::RuleError;
pub use served::{Outcome, Side};
pub use snapshot::Snapshot;
pub use source::{
    DEFAULT_POLL_INTERVAL, EnvProblem, EnvSource, Source, SourceError, SourceHealth, SourceWarning,
    Update, Watch,
};
#[cfg(feature = "rule-files")]
pub use source::{DEFAULT_SETTLE, FileSource};
pub use telemetry::{Counts, EXPOSURE_TARGET, FlagCounts, OTEL_TARGET, TARGET};

/// Items the generated code refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::gate::Gate;
    pub use crate::handle::{BoolFlag, Variant, VariantFlag};
    pub use crate::meta::{Date, FlagMeta, Kind, Lifecycle, MetaColumns, Requirement, Value};
    pub use crate::raw::IndexAccess as _;
    pub use crate::registry::{FastCell, Registry};
    /// `#[feature_gate(measure)]` records outcomes on a side.
    pub use crate::served::Side;
    /// The rule model, for the manifest rules `flags!` emits as data.
    pub use flags_manifest as manifest;
    /// Owned text and lists in the emitted rules.
    pub use std::{boxed::Box, string::String, vec::Vec};
    /// `#[feature_gate(trace)]` emits spans and events through this.
    pub use tracing;
}
