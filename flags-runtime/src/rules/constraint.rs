//! Compiled constraints: operands parsed and case-folded once, tested against a
//! context's value in place.

use crate::context::{Attr, Context};
use crate::operator::{self, Cidr, Instant, Pattern, Version};
use flags_manifest::operand::{SemVer, parse_number};
use flags_manifest::{Constraint, Operator};
use std::cmp::Ordering;

#[derive(Clone, Debug, PartialEq)]
pub(super) struct CConstraint {
    attribute: Box<str>,
    test: Test,
    inverted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Test {
    In(Box<[Box<str>]>),
    NotIn(Box<[Box<str>]>),
    Str {
        op: StrOp,
        /// Case-folded when `case_insensitive`.
        values: Box<[Box<str>]>,
        case_insensitive: bool,
    },
    Num {
        op: Operator,
        value: f64,
    },
    Date {
        after: bool,
        at: Instant,
    },
    Semver {
        op: Operator,
        /// The operand, parsed once when the rules are compiled.
        value: SemVer,
    },
    Regex(Pattern),
    Cidr(Box<[Cidr]>),
    /// An operand that does not parse for its operator: never true (before `inverted`),
    /// as in Unleash.
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum StrOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl CConstraint {
    #[inline]
    pub(super) fn holds(&self, ctx: &Context) -> bool {
        let attr = ctx.lookup(&self.attribute);
        if attr.is_none() && &*self.attribute == "currentTime" {
            // Yggdrasil reads a missing `currentTime` as the time of evaluation, in
            // whole seconds, for every operator (dates, strings, lists).
            let now = operator::now();
            return match operator::TimeText::new(now) {
                Some(text) => self.holds_on(Some(text.as_str()), None, Some(now)),
                None => self.holds_on(None, None, None),
            };
        }
        self.holds_on(attr.map(Attr::text), attr.and_then(Attr::number), None)
    }

    /// The test on a value given as text, its number (when it is one) and, for a
    /// defaulted `currentTime`, the instant it stands for.
    #[inline]
    fn holds_on(&self, text: Option<&str>, number: Option<f64>, now: Option<Instant>) -> bool {
        let result = match &self.test {
            Test::In(values) => text.is_some_and(|t| values.iter().any(|v| **v == *t)),
            Test::NotIn(values) => !text.is_some_and(|t| values.iter().any(|v| **v == *t)),
            Test::Str {
                op,
                values,
                case_insensitive,
            } => text.is_some_and(|value| {
                // Linear in the value and the operands: `str::contains` is two-way.
                let test = |text: &str| {
                    values.iter().any(|v| match op {
                        StrOp::Contains => text.contains(&**v),
                        StrOp::StartsWith => text.starts_with(&**v),
                        StrOp::EndsWith => text.ends_with(&**v),
                    })
                };
                if *case_insensitive {
                    operator::with_folded(value, test)
                } else {
                    test(value)
                }
            }),
            Test::Num { op, value } => number.is_some_and(|n| match op {
                // Within an epsilon, as Yggdrasil compares.
                Operator::NumEq => (n - *value).abs() < f64::EPSILON,
                Operator::NumGt => n > *value,
                Operator::NumGte => n >= *value,
                Operator::NumLt => n < *value,
                Operator::NumLte => n <= *value,
                _ => false,
            }),
            Test::Date { after, at } => {
                let when = now.or_else(|| text.and_then(operator::parse_datetime));
                when.is_some_and(|t| if *after { t > *at } else { t < *at })
            }
            Test::Semver { op, value } => match text.and_then(Version::parse) {
                Some(have) => {
                    let ord = have.cmp(&value.as_version());
                    match op {
                        Operator::SemverEq => ord == Ordering::Equal,
                        Operator::SemverGt => ord == Ordering::Greater,
                        Operator::SemverGte => ord != Ordering::Less,
                        Operator::SemverLt => ord == Ordering::Less,
                        Operator::SemverLte => ord != Ordering::Greater,
                        _ => false,
                    }
                }
                _ => false,
            },
            Test::Regex(re) => text.is_some_and(|t| re.is_match(t)),
            Test::Cidr(ranges) => text.is_some_and(|t| ranges.iter().any(|r| r.contains(t))),
            Test::Never => false,
        };
        result != self.inverted
    }
}

pub(super) fn boxed_list(values: &[String]) -> Box<[Box<str>]> {
    values.iter().map(|v| Box::from(v.as_str())).collect()
}

pub(super) fn compile_constraint(c: &Constraint) -> CConstraint {
    let single = || match c.values.as_slice() {
        [one] => Some(one.as_str()),
        _ => None,
    };
    let test = match c.operator {
        Operator::In => Test::In(boxed_list(&c.values)),
        Operator::NotIn => Test::NotIn(boxed_list(&c.values)),
        Operator::StrContains | Operator::StrStartsWith | Operator::StrEndsWith => Test::Str {
            op: match c.operator {
                Operator::StrContains => StrOp::Contains,
                Operator::StrStartsWith => StrOp::StartsWith,
                _ => StrOp::EndsWith,
            },
            values: if c.case_insensitive {
                c.values
                    .iter()
                    .map(|v| operator::fold(v).into_boxed_str())
                    .collect()
            } else {
                boxed_list(&c.values)
            },
            case_insensitive: c.case_insensitive,
        },
        Operator::NumEq
        | Operator::NumGt
        | Operator::NumGte
        | Operator::NumLt
        | Operator::NumLte => match single().and_then(parse_number) {
            Some(value) => Test::Num {
                op: c.operator,
                value,
            },
            _ => Test::Never,
        },
        Operator::DateAfter | Operator::DateBefore => {
            match single().and_then(operator::parse_datetime) {
                Some(at) => Test::Date {
                    after: c.operator == Operator::DateAfter,
                    at,
                },
                None => Test::Never,
            }
        }
        Operator::SemverEq
        | Operator::SemverGt
        | Operator::SemverGte
        | Operator::SemverLt
        | Operator::SemverLte => match single().and_then(SemVer::parse) {
            Some(value) => Test::Semver {
                op: c.operator,
                value,
            },
            None => Test::Never,
        },
        Operator::Regex => match single().and_then(|p| Pattern::new(p, c.case_insensitive)) {
            Some(re) => Test::Regex(re),
            None => Test::Never,
        },
        Operator::InCidr => {
            // Unparsable entries are skipped; the others still apply.
            let ranges: Box<[Cidr]> = c.values.iter().filter_map(|v| Cidr::parse(v)).collect();
            if ranges.is_empty() {
                Test::Never
            } else {
                Test::Cidr(ranges)
            }
        }
    };
    CConstraint {
        attribute: Box::from(c.attribute.as_str()),
        test,
        inverted: c.inverted,
    }
}
