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
//! | [`Layer::Rollout`] | a guarded rollout's exposure ([`Registry::set_rollout_percent`]) |
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
//! - **Unleash compatibility**: rollout buckets and variant points are Unleash's
//!   (murmur3, see [`bucket`]); default stickiness is the key, then `sessionId`, then
//!   random (variants also try `remoteAddress`); a rollout on a named attribute that
//!   the context lacks admits nobody; the first matching strategy's variants win over
//!   the flag's. Constraints: `in`/`not_in` compare exactly (`case_insensitive`
//!   applies to the `str_*` operators and `regex`, as in Unleash); a missing
//!   attribute fails every operator except `not_in`; `inverted` negates the result;
//!   an operand that does not parse (number, date, version, regex, CIDR) never
//!   matches; `currentTime` defaults to now; a date without an offset is UTC.
//! - **Variant flags** are "on" for a prerequisite when not at their default variant;
//!   with no strategy matching they are at their default variant.
//! - **Regex** (`regex` operator) is matched by a linear-time engine for the RE2
//!   syntax without Unicode classes (`\p{L}`); a pattern it cannot compile never
//!   matches.
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
mod gate;
mod guarded;
mod handle;
mod meta;
mod operator;
mod overrides;
mod registry;
mod rules;
mod snapshot;
mod source;
mod telemetry;

pub use context::{AttrValue, Context, ContextGuard, WithContext, with_context};
pub use eval::{Evaluation, FlagDef, RuleSet, RuleSetError};
pub use explain::{Detail, Layer, Reason};
pub use flags_macros::{feature_gate, flags};
pub use flags_manifest as manifest;
/// Guarded rollouts: staged plans, metrics by side, statistical decisions, crash-safe
/// state and a hash-chained audit log (the `flags-rollout` crate).
pub use flags_rollout as rollout;
pub use gate::{Gate, GateCounts};
pub use guarded::Succeeded;
pub use handle::{BoolFlag, FlagHandle, Variant, VariantFlag};
pub use meta::{FlagMeta, Kind, Lifecycle, Value};
pub use overrides::{OverrideGuard, Overrides, WithOverrides};
pub use registry::{FastCell, Registry, UpdateError};
pub use rules::RuleError;
pub use snapshot::Snapshot;
pub use source::{
    DEFAULT_POLL_INTERVAL, EnvProblem, EnvSource, FileSource, Source, SourceError, Update, Watch,
};
pub use telemetry::{Counts, EXPOSURE_TARGET, ExposureSampling, FlagCounts, TARGET};

/// Items the generated code refers to; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::gate::Gate;
    pub use crate::handle::{BoolFlag, Variant, VariantFlag};
    pub use crate::meta::{FlagMeta, Kind, Lifecycle, Value};
    pub use crate::registry::{FastCell, Registry};
    /// `#[feature_gate(trace)]` emits spans and events through this.
    pub use tracing;
}
