//! Unleash as the remote control plane of `flags`: the toggles of an Unleash server
//! decide the manifest's flags of the same names, evaluated locally by the runtime
//! with Unleash's semantics (client specification 6.1.0, every case passing).
//!
//! ```text
//! Unleash server ──GET /api/client/features (ETag)──► UnleashSource ──Update──► Registry
//!   ▲                 (watch thread, backoff,           parse + check whole,      remote layer,
//!   │                  backup file)                      map to Rules             snapshot swap
//!   └──POST /api/client/register, /api/client/metrics◄── metrics thread ◄── Registry::counts()
//! ```
//!
//! - **Source**: [`UnleashSource`] implements the runtime's [`Source`] for
//!   [`Layer::Remote`]; [`Registry::watch`] polls it on a background thread (no async
//!   runtime). Network I/O never happens on the evaluation path: accessors read the
//!   snapshot the last good payload produced, exactly as for a rule file.
//! - **Mapping**: each toggle becomes the [`Rules`] of the flag of the same name
//!   ([`Mapper`]); see the `mapping` section below for what is rewritten and how.
//! - **Binding**: at start (and when it changes) the source warns, through `tracing`,
//!   about manifest flags the server lacks (they keep their manifest default) and
//!   toggles no flag is named after ([`Binding`]).
//! - **Failures**: a payload that does not parse or check ([`PayloadError`]) is refused
//!   whole and reported; the last good state stays. Attempts back off exponentially
//!   with jitter. The last good payload is written atomically to the backup file, and
//!   served at start while the server cannot be reached.
//! - **Metrics**: [`start`] also registers the client and sends per-toggle yes/no
//!   counts every minute, from the runtime's counters.
//!
//! # Mapping
//!
//! | Unleash | rule model |
//! |---|---|
//! | `enabled: false` | `enabled = false` (kill switch) |
//! | no strategies | on for everyone (with the toggle's variants) |
//! | `default` | `StrategyKind::All` |
//! | `userWithId` | `StrategyKind::Keys` (the context's targeting key is `userId`) |
//! | `flexibleRollout` | `Rollout` with its stickiness and `groupId` (default: the toggle's name) |
//! | `gradualRolloutUserId` / `SessionId` / `Random` | `Rollout` on the key / `sessionId` / random |
//! | `remoteAddress` | `All` + `IN_CIDR` on the `remoteAddress` attribute |
//! | `applicationHostname` | decided once against this machine's host name |
//! | other strategies | never match (as in Unleash without a custom strategy) |
//! | constraints (all 19 operators) | `Constraint`, same operator, values verbatim |
//! | unknown operator | its strategy never matches |
//! | segments | their constraints appended to the strategy's; a missing segment: never matches |
//! | strategy / feature variants | strategy / flag-level `WeightedVariant`s, by name onto the flag's variants |
//! | variant overrides | one copy of the strategy per override, with an `IN` constraint, forcing the variant |
//! | dependencies | crossed in as constraints when the parent is constraint-only (see [`Mapper`]) |
//!
//! Context fields are attributes of the same names (`sessionId`, `remoteAddress`,
//! `environment`, `appName`, `currentTime`, custom properties); `userId` is the
//! targeting key. [`UnleashContext`] converts an Unleash-shaped context.
//!
//! # Example
//!
//! ```no_run
//! # use flags_runtime::__private::*;
//! # static META: [FlagMeta; 0] = [];
//! # static CELLS: [FastCell; 0] = [];
//! # static REGISTRY: Registry = Registry::new(&META, &CELLS, "", "flags.toml");
//! use std::time::Duration;
//! use flags_unleash::UnleashConfig;
//!
//! // `REGISTRY` is the one `flags!` generates (`flags::REGISTRY`).
//! let unleash = flags_unleash::start(
//!     &REGISTRY,
//!     UnleashConfig::new("http://unleash.internal:4242", "checkout")
//!         .token("default:production.abc123")
//!         .interval(Duration::from_secs(15))
//!         .backup_file("/var/lib/checkout/unleash-backup.json"),
//! )?;
//! // Accessors now follow the server; `unleash` stops polling when dropped.
//! println!("{:?}", unleash.status().origin);
//! # Ok::<(), flags_unleash::ConfigError>(())
//! ```
//!
//! [`Source`]: flags_runtime::Source
//! [`Layer::Remote`]: flags_runtime::Layer::Remote
//! [`Registry::watch`]: flags_runtime::Registry::watch
//! [`Rules`]: flags_runtime::manifest::Rules

