//! The environment layer: `FLAGS_<UPPER_NAME>=on|off|<variant>` per flag and a
//! combined `FLAGS="a=on,b=compact"`, read once when the registry starts.
//!
//! Bad values, and unknown names close to one of the manifest's flags (typos, with a
//! did-you-mean), are reported (once) and skipped; the other variables still apply. An
//! unknown name close to no flag here is logged at debug level only: in a process with
//! several manifests (a library's and the application's) it belongs to another
//! registry. A specific `FLAGS_<NAME>` wins over the same flag in `FLAGS`.
//! The framework's own variables are not flags and are ignored here: `FLAGS_TODAY` and
//! `FLAGS_STATIC_*` belong to the build (expiry date and static flags),
//! `FLAGS_EXPOSURE_KEY` to exposure events (the secret of their key hash),
//! `FLAGS_COMBINATION`, `FLAGS_MATRIX_SEED` and `FLAGS_MATRIX_REPORT` to flags-test's
//! matrix runs.

use std::fmt;

use flags_manifest::{Rules, Value};

use super::{Source, SourceError, SourceWarning, Update};
use crate::explain::Layer;
use crate::meta::FlagMeta;
use crate::registry::Registry;

/// The variable holding several flags at once.
const COMBINED: &str = "FLAGS";
/// The prefix of a one-flag variable.
const PREFIX: &str = flags_manifest::ENV_PREFIX;

/// `FLAGS_*` variables of the framework itself, never flags.
const RESERVED: &[&str] = &[
    "TODAY",
    "EXPOSURE_KEY",
    "COMBINATION",
    "MATRIX_SEED",
    "MATRIX_REPORT",
];

/// Flag values from environment variables.
///
/// # Examples
///
/// ```
/// use flags_runtime::EnvSource;
/// # use flags_runtime::__private::*;
/// # static META: [FlagMeta; 2] = [
/// #   FlagMeta { name: "search_v2", index: 0, description: "", owner: "", kind: Kind::Ops,
/// #     lifecycle: Lifecycle::Active, expires: None, variants: &[], default: Value::Bool(false),
/// #     is_static: false, requires: &[], excludes: &[] },
/// #   FlagMeta { name: "layout", index: 1, description: "", owner: "", kind: Kind::Ops,
/// #     lifecycle: Lifecycle::Active, expires: None, variants: &["classic", "compact"],
/// #     default: Value::Variant(0), is_static: false, requires: &[], excludes: &[] },
/// # ];
///
/// let env = EnvSource::from_vars([("FLAGS", "layout=compact,nope=on"), ("FLAGS_SEARCH_V2", "on")]);
/// let (values, problems) = env.parse(&META);
/// assert_eq!(values, vec![(0, Value::Bool(true)), (1, Value::Variant(1))]);
/// assert_eq!(problems.len(), 1);
/// assert!(problems[0].to_string().contains("nope"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct EnvSource {
    vars: Vec<(String, String)>,
    unreadable: Vec<String>,
    polled: bool,
}

/// A variable that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvProblem {
    /// The variable (`FLAGS_X`, or `FLAGS` for the combined one).
    pub var: String,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The name is close to no flag of this manifest: it most likely belongs to
    /// another registry in the same process (a library's own manifest), so it is
    /// logged at debug level instead of being reported as a problem.
    pub foreign: bool,
}

impl fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "environment variable {}: {}", self.var, self.message)
    }
}

/// The `FLAGS_` spelling of a flag name, shared with the macro and the matrix runner.
fn env_name(flag: &str) -> String {
    flags_manifest::env_suffix(flag)
}

/// Parses a value the way `flags_manifest::Flag::parse_value` does (the spelling the
/// CLI uses too): bool words for an on/off flag, a variant's exact name otherwise.
fn parse_value(meta: &FlagMeta, text: &str) -> Option<Value> {
    let t = text.trim();
    if meta.is_bool() {
        match t.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" | "enabled" => Some(Value::Bool(true)),
            "off" | "false" | "0" | "no" | "disabled" => Some(Value::Bool(false)),
            _ => None,
        }
    } else {
        meta.variants
            .iter()
            .position(|v| *v == t)
            .and_then(|i| u16::try_from(i).ok())
            .map(Value::Variant)
    }
}

fn expected(meta: &FlagMeta) -> String {
    if meta.is_bool() {
        "on or off".to_owned()
    } else {
        format!("one of {}", meta.variants.join(", "))
    }
}

impl EnvSource {
    /// The `FLAGS` and `FLAGS_*` variables of this process.
    #[must_use]
    pub fn from_process() -> EnvSource {
        let mut src = EnvSource::default();
        for (k, v) in std::env::vars_os() {
            let Some(k) = k.to_str() else { continue };
            if k != COMBINED && !k.starts_with(PREFIX) {
                continue;
            }
            match v.into_string() {
                Ok(v) => src.vars.push((k.to_owned(), v)),
                Err(_) => src.unreadable.push(k.to_owned()),
            }
        }
        src
    }

