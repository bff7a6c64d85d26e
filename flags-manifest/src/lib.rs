//! The flag manifest: one model of `flags.toml` shared by the `flags!` macro, the
//! runtime and `cargo flags`, so a manifest means the same thing everywhere.
//!
//! Parsing keeps the line and column of every key, and checking collects every problem
//! before reporting, each as a [`Diagnostic`] that names the file position, the key,
//! what is wrong and how to fix it.
//!
//! ```
//! let manifest = flags_manifest::parse_str(r#"
//! [settings]
//! expiry = "error"
//! grace_days = 14
//!
//! [flags.checkout_layout]
//! description = "Which checkout page layout to show"
//! owner = "checkout-team"
//! kind = "experiment"
//! expires = 2027-03-31
//! variants = ["classic", "compact"]
//! default = "classic"
//! "#, "flags.toml")?;
//! let flag = manifest.flag("checkout_layout").unwrap();
//! assert_eq!(flag.variants(), ["classic", "compact"]);
//! # Ok::<(), flags_manifest::ManifestError>(())
//! ```
//!
//! # Features
//!
//! - `parse` (on by default): reading TOML text — [`parse_str`], [`parse_bytes`],
//!   [`parse_file`], [`parse_rules_str`], [`parse_str_with_notes`] — and checking
//!   `json` variant payloads ([`PayloadKind::check`], [`VariantPayload::new`]); it
//!   brings in `toml`, `serde` and `serde_json`. Without it the crate is the model
//!   alone (flags, rules, values, positions, operands, naming): what the code `flags!`
//!   generates and the runtime's evaluation need, with no TOML parser in the build.

mod date;
// Checking a manifest is part of reading one: nothing else builds a `Manifest`.
#[cfg(feature = "parse")]
mod deps;
mod error;
mod expiry;
mod model;
mod naming;
pub mod operand;
pub mod packed;
#[cfg(feature = "parse")]
mod parse;
mod plan;
mod pos;
mod rules;
#[cfg(feature = "parse")]
mod valid;

pub use date::{Date, DateError, TodaySource, UtcMillis, today};
pub use error::{
    Diagnostic, ManifestError, SUGGEST_BUDGET, SUGGEST_MAX_WORD, Severity, Suggestions,
    did_you_mean,
};
pub use expiry::{ExpiryState, expiry_state};
pub use model::{
    ExpiryPolicy, Flag, FlagRef, FlagType, Kind, Lifecycle, MAX_REQUIRES_DEPTH, Manifest, Naming,
    Settings, Value,
};
pub use naming::{
    ENV_PREFIX, STATIC_ENV_PREFIX, env_suffix, env_var, static_env_var, to_snake_case,
    to_upper_camel,
};
pub use operand::{
    REGEX_DFA_SIZE_LIMIT, REGEX_NEST_LIMIT, REGEX_SIZE_LIMIT, build_regex, check_regex,
};
#[cfg(feature = "parse")]
pub use parse::{parse_bytes, parse_rules_str, parse_str, parse_str_with_notes};
pub use plan::{Criteria, RolloutPlan, parse_duration};
pub use pos::Pos;
pub use rules::{
    Constraint, LayerPrerequisite, Operator, ParentRules, PayloadKind, Rules, Stickiness, Strategy,
    StrategyKind, VariantPayload, WeightedVariant,
};

/// Reads and checks the manifest at `path`; I/O errors become a diagnostic at 1:1.
#[cfg(feature = "parse")]
pub fn parse_file(path: &std::path::Path) -> Result<Manifest, ManifestError> {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => parse_bytes(&bytes, &file),
        Err(e) => Err(ManifestError {
            file,
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                pos: Pos {
                    span: 0..0,
                    line: 1,
                    col: 1,
                },
                key: String::new(),
                message: format!("cannot read the manifest: {e}"),
                help: Some("check the path; it is relative to the crate's Cargo.toml".to_owned()),
            }],
        }),
    }
}
