//! `cargo flags lint`.

use crate::common::{TODAY, TempDir, run, run_env};

const STALE: &str = "warning: flags.toml:26:1: `flags.old_banner.expires`: flag `old_banner` (owner: growth) expired on 2026-01-31, 121 days ago (help: remove it from the code and flags.toml (`cargo flags retire old_banner --keep on|off`), or move `expires` later)";
const SOON: &str = "note: flags.toml:18:1: `flags.checkout_layout.expires`: flag `checkout_layout` (owner: checkout-team) expires on 2026-06-10, in 9 days (help: tell checkout-team to remove the flag or move `expires` later)";

#[test]
fn positions_point_at_the_expires_keys() {
    let shop = TempDir::fixture("shop");
    let manifest = shop.read("flags.toml");
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines[25], "expires = 2026-01-31");
    assert_eq!(lines[17], "expires = 2026-06-10");
}

#[test]
fn stale_flags_warn_and_expiring_flags_note_with_their_owners() {
    let shop = TempDir::fixture("shop");
    // `flags` first, as cargo passes it to `cargo-flags`.
    let r = run(&shop.path, &["flags", "lint", "--today", TODAY]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout_lines(),
        [
            STALE,
            SOON,
            "lint: 0 errors, 1 warning, 1 note (flags.toml, 6 flags, judged on 2026-06-01)"
        ]
    );
}

#[test]
fn deny_warnings_fails_on_stale_flags_only() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["lint", "--today", TODAY, "--deny-warnings"]);
    assert_eq!(r.code, 1, "{r:?}");
    // On 2026-01-20 nothing is stale and only old_banner is inside the window: notes
    // never fail, even with --deny-warnings.
    let r = run(
        &shop.path,
        &["lint", "--today", "2026-01-20", "--deny-warnings"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout_lines(),
        [
            "note: flags.toml:26:1: `flags.old_banner.expires`: flag `old_banner` (owner: growth) expires on 2026-01-31, in 11 days (help: tell growth to remove the flag or move `expires` later)",
            "lint: 0 errors, 0 warnings, 1 note (flags.toml, 6 flags, judged on 2026-01-20)"
        ]
    );
}

#[test]
fn past_the_grace_period_under_the_error_policy_is_an_error() {
    let shop = TempDir::fixture("shop");
    let manifest = shop.read("flags.toml").replace(
        "warn_ahead_days = 14",
        "warn_ahead_days = 14\nexpiry = \"error\"\ngrace_days = 30",
    );
    shop.write("flags.toml", &manifest);
    let r = run(&shop.path, &["lint", "--today", TODAY]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.starts_with("error: flags.toml:28:1: `flags.old_banner.expires`: flag `old_banner` (owner: growth) expired on 2026-01-31, 121 days ago (help: under expiry = \"error\" builds now fail"),
        "{}",
        r.stdout
    );
    // Within the grace period it is still a warning.
    let r = run(&shop.path, &["lint", "--today", "2026-02-20"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("warning: flags.toml:28:1:"),
        "{}",
        r.stdout
    );
}

#[test]
fn today_comes_from_the_option_then_flags_today_then_source_date_epoch() {
    let shop = TempDir::fixture("shop");
    let summary = |r: &crate::common::Run| r.stdout.lines().last().unwrap_or_default().to_owned();
    let r = run_env(&shop.path, &["lint"], &[("FLAGS_TODAY", "2026-01-20")]);
    assert!(summary(&r).ends_with("judged on 2026-01-20)"), "{r:?}");
    let r = run_env(
        &shop.path,
        &["lint", "--today", TODAY],
        &[("FLAGS_TODAY", "2026-01-20")],
    );
    assert!(summary(&r).ends_with("judged on 2026-06-01)"), "{r:?}");
    let epoch = "2026-06-01"
        .parse::<flags_manifest::Date>()
        .unwrap()
        .to_epoch_days()
        * 86_400
        + 3600;
    let r = run_env(
        &shop.path,
        &["lint"],
        &[("SOURCE_DATE_EPOCH", &epoch.to_string())],
    );
    assert!(summary(&r).ends_with("judged on 2026-06-01)"), "{r:?}");
    let r = run_env(
        &shop.path,
        &["lint"],
        &[("FLAGS_TODAY", "2026-01-20"), ("SOURCE_DATE_EPOCH", "0")],
    );
    assert!(summary(&r).ends_with("judged on 2026-01-20)"), "{r:?}");
    let r = run_env(&shop.path, &["lint"], &[("FLAGS_TODAY", "June 1st")]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.trim(),
        "error: FLAGS_TODAY: `June 1st` is not a date of the form YYYY-MM-DD"
    );
}

#[test]
fn json_lists_every_finding_with_position_and_owner() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["lint", "--today", TODAY, "--format", "json"]);
    assert_eq!(r.code, 0);
    let doc = r.json();
    assert_eq!(doc["manifest"], "flags.toml");
    assert_eq!(doc["today"], "2026-06-01");
    assert_eq!(doc["flags"], 6);
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"errors": 0, "warnings": 1, "notes": 1})
    );
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2);
    let stale = &findings[0];
    assert_eq!(stale["severity"], "warning");
    assert_eq!(stale["title"], "stale flag");
    assert_eq!(stale["file"], "flags.toml");
    assert_eq!(
        (stale["line"].as_u64(), stale["col"].as_u64()),
        (Some(26), Some(1))
    );
    assert_eq!(stale["key"], "flags.old_banner.expires");
    assert_eq!(stale["flag"], "old_banner");
    assert_eq!(stale["owner"], "growth");
    assert_eq!(
        stale["message"],
        "flag `old_banner` (owner: growth) expired on 2026-01-31, 121 days ago"
    );
    assert_eq!(
        format!("warning: {}", stale["rendered"].as_str().unwrap()),
        STALE
    );
    assert_eq!(findings[1]["severity"], "note");
    assert_eq!(findings[1]["owner"], "checkout-team");
}

