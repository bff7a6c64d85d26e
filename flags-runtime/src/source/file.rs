//! The rule/state file layer: a TOML file in the manifest's rule schema (plus `value`
//! for a fixed value), parsed with `flags_manifest::parse_rules_str` against the
//! registry's manifest. A file that is missing, not UTF-8 or invalid is rejected
//! whole; the same bad content is reported once, not on every poll. Built only with
//! the `rule-files` feature.

use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use flags_manifest::{Diagnostic, Manifest, ManifestError, Pos, Rules, Severity};

use super::{Source, SourceError, Update};
use crate::explain::Layer;
use crate::registry::Registry;

/// How long a changed rule file must stay unchanged before it is applied, unless
/// [`FileSource::settle`] says otherwise.
pub const DEFAULT_SETTLE: Duration = Duration::from_millis(100);

/// How many settle intervals a first load waits, at most, for a file that keeps
/// changing before leaving it to later polls.
const FIRST_LOAD_TRIES: u32 = 3;

/// The size and modification time of the file, taken before and after each read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stat {
    len: u64,
    modified: Option<SystemTime>,
}

/// What one read of the path found.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    /// The file could not be opened or read (the message says why).
    Missing(String),
    /// A read during which the size and modification time stayed the same.
    Content(Vec<u8>, Stat),
    /// The file changed while it was being read.
    Moving,
}

/// A change seen but not yet confirmed by enough reads.
#[derive(Clone, Debug)]
struct Pending {
    seen: Seen,
    /// When it was first read.
    first: Instant,
    /// How many consecutive reads returned it.
    reads: u32,
    /// What it parses to (`None` for a missing file), computed once.
    parsed: Option<Result<Vec<(usize, Rules)>, SourceError>>,
}

/// What is in force or was last reported, so it is not applied or reported again.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Settled {
    /// Nothing yet: the first poll.
    Nothing,
    /// This content was applied (`with_rules`: it held at least one rule) or, if
    /// invalid, reported.
    Content { bytes: Vec<u8>, with_rules: bool },
    /// The file was missing and that was reported; `bytes` and `with_rules` are what
    /// was settled before it went.
    Missing {
        message: String,
        bytes: Option<Vec<u8>>,
        with_rules: bool,
    },
}

/// A rule/state file. Needs the `rule-files` feature (on by default).
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
/// # Files read while they are being written
///
/// A writer that rewrites the file in place (an editor, `echo > state.toml`) truncates
/// it and then writes it in pieces; a read in between sees an empty file or a prefix,
/// and a prefix of a rule file is often valid TOML holding only some of its rules. So a
/// change is applied only once it has *settled*: two reads at least the settle interval
/// apart ([`DEFAULT_SETTLE`], [`FileSource::settle`]) returned the same bytes, and the
/// file's size and modification time did not change during either read. A change that
/// would remove every rule (an empty file, or one holding only comments) needs a third
/// read a further settle interval later, since an empty file is what a truncating writer
/// leaves first. Failures to parse are reported only once settled too. The first poll
/// waits out the interval itself (rereading), so that a watch starts with the file in
/// force.
///
/// This holds for writers that never pause longer than the settle interval in the
/// middle of a write; writers that replace the file atomically (write a temporary file
/// in the same directory, `fsync` it, rename it over the rule file) are safe whatever
/// their speed, and are what to use.
///
/// # Deletion
///
/// A missing or unreadable file never changes a flag: the last good rules stay in force
/// and, once the absence has settled like any other change, it is reported once (an
/// error through `tracing` and the registry's error counter). A rename in progress or a
/// delete-and-recreate is therefore invisible. To clear the layer, write a file with no
/// rules (or call [`Registry::clear_layer`]).
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
    settle: Duration,
    settled: Settled,
    pending: Option<Pending>,
    /// Whether the settled state is a valid file (see [`Source::healthy`]).
    healthy: bool,
}

