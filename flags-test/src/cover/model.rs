//! The shared model: factors and their levels, settings and tuples, constraints, the
//! strategies, the plan and the errors.

use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// One combination: the level index of every factor, in factor order.
pub type Row = Vec<u16>;

/// A flag (or any other parameter) and the values a matrix run gives it.
///
/// ```
/// use flags_test::cover::Factor;
///
/// let layout = Factor::new("checkout_layout", ["classic", "compact", "wide"]);
/// assert_eq!(layout.level("compact"), Some(1));
/// assert_eq!(Factor::boolean("search_v2").levels, ["off", "on"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Factor {
    /// The flag's name, used in [`Plan::label`].
    pub name: String,
    /// The names of its values; a row holds an index into this list.
    pub levels: Vec<String>,
}

impl Factor {
    /// A factor with the given value names.
    pub fn new<I, S>(name: impl Into<String>, levels: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: name.into(),
            levels: levels.into_iter().map(Into::into).collect(),
        }
    }

    /// A boolean flag: level 0 is `off`, level 1 is `on`.
    pub fn boolean(name: impl Into<String>) -> Self {
        Self::new(name, ["off", "on"])
    }

    /// The index of the value called `name`.
    pub fn level(&self, name: &str) -> Option<u16> {
        let index = self.levels.iter().position(|level| level == name)?;
        u16::try_from(index).ok()
    }
}

/// One factor at one level, as used by constraints and reported tuples.
///
/// ```
/// use flags_test::cover::{Factor, Setting};
///
/// let factors = [Factor::boolean("a"), Factor::new("b", ["x", "y"])];
/// assert_eq!(Setting::find(&factors, "b", "y"), Some(Setting::new(1, 1)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Setting {
    /// Index of the factor in the factor list.
    pub factor: usize,
    /// Index of the level in that factor's [`Factor::levels`].
    pub level: u16,
}

impl Setting {
    /// Factor `factor` at level `level` (both indices).
    pub const fn new(factor: usize, level: u16) -> Self {
        Self { factor, level }
    }

    /// Looks a setting up by factor and level name.
    pub fn find(factors: &[Factor], factor: &str, level: &str) -> Option<Self> {
        let index = factors.iter().position(|f| f.name == factor)?;
        Some(Self::new(index, factors[index].level(level)?))
    }

    pub(crate) fn label(self, factors: &[Factor]) -> String {
        match factors.get(self.factor) {
            Some(factor) => match factor.levels.get(usize::from(self.level)) {
                Some(level) => format!("{}={}", factor.name, level),
                None => format!("{}=#{}", factor.name, self.level),
            },
            None => format!("#{}=#{}", self.factor, self.level),
        }
    }
}

/// A combination of settings of distinct factors, e.g. a pair a plan must cover.
///
/// ```
/// use flags_test::cover::{Factor, Setting, Tuple};
///
/// let factors = [Factor::boolean("a"), Factor::boolean("b")];
/// let tuple = Tuple { settings: vec![Setting::new(0, 1), Setting::new(1, 0)] };
/// assert_eq!(tuple.label(&factors), "a=on, b=off");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    /// The settings, in increasing factor order.
    pub settings: Vec<Setting>,
}

impl Tuple {
    /// `name=level` for every setting, comma separated.
    pub fn label(&self, factors: &[Factor]) -> String {
        let parts: Vec<String> = self.settings.iter().map(|s| s.label(factors)).collect();
        parts.join(", ")
    }
}

/// The check behind a custom constraint.
pub(crate) type Check = Arc<dyn Fn(&[Option<u16>]) -> bool + Send + Sync>;

#[derive(Clone)]
pub(crate) enum Rule {
    Requires {
        when: Setting,
        then: Setting,
    },
    Excludes {
        a: Setting,
        b: Setting,
    },
    Custom {
        name: String,
        scope: Option<Vec<usize>>,
        check: Check,
    },
}

impl Rule {
    pub(crate) fn allows(&self, partial: &[Option<u16>]) -> bool {
        let at = |s: &Setting| partial.get(s.factor).copied().flatten();
        match self {
            Self::Requires { when, then } => {
                at(when) != Some(when.level) || at(then).is_none_or(|level| level == then.level)
            }
            Self::Excludes { a, b } => at(a) != Some(a.level) || at(b) != Some(b.level),
            Self::Custom { check, .. } => check(partial),
        }
    }

    /// The answer on the complete row `value`, for the rules that need no slice.
    pub(crate) fn allows_complete(&self, value: impl Fn(usize) -> u16) -> Option<bool> {
        match self {
            Self::Requires { when, then } => {
                Some(value(when.factor) != when.level || value(then.factor) == then.level)
            }
            Self::Excludes { a, b } => {
                Some(value(a.factor) != a.level || value(b.factor) != b.level)
            }
            Self::Custom { .. } => None,
        }
    }

