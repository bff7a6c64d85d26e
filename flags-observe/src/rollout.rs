//! Where each guarded rollout stands, from the controller's state at the time of the
//! scrape: exposure (`flags_rollout_percent`), stage (`flags_rollout_stage`), status
//! (`flags_rollout_status`, one sample per status, 1 for the current one), when that
//! position began (`flags_rollout_changed_timestamp_seconds`) and whether the
//! controller holds it because its saved state is invalid (`flags_rollout_held`).

use std::fmt;

use flags_rollout::{RolloutController, Status};
use prometheus_client::encoding::DescriptorEncoder;

use crate::family::{self, Descriptor, Labels};

pub(crate) const PERCENT: Descriptor = Descriptor::new(
    "flags_rollout_percent",
    "Share of keys the guarded rollout exposes the flag to, in percent (0 after a rollback).",
);
pub(crate) const STAGE: Descriptor = Descriptor::new(
    "flags_rollout_stage",
    "The rollout's stage, counted from 1 (after a rollback: the stage it was rolled back from).",
);
pub(crate) const STATUS: Descriptor = Descriptor::new(
    "flags_rollout_status",
    "1 for the rollout's current status (running, paused, rolled_back, completed), 0 for the others.",
);
pub(crate) const CHANGED: Descriptor = Descriptor::seconds(
    "flags_rollout_changed_timestamp",
    "When the rollout's current stage, pause, rollback or completion began, in seconds since the Unix epoch.",
);
pub(crate) const HELD: Descriptor = Descriptor::new(
    "flags_rollout_held",
    "1 while the controller holds the rollout (its saved state is invalid: not driven until rolled back), else 0.",
);

/// Every status, with its label value (the state file's spelling).
const STATUSES: [(Status, &str); 4] = [
    (Status::Running, "running"),
    (Status::Paused, "paused"),
    (Status::RolledBack, "rolled_back"),
    (Status::Completed, "completed"),
];

pub(crate) fn encode(
    controller: &RolloutController,
    encoder: &mut DescriptorEncoder<'_>,
) -> fmt::Result {
    let states = controller.states();
    let held = controller.held();
    let flag = |name: &str| -> Labels { vec![("flag", name.to_owned())] };

    let percent: Vec<(Labels, u64)> = states
        .iter()
        .map(|s| (flag(&s.flag), u64::from(s.position.percent)))
        .collect();
    family::gauges(encoder, &PERCENT, &percent)?;

    let stage: Vec<(Labels, u64)> = states
        .iter()
        .map(|s| {
            let number = u64::try_from(s.position.stage)
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            (flag(&s.flag), number)
        })
        .collect();
    family::gauges(encoder, &STAGE, &stage)?;

    let status: Vec<(Labels, u64)> = states
        .iter()
        .flat_map(|s| {
            STATUSES.iter().map(|(status, label)| {
                (
                    vec![("flag", s.flag.clone()), ("status", (*label).to_owned())],
                    u64::from(s.position.status == *status),
                )
            })
        })
        .collect();
    family::gauges(encoder, &STATUS, &status)?;

    let changed: Vec<(Labels, f64)> = states
        .iter()
        .map(|s| (flag(&s.flag), millis_to_seconds(s.since.as_millis())))
        .collect();
    family::gauges(encoder, &CHANGED, &changed)?;

    let held: Vec<(Labels, u64)> = states
        .iter()
        .map(|s| (flag(&s.flag), u64::from(held.contains_key(&s.flag))))
        .collect();
    family::gauges(encoder, &HELD, &held)
}

/// Milliseconds since the epoch as seconds. Loaded states end at the year 9999, far
/// below 2^53 ms, so the conversion to `f64` is exact before the division.
fn millis_to_seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}
