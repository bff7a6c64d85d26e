//! Time for the controller: wall-clock timestamps that survive a restart (a stage's
//! soak is measured from a persisted start time), read through a [`Clock`] so tests and
//! demos can drive a rollout through hours of soak in microseconds.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A point in time: whole milliseconds since the Unix epoch, UTC.
///
/// Persisted as a plain number; displayed as RFC 3339 (`2026-04-14T09:30:00.000Z`).
///
/// ```
/// use flags_rollout::Timestamp;
/// let t = Timestamp::from_millis(1_776_159_000_000);
/// assert_eq!(t.to_string(), "2026-04-14T09:30:00.000Z");
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The time elapsed from `earlier` to `self`; zero if `earlier` is later (a clock
    /// that stepped back must not make a soak look finished or negative).
    ///
    /// ```
    /// use flags_rollout::Timestamp;
    /// use std::time::Duration;
    /// let a = Timestamp::from_millis(1_000);
    /// assert_eq!(Timestamp::from_millis(3_500).since(a), Duration::from_millis(2_500));
    /// assert_eq!(a.since(Timestamp::from_millis(9_000)), Duration::ZERO);
    /// ```
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// This timestamp moved `d` later, saturating at the end of time.
    ///
    /// ```
    /// use flags_rollout::Timestamp;
    /// use std::time::Duration;
    /// let t = Timestamp::from_millis(1_000) + Duration::from_secs(2);
    /// assert_eq!(t.as_millis(), 3_000);
    /// ```
    fn add(self, d: Duration) -> Timestamp {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match i64::try_from(self.0)
            .ok()
            .and_then(flags_manifest::UtcMillis::from_unix_millis)
        {
            Some(t) => t.fmt(f),
            // Past year 9999: no state file holds one (see `MAX_TIMESTAMP`), but a
            // clock may still show it.
            None => write!(f, "{} ms after 1970-01-01T00:00:00Z", self.0),
        }
    }
}

/// Where the controller reads the time.
///
/// ```
/// use flags_rollout::{Clock, SystemClock, Timestamp};
/// assert!(SystemClock.now() > Timestamp::from_millis(1_700_000_000_000));
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}

/// The machine's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        // A clock before 1970 is a misconfigured machine; reading it as the epoch keeps
        // the arithmetic total (soaks then simply take longer).
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Timestamp(ms)
    }
}

/// A clock that moves only when told: for tests, simulations and demos. Clones share
/// the same time.
///
/// ```
/// use flags_rollout::{Clock, ManualClock, Timestamp};
/// use std::time::Duration;
/// let clock = ManualClock::new(Timestamp::from_millis(0));
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), Timestamp::from_millis(90_000));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            ms: Arc::new(AtomicU64::new(start.0)),
        }
    }

    /// Moves the clock `d` forward.
    pub fn advance(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        // fetch_update never fails with a closure that always returns Some.
        let _ = self
            .ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(ms))
            });
    }

    /// Sets the clock to `t` (it may go back: the controller tolerates that).
    pub fn set(&self, t: Timestamp) {
        self.ms.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a year divisible by 400) at 23:59:59.999
        assert_eq!(
            Timestamp(951_868_799_999).to_string(),
            "2000-02-29T23:59:59.999Z"
        );
        assert_eq!(
            Timestamp(4_107_542_400_000).to_string(),
            "2100-03-01T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp(u64::MAX).to_string(),
            "18446744073709551615 ms after 1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp(5));
        assert_eq!(c.now(), Timestamp(5));
        c.advance(Duration::from_millis(10));
        assert_eq!(c.now(), Timestamp(15));
        c.set(Timestamp(1));
        assert_eq!(c.now(), Timestamp(1));
    }
}
