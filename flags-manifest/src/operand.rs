//! Constraint operands, parsed by the one implementation that both the manifest's
//! checks and the runtime's evaluation use: what the manifest accepts is exactly what
//! can match at run time.
//!
//! - [`parse_datetime`]: RFC 3339 date-times, for `date_after`/`date_before`;
//! - [`Version`] (borrowed, for context values) and [`SemVer`] (owned, for operands
//!   parsed once): semantic versions, for the `semver_*` operators;
//! - [`Cidr`]: address ranges, for `in_cidr`;
//! - [`parse_number`]: numbers, for the `num_*` operators;
//! - [`build_regex`] and [`check_regex`]: patterns, for the `regex` operator, within
//!   the limits [`REGEX_SIZE_LIMIT`], [`REGEX_DFA_SIZE_LIMIT`] and [`REGEX_NEST_LIMIT`].

use std::cmp::Ordering;
use std::net::IpAddr;

/// An instant as (seconds since 1970-01-01T00:00:00Z, nanoseconds).
pub type Instant = (i64, u32);

/// Parses an RFC 3339 date-time (`2026-05-01T12:30:00Z`, `…+02:00`, fractions of a
/// second), also accepting a plain date (midnight UTC), a space or lower-case `t`
/// before the time, a time without seconds and a time without offset (read as UTC).
pub fn parse_datetime(text: &str) -> Option<Instant> {
    let b = text.trim().as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter().try_fold(0u32, |acc, d| {
            acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let date = crate::Date::new(year, digits(5..7)?, digits(8..10)?).ok()?;
    let mut secs = date.to_epoch_days() * 86_400;
    if b.len() == 10 {
        return Some((secs, 0));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hour, minute) = (digits(11..13)?, digits(14..16)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = digits(i + 1..i + 3)?;
        i += 3;
    }
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..9 {
            nanos *= 10;
        }
    }
    // A leap second (:60) is read as the last nanosecond-aligned instant of :59.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    secs += i64::from(hour * 3600 + minute * 60 + second.min(59));
    match b.get(i) {
        None | Some(b'Z' | b'z') if b.len() <= i + 1 => {}
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (oh, om) = match rest.len() {
                2 => (digits(i + 1..i + 3)?, 0),
                4 => (digits(i + 1..i + 3)?, digits(i + 3..i + 5)?),
                5 if rest[2] == b':' => (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?),
                _ => return None,
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = i64::from(oh * 3600 + om * 60);
            secs += if sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    Some((secs, nanos))
}

/// A semantic version borrowed from its text: the numeric core and the pre-release
/// part (empty for a release). Build metadata is ignored. Ordered by semantic
/// versioning's precedence, without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    core: [u64; 3],
    pre: &'a str,
}

impl<'a> Version<'a> {
    /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]` (surrounding spaces ignored).
    pub fn parse(text: &'a str) -> Option<Version<'a>> {
        let text = text.trim();
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (core_text, pre) = match text.split_once('-') {
            Some((_, "")) => return None,
            Some((c, p)) => (c, p),
            None => (text, ""),
        };
        let mut core = [0u64; 3];
        let mut parts = core_text.split('.');
        for n in &mut core {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *n = p.parse().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(Version { core, pre })
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let (mut a, mut b) = (self.pre.split('.'), other.pre.split('.'));
                    loop {
                        match (a.next(), b.next()) {
                            (Some(x), Some(y)) => {
                                let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
                                    (Ok(x), Ok(y)) => x.cmp(&y),
                                    (Ok(_), Err(_)) => Ordering::Less,
                                    (Err(_), Ok(_)) => Ordering::Greater,
                                    (Err(_), Err(_)) => x.cmp(y),
                                };
                                if ord != Ordering::Equal {
                                    return ord;
                                }
                            }
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                        }
                    }
                }
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An address range (`10.0.0.0/8`, `2001:db8::/32`) or one address, for `in_cidr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// The network, host bits cleared, as a 128-bit number (IPv4 in the low 32 bits).
    network: u128,
    /// Leading bits that must match.
    prefix: u8,
    v6: bool,
}

fn ip_bits(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) stays IPv6, outside every
        // IPv4 range, as in Yggdrasil.
        IpAddr::V6(v6) => (u128::from(v6), true),
    }
}

