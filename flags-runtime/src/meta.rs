//! Static metadata of a flag, as the `flags!` macro emits it into the user's crate: a
//! table the runtime, the test harness and tooling read without parsing anything.

pub use flags_manifest::{Kind, Lifecycle, Value};

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
    /// Expiry date as `YYYY-MM-DD`, if any.
    pub expires: Option<&'static str>,
    /// Variant names (empty for a bool flag).
    pub variants: &'static [&'static str],
    /// The manifest default.
    pub default: Value,
    /// A compile-time-only flag (its accessor is a `const`).
    pub is_static: bool,
    /// `requires` as written (`flag` or `flag=variant`).
    pub requires: &'static [&'static str],
    /// `excludes` as written.
    pub excludes: &'static [&'static str],
}

impl FlagMeta {
    /// A dynamic ops flag with no description, owner, expiry or prerequisites, at its
    /// first value (off, or its first variant): the base of hand-written registries
    /// and tests, completed with struct-update syntax.
    ///
    /// ```
    /// use flags_runtime::FlagMeta;
    /// const LAYOUT: FlagMeta = FlagMeta {
    ///     requires: &["beta"],
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
