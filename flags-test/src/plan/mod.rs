//! From a manifest and [`PlanOptions`] to the list of combinations to run: the selected
//! flags become factors of the covering-array generator ([`crate::cover`]), the
//! manifest's `requires`/`excludes` become its constraints, pins become its pinned rows,
//! and every resulting row becomes a [`Combination`], with the variable that carries
//! each value ([`env_var`]). The in-process [`FlagMatrix`](crate::FlagMatrix) and the
//! whole-suite runner of `flags-runner` plan through here, so both choose the same
//! combinations for the same options.

mod error;
mod options;

pub use error::PlanError;
pub use options::{FlagSelection, Mode, ParseOptionError, Pin, PlanOptions, Rule};

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use flags_manifest::{Flag, FlagRef, FlagType, Manifest, Value};

use crate::cover::{self, Constraints, Coverage, Factor, Row, Setting};

/// The environment variable a flag's value is read from: `FLAGS_<NAME>` for a dynamic
/// flag (read by the runtime's environment layer) and `FLAGS_STATIC_<NAME>` for a static
/// one (read by the `flags!` macro at build time, so cargo rebuilds when it changes).
/// `<NAME>` is the flag's identifier in upper case, other characters than ASCII letters,
/// digits and `_` becoming `_`.
///
/// ```
/// let m = flags_manifest::parse_str(r#"
/// [flags.search_v2]
/// description = "d"
/// owner = "o"
/// kind = "ops"
///
/// [flags.dark_mode]
/// description = "d"
/// owner = "o"
/// kind = "ops"
/// static = true
/// "#, "flags.toml").unwrap();
/// assert_eq!(flags_test::plan::env_var(&m.flags[0]), "FLAGS_SEARCH_V2");
/// assert_eq!(flags_test::plan::env_var(&m.flags[1]), "FLAGS_STATIC_DARK_MODE");
/// ```
pub fn env_var(flag: &Flag) -> String {
    if flag.is_static {
        flags_manifest::static_env_var(&flag.name)
    } else {
        flags_manifest::env_var(&flag.name)
    }
}

/// One flag's value in a combination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagValue {
    /// The flag's name.
    pub flag: String,
    /// `on`, `off` or the variant's name.
    pub value: String,
    /// Whether the flag is static (its value is a build-time variable).
    pub is_static: bool,
    /// The variable that carries the value ([`env_var`]).
    pub var: String,
}

/// One run of the command: a value for every selected flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combination {
    /// Position in the whole plan (0-based); shards keep it, so that `#3` is the same
    /// combination on every machine.
    pub index: usize,
    /// `flag=value, flag=value`, in manifest order: the name of the combination in the
    /// table, the JUnit report and `FLAGS_COMBINATION`.
    pub label: String,
    /// The values, in manifest order.
    pub values: Vec<FlagValue>,
    /// The pins this combination satisfies (`defaults`, `all-on`, ...), if it is pinned.
    pub pinned_as: Vec<String>,
}

impl Combination {
    /// The values of the static flags, which decide what gets built.
    pub fn static_values(&self) -> impl Iterator<Item = &FlagValue> {
        self.values.iter().filter(|v| v.is_static)
    }
}

/// Every combination a run executes, before sharding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    /// The combinations, pinned ones first.
    pub combinations: Vec<Combination>,
    /// The selected flags, in manifest order.
    pub flags: Vec<String>,
    /// How they were chosen, e.g. `pairwise over 5 flags`.
    pub description: String,
    /// The seed of a random run, chosen or given.
    pub seed: Option<u64>,
    /// Things the user should know: pins left out, fixed flags breaking constraints.
    pub warnings: Vec<PlanWarning>,
}

/// Something about a plan the user should know; it does not stop the run.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanWarning {
    /// A pinned combination breaks the manifest's `requires`/`excludes`, so it is not
    /// run.
    PinBreaksRules {
        /// The pin as written (`all-on`, `a=on,b=off`).
        pin: String,
        /// The combination it stands for.
        values: String,
    },
    /// A `requires`/`excludes` between flags outside the run does not hold for the
    /// values they are fixed at.
    FixedFlagsBreakRule {
        /// The rule, e.g. `` `a` requires `b` ``.
        rule: String,
        /// The fixed values, e.g. `a=on, b=off`.
        values: String,
    },
}

impl std::fmt::Display for PlanWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanWarning::PinBreaksRules { pin, values } => write!(
                f,
                "pinned combination `{pin}` ({values}) breaks the manifest's requires/excludes; it is not run"
            ),
            PlanWarning::FixedFlagsBreakRule { rule, values } => write!(
                f,
                "{rule} does not hold for the values of flags outside the run ({values})"
            ),
        }
    }
}

