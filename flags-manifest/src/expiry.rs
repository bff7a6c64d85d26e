//! Expiry: whether a flag is fine, expiring soon or stale on a given day, under the
//! manifest's policy. The macro, `cargo flags lint` and the report all ask here.

use crate::date::Date;
use crate::model::{ExpiryPolicy, Flag, Settings};

/// A flag's expiry state on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryState {
    /// No expiry date (a permanent flag).
    Permanent,
    /// Expires later than the warn-ahead window.
    Fine {
        /// Days until it expires.
        days_left: i64,
    },
    /// Expires within the warn-ahead window (today included).
    ExpiringSoon {
        /// Days until it expires (0 = today is the last day).
        days_left: i64,
    },
    /// Past its date; under the policy a warning.
    Stale {
        /// Days since it expired (from 1).
        days_over: i64,
    },
    /// Past its date and past the grace period under `expiry = "error"`.
    StaleError {
        /// Days since it expired.
        days_over: i64,
    },
}

/// The expiry state of `flag` on `today` under `settings`. A flag expires at the end of
/// its `expires` day: on that day it is still "expiring soon", the day after it is stale.
///
/// ```
/// use flags_manifest::{expiry_state, ExpiryState, Date};
/// let m = flags_manifest::parse_str(r#"
/// [flags.x]
/// description = "d"
/// owner = "o"
/// expires = 2027-01-10
/// "#, "flags.toml").unwrap();
/// let on = |s: &str| expiry_state(&m.flags[0], &m.settings, s.parse::<Date>().unwrap());
/// assert_eq!(on("2027-01-10"), ExpiryState::ExpiringSoon { days_left: 0 });
/// assert_eq!(on("2027-01-11"), ExpiryState::Stale { days_over: 1 });
/// ```
pub fn expiry_state(flag: &Flag, settings: &Settings, today: Date) -> ExpiryState {
    let Some(expires) = flag.expires else {
        return ExpiryState::Permanent;
    };
    let days_left = today.days_until(expires);
    if days_left >= 0 {
        if days_left <= i64::from(settings.warn_ahead_days) {
            ExpiryState::ExpiringSoon { days_left }
        } else {
            ExpiryState::Fine { days_left }
        }
    } else {
        let days_over = -days_left;
        match settings.expiry {
            ExpiryPolicy::Error { grace_days } if days_over > i64::from(grace_days) => {
                ExpiryState::StaleError { days_over }
            }
            _ => ExpiryState::Stale { days_over },
        }
    }
}
