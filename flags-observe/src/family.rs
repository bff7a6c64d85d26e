//! Writing one metric family into a scrape: its descriptor (`# HELP`, `# TYPE`,
//! `# UNIT`) and its samples, through prometheus-client's encoder. A family without
//! samples is left out altogether, so that a registry with no rollout or no remote
//! source adds no empty families to the exposition.

use std::fmt;

use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

/// The labels of one sample, in the order they are written.
pub(crate) type Labels = Vec<(&'static str, String)>;

/// A histogram sample: labels, sum of observations (seconds), count, and the
/// per-bucket (not cumulative) counts with each bucket's upper bound, `+Inf` last.
pub(crate) struct HistogramSample {
    pub(crate) labels: Labels,
    pub(crate) sum: f64,
    pub(crate) count: u64,
    pub(crate) buckets: Vec<(f64, u64)>,
}

/// Name, help text and unit of a family. With a unit, the encoder appends it to the
/// name (`_seconds`) and writes a `# UNIT` line.
pub(crate) struct Descriptor {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) unit: Option<Unit>,
}

impl Descriptor {
    pub(crate) const fn new(name: &'static str, help: &'static str) -> Descriptor {
        Descriptor {
            name,
            help,
            unit: None,
        }
    }

    pub(crate) const fn seconds(name: &'static str, help: &'static str) -> Descriptor {
        Descriptor {
            name,
            help,
            unit: Some(Unit::Seconds),
        }
    }
}

/// A counter family: `NAME_total{labels} value`.
pub(crate) fn counters(
    encoder: &mut DescriptorEncoder<'_>,
    d: &Descriptor,
    samples: &[(Labels, u64)],
) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric =
        encoder.encode_descriptor(d.name, d.help, d.unit.as_ref(), MetricType::Counter)?;
    for (labels, value) in samples {
        metric
            .encode_family(labels)?
            .encode_counter::<NoLabelSet, u64, u64>(value, None)?;
    }
    Ok(())
}

/// A gauge family: `NAME{labels} value`.
pub(crate) fn gauges<V: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder<'_>,
    d: &Descriptor,
    samples: &[(Labels, V)],
) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric =
        encoder.encode_descriptor(d.name, d.help, d.unit.as_ref(), MetricType::Gauge)?;
    for (labels, value) in samples {
        metric.encode_family(labels)?.encode_gauge(value)?;
    }
    Ok(())
}

/// An info family: `NAME_info{labels} 1` per sample.
pub(crate) fn infos(
    encoder: &mut DescriptorEncoder<'_>,
    d: &Descriptor,
    samples: &[Labels],
) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(d.name, d.help, None, MetricType::Info)?;
    for labels in samples {
        metric.encode_info(labels)?;
    }
    Ok(())
}

/// A histogram family: `NAME_sum`, `NAME_count` and `NAME_bucket{le=..}` per sample.
pub(crate) fn histograms(
    encoder: &mut DescriptorEncoder<'_>,
    d: &Descriptor,
    samples: &[HistogramSample],
) -> fmt::Result {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric =
        encoder.encode_descriptor(d.name, d.help, d.unit.as_ref(), MetricType::Histogram)?;
    for s in samples {
        metric
            .encode_family(&s.labels)?
            .encode_histogram::<NoLabelSet>(s.sum, s.count, &s.buckets, None)?;
    }
    Ok(())
}
