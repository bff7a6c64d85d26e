//! `cargo flags retire FLAG --keep SIDE`: removes a finished flag from the workspace so
//! the kept side runs unconditionally.
//!
//! Two passes over every Rust file under the root (found as `refs` finds them): the
//! first gathers the `#[feature_gate]`s on the flag and the functions their sides
//! name (`gates`); the second turns each use into byte-span edits (`rewrite`), so
//! everything outside the changed spans keeps its bytes, then tidies what only the
//! removed code used (`rewrite::tidy`). `flags.toml` loses the flag
//! through `toml_edit` (`manifest`). A use that cannot be rewritten safely is left as
//! written and listed as "needs a human" with its place and reason. `--dry-run` prints
//! a unified diff (`diff`); otherwise the files are written and
//! `cargo check --workspace --all-targets` judges the result.

mod diff;
mod edits;
mod gates;
mod manifest;
mod rewrite;
mod target;

use std::collections::HashSet;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;
use flags_manifest::{Manifest, Value, did_you_mean};

use crate::args::{Globals, ScanArgs};
use crate::outcome::{Exit, Failure};
use crate::refs;
use crate::workspace;

pub use target::{Candidate, finished_rollouts, load_state};

/// Exit codes of `retire`.
pub const RETIRE_EXIT_CODES: &str = "\
Exit codes:
  0  clean: every use was rewritten (and, without --dry-run, cargo check passed)
  1  partial: some uses need a human (listed with FILE:LINE:COL and the reason); the
     rest was rewritten
  2  failed: unknown flag, no --keep and no known production value, a file that
     cannot be written, or cargo check failed although no use was left for a human";

/// Arguments of `cargo flags retire`.
#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The flag: its manifest name or accessor.
    pub flag: String,
    /// The side that stays: `on`/`off`, or a variant's name. Default: what production
    /// runs, when known (a rollout at 100% or 0% in the state file, a static flag).
    #[arg(long, value_name = "on|off|VARIANT")]
    pub keep: Option<String>,
    /// Print a unified diff and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the files but do not run `cargo check` afterwards.
    #[arg(long)]
    pub no_check: bool,
    /// The rollout state file (default: `.flags/state.json` beside the manifest, or
    /// `.flags/ENV/state.json` with --environment).
    #[arg(long, value_name = "FILE")]
    pub rollout_state: Option<PathBuf>,
    /// The environment whose rollout state says what production runs (as
    /// `cargo flags rollout --environment`).
    #[arg(long, value_name = "ENV")]
    pub environment: Option<String>,
    /// Where to look for uses.
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// A use left for a person.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanAt {
    /// The file, relative to the root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// Why.
    pub reason: String,
}

/// What a retirement changes, before anything is written.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Changed files: path, old text, new text.
    pub files: Vec<(PathBuf, String, String)>,
    /// Uses left for a person.
    pub humans: Vec<HumanAt>,
    /// What was done beyond plain rewrites (gates, tests, the manifest, Unleash).
    pub notes: Vec<String>,
}

