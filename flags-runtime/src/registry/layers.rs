//! Layer storage and the writer: updates from sources compiled aside, moved in whole,
//! and committed as a new snapshot.

#[cfg(feature = "rule-files")]
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use flags_manifest::Rules;

use crate::explain::Layer;
use crate::rules::CompiledRules;
use crate::snapshot::{SlotDecision, SnapshotData};
use crate::source::{Contact, Source, SourceHealth, Update, Watch};
#[cfg(feature = "rule-files")]
use crate::source::{DEFAULT_POLL_INTERVAL, FileSource};
use crate::telemetry::{self};

use super::report::Report;
use super::{Registry, State, UpdateError};

/// One layer's rules, by flag index, and where they came from.
#[derive(Clone, Debug)]
pub(super) struct LayerState {
    pub(super) origin: Arc<str>,
    pub(super) rules: Vec<Option<Arc<CompiledRules>>>,
}

impl LayerState {
    pub(super) fn empty(origin: &str, n: usize) -> LayerState {
        LayerState {
            origin: Arc::from(origin),
            rules: vec![None; n],
        }
    }
}

/// What writers change, under one mutex: the layers and the publication of the
/// snapshot and of the fast cells.
#[derive(Debug)]
pub(super) struct Writer {
    pub(super) layers: [LayerState; 6],
}

