//! What the flags registry knows of itself: each flag's declaration
//! (`flags_info`), evaluation counts by value (`flags_evaluations_total`), whether
//! counting is on (`flags_counting_enabled`) and refused updates
//! (`flags_update_errors_total`).

use std::fmt;

use flags_runtime::Registry;
use prometheus_client::encoding::DescriptorEncoder;

use crate::family::{self, Descriptor, Labels};

pub(crate) const INFO: Descriptor = Descriptor::new(
    "flags",
    "Each flag as declared in the manifest: owner, kind, expiry date (empty when none) and lifecycle.",
);
pub(crate) const EVALUATIONS: Descriptor = Descriptor::new(
    "flags_evaluations",
    "Evaluations of each flag by the value they gave (counted while counting is on).",
);
pub(crate) const COUNTING: Descriptor = Descriptor::new(
    "flags_counting_enabled",
    "1 while evaluations and outcomes are counted (Registry::set_counting), else 0.",
);
pub(crate) const UPDATE_ERRORS: Descriptor = Descriptor::new(
    "flags_update_errors",
    "Refused updates and skipped values (bad environment values, invalid rule files, refused remote payloads) since start.",
);

pub(crate) fn encode(registry: &Registry, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
    let info: Vec<Labels> = registry
        .flags()
        .iter()
        .map(|m| {
            vec![
                ("flag", m.name.to_owned()),
                ("owner", m.owner.to_owned()),
                ("kind", m.kind.as_str().to_owned()),
                (
                    "expires",
                    m.expires.map(|d| d.to_string()).unwrap_or_default(),
                ),
                ("lifecycle", m.lifecycle.as_str().to_owned()),
            ]
        })
        .collect();
    family::infos(encoder, &INFO, &info)?;

    let evaluations: Vec<(Labels, u64)> = registry
        .counts()
        .flags
        .iter()
        .flat_map(|f| {
            f.values.iter().map(|(value, n)| {
                (
                    vec![("flag", f.flag.to_owned()), ("value", (*value).to_owned())],
                    *n,
                )
            })
        })
        .collect();
    family::counters(encoder, &EVALUATIONS, &evaluations)?;
    family::gauges(
        encoder,
        &COUNTING,
        &[(Labels::new(), u64::from(registry.is_counting()))],
    )?;
    family::counters(
        encoder,
        &UPDATE_ERRORS,
        &[(Labels::new(), registry.error_count())],
    )
}
