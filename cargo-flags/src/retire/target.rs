//! The flag being retired and the side kept: the names the `flags!` macro generates for
//! it (accessor, handle const, enum and variants), the value `--keep` names, and the
//! value production runs when it is known (a finished rollout in the state file, or a
//! static flag's compile-time value). Also the retirement candidates `lint` lists.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use flags_manifest::{Flag, Manifest, Value, to_upper_camel};
use flags_rollout::{Clock, StateFile, StateStore, Status, SystemClock};

/// The flag being retired, with the names of its generated items.
#[derive(Clone, Debug)]
pub struct Target {
    /// The manifest name.
    pub name: String,
    /// The accessor, `search_v2`.
    pub accessor: String,
    /// The handle const, `SEARCH_V2`.
    pub handle: String,
    /// The enum of a variant flag, `CheckoutLayout`.
    pub enum_ty: Option<String>,
    /// The enum's variants as Rust identifiers, in declaration order.
    pub variants: Vec<String>,
    /// The variants as the manifest names them.
    pub variant_names: Vec<String>,
    /// The value kept.
    pub keep: Value,
    /// Names the generated module goes by.
    pub modules: HashSet<String>,
    /// A static flag: its handle const is its value.
    pub is_static: bool,
    /// The manifest default (what a variant gate's own body implements unless it
    /// says `variant = ..`).
    pub default: Value,
}

impl Target {
    /// The flag `flag` of the manifest, keeping `keep`.
    pub fn new(flag: &Flag, keep: Value, modules: HashSet<String>) -> Target {
        let variant_names = flag.variants().to_vec();
        Target {
            name: flag.name.clone(),
            accessor: flag.ident.clone(),
            handle: flag.ident.to_uppercase(),
            enum_ty: (!variant_names.is_empty()).then(|| to_upper_camel(&flag.ident)),
            variants: variant_names.iter().map(|v| to_upper_camel(v)).collect(),
            variant_names,
            keep,
            modules,
            is_static: flag.is_static,
            default: flag.default,
        }
    }

    /// Whether `name` names the flag (manifest name or accessor), as attributes do.
    pub fn is_named(&self, name: &str) -> bool {
        name == self.name || name == self.accessor
    }

    /// The kept value as Rust source, for a bool flag.
    pub fn literal(&self, value: Value) -> Option<&'static str> {
        match value {
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            Value::Variant(_) => None,
        }
    }

    /// The index of a variant named by its Rust identifier.
    pub fn variant_of_ident(&self, ident: &str) -> Option<u16> {
        self.variants
            .iter()
            .position(|v| v == ident)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The index of a variant named by its manifest name or Rust identifier.
    pub fn variant_of_name(&self, name: &str) -> Option<u16> {
        self.variant_names
            .iter()
            .position(|v| v == name)
            .and_then(|i| u16::try_from(i).ok())
            .or_else(|| self.variant_of_ident(name))
    }

    /// `on`, `off` or the variant's name.
    pub fn label(&self, value: Value) -> String {
        match value {
            Value::Bool(true) => "on".to_owned(),
            Value::Bool(false) => "off".to_owned(),
            Value::Variant(i) => self
                .variant_names
                .get(usize::from(i))
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// Parses `--keep`: `on`/`off` (and their synonyms) for a bool flag, a variant's name
/// for a variant flag.
pub fn parse_keep(flag: &Flag, text: &str) -> Result<Value, String> {
    flag.parse_value(text).ok_or_else(|| {
        if flag.variants().is_empty() {
            format!(
                "--keep {text}: flag `{}` is on/off; keep `on` or `off`",
                flag.name
            )
        } else {
            format!(
                "--keep {text}: flag `{}` has the variants {}; keep one of them",
                flag.name,
                flag.variants().join(", ")
            )
        }
    })
}

/// What production runs, when it is known, and how it is known.
pub fn production_value(flag: &Flag, state: Option<&StateFile>) -> Option<(Value, String)> {
    if let Some(r) = state.and_then(|s| s.rollouts.get(&flag.name)) {
        match r.position.percent {
            100 => {
                return Some((
                    Value::Bool(true),
                    format!(
                        "its rollout is at 100% ({}) since {}",
                        r.position.status, r.since
                    ),
                ));
            }
            0 => {
                return Some((
                    Value::Bool(false),
                    format!(
                        "its rollout is at 0% ({}) since {}",
                        r.position.status, r.since
                    ),
                ));
            }
            _ => {}
        }
    }
    if flag.is_static {
        return Some((
            flag.default,
            "it is static: its value is fixed at compile time".to_owned(),
        ));
    }
    None
}

/// Reads the rollout state file, if there is one. A damaged file is an error the
/// caller reports; a missing one is `None`.
pub fn load_state(path: &Path) -> Result<Option<StateFile>, String> {
    StateStore::new(path)
        .load()
        .map_err(|e| format!("cannot use the rollout state {}: {e}", path.display()))
}

/// A flag worth retiring, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The flag.
    pub flag: String,
    /// The side to keep, when it is known.
    pub keep: Option<String>,
    /// Why it is a candidate.
    pub reason: String,
}

/// Flags whose rollouts finished at 100% at least a soak time ago (their plan's soak,
/// or a day without a plan), from the rollout state file.
pub fn finished_rollouts(manifest: &Manifest, state: &StateFile) -> Vec<Candidate> {
    let now = SystemClock.now();
    let mut out = Vec::new();
    for flag in &manifest.flags {
        let Some(r) = state.rollouts.get(&flag.name) else {
            continue;
        };
        let soak = flag
            .rollout
            .as_ref()
            .map_or(Duration::from_secs(86_400), |p| p.soak);
        if r.position.percent == 100
            && r.position.status == Status::Completed
            && now.since(r.since) >= soak
        {
            let days = now.since(r.since).as_secs() / 86_400;
            out.push(Candidate {
                flag: flag.name.clone(),
                keep: Some("on".to_owned()),
                reason: format!(
                    "rolled out to 100% for {days} day{} (since {})",
                    if days == 1 { "" } else { "s" },
                    r.since
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.checkout_layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "two-col"]
default = "classic"

[flags.fast]
description = "d"
owner = "o"
kind = "ops"
static = true
default = true
"#;

    #[test]
    fn names_and_values_of_a_variant_flag() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let f = m.flag("checkout_layout").unwrap();
        let keep = parse_keep(f, "two-col").unwrap();
        let t = Target::new(f, keep, HashSet::new());
        assert_eq!(t.handle, "CHECKOUT_LAYOUT");
        assert_eq!(t.enum_ty.as_deref(), Some("CheckoutLayout"));
        assert_eq!(t.variant_of_ident("TwoCol"), Some(1));
        assert_eq!(t.label(keep), "two-col");
        assert!(
            parse_keep(f, "on")
                .unwrap_err()
                .contains("classic, two-col")
        );
        assert!(parse_keep(m.flag("search_v2").unwrap(), "wide").is_err());
    }

    #[test]
    fn static_flags_are_known_and_dynamic_ones_are_not() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        assert_eq!(
            production_value(m.flag("fast").unwrap(), None).map(|v| v.0),
            Some(Value::Bool(true))
        );
        assert!(production_value(m.flag("search_v2").unwrap(), None).is_none());
    }
}
