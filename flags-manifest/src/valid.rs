//! Checks across the whole manifest, after each flag has been read on its own: naming
//! convention, identifiers that would not compile or would collide in generated code,
//! and references between flags (dangling, contradictory, cyclic).

use std::collections::HashMap;

use crate::error::{Ctxt, did_you_mean};
use crate::model::{Flag, FlagRef, FlagType, Manifest};
use crate::naming::{to_snake_case, to_upper_camel};

/// Identifiers that are keywords in some Rust edition; an accessor cannot be named so.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Names the generated module uses for itself.
const RESERVED: &[&str] = &["registry", "meta"];

fn is_snake_case(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && !name.ends_with('_')
        && !name.contains("__")
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// A snake_case name close to `name`, if one can be made from its letters and digits:
/// accents are dropped, other characters become `_`, and a leading digit gets `flag_`.
fn snake_case_proposal(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in to_snake_case(name).chars() {
        let c = fold_accent(c);
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if c.is_ascii_uppercase() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    let out = if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("flag_{out}")
    } else {
        out.to_owned()
    };
    (is_snake_case(&out) && out != name).then_some(out)
}

/// The ASCII letter under a Latin accented letter (`é` gives `e`); other characters
/// are returned as they are.
fn fold_accent(c: char) -> char {
    const FOLDS: &[(&str, char)] = &[
        ("àáâãäåÀÁÂÃÄÅ", 'a'),
        ("çÇ", 'c'),
        ("èéêëÈÉÊË", 'e'),
        ("ìíîïÌÍÎÏ", 'i'),
        ("ñÑ", 'n'),
        ("òóôõöøÒÓÔÕÖØ", 'o'),
        ("ùúûüÙÚÛÜ", 'u'),
        ("ýÿÝ", 'y'),
    ];
    FOLDS
        .iter()
        .find(|(from, _)| from.contains(c))
        .map_or(c, |(_, to)| *to)
}

fn is_plain_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
}

pub(crate) fn check(cx: &mut Ctxt<'_>, manifest: &mut Manifest, types: &[(String, FlagType)]) {
    let naming = manifest.settings.naming.clone();
    let mut idents: HashMap<String, String> = HashMap::new();
    let mut enums: HashMap<String, String> = HashMap::new();
    for flag in &manifest.flags {
        let key = format!("flags.{}", flag.name);
        let span = flag.pos.span.clone();
        let span = span.start..span.start + flag.name.len().max(1);
        if naming.snake_case && !is_snake_case(&flag.name) {
            let help = match snake_case_proposal(&flag.name) {
                Some(name) => format!(
                    "rename it `{name}` (snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter), or set [settings.naming] style = \"any\""
                ),
                None => "name it in snake_case: lowercase ASCII letters, digits and single `_`, starting with a letter, such as `search_v2`".to_owned(),
            };
            cx.error_help(
                span.clone(),
                &key,
                format!("flag name `{}` is not snake_case", flag.name),
                help,
            );
            continue;
        }
        if !naming.snake_case && !is_plain_name(&flag.name) {
            cx.error_help(
                span.clone(),
                &key,
                format!("flag name `{}` is not an identifier", flag.name),
                "use letters, digits, `_` and `-`, starting with a letter",
            );
            continue;
        }
        if KEYWORDS.contains(&flag.ident.as_str()) {
            cx.error_help(
                span.clone(),
                &key,
                format!(
                    "flag name `{}` is a Rust keyword, so its accessor could not be called",
                    flag.name
                ),
                format!("rename it, e.g. `{}_enabled`", flag.ident),
            );
        }
        if RESERVED.contains(&flag.ident.as_str()) {
            cx.error_help(
                span.clone(),
                &key,
                format!(
                    "flag name `{}` is reserved by the generated module",
                    flag.name
                ),
                "rename the flag",
            );
        }
        if let Some(first) = idents.insert(flag.ident.clone(), flag.name.clone()) {
            cx.error_help(
                span.clone(),
                &key,
                format!(
                    "flags `{first}` and `{}` both become the accessor `{}`",
                    flag.name, flag.ident
                ),
                "rename one of them",
            );
        }
        if let FlagType::Variants(vs) = &flag.ty {
            let ty_name = to_upper_camel(&flag.ident);
            if let Some(first) = enums.insert(ty_name.clone(), flag.name.clone()) {
                cx.error_help(
                    span.clone(),
                    &key,
                    format!(
                        "flags `{first}` and `{}` both become the enum `{ty_name}`",
                        flag.name
                    ),
                    "rename one of them",
                );
            }
            check_variants(cx, flag, vs);
        }
        if !naming.prefixes.is_empty()
            && !naming
                .prefixes
                .iter()
                .any(|p| flag.ident.starts_with(&format!("{p}_")))
        {
            cx.error_help(
                span.clone(),
                &key,
                format!(
                    "flag name `{}` does not start with a known domain prefix",
                    flag.name
                ),
                format!(
                    "start it with one of: {} (then `_`)",
                    naming.prefixes.join(", ")
                ),
            );
        }
        if !naming.suffixes.is_empty()
            && !naming
                .suffixes
                .iter()
                .any(|s| flag.ident.ends_with(&format!("_{s}")))
        {
            cx.error_help(
                span,
                &key,
                format!(
                    "flag name `{}` does not end with a lifecycle suffix",
                    flag.name
                ),
                format!("end it with `_` and one of: {}", naming.suffixes.join(", ")),
            );
        }
    }
    for flag in &manifest.flags {
        check_refs(cx, flag, &flag.requires, "requires", types);
        check_refs(cx, flag, &flag.excludes, "excludes", types);
    }
    let has_cycles = check_cycles(cx, &manifest.flags);
    crate::deps::check(cx, &manifest.flags, has_cycles);
}

