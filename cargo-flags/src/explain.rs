//! `cargo flags explain NAME`: everything known about one flag in one place: its
//! manifest fields, generated items, rules in the manifest and the state file, expiry,
//! the flags that depend on it, its references, and its `requires` dependency tree.

use std::io::{self, Write};

use flags_manifest::{Flag, FlagType, Manifest, did_you_mean, expiry_state, to_upper_camel};

use crate::args::Globals;
use crate::cli::ExplainArgs;
use crate::expiry::{self, ExpiryClass};
use crate::outcome::{Exit, Failure};
use crate::refs::{self, Scan};
use crate::rules_summary::summarize;
use crate::workspace::{self, Loaded, State};

/// Runs `cargo flags explain`.
pub fn run(globals: &Globals, args: &ExplainArgs) -> Result<Exit, Failure> {
    let loaded = workspace::load(globals)?;
    let manifest = &loaded.manifest;
    let Some(flag) = resolve(manifest, &args.name) else {
        return Err(unknown(manifest, &args.name, &loaded.file.display));
    };
    let today = workspace::today(globals)?;
    let state = args
        .state
        .as_deref()
        .map(|path| workspace::load_state(path, manifest))
        .transpose()?;
    let scan = refs::scan(manifest, &loaded.file.dir, &args.scan)?;
    let mut out = io::stdout().lock();
    write_explanation(&mut out, &loaded, flag, state.as_ref(), &scan, today)?;
    Ok(Exit::Clean)
}

/// The flag `name` refers to: its manifest name, accessor, handle const or enum name.
fn resolve<'m>(manifest: &'m Manifest, name: &str) -> Option<&'m Flag> {
    manifest.flag(name).or_else(|| {
        manifest.flags.iter().find(|f| {
            f.ident == name
                || f.ident.to_uppercase() == name
                || (!f.variants().is_empty() && to_upper_camel(&f.ident) == name)
        })
    })
}

fn unknown(manifest: &Manifest, name: &str, file: &str) -> Failure {
    let names = manifest.flags.iter().map(|f| f.name.as_str());
    let hint = match did_you_mean(name, names.clone()) {
        Some(close) => format!(" (did you mean `{close}`?)"),
        None => {
            let all: Vec<&str> = names.collect();
            format!("; declared flags: {}", all.join(", "))
        }
    };
    Failure::msg(format!("no flag `{name}` in {file}{hint}"))
}

fn field(out: &mut impl Write, name: &str, value: impl std::fmt::Display) -> io::Result<()> {
    writeln!(out, "  {name:<11}  {value}")
}

