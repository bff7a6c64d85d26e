//! Outcome metrics of one flag, split by which implementation served the request: the
//! treatment (flag on) and the control (flag off). Recording is a handful of additions
//! to the recording thread's own counters (the runtime's
//! [`ShardedCounters`](flags_runtime::shard::ShardedCounters)), with no lock, no shared
//! cache line and no allocation, so it can sit on every request from any number of
//! threads;
//! reading takes a [`Metrics`] snapshot, and a stage's window is the difference of two
//! snapshots ([`Metrics::since`]).
//!
//! Counters are cumulative and wrap: a window computed with wrapping subtraction is
//! exact as long as the window itself fits, which for the sum of squared latencies
//! means about 2^88 µs² (for example 2^48 requests of one second each).
//!
//! ```
//! use flags_rollout::{Outcome, Recorder, Side};
//! use std::time::Duration;
//!
//! let recorder = Recorder::new();
//! let stage_start = recorder.snapshot();
//! recorder.record(Side::from_bool(true), Outcome::ok(Duration::from_millis(12)));
//! recorder.record(Side::Control, Outcome::error(Duration::from_millis(30)));
//! let window = recorder.snapshot().since(&stage_start);
//! assert_eq!(window.treatment.samples(), 1);
//! assert_eq!(window.control.errors(), 1);
//! assert_eq!(window.treatment.mean_latency_ms(), Some(12.0));
//! ```

use flags_runtime::OutcomeSink;
use flags_runtime::shard::ShardedCounters;
pub use flags_runtime::{Outcome, Side};

/// The counters of `side` in a recorder's pair.
const fn slot(side: Side) -> usize {
    match side {
        Side::Treatment => 0,
        Side::Control => 1,
    }
}

/// Squares are split at this bit into two counters so both stay exact (see `record`).
const SQ_SPLIT: u32 = 24;
const SQ_LOW_MASK: u64 = (1 << SQ_SPLIT) - 1;

/// The counters of one side, at `slot(side) * PER_SIDE` in a recorder's counters.
const SAMPLES: usize = 0;
const ERRORS: usize = 1;
const LATENCY_US: usize = 2;
const LATENCY_SQ_HI: usize = 3;
const LATENCY_SQ_LO: usize = 4;
const PER_SIDE: usize = 5;

/// Lock-free outcome counters of one flag, both sides. Share it (`Arc<Recorder>`)
/// between the code that serves requests and the controller.
///
/// ```
/// use flags_rollout::{Outcome, Recorder, Side};
/// use std::time::Duration;
/// let r = Recorder::new();
/// r.record(Side::Treatment, Outcome::error(Duration::from_micros(1500)));
/// let m = r.snapshot();
/// assert_eq!(m.treatment.error_rate(), Some(1.0));
/// assert_eq!(m.control.samples(), 0);
/// ```
#[derive(Debug)]
pub struct Recorder {
    counters: ShardedCounters,
}

impl Default for Recorder {
    fn default() -> Recorder {
        Recorder {
            counters: ShardedCounters::new(2 * PER_SIDE),
        }
    }
}

impl Recorder {
    /// Counters at zero.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Counts one request on `side`: five additions to this thread's own counters; no
    /// lock, no allocation (but a thread's first request, which sets up its
    /// counters).
    #[inline]
    pub fn record(&self, side: Side, outcome: Outcome) {
        let base = slot(side) * PER_SIDE;
        // Latencies are kept in whole microseconds, capped at u32::MAX µs (71 minutes)
        // so that a square fits in a u64.
        let us = u64::try_from(outcome.latency.as_micros())
            .unwrap_or(u64::MAX)
            .min(u64::from(u32::MAX));
        let sq = us * us;
        let errors = u64::from(!outcome.ok);
        // The square is added as two parts: the low 24 bits (a window overflows only
        // after 2^40 requests) and the rest (after about 2^88 µs² of total squares).
        // Together they keep the sum of squares exact, where one u64 of µs² would
        // overflow after ~2·10^9 requests of 100 ms.
        // Adding zero to a counter only this thread writes costs a load and a store,
        // less than a branch the CPU may mispredict.
        self.counters.add_all([
            (base + SAMPLES, 1),
            (base + ERRORS, errors),
            (base + LATENCY_US, us),
            (base + LATENCY_SQ_HI, sq >> SQ_SPLIT),
            (base + LATENCY_SQ_LO, sq & SQ_LOW_MASK),
        ]);
    }

    /// The counters as they are now.
    ///
    /// The counters of a side are read one after another, so a request being recorded
    /// at the same moment may be seen in one and not yet in another; that blurs a
    /// snapshot by at most the requests in flight, which no decision can notice.
    pub fn snapshot(&self) -> Metrics {
        let totals = self.counters.totals();
        let read = |side: Side| {
            let at = |i: usize| totals.get(slot(side) * PER_SIDE + i).copied().unwrap_or(0);
            SideMetrics {
                samples: at(SAMPLES),
                errors: at(ERRORS),
                latency_us: at(LATENCY_US),
                latency_sq_hi: at(LATENCY_SQ_HI),
                latency_sq_lo: at(LATENCY_SQ_LO),
            }
        };
        Metrics {
            treatment: read(Side::Treatment),
            control: read(Side::Control),
        }
    }
}

