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
//! this registry; counting or exposure sampling is on.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use flags_manifest::{Manifest, Rules, Stickiness, Strategy, StrategyKind};

use crate::context::{self, Context};
use crate::eval::Prerequisite;
use crate::explain::{Detail, Layer};
use crate::exposure::{ExposureKey, ExposureSampling};
use crate::gate::{Gate, GateCounts};
use crate::handle::FlagHandle;
use crate::meta::{FlagMeta, Value};
use crate::overrides::OverrideGuard;
use crate::rules::{CompiledRules, RuleError};
use crate::snapshot::{Slot, SlotDecision, Snapshot, SnapshotData, Statics, View};
use crate::source::{
    DEFAULT_POLL_INTERVAL, EnvSource, FileSource, Source, SourceError, Update, Watch,
};
use crate::telemetry::{self, Counters, Counts};

/// Bit set in a [`FastCell`] when the value cannot be read from the cell alone.
const SLOW: u32 = 1 << 31;
/// Bit set in a [`FastCell`] holding a variant index (else it holds a bool).
const VARIANT: u32 = 1 << 30;

/// One flag's fast-path word: its value for everyone, or a mark that evaluation must
/// take the slow path (rules in force, an override scope, counting on).
#[derive(Debug)]
pub struct FastCell(AtomicU32);

impl FastCell {
    /// A cell that sends the first read down the slow path, which initialises it.
    pub const fn new() -> Self {
        FastCell(AtomicU32::new(SLOW))
    }
}

impl Default for FastCell {
    fn default() -> Self {
        Self::new()
    }
}

#[inline]
fn encode(value: Value) -> u32 {
    match value {
        Value::Bool(b) => u32::from(b),
        Value::Variant(v) => VARIANT | u32::from(v),
    }
}

#[inline]
fn decode(word: u32) -> Value {
    if word & VARIANT != 0 {
        // The low 16 bits hold the index that `encode` stored.
        Value::Variant((word & 0xffff) as u16)
    } else {
        Value::Bool(word & 1 != 0)
    }
}

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

/// One layer's rules, by flag index, and where they came from.
#[derive(Clone, Debug)]
struct LayerState {
    origin: Arc<str>,
    rules: Vec<Option<Arc<CompiledRules>>>,
}

impl LayerState {
    fn empty(origin: &str, n: usize) -> LayerState {
        LayerState {
            origin: Arc::from(origin),
            rules: vec![None; n],
        }
    }
}

/// What writers change, under one mutex: the layers and the publication of the
/// snapshot and of the fast cells.
#[derive(Debug)]
struct Writer {
    layers: [LayerState; 6],
}

/// A telemetry event decided while building state, emitted once no lock is held (a
/// subscriber may read flags).
enum Report {
    Changed {
        flag: &'static str,
        from: String,
        to: String,
        layer: Layer,
        source: Arc<str>,
        generation: u64,
    },
    Rejected {
        layer: Layer,
        source: String,
        error: String,
    },
    Skipped {
        layer: Layer,
        source: String,
        problem: String,
    },
}

/// The lazily built state of a registry.
pub(crate) struct State {
    /// Unique among all states ever built in the process: keys the per-thread
    /// snapshot cache (a registry's address could be reused, this cannot).
    uid: u64,
    /// The generation of the snapshot in `snapshot`, stored after it.
    generation: AtomicU64,
    statics: Statics,
    manifest: Option<Manifest>,
    snapshot: ArcSwap<SnapshotData>,
    writer: Mutex<Writer>,
    /// Live override scopes (guards and wrapped futures) of this registry, anywhere.
    scopes: AtomicUsize,
    /// Whether any of scopes, counting or sampling is on: set with every publication
    /// (under the writer lock), read once per slow-path evaluation.
    instrumented: AtomicBool,
    counting: AtomicBool,
    exposure_one_in: AtomicU32,
    exposure_key: arc_swap::ArcSwapOption<ExposureKey>,
    counters: Counters,
    errors: AtomicU64,
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
    manifest_src: &'static str,
    manifest_path: &'static str,
    state: OnceLock<State>,
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

impl Registry {
    /// Builds the registry the generated code puts in a `static`.
    pub const fn new(
        meta: &'static [FlagMeta],
        cells: &'static [FastCell],
        manifest_src: &'static str,
        manifest_path: &'static str,
    ) -> Self {
        Registry {
            meta,
            cells,
            manifest_src,
            manifest_path,
            state: OnceLock::new(),
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

    /// The parsed manifest (parsed once, on first use); `None` if it does not parse,
    /// which the `flags!` macro rules out at build time.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.state().manifest.as_ref()
    }

    /// The dense index of flag `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.meta.iter().position(|m| m.name == name)
    }

