//! The runner checks that each combination it claims is the one the program saw: the
//! command here is this test binary itself, reading its flags through the real runtime.
//! The runner is given a manifest without the program's `excludes` (a stale copy), so
//! it plans `design_a=on, design_b=on`, which the program cannot realise.
#![cfg(unix)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use flags_runner::{self as runner, Interrupt, Mode, Outcome, RunOptions};

flags_runtime::flags!("tests/realise.toml");

/// The runner's manifest: the same flags, without their exclusions.
const STALE: &str = r#"
[flags.design_a]
description = "One design"
owner = "ui"
kind = "ops"

[flags.design_b]
description = "The other design"
owner = "ui"
kind = "ops"
"#;

/// Set for the child runs: the test then only reads its flags and prints them.
const CHILD: &str = "FLAGS_TEST_REALISE_CHILD";

#[test]
fn a_combination_the_program_cannot_realise_is_never_reported_as_passed() {
    if std::env::var_os(CHILD).is_some() {
        // A child run: read the flags as any program would, and pass.
        println!(
            "saw design_a={} design_b={}",
            flags::design_a(),
            flags::design_b()
        );
        return;
    }
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "realise-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("flags.toml"), STALE).unwrap();
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "{CHILD}=1 exec '{}' --exact a_combination_the_program_cannot_realise_is_never_reported_as_passed --nocapture",
        exe.display()
    );
    let mut opts = RunOptions::new(dir.join("flags.toml"), ["sh", "-c", script.as_str()]);
    opts.plan.mode = Mode::Exhaustive;
    opts.plan.pins = Vec::new();
    opts.work_dir = Some(dir.clone());
    opts.log_dir = Some(dir.join("logs"));
    let mut out = Vec::new();
    let report = runner::run_with(&opts, &Interrupt::new(), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();

    let outcomes: Vec<(&str, &Outcome)> = report
        .results
        .iter()
        .map(|r| (r.combination.label.as_str(), &r.outcome))
        .collect();
    let unrealised = vec![
        "tests/realise.toml: flag `design_a` was set to on but is off (it excludes `design_b`, which is set too)".to_owned(),
        "tests/realise.toml: flag `design_b` was set to on but is off (it excludes `design_a`, which is set too)".to_owned(),
    ];
    assert_eq!(
        outcomes,
        [
            ("design_a=off, design_b=off", &Outcome::Passed),
            ("design_a=off, design_b=on", &Outcome::Passed),
            ("design_a=on, design_b=off", &Outcome::Passed),
            (
                "design_a=on, design_b=on",
                &Outcome::NotRealisable { unrealised }
            ),
        ],
        "{out}"
    );
    assert!(!report.success());
    assert_eq!(report.exit_code(), 1);
    assert!(
        out.contains("4 combinations (exhaustive over 2 flags): 3 passed, 1 not realisable in "),
        "{out}"
    );
    // The program really saw each realisable combination.
    for (label, seen) in [
        (
            "design_a=off, design_b=on",
            "saw design_a=false design_b=true",
        ),
        (
            "design_a=on, design_b=off",
            "saw design_a=true design_b=false",
        ),
        (
            "design_a=on, design_b=on",
            "saw design_a=false design_b=false",
        ),
    ] {
        let log = report.result(label).unwrap().log.clone().unwrap();
        let log = std::fs::read_to_string(log).unwrap();
        assert!(log.contains(seen), "log of {label}:\n{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
