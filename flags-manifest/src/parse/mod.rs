//! Reading a manifest: TOML text to the [`Manifest`] model, with every problem collected
//! as a [`Diagnostic`] that points at the line and column of the offending key or value.

mod rules;
mod value;

use std::ops::Range;
use std::time::Duration;

use crate::error::{Ctxt, Diagnostic, ManifestError, SUGGEST_BUDGET, Suggestions};
use crate::model::{ExpiryPolicy, Flag, FlagType, Kind, Lifecycle, Manifest, Settings, Value};
use crate::plan::{Criteria, RolloutPlan, parse_duration};
use crate::rules::Rules;
use rules::read_rules;
use toml::Spanned;
use toml::de::{DeTable, DeValue};
use value::{
    as_f64, as_table, check_keys, key_span, read_bool, read_date, read_enum, read_refs,
    read_string, read_strings, read_u32, read_value, table_at,
};

/// Deeper bracket nesting than this is refused before parsing: no manifest needs it and
/// a hostile file must not exhaust the compiler's stack.
const MAX_NESTING: usize = 32;

/// The longest `grace_days` or `warn_ahead_days`: ten years, far beyond any real
/// policy, so that date arithmetic never overflows.
const MAX_DAYS: u32 = 3650;

const FLAG_KEYS: &[&str] = &[
    "description",
    "owner",
    "kind",
    "lifecycle",
    "expires",
    "default",
    "variants",
    "static",
    "requires",
    "excludes",
    "enabled",
    "strategies",
    "variant_weights",
    "variant_stickiness",
    "payloads",
    "rollout",
];

const RULE_FILE_FLAG_KEYS: &[&str] = &[
    "enabled",
    "value",
    "strategies",
    "variant_weights",
    "variant_stickiness",
    "payloads",
];

/// Parses and checks a manifest held in memory. `file` is how messages name it.
///
/// ```
/// let m = flags_manifest::parse_str(r#"
/// [flags.search_v2_stable]
/// description = "New search ranking"
/// owner = "search-team"
/// kind = "release"
/// expires = 2027-06-30
/// "#, "flags.toml").unwrap();
/// assert_eq!(m.flags[0].name, "search_v2_stable");
///
/// let err = flags_manifest::parse_str("[flags.x]\nowner = 1\n", "flags.toml").unwrap_err();
/// assert!(err.to_string().starts_with("flags.toml:1:8: `flags.x.description`"));
/// ```
pub fn parse_str(src: &str, file: &str) -> Result<Manifest, ManifestError> {
    parse_str_with_notes(src, file).map(|(m, _)| m)
}

/// Like [`parse_str`], also returning the non-fatal diagnostics.
pub fn parse_str_with_notes(
    src: &str,
    file: &str,
) -> Result<(Manifest, Vec<Diagnostic>), ManifestError> {
    let mut cx = Ctxt::new(src);
    let manifest = read_manifest(&mut cx);
    let notes = cx.finish(file)?;
    Ok((manifest, notes))
}

/// Parses raw bytes, reporting text that is not UTF-8 as a positioned error rather than
/// failing some other way.
pub fn parse_bytes(bytes: &[u8], file: &str) -> Result<Manifest, ManifestError> {
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_str(src, file),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            // Safe to decode: `valid_up_to` is by definition valid UTF-8.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let mut cx = Ctxt::new(prefix);
            let at = prefix.len();
            cx.error_help(
                at..at,
                "",
                format!("the manifest is not UTF-8 text (invalid byte at offset {at})"),
                "a manifest is a TOML file; save it as UTF-8",
            );
            cx.finish(file).map(|_| Manifest {
                settings: Settings::default(),
                flags: Vec::new(),
            })
        }
    }
}