    /// Initialises the registry now (parse the manifest, read the environment)
    /// rather than on the first read, so environment problems are reported at start.
    pub fn init(&self) {
        let _ = self.state();
    }

    /// Identity used to key scoped overrides.
    pub(crate) fn id(&self) -> usize {
        self as *const Registry as usize
    }

    #[inline]
    pub(crate) fn outcome_sinks(&self) -> &crate::outcome::Sinks {
        &self.state().outcome_sinks
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
        self.emit(state, reports);
        state
    }

    fn build_state(&self) -> (State, Vec<Report>) {
        let n = self.meta.len();
        let mut reports = Vec::new();
        let manifest = match flags_manifest::parse_str(self.manifest_src, self.manifest_path) {
            Ok(m) => Some(m),
            Err(e) => {
                reports.push(Report::Rejected {
                    layer: Layer::Manifest,
                    source: self.manifest_path.to_owned(),
                    error: e.to_string(),
                });
                None
            }
        };
        let lookup = |name: &str| {
            self.meta
                .iter()
                .position(|m| m.name == name)
                .map(|i| (i, self.meta[i].variants))
        };
        let mut prerequisites = Vec::with_capacity(n);
        for m in self.meta {
            let mut list = Vec::new();
            for (specs, excludes) in [(m.requires, false), (m.excludes, true)] {
                for spec in specs {
                    match Prerequisite::resolve(spec, excludes, lookup) {
                        Ok(p) => list.push(p),
                        Err(problem) => reports.push(Report::Skipped {
                            layer: Layer::Manifest,
                            source: self.manifest_path.to_owned(),
                            problem: format!("flag `{}`: prerequisite `{spec}`: {problem}", m.name),
                        }),
                    }
                }
            }
            prerequisites.push(list.into_boxed_slice());
        }
        let statics = Statics {
            meta: self.meta,
            prerequisites: prerequisites.into_boxed_slice(),
        };

        let mut layers: [LayerState; 6] = Layer::ALL.map(|l| LayerState::empty(l.as_str(), n));
        layers[Layer::Manifest.slot()].origin = Arc::from(self.manifest_path);
        if let Some(manifest) = &manifest {
            for (i, m) in self.meta.iter().enumerate() {
                let Some(flag) = manifest.flag(m.name) else {
                    reports.push(Report::Skipped {
                        layer: Layer::Manifest,
                        source: self.manifest_path.to_owned(),
                        problem: format!("flag `{}` is not declared in the manifest text", m.name),
                    });
                    continue;
                };
                match CompiledRules::compile(&flag.rules, statics.shape(i)) {
                    Ok(rules) => layers[Layer::Manifest.slot()].rules[i] = rules.map(Arc::new),
                    Err(e) => reports.push(Report::Rejected {
                        layer: Layer::Manifest,
                        source: self.manifest_path.to_owned(),
                        error: e.to_string(),
                    }),
                }
            }
        }

        // The environment, read once now.
        let (values, problems) = EnvSource::from_process().parse(self.meta);
        let check = std::env::var_os(crate::realised::REPORT_VAR)
            .filter(|v| !v.is_empty())
            .map(|path| {
                let own: Vec<String> = problems
                    .iter()
                    .filter(|p| !p.foreign)
                    .map(ToString::to_string)
                    .collect();
                (path, values.clone(), own)
            });
        for p in problems {
            reports.push(Report::Skipped {
                layer: Layer::Env,
                source: "env".to_owned(),
                problem: p.to_string(),
            });
        }
        for (i, v) in values {
            match CompiledRules::fixed(v, statics.shape(i)) {
                Ok(r) => layers[Layer::Env.slot()].rules[i] = Some(Arc::new(r)),
                Err(e) => reports.push(Report::Skipped {
                    layer: Layer::Env,
                    source: "env".to_owned(),
                    problem: e.to_string(),
                }),
            }
        }

        let writer = Writer { layers };
        let base = SnapshotData::build(
            &statics,
            0,
            decisions(&Writer {
                layers: std::array::from_fn(|l| {
                    if l == Layer::Manifest.slot() {
                        writer.layers[l].clone()
                    } else {
                        LayerState::empty("", n)
                    }
                }),
            }),
        );
        let data = SnapshotData::build(&statics, 0, decisions(&writer));
        if let Some((path, forced, problems)) = check {
            let lines = crate::realised::unrealised(
                self.manifest_path,
                self.meta,
                &statics,
                &data,
                &forced,
                &problems,
            );
            crate::realised::append(&path, &lines);
        }
        for i in base.changed(&data).collect::<Vec<_>>() {
            reports.push(Report::Changed {
                flag: self.meta[i].name,
                from: base.describe(i, &self.meta[i]),
                to: data.describe(i, &self.meta[i]),
                layer: data.slots[i].decision.layer(),
                source: data.slots[i].origin.clone(),
                generation: 0,
            });
        }
        // Nobody else can see the state yet: publish without the lock. No scope,
        // counting or sampling can be on before the state exists.
        publish(self.cells, &data, true);
        let errors = reports
            .iter()
            .filter(|r| !matches!(r, Report::Changed { .. }))
            .count() as u64;
        let state = State {
            uid: NEXT_STATE.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
            statics,
            manifest,
            snapshot: ArcSwap::from_pointee(data),
            writer: Mutex::new(writer),
            scopes: AtomicUsize::new(0),
            instrumented: AtomicBool::new(false),
            counting: AtomicBool::new(false),
            exposure_one_in: AtomicU32::new(0),
            exposure_key: arc_swap::ArcSwapOption::empty(),
            counters: Counters::new(self.meta),
            errors: AtomicU64::new(errors),
            outcome_sinks: crate::outcome::Sinks::new(self.meta.len()),
        };
        (state, reports)
    }