/// Chooses the combinations `opts` asks for from `manifest` (`file` names it in
/// messages), with `extra` constraints over the selected flags on top of the manifest's
/// own. A random mode without a seed draws one and reports it in [`Matrix::seed`].
///
/// ```
/// use flags_test::cover::Constraints;
/// use flags_test::plan::{Mode, PlanOptions, plan_manifest};
///
/// let manifest = flags_manifest::parse_str(r#"
/// [flags.a]
/// description = "d"
/// owner = "o"
/// kind = "ops"
///
/// [flags.b]
/// description = "d"
/// owner = "o"
/// kind = "ops"
/// "#, "flags.toml").unwrap();
/// let mut opts = PlanOptions::new();
/// opts.mode = Mode::Exhaustive;
/// opts.pins = Vec::new();
/// let matrix = plan_manifest(&manifest, "flags.toml", &opts, &Constraints::new())?;
/// assert_eq!(matrix.combinations.len(), 4);
/// assert_eq!(matrix.combinations[3].label, "a=on, b=on");
/// # Ok::<(), flags_test::plan::PlanError>(())
/// ```
pub fn plan_manifest(
    manifest: &Manifest,
    file: &str,
    opts: &PlanOptions,
    extra: &Constraints,
) -> Result<Matrix, PlanError> {
    let manifest = manifest.clone();
    let file = file.to_owned();
    let selected = select(&manifest, &opts.flags, &file)?;
    let env = |name: &str| std::env::var(name).ok();
    let baseline = baseline(&manifest, &env);
    let factors: Vec<Factor> = selected
        .iter()
        .map(|&i| factor(&manifest.flags[i]))
        .collect();
    let mut warnings = Vec::new();
    let mut constraints = constraints(&manifest, &selected, &baseline, &mut warnings).and(extra);
    for rule in &opts.rules {
        let (a, b, requires) = match rule {
            Rule::Requires(a, b) => (a, b, true),
            Rule::Excludes(a, b) => (a, b, false),
        };
        let find = |side: &String| {
            side.split_once('=')
                .and_then(|(f, v)| Setting::find(&factors, f.trim(), v.trim()))
                .ok_or_else(|| PlanError::BadRule {
                    rule: match rule {
                        Rule::Requires(..) => format!("{a} -> {b}"),
                        Rule::Excludes(..) => format!("{a} !& {b}"),
                    },
                    side: side.clone(),
                })
        };
        let (sa, sb) = (find(a)?, find(b)?);
        constraints = if requires {
            constraints.requires(sa, sb)
        } else {
            constraints.excludes(sa, sb)
        };
    }

    let mut pinned: Vec<(Row, String)> = Vec::new();
    for pin in &opts.pins {
        let row = pin_row(&manifest, &selected, pin)?;
        let partial: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
        if constraints.allows(&partial) {
            pinned.push((row, pin.to_string()));
        } else {
            warnings.push(PlanWarning::PinBreaksRules {
                pin: pin.to_string(),
                values: cover_label(&factors, &row),
            });
        }
    }
    let mut rows: Vec<Row> = Vec::new();
    for (row, _) in &pinned {
        if !rows.contains(row) {
            rows.push(row.clone());
        }
    }

    let k = factors.len();
    let (strategy, description, seed) = match opts.mode {
        Mode::Exhaustive => (
            Coverage::Exhaustive {
                limit: opts.max_combinations,
            },
            format!("exhaustive over {}", count_flags(k)),
            None,
        ),
        Mode::Pairwise | Mode::TWise(_) => {
            let t = match opts.mode {
                Mode::TWise(t) => t,
                _ => 2,
            };
            // A strength above the number of flags asks for every combination of all of
            // them, which is what strength k gives.
            let t = t.min(u8::try_from(k).unwrap_or(u8::MAX)).max(1);
            let name = if t == 2 {
                "pairwise".to_owned()
            } else {
                format!("{t}-wise")
            };
            (
                Coverage::TWise(t),
                format!("{name} over {}", count_flags(k)),
                None,
            )
        }
        Mode::Random { count, seed } => {
            let seed = seed.unwrap_or_else(fresh_seed);
            (
                Coverage::Random { count, seed },
                format!("random {count} over {} (seed {seed})", count_flags(k)),
                Some(seed),
            )
        }
    };
    let generated = cover::generate(&factors, &strategy, &constraints, &rows)?;

    let combinations = generated
        .rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let values = selected
                .iter()
                .zip(row)
                .map(|(&i, &level)| {
                    let flag = &manifest.flags[i];
                    FlagValue {
                        flag: flag.name.clone(),
                        value: level_name(flag, level),
                        is_static: flag.is_static,
                        var: env_var(flag),
                    }
                })
                .collect();
            let pinned_as = pinned
                .iter()
                .filter(|(pinned_row, _)| pinned_row == row)
                .map(|(_, name)| name.clone())
                .collect();
            Combination {
                index,
                label: generated.label(index),
                values,
                pinned_as,
            }
        })
        .collect();
    Ok(Matrix {
        combinations,
        flags: selected
            .iter()
            .map(|&i| manifest.flags[i].name.clone())
            .collect(),
        description,
        seed,
        warnings,
    })
}