    /// Variables given as (name, value) pairs, for tests and embedding; only `FLAGS`
    /// and `FLAGS_*` names are considered.
    pub fn from_vars<I, K, V>(vars: I) -> EnvSource
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        EnvSource {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(k, _)| k == COMBINED || k.starts_with(PREFIX))
                .collect(),
            unreadable: Vec::new(),
            polled: false,
        }
    }

    /// The values the variables set for `flags` (by index, in index order) and the
    /// variables skipped. Never panics, whatever the text.
    #[must_use]
    pub fn parse(&self, flags: &[FlagMeta]) -> (Vec<(usize, Value)>, Vec<EnvProblem>) {
        let mut values: Vec<Option<Value>> = vec![None; flags.len()];
        let mut problems: Vec<EnvProblem> = self
            .unreadable
            .iter()
            .map(|var| EnvProblem {
                var: var.clone(),
                message: "the value is not UTF-8 text".to_owned(),
                foreign: false,
            })
            .collect();
        let mut set = |var: &str, flag: usize, text: &str, problems: &mut Vec<EnvProblem>| {
            let meta = &flags[flag];
            if meta.is_static {
                problems.push(EnvProblem {
                    var: var.to_owned(),
                    message: format!(
                        "flag `{}` is static (fixed at build time); set {} when building instead",
                        meta.name,
                        flags_manifest::static_env_var(meta.name)
                    ),
                    foreign: false,
                });
                return;
            }
            match parse_value(meta, text) {
                Some(v) => values[flag] = Some(v),
                None => problems.push(EnvProblem {
                    var: var.to_owned(),
                    message: format!(
                        "`{}` is not a value of flag `{}` (help: use {})",
                        text.trim(),
                        meta.name,
                        expected(meta)
                    ),
                    foreign: false,
                }),
            }
        };
        // One budget for all the variables, so many unknown names cannot make it slow.
        let mut suggestions = flags_manifest::Suggestions::new(
            flags.iter().map(|m| m.name),
            flags_manifest::SUGGEST_BUDGET,
        );
        let mut unknown = |var: &str, name: &str| {
            let hint = suggestions.suggest(name);
            EnvProblem {
                var: var.to_owned(),
                message: match hint {
                    Some(h) => format!("no flag named `{name}` (help: did you mean `{h}`?)"),
                    None => format!("no flag named `{name}`"),
                },
                foreign: hint.is_none(),
            }
        };
        // The combined variable first, so that specific variables win over it.
        for (var, value) in self.vars.iter().filter(|(k, _)| k == COMBINED) {
            for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let Some((name, text)) = item.split_once('=') else {
                    problems.push(EnvProblem {
                        var: var.clone(),
                        message: format!("`{item}` is not of the form name=value"),
                        foreign: false,
                    });
                    continue;
                };
                let name = name.trim();
                let found = flags.iter().position(|m| m.name == name).or_else(|| {
                    flags
                        .iter()
                        .position(|m| env_name(m.name) == env_name(name))
                });
                match found {
                    Some(i) => set(var, i, text, &mut problems),
                    None => problems.push(unknown(var, name)),
                }
            }
        }
        for (var, value) in &self.vars {
            let Some(suffix) = var.strip_prefix(PREFIX) else {
                continue;
            };
            if RESERVED.contains(&suffix) || suffix.starts_with("STATIC_") {
                continue;
            }
            let wanted = suffix.to_ascii_uppercase();
            match flags.iter().position(|m| env_name(m.name) == wanted) {
                Some(i) => set(var, i, value, &mut problems),
                None => problems.push(unknown(var, &suffix.to_ascii_lowercase())),
            }
        }
        let values = values
            .into_iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, v)))
            .collect();
        (values, problems)
    }
}

impl Source for EnvSource {
    fn name(&self) -> &str {
        "env"
    }

    fn layer(&self) -> Layer {
        Layer::Env
    }

