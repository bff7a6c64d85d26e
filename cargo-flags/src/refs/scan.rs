//! One Rust file, parsed with `syn`, searched for references to flags: paths ending in
//! an accessor, handle const or enum of the generated module, `use` of those items,
//! `#[feature_gate(..)]` attributes, and the same paths inside macro invocations
//! (whose bodies `syn` leaves as tokens). Comments and string literals never count.

use std::collections::HashMap;

use flags_manifest::to_snake_case;
use proc_macro2::{Spacing, Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

pub use super::names::{Names, RefKind};

/// A position in a scanned file (1-based line and column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
}

impl LineCol {
    fn of(span: Span) -> LineCol {
        let start = span.start();
        LineCol {
            line: start.line,
            col: start.column + 1,
        }
    }
}

/// A reference to a declared flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The flag's index in the manifest.
    pub flag: usize,
    /// Through which item.
    pub kind: RefKind,
    /// Where.
    pub at: LineCol,
    /// The path or attribute as written.
    pub text: String,
}

/// A reference to a flag the manifest does not declare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundUnknown {
    /// The flag name it implies (`serch_v2` for `flags::SERCH_V2`).
    pub name: String,
    /// Through which kind of item.
    pub kind: RefKind,
    /// Where.
    pub at: LineCol,
    /// The path or attribute as written.
    pub text: String,
}

/// Everything found in one file.
#[derive(Clone, Debug, Default)]
pub struct FileScan {
    /// References to declared flags.
    pub found: Vec<Found>,
    /// References to undeclared flags.
    pub unknown: Vec<FoundUnknown>,
    /// Module names declared by `flags!(mod NAME = ..)` invocations in the file.
    pub modules: Vec<String>,
    /// Why the file could not be scanned, and where.
    pub error: Option<(LineCol, String)>,
}

/// Parses `source` and collects its references.
pub fn scan_source(source: &str, names: &Names) -> FileScan {
    let file = match syn::parse_file(source) {
        Ok(file) => file,
        Err(e) => {
            return FileScan {
                error: Some((LineCol::of(e.span()), e.to_string())),
                ..FileScan::default()
            };
        }
    };
    let mut scanner = Scanner {
        names,
        imported: HashMap::new(),
        glob_from: Vec::new(),
        glob: false,
        out: FileScan::default(),
    };
    // `use` items may follow the code that relies on them, so imports are collected
    // in a first walk and paths resolved in a second.
    let mut imports = ImportWalk(&mut scanner);
    imports.visit_file(&file);
    scanner.glob = scanner
        .glob_from
        .iter()
        .any(|m| names.modules.contains(m) || scanner.out.modules.contains(m));
    scanner.visit_file(&file);
    scanner.out
}

struct Scanner<'n> {
    names: &'n Names,
    /// Items brought into scope by name (`use flags::{search_v2 as sv}`), by local
    /// name.
    imported: HashMap<String, (usize, RefKind)>,
    /// Last segments of glob imports' paths (`use crate::flags::*` gives `flags`).
    glob_from: Vec<String>,
    /// Whether the file glob-imports the generated module.
    glob: bool,
    out: FileScan,
}

/// A path as segments with their spans, from either `syn` or raw macro tokens.
type Segments = Vec<(String, Span)>;

fn ident_text(ident: &proc_macro2::Ident) -> String {
    let text = ident.to_string();
    match text.strip_prefix("r#") {
        Some(raw) => raw.to_owned(),
        None => text,
    }
}

/// Items of the generated module that are not flags.
fn is_module_item(name: &str) -> bool {
    matches!(name, "META" | "REGISTRY" | "CELLS")
        || name.starts_with("__")
        || name.contains("_expired_")
}

/// The flag name a reference to an unknown item implies.
fn implied_flag(item: &str) -> String {
    if item.bytes().any(|b| b.is_ascii_lowercase()) {
        to_snake_case(item)
    } else {
        item.to_ascii_lowercase()
    }
}

fn is_upper_camel(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.bytes().any(|b| b.is_ascii_lowercase())
}

