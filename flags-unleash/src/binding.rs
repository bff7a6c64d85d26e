//! Manifest flags bound to Unleash toggles by name: which flags the server decides,
//! which it lacks, which toggles no flag uses, which cannot be bound to their flag,
//! where Unleash's dependencies and the manifest's `requires` differ, and the layer
//! update that results.
//!
//! The manifest's `requires` and `excludes` are part of the build: the runtime holds
//! them whatever layer decides, so code may rely on them. Unleash's dependencies
//! decide the remote layer on top of them. Both hold, and every difference between
//! the two is reported (once per change, by the source): a dependency the manifest
//! lacks is honoured, a `requires` Unleash lacks stays in force.

use std::collections::{HashMap, HashSet};

use flags_runtime::{FlagMeta, Requirement, SourceWarning, Update};

use crate::mapping::{Mapper, Target, ToggleVariants};
use crate::payload::{ClientFeatures, Dependency};

/// How a payload's toggles line up with a manifest's flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Binding {
    /// Manifest flags the server has no toggle for: their lower layers decide them
    /// (the manifest default unless a rule file or the environment says otherwise).
    pub missing_on_server: Vec<&'static str>,
    /// Toggles of the server that no manifest flag is named after.
    pub unknown_to_manifest: Vec<String>,
    /// Dense indices of the flags the server decides.
    pub bound: Vec<usize>,
    /// Toggles whose definition cannot be bound to their flag (a variant the flag
    /// lacks, too many strategies): the flag keeps its last good remote definition,
    /// or its lower layers if there is none.
    pub unbindable: Vec<Unbindable>,
}

/// A toggle the server defines in a way its manifest flag cannot take.
///
/// # Examples
///
/// ```
/// use flags_unleash::{Kept, Unbindable};
///
/// let u = Unbindable {
///     flag: "layout",
///     index: 0,
///     problem: "toggle `layout`: variant `purple` is not one of the flag's variants (red, blue)".into(),
///     kept: Kept::LastGood,
/// };
/// assert!(u.warning().message.contains("keeps its last good definition"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unbindable {
    /// The flag (and toggle) name.
    pub flag: &'static str,
    /// The flag's dense index.
    pub index: usize,
    /// What differs, naming the toggle (a [`MapError`](crate::MapError) message).
    pub problem: String,
    /// What decides the flag meanwhile.
    pub kept: Kept,
}

/// What decides a flag whose toggle cannot be bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kept {
    /// The toggle's last definition that did bind (the remote layer keeps it).
    LastGood,
    /// No definition ever bound: the flag's lower layers (the manifest default unless
    /// a rule file or the environment says otherwise).
    LowerLayers,
}

impl Unbindable {
    /// The warning that reports it.
    #[must_use]
    pub fn warning(&self) -> SourceWarning {
        let kept = match self.kept {
            Kept::LastGood => {
                "the flag keeps its last good definition from the server until the toggle fits it again"
            }
            Kept::LowerLayers => {
                "no definition of it has fitted yet, so the flag keeps its lower layers (the manifest default unless a rule file or the environment says otherwise)"
            }
        };
        SourceWarning::about(self.flag, format!("{}; {kept}", self.problem))
    }
}

/// A payload bound to a manifest: the remote layer's update, the binding, and the
/// variant definitions for payload look-ups.
#[derive(Clone, Debug)]
pub struct Bound {
    /// Rules by flag index, and the warnings (unsupported strategies, unmappable
    /// toggles, static flags) to report.
    pub update: Update,
    /// Which flags and toggles matched.
    pub binding: Binding,
    variants: HashMap<usize, ToggleVariants>,
}

impl Bound {
    /// The variant definitions of bound flag `index`.
    #[must_use]
    pub fn variants(&self, index: usize) -> Option<&ToggleVariants> {
        self.variants.get(&index)
    }

    pub(crate) fn into_variants(self) -> (Update, Binding, HashMap<usize, ToggleVariants>) {
        (self.update, self.binding, self.variants)
    }
}

