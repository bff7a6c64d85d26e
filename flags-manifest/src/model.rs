//! The manifest model: what a `flags.toml` means once it has been read and checked.
//! Every tool of the workspace (the macro, the runtime, the CLI) works on these types.

use crate::date::Date;
use crate::plan::RolloutPlan;
use crate::pos::Pos;
use crate::rules::Rules;

/// The longest chain of `requires` links a manifest may have. The run time follows
/// chains by recursion; this bound (far beyond any real manifest) keeps that within
/// a thread's stack, and the run time allows twice it plus one (a chain, an exclusion,
/// then the excluded flag's chain), so a checked manifest never reaches its limit.
pub const MAX_REQUIRES_DEPTH: usize = 256;

/// A checked manifest: project settings and the flags in file order. A flag's position
/// in [`Manifest::flags`] is its dense index.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Project-wide policy from `[settings]`.
    pub settings: Settings,
    /// Every flag, in the order the file declares them.
    pub flags: Vec<Flag>,
}

impl Manifest {
    /// The flag called `name`, if declared.
    pub fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The dense index of the flag called `name`, if declared.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.flags.iter().position(|f| f.name == name)
    }
}

/// Project-wide policy, from the `[settings]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The naming convention flag names are checked against.
    pub naming: Naming,
    /// What an expired flag does to a build.
    pub expiry: ExpiryPolicy,
    /// Days before `expires` from which a flag is reported as expiring soon.
    pub warn_ahead_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            naming: Naming::default(),
            expiry: ExpiryPolicy::Warn,
            warn_ahead_days: 14,
        }
    }
}

/// The naming convention from `[settings.naming]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Naming {
    /// `true` (the default) requires snake_case names; `false` accepts any identifier
    /// and converts it to snake_case for the accessor.
    pub snake_case: bool,
    /// Allowed domain prefixes (`payments` in `payments_beta_experimental`); empty
    /// means any.
    pub prefixes: Vec<String>,
    /// Allowed lifecycle suffixes (`experimental`, `stable`); empty means any.
    pub suffixes: Vec<String>,
}

impl Default for Naming {
    fn default() -> Self {
        Naming {
            snake_case: true,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
        }
    }
}

/// What a flag past its expiry date does to a build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryPolicy {
    /// Warn at compile time; never fail the build. The default.
    Warn,
    /// Warn, then fail the build once the flag is more than `grace_days` past expiry.
    Error {
        /// Days after `expires` during which a build still only warns.
        grace_days: u32,
    },
    /// Say nothing at compile time (`cargo flags lint` still reports).
    Off,
}

/// A flag's kind, which decides whether it is temporary (and so must expire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Gates the release of new code; temporary.
    Release,
    /// An A/B test or other experiment; temporary.
    Experiment,
    /// An operational switch (kill switch, degradation); permanent.
    Ops,
    /// Gates access for some users or plans; permanent.
    Permission,
}

impl Kind {
    /// All kinds with their manifest spelling.
    pub const ALL: [(Kind, &'static str); 4] = [
        (Kind::Release, "release"),
        (Kind::Experiment, "experiment"),
        (Kind::Ops, "ops"),
        (Kind::Permission, "permission"),
    ];

    /// Whether flags of this kind are meant to be removed, and so need `expires`.
    pub fn is_temporary(self) -> bool {
        matches!(self, Kind::Release | Kind::Experiment)
    }

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        Kind::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("release", |(_, s)| s)
    }
}

/// Where a flag is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Declared, code not shipped yet.
    Planned,
    /// In use; the default.
    Active,
    /// Fully rolled out; waiting for its code to be removed.
    RolledOut,
    /// Scheduled for removal: the code should stop referring to it.
    Deprecated,
}

impl Lifecycle {
    /// All lifecycle states with their manifest spelling.
    pub const ALL: [(Lifecycle, &'static str); 4] = [
        (Lifecycle::Planned, "planned"),
        (Lifecycle::Active, "active"),
        (Lifecycle::RolledOut, "rolled_out"),
        (Lifecycle::Deprecated, "deprecated"),
    ];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        Lifecycle::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("active", |(_, s)| s)
    }
}