    /// The factors the rule reads; `None` when it may read any.
    pub(crate) fn scope(&self) -> Option<Vec<usize>> {
        match self {
            Self::Requires { when: a, then: b } | Self::Excludes { a, b } => {
                Some(vec![a.factor, b.factor])
            }
            Self::Custom { scope, .. } => scope.clone(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Requires { when, then } => format!("requires({when:?} => {then:?})"),
            Self::Excludes { a, b } => format!("excludes({a:?}, {b:?})"),
            Self::Custom { name, .. } => format!("custom `{name}`"),
        }
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Rules that every generated row satisfies.
///
/// A rule judges a partial assignment (`None` = factor not yet chosen) and answers "could this
/// still be part of a valid row?". Rules must be conservative: when a factor they need is
/// unassigned they answer `true`. The generators assign factors one at a time and prune with
/// these answers, so a rule that only decides once everything is assigned still works but
/// makes the search slow for many factors.
///
/// ```
/// use flags_test::cover::{Constraints, Setting};
///
/// let on = |factor| Setting::new(factor, 1);
/// let constraints = Constraints::new()
///     .requires(on(1), on(0)) // 1 on => 0 on
///     .excludes(on(2), on(3)) // never 2 on and 3 on together
///     .custom_over("at most one of 4, 5, 6", [4, 5, 6], |row| {
///         row[4..7].iter().filter(|v| **v == Some(1)).count() <= 1
///     });
/// let mut row = vec![Some(1), Some(1), Some(0), None, Some(1), None, Some(1)];
/// assert!(!constraints.allows(&row));
/// row[6] = Some(0);
/// assert!(constraints.allows(&row));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    pub(crate) rules: Vec<Rule>,
}

impl Constraints {
    /// No rules: every combination is valid.
    pub fn new() -> Self {
        Self::default()
    }

    /// These rules and `other`'s together (both must hold).
    #[must_use]
    pub fn and(mut self, other: &Constraints) -> Self {
        self.rules.extend(other.rules.iter().cloned());
        self
    }

    /// Whenever `when` holds, `then` must hold too (a flag at a level requires another flag
    /// at a level).
    #[must_use]
    pub fn requires(mut self, when: Setting, then: Setting) -> Self {
        self.rules.push(Rule::Requires { when, then });
        self
    }

    /// `a` and `b` never hold together.
    #[must_use]
    pub fn excludes(mut self, a: Setting, b: Setting) -> Self {
        self.rules.push(Rule::Excludes { a, b });
        self
    }

    /// An arbitrary rule that may read any factor. See the type's documentation for what
    /// `check` must answer.
    #[must_use]
    pub fn custom<F>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn(&[Option<u16>]) -> bool + Send + Sync + 'static,
    {
        self.rules.push(Rule::Custom {
            name: name.into(),
            scope: None,
            check: Arc::new(check),
        });
        self
    }

    /// An arbitrary rule that reads only the factors in `scope`. Knowing the scope lets the
    /// generators skip the other factors when they look for valid rows, which matters when
    /// there are many factors. The closure still receives the whole row, but its answer must
    /// not depend on factors outside `scope`: the generators re-check only the rules whose
    /// scope holds a factor they changed.
    #[must_use]
    pub fn custom_over<F>(
        mut self,
        name: impl Into<String>,
        scope: impl IntoIterator<Item = usize>,
        check: F,
    ) -> Self
    where
        F: Fn(&[Option<u16>]) -> bool + Send + Sync + 'static,
    {
        self.rules.push(Rule::Custom {
            name: name.into(),
            scope: Some(scope.into_iter().collect()),
            check: Arc::new(check),
        });
        self
    }

    /// Whether the (partial) assignment may still be part of a valid row.
    pub fn allows(&self, partial: &[Option<u16>]) -> bool {
        self.rules.iter().all(|rule| rule.allows(partial))
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }
}

/// How [`generate`](super::generate) chooses rows.
///
/// ```
/// use flags_test::cover::Coverage;
///
/// assert_eq!(Coverage::pairwise(), Coverage::TWise(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every valid combination: pinned rows first, then the rest in lexicographic order
    /// (factor 0 most significant). Fails with [`CoverError::TooManyCombinations`] when there
    /// would be more than `limit` rows.
    Exhaustive {
        /// The most rows the caller accepts.
        limit: usize,
    },
    /// A covering array of the given strength `t` (1 ≤ t ≤ number of factors): every
    /// feasible combination of levels of any `t` factors appears in some row.
    TWise(u8),
    /// The pinned rows followed by `count` distinct valid rows drawn with a generator seeded
    /// by `seed` (fewer when the constraints leave fewer distinct rows). The same seed always
    /// gives the same rows. Draws are uniform over the valid rows when there are at most
    /// 65536 combinations or no constraints; otherwise each factor's level is drawn
    /// uniformly among those the constraints still allow.
    Random {
        /// How many rows to draw besides the pinned ones.
        count: usize,
        /// Seed of the draw.
        seed: u64,
    },
}

impl Coverage {
    /// `TWise(2)`: every pair of levels of every two factors.
    pub const fn pairwise() -> Self {
        Self::TWise(2)
    }
}

/// The rows a matrix run executes.
///
/// ```
/// use flags_test::cover::{generate, Constraints, Factor, Coverage};
///
/// let factors = [Factor::boolean("search_v2_stable"), Factor::new("checkout_layout", ["classic", "compact"])];
/// let plan = generate(&factors, &Coverage::Exhaustive { limit: 16 }, &Constraints::new(), &[vec![1, 1]])?;
/// assert_eq!(plan.len(), 4);
/// assert_eq!(plan.label(0), "search_v2_stable=on, checkout_layout=compact");
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The factors, as given to [`generate`](super::generate).
    pub factors: Vec<Factor>,
    /// The rows, pinned rows first; each holds one level index per factor.
    pub rows: Vec<Row>,
    /// The strength `t` for t-wise plans.
    pub strength: Option<u8>,
    /// For t-wise plans, the tuples of `t` settings that no valid row can contain, in a
    /// stable order; they are not required to be covered.
    pub infeasible: Vec<Tuple>,
}