#[test]
fn github_format_prints_workflow_annotations() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &["lint", "--today", TODAY, "--format", "github"],
    );
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout_lines()[..2],
        [
            "::warning file=flags.toml,line=26,col=1,title=stale flag::`flags.old_banner.expires`: flag `old_banner` (owner: growth) expired on 2026-01-31, 121 days ago (help: remove it from the code and flags.toml (`cargo flags retire old_banner --keep on|off`), or move `expires` later)",
            "::notice file=flags.toml,line=18,col=1,title=flag expiring soon::`flags.checkout_layout.expires`: flag `checkout_layout` (owner: checkout-team) expires on 2026-06-10, in 9 days (help: tell checkout-team to remove the flag or move `expires` later)",
        ]
    );
}

/// The manifest errors lint prints are exactly the manifest crate's diagnostics, the
/// ones the `flags!` macro turns into `compile_error!`s.
fn macro_messages(fixture: &TempDir) -> Vec<String> {
    let src = fixture.read("flags.toml");
    let err = flags_manifest::parse_str(&src, "flags.toml").unwrap_err();
    err.diagnostics
        .iter()
        .map(|d| format!("error: {}", d.render("flags.toml")))
        .collect()
}

#[test]
fn manifest_errors_are_the_macros_messages() {
    let invalid = TempDir::fixture("invalid");
    let r = run(&invalid.path, &["lint", "--today", TODAY]);
    assert_eq!(r.code, 2, "{r:?}");
    let expected = macro_messages(&invalid);
    let mut lines: Vec<String> = r.stdout.lines().map(str::to_owned).collect();
    assert_eq!(
        lines.pop().as_deref(),
        Some("lint: 4 errors, 0 warnings, 0 notes (flags.toml is invalid)")
    );
    assert_eq!(lines, expected);
    // Each rule the issue names is among them, at its position.
    assert_eq!(
        lines,
        [
            "error: flags.toml:1:8: `flags.NewCheckout`: flag name `NewCheckout` is not snake_case (help: rename it `new_checkout` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
            "error: flags.toml:6:8: `flags.no_owner.owner`: flag `no_owner` has no `owner` (help: add owner = \"the team or person who answers for the flag\")",
            "error: flags.toml:10:8: `flags.temp_forever.expires`: flag `temp_forever` is a release flag, which is temporary, but has no `expires` date (help: add expires = YYYY-MM-DD, or use kind = \"ops\" or \"permission\" for a permanent flag)",
            "error: flags.toml:25:13: `flags.cycle_b.requires`: `requires` forms a cycle: cycle_a -> cycle_b -> cycle_a (help: a flag cannot depend on itself through other flags; remove one link)",
        ]
    );
}

#[test]
fn manifest_errors_in_json_and_github_formats() {
    let invalid = TempDir::fixture("invalid");
    let r = run(&invalid.path, &["lint", "--format", "json"]);
    assert_eq!(r.code, 2);
    let doc = r.json();
    assert_eq!(doc["today"], serde_json::Value::Null);
    assert_eq!(doc["summary"]["errors"], 4);
    assert_eq!(doc["exit_code"], 2);
    let rendered: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("error: {}", f["rendered"].as_str().unwrap()))
        .collect();
    assert_eq!(rendered, macro_messages(&invalid));

    let r = run(&invalid.path, &["lint", "--format", "github"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stdout_lines()[3],
        "::error file=flags.toml,line=25,col=13,title=invalid manifest::`flags.cycle_b.requires`: `requires` forms a cycle: cycle_a -> cycle_b -> cycle_a (help: a flag cannot depend on itself through other flags; remove one link)"
    );
}

#[test]
fn toml_syntax_errors_point_at_the_line_and_column() {
    let syntax = TempDir::fixture("syntax");
    let r = run(&syntax.path, &["lint"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(r.stdout_lines()[..1], macro_messages(&syntax)[..]);
    assert!(
        r.stdout
            .starts_with("error: flags.toml:3:21: invalid TOML:"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_byte_order_mark_does_not_shift_columns_and_a_missing_kind_is_named() {
    let dir = TempDir::fixture("syntax");
    dir.write(
        "flags.toml",
        "\u{feff}[flags.Dark]\ndescription = \"d\"\nowner = \"o\"\n",
    );
    let r = run(&dir.path, &["lint"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert_eq!(
        r.stdout_lines()[..2],
        [
            "error: flags.toml:1:8: `flags.Dark.expires`: flag `Dark` has no `kind`, so it is a release flag, which is temporary, but it has no `expires` date (help: add kind = \"ops\" or \"permission\" for a permanent flag, or kind = \"release\" and expires = YYYY-MM-DD)",
            "error: flags.toml:1:8: `flags.Dark`: flag name `Dark` is not snake_case (help: rename it `dark` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
        ],
        "{r:?}"
    );
}
