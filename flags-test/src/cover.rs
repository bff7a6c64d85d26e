//! Which flag combinations a matrix run executes.
//!
//! Running a test under every combination of flag values ([`Strategy::Exhaustive`]) grows
//! exponentially with the number of flags. A covering array of strength `t`
//! ([`Strategy::TWise`]) instead guarantees that every combination of values of any `t` flags
//! appears in at least one row, which exercises every fault caused by the interaction of at
//! most `t` flags with far fewer rows: pairwise coverage of 1000 boolean flags takes 14 rows.
//! [`Constraints`] keep combinations that must never run out of every row; value tuples that
//! no valid row can contain are reported in [`Plan::infeasible`] instead of being required.
//! Pinned rows (all on, all off, the defaults) are always part of the plan and count toward
//! coverage. Every strategy is deterministic: the same input gives the same plan.
//!
//! # How t-wise plans are built
//!
//! 1. **Constructions.** Pairwise coverage of boolean flags uses the Kleitman–Spencer
//!    construction (see [`kleitman_spencer_rows`]), which is optimal. Up to `q + 1` factors with
//!    at most `q` levels, `q` a prime power, get the Reed–Solomon orthogonal array of strength
//!    `t` over GF(`q`): `q^t` rows, optimal when every factor has `q` levels. Without
//!    constraints an optimal construction is returned as it is.
//! 2. **Greedy.** Otherwise rows are added one at a time, AETG style: each candidate row starts
//!    from an uncovered tuple and fixes the remaining factors one by one to the level that
//!    covers the most new tuples, staying inside the constraints; the best of a few seeded
//!    candidates is kept. With constraints and a construction, the construction's rows are
//!    first moved into the constraints and the search of step 3 covers what they miss.
//! 3. **Shrinking.** The row that covers the fewest tuples alone is dropped and a tabu search
//!    (after Nurmela's search for covering arrays) changes the other rows until every
//!    feasible tuple is covered again; this repeats until the search gives up or a lower
//!    bound is met. The search stops after a number of moves fixed by the problem's size, so
//!    with its fixed seed the result is the same on every machine.
//!
//! Sizes reached (pairwise, no constraints): 2^10 → 6 rows, 2^20 → 8, 2^100 → 10,
//! 2^1000 → 14 (all optimal), 3^4 → 9 and 4^5 → 16 (optimal), 3^13 → 15 (the best known),
//! 2^5 3^4 → 10 (optimal: 9 rows would need the ternary columns to form the affine plane of
//! order 3, whose points cannot be 2-coloured without a one-coloured line).
//!
//! ```
//! use flags_test::cover::{generate, Constraints, Factor, Setting, Strategy};
//!
//! let factors: Vec<Factor> = (0..10).map(|i| Factor::boolean(format!("flag_{i}"))).collect();
//! let plan = generate(&factors, &Strategy::pairwise(), &Constraints::new(), &[])?;
//! assert_eq!(plan.rows.len(), 6);
//!
//! // Flag 1 can only be on when flag 0 is on.
//! let constraints = Constraints::new().requires(Setting::new(1, 1), Setting::new(0, 1));
//! let plan = generate(&factors, &Strategy::pairwise(), &constraints, &[])?;
//! assert!(plan.rows.iter().all(|row| row[1] == 0 || row[0] == 1));
//! # Ok::<(), flags_test::cover::CoverError>(())
//! ```

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use thiserror::Error;

/// One combination: the level index of every factor, in factor order.
pub type Row = Vec<u16>;

/// The most value tuples a t-wise plan may track; beyond it the strength is too high for
/// the number of factors.
const MAX_TUPLES: u64 = 1 << 24;

/// Spaces with at most this many combinations are enumerated for random sampling.
const ENUMERATE_FOR_SAMPLING: u64 = 1 << 16;

