//! The measure of `cargo flags retire`: a generated corpus crate with hundreds of flag
//! uses in many shapes (`tests/retire_corpus/*.rs.in`: nested `if`s, conditions with
//! several operands, `else if`, `let`s, `match`es, `if let`, `matches!`, handles,
//! snapshots, gates on functions, methods and `async fn`s, matrix and override tests,
//! macros), built in a temporary directory as its own small workspace depending on
//! `flags-runtime` and `flags-test` by path. Each case retires one flag keeping one
//! side, then records whether the crate still compiles without hand edits, whether its
//! tests pass (each test computes its expectation from the flag, so after the rewrite
//! it checks the kept side), and whether the diff stays inside the regions marked
//! `<retire: FLAG>` for that flag.
//!
//! Every corpus build shares one target directory under `CARGO_TARGET_TMPDIR`, so only
//! the first run compiles the dependencies. By default a representative subset of the
//! cases runs (both sides of a plain bool flag, the flag with uses only a human can
//! retire, one variant); `RETIRE_CORPUS=full` runs every flag each way, prints the
//! figures the README quotes and asserts the 95% goal.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{BIN, TempDir};

const BOOL_FLAGS: usize = 14;
const VARIANT_FLAGS: usize = 4;
/// The bool flag that also has the uses only a person can retire.
const MANUAL: usize = BOOL_FLAGS - 1;

const BOOL_USES: &str = include_str!("retire_corpus/bool_uses.rs.in");
const VARIANT_USES: &str = include_str!("retire_corpus/variant_uses.rs.in");

const MANUAL_USES: &str = r#"
// <retire: __F__>
macro_rules! __F___twice {
    ($e:expr) => {
        ($e, $e)
    };
}

/// The flag inside a macro the tool cannot see into.
pub fn __F___custom() -> (bool, bool) {
    __F___twice!(flags::__F__())
}
// </retire>

// <retire: __F__>
/// The accessor passed as a function value.
pub fn __F___fn_value() -> bool {
    std::iter::once(flags::__F__ as fn() -> bool).all(|f| f())
}
// </retire>
"#;

fn bool_name(i: usize) -> String {
    format!("b{i}")
}

fn variant_name(i: usize) -> String {
    format!("theme{i}")
}

/// The corpus's files, relative to its root.
fn corpus() -> Vec<(String, String)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cargo-flags sits in the workspace");
    let path = |c: &str| repo.join(c).display().to_string().replace('\\', "/");
    let mut files = vec![(
        "Cargo.toml".to_owned(),
        format!(
            "[package]\nname = \"retire-corpus\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nflags-runtime = {{ path = \"{}\" }}\n\n\
             [dev-dependencies]\nflags-test = {{ path = \"{}\" }}\n\n[workspace]\n",
            path("flags-runtime"),
            path("flags-test")
        ),
    )];
    let mut manifest = String::from("# Flags of the retire corpus (generated).\n");
    let mut lib = String::from(
        "//! The retire corpus (generated).\n\nflags_runtime::flags!(\"flags.toml\");\n\n\
         /// Runs a future that never waits to completion.\n\
         pub fn block_on<F: std::future::Future>(f: F) -> F::Output {\n    \
         let mut f = std::pin::pin!(f);\n    \
         let mut cx = std::task::Context::from_waker(std::task::Waker::noop());\n    \
         loop {\n        \
         if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {\n            \
         return v;\n        }\n    }\n}\n\n",
    );
    for i in 0..BOOL_FLAGS {
        let f = bool_name(i);
        let g = bool_name((i + 1) % BOOL_FLAGS);
        write!(
            manifest,
            "\n# <retire: {f}>\n[flags.{f}]\ndescription = \"Corpus flag {f}\"\nowner = \"corpus\"\nkind = \"ops\"\n# </retire>\n"
        )
        .unwrap();
        writeln!(lib, "pub mod {f};").unwrap();
        let extra = if i == MANUAL { MANUAL_USES } else { "" };
        let text = BOOL_USES
            .replace("__EXTRA__", extra)
            .replace("__F__", &f)
            .replace("__B__", &f.to_uppercase())
            .replace("__G__", &g)
            .replace("__H__", &g.to_uppercase())
            .replace("__T__", &format!("Ranker{i}"))
            .replace("__N__", &i.to_string());
        files.push((format!("src/{f}.rs"), text));
    }
    for i in 0..VARIANT_FLAGS {
        let f = variant_name(i);
        // Dependencies between flags, so retiring one edits another's entry.
        let (tag, deps) = match i {
            1 => (" b0".to_owned(), "requires = [\"b0\"]\n".to_owned()),
            2 => (
                format!(" {}", variant_name(0)),
                format!("excludes = [\"{}=blue\"]\n", variant_name(0)),
            ),
            _ => (String::new(), String::new()),
        };
        write!(
            manifest,
            "\n# <retire: {f}{tag}>\n[flags.{f}]\ndescription = \"Corpus flag {f}\"\nowner = \"corpus\"\nkind = \"ops\"\nvariants = [\"red\", \"green\", \"blue\"]\ndefault = \"red\"\n{deps}# </retire>\n"
        )
        .unwrap();
        writeln!(lib, "pub mod {f};").unwrap();
        let e = format!("Theme{i}");
        let text = VARIANT_USES
            .replace("__F__", &f)
            .replace("__B__", &f.to_uppercase())
            .replace("__E__", &e);
        files.push((format!("src/{f}.rs"), text));
    }
    files.push(("flags.toml".to_owned(), manifest));
    files.push(("src/lib.rs".to_owned(), lib));
    files
}

