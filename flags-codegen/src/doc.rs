//! The rustdoc of generated items. Manifest text (descriptions, owners, constraint
//! values) is the user's data, not Markdown: rustdoc would run an indented line or a
//! fenced block as a doctest, paste `<script>` into the page and let a newline in a
//! table cell end the table. Every such string goes through [`text`] or [`cell`], which
//! escape it so that it renders as the characters written and nothing else.

use std::fmt::Write as _;

use flags_manifest::{
    Constraint, ExpiryState, Flag, FlagRef, Operator, RolloutPlan, Rules, Stickiness, Strategy,
    StrategyKind, WeightedVariant,
};

use crate::valid::{FlagPlan, StaticValue};

/// `s` as Markdown that renders as exactly `s`: every character that could start
/// markup is backslash-escaped (CommonMark lets any ASCII punctuation be), HTML's
/// `<`, `>` and `&` become entities, and each line loses its leading whitespace, so no
/// line is ever an indented code block. Line breaks are kept: a blank line still
/// separates paragraphs.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for (i, line) in s.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        escape_line(line.trim(), &mut out);
    }
    out
}

/// `s` as the content of one table cell: [`text`], on one line.
pub(crate) fn cell(s: &str) -> String {
    let one_line: Vec<&str> = s.split_whitespace().collect();
    text(&one_line.join(" "))
}

fn escape_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let leading_digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '<' => {
                out.push_str("&lt;");
                continue;
            }
            '>' => {
                out.push_str("&gt;");
                continue;
            }
            '&' => {
                out.push_str("&amp;");
                continue;
            }
            c if c.is_control() => {
                out.push(' ');
                continue;
            }
            // Inline markup anywhere: the escape itself, code spans and fences,
            // emphasis, links and images, footnotes, table cells, strikethrough.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => true,
            // Block markup opens a line: headings, list items, setext underlines;
            // `--` would also be joined into a dash.
            '#' | '+' | '=' => i == 0,
            '-' => i == 0 || chars.get(i + 1) == Some(&'-'),
            // An ordered list item: `1.` or `1)`.
            '.' | ')' => i > 0 && i == leading_digits,
            // `https://...` would be a bare URL, which rustdoc warns about.
            ':' => chars.get(i + 1) == Some(&'/') && chars.get(i + 2) == Some(&'/'),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `s` in a code span, with a fence longer than any run of backticks inside it.
pub(crate) fn code(s: &str) -> String {
    let longest = s
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    let one_line: Vec<&str> = s.split(['\n', '\r']).collect();
    format!("{fence}{pad}{}{pad}{fence}", one_line.join(" "))
}

/// The accessor's documentation: description, a table of the declaration, variants,
/// static value, dependencies, rules and rollout plan, and a notice when the flag
/// expires soon or has expired.
pub(crate) fn accessor(flag: &Flag, plan: &FlagPlan, written: &str) -> String {
    let mut doc = String::new();
    doc.push_str(&text(&flag.description));
    doc.push_str("\n\n| Owner | Kind | Lifecycle | Expires | Default |\n|---|---|---|---|---|\n");
    let expires = flag
        .expires
        .map_or_else(|| "never (permanent)".to_owned(), |d| d.to_string());
    let _ = writeln!(
        doc,
        "| {} | {} | {} | {} | {} |",
        cell(&flag.owner),
        flag.kind.as_str(),
        flag.lifecycle.as_str().replace('_', " "),
        expires,
        code(&flag.value_label(flag.default)),
    );
    if !flag.variants().is_empty() {
        let list: Vec<String> = flag.variants().iter().map(|v| code(v)).collect();
        let _ = writeln!(doc, "\nVariants: {}.", list.join(", "));
    }
    if let Some(StaticValue {
        value,
        var,
        from_env,
    }) = &plan.fixed
    {
        let label = code(&flag.value_label(*value));
        let var = code(var);
        if *from_env {
            let _ = writeln!(
                doc,
                "\nStatic: compiled as {label}, set by {var} at build time."
            );
        } else {
            let _ = writeln!(
                doc,
                "\nStatic: compiled as {label}, the manifest default; set {var} at build \
                 time to change it."
            );
        }
    }
    dependencies(flag, &mut doc);
    rules(flag, &flag.rules, &mut doc);
    if let Some(plan) = &flag.rollout {
        rollout(plan, &mut doc);
    }
    let advice = format!(
        "remove it from the code and {}, or move `expires` later.",
        code(written)
    );
    let date = expires;
    match plan.expiry {
        Some(ExpiryState::ExpiringSoon { days_left: 0 }) => {
            let _ = writeln!(doc, "\n**Expires today** ({date}): {advice}");
        }
        Some(ExpiryState::ExpiringSoon { days_left }) => {
            let days = if days_left == 1 { "day" } else { "days" };
            let _ = writeln!(
                doc,
                "\n**Expires in {days_left} {days}** (on {date}): {advice}"
            );
        }
        Some(ExpiryState::Stale { days_over } | ExpiryState::StaleError { days_over }) => {
            let days = if days_over == 1 { "day" } else { "days" };
            let _ = writeln!(
                doc,
                "\n**Expired** on {date}, {days_over} {days} ago: {advice}"
            );
        }
        _ => {}
    }
    doc
}

