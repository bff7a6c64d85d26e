//! Source health: per source feeding the registry, when it last delivered, how often
//! it has failed since, and the revision in force (an Unleash ETag, say). Kept by the
//! registry as it applies or rejects updates; read by dashboards and exporters.

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use crate::explain::Layer;

/// How one source has fared: what a dashboard or a metrics exporter shows.
///
/// # Examples
///
/// See [`Registry::source_health`](crate::Registry::source_health).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceHealth {
    /// The layer it feeds.
    pub layer: Layer,
    /// Its name ([`Source::name`](crate::Source::name), or the origin given to
    /// [`IndexAccess::set_layer`](crate::raw::IndexAccess::set_layer)).
    pub origin: String,
    /// The revision of the update in force, when the source names one
    /// ([`Update::revision`](crate::Update::revision)).
    pub revision: Option<String>,
    /// The last poll that succeeded (an update applied, or nothing new).
    pub last_success: Option<SystemTime>,
    /// The last poll or update that failed.
    pub last_failure: Option<SystemTime>,
    /// Failures since the last success; 0 when the source is healthy.
    pub consecutive_failures: u64,
    /// What the last failure said, until the next success.
    pub last_error: Option<String>,
    /// Updates applied.
    pub updates: u64,
    /// Failures in all.
    pub failures: u64,
}

impl SourceHealth {
    /// Whether the last contact failed.
    #[must_use]
    pub fn is_failing(&self) -> bool {
        self.consecutive_failures > 0
    }
}

/// What happened on one contact with a source.
pub(crate) enum Contact<'a> {
    /// An update was applied, with this revision (`None`: keep the last one known).
    Applied(Option<String>),
    /// The source had nothing new.
    Unchanged,
    /// The poll or the update failed.
    Failed(&'a str),
}

/// Every source's health, in the order they were first seen.
#[derive(Debug, Default)]
pub(crate) struct HealthBook(Mutex<Vec<SourceHealth>>);

impl HealthBook {
    pub(crate) fn note(&self, layer: Layer, origin: &str, contact: Contact<'_>) {
        let now = SystemTime::now();
        let mut book = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let pos = book
            .iter()
            .position(|h| h.layer == layer && h.origin == origin);
        let entry = match pos {
            Some(i) => &mut book[i],
            None => {
                book.push(SourceHealth {
                    layer,
                    origin: origin.to_owned(),
                    revision: None,
                    last_success: None,
                    last_failure: None,
                    consecutive_failures: 0,
                    last_error: None,
                    updates: 0,
                    failures: 0,
                });
                let last = book.len() - 1;
                &mut book[last]
            }
        };
        match contact {
            Contact::Applied(revision) => {
                entry.updates += 1;
                if revision.is_some() {
                    entry.revision = revision;
                }
                entry.healthy(now);
            }
            Contact::Unchanged => entry.healthy(now),
            Contact::Failed(error) => {
                entry.last_failure = Some(now);
                entry.consecutive_failures += 1;
                entry.failures += 1;
                entry.last_error = Some(error.to_owned());
            }
        }
    }

    pub(crate) fn list(&self) -> Vec<SourceHealth> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl SourceHealth {
    fn healthy(&mut self, now: SystemTime) {
        self.last_success = Some(now);
        self.consecutive_failures = 0;
        self.last_error = None;
    }
}
