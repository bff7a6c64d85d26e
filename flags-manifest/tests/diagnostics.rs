//! Every class of bad manifest yields a positioned error, never a panic, and all errors
//! of a file are reported together.

// Every test here reads TOML.
#![cfg(feature = "parse")]

use flags_manifest::{parse_bytes, parse_str};

const GOOD_FLAG: &str = "description = \"d\"\nowner = \"team\"\nkind = \"ops\"\n";

fn errors(src: &str) -> Vec<String> {
    match parse_str(src, "flags.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.to_string().lines().map(str::to_owned).collect(),
    }
}

/// Asserts that `src` gives exactly the errors `expected`, in order, each in full.
#[track_caller]
fn assert_errors(src: &str, expected: &[&str]) {
    assert_eq!(errors(src), expected, "errors of:\n{src}");
}

#[test]
fn empty_file() {
    assert_errors(
        "",
        &[
            "flags.toml:1:1: `flags`: the manifest declares no flags (help: add a table per flag: `[flags.my_flag]` with description, owner and kind)",
        ],
    );
}

#[test]
fn invalid_toml_is_positioned() {
    assert_errors(
        "[flags.a]\ndescription = \"x\nowner = 1\n",
        &[
            "flags.toml:2:17: invalid TOML: invalid basic string, expected `\"` (help: fix the TOML syntax; every other check runs once the file parses)",
        ],
    );
}

#[test]
fn binary_file() {
    let err = parse_bytes(&[b'a', b'=', 0xff, 0xfe, 0x00], "flags.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "flags.toml:1:3: the manifest is not UTF-8 text (invalid byte at offset 2) (help: a manifest is a TOML file; save it as UTF-8)"
    );
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let src = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_errors(
        &src,
        &[
            "flags.toml:1:37: brackets nest deeper than 32 levels (help: a manifest needs only a few levels of tables and arrays)",
        ],
    );
}

#[test]
fn duplicate_key() {
    assert_errors(
        &format!("[flags.a]\n{GOOD_FLAG}owner = \"x\"\n"),
        &[
            "flags.toml:5:1: invalid TOML: duplicate key `owner` (help: fix the TOML syntax; every other check runs once the file parses)",
        ],
    );
}

#[test]
fn missing_owner_and_description_both_reported() {
    assert_errors(
        "[flags.a]\nkind = \"ops\"\n",
        &[
            "flags.toml:1:8: `flags.a.description`: flag `a` has no `description` (help: add description = \"what the flag gates and why\")",
            "flags.toml:1:8: `flags.a.owner`: flag `a` has no `owner` (help: add owner = \"the team or person who answers for the flag\")",
        ],
    );
}

#[test]
fn unknown_key_suggests() {
    assert_errors(
        &format!("[flags.a]\n{GOOD_FLAG}ownr = \"x\"\n"),
        &["flags.toml:5:1: `flags.a.ownr`: unknown key `ownr` (help: did you mean `owner`?)"],
    );
}

#[test]
fn wrong_types() {
    assert_errors(
        "[flags.a]\ndescription = 3\nowner = \"o\"\nkind = \"ops\"\n",
        &[
            "flags.toml:2:15: `flags.a.description`: expected a string, found an integer (help: put the text in double quotes)",
        ],
    );
    assert_errors(
        &format!("[flags.a]\n{GOOD_FLAG}default = \"yes\"\n"),
        &[
            "flags.toml:5:11: `flags.a.default`: expected true or false, found a string (help: an on/off flag takes a bool value)",
        ],
    );
    assert_errors(
        "flags = 3\n",
        &[
            "flags.toml:1:9: `flags`: expected a table, found an integer (help: write it as [flags] with keys below it)",
        ],
    );
}

#[test]
fn impossible_date() {
    assert_errors(
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\nexpires = \"2026-02-30\"\n",
        &[
            "flags.toml:4:11: `flags.a.expires`: 2026-02-30 is not a day of the calendar (help: write a real calendar day, e.g. expires = 2027-03-31)",
        ],
    );
}

#[test]
fn temporary_flag_needs_expiry() {
    assert_errors(
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\nkind = \"release\"\n",
        &[
            "flags.toml:1:8: `flags.a.expires`: flag `a` is a release flag, which is temporary, but has no `expires` date (help: add expires = YYYY-MM-DD, or use kind = \"ops\" or \"permission\" for a permanent flag)",
        ],
    );
}