/// The runtime routes each flag's recorded outcomes to its recorder (see
/// [`RolloutController::attach`](crate::RolloutController::attach)).
impl OutcomeSink for Recorder {
    #[inline]
    fn record(&self, side: Side, outcome: Outcome) {
        Recorder::record(self, side, outcome);
    }
}

/// A snapshot of both sides' counters, or (from [`Metrics::since`]) the difference of
/// two snapshots: what happened in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Requests served with the flag on.
    pub treatment: SideMetrics,
    /// Requests served with the flag off.
    pub control: SideMetrics,
}

impl Metrics {
    /// What happened between `earlier` and this snapshot (both from the same
    /// [`Recorder`]).
    ///
    /// ```
    /// use flags_rollout::{Outcome, Recorder, Side};
    /// use std::time::Duration;
    /// let r = Recorder::new();
    /// r.record(Side::Control, Outcome::ok(Duration::from_millis(1)));
    /// let start = r.snapshot();
    /// r.record(Side::Control, Outcome::ok(Duration::from_millis(3)));
    /// let window = r.snapshot().since(&start);
    /// assert_eq!(window.control.samples(), 1);
    /// assert_eq!(window.control.mean_latency_ms(), Some(3.0));
    /// ```
    pub fn since(&self, earlier: &Metrics) -> Metrics {
        Metrics {
            treatment: self.treatment.since(&earlier.treatment),
            control: self.control.since(&earlier.control),
        }
    }

    /// Whether a counter of either side is below `earlier`'s (a reset of the source's
    /// totals; a window between the two would be meaningless).
    pub(crate) fn went_back(&self, earlier: &Metrics) -> bool {
        self.treatment.went_back(&earlier.treatment) || self.control.went_back(&earlier.control)
    }

    /// The metrics of `side`.
    pub fn side(&self, side: Side) -> &SideMetrics {
        match side {
            Side::Treatment => &self.treatment,
            Side::Control => &self.control,
        }
    }
}

/// The counters of one side: requests, errors, and the sum and sum of squares of
/// latencies in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideMetrics {
    samples: u64,
    errors: u64,
    latency_us: u64,
    latency_sq_hi: u64,
    latency_sq_lo: u64,
}

impl SideMetrics {
    /// Metrics from sums kept elsewhere (a fleet's summed counters): `samples`
    /// requests, `errors` of them failed, latencies summing to `latency_sum_us` µs with
    /// squares summing to `latency_sum_squares_us2` µs². `errors` above `samples` is
    /// read as `samples`.
    ///
    /// The sum of squares is kept in units of 2^24 µs² (about 17 ms², rounded to the
    /// nearest), so that later sums never have a smaller low part than earlier ones and
    /// a window between two such snapshots is always a plain difference; no variance of
    /// a real window notices the rounding.
    ///
    /// ```
    /// use flags_rollout::SideMetrics;
    /// let side = SideMetrics::from_sums(4, 1, 100_000, 2_600_000_000);
    /// assert_eq!(side.error_rate(), Some(0.25));
    /// assert_eq!(side.mean_latency_ms(), Some(25.0));
    /// assert_eq!(side.latency_sum_squares_us2(), 155 << 24);
    /// ```
    pub fn from_sums(
        samples: u64,
        errors: u64,
        latency_sum_us: u64,
        latency_sum_squares_us2: u128,
    ) -> SideMetrics {
        let units = latency_sum_squares_us2.saturating_add(1 << (SQ_SPLIT - 1)) >> SQ_SPLIT;
        SideMetrics {
            samples,
            errors: errors.min(samples),
            latency_us: latency_sum_us,
            latency_sq_hi: u64::try_from(units).unwrap_or(u64::MAX),
            latency_sq_lo: 0,
        }
    }

    /// Whether a counter is below `earlier`'s: the counters were reset (a source that
    /// lost its totals), so no window can be taken between the two.
    pub(crate) fn went_back(&self, earlier: &SideMetrics) -> bool {
        self.samples < earlier.samples || self.errors < earlier.errors
    }

    fn since(&self, earlier: &SideMetrics) -> SideMetrics {
        SideMetrics {
            samples: self.samples.wrapping_sub(earlier.samples),
            errors: self.errors.wrapping_sub(earlier.errors),
            latency_us: self.latency_us.wrapping_sub(earlier.latency_us),
            latency_sq_hi: self.latency_sq_hi.wrapping_sub(earlier.latency_sq_hi),
            latency_sq_lo: self.latency_sq_lo.wrapping_sub(earlier.latency_sq_lo),
        }
    }