fn write_corpus(dir: &Path, files: &[(String, String)]) {
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    // The repository's lock file, so the corpus builds the same dependency versions.
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("retire-corpus-target")
}

/// Compiler warnings in a build's output (not the "generated N warnings" summaries).
fn warnings(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("warning: ") && !l.contains(" generated "))
        .count()
}

/// `cargo test` in the corpus: (compiled, tests passed, output).
fn cargo_test(dir: &Path) -> (bool, bool, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        // Warnings are counted, not made errors by the caller's flags.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("FLAGS")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let compiled =
        out.status.success() || !(text.contains("could not compile") || text.contains("error[E"));
    (compiled, out.status.success(), text)
}

/// The regions (first and last line, 0-based, inclusive) marked for `flag` in a file.
fn regions(text: &str, flag: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Vec<(usize, bool)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start_matches([' ', '/', '#']);
        if let Some(tags) = t.strip_prefix("<retire:") {
            let tags = tags.trim_end_matches('>');
            open.push((i, tags.split_whitespace().any(|f| f == flag)));
        } else if t.starts_with("</retire>")
            && let Some((start, ours)) = open.pop()
            && ours
        {
            out.push((start, i));
        }
    }
    // The blank line that sets a region off goes with it.
    let lines: Vec<&str> = text.lines().collect();
    for (start, _) in &mut out {
        if *start > 0 && lines[*start - 1].trim().is_empty() {
            *start -= 1;
        }
    }
    out
}

/// Lines of `old` the diff to `new` touches outside `flag`'s regions.
fn outside(old: &str, new: &str, flag: &str) -> Vec<usize> {
    let regions = regions(old, flag);
    let inside = |line: usize| regions.iter().any(|(a, b)| *a <= line && line <= *b);
    let diff = similar::TextDiff::from_lines(old, new);
    let mut bad = Vec::new();
    for op in diff.ops() {
        let (tag, old_range, _) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {}
            similar::DiffTag::Insert => {
                // Inserted before old line `start`: inside when the line before is.
                let at = old_range.start.saturating_sub(1);
                if !inside(at) {
                    bad.push(at + 1);
                }
            }
            _ => bad.extend(old_range.filter(|l| !inside(*l)).map(|l| l + 1)),
        }
    }
    bad
}

struct CaseResult {
    flag: String,
    keep: String,
    exit: i32,
    humans: usize,
    compiled: bool,
    passed: bool,
    spans_ok: bool,
    warnings: usize,
    detail: String,
}

fn run_case(files: &[(String, String)], flag: &str, keep: &str) -> CaseResult {
    let dir = TempDir::new(&format!("corpus-{flag}-{keep}"));
    write_corpus(&dir.path, files);
    let out = Command::new(BIN)
        .arg("--manifest")
        .arg(dir.path.join("flags.toml"))
        .args(["retire", flag, "--keep", keep, "--no-check"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr).into_owned();
    let humans = report
        .lines()
        .skip_while(|l| !l.starts_with("needs a human"))
        .skip(1)
        .filter(|l| l.starts_with("  "))
        .count();
    let mut detail = String::new();
    let mut spans_ok = true;
    for (rel, old) in files {
        let new = std::fs::read_to_string(dir.path.join(rel)).unwrap_or_default();
        let bad = outside(old, &new, flag);
        if !bad.is_empty() {
            spans_ok = false;
            writeln!(
                detail,
                "{rel}: changed outside the flag's regions at lines {bad:?}"
            )
            .unwrap();
        }
    }
    let (compiled, passed, text) = cargo_test(&dir.path);
    if !passed {
        let tail: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("error") || l.contains("panicked"))
            .take(6)
            .collect();
        writeln!(detail, "{}", tail.join("\n")).unwrap();
    }
    CaseResult {
        flag: flag.to_owned(),
        keep: keep.to_owned(),
        exit: out.status.code().unwrap_or(-1),
        humans,
        compiled,
        passed,
        spans_ok,
        warnings: warnings(&text),
        detail: format!("{report}{detail}"),
    }
}

