//! `cargo flags explain`.

use crate::common::{TODAY, TempDir, run};

#[test]
fn explains_every_field_rules_references_and_the_requires_tree() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &[
            "flags",
            "explain",
            "search_v2",
            "--today",
            TODAY,
            "--state",
            "state.toml",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "search_v2: New search ranking
  declared     flags.toml:7:8
  owner        search-team
  kind         release (temporary)
  lifecycle    active
  expires      2099-01-31 (fine: in 26542 days; judged on 2026-06-01, warn 14 days ahead)
  type         on/off
  default      off
  static       no: decided at run time
  accessor     pub fn flags::search_v2() -> bool
  handle       flags::SEARCH_V2
  requires     new_index
  excludes     —
  dependents   —
  rules        flags.toml: default (off)
               state.toml: rollout 25% by key
  references   2 in 1 file under .
               src/main.rs:10:8  accessor  flags::search_v2
               src/main.rs:14:13  handle  flags::SEARCH_V2

requires tree:
search_v2
└── new_index
"
    );
}

#[test]
fn dependents_and_generated_names() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["explain", "NEW_INDEX", "--today", TODAY]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("new_index: Serve search from the new index\n")
    );
    assert!(
        r.stdout
            .contains("\n  dependents   search_v2 (requires it)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("requires tree:\nnew_index (requires no other flag)\n")
    );
    let r = run(&shop.path, &["explain", "CheckoutLayout", "--today", TODAY]);
    assert!(
        r.stdout
            .contains("\n  enum         flags::CheckoutLayout { Classic, TwoCol }\n")
    );
    assert!(
        r.stdout
            .contains("\n  expires      2026-06-10 (expiring soon: in 9 days;")
    );
}

#[test]
fn deeper_trees_mark_stale_dependencies() {
    let shop = TempDir::fixture("shop");
    let manifest = shop.read("flags.toml").replace(
        "[flags.new_index]\n",
        "[flags.new_index]\nrequires = [\"old_banner\", \"checkout_layout=two-col\"]\n",
    );
    shop.write("flags.toml", &manifest);
    let r = run(&shop.path, &["explain", "search_v2", "--today", TODAY]);
    assert!(
        r.stdout.ends_with(
            "requires tree:\nsearch_v2\n└── new_index\n    ├── old_banner [stale]\n    └── checkout_layout = two-col [expiring soon]\n"
        ),
        "{}",
        r.stdout
    );
}

#[test]
fn unknown_names_get_a_suggestion_and_fail() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["explain", "serch_v2"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr.trim(),
        "error: no flag `serch_v2` in flags.toml (did you mean `search_v2`?)"
    );
    let r = run(&shop.path, &["explain", "zzz"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "error: no flag `zzz` in flags.toml; declared flags: search_v2, checkout_layout, old_banner, new_index, payments_kill, dark_mode"
    );
}
