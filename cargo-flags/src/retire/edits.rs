//! Byte-span edits of one file: every change `retire` makes is a replacement of a byte
//! range, so everything outside the ranges stays exactly as written. A removal of a
//! larger range (an `if` around the kept block) is written as two deletions around the
//! kept part, so edits inside the kept part still apply; edits inside a removed or
//! replaced range are dropped; two edits that cross are a conflict, and the file is
//! left alone. Removing a level of indentation is a count per line start, so nested
//! splices add up.

use std::collections::BTreeMap;
use std::ops::Range;

use proc_macro2::{LineColumn, Span};

/// Byte offsets of a file's lines, to turn `proc-macro2` line/column positions
/// (columns count characters) into byte offsets.
#[derive(Debug)]
pub struct Lines<'s> {
    src: &'s str,
    starts: Vec<usize>,
}

impl<'s> Lines<'s> {
    /// Indexes `src`.
    pub fn new(src: &'s str) -> Lines<'s> {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Lines { src, starts }
    }

    /// The byte offset of a position.
    pub fn offset(&self, at: LineColumn) -> usize {
        let Some(&start) = self.starts.get(at.line.saturating_sub(1)) else {
            return self.src.len();
        };
        let line = &self.src[start..];
        start
            + line
                .char_indices()
                .nth(at.column)
                .map_or(line.len(), |(i, _)| i)
    }

    /// The byte range of a span.
    pub fn range(&self, span: Span) -> Range<usize> {
        let start = self.offset(span.start());
        let end = self.offset(span.end());
        start..end.max(start)
    }

    /// The start of the line holding `at`.
    pub fn line_start(&self, at: usize) -> usize {
        self.src[..at.min(self.src.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1)
    }

    /// The offset just past the newline ending the line holding `at` (or the end).
    pub fn line_end(&self, at: usize) -> usize {
        self.src[at.min(self.src.len())..]
            .find('\n')
            .map_or(self.src.len(), |i| at + i + 1)
    }

    /// Whether only spaces and tabs stand between the start of its line and `at`.
    pub fn starts_line(&self, at: usize) -> bool {
        self.src[self.line_start(at)..at]
            .chars()
            .all(|c| c == ' ' || c == '\t')
    }

    /// Whether only whitespace stands between `at` and the end of its line.
    pub fn ends_line(&self, at: usize) -> bool {
        let end = self.line_end(at);
        self.src[at..end].trim().is_empty()
    }

    /// The range of whole lines from the line of `start` through the line of `end`,
    /// when nothing but whitespace shares those lines with `start..end`; else
    /// `start..end`.
    pub fn whole_lines(&self, start: usize, end: usize) -> Range<usize> {
        if self.starts_line(start) && self.ends_line(end) {
            self.line_start(start)..self.line_end(end)
        } else {
            start..end
        }
    }

    /// The lines of an item to delete (see [`Lines::whole_lines`]), with one of the
    /// blank lines around it, so removing it leaves no doubled blank line.
    pub fn item_lines(&self, start: usize, end: usize) -> Range<usize> {
        let mut whole = self.whole_lines(start, end);
        let before_blank = whole.start == 0 || {
            let prev = self.line_start(whole.start.saturating_sub(1));
            self.src[prev..whole.start].trim().is_empty()
        };
        let after = &self.src[whole.end..];
        let next_line = after.find('\n').map_or(after.len(), |i| i + 1);
        if before_blank && whole.end < self.src.len() {
            if after[..next_line].trim().is_empty() {
                whole.end += next_line;
            } else if whole.start > 0 {
                // Nothing blank after: the blank line before goes instead.
                whole.start = self.line_start(whole.start - 1);
            }
        }
        whole
    }

    /// The 1-based line and column (characters) of an offset.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts[line - 1];
        (line, self.src[start..at].chars().count() + 1)
    }

    /// The text of a range.
    pub fn text(&self, range: Range<usize>) -> &'s str {
        &self.src[range]
    }

    /// The indentation (spaces/tabs) of the line holding `at`.
    pub fn indent(&self, at: usize) -> &'s str {
        let start = self.line_start(at);
        let line = &self.src[start..];
        let n = line.len() - line.trim_start_matches([' ', '\t']).len();
        &line[..n]
    }
}

/// One replacement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// The new text.
    pub text: String,
}

/// The edits of one file.
#[derive(Debug, Default)]
pub struct Edits {
    edits: Vec<Option<Edit>>,
    /// Columns of indentation to remove, by line start.
    dedent: BTreeMap<usize, usize>,
}

/// The handle of an edit, to withdraw it later.
#[derive(Clone, Copy, Debug)]
pub struct EditId(usize);

