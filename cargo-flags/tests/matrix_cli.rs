//! `cargo flags matrix` end to end: the runner behind the CLI, its listing, its exit
//! codes and its errors.

use std::process::Command;

use flags_test_support::scratch::ScratchDir;

fn fixture_manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("flags.toml");
    std::fs::write(
        &path,
        flags_test_support::fixtures::bool_and_variant("a", "layout"),
    )
    .unwrap();
    path
}

fn cargo_flags(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-flags"))
        .args(args)
        .output()
        .unwrap()
}

fn tempdir(name: &str) -> ScratchDir {
    ScratchDir::new(&format!("cargo-flags-matrix-{name}"))
}

#[test]
fn runs_the_command_per_combination_and_fails_on_the_bad_one() {
    let dir = tempdir("run");
    let manifest = fixture_manifest(&dir);
    let logs = dir.join("logs");
    let out = cargo_flags(&[
        "flags",
        "--manifest",
        manifest.to_str().unwrap(),
        "matrix",
        "--mode",
        "exhaustive",
        "--log-dir",
        logs.to_str().unwrap(),
        "--junit",
        dir.join("junit.xml").to_str().unwrap(),
        "--",
        "sh",
        "-c",
        "test \"$FLAGS_A\" != on || test \"$FLAGS_LAYOUT\" != compact",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("a=on, layout=compact"), "{stdout}");
    assert!(stdout.contains("4 combinations"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 4, "{junit}");
    assert_eq!(junit.matches("<failure").count(), 1, "{junit}");

    let ok = cargo_flags(&[
        "--manifest",
        manifest.to_str().unwrap(),
        "matrix",
        "--log-dir",
        logs.to_str().unwrap(),
        "--",
        "true",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
}

#[test]
fn list_prints_the_plan_and_runs_nothing() {
    let dir = tempdir("list");
    let manifest = fixture_manifest(&dir);
    let out = cargo_flags(&[
        "--manifest",
        manifest.to_str().unwrap(),
        "matrix",
        "--list",
        "--no-pins",
        "--mode",
        "exhaustive",
        "--partition",
        "1/2",
        "--",
        "false",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("exhaustive over 2 flags: 4 combinations"),
        "{stdout}"
    );
    // Shard 1 of 2 holds combinations 1 and 3.
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
}

#[test]
fn bad_options_and_unknown_flags_exit_2() {
    let dir = tempdir("bad");
    let manifest = fixture_manifest(&dir);
    let out = cargo_flags(&[
        "--manifest",
        manifest.to_str().unwrap(),
        "matrix",
        "--flag",
        "aa",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `a`?"));
    let out = cargo_flags(&[
        "--manifest",
        manifest.to_str().unwrap(),
        "matrix",
        "--mode",
        "sideways",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
