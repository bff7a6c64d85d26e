//! Drift between a manifest and an Unleash server, for CI before a deploy (`cargo
//! flags unleash diff`): the same comparisons the live source reports at run time
//! (missing toggles, toggles no flag binds, variants the flag lacks, dependencies that
//! differ from `requires`/`excludes`), over a manifest read from its file rather than
//! a compiled registry.

use std::fmt;

use crate::config::UnleashConfig;
use crate::http::{Fetched, Http};
use crate::payload::{ClientFeatures, Dependency};

/// A manifest flag as drift sees it: its name, its variants (empty for an on/off
/// flag), whether it is static, and its prerequisites as `(flag, variant)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManifestFlag {
    /// The flag's (and its toggle's) name.
    pub name: String,
    /// Its variants, in order; empty for an on/off flag.
    pub variants: Vec<String>,
    /// Decided at compile time: a toggle cannot change it.
    pub is_static: bool,
    /// `requires`: the flag and, if given, the variant it must be at.
    pub requires: Vec<(String, Option<String>)>,
    /// `excludes`: the flag (and variant) that must not be on.
    pub excludes: Vec<(String, Option<String>)>,
}

/// One difference between the manifest and the server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drift {
    /// A flag the server has no toggle for.
    MissingOnServer {
        /// The flag.
        flag: String,
    },
    /// A toggle no manifest flag is named after.
    NotInManifest {
        /// The toggle.
        toggle: String,
    },
    /// A toggle variant the flag does not declare.
    UnknownVariant {
        /// The flag.
        flag: String,
        /// The variant.
        variant: String,
    },
    /// A toggle on the server for a static flag.
    StaticFlag {
        /// The flag.
        flag: String,
    },
    /// An Unleash dependency the manifest does not declare.
    DependencyNotInManifest {
        /// The flag.
        flag: String,
        /// The dependency, described.
        dependency: String,
    },
    /// A `requires`/`excludes` with no matching Unleash dependency.
    PrerequisiteNotInUnleash {
        /// The flag.
        flag: String,
        /// The prerequisite as the manifest writes it (`requires = ["a=v"]`).
        prerequisite: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::MissingOnServer { flag } => {
                write!(
                    f,
                    "`{flag}`: no toggle on the server (the flag keeps its manifest default)"
                )
            }
            Drift::NotInManifest { toggle } => {
                write!(f, "`{toggle}`: a toggle no manifest flag is named after")
            }
            Drift::UnknownVariant { flag, variant } => write!(
                f,
                "`{flag}`: the server's variant `{variant}` is not one of the flag's variants"
            ),
            Drift::StaticFlag { flag } => {
                write!(
                    f,
                    "`{flag}`: a toggle for a static flag (the server cannot change it)"
                )
            }
            Drift::DependencyNotInManifest { flag, dependency } => write!(
                f,
                "`{flag}`: Unleash makes it depend on {dependency}, which the manifest does not declare"
            ),
            Drift::PrerequisiteNotInUnleash { flag, prerequisite } => write!(
                f,
                "`{flag}`: the manifest's `{prerequisite}` has no matching dependency in Unleash"
            ),
        }
    }
}

