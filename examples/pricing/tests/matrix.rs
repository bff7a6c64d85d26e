//! The bug is invisible with the default flags and in most combinations; the matrix
//! finds it and names the one combination that shows it, in process and as a CI run.

use flags_runner::{self as runner, Interrupt, Mode, RunOptions};

#[test]
fn the_default_flags_hide_the_bug() {
    assert_eq!(pricing::check(), Ok(()));
}

#[flags_test::matrix(exhaustive, registry = pricing::flags::REGISTRY)]
#[test]
#[should_panic(
    expected = "2 of 12 flag combinations failed:\n  fast_tax=on, currency=jpy, round_up=off: panicked"
)]
fn the_matrix_catches_it_in_process() {
    pricing::check().unwrap();
}

#[test]
fn the_runner_report_shows_it() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/flags.toml");
    let mut opts = RunOptions::new(manifest, [env!("CARGO_BIN_EXE_pricing")]);
    opts.plan.mode = Mode::Pairwise;
    opts.plan.pins.clear();
    let logs = std::env::temp_dir().join(format!("pricing-matrix-{}", std::process::id()));
    opts.log_dir = Some(logs.clone());
    opts.junit = Some(logs.join("junit.xml"));
    let mut out = Vec::new();
    let report = runner::run_with(&opts, &Interrupt::new(), &mut out).unwrap();
    let table = String::from_utf8(out).unwrap();
    println!("{table}");
    assert!(!report.success());
    assert_eq!(report.exit_code(), 1);
    let failed: Vec<_> = report
        .failures()
        .map(|r| r.combination.label.clone())
        .collect();
    // Pairwise includes the pair (fast_tax=on, currency=jpy); only rows with it fail.
    assert!(!failed.is_empty(), "{table}");
    assert!(
        failed
            .iter()
            .all(|l| l.starts_with("fast_tax=on, currency=jpy")),
        "only the yen + new engine combination fails: {failed:?}"
    );
    assert!(table.contains("fast_tax=on, currency=jpy"), "{table}");
    let junit = std::fs::read_to_string(logs.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    let _ = std::fs::remove_dir_all(&logs);
}
