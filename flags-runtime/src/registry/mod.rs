//! The registry: the static table of a crate's flags and the state that decides their
//! values.
//!
//! State lives in layers (manifest < file < env < remote < rollout < override). Every accepted
//! update rebuilds a [`Snapshot`](crate::Snapshot) of all flags from the layers and
//! swaps it in atomically (`arc-swap`). Each flag also has a [`FastCell`]: one word
//! holding the flag's value when it is the same for everyone and nothing forces a
//! closer look, so that reading it costs one acquire load and a branch. Otherwise the
//! cell is marked SLOW and reads evaluate the current snapshot for the context.
//!
//! The slow path is taken when: the registry is not initialised yet; the flag's rules
//! (or a prerequisite's) depend on the context; a scoped override exists anywhere for
//! this registry; exposure sampling is on. While counting is on, a cell keeps its
//! value with a mark that sends reads through one out-of-line call that counts them.

mod cell;
mod instrument;
mod layers;
mod read;
mod realised;
mod report;
mod set;
mod start;

pub use cell::FastCell;
pub use layers::LayerRules;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use arc_swap::ArcSwap;
#[cfg(feature = "rule-files")]
use flags_manifest::Manifest;
use flags_manifest::Rules;

use crate::explain::Layer;
use crate::exposure::ExposureKey;
use crate::meta::FlagMeta;
use crate::rules::RuleError;
use crate::snapshot::{Slot, SnapshotData, Statics};
use crate::source::SourceError;
use crate::telemetry::{self, Counters};

use layers::Writer;

/// An update that was refused; the last good state stays in force.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Sources feed the file, env and remote layers; the manifest is fixed at build
    /// time and overrides are set with `set_override`.
    #[error("the {0} layer cannot be set from a source (help: use the file, env or remote layer)")]
    Layer(Layer),
    /// An index beyond the registry's flags.
    #[error("no flag #{index} in this registry")]
    UnknownFlag {
        /// The index given.
        index: usize,
    },
    /// A handle of another registry (another `flags!` module) given to this one.
    #[error(
        "flag `{flag}` belongs to another registry (help: call the registry of the module that declares it)"
    )]
    ForeignFlag {
        /// The flag's name.
        flag: &'static str,
    },
    /// A static flag is fixed at build time.
    #[error(
        "flag `{flag}` is static: no run-time source can change it (help: set FLAGS_STATIC_<NAME> when building, or make the flag non-static)"
    )]
    Static {
        /// The flag.
        flag: &'static str,
    },
    /// Rules that do not fit their flag.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// The source could not produce an update.
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// The lazily built state of a registry.
pub(crate) struct State {
    /// Unique among all states ever built in the process: keys the per-thread
    /// snapshot cache (a registry's address could be reused, this cannot).
    uid: u64,
    statics: Statics,
    /// Shared with the per-thread caches of the read path (`arc_swap::Cache`).
    snapshot: Arc<ArcSwap<SnapshotData>>,
    writer: Mutex<Writer>,
    /// Live override scopes (guards and wrapped futures) of this registry, anywhere.
    scopes: AtomicUsize,
    /// Whether scopes or sampling are on: set with every publication (under the
    /// writer lock), read once per slow-path evaluation.
    instrumented: AtomicBool,
    counting: AtomicBool,
    /// Per flag, the bucketing group of its STICKY cell words (see `cell::STICKY`),
    /// set once, before the first such word is published.
    sticky_groups: Box<[OnceLock<crate::bucket::BucketGroup>]>,
    exposure_one_in: AtomicU32,
    /// Sampled events follow OpenTelemetry's conventions.
    exposure_otel: AtomicBool,
    exposure_key: arc_swap::ArcSwapOption<ExposureKey>,
    counters: Counters,
    errors: AtomicU64,
    /// How each source has fared.
    health: crate::source::HealthBook,
    /// Where each flag's recorded outcomes go (a guarded rollout's recorder).
    outcome_sinks: crate::outcome::Sinks,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave the layers half-written (each
        // update is built aside and moved in whole), so a poisoned lock is usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The flags of one manifest and the state that decides their values.
pub struct Registry {
    meta: &'static [FlagMeta],
    cells: &'static [FastCell],
    /// Where the manifest layer's rules come from.
    rules: Declared,
    manifest_src: &'static str,
    manifest_path: &'static str,
    /// The manifest text parsed, on demand (tools: rule files, test matrices,
    /// rollout plans); evaluation never needs it for a generated registry.
    #[cfg(feature = "rule-files")]
    parsed: OnceLock<Option<Manifest>>,
    state: OnceLock<State>,
    /// Outcome counts, with their histogram buckets fixed at the first outcome (or
    /// by `set_latency_buckets`).
    outcomes: OnceLock<crate::measure::OutcomeTable>,
}

/// The rules `flags!` emits for a manifest: `(flag index, rules)` for every flag that
/// has some, built from Rust data rather than parsed.
pub type ManifestRules = fn() -> Vec<(usize, Rules)>;

/// Where a registry's manifest-layer rules come from.
#[derive(Clone, Copy)]
enum Declared {
    /// Rust data ([`Registry::generated`]): nothing is parsed.
    Data(ManifestRules),
    /// The packed form `flags!` emits ([`Registry::packed`]): decoded at the first
    /// read, with no TOML parser.
    Packed(&'static str),
    /// The manifest text, parsed at the first read ([`Registry::new`]).
    #[cfg(feature = "rule-files")]
    Text,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("manifest", &self.manifest_path)
            .field("flags", &self.meta.len())
            .field("initialised", &self.state.get().is_some())
            .finish()
    }
}

static NEXT_STATE: AtomicU64 = AtomicU64::new(1);

// Registries are shared statics and snapshots cross threads.
const _: fn() = || {
    fn shareable<T: Sync + Send>() {}
    shareable::<Registry>();
    shareable::<Slot>();
};

impl Registry {
    /// A hand-written registry: the rules come from `manifest_src`, parsed at the
    /// first read (a manifest that does not parse is reported, and its flags stay at
    /// their defaults). `flags!` uses [`Registry::generated`] instead.
    ///
    /// Needs the `rule-files` feature (on by default), which brings the TOML parser;
    /// without it, write the rules as data and use [`Registry::generated`].
    #[cfg(feature = "rule-files")]
    pub const fn new(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry::declared(meta, cells, Declared::Text, manifest_src, manifest_path)
    }

    /// The registry `flags!` puts in a `static`: the manifest was checked at build
    /// time and its rules are data (`rules`), so nothing is parsed at run time;
    /// `manifest_src` is kept for [`Registry::manifest_source`] (and, with the
    /// `rule-files` feature, `Registry::manifest`). It is also how a hand-written
    /// registry is built without that feature.
    pub const fn generated(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        rules: ManifestRules,
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry::declared(
            meta,
            cells,
            Declared::Data(rules),
            manifest_src,
            manifest_path,
        )
    }

    /// The registry `flags!` emits: [`Registry::generated`] with the rules in the
    /// packed form of [`flags_manifest::packed::encode_rules`], which compiles much
    /// faster than the same rules as Rust expressions. Rules that do not decode (code
    /// generated by another release) are reported like a manifest that does not parse.
    #[doc(hidden)]
    pub const fn packed(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        rules: &'static str,
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry::declared(
            meta,
            cells,
            Declared::Packed(rules),
            manifest_src,
            manifest_path,
        )
    }

    /// A registry of `meta` whose rules are declared as `rules`, not yet started.
    const fn declared(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        rules: Declared,
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry {
            meta,
            cells,
            rules,
            manifest_src,
            manifest_path,
            #[cfg(feature = "rule-files")]
            parsed: OnceLock::new(),
            state: OnceLock::new(),
            outcomes: OnceLock::new(),
        }
    }

    /// The metadata of every flag, by index.
    pub fn flags(&self) -> &'static [FlagMeta] {
        self.meta
    }

    /// The manifest text the registry was built from.
    pub fn manifest_source(&self) -> (&'static str, &'static str) {
        (self.manifest_path, self.manifest_src)
    }

    /// The parsed manifest (parsed on the first call, for tools such as rule files,
    /// test matrices and rollout plans; evaluating flags never needs it); `None` if it
    /// does not parse, which the `flags!` macro rules out at build time. Needs the
    /// `rule-files` feature (on by default).
    #[cfg(feature = "rule-files")]
    pub fn manifest(&self) -> Option<&Manifest> {
        self.parsed
            .get_or_init(|| flags_manifest::parse_str(self.manifest_src, self.manifest_path).ok())
            .as_ref()
    }

    /// The dense index of flag `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.meta.iter().position(|m| m.name == name)
    }

