//! The unified diff `--dry-run` prints, from `similar` (a Myers diff with the usual
//! `---`/`+++`/`@@` layout that `patch` and `git apply` read).

use similar::TextDiff;

/// A unified diff of one file, three lines of context, `a/` and `b/` prefixes.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_one_line_change() {
        let d = super::unified("src/x.rs", "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            d,
            "--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        );
    }
}
