//! The workspace's one calendar: a validated `YYYY-MM-DD` [`Date`] with day
//! arithmetic (expiry dates, date operands), [`UtcMillis`] for instants written as
//! RFC 3339 (the rollout state and audit log, Unleash metrics), and the rule that
//! decides what "today" is for a build. The day/date conversions are Howard Hinnant's
//! public-domain algorithms; nothing heavier is needed for UTC without time zones.

use std::fmt;
use std::str::FromStr;

/// A proleptic Gregorian calendar date, validated at construction (no 2026-02-30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// Not of the form `YYYY-MM-DD`.
    #[error("`{0}` is not a date of the form YYYY-MM-DD")]
    Format(String),
    /// The form is right but the day does not exist.
    #[error("{year:04}-{month:02}-{day:02} is not a day of the calendar")]
    NoSuchDay {
        /// Year as written.
        year: i32,
        /// Month as written.
        month: u32,
        /// Day as written.
        day: u32,
    },
}

const fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date, refusing days that do not exist.
    ///
    /// ```
    /// use flags_manifest::Date;
    /// assert!(Date::new(2028, 2, 29).is_ok());
    /// assert!(Date::new(2026, 2, 30).is_err());
    /// ```
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        let bad = DateError::NoSuchDay { year, month, day };
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad);
        }
        let month8 = month as u8;
        if day == 0 || day > u32::from(days_in_month(year, month8)) {
            return Err(bad);
        }
        Ok(Date {
            year,
            month: month8,
            day: day as u8,
        })
    }

    /// A date known to exist, for constants (generated code emits only dates the
    /// manifest parser accepted).
    ///
    /// # Panics
    ///
    /// On a day that does not exist; in a constant that is a compile error.
    ///
    /// ```
    /// use flags_manifest::Date;
    /// const END: Date = Date::ymd(2099, 12, 31);
    /// assert_eq!(END.to_string(), "2099-12-31");
    /// ```
    #[must_use]
    pub const fn ymd(year: i32, month: u32, day: u32) -> Date {
        assert!(
            year >= 1 && year <= 9999 && month >= 1 && month <= 12,
            "no such date"
        );
        // In range after the check above.
        #[allow(clippy::cast_possible_truncation)]
        let month = month as u8;
        assert!(
            day >= 1 && day <= days_in_month(year, month) as u32,
            "no such date"
        );
        #[allow(clippy::cast_possible_truncation)]
        let day = day as u8;
        Date { year, month, day }
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.year
    }
    /// Month, 1 to 12.
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    /// Day of the month, from 1.
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn to_epoch_days(self) -> i64 {
        // Howard Hinnant's days_from_civil, a public-domain calendar algorithm.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01; `None` outside years 1 to 9999.
    ///
    /// ```
    /// use flags_manifest::Date;
    /// let d = Date::from_epoch_days(20_000).unwrap();
    /// assert_eq!(d.to_string(), "2024-10-04");
    /// assert_eq!(d.to_epoch_days(), 20_000);
    /// ```
    pub fn from_epoch_days(days: i64) -> Option<Date> {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let year = i32::try_from(year).ok()?;
        Date::new(year, month as u32, day as u32).ok()
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i64 {
        other.to_epoch_days() - self.to_epoch_days()
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Date, DateError> {
        let format = || DateError::Format(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(format());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| format())
            } else {
                Err(format())
            }
        };
        let year = num(0..4)?;
        Date::new(year as i32, num(5..7)?, num(8..10)?)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An instant in UTC to the millisecond, between years 1 and 9999, written as RFC 3339
/// with milliseconds and `Z`.
///
/// ```
/// use flags_manifest::UtcMillis;
///
/// let t = UtcMillis::from_unix_millis(1_776_159_000_123).unwrap();
/// assert_eq!(t.to_string(), "2026-04-14T09:30:00.123Z");
/// assert_eq!(t.date().to_string(), "2026-04-14");
/// assert_eq!(UtcMillis::from_unix_millis(-1).unwrap().to_string(), "1969-12-31T23:59:59.999Z");
/// assert!(UtcMillis::from_unix_millis(i64::MAX).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcMillis {
    date: Date,
    /// Milliseconds since the day's midnight, below 86,400,000.
    ms_of_day: u32,
}

impl UtcMillis {
    const MS_PER_DAY: i64 = 86_400_000;

    /// The instant `ms` milliseconds after 1970-01-01T00:00:00Z (before it when
    /// negative); `None` outside years 1 to 9999.
    pub fn from_unix_millis(ms: i64) -> Option<UtcMillis> {
        let date = Date::from_epoch_days(ms.div_euclid(Self::MS_PER_DAY))?;
        let ms_of_day = u32::try_from(ms.rem_euclid(Self::MS_PER_DAY)).ok()?;
        Some(UtcMillis { date, ms_of_day })
    }

    /// The instant `t`, truncated to the millisecond; `None` outside years 1 to 9999.
    ///
    /// ```
    /// use flags_manifest::UtcMillis;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let t = UNIX_EPOCH + Duration::from_micros(951_782_400_005_999);
    /// assert_eq!(UtcMillis::from_system_time(t).unwrap().to_string(), "2000-02-29T00:00:00.005Z");
    /// ```
    pub fn from_system_time(t: std::time::SystemTime) -> Option<UtcMillis> {
        let ms = match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_millis()).ok()?,
            // Before the epoch: round away from it, so truncation is towards the past.
            Err(e) => {
                let before = e.duration();
                let ms = i64::try_from(before.as_millis()).ok()?;
                let partial = before.as_nanos() % 1_000_000 != 0;
                -ms - i64::from(partial)
            }
        };
        UtcMillis::from_unix_millis(ms)
    }

    /// The day, in UTC.
    pub fn date(self) -> Date {
        self.date
    }
}