/// `Requires: ...` and `Excludes: ...`, one line each.
fn dependencies(flag: &Flag, doc: &mut String) {
    let refs = |refs: &[FlagRef]| -> String {
        let list: Vec<String> = refs
            .iter()
            .map(|r| match &r.variant {
                Some(v) => format!("{} = {}", code(&r.flag), code(v)),
                None => format!("{} on", code(&r.flag)),
            })
            .collect();
        list.join(", ")
    };
    if !flag.requires.is_empty() {
        let _ = writeln!(
            doc,
            "\nRequires: {} (otherwise this flag is off, or at its default variant).",
            refs(&flag.requires)
        );
    }
    if !flag.excludes.is_empty() {
        let _ = writeln!(
            doc,
            "\nExcludes: {} (while that holds, this flag is off, or at its default variant).",
            refs(&flag.excludes)
        );
    }
}

/// The manifest's rules as a list, one item per strategy.
fn rules(flag: &Flag, rules: &Rules, doc: &mut String) {
    if rules.is_empty() {
        return;
    }
    doc.push_str("\nRules in the manifest (a layer above can replace them at run time):\n\n");
    if rules.enabled == Some(false) {
        doc.push_str("- kill switch: `enabled = false`, the flag is off whatever else is set\n");
    }
    if let Some(v) = rules.value {
        let _ = writeln!(doc, "- fixed: {}", code(&flag.value_label(v)));
    }
    for (i, s) in rules.strategies.iter().enumerate() {
        let _ = writeln!(doc, "- {}", strategy(flag, i + 1, s));
    }
    if !rules.strategies.is_empty() {
        let fallback = if flag.variants().is_empty() {
            "off".to_owned()
        } else {
            format!("at {}", code(&flag.value_label(flag.default)))
        };
        let _ = writeln!(doc, "- no strategy matches: {fallback}");
    }
    if !rules.variants.is_empty() {
        let _ = writeln!(
            doc,
            "- variants: {}, {}",
            weights(&rules.variants),
            stickiness(&rules.variant_stickiness)
        );
    }
}

fn strategy(flag: &Flag, n: usize, s: &Strategy) -> String {
    let mut line = match &s.kind {
        StrategyKind::All => format!("strategy {n}: everyone"),
        StrategyKind::Keys(keys) => {
            let keys: Vec<String> = keys.iter().map(|k| text(k)).collect();
            format!("strategy {n}: targeting keys {}", keys.join(", "))
        }
        StrategyKind::Rollout {
            percent,
            stickiness: by,
            group_id,
        } => {
            let group = if *group_id == flag.name {
                String::new()
            } else {
                format!(" (group {})", text(group_id))
            };
            format!(
                "strategy {n}: {percent}% rollout, {}{group}",
                stickiness(by)
            )
        }
    };
    if !s.constraints.is_empty() {
        let conds: Vec<String> = s.constraints.iter().map(constraint).collect();
        let _ = write!(line, ", when {}", conds.join(" and "));
    }
    if !s.variants.is_empty() {
        let _ = write!(
            line,
            ", assigning {}, {}",
            weights(&s.variants),
            stickiness(&s.variant_stickiness)
        );
    }
    line
}

fn stickiness(s: &Stickiness) -> String {
    match s {
        Stickiness::Default => "sticky by key (else session, else random)".to_owned(),
        Stickiness::Key => "sticky by key".to_owned(),
        Stickiness::Random => "at random".to_owned(),
        Stickiness::Attribute(a) => format!("sticky by {}", text(a)),
    }
}

fn constraint(c: &Constraint) -> String {
    let op = Operator::ALL
        .iter()
        .find(|(op, _, _)| *op == c.operator)
        .map_or("?", |(_, name, _)| name);
    let not = if c.inverted { "not " } else { "" };
    let case = if c.case_insensitive {
        " (ignoring case)"
    } else {
        ""
    };
    let values: Vec<String> = c.values.iter().map(|v| text(v)).collect();
    let values = if c.operator.takes_list() {
        format!("\\[{}\\]", values.join(", "))
    } else {
        values.join(", ")
    };
    format!("{} {not}{} {values}{case}", text(&c.attribute), code(op))
}

fn weights(variants: &[WeightedVariant]) -> String {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    let parts: Vec<String> = variants
        .iter()
        .map(|v| {
            // Tenths of a percent, rounded, without floating point.
            let tenths = (u64::from(v.weight) * 1000 + total / 2)
                .checked_div(total)
                .unwrap_or(0);
            let pct = if tenths.is_multiple_of(10) {
                format!("{}%", tenths / 10)
            } else {
                format!("{}.{}%", tenths / 10, tenths % 10)
            };
            format!("{} {pct}", code(&v.name))
        })
        .collect();
    parts.join(" / ")
}

