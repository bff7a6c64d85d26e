//! Expansion tests of `#[feature_gate]` on a manifest held in memory.

use super::*;

const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "two-col"]
default = "classic"

[flags.dark_mode]
description = "d"
owner = "o"
kind = "ops"
static = true
"#;

fn expand(args: &str, item: &str) -> Result<String, String> {
    let manifest = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
    let args: GateArgs = syn::parse_str(args).map_err(|e| e.to_string())?;
    let func: ItemFn = syn::parse_str(item).unwrap();
    route(&args, &func, &manifest)
        .map(|t| t.to_string())
        .map_err(|e| {
            e.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
}

#[test]
fn unsafe_fn_calls_the_other_side_in_an_unsafe_block() {
    let out = expand(
        "search_v2, fallback = read_v1",
        "unsafe fn read(p: *const u8) -> u8 { unsafe { *p } }",
    )
    .unwrap();
    assert!(out.contains("unsafe { read_v1 (p) }"), "{out}");
    let safe = expand("search_v2, fallback = f1", "fn f(x: u8) -> u8 { x }").unwrap();
    assert!(!safe.contains("unsafe"), "{safe}");
}

#[test]
fn variants_that_are_not_identifiers_are_routed_by_string() {
    let out = expand(r#"layout, "two-col" = wide"#, "fn w() -> u8 { 1 }").unwrap();
    assert!(
        out.contains("crate :: flags :: Layout :: TwoCol => { wide () }"),
        "{out}"
    );
    assert!(
        out.contains("crate :: flags :: Layout :: Classic => { 1 }"),
        "{out}"
    );
    let missing = expand("layout", "fn w() -> u8 { 1 }").unwrap_err();
    assert!(
        missing.contains(r#"add `"two-col" = function`"#),
        "{missing}"
    );
}

#[test]
fn bodies_are_spliced_not_nested() {
    // A one-line body nested as `{ { x } }` is `unused_braces` in the caller's crate.
    let out = expand("search_v2, fallback = f1", "fn f(x: u8) -> u8 { x }").unwrap();
    assert!(out.contains("{ x } else { f1 (x) }"), "{out}");
    assert!(!out.contains("{ {"), "{out}");
    let traced = expand(
        "search_v2, fallback = f1, trace",
        "fn f(x: u8) -> u8 { let y = x; y }",
    )
    .unwrap();
    assert!(
        traced
            .contains("let __flags_gate_entered = __flags_gate_span . enter () ; let y = x ; y }"),
        "{traced}"
    );
    let measured = expand(
        "search_v2, fallback = f1, measure",
        "fn f(x: u8) -> u8 { x }",
    )
    .unwrap();
    assert!(measured.contains("(|| { x }) ()"), "{measured}");
    assert!(!measured.contains("{ {"), "{measured}");
}

#[test]
fn trace_instruments_the_future_in_async() {
    let out = expand(
        "search_v2, fallback = load_v1, trace",
        "async fn load(id: u32) -> u32 { id }",
    )
    .unwrap();
    assert!(
        out.contains("Instrument :: instrument (async move { id } , __flags_gate_span) . await"),
        "{out}"
    );
    assert!(
        out.contains("Instrument :: instrument (async move { load_v1 (id) . await } , __flags_gate_span) . await"),
        "{out}"
    );
    assert!(!out.contains("enter ()"), "{out}");
}

#[test]
fn methods_pass_self_and_await_in_async() {
    let out = expand(
        "search_v2, fallback = load_v1",
        "async fn load(&mut self, id: u32) -> u32 { id }",
    )
    .unwrap();
    assert!(out.contains("Self :: load_v1 (self , id) . await"), "{out}");
}

#[test]
fn static_flags_route_by_the_constant_without_a_gate() {
    let out = expand(
        "dark_mode, fallback = light, context = ctx",
        "fn theme(ctx: &Ctx) -> u8 { 1 }",
    )
    .unwrap();
    assert!(out.contains("if crate :: flags :: DARK_MODE"), "{out}");
    assert!(!out.contains("Gate"), "{out}");
    assert!(out.contains("let _ = & (ctx) ;"), "{out}");
}

#[test]
fn every_mistake_is_reported_in_one_go() {
    let err = expand(
        "layout, fallback = f, variant = \"wide\", classic = g",
        "const fn w((a, b): (u8, u8)) -> u8 { a }",
    )
    .unwrap_err();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5, "{err}");
    assert!(lines[0].contains("cannot route a `const fn`"), "{err}");
    assert!(lines[1].contains("plain name for parameter 1"), "{err}");
    assert!(lines[2].contains("route each variant by name"), "{err}");
    assert!(lines[3].contains("has no variant `wide`"), "{err}");
    // `wide` is not close to `two-col`, so that one is still reported missing.
    assert!(
        lines[4].contains("variant `two-col` of `layout` has no implementation"),
        "{err}"
    );
}

#[test]
fn arguments_given_twice_and_without_value_are_errors() {
    let twice = expand("search_v2, fallback = a, fallback = b", "fn f() {}").unwrap_err();
    assert!(twice.contains("`fallback` is given twice"), "{twice}");
    let bare = expand("search_v2, fallback", "fn f() {}").unwrap_err();
    assert!(bare.contains("`fallback` needs a value"), "{bare}");
    let long = expand(r#"flag = "search_v2", fallback = a"#, "fn f() {}").unwrap();
    assert!(long.contains("SEARCH_V2 . route"), "{long}");
}

#[test]
fn inner_attributes_stay_in_the_body() {
    let out = expand(
        "search_v2, fallback = f1",
        "#[inline] fn f(x: u8) -> u8 { #![allow(unused_variables)] let y = 1; x }",
    )
    .unwrap();
    assert!(
        out.starts_with("# [inline] fn f (x : u8) -> u8 { # ! [allow (unused_variables)]"),
        "{out}"
    );
}

#[test]
fn a_flag_and_routes_named_by_strings_and_raw_identifiers() {
    let by_string = expand(r#""search_v2", fallback = f1"#, "fn f() -> u8 { 1 }").unwrap();
    assert!(by_string.contains("SEARCH_V2 . route"), "{by_string}");
    let raw = expand(r#"r#search_v2, fallback = f1"#, "fn f() -> u8 { 1 }").unwrap();
    assert!(raw.contains("SEARCH_V2 . route"), "{raw}");
    let routes = expand(
        r#"layout, variant = "two-col", classic = narrow"#,
        "fn w() -> u8 { 1 }",
    )
    .unwrap();
    assert!(
        routes.contains("Layout :: Classic => { narrow () }"),
        "{routes}"
    );
    assert!(routes.contains("Layout :: TwoCol => { 1 }"), "{routes}");
    let twice = expand(
        r#"layout, "two-col" = a, "two-col" = b"#,
        "fn w() -> u8 { 1 }",
    );
    assert!(twice.unwrap_err().contains("two-col"));
    let number = expand("search_v2, 7 = f1", "fn f() -> u8 { 1 }").unwrap_err();
    assert!(number.contains("expected an argument's name"), "{number}");
}