    fn emit(&self, _state: &State, reports: Vec<Report>) {
        for r in reports {
            match r {
                Report::Changed {
                    flag,
                    from,
                    to,
                    layer,
                    source,
                    generation,
                } => telemetry::changed(
                    self.manifest_path,
                    flag,
                    &from,
                    &to,
                    layer,
                    &source,
                    generation,
                ),
                Report::Rejected {
                    layer,
                    source,
                    error,
                } => telemetry::rejected(self.manifest_path, layer, &source, &error),
                Report::Skipped {
                    layer,
                    source,
                    problem,
                } => telemetry::skipped(self.manifest_path, layer, &source, &problem),
            }
        }
    }

    /// Whether the fast cells may hold values: nothing forces every read to the slow
    /// path.
    fn fast_allowed(state: &State) -> bool {
        state.scopes.load(Ordering::Relaxed) == 0
            && !state.counting.load(Ordering::Relaxed)
            && state.exposure_one_in.load(Ordering::Relaxed) == 0
    }

    /// Republishes every fast cell from `data`. The caller holds the writer lock.
    ///
    /// Why the lock: publication reads the switches (scopes, counting, sampling) and
    /// then stores the cells; without mutual exclusion a writer could read "no
    /// scope", be preempted while a test opens an override scope and marks every cell
    /// SLOW, then resume and store FAST words, so the scope's thread would read the
    /// fast value and miss its override. With every switch change and every snapshot
    /// swap publishing under the same lock, the last publication always sees the
    /// switches as they are.
    fn publish_locked(&self, state: &State, data: &SnapshotData) {
        let fast = Self::fast_allowed(state);
        state.instrumented.store(!fast, Ordering::Relaxed);
        publish(self.cells, data, fast);
    }

    /// Rebuilds the snapshot from the writer's layers; swaps and publishes it if any
    /// flag changed. Returns the change events to emit once the lock is released.
    fn commit(&self, state: &State, writer: &Writer) -> Vec<Report> {
        let old = state.snapshot.load_full();
        let new = SnapshotData::build(&state.statics, old.generation + 1, decisions(writer));
        let reports: Vec<Report> = old
            .changed(&new)
            .map(|i| Report::Changed {
                flag: self.meta[i].name,
                from: old.describe(i, &self.meta[i]),
                to: new.describe(i, &self.meta[i]),
                layer: new.slots[i].decision.layer(),
                source: new.slots[i].origin.clone(),
                generation: new.generation,
            })
            .collect();
        if reports.is_empty() {
            return reports;
        }
        let new = Arc::new(new);
        state.snapshot.store(new.clone());
        state.generation.store(new.generation, Ordering::Release);
        self.publish_locked(state, &new);
        reports
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

    // ---- reading -------------------------------------------------------------------

    /// The current value of flag `index` in the ambient context.
    #[inline]
    pub fn value(&self, index: usize) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & SLOW == 0 {
                return decode(word);
            }
        }
        self.value_slow(index, None)
    }

