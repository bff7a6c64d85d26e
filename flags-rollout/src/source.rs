//! Where a controller reads a flag's outcome metrics: a [`MetricsSource`]. The default
//! is the controller's own in-process [`Recorder`](crate::Recorder)s (one process); a
//! fleet-wide source (Prometheus, in the `flags-fleet` crate) sums every instance.
//!
//! A source returns *cumulative* per-side metrics that only grow; the controller takes
//! a stage's window as the difference between two reads. A source that cannot answer
//! returns an error, never zeros: the controller then holds the stage (no advance, no
//! rollback on missing data) until the source answers again.

use std::sync::Arc;

use crate::metrics::Metrics;

/// Why a [`MetricsSource`] could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The source did not answer or answered with an error (an outage): try again later.
    #[error("metrics source {origin} is unavailable: {detail}")]
    Unavailable {
        /// Which source (an address, a name).
        origin: String,
        /// What went wrong.
        detail: String,
    },
    /// The source answered something that is not metrics of the expected shape.
    #[error("metrics source {origin} answered something unusable: {detail}")]
    Invalid {
        /// Which source.
        origin: String,
        /// What was wrong with the answer.
        detail: String,
    },
}

/// Per-side cumulative outcome metrics of a flag, read from wherever they are kept.
///
/// Reads must be cumulative (a later read covers everything an earlier one did) and
/// fallible: an outage is an error, never a read of zeros.
///
/// ```
/// use flags_rollout::{Metrics, MetricsError, MetricsSource};
///
/// struct Nothing;
/// impl MetricsSource for Nothing {
///     fn metrics(&self, flag: &str) -> Result<Metrics, MetricsError> {
///         Err(MetricsError::Unavailable { origin: "nowhere".into(), detail: format!("no data for {flag}") })
///     }
/// }
/// assert!(Nothing.metrics("search_v2").is_err());
/// ```
pub trait MetricsSource: Send + Sync {
    /// The cumulative metrics of `flag`, both sides.
    fn metrics(&self, flag: &str) -> Result<Metrics, MetricsError>;
}

impl<T: MetricsSource + ?Sized> MetricsSource for Arc<T> {
    fn metrics(&self, flag: &str) -> Result<Metrics, MetricsError> {
        (**self).metrics(flag)
    }
}

/// A [`MetricsSource`] from a closure: for tests and adapters.
///
/// ```
/// use flags_rollout::{FnMetrics, Metrics, MetricsSource};
/// let source = FnMetrics(|_flag: &str| Ok(Metrics::default()));
/// assert_eq!(source.metrics("search_v2")?.treatment.samples(), 0);
/// # Ok::<(), flags_rollout::MetricsError>(())
/// ```
pub struct FnMetrics<F>(pub F);

impl<F: Fn(&str) -> Result<Metrics, MetricsError> + Send + Sync> MetricsSource for FnMetrics<F> {
    fn metrics(&self, flag: &str) -> Result<Metrics, MetricsError> {
        (self.0)(flag)
    }
}
