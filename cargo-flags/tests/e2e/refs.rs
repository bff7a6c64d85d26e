//! `cargo flags refs`.

use crate::common::{TempDir, run};

const CLEAN_CHECKOUT: &str = "use crate::flags::{self, CheckoutLayout};\n\n#[feature_gate(old_banner)]\npub fn banner() {}\n\n#[flags_runtime::feature_gate(flag = \"dark_mode\")]\npub fn themed() {}\n\npub fn render() {\n    match flags::checkout_layout() {\n        CheckoutLayout::Classic => {}\n        CheckoutLayout::TwoCol => {}\n    }\n}\n";

#[test]
fn lists_references_unused_and_unknown_flags() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["flags", "refs"]);
    assert_eq!(r.code, 2, "unknown flags are errors: {r:?}");
    let lines = r.stdout_lines();
    let skipped = lines
        .iter()
        .position(|l| l.starts_with("  examples/wip.rs:3:9: "))
        .expect("the unparsable example is listed as not scanned");
    let mut without_parser_message = lines.clone();
    without_parser_message.remove(skipped);
    assert_eq!(
        without_parser_message,
        [
            "search_v2: 2 references",
            "  src/main.rs:10:8  accessor  flags::search_v2",
            "  src/main.rs:14:13  handle  flags::SEARCH_V2",
            "checkout_layout: 4 references",
            "  src/checkout.rs:3:26  import  crate::flags::CheckoutLayout",
            "  src/checkout.rs:12:11  accessor  flags::checkout_layout",
            "  src/checkout.rs:13:9  enum  CheckoutLayout::Classic",
            "  src/checkout.rs:14:9  enum  CheckoutLayout::TwoCol",
            "old_banner: 1 reference",
            "  src/checkout.rs:5:16  attribute  #[feature_gate(old_banner)]",
            "new_index: 1 reference",
            "  src/main.rs:15:13  accessor  flags::new_index",
            "payments_kill: 0 references",
            "dark_mode: 1 reference",
            "  src/checkout.rs:8:38  attribute  #[feature_gate(flag = \"dark_mode\")]",
            "",
            "unused flags (declared, never referenced):",
            "  payments_kill  (owner: payments, declared at flags.toml:33:8)",
            "",
            "references to flags that do not exist:",
            "  src/checkout.rs:16:8  flags::serch_v2: no flag `serch_v2` in flags.toml (did you mean `search_v2`?)",
            "  src/checkout.rs:21:16  #[feature_gate(ghost_feature)]: no flag `ghost_feature` in flags.toml",
            "",
            "not scanned:",
            "",
            "refs: 3 files in .: 9 references to 5 of 6 flags, 1 unused, 2 to unknown flags",
        ]
    );
    assert!(
        r.stderr.starts_with("refs: scanned 3 files in "),
        "{}",
        r.stderr
    );
}

#[test]
fn comments_strings_target_hidden_and_foreign_dirs_do_not_count() {
    let shop = TempDir::fixture("shop");
    // payments_kill is named in a comment and a string of main.rs (see the fixture),
    // and in code under target/, a hidden directory and a crate with its own manifest.
    let use_it = "fn f() { flags::payments_kill(); }\n";
    shop.write("target/debug/build/gen.rs", use_it);
    shop.write(".cache/x.rs", use_it);
    shop.write(
        "vendor/other/flags.toml",
        "[flags.other]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n",
    );
    shop.write("vendor/other/src/lib.rs", use_it);
    let r = run(&shop.path, &["refs", "--format", "json"]);
    let doc = r.json();
    assert_eq!(doc["unused"], serde_json::json!(["payments_kill"]));
    assert_eq!(doc["files_scanned"], 3);
    let skipped: Vec<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["examples/wip.rs", "vendor/other/"]);
    assert_eq!(doc["skipped"][1]["line"], serde_json::Value::Null);
    assert_eq!(
        doc["skipped"][1]["message"],
        "has its own flags.toml; scan it with --manifest pointing there"
    );
    // A plain directory is scanned: the same code there is a reference.
    shop.write("tools/gen.rs", use_it);
    let doc = run(&shop.path, &["refs", "--format", "json"]).json();
    assert_eq!(doc["unused"], serde_json::json!([]));
}

