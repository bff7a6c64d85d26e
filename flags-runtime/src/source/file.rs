//! The rule/state file layer: a TOML file in the manifest's rule schema (plus `value`
//! for a fixed value), parsed with `flags_manifest::parse_rules_str` against the
//! registry's manifest. A file that is missing, not UTF-8 or invalid is rejected
//! whole; the same bad content is reported once, not on every poll.

use std::path::{Path, PathBuf};

use flags_manifest::{Diagnostic, Manifest, ManifestError, Pos, Rules, Severity};

use super::{Source, SourceError, Update};
use crate::explain::Layer;
use crate::registry::Registry;

/// What the last poll found, so unchanged content is not parsed or reported again.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Nothing,
    Missing(String),
    Content(Vec<u8>),
}

/// A rule/state file.
///
/// ```toml
/// [flags.search_v2]
/// value = true
///
/// [flags.checkout_layout]
/// [[flags.checkout_layout.strategies]]
/// type = "rollout"
/// percent = 25
/// variants = { compact = 1 }
/// ```
///
/// # Examples
///
/// ```
/// use flags_runtime::FileSource;
///
/// let manifest = flags_runtime::manifest::parse_str(
///     "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n", "flags.toml",
/// ).unwrap();
/// let rules = FileSource::parse(b"[flags.beta]\nvalue = true\n", "state.toml", &manifest).unwrap();
/// assert_eq!(rules.len(), 1);
/// assert!(FileSource::parse(b"[flags.beta]\nvalue = 3\n", "state.toml", &manifest).is_err());
/// assert!(FileSource::parse(b"\xff", "state.toml", &manifest).is_err());
/// ```
#[derive(Clone, Debug)]
pub struct FileSource {
    path: PathBuf,
    name: String,
    seen: Seen,
}

impl FileSource {
    /// The file at `path` (read on each poll).
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        let path = path.into();
        FileSource {
            name: path.display().to_string(),
            path,
            seen: Seen::Nothing,
        }
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Parses file content against `manifest`: rules by flag index, or every problem
    /// found (each with its line and column). Never panics, whatever the bytes.
    pub fn parse(
        bytes: &[u8],
        file: &str,
        manifest: &Manifest,
    ) -> Result<Vec<(usize, Rules)>, ManifestError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => flags_manifest::parse_rules_str(text, file, manifest),
            Err(e) => {
                let valid = &bytes[..e.valid_up_to()];
                let prefix = std::str::from_utf8(valid).unwrap_or_default();
                Err(ManifestError {
                    file: file.to_owned(),
                    diagnostics: vec![Diagnostic {
                        severity: Severity::Error,
                        pos: Pos::locate(prefix, prefix.len()..prefix.len()),
                        key: String::new(),
                        message: format!(
                            "the file is not UTF-8 text (invalid byte at offset {})",
                            e.valid_up_to()
                        ),
                        help: Some("save the rule file as UTF-8".to_owned()),
                    }],
                })
            }
        }
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn layer(&self) -> Layer {
        Layer::File
    }

    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                let message = format!(
                    "cannot read the rule file: {e} (help: check the path; the last good rules stay in force)"
                );
                if self.seen == Seen::Missing(message.clone()) {
                    return Ok(None);
                }
                self.seen = Seen::Missing(message.clone());
                return Err(SourceError::new(&self.name, message));
            }
        };
        if matches!(&self.seen, Seen::Content(old) if *old == bytes) {
            return Ok(None);
        }
        let parsed = match registry.manifest() {
            Some(manifest) => Self::parse(&bytes, &self.name, manifest)
                .map_err(|e| SourceError::new(&self.name, e.to_string())),
            None => Err(SourceError::new(
                &self.name,
                "the registry's manifest did not parse, so rule files cannot be checked against it",
            )),
        };
        self.seen = Seen::Content(bytes);
        parsed.map(|rules| Some(Update::new(rules)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::{FlagMeta, Kind, Lifecycle, Value};
    use crate::registry::FastCell;

    const MANIFEST: &str = "[flags.beta]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n";
    static META: [FlagMeta; 1] = [FlagMeta {
        name: "beta",
        index: 0,
        description: "d",
        owner: "o",
        kind: Kind::Ops,
        lifecycle: Lifecycle::Active,
        expires: None,
        variants: &[],
        default: Value::Bool(false),
        is_static: false,
        requires: &[],
        excludes: &[],
    }];
    static CELLS: [FastCell; 1] = [const { FastCell::new() }; 1];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

    #[test]
    fn not_utf8_is_positioned() {
        let manifest = match REGISTRY.manifest() {
            Some(m) => m,
            None => panic!("manifest parses"),
        };
        let err = match FileSource::parse(b"[flags.beta]\nvalue = \xff\n", "s.toml", manifest) {
            Err(e) => e,
            Ok(r) => panic!("refused, got {r:?}"),
        };
        let text = err.to_string();
        assert!(text.starts_with("s.toml:2:9:"), "{text}");
        assert!(text.contains("offset 21"), "{text}");
    }

    #[test]
    fn polls_report_each_state_once() {
        let path =
            std::env::temp_dir().join(format!("flags-file-unit-{}.toml", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut src = FileSource::new(&path);
        assert_eq!(src.path(), path.as_path());
        assert_eq!(src.layer(), Layer::File);
        // Missing: an error once, then "no change" while it stays missing.
        assert!(src.poll(&REGISTRY).is_err());
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        std::fs::write(&path, "[flags.beta]\nvalue = true\n").unwrap_or_else(|e| panic!("{e}"));
        let update = match src.poll(&REGISTRY) {
            Ok(Some(u)) => u,
            other => panic!("an update: {other:?}"),
        };
        assert_eq!(update.rules[0].1.value, Some(Value::Bool(true)));
        assert_eq!(src.poll(&REGISTRY), Ok(None), "unchanged content");
        std::fs::write(&path, "[flags.beta]\nvalue = 1\n").unwrap_or_else(|e| panic!("{e}"));
        let err = match src.poll(&REGISTRY) {
            Err(e) => e,
            other => panic!("refused: {other:?}"),
        };
        assert!(err.message.contains("flags.beta.value"), "{err}");
        assert_eq!(src.poll(&REGISTRY), Ok(None), "the same bad content once");
        let _ = std::fs::remove_file(&path);
    }
}