mod backup;
mod binding;
mod config;
mod drift;
mod http;
mod mapping;
mod metrics;
mod offline;
mod payload;
mod source;

use flags_runtime::raw::{IndexAccess, SnapshotAccess};
use std::sync::Arc;

use flags_runtime::{BoolFlag, Context, Detail, FlagHandle, Registry, Value, Watch};

pub use binding::{Binding, Bound, Kept, Unbindable, bind};
pub use config::{ConfigError, UnleashConfig};
pub use drift::{Drift, ManifestFlag, drift, fetch};
pub use mapping::{
    MAX_STRATEGIES, MapError, Mapped, Mapper, MappingNote, Target, ToggleVariants, VariantSource,
};
pub use metrics::{MetricsBucket, STRATEGIES, ToggleCounts, rfc3339};
pub use offline::{Toggles, TogglesError, UnleashContext, VariantResult};
pub use payload::{
    ClientFeatures, Constraint, DeltaEvent, Dependency, Feature, FeatureStrategy, Override,
    Payload, PayloadError, Segment, Variant,
};
pub use source::{Origin, Status, StatusHandle, UnleashSource};

/// How this client names itself to the server (`UNLEASH-SDK`, registration).
pub const SDK_VERSION: &str = concat!("flags-unleash:", env!("CARGO_PKG_VERSION"));

/// The client specification version whose every test case this crate passes (sent as
/// `Unleash-Client-Spec`).
pub const CLIENT_SPEC: &str = "6.1.0";

/// Where this crate's `tracing` events go.
pub const TRACING_TARGET: &str = "flags::unleash";

/// Where impression events go: one `INFO` event per read through [`Unleash`]'s
/// [`is_enabled`](Unleash::is_enabled) or [`variant`](Unleash::variant) of a toggle
/// with `impressionData: true`, with the fields `feature`, `event_type`
/// (`isEnabled` or `getVariant`), `enabled`, `variant`, `user_id` and `session_id`.
pub const IMPRESSION_TARGET: &str = "flags::unleash::impression";

/// A running Unleash client: the polling watch and the metrics thread. Dropping it
/// stops both (the metrics thread sends a last bucket first); the remote layer keeps
/// the last state it applied.
#[must_use = "the client polls only while this handle lives"]
#[derive(Debug)]
pub struct Unleash {
    registry: &'static Registry,
    shared: Arc<source::Shared>,
    watch: Option<Watch>,
    metrics: Option<metrics::Metrics>,
}

/// An evaluation's [`Detail`] (the value, its label, the reason and the layer, as
/// every `explain` gives them) with the Unleash payload of the variant chosen: the one
/// result type of the runtime, plus what only an Unleash variant carries.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantDetail<T> {
    /// What the evaluation decided and why; `detail.label` is the variant's name
    /// (`on`/`off` for an on/off flag).
    pub detail: Detail<T>,
    /// The payload of the variant chosen, when weighted variants decided and the
    /// variant has one.
    pub payload: Option<Payload>,
}