/// Reads a rule file (the run-time layer): for each flag of `manifest`, rules in the
/// same schema as the manifest's rule keys, plus `value` for a fixed value. Returns the
/// rules by flag index.
///
/// ```
/// let m = flags_manifest::parse_str(r#"
/// [flags.beta]
/// description = "d"
/// owner = "o"
/// kind = "ops"
/// "#, "flags.toml").unwrap();
/// let rules = flags_manifest::parse_rules_str(r#"
/// [flags.beta]
/// [[flags.beta.strategies]]
/// type = "rollout"
/// percent = 25
/// "#, "state.toml", &m).unwrap();
/// assert_eq!(rules[0].0, 0);
/// assert!(flags_manifest::parse_rules_str("[flags.nope]\nvalue = true\n", "state.toml", &m).is_err());
/// ```
pub fn parse_rules_str(
    src: &str,
    file: &str,
    manifest: &Manifest,
) -> Result<Vec<(usize, Rules)>, ManifestError> {
    let mut cx = Ctxt::new(src);
    let mut out = Vec::new();
    // One budget for the whole file, so many unknown names cannot make it slow.
    let mut suggestions = Suggestions::new(
        manifest.flags.iter().map(|f| f.name.as_str()),
        SUGGEST_BUDGET,
    );
    if let Some(root) = parse_toml(&mut cx) {
        check_keys(&mut cx, &root, "", &["flags"]);
        if let Some(flags) = table_at(&mut cx, &root, "flags", "flags") {
            for (name, value) in flags.iter() {
                let path = format!("flags.{}", name.get_ref());
                let Some(flag) = manifest.flag(name.get_ref()) else {
                    let hint = suggestions.suggest(name.get_ref());
                    cx.error_help(
                        name.span(),
                        &path,
                        format!("no flag `{}` is declared in the manifest", name.get_ref()),
                        hint.map_or_else(
                            || "declare it in flags.toml first, or remove it here".to_owned(),
                            |h| format!("did you mean `{h}`?"),
                        ),
                    );
                    continue;
                };
                let Some(table) = as_table(&mut cx, value, &path) else {
                    continue;
                };
                check_keys(&mut cx, table, &path, RULE_FILE_FLAG_KEYS);
                let mut rules = read_rules(&mut cx, table, &path, &flag.name, &flag.ty);
                if let Some(v) = table.get("value") {
                    rules.value = read_value(&mut cx, v, &format!("{path}.value"), &flag.ty);
                }
                out.push((flag.index, rules));
            }
        }
    }
    cx.finish(file)?;
    Ok(out)
}

fn parse_toml<'i>(cx: &mut Ctxt<'i>) -> Option<DeTable<'i>> {
    if let Some(at) = too_deep(cx.src) {
        cx.error_help(
            at..at + 1,
            "",
            format!("brackets nest deeper than {MAX_NESTING} levels"),
            "a manifest needs only a few levels of tables and arrays",
        );
        return None;
    }
    let (root, errors) = DeTable::parse_recoverable(cx.src);
    if errors.is_empty() {
        return Some(root.into_inner());
    }
    for e in errors {
        let mut span = e.span().unwrap_or(0..0);
        // The parser gives its recursion limit no position; the culprit is the key with
        // the most dotted parts.
        if span.is_empty() && span.start == 0 && e.message().contains("recursion") {
            span = deepest_key(cx.src);
            cx.error_help(
                span,
                "",
                "invalid TOML: this key nests too deep for the parser",
                "a manifest needs only a few dotted parts per key, like flags.NAME.KEY",
            );
            continue;
        }
        let mut msg = e.message().trim().replace('\n', " ");
        // The parser's message does not say which key is duplicated; its span does.
        if msg.contains("duplicate key")
            && let Some(key) = cx
                .src
                .get(span.clone())
                .filter(|k| !k.is_empty() && k.len() < 200)
        {
            msg = format!("{msg} `{}`", key.trim());
        }
        cx.error_help(
            span,
            "",
            format!("invalid TOML: {msg}"),
            "fix the TOML syntax; every other check runs once the file parses",
        );
    }
    None
}

/// The span of the key (or table header) with the most dotted parts: where a key too
/// deep for the parser is. Quotes are honoured; the value after `=` is not looked at.
fn deepest_key(src: &str) -> Range<usize> {
    let mut best = (0, 0..0);
    let mut offset = 0;
    for line in src.split_inclusive('\n') {
        let text = line.trim_end();
        let indent = text.len() - text.trim_start().len();
        let mut dots = 0;
        let mut end = text.len();
        let mut quote = None;
        for (i, c) in text.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '.') => dots += 1,
                (None, '=' | '#') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        if dots > best.0 {
            best = (dots, offset + indent..offset + end.max(indent));
        }
        offset += line.len();
    }
    best.1
}

