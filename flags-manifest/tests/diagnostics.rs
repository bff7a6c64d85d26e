//! Every class of bad manifest yields a positioned error, never a panic, and all errors
//! of a file are reported together.

use flags_manifest::{parse_bytes, parse_str};

const GOOD_FLAG: &str = "description = \"d\"\nowner = \"team\"\nkind = \"ops\"\n";

fn errors(src: &str) -> Vec<String> {
    match parse_str(src, "flags.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.to_string().lines().map(str::to_owned).collect(),
    }
}

fn assert_error(src: &str, expected: &str) {
    let errs = errors(src);
    assert!(
        errs.iter().any(|e| e.contains(expected)),
        "expected an error containing {expected:?}, got {errs:#?}"
    );
}

#[test]
fn empty_file() {
    assert_error(
        "",
        "flags.toml:1:1: `flags`: the manifest declares no flags",
    );
}

#[test]
fn invalid_toml_is_positioned() {
    assert_error("[flags.a]\ndescription = \"x\nowner = 1\n", "flags.toml:2:");
}

#[test]
fn binary_file() {
    let err = parse_bytes(&[b'a', b'=', 0xff, 0xfe, 0x00], "flags.toml").unwrap_err();
    assert!(
        err.to_string()
            .contains("flags.toml:1:3: the manifest is not UTF-8"),
        "{err}"
    );
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let src = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_error(&src, "brackets nest deeper than 32 levels");
}

#[test]
fn duplicate_key() {
    assert_error(
        &format!("[flags.a]\n{GOOD_FLAG}owner = \"x\"\n"),
        "flags.toml:5:1",
    );
}

#[test]
fn missing_owner_and_description_both_reported() {
    let errs = errors("[flags.a]\nkind = \"ops\"\n");
    assert_eq!(errs.len(), 2, "{errs:#?}");
    assert!(
        errs[0].starts_with("flags.toml:1:8: `flags.a.description`"),
        "{errs:#?}"
    );
    assert!(
        errs[1].starts_with("flags.toml:1:8: `flags.a.owner`"),
        "{errs:#?}"
    );
}

#[test]
fn unknown_key_suggests() {
    assert_error(
        &format!("[flags.a]\n{GOOD_FLAG}ownr = \"x\"\n"),
        "flags.toml:5:1: `flags.a.ownr`: unknown key `ownr` (help: did you mean `owner`?)",
    );
}

#[test]
fn wrong_types() {
    assert_error(
        "[flags.a]\ndescription = 3\nowner = \"o\"\nkind = \"ops\"\n",
        "flags.toml:2:15: `flags.a.description`: expected a string, found an integer",
    );
    assert_error(
        &format!("[flags.a]\n{GOOD_FLAG}default = \"yes\"\n"),
        "expected true or false, found a string",
    );
    assert_error("flags = 3\n", "`flags`: expected a table, found an integer");
}

#[test]
fn impossible_date() {
    assert_error(
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\nexpires = \"2026-02-30\"\n",
        "flags.toml:4:11: `flags.a.expires`: 2026-02-30 is not a day of the calendar",
    );
}

#[test]
fn temporary_flag_needs_expiry() {
    assert_error(
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\nkind = \"release\"\n",
        "is a release flag, which is temporary, but has no `expires` date",
    );
}

#[test]
fn keyword_name() {
    assert_error(
        &format!("[flags.type]\n{GOOD_FLAG}"),
        "`flags.type`: flag name `type` is a Rust keyword",
    );
}

#[test]
fn case_collision() {
    let src = format!(
        "[settings.naming]\nstyle = \"any\"\n[flags.PaymentsBeta]\n{GOOD_FLAG}[flags.payments-beta]\n{GOOD_FLAG}"
    );
    assert_error(
        &src,
        "flags `PaymentsBeta` and `payments-beta` both become the accessor `payments_beta`",
    );
}

#[test]
fn not_snake_case() {
    assert_error(
        &format!("[flags.searchV2]\n{GOOD_FLAG}"),
        "flag name `searchV2` is not snake_case (help: rename it `search_v2`",
    );
}

#[test]
fn requires_cycle_and_dangling() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}requires = [\"b\"]\n[flags.b]\n{GOOD_FLAG}requires = [\"a\", \"cc\"]\n[flags.c]\n{GOOD_FLAG}"
    );
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|e| e.contains("`requires` forms a cycle: a -> b -> a")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e
                .contains("`b` requires `cc`, which is not declared (help: did you mean `c`?)")),
        "{errs:#?}"
    );
}

#[test]
fn default_not_a_variant() {
    assert_error(
        &format!(
            "[flags.a]\n{GOOD_FLAG}variants = [\"classic\", \"compact\"]\ndefault = \"compat\"\n"
        ),
        "`compat` is not one of the flag's variants (classic, compact) (help: did you mean \"compact\"?)",
    );
}

#[test]
fn variant_collision_after_case_conversion() {
    assert_error(
        &format!(
            "[flags.a]\n{GOOD_FLAG}variants = [\"two_col\", \"two-col\"]\ndefault = \"two_col\"\n"
        ),
        "variants `two_col` and `two-col` both become the enum variant `TwoCol`",
    );
}

