//! Why no plan of combinations could be made.

use std::io;
use std::path::PathBuf;

use flags_manifest::ManifestError;
use thiserror::Error;

use crate::cover::CoverError;

/// Why no plan of combinations could be made from a manifest and its options.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The manifest could not be read or is invalid.
    #[error("{0}")]
    Manifest(#[source] ManifestError),
    /// A user rule names a flag that is not varied or a value it does not have.
    #[error(
        "rule `{rule}`: `{side}` is not a value of a varied flag (write flag=value with a selected flag, e.g. search_v2=on)"
    )]
    BadRule {
        /// The rule as written.
        rule: String,
        /// The side that does not resolve.
        side: String,
    },
    /// A flag named in the selection is not declared in the manifest.
    #[error("flag `{name}` is not declared in {manifest}{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownFlag {
        /// The name given.
        name: String,
        /// The manifest searched.
        manifest: String,
        /// The closest declared name, if one is close.
        suggestion: Option<String>,
    },
    /// The selection contains no flag, so there is nothing to vary.
    #[error(
        "no flags to vary: {manifest} declares no {what}; name the flags to vary, or include static flags"
    )]
    NoFlags {
        /// The manifest.
        manifest: String,
        /// What was looked for ("dynamic flags", "flags").
        what: &'static str,
    },
    /// A pinned state file could not be read.
    #[error("cannot read the state file {}: {source}", path.display())]
    StateFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A pinned state file does not fit the manifest.
    #[error("{0}")]
    StateFileInvalid(#[source] ManifestError),
    /// No set of combinations fits the request.
    #[error("cannot choose the combinations: {0}")]
    Cover(#[from] CoverError),
}
