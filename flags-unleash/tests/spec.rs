//! Unleash's client specification, every case, through the same mapping as the live
//! source and the runtime's evaluator ([`Toggles`]).
//!
//! The specification is the npm package `@unleash/client-specification` (6.1.0); it is
//! not copied into this repository. `scripts/unleash-spec.sh` installs it into a cache
//! outside the repository and prints `export TEST_UNLEASH_SPEC=<dir>`. Without that
//! variable these tests print "skipped: ..." with that command and pass, unless
//! `TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`) makes them mandatory.
//!
//! Every file of the specification runs; none is left out:
//!
//! | file | left out | reason |
//! |---|---|---|
//! | 01–18, 21, 22 | nothing | every case runs through `Toggles` (the live mapping) |
//! | 19, 20 (delta API) | nothing | the events are applied with `ClientFeatures::apply_delta`; the live source polls `/api/client/features`, not the delta endpoint |

use std::path::{Path, PathBuf};

use flags_unleash::{ClientFeatures, DeltaEvent, Payload, Toggles, UnleashContext};
use serde::Deserialize;

/// The spec's `specifications` folder; `None` (after saying how to get it) when
/// `TEST_UNLEASH_SPEC` is unset and the spec is not required. A variable that names no
/// specification is a failure.
fn spec_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(flags_test_support::service::from_env(
        "TEST_UNLEASH_SPEC",
        "Unleash's client specification",
        "`eval \"$(scripts/unleash-spec.sh)\"` from the workspace root (it installs npm \
         @unleash/client-specification 6.1.0 into ${TEST_CACHE_DIR:-$HOME/.cache/flags}/unleash-spec \
         and prints the export)",
    )?);
    for candidate in [dir.clone(), dir.join("specifications")] {
        if candidate.join("index.json").is_file() {
            return Some(candidate);
        }
    }
    panic!(
        "TEST_UNLEASH_SPEC={} has no index.json (nor specifications/index.json): re-run \
         scripts/unleash-spec.sh",
        dir.display()
    );
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecFile {
    name: String,
    state: serde_json::Value,
    #[serde(default)]
    tests: Vec<Case<bool>>,
    #[serde(default)]
    variant_tests: Vec<Case<ExpectedVariant>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case<T> {
    description: String,
    context: UnleashContext,
    toggle_name: String,
    expected_result: T,
}

#[derive(Debug, Deserialize, PartialEq)]
struct ExpectedVariant {
    name: String,
    payload: Option<Payload>,
    enabled: bool,
    feature_enabled: bool,
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The state of a spec file: a payload, or delta events applied to an empty one.
fn state(value: &serde_json::Value, file: &str) -> ClientFeatures {
    let bytes = value.to_string().into_bytes();
    if value.get("events").is_some() {
        let events =
            DeltaEvent::parse_events(&bytes).unwrap_or_else(|e| panic!("{file}: events: {e}"));
        let mut state = ClientFeatures::default();
        state
            .apply_delta(&events)
            .unwrap_or_else(|e| panic!("{file}: delta: {e}"));
        state
    } else {
        ClientFeatures::parse(&bytes).unwrap_or_else(|e| panic!("{file}: state: {e}"))
    }
}

/// Runs every case of spec file `prefix-*.json` in `dir`; returns (passed, total)
/// after asserting that all passed.
fn run(dir: &Path, prefix: &str) -> (usize, usize) {
    let file = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with(&format!("{prefix}-")) && n.ends_with(".json"))
        .unwrap_or_else(|| panic!("no spec file {prefix}-*.json in {}", dir.display()));
    let spec: SpecFile =
        serde_json::from_slice(&read(&dir.join(&file))).unwrap_or_else(|e| panic!("{file}: {e}"));
    let toggles =
        Toggles::new(&state(&spec.state, &file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut failures = Vec::new();
    let total = spec.tests.len() + spec.variant_tests.len();
    for case in &spec.tests {
        let got = toggles.is_enabled(&case.toggle_name, &case.context.to_context());
        if got != case.expected_result {
            failures.push(format!(
                "  isEnabled {} ({}): expected {}, got {got}",
                case.toggle_name, case.description, case.expected_result
            ));
        }
    }
    for case in &spec.variant_tests {
        let v = toggles.variant(&case.toggle_name, &case.context.to_context());
        let got = ExpectedVariant {
            name: v.name,
            payload: v.payload,
            enabled: v.enabled,
            feature_enabled: v.feature_enabled,
        };
        if got != case.expected_result {
            failures.push(format!(
                "  getVariant {} ({}): expected {:?}, got {got:?}",
                case.toggle_name, case.description, case.expected_result
            ));
        }
    }
    let passed = total - failures.len();
    println!("{file} ({}): {passed}/{total} passed", spec.name);
    assert!(
        failures.is_empty(),
        "{file}: {} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 0, "{file}: no cases");
    (passed, total)
}

macro_rules! spec_files {
    ($($test:ident => $prefix:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                if let Some(dir) = spec_dir() {
                    run(&dir, $prefix);
                }
            }
        )*

        /// Every file the spec's index lists is run above.
        #[test]
        fn every_spec_file_is_run() {
            let Some(dir) = spec_dir() else { return };
            let index: Vec<String> = serde_json::from_slice(&read(&dir.join("index.json")))
                .unwrap_or_else(|e| panic!("index.json: {e}"));
            let ours = [$($prefix),*];
            let missing: Vec<&String> = index
                .iter()
                .filter(|f| !ours.iter().any(|p| f.starts_with(&format!("{p}-"))))
                .collect();
            assert!(missing.is_empty(), "spec files not run: {missing:?}");
            assert_eq!(index.len(), ours.len(), "{index:?}");
            // Every case of every file, all passing: 279 in specification 6.1.0.
            let (passed, total) = ours
                .iter()
                .map(|p| run(&dir, p))
                .fold((0, 0), |(p, t), (p1, t1)| (p + p1, t + t1));
            assert_eq!((passed, total), (279, 279));
        }
    };
}

spec_files! {
    s01_simple_examples => "01",
    s02_user_with_id => "02",
    s03_gradual_rollout_user_id => "03",
    s04_gradual_rollout_session_id => "04",
    s05_gradual_rollout_random => "05",
    s06_remote_address => "06",
    s07_multiple_strategies => "07",
    s08_variants => "08",
    s09_strategy_constraints => "09",
    s10_flexible_rollout => "10",
    s11_constraint_edge_cases => "11",
    s12_custom_stickiness => "12",
    s13_constraint_operators => "13",
    s14_semver_operators => "14",
    s15_global_segments => "15",
    s16_strategy_variants => "16",
    s17_dependent_features => "17",
    s18_utf8_flag_names => "18",
    s19_delta_hydration => "19",
    s20_delta_events => "20",
    s21_regex_operator => "21",
    s22_cidr_operator => "22",
}
