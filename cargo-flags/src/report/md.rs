//! The report as a Markdown table, for docs and pull requests.

use super::{Page, Row};
use crate::expiry::ExpiryClass;

/// The report as Markdown.
pub fn render(page: &Page) -> String {
    let mut out = String::new();
    out.push_str("# Feature flags\n\n");
    out.push_str(&format!("Manifest `{}`", page.manifest));
    if let Some(state) = &page.state {
        out.push_str(&format!(" · state `{state}`"));
    }
    out.push_str(&format!(
        " · references in `{}` · as of {}\n\n",
        page.root, page.today
    ));
    out.push_str(&format!("**{}**\n\n", page.summary()));
    if page.unknown_refs > 0 {
        out.push_str(&format!(
            "⚠️ {} reference(s) to flags that are not declared: run `cargo flags refs`.\n\n",
            page.unknown_refs
        ));
    }
    out.push_str(
        "| Flag | Description | Owner | Kind | Lifecycle | Expires | Default | Current state | Stage | Refs |\n",
    );
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- | --- | ---: |\n");
    for row in &page.rows {
        out.push_str(&row_line(row));
    }
    out.push_str(&format!(
        "\nExpiry: {} fine · {} expiring within {} days · {} stale · {} permanent\n",
        marker(ExpiryClass::Fine),
        marker(ExpiryClass::Soon),
        page.warn_ahead_days,
        marker(ExpiryClass::Stale),
        marker(ExpiryClass::Permanent)
    ));
    if !page.candidates.is_empty() {
        out.push_str("\n## Retirement candidates\n\n");
        for c in &page.candidates {
            out.push_str(&format!(
                "- `{}`: {} (`cargo flags retire {} --keep {}`)\n",
                c.flag,
                escape(&c.reason),
                c.flag,
                c.keep.as_deref().unwrap_or("on|off")
            ));
        }
    }
    out
}

fn row_line(row: &Row) -> String {
    let expires = match row.expires {
        Some(date) => format!(
            "{} {date} ({}: {})",
            marker(row.expiry),
            row.expiry.label(),
            row.expiry_detail
        ),
        None => format!("{} permanent", marker(row.expiry)),
    };
    let cells = [
        format!("`{}`", row.name),
        escape(&row.description),
        escape(&row.owner),
        row.kind.to_owned(),
        row.lifecycle.to_owned(),
        expires,
        escape(&row.default),
        format!(
            "{} <sub>({})</sub>",
            escape(&row.state),
            escape(&row.state_source)
        ),
        row.stage.as_deref().map_or_else(|| "—".to_owned(), escape),
        row.refs.to_string(),
    ];
    format!("| {} |\n", cells.join(" | "))
}

fn marker(class: ExpiryClass) -> &'static str {
    match class {
        ExpiryClass::Fine => "🟢",
        ExpiryClass::Soon => "🟡",
        ExpiryClass::Stale => "🔴",
        ExpiryClass::Permanent => "⚪",
    }
}

/// Makes text safe in a table cell: no HTML, no table or emphasis syntax, one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(
            escape("a | b <script>x</script>\nnext *em*"),
            "a \\| b &lt;script&gt;x&lt;/script&gt; next \\*em\\*"
        );
    }
}