impl Plan {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// `(factor name, level name)` for every factor of row `row`.
    ///
    /// # Panics
    ///
    /// When `row` is out of range, like slice indexing.
    pub fn settings(&self, row: usize) -> Vec<(&str, &str)> {
        self.factors
            .iter()
            .zip(&self.rows[row])
            .map(|(factor, &level)| {
                let level = factor
                    .levels
                    .get(usize::from(level))
                    .map_or("?", String::as_str);
                (factor.name.as_str(), level)
            })
            .collect()
    }

    /// The row as `name=level, name=level`, e.g. `search_v2_stable=on, checkout_layout=compact`.
    ///
    /// # Panics
    ///
    /// When `row` is out of range, like slice indexing.
    pub fn label(&self, row: usize) -> String {
        let parts: Vec<String> = self
            .settings(row)
            .into_iter()
            .map(|(name, level)| format!("{name}={level}"))
            .collect();
        parts.join(", ")
    }
}

/// Why a plan could not be made.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CoverError {
    /// A factor has an empty level list.
    #[error("factor `{factor}` has no levels; give it at least one value")]
    NoLevels {
        /// The factor's name.
        factor: String,
    },
    /// A factor has more levels than a `u16` index can address.
    #[error("factor `{factor}` has {levels} levels; at most 65535 are supported")]
    TooManyLevels {
        /// The factor's name.
        factor: String,
        /// How many levels it has.
        levels: usize,
    },
    /// Two factors share a name.
    #[error("factor `{name}` is listed twice; factor names must be unique")]
    DuplicateFactor {
        /// The repeated name.
        name: String,
    },
    /// The t-wise strength is 0 or larger than the number of factors.
    #[error(
        "strength {strength} is not in 1..={factors} for {factors} factors; lower it or use Coverage::Exhaustive"
    )]
    BadStrength {
        /// The requested strength.
        strength: usize,
        /// The number of factors.
        factors: usize,
    },
    /// The strength is too high for the number of factors to track every tuple.
    #[error(
        "strength {strength} over {factors} factors means tracking more than {limit} tuples; lower the strength"
    )]
    TooManyTuples {
        /// The requested strength.
        strength: usize,
        /// The number of factors.
        factors: usize,
        /// The most tuples supported.
        limit: u64,
    },
    /// A constraint names a factor or level that does not exist.
    #[error(
        "constraint {rule} refers to factor {factor} level {level}, which does not exist among the {factors} factors"
    )]
    UnknownSetting {
        /// The constraint.
        rule: String,
        /// The factor index it names.
        factor: usize,
        /// The level index it names (0 for a custom rule's scope).
        level: u16,
        /// The number of factors.
        factors: usize,
    },
    /// A row (a pinned row for [`generate`](super::generate)) has the wrong number of entries.
    #[error("row {row} has {len} entries but there are {factors} factors")]
    RowLength {
        /// Index of the row in the list passed in.
        row: usize,
        /// Its number of entries.
        len: usize,
        /// The number of factors.
        factors: usize,
    },
    /// A row (a pinned row for [`generate`](super::generate)) uses a level a factor does not have.
    #[error("row {row} sets factor `{factor}` to level {level}, but it has only {levels} levels")]
    RowLevel {
        /// Index of the row in the list passed in.
        row: usize,
        /// The factor's name.
        factor: String,
        /// The level index.
        level: u16,
        /// How many levels the factor has.
        levels: usize,
    },
    /// A pinned row breaks a constraint.
    #[error("pinned row {row} ({label}) violates the constraints; fix the row or the constraints")]
    PinnedViolates {
        /// Index of the row in the pinned list.
        row: usize,
        /// The row as `name=level, ...`.
        label: String,
    },
    /// No combination satisfies the constraints.
    #[error("the constraints exclude every combination, so there is nothing to run")]
    Unsatisfiable,
    /// An exhaustive plan would exceed the caller's limit.
    #[error(
        "more than {limit} valid combinations; raise the limit or use a t-wise strategy such as pairwise"
    )]
    TooManyCombinations {
        /// The caller's limit.
        limit: usize,
    },
}