fn count_flags(k: usize) -> String {
    if k == 1 {
        "1 flag".to_owned()
    } else {
        format!("{k} flags")
    }
}

/// A seed for a random run nobody gave a seed to; it is reported, so any seed will do.
fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // Fold in the process id so that two runs started in the same instant differ.
    let mixed = (nanos as u64) ^ ((nanos >> 64) as u64) ^ u64::from(std::process::id()) << 32;
    // Keep seeds short enough to type back in.
    mixed % 1_000_000_007
}

/// Indices of the selected flags, in manifest order.
fn select(
    manifest: &Manifest,
    selection: &FlagSelection,
    file: &str,
) -> Result<Vec<usize>, PlanError> {
    let (indices, what): (Vec<usize>, _) = match selection {
        FlagSelection::Dynamic => (
            manifest
                .flags
                .iter()
                .filter(|f| !f.is_static)
                .map(|f| f.index)
                .collect(),
            "dynamic flags",
        ),
        FlagSelection::All => (manifest.flags.iter().map(|f| f.index).collect(), "flags"),
        FlagSelection::Named(names) => {
            let mut indices = Vec::new();
            for name in names {
                let Some(index) = manifest.index_of(name) else {
                    return Err(PlanError::UnknownFlag {
                        name: name.clone(),
                        manifest: file.to_owned(),
                        suggestion: flags_manifest::did_you_mean(
                            name,
                            manifest.flags.iter().map(|f| f.name.as_str()),
                        )
                        .map(str::to_owned),
                    });
                };
                indices.push(index);
            }
            indices.sort_unstable();
            indices.dedup();
            (indices, "flags")
        }
    };
    if indices.is_empty() {
        return Err(PlanError::NoFlags {
            manifest: file.to_owned(),
            what,
        });
    }
    Ok(indices)
}

/// A flag as a factor: `off`/`on` (levels 0 and 1) or its variants by index.
fn factor(flag: &Flag) -> Factor {
    match &flag.ty {
        FlagType::Bool => Factor::boolean(&flag.name),
        FlagType::Variants(variants) => Factor::new(&flag.name, variants.iter().cloned()),
    }
}

/// The level index of a value: 0/1 for off/on, the variant index otherwise.
fn level_of(value: Value) -> u16 {
    match value {
        Value::Bool(on) => u16::from(on),
        Value::Variant(i) => i,
    }
}

fn level_name(flag: &Flag, level: u16) -> String {
    match flag.ty {
        FlagType::Bool => flag.value_label(Value::Bool(level == 1)),
        FlagType::Variants(_) => flag.value_label(Value::Variant(level)),
    }
}

fn default_level(flag: &Flag) -> u16 {
    level_of(flag.default)
}

/// The level of "off": `off` for a bool flag, the default variant otherwise.
fn off_level(flag: &Flag) -> u16 {
    match flag.ty {
        FlagType::Bool => 0,
        FlagType::Variants(_) => default_level(flag),
    }
}

/// The level of "on": `on` for a bool flag, the first variant that is not the default
/// otherwise (the default when it is the only one).
fn on_level(flag: &Flag) -> u16 {
    match &flag.ty {
        FlagType::Bool => 1,
        FlagType::Variants(variants) => {
            let default = default_level(flag);
            (0..variants.len())
                .filter_map(|i| u16::try_from(i).ok())
                .find(|&i| i != default)
                .unwrap_or(default)
        }
    }
}

/// The value every flag has when it is not varied: its inherited variable when that
/// parses, else its default.
fn baseline(manifest: &Manifest, env: &dyn Fn(&str) -> Option<String>) -> Vec<u16> {
    manifest
        .flags
        .iter()
        .map(|flag| {
            env(&env_var(flag))
                .and_then(|text| flag.parse_value(&text))
                .map_or_else(|| default_level(flag), level_of)
        })
        .collect()
}

