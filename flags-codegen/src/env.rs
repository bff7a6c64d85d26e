//! What an expansion reads from outside its input: the crate root, the file that
//! invokes the macro and a few environment variables. They are gathered into one value
//! so that the proc macro reads the process once and tests and benchmarks pass their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The variable that fixes "today" for expiry checks (`YYYY-MM-DD`).
pub const FLAGS_TODAY: &str = "FLAGS_TODAY";
/// The reproducible-builds variable (seconds since 1970), used when `FLAGS_TODAY` is unset.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";
/// The prefix of the variables that set static flags: `FLAGS_STATIC_<NAME>` (the
/// whole name is made by [`flags_manifest::static_env_var`]).
pub const FLAGS_STATIC_PREFIX: &str = flags_manifest::STATIC_ENV_PREFIX;
/// Set by cargo when it compiles a package the user asked for (a workspace member or
/// the `-p` target), unset when it compiles a dependency.
pub const CARGO_PRIMARY_PACKAGE: &str = "CARGO_PRIMARY_PACKAGE";

/// The surroundings of one expansion.
///
/// ```
/// use flags_codegen::Env;
/// let env = Env::new()
///     .with_manifest_dir("/src/my-crate")
///     .with_var("FLAGS_TODAY", "2027-01-31");
/// assert_eq!(env.var("FLAGS_TODAY"), Some("2027-01-31"));
/// assert_eq!(env.var("SOURCE_DATE_EPOCH"), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    manifest_dir: Option<PathBuf>,
    source_file: Option<PathBuf>,
    vars: BTreeMap<String, String>,
    primary: bool,
}

impl Default for Env {
    fn default() -> Env {
        Env {
            manifest_dir: None,
            source_file: None,
            vars: BTreeMap::new(),
            primary: true,
        }
    }
}

impl Env {
    /// Surroundings with nothing set: no crate root, no invoking file, no variables
    /// (so "today" comes from the clock), built as a primary package.
    pub fn new() -> Env {
        Env::default()
    }

    /// The surroundings of a proc macro run by cargo: `CARGO_MANIFEST_DIR`,
    /// [`CARGO_PRIMARY_PACKAGE`], [`FLAGS_TODAY`], [`SOURCE_DATE_EPOCH`] and every
    /// `FLAGS_STATIC_*` variable of the process. The invoking file is not known here;
    /// add it with [`Env::with_source_file`].
    pub fn from_process() -> Env {
        let mut env = Env::new();
        env.manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
        env.primary = std::env::var_os(CARGO_PRIMARY_PACKAGE).is_some();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str() else {
                continue;
            };
            if name == FLAGS_TODAY
                || name == SOURCE_DATE_EPOCH
                || name.starts_with(FLAGS_STATIC_PREFIX)
            {
                // A value that is not UTF-8 is kept lossily: it then fails to parse and
                // the error names the variable, rather than being silently ignored.
                let value = value.to_string_lossy().into_owned();
                env.vars.insert(name.to_owned(), value);
            }
        }
        env
    }

    /// Sets the crate root that manifest paths are relative to first.
    pub fn with_manifest_dir(mut self, dir: impl Into<PathBuf>) -> Env {
        self.manifest_dir = Some(dir.into());
        self
    }

    /// Sets the source file that invokes the macro, the second place a manifest path is
    /// looked up relative to (`None` when the compiler cannot tell).
    pub fn with_source_file(mut self, file: Option<PathBuf>) -> Env {
        self.source_file = file;
        self
    }

    /// Sets whether the crate is built as a primary package (see
    /// [`CARGO_PRIMARY_PACKAGE`]). Only a primary package warns or fails about expired
    /// flags: as someone else's dependency it compiles quietly, since its users can do
    /// nothing about its flags.
    ///
    /// ```
    /// use flags_codegen::Env;
    /// assert!(Env::new().is_primary());
    /// assert!(!Env::new().with_primary(false).is_primary());
    /// ```
    pub fn with_primary(mut self, primary: bool) -> Env {
        self.primary = primary;
        self
    }

    /// Whether the crate is built as a primary package.
    pub fn is_primary(&self) -> bool {
        self.primary
    }

    /// Sets an environment variable as the expansion sees it.
    pub fn with_var(mut self, name: impl Into<String>, value: impl Into<String>) -> Env {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The crate root, if known.
    pub fn manifest_dir(&self) -> Option<&Path> {
        self.manifest_dir.as_deref()
    }

    /// The invoking source file, if known.
    pub fn source_file(&self) -> Option<&Path> {
        self.source_file.as_deref()
    }

    /// Every variable set whose name starts with `prefix`, with its value.
    pub fn vars_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.vars
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The value of an environment variable, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}
