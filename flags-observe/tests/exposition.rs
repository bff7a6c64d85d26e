//! The exact exposition of small hand-written registries: every line a scrape
//! returns, and that it follows the registry's state from one scrape to the next.
//! Each test has a registry of its own, so that counters do not mix.

use std::sync::Arc;
use std::time::Duration;

use flags_observe::FlagMetrics;
use flags_observe::prometheus_client;
use flags_rollout::{Attribution, ManualClock, MemoryExposure, RolloutController, Timestamp};
use flags_runtime::__private::{Date, FastCell, Kind, Lifecycle, Registry};
use flags_runtime::manifest::{Criteria, RolloutPlan};
use flags_runtime::raw::IndexAccess;
use flags_runtime::{BoolFlag, FlagMeta, Value};

const MANIFEST: &str = r#"
[flags.new_search]
description = "New search ranking"
owner = "search-team"
kind = "release"
expires = 2099-12-31

[flags.layout]
description = "Page layout"
owner = "web"
kind = "permission"
lifecycle = "deprecated"
variants = ["classic", "compact"]
default = "classic"
"#;

const NEW_SEARCH: FlagMeta = FlagMeta {
    owner: "search-team",
    kind: Kind::Release,
    expires: Some(Date::ymd(2099, 12, 31)),
    ..FlagMeta::bare("new_search", 0, &[])
};
const LAYOUT: FlagMeta = FlagMeta {
    owner: "web",
    kind: Kind::Permission,
    lifecycle: Lifecycle::Deprecated,
    ..FlagMeta::bare("layout", 1, &["classic", "compact"])
};

/// The lines of `text` that are samples of `family` (names starting with it).
fn samples<'t>(text: &'t str, family: &str) -> Vec<&'t str> {
    text.lines().filter(|l| l.starts_with(family)).collect()
}

