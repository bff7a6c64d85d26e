//! Snapshots: the decided state of every flag of a registry at one moment, built from
//! the layers and swapped whole, so a reader holding one sees all flags as they were
//! together, never a mix of an old and a new update.

use std::sync::Arc;

use crate::context::{self, Context};
use crate::eval::{self, Decision, Flags, Outcome, Prerequisite};
use crate::explain::{Detail, Layer, Payload};
use crate::meta::{FlagMeta, Value};
use crate::registry::Registry;
use crate::rules::{CompiledRules, FlagShape, StickyRollout};
use crate::scope;

/// What decides one flag in a snapshot.
#[derive(Clone, Debug)]
pub(crate) enum SlotDecision {
    /// No layer has rules: the manifest default.
    Default,
    /// A process-wide override.
    Override(Value),
    /// The rules of the highest layer that has any.
    Rules(Arc<CompiledRules>, Layer),
}

impl SlotDecision {
    fn same_as(&self, other: &SlotDecision) -> bool {
        match (self, other) {
            (SlotDecision::Default, SlotDecision::Default) => true,
            (SlotDecision::Override(a), SlotDecision::Override(b)) => a == b,
            (SlotDecision::Rules(a, la), SlotDecision::Rules(b, lb)) => {
                la == lb && (Arc::ptr_eq(a, b) || **a == **b)
            }
            _ => false,
        }
    }

    pub(crate) fn layer(&self) -> Layer {
        match self {
            SlotDecision::Default => Layer::Manifest,
            SlotDecision::Override(_) => Layer::Override,
            SlotDecision::Rules(_, layer) => *layer,
        }
    }
}

/// One flag in a snapshot.
#[derive(Clone, Debug)]
pub(crate) struct Slot {
    pub(crate) decision: SlotDecision,
    /// The source that supplied the deciding layer (a file path, `env`, a URL).
    pub(crate) origin: Arc<str>,
    /// The value for every context, when it is the same for all (prerequisites
    /// included): what the fast cell may serve.
    pub(crate) uniform: Option<Value>,
    /// Rules of a layer decide and the flag has no prerequisites: evaluation is just
    /// those rules, without the general walk.
    pub(crate) plain: bool,
    /// The plain rules reduced to one sticky rollout on the key, when that is all
    /// they are: what a read with a keyed context evaluates.
    pub(crate) sticky: Option<StickyRollout>,
}

/// The flags of a registry that never change after start-up: shapes and resolved
/// prerequisites.
#[derive(Debug)]
pub(crate) struct Statics {
    pub(crate) meta: &'static [FlagMeta],
    pub(crate) prerequisites: Box<[Box<[Prerequisite]>]>,
}

impl Statics {
    pub(crate) fn shape(&self, index: usize) -> FlagShape<'static> {
        let m = &self.meta[index];
        FlagShape {
            name: m.name,
            variants: m.variants.len(),
            default: m.default,
        }
    }
}

/// The state of every flag at one moment.
#[derive(Debug)]
pub(crate) struct SnapshotData {
    pub(crate) generation: u64,
    pub(crate) slots: Box<[Slot]>,
}

/// Evaluation view: statics + one snapshot + (optionally) this thread's scoped
/// overrides for one registry.
pub(crate) struct View<'a> {
    pub(crate) statics: &'a Statics,
    pub(crate) data: &'a SnapshotData,
    /// The registry's identity when scoped overrides may be active.
    pub(crate) scoped: Option<usize>,
}

impl Flags for View<'_> {
    #[inline]
    fn shape(&self, index: usize) -> FlagShape<'_> {
        self.statics.shape(index)
    }

    #[inline]
    fn prerequisites(&self, index: usize) -> &[Prerequisite] {
        &self.statics.prerequisites[index]
    }

    #[inline]
    fn decision(&self, index: usize) -> Decision<'_> {
        if let Some(registry) = self.scoped
            && let Some(value) = scope::lookup(registry, index)
        {
            return Decision::Override(value);
        }
        match &self.data.slots[index].decision {
            SlotDecision::Default => Decision::Default,
            SlotDecision::Override(v) => Decision::Override(*v),
            SlotDecision::Rules(r, layer) => Decision::Rules(r, *layer),
        }
    }
}

impl View<'_> {
    /// Evaluates flag `index` for `ctx`, serving a uniform value without evaluating
    /// when no scoped override can interfere.
    #[inline]
    pub(crate) fn evaluate(&self, index: usize, ctx: &Context) -> Outcome {
        eval::evaluate(self, index, ctx, 0)
    }
}

static ANONYMOUS: Context = Context::anonymous();