impl Scanner<'_> {
    fn record(&mut self, flag: usize, kind: RefKind, span: Span, text: String) {
        self.out.found.push(Found {
            flag,
            kind,
            at: LineCol::of(span),
            text,
        });
    }

    fn record_unknown(&mut self, item: &str, kind: RefKind, span: Span, text: String) {
        self.out.unknown.push(FoundUnknown {
            name: implied_flag(item),
            kind,
            at: LineCol::of(span),
            text,
        });
    }

    /// The flag item a path's segment names; a single-segment path only counts when
    /// the file imported the name (by name or by glob from the generated module).
    fn lookup(&self, name: &str, qualified: bool) -> Option<(usize, RefKind)> {
        if qualified {
            self.names.items.get(name).copied()
        } else {
            self.imported.get(name).copied().or_else(|| {
                self.glob
                    .then(|| self.names.items.get(name).copied())
                    .flatten()
            })
        }
    }

    fn check_path(&mut self, segs: &Segments) {
        let Some((last, _)) = segs.last() else {
            return;
        };
        let n = segs.len();
        let text = || {
            segs.iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join("::")
        };
        let start = segs[0].1;
        if let Some((flag, kind)) = self.lookup(last, n > 1) {
            self.record(flag, kind, start, text());
            return;
        }
        // `CheckoutLayout::TwoCol`, `flags::CheckoutLayout::default()`.
        if n >= 2
            && let Some((flag, RefKind::Enum)) = self.lookup(&segs[n - 2].0, n > 2)
        {
            self.record(flag, RefKind::Enum, start, text());
            return;
        }
        // `flags::nope()` or `flags::Nope::Variant`: the generated module has no such
        // item, so the code refers to a flag that is not (or no longer) declared.
        for back in [2, 3] {
            let Some(i) = n.checked_sub(back) else {
                continue;
            };
            if !self.names.modules.contains(&segs[i].0) {
                continue;
            }
            let item = &segs[i + 1].0;
            if back == 3 && !is_upper_camel(item) {
                continue;
            }
            if !is_module_item(item) && !self.names.items.contains_key(item) {
                let kind = if back == 3 || is_upper_camel(item) {
                    RefKind::Enum
                } else if item.bytes().any(|b| b.is_ascii_lowercase()) {
                    RefKind::Accessor
                } else {
                    RefKind::Handle
                };
                let (item, span) = (item.clone(), segs[i].1);
                self.record_unknown(&item, kind, span, text());
            }
            return;
        }
    }

    /// Finds paths in raw tokens: `ident (:: ident)*`, recursing into groups.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.scan_tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(ident) => {
                    let mut segs: Segments = vec![(ident_text(ident), ident.span())];
                    let mut j = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(next)),
                    ) = (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                    {
                        if a.as_char() != ':' || a.spacing() != Spacing::Joint || b.as_char() != ':'
                        {
                            break;
                        }
                        segs.push((ident_text(next), next.span()));
                        j += 3;
                    }
                    self.check_path(&segs);
                    i = j;
                }
                _ => i += 1,
            }
        }
    }

    fn feature_gate(&mut self, attr: &syn::Attribute) {
        let syn::Meta::List(list) = &attr.meta else {
            return;
        };
        let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
        let args: Vec<&[TokenTree]> = tokens
            .split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
            .collect();
        let named = args.iter().find_map(|arg| match arg {
            [TokenTree::Ident(key), TokenTree::Punct(eq), value, ..]
                if key == "flag" && eq.as_char() == '=' =>
            {
                Some(value)
            }
            _ => None,
        });
        let first = || {
            args.first()?
                .iter()
                .find(|t| matches!(t, TokenTree::Ident(_) | TokenTree::Literal(_)))
        };
        let Some(target) = named.or_else(first) else {
            return;
        };
        let name = match target {
            TokenTree::Ident(ident) => ident_text(ident),
            TokenTree::Literal(_) => {
                match syn::parse2::<syn::LitStr>(TokenStream::from(target.clone())) {
                    Ok(lit) => lit.value(),
                    Err(_) => return,
                }
            }
            _ => return,
        };
        let text = format!("#[feature_gate({})]", list.tokens);
        let span = target.span();
        match self.names.flags.get(&name).copied() {
            Some(flag) => self.record(flag, RefKind::Attribute, span, text),
            None => self.out.unknown.push(FoundUnknown {
                name,
                kind: RefKind::Attribute,
                at: LineCol::of(span),
                text,
            }),
        }
    }

    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(ident_text(&p.ident));
                self.use_tree(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix);
                }
            }
            syn::UseTree::Glob(_) => {
                if let Some(last) = prefix.last() {
                    self.glob_from.push(last.clone());
                }
            }
            syn::UseTree::Name(n) => self.use_leaf(&n.ident, &n.ident, prefix),
            syn::UseTree::Rename(r) => self.use_leaf(&r.ident, &r.rename, prefix),
        }
    }

    fn use_leaf(
        &mut self,
        ident: &proc_macro2::Ident,
        alias: &proc_macro2::Ident,
        prefix: &[String],
    ) {
        let name = ident_text(ident);
        let Some(parent) = prefix.last() else {
            return;
        };
        let text = || format!("{}::{name}", prefix.join("::"));
        if let Some(&(flag, kind)) = self.names.items.get(&name) {
            self.imported.insert(ident_text(alias), (flag, kind));
            self.record(flag, RefKind::Import, ident.span(), text());
        } else if self.names.modules.contains(parent) && name != "self" && !is_module_item(&name) {
            self.record_unknown(&name, RefKind::Import, ident.span(), text());
        }
    }

    /// Notes `flags!(.. mod NAME = ..)`: NAME is another name of the generated module.
    fn flags_invocation(&mut self, mac: &syn::Macro) {
        if mac.path.segments.last().is_none_or(|s| s.ident != "flags") {
            return;
        }
        let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        for pair in tokens.windows(2) {
            if let [TokenTree::Ident(kw), TokenTree::Ident(name)] = pair
                && kw == "mod"
            {
                self.out.modules.push(ident_text(name));
            }
        }
    }
}

