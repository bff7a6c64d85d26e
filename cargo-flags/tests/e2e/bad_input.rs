//! Locating the manifest, global options, help, and bad input: never a panic, always
//! a positioned message and a non-zero exit.

use crate::common::{TODAY, TempDir, run};

#[test]
fn the_manifest_is_found_by_walking_up_to_the_workspace() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.join("src"), &["lint", "--today", TODAY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("warning: ../flags.toml:26:1: "),
        "{}",
        r.stdout
    );
    // A directory with flags.toml but no Cargo.toml is not a workspace root.
    shop.write("src/nested/flags.toml", "not toml [");
    std::fs::create_dir_all(shop.join("src/nested/deeper")).unwrap();
    let r = run(&shop.join("src/nested/deeper"), &["lint", "--today", TODAY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("../../../flags.toml:26:1"),
        "{}",
        r.stdout
    );
    // refs from a subdirectory scans the whole workspace by default.
    let doc = run(&shop.join("src"), &["refs", "--format", "json"]).json();
    assert_eq!(doc["files_scanned"], 3);
}

#[test]
fn no_manifest_anywhere() {
    let empty = TempDir::new("empty");
    for cmd in ["lint", "refs", "report", "explain x"] {
        let args: Vec<&str> = cmd.split(' ').collect();
        let r = run(&empty.path, &args);
        assert_eq!(r.code, 2, "{cmd}");
        assert!(
            r.stderr.starts_with("error: no flags.toml in "),
            "{cmd}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("pass --manifest PATH"));
    }
}

#[test]
fn a_missing_manifest_path_is_a_positioned_error() {
    let empty = TempDir::new("missing");
    let r = run(&empty.path, &["--manifest", "nope/flags.toml", "lint"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout
            .starts_with("error: nope/flags.toml:1:1: cannot read the manifest: "),
        "{}",
        r.stdout
    );
    for args in [&["refs"][..], &["report"], &["explain", "x"]] {
        let mut full = vec!["--manifest", "nope/flags.toml"];
        full.extend_from_slice(args);
        let r = run(&empty.path, &full);
        assert_eq!(r.code, 2, "{args:?}");
        assert!(
            r.stderr
                .starts_with("error: nope/flags.toml:1:1: cannot read the manifest: "),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn a_malformed_manifest_fails_every_command_with_the_same_message() {
    let syntax = TempDir::fixture("syntax");
    let expected = "error: flags.toml:3:21: invalid TOML: ";
    for args in [&["refs"][..], &["report"], &["explain", "search_v2"]] {
        let r = run(&syntax.path, args);
        assert_eq!(r.code, 2, "{args:?}");
        assert_eq!(r.stdout, "");
        assert!(r.stderr.starts_with(expected), "{args:?}: {}", r.stderr);
    }
    let invalid = TempDir::fixture("invalid");
    let r = run(&invalid.path, &["report"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.lines().count(),
        4,
        "every error, not just the first"
    );
}

#[test]
fn odd_manifests_do_not_panic() {
    let dir = TempDir::new("odd");
    dir.write("Cargo.toml", "[package]\nname = \"odd\"\n");
    let cases: [(&[u8], &str); 4] = [
        (b"", "declares no flags"),
        (b"\xff\xfe[flags]", "not UTF-8"),
        (b"[flags.x]\ndescription = 1\n", "expected a string"),
        (&[b'['; 100], "nest deeper"),
    ];
    for (bytes, message) in cases {
        std::fs::write(dir.join("flags.toml"), bytes).unwrap();
        for args in [&["lint"][..], &["refs"], &["report"], &["explain", "x"]] {
            let r = run(&dir.path, args);
            assert_eq!(r.code, 2, "{args:?} on {message}");
            let text = format!("{}{}", r.stdout, r.stderr);
            assert!(text.contains("flags.toml:1:"), "{args:?}: {text}");
            assert!(text.contains(message), "{args:?}: {text}");
        }
    }
}

#[test]
fn usage_errors_and_help() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["lint", "--today", "2026-02-30"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("2026-02-30 is not a day of the calendar"),
        "{}",
        r.stderr
    );
    let r = run(&shop.path, &["lint", "--format", "xml"]);
    assert_eq!(r.code, 2);
    let r = run(&shop.path, &["flags", "--help"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("Usage: cargo flags [OPTIONS] <COMMAND>"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Exit codes (for CI):"));
    let r = run(&shop.path, &["lint", "--help"]);
    assert_eq!(r.code, 0);
    for needle in [
        "--deny-warnings",
        "--format <FORMAT>",
        "github",
        "0  no errors",
        "1  warnings and --deny-warnings",
        "2  errors",
    ] {
        assert!(
            r.stdout.contains(needle),
            "lint --help lacks {needle}:\n{}",
            r.stdout
        );
    }
    let r = run(&shop.path, &["refs", "--help"]);
    assert!(
        r.stdout
            .contains("1  --deny-unused and some declared flag is never referenced")
    );
}
