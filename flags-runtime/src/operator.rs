//! The comparisons behind constraint operators, written to run on borrowed text
//! without allocating after warm-up: Unicode case-insensitive string matching, regular
//! expressions, RFC 3339 date-times, semantic versions and address ranges. Operands
//! from the rules are prepared once (lower-cased, parsed, compiled) when rules are
//! compiled; context values are read in place on every evaluation.
//!
//! # Cost
//!
//! Every operator costs time linear in its input, and there is no length limit on
//! operands or context values (Unleash's engine sets none):
//!
//! - `str_*` and `in`/`not_in`: O(value + operands). Case-insensitive matching
//!   lower-cases the value once into a reused per-thread buffer, then searches with
//!   the standard library's two-way `str::contains` (linear, whatever the needle).
//! - `regex`: the `regex` crate (the engine Yggdrasil uses), whose matching is
//!   O(pattern × value) in the worst case and never backtracks. A pattern is compiled
//!   once, with [`flags_manifest::REGEX_SIZE_LIMIT`] on the compiled program, [`flags_manifest::REGEX_DFA_SIZE_LIMIT`]
//!   on the lazy DFA's cache and [`flags_manifest::REGEX_NEST_LIMIT`] on nesting (the `regex` crate's
//!   own defaults, so every pattern Yggdrasil accepts is accepted here too). A pattern
//!   over a limit does not compile and never matches, as in Yggdrasil.
//! - numbers, dates, versions and address ranges: one parse of the value, O(value).

use std::cell::RefCell;
use std::fmt;

pub(crate) use flags_manifest::operand::{Cidr, Instant, Version, parse_datetime};

/// The lower-case form used for case-insensitive matching of operands (compiled
/// once): `str::to_lowercase`, what Yggdrasil compares.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