/// The first walk: `use` items and `flags!` invocations only.
struct ImportWalk<'a, 'n>(&'a mut Scanner<'n>);

impl<'ast> Visit<'ast> for ImportWalk<'_, '_> {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.0.use_tree(&item.tree, &mut Vec::new());
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.0.flags_invocation(mac);
    }
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Handled by the first walk.
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segs: Segments = path
            .segments
            .iter()
            .map(|s| (ident_text(&s.ident), s.ident.span()))
            .collect();
        self.check_path(&segs);
        visit::visit_path(self, path);
    }

    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "feature_gate")
        {
            self.feature_gate(attr);
        }
        visit::visit_attribute(self, attr);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let is_flags = mac.path.segments.last().is_some_and(|s| s.ident == "flags");
        // The manifest path and module name of `flags!` are not references.
        if !is_flags {
            self.scan_tokens(mac.tokens.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.checkout_layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "two-col"]
default = "classic"

[flags.beta]
description = "d"
owner = "o"
kind = "ops"
"#;

    /// (flag, kind, line, col) of each reference.
    type FoundAt = Vec<(String, RefKind, usize, usize)>;
    /// (implied flag, kind, line) of each unknown reference.
    type UnknownAt = Vec<(String, RefKind, usize)>;

    fn scan(src: &str) -> (FoundAt, UnknownAt) {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let names = Names::new(&m, Vec::new());
        let s = scan_source(src, &names);
        assert!(s.error.is_none(), "{:?}", s.error);
        (
            s.found
                .iter()
                .map(|f| (m.flags[f.flag].name.clone(), f.kind, f.at.line, f.at.col))
                .collect(),
            s.unknown
                .iter()
                .map(|u| (u.name.clone(), u.kind, u.at.line))
                .collect(),
        )
    }

    #[test]
    fn qualified_paths_of_every_item_kind() {
        let (found, unknown) = scan(
            "fn f(ctx: &C) -> flags::CheckoutLayout {\n    if flags::search_v2() && flags::SEARCH_V2.get_for(ctx) {}\n    my_mod::beta();\n    flags::CheckoutLayout::TwoCol\n}\n",
        );
        assert_eq!(
            found,
            [
                ("checkout_layout".into(), RefKind::Enum, 1, 18),
                ("search_v2".into(), RefKind::Accessor, 2, 8),
                ("search_v2".into(), RefKind::Handle, 2, 30),
                ("beta".into(), RefKind::Accessor, 3, 5),
                ("checkout_layout".into(), RefKind::Enum, 4, 5),
            ]
        );
        assert!(unknown.is_empty());
    }

    #[test]
    fn comments_strings_and_unimported_bare_names_do_not_count() {
        let (found, unknown) = scan(
            "// flags::search_v2()\n/// flags::beta()\nfn f() { let beta = 1; let s = \"flags::search_v2()\"; beta(); }\n",
        );
        assert!(found.is_empty(), "{found:?}");
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn imports_make_bare_names_count_even_when_declared_later() {
        let (found, _) =
            scan("fn f() { sv(); beta(); }\nuse crate::flags::{search_v2 as sv, beta};\n");
        assert_eq!(
            found,
            [
                ("search_v2".into(), RefKind::Import, 2, 20),
                ("beta".into(), RefKind::Import, 2, 37),
                ("search_v2".into(), RefKind::Accessor, 1, 10),
                ("beta".into(), RefKind::Accessor, 1, 16),
            ]
        );
    }

    #[test]
    fn glob_import_of_the_generated_module() {
        let (found, _) = scan("use crate::flags::*;\nfn f() -> bool { beta() }\n");
        assert_eq!(found, [("beta".into(), RefKind::Accessor, 2, 18)]);
        let (found, _) = scan("use crate::other::*;\nfn f() -> bool { beta() }\n");
        assert!(found.is_empty());
    }

    #[test]
    fn macro_bodies_are_scanned_as_tokens() {
        let (found, unknown) = scan(
            "fn f() { assert!(flags::beta(), \"flags::search_v2\"); println!(\"{}\", flags::nope()); }\n",
        );
        assert_eq!(found, [("beta".into(), RefKind::Accessor, 1, 18)]);
        assert_eq!(unknown, [("nope".into(), RefKind::Accessor, 1)]);
    }

    #[test]
    fn feature_gate_attributes_name_the_flag() {
        let (found, unknown) = scan(
            "#[feature_gate(search_v2)]\nfn a() {}\n#[flags_runtime::feature_gate(flag = \"checkout_layout\", variant = \"two-col\")]\nfn b() {}\n#[feature_gate(ghost, fallback = b)]\nfn c() {}\n",
        );
        assert_eq!(
            found,
            [
                ("search_v2".into(), RefKind::Attribute, 1, 16),
                ("checkout_layout".into(), RefKind::Attribute, 3, 38),
            ]
        );
        assert_eq!(unknown, [("ghost".into(), RefKind::Attribute, 5)]);
    }

    #[test]
    fn unknown_items_of_the_generated_module() {
        let (found, unknown) = scan(
            "use crate::flags::{serch_v2, REGISTRY, self};\nfn f() { flags::SERCH.get(); let _ = flags::Layout::Wide; let _ = &flags::META; other::nope(); }\n",
        );
        assert!(found.is_empty(), "{found:?}");
        assert_eq!(
            unknown,
            [
                ("serch_v2".into(), RefKind::Import, 1),
                ("serch".into(), RefKind::Handle, 2),
                ("layout".into(), RefKind::Enum, 2),
            ]
        );
    }

    #[test]
    fn custom_module_names_from_flags_invocations() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let names = Names::new(&m, Vec::new());
        let s = scan_source(
            "flags_runtime::flags!(pub(crate) mod feature = \"flags.toml\");\nfn f() { feature::nope(); }\n",
            &names,
        );
        assert_eq!(s.modules, ["feature"]);
        // Known only once the caller adds the module name and rescans.
        assert!(s.unknown.is_empty());
        let names = Names::new(&m, vec!["feature".to_owned()]);
        let s = scan_source("fn f() { feature::nope(); }\n", &names);
        assert_eq!(s.unknown.len(), 1);
    }

    #[test]
    fn syntax_errors_are_reported_with_a_position() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let names = Names::new(&m, Vec::new());
        let s = scan_source("fn f() {\n  let = ;\n}\n", &names);
        let (at, _) = s.error.unwrap();
        assert_eq!(at.line, 2);
    }
}
