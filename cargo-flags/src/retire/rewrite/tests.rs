//! The rewrite of single files, shape by shape.

use std::collections::HashSet;

use super::super::edits::apply;
use super::super::gates::Gathered;
use super::super::target::{Target, parse_keep};
use super::rewrite_file;

const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.checkout_layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "two-col", "one-page"]
default = "classic"

[flags.fast_path]
description = "d"
owner = "o"
kind = "ops"
static = true
default = true
"#;

/// The file after retiring `flag` keeping `keep`, and the reasons left for a human.
fn retire(src: &str, flag: &str, keep: &str) -> (String, Vec<String>) {
    let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
    let f = m.flag(flag).unwrap();
    let t = Target::new(
        f,
        parse_keep(f, keep).unwrap(),
        HashSet::from(["flags".to_owned()]),
    );
    let ast = syn::parse_file(src).unwrap();
    let mut g = Gathered::default();
    g.add(0, src, &ast, &t);
    let plan = g.plan(t.keep, &[src.to_owned()]);
    let out = rewrite_file(src, &ast, &t, &plan, 0);
    let edits = out.edits.resolve(src).unwrap();
    let text = apply(src, &edits);
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    (text, out.humans.into_iter().map(|h| h.reason).collect())
}

fn clean(src: &str, flag: &str, keep: &str) -> String {
    let (text, humans) = retire(src, flag, keep);
    assert!(humans.is_empty(), "{humans:?}\n{text}");
    text
}

#[test]
fn if_else_keeps_one_side_and_splices_it() {
    let src = "fn f() {\n    a();\n    if flags::search_v2() {\n        b();\n        c();\n    } else {\n        d();\n    }\n    e();\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn f() {\n    a();\n    b();\n    c();\n    e();\n}\n"
    );
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f() {\n    a();\n    d();\n    e();\n}\n"
    );
}

#[test]
fn negation_and_other_operands() {
    let src = "fn f(x: bool) {\n    if !flags::search_v2() && x {\n        b();\n    }\n    if flags::SEARCH_V2.get() || x {\n        c();\n    }\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn f(_x: bool) {\n    c();\n}\n"
    );
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f(x: bool) {\n    if x {\n        b();\n    }\n    if x {\n        c();\n    }\n}\n"
    );
}

#[test]
fn an_operand_with_effects_is_kept() {
    let src = "fn f() -> bool { g() && flags::search_v2() }\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f() -> bool { g() && false }\n"
    );
    assert_eq!(clean(src, "search_v2", "on"), "fn f() -> bool { g() }\n");
}

#[test]
fn else_if_chains() {
    let src = "fn f(x: bool) {\n    if x {\n        a();\n    } else if flags::search_v2() {\n        b();\n    } else {\n        c();\n    }\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn f(x: bool) {\n    if x {\n        a();\n    } else {\n        b();\n    }\n}\n"
    );
    let src = "fn f(x: bool) {\n    if x {\n        a();\n    } else if flags::search_v2() {\n        b();\n    }\n}\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f(x: bool) {\n    if x {\n        a();\n    }\n}\n"
    );
}

#[test]
fn values_in_expressions_and_lets() {
    let src = "fn f(u: &Context) -> u32 {\n    let on = flags::search_v2();\n    let n = if on { 2 } else { 1 };\n    let d = flags::SEARCH_V2.explain(u).value;\n    g(flags::SEARCH_V2.get_for(u), d);\n    n\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn f(_u: &Context) -> u32 {\n    let n = 2;\n    g(true, true);\n    n\n}\n"
    );
}

#[test]
fn a_binding_used_in_a_format_string_stays_as_a_literal() {
    let src = "fn f() {\n    let on = flags::search_v2();\n    println!(\"{on}\");\n}\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f() {\n    let on = false;\n    println!(\"{on}\");\n}\n"
    );
}

#[test]
fn match_keeps_the_arm_or_the_wildcard() {
    let src = "fn f() -> u8 {\n    match flags::checkout_layout() {\n        flags::CheckoutLayout::Classic => 1,\n        flags::CheckoutLayout::TwoCol | flags::CheckoutLayout::OnePage => {\n            let x = 2;\n            x\n        }\n    }\n}\n";
    assert_eq!(
        clean(src, "checkout_layout", "classic"),
        "fn f() -> u8 {\n    1\n}\n"
    );
    assert_eq!(
        clean(src, "checkout_layout", "one-page"),
        "fn f() -> u8 {\n    let x = 2;\n    x\n}\n"
    );
    let src = "use crate::flags::CheckoutLayout;\nfn f() -> u8 {\n    let n = match flags::checkout_layout() {\n        CheckoutLayout::TwoCol => 2,\n        _ => 0,\n    };\n    n\n}\n";
    assert_eq!(
        clean(src, "checkout_layout", "classic"),
        "fn f() -> u8 {\n    let n = 0;\n    n\n}\n"
    );
}

