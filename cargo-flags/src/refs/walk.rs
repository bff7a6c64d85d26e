//! Finding the Rust sources under a root (skipping `target/`, hidden directories and
//! excluded paths) and scanning them on every core with plain std threads.

use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::scan::{FileScan, LineCol, Names, scan_source};
use crate::outcome::Failure;

/// Files handed to a thread at a time: large enough that the shared counter is not
/// contended, small enough that threads finish together.
const CHUNK: usize = 16;

/// The files to scan, and the directories left out with the reason.
type Walk = (Vec<PathBuf>, Vec<(PathBuf, String)>);

/// Every `.rs` file under `root`, sorted, and the directories left out with the
/// reason (unreadable, or governed by another manifest).
///
/// Symbolic links are not followed, so a link cycle cannot loop the walk. A directory
/// below the root holding its own `flags.toml` (other than `manifest_dir`) belongs to
/// another manifest, whose flags its code refers to, so it is left out.
pub fn rust_files(root: &Path, excludes: &[PathBuf], manifest_dir: &Path) -> Result<Walk, Failure> {
    let excluded: Vec<PathBuf> = excludes.iter().map(|e| root.join(e)).collect();
    let own = std::fs::canonicalize(manifest_dir).unwrap_or_else(|_| manifest_dir.to_path_buf());
    let foreign = |dir: &Path| {
        dir.join("flags.toml").is_file() && std::fs::canonicalize(dir).map_or(true, |d| d != own)
    };
    let mut files = Vec::new();
    let mut unreadable = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir == root => return Err(Failure::io("read the directory", root, &e)),
            Err(e) => {
                unreadable.push((dir, format!("cannot read the directory: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    unreadable.push((dir.clone(), format!("cannot read the directory: {e}")));
                    continue;
                }
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            if kind.is_dir() {
                if name.starts_with('.') || name == "target" || excluded.contains(&path) {
                    continue;
                }
                if foreign(&path) {
                    unreadable.push((
                        path,
                        "has its own flags.toml; scan it with --manifest pointing there".to_owned(),
                    ));
                    continue;
                }
                stack.push(path);
            } else if kind.is_file() && name.ends_with(".rs") && !excluded.contains(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    unreadable.sort();
    Ok((files, unreadable))
}

/// How many threads to use: `jobs` if given, else one per core.
pub fn threads(jobs: Option<usize>, files: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    jobs.unwrap_or(cores).clamp(1, files.max(1))
}

/// Scans every file, in parallel on `threads` threads; results are in `files` order.
pub fn scan_all(files: &[PathBuf], names: &Names, threads: usize) -> Vec<FileScan> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<FileScan> = vec![FileScan::default(); files.len()];
    let worker = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= files.len() {
                break done;
            }
            for (i, path) in files.iter().enumerate().skip(start).take(CHUNK) {
                done.push((i, scan_file(path, names)));
            }
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        for handle in handles {
            match handle.join() {
                Ok(done) => {
                    for (i, scan) in done {
                        results[i] = scan;
                    }
                }
                // `scan_file` catches panics per file, so a worker cannot panic.
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
    });
    results
}

fn scan_file(path: &Path, names: &Names) -> FileScan {
    let failed = |message: String| FileScan {
        error: Some((LineCol { line: 1, col: 1 }, message)),
        ..FileScan::default()
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return failed(format!("cannot read the file: {e}")),
    };
    let Ok(source) = std::str::from_utf8(&bytes) else {
        return failed("not UTF-8 text".to_owned());
    };
    // A parser bug on some odd file must not take the whole scan down.
    let scan = catch_unwind(AssertUnwindSafe(|| scan_source(source, names)))
        .unwrap_or_else(|_| failed("the Rust parser failed on this file".to_owned()));
    // Outside a proc macro, proc-macro2 keeps every parsed file's text in a
    // thread-local map so spans can report lines; positions are already extracted,
    // so drop it rather than let it grow with the whole tree.
    proc_macro2::extra::invalidate_current_thread_spans();
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_skips_target_hidden_and_excluded_dirs() {
        let root = std::env::temp_dir().join(format!("cargo-flags-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for dir in [
            "src/a",
            "target/debug",
            ".git",
            "src/target",
            "tests/ui",
            "other/src",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for file in [
            "src/main.rs",
            "src/a/b.rs",
            "src/a/notes.txt",
            "target/debug/gen.rs",
            ".git/x.rs",
            "src/target/y.rs",
            "tests/ui/bad.rs",
            "other/flags.toml",
            "other/src/lib.rs",
        ] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let (files, left_out) = rust_files(&root, &[PathBuf::from("tests/ui")], &root).unwrap();
        let rel: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        assert_eq!(rel, ["src/a/b.rs", "src/main.rs"]);
        assert_eq!(left_out.len(), 1);
        assert_eq!(left_out[0].0, root.join("other"));
        // Scanning for `other`'s own manifest from the same root includes it.
        let (files, _) = rust_files(&root, &[], &root.join("other")).unwrap();
        assert!(files.contains(&root.join("other/src/lib.rs")));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn thread_count_is_bounded_by_the_work() {
        assert_eq!(threads(Some(8), 3), 3);
        assert_eq!(threads(Some(0), 10), 1);
        assert_eq!(threads(Some(2), 0), 1);
    }
}
