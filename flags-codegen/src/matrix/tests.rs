//! Expansion tests of `#[flags_test::matrix]` on a manifest held in memory.

use super::*;

const MANIFEST: &str = r#"
[settings.naming]
style = "any"

[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.checkout-layout]
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

/// The rewritten test, or every error message, one a line.
fn expand(args: &str, item: &str) -> Result<String, String> {
    let manifest = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
    let cx = Ctxt::new();
    let out = match MatrixArgs::parse(args.parse().unwrap(), &cx) {
        Ok(args) => {
            let flags = check::check(&args, Some(&manifest), &cx);
            let func: ItemFn = syn::parse_str(item).unwrap();
            Some(expand::test(&args, &flags, &func).to_string())
        }
        Err(e) => {
            cx.push(e);
            None
        }
    };
    match cx.check() {
        Ok(()) => Ok(out.unwrap()),
        Err(e) => Err(e
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

fn errors(args: &str) -> Vec<String> {
    let err = expand(args, "#[test] fn t() {}").unwrap_err();
    err.lines().map(str::to_owned).collect()
}

#[test]
fn builds_the_matrix_the_arguments_describe() {
    let out = expand(
        r#"flags = [search_v2, "checkout-layout"], random = 20, seed = 7, pins = [defaults, all_off], rules = ["search_v2=on -> checkout-layout=classic"], case = c"#,
        "#[test] fn t() { assert!(c.index < 100); }",
    )
    .unwrap();
    let expected = concat!(
        "let __flags_matrix = :: flags_test :: FlagMatrix :: new (& crate :: flags :: REGISTRY)",
        " . flags (& [& crate :: flags :: SEARCH_V2 , & crate :: flags :: CHECKOUT_LAYOUT])",
        " . random (20usize) . seed (7u64)",
        " . pins ([:: flags_test :: Pin :: Defaults , :: flags_test :: Pin :: AllOff])",
        " . rule (\"search_v2=on -> checkout-layout=classic\") ;",
        " __flags_matrix . run (| c | { assert ! (c . index < 100) ; }) ;",
    );
    assert!(out.contains(expected), "{out}");
    assert!(out.starts_with("# [test] fn t ()"), "{out}");
}

#[test]
fn every_mode_and_the_default() {
    let modes = [
        ("exhaustive", ". exhaustive ()"),
        ("pairwise", ". pairwise ()"),
        ("t_wise = 3", ". t_wise (3u8)"),
        ("random = 5", ". random (5usize)"),
    ];
    for (arg, call) in modes {
        let out = expand(arg, "#[test] fn t() {}").unwrap();
        assert!(out.contains(call), "{arg}: {out}");
    }
    let default = expand("", "#[test] fn t() {}").unwrap();
    assert!(
        default.contains("FlagMatrix :: new (& crate :: flags :: REGISTRY) ;"),
        "{default}"
    );
}

#[test]
fn flags_are_varied_by_their_handles_beside_the_registry() {
    // By manifest name or by accessor, the flag is its handle constant.
    let out = expand("flags = [checkout_layout]", "#[test] fn t() {}").unwrap();
    assert!(
        out.contains(". flags (& [& crate :: flags :: CHECKOUT_LAYOUT])"),
        "{out}"
    );
    let out = expand(
        "flags = [search_v2], registry = app::toggles::REGISTRY",
        "#[test] fn t() {}",
    )
    .unwrap();
    assert!(
        out.contains("FlagMatrix :: new (& app :: toggles :: REGISTRY) . flags (& [& app :: toggles :: SEARCH_V2])"),
        "{out}"
    );
}

#[test]
fn unknown_flags_get_the_nearest_name() {
    assert_eq!(
        errors("flags = [serch_v2, search_v2, nothing_like_it]"),
        [
            "no flag `serch_v2` in the manifest: did you mean `search_v2`?",
            "no flag `nothing_like_it` in the manifest",
        ]
    );
}

#[test]
fn static_repeated_and_empty_flag_lists_are_errors() {
    let e = errors("flags = [dark_mode, search_v2, search_v2]");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("`dark_mode` is a static flag: its value is fixed"),
        "{e:?}"
    );
    assert_eq!(e[1], "`search_v2` is named twice");
    assert_eq!(
        errors("flags = []"),
        [
            "`flags = []` varies nothing: name at least one flag, or leave `flags` out to vary every dynamic flag"
        ]
    );
}

#[test]
fn modes_by_their_kind_not_their_text() {
    // `seed` is checked against the mode itself: a registry path or rule that
    // mentions "random" does not make it apply.
    assert_eq!(
        errors(r#"pairwise, seed = 3, rules = ["random=on -> search_v2=on"]"#),
        [
            "`seed` only applies with `random = N`: the other modes choose the same combinations on every run"
        ]
    );
    assert!(expand("seed = 3, random = 4", "#[test] fn t() {}").is_ok());
    assert_eq!(
        errors("exhaustive, random = 4, t_wise = 3"),
        [
            "choose one mode: exhaustive, pairwise, t_wise = N or random = N",
            "choose one mode: exhaustive, pairwise, t_wise = N or random = N",
        ]
    );
}

#[test]
fn a_repeated_argument_is_an_error_and_every_one_is_reported() {
    assert_eq!(
        errors("flags = [search_v2], exhaustive, flags = [search_v2], exhaustive, seed = 1"),
        [
            "`flags` is given twice",
            "`exhaustive` is given twice",
            "`seed` only applies with `random = N`: the other modes choose the same combinations on every run",
        ]
    );
}

#[test]
fn syntax_mistakes_say_what_was_expected() {
    let cases = [
        (
            "flag = [search_v2]",
            "unknown argument `flag`: did you mean `flags`? (the arguments: flags, exhaustive, pairwise, t_wise, random, seed, pins, rules, registry, manifest, case)",
        ),
        (
            "exhaustive = 1",
            "`exhaustive` takes no value: write it alone",
        ),
        (
            "random",
            "`random` needs a value: a count, like `random = 20`",
        ),
        ("random = 0", "`random` needs a count of 1 or more"),
        (
            "t_wise = 1",
            "`t_wise` needs a strength of 2 or more (2 is `pairwise`)",
        ),
        (
            "flags = search_v2",
            "`flags = ...` takes a list in brackets: flag names, like `flags = [search_v2]`",
        ),
        (
            "pins = [sometimes]",
            "unknown pin: use defaults, all_on or all_off",
        ),
        ("pins = [1]", "unknown pin: use defaults, all_on or all_off"),
        (
            "flags = [1]",
            "`flags = [...]` takes flag names: as written in the manifest, quoted when a name is not an identifier (`\"checkout-layout\"`)",
        ),
        (
            "rules = [a]",
            "`rules = [...]` takes each rule as a string, like `\"a=on -> b=compact\"`",
        ),
        (
            "a::b",
            "unknown argument: use one of flags, exhaustive, pairwise, t_wise, random, seed, pins, rules, registry, manifest, case",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(errors(args), [expected], "{args}");
    }
}

#[test]
fn result_and_async_bodies_keep_their_type() {
    let out = expand(
        "exhaustive",
        "#[test] fn t() -> Result<(), String> { Ok(()) }",
    )
    .unwrap();
    assert!(
        out.contains(
            "__flags_matrix . run_result (| _ | -> Result < () , String > { Ok (()) }) ; :: core :: result :: Result :: Ok (())"
        ),
        "{out}"
    );
    let out = expand("exhaustive", "async fn t() { work().await; }").unwrap();
    assert!(
        out.contains(
            "__flags_matrix . run_async (| _ | async move { work () . await ; }) . await ;"
        ),
        "{out}"
    );
}

#[test]
fn errors_keep_the_test_as_written() {
    let env = Env::new();
    let item = quote!(
        #[test]
        fn t() {}
    );
    let out = expand_matrix(quote!(flags = [x], flags = [y]), item.clone(), &env).to_string();
    assert!(out.contains("`flags` is given twice"), "{out}");
    assert!(out.ends_with(&item.to_string()), "{out}");
    let not_fn = expand_matrix(
        quote!(exhaustive),
        quote!(
            struct S;
        ),
        &env,
    )
    .to_string();
    assert!(
        not_fn.contains("#[flags_test::matrix] goes on a test function"),
        "{not_fn}"
    );
}

#[test]
fn a_manifest_that_cannot_be_found_is_an_error_only_when_names_are_given() {
    let env = Env::new();
    let item = quote!(
        #[test]
        fn t() {}
    );
    let out = expand_matrix(quote!(flags = [search_v2]), item.clone(), &env).to_string();
    assert!(
        out.contains("cannot find the manifest to check these flags against: `flags.toml`"),
        "{out}"
    );
    let out = expand_matrix(
        quote!(flags = [search_v2], registry = app::toggles::REGISTRY),
        item.clone(),
        &env,
    )
    .to_string();
    assert!(out.contains("generates module `toggles`"), "{out}");
    let out = expand_matrix(quote!(exhaustive), item, &env).to_string();
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn an_unparsable_manifest_keeps_the_test_as_written() {
    let dir = std::env::temp_dir().join(format!("flags-codegen-matrix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("flags.toml"), "[flags.x]\nkind = 1\n").unwrap();
    let env = Env::new().with_manifest_dir(&dir);
    let item = quote!(
        #[test]
        fn t() {}
    );
    let out = expand_matrix(quote!(flags = [x]), item.clone(), &env).to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    // `flags!` reports the manifest's problems; the matrix adds none of its own.
    assert!(!out.contains("compile_error"), "{out}");
    assert!(out.starts_with(&item.to_string()), "{out}");
    assert!(
        out.contains("use crate :: flags :: REGISTRY as _ ;"),
        "{out}"
    );
}
