//! Evaluation through this source costs what it costs through a local rule file: both
//! feed the same snapshot path. Side by side: the floor (one relaxed atomic load), a
//! sticky 50% `flexibleRollout` fed by the Unleash source and the same rollout fed by a
//! rule file, and a flag on for everyone (the fast cell) fed both ways; last, both
//! with evaluation counting on, as while usage metrics are sent.
//!
//! The Unleash registry is fed through the real `UnleashSource` (server unreachable on
//! loopback, so its backup file serves the payload); setup checks that both registries
//! give every one of 10 000 users the same answer.

use flags_runtime::raw::IndexAccess;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use divan::{Bencher, black_box};
use flags_runtime::{Context, FileSource, Layer};
use flags_unleash::{Origin, UnleashConfig, UnleashSource};

mod unleash_fed {
    flags_runtime::flags!(pub mod flags = "benches/bench_flags.toml");
}
mod file_fed {
    flags_runtime::flags!(pub mod flags = "benches/bench_flags.toml");
}
mod counted_fed {
    flags_runtime::flags!(pub mod flags = "benches/bench_flags.toml");
}
use counted_fed::flags as counted;
use file_fed::flags as file;
use unleash_fed::flags as remote;

const PAYLOAD: &str = r#"{"version":2,"features":[
  {"name":"rollout_flag","enabled":true,"strategies":[{"name":"flexibleRollout",
   "parameters":{"rollout":"50","stickiness":"default","groupId":"rollout_flag"}}]},
  {"name":"everyone","enabled":true,"strategies":[{"name":"default"}]}]}"#;

const RULES: &str = r#"
[flags.rollout_flag]
[[flags.rollout_flag.strategies]]
type = "rollout"
percent = 50

[flags.everyone]
value = true
"#;

fn main() {
    let dir = std::env::temp_dir().join(format!("flags-unleash-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let backup = dir.join("unleash.json");
    std::fs::write(&backup, PAYLOAD).unwrap_or_else(|e| panic!("{e}"));
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, RULES).unwrap_or_else(|e| panic!("{e}"));

    // Nothing listens on port 9 of loopback: the source serves its backup file.
    let config = UnleashConfig::new("http://127.0.0.1:9", "bench")
        .backup_file(&backup)
        .metrics_interval(None)
        .timeout(Duration::from_secs(2));
    let mut source = UnleashSource::new(config).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(remote::REGISTRY.apply(&mut source), Ok(true));
    assert_eq!(
        source.status().get().origin,
        Some(Origin::Backup(backup.clone()))
    );
    assert_eq!(file::REGISTRY.apply(&mut FileSource::new(&rules)), Ok(true));
    // As `flags_unleash::start` leaves a registry while it sends usage metrics.
    let mut source = UnleashSource::new(
        UnleashConfig::new("http://127.0.0.1:9", "bench")
            .backup_file(&backup)
            .timeout(Duration::from_secs(2)),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counted::REGISTRY.apply(&mut source), Ok(true));
    counted::REGISTRY.set_counting(true);

    let mut on = 0;
    for i in 0..10_000 {
        let ctx = Context::with_key(format!("user-{i}"));
        let (a, b) = (
            remote::ROLLOUT_FLAG.get_for(&ctx),
            file::ROLLOUT_FLAG.get_for(&ctx),
        );
        assert_eq!(a, b, "user-{i}");
        on += usize::from(a);
    }
    assert!(
        (4_500..5_500).contains(&on),
        "{on} of 10000 in a 50% rollout"
    );
    let ctx = Context::new();
    assert_eq!(remote::ROLLOUT_FLAG.explain(&ctx).layer, Layer::Remote);
    assert_eq!(file::ROLLOUT_FLAG.explain(&ctx).layer, Layer::File);
    assert_eq!(remote::REGISTRY.fast_value(1), file::REGISTRY.fast_value(1));
    assert!(
        remote::REGISTRY.fast_value(1).is_some(),
        "served from the fast cell"
    );
    let _ = std::fs::remove_dir_all(&dir);

    let warm = Context::with_key("warm-up");
    for _ in 0..1000 {
        black_box(remote::ROLLOUT_FLAG.get_for(&warm));
        black_box(file::ROLLOUT_FLAG.get_for(&warm));
        black_box(counted::ROLLOUT_FLAG.get_for(&warm));
    }
    divan::main();
}

static FLOOR: AtomicBool = AtomicBool::new(false);

/// The floor: one relaxed load of an atomic bool.
#[divan::bench]
fn a_floor_atomic_bool_load() -> bool {
    black_box(&FLOOR).load(Ordering::Relaxed)
}

/// On for everyone, from the Unleash payload: the fast cell.
#[divan::bench]
fn b_everyone_unleash_source() -> bool {
    black_box(remote::EVERYONE).get()
}

/// On for everyone, from the rule file: the fast cell.
#[divan::bench]
fn c_everyone_rule_file() -> bool {
    black_box(file::EVERYONE).get()
}

/// A sticky 50% `flexibleRollout` from the Unleash payload, one user.
#[divan::bench(sample_size = 1024)]
fn d_rollout_unleash_source(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(remote::ROLLOUT_FLAG).get_for(black_box(&ctx)));
}

/// The same rollout from the rule file, one user.
#[divan::bench(sample_size = 1024)]
fn e_rollout_rule_file(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(file::ROLLOUT_FLAG).get_for(black_box(&ctx)));
}

/// The rollout from the Unleash payload over 1024 users in turn.
#[divan::bench(sample_size = 1024)]
fn f_rollout_unleash_source_many_users(bencher: Bencher) {
    let users: Vec<Context> = (0..1024)
        .map(|i| Context::with_key(format!("u-{i}")))
        .collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) & 1023;
        black_box(remote::ROLLOUT_FLAG).get_for(black_box(&users[i]))
    });
}

/// The rollout from the rule file over 1024 users in turn.
#[divan::bench(sample_size = 1024)]
fn g_rollout_rule_file_many_users(bencher: Bencher) {
    let users: Vec<Context> = (0..1024)
        .map(|i| Context::with_key(format!("u-{i}")))
        .collect();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) & 1023;
        black_box(file::ROLLOUT_FLAG).get_for(black_box(&users[i]))
    });
}

/// On for everyone, from the Unleash payload, counting on (usage metrics).
#[divan::bench]
fn h_everyone_unleash_source_counting() -> bool {
    black_box(counted::EVERYONE).get()
}

/// The rollout from the Unleash payload, one user, counting on (usage metrics).
#[divan::bench(sample_size = 1024)]
fn i_rollout_unleash_source_counting(bencher: Bencher) {
    let ctx = Context::with_key("user-12345");
    bencher.bench_local(|| black_box(counted::ROLLOUT_FLAG).get_for(black_box(&ctx)));
}
