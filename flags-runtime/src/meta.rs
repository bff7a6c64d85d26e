//! Static metadata of a flag, as the `flags!` macro emits it into the user's crate: a
//! table the runtime, the test harness and tooling read without parsing anything.

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