/// A condition on one flag's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cond {
    Is(u16),
    IsNot(u16),
}

impl Cond {
    fn holds(self, level: u16) -> bool {
        match self {
            Cond::Is(l) => level == l,
            Cond::IsNot(l) => level != l,
        }
    }
}

/// When a flag counts as on for `requires`/`excludes`: `on`, or not at its default.
fn active(flag: &Flag) -> Cond {
    match flag.ty {
        FlagType::Bool => Cond::Is(1),
        FlagType::Variants(_) => Cond::IsNot(default_level(flag)),
    }
}

/// What a reference asks of its flag: `on`, a named variant, or not the default.
fn wanted(flag: &Flag, r: &FlagRef) -> Option<Cond> {
    match (&flag.ty, &r.variant) {
        (FlagType::Bool, _) => Some(Cond::Is(1)),
        (FlagType::Variants(_), Some(v)) => flag.variant_index(v).map(Cond::Is),
        (FlagType::Variants(_), None) => Some(active(flag)),
    }
}

#[derive(Clone, Copy)]
enum Side {
    Factor(usize),
    Fixed(u16),
}

/// The manifest's `requires`/`excludes` over the selected flags. A reference to a flag
/// outside the selection is decided by that flag's fixed (baseline) value.
fn constraints(
    manifest: &Manifest,
    selected: &[usize],
    baseline: &[u16],
    warnings: &mut Vec<PlanWarning>,
) -> Constraints {
    let side = |flag: usize| match selected.iter().position(|&s| s == flag) {
        Some(factor) => Side::Factor(factor),
        None => Side::Fixed(baseline[flag]),
    };
    let mut out = Constraints::new();
    for flag in &manifest.flags {
        let rules = flag
            .requires
            .iter()
            .map(|r| (r, true))
            .chain(flag.excludes.iter().map(|r| (r, false)));
        for (r, requires) in rules {
            let Some(other) = manifest.flag(&r.flag) else {
                // The manifest checks references; an unknown one cannot get here.
                continue;
            };
            let Some(target) = wanted(other, r) else {
                continue;
            };
            let when = active(flag);
            // Forbidden: `flag` active while `target` holding is `!requires`.
            let forbidden_target = !requires;
            let verb = if requires { "requires" } else { "excludes" };
            let name = match &r.variant {
                Some(v) => format!("`{}` {verb} `{}={v}`", flag.name, other.name),
                None => format!("`{}` {verb} `{}`", flag.name, other.name),
            };
            match (side(flag.index), side(other.index)) {
                (Side::Fixed(a), Side::Fixed(b)) => {
                    if when.holds(a) && target.holds(b) == forbidden_target {
                        warnings.push(PlanWarning::FixedFlagsBreakRule {
                            rule: name.clone(),
                            values: format!(
                                "{}={}, {}={}",
                                flag.name,
                                level_name(flag, a),
                                other.name,
                                level_name(other, b)
                            ),
                        });
                    }
                }
                (Side::Factor(i), Side::Fixed(b)) => {
                    if target.holds(b) == forbidden_target {
                        out = out.custom_over(name, [i], move |row| {
                            row.get(i).copied().flatten().is_none_or(|l| !when.holds(l))
                        });
                    }
                }
                (Side::Fixed(a), Side::Factor(j)) => {
                    if when.holds(a) {
                        out = out.custom_over(name, [j], move |row| {
                            row.get(j)
                                .copied()
                                .flatten()
                                .is_none_or(|l| target.holds(l) != forbidden_target)
                        });
                    }
                }
                (Side::Factor(i), Side::Factor(j)) => match (when, target) {
                    (Cond::Is(a), Cond::Is(b)) if requires => {
                        out = out.requires(Setting::new(i, a), Setting::new(j, b));
                    }
                    (Cond::Is(a), Cond::Is(b)) => {
                        out = out.excludes(Setting::new(i, a), Setting::new(j, b));
                    }
                    _ => {
                        out = out.custom_over(name, [i, j], move |row| {
                            match (row.get(i).copied().flatten(), row.get(j).copied().flatten()) {
                                (Some(a), Some(b)) => {
                                    !(when.holds(a) && target.holds(b) == forbidden_target)
                                }
                                _ => true,
                            }
                        });
                    }
                },
            }
        }
    }
    out
}

/// The row a pin stands for, over the selected flags.
fn pin_row(manifest: &Manifest, selected: &[usize], pin: &Pin) -> Result<Row, PlanError> {
    let flags = selected.iter().map(|&i| &manifest.flags[i]);
    Ok(match pin {
        Pin::Defaults => flags.map(default_level).collect(),
        Pin::AllOn => flags.map(on_level).collect(),
        Pin::AllOff => flags.map(off_level).collect(),
        Pin::State(path) => {
            let fixed = state_values(manifest, path)?;
            selected.iter().map(|&i| fixed[i]).collect()
        }
    })
}