/// Binds `payload` to the flags `flags` (a registry's [`FlagMeta`] table): each flag
/// takes the toggle of its name, mapped onto its shape (on/off, or its variants).
///
/// A toggle that cannot be mapped (a variant the flag lacks) is left out of the
/// update and listed in [`Binding::unbindable`] (its warning is
/// [`Unbindable::warning`]; the live source puts the flag's last good rules back);
/// static flags are never bound. Differences between a toggle's dependencies and its
/// flag's `requires`/`excludes` are warnings.
///
/// # Examples
///
/// ```
/// use flags_runtime::__private::{FlagMeta, Kind, Lifecycle, Value};
/// use flags_unleash::{bind, ClientFeatures};
///
/// static META: [FlagMeta; 2] = [
///     FlagMeta { name: "beta", index: 0, description: "", owner: "", kind: Kind::Ops,
///         lifecycle: Lifecycle::Active, expires: None, variants: &[],
///         default: Value::Bool(false), is_static: false, requires: &[], excludes: &[] },
///     FlagMeta { name: "gamma", index: 1, description: "", owner: "", kind: Kind::Ops,
///         lifecycle: Lifecycle::Active, expires: None, variants: &[],
///         default: Value::Bool(false), is_static: false, requires: &[], excludes: &[] },
/// ];
/// let payload = ClientFeatures::parse(br#"{"features":[
///     {"name":"beta","enabled":true},{"name":"other","enabled":true}]}"#)?;
/// let bound = bind(&META, &payload);
/// assert_eq!(bound.binding.bound, [0]);
/// assert_eq!(bound.binding.missing_on_server, ["gamma"]);
/// assert_eq!(bound.binding.unknown_to_manifest, ["other"]);
/// assert_eq!(bound.update.rules.len(), 1);
/// # Ok::<(), flags_unleash::PayloadError>(())
/// ```
#[must_use]
pub fn bind(flags: &'static [FlagMeta], payload: &ClientFeatures) -> Bound {
    let mapper = Mapper::new(payload);
    let mut update = Update::default();
    let mut binding = Binding::default();
    let mut variants = HashMap::new();
    let mut used = HashSet::new();
    for meta in flags {
        let Some(feature) = payload.feature(meta.name) else {
            binding.missing_on_server.push(meta.name);
            continue;
        };
        used.insert(meta.name);
        if meta.is_static {
            update.warnings.push(SourceWarning::about(
                meta.name,
                format!(
                    "toggle `{}`: the flag is static (decided at compile time), so the server cannot change it",
                    feature.name
                ),
            ));
            continue;
        }
        let target = if meta.is_bool() {
            Target::Bool
        } else {
            Target::Variants(meta.variants)
        };
        let declared = |d: &Dependency| declared(flags, meta, d);
        update.warnings.extend(
            prerequisite_differences(flags, meta, &feature.dependencies)
                .into_iter()
                .map(|m| SourceWarning::about(meta.name, format!("toggle `{}`: {m}", meta.name))),
        );
        match mapper.map(feature, target, &declared) {
            Ok(mapped) => {
                update.warnings.extend(
                    mapped
                        .notes
                        .iter()
                        .map(|n| SourceWarning::about(meta.name, n.to_string())),
                );
                update.rules.push((meta.index, mapped.rules));
                variants.insert(meta.index, ToggleVariants::new(feature, mapped.sources));
                binding.bound.push(meta.index);
            }
            Err(e) => binding.unbindable.push(Unbindable {
                flag: meta.name,
                index: meta.index,
                problem: e.to_string(),
                kept: Kept::LowerLayers,
            }),
        }
    }
    binding.unknown_to_manifest = payload
        .features
        .iter()
        .filter(|f| !used.contains(f.name.as_str()))
        .map(|f| f.name.clone())
        .collect();
    Bound {
        update,
        binding,
        variants,
    }
}

