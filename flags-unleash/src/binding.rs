//! Manifest flags bound to Unleash toggles by name: which flags the server decides,
//! which it lacks, which toggles no flag uses, and the layer update that results.

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
/// A toggle that cannot be mapped (a variant the flag lacks) is left out with a
/// warning, so the flag keeps its lower layers; static flags are never bound.
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
            Err(e) => update.warnings.push(SourceWarning::about(
                meta.name,
                format!("{e}; the flag keeps its lower layers"),
            )),
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
        assert!(warnings.contains("variant `wide`"), "{warnings}");
        assert!(
            warnings.contains("flag `frozen`: toggle `frozen`: the flag is static"),
            "{warnings}"
        );
        assert!(bound.variants(0).is_some() && bound.variants(1).is_none());
    }
}