fn check_variants(cx: &mut Ctxt<'_>, flag: &Flag, variants: &[String]) {
    let key = format!("flags.{}.variants", flag.name);
    let span = flag.pos.span.clone();
    let mut seen: HashMap<String, &str> = HashMap::new();
    for v in variants {
        if !is_plain_name(v) {
            cx.error_help(
                span.clone(),
                &key,
                format!("variant `{v}` is not an identifier"),
                "use letters, digits, `_` and `-`, starting with a letter",
            );
            continue;
        }
        let camel = to_upper_camel(v);
        if KEYWORDS.contains(&camel.as_str()) {
            cx.error_help(
                span.clone(),
                &key,
                format!("variant `{v}` becomes `{camel}`, a Rust keyword"),
                "rename the variant",
            );
        }
        if let Some(first) = seen.insert(camel.clone(), v) {
            let msg = if first == v {
                format!("variant `{v}` is listed twice")
            } else {
                format!("variants `{first}` and `{v}` both become the enum variant `{camel}`")
            };
            cx.error_help(
                span.clone(),
                &key,
                msg,
                "give every variant a distinct name",
            );
        }
    }
}

fn check_refs(
    cx: &mut Ctxt<'_>,
    flag: &Flag,
    refs: &[FlagRef],
    what: &str,
    types: &[(String, FlagType)],
) {
    let key = format!("flags.{}.{what}", flag.name);
    for r in refs {
        let span = r.pos.span.clone();
        if r.flag == flag.name {
            cx.error_help(
                span,
                &key,
                format!("`{}` {what} itself", flag.name),
                "remove it from the list",
            );
            continue;
        }
        let Some((_, ty)) = types.iter().find(|(n, _)| *n == r.flag) else {
            let hint = did_you_mean(&r.flag, types.iter().map(|(n, _)| n.as_str()));
            cx.error_help(
                span,
                &key,
                format!("`{}` {what} `{}`, which is not declared", flag.name, r.flag),
                hint.map_or_else(
                    || "declare that flag or remove the reference".to_owned(),
                    |h| format!("did you mean `{h}`?"),
                ),
            );
            continue;
        };
        match (ty, &r.variant) {
            (FlagType::Bool, Some(v)) => cx.error_help(
                span,
                &key,
                format!("`{}` is an on/off flag; it has no variant `{v}`", r.flag),
                format!("write just \"{}\"", r.flag),
            ),
            (FlagType::Variants(vs), Some(v)) if !vs.contains(v) => cx.error_help(
                span,
                &key,
                format!(
                    "`{}` has no variant `{v}` (variants: {})",
                    r.flag,
                    vs.join(", ")
                ),
                "name one of its variants",
            ),
            _ => {}
        }
    }
}

/// Reports each `requires` cycle once, naming the flags along it.
fn check_cycles(cx: &mut Ctxt<'_>, flags: &[Flag]) -> bool {
    let mut found = false;
    let index: HashMap<&str, usize> = flags
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = flags
        .iter()
        .map(|f| {
            f.requires
                .iter()
                .filter_map(|r| index.get(r.flag.as_str()).copied())
                .filter(|&j| flags[j].name != f.name)
                .collect()
        })
        .collect();
    // Iterative depth-first search with colours: 0 unvisited, 1 on stack, 2 done.
    let mut colour = vec![0u8; flags.len()];
    for start in 0..flags.len() {
        if colour[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        colour[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match colour[to] {
                    0 => {
                        colour[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let mut path: Vec<&str> = stack[from..]
                            .iter()
                            .map(|(n, _)| flags[*n].name.as_str())
                            .collect();
                        path.push(&flags[to].name);
                        let f = &flags[node];
                        let span = f
                            .requires
                            .iter()
                            .find(|r| r.flag == flags[to].name)
                            .map_or(f.pos.span.clone(), |r| r.pos.span.clone());
                        found = true;
                        cx.error_help(
                            span,
                            &format!("flags.{}.requires", f.name),
                            format!("`requires` forms a cycle: {}", path.join(" -> ")),
                            "a flag cannot depend on itself through other flags; remove one link",
                        );
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
    found
}
