//! Telemetry decided while holding the writer lock, emitted once it is released.

use std::sync::Arc;

use crate::explain::Layer;
use crate::telemetry::{self};

use super::Registry;

/// A telemetry event decided while building state, emitted once no lock is held (a
/// subscriber may read flags).
pub(super) enum Report {
    Changed {
        flag: &'static str,
        from: String,
        to: String,
        layer: Layer,
        source: Arc<str>,
        generation: u64,
    },
    Rejected {
        layer: Layer,
        source: String,
        error: String,
    },
    Skipped {
        layer: Layer,
        source: String,
        problem: String,
    },
}

impl Registry {
    pub(super) fn emit(&self, reports: Vec<Report>) {
        for r in reports {
            match r {
                Report::Changed {
                    flag,
                    from,
                    to,
                    layer,
                    source,
                    generation,
                } => telemetry::changed(
                    self.manifest_path,
                    flag,
                    &from,
                    &to,
                    layer,
                    &source,
                    generation,
                ),
                Report::Rejected {
                    layer,
                    source,
                    error,
                } => telemetry::rejected(self.manifest_path, layer, &source, &error),
                Report::Skipped {
                    layer,
                    source,
                    problem,
                } => telemetry::skipped(self.manifest_path, layer, &source, &problem),
            }
        }
    }
}