#[test]
fn if_let_equality_and_matches() {
    let src = "fn f() {\n    if let flags::CheckoutLayout::TwoCol = flags::checkout_layout() {\n        a();\n    }\n    if flags::checkout_layout() == flags::CheckoutLayout::Classic {\n        b();\n    }\n    if matches!(flags::checkout_layout(), flags::CheckoutLayout::OnePage) {\n        c();\n    }\n}\n";
    assert_eq!(
        clean(src, "checkout_layout", "two-col"),
        "fn f() {\n    a();\n}\n"
    );
}

#[test]
fn unsafe_uses_are_left_for_a_human() {
    let src = "fn f() {\n    let g = flags::search_v2;\n    my_macro!(flags::search_v2());\n    let i = REGISTRY.index_of(\"search_v2\");\n}\n";
    let (text, humans) = retire(src, "search_v2", "on");
    assert_eq!(text, src);
    assert_eq!(humans.len(), 3, "{humans:?}");
    let src = "fn f(l: flags::CheckoutLayout) {}\nfn g() { h(flags::checkout_layout()); }\n";
    let (text, humans) = retire(src, "checkout_layout", "classic");
    assert_eq!(text, src);
    assert_eq!(humans.len(), 2, "{humans:?}");
}

#[test]
fn tests_lose_the_flag() {
    let src = "#[flags_test::matrix(flags = [search_v2, checkout_layout], exhaustive)]\n#[test]\nfn a() {}\n\n#[flags_test::matrix(flags = [search_v2])]\n#[test]\nfn b() {\n    let _s = flags::REGISTRY\n        .scoped_overrides()\n        .set(flags::SEARCH_V2, true)\n        .set(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::Classic);\n    flags::REGISTRY.set_override(flags::SEARCH_V2, false).unwrap();\n    FlagMatrix::new(&flags::REGISTRY).flags(&[&flags::SEARCH_V2, &flags::CHECKOUT_LAYOUT]).run(|_| {});\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "#[flags_test::matrix(flags = [checkout_layout], exhaustive)]\n#[test]\nfn a() {}\n\n#[test]\nfn b() {\n    let _s = flags::REGISTRY\n        .scoped_overrides()\n        .set(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::Classic);\n    FlagMatrix::new(&flags::REGISTRY).flags(&[&flags::CHECKOUT_LAYOUT]).run(|_| {});\n}\n"
    );
}

#[test]
fn gates_keep_the_annotated_side_or_the_fallback() {
    let src = "use flags_runtime::feature_gate;\n\n#[feature_gate(search_v2, fallback = rank_v1)]\nfn rank(q: &str) -> usize {\n    q.len() * 2\n}\n\nfn rank_v1(q: &str) -> usize {\n    q.len()\n}\n\nfn main() {}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn rank(q: &str) -> usize {\n    q.len() * 2\n}\n\nfn main() {}\n"
    );
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn rank(q: &str) -> usize {\n    q.len()\n}\n\nfn main() {}\n"
    );
    // Still called elsewhere: the gated function calls it.
    let src = "struct S;\nimpl S {\n    #[flags_runtime::feature_gate(search_v2, fallback = Self::old)]\n    async fn new(&self, n: u32) -> u32 {\n        n * 2\n    }\n\n    async fn old(&self, n: u32) -> u32 {\n        n\n    }\n}\nfn main() { let _ = S.old(1); }\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "struct S;\nimpl S {\n    async fn new(&self, n: u32) -> u32 {\n        Self::old(self, n).await\n    }\n\n    async fn old(&self, n: u32) -> u32 {\n        n\n    }\n}\nfn main() { let _ = S.old(1); }\n"
    );
}

#[test]
fn imports_of_the_flag_go() {
    let src = "use crate::flags::{self, search_v2, CheckoutLayout};\nuse crate::flags::SEARCH_V2;\nfn f() -> bool { search_v2() }\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "use crate::flags::{self, CheckoutLayout};\nfn f() -> bool { true }\n"
    );
}