/// Seed of the search behind t-wise plans; fixed so that plans are reproducible.
const SEARCH_SEED: u64 = 0x5eed_f1a6_c0de_0001;

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

    fn label(self, factors: &[Factor]) -> String {
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
type Check = Arc<dyn Fn(&[Option<u16>]) -> bool + Send + Sync>;

#[derive(Clone)]
enum Rule {
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
    fn allows(&self, partial: &[Option<u16>]) -> bool {
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
    fn allows_complete(&self, value: impl Fn(usize) -> u16) -> Option<bool> {
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
    fn scope(&self) -> Option<Vec<usize>> {
        match self {
            Self::Requires { when: a, then: b } | Self::Excludes { a, b } => {
                Some(vec![a.factor, b.factor])
            }
            Self::Custom { scope, .. } => scope.clone(),
        }
    }

    fn describe(&self) -> String {
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
    rules: Vec<Rule>,
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

/// How [`generate`] chooses rows.
///
/// ```
/// use flags_test::cover::Strategy;
///
/// assert_eq!(Strategy::pairwise(), Strategy::TWise(2));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Strategy {
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

impl Strategy {
    /// `TWise(2)`: every pair of levels of every two factors.
    pub const fn pairwise() -> Self {
        Self::TWise(2)
    }
}

/// The rows a matrix run executes.
///
/// ```
/// use flags_test::cover::{generate, Constraints, Factor, Strategy};
///
/// let factors = [Factor::boolean("search_v2_stable"), Factor::new("checkout_layout", ["classic", "compact"])];
/// let plan = generate(&factors, &Strategy::Exhaustive { limit: 16 }, &Constraints::new(), &[vec![1, 1]])?;
/// assert_eq!(plan.len(), 4);
/// assert_eq!(plan.label(0), "search_v2_stable=on, checkout_layout=compact");
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The factors, as given to [`generate`].
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
        "strength {strength} is not in 1..={factors} for {factors} factors; lower it or use Strategy::Exhaustive"
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
    /// A row (a pinned row for [`generate`]) has the wrong number of entries.
    #[error("row {row} has {len} entries but there are {factors} factors")]
    RowLength {
        /// Index of the row in the list passed in.
        row: usize,
        /// Its number of entries.
        len: usize,
        /// The number of factors.
        factors: usize,
    },
    /// A row (a pinned row for [`generate`]) uses a level a factor does not have.
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

/// Generates the rows of a matrix run.
///
/// `pinned` rows come first, in the order given (duplicates dropped); they must satisfy the
/// constraints, and for t-wise plans they count toward coverage. See [`Strategy`] for the
/// modes and the module documentation for how t-wise plans are built.
///
/// ```
/// use flags_test::cover::{generate, Constraints, Factor, Strategy};
///
/// let factors: Vec<Factor> = (0..4).map(|i| Factor::new(format!("f{i}"), ["a", "b", "c"])).collect();
/// let all_a = vec![0; 4];
/// let plan = generate(&factors, &Strategy::pairwise(), &Constraints::new(), &[all_a.clone()])?;
/// assert_eq!(plan.rows.len(), 9);
/// assert_eq!(plan.rows[0], all_a);
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
pub fn generate(
    factors: &[Factor],
    strategy: &Strategy,
    constraints: &Constraints,
    pinned: &[Row],
) -> Result<Plan, CoverError> {
    let levels = validate_factors(factors)?;
    validate_constraints(constraints, &levels)?;
    validate_rows(factors, &levels, pinned)?;
    let checker = Checker::new(&levels, constraints);
    let mut seen = HashSet::new();
    let mut rows: Vec<Row> = Vec::new();
    for (index, row) in pinned.iter().enumerate() {
        let partial: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
        if !checker.allows(&partial) {
            let label = labelled(factors, row);
            return Err(CoverError::PinnedViolates { row: index, label });
        }
        if seen.insert(row.clone()) {
            rows.push(row.clone());
        }
    }
    if rows.is_empty()
        && checker
            .complete(&vec![None; levels.len()], &mut |_, _| {})
            .is_none()
    {
        return Err(CoverError::Unsatisfiable);
    }
    let mut plan = Plan {
        factors: factors.to_vec(),
        rows: Vec::new(),
        strength: None,
        infeasible: Vec::new(),
    };
    match *strategy {
        Strategy::Exhaustive { limit } => plan.rows = exhaustive(&checker, rows, limit)?,
        Strategy::Random { count, seed } => plan.rows = sample(&checker, rows, count, seed),
        Strategy::TWise(strength) => {
            let (rows, infeasible) = t_wise(&checker, usize::from(strength), rows)?;
            plan.rows = rows;
            plan.infeasible = infeasible;
            plan.strength = Some(strength);
        }
    }
    Ok(plan)
}

/// The number of rows of an optimal pairwise covering array of `k` boolean factors: the least
/// `N` with `C(N - 1, ceil(N / 2)) >= k` (Kleitman and Spencer, 1973; Katona, 1973).
///
/// [`generate`] reaches exactly this size for unconstrained boolean flags with at most one
/// pinned row. The function is meant for `k >= 2`; it returns 2 for `k = 1` and 1 for `k = 0`.
///
/// ```
/// use flags_test::cover::kleitman_spencer_rows;
///
/// assert_eq!(kleitman_spencer_rows(10), 6);
/// assert_eq!(kleitman_spencer_rows(1000), 14);
/// ```
pub fn kleitman_spencer_rows(k: usize) -> usize {
    let k = k as u128;
    let mut n = 1usize;
    while binomial(n - 1, n.div_ceil(2)) < k {
        n += 1;
    }
    n
}

/// The feasible tuples of `t` settings that none of `rows` contains; empty when `rows` is a
/// t-wise covering array for `factors` under `constraints`.
///
/// Rows are only checked for shape (one valid level per factor), not against the
/// constraints; a tuple no valid row can contain is never reported.
///
/// ```
/// use flags_test::cover::{uncovered_tuples, Constraints, Factor, Setting, Tuple};
///
/// let factors = [Factor::boolean("a"), Factor::boolean("b")];
/// let rows = [vec![0, 0], vec![1, 1], vec![0, 1]];
/// let missing = uncovered_tuples(&factors, &rows, 2, &Constraints::new())?;
/// assert_eq!(missing, [Tuple { settings: vec![Setting::new(0, 1), Setting::new(1, 0)] }]);
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
pub fn uncovered_tuples(
    factors: &[Factor],
    rows: &[Row],
    t: usize,
    constraints: &Constraints,
) -> Result<Vec<Tuple>, CoverError> {
    let levels = validate_factors(factors)?;
    validate_constraints(constraints, &levels)?;
    validate_rows(factors, &levels, rows)?;
    let checker = Checker::new(&levels, constraints);
    let universe = Universe::build(&checker, t)?;
    let cover = Cover::new(&universe, rows.to_vec(), rows.len());
    let mut open = cover.open.clone();
    open.sort_unstable();
    Ok(open
        .into_iter()
        .map(|tuple| universe.tuple(tuple as usize))
        .collect())
}

fn labelled(factors: &[Factor], row: &[u16]) -> String {
    let parts: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(factor, &level)| Setting::new(factor, level).label(factors))
        .collect();
    parts.join(", ")
}

fn validate_factors(factors: &[Factor]) -> Result<Vec<u16>, CoverError> {
    let mut names = HashSet::new();
    factors
        .iter()
        .map(|factor| {
            if !names.insert(factor.name.as_str()) {
                return Err(CoverError::DuplicateFactor {
                    name: factor.name.clone(),
                });
            }
            match u16::try_from(factor.levels.len()) {
                Ok(0) => Err(CoverError::NoLevels {
                    factor: factor.name.clone(),
                }),
                Ok(levels) => Ok(levels),
                Err(_) => Err(CoverError::TooManyLevels {
                    factor: factor.name.clone(),
                    levels: factor.levels.len(),
                }),
            }
        })
        .collect()
}

fn validate_constraints(constraints: &Constraints, levels: &[u16]) -> Result<(), CoverError> {
    for rule in &constraints.rules {
        let unknown = |factor: usize, level: u16| CoverError::UnknownSetting {
            rule: rule.describe(),
            factor,
            level,
            factors: levels.len(),
        };
        match rule {
            Rule::Requires { when: a, then: b } | Rule::Excludes { a, b } => {
                for s in [a, b] {
                    if levels.get(s.factor).is_none_or(|&n| s.level >= n) {
                        return Err(unknown(s.factor, s.level));
                    }
                }
            }
            Rule::Custom {
                scope: Some(scope), ..
            } => {
                if let Some(&factor) = scope.iter().find(|&&f| f >= levels.len()) {
                    return Err(unknown(factor, 0));
                }
            }
            Rule::Custom { scope: None, .. } => {}
        }
    }
    Ok(())
}

fn validate_rows(factors: &[Factor], levels: &[u16], rows: &[Row]) -> Result<(), CoverError> {
    for (index, row) in rows.iter().enumerate() {
        if row.len() != levels.len() {
            return Err(CoverError::RowLength {
                row: index,
                len: row.len(),
                factors: levels.len(),
            });
        }
        if let Some(factor) = (0..row.len()).find(|&f| row[f] >= levels[f]) {
            return Err(CoverError::RowLevel {
                row: index,
                factor: factors[factor].name.clone(),
                level: row[factor],
                levels: usize::from(levels[factor]),
            });
        }
    }
    Ok(())
}

/// `C(n, r)`, or `u128::MAX` when it does not fit.
fn binomial(n: usize, r: usize) -> u128 {
    if r > n {
        return 0;
    }
    let r = r.min(n - r);
    let mut acc = 1u128;
    for i in 0..r {
        // acc = C(n, i), so acc * (n - i) = C(n, i + 1) * (i + 1) divides exactly.
        match acc.checked_mul((n - i) as u128) {
            Some(product) => acc = product / (i as u128 + 1),
            None => return u128::MAX,
        }
    }
    acc
}

// ---------------------------------------------------------------------------------------
// Constraint checking and search for valid rows
// ---------------------------------------------------------------------------------------

/// Writes `row` with `changes` applied into `partial`, every factor assigned.
fn fill(partial: &mut Vec<Option<u16>>, row: &[u16], changes: &[(usize, u16)]) {
    partial.clear();
    partial.extend(row.iter().copied().map(Some));
    for &(c, level) in changes {
        partial[c] = Some(level);
    }
}

/// Reorders the candidate levels of a factor in place, most preferred first.
type Order<'o> = dyn FnMut(usize, &mut Vec<u16>) + 'o;

/// The constraints over concrete factors, with the search for valid rows.
struct Checker<'a> {
    levels: Vec<u16>,
    rules: &'a [Rule],
    /// Factors some rule reads, in index order; the others can take any level.
    relevant: Vec<usize>,
    /// The rules with a declared scope that read each factor.
    by_factor: Vec<Vec<usize>>,
    /// Whether some custom rule may read any factor.
    unscoped: bool,
}

impl<'a> Checker<'a> {
    fn new(levels: &[u16], constraints: &'a Constraints) -> Self {
        let mut relevant = vec![false; levels.len()];
        let mut by_factor = vec![Vec::new(); levels.len()];
        let mut unscoped = false;
        for (index, rule) in constraints.rules.iter().enumerate() {
            match rule.scope() {
                Some(scope) => {
                    for f in scope {
                        relevant[f] = true;
                        if by_factor[f].last() != Some(&index) {
                            by_factor[f].push(index);
                        }
                    }
                }
                None => {
                    relevant.iter_mut().for_each(|r| *r = true);
                    unscoped = true;
                }
            }
        }
        Self {
            levels: levels.to_vec(),
            rules: &constraints.rules,
            relevant: (0..levels.len()).filter(|&f| relevant[f]).collect(),
            by_factor,
            unscoped,
        }
    }

    fn k(&self) -> usize {
        self.levels.len()
    }

    fn unconstrained(&self) -> bool {
        self.rules.is_empty()
    }

    fn allows(&self, partial: &[Option<u16>]) -> bool {
        self.rules.iter().all(|rule| rule.allows(partial))
    }

    fn allows_row(&self, row: &[u16]) -> bool {
        let mut scratch = Vec::new();
        fill(&mut scratch, row, &[]);
        self.allows(&scratch)
    }

    /// Whether the valid `row` with `changes` applied is still valid. Only the rules that
    /// read a changed factor can break; `scratch` is working space.
    fn allows_changed(
        &self,
        row: &[u16],
        changes: &[(usize, u16)],
        scratch: &mut Vec<Option<u16>>,
    ) -> bool {
        if self.unscoped {
            fill(scratch, row, changes);
            return self.allows(scratch);
        }
        let value = |f: usize| {
            changes
                .iter()
                .find(|change| change.0 == f)
                .map_or(row[f], |change| change.1)
        };
        let mut filled = false;
        changes.iter().all(|&(c, _)| {
            self.by_factor[c].iter().all(|&r| {
                let rule = &self.rules[r];
                rule.allows_complete(value).unwrap_or_else(|| {
                    if !filled {
                        fill(scratch, row, changes);
                        filled = true;
                    }
                    rule.allows(scratch)
                })
            })
        })
    }

    /// The levels of unassigned factor `f` that the rules allow next to `partial`.
    fn domain(&self, partial: &mut [Option<u16>], f: usize, out: &mut Vec<u16>) {
        out.clear();
        for level in 0..self.levels[f] {
            partial[f] = Some(level);
            if self.allows(partial) {
                out.push(level);
            }
        }
        partial[f] = None;
    }

    /// Whether `partial` is allowed and every unassigned relevant factor still has a level.
    fn consistent(&self, partial: &mut [Option<u16>]) -> bool {
        if !self.allows(partial) {
            return false;
        }
        self.relevant.iter().all(|&f| {
            partial[f].is_some()
                || (0..self.levels[f]).any(|level| {
                    partial[f] = Some(level);
                    let ok = self.allows(partial);
                    partial[f] = None;
                    ok
                })
        })
    }

    /// A valid row that agrees with `partial`, or `None` when there is none. Levels are
    /// tried in the order `order` puts them in.
    fn complete(&self, partial: &[Option<u16>], order: &mut Order<'_>) -> Option<Row> {
        let mut work = partial.to_vec();
        if !self.search(&mut work, &self.relevant, order) {
            return None;
        }
        let mut candidates = Vec::new();
        let row: Row = work
            .iter()
            .enumerate()
            .map(|(f, level)| {
                level.unwrap_or_else(|| {
                    candidates.clear();
                    candidates.extend(0..self.levels[f]);
                    order(f, &mut candidates);
                    candidates.first().copied().unwrap_or(0)
                })
            })
            .collect();
        if self.allows_row(&row) {
            return Some(row);
        }
        // A custom rule read a factor outside its declared scope; search over every factor.
        let all: Vec<usize> = (0..self.k()).collect();
        let mut work = partial.to_vec();
        if self.search(&mut work, &all, order) {
            Some(work.iter().map(|level| level.unwrap_or(0)).collect())
        } else {
            None
        }
    }

    /// Depth-first search with forward checking over `vars`, choosing the factor with the
    /// fewest allowed levels first. On success every factor in `vars` is assigned.
    fn search(&self, partial: &mut [Option<u16>], vars: &[usize], order: &mut Order<'_>) -> bool {
        struct Frame {
            factor: usize,
            levels: Vec<u16>,
            next: usize,
        }
        if !self.allows(partial) {
            return false;
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut domain = Vec::new();
        loop {
            let mut pick: Option<(usize, Vec<u16>)> = None;
            let mut dead_end = false;
            for &f in vars {
                if partial[f].is_some() {
                    continue;
                }
                self.domain(partial, f, &mut domain);
                if domain.is_empty() {
                    dead_end = true;
                    break;
                }
                if pick
                    .as_ref()
                    .is_none_or(|(_, best)| domain.len() < best.len())
                {
                    pick = Some((f, domain.clone()));
                    if domain.len() == 1 {
                        break;
                    }
                }
            }
            if !dead_end {
                match pick {
                    None => return true,
                    Some((factor, mut levels)) => {
                        order(factor, &mut levels);
                        stack.push(Frame {
                            factor,
                            levels,
                            next: 0,
                        });
                    }
                }
            }
            // Assign the next untried level of the innermost factor, backtracking as needed.
            loop {
                let Some(top) = stack.last_mut() else {
                    return false;
                };
                if let Some(&level) = top.levels.get(top.next) {
                    top.next += 1;
                    partial[top.factor] = Some(level);
                    break;
                }
                partial[top.factor] = None;
                stack.pop();
            }
        }
    }

    /// Calls `emit` with every valid row in lexicographic order until it returns `false`.
    fn enumerate(&self, mut emit: impl FnMut(&[u16]) -> bool) {
        let k = self.k();
        let mut partial = vec![None; k];
        if !self.consistent(&mut partial) {
            return;
        }
        if k == 0 {
            emit(&[]);
            return;
        }
        let mut next = vec![0u16; k];
        let mut row = vec![0u16; k];
        let mut depth = 0;
        loop {
            let mut advanced = false;
            while next[depth] < self.levels[depth] {
                let level = next[depth];
                next[depth] += 1;
                partial[depth] = Some(level);
                if self.consistent(&mut partial) {
                    row[depth] = level;
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                partial[depth] = None;
                if depth == 0 {
                    return;
                }
                depth -= 1;
            } else if depth + 1 == k {
                if !emit(&row) {
                    return;
                }
            } else {
                depth += 1;
                next[depth] = 0;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Exhaustive and random plans
// ---------------------------------------------------------------------------------------

fn exhaustive(
    checker: &Checker<'_>,
    pinned: Vec<Row>,
    limit: usize,
) -> Result<Vec<Row>, CoverError> {
    if pinned.len() > limit {
        return Err(CoverError::TooManyCombinations { limit });
    }
    let seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned;
    let mut over = false;
    checker.enumerate(|row| {
        if seen.contains(row) {
            return true;
        }
        if rows.len() == limit {
            over = true;
            return false;
        }
        rows.push(row.to_vec());
        true
    });
    if over {
        Err(CoverError::TooManyCombinations { limit })
    } else {
        Ok(rows)
    }
}

fn sample(checker: &Checker<'_>, pinned: Vec<Row>, count: usize, seed: u64) -> Vec<Row> {
    let mut rng = SplitMix64::new(seed);
    let mut seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned;
    let target = rows.len().saturating_add(count);
    let space = checker
        .levels
        .iter()
        .fold(1u64, |acc, &n| acc.saturating_mul(u64::from(n)));
    if space <= ENUMERATE_FOR_SAMPLING {
        // Small space: a seeded shuffle of all valid rows gives distinct rows uniformly.
        let mut all = Vec::new();
        checker.enumerate(|row| {
            all.push(row.to_vec());
            true
        });
        for i in 0..all.len() {
            if rows.len() >= target {
                break;
            }
            let j = i + rng.below(all.len() - i);
            all.swap(i, j);
            if seen.insert(all[i].clone()) {
                rows.push(all[i].clone());
            }
        }
    } else {
        let none = vec![None; checker.k()];
        let mut attempts = count.saturating_mul(8).saturating_add(64);
        while rows.len() < target && attempts > 0 {
            attempts -= 1;
            let drawn = checker.complete(&none, &mut |_, levels| rng.shuffle(levels));
            if let Some(row) = drawn
                && seen.insert(row.clone())
            {
                rows.push(row);
            }
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------
// t-wise plans
// ---------------------------------------------------------------------------------------

fn t_wise(
    checker: &Checker<'_>,
    t: usize,
    pinned: Vec<Row>,
) -> Result<(Vec<Row>, Vec<Tuple>), CoverError> {
    let levels = &checker.levels;
    let k = levels.len();
    if t == 0 || t > k {
        return Err(CoverError::BadStrength {
            strength: t,
            factors: k,
        });
    }
    // The construction ignores the constraints; with constraints it is only a start.
    let construction = if t == 2 && levels.iter().all(|&n| n == 2) {
        Some(ks_rows(k, pinned.first()))
    } else {
        rs_rows(levels, t, pinned.first())
    };
    if t == 2 && levels.iter().all(|&n| n == 2) && checker.unconstrained() {
        // Optimal (Kleitman–Spencer) with at most one pinned row, which becomes one of its
        // rows; with more, at most `pinned.len() - 1` rows above optimal, and for many flags
        // the search below would be slow for little gain.
        let rows = with_pinned(&pinned, construction.clone().unwrap_or_default());
        if pinned.len() <= 1 || binomial(k, 2) > 50_000 {
            return Ok((rows, Vec::new()));
        }
    }
    let universe = Universe::build(checker, t)?;
    let infeasible = universe.infeasible();
    let bound = universe.lower_bound().max(pinned.len());
    let mut rng = SplitMix64::new(SEARCH_SEED);
    let fresh = |rows: Vec<Row>| Cover::new(&universe, rows, pinned.len());
    let mut cover = match construction {
        Some(rows) if checker.unconstrained() => {
            let rows = with_pinned(&pinned, rows);
            if rows.len() <= bound {
                return Ok((rows, infeasible));
            }
            // Greedy from scratch may still beat a construction made for a larger field.
            let mut greedy = fresh(pinned.clone());
            fill_greedily(&mut greedy, checker, &mut rng);
            if greedy.rows.len() < rows.len() {
                greedy
            } else {
                fresh(rows)
            }
        }
        Some(rows) => {
            // The construction's rows moved into the constraints, the search run to cover
            // what they miss, and greedy rows for whatever remains: close to the
            // construction's size when the constraints are few.
            let none = vec![None; k];
            let fitted = rows
                .iter()
                .filter_map(|row| checker.complete(&none, &mut |f, levels| prefer(levels, row[f])))
                .collect();
            let mut cover = fresh(with_pinned(&pinned, fitted));
            if !repair(&mut cover, checker, &mut rng) {
                fill_greedily(&mut cover, checker, &mut rng);
            }
            cover
        }
        None => {
            let mut cover = fresh(pinned.clone());
            fill_greedily(&mut cover, checker, &mut rng);
            cover
        }
    };
    let rows = shrink(&mut cover, checker, bound, &mut rng);
    Ok((rows, infeasible))
}

fn with_pinned(pinned: &[Row], construction: Vec<Row>) -> Vec<Row> {
    let mut seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned.to_vec();
    rows.extend(
        construction
            .into_iter()
            .filter(|row| seen.insert(row.clone())),
    );
    rows
}

/// The Kleitman–Spencer pairwise covering array for `k` boolean factors, with its first row
/// equal to `first` (all zeros by default).
///
/// Let `N = kleitman_spencer_rows(k)` and `w = ceil(N / 2)`. Column `j` is the indicator
/// vector of the `j`-th `w`-subset of rows `{1, .., N-1}` (row 0 is all zeros). There are
/// `C(N-1, w) >= k` such subsets, so the columns are distinct. Every two columns `A != B`
/// cover all four pairs:
/// - `00` in row 0, where every column is 0;
/// - `10` and `01`: `A` and `B` are distinct sets of the same size `w`, so neither contains
///   the other; a row in `A \ B` reads `10`, a row in `B \ A` reads `01`;
/// - `11`: `|A| + |B| = 2w >= N > N - 1`, so two `w`-subsets of an `(N-1)`-set intersect,
///   and a row in `A ∩ B` reads `11`.
///
/// Flipping both levels of a column keeps every pair of columns covering all four pairs, so
/// flipping the columns where `first` is 1 makes row 0 equal to `first`.
fn ks_rows(k: usize, first: Option<&Row>) -> Vec<Row> {
    let n = kleitman_spencer_rows(k);
    let w = n.div_ceil(2);
    let mut rows = vec![vec![0u16; k]; n];
    let mut subset: Vec<usize> = (1..=w).collect();
    let mut columns = Vec::with_capacity(k);
    while columns.len() < k {
        columns.push(subset.clone());
        // Next w-subset of {1, .., n-1} in lexicographic order.
        if let Some(i) = (0..w).rev().find(|&i| subset[i] < n - w + i) {
            subset[i] += 1;
            for j in i + 1..w {
                subset[j] = subset[j - 1] + 1;
            }
        }
    }
    for (col, ones) in columns.iter().enumerate() {
        for &r in ones {
            rows[r][col] = 1;
        }
    }
    if let Some(first) = first {
        for row in &mut rows {
            for (value, flip) in row.iter_mut().zip(first) {
                *value ^= flip;
            }
        }
    }
    rows
}

/// The finite field GF(q) for a prime power `q`, as addition and multiplication tables.
struct Field {
    q: usize,
    add: Vec<u16>,
    mul: Vec<u16>,
}

impl Field {
    fn new(q: usize) -> Option<Self> {
        let (p, m) = prime_power(q)?;
        // Elements are polynomials of degree < m over GF(p), digit i of the base-p number
        // being the coefficient of x^i; multiplication is modulo a monic irreducible `modulus`.
        let digits = |mut e: usize| -> Vec<usize> {
            (0..m)
                .map(|_| {
                    let d = e % p;
                    e /= p;
                    d
                })
                .collect()
        };
        let number = |poly: &[usize]| poly.iter().rev().fold(0, |acc, &d| acc * p + d);
        let modulus = (0..q)
            .map(|low| {
                let mut poly = digits(low);
                poly.push(1);
                poly
            })
            .find(|f| is_irreducible(f, p))?;
        let mut add = vec![0u16; q * q];
        let mut mul = vec![0u16; q * q];
        for a in 0..q {
            let da = digits(a);
            for b in 0..q {
                let db = digits(b);
                let sum: Vec<usize> = da.iter().zip(&db).map(|(x, y)| (x + y) % p).collect();
                let mut product = vec![0; 2 * m];
                for (i, x) in da.iter().enumerate() {
                    for (j, y) in db.iter().enumerate() {
                        product[i + j] = (product[i + j] + x * y) % p;
                    }
                }
                poly_reduce(&mut product, &modulus, p);
                add[a * q + b] = u16::try_from(number(&sum)).ok()?;
                mul[a * q + b] = u16::try_from(number(&product[..m])).ok()?;
            }
        }
        Some(Self { q, add, mul })
    }

    fn add(&self, a: u16, b: u16) -> u16 {
        self.add[usize::from(a) * self.q + usize::from(b)]
    }

    fn mul(&self, a: u16, b: u16) -> u16 {
        self.mul[usize::from(a) * self.q + usize::from(b)]
    }
}

/// `(p, m)` with `q = p^m` for a prime `p`, or `None` when `q` is not a prime power.
fn prime_power(q: usize) -> Option<(usize, usize)> {
    let p = (2..=q).find(|p| q.is_multiple_of(*p))?;
    let mut m = 0;
    let mut rest = q;
    while rest.is_multiple_of(p) {
        rest /= p;
        m += 1;
    }
    (rest == 1).then_some((p, m))
}

/// Replaces `poly` (coefficients low first) by its remainder modulo the monic `modulus`.
fn poly_reduce(poly: &mut [usize], modulus: &[usize], p: usize) {
    let m = modulus.len() - 1;
    for top in (m..poly.len()).rev() {
        let c = poly[top];
        if c != 0 {
            for (i, &coefficient) in modulus.iter().enumerate() {
                let at = top - m + i;
                poly[at] = (poly[at] + (p - c) * coefficient) % p;
            }
        }
    }
}

/// Whether the monic `f` (coefficients low first) has no monic factor of degree 1..=deg/2.
fn is_irreducible(f: &[usize], p: usize) -> bool {
    let m = f.len() - 1;
    (1..=m / 2).all(|d| {
        (0..p.pow(d as u32)).all(|low| {
            let mut divisor: Vec<usize> = (0..d)
                .scan(low, |rest, _| {
                    let digit = *rest % p;
                    *rest /= p;
                    Some(digit)
                })
                .collect();
            divisor.push(1);
            let mut remainder = f.to_vec();
            poly_reduce(&mut remainder, &divisor, p);
            remainder[..d].iter().any(|&c| c != 0)
        })
    })
}

/// The Reed–Solomon orthogonal array of strength `t` collapsed onto `levels`, with its first
/// row equal to `first`, or `None` when no small field fits.
///
/// Over GF(q) with `q >= t` and `k <= q + 1` factors, the rows are the `q^t` polynomials
/// `f` of degree `< t`; column `j < q` holds `f(x_j)` for the `j`-th field element and
/// column `q` the coefficient of `x^(t-1)`. Any `t` columns determine `f` (Lagrange
/// interpolation; with column `q`, interpolate `f - c x^(t-1)` at `t - 1` points), so every
/// `t`-tuple of field elements appears exactly once. Mapping each column's symbols onto the
/// factor's levels by any surjection keeps every tuple of levels present, and permuting a
/// column's symbols keeps the array orthogonal, which places `first` on the zero polynomial.
fn rs_rows(levels: &[u16], t: usize, first: Option<&Row>) -> Option<Vec<Row>> {
    let k = levels.len();
    let widest = usize::from(levels.iter().copied().max()?);
    let need = widest.max(t).max(k.saturating_sub(1)).max(2);
    let q = (need..=256).find(|&q| prime_power(q).is_some())?;
    let size = u32::try_from(t).ok().and_then(|t| q.checked_pow(t))?;
    if size > 1 << 16 {
        return None;
    }
    let field = Field::new(q)?;
    let mut rows = Vec::with_capacity(size);
    let mut coefficients = vec![0u16; t];
    for code in 0..size {
        let mut rest = code;
        for c in &mut coefficients {
            *c = u16::try_from(rest % q).ok()?;
            rest /= q;
        }
        let row: Row = (0..k)
            .map(|j| {
                let symbol = if j < q {
                    let x = j as u16;
                    coefficients
                        .iter()
                        .rev()
                        .fold(0, |acc, &c| field.add(field.mul(acc, x), c))
                } else {
                    coefficients[t - 1]
                };
                let symbol = match first {
                    Some(first) if symbol == 0 => first[j],
                    Some(first) if symbol == first[j] => 0,
                    _ => symbol,
                };
                symbol % levels[j]
            })
            .collect();
        rows.push(row);
    }
    let mut seen = HashSet::new();
    rows.retain(|row| seen.insert(row.clone()));
    Some(rows)
}

/// Every tuple of `t` settings, indexed densely: the `t`-subsets of factors in
/// lexicographic order, and within a subset the level combinations in mixed radix.
struct Universe {
    levels: Vec<u16>,
    t: usize,
    /// `t` factor indices per subset.
    cols: Vec<u32>,
    /// First tuple index of each subset, plus the total at the end.
    offsets: Vec<usize>,
    /// The subsets that contain each factor.
    by_col: Vec<Vec<u32>>,
    /// Whether some valid row contains the tuple.
    feasible: Vec<bool>,
}

impl Universe {
    fn build(checker: &Checker<'_>, t: usize) -> Result<Self, CoverError> {
        let levels = &checker.levels;
        let k = levels.len();
        let too_many = CoverError::TooManyTuples {
            strength: t,
            factors: k,
            limit: MAX_TUPLES,
        };
        if t == 0 || t > k {
            return Err(CoverError::BadStrength {
                strength: t,
                factors: k,
            });
        }
        if binomial(k, t) > u128::from(MAX_TUPLES) {
            return Err(too_many);
        }
        let mut cols = Vec::new();
        let mut offsets = vec![0usize];
        let mut by_col = vec![Vec::new(); k];
        let mut total = 0u64;
        let mut subset: Vec<usize> = (0..t).collect();
        loop {
            let id = u32::try_from(offsets.len() - 1).map_err(|_| too_many.clone())?;
            let mut width = 1u64;
            for &c in &subset {
                width *= u64::from(levels[c]);
                cols.push(c as u32);
                by_col[c].push(id);
            }
            total = total.saturating_add(width);
            if total > MAX_TUPLES {
                return Err(too_many);
            }
            offsets.push(total as usize);
            match (0..t).rev().find(|&i| subset[i] < k - t + i) {
                Some(i) => {
                    subset[i] += 1;
                    for j in i + 1..t {
                        subset[j] = subset[j - 1] + 1;
                    }
                }
                None => break,
            }
        }
        let mut universe = Self {
            levels: levels.clone(),
            t,
            cols,
            offsets,
            by_col,
            feasible: vec![true; total as usize],
        };
        universe.mark_infeasible(checker);
        Ok(universe)
    }

    fn len(&self) -> usize {
        self.feasible.len()
    }

    fn subsets(&self) -> usize {
        self.offsets.len() - 1
    }

    fn cols(&self, s: usize) -> &[u32] {
        &self.cols[s * self.t..(s + 1) * self.t]
    }

    fn index(&self, s: usize, row: &[u16]) -> usize {
        let local = self.cols(s).iter().fold(0, |acc, &c| {
            acc * usize::from(self.levels[c as usize]) + usize::from(row[c as usize])
        });
        self.offsets[s] + local
    }

    /// Like `index`, for `row` with `changes` (factor, level) applied.
    fn index_with(&self, s: usize, row: &[u16], changes: &[(usize, u16)]) -> usize {
        let local = self.cols(s).iter().fold(0, |acc, &c| {
            let c = c as usize;
            let level = changes
                .iter()
                .find(|change| change.0 == c)
                .map_or(row[c], |change| change.1);
            acc * usize::from(self.levels[c]) + usize::from(level)
        });
        self.offsets[s] + local
    }

    /// The subset and the levels (in the subset's factor order) of a tuple index.
    fn decode(&self, tuple: usize, levels: &mut Vec<u16>) -> usize {
        let s = self.offsets.partition_point(|&o| o <= tuple) - 1;
        let mut local = tuple - self.offsets[s];
        levels.clear();
        for &c in self.cols(s).iter().rev() {
            let n = usize::from(self.levels[c as usize]);
            levels.push((local % n) as u16);
            local /= n;
        }
        levels.reverse();
        s
    }

    fn tuple(&self, tuple: usize) -> Tuple {
        let mut levels = Vec::new();
        let s = self.decode(tuple, &mut levels);
        Tuple {
            settings: self
                .cols(s)
                .iter()
                .zip(levels)
                .map(|(&c, level)| Setting::new(c as usize, level))
                .collect(),
        }
    }

    fn infeasible(&self) -> Vec<Tuple> {
        (0..self.len())
            .filter(|&i| !self.feasible[i])
            .map(|i| self.tuple(i))
            .collect()
    }

    /// No plan has fewer rows than the feasible tuples of any one subset, since a row
    /// covers one tuple per subset.
    fn lower_bound(&self) -> usize {
        (0..self.subsets())
            .map(|s| {
                (self.offsets[s]..self.offsets[s + 1])
                    .filter(|&i| self.feasible[i])
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// Marks the tuples that no valid row contains. A subset of factors that no rule reads
    /// has all its tuples feasible (if any row is valid). For the others, each valid row
    /// found for a tuple of unknown status settles every tuple it contains, so few searches
    /// are needed.
    fn mark_infeasible(&mut self, checker: &Checker<'_>) {
        if checker.unconstrained() {
            return;
        }
        let k = self.levels.len();
        let mut relevant = vec![false; k];
        checker.relevant.iter().for_each(|&f| relevant[f] = true);
        let satisfiable = checker.complete(&vec![None; k], &mut |_, _| {}).is_some();
        let mut touched = Vec::new();
        for s in 0..self.subsets() {
            if self.cols(s).iter().any(|&c| relevant[c as usize]) {
                touched.push(s);
            } else {
                self.feasible[self.offsets[s]..self.offsets[s + 1]].fill(satisfiable);
            }
        }
        const UNKNOWN: u8 = 0;
        const FEASIBLE: u8 = 1;
        let mut state = vec![UNKNOWN; self.len()];
        let mut rng = SplitMix64::new(SEARCH_SEED);
        let mut partial = vec![None; k];
        let mut levels = Vec::new();
        for &s in &touched {
            for tuple in self.offsets[s]..self.offsets[s + 1] {
                if state[tuple] != UNKNOWN {
                    continue;
                }
                self.decode(tuple, &mut levels);
                for (&c, &level) in self.cols(s).iter().zip(&levels) {
                    partial[c as usize] = Some(level);
                }
                // Random levels elsewhere make each found row settle many unknown tuples.
                let found = checker
                    .allows(&partial)
                    .then(|| checker.complete(&partial, &mut |_, levels| rng.shuffle(levels)))
                    .flatten();
                match found {
                    Some(row) => {
                        for &s in &touched {
                            state[self.index(s, &row)] = FEASIBLE;
                        }
                    }
                    None => self.feasible[tuple] = false,
                }
                for &c in self.cols(s) {
                    partial[c as usize] = None;
                }
            }
        }
    }
}

/// Rows and how often each tuple is covered, with the set of uncovered feasible tuples.
struct Cover<'u> {
    universe: &'u Universe,
    rows: Vec<Row>,
    /// The first `pinned` rows are never changed or removed.
    pinned: usize,
    count: Vec<u32>,
    /// Uncovered feasible tuples, in no particular order.
    open: Vec<u32>,
    /// Position of each tuple in `open`, or `NOT_OPEN`.
    position: Vec<u32>,
}

const NOT_OPEN: u32 = u32::MAX;

impl<'u> Cover<'u> {
    fn new(universe: &'u Universe, rows: Vec<Row>, pinned: usize) -> Self {
        let n = universe.len();
        // Tuple indices fit in u32 because `MAX_TUPLES` does.
        let open: Vec<u32> = (0..n as u32)
            .filter(|&i| universe.feasible[i as usize])
            .collect();
        let mut position = vec![NOT_OPEN; n];
        for (at, &tuple) in open.iter().enumerate() {
            position[tuple as usize] = at as u32;
        }
        let mut cover = Self {
            universe,
            rows: Vec::with_capacity(rows.len()),
            pinned,
            count: vec![0; n],
            open,
            position,
        };
        for row in rows {
            cover.add_row(row);
        }
        cover
    }

    fn increment(&mut self, tuple: usize) {
        if self.count[tuple] == 0 && self.position[tuple] != NOT_OPEN {
            let at = self.position[tuple] as usize;
            self.open.swap_remove(at);
            if let Some(&moved) = self.open.get(at) {
                self.position[moved as usize] = at as u32;
            }
            self.position[tuple] = NOT_OPEN;
        }
        self.count[tuple] += 1;
    }

    fn decrement(&mut self, tuple: usize) {
        self.count[tuple] -= 1;
        if self.count[tuple] == 0 && self.universe.feasible[tuple] {
            self.position[tuple] = self.open.len() as u32;
            self.open.push(tuple as u32);
        }
    }

    fn add_row(&mut self, row: Row) {
        for s in 0..self.universe.subsets() {
            self.increment(self.universe.index(s, &row));
        }
        self.rows.push(row);
    }

    fn remove_row(&mut self, r: usize) {
        let row = self.rows.swap_remove(r);
        for s in 0..self.universe.subsets() {
            self.decrement(self.universe.index(s, &row));
        }
    }

    /// How many uncovered feasible tuples `row` would cover.
    fn gain(&self, row: &[u16]) -> usize {
        (0..self.universe.subsets())
            .map(|s| self.universe.index(s, row))
            .filter(|&i| self.count[i] == 0 && self.universe.feasible[i])
            .count()
    }

    /// How many tuples only row `r` covers.
    fn unique(&self, r: usize) -> usize {
        (0..self.universe.subsets())
            .filter(|&s| self.count[self.universe.index(s, &self.rows[r])] == 1)
            .count()
    }

    /// Calls `visit(old, new)` once for every subset touched by changing row `r` as
    /// `changes` (distinct factors, each to a level different from the current one) says.
    fn for_each_touched(
        &self,
        r: usize,
        changes: &[(usize, u16)],
        mut visit: impl FnMut(usize, usize),
    ) {
        let universe = self.universe;
        let row = &self.rows[r];
        for (i, &(c, _)) in changes.iter().enumerate() {
            for &s in &universe.by_col[c] {
                let s = s as usize;
                let cols = universe.cols(s);
                // A subset holding an earlier changed factor was visited already.
                if changes[..i]
                    .iter()
                    .any(|change| cols.contains(&(change.0 as u32)))
                {
                    continue;
                }
                visit(universe.index(s, row), universe.index_with(s, row, changes));
            }
        }
    }

    /// The change in the number of uncovered feasible tuples if row `r` changed.
    fn delta(&self, r: usize, changes: &[(usize, u16)]) -> i64 {
        let mut delta = 0;
        self.for_each_touched(r, changes, |old, new| {
            if self.count[old] == 1 && self.universe.feasible[old] {
                delta += 1;
            }
            if self.count[new] == 0 && self.universe.feasible[new] {
                delta -= 1;
            }
        });
        delta
    }

    fn apply(&mut self, r: usize, changes: &[(usize, u16)]) {
        let mut touched = Vec::new();
        self.for_each_touched(r, changes, |old, new| touched.push((old, new)));
        for (old, new) in touched {
            self.decrement(old);
            self.increment(new);
        }
        for &(c, level) in changes {
            self.rows[r][c] = level;
        }
    }
}

/// Adds rows greedily until every feasible tuple is covered.
fn fill_greedily(cover: &mut Cover<'_>, checker: &Checker<'_>, rng: &mut SplitMix64) {
    let universe = cover.universe;
    // Candidates per row, fewer when building a row is expensive.
    let work = universe.subsets().saturating_mul(universe.t).max(1);
    let candidates = (400_000 / work).clamp(1, 12);
    while !cover.open.is_empty() {
        let mut best: Option<(usize, Row)> = None;
        for _ in 0..candidates {
            let Some(row) = greedy_row(cover, checker, rng) else {
                continue;
            };
            let gain = cover.gain(&row);
            if best.as_ref().is_none_or(|(most, _)| gain > *most) {
                best = Some((gain, row));
            }
        }
        match best {
            Some((_, row)) => cover.add_row(row),
            // Unreachable: every open tuple has a valid row (that is how it was found
            // feasible), and the search that builds a row is complete.
            None => break,
        }
    }
}

/// One valid row covering at least one uncovered tuple: a random uncovered tuple, then the
/// other factors in random order, each at the level that covers the most uncovered tuples
/// together with the factors fixed before it. `None` only if the constraint search fails,
/// which the feasibility of open tuples rules out.
fn greedy_row(cover: &Cover<'_>, checker: &Checker<'_>, rng: &mut SplitMix64) -> Option<Row> {
    let universe = cover.universe;
    let k = universe.levels.len();
    let mut partial = vec![None; k];
    let mut row = vec![0u16; k];
    let mut levels = Vec::new();
    let tuple = cover.open[rng.below(cover.open.len())] as usize;
    let s = universe.decode(tuple, &mut levels);
    for (&c, &level) in universe.cols(s).iter().zip(&levels) {
        partial[c as usize] = Some(level);
        row[c as usize] = level;
    }
    let constrained = !checker.unconstrained();
    // A valid row agreeing with `partial`; one exists because open tuples are feasible.
    let mut witness = if constrained {
        checker.complete(&partial, &mut |_, levels| rng.shuffle(levels))
    } else {
        None
    };
    let mut order: Vec<usize> = (0..k).filter(|&f| partial[f].is_none()).collect();
    rng.shuffle(&mut order);
    let mut score = Vec::new();
    let mut choices: Vec<u16> = Vec::new();
    let mut scratch = Vec::new();
    for f in order {
        let n = universe.levels[f];
        score.clear();
        score.resize(usize::from(n), 0usize);
        for &s in &universe.by_col[f] {
            let s = s as usize;
            let cols = universe.cols(s);
            if cols
                .iter()
                .any(|&c| c as usize != f && partial[c as usize].is_none())
            {
                continue;
            }
            // The tuple index is linear in f's level: base + level * stride.
            let (mut base, mut stride) = (0usize, 0usize);
            for &c in cols {
                let c = c as usize;
                let radix = usize::from(universe.levels[c]);
                base *= radix;
                stride *= radix;
                if c == f {
                    stride = 1;
                } else {
                    base += usize::from(row[c]);
                }
            }
            base += universe.offsets[s];
            for (level, points) in score.iter_mut().enumerate() {
                let i = base + level * stride;
                if cover.count[i] == 0 && universe.feasible[i] {
                    *points += 1;
                }
            }
        }
        choices.clear();
        choices.extend(0..n);
        rng.shuffle(&mut choices);
        choices.sort_by_key(|&level| std::cmp::Reverse(score[usize::from(level)]));
        for &level in &choices {
            partial[f] = Some(level);
            // Keep `partial` extendable to a valid row, with `witness` as the proof.
            let fits = !constrained
                || witness.as_ref().is_some_and(|w| w[f] == level)
                || witness.as_mut().is_some_and(|w| {
                    // Often the witness with this one level changed is still valid.
                    let valid = checker.allows_changed(w, &[(f, level)], &mut scratch);
                    if valid {
                        w[f] = level;
                    }
                    valid
                })
                || {
                    let hint = witness.take();
                    let found = checker
                        .allows(&partial)
                        .then(|| {
                            checker.complete(&partial, &mut |g, levels| {
                                if let Some(w) = &hint {
                                    prefer(levels, w[g]);
                                }
                            })
                        })
                        .flatten();
                    witness = found.or(hint);
                    witness.as_ref().is_some_and(|w| w[f] == level)
                };
            if fits {
                row[f] = level;
                break;
            }
            partial[f] = None;
        }
    }
    (!constrained || checker.allows_row(&row)).then_some(row)
}

/// Moves `level` to the front of `levels`.
fn prefer(levels: &mut [u16], level: u16) {
    if let Some(at) = levels.iter().position(|&l| l == level) {
        levels[..=at].rotate_right(1);
    }
}

/// Removes rows one at a time, repairing coverage by tabu search after each removal, until
/// the search fails or `bound` rows remain; returns the smallest covering rows found.
fn shrink(
    cover: &mut Cover<'_>,
    checker: &Checker<'_>,
    bound: usize,
    rng: &mut SplitMix64,
) -> Vec<Row> {
    let mut best = cover.rows.clone();
    while cover.rows.len() > bound.max(cover.pinned) {
        let weakest = (cover.pinned..cover.rows.len()).min_by_key(|&r| cover.unique(r));
        let Some(weakest) = weakest else { break };
        cover.remove_row(weakest);
        if !repair(cover, checker, rng) {
            break;
        }
        best = cover.rows.clone();
    }
    best
}

/// Tabu search for covering every feasible tuple with the current number of rows. A move
/// picks a random uncovered tuple and writes it into the row where that loses the fewest
/// other tuples; cells changed within the last few moves are not changed again unless that
/// reaches a new best. The search gives up after a fixed number of moves, or earlier when it
/// has not improved on its best for a while; both limits count moves, not time, so the
/// result does not depend on the machine.
fn repair(cover: &mut Cover<'_>, checker: &Checker<'_>, rng: &mut SplitMix64) -> bool {
    let universe = cover.universe;
    let k = universe.levels.len();
    let rows = cover.rows.len();
    if cover.pinned == rows {
        return cover.open.is_empty();
    }
    // About 20 million tuple look-ups at most per attempt.
    let per_move = (rows - cover.pinned) * universe.t * universe.by_col[0].len().max(1);
    let moves = (20_000_000 / per_move).clamp(500, 200_000) as u64;
    let patience = (moves / 10).max(500);
    let tenure = 2 + (rows as u64) / 8;
    let mut changed_at = vec![0u64; rows * k];
    let mut levels = Vec::new();
    let mut changes: Vec<(usize, u16)> = Vec::new();
    let mut chosen: Vec<(usize, u16)> = Vec::new();
    let mut scratch = Vec::new();
    let mut best_open = cover.open.len();
    let mut improved_at = 0;
    for step in 1..=moves {
        if cover.open.is_empty() {
            return true;
        }
        if step - improved_at > patience {
            return false;
        }
        let tuple = cover.open[rng.below(cover.open.len())] as usize;
        let s = universe.decode(tuple, &mut levels);
        let cols = universe.cols(s);
        let mut best: Option<(i64, usize)> = None;
        let mut ties = 0;
        // First only rows that stay valid as they are; if there is none, rows where other
        // factors must change too.
        for refit in [false, true] {
            if best.is_some() || (refit && checker.unconstrained()) {
                break;
            }
            for r in cover.pinned..rows {
                changes.clear();
                for (&c, &level) in cols.iter().zip(&levels) {
                    if cover.rows[r][c as usize] != level {
                        changes.push((c as usize, level));
                    }
                }
                let tabu = changes.iter().any(|&(c, _)| {
                    changed_at[r * k + c] != 0 && changed_at[r * k + c] + tenure >= step
                });
                if !checker.unconstrained() {
                    let fits = if refit {
                        fit_constraints(checker, &cover.rows[r], &mut changes, &mut scratch)
                    } else {
                        checker.allows_changed(&cover.rows[r], &changes, &mut scratch)
                    };
                    if !fits {
                        continue;
                    }
                }
                let delta = cover.delta(r, &changes);
                // Aspiration: a tabu move is still taken when it beats the best state so far.
                if tabu && (cover.open.len() as i64 + delta) >= best_open as i64 {
                    continue;
                }
                // Ties are broken uniformly (reservoir sampling over the tied rows).
                let take = match best {
                    Some((least, _)) if delta > least => false,
                    Some((least, _)) if delta == least => {
                        ties += 1;
                        rng.below(ties) == 0
                    }
                    _ => {
                        ties = 1;
                        true
                    }
                };
                if take {
                    best = Some((delta, r));
                    chosen.clone_from(&changes);
                }
            }
        }
        if let Some((_, r)) = best {
            cover.apply(r, &chosen);
            for &(c, _) in &chosen {
                changed_at[r * k + c] = step;
            }
            if cover.open.len() < best_open {
                best_open = cover.open.len();
                improved_at = step;
            }
        }
    }
    cover.open.is_empty()
}

/// Makes `row` with `changes` applied valid by changing other factors too, as few as the
/// search finds: first only factors read by the rules the changed row breaks, then any.
/// Returns `false` when no valid row has the changed levels.
fn fit_constraints(
    checker: &Checker<'_>,
    row: &[u16],
    changes: &mut Vec<(usize, u16)>,
    scratch: &mut Vec<Option<u16>>,
) -> bool {
    if checker.allows_changed(row, changes, scratch) {
        return true;
    }
    fill(scratch, row, changes);
    let pinned = |f: usize| changes.iter().any(|change| change.0 == f);
    let mut local = scratch.clone();
    for rule in checker.rules {
        if !rule.allows(scratch) {
            match rule.scope() {
                Some(scope) => scope.into_iter().for_each(|f| {
                    if !pinned(f) {
                        local[f] = None;
                    }
                }),
                None => (0..row.len()).for_each(|f| {
                    if !pinned(f) {
                        local[f] = None;
                    }
                }),
            }
        }
    }
    let mut keep = |f: usize, levels: &mut Vec<u16>| prefer(levels, row[f]);
    let found = checker.complete(&local, &mut keep).or_else(|| {
        let mut only_changes = vec![None; row.len()];
        for &(c, level) in changes.iter() {
            only_changes[c] = Some(level);
        }
        checker.complete(&only_changes, &mut keep)
    });
    let Some(fixed) = found else {
        return false;
    };
    changes.clear();
    changes.extend(
        (0..row.len())
            .filter(|&f| fixed[f] != row[f])
            .map(|f| (f, fixed[f])),
    );
    true
}

// ---------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny generator that is good enough for
/// sampling and search, and deterministic across platforms.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), by multiply-shift; the bias is below 2^-40 for the
    /// small `n` used here.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{
        Just, ProptestConfig, any, prop, prop_assert, prop_assert_eq, prop_compose, proptest,
    };
    use std::time::Instant;

    fn booleans(k: usize) -> Vec<Factor> {
        (0..k).map(|i| Factor::boolean(format!("f{i}"))).collect()
    }

    fn mixed(levels: &[usize]) -> Vec<Factor> {
        levels
            .iter()
            .enumerate()
            .map(|(i, &n)| Factor::new(format!("f{i}"), (0..n).map(|l| format!("v{l}"))))
            .collect()
    }

    fn pairwise(factors: &[Factor]) -> Plan {
        generate(factors, &Strategy::pairwise(), &Constraints::new(), &[]).unwrap()
    }

    /// Calls `visit` with every `t`-subset of `0..k` (written independently of `Universe`).
    fn each_subset(k: usize, t: usize, visit: &mut dyn FnMut(&[usize])) {
        fn go(
            start: usize,
            k: usize,
            t: usize,
            chosen: &mut Vec<usize>,
            visit: &mut dyn FnMut(&[usize]),
        ) {
            if chosen.len() == t {
                visit(chosen);
                return;
            }
            for c in start..k {
                chosen.push(c);
                go(c + 1, k, t, chosen, visit);
                chosen.pop();
            }
        }
        go(0, k, t, &mut Vec::new(), visit);
    }

    fn code(levels: &[usize], subset: &[usize], row: &[u16]) -> usize {
        subset
            .iter()
            .fold(0, |acc, &c| acc * levels[c] + usize::from(row[c]))
    }

    /// Every combination of levels, by brute force, and the valid ones.
    fn valid_rows(levels: &[usize], constraints: &Constraints) -> Vec<Row> {
        let mut all = vec![Vec::new()];
        for &n in levels {
            all = all
                .into_iter()
                .flat_map(|prefix: Row| {
                    (0..n as u16).map(move |l| {
                        let mut row = prefix.clone();
                        row.push(l);
                        row
                    })
                })
                .collect();
        }
        all.into_iter()
            .filter(|row| {
                let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
                constraints.allows(&full)
            })
            .collect()
    }

    /// Brute-force check of a t-wise plan: shape, validity, and coverage of every tuple that
    /// some valid row contains (all tuples when `constraints` is empty). Returns the
    /// infeasible tuples it found.
    fn assert_covers(plan: &Plan, t: usize, constraints: &Constraints) -> HashSet<Tuple> {
        let levels: Vec<usize> = plan.factors.iter().map(|f| f.levels.len()).collect();
        let k = levels.len();
        let distinct: HashSet<&Row> = plan.rows.iter().collect();
        assert_eq!(distinct.len(), plan.rows.len(), "repeated rows");
        for row in &plan.rows {
            assert_eq!(row.len(), k);
            assert!(
                row.iter().zip(&levels).all(|(&l, &n)| usize::from(l) < n),
                "{row:?}"
            );
            let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
            assert!(
                constraints.allows(&full),
                "row {row:?} violates the constraints"
            );
        }
        let valid = (!constraints.is_empty()).then(|| valid_rows(&levels, constraints));
        let mut infeasible = HashSet::new();
        each_subset(k, t, &mut |subset| {
            let width: usize = subset.iter().map(|&c| levels[c]).product();
            let mut covered = vec![false; width];
            for row in &plan.rows {
                covered[code(&levels, subset, row)] = true;
            }
            let mut needed = vec![true; width];
            if let Some(valid) = &valid {
                needed = vec![false; width];
                for row in valid {
                    needed[code(&levels, subset, row)] = true;
                }
            }
            for local in 0..width {
                let mut rest = local;
                let mut settings: Vec<Setting> = subset
                    .iter()
                    .rev()
                    .map(|&c| {
                        let l = rest % levels[c];
                        rest /= levels[c];
                        Setting::new(c, l as u16)
                    })
                    .collect();
                settings.reverse();
                let tuple = Tuple { settings };
                assert!(!needed[local] || covered[local], "{tuple:?} not covered");
                if !needed[local] {
                    infeasible.insert(tuple);
                }
            }
        });
        infeasible
    }

    #[test]
    fn kleitman_spencer_formula() {
        // Known optimal sizes of pairwise covering arrays of k boolean factors.
        let known = [
            (2, 4),
            (3, 4),
            (4, 5),
            (5, 6),
            (10, 6),
            (11, 7),
            (15, 7),
            (16, 8),
            (20, 8),
            (35, 8),
            (36, 9),
            (56, 9),
            (57, 10),
            (100, 10),
            (126, 10),
            (127, 11),
            (1000, 14),
        ];
        for (k, n) in known {
            assert_eq!(kleitman_spencer_rows(k), n, "k = {k}");
        }
        assert_eq!(kleitman_spencer_rows(1), 2);
        assert_eq!(kleitman_spencer_rows(usize::MAX), 69);
    }

    #[test]
    fn pairwise_booleans_reach_kleitman_spencer_exactly() {
        for k in (2..=50).chain([100, 1000]) {
            let plan = pairwise(&booleans(k));
            assert_eq!(plan.rows.len(), kleitman_spencer_rows(k), "k = {k}");
            assert_covers(&plan, 2, &Constraints::new());
        }
    }

    #[test]
    fn one_pinned_row_keeps_kleitman_spencer_size() {
        let factors = booleans(20);
        let defaults: Row = (0..20).map(|i| (i % 3 == 0) as u16).collect();
        let plan = generate(
            &factors,
            &Strategy::pairwise(),
            &Constraints::new(),
            std::slice::from_ref(&defaults),
        )
        .unwrap();
        assert_eq!(plan.rows.len(), 8);
        assert_eq!(plan.rows[0], defaults);
        assert_covers(&plan, 2, &Constraints::new());
    }

    #[test]
    fn pinned_all_on_and_all_off_come_first() {
        for k in [6, 30, 1000] {
            let factors = booleans(k);
            let pinned = vec![vec![1; k], vec![0; k]];
            let plan = generate(
                &factors,
                &Strategy::pairwise(),
                &Constraints::new(),
                &pinned,
            )
            .unwrap();
            assert_eq!(plan.rows[..2], pinned[..]);
            assert!(
                plan.rows.len() <= kleitman_spencer_rows(k) + 1,
                "k = {k}: {}",
                plan.rows.len()
            );
            assert_covers(&plan, 2, &Constraints::new());
        }
    }

    #[test]
    fn orthogonal_arrays_are_found() {
        let plan = pairwise(&mixed(&[3; 4]));
        assert_eq!(plan.rows.len(), 9);
        assert_covers(&plan, 2, &Constraints::new());
        let plan = pairwise(&mixed(&[4; 5]));
        assert_eq!(plan.rows.len(), 16);
        assert_covers(&plan, 2, &Constraints::new());
        let plan = generate(
            &mixed(&[3; 4]),
            &Strategy::TWise(3),
            &Constraints::new(),
            &[],
        )
        .unwrap();
        assert_eq!(plan.rows.len(), 27);
        assert_covers(&plan, 3, &Constraints::new());
    }

    #[test]
    fn three_to_the_thirteen_within_ten_percent_of_best_known() {
        let start = Instant::now();
        let plan = pairwise(&mixed(&[3; 13]));
        assert!(plan.rows.len() <= 16, "{} rows", plan.rows.len());
        assert_covers(&plan, 2, &Constraints::new());
        assert!(
            start.elapsed().as_secs_f64() < 10.0,
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn mixed_levels_are_sensible() {
        // 4 x 3 pairs force 12 rows.
        let plan = pairwise(&mixed(&[2, 2, 2, 3, 3, 4]));
        assert!(
            (12..=13).contains(&plan.rows.len()),
            "{} rows",
            plan.rows.len()
        );
        assert_covers(&plan, 2, &Constraints::new());
        let plan = pairwise(&mixed(&[2, 2, 2, 2, 2, 3, 3, 3, 3]));
        assert!(plan.rows.len() <= 11, "{} rows", plan.rows.len());
        assert_covers(&plan, 2, &Constraints::new());
    }

    #[test]
    fn higher_strengths_cover() {
        for (levels, t) in [
            (vec![2; 8], 3),
            (vec![2, 3, 2, 4, 2], 3),
            (vec![2; 6], 4),
            (vec![3, 2, 2], 3),
        ] {
            let plan = generate(
                &mixed(&levels),
                &Strategy::TWise(t as u8),
                &Constraints::new(),
                &[],
            )
            .unwrap();
            assert_covers(&plan, t, &Constraints::new());
            let product: usize = levels.iter().product();
            assert!(plan.rows.len() <= product);
        }
        // Strength 1: every level once; as many rows as the widest factor.
        let plan = generate(
            &mixed(&[2, 5, 3]),
            &Strategy::TWise(1),
            &Constraints::new(),
            &[],
        )
        .unwrap();
        assert_eq!(plan.rows.len(), 5);
        assert_covers(&plan, 1, &Constraints::new());
    }

    #[test]
    fn t_wise_is_deterministic() {
        let constraints = Constraints::new().excludes(Setting::new(0, 1), Setting::new(3, 2));
        let factors = mixed(&[2, 3, 3, 3, 2, 2]);
        let a = generate(&factors, &Strategy::pairwise(), &constraints, &[]).unwrap();
        let b = generate(&factors, &Strategy::pairwise(), &constraints, &[]).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn constraints_remove_rows_and_report_infeasible_pairs() {
        let on = |f| Setting::new(f, 1);
        // 1 needs 0; 2 excludes 0; so 1 and 2 are never on together.
        let constraints = Constraints::new()
            .requires(on(1), on(0))
            .excludes(on(2), on(0));
        let factors = booleans(6);
        let plan = generate(&factors, &Strategy::pairwise(), &constraints, &[]).unwrap();
        let infeasible = assert_covers(&plan, 2, &constraints);
        let reported: HashSet<Tuple> = plan.infeasible.iter().cloned().collect();
        assert_eq!(reported, infeasible);
        let derived = Tuple {
            settings: vec![on(1), on(2)],
        };
        assert!(reported.contains(&derived));
        assert_eq!(reported.len(), 3);
        assert!(
            uncovered_tuples(&factors, &plan.rows, 2, &constraints)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn custom_constraints_hold_in_every_mode() {
        // At most one of the first five flags is on; conservative on partial rows.
        let constraints = Constraints::new().custom("one of five", |row| {
            row[..5].iter().filter(|l| **l == Some(1)).count() <= 1
        });
        let factors = booleans(8);
        let plan = generate(&factors, &Strategy::pairwise(), &constraints, &[]).unwrap();
        let infeasible = assert_covers(&plan, 2, &constraints);
        assert_eq!(infeasible.len(), 10);
        let scoped = Constraints::new().custom_over("one of five", 0..5, |row| {
            row[..5].iter().filter(|l| **l == Some(1)).count() <= 1
        });
        let plan = generate(&factors, &Strategy::TWise(3), &scoped, &[]).unwrap();
        assert_covers(&plan, 3, &scoped);
        let random = generate(
            &factors,
            &Strategy::Random { count: 20, seed: 7 },
            &constraints,
            &[],
        )
        .unwrap();
        assert_eq!(random.rows.len(), 20);
        let all = generate(
            &factors,
            &Strategy::Exhaustive { limit: 1000 },
            &constraints,
            &[],
        )
        .unwrap();
        assert_eq!(all.rows.len(), 6 * 8);
        for row in random.rows.iter().chain(&all.rows) {
            assert!(row[..5].iter().filter(|&&l| l == 1).count() <= 1);
        }
    }

    #[test]
    fn many_flags_with_constraints() {
        let start = Instant::now();
        let factors = booleans(60);
        let on = |f| Setting::new(f, 1);
        let mut constraints = Constraints::new();
        for i in 0..10 {
            constraints = constraints
                .requires(on(2 * i + 1), on(2 * i))
                .excludes(on(40 + i), on(50 + i));
        }
        let plan = generate(
            &factors,
            &Strategy::pairwise(),
            &constraints,
            &[vec![0; 60]],
        )
        .unwrap();
        assert_eq!(plan.rows[0], vec![0; 60]);
        for row in &plan.rows {
            let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
            assert!(constraints.allows(&full));
        }
        assert!(
            uncovered_tuples(&factors, &plan.rows, 2, &constraints)
                .unwrap()
                .is_empty()
        );
        assert_eq!(plan.infeasible.len(), 20);
        assert!(plan.rows.len() <= 12, "{} rows", plan.rows.len());
        assert!(
            start.elapsed().as_secs_f64() < 20.0,
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn exhaustive_counts_and_order() {
        let factors = vec![
            Factor::boolean("a"),
            Factor::new("b", ["x", "y", "z"]),
            Factor::boolean("c"),
        ];
        let none = Constraints::new();
        let plan = generate(&factors, &Strategy::Exhaustive { limit: 12 }, &none, &[]).unwrap();
        assert_eq!(plan.rows.len(), 12);
        let mut sorted = plan.rows.clone();
        sorted.sort();
        assert_eq!(sorted, plan.rows);
        let err = generate(&factors, &Strategy::Exhaustive { limit: 11 }, &none, &[]).unwrap_err();
        assert_eq!(err, CoverError::TooManyCombinations { limit: 11 });

        // a=on requires b=y; b=z excludes c=on.
        let constraints = Constraints::new()
            .requires(Setting::new(0, 1), Setting::new(1, 1))
            .excludes(Setting::new(1, 2), Setting::new(2, 1));
        let pinned = vec![vec![1, 1, 1]];
        let plan = generate(
            &factors,
            &Strategy::Exhaustive { limit: 12 },
            &constraints,
            &pinned,
        )
        .unwrap();
        let levels = [2, 3, 2];
        let mut expected = valid_rows(&levels, &constraints);
        assert_eq!(expected.len(), 7);
        expected.retain(|row| *row != pinned[0]);
        assert_eq!(plan.rows[0], pinned[0]);
        assert_eq!(plan.rows[1..], expected[..]);
        assert!(matches!(
            generate(
                &factors,
                &Strategy::Exhaustive { limit: 6 },
                &constraints,
                &pinned
            ),
            Err(CoverError::TooManyCombinations { limit: 6 })
        ));
    }

    #[test]
    fn random_is_deterministic_per_seed() {
        let factors = booleans(30);
        let none = Constraints::new();
        let draw = |seed| {
            generate(
                &factors,
                &Strategy::Random { count: 10, seed },
                &none,
                &[vec![1; 30]],
            )
            .unwrap()
        };
        let a = draw(1);
        assert_eq!(a, draw(1));
        assert_ne!(a.rows, draw(2).rows);
        assert_eq!(a.rows.len(), 11);
        assert_eq!(a.rows[0], vec![1; 30]);
        let distinct: HashSet<&Row> = a.rows.iter().collect();
        assert_eq!(distinct.len(), 11);

        // A small space is exhausted rather than repeated.
        let small = booleans(3);
        let constraints = Constraints::new().excludes(Setting::new(0, 1), Setting::new(1, 1));
        let plan = generate(
            &small,
            &Strategy::Random {
                count: 100,
                seed: 3,
            },
            &constraints,
            &[],
        )
        .unwrap();
        assert_eq!(plan.rows.len(), 6);
        let again = generate(
            &small,
            &Strategy::Random { count: 3, seed: 3 },
            &constraints,
            &[],
        )
        .unwrap();
        assert_eq!(again.rows[..], plan.rows[..3]);
    }

    #[test]
    fn labels_name_every_setting() {
        let factors = vec![
            Factor::boolean("search_v2_stable"),
            Factor::new("checkout_layout", ["classic", "compact"]),
        ];
        let plan = generate(
            &factors,
            &Strategy::pairwise(),
            &Constraints::new(),
            &[vec![1, 1]],
        )
        .unwrap();
        assert_eq!(
            plan.label(0),
            "search_v2_stable=on, checkout_layout=compact"
        );
        assert_eq!(
            plan.settings(0),
            [("search_v2_stable", "on"), ("checkout_layout", "compact")]
        );
        assert_eq!(
            Setting::find(&factors, "checkout_layout", "compact"),
            Some(Setting::new(1, 1))
        );
        assert_eq!(Setting::find(&factors, "checkout_layout", "wide"), None);
    }

    #[test]
    fn bad_input_is_rejected() {
        let none = Constraints::new();
        let two = booleans(2);
        let pairwise = Strategy::pairwise();
        assert_eq!(
            generate(&booleans(1), &pairwise, &none, &[]).unwrap_err(),
            CoverError::BadStrength {
                strength: 2,
                factors: 1
            }
        );
        assert!(matches!(
            generate(&two, &Strategy::TWise(0), &none, &[]),
            Err(CoverError::BadStrength { .. })
        ));
        let empty = vec![Factor::new("x", Vec::<String>::new())];
        assert!(matches!(
            generate(&empty, &pairwise, &none, &[]),
            Err(CoverError::NoLevels { .. })
        ));
        let twice = vec![Factor::boolean("x"), Factor::boolean("x")];
        assert!(matches!(
            generate(&twice, &pairwise, &none, &[]),
            Err(CoverError::DuplicateFactor { .. })
        ));
        assert!(matches!(
            generate(&two, &pairwise, &none, &[vec![0]]),
            Err(CoverError::RowLength { row: 0, .. })
        ));
        assert!(matches!(
            generate(&two, &pairwise, &none, &[vec![0, 2]]),
            Err(CoverError::RowLevel { row: 0, .. })
        ));
        let bad_rule = Constraints::new().excludes(Setting::new(0, 1), Setting::new(5, 0));
        assert!(matches!(
            generate(&two, &pairwise, &bad_rule, &[]),
            Err(CoverError::UnknownSetting { factor: 5, .. })
        ));
        let bad_scope = Constraints::new().custom_over("x", [3], |_| true);
        assert!(matches!(
            generate(&two, &pairwise, &bad_scope, &[]),
            Err(CoverError::UnknownSetting { factor: 3, .. })
        ));
        let exclusive = Constraints::new().excludes(Setting::new(0, 0), Setting::new(1, 0));
        assert!(matches!(
            generate(&two, &pairwise, &exclusive, &[vec![0, 0]]),
            Err(CoverError::PinnedViolates { row: 0, .. })
        ));
        let impossible = Constraints::new().custom("never", |_| false);
        for strategy in [
            pairwise.clone(),
            Strategy::Exhaustive { limit: 9 },
            Strategy::Random { count: 2, seed: 0 },
        ] {
            assert_eq!(
                generate(&two, &strategy, &impossible, &[]).unwrap_err(),
                CoverError::Unsatisfiable
            );
        }
        assert!(matches!(
            generate(&booleans(1000), &Strategy::TWise(4), &none, &[]),
            Err(CoverError::TooManyTuples { .. })
        ));
    }

    #[test]
    fn uncovered_tuples_finds_gaps() {
        let factors = mixed(&[3; 4]);
        let plan = pairwise(&factors);
        let none = Constraints::new();
        assert!(
            uncovered_tuples(&factors, &plan.rows, 2, &none)
                .unwrap()
                .is_empty()
        );
        // In an orthogonal array every pair appears once: dropping a row uncovers its 6 pairs.
        let dropped = &plan.rows[1..];
        let missing = uncovered_tuples(&factors, dropped, 2, &none).unwrap();
        assert_eq!(missing.len(), 6);
        for tuple in &missing {
            assert!(
                tuple
                    .settings
                    .iter()
                    .all(|s| plan.rows[0][s.factor] == s.level)
            );
        }
    }

    #[test]
    fn field_tables_are_fields() {
        for q in [2, 3, 4, 5, 7, 8, 9, 16, 25, 27] {
            let field = Field::new(q).unwrap();
            for a in 1..q as u16 {
                let inverses = (1..q as u16).filter(|&b| field.mul(a, b) == 1).count();
                assert_eq!(inverses, 1, "q = {q}, a = {a}");
                assert_eq!(field.add(a, 0), a);
                assert_eq!(field.mul(a, 1), a);
            }
        }
        assert!(Field::new(6).is_none());
        assert!(Field::new(12).is_none());
    }

    prop_compose! {
        fn small_problem()(levels in prop::collection::vec(1usize..=4, 2..=6))(
            rules in prop::collection::vec(
                (any::<bool>(), 0..levels.len(), 0u16..4, 0..levels.len(), 0u16..4),
                0..=4,
            ),
            forbidden_sum in any::<Option<u16>>(),
            t in 2usize..=3,
            pin in any::<Option<prop::sample::Index>>(),
            levels in Just(levels),
        ) -> (Vec<usize>, Constraints, usize, Option<prop::sample::Index>) {
            let mut constraints = Constraints::new();
            for (requires, a, la, b, lb) in rules {
                let a = Setting::new(a, la % levels[a] as u16);
                let b = Setting::new(b, lb % levels[b] as u16);
                constraints = if requires {
                    constraints.requires(a, b)
                } else {
                    constraints.excludes(a, b)
                };
            }
            if let Some(sum) = forbidden_sum {
                // A custom rule without a declared scope, conservative on partial rows.
                let sum = sum % 6;
                constraints = constraints.custom("sum", move |row| match (row[0], row[1]) {
                    (Some(a), Some(b)) => a + b != sum,
                    _ => true,
                });
            }
            (levels.clone(), constraints, t.min(levels.len()), pin)
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn constrained_plans_are_valid_and_cover(
            (levels, constraints, t, pin) in small_problem(),
            seed in any::<u64>(),
        ) {
            let factors = mixed(&levels);
            let valid = valid_rows(&levels, &constraints);
            let pinned: Vec<Row> = match (&pin, valid.is_empty()) {
                (Some(index), false) => vec![valid[index.index(valid.len())].clone()],
                _ => Vec::new(),
            };
            let result = generate(&factors, &Strategy::TWise(t as u8), &constraints, &pinned);
            if valid.is_empty() {
                prop_assert_eq!(result.unwrap_err(), CoverError::Unsatisfiable);
                return Ok(());
            }
            let plan = result.unwrap();
            prop_assert_eq!(&plan.rows[..pinned.len()], &pinned[..]);
            let infeasible = assert_covers(&plan, t, &constraints);
            let reported: HashSet<Tuple> = plan.infeasible.iter().cloned().collect();
            prop_assert_eq!(reported, infeasible);
            prop_assert!(plan.rows.len() <= valid.len());

            let limit = Strategy::Exhaustive { limit: 1 << 12 };
            let exhaustive = generate(&factors, &limit, &constraints, &[]).unwrap();
            prop_assert_eq!(exhaustive.rows, valid.clone());

            let random = Strategy::Random { count: 5, seed };
            let drawn = generate(&factors, &random, &constraints, &pinned).unwrap();
            prop_assert_eq!(&drawn, &generate(&factors, &random, &constraints, &pinned).unwrap());
            prop_assert_eq!(&drawn.rows[..pinned.len()], &pinned[..]);
            prop_assert_eq!(drawn.rows.len(), (pinned.len() + 5).min(valid.len()));
            let distinct: HashSet<&Row> = drawn.rows.iter().collect();
            prop_assert_eq!(distinct.len(), drawn.rows.len());
            prop_assert!(drawn.rows.iter().all(|row| valid.contains(row)));
        }
    }

    /// Sizes and timings for the report: `cargo test -p flags-test --release -- --ignored --nocapture report`.
    #[test]
    #[ignore = "prints sizes and timings"]
    fn report_sizes() {
        let cases: Vec<(&str, Vec<usize>)> = vec![
            ("2^10", vec![2; 10]),
            ("2^20", vec![2; 20]),
            ("2^100", vec![2; 100]),
            ("2^1000", vec![2; 1000]),
            ("3^4", vec![3; 4]),
            ("3^13", vec![3; 13]),
            ("4^5", vec![4; 5]),
            ("2^5 3^4", vec![2, 2, 2, 2, 2, 3, 3, 3, 3]),
            ("2^3 3^2 4", vec![2, 2, 2, 3, 3, 4]),
            ("5^6", vec![5; 6]),
            ("2^50 3^10", [vec![2; 50], vec![3; 10]].concat()),
        ];
        for (name, levels) in cases {
            let start = Instant::now();
            let plan = pairwise(&mixed(&levels));
            println!("{name}: {} rows in {:?}", plan.rows.len(), start.elapsed());
        }
        let start = Instant::now();
        let plan = generate(&booleans(10), &Strategy::TWise(3), &Constraints::new(), &[]).unwrap();
        println!(
            "2^10 t=3: {} rows in {:?}",
            plan.rows.len(),
            start.elapsed()
        );
        let on = |f| Setting::new(f, 1);
        let mut constraints = Constraints::new();
        for i in 0..4 {
            constraints = constraints
                .requires(Setting::new(i, 2), Setting::new(i + 4, 1))
                .excludes(Setting::new(i + 8, 0), Setting::new(i + 1, 0));
        }
        let start = Instant::now();
        let plan = generate(&mixed(&[3; 13]), &Strategy::pairwise(), &constraints, &[]).unwrap();
        println!(
            "3^13 with 8 rules: {} rows in {:?}",
            plan.rows.len(),
            start.elapsed()
        );
        for k in [60, 200, 1000] {
            let mut constraints = Constraints::new();
            for i in 0..10 {
                constraints = constraints
                    .requires(on(2 * i + 1), on(2 * i))
                    .excludes(on(40 + i), on(50 + i));
            }
            let start = Instant::now();
            let plan = generate(&booleans(k), &Strategy::pairwise(), &constraints, &[]).unwrap();
            println!(
                "2^{k} with 20 rules: {} rows in {:?}",
                plan.rows.len(),
                start.elapsed()
            );
        }
    }
}