/// Retires `flag` (keeping `keep`) from the sources under `root` and the manifest at
/// `manifest_path`; changes nothing on disk.
pub fn plan(
    manifest: &Manifest,
    manifest_path: &Path,
    manifest_text: &str,
    flag_name: &str,
    keep: Value,
    root: &Path,
    scan: &ScanArgs,
) -> Result<Outcome, Failure> {
    let flag = manifest
        .flag(flag_name)
        .ok_or_else(|| Failure::msg(format!("no flag `{flag_name}`")))?;
    // The module names `flags!(mod NAME = ..)` declares, as `refs` learns them.
    let scanned = refs::scan(manifest, root, scan)?;
    let modules: HashSet<String> = scanned.modules.iter().cloned().collect();
    let t = target::Target::new(flag, keep, modules);
    let manifest_dir = match manifest_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // As `refs` walks: directories with their own flags.toml belong to another manifest.
    let (files, _) = refs::walk::rust_files(root, &scan.excludes, manifest_dir)?;
    let rel = |path: &Path| {
        let p = path.strip_prefix(root).unwrap_or(path);
        p.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut out = Outcome::default();
    let mut sources = Vec::with_capacity(files.len());
    let mut gathered = gates::Gathered::default();
    let mut unleash = false;
    for (i, path) in files.iter().enumerate() {
        let src = std::fs::read_to_string(path).unwrap_or_default();
        // A parser bug on some odd file must not take the whole run down.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            if let Ok(ast) = syn::parse_file(&src) {
                gathered.add(i, &src, &ast, &t);
            }
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        unleash |= src.contains("flags_unleash");
        sources.push(src);
    }
    let plan = gathered.plan(keep, &sources);
    for (i, path) in files.iter().enumerate() {
        let src = &sources[i];
        let name = rel(path);
        let Ok(ast) = syn::parse_file(src) else {
            if src.contains(&t.accessor) || src.contains(&t.handle) {
                out.humans.push(HumanAt {
                    file: name,
                    line: 1,
                    col: 1,
                    reason: "the file does not parse, so it was not rewritten".to_owned(),
                });
            }
            continue;
        };
        let result = catch_unwind(AssertUnwindSafe(|| {
            rewrite::rewrite_file(src, &ast, &t, &plan, i)
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        let Ok(result) = result else {
            out.humans.push(HumanAt {
                file: name,
                line: 1,
                col: 1,
                reason: "the rewrite failed on this file, so it was left as it is".to_owned(),
            });
            continue;
        };
        let lines = edits::Lines::new(src);
        for h in &result.humans {
            let (line, col) = lines.line_col(h.at);
            out.humans.push(HumanAt {
                file: name.clone(),
                line,
                col,
                reason: h.reason.clone(),
            });
        }
        for (at, note) in &result.notes {
            let (line, col) = lines.line_col(*at);
            out.notes.push(format!("{name}:{line}:{col}: {note}"));
        }
        match result.edits.resolve(src) {
            Ok(list) if !list.is_empty() => {
                let new = edits::apply(src, &list);
                if &new != src {
                    out.files.push((path.clone(), src.clone(), new));
                }
            }
            Ok(_) => {}
            Err((a, _)) => {
                let (line, col) = lines.line_col(a.start);
                out.humans.push(HumanAt {
                    file: name,
                    line,
                    col,
                    reason: "two rewrites here overlap; the file was left as it is".to_owned(),
                });
            }
        }
    }
    let (new_manifest, touched) =
        manifest::remove_flag(manifest_text, &flag.name).map_err(Failure::msg)?;
    // Another flag's rules may name this one (a prerequisite): the manifest must still
    // be valid, or the change is a person's to finish.
    let display = workspace::display_of(manifest_path);
    if let Err(e) = flags_manifest::parse_str(&new_manifest, &display) {
        for d in e.diagnostics {
            out.humans.push(HumanAt {
                file: display.clone(),
                line: d.pos.line,
                col: d.pos.col,
                reason: format!(
                    "without the flag, the manifest no longer validates: {}",
                    d.message
                ),
            });
        }
    }
    out.files.push((
        manifest_path.to_path_buf(),
        manifest_text.to_owned(),
        new_manifest,
    ));
    out.notes.push(format!(
        "{}: removed [flags.{}]",
        workspace::display_of(manifest_path),
        flag.name
    ));
    for other in touched {
        out.notes.push(format!(
            "{}: flag `{other}` no longer requires/excludes `{}` (it is fixed at {} now)",
            workspace::display_of(manifest_path),
            flag.name,
            t.label(keep)
        ));
    }
    if unleash {
        out.notes.push(format!(
            "Unleash: toggles bind to flags by name; archive toggle `{}` on the server once \
             this change is deployed (it is not deleted from here)",
            flag.name
        ));
    }
    out.humans.sort();
    out.humans.dedup();
    Ok(out)
}

/// Runs `cargo flags retire`.
pub fn run(globals: &Globals, args: &RetireArgs) -> Result<Exit, Failure> {
    let loaded = workspace::load(globals)?;
    let manifest = &loaded.manifest;
    let flag = manifest
        .flag(&args.flag)
        .or_else(|| manifest.flags.iter().find(|f| f.ident == args.flag))
        .ok_or_else(|| {
            let names = manifest.flags.iter().map(|f| f.name.as_str());
            match did_you_mean(&args.flag, names) {
                Some(s) => Failure::msg(format!(
                    "no flag `{}` in {} (did you mean `{s}`?)",
                    args.flag, loaded.file.display
                )),
                None => Failure::msg(format!(
                    "no flag `{}` in {}",
                    args.flag, loaded.file.display
                )),
            }
        })?;
    let state_path = args.rollout_state.clone().unwrap_or_else(|| {
        let dir = loaded.file.dir.join(".flags");
        match &args.environment {
            Some(env) => dir.join(env).join("state.json"),
            None => dir.join("state.json"),
        }
    });
    let (keep, why) = match &args.keep {
        Some(text) => (
            target::parse_keep(flag, text).map_err(Failure::msg)?,
            "--keep".to_owned(),
        ),
        None => {
            let state = target::load_state(&state_path).map_err(Failure::msg)?;
            match target::production_value(flag, state.as_ref()) {
                Some((v, why)) => (v, why),
                None => {
                    let sides = if flag.variants().is_empty() {
                        "on|off".to_owned()
                    } else {
                        flag.variants().join("|")
                    };
                    return Err(Failure::msg(format!(
                        "what production runs for `{}` is not known (no rollout at 100% or 0% \
                         in {}, not static): pass --keep {sides}",
                        flag.name,
                        state_path.display()
                    )));
                }
            }
        }
    };
    let root = args
        .scan
        .root
        .clone()
        .unwrap_or_else(|| loaded.file.dir.clone());
    let outcome = plan(
        manifest,
        &loaded.file.path,
        &loaded.source,
        &flag.name,
        keep,
        &root,
        &args.scan,
    )?;
    let label = if keep == Value::Bool(true) {
        "on".to_owned()
    } else if keep == Value::Bool(false) {
        "off".to_owned()
    } else {
        flag.value_label(keep)
    };
    let mut stdout = std::io::stdout().lock();
    let display = |p: &Path| {
        let rel = p.strip_prefix(&root).unwrap_or(p);
        workspace::display_of(rel)
    };
    if args.dry_run {
        for (path, old, new) in &outcome.files {
            write!(stdout, "{}", diff::unified(&display(path), old, new))?;
        }
    } else {
        for (path, _, new) in &outcome.files {
            crate::workspace::write_replacing(path, new.as_bytes())
                .map_err(|e| Failure::io("write", path, &e))?;
        }
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "retire {}: keeping {label} ({why}); {} file{} {}",
        flag.name,
        outcome.files.len(),
        if outcome.files.len() == 1 { "" } else { "s" },
        if args.dry_run {
            "would change"
        } else {
            "changed"
        }
    )?;
    for note in &outcome.notes {
        writeln!(err, "  note: {note}")?;
    }
    if state_path.is_file()
        && let Ok(Some(state)) = target::load_state(&state_path)
        && state.rollouts.contains_key(&flag.name)
    {
        writeln!(
            err,
            "  note: {} still holds a rollout for `{}`; it is ignored once the flag is gone",
            state_path.display(),
            flag.name
        )?;
    }
    if !outcome.humans.is_empty() {
        writeln!(err, "needs a human ({}):", outcome.humans.len())?;
        for h in &outcome.humans {
            writeln!(err, "  {}:{}:{}: {}", h.file, h.line, h.col, h.reason)?;
        }
    }
    let mut exit = if outcome.humans.is_empty() {
        Exit::Clean
    } else {
        Exit::Warnings
    };
    if !args.dry_run && !args.no_check {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let result = Command::new(cargo)
            .args(["check", "--workspace", "--all-targets", "--quiet"])
            .current_dir(&loaded.file.dir)
            .output()
            .map_err(|e| Failure::msg(format!("cannot run cargo check: {e}")))?;
        if result.status.success() {
            writeln!(err, "cargo check --workspace --all-targets: ok")?;
        } else {
            let text = String::from_utf8_lossy(&result.stderr);
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            writeln!(err, "cargo check --workspace --all-targets: failed")?;
            for line in tail.into_iter().rev() {
                writeln!(err, "  {line}")?;
            }
            // With uses left for a person the build is expected to fail until they
            // are done: still partial. With none, the rewrite itself broke it.
            if outcome.humans.is_empty() {
                exit = Exit::Errors;
            }
        }
    }
    Ok(exit)
}
