//! Source positions: byte offsets in a manifest turned into 1-based line and column.

use std::ops::Range;

/// A place in a manifest: the byte range a diagnostic covers and its 1-based line and
/// column (columns count characters, not bytes, as editors do).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    /// Byte range in the source text.
    pub span: Range<usize>,
    /// 1-based line of the range's start.
    pub line: usize,
    /// 1-based column (in characters) of the range's start.
    pub col: usize,
}

impl Pos {
    /// Locates `span` in `src`. Out-of-range or mid-character offsets are clamped, so
    /// any span yields a position.
    ///
    /// ```
    /// use flags_manifest::Pos;
    /// let p = Pos::locate("a = 1\nbé = 2\n", 9..10);
    /// assert_eq!((p.line, p.col), (2, 3));
    /// ```
    pub fn locate(src: &str, span: Range<usize>) -> Pos {
        LineIndex::new(src).locate(src, span)
    }
}

/// The byte offset of every line start of a text, so that locating a position costs a
/// binary search instead of a scan from the start (a manifest of a thousand flags has
/// tens of thousands of positions).
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub(crate) fn locate(&self, src: &str, span: Range<usize>) -> Pos {
        let mut start = span.start.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= start);
        let mut line_start = self.starts[line - 1];
        // A byte-order mark is not a column: editors do not show it.
        if line == 1 && src.starts_with('\u{feff}') {
            line_start = '\u{feff}'.len_utf8().min(start);
        }
        let col = src[line_start..start].chars().count() + 1;
        Pos { span, line, col }
    }
}
