//! Static metadata of a flag, as the `flags!` macro emits it into the user's crate: a
//! table the runtime, the test harness and tooling read without parsing anything.

use flags_manifest::packed::MetaRecord;
pub use flags_manifest::{Date, Kind, Lifecycle, Value};

/// Everything declared about one flag, in `'static` form.
#[derive(Clone, Copy, Debug)]
pub struct FlagMeta {
    /// The name as written in the manifest.
    pub name: &'static str,
    /// Dense index: position in the manifest and in [`crate::Registry`] tables.
    pub index: usize,
    /// What it is for.
    pub description: &'static str,
    /// Who answers for it.
    pub owner: &'static str,
    /// Its kind.
    pub kind: Kind,
    /// Its lifecycle state.
    pub lifecycle: Lifecycle,
    /// Expiry date, if any.
    pub expires: Option<Date>,
    /// Variant names (empty for a bool flag).
    pub variants: &'static [&'static str],
    /// The manifest default.
    pub default: Value,
    /// A compile-time-only flag (its accessor is a `const`).
    pub is_static: bool,
    /// `requires`: flags (by index) that must be on, or at a variant, for this one
    /// to be on.
    pub requires: &'static [Requirement],
    /// `excludes`: flags (by index) that must not be on, or at a variant, for this
    /// one to be on.
    pub excludes: &'static [Requirement],
}

/// One entry of `requires` or `excludes`, resolved at build time: a flag by index
/// and, for a variant flag, the variant by index.
///
/// ```
/// use flags_runtime::{FlagMeta, Requirement};
/// // `layout` requires flag 0 on and excludes flag 2 at its second variant.
/// const LAYOUT: FlagMeta = FlagMeta {
///     requires: &[Requirement::on(0)],
///     excludes: &[Requirement::at(2, 1)],
///     ..FlagMeta::bare("layout", 1, &["classic", "compact"])
/// };
/// assert_eq!(LAYOUT.requires[0].flag, 0);
/// assert_eq!(LAYOUT.excludes[0].variant, Some(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The flag's index.
    pub flag: usize,
    /// The variant (index) it must be at; `None`: on (a bool flag), or at a variant
    /// other than its default (a variant flag).
    pub variant: Option<u16>,
}

impl Requirement {
    /// Flag `flag` on (or, for a variant flag, away from its default).
    #[must_use]
    pub const fn on(flag: usize) -> Requirement {
        Requirement {
            flag,
            variant: None,
        }
    }

    /// Flag `flag` at variant `variant`.
    #[must_use]
    pub const fn at(flag: usize, variant: u16) -> Requirement {
        Requirement {
            flag,
            variant: Some(variant),
        }
    }
}

impl FlagMeta {
    /// A dynamic ops flag with no description, owner, expiry or prerequisites, at its
    /// first value (off, or its first variant): the base of hand-written registries
    /// and tests, completed with struct-update syntax.
    ///
    /// ```
    /// use flags_runtime::FlagMeta;
    /// use flags_runtime::Requirement;
    /// const LAYOUT: FlagMeta = FlagMeta {
    ///     requires: &[Requirement::on(0)],
    ///     ..FlagMeta::bare("layout", 1, &["classic", "compact"])
    /// };
    /// assert_eq!(LAYOUT.label(LAYOUT.default), "classic");
    /// ```
    pub const fn bare(
        name: &'static str,
        index: usize,
        variants: &'static [&'static str],
    ) -> FlagMeta {
        FlagMeta {
            name,
            index,
            description: "",
            owner: "",
            kind: Kind::Ops,
            lifecycle: Lifecycle::Active,
            expires: None,
            variants,
            default: if variants.is_empty() {
                Value::Bool(false)
            } else {
                Value::Variant(0)
            },
            is_static: false,
            requires: &[],
            excludes: &[],
        }
    }

    /// Whether this is an on/off flag.
    pub const fn is_bool(&self) -> bool {
        self.variants.is_empty()
    }

    /// The text of a value: `on`/`off` or the variant name.
    pub fn label(&self, value: Value) -> &'static str {
        match value {
            Value::Bool(true) => "on",
            Value::Bool(false) => "off",
            Value::Variant(i) => self.variants.get(usize::from(i)).copied().unwrap_or("?"),
        }
    }
}

