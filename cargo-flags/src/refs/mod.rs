//! `cargo flags refs`: every place the workspace's Rust code refers to each flag,
//! found by parsing each file with `syn` (never by text search), so comments, strings
//! and unrelated names do not count. Reports each flag's references, the flags no code
//! uses, and code that refers to flags the manifest no longer declares.

mod names;
mod render;
pub mod scan;
pub mod walk;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use flags_manifest::{Manifest, did_you_mean};

use crate::args::{Globals, ScanArgs};
use crate::outcome::{Exit, Failure};
use crate::workspace;
use scan::{LineCol, Names, RefKind};

/// Arguments of `cargo flags refs`.
#[derive(Debug, Args)]
pub struct RefsArgs {
    /// Where to scan.
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RefsFormat::Human)]
    pub format: RefsFormat,
    /// Exit with 1 when a declared flag is never referenced.
    #[arg(long)]
    pub deny_unused: bool,
}

/// Output formats of `refs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RefsFormat {
    /// Per flag: count and locations; then unused and unknown flags.
    Human,
    /// One JSON document.
    Json,
}

/// A place in a scanned file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file, relative to the scan root, with `/` separators.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl Location {
    fn new(file: &str, at: LineCol) -> Location {
        Location {
            file: file.to_owned(),
            line: at.line,
            col: at.col,
        }
    }
}

/// A reference to a declared flag.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The flag's index in the manifest.
    pub flag: usize,
    /// Through which generated item.
    pub kind: RefKind,
    /// Where.
    pub at: Location,
    /// The path or attribute as written.
    pub text: String,
}

/// A reference to a flag the manifest does not declare.
#[derive(Clone, Debug)]
pub struct Unknown {
    /// The flag name it implies.
    pub name: String,
    /// Through which kind of item.
    pub kind: RefKind,
    /// Where.
    pub at: Location,
    /// The path or attribute as written.
    pub text: String,
    /// A declared flag with a close name.
    pub suggestion: Option<String>,
}

/// A file or directory left out of the scan.
#[derive(Clone, Debug)]
pub struct Skipped {
    /// The file or directory, relative to the root, with `/` separators.
    pub path: String,
    /// Where in a file the problem is (a syntax error); `None` for a whole file or
    /// directory.
    pub at: Option<LineCol>,
    /// Why.
    pub message: String,
}

/// The result of scanning a tree.
#[derive(Clone, Debug)]
pub struct Scan {
    /// The scanned directory, as messages name it.
    pub root: String,
    /// How many `.rs` files were scanned.
    pub files: usize,
    /// Threads used.
    pub threads: usize,
    /// The names the generated module was recognised by.
    pub modules: Vec<String>,
    /// References to declared flags, by file, line and column.
    pub references: Vec<Reference>,
    /// References to undeclared flags, by file, line and column.
    pub unknown: Vec<Unknown>,
    /// Files that could not be parsed and directories that could not be read.
    pub skipped: Vec<Skipped>,
    /// Wall time of the walk and the scan.
    pub elapsed: Duration,
}

impl Scan {
    /// References per flag index.
    pub fn counts(&self, flags: usize) -> Vec<usize> {
        let mut counts = vec![0; flags];
        for r in &self.references {
            if let Some(c) = counts.get_mut(r.flag) {
                *c += 1;
            }
        }
        counts
    }

    /// The references to one flag, in file order.
    pub fn of_flag(&self, flag: usize) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(move |r| r.flag == flag)
    }

    /// Indexes of declared flags no code refers to.
    pub fn unused(&self, flags: usize) -> Vec<usize> {
        self.counts(flags)
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == 0)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Scans `args.root` (default: `default_root`) for references to `manifest`'s flags.
/// Module names declared by `flags!(mod NAME = ..)` anywhere in the tree are learnt
/// in the first pass; if there are new ones, the tree is scanned once more with them.
pub fn scan(manifest: &Manifest, default_root: &Path, args: &ScanArgs) -> Result<Scan, Failure> {
    let started = Instant::now();
    let root: PathBuf = args
        .root
        .clone()
        .unwrap_or_else(|| default_root.to_path_buf());
    let (files, left_out) = walk::rust_files(&root, &args.excludes, default_root)?;
    let threads = walk::threads(args.jobs, files.len());
    let mut names = Names::new(manifest, args.modules.iter().cloned());
    let mut scans = walk::scan_all(&files, &names, threads);
    let learnt: BTreeSet<String> = scans
        .iter()
        .flat_map(|s| s.modules.iter())
        .filter(|m| !names.modules.contains(*m))
        .cloned()
        .collect();
    if !learnt.is_empty() {
        names.modules.extend(learnt);
        scans = walk::scan_all(&files, &names, threads);
    }
    let rel = |path: &Path| {
        let p = path.strip_prefix(&root).unwrap_or(path);
        p.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    };
    let idents: Vec<&str> = manifest.flags.iter().map(|f| f.ident.as_str()).collect();
    let mut out = Scan {
        root: workspace::display_of(&root),
        files: files.len(),
        threads,
        modules: {
            let mut m: Vec<String> = names.modules.iter().cloned().collect();
            m.sort();
            m
        },
        references: Vec::new(),
        unknown: Vec::new(),
        skipped: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for (path, scan) in files.iter().zip(scans) {
        let file = rel(path);
        for f in scan.found {
            out.references.push(Reference {
                flag: f.flag,
                kind: f.kind,
                at: Location::new(&file, f.at),
                text: f.text,
            });
        }
        for u in scan.unknown {
            out.unknown.push(Unknown {
                suggestion: did_you_mean(&u.name, idents.iter().copied()).map(str::to_owned),
                name: u.name,
                kind: u.kind,
                at: Location::new(&file, u.at),
                text: u.text,
            });
        }
        if let Some((at, message)) = scan.error {
            out.skipped.push(Skipped {
                path: file.clone(),
                at: Some(at),
                message,
            });
        }
    }
    for (dir, message) in left_out {
        out.skipped.push(Skipped {
            path: format!("{}/", rel(&dir)),
            at: None,
            message,
        });
    }
    out.references.sort_by(|a, b| a.at.cmp(&b.at));
    out.unknown.sort_by(|a, b| a.at.cmp(&b.at));
    out.elapsed = started.elapsed();
    Ok(out)
}

/// Runs `cargo flags refs`.
pub fn run(globals: &Globals, args: &RefsArgs) -> Result<Exit, Failure> {
    let loaded = workspace::load(globals)?;
    let result = scan(&loaded.manifest, &loaded.file.dir, &args.scan)?;
    let unused = result.unused(loaded.manifest.flags.len());
    let exit = if !result.unknown.is_empty() {
        Exit::Errors
    } else if args.deny_unused && !unused.is_empty() {
        Exit::Warnings
    } else {
        Exit::Clean
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        RefsFormat::Human => render::human(&mut out, &loaded, &result)?,
        RefsFormat::Json => render::json(&mut out, &loaded, &result, exit)?,
    }
    // Timing goes to stderr so stdout stays reproducible; a closed stderr is ignored.
    let _ = writeln!(
        std::io::stderr(),
        "refs: scanned {} files in {:.1} ms on {} thread{}",
        result.files,
        result.elapsed.as_secs_f64() * 1000.0,
        result.threads,
        if result.threads == 1 { "" } else { "s" }
    );
    Ok(exit)
}