fn mask(prefix: u8, v6: bool) -> u128 {
    let width = if v6 { 128 } else { 32 };
    let all = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    match u32::from(prefix) {
        0 => 0,
        p if p >= width => all,
        p => all & !(all >> p),
    }
}

impl Cidr {
    /// Parses `ADDRESS/PREFIX` or a lone address (no surrounding spaces, as in
    /// Yggdrasil). Host bits set in the address are ignored, as most tools do.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                (a, Some(p.parse::<u8>().ok()?))
            }
            Some(_) => return None,
            None => (text, None),
        };
        let (bits, v6) = ip_bits(addr.parse::<IpAddr>().ok()?);
        let width = if v6 { 128 } else { 32 };
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return None;
        }
        Some(Cidr {
            network: bits & mask(prefix, v6),
            prefix,
            v6,
        })
    }

    /// Whether `ip` (text) is a valid address inside the range.
    pub fn contains(&self, ip: &str) -> bool {
        let Ok(ip) = ip.parse::<IpAddr>() else {
            return false;
        };
        let (bits, v6) = ip_bits(ip);
        v6 == self.v6 && bits & mask(self.prefix, v6) == self.network
    }
}

/// A number operand or context value: Rust's float syntax after trimming spaces;
/// NaN is not a number here (it would compare false with everything).
///
/// ```
/// use flags_manifest::operand::parse_number;
/// assert_eq!(parse_number(" 18.5 "), Some(18.5));
/// assert_eq!(parse_number("NaN"), None);
/// assert_eq!(parse_number("12 years"), None);
/// ```
#[must_use]
pub fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| !n.is_nan())
}

/// A semantic version owned, parsed once (a rule's operand): compared with
/// borrowed [`Version`]s without parsing again.
///
/// ```
/// use flags_manifest::operand::{SemVer, Version};
/// let operand = SemVer::parse("1.2.3-rc.1").unwrap();
/// assert!(operand.as_version() < Version::parse("1.2.3").unwrap());
/// assert!(SemVer::parse("1.2").is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemVer {
    core: [u64; 3],
    pre: Box<str>,
}

impl SemVer {
    /// Parses as [`Version::parse`] does.
    #[must_use]
    pub fn parse(text: &str) -> Option<SemVer> {
        let v = Version::parse(text)?;
        Some(SemVer {
            core: v.core,
            pre: Box::from(v.pre),
        })
    }

    /// The version, borrowed.
    #[must_use]
    pub fn as_version(&self) -> Version<'_> {
        Version {
            core: self.core,
            pre: &self.pre,
        }
    }
}

/// Most bytes of the compiled program of one `regex` operand: the `regex` crate's
/// default, which Unleash's engine uses too, so both accept the same patterns.
pub const REGEX_SIZE_LIMIT: usize = 10 * (1 << 20);

/// Most bytes of one `regex` operand's lazy-DFA cache, per thread (the `regex`
/// crate's default).
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * (1 << 20);

/// Deepest nesting of groups and repetitions in a `regex` operand (the `regex`
/// crate's default).
pub const REGEX_NEST_LIMIT: u32 = 250;

/// Compiles a `regex` operand within the limits above: the one builder that both the
/// manifest check and the run-time evaluation use, so a pattern accepted here
/// behaves the same there.
///
/// # Errors
///
/// The `regex` crate's error when the pattern does not compile within the limits.
pub fn build_regex(pattern: &str, case_insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Whether `pattern` compiles as a `regex` constraint operand: the `regex` crate's
/// syntax, within [`REGEX_SIZE_LIMIT`]. `Err` says what is wrong, on one line.
///
/// ```
/// assert!(flags_manifest::check_regex("^user-[0-9]+$", false).is_ok());
/// assert!(flags_manifest::check_regex("(unclosed", false).is_err());
/// assert!(flags_manifest::check_regex("a{1000}{1000}", false).is_err());
/// ```
pub fn check_regex(pattern: &str, case_insensitive: bool) -> Result<(), String> {
    build_regex(pattern, case_insensitive)
        .map(drop)
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "it compiles to more than {limit} bytes; simplify it (fewer or smaller repetitions)"
            ),
            // The syntax error's own text spans several lines with a caret; its last
            // line says what is wrong.
            other => other
                .to_string()
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map_or_else(String::new, |l| {
                    l.trim().trim_start_matches("error: ").to_owned()
                }),
        })
}
