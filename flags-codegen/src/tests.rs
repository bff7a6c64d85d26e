//! Expansion tests on manifests held in memory: what is generated, and which errors.

use proc_macro2::TokenStream;
use syn::{Item, ItemMod};

use crate::{Env, FlagsInput, ManifestFile, expand_manifest};
use flags_manifest::{Kind, Lifecycle, Value};

const MANIFEST: &str = r#"
[settings]
warn_ahead_days = 10

[flags.search_v2]
description = "New search ranking"
owner = "search-team"
kind = "release"
expires = 2027-01-31
requires = ["checkout_layout=two-col"]

[flags.checkout_layout]
description = "Which checkout page layout to show"
owner = "checkout|team"
kind = "experiment"
expires = 2027-06-30
variants = ["classic", "two-col"]
default = "two-col"

[flags.dark_mode]
description = "Dark theme"
owner = "ui"
kind = "ops"
static = true

[flags.density]
description = "Row density"
owner = "ui"
kind = "permission"
static = true
variants = ["compact", "comfortable"]
default = "comfortable"
excludes = ["dark_mode"]
"#;

fn env(today: &str) -> Env {
    Env::new().with_var("FLAGS_TODAY", today)
}

fn run(src: &str, env: &Env) -> TokenStream {
    let input: FlagsInput = syn::parse_str(r#""flags.toml""#).unwrap();
    let file = ManifestFile::new("flags.toml", "/abs/flags.toml", src);
    expand_manifest(&input, &file, env)
}

/// The generated file: its `compile_error!` messages and the module, if any.
fn split(out: TokenStream) -> (Vec<String>, Option<ItemMod>) {
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    let mut errors = Vec::new();
    let mut module = None;
    for item in file.items {
        match item {
            Item::Macro(m) if m.mac.path.segments.last().unwrap().ident == "compile_error" => {
                errors.push(m.mac.parse_body::<syn::LitStr>().unwrap().value());
            }
            Item::Mod(m) => module = Some(m),
            other => panic!("unexpected item {}", quote::quote!(#other)),
        }
    }
    (errors, module)
}

fn items(module: &ItemMod) -> &[Item] {
    &module.content.as_ref().unwrap().1
}

fn find<'a>(module: &'a ItemMod, name: &str) -> &'a Item {
    items(module)
        .iter()
        .find(|i| match i {
            Item::Fn(f) => f.sig.ident == name,
            Item::Const(c) => c.ident == name,
            Item::Static(s) => s.ident == name,
            Item::Enum(e) => e.ident == name,
            Item::Struct(s) => s.ident == name,
            _ => false,
        })
        .unwrap_or_else(|| panic!("no item `{name}`"))
}

fn doc_of(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(
                    // As rustdoc reads it: the space each line starts with, as after
                    // `///`, is not part of the text.
                    s.value()
                        .lines()
                        .map(|line| line.strip_prefix(' ').unwrap_or(line))
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the `META` table of a module holds: its length, its string columns, its
/// records and the prerequisites they refer to.
struct MetaColumns {
    len: usize,
    strings: std::collections::HashMap<String, Vec<String>>,
    records: Vec<u8>,
    requirements: Vec<u8>,
    requirement_count: usize,
}

fn meta_columns(module: &ItemMod) -> MetaColumns {
    fn array_len(ty: &syn::Type) -> usize {
        let syn::Type::Array(a) = ty else {
            panic!("not an array")
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(n),
            ..
        }) = &a.len
        else {
            panic!("not a length")
        };
        n.base10_parse().unwrap()
    }
    fn call_arg(expr: &syn::Expr) -> &syn::Expr {
        let syn::Expr::Call(call) = expr else {
            panic!("not a call")
        };
        &call.args[0]
    }
    fn bytes(expr: &syn::Expr) -> Vec<u8> {
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::ByteStr(b),
            ..
        }) = expr
        else {
            panic!("not a byte string")
        };
        b.value()
    }
    let Item::Static(meta) = find(module, "META") else {
        panic!()
    };
    let syn::Expr::Reference(columns) = call_arg(&meta.expr) else {
        panic!()
    };
    let syn::Expr::Struct(columns) = &*columns.expr else {
        panic!()
    };
    let mut strings = std::collections::HashMap::new();
    let mut records = Vec::new();
    for field in &columns.fields {
        let syn::Member::Named(name) = &field.member else {
            panic!()
        };
        match &field.expr {
            syn::Expr::Reference(r) => {
                if let syn::Expr::Array(a) = &*r.expr {
                    let list = a
                        .elems
                        .iter()
                        .map(|e| match e {
                            syn::Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(s),
                                ..
                            }) => s.value(),
                            _ => panic!("not a string"),
                        })
                        .collect();
                    strings.insert(name.to_string(), list);
                }
            }
            expr if name == "records" => records = bytes(expr),
            _ => {}
        }
    }
    let Item::Static(reqs) = find(module, "__REQUIREMENTS") else {
        panic!()
    };
    MetaColumns {
        len: array_len(&meta.ty),
        strings,
        records,
        requirements: bytes(call_arg(&reqs.expr)),
        requirement_count: array_len(&reqs.ty),
    }
}

