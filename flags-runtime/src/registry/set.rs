//! Programmatic changes: overrides (process-wide and scoped) and rollout exposure.

use std::sync::Arc;

use flags_manifest::{Rules, Stickiness, Strategy, StrategyKind};

use crate::explain::Layer;
use crate::meta::Value;
use crate::rules::CompiledRules;

use super::{Registry, UpdateError};

impl Registry {
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
    pub(crate) fn set_override_at(&self, index: usize, value: Value) -> Result<(), UpdateError> {
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
        self.emit(reports);
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
    pub(crate) fn set_rollout_at(
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
        self.emit(reports);
        Ok(())
    }

    /// Removes the process-wide override of flag `index` (typed form:
    /// [`Registry::clear_override`]).
    pub(crate) fn clear_override_at(&self, index: usize) {
        let state = self.state();
        let reports = {
            let mut w = state.lock();
            if let Some(slot) = w.layers[Layer::Override.slot()].rules.get_mut(index) {
                *slot = None;
            }
            self.commit(state, &w)
        };
        self.emit(reports);
    }

    /// Removes every process-wide override.
    pub fn clear_overrides(&self) {
        self.clear_layer_inner(Layer::Override);
    }
}
