//! Compact forms of a manifest for the code `flags!` generates: one fixed-width
//! record of bytes per flag for its metadata ([`MetaRecord`]) and per prerequisite
//! ([`encode_requirement`]), and the rules of every flag as one string
//! ([`encode_rules`], [`decode_rules`]).
//!
//! A crate with thousands of flags compiles a table of data many times faster, and in
//! a fraction of the memory, than thousands of Rust expressions building the same
//! values: the type checker sees a handful of literals instead of one struct
//! expression per flag and field. The macro encodes what the manifest declares, the
//! runtime decodes it: the metadata in a `const fn` while the crate compiles, the
//! rules once when the registry starts. Both ends are this module, so they agree; the
//! forms are not meant to be written by hand and may change between releases.

use std::fmt::Write as _;

use crate::date::Date;
use crate::model::{Kind, Lifecycle, Value};
use crate::pos::Pos;
use crate::rules::{
    Constraint, LayerPrerequisite, Operator, ParentRules, PayloadKind, Rules, Stickiness, Strategy,
    StrategyKind, VariantPayload, WeightedVariant,
};

/// What a flag's metadata holds besides its strings, as one record of
/// [`MetaRecord::LEN`] bytes.
///
/// Variant names and prerequisites live in columns shared by every flag; a record
/// says how many of them its flag takes, in flag order.
///
/// ```
/// use flags_manifest::packed::MetaRecord;
/// use flags_manifest::{Date, Kind, Lifecycle, Value};
///
/// let record = MetaRecord {
///     kind: Kind::Experiment,
///     lifecycle: Lifecycle::Active,
///     is_static: false,
///     default: Value::Variant(1),
///     expires: Some(Date::ymd(2027, 3, 31)),
///     owner: 4,
///     variants: 2,
///     requires: 1,
///     excludes: 0,
/// };
/// let mut table = Vec::new();
/// record.encode(&mut table);
/// record.encode(&mut table);
/// assert_eq!(table.len(), 2 * MetaRecord::LEN);
/// assert_eq!(MetaRecord::decode(&table, 1), record);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetaRecord {
    /// The flag's kind.
    pub kind: Kind,
    /// Its lifecycle state.
    pub lifecycle: Lifecycle,
    /// Whether it is a compile-time-only flag.
    pub is_static: bool,
    /// The manifest default.
    pub default: Value,
    /// Its expiry date, if any.
    pub expires: Option<Date>,
    /// Its owner, as an index into the column of distinct owners.
    pub owner: u32,
    /// How many variant names it has (none for a bool flag).
    pub variants: u32,
    /// How many `requires` entries it has.
    pub requires: u32,
    /// How many `excludes` entries it has.
    pub excludes: u32,
}

// Byte 0 holds the small fields; the rest are little-endian integers.
const KIND_MASK: u8 = 0b11;
const LIFECYCLE_SHIFT: u32 = 2;
const STATIC_BIT: u8 = 1 << 4;
const VARIANT_DEFAULT_BIT: u8 = 1 << 5;
const DEFAULT_ON_BIT: u8 = 1 << 6;
const EXPIRES_BIT: u8 = 1 << 7;

impl MetaRecord {
    /// The length of one record in bytes.
    pub const LEN: usize = 23;