/// Whether the manifest declares on `meta` the prerequisite that Unleash dependency
/// `d` states: `requires = ["parent"]` for "parent enabled", `requires =
/// ["parent=v"]` for "parent at variant v", `excludes = ["parent"]` for "parent
/// disabled". `flags` is the whole table, to read the parent's name and variants.
fn declared(flags: &[FlagMeta], meta: &FlagMeta, d: &Dependency) -> bool {
    let has = |list: &[Requirement], variant: Option<&str>| {
        list.iter().any(|r| {
            let Some(parent) = flags.get(r.flag) else {
                return false;
            };
            let at = r
                .variant
                .and_then(|v| parent.variants.get(usize::from(v)).copied());
            parent.name == d.feature && at == variant
        })
    };
    match (d.enabled, d.variants.as_slice()) {
        (Some(false), _) => has(meta.excludes, None),
        (_, []) => has(meta.requires, None),
        (_, [v]) => has(meta.requires, Some(v)),
        _ => false,
    }
}

/// How the toggle's `dependencies` and the flag's `requires`/`excludes` differ, one
/// message each.
fn prerequisite_differences(
    flags: &[FlagMeta],
    meta: &FlagMeta,
    dependencies: &[Dependency],
) -> Vec<String> {
    let mut out = Vec::new();
    for d in dependencies {
        if !declared(flags, meta, d) {
            out.push(format!(
                "Unleash makes it depend on {}, which the manifest does not declare: honoured on the remote layer (help: declare it in flags.toml so that every layer agrees)",
                describe_dependency(d)
            ));
        }
    }
    for (list, excludes) in [(meta.requires, false), (meta.excludes, true)] {
        for r in list {
            let Some(parent) = flags.get(r.flag) else {
                continue;
            };
            let variant = r
                .variant
                .and_then(|v| parent.variants.get(usize::from(v)).copied());
            let matches = |d: &Dependency| {
                d.feature == parent.name
                    && match (excludes, variant) {
                        (true, _) => d.enabled == Some(false),
                        (false, None) => d.enabled != Some(false) && d.variants.is_empty(),
                        (false, Some(v)) => d.enabled != Some(false) && d.variants == [v],
                    }
            };
            if !dependencies.iter().any(matches) {
                let (key, spec) = match variant {
                    Some(v) => ("requires", format!("{}={v}", parent.name)),
                    None if excludes => ("excludes", parent.name.to_owned()),
                    None => ("requires", parent.name.to_owned()),
                };
                out.push(format!(
                    "the manifest's `{key} = [\"{spec}\"]` has no matching dependency in Unleash: it stays in force here (the manifest's prerequisites always hold), so this service may serve the flag off where Unleash's SDKs serve it on (help: add the dependency in Unleash, or remove it from flags.toml)"
                ));
            }
        }
    }
    out
}