/// Starts polling the server for `registry`'s flags (now, then every interval) and,
/// unless [`UnleashConfig::metrics_interval`] is `None`, sending usage metrics (which
/// turns the registry's evaluation counting on; reads then take the counting path).
///
/// The first poll happens before this returns, bounded by
/// [`UnleashConfig::start_timeout`] (5 s by default), so the server's state is in force
/// from the first evaluation on when it answers in time. When it does not (down, or
/// accepting connections and never answering), evaluation starts from the backup file
/// (or the flags' lower layers) and the first fetch goes on in the background.
///
/// Regular polls come every interval less up to a fifth at random, so that a fleet
/// does not poll in step.
///
/// As Unleash's SDKs do, it also sets the process-wide default context fields
/// ([`UnleashConfig::default_context`]: `appName`, `environment` and the configured
/// fields) through [`Context::set_defaults`]; a context's own fields win.
pub fn start(registry: &'static Registry, config: UnleashConfig) -> Result<Unleash, ConfigError> {
    let source = UnleashSource::new(config.clone())?;
    Context::set_defaults(&config.default_context());
    let shared = source.shared();
    let metrics = config
        .metrics_interval
        .map(|every| metrics::Metrics::start(registry, &config, shared.clone(), every));
    let watch = registry.watch(source, config.interval);
    Ok(Unleash {
        registry,
        shared,
        watch: Some(watch),
        metrics,
    })
}

impl Unleash {
    /// The source's status (origin of the state in force, failures, binding).
    #[must_use]
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// A handle on the status, for a health endpoint.
    #[must_use]
    pub fn status_handle(&self) -> StatusHandle {
        StatusHandle(self.shared.clone())
    }

    /// Whether the polling thread runs.
    #[must_use]
    pub fn is_polling(&self) -> bool {
        self.watch.as_ref().is_some_and(Watch::is_running)
    }

    /// Whether on/off flag `flag` is on for `ctx` (Unleash's `isEnabled`): the same
    /// value as the accessor, counted in usage metrics, with an impression event
    /// ([`IMPRESSION_TARGET`]) when the toggle has `impressionData: true`.
    pub fn is_enabled(&self, flag: BoolFlag, ctx: &Context) -> bool {
        let detail = self.registry.explain(flag.index(), ctx);
        let on = detail.value == Value::Bool(true);
        self.impression(flag.index(), "isEnabled", on, detail.label, ctx);
        on
    }

    /// `flag`'s value for `ctx` with the payload of the variant that gave it
    /// (Unleash's `getVariant().payload`), from the runtime's rules: the server's, or
    /// the manifest's `payloads`. Counted in usage metrics like any read, with an
    /// impression event ([`IMPRESSION_TARGET`]) when the toggle has
    /// `impressionData: true`.
    pub fn variant<F: FlagHandle>(&self, flag: F, ctx: &Context) -> VariantDetail<F::Value> {
        let snapshot = self.registry.snapshot();
        let Some(detail) = snapshot.explain(flag.index(), ctx) else {
            return VariantDetail {
                detail: self.registry.explain(flag.index(), ctx).map(F::decode),
                payload: None,
            };
        };
        let enabled = self
            .registry
            .flags()
            .get(flag.index())
            .is_some_and(|m| m.default != detail.value);
        self.impression(flag.index(), "getVariant", enabled, detail.label, ctx);
        let payload = snapshot.payload(flag.index(), &detail).map(|p| Payload {
            kind: p.kind.as_str().to_owned(),
            value: p.value.to_owned(),
        });
        VariantDetail {
            detail: detail.map(F::decode),
            payload,
        }
    }

    fn impression(
        &self,
        index: usize,
        event_type: &str,
        enabled: bool,
        variant: &str,
        ctx: &Context,
    ) {
        if !self.shared.impressions(index) {
            return;
        }
        let feature = self.registry.flags().get(index).map_or("?", |m| m.name);
        tracing::info!(
            target: IMPRESSION_TARGET,
            feature,
            event_type,
            enabled,
            variant,
            user_id = ctx.targeting_key(),
            session_id = ctx.get("sessionId"),
            "impression"
        );
    }

    /// Stops polling and sends the last metrics. Returns promptly even while a request
    /// hangs: the poll waiting on it ends at once, and the last metrics get at most
    /// a second (a request still running then ends on its own timeout).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        // A poll waiting on a hanging request returns at once, so the join is prompt.
        self.shared.stop();
        if let Some(w) = self.watch.take() {
            w.stop();
        }
        drop(self.metrics.take());
    }
}

impl Drop for Unleash {
    fn drop(&mut self) {
        self.shutdown();
    }
}
