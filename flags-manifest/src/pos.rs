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
        let mut start = span.start.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let before = &src[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = src[line_start..start].chars().count() + 1;
        Pos { span, line, col }
    }
}