impl FileSource {
    /// The file at `path` (read on each poll), with the [`DEFAULT_SETTLE`] interval.
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        let path = path.into();
        FileSource {
            name: path.display().to_string(),
            path,
            settle: DEFAULT_SETTLE,
            settled: Settled::Nothing,
            pending: None,
            healthy: true,
        }
    }

    /// Sets how long a change must stay unchanged before it is applied. Zero applies
    /// whatever a single read returns: only for files that are always replaced
    /// atomically.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let source = flags_runtime::FileSource::new("state.toml").settle(Duration::from_millis(250));
    /// # let _ = source;
    /// ```
    #[must_use]
    pub fn settle(mut self, settle: Duration) -> FileSource {
        self.settle = settle;
        self
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

    /// Reads the file once, with its size and modification time before and after.
    fn read(&self) -> Seen {
        let missing = |e: std::io::Error| {
            Seen::Missing(format!(
                "cannot read the rule file: {e} (help: check the path; the last good rules stay in force)"
            ))
        };
        let stat = |f: &File| {
            f.metadata().map(|m| Stat {
                len: m.len(),
                modified: m.modified().ok(),
            })
        };
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) => return missing(e),
        };
        let before = match stat(&file) {
            Ok(s) => s,
            Err(e) => return missing(e),
        };
        let mut bytes = Vec::new();
        if let Err(e) = file.read_to_end(&mut bytes) {
            return missing(e);
        }
        match stat(&file) {
            Ok(after) if after == before && after.len == bytes.len() as u64 => {
                Seen::Content(bytes, after)
            }
            Ok(_) => Seen::Moving,
            Err(e) => missing(e),
        }
    }

    /// Whether `seen` is what is already in force or reported.
    fn is_settled(&self, seen: &Seen) -> bool {
        match (&self.settled, seen) {
            (Settled::Content { bytes, .. }, Seen::Content(b, _)) => bytes == b,
            (Settled::Missing { message, .. }, Seen::Missing(m)) => message == m,
            (
                Settled::Missing {
                    bytes: Some(bytes), ..
                },
                Seen::Content(b, _),
            ) => bytes == b,
            _ => false,
        }
    }

    /// Whether the rules in force came from a file that held some.
    fn holds_rules(&self) -> bool {
        match &self.settled {
            Settled::Nothing => false,
            Settled::Content { with_rules, .. } | Settled::Missing { with_rules, .. } => {
                *with_rules
            }
        }
    }

    /// Records one read; returns whether the pending change is now confirmed.
    fn observe(&mut self, seen: Seen, registry: &Registry, now: Instant) -> bool {
        match &mut self.pending {
            Some(p) if p.seen == seen => p.reads = p.reads.saturating_add(1),
            _ => {
                let parsed = match &seen {
                    Seen::Content(bytes, _) => Some(self.parse_for(bytes, registry)),
                    Seen::Missing(_) | Seen::Moving => None,
                };
                self.pending = Some(Pending {
                    seen,
                    first: now,
                    reads: 1,
                    parsed,
                });
            }
        }
        self.settling_at(now).is_none()
    }

    /// How much longer the pending change needs before it can be confirmed (zero: one
    /// more read), or `None` if it is confirmed or there is none.
    fn settling_at(&self, now: Instant) -> Option<Duration> {
        let p = self.pending.as_ref()?;
        if matches!(p.seen, Seen::Moving) {
            return Some(self.settle);
        }
        if self.settle.is_zero() {
            return None;
        }
        // Removing every rule is what a truncating writer does first: it must persist
        // one interval longer than any other change.
        let clears = matches!(&p.parsed, Some(Ok(rules)) if rules.is_empty()) && self.holds_rules();
        let intervals: u32 = if clears { 2 } else { 1 };
        let due = p.first + self.settle.saturating_mul(intervals);
        if p.reads > intervals && now >= due {
            None
        } else {
            Some(due.saturating_duration_since(now))
        }
    }

    fn parse_for(
        &self,
        bytes: &[u8],
        registry: &Registry,
    ) -> Result<Vec<(usize, Rules)>, SourceError> {
        match registry.manifest() {
            Some(manifest) => Self::parse(bytes, &self.name, manifest)
                .map_err(|e| SourceError::with_source(&self.name, "not a valid rule file", e)),
            None => Err(SourceError::new(
                &self.name,
                "the registry's manifest did not parse, so rule files cannot be checked against it",
            )),
        }
    }

    /// Makes the confirmed pending change the settled state and returns what to do.
    fn settle_pending(&mut self) -> Result<Option<Update>, SourceError> {
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        let with_rules = self.holds_rules();
        match (p.seen, p.parsed) {
            (Seen::Missing(message), _) => {
                let bytes = match std::mem::replace(&mut self.settled, Settled::Nothing) {
                    Settled::Content { bytes, .. } => Some(bytes),
                    Settled::Missing { bytes, .. } => bytes,
                    Settled::Nothing => None,
                };
                self.settled = Settled::Missing {
                    message: message.clone(),
                    bytes,
                    with_rules,
                };
                self.healthy = false;
                Err(SourceError::new(&self.name, message))
            }
            (Seen::Content(bytes, _), Some(Ok(rules))) => {
                self.settled = Settled::Content {
                    bytes,
                    with_rules: !rules.is_empty(),
                };
                self.healthy = true;
                Ok(Some(Update::new(rules)))
            }
            (Seen::Content(bytes, _), Some(Err(e))) => {
                self.settled = Settled::Content { bytes, with_rules };
                self.healthy = false;
                Err(e)
            }
            // A moving file is never confirmed; a content read always has a parse.
            (Seen::Moving | Seen::Content(..), _) => Ok(None),
        }
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn healthy(&self) -> bool {
        self.healthy
    }

    fn layer(&self) -> Layer {
        Layer::File
    }

    fn poll(&mut self, registry: &Registry) -> Result<Option<Update>, SourceError> {
        let seen = self.read();
        if self.is_settled(&seen) {
            self.pending = None;
            if let (Settled::Missing { with_rules, .. }, Seen::Content(bytes, _)) =
                (&self.settled, seen)
            {
                // The file is back as it was: nothing to apply or report.
                self.settled = Settled::Content {
                    bytes,
                    with_rules: *with_rules,
                };
                self.healthy = true;
            }
            return Ok(None);
        }
        let first_load = self.settled == Settled::Nothing;
        if self.observe(seen, registry, Instant::now()) {
            return self.settle_pending();
        }
        if !first_load {
            return Ok(None);
        }
        // The first load waits here, so that a watch starts with the file in force.
        for _ in 0..FIRST_LOAD_TRIES {
            let wait = self.settling_at(Instant::now()).unwrap_or_default();
            std::thread::sleep(wait);
            let seen = self.read();
            if self.observe(seen, registry, Instant::now()) {
                return self.settle_pending();
            }
        }
        Ok(None)
    }

    fn settling(&self) -> Option<Duration> {
        self.settling_at(Instant::now())
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
        // Zero settle: each read is taken as it is, as before settling existed.
        let mut src = FileSource::new(&path).settle(Duration::ZERO);
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
        assert_eq!(err.message, "not a valid rule file");
        // The parse error is the source, not repeated in the message.
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert!(
            cause.is_some_and(|c| c.contains("flags.beta.value")),
            "{err:?}"
        );
        assert!(err.detail().contains("flags.beta.value"), "{err:?}");
        assert_eq!(src.poll(&REGISTRY), Ok(None), "the same bad content once");
        let _ = std::fs::remove_file(&path);
    }

    /// A settle interval short enough that any two polls are far enough apart: the
    /// tests below count reads, not time.
    const TINY: Duration = Duration::from_nanos(1);

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("flags-file-{name}-{}.toml", std::process::id()))
    }

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn a_change_is_applied_on_the_second_identical_read() {
        let path = temp("settle");
        write(&path, "[flags.beta]\nvalue = true\n");
        let mut src = FileSource::new(&path).settle(TINY);
        // The first load confirms by itself.
        assert!(matches!(src.poll(&REGISTRY), Ok(Some(_))));
        assert_eq!(src.settling(), None);
        // A prefix of the next version: seen once, not applied.
        write(&path, "[flags.beta]\n");
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        assert!(src.settling().is_some(), "a change awaits confirmation");
        // The writer finished before the next read: a new candidate, not applied.
        write(&path, "[flags.beta]\nvalue = false\n");
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        let update = match src.poll(&REGISTRY) {
            Ok(Some(u)) => u,
            other => panic!("applied on the second identical read: {other:?}"),
        };
        assert_eq!(update.rules[0].1.value, Some(Value::Bool(false)));
        assert_eq!(src.settling(), None);
        assert_eq!(src.poll(&REGISTRY), Ok(None), "unchanged");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn clearing_every_rule_needs_a_third_read() {
        let path = temp("empty");
        write(&path, "[flags.beta]\nvalue = true\n");
        let mut src = FileSource::new(&path).settle(TINY);
        assert!(matches!(src.poll(&REGISTRY), Ok(Some(_))));
        for text in ["", "# only a comment\n"] {
            write(&path, text);
            assert_eq!(src.poll(&REGISTRY), Ok(None), "{text:?}: first read");
            assert_eq!(src.poll(&REGISTRY), Ok(None), "{text:?}: second read");
            write(&path, "[flags.beta]\nvalue = true\n");
            assert_eq!(src.poll(&REGISTRY), Ok(None), "back to what is in force");
        }
        write(&path, "");
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        assert_eq!(
            src.poll(&REGISTRY),
            Ok(Some(Update::new(vec![]))),
            "an empty file that persists is applied as no rules"
        );
        // From no rules, another empty-looking change needs only two reads.
        write(&path, "# nothing\n");
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        assert_eq!(src.poll(&REGISTRY), Ok(Some(Update::new(vec![]))));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_missing_file_keeps_the_rules_and_is_reported_once_settled() {
        let path = temp("missing");
        write(&path, "[flags.beta]\nvalue = true\n");
        let mut src = FileSource::new(&path).settle(TINY);
        assert!(matches!(src.poll(&REGISTRY), Ok(Some(_))));
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            src.poll(&REGISTRY),
            Ok(None),
            "a transient absence is silent"
        );
        write(&path, "[flags.beta]\nvalue = true\n");
        assert_eq!(src.poll(&REGISTRY), Ok(None), "back: nothing to do");
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        let err = match src.poll(&REGISTRY) {
            Err(e) => e,
            other => panic!("reported once settled: {other:?}"),
        };
        assert!(err.message.contains("last good rules stay"), "{err}");
        assert_eq!(src.poll(&REGISTRY), Ok(None), "reported once");
        // The same content coming back changes nothing either.
        write(&path, "[flags.beta]\nvalue = true\n");
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        assert_eq!(src.poll(&REGISTRY), Ok(None));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn the_first_load_waits_out_the_settle_interval_itself() {
        let path = temp("first");
        write(&path, "[flags.beta]\nvalue = true\n");
        let mut src = FileSource::new(&path).settle(Duration::from_millis(2));
        assert!(matches!(src.poll(&REGISTRY), Ok(Some(_))));
        let _ = std::fs::remove_file(&path);
    }
}
