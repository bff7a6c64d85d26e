//! Diagnostics: every problem found in a manifest, with where it is, what is wrong and
//! how to fix it. Problems are collected, never returned at the first one, so a user
//! sees all of them in one build.

use std::fmt;
use std::ops::Range;

use crate::pos::{LineIndex, Pos};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A notice: nothing is wrong yet (a flag expires soon).
    Note,
    /// Something to act on that does not stop the build (a stale flag).
    Warning,
    /// The manifest cannot be used as written.
    Error,
}

/// One problem in a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious it is.
    pub severity: Severity,
    /// Where in the file.
    pub pos: Pos,
    /// The dotted key it concerns, such as `flags.search_v2.owner` (empty for the file
    /// as a whole).
    pub key: String,
    /// What is wrong, as a sentence.
    pub message: String,
    /// How to fix it, when there is an obvious way.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Formats the diagnostic as `FILE:LINE:COL: key `KEY`: MESSAGE (help: ...)`, the
    /// one form every tool of the workspace prints.
    ///
    /// ```
    /// use flags_manifest::{Diagnostic, Pos, Severity};
    /// let d = Diagnostic {
    ///     severity: Severity::Error,
    ///     pos: Pos { span: 0..1, line: 3, col: 7 },
    ///     key: "flags.x.owner".into(),
    ///     message: "missing".into(),
    ///     help: None,
    /// };
    /// assert_eq!(d.render("flags.toml"), "flags.toml:3:7: `flags.x.owner`: missing");
    /// ```
    pub fn render(&self, file: &str) -> String {
        let mut out = format!("{file}:{}:{}: ", self.pos.line, self.pos.col);
        if !self.key.is_empty() {
            out.push_str(&format!("`{}`: ", self.key));
        }
        out.push_str(&self.message);
        if let Some(help) = &self.help {
            out.push_str(&format!(" (help: {help})"));
        }
        out
    }
}

/// A manifest that could not be used: the file's name and every error found in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    /// The file as it should be named in messages.
    pub file: String,
    /// Every problem found, errors first in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors: Vec<_> = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        for (i, d) in errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}", d.render(&self.file))?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestError {}

/// Collects diagnostics while a manifest is read and checked.
pub(crate) struct Ctxt<'s> {
    pub(crate) src: &'s str,
    pub(crate) diags: Vec<Diagnostic>,
    lines: LineIndex,
}

impl<'s> Ctxt<'s> {
    pub(crate) fn new(src: &'s str) -> Self {
        Ctxt {
            src,
            diags: Vec::new(),
            lines: LineIndex::new(src),
        }
    }

    pub(crate) fn pos(&self, span: Range<usize>) -> Pos {
        self.lines.locate(self.src, span)
    }

    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        self.push(Severity::Error, span, key, message.into(), None);
    }

    pub(crate) fn error_help(
        &mut self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(
            Severity::Error,
            span,
            key,
            message.into(),
            Some(help.into()),
        );
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        span: Range<usize>,
        key: &str,
        message: String,
        help: Option<String>,
    ) {
        let pos = self.pos(span);
        self.diags.push(Diagnostic {
            severity,
            pos,
            key: key.to_owned(),
            message,
            help,
        });
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    pub(crate) fn finish(mut self, file: &str) -> Result<Vec<Diagnostic>, ManifestError> {
        self.diags
            .sort_by_key(|d| (std::cmp::Reverse(d.severity), d.pos.span.start));
        if self.has_errors() {
            Err(ManifestError {
                file: file.to_owned(),
                diagnostics: self.diags,
            })
        } else {
            Ok(self.diags)
        }
    }
}

/// The closest of `candidates` to `word` by edit distance, if close enough to be a
/// plausible typo (at most a third of the word's length, and at least one edit).
///
/// ```
/// use flags_manifest::did_you_mean;
/// assert_eq!(did_you_mean("ownr", ["owner", "kind"]), Some("owner"));
/// assert_eq!(did_you_mean("zzz", ["owner"]), None);
/// ```
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}