/// The fixed level of every flag under a state file.
fn state_values(manifest: &Manifest, path: &Path) -> Result<Vec<u16>, PlanError> {
    let src = std::fs::read_to_string(path).map_err(|source| PlanError::StateFile {
        path: path.to_owned(),
        source,
    })?;
    let rules = flags_manifest::parse_rules_str(&src, &path.display().to_string(), manifest)
        .map_err(PlanError::StateFileInvalid)?;
    let mut levels: Vec<u16> = manifest.flags.iter().map(default_level).collect();
    for (index, rules) in rules {
        let flag = &manifest.flags[index];
        levels[index] = if rules.enabled == Some(false) {
            off_level(flag)
        } else if let Some(value) = rules.value {
            level_of(value)
        } else {
            default_level(flag)
        };
    }
    Ok(levels)
}

fn cover_label(factors: &[Factor], row: &[u16]) -> String {
    let parts: Vec<String> = factors
        .iter()
        .zip(row)
        .map(|(f, &l)| {
            let level = f.levels.get(usize::from(l)).map_or("?", String::as_str);
            format!("{}={level}", f.name)
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[flags.a]
description = "d"
owner = "o"
kind = "ops"

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "compact", "wide"]
default = "compact"

[flags.b]
description = "d"
owner = "o"
kind = "ops"
requires = ["layout"]
excludes = ["a"]

[flags.s]
description = "d"
owner = "o"
kind = "ops"
static = true
default = true
"#;

    fn manifest() -> Manifest {
        flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap()
    }

    #[test]
    fn on_and_off_levels_follow_the_variant_default() {
        let m = manifest();
        let layout = m.flag("layout").unwrap();
        assert_eq!(off_level(layout), 1);
        assert_eq!(on_level(layout), 0);
        assert_eq!(on_level(m.flag("a").unwrap()), 1);
    }

    #[test]
    fn baseline_reads_inherited_variables_that_parse() {
        let m = manifest();
        let env = |name: &str| match name {
            "FLAGS_A" => Some("on".to_owned()),
            "FLAGS_LAYOUT" => Some("bogus".to_owned()),
            _ => None,
        };
        assert_eq!(baseline(&m, &env), [1, 1, 0, 1]);
    }

    #[test]
    fn requires_a_variant_flag_means_not_at_its_default() {
        let m = manifest();
        let mut warnings = Vec::new();
        // a, layout, b selected.
        let c = constraints(&m, &[0, 1, 2], &[0, 1, 0, 1], &mut warnings);
        let allows = |row: [u16; 3]| c.allows(&row.map(Some));
        assert!(!allows([0, 1, 1]), "b on with layout at its default");
        assert!(allows([0, 2, 1]));
        assert!(!allows([1, 2, 1]), "b excludes a");
        assert!(allows([1, 1, 0]));
        assert!(warnings.is_empty());
    }

    #[test]
    fn references_to_fixed_flags_use_their_baseline() {
        let m = manifest();
        let mut warnings = Vec::new();
        // Only b varies; layout is fixed at its default (compact), so b can never be on.
        let c = constraints(&m, &[2], &[0, 1, 0, 1], &mut warnings);
        assert!(!c.allows(&[Some(1)]));
        assert!(c.allows(&[Some(0)]));
        // With layout inherited as wide, b may be on.
        let c = constraints(&m, &[2], &[0, 2, 0, 1], &mut warnings);
        assert!(c.allows(&[Some(1)]));
        // Fixed flags that break a rule are reported, not enforced.
        let c = constraints(&m, &[0], &[0, 1, 1, 1], &mut warnings);
        assert!(c.allows(&[Some(0)]));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            matches!(&warnings[0], PlanWarning::FixedFlagsBreakRule { rule, .. }
                if rule.starts_with("`b` requires `layout")),
            "{warnings:?}"
        );
        assert!(
            warnings[0]
                .to_string()
                .contains("does not hold for the values of flags outside the run (b=on, layout="),
            "{}",
            warnings[0]
        );
    }

    #[test]
    fn env_var_names_upper_case_the_identifier() {
        let m = manifest();
        assert_eq!(env_var(m.flag("layout").unwrap()), "FLAGS_LAYOUT");
        assert_eq!(env_var(m.flag("s").unwrap()), "FLAGS_STATIC_S");
    }
}
