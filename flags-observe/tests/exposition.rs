//! The exact exposition of small hand-written registries: every line a scrape
//! returns, and that it follows the registry's state from one scrape to the next.
//! Each test has a registry of its own, so that counters do not mix.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flags_observe::FlagMetrics;
use flags_observe::prometheus_client;
use flags_rollout::{Attribution, ManualClock, MemoryExposure, RolloutController, Timestamp};
use flags_runtime::__private::{Date, FastCell, Kind, Lifecycle, Registry};
use flags_runtime::manifest::{Criteria, RolloutPlan, Rules};
use flags_runtime::raw::IndexAccess;
use flags_runtime::{BoolFlag, FlagMeta, Layer, Outcome, Side, Source, SourceError, Update, Value};

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

#[test]
fn outcomes_by_side_with_their_latency_histogram() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");
    const SEARCH: BoolFlag = BoolFlag::new(&REGISTRY, 0);

    let ms = Duration::from_millis;
    REGISTRY.set_latency_buckets(&[ms(10), ms(100)]).unwrap();
    let metrics = FlagMetrics::new(&REGISTRY);
    // Not counted while counting is off.
    SEARCH.record_outcome(Side::Treatment, Outcome::ok(ms(1)));
    assert!(!metrics.encode().contains("flags_outcome"));

    REGISTRY.set_counting(true);
    SEARCH.record_outcome(Side::Treatment, Outcome::ok(ms(5)));
    SEARCH.record_outcome(Side::Treatment, Outcome::ok(ms(10)));
    SEARCH.record_outcome(Side::Treatment, Outcome::error(ms(50)));
    SEARCH.record_outcome(Side::Treatment, Outcome::error(ms(2500)));
    SEARCH.record_outcome(Side::Control, Outcome::ok(ms(250)));

    let text = metrics.encode();
    let outcomes: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("# HELP flags_outcomes"))
        .take_while(|l| !l.starts_with("# EOF"))
        .collect();
    // Only `new_search` recorded: `layout` has no series. Bucket counts are
    // cumulative, `le` is "at most" (10 ms falls in the 0.01 bucket).
    assert_eq!(
        outcomes.join("\n"),
        "\
# HELP flags_outcomes Recorded request outcomes by side (treatment: the flag was on; control: off) and result (ok or error).
# TYPE flags_outcomes counter
flags_outcomes_total{flag=\"new_search\",side=\"treatment\",result=\"ok\"} 2
flags_outcomes_total{flag=\"new_search\",side=\"treatment\",result=\"error\"} 2
flags_outcomes_total{flag=\"new_search\",side=\"control\",result=\"ok\"} 1
flags_outcomes_total{flag=\"new_search\",side=\"control\",result=\"error\"} 0
# HELP flags_outcome_duration_seconds Latency of the recorded requests by side, in seconds.
# TYPE flags_outcome_duration_seconds histogram
# UNIT flags_outcome_duration_seconds seconds
flags_outcome_duration_seconds_sum{flag=\"new_search\",side=\"treatment\"} 2.565
flags_outcome_duration_seconds_count{flag=\"new_search\",side=\"treatment\"} 4
flags_outcome_duration_seconds_bucket{le=\"0.01\",flag=\"new_search\",side=\"treatment\"} 2
flags_outcome_duration_seconds_bucket{le=\"0.1\",flag=\"new_search\",side=\"treatment\"} 3
flags_outcome_duration_seconds_bucket{le=\"+Inf\",flag=\"new_search\",side=\"treatment\"} 4
flags_outcome_duration_seconds_sum{flag=\"new_search\",side=\"control\"} 0.25
flags_outcome_duration_seconds_count{flag=\"new_search\",side=\"control\"} 1
flags_outcome_duration_seconds_bucket{le=\"0.01\",flag=\"new_search\",side=\"control\"} 0
flags_outcome_duration_seconds_bucket{le=\"0.1\",flag=\"new_search\",side=\"control\"} 0
flags_outcome_duration_seconds_bucket{le=\"+Inf\",flag=\"new_search\",side=\"control\"} 1"
    );

    // The classic text format carries the same samples.
    let classic = metrics.encode_prometheus_text();
    for line in [
        "# TYPE flags_outcomes_total counter",
        "flags_outcomes_total{flag=\"new_search\",side=\"treatment\",result=\"error\"} 2",
        "flags_outcome_duration_seconds_bucket{flag=\"new_search\",side=\"control\",le=\"+Inf\"} 1",
        "# TYPE flags_info gauge",
    ] {
        assert!(
            classic.lines().any(|l| l == line),
            "no {line:?} in\n{classic}"
        );
    }
}

/// A remote source that serves the queued answers, one per poll.
struct Scripted(Vec<Result<Option<Update>, SourceError>>);

impl Source for Scripted {
    fn name(&self) -> &str {
        "https://flags.example/api"
    }
    fn layer(&self) -> Layer {
        Layer::Remote
    }
    fn poll(&mut self, _: &Registry) -> Result<Option<Update>, SourceError> {
        self.0.remove(0)
    }
}

#[test]
fn each_source_reports_its_health() {
    static META: [FlagMeta; 2] = [NEW_SEARCH, LAYOUT];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

    let metrics = FlagMetrics::new(&REGISTRY);
    assert!(!metrics.encode().contains("flags_source"));

    let on = Rules {
        value: Some(Value::Bool(true)),
        ..Rules::default()
    };
    let before = SystemTime::now();
    let mut source = Scripted(vec![
        Ok(Some(Update::new(vec![(0, on)]).with_revision("\"etag-7\""))),
        Ok(None),
        Err(SourceError::new("https://flags.example/api", "HTTP 503")),
        Err(SourceError::new("https://flags.example/api", "HTTP 503")),
    ]);
    for _ in 0..4 {
        let _ = REGISTRY.apply(&mut source);
    }
    let after = SystemTime::now();

    let text = metrics.encode();
    let labels = "{layer=\"remote\",origin=\"https://flags.example/api\"}";
    assert_eq!(
        samples(&text, "flags_source_updates_total"),
        [format!("flags_source_updates_total{labels} 1")]
    );
    assert_eq!(
        samples(&text, "flags_source_failures_total"),
        [format!("flags_source_failures_total{labels} 2")]
    );
    assert_eq!(
        samples(&text, "flags_source_consecutive_failures"),
        [format!("flags_source_consecutive_failures{labels} 2")]
    );
    // The ETag's quotes are escaped in the label value.
    assert_eq!(
        samples(&text, "flags_source_revision_info"),
        [
            "flags_source_revision_info{layer=\"remote\",origin=\"https://flags.example/api\",revision=\"\\\"etag-7\\\"\"} 1"
        ]
    );
    assert_eq!(
        samples(&text, "flags_update_errors_total"),
        ["flags_update_errors_total 2"]
    );
    let epoch = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    for family in [
        "flags_source_last_success_timestamp_seconds",
        "flags_source_last_failure_timestamp_seconds",
    ] {
        let lines = samples(&text, family);
        assert_eq!(lines.len(), 1, "{text}");
        let (series, value) = lines[0].rsplit_once(' ').unwrap();
        assert_eq!(series, format!("{family}{labels}"));
        let at: f64 = value.parse().unwrap();
        assert!(
            (epoch(before) - 0.001..=epoch(after) + 0.001).contains(&at),
            "{family}: {at} not between {before:?} and {after:?}"
        );
    }
    assert!(text.contains(
        "# TYPE flags_source_last_success_timestamp_seconds gauge\n\
         # UNIT flags_source_last_success_timestamp_seconds seconds\n"
    ));
}