#[test]
fn a_registry_exposes_its_flags_evaluations_and_errors() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");
    const SEARCH: BoolFlag = BoolFlag::new(&REGISTRY, 0);

    let metrics = FlagMetrics::new(&REGISTRY);
    REGISTRY.set_counting(true);
    for _ in 0..3 {
        assert!(!SEARCH.get());
    }
    REGISTRY.set_override_value(0, Value::Bool(true)).unwrap();
    assert!(SEARCH.get());
    for _ in 0..2 {
        assert_eq!(REGISTRY.value(1), Value::Variant(0));
    }
    assert_eq!(
        metrics.encode(),
        "\
# HELP flags Each flag as declared in the manifest: owner, kind, expiry date (empty when none) and lifecycle.
# TYPE flags info
flags_info{flag=\"new_search\",owner=\"search-team\",kind=\"release\",expires=\"2099-12-31\",lifecycle=\"active\"} 1
flags_info{flag=\"layout\",owner=\"web\",kind=\"permission\",expires=\"\",lifecycle=\"deprecated\"} 1
# HELP flags_evaluations Evaluations of each flag by the value they gave (counted while counting is on).
# TYPE flags_evaluations counter
flags_evaluations_total{flag=\"new_search\",value=\"off\"} 3
flags_evaluations_total{flag=\"new_search\",value=\"on\"} 1
flags_evaluations_total{flag=\"layout\",value=\"classic\"} 2
flags_evaluations_total{flag=\"layout\",value=\"compact\"} 0
# HELP flags_counting_enabled 1 while evaluations and outcomes are counted (Registry::set_counting), else 0.
# TYPE flags_counting_enabled gauge
flags_counting_enabled 1
# HELP flags_update_errors Refused updates and skipped values (bad environment values, invalid rule files, refused remote payloads) since start.
# TYPE flags_update_errors counter
flags_update_errors_total 0
# EOF
"
    );

    // The next scrape reads the state anew: counting off, a refused update counted.
    REGISTRY.set_counting(false);
    let _ = SEARCH.get();
    assert!(REGISTRY.set_override_value(7, Value::Bool(true)).is_err());
    let text = metrics.encode();
    assert_eq!(
        samples(&text, "flags_counting_enabled"),
        ["flags_counting_enabled 0"]
    );
    assert_eq!(
        samples(&text, "flags_evaluations_total{flag=\"new_search\""),
        [
            "flags_evaluations_total{flag=\"new_search\",value=\"off\"} 3",
            "flags_evaluations_total{flag=\"new_search\",value=\"on\"} 1",
        ]
    );
}

#[test]
fn a_controller_adds_each_rollouts_position() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

    let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_250));
    let controller = RolloutController::builder(Arc::new(MemoryExposure::default()))
        .clock(clock.clone())
        .build()
        .unwrap();
    let plan = RolloutPlan {
        stages: vec![10, 50, 100],
        soak: Duration::from_secs(60),
        min_samples: 50,
        criteria: Criteria::default(),
    };
    controller.register("new_search", plan).unwrap();
    let metrics = FlagMetrics::new(&REGISTRY).with_controller(controller.clone());

    let text = metrics.encode();
    let rollout: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("flags_rollout"))
        .collect();
    assert_eq!(
        rollout.join("\n"),
        "\
# HELP flags_rollout_percent Share of keys the guarded rollout exposes the flag to, in percent (0 after a rollback).
# TYPE flags_rollout_percent gauge
flags_rollout_percent{flag=\"new_search\"} 10
# HELP flags_rollout_stage The rollout's stage, counted from 1 (after a rollback: the stage it was rolled back from).
# TYPE flags_rollout_stage gauge
flags_rollout_stage{flag=\"new_search\"} 1
# HELP flags_rollout_status 1 for the rollout's current status (running, paused, rolled_back, completed), 0 for the others.
# TYPE flags_rollout_status gauge
flags_rollout_status{flag=\"new_search\",status=\"running\"} 1
flags_rollout_status{flag=\"new_search\",status=\"paused\"} 0
flags_rollout_status{flag=\"new_search\",status=\"rolled_back\"} 0
flags_rollout_status{flag=\"new_search\",status=\"completed\"} 0
# HELP flags_rollout_changed_timestamp_seconds When the rollout's current stage, pause, rollback or completion began, in seconds since the Unix epoch.
# TYPE flags_rollout_changed_timestamp_seconds gauge
# UNIT flags_rollout_changed_timestamp_seconds seconds
flags_rollout_changed_timestamp_seconds{flag=\"new_search\"} 1700000000.25
# HELP flags_rollout_held 1 while the controller holds the rollout (its saved state is invalid: not driven until rolled back), else 0.
# TYPE flags_rollout_held gauge
flags_rollout_held{flag=\"new_search\"} 0
# EOF"
    );

    clock.advance(Duration::from_secs(5));
    controller
        .rollback("new_search", Attribution::by("alice").because("errors"))
        .unwrap();
    let text = metrics.encode();
    assert_eq!(
        samples(&text, "flags_rollout_percent"),
        ["flags_rollout_percent{flag=\"new_search\"} 0"]
    );
    assert_eq!(
        samples(
            &text,
            "flags_rollout_status{flag=\"new_search\",status=\"rolled_back\"}"
        ),
        ["flags_rollout_status{flag=\"new_search\",status=\"rolled_back\"} 1"]
    );
    assert_eq!(
        samples(&text, "flags_rollout_changed_timestamp_seconds"),
        ["flags_rollout_changed_timestamp_seconds{flag=\"new_search\"} 1700000005.25"]
    );
}

#[test]
fn without_a_controller_there_are_no_rollout_families() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");
    let text = FlagMetrics::new(&REGISTRY).encode();
    assert!(!text.contains("flags_rollout"), "{text}");
}

#[test]
fn registered_metrics_take_the_applications_prefix_and_labels() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

    let mut metrics = prometheus_client::registry::Registry::with_prefix("shop");
    let app: prometheus_client::metrics::counter::Counter =
        prometheus_client::metrics::counter::Counter::default();
    metrics.register("orders", "Orders taken", app.clone());
    app.inc();
    FlagMetrics::new(&REGISTRY)
        .register(metrics.sub_registry_with_label(("service".into(), "checkout".into())));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &metrics).unwrap();
    assert!(text.contains("\nshop_orders_total 1\n"), "{text}");
    assert!(
        text.contains("\nshop_flags_update_errors_total{service=\"checkout\"} 0\n"),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}
