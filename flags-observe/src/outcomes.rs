//! How requests fared on each side of a flag, from the registry's outcome counters
//! (`Registry::outcome_counts`, recorded while counting is on): counts by side and
//! result (`flags_outcomes_total`) and latency (`flags_outcome_duration_seconds`, a
//! histogram in the registry's buckets). Only flags that recorded an outcome appear:
//! the registry lists every flag, and a service with many flags would otherwise export
//! some thirty zero series for each one that never records.

use std::fmt;

use flags_runtime::{Registry, SideCounts};
use prometheus_client::encoding::DescriptorEncoder;

use crate::family::{self, Descriptor, HistogramSample, Labels};

pub(crate) const OUTCOMES: Descriptor = Descriptor::new(
    "flags_outcomes",
    "Recorded request outcomes by side (treatment: the flag was on; control: off) and result (ok or error).",
);
pub(crate) const DURATION: Descriptor = Descriptor::seconds(
    "flags_outcome_duration",
    "Latency of the recorded requests by side, in seconds.",
);

pub(crate) fn encode(registry: &Registry, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let counts = registry.outcome_counts();
    let bounds: Vec<f64> = counts.bounds.iter().map(|b| b.as_secs_f64()).collect();
    let mut outcomes: Vec<(Labels, u64)> = Vec::new();
    let mut durations: Vec<HistogramSample> = Vec::new();
    let recorded = counts
        .flags
        .iter()
        .filter(|f| f.treatment.total() > 0 || f.control.total() > 0);
    for flag in recorded {
        for (side, c) in [("treatment", &flag.treatment), ("control", &flag.control)] {
            for (result, n) in [("ok", c.ok), ("error", c.errors)] {
                outcomes.push((
                    vec![
                        ("flag", flag.flag.to_owned()),
                        ("side", side.to_owned()),
                        ("result", result.to_owned()),
                    ],
                    n,
                ));
            }
            durations.push(histogram(
                vec![("flag", flag.flag.to_owned()), ("side", side.to_owned())],
                &bounds,
                c,
            ));
        }
    }
    family::counters(encoder, &OUTCOMES, &outcomes)?;
    family::histograms(encoder, &DURATION, &durations)
}

/// One side's latency histogram. The runtime's buckets are cumulative and the
/// encoder wants each bucket's own count (it adds them up again), with `+Inf` last
/// holding whatever lies above the highest bound.
fn histogram(labels: Labels, bounds: &[f64], c: &SideCounts) -> HistogramSample {
    let count = c.total();
    let mut buckets = Vec::with_capacity(bounds.len() + 1);
    let mut below = 0u64;
    for (bound, cumulative) in bounds.iter().zip(&c.buckets) {
        // A counter read while another thread records may be a little ahead of the
        // one before it; never let a bucket go negative.
        let cumulative = (*cumulative).clamp(below, count);
        buckets.push((*bound, cumulative - below));
        below = cumulative;
    }
    buckets.push((f64::INFINITY, count - below));
    HistogramSample {
        labels,
        sum: c.latency_sum.as_secs_f64(),
        count,
        buckets,
    }
}