    /// The current value of flag `index` for `ctx`.
    #[inline]
    pub fn value_for(&self, index: usize, ctx: &Context) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & SLOW == 0 {
                return decode(word);
            }
        }
        self.value_slow(index, Some(ctx))
    }

    /// Whether flag `index` is on (`Value::Bool(true)`) in the ambient context, or for
    /// `ctx`: [`value`](Self::value) / [`value_for`](Self::value_for) compared with on,
    /// with the fast cell's word tested directly.
    #[inline]
    pub(crate) fn is_on(&self, index: usize, ctx: Option<&Context>) -> bool {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & SLOW == 0 {
                // On is a bool word with its low bit set (see `encode`).
                return word & (VARIANT | 1) == 1;
            }
        }
        matches!(self.value_slow(index, ctx), Value::Bool(true))
    }

    /// The value of flag `index` for a `#[feature_gate]` call, counted for `gate` while
    /// counting is on (ambient context, or `ctx`).
    #[inline]
    pub fn route(&'static self, index: usize, ctx: Option<&Context>, gate: &'static Gate) -> Value {
        if let Some(cell) = self.cells.get(index) {
            let word = cell.0.load(Ordering::Acquire);
            if word & SLOW == 0 {
                return decode(word);
            }
        }
        self.route_slow(index, ctx, gate)
    }

    /// Out of line so that the inlined fast path of a gated call stays as small as a
    /// plain flag check.
    #[cold]
    #[inline(never)]
    fn route_slow(
        &'static self,
        index: usize,
        ctx: Option<&Context>,
        gate: &'static Gate,
    ) -> Value {
        let value = self.value_slow(index, ctx);
        if self.state().counting.load(Ordering::Relaxed) {
            gate.record(self, index, value);
        }
        value
    }

    /// How often each `#[feature_gate]` routing by this registry's flags went to each
    /// side, for gates that ran while counting was on.
    pub fn gate_counts(&'static self) -> Vec<GateCounts> {
        crate::gate::counts(self)
    }

    /// The value flag `index`'s fast cell serves without evaluating, if it holds one
    /// (`None`: reads take the slow path). For diagnostics and tests.
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
    /// assert_eq!(REGISTRY.fast_value(0), None, "not initialised yet");
    /// REGISTRY.init();
    /// assert_eq!(REGISTRY.fast_value(0), Some(Value::Bool(false)));
    /// REGISTRY.set_counting(true);
    /// assert_eq!(REGISTRY.fast_value(0), None);
    /// ```
    pub fn fast_value(&self, index: usize) -> Option<Value> {
        let word = self.cells.get(index)?.0.load(Ordering::Acquire);
        (word & SLOW == 0).then(|| decode(word))
    }

    /// The registry's identity if scoped overrides may be active (a cheap gate before
    /// looking at thread-local frames).
    pub(crate) fn scoped_id(&self) -> Option<usize> {
        (self.state().scopes.load(Ordering::Relaxed) > 0).then(|| self.id())
    }

    #[inline(never)]
    fn value_slow(&self, index: usize, ctx: Option<&Context>) -> Value {
        let state = self.state();
        if index >= self.meta.len() {
            return Value::Bool(false);
        }
        // One load tells whether anything but the rules matters (scopes, counting,
        // sampling): if not, this is the plain evaluation.
        if state.instrumented.load(Ordering::Relaxed) {
            return self.value_instrumented(state, index, ctx);
        }
        // The cached snapshot, with a sticky rollout read for a keyed context decided
        // inline (the bucket alone) and everything else out of line, so that this
        // path stays small.
        let hit = with_cached(state, |data| {
            if let Some(ctx) = ctx
                && let Some(sticky) = data.slots.get(index).and_then(|s| s.sticky.as_ref())
                && let Some(value) = sticky.value(ctx)
            {
                return value;
            }
            read_data(state, data, index, ctx)
        });
        match hit {
            Some(value) => value,
            None => with_current_refresh(state, &|data| read_data(state, data, index, ctx)),
        }
    }

    /// The slow path with scoped overrides, counting or exposure sampling in play (out
    /// of line: it would weigh on the plain slow path's registers).
    #[inline(never)]
    fn value_instrumented(&self, state: &State, index: usize, ctx: Option<&Context>) -> Value {
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
    fn value_exposed(
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
        telemetry::exposure(
            meta.name,
            meta.label(outcome.value),
            outcome.reason,
            outcome.layer,
            key_hash,
        );
        outcome.value
    }

    /// Why flag `index` has its value for `ctx`: value, label, reason and deciding
    /// layer. Explaining is not counted as an evaluation.
    ///
    /// An index out of range explains as `off` with [`crate::Reason::Error`].
    pub fn explain(&self, index: usize, ctx: &Context) -> Detail {
        let snapshot = self.snapshot();
        match snapshot.explain(index, ctx) {
            Some(d) => d,
            None => Detail {
                value: Value::Bool(false),
                label: "off",
                reason: crate::Reason::Error,
                layer: Layer::Manifest,
                flag: "?",
                flags: self.meta,
            },
        }
    }

    /// A consistent view of all flags: reads through it see one state of every flag,
    /// whatever updates happen meanwhile.
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
    /// let before = REGISTRY.snapshot();
    /// REGISTRY.set_override(BETA, true);
    /// assert!(!before.get(BETA));
    /// assert!(REGISTRY.snapshot().get(BETA));
    /// assert!(REGISTRY.snapshot().generation() > before.generation());
    /// ```
    pub fn snapshot(&self) -> Snapshot<'_> {
        let state = self.state();
        Snapshot {
            registry: self,
            statics: &state.statics,
            data: state.snapshot.load_full(),
        }
    }

    // ---- overrides -----------------------------------------------------------------

    /// Checks that `value` is a value of flag `index`, which a run-time override may
    /// change (not a static flag: its accessor is a constant).
    pub(crate) fn check_value(&self, index: usize, value: Value) -> Result<(), UpdateError> {
        let Some(meta) = self.meta.get(index) else {
            return Err(UpdateError::UnknownFlag { index });
        };
        if meta.is_static {
            return Err(UpdateError::Static { flag: meta.name });
        }
        self.state().statics.shape(index).check_value(value)?;
        Ok(())
    }

    /// Forces flag `index` to `value` for the whole process (the override layer,
    /// above every source) until cleared. Typed form: [`Registry::set_override`].
    pub fn set_override_value(&self, index: usize, value: Value) -> Result<(), UpdateError> {
        self.check_value(index, value)?;
        let state = self.state();
        let rules = CompiledRules::fixed(value, state.statics.shape(index))?;
        let reports = {
            let mut w = state.lock();
            let layer = &mut w.layers[Layer::Override.slot()];
            layer.origin = Arc::from("set_override");
            layer.rules[index] = Some(Arc::new(rules));
            self.commit(state, &w)
        };
        self.emit(state, reports);
        Ok(())
    }

    /// Exposes on/off flag `index` to `percent` of targeting keys (a sticky rollout by
    /// the default stickiness, grouped by the flag's name, as Unleash buckets it) in the
    /// rollout layer, above every source and below overrides. This is how a guarded
    /// rollout's controller widens and withdraws a flag; `None` hands the flag back to
    /// the lower layers.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag, Context};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// REGISTRY.set_rollout_percent(0, Some(100))?;
    /// assert!(BETA.get_for(&Context::with_key("user-1")));
    /// REGISTRY.set_rollout_percent(0, Some(0))?;
    /// assert!(!BETA.get_for(&Context::with_key("user-1")));
    /// # Ok::<(), flags_runtime::UpdateError>(())
    /// ```
    pub fn set_rollout_percent(
        &self,
        index: usize,
        percent: Option<u8>,
    ) -> Result<(), UpdateError> {
        self.check_value(index, Value::Bool(true))?;
        let state = self.state();
        let compiled = match percent {
            None => None,
            Some(p) => {
                let rules = Rules {
                    strategies: vec![Strategy {
                        kind: StrategyKind::Rollout {
                            percent: p.min(100),
                            stickiness: Stickiness::Default,
                            group_id: self.meta[index].name.to_owned(),
                        },
                        constraints: Vec::new(),
                        variants: Vec::new(),
                        variant_stickiness: Stickiness::Default,
                        pos: flags_manifest::Pos::default(),
                    }],
                    ..Rules::default()
                };
                CompiledRules::compile(&rules, state.statics.shape(index))?.map(Arc::new)
            }
        };
        let reports = {
            let mut w = state.lock();
            let layer = &mut w.layers[Layer::Rollout.slot()];
            layer.origin = Arc::from("rollout");
            layer.rules[index] = compiled;
            self.commit(state, &w)
        };
        self.emit(state, reports);
        Ok(())
    }

    /// Forces `flag` to `value` for the whole process until cleared; wins over every
    /// source and over prerequisites. For tests prefer
    /// [`Registry::scoped_overrides`], which other threads do not see.
    ///
    /// # Examples
    ///
    /// See [`Registry::snapshot`].
    pub fn set_override<F: FlagHandle>(&self, flag: F, value: F::Value) {
        let registry = flag.registry();
        // A typed value of the handle's own flag always fits it.
        let _ = registry.set_override_value(flag.index(), F::encode(value));
    }

    /// Removes the process-wide override of `flag`.
    pub fn clear_override<F: FlagHandle>(&self, flag: F) {
        let registry = flag.registry();
        let state = registry.state();
        let reports = {
            let mut w = state.lock();
            if let Some(slot) = w.layers[Layer::Override.slot()].rules.get_mut(flag.index()) {
                *slot = None;
            }
            registry.commit(state, &w)
        };
        registry.emit(state, reports);
    }

    /// Removes every process-wide override.
    pub fn clear_overrides(&self) {
        self.clear_layer_inner(Layer::Override);
    }

    /// Overrides in force on the current thread only, until the guard is dropped:
    /// parallel tests never see each other's. For async tasks use
    /// [`Overrides::scope`](crate::Overrides::scope).
    ///
    /// While any scope of this registry exists, reads of its flags take the slow
    /// path (everywhere, so that a scope can never be bypassed by a fast cell).
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "search_v2", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.search_v2]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const SEARCH_V2: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// {
    ///     let _flags = REGISTRY.scoped_overrides().set(SEARCH_V2, true);
    ///     assert!(SEARCH_V2.get());
    ///     // Another thread does not see it.
    ///     assert!(!std::thread::spawn(|| SEARCH_V2.get()).join().unwrap());
    /// }
    /// assert!(!SEARCH_V2.get());
    /// ```
    pub fn scoped_overrides(&'static self) -> OverrideGuard {
        OverrideGuard::new(self)
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

    // ---- sources -------------------------------------------------------------------

    /// Polls `source` once and applies what it returns to its layer. `Ok(true)` when
    /// an update was applied, `Ok(false)` when the source had nothing new; a rejected
    /// update is reported (tracing and [`Registry::error_count`]) and returned.
    pub fn apply(&self, source: &mut dyn Source) -> Result<bool, UpdateError> {
        let layer = source.layer();
        match source.poll(self) {
            Ok(None) => Ok(false),
            Ok(Some(update)) => {
                let origin = source.name().to_owned();
                self.apply_update(layer, &origin, update).map(|()| true)
            }
            Err(e) => {
                self.report_error(layer, &e.origin, &e.detail());
                Err(e.into())
            }
        }
    }

    /// Replaces `layer` (file, env or remote) with `rules`, all or nothing: for
    /// sources that push rather than being polled.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag, Layer, Reason};
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
    pub fn set_layer(
        &self,
        layer: Layer,
        origin: &str,
        rules: Vec<(usize, Rules)>,
    ) -> Result<(), UpdateError> {
        self.apply_update(layer, origin, Update::new(rules))
    }

    fn apply_update(&self, layer: Layer, origin: &str, update: Update) -> Result<(), UpdateError> {
        let state = self.state();
        for w in &update.warnings {
            state.errors.fetch_add(1, Ordering::Relaxed);
            telemetry::skipped(self.manifest_path, layer, origin, &w.to_string());
        }
        let compiled = self.compile_update(layer, update.rules);
        let rules = match compiled {
            Ok(r) => r,
            Err(e) => {
                self.report_error(layer, origin, &e.to_string());
                return Err(e);
            }
        };
        let reports = {
            let mut w = state.lock();
            w.layers[layer.slot()] = LayerState {
                origin: Arc::from(origin),
                rules,
            };
            self.commit(state, &w)
        };
        self.emit(state, reports);
        Ok(())
    }

    fn compile_update(
        &self,
        layer: Layer,
        update: Vec<(usize, Rules)>,
    ) -> Result<Vec<Option<Arc<CompiledRules>>>, UpdateError> {
        if !matches!(layer, Layer::File | Layer::Env | Layer::Remote) {
            return Err(UpdateError::Layer(layer));
        }
        let statics = &self.state().statics;
        let mut rules = vec![None; self.meta.len()];
        for (index, r) in update {
            let Some(meta) = self.meta.get(index) else {
                return Err(UpdateError::UnknownFlag { index });
            };
            if meta.is_static && !r.is_empty() {
                return Err(UpdateError::Static { flag: meta.name });
            }
            rules[index] = CompiledRules::compile(&r, statics.shape(index))?.map(Arc::new);
        }
        Ok(rules)
    }

    /// Empties `layer` (file, env, remote or override): its flags fall back to lower
    /// layers.
    pub fn clear_layer(&self, layer: Layer) -> Result<(), UpdateError> {
        if layer == Layer::Manifest {
            return Err(UpdateError::Layer(layer));
        }
        self.clear_layer_inner(layer);
        Ok(())
    }

    fn clear_layer_inner(&self, layer: Layer) {
        let state = self.state();
        let reports = {
            let mut w = state.lock();
            let n = self.meta.len();
            w.layers[layer.slot()] = LayerState::empty(layer.as_str(), n);
            self.commit(state, &w)
        };
        self.emit(state, reports);
    }

    /// Polls `source` now and then every `interval` on a background thread, applying
    /// each update, until the returned [`Watch`] is dropped.
    pub fn watch<S: Source + 'static>(&'static self, source: S, interval: Duration) -> Watch {
        Watch::start(self, source, interval)
    }

    /// Loads the rule file at `path` now and reloads it when it changes (polled every
    /// [`DEFAULT_POLL_INTERVAL`]) until the returned [`Watch`] is dropped. A missing or
    /// invalid file is rejected whole and reported; the last good rules stay.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use flags_runtime::{__private::*};
    /// # static META: [FlagMeta; 0] = [];
    /// # static CELLS: [FastCell; 0] = [];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS, "", "flags.toml");
    /// let _watch = REGISTRY.watch_file("/etc/myapp/flags-state.toml");
    /// if REGISTRY.error_count() > 0 {
    ///     eprintln!("the flag state file was rejected; see the logs");
    /// }
    /// ```
    pub fn watch_file(&'static self, path: impl Into<PathBuf>) -> Watch {
        self.watch_file_every(path, DEFAULT_POLL_INTERVAL)
    }

    /// [`Registry::watch_file`] with a polling interval.
    pub fn watch_file_every(&'static self, path: impl Into<PathBuf>, interval: Duration) -> Watch {
        self.watch(FileSource::new(path), interval)
    }

    // ---- telemetry -----------------------------------------------------------------

    /// Turns per-flag, per-value evaluation counting on or off. Off by default: while
    /// on, every read takes the slow path (a shared atomic increment costs more than
    /// a fast-path read); see [`Counts`].
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

    /// Whether counting is on.
    pub fn is_counting(&self) -> bool {
        self.state().counting.load(Ordering::Relaxed)
    }

    /// A copy of the evaluation counters.
    pub fn counts(&self) -> Counts {
        self.state().counters.snapshot(self.meta)
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        self.state().counters.reset();
    }

    /// Turns sampled exposure events on (`Some`) or off (`None`). While on, reads take
    /// the slow path. Events carry a targeting key's hash only when `sampling` has a
    /// key ([`ExposureKey`]).
    pub fn set_exposure_sampling(&self, sampling: Option<ExposureSampling>) {
        let state = self.state();
        let _w = state.lock();
        let (one_in, key) = sampling.map_or((0, None), |s| (s.one_in, s.key.map(Arc::new)));
        state.exposure_key.store(key);
        state.exposure_one_in.store(one_in, Ordering::Relaxed);
        self.publish_locked(state, &state.snapshot.load());
    }
}

