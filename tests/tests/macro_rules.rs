//! `flags!` emits the manifest's rules as data (packed into one string the registry
//! decodes at start-up), so the runtime never parses the manifest: the data must be
//! exactly what the parser reads, for every rule shape.

flags_runtime::flags!(mod flags = "rules.toml");

#[test]
fn every_rule_shape_is_emitted_as_the_parser_reads_it() {
    let m = flags_runtime::manifest::parse_str(include_str!("../rules.toml"), "rules.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    let parsed: Vec<(usize, flags_runtime::manifest::Rules)> = m
        .flags
        .iter()
        .filter(|f| !f.rules.is_empty())
        .map(|f| (f.index, f.rules.clone()))
        .collect();
    assert_eq!(parsed.len(), 3, "kill, targeted and layout declare rules");
    let emitted = flags_runtime::manifest::packed::decode_rules(flags::__MANIFEST_RULES)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(emitted, parsed);
}

#[test]
fn the_registry_evaluates_the_emitted_rules() {
    use flags_runtime::Context;
    assert!(!flags::kill());
    assert!(flags::TARGETED.get_for(&Context::with_key("alice")));
    // The keys strategy's own weights (wide 1, tall 4) decide for `vip`.
    let vip = flags::LAYOUT.get_for(&Context::with_key("vip"));
    assert!(
        matches!(vip, flags::Layout::Wide | flags::Layout::Tall),
        "{vip:?}"
    );
    assert_eq!(
        flags::TARGETED
            .meta()
            .expires
            .map(|d| d.to_string())
            .as_deref(),
        Some("2099-06-30")
    );
}