    /// Initialises the registry now (compile the rules, read the environment)
    /// rather than on the first read, so environment problems are reported at start.
    pub fn init(&self) {
        let _ = self.state();
    }

    /// Identity used to key scoped overrides.
    pub(crate) fn id(&self) -> usize {
        self as *const Registry as usize
    }

    #[inline(always)]
    pub(crate) fn outcome_table_cell(&self) -> &OnceLock<crate::measure::OutcomeTable> {
        &self.outcomes
    }

    #[inline]
    pub(crate) fn outcome_sinks(&self) -> &crate::outcome::Sinks {
        &self.state().outcome_sinks
    }

    /// The outcome sinks and whether counting is on, from one look at the state.
    #[inline]
    pub(crate) fn outcome_route(&self) -> (&crate::outcome::Sinks, bool) {
        let state = self.state();
        (&state.outcome_sinks, state.counting.load(Ordering::Relaxed))
    }

    fn state(&self) -> &State {
        match self.state.get() {
            Some(s) => s,
            None => self.init_state(),
        }
    }

    #[cold]
    fn init_state(&self) -> &State {
        let mut reports = Vec::new();
        let state = self.state.get_or_init(|| {
            let (state, r) = self.build_state();
            reports = r;
            state
        });
        self.emit(reports);
        state
    }

    /// Counts and reports a problem with an update.
    pub(crate) fn report_error(&self, layer: Layer, source: &str, error: &str) {
        self.state().errors.fetch_add(1, Ordering::Relaxed);
        telemetry::rejected(self.manifest_path, layer, source, error);
    }

    /// Rejected updates and skipped values (bad environment variables, invalid or
    /// missing rule files, refused remote payloads) since start.
    ///
    /// # Examples
    ///
    /// See [`Registry::watch_file`].
    pub fn error_count(&self) -> u64 {
        self.state().errors.load(Ordering::Relaxed)
    }

    /// The generation of the current snapshot (0 at start, +1 per applied change).
    pub fn generation(&self) -> u64 {
        self.state().snapshot.load().generation
    }
}
