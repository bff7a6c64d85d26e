//! Diagnostics: every problem found in a manifest, with where it is, what is wrong and
//! how to fix it. Problems are collected, never returned at the first one, so a user
//! sees all of them in one build.

use std::fmt;
#[cfg(feature = "parse")]
use std::ops::Range;

#[cfg(feature = "parse")]
use crate::pos::LineIndex;
use crate::pos::Pos;

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
#[cfg(feature = "parse")]
pub(crate) struct Ctxt<'s> {
    pub(crate) src: &'s str,
    pub(crate) diags: Vec<Diagnostic>,
    lines: LineIndex,
}

#[cfg(feature = "parse")]
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
/// The cost is bounded: a candidate whose length differs by more than the limit is
/// skipped without comparing, the comparison only fills the band of the edit-distance
/// table within the limit of its diagonal and stops as soon as the limit is exceeded,
/// and a word longer than [`SUGGEST_MAX_WORD`] characters gets no suggestion. One
/// call costs at most about `candidates × SUGGEST_MAX_WORD × limit` steps; to bound the
/// work for a whole file, use [`Suggestions`].
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
    let mut work = 0;
    nearest(word, candidates, &mut work)
}

/// The longest word [`did_you_mean`] looks for a suggestion for: no flag, key or
/// variant name is that long, so a longer word is not a typo of one.
pub const SUGGEST_MAX_WORD: usize = 256;

/// The default work budget of [`Suggestions`]: table cells, about a millisecond each
/// hundred thousand.
pub const SUGGEST_BUDGET: u64 = 4_000_000;

/// [`did_you_mean`] for many words of one input against the same candidates, with a
/// budget for all of them: once it is spent, further words get no suggestion, so a
/// file with many unknown names costs at most the budget on top of its parse.
///
/// ```
/// use flags_manifest::Suggestions;
/// let mut s = Suggestions::new(["search_v2", "checkout"], 1_000);
/// assert_eq!(s.suggest("serch_v2"), Some("search_v2"));
/// assert!(s.work() > 0 && s.work() <= 1_000);
/// ```
#[derive(Clone, Debug)]
pub struct Suggestions<'a> {
    candidates: Vec<&'a str>,
    budget: u64,
    work: u64,
}

impl<'a> Suggestions<'a> {
    /// Suggestions among `candidates`, spending at most about `budget` steps in all.
    pub fn new(candidates: impl IntoIterator<Item = &'a str>, budget: u64) -> Suggestions<'a> {
        Suggestions {
            candidates: candidates.into_iter().collect(),
            budget,
            work: 0,
        }
    }

    /// The closest candidate to `word`, as [`did_you_mean`], or `None` once the budget
    /// is spent.
    pub fn suggest(&mut self, word: &str) -> Option<&'a str> {
        if self.work >= self.budget {
            return None;
        }
        let mut work = 0;
        let found = nearest(word, self.candidates.iter().copied(), &mut work);
        self.work = self.work.saturating_add(work);
        found
    }

    /// The steps spent so far (table cells filled, plus one per candidate looked at).
    #[must_use]
    pub fn work(&self) -> u64 {
        self.work
    }
}

/// [`did_you_mean`], adding the steps it takes to `work`.
fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    work: &mut u64,
) -> Option<&'a str> {
    let word: Vec<char> = word.chars().take(SUGGEST_MAX_WORD + 1).collect();
    if word.len() > SUGGEST_MAX_WORD {
        return None;
    }
    let limit = (word.len() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    let mut chars = Vec::new();
    for c in candidates {
        // Only a strictly closer candidate replaces the best so far (the first of equals
        // wins).
        let bound = match best {
            Some((0, _)) => break,
            Some((d, _)) => d - 1,
            None => limit,
        };
        *work = work.saturating_add(1);
        chars.clear();
        chars.extend(c.chars().take(word.len() + bound + 1));
        if let Some(d) = bounded_levenshtein(&word, &chars, bound, work) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance between `a` and `b` if it is at most `k`. Only cells within `k`
/// of the diagonal can hold a distance of `k` or less, so only those are filled, and
/// the search stops at the first row whose every cell exceeds `k`: O(len × k) steps.
fn bounded_levenshtein(a: &[char], b: &[char], k: usize, work: &mut u64) -> Option<usize> {
    if a.len().abs_diff(b.len()) > k {
        return None;
    }
    let over = k + 1;
    let mut prev: Vec<usize> = (0..=b.len()).map(|j| j.min(over)).collect();
    let mut cur = vec![over; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let i = i + 1;
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(b.len());
        cur[lo - 1] = if lo == 1 { i.min(over) } else { over };
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let diagonal = prev[j - 1] + usize::from(*ca != b[j - 1]);
            let d = diagonal.min(prev[j] + 1).min(cur[j - 1] + 1).min(over);
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if hi < b.len() {
            cur[hi + 1] = over;
        }
        *work = work.saturating_add((hi + 1 - lo) as u64);
        if row_min > k {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= k).then_some(d)
}