impl SnapshotData {
    /// Builds the snapshot for `decisions` (one per flag, with its origin), working
    /// out which flags are uniform and their value.
    pub(crate) fn build(
        statics: &Statics,
        generation: u64,
        decisions: Vec<(SlotDecision, Arc<str>)>,
    ) -> SnapshotData {
        let mut data = SnapshotData {
            generation,
            slots: decisions
                .into_iter()
                .enumerate()
                .map(|(i, (decision, origin))| {
                    let plain = matches!(decision, SlotDecision::Rules(..))
                        && statics.prerequisites[i].is_empty();
                    let sticky = match &decision {
                        SlotDecision::Rules(rules, _) if plain => rules.sticky_rollout(),
                        _ => None,
                    };
                    Slot {
                        plain,
                        sticky,
                        decision,
                        origin,
                        uniform: None,
                    }
                })
                .collect(),
        };
        let own_uniform: Vec<bool> = data
            .slots
            .iter()
            .map(|s| match &s.decision {
                SlotDecision::Default | SlotDecision::Override(_) => true,
                SlotDecision::Rules(r, _) => r.is_uniform(),
            })
            .collect();
        let uniform: Vec<Option<Value>> = {
            let view = View {
                statics,
                data: &data,
                scoped: None,
            };
            (0..data.slots.len())
                .map(|i| {
                    eval::is_uniform(&view, i, &|j| own_uniform[j], 0)
                        .then(|| view.evaluate(i, &ANONYMOUS).value)
                })
                .collect()
        };
        for (slot, u) in data.slots.iter_mut().zip(uniform) {
            slot.uniform = u;
            // A uniform value is served as is; the sticky form is for the others.
            if u.is_some() {
                slot.sticky = None;
            }
        }
        data
    }

    /// How flag `index` reads in telemetry: its value when uniform, else the shape of
    /// its rules.
    pub(crate) fn describe(&self, index: usize, meta: &FlagMeta) -> String {
        let slot = &self.slots[index];
        let what = match (&slot.decision, slot.uniform) {
            (SlotDecision::Default, Some(v)) => format!("{} (default)", meta.label(v)),
            (_, Some(v)) => meta.label(v).to_owned(),
            (SlotDecision::Rules(r, _), None) => {
                let s = r.describe();
                match (s.strategies(), s.split()) {
                    (0, _) => "weighted variants".to_owned(),
                    (n, split) => format!(
                        "targeted ({n} strateg{}{})",
                        if n == 1 { "y" } else { "ies" },
                        if split { ", weighted variants" } else { "" }
                    ),
                }
            }
            (_, None) => "depends on prerequisites".to_owned(),
        };
        format!("{what} [{}]", slot.decision.layer())
    }

    /// The flags whose decision differs between `self` and `new`.
    pub(crate) fn changed<'a>(&'a self, new: &'a SnapshotData) -> impl Iterator<Item = usize> + 'a {
        self.slots
            .iter()
            .zip(new.slots.iter())
            .enumerate()
            .filter(|(_, (a, b))| !a.decision.same_as(&b.decision) || a.uniform != b.uniform)
            .map(|(i, _)| i)
    }
}

/// A consistent view of all the flags of a registry at one moment.
///
/// Every read through one snapshot sees the same state of every flag, even while
/// updates are being applied. (Reading flags one by one through their accessors
/// always sees a current state of each flag, but two reads may straddle an update.)
/// Scoped overrides of the current thread or task apply, as they do to accessors.
pub struct Snapshot<'r> {
    pub(crate) registry: &'r Registry,
    pub(crate) statics: &'r Statics,
    pub(crate) data: Arc<SnapshotData>,
}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("generation", &self.data.generation)
            .field("flags", &self.data.slots.len())
            .finish()
    }
}

impl Snapshot<'_> {
    /// The snapshot's generation: it grows by one with every applied update.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.data.generation
    }

    fn view(&self) -> View<'_> {
        View {
            statics: self.statics,
            data: &self.data,
            scoped: self.registry.scoped_id(),
        }
    }
}