/// The `META` table as `flags!` emits it: a column per string field, the variant
/// names and prerequisites of every flag one after another, and one
/// [`MetaRecord`](flags_manifest::packed::MetaRecord) per flag for the rest.
/// [`FlagMeta::table`] assembles the rows while the user's crate compiles, so the
/// compiler type-checks a few literals rather than one struct expression per flag.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct MetaColumns {
    /// Every flag's name, by index.
    pub names: &'static [&'static str],
    /// Every flag's description, by index.
    pub descriptions: &'static [&'static str],
    /// The distinct owners, which records refer to by position.
    pub owners: &'static [&'static str],
    /// Variant names, each flag's in turn.
    pub variants: &'static [&'static str],
    /// Prerequisites, each flag's `requires` and then its `excludes` in turn.
    pub requirements: &'static [Requirement],
    /// One record per flag.
    pub records: &'static [u8],
}

impl FlagMeta {
    /// The rows of `columns`, in a constant.
    ///
    /// # Panics
    ///
    /// When the columns do not hold `N` flags, which `flags!` never emits; in a
    /// constant a panic is a compile error.
    #[doc(hidden)]
    #[must_use]
    pub const fn table<const N: usize>(columns: &MetaColumns) -> [FlagMeta; N] {
        FlagMeta::table_part(columns, 0, 0, 0)
    }

    /// Rows `first..first + N` of `columns`, in a constant: the flags of that part
    /// take their variant names from position `variants` of that column on, and their
    /// prerequisites from position `requirements` on.
    ///
    /// The compiler stops a constant that takes too many steps to evaluate, so
    /// `flags!` builds a large table in parts of a few thousand rows, each a constant
    /// of its own, and [`FlagMeta::join`]s them.
    ///
    /// # Panics
    ///
    /// When the columns do not hold those rows, which `flags!` never emits.
    #[doc(hidden)]
    #[must_use]
    pub const fn table_part<const N: usize>(
        columns: &MetaColumns,
        first: usize,
        variants: usize,
        requirements: usize,
    ) -> [FlagMeta; N] {
        let mut out = [FlagMeta::bare("", 0, &[]); N];
        let mut variants = columns.variants.split_at(variants).1;
        let mut requirements = columns.requirements.split_at(requirements).1;
        let mut i = 0;
        while i < N {
            let index = first + i;
            let r = MetaRecord::decode(columns.records, index);
            let own_variants;
            (own_variants, variants) = take(variants, r.variants);
            let (requires, excludes);
            (requires, requirements) = take(requirements, r.requires);
            (excludes, requirements) = take(requirements, r.excludes);
            out[i] = FlagMeta {
                name: columns.names[index],
                index,
                description: columns.descriptions[index],
                owner: columns.owners[r.owner as usize],
                kind: r.kind,
                lifecycle: r.lifecycle,
                expires: r.expires,
                variants: own_variants,
                default: r.default,
                is_static: r.is_static,
                requires,
                excludes,
            };
            i += 1;
        }
        out
    }

    /// `parts` one after another, in a constant: a copy, a few steps per row.
    ///
    /// # Panics
    ///
    /// When the parts do not hold `N` rows in all.
    #[doc(hidden)]
    #[must_use]
    pub const fn join<const N: usize>(parts: &[&[FlagMeta]]) -> [FlagMeta; N] {
        let mut out = [FlagMeta::bare("", 0, &[]); N];
        let (mut p, mut i, mut k) = (0, 0, 0);
        while p < parts.len() {
            if i < parts[p].len() {
                out[k] = parts[p][i];
                i += 1;
                k += 1;
            } else {
                p += 1;
                i = 0;
            }
        }
        assert!(k == N, "the parts do not hold the table");
        out
    }
}

impl Requirement {
    /// The prerequisites of `table`, which
    /// [`encode_requirement`](flags_manifest::packed::encode_requirement) wrote, in a
    /// constant.
    ///
    /// # Panics
    ///
    /// When `table` does not hold `N` of them, which `flags!` never emits.
    #[doc(hidden)]
    #[must_use]
    pub const fn table<const N: usize>(table: &[u8]) -> [Requirement; N] {
        let mut out = [Requirement::on(0); N];
        let mut i = 0;
        while i < N {
            let (flag, variant) = flags_manifest::packed::decode_requirement(table, i);
            out[i] = Requirement {
                flag: flag as usize,
                variant,
            };
            i += 1;
        }
        out
    }
}