fn uses(files: &[(String, String)]) -> usize {
    let dir = TempDir::new("corpus-refs");
    write_corpus(&dir.path, files);
    let out = Command::new(BIN)
        .arg("--manifest")
        .arg(dir.path.join("flags.toml"))
        .args(["refs", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["count"].as_u64().unwrap() as usize)
        .sum()
}

#[test]
fn retiring_every_flag_of_the_corpus() {
    let full = std::env::var("RETIRE_CORPUS").is_ok_and(|v| v == "full");
    let files = corpus();
    // `RETIRE_CORPUS_WRITE=DIR` writes the corpus there to look at, and stops.
    if let Some(dir) = std::env::var_os("RETIRE_CORPUS_WRITE") {
        write_corpus(Path::new(&dir), &files);
        return;
    }
    let uses = uses(&files);
    assert!(uses >= 200, "the corpus has {uses} flag uses");

    // The corpus itself must build and pass before anything is retired.
    let started = Instant::now();
    let base = TempDir::new("corpus-base");
    write_corpus(&base.path, &files);
    let (_, passed, text) = cargo_test(&base.path);
    assert!(passed, "the corpus fails before any retirement:\n{text}");
    assert_eq!(
        warnings(&text),
        0,
        "the corpus warns before any retirement:\n{text}"
    );

    let mut cases: Vec<(String, String)> = Vec::new();
    if full {
        for i in 0..BOOL_FLAGS {
            for keep in ["on", "off"] {
                cases.push((bool_name(i), keep.to_owned()));
            }
        }
        for i in 0..VARIANT_FLAGS {
            for keep in ["red", "green", "blue"] {
                cases.push((variant_name(i), keep.to_owned()));
            }
        }
    } else {
        cases.push((bool_name(0), "on".to_owned()));
        cases.push((bool_name(0), "off".to_owned()));
        cases.push((bool_name(MANUAL), "off".to_owned()));
        cases.push((variant_name(1), "green".to_owned()));
    }
    let results: Vec<CaseResult> = cases.iter().map(|(f, k)| run_case(&files, f, k)).collect();

    let n = results.len();
    let ok = results.iter().filter(|r| r.compiled && r.passed).count();
    let compiled = results.iter().filter(|r| r.compiled).count();
    let spans = results.iter().filter(|r| r.spans_ok).count();
    let clean = results.iter().filter(|r| r.exit == 0).count();
    let quiet = results
        .iter()
        .filter(|r| r.compiled && r.warnings == 0)
        .count();
    let mut table = String::new();
    for r in &results {
        writeln!(
            table,
            "  {:>8} keep {:<5} exit {} humans {:>2} compiled {:<5} tests {:<5} spans {:<7} warnings {}",
            r.flag,
            r.keep,
            r.exit,
            r.humans,
            r.compiled,
            r.passed,
            if r.spans_ok { "ok" } else { "OUTSIDE" },
            r.warnings
        )
        .unwrap();
    }
    let pct = |k: usize| 100.0 * k as f64 / n as f64;
    let summary = format!(
        "retire corpus ({}): {uses} flag uses, {n} cases in {:.0?}\n{table}\
         compiled without hand edits: {compiled}/{n} ({:.1}%)\n\
         compiled and tests passed:   {ok}/{n} ({:.1}%)\n\
         diff only in expected spans:  {spans}/{n} ({:.1}%)\n\
         compiled without a warning:   {quiet}/{n}\n\
         clean exit (nothing for a human): {clean}/{n}",
        if full {
            "full"
        } else {
            "subset; RETIRE_CORPUS=full for all"
        },
        started.elapsed(),
        pct(compiled),
        pct(ok),
        pct(spans),
    );
    println!("{summary}");
    // Also kept beside the build, where `scripts/test.sh` prints it after the run.
    let _ = std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("retire-corpus.txt"),
        &summary,
    );
    for r in &results {
        assert!(
            r.exit != 2,
            "retire {} --keep {} failed:\n{}",
            r.flag,
            r.keep,
            r.detail
        );
        // A failure must be one the tool said needs a human.
        assert!(
            (r.compiled && r.passed) || (r.exit == 1 && r.humans > 0),
            "retire {} --keep {} broke the corpus without saying why:\n{}",
            r.flag,
            r.keep,
            r.detail
        );
        assert!(
            r.spans_ok,
            "retire {} --keep {}:\n{}",
            r.flag, r.keep, r.detail
        );
        // A clean exit means nothing was left behind.
        assert!(r.exit != 0 || (r.compiled && r.passed), "{}", r.detail);
    }
    if full {
        assert!(ok * 100 >= n * 95, "{ok}/{n} cases compile and pass");
    }
}