thread_local! {
    /// The lower-cased context value of the current case-insensitive comparison,
    /// reused so that comparisons stop allocating once it has grown.
    static FOLDED: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f` on `text` lower-cased exactly as `str::to_lowercase` does, without
/// allocating once the per-thread buffer is large enough.
pub(crate) fn with_folded<R>(text: &str, mut f: impl FnMut(&str) -> R) -> R {
    if text.is_ascii() && !text.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(text);
    }
    // `str::to_lowercase` maps a capital sigma by its position in a word, which the
    // character-wise loop below cannot see: such (rare) values take the allocating
    // form.
    if text.contains('\u{3a3}') {
        return f(&text.to_lowercase());
    }
    let done = FOLDED
        .try_with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            buf.clear();
            if text.is_ascii() {
                buf.push_str(text);
                buf.make_ascii_lowercase();
            } else {
                buf.extend(text.chars().flat_map(char::to_lowercase));
            }
            Some(f(&buf))
        })
        .ok()
        .flatten();
    match done {
        Some(r) => r,
        // Thread-local storage is gone (thread teardown), or in use: allocate.
        None => f(&text.to_lowercase()),
    }
}

/// A compiled `regex` operand; equal when written the same.
#[derive(Clone)]
pub(crate) struct Pattern {
    re: regex::Regex,
    case_insensitive: bool,
}

impl Pattern {
    /// Compiles `pattern` within the size limits; `None` when it does not compile.
    pub(crate) fn new(pattern: &str, case_insensitive: bool) -> Option<Pattern> {
        flags_manifest::build_regex(pattern, case_insensitive)
            .ok()
            .map(|re| Pattern {
                re,
                case_insensitive,
            })
    }

    /// Whether the pattern matches anywhere in `text`.
    #[inline]
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.re.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.re.as_str() == other.re.as_str() && self.case_insensitive == other.case_insensitive
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.re.as_str())?;
        if self.case_insensitive {
            f.write_str("i")?;
        }
        Ok(())
    }
}

/// The current time as an [`Instant`].
pub(crate) fn now() -> Instant {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (secs, 0),
                n => (secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

/// `at` as Yggdrasil writes the current time for a context without `currentTime`
/// (`2026-05-01T12:30:00Z`: seconds, UTC), in a buffer on the stack.
pub(crate) struct TimeText([u8; 20]);

impl TimeText {
    pub(crate) fn new(at: Instant) -> Option<TimeText> {
        let days = at.0.div_euclid(86_400);
        let secs = at.0.rem_euclid(86_400);
        let date = flags_manifest::Date::from_epoch_days(days)?;
        let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
        let mut b = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, width: usize, mut n: u32| {
            for i in (at..at + width).rev() {
                // A decimal digit: `n % 10` is below 10.
                b[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, date.month());
        put(8, 2, date.day());
        // Below 86,400, so the casts are exact.
        put(11, 2, (secs / 3600) as u32);
        put(14, 2, (secs / 60 % 60) as u32);
        put(17, 2, (secs % 60) as u32);
        Some(TimeText(b))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII digits and separators are written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_insensitive_matching() {
        let starts = |hay: &str, needle: &str| with_folded(hay, |h| h.starts_with(&*fold(needle)));
        let ends = |hay: &str, needle: &str| with_folded(hay, |h| h.ends_with(&*fold(needle)));
        let contains = |hay: &str, needle: &str| with_folded(hay, |h| h.contains(&*fold(needle)));
        assert!(starts("ÉCOLE normale", "école"));
        assert!(ends("user@EXAMPLE.com", "@example.COM"));
        assert!(!ends("m", "om"));
        assert!(contains("The Quick Brown", "quick b"));
        assert!(!contains("The Quick Brown", "quick z"));
        assert!(contains("", ""));
        assert!(!contains("", "a"));
        // 'İ' lower-cases to two chars ("i̇"); folding both sides keeps them comparable.
        assert!(starts("İstanbul", "İst"));
        assert!(ends("xİ", "İ"));
    }

    #[test]
    fn current_time_text() {
        let t = instant("2024-02-29T12:30:15.5Z");
        assert_eq!(TimeText::new(t).unwrap().as_str(), "2024-02-29T12:30:15Z");
        assert_eq!(
            TimeText::new((0, 0)).unwrap().as_str(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            TimeText::new(instant("1969-12-31T23:59:59Z"))
                .unwrap()
                .as_str(),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn folding_is_str_to_lowercase() {
        for text in [
            "",
            "abc",
            "ABC",
            "MiXeD 123",
            "İstanbul",
            "ΟΔΟΣ",
            "ΣΑΣ x",
            "Σ",
            "straße",
            "ǅ",
            "😀Ä",
        ] {
            assert_eq!(
                with_folded(text, str::to_owned),
                text.to_lowercase(),
                "{text}"
            );
        }
    }

    fn instant(s: &str) -> Instant {
        match parse_datetime(s) {
            Some(v) => v,
            None => panic!("{s} should parse"),
        }
    }

    #[test]
    fn datetimes() {
        assert_eq!(instant("1970-01-01T00:00:00Z"), (0, 0));
        assert_eq!(instant("1970-01-01"), (0, 0));
        assert_eq!(instant("1970-01-01T01:00:00+01:00"), (0, 0));
        assert_eq!(instant("1969-12-31T23:00:00-01:00"), (0, 0));
        assert_eq!(
            instant("2024-02-29T12:30:15.5Z"),
            (1_709_209_815, 500_000_000)
        );
        assert_eq!(instant("2024-02-29t12:30:15.123456789123z").1, 123_456_789);
        assert_eq!(instant("2024-02-29 12:30Z"), (1_709_209_800, 0));
        assert_eq!(
            instant("2024-02-29T12:30:15"),
            instant("2024-02-29T12:30:15Z")
        );
        assert_eq!(
            instant("2024-02-29T12:30:15+0200"),
            instant("2024-02-29T10:30:15Z")
        );
        assert!(instant("2024-03-01T00:00:00.001Z") > instant("2024-03-01T00:00:00Z"));
        for bad in [
            "",
            "2024-02-30",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00Q",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+1",
            "2024-01-01X00:00",
            "24-01-01",
            "not a date",
            "2024-01-01T00:00:00Zjunk",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn versions() {
        let v = |s| Version::parse(s).unwrap_or_else(|| panic!("{s} parses"));
        assert!(v("1.2.3-rc.1") < v("1.2.3"));
        assert!(v("1.2.3-alpha") < v("1.2.3-alpha.1"));
        assert!(v("1.2.3-alpha.1") < v("1.2.3-alpha.beta"));
        assert!(v("1.2.3-2") < v("1.2.3-11"));
        assert!(v("1.10.0") > v("1.9.9"));
        assert_eq!(v("1.2.3+build.7"), v("1.2.3"));
        assert_eq!(Version::parse("1.2"), None);
        assert_eq!(Version::parse("1.2.3-"), None);
        assert_eq!(Version::parse("1.2.x"), None);
        assert_eq!(Version::parse("1.2.3.4"), None);
    }

    #[test]
    fn cidr_ranges() {
        let c = |s: &str| Cidr::parse(s).unwrap_or_else(|| panic!("{s} parses"));
        assert!(c("10.0.0.0/8").contains("10.255.1.2"));
        assert!(!c("10.0.0.0/8").contains("11.0.0.1"));
        assert!(c("10.1.2.3/8").contains("10.9.9.9"), "host bits ignored");
        assert!(c("192.168.1.7").contains("192.168.1.7"));
        // Spaces are not trimmed, as in Yggdrasil.
        assert!(!c("192.168.1.7").contains(" 192.168.1.7 "));
        assert!(!c("192.168.1.7").contains("192.168.1.8"));
        assert!(c("0.0.0.0/0").contains("8.8.8.8"));
        assert!(!c("0.0.0.0/0").contains("::1"));
        assert!(c("2001:db8::/32").contains("2001:db8:1::5"));
        assert!(!c("2001:db8::/32").contains("2001:db9::5"));
        // An IPv4-mapped IPv6 address is not in an IPv4 range, as in Yggdrasil.
        assert!(!c("10.0.0.0/8").contains("::ffff:10.1.1.1"));
        assert!(c("::/0").contains("fe80::1"));
        assert!(!c("10.0.0.0/8").contains("not an ip"));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/x",
            "host",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn cidr_matches_prefix_arithmetic(a in any::<u32>(), b in any::<u32>(), p in 0u8..=32) {
            let net = std::net::Ipv4Addr::from(a);
            let ip = std::net::Ipv4Addr::from(b);
            let Some(c) = Cidr::parse(&format!("{net}/{p}")) else {
                return Err(TestCaseError::fail("valid range"));
            };
            let same = p == 0 || (a >> (32 - u32::from(p))) == (b >> (32 - u32::from(p)));
            prop_assert_eq!(c.contains(&ip.to_string()), same);
        }

        #[test]
        fn owned_operands_order_as_borrowed_versions(
            a in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2})?",
            b in "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2})?",
        ) {
            let (Some(x), Some(y)) = (Version::parse(&a), Version::parse(&b)) else {
                return Err(TestCaseError::fail("generated versions parse"));
            };
            // A rule's operand is parsed once into the owned form; it must compare as
            // the borrowed version of the same text.
            let Some(operand) = flags_manifest::operand::SemVer::parse(&b) else {
                return Err(TestCaseError::fail("the owned form parses it too"));
            };
            prop_assert_eq!(x.cmp(&operand.as_version()), x.cmp(&y));
        }

        #[test]
        fn folding_matches_the_standard_library(s in ".{0,40}") {
            prop_assert_eq!(with_folded(&s, str::to_owned), s.to_lowercase());
        }

        #[test]
        fn any_text_is_handled(s in ".{0,40}") {
            let _ = parse_datetime(&s);
            let _ = Version::parse(&s);
            let _ = Cidr::parse(&s);
        }

        #[test]
        fn datetime_round_trip(days in -700_000i64..2_900_000, secs in 0i64..86_400, off in -23i64..=23) {
            let Some(date) = flags_manifest::Date::from_epoch_days(days) else {
                return Err(TestCaseError::reject("outside years 1..9999"));
            };
            let text = format!(
                "{date}T{:02}:{:02}:{:02}{}{:02}:00",
                secs / 3600, secs % 3600 / 60, secs % 60,
                if off < 0 { '-' } else { '+' }, off.abs()
            );
            prop_assert_eq!(parse_datetime(&text), Some((days * 86_400 + secs - off * 3600, 0)));
        }
    }
}