#[test]
fn keyword_name() {
    assert_errors(
        &format!("[flags.type]\n{GOOD_FLAG}"),
        &[
            "flags.toml:1:8: `flags.type`: flag name `type` is a Rust keyword, so its accessor could not be called (help: rename it, e.g. `type_enabled`)",
        ],
    );
}

#[test]
fn case_collision() {
    let src = format!(
        "[settings.naming]\nstyle = \"any\"\n[flags.PaymentsBeta]\n{GOOD_FLAG}[flags.payments-beta]\n{GOOD_FLAG}"
    );
    assert_errors(
        &src,
        &[
            "flags.toml:7:8: `flags.payments-beta`: flags `PaymentsBeta` and `payments-beta` both become the accessor `payments_beta` (help: rename one of them)",
        ],
    );
}

#[test]
fn not_snake_case() {
    assert_errors(
        &format!("[flags.searchV2]\n{GOOD_FLAG}"),
        &[
            "flags.toml:1:8: `flags.searchV2`: flag name `searchV2` is not snake_case (help: rename it `search_v2` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
        ],
    );
}

#[test]
fn requires_cycle_and_dangling() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}requires = [\"b\"]\n[flags.b]\n{GOOD_FLAG}requires = [\"a\", \"cc\"]\n[flags.c]\n{GOOD_FLAG}"
    );
    assert_errors(
        &src,
        &[
            "flags.toml:10:13: `flags.b.requires`: `requires` forms a cycle: a -> b -> a (help: a flag cannot depend on itself through other flags; remove one link)",
            "flags.toml:10:18: `flags.b.requires`: `b` requires `cc`, which is not declared (help: did you mean `c`?)",
        ],
    );
}

#[test]
fn default_not_a_variant() {
    assert_errors(
        &format!(
            "[flags.a]\n{GOOD_FLAG}variants = [\"classic\", \"compact\"]\ndefault = \"compat\"\n"
        ),
        &[
            "flags.toml:6:11: `flags.a.default`: `compat` is not one of the flag's variants (classic, compact) (help: did you mean \"compact\"?)",
        ],
    );
}

#[test]
fn variant_collision_after_case_conversion() {
    assert_errors(
        &format!(
            "[flags.a]\n{GOOD_FLAG}variants = [\"two_col\", \"two-col\"]\ndefault = \"two_col\"\n"
        ),
        &[
            "flags.toml:1:8: `flags.a.variants`: variants `two_col` and `two-col` both become the enum variant `TwoCol` (help: give every variant a distinct name)",
        ],
    );
}