/// The values a flag can take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlagType {
    /// On or off.
    Bool,
    /// One of named variants, in declaration order.
    Variants(Vec<String>),
}

/// A value of a flag: a bool or the index of a variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A bool flag's value.
    Bool(bool),
    /// A variant flag's value, as an index into its variants.
    Variant(u16),
}

/// "Flag `name` must be on" or "must be at variant `v`", from `requires`/`excludes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagRef {
    /// The flag referred to.
    pub flag: String,
    /// The variant it must be at, for variant flags; `None` means "on" (bool) or "not
    /// at its default" is not implied: for a variant flag `None` means any variant
    /// other than the default.
    pub variant: Option<String>,
    /// Where the reference is written.
    pub pos: Pos,
}

/// One declared flag.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    /// The name as written in the manifest.
    pub name: String,
    /// The Rust identifier of its accessor (the name in snake_case).
    pub ident: String,
    /// Dense index: its position in the manifest.
    pub index: usize,
    /// What it is for.
    pub description: String,
    /// Who answers for it (team or person).
    pub owner: String,
    /// Its kind.
    pub kind: Kind,
    /// Its lifecycle state.
    pub lifecycle: Lifecycle,
    /// The day after which it is stale; required for temporary kinds.
    pub expires: Option<Date>,
    /// Bool or variants.
    pub ty: FlagType,
    /// The value when nothing else decides.
    pub default: Value,
    /// Compile-time only: the accessor is a `const`, no runtime source changes it.
    pub is_static: bool,
    /// Flags that must be on (or at a variant) for this one to be on.
    pub requires: Vec<FlagRef>,
    /// Flags that must not be on together with this one.
    pub excludes: Vec<FlagRef>,
    /// Targeting rules declared in the manifest itself.
    pub rules: Rules,
    /// A guarded rollout plan, from `[flags.NAME.rollout]`.
    pub rollout: Option<RolloutPlan>,
    /// Where the flag's table starts.
    pub pos: Pos,
}

impl Flag {
    /// The variants of a variant flag; empty for a bool flag.
    pub fn variants(&self) -> &[String] {
        match &self.ty {
            FlagType::Bool => &[],
            FlagType::Variants(v) => v,
        }
    }

    /// Number of values: 2 for a bool flag, the variant count otherwise.
    pub fn arity(&self) -> usize {
        match &self.ty {
            FlagType::Bool => 2,
            FlagType::Variants(v) => v.len(),
        }
    }

    /// The index of `variant` among this flag's variants.
    pub fn variant_index(&self, variant: &str) -> Option<u16> {
        self.variants()
            .iter()
            .position(|v| v == variant)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// A value as text: `on`/`off` or the variant's name.
    pub fn value_label(&self, value: Value) -> String {
        match value {
            Value::Bool(true) => "on".to_owned(),
            Value::Bool(false) => "off".to_owned(),
            Value::Variant(i) => self
                .variants()
                .get(usize::from(i))
                .cloned()
                .unwrap_or_else(|| format!("#{i}")),
        }
    }

    /// Parses `on`/`off`/`true`/`false`/`1`/`0` for a bool flag or a variant name, the
    /// spelling environment variables and the CLI use.
    ///
    /// ```
    /// let m = flags_manifest::parse_str(r#"
    /// [flags.layout]
    /// description = "d"
    /// owner = "o"
    /// kind = "ops"
    /// variants = ["compact", "wide"]
    /// default = "compact"
    /// "#, "flags.toml").unwrap();
    /// let f = &m.flags[0];
    /// assert_eq!(f.parse_value("wide"), Some(flags_manifest::Value::Variant(1)));
    /// assert_eq!(f.parse_value("on"), None);
    /// ```
    pub fn parse_value(&self, text: &str) -> Option<Value> {
        let t = text.trim();
        match &self.ty {
            FlagType::Bool => match t.to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" | "enabled" => Some(Value::Bool(true)),
                "off" | "false" | "0" | "no" | "disabled" => Some(Value::Bool(false)),
                _ => None,
            },
            FlagType::Variants(_) => self.variant_index(t).map(Value::Variant),
        }
    }
}