    /// Requests counted.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Failed requests counted (never more than [`samples`](Self::samples)).
    pub fn errors(&self) -> u64 {
        // A snapshot taken while a request is being recorded may have seen its error
        // but not yet its sample.
        self.errors.min(self.samples)
    }

    /// Sum of latencies in microseconds.
    pub fn latency_sum_us(&self) -> u64 {
        self.latency_us
    }

    /// Sum of squared latencies in µs², exact.
    pub fn latency_sum_squares_us2(&self) -> u128 {
        (u128::from(self.latency_sq_hi) << SQ_SPLIT) + u128::from(self.latency_sq_lo)
    }

    /// Share of failed requests, `None` without requests.
    pub fn error_rate(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.errors() as f64 / self.samples as f64)
    }

    /// Mean latency in milliseconds, `None` without requests.
    pub fn mean_latency_ms(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.latency_us as f64 / self.samples as f64 / 1000.0)
    }

    /// Sample variance of latency in ms², `None` with fewer than two requests.
    pub fn latency_variance_ms2(&self) -> Option<f64> {
        if self.samples < 2 {
            return None;
        }
        let n = self.samples as f64;
        let sum = self.latency_us as f64;
        let sq = self.latency_sum_squares_us2() as f64;
        // Rounding can make a zero variance come out a hair negative.
        let var_us2 = ((sq - sum * sum / n) / (n - 1.0)).max(0.0);
        Some(var_us2 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sums_and_squares_are_exact() {
        let r = Recorder::new();
        let lat = [1u64, 999, 4_095, 4_096, 250_000, 3_000_000_000];
        for &us in &lat {
            r.record(Side::Treatment, Outcome::ok(Duration::from_micros(us)));
        }
        let t = r.snapshot().treatment;
        assert_eq!(t.samples(), lat.len() as u64);
        assert_eq!(t.latency_sum_us(), lat.iter().sum::<u64>());
        let sq: u128 = lat.iter().map(|&x| u128::from(x) * u128::from(x)).sum();
        assert_eq!(t.latency_sum_squares_us2(), sq);
    }

    #[test]
    fn latency_is_capped_at_u32_micros() {
        let r = Recorder::new();
        r.record(Side::Control, Outcome::ok(Duration::from_secs(100_000)));
        let c = r.snapshot().control;
        assert_eq!(c.latency_sum_us(), u64::from(u32::MAX));
        assert_eq!(
            c.latency_sum_squares_us2(),
            u128::from(u32::MAX) * u128::from(u32::MAX)
        );
    }

    #[test]
    fn window_subtracts_across_wrapping() {
        let earlier = SideMetrics {
            samples: u64::MAX - 1,
            errors: u64::MAX,
            latency_us: u64::MAX - 10,
            latency_sq_hi: u64::MAX,
            latency_sq_lo: u64::MAX - 3,
        };
        let later = SideMetrics {
            samples: 3,
            errors: 1,
            latency_us: 20,
            latency_sq_hi: 0,
            latency_sq_lo: 100,
        };
        let w = later.since(&earlier);
        assert_eq!(w.samples(), 5);
        assert_eq!(w.errors(), 2);
        assert_eq!(w.latency_sum_us(), 31);
        assert_eq!(w.latency_sum_squares_us2(), (1u128 << SQ_SPLIT) + 104);
    }

    #[test]
    fn statistics_of_a_window() {
        let r = Recorder::new();
        for ms in [10u64, 20, 30] {
            r.record(Side::Control, Outcome::ok(Duration::from_millis(ms)));
        }
        r.record(Side::Control, Outcome::error(Duration::from_millis(40)));
        let c = r.snapshot().control;
        assert_eq!(c.error_rate(), Some(0.25));
        assert_eq!(c.mean_latency_ms(), Some(25.0));
        let var = c.latency_variance_ms2().unwrap();
        assert!((var - 500.0 / 3.0).abs() < 1e-9, "{var}");
        assert_eq!(SideMetrics::default().error_rate(), None);
        assert_eq!(SideMetrics::default().latency_variance_ms2(), None);
    }

    #[test]
    fn concurrent_recording_loses_nothing() {
        let r = std::sync::Arc::new(Recorder::new());
        let threads: Vec<_> = (0..4)
            .map(|i| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for k in 0..10_000u64 {
                        let side = Side::from_bool(i % 2 == 0);
                        let o = if k % 10 == 0 {
                            Outcome::error(Duration::from_micros(k))
                        } else {
                            Outcome::ok(Duration::from_micros(k))
                        };
                        r.record(side, o);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let m = r.snapshot();
        for side in [m.treatment, m.control] {
            assert_eq!(side.samples(), 20_000);
            assert_eq!(side.errors(), 2_000);
            assert_eq!(side.latency_sum_us(), 2 * (0..10_000u64).sum::<u64>());
        }
    }
}
