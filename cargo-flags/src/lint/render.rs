//! Lint output: lines for people, one JSON document for tools, and GitHub Actions
//! workflow commands that annotate `flags.toml` in a pull request.

use std::io::{self, Write};

use flags_manifest::Severity;
use serde::Serialize;

use super::Lint;
use crate::outcome::Exit;
use crate::workspace::severity_word;

/// `error: flags.toml:3:1: `key`: message (help: ...)` per finding, then a summary.
pub fn human(out: &mut impl Write, lint: &Lint) -> io::Result<()> {
    for f in &lint.findings {
        writeln!(
            out,
            "{}: {}",
            severity_word(f.diagnostic.severity),
            f.diagnostic.render(&lint.file)
        )?;
    }
    writeln!(out, "{}", summary(lint))
}

fn summary(lint: &Lint) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("1 {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut line = format!(
        "lint: {}, {}, {}",
        plural(lint.count(Severity::Error), "error"),
        plural(lint.count(Severity::Warning), "warning"),
        plural(lint.count(Severity::Note), "note"),
    );
    match (lint.flags, lint.today) {
        (Some(n), Some(today)) => line.push_str(&format!(
            " ({}, {}, judged on {today})",
            lint.file,
            plural(n, "flag")
        )),
        _ => line.push_str(&format!(" ({} is invalid)", lint.file)),
    }
    line
}

#[derive(Serialize)]
struct JsonLint<'a> {
    manifest: &'a str,
    today: Option<String>,
    flags: Option<usize>,
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
    exit_code: u8,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    severity: &'static str,
    title: &'static str,
    file: &'a str,
    line: usize,
    col: usize,
    key: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    flag: Option<&'a str>,
    owner: Option<&'a str>,
    rendered: String,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    notes: usize,
}

/// One JSON document: every finding with its position, and the summary.
pub fn json(out: &mut impl Write, lint: &Lint, exit: Exit) -> io::Result<()> {
    let doc = JsonLint {
        manifest: &lint.file,
        today: lint.today.map(|d| d.to_string()),
        flags: lint.flags,
        findings: lint
            .findings
            .iter()
            .map(|f| JsonFinding {
                severity: severity_word(f.diagnostic.severity),
                title: f.title,
                file: &lint.file,
                line: f.diagnostic.pos.line,
                col: f.diagnostic.pos.col,
                key: &f.diagnostic.key,
                message: &f.diagnostic.message,
                help: f.diagnostic.help.as_deref(),
                flag: f.flag.as_deref(),
                owner: f.owner.as_deref(),
                rendered: f.diagnostic.render(&lint.file),
            })
            .collect(),
        summary: JsonSummary {
            errors: lint.count(Severity::Error),
            warnings: lint.count(Severity::Warning),
            notes: lint.count(Severity::Note),
        },
        exit_code: exit as u8,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `::error file=flags.toml,line=3,col=1,title=...::message` per finding (notes
/// become `::notice`), then the summary as a plain log line.
pub fn github(out: &mut impl Write, lint: &Lint) -> io::Result<()> {
    for f in &lint.findings {
        let command = match f.diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let d = &f.diagnostic;
        let mut message = String::new();
        if !d.key.is_empty() {
            message.push_str(&format!("`{}`: ", d.key));
        }
        message.push_str(&d.message);
        if let Some(help) = &d.help {
            message.push_str(&format!(" (help: {help})"));
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&lint.file),
            d.pos.line,
            d.pos.col,
            escape_property(f.title),
            escape_data(&message)
        )?;
    }
    writeln!(out, "{}", summary(lint))
}

/// Escapes a workflow command's message, as the runner decodes it.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (`,` and `:` delimit properties).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
