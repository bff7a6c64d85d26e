//! Telemetry: `tracing` events for state changes and rejected updates, per-flag
//! per-value evaluation counters, and sampled exposure events.
//!
//! Counting is opt-in ([`crate::Registry::set_counting`]). Counters are sharded per
//! thread ([`crate::shard::ShardedCounters`]): a count is a plain load and store on the
//! reading thread's own copy, so threads never share a counter's cache line. While
//! counting is on, a flag with one value for everyone is still served from its fast
//! cell, whose word then sends the read through one out-of-line call that counts it.
//! Reading the counters ([`Counts`]) sums the shards and never blocks evaluation.
//!
//! Exposure events carry a keyed hash of the targeting key, never the key itself (see
//! [`crate::ExposureKey`]).

use crate::explain::{Layer, Reason};
use crate::meta::{FlagMeta, Value};
use crate::shard::ShardedCounters;

/// Where `tracing` events of this crate go.
pub const TARGET: &str = "flags";
/// The target of exposure events.
pub const EXPOSURE_TARGET: &str = "flags::exposure";
/// The target of OpenTelemetry `feature_flag.evaluation` events
/// ([`EventFormat::OpenTelemetry`](crate::EventFormat::OpenTelemetry)).
pub const OTEL_TARGET: &str = "flags::otel";

/// Per-flag, per-value evaluation counters, sharded per thread.
#[derive(Debug)]
pub(crate) struct Counters {
    /// First counter of each flag, and one past the last flag's.
    base: Box<[usize]>,
    cells: ShardedCounters,
}

impl Counters {
    pub(crate) fn new(meta: &[FlagMeta]) -> Counters {
        let mut base = Vec::with_capacity(meta.len() + 1);
        let mut total = 0;
        for m in meta {
            base.push(total);
            total += if m.is_bool() { 2 } else { m.variants.len() };
        }
        base.push(total);
        Counters {
            base: base.into_boxed_slice(),
            cells: ShardedCounters::new(total),
        }
    }

    #[inline]
    fn slot(&self, index: usize, value: Value) -> Option<usize> {
        let offset = match value {
            Value::Bool(b) => usize::from(b),
            Value::Variant(v) => usize::from(v),
        };
        let base = *self.base.get(index)?;
        let end = *self.base.get(index + 1)?;
        (base + offset < end).then_some(base + offset)
    }

    /// Counts a read of flag `index` that gave `value`. The value comes from the
    /// flag's own snapshot or cell, so it is one of the flag's: only the flag is
    /// range-checked here (a value past the flag's end would count for the next
    /// flag, never outside the counters).
    #[inline]
    pub(crate) fn count(&self, index: usize, value: Value) {
        let offset = match value {
            Value::Bool(b) => usize::from(b),
            Value::Variant(v) => usize::from(v),
        };
        self.count_offset(index, offset);
    }

    /// Counts a read of flag `index` whose value is the flag's `offset`-th (0 off, 1
    /// on, or the variant's index).
    #[inline]
    pub(crate) fn count_offset(&self, index: usize, offset: usize) {
        if let Some(base) = self.base.get(index) {
            self.cells.add(base + offset, 1);
        }
    }

    pub(crate) fn reset(&self) {
        self.cells.reset();
    }

    pub(crate) fn snapshot(&self, meta: &'static [FlagMeta]) -> Counts {
        let totals = self.cells.totals();
        let get = |index: usize, value: Value| {
            self.slot(index, value)
                .and_then(|i| totals.get(i))
                .copied()
                .unwrap_or(0)
        };
        let flags = meta
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let values: Vec<Value> = if m.is_bool() {
                    vec![Value::Bool(false), Value::Bool(true)]
                } else {
                    (0..m.variants.len())
                        .filter_map(|v| u16::try_from(v).ok())
                        .map(Value::Variant)
                        .collect()
                };
                FlagCounts {
                    flag: m.name,
                    values: values
                        .into_iter()
                        .map(|v| (m.label(v), get(i, v)))
                        .collect(),
                }
            })
            .collect();
        Counts { flags }
    }
}

/// A copy of the evaluation counters of a registry.
///
/// # Examples
///
/// See [`crate::Registry::counts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Counters of every flag, by index.
    pub flags: Vec<FlagCounts>,
}

/// The counters of one flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagCounts {
    /// The flag.
    pub flag: &'static str,
    /// Evaluations per value label (`off`, `on`, or each variant).
    pub values: Vec<(&'static str, u64)>,
}

impl Counts {
    /// How many evaluations of `flag` gave the value labelled `label`.
    #[must_use]
    pub fn get(&self, flag: &str, label: &str) -> u64 {
        self.flags
            .iter()
            .find(|f| f.flag == flag)
            .and_then(|f| f.values.iter().find(|(l, _)| *l == label))
            .map_or(0, |(_, n)| *n)
    }

    /// Evaluations of `flag`, all values together.
    #[must_use]
    pub fn total(&self, flag: &str) -> u64 {
        self.flags
            .iter()
            .find(|f| f.flag == flag)
            .map_or(0, |f| f.values.iter().map(|(_, n)| n).sum())
    }
}