/// Per flag, the decision of the highest layer with rules, and its origin.
pub(super) fn decisions(writer: &Writer) -> Vec<(SlotDecision, Arc<str>)> {
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

impl Registry {
    /// Rebuilds the snapshot from the writer's layers; swaps and publishes it if any
    /// flag changed. Returns the change events to emit once the lock is released.
    pub(super) fn commit(&self, state: &State, writer: &Writer) -> Vec<Report> {
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
        self.publish_locked(state, &new);
        reports
    }

    // ---- sources -------------------------------------------------------------------

    /// Polls `source` once and applies what it returns to its layer. `Ok(true)` when
    /// an update was applied, `Ok(false)` when the source had nothing new; a rejected
    /// update is reported (tracing and [`Registry::error_count`]) and returned.
    pub fn apply(&self, source: &mut dyn Source) -> Result<bool, UpdateError> {
        let layer = source.layer();
        match source.poll(self) {
            Ok(None) => {
                // Nothing new: a success only if the source did reach what it reads
                // (a failure it reported before stays on record until then).
                if source.healthy() {
                    let health = &self.state().health;
                    health.note(layer, source.name(), Contact::Unchanged);
                }
                Ok(false)
            }
            Ok(Some(update)) => {
                let origin = source.name().to_owned();
                self.apply_update(layer, &origin, update).map(|()| true)
            }
            Err(e) => {
                let detail = e.detail();
                let health = &self.state().health;
                health.note(layer, source.name(), Contact::Failed(&detail));
                self.report_error(layer, &e.origin, &detail);
                Err(e.into())
            }
        }
    }

    /// [`IndexAccess::set_layer`](crate::raw::IndexAccess::set_layer).
    pub(crate) fn set_layer_at(
        &self,
        layer: Layer,
        origin: &str,
        rules: Vec<(usize, Rules)>,
    ) -> Result<(), UpdateError> {
        self.apply_update(layer, origin, Update::new(rules))
    }

    pub(super) fn apply_update(
        &self,
        layer: Layer,
        origin: &str,
        update: Update,
    ) -> Result<(), UpdateError> {
        let state = self.state();
        for w in &update.warnings {
            state.errors.fetch_add(1, Ordering::Relaxed);
            telemetry::skipped(self.manifest_path, layer, origin, &w.to_string());
        }
        let compiled = self.compile_update(layer, update.rules);
        let rules = match compiled {
            Ok(r) => r,
            Err(e) => {
                let error = e.to_string();
                state.health.note(layer, origin, Contact::Failed(&error));
                self.report_error(layer, origin, &error);
                return Err(e);
            }
        };
        let reports = {
            let mut w = state.lock();
            // Under the writer lock, so the revision on record is the one in force.
            state
                .health
                .note(layer, origin, Contact::Applied(update.revision));
            w.layers[layer.slot()] = LayerState {
                origin: Arc::from(origin),
                rules,
            };
            self.commit(state, &w)
        };
        self.emit(reports);
        Ok(())
    }

    pub(super) fn compile_update(
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

    pub(super) fn clear_layer_inner(&self, layer: Layer) {
        let state = self.state();
        let reports = {
            let mut w = state.lock();
            let n = self.meta.len();
            w.layers[layer.slot()] = LayerState::empty(layer.as_str(), n);
            self.commit(state, &w)
        };
        self.emit(reports);
    }

    /// Polls `source` now and then every `interval` on a background thread, applying
    /// each update, until the returned [`Watch`] is dropped.
    pub fn watch<S: Source + 'static>(&'static self, source: S, interval: Duration) -> Watch {
        Watch::start(self, source, interval)
    }

    /// Loads the rule file at `path` now and reloads it when it changes (polled every
    /// [`DEFAULT_POLL_INTERVAL`]) until the returned [`Watch`] is dropped. A missing or
    /// invalid file is rejected whole and reported; the last good rules stay. Needs
    /// the `rule-files` feature (on by default).
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
    #[cfg(feature = "rule-files")]
    pub fn watch_file(&'static self, path: impl Into<PathBuf>) -> Watch {
        self.watch_file_every(path, DEFAULT_POLL_INTERVAL)
    }

    /// [`Registry::watch_file`] with a polling interval.
    #[cfg(feature = "rule-files")]
    pub fn watch_file_every(&'static self, path: impl Into<PathBuf>, interval: Duration) -> Watch {
        self.watch(FileSource::new(path), interval)
    }

    /// How every source that fed the registry has fared (polled by
    /// [`Registry::apply`] or a [`Watch`], or pushed with [`IndexAccess::set_layer`](crate::raw::IndexAccess::set_layer)), in
    /// the order they were first seen.
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag, Layer};
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
    /// let bad = Rules { value: Some(Value::Variant(3)), ..Rules::default() };
    /// assert!(REGISTRY.set_layer(Layer::Remote, "https://flags.example", vec![(0, bad)]).is_err());
    ///
    /// let health = REGISTRY.source_health();
    /// assert_eq!(health[0].origin, "https://flags.example");
    /// assert_eq!((health[0].updates, health[0].consecutive_failures), (1, 1));
    /// assert!(health[0].is_failing() && health[0].last_success.is_some());
    /// # Ok::<(), flags_runtime::UpdateError>(())
    /// ```
    pub fn source_health(&self) -> Vec<SourceHealth> {
        self.state().health.list()
    }

    /// [`IndexAccess::layers_of`](crate::raw::IndexAccess::layers_of).
    pub(crate) fn layers_of_at(&self, index: usize) -> Vec<LayerRules> {
        let Some(meta) = self.meta.get(index) else {
            return Vec::new();
        };
        let w = self.state().lock();
        Self::layers_locked(&w, index, meta)
    }

    /// [`layers_of`](crate::raw::IndexAccess::layers_of) for every flag, by index, from one look at the
    /// layers (one lock, however many flags).
    pub fn layers_of_all(&self) -> Vec<Vec<LayerRules>> {
        let w = self.state().lock();
        self.meta
            .iter()
            .enumerate()
            .map(|(i, meta)| Self::layers_locked(&w, i, meta))
            .collect()
    }

    fn layers_locked(w: &Writer, index: usize, meta: &crate::meta::FlagMeta) -> Vec<LayerRules> {
        Layer::ALL
            .iter()
            .filter_map(|&layer| {
                let state = &w.layers[layer.slot()];
                let rules = state.rules.get(index)?.as_ref()?;
                Some(LayerRules {
                    layer,
                    origin: state.origin.to_string(),
                    rules: rules.summary(meta),
                })
            })
            .collect()
    }
}

/// What one layer says about one flag (see [`IndexAccess::layers_of`](crate::raw::IndexAccess::layers_of)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerRules {
    /// The layer.
    pub layer: Layer,
    /// Where its rules came from (a path, a URL, `env`, `override`).
    pub origin: String,
    /// The rules in short: a fixed value (`on`, `off`, a variant), `kill switch`, or
    /// the shape of the targeting.
    pub rules: String,
}
