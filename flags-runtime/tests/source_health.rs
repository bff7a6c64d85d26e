//! Source health follows what the sources actually reached: a rule file that goes
//! missing stays failing while the source only repeats "nothing new" (it reported the
//! problem once), and is healthy again when the file returns.

// Needs the `rule-files` feature: it reads rule files.
#![cfg(feature = "rule-files")]

mod common;

use std::time::Duration;

use flags_runtime::{FileSource, Layer};
use flags_test_support::scratch::ScratchDir;

test_registry!(reg);

#[test]
fn a_missing_file_stays_failing_until_it_returns() {
    let dir = ScratchDir::new("source-health");
    let path = dir.join("rules.toml");
    std::fs::write(&path, "[flags.search_v2]\nvalue = true\n").unwrap();
    let mut source = FileSource::new(&path).settle(Duration::ZERO);
    let poll = |source: &mut FileSource| {
        let _ = reg::REGISTRY.apply(source);
        reg::REGISTRY
            .source_health()
            .into_iter()
            .find(|h| h.layer == Layer::File)
            .expect("the file source's health")
    };
    // Settling may take a poll or two: poll until the file is applied.
    let mut health = poll(&mut source);
    for _ in 0..10 {
        if health.updates > 0 {
            break;
        }
        health = poll(&mut source);
    }
    assert_eq!(health.updates, 1, "{health:?}");
    assert!(!health.is_failing());

    std::fs::remove_file(&path).unwrap();
    let mut health = poll(&mut source);
    for _ in 0..10 {
        if health.is_failing() {
            break;
        }
        health = poll(&mut source);
    }
    assert!(
        health.is_failing(),
        "the missing file is reported: {health:?}"
    );
    let reported = health.failures;
    // Later polls say nothing new; the source is still failing, not healthy.
    for _ in 0..5 {
        let again = poll(&mut source);
        assert!(again.is_failing(), "still failing: {again:?}");
        assert!(again.last_error.is_some());
        assert_eq!(again.failures, reported, "reported once");
    }

    std::fs::write(&path, "[flags.search_v2]\nvalue = true\n").unwrap();
    let mut health = poll(&mut source);
    for _ in 0..10 {
        if !health.is_failing() {
            break;
        }
        health = poll(&mut source);
    }
    assert!(!health.is_failing(), "healthy again: {health:?}");
}