fn or_dash(items: Vec<String>) -> String {
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

fn write_explanation(
    out: &mut impl Write,
    loaded: &Loaded,
    flag: &Flag,
    state: Option<&State>,
    scan: &Scan,
    today: flags_manifest::Date,
) -> io::Result<()> {
    let manifest = &loaded.manifest;
    let file = &loaded.file.display;
    writeln!(out, "{}: {}", flag.name, flag.description)?;
    field(
        out,
        "declared",
        format!("{file}:{}:{}", flag.pos.line, flag.pos.col),
    )?;
    field(out, "owner", &flag.owner)?;
    let lasting = if flag.kind.is_temporary() {
        "temporary"
    } else {
        "permanent"
    };
    field(out, "kind", format!("{} ({lasting})", flag.kind.as_str()))?;
    field(out, "lifecycle", flag.lifecycle.as_str())?;
    let es = expiry_state(flag, &manifest.settings, today);
    let expires = match flag.expires {
        Some(date) => format!(
            "{date} ({}: {}; judged on {today}, warn {} days ahead)",
            ExpiryClass::of(es).label(),
            expiry::distance(es),
            manifest.settings.warn_ahead_days
        ),
        None => "never (permanent)".to_owned(),
    };
    field(out, "expires", expires)?;
    let ty = match &flag.ty {
        FlagType::Bool => "on/off".to_owned(),
        FlagType::Variants(vs) => format!("variants: {}", vs.join(", ")),
    };
    field(out, "type", ty)?;
    field(out, "default", flag.value_label(flag.default))?;
    let static_text = if flag.is_static {
        format!(
            "yes: fixed at build time ({})",
            flags_manifest::static_env_var(&flag.name)
        )
    } else {
        "no: decided at run time".to_owned()
    };
    field(out, "static", static_text)?;
    let returns = match &flag.ty {
        FlagType::Bool => "bool".to_owned(),
        FlagType::Variants(_) => format!("flags::{}", to_upper_camel(&flag.ident)),
    };
    let konst = if flag.is_static { "const " } else { "" };
    field(
        out,
        "accessor",
        format!("pub {konst}fn flags::{}() -> {returns}", flag.ident),
    )?;
    field(
        out,
        "handle",
        format!("flags::{}", flag.ident.to_uppercase()),
    )?;
    if !flag.variants().is_empty() {
        let variants: Vec<String> = flag.variants().iter().map(|v| to_upper_camel(v)).collect();
        field(
            out,
            "enum",
            format!(
                "flags::{} {{ {} }}",
                to_upper_camel(&flag.ident),
                variants.join(", ")
            ),
        )?;
    }
    let refs_text = |refs: &[flags_manifest::FlagRef]| {
        or_dash(
            refs.iter()
                .map(|r| match &r.variant {
                    Some(v) => format!("{} = {v}", r.flag),
                    None => r.flag.clone(),
                })
                .collect(),
        )
    };
    field(out, "requires", refs_text(&flag.requires))?;
    field(out, "excludes", refs_text(&flag.excludes))?;
    let mut dependents = Vec::new();
    for other in &manifest.flags {
        for (list, how) in [
            (&other.requires, "requires it"),
            (&other.excludes, "excludes it"),
        ] {
            if list.iter().any(|r| r.flag == flag.name) {
                dependents.push(format!("{} ({how})", other.name));
            }
        }
    }
    field(out, "dependents", or_dash(dependents))?;
    field(
        out,
        "rules",
        format!("{file}: {}", summarize(flag, &flag.rules)),
    )?;
    if let Some(state) = state {
        let text = match state.rules.get(flag.index).cloned().flatten() {
            Some(rules) => summarize(flag, &rules),
            None => "not mentioned (the manifest decides)".to_owned(),
        };
        field(out, "", format!("{}: {text}", state.display))?;
    }
    let refs: Vec<_> = scan.of_flag(flag.index).collect();
    let mut files: Vec<&str> = refs.iter().map(|r| r.at.file.as_str()).collect();
    files.dedup();
    field(
        out,
        "references",
        format!(
            "{} in {} file{} under {}",
            refs.len(),
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            scan.root
        ),
    )?;
    for r in &refs {
        field(
            out,
            "",
            format!(
                "{}:{}:{}  {}  {}",
                r.at.file,
                r.at.line,
                r.at.col,
                r.kind.as_str(),
                r.text
            ),
        )?;
    }
    writeln!(out, "\nrequires tree:")?;
    for line in requires_tree(manifest, flag, today) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// The `requires` dependency tree under `root`, drawn with box characters. A flag met
/// again on its own path is marked as a cycle instead of being followed (the manifest
/// crate rejects cycles; this keeps the drawing finite regardless).
fn requires_tree(manifest: &Manifest, root: &Flag, today: flags_manifest::Date) -> Vec<String> {
    let mut lines = vec![root.name.clone()];
    let mut path = vec![root.name.as_str()];
    draw(manifest, root, "", &mut path, today, &mut lines);
    if root.requires.is_empty() {
        lines[0].push_str(" (requires no other flag)");
    }
    lines
}

fn draw<'m>(
    manifest: &'m Manifest,
    flag: &'m Flag,
    prefix: &str,
    path: &mut Vec<&'m str>,
    today: flags_manifest::Date,
    lines: &mut Vec<String>,
) {
    for (i, r) in flag.requires.iter().enumerate() {
        let last = i + 1 == flag.requires.len();
        let (branch, indent) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let mut label = match &r.variant {
            Some(v) => format!("{} = {v}", r.flag),
            None => r.flag.clone(),
        };
        let child = manifest.flag(&r.flag);
        match child {
            None => label.push_str(" (not declared)"),
            Some(c) if path.contains(&c.name.as_str()) => label.push_str(" (cycle)"),
            Some(c) => {
                let class = ExpiryClass::of(expiry_state(c, &manifest.settings, today));
                if matches!(class, ExpiryClass::Stale | ExpiryClass::Soon) {
                    label.push_str(&format!(" [{}]", class.label()));
                }
            }
        }
        lines.push(format!("{prefix}{branch}{label}"));
        if let Some(c) = child.filter(|c| !path.contains(&c.name.as_str())) {
            path.push(&c.name);
            draw(
                manifest,
                c,
                &format!("{prefix}{indent}"),
                path,
                today,
                lines,
            );
            path.pop();
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
requires = ["new_index", "layout=wide"]

[flags.new_index]
description = "d"
owner = "o"
kind = "ops"
requires = ["storage_v3"]

[flags.storage_v3]
description = "d"
owner = "o"
expires = 2026-01-01

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["narrow", "wide"]
default = "narrow"
requires = ["storage_v3"]
"#;

    #[test]
    fn draws_the_requires_tree() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let today = "2026-06-01".parse().unwrap();
        let lines = requires_tree(&m, m.flag("search_v2").unwrap(), today);
        assert_eq!(
            lines,
            [
                "search_v2",
                "├── new_index",
                "│   └── storage_v3 [stale]",
                "└── layout = wide",
                "    └── storage_v3 [stale]",
            ]
        );
        let leaf = requires_tree(&m, m.flag("storage_v3").unwrap(), today);
        assert_eq!(leaf, ["storage_v3 (requires no other flag)"]);
    }

    #[test]
    fn resolves_generated_names_too() {
        let m = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        for name in ["layout", "LAYOUT", "Layout"] {
            assert_eq!(resolve(&m, name).map(|f| f.name.as_str()), Some("layout"));
        }
        assert!(resolve(&m, "Search").is_none());
        let msg = unknown(&m, "serch_v2", "flags.toml").into_lines();
        assert_eq!(
            msg,
            ["error: no flag `serch_v2` in flags.toml (did you mean `search_v2`?)"]
        );
    }
}
