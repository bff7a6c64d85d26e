//! Outcome counts kept by the registry itself: per flag and [`Side`], successes,
//! errors, the latency sum and a latency histogram, recorded while counting is on.
//!
//! These are what a metrics exporter publishes (and what a guarded rollout decides on,
//! summed across instances). They are sharded per thread like the evaluation counters,
//! and a flag's table is allocated on its first recorded outcome, so flags that never
//! record cost nothing. The histogram's bucket bounds are set once per registry, before
//! the first outcome ([`Registry::set_latency_buckets`]), so that every scrape of a
//! process sees the same buckets.

use std::sync::OnceLock;
use std::time::Duration;

use crate::registry::Registry;
use crate::served::{Outcome, Side};
use crate::shard::ShardedCounters;

/// Prometheus' default bucket bounds, in seconds: 5 ms to 10 s.
pub const DEFAULT_LATENCY_BUCKETS: [Duration; 11] = [
    Duration::from_millis(5),
    Duration::from_millis(10),
    Duration::from_millis(25),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_millis(2500),
    Duration::from_secs(5),
    Duration::from_secs(10),
];

/// Counters of one side: ok, errors, latency sum in nanoseconds, then one per bucket
/// and one beyond the last bound.
const OK: usize = 0;
const ERRORS: usize = 1;
const LATENCY_NS: usize = 2;
const FIRST_BUCKET: usize = 3;

/// The outcome counters of every flag of a registry.
pub(crate) struct OutcomeTable {
    bounds: Box<[Duration]>,
    /// The bounds in nanoseconds, for the recording path.
    bounds_ns: Box<[u64]>,
    flags: Box<[OnceLock<ShardedCounters>]>,
}

impl OutcomeTable {
    fn new(bounds: Box<[Duration]>, flags: usize) -> OutcomeTable {
        OutcomeTable {
            bounds_ns: bounds.iter().map(|b| nanos(*b)).collect(),
            bounds,
            flags: (0..flags).map(|_| OnceLock::new()).collect(),
        }
    }

    fn width(&self) -> usize {
        FIRST_BUCKET + self.bounds.len() + 1
    }

    #[inline]
    fn record(&self, index: usize, side: Side, outcome: Outcome) {
        let Some(cell) = self.flags.get(index) else {
            return;
        };
        let counters = match cell.get() {
            Some(c) => c,
            None => cell.get_or_init(|| ShardedCounters::new(2 * self.width())),
        };
        let base = side_slot(side) * self.width();
        let ns = nanos(outcome.latency);
        // The first bound at or above the latency: Prometheus' `le` ("less or equal").
        // Searched from the smallest: most outcomes fall in the first few buckets, so
        // this stops after a compare or two where a binary search always takes four.
        let bucket = self
            .bounds_ns
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(self.bounds_ns.len());
        counters.add_all([
            (base + if outcome.ok { OK } else { ERRORS }, 1),
            (base + LATENCY_NS, ns),
            (base + FIRST_BUCKET + bucket, 1),
        ]);
    }

    fn side(&self, totals: Option<&[u64]>, side: Side) -> SideCounts {
        let width = self.width();
        let base = side_slot(side) * width;
        let at = |i: usize| totals.and_then(|t| t.get(base + i)).copied().unwrap_or(0);
        let mut cumulative = 0;
        let buckets = (0..self.bounds.len())
            .map(|b| {
                cumulative += at(FIRST_BUCKET + b);
                cumulative
            })
            .collect();
        SideCounts {
            ok: at(OK),
            errors: at(ERRORS),
            latency_sum: Duration::from_nanos(at(LATENCY_NS)),
            buckets,
        }
    }
}

/// `d` in nanoseconds, saturating (at 584 years), in 64-bit arithmetic.
#[inline]
fn nanos(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()))
}

fn side_slot(side: Side) -> usize {
    match side {
        Side::Treatment => 0,
        Side::Control => 1,
    }
}

/// Outcome counts of every flag of a registry, with the histogram's bucket bounds.
///
/// # Examples
///
/// See [`Registry::outcome_counts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// Upper bounds of the latency buckets, ascending (a last, unbounded bucket is
    /// implied: its count is a side's [`SideCounts::total`]).
    pub bounds: Vec<Duration>,
    /// Every flag, by index (flags that never recorded an outcome count zero).
    pub flags: Vec<FlagOutcomes>,
}

impl OutcomeCounts {
    /// The counts of `flag`, if it is one of the registry's.
    #[must_use]
    pub fn flag(&self, flag: &str) -> Option<&FlagOutcomes> {
        self.flags.iter().find(|f| f.flag == flag)
    }
}

/// The outcome counts of one flag, by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagOutcomes {
    /// The flag.
    pub flag: &'static str,
    /// Outcomes recorded on the treatment side (the flag on).
    pub treatment: SideCounts,
    /// Outcomes recorded on the control side (the flag off).
    pub control: SideCounts,
}

impl FlagOutcomes {
    /// The counts of `side`.
    #[must_use]
    pub fn side(&self, side: Side) -> &SideCounts {
        match side {
            Side::Treatment => &self.treatment,
            Side::Control => &self.control,
        }
    }
}

/// Outcome counts of one side of one flag.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SideCounts {
    /// Outcomes that succeeded.
    pub ok: u64,
    /// Outcomes that failed.
    pub errors: u64,
    /// The latencies added up.
    pub latency_sum: Duration,
    /// Cumulative histogram: `buckets[i]` outcomes took at most `bounds[i]`.
    pub buckets: Vec<u64>,
}

