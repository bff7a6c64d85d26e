//! A rule file is hot-reloaded: good → bad → good. The bad version is rejected whole
//! and reported once (tracing + the registry's error counter) while the last good
//! rules stay; the next good version is picked up at the next poll.

// Needs the `rule-files` feature: it watches rule files.
#![cfg(feature = "rule-files")]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::Layout;
use flags_runtime::{Context, Layer, Reason};
use flags_test_support::wait::wait_until;

test_registry!(reg);
test_registry!(missing);

const INTERVAL: Duration = Duration::from_millis(50);

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("flags-runtime-{}-{name}.toml", std::process::id()))
}

/// Replaces the file atomically, so the watcher never reads half a file.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename: {e}"));
}

#[test]
fn good_bad_good() {
    let path = temp_path("good-bad-good");
    write(
        &path,
        "[flags.layout]\nvalue = \"compact\"\n\n[flags.search_v2]\nvalue = true\n",
    );
    let watch = reg::REGISTRY.watch_file_every(&path, INTERVAL);
    assert!(watch.is_running());
    // The first load happens before `watch_file_every` returns.
    assert_eq!(reg::LAYOUT.get(), Layout::Compact);
    assert!(reg::SEARCH_V2.get());
    assert_eq!(reg::REGISTRY.error_count(), 0);
    let d = reg::LAYOUT.explain(&Context::new());
    assert_eq!((d.reason, d.layer), (Reason::Fixed, Layer::File));
    let generation = reg::REGISTRY.generation();

    // Bad: an unknown variant. Rejected whole: search_v2 (valid on its own) does not
    // change either.
    write(
        &path,
        "[flags.layout]\nvalue = \"tiny\"\n\n[flags.search_v2]\nvalue = false\n",
    );
    wait_until("the bad file to be reported", || {
        reg::REGISTRY.error_count() == 1
    });
    // Several more polls: still reported once, last good state in force.
    let polled = watch.polls();
    wait_until("six more polls of the bad file", || {
        watch.polls() >= polled + 6
    });
    assert_eq!(reg::REGISTRY.error_count(), 1);
    assert_eq!(reg::LAYOUT.get(), Layout::Compact);
    assert!(reg::SEARCH_V2.get());
    assert_eq!(reg::REGISTRY.generation(), generation);

    // Good again, with new content.
    write(&path, "[flags.layout]\nvalue = \"wide\"\n");
    let took = wait_until("the new good file", || reg::LAYOUT.get() == Layout::Wide);
    eprintln!("new good file picked up after {took:?} (interval {INTERVAL:?})");
    // search_v2 is no longer in the file: back to its manifest default.
    assert!(!reg::SEARCH_V2.get());
    assert_eq!(reg::REGISTRY.error_count(), 1);

    // Missing file: rejected, reported once, last good stays.
    let _ = std::fs::remove_file(&path);
    wait_until("the missing file to be reported", || {
        reg::REGISTRY.error_count() == 2
    });
    let polled = watch.polls();
    wait_until("four more polls of the missing file", || {
        watch.polls() >= polled + 4
    });
    assert_eq!(reg::REGISTRY.error_count(), 2);
    assert_eq!(reg::LAYOUT.get(), Layout::Wide);

    // After the watch is stopped, changes are no longer picked up: `stop` has joined
    // the polling thread, so nothing can read the file any more.
    watch.stop();
    write(&path, "[flags.layout]\nvalue = \"classic\"\n");
    assert_eq!(reg::LAYOUT.get(), Layout::Wide);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn missing_at_start_then_created() {
    let path = temp_path("missing-at-start");
    let _ = std::fs::remove_file(&path);
    let _watch = missing::REGISTRY.watch_file_every(&path, INTERVAL);
    assert_eq!(missing::REGISTRY.error_count(), 1);
    assert_eq!(missing::LAYOUT.get(), Layout::Classic);
    write(&path, "[flags.layout]\nvalue = \"wide\"\n");
    wait_until("the created file", || missing::LAYOUT.get() == Layout::Wide);
    assert_eq!(missing::REGISTRY.error_count(), 1);
    let _ = std::fs::remove_file(&path);
}
