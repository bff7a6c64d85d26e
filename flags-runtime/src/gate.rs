//! Counters of `#[feature_gate]` routing: how many calls went to each implementation of
//! each gated function. Every gate owns a static [`Gate`] (the attribute emits it); the
//! gate records only while its registry counts evaluations, on the slow path that
//! counting forces anyway, so routing with counting off costs exactly one flag check.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::meta::Value;
use crate::registry::Registry;

/// The routing counters of one gated function.
#[derive(Debug)]
pub struct Gate {
    function: &'static str,
    counts: &'static [AtomicU64],
    registered: AtomicBool,
}

/// Every gate that has recorded a call, with the flag it routes by.
static GATES: Mutex<Vec<(&'static Gate, &'static Registry, usize)>> = Mutex::new(Vec::new());

impl Gate {
    /// A gate for `function` with one counter per side (2 for an on/off flag, one per
    /// variant otherwise).
    pub const fn new(function: &'static str, counts: &'static [AtomicU64]) -> Gate {
        Gate {
            function,
            counts,
            registered: AtomicBool::new(false),
        }
    }

    /// Counts one call that went to the side of `value`.
    pub(crate) fn record(&'static self, registry: &'static Registry, index: usize, value: Value) {
        let side = match value {
            Value::Bool(b) => usize::from(b),
            Value::Variant(v) => usize::from(v),
        };
        if let Some(c) = self.counts.get(side) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if !self.registered.swap(true, Ordering::Relaxed) {
            // Once per gate, on its first counted call: registration needs a lock, the
            // counting itself does not. A poisoned lock only means another thread
            // panicked while pushing; the list is still valid.
            let mut gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
            gates.push((self, registry, index));
        }
    }
}

/// How often each implementation of a gated function ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateCounts {
    /// The gated function's name.
    pub function: &'static str,
    /// The flag it routes by.
    pub flag: &'static str,
    /// Calls per side, by value label (`off`/`on` or the variant).
    pub sides: Vec<(&'static str, u64)>,
}

impl GateCounts {
    /// Calls that went to the side labelled `label`.
    pub fn get(&self, label: &str) -> u64 {
        self.sides
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(0, |(_, n)| *n)
    }
}

/// The routing counts of every gate of `registry` that has recorded a call.
pub(crate) fn counts(registry: &'static Registry) -> Vec<GateCounts> {
    let gates = GATES.lock().unwrap_or_else(|e| e.into_inner());
    gates
        .iter()
        .filter(|(_, r, _)| std::ptr::eq(*r, registry))
        .filter_map(|(gate, r, index)| {
            let meta = r.flags().get(*index)?;
            let sides = gate
                .counts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let value = if meta.is_bool() {
                        Value::Bool(i == 1)
                    } else {
                        Value::Variant(i as u16)
                    };
                    (meta.label(value), c.load(Ordering::Relaxed))
                })
                .collect();
            Some(GateCounts {
                function: gate.function,
                flag: meta.name,
                sides,
            })
        })
        .collect()
}