fn text(item: &Item) -> String {
    quote::quote!(#item).to_string()
}

#[test]
fn generates_every_item() {
    let (errors, module) = split(run(MANIFEST, &env("2026-06-01")));
    assert!(errors.is_empty(), "{errors:#?}");
    let module = module.unwrap();
    assert_eq!(module.ident, "flags");
    assert!(matches!(module.vis, syn::Visibility::Public(_)));

    // One import of the runtime, under a name no flag's item can have.
    assert!(
        matches!(&items(&module)[0], Item::Use(u) if text(&items(&module)[0]) == "use :: flags_runtime :: __private as __rt ;" && matches!(u.vis, syn::Visibility::Inherited)),
        "{}",
        text(&items(&module)[0])
    );

    let Item::Fn(search) = find(&module, "search_v2") else {
        panic!()
    };
    // The whole text in one attribute, each line indented as after `///`.
    assert_eq!(
        quote::quote!(#search).to_string(),
        "# [doc = \" New search ranking\\n\\n | Owner | Kind | Lifecycle | Expires | Default |\\n |---|---|---|---|---|\\n | search-team | release | active | 2027-01-31 | `off` |\\n\\n Requires: `checkout_layout` = `two-col` (otherwise this flag is off, or at its default variant).\"] # [inline] pub fn search_v2 () -> bool { __bool (0) }"
    );
    assert!(
        text(find(&module, "SEARCH_V2"))
            .ends_with("pub const SEARCH_V2 : __rt :: BoolFlag = __bool_flag (0) ;")
    );
    assert!(
        text(find(&module, "checkout_layout"))
            .ends_with("pub fn checkout_layout () -> CheckoutLayout { __variant (1) }")
    );
    assert!(text(find(&module, "CHECKOUT_LAYOUT")).ends_with(
        "pub const CHECKOUT_LAYOUT : __rt :: VariantFlag < CheckoutLayout > = __variant_flag (1) ;"
    ));
    for helper in ["__bool_flag", "__bool", "__variant_flag", "__variant"] {
        assert!(
            matches!(find(&module, helper), Item::Fn(f) if matches!(f.vis, syn::Visibility::Inherited))
        );
    }

    let Item::Enum(layout) = find(&module, "CheckoutLayout") else {
        panic!()
    };
    let variants: Vec<String> = layout
        .variants
        .iter()
        .map(|v| v.ident.to_string())
        .collect();
    assert_eq!(variants, ["Classic", "TwoCol"]);
    assert_eq!(doc_of(&layout.variants[1].attrs), "`two-col` (the default)");
    let Item::Fn(layout_fn) = find(&module, "checkout_layout") else {
        panic!()
    };
    let doc = doc_of(&layout_fn.attrs);
    assert!(
        doc.contains("| checkout\\|team | experiment | active | 2027-06-30 | `two-col` |"),
        "{doc}"
    );
    assert!(doc.contains("Variants: `classic`, `two-col`."), "{doc}");
    let all = quote::quote!(#module).to_string();
    assert!(all.contains("impl :: core :: default :: Default for CheckoutLayout { # [doc = r\" The manifest default.\"] fn default () -> Self { Self :: TwoCol } }"), "{all}");
    assert!(all.contains("_ => Self :: TwoCol"), "{all}");
    assert!(
        all.contains("fn index (self) -> u16 { self as u16 }"),
        "{all}"
    );
    assert!(
        all.contains(
            "fn name (self) -> & 'static str { [\"classic\" , \"two-col\"] [self as usize] }"
        ),
        "{all}"
    );

    // Static flags: const accessors, values from the manifest default.
    assert!(
        text(find(&module, "dark_mode")).contains("pub const fn dark_mode () -> bool { false }")
    );
    assert!(text(find(&module, "DARK_MODE")).contains("pub const DARK_MODE : bool = false ;"));
    assert!(
        text(find(&module, "density"))
            .contains("pub const fn density () -> Density { Density :: Comfortable }")
    );
    assert!(
        text(find(&module, "DENSITY"))
            .contains("pub const DENSITY : Density = Density :: Comfortable ;")
    );

    // META in manifest order with every field, as columns the runtime assembles;
    // REGISTRY over it.
    let meta = meta_columns(&module);
    assert_eq!(meta.len, 4);
    assert_eq!(
        meta.strings["names"],
        ["search_v2", "checkout_layout", "dark_mode", "density"]
    );
    assert_eq!(
        meta.strings["descriptions"],
        [
            "New search ranking",
            "Which checkout page layout to show",
            "Dark theme",
            "Row density"
        ]
    );
    assert_eq!(
        meta.strings["owners"],
        ["search-team", "checkout|team", "ui"]
    );
    assert_eq!(
        meta.strings["variants"],
        ["classic", "two-col", "compact", "comfortable"]
    );
    let record = |i| flags_manifest::packed::MetaRecord::decode(&meta.records, i);
    let requirement = |i| flags_manifest::packed::decode_requirement(&meta.requirements, i);
    let search = record(0);
    assert_eq!(
        (
            search.kind,
            search.lifecycle,
            search.is_static,
            search.default
        ),
        (Kind::Release, Lifecycle::Active, false, Value::Bool(false))
    );
    assert_eq!(search.expires, Some(flags_manifest::Date::ymd(2027, 1, 31)));
    assert_eq!(
        (
            search.owner,
            search.variants,
            search.requires,
            search.excludes
        ),
        (0, 0, 1, 0)
    );
    assert_eq!(requirement(0), (1, Some(1)));
    let layout = record(1);
    assert_eq!(
        (layout.kind, layout.default, layout.owner, layout.variants),
        (Kind::Experiment, Value::Variant(1), 1, 2)
    );
    assert_eq!(record(2).kind, Kind::Ops);
    let density = record(3);
    assert_eq!(
        (
            density.kind,
            density.is_static,
            density.default,
            density.expires
        ),
        (Kind::Permission, true, Value::Variant(1), None)
    );
    assert_eq!(
        (
            density.owner,
            density.variants,
            density.requires,
            density.excludes
        ),
        (2, 2, 0, 1)
    );
    assert_eq!(requirement(1), (2, None));
    assert_eq!(meta.requirement_count, 2);
    let registry = text(find(&module, "REGISTRY"));
    assert!(
        registry.contains(
            "static CELLS : [__rt :: FastCell ; 4] = [const { __rt :: FastCell :: new () } ; 4] ;"
        ),
        "{registry}"
    );
    assert!(registry.contains("__rt :: Registry :: packed (& META , & CELLS , __MANIFEST_RULES , :: core :: include_str ! (\"/abs/flags.toml\") , \"flags.toml\" ,)"), "{registry}");
    assert!(
        text(find(&module, "__MANIFEST_RULES"))
            .contains("pub const __MANIFEST_RULES : & str = \"0,\" ;")
    );

    // Rebuild tracking.
    for needle in [
        ":: core :: include_bytes ! (\"/abs/flags.toml\")",
        ":: core :: option_env ! (\"FLAGS_TODAY\")",
        ":: core :: option_env ! (\"SOURCE_DATE_EPOCH\")",
        ":: core :: option_env ! (\"CARGO_PRIMARY_PACKAGE\")",
        ":: core :: option_env ! (\"FLAGS_STATIC_DARK_MODE\")",
        ":: core :: option_env ! (\"FLAGS_STATIC_DENSITY\")",
    ] {
        assert!(all.contains(needle), "{needle}");
    }
    assert!(!all.contains("FLAGS_STATIC_SEARCH_V2"));
    assert!(!all.contains("deprecated"));
}

#[test]
fn module_form_keeps_visibility_and_name() {
    let input: FlagsInput = syn::parse_str(r#"pub(crate) mod feature = "f.toml""#).unwrap();
    let file = ManifestFile::new("f.toml", "/abs/f.toml", MANIFEST);
    let (errors, module) = split(expand_manifest(&input, &file, &env("2026-06-01")));
    assert!(errors.is_empty());
    let module = module.unwrap();
    assert_eq!(module.ident, "feature");
    assert!(matches!(module.vis, syn::Visibility::Restricted(_)));
}

#[test]
fn static_values_from_the_environment() {
    let e = env("2026-06-01")
        .with_var("FLAGS_STATIC_DARK_MODE", "on")
        .with_var("FLAGS_STATIC_DENSITY", "compact");
    let (errors, module) = split(run(MANIFEST, &e));
    assert!(errors.is_empty(), "{errors:#?}");
    let module = module.unwrap();
    assert!(text(find(&module, "DARK_MODE")).contains("= true ;"));
    assert!(text(find(&module, "density")).contains("{ Density :: Compact }"));
    let Item::Fn(f) = find(&module, "dark_mode") else {
        panic!()
    };
    assert!(
        doc_of(&f.attrs)
            .contains("Static: compiled as `on`, set by `FLAGS_STATIC_DARK_MODE` at build time.")
    );

    let e = env("2026-06-01")
        .with_var("FLAGS_STATIC_DARK_MODE", "maybe")
        .with_var("FLAGS_STATIC_DENSITY", "Compact");
    let (errors, module) = split(run(MANIFEST, &e));
    assert_eq!(
        errors,
        [
            "flags.toml:20:8: `flags.dark_mode.static`: FLAGS_STATIC_DARK_MODE is `maybe`, which is not a value of static flag `dark_mode` (help: set FLAGS_STATIC_DARK_MODE to on or off, or unset it to use the default)",
            "flags.toml:26:8: `flags.density.static`: FLAGS_STATIC_DENSITY is `Compact`, which is not a value of static flag `density` (help: set FLAGS_STATIC_DENSITY to one of compact, comfortable, or unset it to use the default)",
        ]
    );
    // The module is still generated, with the defaults, so uses of it still resolve.
    assert!(text(find(&module.unwrap(), "DARK_MODE")).contains("= false ;"));
}

const EXPIRING: &str = r#"
[flags.old_search]
description = "d"
owner = "team-a"
kind = "release"
expires = 2026-01-31
"#;

fn with_policy(policy: &str) -> String {
    format!("[settings]\n{policy}\n{EXPIRING}")
}

#[test]
fn expiry_on_both_sides_of_the_date() {
    // The last day: expiring soon, documented, no warning item.
    let (errors, module) = split(run(EXPIRING, &env("2026-01-31")));
    assert!(errors.is_empty());
    let module = module.unwrap();
    let Item::Fn(f) = find(&module, "old_search") else {
        panic!()
    };
    assert!(doc_of(&f.attrs).contains("**Expires today** (2026-01-31): remove it from the code and `flags.toml`, or move `expires` later."));
    assert!(!quote::quote!(#module).to_string().contains("deprecated"));

    let (_, module) = split(run(EXPIRING, &env("2026-01-21")));
    let Item::Fn(f) = find(module.as_ref().unwrap(), "old_search") else {
        panic!()
    };
    assert!(doc_of(&f.attrs).contains("**Expires in 10 days** (on 2026-01-31)"));
    let (_, module) = split(run(EXPIRING, &env("2026-01-16")));
    let Item::Fn(f) = find(module.as_ref().unwrap(), "old_search") else {
        panic!()
    };
    assert!(
        !doc_of(&f.attrs).contains("**Expire"),
        "outside the warn-ahead window"
    );

    // The day after: a deprecated item, used, whose note reads as a sentence.
    let (errors, module) = split(run(EXPIRING, &env("2026-02-01")));
    assert!(errors.is_empty());
    let module = module.unwrap();
    let Item::Mod(stale) = items(&module)
        .iter()
        .find(|i| matches!(i, Item::Mod(m) if m.ident == "stale"))
        .unwrap()
    else {
        panic!()
    };
    assert!(matches!(stale.vis, syn::Visibility::Inherited), "private");
    let Item::Struct(s) = find(stale, "old_search_expired_2026_01_31") else {
        panic!()
    };
    let attrs = &s.attrs;
    let attrs = quote::quote!(#(#attrs)*).to_string();
    assert!(attrs.contains("# [deprecated (note = \"flag `old_search` (owner: team-a) expired on 2026-01-31, 1 day ago: remove it from the code and flags.toml, or move `expires` later\")]"), "{attrs}");
    let all = quote::quote!(#module).to_string();
    assert!(
        all.contains("const _ : () = { let _ = stale :: old_search_expired_2026_01_31 ; } ;"),
        "{all}"
    );
    let Item::Fn(f) = find(&module, "old_search") else {
        panic!()
    };
    assert!(doc_of(&f.attrs).contains("**Expired** on 2026-01-31, 1 day ago"));
}

#[test]
fn expiry_policies() {
    let error7 = with_policy("expiry = \"error\"\ngrace_days = 7");
    // Within the grace period: still only a warning.
    let (errors, module) = split(run(&error7, &env("2026-02-07")));
    assert!(errors.is_empty());
    assert!(quote::quote!(#module).to_string().contains("7 days ago"));
    // Past it: an error, and the module is still generated.
    let (errors, module) = split(run(&error7, &env("2026-02-08")));
    assert_eq!(
        errors,
        [
            "flags.toml:5:8: `flags.old_search.expires`: flag `old_search` (owner: team-a) expired on 2026-01-31, 8 days ago, past the 7-day grace period of expiry = \"error\" (help: remove it from the code and flags.toml, or move `expires` later)"
        ]
    );
    assert!(!quote::quote!(#module).to_string().contains("deprecated"));

    let off = with_policy("expiry = \"off\"");
    let (errors, module) = split(run(&off, &env("2030-01-01")));
    assert!(errors.is_empty());
    assert!(!quote::quote!(#module).to_string().contains("deprecated"));
}

#[test]
fn build_date_sources() {
    // SOURCE_DATE_EPOCH is used when FLAGS_TODAY is unset: 2026-02-01 is day 20485.
    let e = Env::new().with_var("SOURCE_DATE_EPOCH", (20_485 * 86_400 + 5).to_string());
    let (_, module) = split(run(EXPIRING, &e));
    assert!(
        quote::quote!(#module)
            .to_string()
            .contains("old_search_expired_2026_01_31")
    );
    // FLAGS_TODAY wins over SOURCE_DATE_EPOCH.
    let (_, module) = split(run(
        EXPIRING,
        &e.clone().with_var("FLAGS_TODAY", "2026-01-01"),
    ));
    assert!(!quote::quote!(#module).to_string().contains("expired"));

    for (var, value, expected) in [
        (
            "FLAGS_TODAY",
            "2026-02-30",
            "cannot tell today's date for flag expiry: FLAGS_TODAY: 2026-02-30 is not a day of the calendar",
        ),
        (
            "FLAGS_TODAY",
            "tomorrow",
            "cannot tell today's date for flag expiry: FLAGS_TODAY: `tomorrow` is not a date of the form YYYY-MM-DD",
        ),
        (
            "SOURCE_DATE_EPOCH",
            "yesterday",
            "cannot tell today's date for flag expiry: SOURCE_DATE_EPOCH: `yesterday` is not a whole number",
        ),
    ] {
        let (errors, module) = split(run(EXPIRING, &Env::new().with_var(var, value)));
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].starts_with(expected), "{errors:#?}");
        assert!(errors[0].contains("(help: set FLAGS_TODAY to a date such as 2027-01-31"));
        assert!(module.is_some());
    }
}

#[test]
fn manifest_errors_all_reported_with_an_empty_module() {
    // A misspelt kind is reported once: it does not also ask for `expires`.
    let src =
        "[flags.a]\nkind = \"ops\"\n[flags.b]\ndescription = \"d\"\nowner = 3\nkind = \"opps\"\n";
    let (errors, module) = split(run(src, &env("2026-01-01")));
    assert!(items(&module.unwrap()).is_empty(), "an empty module");
    assert_eq!(
        errors,
        [
            "flags.toml:1:8: `flags.a.description`: flag `a` has no `description` (help: add description = \"what the flag gates and why\")",
            "flags.toml:1:8: `flags.a.owner`: flag `a` has no `owner` (help: add owner = \"the team or person who answers for the flag\")",
            "flags.toml:5:9: `flags.b.owner`: expected a string, found an integer (help: put the text in double quotes)",
            "flags.toml:6:8: `flags.b.kind`: unknown kind `opps` (help: did you mean \"ops\"?)",
        ]
    );
}

#[test]
fn non_utf8_and_empty() {
    let input: FlagsInput = syn::parse_str(r#""bin.toml""#).unwrap();
    let file = ManifestFile::new("bin.toml", "/abs/bin.toml", vec![b'a', 0xff, 0, 1]);
    let (errors, module) = split(expand_manifest(&input, &file, &env("2026-01-01")));
    assert!(items(&module.unwrap()).is_empty(), "an empty module");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("bin.toml:1:2: the manifest is not UTF-8 text"),
        "{errors:?}"
    );

    let (errors, _) = split(run("", &env("2026-01-01")));
    assert_eq!(
        errors,
        [
            "flags.toml:1:1: `flags`: the manifest declares no flags (help: add a table per flag: `[flags.my_flag]` with description, owner and kind)"
        ]
    );
}

#[test]
fn stale_markers_cannot_clash_with_flags() {
    // A flag named like another flag's marker: the marker lives in its own module.
    let src = format!(
        "{EXPIRING}[flags.old_search_expired_2026_01_31]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\n[flags.stale]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nvariants = [\"a\", \"b\"]\ndefault = \"a\"\n"
    );
    let (errors, module) = split(run(&src, &env("2026-02-01")));
    assert!(errors.is_empty(), "{errors:#?}");
    let module = module.unwrap();
    assert!(matches!(
        find(&module, "old_search_expired_2026_01_31"),
        Item::Fn(_)
    ));
    // A flag called `stale` generates `fn stale` and `enum Stale`, neither a module.
    assert!(matches!(find(&module, "stale"), Item::Fn(_)));
    assert!(matches!(find(&module, "Stale"), Item::Enum(_)));
}

#[test]
fn a_dependency_compiles_quietly_past_its_dates() {
    // Cargo leaves CARGO_PRIMARY_PACKAGE unset when it builds someone's dependency.
    let error7 = with_policy("expiry = \"error\"\ngrace_days = 7");
    let dependency = env("2030-01-01").with_primary(false);
    let (errors, module) = split(run(&error7, &dependency));
    assert!(errors.is_empty(), "{errors:#?}");
    let all = quote::quote!(#module).to_string();
    assert!(!all.contains("deprecated"), "{all}");
    let (errors, module) = split(run(EXPIRING, &dependency));
    assert!(errors.is_empty());
    assert!(!quote::quote!(#module).to_string().contains("deprecated"));
    // Not even a bad build date is its users' problem.
    let bad_date = Env::new()
        .with_var("FLAGS_TODAY", "tomorrow")
        .with_primary(false);
    let (errors, module) = split(run(EXPIRING, &bad_date));
    assert!(errors.is_empty() && module.is_some(), "{errors:#?}");
    // The same build as a primary package fails.
    let (errors, _) = split(run(&error7, &env("2030-01-01")));
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

#[test]
fn generated_names_that_shadow_std_still_compile_paths() {
    // A variant flag called `option` generates `enum Option`; the expansion must not
    // rely on the prelude's `Option` or `Default`.
    let src = "[flags.option]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nvariants = [\"some\", \"none\"]\ndefault = \"none\"\n";
    let (errors, module) = split(run(src, &env("2026-01-01")));
    assert!(errors.is_empty());
    let all = quote::quote!(#module).to_string();
    assert!(all.contains("pub enum Option"));
    let unqualified = all.replace(":: core :: option :: Option", "");
    assert!(!unqualified.contains("Option <"), "{all}");
    assert!(!unqualified.contains("Option ::"), "{all}");
}

#[test]
fn never_panics_on_odd_manifests() {
    let odd = [
        "flags = {}\n",
        "[flags]\n",
        "[flags.a]\ndescription = \"\"\nowner = \" \"\n",
        "[flags.a]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nvariants = []\n",
        "[settings.naming]\nstyle = \"any\"\n[flags.Ab-c]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nvariants = [\"x-1\", \"Y_2\"]\ndefault = \"Y_2\"\n",
        "[flags.\"\"]\n",
        "[flags.\"a b\"]\n",
        "[flags.a]\ndescription = \"d\\n| x |\\n```\"\nowner = \"o\\\"\"\nkind = \"ops\"\n",
    ];
    for src in odd {
        let out = run(src, &env("2026-01-01"));
        let _ = split(out);
    }
}

#[test]
fn dependencies_rules_and_plan_are_documented_as_text() {
    let src = r#"
[flags.checkout]
description = """
Checkout v2.
    indented: not a doctest
```
panic!()
```"""
owner = "pay\nments <script>"
kind = "release"
expires = 2099-01-01
requires = ["layout=wide", "search"]
excludes = ["legacy"]
[[flags.checkout.strategies]]
type = "rollout"
percent = 25
stickiness = "tenant"
[[flags.checkout.strategies.constraints]]
attribute = "country"
operator = "in"
values = ["NZ", "A|U`*"]
[[flags.checkout.strategies]]
type = "keys"
keys = ["<b>"]
[flags.checkout.rollout]
stages = [1, 50, 100]
soak = "30m"
min_samples = 500
max_error_rate_increase = 0.005
max_latency_ratio = 1.2

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["narrow", "wide"]
default = "narrow"
variant_weights = { narrow = 1, wide = 2 }

[flags.search]
description = "d"
owner = "o"
kind = "ops"
enabled = false

[flags.legacy]
description = "d"
owner = "o"
kind = "ops"
"#;
    let (errors, module) = split(run(src, &env("2026-06-01")));
    assert!(errors.is_empty(), "{errors:#?}");
    let module = module.unwrap();
    let Item::Fn(f) = find(&module, "checkout") else {
        panic!()
    };
    let doc = doc_of(&f.attrs);
    let expected = [
        "Checkout v2.",
        "indented: not a doctest",
        "\\`\\`\\`",
        "panic!()",
        "\\`\\`\\`",
        "",
        "| Owner | Kind | Lifecycle | Expires | Default |",
        "|---|---|---|---|---|",
        "| pay ments &lt;script&gt; | release | active | 2099-01-01 | `off` |",
        "",
        "Requires: `layout` = `wide`, `search` on (otherwise this flag is off, or at its default variant).",
        "",
        "Excludes: `legacy` on (while that holds, this flag is off, or at its default variant).",
        "",
        "Rules in the manifest (a layer above can replace them at run time):",
        "",
        "- strategy 1: 25% rollout, sticky by tenant, when country `in` \\[NZ, A\\|U\\`\\*\\]",
        "- strategy 2: targeting keys &lt;b&gt;",
        "- no strategy matches: off",
        "",
        "Guarded rollout: stages 1% → 50% → 100%, each watched for at least 30m and 500 outcomes per side; rolled back when the error rate rises more than 0.5 percentage points over control, or latency exceeds 1.2× control (at 99% confidence).",
    ];
    assert_eq!(doc.lines().collect::<Vec<_>>(), expected, "{doc}");

    let Item::Fn(f) = find(&module, "layout") else {
        panic!()
    };
    assert!(
        doc_of(&f.attrs).contains(
            "- variants: `narrow` 33.3% / `wide` 66.7%, sticky by key (else session, else random)"
        ),
        "{}",
        doc_of(&f.attrs)
    );
    let Item::Fn(f) = find(&module, "search") else {
        panic!()
    };
    assert!(doc_of(&f.attrs).contains("- kill switch: `enabled = false`"));
}

#[test]
fn errors_are_capped() {
    // 60 flags with two errors each: 50 shown, then one line for the other 70.
    let mut src = String::new();
    for i in 0..60 {
        src.push_str(&format!("[flags.f{i}]\nkind = \"ops\"\n"));
    }
    let (errors, _) = split(run(&src, &env("2026-01-01")));
    assert_eq!(errors.len(), crate::ctxt::MAX_ERRORS + 1);
    assert!(
        errors[0].starts_with("flags.toml:1:8: `flags.f0.description`"),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors.last().unwrap(),
        "and 70 more problems in the manifest, which are not shown here: run `cargo flags lint` to see every one"
    );
    // At the cap exactly, nothing is cut.
    let mut src = String::new();
    for i in 0..25 {
        src.push_str(&format!("[flags.f{i}]\nkind = \"ops\"\n"));
    }
    let (errors, _) = split(run(&src, &env("2026-01-01")));
    assert_eq!(errors.len(), 50);
    assert!(!errors.iter().any(|e| e.contains("more problem")));
}

#[test]
fn misspelt_static_variables_warn() {
    let e = env("2026-06-01")
        .with_var("FLAGS_STATIC_DARK_MOD", "on")
        .with_var("FLAGS_STATIC_SEARCH_V2", "on")
        .with_var("FLAGS_STATIC_SOMEONE_ELSES_FLAG", "on")
        .with_var("FLAGS_STATIC_DENSE", "on")
        .with_var("FLAGS_STATIC_DENSITY", "compact");
    let (errors, module) = split(run(MANIFEST, &e));
    assert!(errors.is_empty(), "{errors:#?}");
    let all = quote::quote!(#module).to_string();
    assert!(all.contains("mod unread"), "{all}");
    assert!(all.contains("# [deprecated (note = \"FLAGS_STATIC_DARK_MOD is set, but no static flag of flags.toml reads it (help: did you mean FLAGS_STATIC_DARK_MODE?)\")]"), "{all}");
    assert!(all.contains("# [deprecated (note = \"FLAGS_STATIC_SEARCH_V2 is set, but flag `search_v2` of flags.toml is not static, so it is not read at build time (help: set FLAGS_SEARCH_V2 when the program runs, or declare the flag `static = true`)\")]"), "{all}");
    assert!(
        all.contains("let _ = unread :: FLAGS_STATIC_DARK_MOD ;"),
        "{all}"
    );
    // Tracked, so that unsetting it rebuilds and the warning goes.
    assert!(
        all.contains(":: core :: option_env ! (\"FLAGS_STATIC_DARK_MOD\")"),
        "{all}"
    );
    // A name close to nothing here may be meant for another crate's manifest.
    assert!(!all.contains("SOMEONE_ELSES"), "{all}");
    assert!(!all.contains("FLAGS_STATIC_DENSE "), "{all}");
    // The variables read are not reported.
    assert!(!all.contains("pub struct FLAGS_STATIC_DENSITY"), "{all}");

    let (_, module) = split(run(MANIFEST, &env("2026-06-01")));
    assert!(!quote::quote!(#module).to_string().contains("unread"));
}

#[test]
fn a_manifest_is_parsed_once_for_every_attribute_that_reads_it() {
    let text = "[flags.cached_once]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n";
    let file = ManifestFile::new("cache_probe.toml", "/p/cache_probe.toml", text);
    let first = crate::source::parsed(&file).unwrap();
    let again = crate::source::parsed(&file.clone()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again), "parsed twice");
    // An edit is seen: other bytes under the same name are parsed anew.
    let edited = ManifestFile::new(
        "cache_probe.toml",
        "/p/cache_probe.toml",
        text.replace("\"d\"", "\"e\""),
    );
    let fresh = crate::source::parsed(&edited).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&first, &fresh));
    assert_eq!(fresh.flags[0].description, "e");
    // A manifest with errors is reported, never kept.
    let broken = ManifestFile::new("cache_probe.toml", "/p/cache_probe.toml", "[flags");
    assert!(crate::source::parsed(&broken).is_err());
    assert!(crate::source::parsed(&broken).is_err());
}

#[test]
fn a_large_meta_table_is_built_in_parts() {
    // 4,100 flags: a first part of 4,096 rows, then 4. The variant names and the
    // prerequisites before the second part tell it where its own start.
    let mut src = String::new();
    for i in 0..4100 {
        src.push_str(&format!(
            "[flags.f{i}]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n"
        ));
        if i % 1000 == 999 {
            src.push_str("variants = [\"a\", \"b\"]\ndefault = \"a\"\n");
        }
        if i % 2000 == 1999 {
            src.push_str(&format!("requires = [\"f{}\"]\n", i - 1));
        }
    }
    let (errors, module) = split(run(&src, &env("2026-06-01")));
    assert!(errors.is_empty(), "{errors:#?}");
    let module = module.unwrap();
    assert!(
        text(find(&module, "__META_PART_0"))
            .ends_with("[__rt :: FlagMeta ; 4096] = __rt :: FlagMeta :: table_part (& __META_COLUMNS , 0 , 0 , 0) ;")
    );
    // Flags 999, 1999, 2999 and 3999 have two variant names each; 1999 and 3999
    // require another flag.
    assert!(
        text(find(&module, "__META_PART_1"))
            .ends_with("[__rt :: FlagMeta ; 4] = __rt :: FlagMeta :: table_part (& __META_COLUMNS , 4096 , 8 , 2) ;")
    );
    assert!(text(find(&module, "META")).ends_with(
        "pub static META : [__rt :: FlagMeta ; 4100] = __rt :: FlagMeta :: join (& [& __META_PART_0 , & __META_PART_1]) ;"
    ));
}