fn rollout(plan: &RolloutPlan, doc: &mut String) {
    let stages: Vec<String> = plan.stages.iter().map(|s| format!("{s}%")).collect();
    let soak = plan.soak.as_secs();
    let soak = match soak {
        s if s > 0 && s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        s if s > 0 && s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s > 0 && s.is_multiple_of(60) => format!("{}m", s / 60),
        s if s > 0 => format!("{s}s"),
        _ => format!("{}ms", plan.soak.as_millis()),
    };
    let _ = write!(
        doc,
        "\nGuarded rollout: stages {}, each watched for at least {soak} and {} outcomes per side",
        stages.join(" → "),
        plan.min_samples
    );
    let c = &plan.criteria;
    let mut limits = Vec::new();
    if let Some(x) = c.max_error_rate {
        limits.push(format!("the error rate exceeds {}%", x * 100.0));
    }
    if let Some(x) = c.max_error_rate_increase {
        limits.push(format!(
            "the error rate rises more than {} percentage points over control",
            x * 100.0
        ));
    }
    if let Some(x) = c.max_latency_ms {
        limits.push(format!("mean latency exceeds {x} ms"));
    }
    if let Some(x) = c.max_latency_ratio {
        limits.push(format!("latency exceeds {x}× control"));
    }
    if limits.is_empty() {
        doc.push_str(".\n");
    } else {
        let _ = writeln!(
            doc,
            "; rolled back when {} (at {}% confidence).",
            limits.join(", or "),
            c.confidence * 100.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    /// The rendered text of `markdown` as rustdoc's parser reads it, and every piece of
    /// structure it found other than paragraphs and soft breaks.
    fn render(markdown: &str, options: Options) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut structure = Vec::new();
        for event in Parser::new_ext(markdown, options) {
            match event {
                Event::Text(t) => out.push_str(&t),
                Event::SoftBreak | Event::HardBreak => out.push('\n'),
                Event::Start(Tag::Paragraph) => {}
                Event::End(TagEnd::Paragraph) => out.push_str("\n\n"),
                other => structure.push(format!("{other:?}")),
            }
        }
        (out.trim_end().to_owned(), structure)
    }

    const HOSTILE: &[&str] = &[
        "Ranks results.\n\n    let x = 1; // indented: a doctest\n    assert!(false);",
        "```\npanic!(\"fenced\")\n```",
        "~~~rust\nfn main() {}\n~~~",
        "<script>alert(1)</script> & <b>bold</b> &amp;",
        "# Heading\n## Two\nSetext\n===\nUnder\n---",
        "- item\n+ item\n* item\n1. one\n2) two\n> quote",
        "*em* _em_ **strong** `code` ~~gone~~ [link](http://x) ![img](y) [^note] [Registry]",
        "| a | b |\n|---|---|\n| c | d |",
        "see https://example.com/path?q=1 and www.example.com or a@b.c",
        "\\ back\\slash \\* and trailing two spaces  \nnext",
        "\t\ttabs first\n\u{a0}   nbsp then spaces",
        "- [ ] task",
    ];

    /// rustdoc's options: every extension it turns on.
    const RUSTDOC: Options = Options::ENABLE_TABLES
        .union(Options::ENABLE_FOOTNOTES)
        .union(Options::ENABLE_STRIKETHROUGH)
        .union(Options::ENABLE_TASKLISTS)
        .union(Options::ENABLE_SMART_PUNCTUATION);

    #[test]
    fn text_renders_as_written_with_no_structure() {
        for s in HOSTILE {
            let (_, structure) = render(&text(s), RUSTDOC);
            assert!(structure.is_empty(), "{s:?} -> {structure:?}");
            // The characters, line by line (without smart punctuation, which only
            // curls quotes and joins dashes, as in any rustdoc text).
            let (rendered, _) = render(&text(s), RUSTDOC - Options::ENABLE_SMART_PUNCTUATION);
            let expected: Vec<&str> = s.lines().map(str::trim).collect();
            let expected = expected.join("\n").replace('\t', " ");
            assert_eq!(rendered, expected.trim(), "{s:?}");
        }
    }

    #[test]
    fn cells_stay_in_their_table() {
        let owner = "team | ops\nsecond line\n| x | y |\n<script>";
        let table = format!("| Owner | Kind |\n|---|---|\n| {} | ops |\n", cell(owner));
        let events: Vec<Event<'_>> = Parser::new_ext(&table, Options::ENABLE_TABLES).collect();
        let cells = events
            .iter()
            .filter(|e| matches!(e, Event::Start(Tag::TableCell)))
            .count();
        assert_eq!(cells, 4, "{events:?}");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        assert!(
            text.contains("team | ops second line | x | y | <script>"),
            "{text}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Html(_) | Event::InlineHtml(_)))
        );
    }

    #[test]
    fn code_spans_hold_backticks() {
        for s in ["plain", "a`b", "``", "`x`", "two-col"] {
            let (_, structure) = render(&code(s), RUSTDOC);
            let code: Vec<&String> = structure.iter().filter(|e| e.starts_with("Code")).collect();
            assert_eq!(code.len(), 1, "{s:?}: {structure:?}");
            assert!(code[0].contains(&format!("{s:?}")), "{s:?}: {code:?}");
        }
    }
}