    /// Appends this record to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let kind = Kind::ALL.iter().position(|(k, _)| *k == self.kind);
        let lifecycle = Lifecycle::ALL
            .iter()
            .position(|(l, _)| *l == self.lifecycle);
        // Both lists have four entries: the positions fit in two bits.
        #[allow(clippy::cast_possible_truncation)]
        let mut bits = kind.unwrap_or(0) as u8 | (lifecycle.unwrap_or(0) as u8) << LIFECYCLE_SHIFT;
        let mut variant = 0u16;
        match self.default {
            Value::Bool(on) => {
                if on {
                    bits |= DEFAULT_ON_BIT;
                }
            }
            Value::Variant(i) => {
                bits |= VARIANT_DEFAULT_BIT;
                variant = i;
            }
        }
        if self.is_static {
            bits |= STATIC_BIT;
        }
        let (mut year, mut month, mut day) = (0u16, 0u8, 0u8);
        if let Some(d) = self.expires {
            bits |= EXPIRES_BIT;
            // A `Date` is in years 1 to 9999, months 1 to 12 and days 1 to 31.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            {
                (year, month, day) = (d.year() as u16, d.month() as u8, d.day() as u8);
            }
        }
        out.push(bits);
        out.extend_from_slice(&variant.to_le_bytes());
        out.extend_from_slice(&year.to_le_bytes());
        out.push(month);
        out.push(day);
        for n in [self.owner, self.variants, self.requires, self.excludes] {
            out.extend_from_slice(&n.to_le_bytes());
        }
    }

    /// Record `i` of `table`, in a constant too.
    ///
    /// # Panics
    ///
    /// When `table` holds fewer than `i + 1` records or the record holds a day that
    /// does not exist: neither happens to a table [`MetaRecord::encode`] wrote, and in
    /// a constant a panic is a compile error.
    #[must_use]
    pub const fn decode(table: &[u8], i: usize) -> MetaRecord {
        let at = i * Self::LEN;
        let bits = table[at];
        let default = if bits & VARIANT_DEFAULT_BIT != 0 {
            Value::Variant(u16::from_le_bytes([table[at + 1], table[at + 2]]))
        } else {
            Value::Bool(bits & DEFAULT_ON_BIT != 0)
        };
        let expires = if bits & EXPIRES_BIT != 0 {
            let year = u16::from_le_bytes([table[at + 3], table[at + 4]]);
            Some(Date::ymd(
                year as i32,
                table[at + 5] as u32,
                table[at + 6] as u32,
            ))
        } else {
            None
        };
        MetaRecord {
            kind: Kind::ALL[(bits & KIND_MASK) as usize].0,
            lifecycle: Lifecycle::ALL[((bits >> LIFECYCLE_SHIFT) & KIND_MASK) as usize].0,
            is_static: bits & STATIC_BIT != 0,
            default,
            expires,
            owner: u32_at(table, at + 7),
            variants: u32_at(table, at + 11),
            requires: u32_at(table, at + 15),
            excludes: u32_at(table, at + 19),
        }
    }
}

const fn u32_at(table: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([table[at], table[at + 1], table[at + 2], table[at + 3]])
}

/// The length of one prerequisite written by [`encode_requirement`].
pub const REQUIREMENT_LEN: usize = 7;

/// Appends a prerequisite: flag `flag` on (`variant` `None`) or at variant `variant`.
///
/// ```
/// use flags_manifest::packed::{decode_requirement, encode_requirement};
/// let mut table = Vec::new();
/// encode_requirement(3, None, &mut table);
/// encode_requirement(70_000, Some(2), &mut table);
/// assert_eq!(decode_requirement(&table, 0), (3, None));
/// assert_eq!(decode_requirement(&table, 1), (70_000, Some(2)));
/// ```
pub fn encode_requirement(flag: u32, variant: Option<u16>, out: &mut Vec<u8>) {
    out.extend_from_slice(&flag.to_le_bytes());
    out.push(u8::from(variant.is_some()));
    out.extend_from_slice(&variant.unwrap_or(0).to_le_bytes());
}

/// Prerequisite `i` of `table`, in a constant too: the flag's index and the variant.
///
/// # Panics
///
/// When `table` holds fewer than `i + 1` of them.
#[must_use]
pub const fn decode_requirement(table: &[u8], i: usize) -> (u32, Option<u16>) {
    let at = i * REQUIREMENT_LEN;
    let variant = if table[at + 4] == 0 {
        None
    } else {
        Some(u16::from_le_bytes([table[at + 5], table[at + 6]]))
    };
    (u32_at(table, at), variant)
}

/// The rules of flags, by flag index, as one string that [`decode_rules`] reads back.
///
/// ```
/// use flags_manifest::packed::{decode_rules, encode_rules};
/// use flags_manifest::{Rules, Value};
///
/// let kill = Rules { enabled: Some(false), ..Rules::default() };
/// let fixed = Rules { value: Some(Value::Variant(2)), ..Rules::default() };
/// let text = encode_rules([(0, &kill), (7, &fixed)]);
/// assert_eq!(decode_rules(&text)?, vec![(0, kill), (7, fixed)]);
/// # Ok::<(), flags_manifest::packed::PackedError>(())
/// ```
pub fn encode_rules<'a>(rules: impl IntoIterator<Item = (usize, &'a Rules)>) -> String {
    let mut w = Writer(String::new());
    let rules: Vec<(usize, &Rules)> = rules.into_iter().collect();
    w.len(rules.len());
    for (index, r) in rules {
        w.len(index);
        w.rules(r);
    }
    w.0
}

