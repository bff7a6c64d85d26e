//! `cargo flags retire` on the shop fixture: the diff, the written files, the default
//! side from a rollout state, "needs a human" and exit codes.

use std::collections::BTreeMap;

use flags_rollout::{Position, RolloutState, StateFile, StateStore, Status, Timestamp};

use crate::common::{TempDir, run};

#[test]
fn dry_run_prints_a_diff_and_changes_nothing() {
    let shop = TempDir::fixture("shop");
    let before = shop.read("src/main.rs");
    let r = run(
        &shop.path,
        &["flags", "retire", "search_v2", "--keep", "on", "--dry-run"],
    );
    // examples/wip.rs does not parse, but it does not use search_v2.
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -7,11 +7,9 @@\n fn main() {\n     // flags::payments_kill() is mentioned in a comment only: not a reference.\n     let note = \"flags::payments_kill()\";\n-    if flags::search_v2() {\n-        println!(\"{note}\");\n-    }\n+    println!(\"{note}\");\n     let ctx = ();\n-    let _ = flags::SEARCH_V2.get_for(&ctx);\n+    let _ = true;\n"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("-[flags.search_v2]\n"), "{}", r.stdout);
    assert!(
        r.stderr
            .contains("retire search_v2: keeping on (--keep); 2 files would change"),
        "{}",
        r.stderr
    );
    assert_eq!(shop.read("src/main.rs"), before);
}

#[test]
fn writing_removes_the_flag_and_its_requires() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &["flags", "retire", "new_index", "--keep", "on", "--no-check"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let manifest = shop.read("flags.toml");
    assert!(!manifest.contains("[flags.new_index]"), "{manifest}");
    assert!(!manifest.contains("requires"), "{manifest}");
    // Comments and the other flags are untouched.
    assert!(manifest.starts_with("# Fixture manifest. Tests run with --today 2026-06-01"));
    assert!(manifest.contains(
        "[flags.payments_kill]\ndescription = \"Kill switch for the payment provider\"\n"
    ));
    assert!(
        shop.read("src/main.rs")
            .contains("    assert!(true, \"the new index must be on\");\n")
    );
    assert!(
        r.stderr
            .contains("flag `search_v2` no longer requires/excludes `new_index`"),
        "{}",
        r.stderr
    );
}

#[test]
fn uses_it_cannot_rewrite_are_listed_with_their_place() {
    let shop = TempDir::fixture("shop");
    shop.write(
        "src/extra.rs",
        "pub fn f() -> bool {\n    my_macro!(crate::flags::payments_kill())\n}\npub fn g() -> fn() -> bool {\n    crate::flags::payments_kill\n}\n",
    );
    let r = run(
        &shop.path,
        &[
            "flags",
            "retire",
            "payments_kill",
            "--keep",
            "off",
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("needs a human (3):\n"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("  examples/wip.rs:1:1: the file does not parse, so it was not rewritten\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("  src/extra.rs:2:15: the flag is read inside `my_macro!`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("  src/extra.rs:5:5: the accessor is named without a call"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_side_kept_by_default_is_what_production_runs() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["flags", "retire", "search_v2", "--dry-run"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("pass --keep on|off"), "{}", r.stderr);

    let rollout = RolloutState {
        flag: "search_v2".to_owned(),
        stages: vec![10, 100],
        position: Position {
            stage: 1,
            percent: 100,
            status: Status::Completed,
        },
        since: Timestamp::from_millis(1_700_000_000_000),
        reason: "every stage passed".to_owned(),
        looks: 0,
        history: Vec::new(),
    };
    let state = StateFile {
        version: 1,
        revision: 1,
        audit_head: None,
        environment: None,
        rollouts: BTreeMap::from([("search_v2".to_owned(), rollout)]),
    };
    std::fs::create_dir_all(shop.join(".flags")).unwrap();
    StateStore::new(shop.join(".flags/state.json"))
        .save(&state)
        .unwrap();
    let r = run(&shop.path, &["flags", "retire", "search_v2", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("keeping on (its rollout is at 100% (completed) since 2023-11-14"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("+    let _ = true;\n"), "{}", r.stdout);
    // Per environment, as `rollout --environment` keeps it: rolled back there.
    let mut rolled_back = state.clone();
    rolled_back.environment = Some("production".to_owned());
    if let Some(r) = rolled_back.rollouts.get_mut("search_v2") {
        r.position = Position {
            stage: 0,
            percent: 0,
            status: Status::RolledBack,
        };
    }
    std::fs::create_dir_all(shop.join(".flags/production")).unwrap();
    StateStore::new(shop.join(".flags/production/state.json"))
        .save(&rolled_back)
        .unwrap();
    let r = run(
        &shop.path,
        &[
            "flags",
            "retire",
            "search_v2",
            "--environment",
            "production",
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("keeping off (its rollout is at 0% (rolled back)"),
        "{}",
        r.stderr
    );
    let lint = run(&shop.path, &["flags", "lint", "--today", "2026-06-01"]);
    assert!(
        lint.stdout
            .contains("flag `search_v2` is ready to retire: rolled out to 100% for"),
        "{}",
        lint.stdout
    );
}

#[test]
fn unknown_flags_and_keeps_are_refused() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["flags", "retire", "serch_v2", "--keep", "on"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `search_v2`?"),
        "{}",
        r.stderr
    );
    let r = run(
        &shop.path,
        &["flags", "retire", "checkout_layout", "--keep", "on"],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("has the variants classic, two-col"),
        "{}",
        r.stderr
    );
}

#[test]
fn without_dry_run_the_files_are_written_and_cargo_check_judges_them() {
    let dir = TempDir::new("retire-check");
    dir.write(
        "Cargo.toml",
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[workspace]\n",
    );
    dir.write(
        "flags.toml",
        "[flags.fast]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\n[flags.other]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n",
    );
    // A stand-in for the generated module, so the check needs no dependency.
    dir.write(
        "src/main.rs",
        "mod flags {\n    pub fn fast() -> bool {\n        false\n    }\n}\n\nfn main() {\n    if flags::fast() {\n        println!(\"new\");\n    } else {\n        println!(\"old\");\n    }\n}\n",
    );
    let r = run(&dir.path, &["flags", "retire", "fast", "--keep", "on"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("cargo check --workspace --all-targets: ok"),
        "{}",
        r.stderr
    );
    assert!(
        dir.read("src/main.rs")
            .contains("fn main() {\n    println!(\"new\");\n}\n")
    );
    assert_eq!(
        dir.read("flags.toml"),
        "[flags.other]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n"
    );
    // The last flag cannot go: a manifest without flags is not valid.
    let r = run(
        &dir.path,
        &["flags", "retire", "other", "--keep", "off", "--dry-run"],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("flags.toml:1:1: without the flag, the manifest no longer validates: the manifest declares no flags"),
        "{}",
        r.stderr
    );
}
