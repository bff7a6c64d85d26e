//! Expiry in words and classes: the phrases `lint`, `report` and `explain` print for
//! a flag's [`ExpiryState`], so the three say the same thing the same way.

use flags_manifest::{ExpiryState, Flag};

/// The four buckets a report colours expiry by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryClass {
    /// No expiry date.
    Permanent,
    /// Expires later than the warn-ahead window.
    Fine,
    /// Expires within the warn-ahead window.
    Soon,
    /// Past its date.
    Stale,
}

impl ExpiryClass {
    /// The class of a state.
    pub fn of(state: ExpiryState) -> ExpiryClass {
        match state {
            ExpiryState::Permanent => ExpiryClass::Permanent,
            ExpiryState::Fine { .. } => ExpiryClass::Fine,
            ExpiryState::ExpiringSoon { .. } => ExpiryClass::Soon,
            ExpiryState::Stale { .. } | ExpiryState::StaleError { .. } => ExpiryClass::Stale,
        }
    }

    /// The class in words.
    pub fn label(self) -> &'static str {
        match self {
            ExpiryClass::Permanent => "permanent",
            ExpiryClass::Fine => "fine",
            ExpiryClass::Soon => "expiring soon",
            ExpiryClass::Stale => "stale",
        }
    }

    /// A one-word identifier (CSS class, JSON value).
    pub fn id(self) -> &'static str {
        match self {
            ExpiryClass::Permanent => "permanent",
            ExpiryClass::Fine => "fine",
            ExpiryClass::Soon => "soon",
            ExpiryClass::Stale => "stale",
        }
    }
}

/// `1 day`, `12 days`.
pub fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

/// When the flag expires relative to today: `expired on 2026-01-31, 12 days ago`,
/// `expires today (2026-06-01)`, `expires on 2026-06-10, in 9 days`, `never expires`.
pub fn phrase(flag: &Flag, state: ExpiryState) -> String {
    let Some(date) = flag.expires else {
        return "never expires".to_owned();
    };
    match state {
        ExpiryState::Permanent => "never expires".to_owned(),
        ExpiryState::Fine { days_left } | ExpiryState::ExpiringSoon { days_left } => {
            if days_left == 0 {
                format!("expires today ({date})")
            } else {
                format!("expires on {date}, in {}", days(days_left))
            }
        }
        ExpiryState::Stale { days_over } | ExpiryState::StaleError { days_over } => {
            format!("expired on {date}, {} ago", days(days_over))
        }
    }
}

/// The distance to or past the date: `in 9 days`, `last day today`, `12 days ago`,
/// `permanent`.
pub fn distance(state: ExpiryState) -> String {
    match state {
        ExpiryState::Permanent => "permanent".to_owned(),
        ExpiryState::Fine { days_left } | ExpiryState::ExpiringSoon { days_left } => {
            if days_left == 0 {
                "last day today".to_owned()
            } else {
                format!("in {}", days(days_left))
            }
        }
        ExpiryState::Stale { days_over } | ExpiryState::StaleError { days_over } => {
            format!("{} ago", days(days_over))
        }
    }
}

/// `flag `x` (owner: team-a) expired on ...`: the subject of lint's expiry findings,
/// worded as the `flags!` macro words its deprecation note.
pub fn sentence(flag: &Flag, state: ExpiryState) -> String {
    format!(
        "flag `{}` (owner: {}) {}",
        flag.name,
        flag.owner,
        phrase(flag, state)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags_manifest::{Date, expiry_state};

    #[test]
    fn phrases_follow_the_state() {
        let m = flags_manifest::parse_str(
            "[settings]\nwarn_ahead_days = 10\n[flags.x]\ndescription = \"d\"\nowner = \"team-a\"\nexpires = 2026-06-10\n",
            "flags.toml",
        )
        .unwrap();
        let f = &m.flags[0];
        let on = |d: &str| {
            let s = expiry_state(f, &m.settings, d.parse::<Date>().unwrap());
            (ExpiryClass::of(s), sentence(f, s))
        };
        assert_eq!(
            on("2026-05-01"),
            (
                ExpiryClass::Fine,
                "flag `x` (owner: team-a) expires on 2026-06-10, in 40 days".to_owned()
            )
        );
        assert_eq!(
            on("2026-06-09"),
            (
                ExpiryClass::Soon,
                "flag `x` (owner: team-a) expires on 2026-06-10, in 1 day".to_owned()
            )
        );
        assert_eq!(
            on("2026-06-10").1,
            "flag `x` (owner: team-a) expires today (2026-06-10)"
        );
        assert_eq!(
            on("2026-06-22"),
            (
                ExpiryClass::Stale,
                "flag `x` (owner: team-a) expired on 2026-06-10, 12 days ago".to_owned()
            )
        );
    }
}
