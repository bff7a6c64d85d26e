//! Whatever bytes arrive in a rule file or the environment, parsing never panics, and
//! a bad update leaves the registry's state untouched.

// Needs the `rule-files` feature: it parses rule files.
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::{IndexAccess as _, SnapshotAccess as _};
use flags_runtime::{Context, EnvSource, FileSource, Layer};
use proptest::prelude::*;

test_registry!(reg);

fn manifest() -> &'static flags_runtime::manifest::Manifest {
    match reg::REGISTRY.manifest() {
        Some(m) => m,
        None => panic!("the test manifest parses"),
    }
}

/// Text that looks like a rule file: real keys and values mixed with noise, so the
/// cases get past the TOML parser into the rule checks.
fn rule_file() -> impl Strategy<Value = String> {
    let flag = prop_oneof![
        Just("search_v2"),
        Just("layout"),
        Just("beta_rollout"),
        Just("pricing"),
        Just("dark_mode"),
        Just("nope"),
    ];
    let line = prop_oneof![
        Just("value = true".to_owned()),
        Just("value = \"compact\"".to_owned()),
        Just("value = 3".to_owned()),
        Just("enabled = false".to_owned()),
        Just("variant_weights = { a = 1, b = 0 }".to_owned()),
        Just("variant_weights = { zz = 1 }".to_owned()),
        Just("variant_stickiness = \"tenant\"".to_owned()),
        Just("[[flags.beta_rollout.strategies]]".to_owned()),
        Just("type = \"rollout\"".to_owned()),
        Just("type = \"keys\"".to_owned()),
        Just("keys = [\"a\", 1]".to_owned()),
        Just("percent = 150".to_owned()),
        (0u32..200).prop_map(|p| format!("percent = {p}")),
        Just("[[flags.beta_rollout.strategies.constraints]]".to_owned()),
        Just("attribute = \"country\"".to_owned()),
        Just("operator = \"regex\"".to_owned()),
        Just("operator = \"semver_gt\"".to_owned()),
        Just("value = \"(unclosed\"".to_owned()),
        Just("values = [\"fr\", \"de\"]".to_owned()),
        "[a-z_]{1,8} = [0-9\"a-z\\[\\]{}]{0,8}",
        ".{0,20}",
    ];
    (
        proptest::collection::vec(flag, 1..4),
        proptest::collection::vec(line, 0..12),
    )
        .prop_map(|(flags, lines)| {
            let mut text = String::new();
            for (i, l) in lines.iter().enumerate() {
                if i % 4 == 0 {
                    text.push_str(&format!("[flags.{}]\n", flags[i / 4 % flags.len()]));
                }
                text.push_str(l);
                text.push('\n');
            }
            text
        })
}

proptest! {
    #[test]
    fn random_bytes_never_panic_the_rule_file_parser(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = FileSource::parse(&bytes, "fuzz.toml", manifest());
    }

    #[test]
    fn rule_like_text_never_panics_and_bad_updates_change_nothing(text in rule_file()) {
        let before = reg::REGISTRY.snapshot();
        let ctx = Context::with_key("k");
        let before_values: Vec<_> = (0..8).map(|i| before.value_for(i, &ctx)).collect();
        match FileSource::parse(text.as_bytes(), "fuzz.toml", manifest()) {
            Ok(rules) => {
                // Checked rules may still be refused (static flags); either way no panic.
                let _ = reg::REGISTRY.set_layer(Layer::File, "fuzz.toml", rules);
                let _ = reg::REGISTRY.clear_layer(Layer::File);
            }
            Err(e) => {
                prop_assert!(!e.diagnostics.is_empty());
                let after = reg::REGISTRY.snapshot();
                let after_values: Vec<_> = (0..8).map(|i| after.value_for(i, &ctx)).collect();
                prop_assert_eq!(before_values, after_values);
            }
        }
    }

    #[test]
    fn random_environment_never_panics(
        vars in proptest::collection::vec(
            (
                prop_oneof![
                    Just("FLAGS".to_owned()),
                    "FLAGS_[A-Z0-9_]{0,12}",
                    ".{0,12}",
                ],
                prop_oneof![
                    ".{0,30}",
                    "([a-z_]{1,10}=[a-z]{0,8},?){0,4}",
                    Just("layout=wide,search_v2=on,dark_mode=on".to_owned()),
                ],
            ),
            0..8,
        )
    ) {
        let env = EnvSource::from_vars(vars.clone());
        let (values, problems) = env.parse(reg::REGISTRY.flags());
        for (i, v) in &values {
            let Some(meta) = reg::REGISTRY.flags().get(*i) else {
                return Err(TestCaseError::fail(format!("index {i} out of range")));
            };
            prop_assert!(!meta.is_static, "static flags are never set");
            match v {
                flags_runtime::Value::Bool(_) => prop_assert!(meta.is_bool()),
                flags_runtime::Value::Variant(n) => {
                    prop_assert!(usize::from(*n) < meta.variants.len())
                }
            }
        }
        for p in &problems {
            prop_assert!(!p.message.is_empty());
        }
    }
}