#[test]
fn a_static_flag_handle_is_its_value() {
    let src = "const ON: bool = flags::FAST_PATH;\nfn f() -> bool { flags::fast_path() }\n";
    assert_eq!(
        clean(src, "fast_path", "on"),
        "const ON: bool = true;\nfn f() -> bool { true }\n"
    );
}

#[test]
fn names_only_the_removed_code_used_are_tidied() {
    let src = "use crate::flags;\n\npub fn f(x: u32, big: bool) -> u32 {\n    let ctx = flags_runtime::Context::with_key(\"k\");\n    if flags::search_v2() && big {\n        return flags::SEARCH_V2.get_for(&ctx) as u32;\n    }\n    x\n}\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "pub fn f(x: u32, _big: bool) -> u32 {\n    x\n}\n"
    );
}

#[test]
fn an_import_left_unused_after_a_tidied_let_goes_too() {
    let src = "use crate::flags;\n\npub fn s() -> bool {\n    let s = flags::REGISTRY.snapshot();\n    s.get(flags::SEARCH_V2)\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::flags;\n\n    #[test]\n    fn t() {\n        let _g = flags::REGISTRY.scoped_overrides();\n        assert!(s() || !flags::search_v2());\n    }\n}\n";
    let out = clean(src, "search_v2", "on");
    assert!(
        out.starts_with("pub fn s() -> bool {\n    true\n}\n"),
        "{out}"
    );
}

#[test]
fn a_mut_only_the_removed_branch_needed_goes() {
    let src = "fn f(x: u32) -> u32 {\n    let mut out = x;\n    if flags::search_v2() {\n        out += 10;\n    }\n    out\n}\n";
    assert_eq!(
        clean(src, "search_v2", "off"),
        "fn f(x: u32) -> u32 {\n    let out = x;\n    out\n}\n"
    );
    // Still changed by a method: kept.
    let src = "fn f() -> Vec<u8> {\n    let mut v = Vec::new();\n    if flags::search_v2() {\n        v.push(1);\n    }\n    v.push(2);\n    v\n}\n";
    assert!(clean(src, "search_v2", "off").contains("let mut v"));
}

#[test]
fn a_trait_method_fallback_in_an_inherent_impl_goes_with_the_gate() {
    let src = "trait D {\n    fn d(&self) -> u8;\n}\n\nstruct S;\n\nimpl D for S {\n    #[feature_gate(search_v2, fallback = Self::d_v1, context = ctx)]\n    fn d(&self) -> u8 {\n        2\n    }\n}\n\nimpl S {\n    fn d_v1(&self) -> u8 {\n        1\n    }\n}\n\nstruct T;\n\nimpl T {\n    fn d_v1(&self) -> u8 {\n        3\n    }\n}\n";
    let out = clean(src, "search_v2", "on");
    assert!(
        out.contains(
            "impl D for S {\n    fn d(&self) -> u8 {\n        2\n    }\n}\n\nimpl S {\n}\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("impl T {\n    fn d_v1(&self) -> u8 {\n        3\n    }\n}\n"),
        "{out}"
    );
}

#[test]
fn an_unsafe_gate_calls_its_kept_side_in_an_unsafe_block() {
    let src = "#[feature_gate(search_v2, fallback = read_v1)]\npub unsafe fn read(p: *const u8) -> u8 {\n    unsafe { *p }.wrapping_mul(2)\n}\n\npub unsafe fn read_v1(p: *const u8) -> u8 {\n    unsafe { *p }\n}\n\npub fn other() -> u8 {\n    unsafe { read_v1(&1) }\n}\n";
    assert!(clean(src, "search_v2", "off").starts_with(
        "pub unsafe fn read(p: *const u8) -> u8 {\n    // SAFETY: the caller upholds `read`'s contract, which is `read_v1`'s.\n    unsafe { read_v1(p) }\n}\n"
    ));
}

#[test]
fn a_kept_branch_in_an_argument_or_closure_loses_its_braces() {
    let src = "fn f(xs: &[u32]) -> Vec<u32> {\n    g(if flags::search_v2() { 1 + 1 } else { 0 });\n    xs.iter().map(|y| if flags::search_v2() { y + 1 } else { *y }).collect()\n}\n";
    assert_eq!(
        clean(src, "search_v2", "on"),
        "fn f(xs: &[u32]) -> Vec<u32> {\n    g(1 + 1);\n    xs.iter().map(|y| y + 1).collect()\n}\n"
    );
}
