//! Fast cells: one word per flag holding its value when it is the same for everyone,
//! and their publication from a snapshot under the writer lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::bucket::BucketGroup;

use crate::meta::Value;
use crate::snapshot::SnapshotData;

use super::{Registry, State};

/// Bit set in a [`FastCell`] when the value cannot be read from the cell alone.
pub(super) const SLOW: u32 = 1 << 31;

/// Bit set in a [`FastCell`] holding a variant index (else it holds a bool).
pub(super) const VARIANT: u32 = 1 << 30;

/// Bit set in a [`FastCell`] whose value is good for everyone but whose reads are
/// counted: the read path leaves its one-test fast path for a counting call.
pub(super) const COUNTED: u32 = 1 << 29;

/// Bit set, with SLOW, in a [`FastCell`] whose flag is an on/off sticky rollout on the
/// targeting key in its registry's group for the flag: the low 7 bits hold the
/// percentage, so a read with a keyed context hashes the key and compares, without
/// the snapshot. Readers that do not look for it see SLOW.
pub(super) const STICKY: u32 = 1 << 28;

/// The percentage's bits in a STICKY word.
pub(super) const PERCENT: u32 = 0x7f;

/// One flag's fast-path word: its value for everyone (marked when reads are counted),
/// or a mark that evaluation must take the slow path (rules in force, an override
/// scope, exposure sampling).
#[derive(Debug)]
pub struct FastCell(pub(super) AtomicU32);

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
pub(super) fn encode(value: Value) -> u32 {
    match value {
        Value::Bool(b) => u32::from(b),
        Value::Variant(v) => VARIANT | u32::from(v),
    }
}

#[inline]
pub(super) fn decode(word: u32) -> Value {
    if word & VARIANT != 0 {
        // The low 16 bits hold the index that `encode` stored.
        Value::Variant((word & 0xffff) as u16)
    } else {
        Value::Bool(word & 1 != 0)
    }
}

/// Stores every cell's word for `data`: the uniform value when `fast`, a STICKY word
/// for an on/off sticky rollout when `fast` (its group kept in `groups`), else SLOW;
/// value and STICKY words are marked COUNTED when `counted`.
pub(super) fn publish(
    cells: &[FastCell],
    data: &SnapshotData,
    groups: &[OnceLock<BucketGroup>],
    fast: bool,
    counted: bool,
) {
    let mark = if counted { COUNTED } else { 0 };
    for ((cell, slot), group) in cells.iter().zip(data.slots.iter()).zip(groups) {
        let sticky = || {
            let (g, percent) = slot.sticky.as_ref()?.on_off()?;
            // A flag keeps the first group it is seen with; a rollout in another
            // group (rare: a source that renames it) takes the snapshot path.
            (*group.get_or_init(|| g) == g).then_some(SLOW | STICKY | u32::from(percent))
        };
        let word = match (fast, slot.uniform) {
            (true, Some(v)) => encode(v) | mark,
            (true, None) => sticky().map_or(SLOW, |w| w | mark),
            _ => SLOW,
        };
        // Release pairs with the readers' Acquire: a reader that sees a new value, or
        // SLOW, also sees the snapshot published before it, so reads never go back to
        // an older state on weakly ordered CPUs (on x86 both are plain moves).
        cell.0.store(word, Ordering::Release);
    }
}

impl Registry {
    /// Whether the fast cells may hold values: nothing forces every read to the slow
    /// path. (Counting does not: a counted cell holds its value and a mark.)
    pub(super) fn fast_allowed(state: &State) -> bool {
        state.scopes.load(Ordering::Relaxed) == 0
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
    pub(super) fn publish_locked(&self, state: &State, data: &SnapshotData) {
        let fast = Self::fast_allowed(state);
        state.instrumented.store(!fast, Ordering::Relaxed);
        publish(
            self.cells,
            data,
            &state.sticky_groups,
            fast,
            state.counting.load(Ordering::Relaxed),
        );
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
    /// assert_eq!(REGISTRY.fast_value(0), Some(Value::Bool(false)), "counted, still not evaluated");
    /// REGISTRY.set_exposure_sampling(Some(flags_runtime::ExposureSampling::new(1)));
    /// assert_eq!(REGISTRY.fast_value(0), None);
    /// ```
    pub(crate) fn fast_value_at(&self, index: usize) -> Option<Value> {
        let word = self.cells.get(index)?.0.load(Ordering::Acquire);
        (word & SLOW == 0).then(|| decode(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::FlagMeta;

    static META: [FlagMeta; 1] = [FlagMeta::bare("beta", 0, &[])];
    static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    // A 30% sticky rollout, as data (what `flags!` emits), so that no parser is needed.
    static REGISTRY: Registry = Registry::generated(&META, &CELLS, rollout_30, "", "flags.toml");

    fn rollout_30() -> Vec<(usize, flags_manifest::Rules)> {
        use flags_manifest::{Pos, Rules, Stickiness, Strategy, StrategyKind};
        let strategy = Strategy {
            kind: StrategyKind::Rollout {
                percent: 30,
                stickiness: Stickiness::Default,
                group_id: "beta".to_owned(),
            },
            constraints: Vec::new(),
            variants: Vec::new(),
            variant_stickiness: Stickiness::Default,
            pos: Pos::default(),
        };
        vec![(
            0,
            Rules {
                strategies: vec![strategy],
                ..Rules::default()
            },
        )]
    }

    #[test]
    fn a_sticky_rollout_publishes_its_percentage_in_the_cell() {
        REGISTRY.init();
        let word = || CELLS[0].0.load(Ordering::Acquire);
        assert_eq!(word() & (SLOW | STICKY | PERCENT), SLOW | STICKY | 30);
        // Counting marks the word; sampling sends keyed reads to the snapshot path.
        REGISTRY.set_counting(true);
        assert_eq!(
            word() & (SLOW | STICKY | COUNTED | PERCENT),
            SLOW | STICKY | COUNTED | 30
        );
        REGISTRY.set_counting(false);
        assert_eq!(word() & (STICKY | COUNTED), STICKY);
        REGISTRY.set_exposure_sampling(Some(crate::ExposureSampling::new(1)));
        assert_eq!(word() & STICKY, 0);
        REGISTRY.set_exposure_sampling(None);
        assert_eq!(word() & (SLOW | STICKY | PERCENT), SLOW | STICKY | 30);
    }

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
            assert_eq!(w & (SLOW | COUNTED), 0);
            assert_eq!(decode(w), v);
            assert_eq!(decode(w | COUNTED), v);
        }
    }
}
