//! What served a request and how it went: the [`Side`] and the [`Outcome`] that
//! `#[feature_gate(.., measure)]` and the rollout controller record. Plain data with no
//! dependency inside the crate, so that the outcome routing ([`crate::outcome`]) and
//! the counters ([`crate::measure`]) share it without importing each other.

use std::time::Duration;

/// Which implementation served a request.
///
/// # Examples
///
/// ```
/// use flags_runtime::Side;
///
/// assert_eq!(Side::from_bool(true), Side::Treatment);
/// assert_eq!(Side::from_bool(false), Side::Control);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The flag was on: the new code ran.
    Treatment,
    /// The flag was off: the old code ran.
    Control,
}

impl Side {
    /// The side for a flag value: `true` is [`Side::Treatment`]. A caller that knows
    /// which branch ran records without thinking about it.
    #[inline]
    #[must_use]
    pub const fn from_bool(on: bool) -> Side {
        if on { Side::Treatment } else { Side::Control }
    }
}

/// What happened to one request: whether it succeeded and how long it took.
///
/// # Examples
///
/// ```
/// use flags_runtime::Outcome;
/// use std::time::Duration;
///
/// assert!(Outcome::ok(Duration::from_millis(3)).ok);
/// assert!(!Outcome::error(Duration::from_millis(3)).ok);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `false` for an error (the caller decides what counts as one).
    pub ok: bool,
    /// Time to serve the request.
    pub latency: Duration,
}

impl Outcome {
    /// A successful request.
    #[inline]
    #[must_use]
    pub const fn ok(latency: Duration) -> Outcome {
        Outcome { ok: true, latency }
    }

    /// A failed request.
    #[inline]
    #[must_use]
    pub const fn error(latency: Duration) -> Outcome {
        Outcome { ok: false, latency }
    }
}
