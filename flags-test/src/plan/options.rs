//! What a plan of combinations is asked for: which flags vary, how combinations are
//! chosen, which always run, and the test's own constraints. Every option type parses
//! from the spelling a command line uses (`FromStr`), so `clap` can fill them with its
//! default value parser.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use thiserror::Error;

/// Everything [`plan_manifest`](super::plan_manifest) needs besides the manifest. Start
/// from [`PlanOptions::new`] and change the fields that differ from the defaults.
///
/// ```
/// use flags_test::plan::{FlagSelection, Mode, PlanOptions};
///
/// let mut opts = PlanOptions::new();
/// opts.flags = FlagSelection::Named(vec!["search_v2".into(), "checkout_layout".into()]);
/// opts.mode = "3-wise".parse()?;
/// assert_eq!(opts.mode, Mode::TWise(3));
/// # Ok::<(), flags_test::plan::ParseOptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanOptions {
    /// Which flags vary from one combination to the next.
    pub flags: FlagSelection,
    /// How the combinations are chosen.
    pub mode: Mode,
    /// Combinations that always run, before the generated ones.
    pub pins: Vec<Pin>,
    /// The most combinations [`Mode::Exhaustive`] accepts before failing with a hint to
    /// use a covering mode instead.
    pub max_combinations: usize,
    /// Constraints of the user's on top of the manifest's `requires`/`excludes`.
    pub rules: Vec<Rule>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions::new()
    }
}

impl PlanOptions {
    /// Options with the defaults: every dynamic flag, [`Mode::Pairwise`], the
    /// [standard pins](Pin::standard), at most 1024 exhaustive combinations, no rules
    /// of the test's own.
    pub fn new() -> Self {
        PlanOptions {
            flags: FlagSelection::Dynamic,
            mode: Mode::Pairwise,
            pins: Pin::standard(),
            max_combinations: 1024,
            rules: Vec::new(),
        }
    }
}

/// A constraint between two flag values, written as `flag=value` on each side.
///
/// ```
/// use flags_test::plan::Rule;
/// let r: Rule = "search_v2=on -> checkout_layout=compact".parse().unwrap();
/// assert_eq!(r, Rule::Requires("search_v2=on".into(), "checkout_layout=compact".into()));
/// let r: Rule = "a=on !& b=off".parse().unwrap();
/// assert_eq!(r, Rule::Excludes("a=on".into(), "b=off".into()));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Whenever the first holds, the second must (`A -> B`).
    Requires(String, String),
    /// The two never hold together (`A !& B`).
    Excludes(String, String),
}

impl FromStr for Rule {
    type Err = ParseOptionError;

    fn from_str(s: &str) -> Result<Rule, ParseOptionError> {
        let pair = |sep: &str| {
            s.split_once(sep)
                .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
        };
        if let Some((a, b)) = pair("->") {
            Ok(Rule::Requires(a, b))
        } else if let Some((a, b)) = pair("!&") {
            Ok(Rule::Excludes(a, b))
        } else {
            Err(ParseOptionError::new(
                "rule",
                s,
                "write `flag=value -> flag=value` (requires) or `flag=value !& flag=value` (excludes)",
            ))
        }
    }
}

/// Which flags a plan varies. Flags outside the selection keep the value the command would
/// see anyway: an inherited `FLAGS_*` variable when set, else the manifest default.
///
/// ```
/// use flags_test::plan::FlagSelection;
///
/// assert_eq!(FlagSelection::default(), FlagSelection::Dynamic);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FlagSelection {
    /// Every flag that is not static (compile-time). Varying these never rebuilds.
    #[default]
    Dynamic,
    /// Every flag, static ones included (each static combination is a rebuild).
    All,
    /// The flags with these names, static or not, in manifest order.
    Named(Vec<String>),
}

/// How the combinations are chosen.
///
/// Parses from `exhaustive`, `pairwise`, `N-wise` (e.g. `3-wise`), `random:N` and
/// `random:N:SEED`; displays the same way.
///
/// ```
/// use flags_test::plan::Mode;
///
/// assert_eq!("pairwise".parse::<Mode>()?, Mode::Pairwise);
/// assert_eq!("3-wise".parse::<Mode>()?, Mode::TWise(3));
/// assert_eq!("random:20".parse::<Mode>()?, Mode::Random { count: 20, seed: None });
/// assert_eq!("random:20:7".parse::<Mode>()?, Mode::Random { count: 20, seed: Some(7) });
/// assert_eq!(Mode::Random { count: 5, seed: Some(9) }.to_string(), "random:5:9");
/// assert!("sometimes".parse::<Mode>().is_err());
/// # Ok::<(), flags_test::plan::ParseOptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every valid combination (fails above [`PlanOptions::max_combinations`]).
    Exhaustive,
    /// Every pair of values of every two flags appears in some combination.
    Pairwise,
    /// Every combination of values of any `N` flags appears in some combination. `N`
    /// larger than the number of flags means exhaustive.
    TWise(u8),
    /// `count` distinct valid combinations drawn at random besides the pinned ones.
    Random {
        /// How many combinations to draw.
        count: usize,
        /// The seed; `None` picks one and reports it so that the run can be repeated.
        /// Partitioned runs need an explicit seed, since every shard must draw the same
        /// combinations.
        seed: Option<u64>,
    },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Exhaustive => f.write_str("exhaustive"),
            Mode::Pairwise => f.write_str("pairwise"),
            Mode::TWise(t) => write!(f, "{t}-wise"),
            Mode::Random { count, seed: None } => write!(f, "random:{count}"),
            Mode::Random {
                count,
                seed: Some(seed),
            } => write!(f, "random:{count}:{seed}"),
        }
    }
}

