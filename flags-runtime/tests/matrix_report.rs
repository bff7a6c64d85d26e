//! With `FLAGS_MATRIX_REPORT` set (as `cargo flags matrix` sets it), a registry that
//! starts writes every environment value it could not realise to that file. This
//! binary holds one test, so no other thread reads the environment while it is set.

use flags_runtime::{Context, Reason};

flags_runtime::flags!("tests/matrix_report.toml");

#[test]
fn values_the_environment_set_but_the_manifest_forbids_are_reported() {
    let dir = std::env::temp_dir().join(format!("flags-matrix-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("unrealised.txt");
    let _ = std::fs::remove_file(&report);
    // SAFETY: the only test of this binary, run before any registry starts; no other
    // thread reads or writes the environment meanwhile.
    unsafe {
        std::env::set_var("FLAGS", "design_a=on,design_b=on,checkout=on,search=on");
        std::env::set_var("FLAGS_MATRIX_REPORT", &report);
    }
    // Mutual exclusion with both asked for: both off, and not an evaluation error.
    assert!(!flags::design_a());
    assert!(!flags::design_b());
    assert_eq!(
        flags::DESIGN_A.explain(&Context::new()).reason,
        Reason::PrerequisiteFailed { flag: 1 }
    );
    assert!(!flags::checkout());
    assert!(flags::search());
    let text = std::fs::read_to_string(&report).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "tests/matrix_report.toml: flag `design_a` was set to on but is off (it excludes `design_b`, which is set too)",
            "tests/matrix_report.toml: flag `design_b` was set to on but is off (it excludes `design_a`, which is set too)",
            "tests/matrix_report.toml: flag `checkout` was set to on but is off (it requires `payments`, which is off)",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
