//! `refs` output: per flag its references, then unused flags, references to flags that
//! do not exist and files that could not be parsed; or all of it as one JSON document.

use std::io::{self, Write};

use serde::Serialize;

use super::Scan;
use crate::outcome::Exit;
use crate::workspace::Loaded;

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The human listing.
pub fn human(out: &mut impl Write, loaded: &Loaded, scan: &Scan) -> io::Result<()> {
    let manifest = &loaded.manifest;
    let counts = scan.counts(manifest.flags.len());
    for flag in &manifest.flags {
        writeln!(
            out,
            "{}: {}",
            flag.name,
            plural(counts[flag.index], "reference")
        )?;
        for r in scan.of_flag(flag.index) {
            writeln!(
                out,
                "  {}:{}:{}  {}  {}",
                r.at.file,
                r.at.line,
                r.at.col,
                r.kind.as_str(),
                r.text
            )?;
        }
    }
    let unused = scan.unused(manifest.flags.len());
    if !unused.is_empty() {
        writeln!(out, "\nunused flags (declared, never referenced):")?;
        for i in &unused {
            let f = &manifest.flags[*i];
            writeln!(
                out,
                "  {}  (owner: {}, declared at {}:{}:{})",
                f.name, f.owner, loaded.file.display, f.pos.line, f.pos.col
            )?;
        }
    }
    if !scan.unknown.is_empty() {
        writeln!(out, "\nreferences to flags that do not exist:")?;
        for u in &scan.unknown {
            let hint = u
                .suggestion
                .as_ref()
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {}:{}:{}  {}: no flag `{}` in {}{hint}",
                u.at.file, u.at.line, u.at.col, u.text, u.name, loaded.file.display
            )?;
        }
    }
    if !scan.skipped.is_empty() {
        writeln!(out, "\nnot scanned:")?;
        for s in &scan.skipped {
            match s.at {
                Some(at) => writeln!(out, "  {}:{}:{}: {}", s.path, at.line, at.col, s.message)?,
                None => writeln!(out, "  {}: {}", s.path, s.message)?,
            }
        }
    }
    let used = counts.iter().filter(|c| **c > 0).count();
    writeln!(
        out,
        "\nrefs: {} in {}: {} to {} of {}, {} unused, {} to unknown flags",
        plural(scan.files, "file"),
        scan.root,
        plural(scan.references.len(), "reference"),
        used,
        plural(manifest.flags.len(), "flag"),
        unused.len(),
        scan.unknown.len()
    )
}

#[derive(Serialize)]
struct JsonRefs<'a> {
    manifest: &'a str,
    root: &'a str,
    files_scanned: usize,
    threads: usize,
    elapsed_ms: f64,
    modules: &'a [String],
    flags: Vec<JsonFlag<'a>>,
    unused: Vec<&'a str>,
    unknown: Vec<JsonUnknown<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    exit_code: u8,
}

#[derive(Serialize)]
struct JsonFlag<'a> {
    name: &'a str,
    owner: &'a str,
    count: usize,
    references: Vec<JsonRef<'a>>,
}

#[derive(Serialize)]
struct JsonRef<'a> {
    file: &'a str,
    line: usize,
    col: usize,
    kind: &'static str,
    text: &'a str,
}

#[derive(Serialize)]
struct JsonUnknown<'a> {
    name: &'a str,
    file: &'a str,
    line: usize,
    col: usize,
    kind: &'static str,
    text: &'a str,
    suggestion: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    path: &'a str,
    line: Option<usize>,
    col: Option<usize>,
    message: &'a str,
}

/// One JSON document.
pub fn json(out: &mut impl Write, loaded: &Loaded, scan: &Scan, exit: Exit) -> io::Result<()> {
    let manifest = &loaded.manifest;
    let doc = JsonRefs {
        manifest: &loaded.file.display,
        root: &scan.root,
        files_scanned: scan.files,
        threads: scan.threads,
        elapsed_ms: (scan.elapsed.as_secs_f64() * 1e4).round() / 10.0,
        modules: &scan.modules,
        flags: manifest
            .flags
            .iter()
            .map(|f| {
                let references: Vec<JsonRef<'_>> = scan
                    .of_flag(f.index)
                    .map(|r| JsonRef {
                        file: &r.at.file,
                        line: r.at.line,
                        col: r.at.col,
                        kind: r.kind.as_str(),
                        text: &r.text,
                    })
                    .collect();
                JsonFlag {
                    name: &f.name,
                    owner: &f.owner,
                    count: references.len(),
                    references,
                }
            })
            .collect(),
        unused: scan
            .unused(manifest.flags.len())
            .into_iter()
            .map(|i| manifest.flags[i].name.as_str())
            .collect(),
        unknown: scan
            .unknown
            .iter()
            .map(|u| JsonUnknown {
                name: &u.name,
                file: &u.at.file,
                line: u.at.line,
                col: u.at.col,
                kind: u.kind.as_str(),
                text: &u.text,
                suggestion: u.suggestion.as_deref(),
            })
            .collect(),
        skipped: scan
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                path: &s.path,
                line: s.at.map(|a| a.line),
                col: s.at.map(|a| a.col),
                message: &s.message,
            })
            .collect(),
        exit_code: exit as u8,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