impl FromStr for Mode {
    type Err = ParseOptionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            ParseOptionError::new(
                "mode",
                text,
                "use exhaustive, pairwise, N-wise (e.g. 3-wise), random:N or random:N:SEED",
            )
        };
        let text_lower = text.trim().to_ascii_lowercase();
        match text_lower.as_str() {
            "exhaustive" => return Ok(Mode::Exhaustive),
            "pairwise" => return Ok(Mode::Pairwise),
            _ => {}
        }
        if let Some(t) = text_lower.strip_suffix("-wise") {
            return match t.parse::<u8>() {
                Ok(0) | Err(_) => Err(bad()),
                Ok(2) => Ok(Mode::Pairwise),
                Ok(t) => Ok(Mode::TWise(t)),
            };
        }
        if let Some(rest) = text_lower.strip_prefix("random:") {
            let (count, seed) = match rest.split_once(':') {
                Some((count, seed)) => (count, Some(seed.parse::<u64>().map_err(|_| bad())?)),
                None => (rest, None),
            };
            let count = count.parse::<usize>().map_err(|_| bad())?;
            return Ok(Mode::Random { count, seed });
        }
        Err(bad())
    }
}

/// A combination that always runs, before the generated ones. A pin that breaks the
/// manifest's `requires`/`excludes` is left out with a warning in the report.
///
/// For a variant flag, "on" means "not at its default" (as in `requires`): all-on puts
/// it at its first non-default variant, all-off at its default.
///
/// Parses from `defaults`, `all-on`, `all-off` and `state:PATH`.
///
/// ```
/// use flags_test::plan::Pin;
///
/// assert_eq!("all-on".parse::<Pin>()?, Pin::AllOn);
/// assert_eq!("state:deploy/prod.toml".parse::<Pin>()?, Pin::State("deploy/prod.toml".into()));
/// assert_eq!(Pin::standard(), [Pin::Defaults, Pin::AllOn, Pin::AllOff]);
/// # Ok::<(), flags_test::plan::ParseOptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pin {
    /// Every flag at its manifest default.
    Defaults,
    /// Every flag on.
    AllOn,
    /// Every flag off.
    AllOff,
    /// The fixed values of a state (rule) file, such as production's: a flag's `value`,
    /// off for `enabled = false`, its default otherwise (rules that depend on the
    /// context have no single value).
    State(PathBuf),
}

impl Pin {
    /// Defaults, all on, all off: what a run pins unless told otherwise.
    pub fn standard() -> Vec<Pin> {
        vec![Pin::Defaults, Pin::AllOn, Pin::AllOff]
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pin::Defaults => f.write_str("defaults"),
            Pin::AllOn => f.write_str("all-on"),
            Pin::AllOff => f.write_str("all-off"),
            Pin::State(path) => write!(f, "state:{}", path.display()),
        }
    }
}

impl FromStr for Pin {
    type Err = ParseOptionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "defaults" | "default" => Ok(Pin::Defaults),
            "all-on" => Ok(Pin::AllOn),
            "all-off" => Ok(Pin::AllOff),
            other => match other.strip_prefix("state:") {
                Some(path) if !path.is_empty() => Ok(Pin::State(PathBuf::from(path))),
                _ => Err(ParseOptionError::new(
                    "pinned combination",
                    text,
                    "use defaults, all-on, all-off or state:PATH",
                )),
            },
        }
    }
}

/// An option value that does not parse.
///
/// ```
/// let err = "sometimes".parse::<flags_test::plan::Mode>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "invalid mode `sometimes`: use exhaustive, pairwise, N-wise (e.g. 3-wise), random:N or random:N:SEED"
/// );
/// ```
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("invalid {what} `{text}`: {help}")]
pub struct ParseOptionError {
    what: &'static str,
    text: String,
    help: &'static str,
}

impl ParseOptionError {
    /// `text` is not a valid `what` (`"partition"`), and `help` says what would be.
    pub fn new(what: &'static str, text: &str, help: &'static str) -> Self {
        ParseOptionError {
            what,
            text: text.to_owned(),
            help,
        }
    }
}