impl fmt::Display for UtcMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.ms_of_day;
        write!(
            f,
            "{}T{:02}:{:02}:{:02}.{:03}Z",
            self.date,
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        )
    }
}

/// Where "today" came from when deciding expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TodaySource {
    /// The `FLAGS_TODAY` variable (`YYYY-MM-DD`).
    FlagsToday,
    /// The `SOURCE_DATE_EPOCH` variable (seconds since 1970), for reproducible builds.
    SourceDateEpoch,
    /// The system clock.
    Clock,
}

/// Decides today's date: `FLAGS_TODAY` if set, else `SOURCE_DATE_EPOCH`, else the
/// clock. Values are passed in so callers (the macro, the CLI, tests) choose how they
/// read the environment. A set but malformed variable is an error naming it, never a
/// silent fallback.
///
/// ```
/// use flags_manifest::{today, TodaySource};
/// let (d, src) = today(Some("2027-01-02"), Some("0")).unwrap();
/// assert_eq!((d.to_string().as_str(), src), ("2027-01-02", TodaySource::FlagsToday));
/// let (d, _) = today(None, Some("86400")).unwrap();
/// assert_eq!(d.to_string(), "1970-01-02");
/// assert!(today(Some("2027-13-01"), None).is_err());
/// ```
pub fn today(
    flags_today: Option<&str>,
    source_date_epoch: Option<&str>,
) -> Result<(Date, TodaySource), String> {
    if let Some(v) = flags_today.filter(|v| !v.trim().is_empty()) {
        return v
            .trim()
            .parse::<Date>()
            .map(|d| (d, TodaySource::FlagsToday))
            .map_err(|e| format!("FLAGS_TODAY: {e}"));
    }
    if let Some(v) = source_date_epoch.filter(|v| !v.trim().is_empty()) {
        let secs: i64 = v.trim().parse().map_err(|_| {
            format!("SOURCE_DATE_EPOCH: `{v}` is not a whole number of seconds since 1970")
        })?;
        return Date::from_epoch_days(secs.div_euclid(86_400))
            .map(|d| (d, TodaySource::SourceDateEpoch))
            .ok_or_else(|| format!("SOURCE_DATE_EPOCH: `{v}` is outside years 1 to 9999"));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Date::from_epoch_days(secs / 86_400)
        .map(|d| (d, TodaySource::Clock))
        .ok_or_else(|| "the system clock is outside years 1 to 9999".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_impossible_days() {
        for bad in [
            "2026-02-29",
            "2026-02-30",
            "2026-04-31",
            "2026-00-10",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "2026-01-0x",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!("2024-02-29".parse::<Date>().is_ok());
        assert!("2000-02-29".parse::<Date>().is_ok());
        assert!("1900-02-29".parse::<Date>().is_err());
    }

    #[test]
    fn epoch_anchor() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().to_epoch_days(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().to_epoch_days(), 11_017);
    }

    #[test]
    fn instants_as_rfc_3339() {
        let at = |ms: i64| UtcMillis::from_unix_millis(ms).map(|t| t.to_string());
        assert_eq!(at(0).as_deref(), Some("1970-01-01T00:00:00.000Z"));
        assert_eq!(
            at(951_868_799_999).as_deref(),
            Some("2000-02-29T23:59:59.999Z")
        );
        assert_eq!(
            at(4_107_542_400_000).as_deref(),
            Some("2100-03-01T00:00:00.000Z")
        );
        assert_eq!(
            at(253_402_300_799_999).as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(at(253_402_300_800_000), None);
        assert_eq!(
            at(-62_135_596_800_000).as_deref(),
            Some("0001-01-01T00:00:00.000Z")
        );
        assert_eq!(at(-62_135_596_800_001), None);
        let before = std::time::UNIX_EPOCH - std::time::Duration::from_micros(1_500);
        assert_eq!(
            UtcMillis::from_system_time(before)
                .map(|t| t.to_string())
                .as_deref(),
            Some("1969-12-31T23:59:59.998Z")
        );
    }

    proptest! {
        #[test]
        fn epoch_days_round_trip(days in -700_000i64..2_900_000) {
            let d = Date::from_epoch_days(days).unwrap();
            prop_assert_eq!(d.to_epoch_days(), days);
            prop_assert_eq!(d.to_string().parse::<Date>().unwrap(), d);
            let next = Date::from_epoch_days(days + 1).unwrap();
            prop_assert!(next > d);
        }
    }
}