#[test]
fn rule_errors() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}[[flags.a.strategies]]\ntype = \"rollout\"\npercent = 150\n[[flags.a.strategies.constraints]]\nattribute = \"v\"\noperator = \"semver_gtt\"\n"
    );
    let errs = errors(&src);
    assert!(
        errs.iter().any(|e| e.contains("150 is not a percentage")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("unknown operator `semver_gtt` (help: did you mean `semver_gt`?)")),
        "{errs:#?}"
    );
}

#[test]
fn good_manifest_round_trip() {
    let src = r#"
[settings]
expiry = "error"
grace_days = 7
warn_ahead_days = 30
[settings.naming]
prefixes = ["payments", "search", "checkout"]

[flags.payments_beta_experimental]
description = "New payment flow"
owner = "payments"
kind = "experiment"
expires = 2027-01-31
requires = ["search_v2_stable"]

[flags.search_v2_stable]
description = "Search v2"
owner = "search"
kind = "ops"
default = true
[[flags.search_v2_stable.strategies]]
type = "rollout"
percent = 50
stickiness = "key"
[[flags.search_v2_stable.strategies.constraints]]
attribute = "version"
operator = "semver_gt"
value = "1.2.0"

[flags.checkout_layout]
description = "Layout"
owner = "checkout"
kind = "permission"
variants = ["classic", "compact"]
default = "compact"
static = true
"#;
    let m = parse_str(src, "flags.toml").unwrap();
    assert_eq!(m.flags.len(), 3);
    assert_eq!(m.flags[1].index, 1);
    assert_eq!(m.flags[2].default, flags_manifest::Value::Variant(1));
    assert!(m.flags[2].is_static);
    assert_eq!(m.flags[1].rules.strategies.len(), 1);
    assert_eq!(
        m.settings.expiry,
        flags_manifest::ExpiryPolicy::Error { grace_days: 7 }
    );
}

#[test]
fn rollout_plan() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}[flags.a.rollout]\nstages = [1, 5, 25, 50, 100]\nsoak = \"30s\"\nmin_samples = 200\nmax_error_rate_increase = 0.01\nmax_latency_ratio = 1.5\n"
    );
    let m = parse_str(&src, "flags.toml").unwrap();
    let plan = m.flags[0].rollout.as_ref().unwrap();
    assert_eq!(plan.stages, [1, 5, 25, 50, 100]);
    assert_eq!(plan.soak, std::time::Duration::from_secs(30));
    assert_eq!(plan.min_samples, 200);
    assert_eq!(plan.criteria.max_error_rate_increase, Some(0.01));
    assert_eq!(plan.criteria.max_latency_ratio, Some(1.5));
    assert_eq!(plan.criteria.confidence, 0.99);
}

#[test]
fn rollout_plan_errors() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}[flags.a.rollout]\nstages = [5, 1, 120]\nsoak = \"soon\"\nconfidence = 0.2\n"
    );
    let errs = errors(&src);
    assert!(
        errs.iter()
            .any(|e| e.contains("stage `1` is not a percentage above the previous stage")),
        "{errs:#?}"
    );
    assert!(errs.iter().any(|e| e.contains("stage `120`")), "{errs:#?}");
    assert!(
        errs.iter().any(|e| e.contains("`soon` is not a duration")),
        "{errs:#?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("confidence 0.2 is not between 0.5 and 1")),
        "{errs:#?}"
    );
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}variants = [\"x\", \"y\"]\ndefault = \"x\"\n[flags.a.rollout]\nstages = [1]\n"
    );
    assert_error(&src, "a rollout plan needs a run-time on/off flag");
}

#[test]
fn constraint_operands_are_checked() {
    let with = |op: &str, operand: &str| {
        format!(
            "[flags.a]\n{GOOD_FLAG}[[flags.a.strategies]]\ntype = \"all\"\n[[flags.a.strategies.constraints]]\nattribute = \"x\"\noperator = \"{op}\"\n{operand}\n"
        )
    };
    for (op, operand) in [
        ("semver_gte", "value = \"1.2\""),
        ("semver_lte", "value = \"v1.2.3\""),
        ("date_after", "value = \"2026-02-30T00:00:00Z\""),
        ("date_before", "value = \"yesterday\""),
        ("in_cidr", "values = [\"10.0.0.0/33\"]"),
        ("in_cidr", "values = [\"not-an-ip\"]"),
    ] {
        let errs = errors(&with(op, operand));
        assert!(
            errs.iter().any(|e| e.contains("is not a valid operand")
                || e.contains("is not an IP address or CIDR range")),
            "{op} {operand}: {errs:#?}"
        );
    }
    for (op, operand) in [
        ("semver_gte", "value = \"1.2.3-rc.1\""),
        ("date_after", "value = \"2026-02-28T12:00:00+02:00\""),
        ("date_before", "value = \"2026-02-28\""),
        (
            "in_cidr",
            "values = [\"10.0.0.0/8\", \"2001:db8::/32\", \"192.168.1.1\"]",
        ),
    ] {
        assert_eq!(
            errors(&with(op, operand)),
            Vec::<String>::new(),
            "{op} {operand}"
        );
    }
}
