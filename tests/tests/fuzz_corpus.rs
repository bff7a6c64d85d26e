//! Replays every committed fuzz seed and reproducer (`fuzz/seeds/TARGET/*`) through
//! the fuzz targets' own entry points, on stable Rust, so a fixed defect stays fixed
//! without a fuzzer in CI. A panic fails the test and names the file.

#[path = "../../fuzz/src/lib.rs"]
mod entries;

use std::path::{Path, PathBuf};

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "{}: a handful of seeds expected",
        dir.display()
    );
    files
}

fn replay(target: &str, entry: fn(&[u8])) {
    for file in seeds(target) {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| entry(&bytes));
        assert!(outcome.is_ok(), "{target}: {} panics", file.display());
    }
}

#[test]
fn manifest() {
    replay("manifest", entries::manifest);
}

#[test]
fn rules_env() {
    replay("rules_env", entries::rules_env);
}

#[test]
fn unleash() {
    replay("unleash", entries::unleash);
}

#[test]
fn files() {
    replay("files", entries::files);
}

#[test]
fn operators() {
    replay("operators", entries::operators);
}