impl crate::raw::SnapshotAccess for Snapshot<'_> {
    /// Flag `index`'s value for `ctx` in this snapshot (default `false` for an index
    /// out of range). Counted in usage counts while the registry counts.
    fn value_for(&self, index: usize, ctx: &Context) -> Value {
        if index >= self.data.slots.len() {
            return Value::Bool(false);
        }
        let view = self.view();
        let value = match self.data.slots[index].uniform {
            Some(v) if view.scoped.is_none() => v,
            _ => view.evaluate(index, ctx).value,
        };
        self.registry.count_read(index, value);
        value
    }

    /// Flag `index`'s value in the ambient context.
    fn value(&self, index: usize) -> Value {
        context::with_ambient(|ctx| self.value_for(index, ctx))
    }

    /// Why flag `index` has its value for `ctx` in this snapshot; `None` for an index
    /// out of range. A read like any other: counted in usage counts while the
    /// registry counts.
    fn explain(&self, index: usize, ctx: &Context) -> Option<Detail> {
        let meta = self.statics.meta.get(index)?;
        let o = self.view().evaluate(index, ctx);
        self.registry.count_read(index, o.value);
        Some(Detail::of(o, meta, self.statics.meta))
    }

    /// The payload of the variant `detail` chose, where `detail` is this snapshot's
    /// [`SnapshotAccess::explain`](crate::raw::SnapshotAccess::explain) of flag `index`: the weighted variant's payload in the
    /// rules that decided, borrowed from this snapshot. `None` when no weighted list
    /// decided (defaults, overrides, kill switches) or the variant has no payload.
    fn payload(&self, index: usize, detail: &Detail) -> Option<Payload<'_>> {
        match &self.data.slots.get(index)?.decision {
            SlotDecision::Rules(r, layer) if *layer == detail.layer => {
                r.payload(detail.reason, detail.value)
            }
            _ => None,
        }
    }

    /// The layer that decides flag `index` in this snapshot (before prerequisites and
    /// scoped overrides).
    fn layer(&self, index: usize) -> Option<Layer> {
        self.data.slots.get(index).map(|s| s.decision.layer())
    }

    /// The value of flag `index` when it is the same for every context.
    fn uniform_value(&self, index: usize) -> Option<Value> {
        self.data.slots.get(index).and_then(|s| s.uniform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use flags_manifest::{Pos, Rules, Stickiness, Strategy, StrategyKind};

    const fn meta(
        name: &'static str,
        index: usize,
        variants: &'static [&'static str],
        requires: &'static [crate::meta::Requirement],
    ) -> FlagMeta {
        FlagMeta {
            requires,
            ..FlagMeta::bare(name, index, variants)
        }
    }

    static META: [FlagMeta; 3] = [
        meta("base", 0, &[], &[]),
        meta("layout", 1, &["a", "b"], &[]),
        meta("child", 2, &[], &[crate::meta::Requirement::on(0)]),
    ];

    fn statics() -> Statics {
        Statics {
            meta: &META,
            prerequisites: vec![
                Box::from([]),
                Box::from([]),
                Box::from([Prerequisite {
                    flag: 0,
                    variant: None,
                    excludes: false,
                }]),
            ]
            .into_boxed_slice(),
        }
    }

    fn rules(r: &Rules, i: usize, st: &Statics) -> SlotDecision {
        match CompiledRules::compile(r, st.shape(i)) {
            Ok(Some(c)) => SlotDecision::Rules(Arc::new(c), Layer::Remote),
            other => panic!("{other:?}"),
        }
    }

    fn keys() -> Rules {
        Rules {
            strategies: vec![Strategy {
                kind: StrategyKind::Keys(vec!["k".into()]),
                constraints: vec![],
                variants: vec![],
                variant_stickiness: Stickiness::Default,
                pos: Pos::default(),
            }],
            ..Rules::default()
        }
    }

    #[test]
    fn uniformity_follows_prerequisites() {
        let st = statics();
        let origin: Arc<str> = Arc::from("test");
        let on = Rules {
            value: Some(Value::Bool(true)),
            ..Rules::default()
        };
        // base fixed on, child default (false) requiring base: all uniform.
        let data = SnapshotData::build(
            &st,
            1,
            vec![
                (rules(&on, 0, &st), origin.clone()),
                (SlotDecision::Override(Value::Variant(1)), origin.clone()),
                (SlotDecision::Default, origin.clone()),
            ],
        );
        assert_eq!(data.slots[0].uniform, Some(Value::Bool(true)));
        assert_eq!(data.slots[1].uniform, Some(Value::Variant(1)));
        assert_eq!(data.slots[2].uniform, Some(Value::Bool(false)));
        assert!(data.slots[0].plain);
        assert!(!data.slots[1].plain);
        assert!(!data.slots[2].plain, "child has prerequisites");
        assert_eq!(data.describe(0, &META[0]), "on [remote]");
        assert_eq!(data.describe(1, &META[1]), "b [override]");
        assert_eq!(data.describe(2, &META[2]), "off (default) [manifest]");

        // base targeted by key: base and child both depend on the context.
        let targeted = SnapshotData::build(
            &st,
            2,
            vec![
                (rules(&keys(), 0, &st), origin.clone()),
                (SlotDecision::Override(Value::Variant(1)), origin.clone()),
                (SlotDecision::Default, origin),
            ],
        );
        assert_eq!(targeted.slots[0].uniform, None);
        assert_eq!(targeted.slots[2].uniform, None);
        assert_eq!(
            targeted.describe(0, &META[0]),
            "targeted (1 strategy) [remote]"
        );
        assert_eq!(
            targeted.describe(2, &META[2]),
            "depends on prerequisites [manifest]"
        );
        assert_eq!(data.changed(&targeted).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(data.changed(&data).count(), 0);
    }
}