impl SideCounts {
    /// No outcome, with `buckets` bucket counts.
    fn zero(buckets: usize) -> SideCounts {
        SideCounts {
            buckets: vec![0; buckets],
            ..SideCounts::default()
        }
    }

    /// All outcomes, successes and errors.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.ok + self.errors
    }
}

/// The latency buckets could not be set.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BucketsError {
    /// The registry already has its buckets: set them before the first outcome is
    /// recorded, once (every scrape of a process must see the same buckets).
    #[error(
        "the latency buckets are already fixed (help: set them once, at start, before any outcome is recorded)"
    )]
    AlreadySet,
    /// A bound that is zero, or a list that is not strictly ascending.
    #[error("latency bucket bounds must be above zero and strictly ascending, got {bounds:?}")]
    Invalid {
        /// The bounds given.
        bounds: Vec<Duration>,
    },
}

impl Registry {
    fn outcome_table(&self) -> &OutcomeTable {
        self.outcome_table_cell()
            .get_or_init(|| OutcomeTable::new(DEFAULT_LATENCY_BUCKETS.into(), self.flags().len()))
    }

    /// Sets the upper bounds of the outcome latency histogram (by default
    /// [`DEFAULT_LATENCY_BUCKETS`], 5 ms to 10 s). Once per registry, before the first
    /// outcome is recorded.
    ///
    /// # Errors
    ///
    /// [`BucketsError::AlreadySet`] after the first outcome or a previous call;
    /// [`BucketsError::Invalid`] for a zero bound or bounds not strictly ascending.
    ///
    /// # Examples
    ///
    /// See [`Registry::outcome_counts`].
    pub fn set_latency_buckets(&self, bounds: &[Duration]) -> Result<(), BucketsError> {
        let valid =
            bounds.first().is_none_or(|b| !b.is_zero()) && bounds.windows(2).all(|w| w[0] < w[1]);
        if !valid {
            return Err(BucketsError::Invalid {
                bounds: bounds.to_vec(),
            });
        }
        self.outcome_table_cell()
            .set(OutcomeTable::new(bounds.into(), self.flags().len()))
            .map_err(|_| BucketsError::AlreadySet)
    }

    /// Adds an outcome to the registry's own counts (the caller checked that
    /// counting is on).
    #[inline]
    pub(crate) fn measure_outcome(&self, index: usize, side: Side, outcome: Outcome) {
        self.outcome_table().record(index, side, outcome);
    }

    /// The outcome counts of every flag: what [`record_outcome`](crate::raw::IndexAccess::record_outcome)
    /// and `#[feature_gate(measure)]` recorded while counting was on
    /// ([`Registry::set_counting`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use flags_runtime::{__private::*, BoolFlag};
    /// use std::time::Duration;
    /// use flags_runtime::{Outcome, Side};
    /// # static META: [FlagMeta; 1] = [FlagMeta { name: "beta", index: 0, description: "",
    /// #     owner: "", kind: Kind::Ops, lifecycle: Lifecycle::Active, expires: None,
    /// #     variants: &[], default: Value::Bool(false), is_static: false, requires: &[],
    /// #     excludes: &[] }];
    /// # static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    /// # static REGISTRY: Registry = Registry::new(&META, &CELLS,
    /// #     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml");
    /// # const BETA: BoolFlag = BoolFlag::new(&REGISTRY, 0);
    /// REGISTRY.set_latency_buckets(&[Duration::from_millis(10), Duration::from_millis(100)])?;
    /// REGISTRY.set_counting(true);
    /// BETA.record_outcome(Side::Treatment, Outcome::ok(Duration::from_millis(7)));
    /// BETA.record_outcome(Side::Treatment, Outcome::error(Duration::from_millis(70)));
    ///
    /// let counts = REGISTRY.outcome_counts();
    /// let beta = counts.flag("beta").unwrap();
    /// assert_eq!((beta.treatment.ok, beta.treatment.errors), (1, 1));
    /// assert_eq!(beta.treatment.buckets, vec![1, 2]);
    /// assert_eq!(beta.treatment.latency_sum, Duration::from_millis(77));
    /// assert_eq!(beta.control.total(), 0);
    /// # Ok::<(), flags_runtime::BucketsError>(())
    /// ```
    pub fn outcome_counts(&self) -> OutcomeCounts {
        // Reading does not fix the buckets: before the first outcome (or
        // `set_latency_buckets`) every count is zero under the default bounds.
        let Some(table) = self.outcome_table_cell().get() else {
            return OutcomeCounts {
                bounds: DEFAULT_LATENCY_BUCKETS.to_vec(),
                flags: self
                    .flags()
                    .iter()
                    .map(|m| FlagOutcomes {
                        flag: m.name,
                        treatment: SideCounts::zero(DEFAULT_LATENCY_BUCKETS.len()),
                        control: SideCounts::zero(DEFAULT_LATENCY_BUCKETS.len()),
                    })
                    .collect(),
            };
        };
        let flags = self
            .flags()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let totals = table
                    .flags
                    .get(i)
                    .and_then(OnceLock::get)
                    .map(|c| c.totals());
                FlagOutcomes {
                    flag: m.name,
                    treatment: table.side(totals.as_deref(), Side::Treatment),
                    control: table.side(totals.as_deref(), Side::Control),
                }
            })
            .collect();
        OutcomeCounts {
            bounds: table.bounds.to_vec(),
            flags,
        }
    }

    /// Sets the registry's outcome counts back to zero (the bucket bounds stay).
    pub(crate) fn reset_outcome_counts(&self) {
        if let Some(table) = self.outcome_table_cell().get() {
            for c in table.flags.iter().filter_map(OnceLock::get) {
                c.reset();
            }
        }
    }
}