/// The rules [`encode_rules`] wrote, by flag index.
///
/// # Errors
///
/// [`PackedError`] when `text` is not something [`encode_rules`] wrote (as when the
/// code was generated by another release of the crates).
pub fn decode_rules(text: &str) -> Result<Vec<(usize, Rules)>, PackedError> {
    let mut r = Reader { text, at: 0 };
    let n = r.len()?;
    let mut out = Vec::with_capacity(n.min(text.len()));
    for _ in 0..n {
        let index = r.len()?;
        out.push((index, r.rules(0)?));
    }
    if r.at != text.len() {
        return Err(r.error("data after the last flag's rules"));
    }
    Ok(out)
}

/// Encoded rules that [`decode_rules`] cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "encoded rules, at byte {at}: {what} (was the code generated by another release of `flags`?)"
)]
pub struct PackedError {
    /// Where in the text reading stopped.
    pub at: usize,
    /// What was expected there.
    pub what: &'static str,
}

/// How deep prerequisites may nest in encoded rules: far more than a manifest can
/// declare, and a bound on the decoder's recursion whatever the input.
const MAX_DEPTH: usize = 64;

/// Numbers are decimal, each ended by `,`; a string is its length in bytes, `:` and
/// the bytes; a list is its length and its items; an option is `0,` or `1,` and the
/// value; an enum is the index of its variant and its fields.
struct Writer(String);

impl Writer {
    fn num(&mut self, n: u64) {
        let _ = write!(self.0, "{n},");
    }

    fn len(&mut self, n: usize) {
        self.num(n as u64);
    }

    fn flag(&mut self, b: bool) {
        self.num(u64::from(b));
    }

    fn str(&mut self, s: &str) {
        let _ = write!(self.0, "{}:{s}", s.len());
    }

    fn strs(&mut self, list: &[String]) {
        self.len(list.len());
        for s in list {
            self.str(s);
        }
    }

    fn list<T>(&mut self, list: &[T], mut item: impl FnMut(&mut Writer, &T)) {
        self.len(list.len());
        for x in list {
            item(self, x);
        }
    }

    fn option<T>(&mut self, v: Option<&T>, item: impl FnOnce(&mut Writer, &T)) {
        match v {
            None => self.flag(false),
            Some(v) => {
                self.flag(true);
                item(self, v);
            }
        }
    }

    fn rules(&mut self, r: &Rules) {
        self.option(r.enabled.as_ref(), |w, b| w.flag(*b));
        self.option(r.value.as_ref(), |w, v| w.value(*v));
        self.list(&r.strategies, Writer::strategy);
        self.list(&r.variants, Writer::variant);
        self.stickiness(&r.variant_stickiness);
        self.list(&r.prerequisites, Writer::prerequisite);
    }

    fn value(&mut self, v: Value) {
        match v {
            Value::Bool(b) => {
                self.num(0);
                self.flag(b);
            }
            Value::Variant(i) => {
                self.num(1);
                self.num(u64::from(i));
            }
        }
    }

    fn strategy(&mut self, s: &Strategy) {
        match &s.kind {
            StrategyKind::All => self.num(0),
            StrategyKind::Keys(keys) => {
                self.num(1);
                self.strs(keys);
            }
            StrategyKind::Rollout {
                percent,
                stickiness,
                group_id,
            } => {
                self.num(2);
                self.num(u64::from(*percent));
                self.stickiness(stickiness);
                self.str(group_id);
            }
        }
        self.list(&s.constraints, Writer::constraint);
        self.list(&s.variants, Writer::variant);
        self.stickiness(&s.variant_stickiness);
        self.len(s.pos.span.start);
        self.len(s.pos.span.end);
        self.len(s.pos.line);
        self.len(s.pos.col);
    }

    fn stickiness(&mut self, s: &Stickiness) {
        match s {
            Stickiness::Default => self.num(0),
            Stickiness::Key => self.num(1),
            Stickiness::Random => self.num(2),
            Stickiness::Attribute(a) => {
                self.num(3);
                self.str(a);
            }
        }
    }

    fn variant(&mut self, v: &WeightedVariant) {
        self.num(u64::from(v.variant));
        self.str(&v.name);
        self.num(u64::from(v.weight));
        self.option(v.payload.as_ref(), |w, p| {
            let kind = PayloadKind::ALL.iter().position(|k| *k == p.kind);
            w.len(kind.unwrap_or(0));
            w.str(&p.value);
        });
    }

    fn constraint(&mut self, c: &Constraint) {
        self.str(&c.attribute);
        let op = Operator::ALL.iter().position(|(o, _, _)| *o == c.operator);
        self.len(op.unwrap_or(0));
        self.strs(&c.values);
        self.flag(c.inverted);
        self.flag(c.case_insensitive);
    }