#[test]
fn json_shape() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["refs", "--format", "json"]);
    assert_eq!(r.code, 2);
    let doc = r.json();
    assert_eq!(doc["manifest"], "flags.toml");
    assert_eq!(doc["root"], ".");
    assert_eq!(doc["files_scanned"], 3);
    assert_eq!(doc["exit_code"], 2);
    assert_eq!(doc["modules"], serde_json::json!(["flags"]));
    assert!(doc["elapsed_ms"].as_f64().is_some());
    let flags = doc["flags"].as_array().unwrap();
    let counts: Vec<(&str, u64)> = flags
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        counts,
        [
            ("search_v2", 2),
            ("checkout_layout", 4),
            ("old_banner", 1),
            ("new_index", 1),
            ("payments_kill", 0),
            ("dark_mode", 1)
        ]
    );
    assert_eq!(
        flags[0]["references"][1],
        serde_json::json!({"file": "src/main.rs", "line": 14, "col": 13, "kind": "handle", "text": "flags::SEARCH_V2"})
    );
    assert_eq!(flags[0]["owner"], "search-team");
    assert_eq!(
        doc["unknown"],
        serde_json::json!([
            {"name": "serch_v2", "file": "src/checkout.rs", "line": 16, "col": 8, "kind": "accessor", "text": "flags::serch_v2", "suggestion": "search_v2"},
            {"name": "ghost_feature", "file": "src/checkout.rs", "line": 21, "col": 16, "kind": "attribute", "text": "#[feature_gate(ghost_feature)]", "suggestion": null}
        ])
    );
    let skipped = &doc["skipped"][0];
    assert_eq!(
        (
            skipped["path"].as_str(),
            skipped["line"].as_u64(),
            skipped["col"].as_u64()
        ),
        (Some("examples/wip.rs"), Some(3), Some(9))
    );
}

#[test]
fn exit_codes() {
    let shop = TempDir::fixture("shop");
    assert_eq!(run(&shop.path, &["refs"]).code, 2, "unknown references");
    shop.write("src/checkout.rs", CLEAN_CHECKOUT);
    assert_eq!(
        run(&shop.path, &["refs"]).code,
        0,
        "unused flags alone pass"
    );
    let r = run(&shop.path, &["refs", "--deny-unused"]);
    assert_eq!(r.code, 1, "{r:?}");
    shop.write(
        "src/payments.rs",
        "pub fn pay() -> bool { !crate::flags::PAYMENTS_KILL.get() }\n",
    );
    let r = run(&shop.path, &["refs", "--deny-unused", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["exit_code"], 0);
}

#[test]
fn root_and_exclude_choose_what_is_scanned() {
    let shop = TempDir::fixture("shop");
    let doc = run(&shop.path, &["refs", "--root", "src", "--format", "json"]).json();
    assert_eq!(doc["root"], "src");
    assert_eq!(doc["files_scanned"], 2);
    assert_eq!(doc["flags"][0]["references"][0]["file"], "main.rs");
    let r = run(
        &shop.path,
        &[
            "refs",
            "--exclude",
            "src/checkout.rs",
            "--exclude",
            "examples",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.ends_with(
            "refs: 1 file in .: 3 references to 2 of 6 flags, 4 unused, 0 to unknown flags\n"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn module_names_from_flags_invocations_are_learnt() {
    let shop = TempDir::fixture("shop");
    shop.write("src/checkout.rs", CLEAN_CHECKOUT);
    shop.write(
        "src/admin.rs",
        "flags_runtime::flags!(pub(crate) mod feature = \"flags.toml\");\npub fn f() { if feature::payments_kill() { feature::gone(); } }\n",
    );
    let r = run(&shop.path, &["refs", "--format", "json"]);
    let doc = r.json();
    assert_eq!(doc["modules"], serde_json::json!(["feature", "flags"]));
    assert_eq!(doc["flags"][4]["count"], 1);
    assert_eq!(doc["unknown"][0]["text"], "feature::gone");
    assert_eq!(r.code, 2);
}