/// The first `n` items of `list` and the rest; a split with no work when `n` is 0,
/// as it is for most flags.
const fn take<T>(list: &'static [T], n: u32) -> (&'static [T], &'static [T]) {
    if n == 0 {
        (&[], list)
    } else {
        list.split_at(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags_manifest::packed::encode_requirement;

    /// Columns as `flags!` emits them for three flags: a bool flag requiring the
    /// variant flag at its second variant, the variant flag, and a static flag
    /// excluding the first.
    fn columns() -> MetaColumns {
        let record = |kind, default, expires, owner, variants, requires, excludes| MetaRecord {
            kind,
            lifecycle: Lifecycle::Active,
            is_static: owner == 0 && excludes == 1,
            default,
            expires,
            owner,
            variants,
            requires,
            excludes,
        };
        let mut records = Vec::new();
        record(
            Kind::Release,
            Value::Bool(false),
            Some(Date::ymd(2027, 1, 31)),
            0,
            0,
            1,
            0,
        )
        .encode(&mut records);
        record(Kind::Experiment, Value::Variant(1), None, 1, 2, 0, 0).encode(&mut records);
        record(Kind::Ops, Value::Bool(true), None, 0, 0, 0, 1).encode(&mut records);
        let mut requirements = Vec::new();
        encode_requirement(1, Some(1), &mut requirements);
        encode_requirement(0, None, &mut requirements);
        let requirements: [Requirement; 2] = Requirement::table(requirements.leak());
        MetaColumns {
            names: &["search", "layout", "dark"],
            descriptions: &["Search", "Layout", "Dark"],
            owners: &["team-a", "team-b"],
            variants: &["classic", "wide"],
            requirements: Box::leak(Box::new(requirements)),
            records: records.leak(),
        }
    }

    #[test]
    fn a_table_has_every_field_of_every_flag() {
        let [search, layout, dark] = FlagMeta::table::<3>(&columns());
        assert_eq!(
            (search.name, search.index, search.description, search.owner),
            ("search", 0, "Search", "team-a")
        );
        assert_eq!(
            (search.kind, search.default),
            (Kind::Release, Value::Bool(false))
        );
        assert_eq!(search.expires, Some(Date::ymd(2027, 1, 31)));
        assert!(search.variants.is_empty() && search.excludes.is_empty());
        assert_eq!(search.requires, [Requirement::at(1, 1)]);
        assert_eq!((layout.index, layout.owner), (1, "team-b"));
        assert_eq!(layout.variants, ["classic", "wide"]);
        assert_eq!(layout.label(layout.default), "wide");
        assert!(layout.requires.is_empty() && layout.excludes.is_empty());
        assert_eq!((dark.index, dark.is_static), (2, true));
        assert_eq!(dark.excludes, [Requirement::on(0)]);
        assert!(dark.variants.is_empty() && dark.requires.is_empty());
    }

    #[test]
    fn parts_joined_are_the_whole_table() {
        let columns = columns();
        let whole = FlagMeta::table::<3>(&columns);
        // The second part starts after the first flag, which has no variant names
        // and one prerequisite.
        let first = FlagMeta::table_part::<1>(&columns, 0, 0, 0);
        let rest = FlagMeta::table_part::<2>(&columns, 1, 0, 1);
        let joined = FlagMeta::join::<3>(&[&first, &rest]);
        assert_eq!(format!("{joined:?}"), format!("{whole:?}"));
        // Parts that do not add up are refused (in a constant, a compile error).
        let short = std::panic::catch_unwind(|| FlagMeta::join::<3>(&[&first]));
        assert!(short.is_err());
    }

    #[test]
    fn a_table_is_built_in_a_constant() {
        // What `flags!` emits, written out: the rows exist at compile time.
        static REQUIREMENTS: [Requirement; 0] = Requirement::table(b"");
        const RECORD: &[u8] = &[
            2 | 1 << 2,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        static META: [FlagMeta; 1] = FlagMeta::table(&MetaColumns {
            names: &["ops_switch"],
            descriptions: &["An operational switch"],
            owners: &["sre"],
            variants: &[],
            requirements: &REQUIREMENTS,
            records: RECORD,
        });
        assert_eq!(RECORD.len(), MetaRecord::LEN);
        assert_eq!((META[0].name, META[0].owner), ("ops_switch", "sre"));
        assert_eq!(
            (META[0].kind, META[0].lifecycle),
            (Kind::Ops, Lifecycle::Active)
        );
        assert_eq!(META[0].default, Value::Bool(false));
    }
}