    /// The environment is read once: the first poll yields the update, later polls
    /// report no change.
    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
        if std::mem::replace(&mut self.polled, true) {
            return Ok(None);
        }
        let (values, problems) = self.parse(registry.flags());
        Ok(Some(Update {
            rules: values
                .into_iter()
                .map(|(i, v)| {
                    (
                        i,
                        Rules {
                            value: Some(v),
                            ..Rules::default()
                        },
                    )
                })
                .collect(),
            warnings: problems
                .iter()
                .filter(|p| {
                    if p.foreign {
                        tracing::debug!(target: crate::TARGET, var = %p.var,
                            "not a flag of this manifest; left to other registries");
                    }
                    !p.foreign
                })
                .map(|p| SourceWarning::new(p.to_string()))
                .collect(),
            revision: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn meta(
        name: &'static str,
        index: usize,
        variants: &'static [&'static str],
        is_static: bool,
    ) -> FlagMeta {
        FlagMeta {
            is_static,
            ..FlagMeta::bare(name, index, variants)
        }
    }

    static FLAGS: [FlagMeta; 4] = [
        meta("search_v2", 0, &[], false),
        meta("checkout-layout", 1, &["classic", "two-col"], false),
        meta("dark_mode", 2, &[], true),
        meta("beta", 3, &[], false),
    ];

    fn parse(vars: &[(&str, &str)]) -> (Vec<(usize, Value)>, Vec<EnvProblem>) {
        EnvSource::from_vars(vars.iter().copied()).parse(&FLAGS)
    }

    #[test]
    fn specific_variables() {
        let (values, problems) = parse(&[
            ("FLAGS_SEARCH_V2", "ON"),
            ("FLAGS_CHECKOUT_LAYOUT", "two-col"),
            ("FLAGS_BETA", " off "),
            ("PATH", "/usr/bin"),
        ]);
        assert_eq!(
            values,
            vec![
                (0, Value::Bool(true)),
                (1, Value::Variant(1)),
                (3, Value::Bool(false))
            ]
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn combined_and_precedence() {
        let (values, problems) = parse(&[
            ("FLAGS_BETA", "on"),
            ("FLAGS", "beta=off, search_v2=yes,checkout-layout=classic,,"),
        ]);
        assert_eq!(
            values,
            vec![
                (0, Value::Bool(true)),
                (1, Value::Variant(0)),
                (3, Value::Bool(true))
            ]
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn reserved_names_are_ignored() {
        let (values, problems) = parse(&[
            ("FLAGS_TODAY", "2026-01-01"),
            ("FLAGS_EXPOSURE_KEY", "0123456789abcdef0123456789abcdef"),
            ("FLAGS_COMBINATION", "a=on"),
            ("FLAGS_MATRIX_SEED", "7"),
            ("FLAGS_STATIC_DARK_MODE", "on"),
        ]);
        assert!(values.is_empty());
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn problems_are_reported_and_skipped() {
        let (values, problems) = parse(&[
            ("FLAGS_SEARCH_V3", "on"),
            ("FLAGS_BETA", "maybe"),
            ("FLAGS_CHECKOUT_LAYOUT", "Two-Col"),
            ("FLAGS_DARK_MODE", "on"),
            ("FLAGS", "beta,nope=on,search_v2=on"),
        ]);
        assert_eq!(values, vec![(0, Value::Bool(true))]);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 6, "{text:#?}");
        assert!(text.iter().any(|t| t.contains("did you mean `search_v2`")));
        assert!(
            text.iter()
                .any(|t| t.contains("`maybe`") && t.contains("on or off"))
        );
        assert!(text.iter().any(|t| t.contains("classic, two-col")));
        assert!(text.iter().any(|t| t.contains("static")));
        assert!(text.iter().any(|t| t.contains("`beta` is not of the form")));
        assert!(text.iter().any(|t| t.contains("`nope`")));
    }

    #[cfg(feature = "rule-files")]
    #[test]
    fn value_spelling_matches_the_manifest() {
        let m = match flags_manifest::parse_str(
            "[flags.b]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\
             [flags.v]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\
             variants = [\"classic\", \"two-col\"]\ndefault = \"classic\"\n",
            "flags.toml",
        ) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        };
        let metas = [
            meta("b", 0, &[], false),
            meta("v", 1, &["classic", "two-col"], false),
        ];
        for text in [
            "on", "ON", "true", "1", "yes", "enabled", "off", "False", "0", "no", "disabled",
            " on ", "maybe", "", "classic", "two-col", " two-col", "Classic", "2",
        ] {
            for (flag, meta) in m.flags.iter().zip(&metas) {
                assert_eq!(parse_value(meta, text), flag.parse_value(text), "{text:?}");
            }
        }
    }

    #[test]
    fn source_yields_once() {
        use crate::registry::{FastCell, Registry};
        static CELLS: [FastCell; 4] = [const { FastCell::new() }; 4];
        // The manifest text is irrelevant to the environment layer.
        static REGISTRY: Registry = Registry::generated(&FLAGS, &CELLS, Vec::new, "", "none.toml");
        let mut src = EnvSource::from_vars([
            ("FLAGS_BETA", "on"),
            ("FLAGS_NOPE", "on"),
            ("FLAGS_BETTA", "on"),
        ]);
        assert_eq!(src.name(), "env");
        assert_eq!(src.layer(), Layer::Env);
        let update = match src.poll(&REGISTRY) {
            Ok(Some(u)) => u,
            other => panic!("first poll yields the update: {other:?}"),
        };
        assert_eq!(update.rules.len(), 1);
        assert_eq!(update.rules[0].0, 3);
        assert_eq!(update.rules[0].1.value, Some(Value::Bool(true)));
        // A near miss of a flag here is a typo to report; a name close to no flag of
        // this manifest is left to other registries of the process.
        assert_eq!(update.warnings.len(), 1, "{:?}", update.warnings);
        assert!(update.warnings[0].message.contains("FLAGS_BETTA"));
        assert!(update.warnings[0].message.contains("did you mean `beta`?"));
        assert_eq!(src.poll(&REGISTRY), Ok(None));
    }
}