/// Whether this evaluation is sampled: with probability 1 in `one_in`, drawn from the
/// per-thread generator, so that no flag is favoured by the order a handler reads
/// flags in (a shared every-Nth counter would always pick the same one).
#[inline]
pub(crate) fn sampled(one_in: u32) -> bool {
    if one_in <= 1 {
        return one_in == 1;
    }
    crate::rules::random_below(one_in) == 0
}

pub(crate) fn exposure(
    flag: &'static str,
    label: &'static str,
    reason: Reason,
    layer: Layer,
    key_hash: Option<u64>,
) {
    tracing::info!(
        target: EXPOSURE_TARGET,
        flag,
        value = label,
        reason = %reason,
        layer = layer.as_str(),
        key_hash,
        "flag exposure"
    );
}

/// A `feature_flag.evaluation` event with OpenTelemetry's attribute names, on the
/// current span.
pub(crate) fn otel_evaluation(
    set_id: &str,
    meta: &FlagMeta,
    label: &'static str,
    reason: Reason,
    key_hash: Option<u64>,
) {
    let flag = meta.name;
    let reason = if meta.is_static {
        "static"
    } else {
        reason.feature_flag_reason()
    };
    let context_id = key_hash.map(|h| format!("{h:016x}"));
    tracing::event!(
        target: OTEL_TARGET,
        tracing::Level::INFO,
        feature_flag.key = flag,
        feature_flag.result.variant = label,
        feature_flag.result.reason = reason,
        feature_flag.provider.name = "flags",
        feature_flag.set.id = set_id,
        feature_flag.context.id = context_id,
        "feature_flag.evaluation"
    );
}

pub(crate) fn changed(
    manifest: &str,
    flag: &str,
    from: &str,
    to: &str,
    layer: Layer,
    source: &str,
    generation: u64,
) {
    tracing::info!(
        target: TARGET,
        manifest,
        flag,
        from,
        to,
        layer = layer.as_str(),
        source,
        generation,
        "flag changed: {flag}: {from} -> {to}"
    );
}

pub(crate) fn rejected(manifest: &str, layer: Layer, source: &str, error: &str) {
    tracing::warn!(
        target: TARGET,
        manifest,
        layer = layer.as_str(),
        source,
        error,
        "update rejected, last good state kept: {error}"
    );
}

pub(crate) fn skipped(manifest: &str, layer: Layer, source: &str, problem: &str) {
    tracing::warn!(
        target: TARGET,
        manifest,
        layer = layer.as_str(),
        source,
        problem,
        "ignored: {problem}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{Kind, Lifecycle};

    static META: [FlagMeta; 2] = [
        FlagMeta {
            name: "a",
            index: 0,
            description: "",
            owner: "",
            kind: Kind::Ops,
            lifecycle: Lifecycle::Active,
            expires: None,
            variants: &[],
            default: Value::Bool(false),
            is_static: false,
            requires: &[],
            excludes: &[],
        },
        FlagMeta {
            name: "v",
            index: 1,
            description: "",
            owner: "",
            kind: Kind::Ops,
            lifecycle: Lifecycle::Active,
            expires: None,
            variants: &["x", "y", "z"],
            default: Value::Variant(0),
            is_static: false,
            requires: &[],
            excludes: &[],
        },
    ];

    #[test]
    fn counters_per_value() {
        let c = Counters::new(&META);
        c.count(0, Value::Bool(true));
        c.count(0, Value::Bool(true));
        c.count(1, Value::Variant(2));
        // Out of range values and flags are ignored, never counted elsewhere.
        c.count(1, Value::Variant(3));
        c.count(5, Value::Bool(true));
        let counts = c.snapshot(&META);
        assert_eq!(counts.get("a", "on"), 2);
        assert_eq!(counts.get("a", "off"), 0);
        assert_eq!(counts.get("v", "z"), 1);
        assert_eq!(counts.total("v"), 1);
        assert_eq!(counts.get("nope", "on"), 0);
        c.reset();
        assert_eq!(c.snapshot(&META).total("a"), 0);
    }

    #[test]
    fn sampling_rate() {
        assert!(!sampled(0));
        assert!((0..10).all(|_| sampled(1)));
        // 1 in 10 of 100,000: mean 10,000, standard deviation about 95.
        let hits = (0..100_000).filter(|_| sampled(10)).count();
        assert!((9_400..=10_600).contains(&hits), "{hits}");
    }

    #[test]
    fn sampling_does_not_favour_read_order() {
        // A handler reading flag A then flag B: an every-Nth counter with N = 2 would
        // sample only B. Both must get their share.
        let (mut a, mut b) = (0, 0);
        for _ in 0..50_000 {
            a += usize::from(sampled(2));
            b += usize::from(sampled(2));
        }
        assert!((24_000..=26_000).contains(&a), "{a}");
        assert!((24_000..=26_000).contains(&b), "{b}");
    }
}