#[test]
fn rule_errors() {
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}[[flags.a.strategies]]\ntype = \"rollout\"\npercent = 150\n[[flags.a.strategies.constraints]]\nattribute = \"v\"\noperator = \"semver_gtt\"\n"
    );
    assert_errors(
        &src,
        &[
            "flags.toml:7:11: `flags.a.strategies[0].percent`: 150 is not a percentage (help: use a whole number from 0 to 100)",
            "flags.toml:10:12: `flags.a.strategies[0].constraints[0].operator`: unknown operator `semver_gtt` (help: did you mean `semver_gt`?)",
        ],
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
    assert_errors(
        &src,
        &[
            "flags.toml:6:14: `flags.a.rollout.stages`: stage `1` is not a percentage above the previous stage (help: list increasing whole percentages from 1 to 100, e.g. [1, 5, 25, 50, 100])",
            "flags.toml:6:17: `flags.a.rollout.stages`: stage `120` is not a percentage above the previous stage (help: list increasing whole percentages from 1 to 100, e.g. [1, 5, 25, 50, 100])",
            "flags.toml:7:8: `flags.a.rollout.soak`: `soon` is not a duration (help: write a number and a unit: \"500ms\", \"30s\", \"10m\", \"2h\", \"1d\")",
            "flags.toml:8:1: `flags.a.rollout.confidence`: confidence 0.2 is not between 0.5 and 1 (help: use e.g. 0.99)",
        ],
    );
    let src = format!(
        "[flags.a]\n{GOOD_FLAG}variants = [\"x\", \"y\"]\ndefault = \"x\"\n[flags.a.rollout]\nstages = [1]\n"
    );
    assert_errors(
        &src,
        &[
            "flags.toml:7:1: `flags.a.rollout`: a rollout plan needs a run-time on/off flag (help: remove `variants`/`static`, or the plan)",
        ],
    );
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
        // Accepted by looser checks once, never matching at run time: the manifest
        // now reads operands with the runtime's own parsers.
        ("date_after", "value = \"2026-01-01T25:00Z\""),
        ("date_after", "value = \"2026-01-01T12:30junk\""),
        ("in_cidr", "values = [\"10.0.0.0/+8\"]"),
        ("in_cidr", "values = [\" 10.0.0.0/8\"]"),
        ("num_gt", "value = \"NaN\""),
    ] {
        let errs = errors(&with(op, operand));
        assert_eq!(errs.len(), 1, "{op} {operand}: {errs:#?}");
        let expected = if op == "in_cidr" {
            format!(
                "flags.toml:10:11: `flags.a.strategies[0].constraints[0].values`: `{}` is not an IP address or CIDR range (help: write an address like 10.0.0.1 or a range like 10.0.0.0/8 or 2001:db8::/32)",
                &operand[11..operand.len() - 2]
            )
        } else {
            format!(
                "flags.toml:10:9: `flags.a.strategies[0].constraints[0].value`: `{}` is not a valid operand for this operator (help: numeric operators take a number, semver operators a version like 1.2.3, date operators an RFC 3339 date-time like 2027-01-31T00:00:00Z)",
                &operand[9..operand.len() - 1]
            )
        };
        assert_eq!(errs, [expected], "{op} {operand}");
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

/// A flag table with the keys every flag needs, then `extra`.
fn flag(name: &str, extra: &str) -> String {
    format!("[flags.{name}]\n{GOOD_FLAG}{extra}\n")
}

#[test]
fn a_byte_order_mark_is_not_a_column() {
    let src = "\u{feff}[flags.Ab]\ndescription = 1\nowner = \"o\"\nkind = \"ops\"\n";
    assert_errors(
        src,
        &[
            "flags.toml:1:8: `flags.Ab`: flag name `Ab` is not snake_case (help: rename it `ab` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
            "flags.toml:2:15: `flags.Ab.description`: expected a string, found an integer (help: put the text in double quotes)",
        ],
    );
    assert_errors(
        &src[3..],
        &[
            "flags.toml:1:8: `flags.Ab`: flag name `Ab` is not snake_case (help: rename it `ab` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
            "flags.toml:2:15: `flags.Ab.description`: expected a string, found an integer (help: put the text in double quotes)",
        ],
    );
}

#[test]
fn a_missing_kind_says_it_defaulted() {
    assert_errors(
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\n",
        &[
            "flags.toml:1:8: `flags.a.expires`: flag `a` has no `kind`, so it is a release flag, which is temporary, but it has no `expires` date (help: add kind = \"ops\" or \"permission\" for a permanent flag, or kind = \"release\" and expires = YYYY-MM-DD)",
        ],
    );
}

#[test]
fn rules_on_a_static_flag_point_at_the_rule() {
    assert_errors(
        &flag("a", "static = true\nenabled = false"),
        &[
            "flags.toml:6:1: `flags.a.enabled`: static flag `a` cannot have `enabled`: a static flag's value is its `default`, fixed at compile time (help: write default = true or false instead, or remove `static = true` to decide at run time)",
        ],
    );
    assert_errors(
        &flag("a", "static = true\n[[flags.a.strategies]]\ntype = \"all\""),
        &[
            "flags.toml:6:11: `flags.a.strategies`: static flag `a` cannot have run-time rules (`strategies`) (help: a static flag is fixed at compile time; remove `static = true` or the rules)",
        ],
    );
}

#[test]
fn a_key_too_deep_is_positioned_on_its_line() {
    let src = flag("a", &format!("x{} = 1", ".y".repeat(200)));
    assert_errors(
        &src,
        &[
            "flags.toml:5:1: invalid TOML: this key nests too deep for the parser (help: a manifest needs only a few dotted parts per key, like flags.NAME.KEY)",
        ],
    );
}

#[test]
fn number_help_gives_the_real_range() {
    assert_errors(
        &flag(
            "a",
            "[[flags.a.strategies]]\ntype = \"rollout\"\npercent = -5\n[[flags.a.strategies]]\ntype = \"rollout\"\npercent = 5.5\n[[flags.a.strategies]]\ntype = \"rollout\"\npercent = \"5\"",
        ),
        &[
            "flags.toml:7:11: `flags.a.strategies[0].percent`: -5 is not a percentage (help: use a whole number from 0 to 100)",
            "flags.toml:10:11: `flags.a.strategies[1].percent`: expected a whole number, found a float (help: use a whole number from 0 to 100, without a fraction)",
            "flags.toml:13:11: `flags.a.strategies[2].percent`: expected a whole number, found a string (help: write the number without quotes (0 to 100))",
        ],
    );
    assert_errors(
        &format!(
            "[settings]\nexpiry = \"error\"\ngrace_days = -1\n{}",
            flag("a", "")
        ),
        &[
            "flags.toml:3:14: `settings.grace_days`: -1 is not a number of days in range (help: use a whole number from 0 to 3650)",
        ],
    );
    assert_errors(
        &flag(
            "a",
            "variants = [\"x\", \"y\"]\ndefault = \"x\"\nvariant_weights = { x = -1, y = 2 }",
        ),
        &[
            "flags.toml:7:25: `flags.a.variant_weights.x`: -1 is not a weight in range (help: use a whole number from 0 to 1000000)",
        ],
    );
}

#[test]
fn variant_weights_are_relative_but_not_all_zero() {
    let m = parse_str(
        &flag(
            "a",
            "variants = [\"x\", \"y\"]\ndefault = \"x\"\nvariant_weights = { x = 1, y = 3 }",
        ),
        "flags.toml",
    )
    .unwrap();
    let weights: Vec<u32> = m.flags[0].rules.variants.iter().map(|w| w.weight).collect();
    assert_eq!(weights, [1, 3]);
    assert_errors(
        &flag(
            "a",
            "variants = [\"x\", \"y\"]\ndefault = \"x\"\nvariant_weights = { x = 0, y = 0 }",
        ),
        &[
            "flags.toml:7:19: `flags.a.variant_weights`: every weight is zero (help: give at least one variant a positive weight)",
        ],
    );
}

#[test]
fn names_that_are_not_snake_case_get_a_valid_proposal() {
    let src = format!(
        "{}{}{}",
        flag("1abc", ""),
        flag("\"café\"", ""),
        flag("\"\"", "")
    );
    assert_errors(
        &src,
        &[
            "flags.toml:1:8: `flags.1abc`: flag name `1abc` is not snake_case (help: rename it `flag_1abc` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
            "flags.toml:6:8: `flags.café`: flag name `café` is not snake_case (help: rename it `cafe` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\")",
            "flags.toml:11:8: `flags.`: flag name `` is not snake_case (help: name it in snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter, such as `search_v2`)",
        ],
    );
}

#[test]
fn mutual_exclusion_is_legitimate() {
    let src = flag("a", "excludes = [\"b\"]") + &flag("b", "excludes = [\"a\"]");
    assert_errors(&src, &[]);
}

#[test]
fn a_flag_that_can_never_be_on_is_an_error() {
    // a requires b, and b excludes a.
    assert_errors(
        &(flag("a", "requires = [\"b\"]") + &flag("b", "excludes = [\"a\"]")),
        &[
            "flags.toml:5:13: `flags.a.requires`: `a` can never be on: `a` requires `b`, and `b` excludes `a` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // Two variants of one flag at once.
    assert_errors(
        &(flag("a", "requires = [\"x=p\", \"x=q\"]")
            + &flag("x", "variants = [\"o\", \"p\", \"q\"]\ndefault = \"o\"")),
        &[
            "flags.toml:5:20: `flags.a.requires`: `a` can never be on: `a` requires `x=p`, but `a` requires `x=q` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // Not at its default, and at its default.
    assert_errors(
        &(flag("a", "requires = [\"x\", \"x=o\"]")
            + &flag("x", "variants = [\"o\", \"p\"]\ndefault = \"o\"")),
        &[
            "flags.toml:5:18: `flags.a.requires`: `a` can never be on: `a` requires `x`, but `a` requires `x=o` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // Requires and excludes the same flag.
    assert_errors(
        &(flag("a", "requires = [\"b\"]\nexcludes = [\"b\"]") + &flag("b", "")),
        &[
            "flags.toml:5:13: `flags.a.requires`: `a` can never be on: `a` excludes `b`, but `a` requires `b` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // Through a chain: a requires b requires c, and c excludes a.
    assert_errors(
        &(flag("a", "requires = [\"b\"]")
            + &flag("b", "requires = [\"c\"]")
            + &flag("c", "excludes = [\"a\"]")),
        &[
            "flags.toml:5:13: `flags.a.requires`: `a` can never be on: `a` requires `b`, and `b` requires `c`, and `c` excludes `a` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // Two requirements that exclude each other; `z`, which requires `a`, is not
    // reported again.
    assert_errors(
        &(flag("z", "requires = [\"a\"]")
            + &flag("a", "requires = [\"b\", \"c\"]")
            + &flag("b", "")
            + &flag("c", "excludes = [\"b\"]")),
        &[
            "flags.toml:10:18: `flags.a.requires`: `a` can never be on: `a` requires `b`, but `a` requires `c`, and `c` excludes `b` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
    // A variant flag that can never leave its default.
    assert_errors(
        &(flag(
            "v",
            "variants = [\"o\", \"p\"]\ndefault = \"o\"\nrequires = [\"b\"]",
        ) + &flag("b", "excludes = [\"v\"]")),
        &[
            "flags.toml:7:13: `flags.v.requires`: `v` can never leave its default `o`: `v` requires `b`, and `b` excludes `v` (help: remove one of these links; to keep two flags apart, let one `excludes` the other instead of requiring it)",
        ],
    );
}

#[test]
fn a_reference_listed_twice_is_an_error() {
    assert_errors(
        &(flag("a", "requires = [\"b\", \"b\"]\nexcludes = [\"c\", \"c\"]")
            + &flag("b", "")
            + &flag("c", "")),
        &[
            "flags.toml:5:18: `flags.a.requires`: `b` is listed twice in `requires` (help: remove the second one)",
            "flags.toml:6:18: `flags.a.excludes`: `c` is listed twice in `excludes` (help: remove the second one)",
        ],
    );
}

/// `n` flags in a line, each requiring the next.
fn chain(n: usize) -> String {
    (0..n)
        .map(|i| {
            let extra = if i + 1 < n {
                format!("requires = [\"c{}\"]", i + 1)
            } else {
                String::new()
            };
            flag(&format!("c{i}"), &extra)
        })
        .collect()
}

#[test]
fn long_chains_and_diamonds_are_accepted_up_to_the_limit() {
    assert_errors(&chain(100), &[]);
    assert_errors(&chain(flags_manifest::MAX_REQUIRES_DEPTH + 1), &[]);
    assert_errors(
        &chain(flags_manifest::MAX_REQUIRES_DEPTH + 2),
        &[
            "flags.toml:5:13: `flags.c0.requires`: `requires` chain of 257 links (c0 -> c1 -> ... -> c257) is longer than 256 (help: shorten the chain: require the flags a flag really needs, not each other in a line)",
        ],
    );
    let diamond = flag("a", "requires = [\"b\", \"c\"]")
        + &flag("b", "requires = [\"d\"]")
        + &flag("c", "requires = [\"d\"]\nexcludes = [\"e\"]")
        + &flag("d", "")
        + &flag("e", "excludes = [\"c\"]");
    assert_errors(&diamond, &[]);
}

#[test]
fn regex_operands_are_compiled_when_the_manifest_is_read() {
    let with = |pattern: &str| {
        flag(
            "a",
            &format!(
                "[[flags.a.strategies]]\ntype = \"all\"\n[[flags.a.strategies.constraints]]\nattribute = \"email\"\noperator = \"regex\"\nvalue = '{pattern}'"
            ),
        )
    };
    assert_errors(&with(r"^[\p{L}.]+@example\.com$"), &[]);
    assert_errors(
        &with("(unclosed"),
        &[
            "flags.toml:10:9: `flags.a.strategies[0].constraints[0].value`: `(unclosed` is not a valid regular expression: unclosed group (help: write a pattern in the `regex` crate's syntax (it has no look-around and no backreferences))",
        ],
    );
    assert_errors(
        &with("a{1000}{1000}"),
        &[
            "flags.toml:10:9: `flags.a.strategies[0].constraints[0].value`: `a{1000}{1000}` is not a valid regular expression: it compiles to more than 10485760 bytes; simplify it (fewer or smaller repetitions) (help: write a pattern in the `regex` crate's syntax (it has no look-around and no backreferences))",
        ],
    );
    assert_errors(
        &with(r"(?<=a)b"),
        &[
            "flags.toml:10:9: `flags.a.strategies[0].constraints[0].value`: `(?<=a)b` is not a valid regular expression: look-around, including look-ahead and look-behind, is not supported (help: write a pattern in the `regex` crate's syntax (it has no look-around and no backreferences))",
        ],
    );
}

#[test]
fn expires_on_a_permanent_flag_is_honoured() {
    let m = parse_str(&flag("a", "expires = 2026-01-31"), "flags.toml").unwrap();
    let day = |s: &str| s.parse::<flags_manifest::Date>().unwrap();
    assert_eq!(m.flags[0].kind, flags_manifest::Kind::Ops);
    assert_eq!(
        flags_manifest::expiry_state(&m.flags[0], &m.settings, day("2026-02-02")),
        flags_manifest::ExpiryState::Stale { days_over: 2 }
    );
}

#[test]
fn variant_payloads_go_with_their_weighted_variants() {
    use flags_manifest::{PayloadKind, VariantPayload};
    let m = parse_str(
        &flag(
            "a",
            "variants = [\"x\", \"y\"]\ndefault = \"x\"\nvariant_weights = { x = 1, y = 3 }\n\
             payloads = { y = { type = \"json\", value = '{\"cols\": 2}' }, x = { type = \"number\", value = \"2.5\" } }\n\
             [[flags.a.strategies]]\ntype = \"all\"\nvariants = { y = 1 }",
        ),
        "flags.toml",
    )
    .unwrap();
    let rules = &m.flags[0].rules;
    let json = VariantPayload {
        kind: PayloadKind::Json,
        value: "{\"cols\": 2}".to_owned(),
    };
    let number = VariantPayload {
        kind: PayloadKind::Number,
        value: "2.5".to_owned(),
    };
    let flag_level: Vec<_> = rules.variants.iter().map(|w| w.payload.clone()).collect();
    assert_eq!(flag_level, [Some(number), Some(json.clone())]);
    assert_eq!(rules.strategies[0].variants[0].payload, Some(json));
}

#[test]
fn variant_payloads_are_checked_where_written() {
    let variants = "variants = [\"classic\", \"wide\"]\ndefault = \"classic\"\n";
    assert_errors(
        &flag(
            "a",
            &format!(
                "{variants}payloads = {{ wide = {{ type = \"json\", value = \"{{cols: 2}}\" }}, \
                 classic = {{ type = \"number\", value = \"two\" }}, wid = {{ type = \"string\", value = \"w\" }} }}"
            ),
        ),
        &[
            "flags.toml:7:46: `flags.a.payloads.wide.value`: this `json` payload is invalid: not JSON: key must be a string at line 1 column 2 (help: write a JSON document in a TOML string, e.g. value = '{\"cols\": 2}')",
            "flags.toml:7:98: `flags.a.payloads.classic.value`: this `number` payload is invalid: `two` is not a number (help: write a number as text, e.g. value = \"2.5\")",
            "flags.toml:7:107: `flags.a.payloads.wid`: `wid` is not a variant of this flag (help: did you mean `wide`?)",
        ],
    );
    assert_errors(
        &flag(
            "a",
            &format!(
                "{variants}payloads = {{ wide = {{ type = \"jsn\", value = \"1\" }}, classic = {{ value = \"1\", extra = 1 }} }}"
            ),
        ),
        &[
            "flags.toml:7:30: `flags.a.payloads.wide.type`: unknown payload type `jsn` (help: did you mean `json`?)",
            "flags.toml:7:62: `flags.a.payloads.classic`: a payload needs a `type` (help: add type = \"...\", one of: string, json, csv, number)",
            "flags.toml:7:77: `flags.a.payloads.classic.extra`: unknown key `extra` (help: allowed keys here: type, value)",
        ],
    );
    assert_errors(
        &flag(
            "a",
            "payloads = { on = { type = \"string\", value = \"x\" } }",
        ),
        &[
            "flags.toml:5:12: `flags.a.payloads`: only a variant flag can have variant payloads (help: declare variants = [...] on the flag, or remove this key)",
        ],
    );
}
