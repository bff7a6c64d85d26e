//! Removing the retired flag from `flags.toml` with `toml_edit`, which keeps every other
//! byte: comments, blank lines, key order and quoting. The flag's table goes (with the
//! comments above its header, which describe it), and so do the entries naming it in
//! other flags' `requires` and `excludes`: with the flag fixed at the kept value they
//! hold or fail for good, and the rewrite in the code already reflects that.

use toml_edit::{DocumentMut, Item, TableLike};

/// `text` without flag `name`; `Err` when the text does not parse or has no such flag.
/// Also returns the flags whose `requires`/`excludes` lost an entry.
pub fn remove_flag(text: &str, name: &str) -> Result<(String, Vec<String>), String> {
    let parse = |text: &str| {
        text.parse::<DocumentMut>()
            .map_err(|e| format!("flags.toml does not parse for editing: {e}"))
    };
    let mut doc = parse(text)?;
    let flags = doc
        .get_mut("flags")
        .and_then(Item::as_table_like_mut)
        .ok_or("flags.toml has no [flags] table")?;
    let removed = flags
        .remove(name)
        .ok_or_else(|| format!("flags.toml has no flag `{name}`"))?;
    // Comments above the flag's header belong to it, except a block set off by a blank
    // line (a file or section heading), which stays where the table was.
    let heading = removed
        .as_table()
        .and_then(|t| t.decor().prefix())
        .and_then(|p| p.as_str())
        .and_then(|p| p.rfind("\n\n").map(|i| p[..i + 2].to_owned()))
        .filter(|h| !h.trim().is_empty());
    let mut without = doc.to_string();
    if let Some(heading) = heading {
        // Compared by character, so that `at` is a character boundary of both texts.
        let at = text
            .char_indices()
            .zip(without.chars())
            .find(|((_, a), b)| a != b)
            .map_or(without.len(), |((i, _), _)| i);
        // The table went from the start of a line.
        let at = without[..at].rfind('\n').map_or(0, |i| i + 1);
        let rest = &without[at..];
        let rest = if heading.ends_with("\n\n") {
            rest.strip_prefix('\n').unwrap_or(rest)
        } else {
            rest
        };
        without = format!("{}{heading}{rest}", &without[..at]);
    }
    let mut doc = parse(&without)?;
    // The last flag gone: nothing left to prune.
    let Some(flags) = doc.get_mut("flags").and_then(Item::as_table_like_mut) else {
        return Ok((same_ends(text, &without), Vec::new()));
    };
    let mut touched = Vec::new();
    for (other, item) in flags.iter_mut() {
        // In an inline table the space before `}` belongs to the last value: keep it
        // when the last key goes.
        let closing = item.as_inline_table().and_then(|t| {
            t.iter()
                .last()
                .and_then(|(_, v)| v.decor().suffix().and_then(|s| s.as_str()))
                .map(str::to_owned)
        });
        let Some(table) = item.as_table_like_mut() else {
            continue;
        };
        if prune(table, "requires", name) | prune(table, "excludes", name) {
            touched.push(other.get().to_owned());
            if let (Some(closing), Some(t)) = (closing, item.as_inline_table_mut())
                && let Some((_, last)) = t.iter_mut().last()
            {
                last.decor_mut().set_suffix(closing);
            }
        }
    }
    // The file ends as it ended: removing the last table must not leave a blank line.
    Ok((same_ends(text, &doc.to_string()), touched))
}

/// `new` starting and ending as `old` does: removing the first or last table must not
/// leave a blank line at either end.
fn same_ends(old: &str, new: &str) -> String {
    let body = new.trim_end_matches('\n');
    let body = if old.starts_with('\n') {
        body
    } else {
        body.trim_start_matches('\n')
    };
    let ending = &old[old.trim_end_matches('\n').len()..];
    format!("{body}{ending}")
}

/// Removes the entries of `key` that name `flag` (`"flag"` or `"flag=variant"`), and the
/// key itself when nothing is left. Whether anything was removed.
fn prune(table: &mut dyn TableLike, key: &str, flag: &str) -> bool {
    let Some(array) = table.get_mut(key).and_then(Item::as_array_mut) else {
        return false;
    };
    let names = |v: &toml_edit::Value| {
        v.as_str()
            .is_some_and(|s| s == flag || s.split_once('=').is_some_and(|(f, _)| f.trim() == flag))
    };
    let first_prefix = array.get(0).and_then(|v| {
        v.decor()
            .prefix()
            .and_then(|p| p.as_str())
            .map(str::to_owned)
    });
    let before = array.len();
    array.retain(|v| !names(v));
    if array.len() == before {
        return false;
    }
    if array.is_empty() {
        table.remove(key);
        return true;
    }
    // The new first entry takes the old first one's leading space: `["b"]`, not `[ "b"]`.
    if let (Some(prefix), Some(first)) = (first_prefix, array.get_mut(0)) {
        first.decor_mut().set_prefix(prefix);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"# The shop's flags.

# First, a.
[flags.a]
description = "a" # why a
owner = "o"
requires = ["gone", "b"]

# About gone: it shipped.
[flags.gone]
description = "gone"
owner = "o"
variants = ["x", "y"]
default = "x"

[flags.gone.rollout]
stages = [1, 100]

# b stays.
[flags.b]
description = "b"
owner = "o"
excludes = ["gone=y"]
"#;

    #[test]
    fn the_table_and_its_mentions_go_and_the_rest_stays() {
        let (out, touched) = remove_flag(SRC, "gone").unwrap();
        assert_eq!(
            out,
            r#"# The shop's flags.

# First, a.
[flags.a]
description = "a" # why a
owner = "o"
requires = ["b"]

# b stays.
[flags.b]
description = "b"
owner = "o"
"#
        );
        assert_eq!(touched, ["a", "b"]);
    }

    #[test]
    fn a_heading_above_the_first_flag_stays() {
        let src =
            "# Heading.\n\n[flags.gone]\ndescription = \"d\"\n\n[flags.b]\ndescription = \"b\"\n";
        let (out, _) = remove_flag(src, "gone").unwrap();
        assert_eq!(out, "# Heading.\n\n[flags.b]\ndescription = \"b\"\n");
    }

    #[test]
    fn non_ascii_comments_around_the_heading() {
        // The texts first differ inside a two-byte character (Ä and Ö share a byte).
        let src = "# Ärger.\n\n# Äpfel.\n[flags.gone]\ndescription = \"d\"\n\n# Öl.\n[flags.b]\ndescription = \"b\"\n";
        let (out, _) = remove_flag(src, "gone").unwrap();
        assert_eq!(out, "# Ärger.\n\n# Öl.\n[flags.b]\ndescription = \"b\"\n");
    }

    #[test]
    fn the_last_table_goes_without_a_trailing_blank_line() {
        let src = "[flags.a]\ndescription = \"a\"\n\n[flags.gone]\ndescription = \"d\"\n# end\n";
        let (out, _) = remove_flag(src, "gone").unwrap();
        assert_eq!(out, "[flags.a]\ndescription = \"a\"\n# end\n");
    }

    #[test]
    fn inline_flags_and_missing_flags() {
        let src = "[flags]\nx = { description = \"d\", owner = \"o\" } # x\ny = { description = \"d\", owner = \"o\", requires = [\"x\"] }\n";
        let (out, _) = remove_flag(src, "x").unwrap();
        assert_eq!(out, "[flags]\ny = { description = \"d\", owner = \"o\" }\n");
        assert!(remove_flag(src, "z").is_err());
    }
}