/// `` `parent` `` (enabled), `` `parent` disabled ``, `` `parent` at variant `v` ``.
pub(crate) fn describe_dependency(d: &Dependency) -> String {
    match (d.enabled, d.variants.as_slice()) {
        (Some(false), _) => format!("`{}` being disabled", d.feature),
        (_, []) => format!("`{}` being enabled", d.feature),
        (_, variants) => format!(
            "`{}` being at variant {}",
            d.feature,
            variants
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
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
        requires: &'static [Requirement],
        excludes: &'static [Requirement],
    ) -> FlagMeta {
        FlagMeta {
            is_static,
            requires,
            excludes,
            ..FlagMeta::bare(name, index, variants)
        }
    }

    static FLAGS: [FlagMeta; 4] = [
        meta("plain", 0, &[], false, &[], &[]),
        meta("layout", 1, &["classic", "compact"], false, &[], &[]),
        meta("frozen", 2, &[], true, &[], &[]),
        meta("absent", 3, &[], false, &[], &[]),
    ];

    // `plain` requires `parent` and excludes `other`; `layout` requires `parent` at
    // `v1`.
    static DEPS: [FlagMeta; 4] = [
        meta(
            "plain",
            0,
            &[],
            false,
            &[Requirement::on(2)],
            &[Requirement::on(3)],
        ),
        meta(
            "layout",
            1,
            &["classic", "compact"],
            false,
            &[Requirement::at(2, 1)],
            &[],
        ),
        meta("parent", 2, &["v0", "v1", "v2"], false, &[], &[]),
        meta("other", 3, &[], false, &[], &[]),
    ];

    fn dep(feature: &str, enabled: Option<bool>, variants: &[&str]) -> Dependency {
        Dependency {
            feature: feature.to_owned(),
            enabled,
            variants: variants.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn manifest_prerequisites_match_dependencies() {
        assert!(declared(&DEPS, &DEPS[0], &dep("parent", None, &[])));
        assert!(declared(&DEPS, &DEPS[0], &dep("parent", Some(true), &[])));
        assert!(!declared(&DEPS, &DEPS[0], &dep("parent", Some(false), &[])));
        assert!(declared(&DEPS, &DEPS[0], &dep("other", Some(false), &[])));
        assert!(!declared(&DEPS, &DEPS[0], &dep("parent", None, &["v1"])));
        assert!(declared(&DEPS, &DEPS[1], &dep("parent", None, &["v1"])));
        assert!(!declared(
            &DEPS,
            &DEPS[1],
            &dep("parent", None, &["v1", "v2"])
        ));
    }

    #[test]
    fn dependencies_and_requires_differences_are_named() {
        let none = prerequisite_differences(
            &DEPS,
            &DEPS[0],
            &[dep("parent", None, &[]), dep("other", Some(false), &[])],
        );
        assert!(none.is_empty(), "{none:?}");
        let both = prerequisite_differences(
            &DEPS,
            &DEPS[0],
            &[dep("other", Some(false), &[]), dep("extra", None, &[])],
        );
        assert_eq!(both.len(), 2, "{both:?}");
        assert!(
            both[0].contains("depend on `extra` being enabled") && both[0].contains("honoured"),
            "{}",
            both[0]
        );
        assert!(
            both[1].contains(r#"`requires = ["parent"]` has no matching dependency"#)
                && both[1].contains("stays in force"),
            "{}",
            both[1]
        );
        let at = prerequisite_differences(&DEPS, &DEPS[1], &[dep("parent", None, &["v2"])]);
        assert_eq!(at.len(), 2, "{at:?}");
        assert!(at[1].contains(r#"requires = ["parent=v1"]"#), "{}", at[1]);
    }

    #[test]
    fn static_flags_and_unknown_variants_are_left_out_with_a_warning() {
        let payload = ClientFeatures::parse(
            br#"{"features":[
            {"name":"plain","enabled":true},
            {"name":"layout","enabled":true,"variants":[{"name":"wide","weight":1}]},
            {"name":"frozen","enabled":true},
            {"name":"extra","enabled":false}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let bound = bind(&FLAGS, &payload);
        assert_eq!(bound.binding.bound, [0]);
        assert_eq!(bound.binding.missing_on_server, ["absent"]);
        assert_eq!(bound.binding.unknown_to_manifest, ["extra"]);
        let warnings: Vec<String> = bound
            .update
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect();
        let warnings = warnings.join("\n");
        assert!(!warnings.contains("variant `wide`"), "{warnings}");
        let [u] = &bound.binding.unbindable[..] else {
            panic!("{:?}", bound.binding.unbindable)
        };
        assert_eq!((u.flag, u.index, u.kept), ("layout", 1, Kept::LowerLayers));
        assert!(u.problem.contains("variant `wide`"), "{}", u.problem);
        assert!(u.warning().to_string().contains("keeps its lower layers"));
        assert!(
            warnings.contains("flag `frozen`: toggle `frozen`: the flag is static"),
            "{warnings}"
        );
        assert!(bound.variants(0).is_some() && bound.variants(1).is_none());
    }
}
