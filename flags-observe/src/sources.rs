//! The health of each source feeding the registry (a rule file, the environment, a
//! remote service), from `Registry::source_health`, labelled by `layer` and `origin`:
//! updates applied, failures in all and since the last success, when it last
//! succeeded and failed, and the revision (an ETag) in force.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use flags_runtime::{Registry, SourceHealth};
use prometheus_client::encoding::DescriptorEncoder;

use crate::family::{self, Descriptor, Labels};

pub(crate) const UPDATES: Descriptor = Descriptor::new(
    "flags_source_updates",
    "Updates the source applied since start.",
);
pub(crate) const FAILURES: Descriptor = Descriptor::new(
    "flags_source_failures",
    "Failed polls and refused updates of the source since start.",
);
pub(crate) const CONSECUTIVE_FAILURES: Descriptor = Descriptor::new(
    "flags_source_consecutive_failures",
    "Failed attempts of the source since its last success (0 when healthy).",
);
pub(crate) const LAST_SUCCESS: Descriptor = Descriptor::seconds(
    "flags_source_last_success_timestamp",
    "When the source last succeeded (an update applied, or nothing new), in seconds since the Unix epoch.",
);
pub(crate) const LAST_FAILURE: Descriptor = Descriptor::seconds(
    "flags_source_last_failure_timestamp",
    "When the source last failed, in seconds since the Unix epoch.",
);
pub(crate) const REVISION: Descriptor = Descriptor::new(
    "flags_source_revision",
    "The revision (such as an ETag) of the source's update in force.",
);

pub(crate) fn encode(registry: &Registry, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let health = registry.source_health();
    let labels = |h: &SourceHealth| -> Labels {
        vec![
            ("layer", h.layer.as_str().to_owned()),
            ("origin", h.origin.clone()),
        ]
    };

    let updates: Vec<(Labels, u64)> = health.iter().map(|h| (labels(h), h.updates)).collect();
    family::counters(encoder, &UPDATES, &updates)?;

    let failures: Vec<(Labels, u64)> = health.iter().map(|h| (labels(h), h.failures)).collect();
    family::counters(encoder, &FAILURES, &failures)?;
    let consecutive: Vec<(Labels, u64)> = health
        .iter()
        .map(|h| (labels(h), h.consecutive_failures))
        .collect();
    family::gauges(encoder, &CONSECUTIVE_FAILURES, &consecutive)?;

    let at = |pick: fn(&SourceHealth) -> Option<SystemTime>| -> Vec<(Labels, f64)> {
        health
            .iter()
            .filter_map(|h| pick(h).map(|t| (labels(h), seconds_since_epoch(t))))
            .collect()
    };
    family::gauges(encoder, &LAST_SUCCESS, &at(|h| h.last_success))?;
    family::gauges(encoder, &LAST_FAILURE, &at(|h| h.last_failure))?;

    let revisions: Vec<Labels> = health
        .iter()
        .filter_map(|h| {
            let revision = h.revision.clone()?;
            let mut l = labels(h);
            l.push(("revision", revision));
            Some(l)
        })
        .collect();
    family::infos(encoder, &REVISION, &revisions)
}

/// Seconds since the Unix epoch; negative for a time before it (a clock set back).
fn seconds_since_epoch(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}