impl Edits {
    /// Replaces `range` with `text`.
    pub fn replace(&mut self, range: Range<usize>, text: impl Into<String>) -> EditId {
        self.edits.push(Some(Edit {
            range,
            text: text.into(),
        }));
        EditId(self.edits.len() - 1)
    }

    /// Deletes `range`.
    pub fn delete(&mut self, range: Range<usize>) -> EditId {
        self.replace(range, "")
    }

    /// Withdraws an edit.
    pub fn withdraw(&mut self, id: EditId) {
        if let Some(slot) = self.edits.get_mut(id.0) {
            *slot = None;
        }
    }

    /// Removes `columns` of indentation from every line starting inside `range`.
    pub fn dedent(&mut self, lines: &Lines<'_>, range: Range<usize>, columns: usize) {
        if columns == 0 {
            return;
        }
        for &start in &lines.starts {
            if start >= range.start && start < range.end {
                *self.dedent.entry(start).or_default() += columns;
            }
        }
    }

    /// The edits in effect, sorted, with those inside a larger edit dropped; `Err`
    /// with the two ranges when edits cross.
    pub fn resolve(&self, src: &str) -> Result<Vec<Edit>, (Range<usize>, Range<usize>)> {
        let mut all: Vec<Edit> = self.edits.iter().flatten().cloned().collect();
        for (&start, &cols) in &self.dedent {
            let line = &src[start..];
            let ws = line.len() - line.trim_start_matches([' ', '\t']).len();
            let n = cols.min(ws);
            if n > 0 && !line[ws..].starts_with('\n') {
                all.push(Edit {
                    range: start..start + n,
                    text: String::new(),
                });
            }
        }
        // Insertions first at the same start (they go before what is replaced there),
        // then larger ranges, so a contained edit follows its container and is dropped.
        all.sort_by(|a, b| {
            a.range
                .start
                .cmp(&b.range.start)
                .then(b.range.is_empty().cmp(&a.range.is_empty()))
                .then(b.range.end.cmp(&a.range.end))
        });
        let mut out: Vec<Edit> = Vec::with_capacity(all.len());
        for edit in all {
            if let Some(last) = out.last() {
                let at_edge = edit.range.is_empty()
                    && (edit.range.start == last.range.end || edit.range.start == last.range.start);
                let contained = !last.range.is_empty()
                    && edit.range.start >= last.range.start
                    && edit.range.end <= last.range.end
                    && !at_edge;
                if contained {
                    continue;
                }
                if last == &edit {
                    continue;
                }
                if edit.range.start < last.range.end {
                    // Two deletions that overlap delete their union.
                    if edit.text.is_empty() && last.text.is_empty() {
                        if let Some(last) = out.last_mut() {
                            last.range.end = last.range.end.max(edit.range.end);
                        }
                        continue;
                    }
                    return Err((last.range.clone(), edit.range.clone()));
                }
            }
            out.push(edit);
        }
        Ok(out)
    }
}

/// `src` with `edits` (sorted, not crossing) applied.
pub fn apply(src: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(src.len());
    let mut at = 0;
    for e in edits {
        out.push_str(&src[at..e.range.start]);
        out.push_str(&e.text);
        at = e.range.end;
    }
    out.push_str(&src[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contained_edits_are_dropped_and_crossing_ones_refused() {
        let src = "0123456789";
        let mut e = Edits::default();
        e.delete(2..6);
        e.replace(3..4, "x");
        e.replace(8..9, "y");
        let r = e.resolve(src).unwrap();
        assert_eq!(apply(src, &r), "0167y9");
        let mut e = Edits::default();
        e.delete(2..6);
        e.replace(5..7, "z");
        assert_eq!(e.resolve(src), Err((2..6, 5..7)));
        let mut e = Edits::default();
        e.delete(2..6);
        e.delete(5..7);
        assert_eq!(apply(src, &e.resolve(src).unwrap()), "01789");
    }

    #[test]
    fn dedents_add_up_and_spare_blank_lines() {
        let src = "a\n        b\n\n        c\n";
        let lines = Lines::new(src);
        let mut e = Edits::default();
        e.dedent(&lines, 2..src.len(), 4);
        e.dedent(&lines, 2..src.len(), 2);
        let r = e.resolve(src).unwrap();
        assert_eq!(apply(src, &r), "a\n  b\n\n  c\n");
    }

    #[test]
    fn offsets_count_characters() {
        let src = "é = 1;\nfn x() {}\n";
        let lines = Lines::new(src);
        assert_eq!(lines.offset(LineColumn { line: 1, column: 1 }), 2);
        assert_eq!(lines.offset(LineColumn { line: 2, column: 3 }), 11);
        assert_eq!(lines.line_col(11), (2, 4));
    }
}