/// Every difference between `flags` and `payload`, flag by flag in manifest order,
/// then the toggles no flag binds.
///
/// # Examples
///
/// ```
/// use flags_unleash::{ClientFeatures, Drift, ManifestFlag, drift};
///
/// let flags = [ManifestFlag { name: "layout".into(), variants: vec!["a".into(), "b".into()],
///     ..ManifestFlag::default() }];
/// let payload = ClientFeatures::parse(br#"{"features":[{"name":"layout","enabled":true,
///     "variants":[{"name":"c","weight":1}]}]}"#)?;
/// assert_eq!(drift(&flags, &payload), [Drift::UnknownVariant { flag: "layout".into(), variant: "c".into() }]);
/// # Ok::<(), flags_unleash::PayloadError>(())
/// ```
#[must_use]
pub fn drift(flags: &[ManifestFlag], payload: &ClientFeatures) -> Vec<Drift> {
    let mut out = Vec::new();
    for flag in flags {
        let Some(feature) = payload.feature(&flag.name) else {
            out.push(Drift::MissingOnServer {
                flag: flag.name.clone(),
            });
            continue;
        };
        if flag.is_static {
            out.push(Drift::StaticFlag {
                flag: flag.name.clone(),
            });
            continue;
        }
        if !flag.variants.is_empty() {
            let mut seen = Vec::new();
            let all = feature
                .variants
                .iter()
                .chain(feature.strategies.iter().flat_map(|s| s.variants.iter()));
            for v in all {
                if !flag.variants.contains(&v.name) && !seen.contains(&v.name) {
                    seen.push(v.name.clone());
                    out.push(Drift::UnknownVariant {
                        flag: flag.name.clone(),
                        variant: v.name.clone(),
                    });
                }
            }
        }
        for d in &feature.dependencies {
            if !declared(flag, d) {
                out.push(Drift::DependencyNotInManifest {
                    flag: flag.name.clone(),
                    dependency: crate::binding::describe_dependency(d),
                });
            }
        }
        for (list, excludes) in [(&flag.requires, false), (&flag.excludes, true)] {
            for (parent, variant) in list {
                let matched = feature
                    .dependencies
                    .iter()
                    .any(|d| matches(d, parent, variant.as_deref(), excludes));
                if !matched {
                    let key = if excludes { "excludes" } else { "requires" };
                    let spec = match variant {
                        Some(v) => format!("{parent}={v}"),
                        None => parent.clone(),
                    };
                    out.push(Drift::PrerequisiteNotInUnleash {
                        flag: flag.name.clone(),
                        prerequisite: format!("{key} = [\"{spec}\"]"),
                    });
                }
            }
        }
    }
    for f in &payload.features {
        if !flags.iter().any(|m| m.name == f.name) {
            out.push(Drift::NotInManifest {
                toggle: f.name.clone(),
            });
        }
    }
    out
}

/// Whether Unleash dependency `d` states prerequisite `(parent, variant)` (an
/// exclusion when `excludes`).
fn matches(d: &Dependency, parent: &str, variant: Option<&str>, excludes: bool) -> bool {
    d.feature == parent
        && match (excludes, variant) {
            (true, _) => d.enabled == Some(false),
            (false, None) => d.enabled != Some(false) && d.variants.is_empty(),
            (false, Some(v)) => d.enabled != Some(false) && d.variants == [v],
        }
}

/// Whether `flag` declares what dependency `d` states.
fn declared(flag: &ManifestFlag, d: &Dependency) -> bool {
    match (d.enabled, d.variants.as_slice()) {
        (Some(false), _) => flag
            .excludes
            .iter()
            .any(|(p, v)| *p == d.feature && v.is_none()),
        (_, []) => flag
            .requires
            .iter()
            .any(|(p, v)| *p == d.feature && v.is_none()),
        (_, [variant]) => flag
            .requires
            .iter()
            .any(|(p, v)| *p == d.feature && v.as_deref() == Some(variant.as_str())),
        _ => false,
    }
}

/// Fetches and checks the server's toggles once (`GET /api/client/features`), bounded
/// by the configured timeout.
pub fn fetch(config: &UnleashConfig) -> Result<ClientFeatures, String> {
    config.validate().map_err(|e| e.to_string())?;
    let http = Http::new(config);
    match http.features(None)? {
        Fetched::Body { bytes, .. } => ClientFeatures::parse(&bytes)
            .map_err(|e| format!("refused payload from {}: {e}", http.url("client/features"))),
        Fetched::NotModified => Err(format!(
            "{}: 304 Not Modified to an unconditional request",
            http.url("client/features")
        )),
    }
}