    fn prerequisite(&mut self, p: &LayerPrerequisite) {
        self.str(&p.flag);
        self.flag(p.enabled);
        self.strs(&p.variants);
        self.option(p.parent.as_deref(), |w, parent| {
            w.strs(&parent.variants);
            w.rules(&parent.rules);
            w.option(parent.variant_rules.as_ref(), Writer::rules);
        });
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &'static str) -> PackedError {
        PackedError { at: self.at, what }
    }

    /// Digits up to `end`, as a number.
    fn digits(&mut self, end: u8) -> Result<u64, PackedError> {
        let rest = &self.text.as_bytes()[self.at..];
        let len = rest.iter().position(|&b| b == end);
        let digits = len.map(|len| &rest[..len]);
        let n = digits
            .filter(|d| !d.is_empty() && d.len() <= 19 && d.iter().all(u8::is_ascii_digit))
            .map(|d| d.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0')))
            .ok_or_else(|| self.error("a number"))?;
        self.at += len.unwrap_or_default() + 1;
        Ok(n)
    }

    fn num(&mut self) -> Result<u64, PackedError> {
        self.digits(b',')
    }

    fn small<T: TryFrom<u64>>(&mut self) -> Result<T, PackedError> {
        let n = self.num()?;
        T::try_from(n).map_err(|_| self.error("a smaller number"))
    }

    fn len(&mut self) -> Result<usize, PackedError> {
        self.small()
    }

    fn flag(&mut self) -> Result<bool, PackedError> {
        match self.num()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.error("0 or 1")),
        }
    }

    fn str(&mut self) -> Result<String, PackedError> {
        let len = usize::try_from(self.digits(b':')?).map_err(|_| self.error("a length"))?;
        let s = self
            .at
            .checked_add(len)
            .and_then(|end| self.text.get(self.at..end))
            .ok_or_else(|| self.error("a string of the length given"))?;
        self.at += len;
        Ok(s.to_owned())
    }

    fn strs(&mut self) -> Result<Vec<String>, PackedError> {
        self.list(Reader::str)
    }

    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, PackedError>,
    ) -> Result<Vec<T>, PackedError> {
        let n = self.len()?;
        // Every item takes at least one byte: a count beyond the text is refused
        // before anything is allocated for it.
        if n > self.text.len() - self.at {
            return Err(self.error("a list no longer than the text"));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(item(self)?);
        }
        Ok(out)
    }

    fn option<T>(
        &mut self,
        item: impl FnOnce(&mut Self) -> Result<T, PackedError>,
    ) -> Result<Option<T>, PackedError> {
        if self.flag()? {
            item(self).map(Some)
        } else {
            Ok(None)
        }
    }

    fn rules(&mut self, depth: usize) -> Result<Rules, PackedError> {
        if depth > MAX_DEPTH {
            return Err(self.error("prerequisites nested less deeply"));
        }
        Ok(Rules {
            enabled: self.option(Reader::flag)?,
            value: self.option(Reader::value)?,
            strategies: self.list(Reader::strategy)?,
            variants: self.list(Reader::variant)?,
            variant_stickiness: self.stickiness()?,
            prerequisites: self.list(|r| r.prerequisite(depth))?,
        })
    }

    fn value(&mut self) -> Result<Value, PackedError> {
        match self.num()? {
            0 => Ok(Value::Bool(self.flag()?)),
            1 => Ok(Value::Variant(self.small()?)),
            _ => Err(self.error("a value")),
        }
    }

    fn strategy(&mut self) -> Result<Strategy, PackedError> {
        let kind = match self.num()? {
            0 => StrategyKind::All,
            1 => StrategyKind::Keys(self.strs()?),
            2 => StrategyKind::Rollout {
                percent: self.small()?,
                stickiness: self.stickiness()?,
                group_id: self.str()?,
            },
            _ => return Err(self.error("a strategy type")),
        };
        Ok(Strategy {
            kind,
            constraints: self.list(Reader::constraint)?,
            variants: self.list(Reader::variant)?,
            variant_stickiness: self.stickiness()?,
            pos: Pos {
                span: self.len()?..self.len()?,
                line: self.len()?,
                col: self.len()?,
            },
        })
    }

    fn stickiness(&mut self) -> Result<Stickiness, PackedError> {
        match self.num()? {
            0 => Ok(Stickiness::Default),
            1 => Ok(Stickiness::Key),
            2 => Ok(Stickiness::Random),
            3 => Ok(Stickiness::Attribute(self.str()?)),
            _ => Err(self.error("a stickiness")),
        }
    }

    fn variant(&mut self) -> Result<WeightedVariant, PackedError> {
        Ok(WeightedVariant {
            variant: self.small()?,
            name: self.str()?,
            weight: self.small()?,
            payload: self.option(|r| {
                let kind = *PayloadKind::ALL
                    .get(r.len()?)
                    .ok_or_else(|| r.error("a payload type"))?;
                Ok(VariantPayload {
                    kind,
                    value: r.str()?,
                })
            })?,
        })
    }

    fn constraint(&mut self) -> Result<Constraint, PackedError> {
        let attribute = self.str()?;
        let operator = Operator::ALL
            .get(self.len()?)
            .ok_or_else(|| self.error("an operator"))?
            .0;
        Ok(Constraint {
            attribute,
            operator,
            values: self.strs()?,
            inverted: self.flag()?,
            case_insensitive: self.flag()?,
        })
    }

    fn prerequisite(&mut self, depth: usize) -> Result<LayerPrerequisite, PackedError> {
        Ok(LayerPrerequisite {
            flag: self.str()?,
            enabled: self.flag()?,
            variants: self.strs()?,
            parent: self.option(|r| {
                Ok(Box::new(ParentRules {
                    variants: r.strs()?,
                    rules: r.rules(depth + 1)?,
                    variant_rules: r.option(|r| r.rules(depth + 1))?,
                }))
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Strategy as Rule;
    use proptest::prelude::*;
    use proptest::strategy::Strategy;

    /// Text that a naive reader would split wrongly: the writer's own separators,
    /// digits, multi-byte characters and the empty string.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[0-9,:]{1,6}",
            "[a-z_]{1,8}",
            "\\PC{0,12}",
        ]
    }

    fn stickiness() -> impl Strategy<Value = Stickiness> {
        prop_oneof![
            Just(Stickiness::Default),
            Just(Stickiness::Key),
            Just(Stickiness::Random),
            text().prop_map(Stickiness::Attribute),
        ]
    }

    fn variant() -> impl Strategy<Value = WeightedVariant> {
        let payload = (0..PayloadKind::ALL.len(), text()).prop_map(|(k, value)| VariantPayload {
            kind: PayloadKind::ALL[k],
            value,
        });
        (
            any::<u16>(),
            text(),
            any::<u32>(),
            proptest::option::of(payload),
        )
            .prop_map(|(variant, name, weight, payload)| WeightedVariant {
                variant,
                name,
                weight,
                payload,
            })
    }

    fn constraint() -> impl Strategy<Value = Constraint> {
        (
            text(),
            0..Operator::ALL.len(),
            proptest::collection::vec(text(), 0..3),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(attribute, op, values, inverted, case_insensitive)| Constraint {
                    attribute,
                    operator: Operator::ALL[op].0,
                    values,
                    inverted,
                    case_insensitive,
                },
            )
    }

    fn strategy() -> impl Strategy<Value = Rule> {
        let kind = prop_oneof![
            Just(StrategyKind::All),
            proptest::collection::vec(text(), 0..3).prop_map(StrategyKind::Keys),
            (any::<u8>(), stickiness(), text()).prop_map(|(percent, stickiness, group_id)| {
                StrategyKind::Rollout {
                    percent,
                    stickiness,
                    group_id,
                }
            }),
        ];
        (
            kind,
            proptest::collection::vec(constraint(), 0..2),
            proptest::collection::vec(variant(), 0..2),
            stickiness(),
            any::<[u32; 4]>(),
        )
            .prop_map(
                |(kind, constraints, variants, variant_stickiness, [a, b, line, col])| Rule {
                    kind,
                    constraints,
                    variants,
                    variant_stickiness,
                    pos: Pos {
                        span: a as usize..b as usize,
                        line: line as usize,
                        col: col as usize,
                    },
                },
            )
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<u16>().prop_map(Value::Variant)
        ]
    }

    /// Rules without prerequisites, and then rules whose prerequisites hold rules.
    fn rules() -> impl Strategy<Value = Rules> {
        let leaf = (
            proptest::option::of(any::<bool>()),
            proptest::option::of(value()),
            proptest::collection::vec(strategy(), 0..3),
            proptest::collection::vec(variant(), 0..3),
            stickiness(),
        )
            .prop_map(
                |(enabled, value, strategies, variants, variant_stickiness)| Rules {
                    enabled,
                    value,
                    strategies,
                    variants,
                    variant_stickiness,
                    prerequisites: Vec::new(),
                },
            );
        leaf.prop_recursive(3, 12, 2, |inner| {
            let parent = (
                proptest::collection::vec(text(), 0..2),
                inner.clone(),
                proptest::option::of(inner.clone()),
            )
                .prop_map(|(variants, rules, variant_rules)| ParentRules {
                    variants,
                    rules,
                    variant_rules,
                });
            let prerequisite = (
                text(),
                any::<bool>(),
                proptest::collection::vec(text(), 0..2),
                proptest::option::of(parent.prop_map(Box::new)),
            )
                .prop_map(|(flag, enabled, variants, parent)| LayerPrerequisite {
                    flag,
                    enabled,
                    variants,
                    parent,
                });
            (inner, proptest::collection::vec(prerequisite, 1..3)).prop_map(
                |(mut rules, prerequisites)| {
                    rules.prerequisites = prerequisites;
                    rules
                },
            )
        })
    }

    proptest! {
        #[test]
        fn rules_round_trip(list in proptest::collection::vec((any::<u32>(), rules()), 0..4)) {
            let list: Vec<(usize, Rules)> =
                list.into_iter().map(|(i, r)| (i as usize, r)).collect();
            let text = encode_rules(list.iter().map(|(i, r)| (*i, r)));
            prop_assert_eq!(decode_rules(&text), Ok(list));
        }

        /// Every prefix of an encoding, and any byte changed in it, is read without a
        /// panic: refused, or (for a changed digit or character) read as other rules.
        #[test]
        fn damaged_text_never_panics(r in rules(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let text = encode_rules([(3, &r)]);
            let at = cut.index(text.len() + 1);
            if let Some(prefix) = text.get(..at)
                && at < text.len()
            {
                prop_assert!(decode_rules(prefix).is_err());
            }
            let mut bytes = text.into_bytes();
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
            if let Ok(changed) = String::from_utf8(bytes) {
                let _ = decode_rules(&changed);
            }
        }
    }

    #[test]
    fn every_record_field_round_trips() {
        let mut table = Vec::new();
        let mut records = Vec::new();
        for (i, (kind, _)) in Kind::ALL.iter().enumerate() {
            for (j, (lifecycle, _)) in Lifecycle::ALL.iter().enumerate() {
                for default in [
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Variant(u16::MAX),
                ] {
                    for expires in [
                        None,
                        Some(Date::ymd(1, 1, 1)),
                        Some(Date::ymd(9999, 12, 31)),
                    ] {
                        let n = u32::try_from(i * 4 + j).unwrap();
                        let record = MetaRecord {
                            kind: *kind,
                            lifecycle: *lifecycle,
                            is_static: n % 2 == 0,
                            default,
                            expires,
                            owner: u32::MAX - n,
                            variants: n,
                            requires: n * 3,
                            excludes: u32::MAX,
                        };
                        record.encode(&mut table);
                        records.push(record);
                    }
                }
            }
        }
        assert_eq!(table.len(), records.len() * MetaRecord::LEN);
        for (i, record) in records.iter().enumerate() {
            assert_eq!(MetaRecord::decode(&table, i), *record);
        }
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        for bad in [
            "",
            "1,",
            "x,",
            "1,0,",
            "1,0,2,",
            "1,0,0,0,0,0,9,",
            "1,0,0,0,1,3,0,0,0,0,",
            "1,0,0,0,0,0,4,0,",
            "99999999999999999999,",
            "1,0,0,0,0,0,0,0,extra",
            "1,0,0,0,0,0,0,1,5:ab",
        ] {
            assert!(decode_rules(bad).is_err(), "{bad:?}");
        }
        let error = decode_rules("1,0,0,0,0,0,9,").unwrap_err();
        assert!(error.to_string().contains("another release"), "{error}");
    }

    #[test]
    fn prerequisites_nested_too_deeply_are_refused() {
        let mut rules = Rules::default();
        for _ in 0..=MAX_DEPTH + 1 {
            rules = Rules {
                prerequisites: vec![LayerPrerequisite {
                    flag: "f".to_owned(),
                    enabled: true,
                    variants: Vec::new(),
                    parent: Some(Box::new(ParentRules {
                        variants: Vec::new(),
                        rules,
                        variant_rules: None,
                    })),
                }],
                ..Rules::default()
            };
        }
        let text = encode_rules([(0, &rules)]);
        assert!(decode_rules(&text).is_err());
    }
}