static NEXT_STATE: AtomicU64 = AtomicU64::new(1);

/// Per thread, the last snapshot seen of each registry state: the most recently used
/// one in `primary`, others (a process with several registries) in `others`.
///
/// Loading from the `ArcSwap` costs a few atomic read-modify-writes (its debt slots);
/// a hit here costs one acquire load of the state's generation and two compares. A
/// thread keeps a reference to the snapshot it last used until its next read of that
/// registry, so an old snapshot may live a little longer; it is never read once the
/// generation has moved on.
#[derive(Default)]
struct SnapshotCache {
    /// (state uid, generation, snapshot).
    primary: Option<(u64, u64, Arc<SnapshotData>)>,
    others: Vec<(u64, u64, Arc<SnapshotData>)>,
}

thread_local! {
    static CURRENT: RefCell<SnapshotCache> = RefCell::new(SnapshotCache::default());
}

/// Runs `f` on the current snapshot of `state`. `f` is passed by reference so that,
/// when the cache misses, it can still run on a freshly loaded snapshot.
#[inline]
fn with_current<R>(state: &State, f: &impl Fn(&SnapshotData) -> R) -> R {
    match with_cached(state, f) {
        Some(r) => r,
        None => with_current_refresh(state, f),
    }
}

/// Runs `f` on this thread's cached snapshot of `state` if it is the current one;
/// `None` (and `f` not run) otherwise.
#[inline(always)]
fn with_cached<R>(state: &State, f: impl FnOnce(&SnapshotData) -> R) -> Option<R> {
    let generation = state.generation.load(Ordering::Acquire);
    CURRENT
        .try_with(|cache| {
            let cache = cache.try_borrow().ok()?;
            match &cache.primary {
                Some((uid, g, data)) if *uid == state.uid && *g == generation => Some(f(data)),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// The cache missed: make the current snapshot of `state` the primary entry (or, if
/// thread-local storage is unavailable, read the `ArcSwap` directly).
#[cold]
fn with_current_refresh<R>(state: &State, f: &impl Fn(&SnapshotData) -> R) -> R {
    let refreshed = CURRENT.try_with(|cache| {
        // Evaluation never re-enters this function on the same thread, but if it
        // ever did, the borrow would fail and the fallback below would serve it.
        let mut cache = cache.try_borrow_mut().ok()?;
        let cache = &mut *cache;
        if let Some(previous) = cache.primary.take() {
            cache.others.push(previous);
        }
        let mut entry = match cache
            .others
            .iter()
            .position(|(uid, _, _)| *uid == state.uid)
        {
            Some(pos) => cache.others.swap_remove(pos),
            None => {
                let data = state.snapshot.load_full();
                (state.uid, data.generation, data)
            }
        };
        if entry.1 != state.generation.load(Ordering::Acquire) {
            let data = state.snapshot.load_full();
            entry = (state.uid, data.generation, data);
        }
        let out = f(&entry.2);
        cache.primary = Some(entry);
        Some(out)
    });
    match refreshed {
        Ok(Some(r)) => r,
        _ => f(&state.snapshot.load()),
    }
}

/// Flag `index` in `data` for `ctx` (the ambient context when `None`), with no scope,
/// counting or sampling in play.
#[inline(never)]
fn read_data(state: &State, data: &SnapshotData, index: usize, ctx: Option<&Context>) -> Value {
    // Slots and metadata have the same length, checked by the caller; a missing slot
    // reads as off, like an unknown index.
    let Some(slot) = data.slots.get(index) else {
        return Value::Bool(false);
    };
    if let Some(v) = slot.uniform {
        return v;
    }
    if let (true, SlotDecision::Rules(rules, _)) = (slot.plain, &slot.decision) {
        if let Some(sticky) = &slot.sticky {
            let decide = |ctx: &Context| sticky.value(ctx).unwrap_or_else(|| rules.value(ctx));
            return match ctx {
                Some(ctx) => decide(ctx),
                None => context::with_ambient(decide),
            };
        }
        return match ctx {
            Some(ctx) => rules.value(ctx),
            None => context::with_ambient(|ctx| rules.value(ctx)),
        };
    }
    let view = View {
        statics: &state.statics,
        data,
        scoped: None,
    };
    match ctx {
        Some(ctx) => view.evaluate(index, ctx).value,
        None => context::with_ambient(|ctx| view.evaluate(index, ctx).value),
    }
}

/// Stores every cell's word for `data`: the uniform value when `fast`, else SLOW.
fn publish(cells: &[FastCell], data: &SnapshotData, fast: bool) {
    for (cell, slot) in cells.iter().zip(data.slots.iter()) {
        let word = match (fast, slot.uniform) {
            (true, Some(v)) => encode(v),
            _ => SLOW,
        };
        // Release pairs with the readers' Acquire: a reader that sees a new value, or
        // SLOW, also sees the snapshot published before it, so reads never go back to
        // an older state on weakly ordered CPUs (on x86 both are plain moves).
        cell.0.store(word, Ordering::Release);
    }
}

/// Per flag, the decision of the highest layer with rules, and its origin.
fn decisions(writer: &Writer) -> Vec<(SlotDecision, Arc<str>)> {
    let n = writer.layers[0].rules.len();
    (0..n)
        .map(|i| {
            for layer in Layer::ALL.iter().rev() {
                let state = &writer.layers[layer.slot()];
                if let Some(rules) = &state.rules[i] {
                    let decision = match (layer, rules.fixed_value()) {
                        (Layer::Override, Some(v)) => SlotDecision::Override(v),
                        _ => SlotDecision::Rules(rules.clone(), *layer),
                    };
                    return (decision, state.origin.clone());
                }
            }
            (SlotDecision::Default, writer.layers[0].origin.clone())
        })
        .collect()
}

// Registries are shared statics and snapshots cross threads.
const _: fn() = || {
    fn shareable<T: Sync + Send>() {}
    shareable::<Registry>();
    shareable::<Slot>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_words_round_trip() {
        for v in [
            Value::Bool(false),
            Value::Bool(true),
            Value::Variant(0),
            Value::Variant(7),
            Value::Variant(u16::MAX),
        ] {
            let w = encode(v);
            assert_eq!(w & SLOW, 0);
            assert_eq!(decode(w), v);
        }
    }
}