/// The offset of the first bracket nested deeper than [`MAX_NESTING`], skipping strings
/// and comments.
fn too_deep(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q;
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q
                        && (!triple || (b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q))
                    {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    if !triple && b[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => {
                // Table headers close on their own line; a stray bracket cannot carry
                // depth across lines except inside arrays, which is still bounded.
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn read_manifest(cx: &mut Ctxt<'_>) -> Manifest {
    let mut manifest = Manifest {
        settings: Settings::default(),
        flags: Vec::new(),
    };
    let Some(root) = parse_toml(cx) else {
        return manifest;
    };
    check_keys(cx, &root, "", &["settings", "flags"]);
    if let Some(settings) = table_at(cx, &root, "settings", "settings") {
        manifest.settings = read_settings(cx, settings);
    }
    let Some(flags) = table_at(cx, &root, "flags", "flags") else {
        if !root.contains_key("flags") {
            cx.error_help(
                0..0,
                "flags",
                "the manifest declares no flags",
                "add a table per flag: `[flags.my_flag]` with description, owner and kind",
            );
        }
        return manifest;
    };
    // First pass: names and types, so rules and references can be checked against them.
    let mut types: Vec<(String, FlagType)> = Vec::new();
    for (name, value) in flags.iter() {
        let ty = match value.get_ref() {
            DeValue::Table(t) => read_type(cx, t, &format!("flags.{}", name.get_ref())),
            _ => FlagType::Bool,
        };
        types.push((name.get_ref().to_string(), ty));
    }
    for (index, ((name, value), (_, ty))) in flags.iter().zip(types.iter()).enumerate() {
        let path = format!("flags.{}", name.get_ref());
        let Some(table) = as_table(cx, value, &path) else {
            continue;
        };
        if let Some(flag) = read_flag(cx, name, value.span(), table, index, ty.clone()) {
            manifest.flags.push(flag);
        }
    }
    crate::valid::check(cx, &mut manifest, &types);
    manifest
}

fn read_settings(cx: &mut Ctxt<'_>, t: &DeTable<'_>) -> Settings {
    let mut s = Settings::default();
    check_keys(
        cx,
        t,
        "settings",
        &["naming", "expiry", "grace_days", "warn_ahead_days"],
    );
    let grace = read_u32(
        cx,
        t,
        "grace_days",
        "settings.grace_days",
        MAX_DAYS,
        "a number of days in range",
    )
    .unwrap_or(0);
    if let Some((policy, span)) = read_string(cx, t, "expiry", "settings.expiry") {
        s.expiry = match policy.as_str() {
            "warn" => ExpiryPolicy::Warn,
            "error" => ExpiryPolicy::Error { grace_days: grace },
            "off" => ExpiryPolicy::Off,
            other => {
                cx.error_help(
                    span,
                    "settings.expiry",
                    format!("unknown expiry policy `{other}`"),
                    "use \"warn\", \"error\" (with grace_days) or \"off\"",
                );
                ExpiryPolicy::Warn
            }
        };
    }
    if t.contains_key("grace_days") && !matches!(s.expiry, ExpiryPolicy::Error { .. }) {
        let span = key_span(t, "grace_days");
        cx.error_help(
            span,
            "settings.grace_days",
            "grace_days only applies with expiry = \"error\"",
            "set expiry = \"error\" or remove grace_days",
        );
    }
    if let Some(days) = read_u32(
        cx,
        t,
        "warn_ahead_days",
        "settings.warn_ahead_days",
        MAX_DAYS,
        "a number of days in range",
    ) {
        s.warn_ahead_days = days;
    }
    if let Some(naming) = table_at(cx, t, "naming", "settings.naming") {
        check_keys(
            cx,
            naming,
            "settings.naming",
            &["style", "prefixes", "suffixes"],
        );
        if let Some((style, span)) = read_string(cx, naming, "style", "settings.naming.style") {
            match style.as_str() {
                "snake_case" => s.naming.snake_case = true,
                "any" => s.naming.snake_case = false,
                other => cx.error_help(
                    span,
                    "settings.naming.style",
                    format!("unknown naming style `{other}`"),
                    "use \"snake_case\" or \"any\"",
                ),
            }
        }
        s.naming.prefixes = read_strings(cx, naming, "prefixes", "settings.naming.prefixes")
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        s.naming.suffixes = read_strings(cx, naming, "suffixes", "settings.naming.suffixes")
            .into_iter()
            .map(|(v, _)| v)
            .collect();
    }
    s
}

fn read_type(cx: &mut Ctxt<'_>, t: &DeTable<'_>, path: &str) -> FlagType {
    if !t.contains_key("variants") {
        return FlagType::Bool;
    }
    let key = format!("{path}.variants");
    let variants = read_strings(cx, t, "variants", &key);
    let span = t.get("variants").map_or(0..0, Spanned::span);
    if variants.len() < 2 {
        cx.error_help(
            span.clone(),
            &key,
            "a variant flag needs at least two variants",
            "list them: variants = [\"control\", \"treatment\"], or remove `variants` for an on/off flag",
        );
    }
    if variants.len() > usize::from(u16::MAX) {
        cx.error(span, &key, "too many variants (at most 65535)");
    }
    FlagType::Variants(variants.into_iter().map(|(v, _)| v).collect())
}

fn read_flag(
    cx: &mut Ctxt<'_>,
    name: &Spanned<std::borrow::Cow<'_, str>>,
    span: Range<usize>,
    t: &DeTable<'_>,
    index: usize,
    ty: FlagType,
) -> Option<Flag> {
    let path = format!("flags.{}", name.get_ref());
    let head = name.span();
    check_keys(cx, t, &path, FLAG_KEYS);

    let required = |cx: &mut Ctxt<'_>, key: &str, what: &str| -> String {
        match read_string(cx, t, key, &format!("{path}.{key}")) {
            Some((v, span)) if v.trim().is_empty() => {
                cx.error_help(
                    span,
                    &format!("{path}.{key}"),
                    format!("`{key}` is empty"),
                    what.to_owned(),
                );
                v
            }
            Some((v, _)) => v,
            None => {
                if !t.contains_key(key) {
                    cx.error_help(
                        head.clone(),
                        &format!("{path}.{key}"),
                        format!("flag `{}` has no `{key}`", name.get_ref()),
                        what.to_owned(),
                    );
                }
                String::new()
            }
        }
    };
    let description = required(
        cx,
        "description",
        "add description = \"what the flag gates and why\"",
    );
    let owner = required(
        cx,
        "owner",
        "add owner = \"the team or person who answers for the flag\"",
    );

    let kind = read_enum(cx, t, "kind", &path, &Kind::ALL);
    // A misspelt kind is reported once; it must not also raise "needs `expires`".
    let kind_known = kind.is_some() || !t.contains_key("kind");
    let kind = kind.unwrap_or(Kind::Release);
    let lifecycle =
        read_enum(cx, t, "lifecycle", &path, &Lifecycle::ALL).unwrap_or(Lifecycle::Active);

    let expires = t
        .get("expires")
        .and_then(|v| read_date(cx, v, &format!("{path}.expires")));
    if expires.is_none() && kind_known && kind.is_temporary() && !t.contains_key("expires") {
        // Without `kind` the flag is a release flag; say so, or the complaint about
        // `expires` reads as if the user had asked for a temporary flag.
        let (message, help) = if t.contains_key("kind") {
            (
                format!(
                    "flag `{}` is a {} flag, which is temporary, but has no `expires` date",
                    name.get_ref(),
                    kind.as_str()
                ),
                "add expires = YYYY-MM-DD, or use kind = \"ops\" or \"permission\" for a permanent flag",
            )
        } else {
            (
                format!(
                    "flag `{}` has no `kind`, so it is a release flag, which is temporary, but it has no `expires` date",
                    name.get_ref()
                ),
                "add kind = \"ops\" or \"permission\" for a permanent flag, or kind = \"release\" and expires = YYYY-MM-DD",
            )
        };
        cx.error_help(head.clone(), &format!("{path}.expires"), message, help);
    }

    let default = match t.get("default") {
        Some(v) => read_value(cx, v, &format!("{path}.default"), &ty),
        None => match &ty {
            FlagType::Bool => Some(Value::Bool(false)),
            FlagType::Variants(vs) => {
                cx.error_help(
                    head.clone(),
                    &format!("{path}.default"),
                    format!("variant flag `{}` has no `default`", name.get_ref()),
                    format!(
                        "name the variant used when nothing else decides, e.g. default = \"{}\"",
                        vs.first().map_or("control", String::as_str)
                    ),
                );
                None
            }
        },
    };

    let is_static = match t.get("static") {
        Some(v) => read_bool(cx, v, &format!("{path}.static")).unwrap_or(false),
        None => false,
    };
    let requires = read_refs(cx, t, "requires", &path);
    let excludes = read_refs(cx, t, "excludes", &path);
    let rules = read_rules(cx, t, &path, name.get_ref(), &ty);
    if is_static && !rules.is_empty() {
        // Point at the first rule key written, not at a key that may be absent.
        let (key, span) = [
            "enabled",
            "strategies",
            "variant_weights",
            "variant_stickiness",
        ]
        .into_iter()
        .filter_map(|k| t.get_key_value(k).map(|(key, _)| (k, key.span())))
        .min_by_key(|(_, span)| span.start)
        .unwrap_or(("strategies", head.clone()));
        let message = if key == "enabled" {
            format!(
                "static flag `{}` cannot have `enabled`: a static flag's value is its `default`, fixed at compile time",
                name.get_ref()
            )
        } else {
            format!(
                "static flag `{}` cannot have run-time rules (`{key}`)",
                name.get_ref()
            )
        };
        let help = if key == "enabled" {
            "write default = true or false instead, or remove `static = true` to decide at run time"
        } else {
            "a static flag is fixed at compile time; remove `static = true` or the rules"
        };
        cx.error_help(span, &format!("{path}.{key}"), message, help);
    }

    let rollout = t
        .get("rollout")
        .and_then(|v| read_plan(cx, v, &format!("{path}.rollout"), &ty, is_static));

    Some(Flag {
        rollout,
        ident: crate::naming::to_snake_case(name.get_ref()),
        name: name.get_ref().to_string(),
        index,
        description,
        owner,
        kind,
        lifecycle,
        expires,
        ty,
        default: default.unwrap_or(Value::Bool(false)),
        is_static,
        requires,
        excludes,
        rules,
        pos: cx.pos(head.start..span.end),
    })
}

fn read_plan(
    cx: &mut Ctxt<'_>,
    v: &Spanned<DeValue<'_>>,
    path: &str,
    ty: &FlagType,
    is_static: bool,
) -> Option<RolloutPlan> {
    let t = as_table(cx, v, path)?;
    check_keys(
        cx,
        t,
        path,
        &[
            "stages",
            "soak",
            "min_samples",
            "max_error_rate",
            "max_error_rate_increase",
            "max_latency_ms",
            "max_latency_ratio",
            "confidence",
        ],
    );
    if *ty != FlagType::Bool || is_static {
        cx.error_help(
            v.span(),
            path,
            "a rollout plan needs a run-time on/off flag",
            "remove `variants`/`static`, or the plan",
        );
        return None;
    }
    let mut stages = Vec::new();
    for (text, span) in read_strings(cx, t, "stages", &format!("{path}.stages")) {
        match text.parse::<u8>() {
            Ok(p) if (1..=100).contains(&p) && stages.last().is_none_or(|last| p > *last) => {
                stages.push(p)
            }
            _ => cx.error_help(
                span,
                &format!("{path}.stages"),
                format!("stage `{text}` is not a percentage above the previous stage"),
                "list increasing whole percentages from 1 to 100, e.g. [1, 5, 25, 50, 100]",
            ),
        }
    }
    if stages.is_empty() && !t.contains_key("stages") {
        cx.error_help(
            v.span(),
            &format!("{path}.stages"),
            "a rollout plan has no `stages`",
            "add stages = [1, 5, 25, 50, 100]",
        );
    }
    let soak = match read_string(cx, t, "soak", &format!("{path}.soak")) {
        Some((s, span)) => match parse_duration(&s) {
            Some(d) => d,
            None => {
                cx.error_help(
                    span,
                    &format!("{path}.soak"),
                    format!("`{s}` is not a duration"),
                    "write a number and a unit: \"500ms\", \"30s\", \"10m\", \"2h\", \"1d\"",
                );
                Duration::ZERO
            }
        },
        None => Duration::from_secs(600),
    };
    let min_samples = read_u32(
        cx,
        t,
        "min_samples",
        &format!("{path}.min_samples"),
        u32::MAX,
        "a sample count in range",
    )
    .map_or(100, u64::from);
    let mut criteria = Criteria::default();
    let fraction = |cx: &mut Ctxt<'_>, key: &str, max: f64| -> Option<f64> {
        let v = t.get(key)?;
        let f = as_f64(cx, v, &format!("{path}.{key}"))?;
        if !(0.0..=max).contains(&f) {
            cx.error_help(
                v.span(),
                &format!("{path}.{key}"),
                format!("{f} is out of range"),
                format!("use a number from 0 to {max}"),
            );
            return None;
        }
        Some(f)
    };
    criteria.max_error_rate = fraction(cx, "max_error_rate", 1.0);
    if t.contains_key("max_error_rate_increase") {
        criteria.max_error_rate_increase = fraction(cx, "max_error_rate_increase", 1.0);
    }
    criteria.max_latency_ms = fraction(cx, "max_latency_ms", 1e9);
    criteria.max_latency_ratio = fraction(cx, "max_latency_ratio", 1e6);
    if let Some(c) = fraction(cx, "confidence", 1.0) {
        if !(0.5..1.0).contains(&c) {
            cx.error_help(
                key_span(t, "confidence"),
                &format!("{path}.confidence"),
                format!("confidence {c} is not between 0.5 and 1"),
                "use e.g. 0.99",
            );
        } else {
            criteria.confidence = c;
        }
    }
    Some(RolloutPlan {
        stages,
        soak,
        min_samples,
        criteria,
    })
}
