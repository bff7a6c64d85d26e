//! Reading a manifest: TOML text to the [`Manifest`] model, with every problem collected
//! as a [`Diagnostic`] that points at the line and column of the offending key or value.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use std::time::Duration;

use crate::date::Date;
use crate::error::{Ctxt, Diagnostic, ManifestError, SUGGEST_BUDGET, Suggestions, did_you_mean};
use crate::model::{
    ExpiryPolicy, Flag, FlagRef, FlagType, Kind, Lifecycle, Manifest, Settings, Value,
};
use crate::operand;
use crate::plan::{Criteria, RolloutPlan, parse_duration};
use crate::rules::{
    Constraint, Operator, PayloadKind, Rules, Stickiness, Strategy, StrategyKind, VariantPayload,
    WeightedVariant,
};

/// Deeper bracket nesting than this is refused before parsing: no manifest needs it and
/// a hostile file must not exhaust the compiler's stack.
const MAX_NESTING: usize = 32;

/// The longest `grace_days` or `warn_ahead_days`: ten years, far beyond any real
/// policy, so that date arithmetic never overflows.
const MAX_DAYS: u32 = 3650;

/// The largest variant weight. Weights are relative (a variant gets its weight over the
/// sum), so this bound only keeps the sum of many weights far from overflow.
const MAX_WEIGHT: u32 = 1_000_000;

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
const PAYLOAD_KEYS: &[&str] = &["type", "value"];
const STRATEGY_KEYS: &[&str] = &[
    "type",
    "keys",
    "percent",
    "stickiness",
    "group_id",
    "constraints",
    "variants",
    "variant_stickiness",
];
const CONSTRAINT_KEYS: &[&str] = &[
    "attribute",
    "operator",
    "values",
    "value",
    "inverted",
    "case_insensitive",
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
        ident: crate::valid::to_snake_case(name.get_ref()),
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

fn as_f64(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<f64> {
    match v.get_ref() {
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        DeValue::Integer(i) => i.as_str().replace('_', "").parse().ok(),
        other => {
            cx.error_help(
                v.span(),
                path,
                format!("expected a number, found {}", describe(other)),
                "write a number without quotes",
            );
            None
        }
    }
}

fn read_rules(cx: &mut Ctxt<'_>, t: &DeTable<'_>, path: &str, flag: &str, ty: &FlagType) -> Rules {
    let mut rules = Rules::default();
    if let Some(v) = t.get("enabled") {
        rules.enabled = read_bool(cx, v, &format!("{path}.enabled"));
    }
    if let Some(v) = t.get("variant_stickiness")
        && let Some((s, _)) = as_string(cx, v, &format!("{path}.variant_stickiness"))
    {
        rules.variant_stickiness = Stickiness::parse(&s);
    }
    rules.variants = read_weights(cx, t, "variant_weights", path, ty);
    if let Some(v) = t.get("strategies") {
        let key = format!("{path}.strategies");
        if let Some(items) = as_array(cx, v, &key) {
            for (i, item) in items.iter().enumerate() {
                let key = format!("{key}[{i}]");
                if let Some(st) = as_table(cx, item, &key)
                    && let Some(s) = read_strategy(cx, st, item.span(), &key, flag, ty)
                {
                    rules.strategies.push(s);
                }
            }
        }
    }
    let payloads = read_payloads(cx, t, path, ty);
    if !payloads.is_empty() {
        // A variant's payload goes with it wherever it is weighted, as Unleash keeps
        // the payload on each weighted variant.
        let lists = std::iter::once(&mut rules.variants)
            .chain(rules.strategies.iter_mut().map(|s| &mut s.variants));
        for list in lists {
            for w in list.iter_mut() {
                if let Some((_, p)) = payloads.iter().find(|(i, _)| *i == w.variant) {
                    w.payload = Some(p.clone());
                }
            }
        }
    }
    rules
}

/// `payloads = { <variant> = { type = "json", value = "..." } }`: the payload each
/// variant carries, by variant index. A `json` value must parse as JSON and a
/// `number` as a number.
fn read_payloads(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    path: &str,
    ty: &FlagType,
) -> Vec<(u16, VariantPayload)> {
    let Some((table, names, path)) = variant_table(cx, t, "payloads", path, ty, "variant payloads")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, entry) in table.iter() {
        let key = format!("{path}.{}", name.get_ref());
        let Some(index) = variant_index(cx, name, &key, names) else {
            continue;
        };
        let Some(e) = as_table(cx, entry, &key) else {
            continue;
        };
        check_keys(cx, e, &key, PAYLOAD_KEYS);
        let kinds = || {
            PayloadKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let kind = match e.get("type") {
            Some(k) => match as_string(cx, k, &format!("{key}.type")) {
                Some((text, span)) => match PayloadKind::parse(&text) {
                    Some(kind) => Some(kind),
                    None => {
                        cx.error_help(
                            span,
                            &format!("{key}.type"),
                            format!("unknown payload type `{text}`"),
                            did_you_mean(&text, PayloadKind::ALL.iter().map(|k| k.as_str()))
                                .map_or_else(
                                    || format!("payload types are: {}", kinds()),
                                    |s| format!("did you mean `{s}`?"),
                                ),
                        );
                        None
                    }
                },
                None => None,
            },
            None => {
                cx.error_help(
                    entry.span(),
                    &key,
                    "a payload needs a `type`",
                    format!("add type = \"...\", one of: {}", kinds()),
                );
                None
            }
        };
        let value = match e.get("value") {
            Some(v) => as_string(cx, v, &format!("{key}.value")),
            None => {
                cx.error_help(
                    entry.span(),
                    &key,
                    "a payload needs a `value`",
                    "add value = \"...\" (the payload as text, whatever its type)",
                );
                None
            }
        };
        if let (Some(kind), Some((value, span))) = (kind, value) {
            match VariantPayload::new(kind, value) {
                Ok(p) => out.push((index as u16, p)),
                Err(why) => cx.error_help(
                    span,
                    &format!("{key}.value"),
                    format!("this `{}` payload is invalid: {why}", kind.as_str()),
                    match kind {
                        PayloadKind::Json => {
                            "write a JSON document in a TOML string, e.g. value = '{\"cols\": 2}'"
                        }
                        _ => "write a number as text, e.g. value = \"2.5\"",
                    },
                ),
            }
        }
    }
    out
}

fn read_strategy(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    span: Range<usize>,
    path: &str,
    flag: &str,
    ty: &FlagType,
) -> Option<Strategy> {
    check_keys(cx, t, path, STRATEGY_KEYS);
    let kind = match read_string(cx, t, "type", &format!("{path}.type")) {
        None => {
            if !t.contains_key("type") {
                cx.error_help(
                    span.clone(),
                    &format!("{path}.type"),
                    "strategy has no `type`",
                    "add type = \"all\", \"keys\" or \"rollout\"",
                );
            }
            None
        }
        Some((ty_name, ty_span)) => match ty_name.as_str() {
            "all" => Some(StrategyKind::All),
            "keys" => {
                let keys = read_strings(cx, t, "keys", &format!("{path}.keys"));
                if !t.contains_key("keys") {
                    cx.error_help(
                        span.clone(),
                        &format!("{path}.keys"),
                        "a `keys` strategy needs a `keys` list",
                        "add keys = [\"user-1\", \"user-2\"]",
                    );
                }
                Some(StrategyKind::Keys(
                    keys.into_iter().map(|(k, _)| k).collect(),
                ))
            }
            "rollout" => {
                let percent = match read_u32(
                    cx,
                    t,
                    "percent",
                    &format!("{path}.percent"),
                    100,
                    "a percentage",
                ) {
                    Some(p) => u8::try_from(p).ok(),
                    None => {
                        if !t.contains_key("percent") {
                            cx.error_help(
                                span.clone(),
                                &format!("{path}.percent"),
                                "a `rollout` strategy needs a `percent`",
                                "add percent = 10",
                            );
                        }
                        None
                    }
                };
                let stickiness = read_string(cx, t, "stickiness", &format!("{path}.stickiness"))
                    .map_or(Stickiness::Default, |(s, _)| Stickiness::parse(&s));
                let group_id = read_string(cx, t, "group_id", &format!("{path}.group_id"))
                    .map_or_else(|| flag.to_owned(), |(g, _)| g);
                percent.map(|percent| StrategyKind::Rollout {
                    percent,
                    stickiness,
                    group_id,
                })
            }
            other => {
                cx.error_help(
                    ty_span,
                    &format!("{path}.type"),
                    format!("unknown strategy type `{other}`"),
                    did_you_mean(other, ["all", "keys", "rollout"]).map_or_else(
                        || "use \"all\", \"keys\" or \"rollout\"".to_owned(),
                        |s| format!("did you mean \"{s}\"?"),
                    ),
                );
                None
            }
        },
    };
    let mut constraints = Vec::new();
    if let Some(v) = t.get("constraints") {
        let key = format!("{path}.constraints");
        if let Some(items) = as_array(cx, v, &key) {
            for (i, item) in items.iter().enumerate() {
                let key = format!("{key}[{i}]");
                if let Some(ct) = as_table(cx, item, &key)
                    && let Some(c) = read_constraint(cx, ct, item.span(), &key)
                {
                    constraints.push(c);
                }
            }
        }
    }
    let variants = read_weights(cx, t, "variants", path, ty);
    let variant_stickiness = read_string(
        cx,
        t,
        "variant_stickiness",
        &format!("{path}.variant_stickiness"),
    )
    .map_or(Stickiness::Default, |(s, _)| Stickiness::parse(&s));
    Some(Strategy {
        kind: kind?,
        constraints,
        variants,
        variant_stickiness,
        pos: cx.pos(span),
    })
}

fn read_constraint(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    span: Range<usize>,
    path: &str,
) -> Option<Constraint> {
    check_keys(cx, t, path, CONSTRAINT_KEYS);
    let attribute = read_string(cx, t, "attribute", &format!("{path}.attribute"));
    if attribute.is_none() && !t.contains_key("attribute") {
        cx.error_help(
            span.clone(),
            &format!("{path}.attribute"),
            "constraint has no `attribute`",
            "add attribute = \"country\"",
        );
    }
    let operator = match read_string(cx, t, "operator", &format!("{path}.operator")) {
        Some((op, op_span)) => {
            let parsed = Operator::parse(&op);
            if parsed.is_none() {
                let names = Operator::ALL.iter().map(|(_, s, _)| *s);
                cx.error_help(
                    op_span,
                    &format!("{path}.operator"),
                    format!("unknown operator `{op}`"),
                    did_you_mean(&op, names).map_or_else(
                        || "use one of in, not_in, str_contains, str_starts_with, str_ends_with, num_eq, num_gt, num_gte, num_lt, num_lte, date_after, date_before, semver_eq, semver_gt, semver_gte, semver_lt, semver_lte, regex, in_cidr".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    ),
                );
            }
            parsed
        }
        None => {
            if !t.contains_key("operator") {
                cx.error_help(
                    span.clone(),
                    &format!("{path}.operator"),
                    "constraint has no `operator`",
                    "add operator = \"in\"",
                );
            }
            None
        }
    };
    let mut values: Vec<(String, Range<usize>)> =
        read_strings(cx, t, "values", &format!("{path}.values"));
    if let Some(v) = t.get("value")
        && let Some(s) = as_scalar_string(cx, v, &format!("{path}.value"))
    {
        values.push(s);
    }
    let operator = operator?;
    let case_insensitive = t
        .get("case_insensitive")
        .and_then(|v| read_bool(cx, v, &format!("{path}.case_insensitive")))
        .unwrap_or(false);
    if operator.takes_list() {
        if values.is_empty() {
            cx.error_help(
                span.clone(),
                &format!("{path}.values"),
                "constraint has no values to compare with",
                "add values = [\"...\"]",
            );
        }
    } else if values.len() != 1 {
        cx.error_help(
            span.clone(),
            &format!("{path}.value"),
            "this operator compares with exactly one value",
            "write value = \"...\" (one value)",
        );
    } else {
        let (v, vspan) = &values[0];
        let ok = match operator {
            Operator::NumEq
            | Operator::NumGt
            | Operator::NumGte
            | Operator::NumLt
            | Operator::NumLte => operand::parse_number(v).is_some(),
            Operator::SemverEq
            | Operator::SemverGt
            | Operator::SemverLt
            | Operator::SemverGte
            | Operator::SemverLte => operand::Version::parse(v).is_some(),
            Operator::DateAfter | Operator::DateBefore => operand::parse_datetime(v).is_some(),
            Operator::Regex => match check_regex(v, case_insensitive) {
                Ok(()) => true,
                Err(problem) => {
                    cx.error_help(
                        vspan.clone(),
                        &format!("{path}.value"),
                        format!("`{v}` is not a valid regular expression: {problem}"),
                        "write a pattern in the `regex` crate's syntax (it has no look-around and no backreferences)",
                    );
                    true
                }
            },
            _ => true,
        };
        if !ok {
            cx.error_help(
                vspan.clone(),
                &format!("{path}.value"),
                format!("`{v}` is not a valid operand for this operator"),
                "numeric operators take a number, semver operators a version like 1.2.3, date operators an RFC 3339 date-time like 2027-01-31T00:00:00Z",
            );
        }
    }
    if operator == Operator::InCidr {
        for (v, vspan) in &values {
            if operand::Cidr::parse(v).is_none() {
                cx.error_help(
                    vspan.clone(),
                    &format!("{path}.values"),
                    format!("`{v}` is not an IP address or CIDR range"),
                    "write an address like 10.0.0.1 or a range like 10.0.0.0/8 or 2001:db8::/32",
                );
            }
        }
    }
    let inverted = t
        .get("inverted")
        .and_then(|v| read_bool(cx, v, &format!("{path}.inverted")))
        .unwrap_or(false);
    Some(Constraint {
        attribute: attribute?.0,
        operator,
        values: values.into_iter().map(|(v, _)| v).collect(),
        inverted,
        case_insensitive,
    })
}

/// Most bytes of the compiled program of one `regex` operand: the `regex` crate's
/// default, which Unleash's engine uses too, so both accept the same patterns.
pub const REGEX_SIZE_LIMIT: usize = 10 * (1 << 20);
/// Most bytes of one `regex` operand's lazy-DFA cache, per thread (the `regex`
/// crate's default).
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * (1 << 20);
/// Deepest nesting of groups and repetitions in a `regex` operand (the `regex`
/// crate's default).
pub const REGEX_NEST_LIMIT: u32 = 250;

/// Compiles a `regex` operand within the limits above: the one builder that both the
/// manifest check and the run-time evaluation use, so a pattern accepted here
/// behaves the same there.
///
/// # Errors
///
/// The `regex` crate's error when the pattern does not compile within the limits.
pub fn build_regex(pattern: &str, case_insensitive: bool) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .nest_limit(REGEX_NEST_LIMIT)
        .build()
}

/// Whether `pattern` compiles as a `regex` constraint operand: the `regex` crate's
/// syntax, within [`REGEX_SIZE_LIMIT`]. `Err` says what is wrong, on one line.
///
/// ```
/// assert!(flags_manifest::check_regex("^user-[0-9]+$", false).is_ok());
/// assert!(flags_manifest::check_regex("(unclosed", false).is_err());
/// assert!(flags_manifest::check_regex("a{1000}{1000}", false).is_err());
/// ```
pub fn check_regex(pattern: &str, case_insensitive: bool) -> Result<(), String> {
    build_regex(pattern, case_insensitive)
        .map(drop)
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "it compiles to more than {limit} bytes; simplify it (fewer or smaller repetitions)"
            ),
            // The syntax error's own text spans several lines with a caret; its last
            // line says what is wrong.
            other => other
                .to_string()
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map_or_else(String::new, |l| {
                    l.trim().trim_start_matches("error: ").to_owned()
                }),
        })
}

/// The table under `key` of a flag whose entries are keyed by variant name (weights,
/// payloads), with the flag's variants and the table's path; `None` (reported when
/// present) when it is absent, not a table, or the flag has no variants.
fn variant_table<'a, 'i>(
    cx: &mut Ctxt<'_>,
    t: &'a DeTable<'i>,
    key: &str,
    path: &str,
    ty: &'a FlagType,
    what: &str,
) -> Option<(&'a DeTable<'i>, &'a [String], String)> {
    let v = t.get(key)?;
    let path = format!("{path}.{key}");
    let FlagType::Variants(names) = ty else {
        cx.error_help(
            v.span(),
            &path,
            format!("only a variant flag can have {what}"),
            "declare variants = [...] on the flag, or remove this key",
        );
        return None;
    };
    let table = as_table(cx, v, &path)?;
    Some((table, names, path))
}

/// The index of variant `name` among `names`, or an error at `name` with a
/// did-you-mean.
fn variant_index(
    cx: &mut Ctxt<'_>,
    name: &Spanned<std::borrow::Cow<'_, str>>,
    key: &str,
    names: &[String],
) -> Option<usize> {
    let found = names.iter().position(|n| n == name.get_ref());
    if found.is_none() {
        cx.error_help(
            name.span(),
            key,
            format!("`{}` is not a variant of this flag", name.get_ref()),
            did_you_mean(name.get_ref(), names.iter().map(String::as_str)).map_or_else(
                || format!("variants are: {}", names.join(", ")),
                |s| format!("did you mean `{s}`?"),
            ),
        );
    }
    found
}

fn read_weights(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    ty: &FlagType,
) -> Vec<WeightedVariant> {
    let Some((table, names, path)) = variant_table(cx, t, key, path, ty, "weighted variants")
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut bad = false;
    for (name, w) in table.iter() {
        let key = format!("{path}.{}", name.get_ref());
        let Some(index) = variant_index(cx, name, &key, names) else {
            continue;
        };
        match as_u32(cx, w, &key, MAX_WEIGHT, "a weight in range") {
            Some(weight) => out.push(WeightedVariant {
                variant: index as u16,
                name: name.get_ref().to_string(),
                weight,
                payload: None,
            }),
            None => bad = true,
        }
    }
    // Weights are relative: only their sum being zero leaves nothing to choose from.
    if let Some(v) = t
        .get(key)
        .filter(|_| !bad && !out.is_empty() && out.iter().all(|w| w.weight == 0))
    {
        cx.error_help(
            v.span(),
            &path,
            "every weight is zero",
            "give at least one variant a positive weight",
        );
    }
    out
}

fn read_refs(cx: &mut Ctxt<'_>, t: &DeTable<'_>, key: &str, path: &str) -> Vec<FlagRef> {
    read_strings(cx, t, key, &format!("{path}.{key}"))
        .into_iter()
        .map(|(text, span)| {
            let (flag, variant) = match text.split_once('=') {
                Some((f, v)) => (f.trim().to_owned(), Some(v.trim().to_owned())),
                None => (text.trim().to_owned(), None),
            };
            FlagRef {
                flag,
                variant,
                pos: cx.pos(span),
            }
        })
        .collect()
}

pub(crate) fn read_value(
    cx: &mut Ctxt<'_>,
    v: &Spanned<DeValue<'_>>,
    path: &str,
    ty: &FlagType,
) -> Option<Value> {
    match (ty, v.get_ref()) {
        (FlagType::Bool, DeValue::Boolean(b)) => Some(Value::Bool(*b)),
        (FlagType::Bool, other) => {
            cx.error_help(
                v.span(),
                path,
                format!("expected true or false, found {}", describe(other)),
                "an on/off flag takes a bool value",
            );
            None
        }
        (FlagType::Variants(names), DeValue::String(s)) => {
            match names.iter().position(|n| n == s.as_ref()) {
                Some(i) => Some(Value::Variant(i as u16)),
                None => {
                    cx.error_help(
                        v.span(),
                        path,
                        format!(
                            "`{s}` is not one of the flag's variants ({})",
                            names.join(", ")
                        ),
                        did_you_mean(s, names.iter().map(String::as_str)).map_or_else(
                            || "use one of the names listed in `variants`".to_owned(),
                            |n| format!("did you mean \"{n}\"?"),
                        ),
                    );
                    None
                }
            }
        }
        (FlagType::Variants(_), other) => {
            cx.error_help(
                v.span(),
                path,
                format!(
                    "expected a variant name (a string), found {}",
                    describe(other)
                ),
                "write the variant's name in quotes",
            );
            None
        }
    }
}

fn read_date(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<Date> {
    let parsed = match v.get_ref() {
        DeValue::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                Date::new(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .map_err(|e| e.to_string())
            }
            _ => Err("expected a date without a time (YYYY-MM-DD)".to_owned()),
        },
        DeValue::String(s) => s.parse::<Date>().map_err(|e| e.to_string()),
        other => Err(format!(
            "expected a date (YYYY-MM-DD), found {}",
            describe(other)
        )),
    };
    match parsed {
        Ok(d) => Some(d),
        Err(msg) => {
            cx.error_help(
                v.span(),
                path,
                msg,
                "write a real calendar day, e.g. expires = 2027-03-31",
            );
            None
        }
    }
}

// ---- small typed readers; each reports its own type errors -------------------------

fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a bool",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn key_span(t: &DeTable<'_>, key: &str) -> Range<usize> {
    t.get_key_value(key).map_or(0..0, |(k, _)| k.span())
}

fn check_keys(cx: &mut Ctxt<'_>, t: &DeTable<'_>, path: &str, allowed: &[&str]) {
    for (key, _) in t.iter() {
        let k = key.get_ref();
        if allowed.contains(&k.as_ref()) {
            continue;
        }
        let full = if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        };
        let help = match did_you_mean(k, allowed.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("allowed keys here: {}", allowed.join(", ")),
        };
        cx.error_help(key.span(), &full, format!("unknown key `{k}`"), help);
    }
}

fn table_at<'a, 'i>(
    cx: &mut Ctxt<'_>,
    t: &'a DeTable<'i>,
    key: &str,
    path: &str,
) -> Option<&'a DeTable<'i>> {
    as_table(cx, t.get(key)?, path)
}

fn as_table<'a, 'i>(
    cx: &mut Ctxt<'_>,
    v: &'a Spanned<DeValue<'i>>,
    path: &str,
) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        other => {
            cx.error_help(
                v.span(),
                path,
                format!("expected a table, found {}", describe(other)),
                format!("write it as [{path}] with keys below it"),
            );
            None
        }
    }
}

fn as_array<'a, 'i>(
    cx: &mut Ctxt<'_>,
    v: &'a Spanned<DeValue<'i>>,
    path: &str,
) -> Option<&'a [Spanned<DeValue<'i>>]> {
    match v.get_ref() {
        DeValue::Array(a) => Some(a),
        other => {
            cx.error_help(
                v.span(),
                path,
                format!("expected an array, found {}", describe(other)),
                "write a list in [ ... ] (or [[...]] tables)",
            );
            None
        }
    }
}

fn as_string(
    cx: &mut Ctxt<'_>,
    v: &Spanned<DeValue<'_>>,
    path: &str,
) -> Option<(String, Range<usize>)> {
    match v.get_ref() {
        DeValue::String(s) => Some((s.to_string(), v.span())),
        other => {
            cx.error_help(
                v.span(),
                path,
                format!("expected a string, found {}", describe(other)),
                "put the text in double quotes",
            );
            None
        }
    }
}

/// A constraint operand: strings, and numbers or bools written bare, as text.
fn as_scalar_string(
    cx: &mut Ctxt<'_>,
    v: &Spanned<DeValue<'_>>,
    path: &str,
) -> Option<(String, Range<usize>)> {
    match v.get_ref() {
        DeValue::Integer(i) => Some((i.as_str().to_owned(), v.span())),
        DeValue::Float(f) => Some((f.as_str().to_owned(), v.span())),
        DeValue::Boolean(b) => Some((b.to_string(), v.span())),
        DeValue::Datetime(d) => Some((d.to_string(), v.span())),
        _ => as_string(cx, v, path),
    }
}

fn read_string(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
) -> Option<(String, Range<usize>)> {
    as_string(cx, t.get(key)?, path)
}

fn read_strings(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
) -> Vec<(String, Range<usize>)> {
    let Some(v) = t.get(key) else {
        return Vec::new();
    };
    let Some(items) = as_array(cx, v, path) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| as_scalar_string(cx, item, &format!("{path}[{i}]")))
        .collect()
}

fn read_bool(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<bool> {
    match v.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        other => {
            cx.error_help(
                v.span(),
                path,
                format!("expected true or false, found {}", describe(other)),
                "write true or false without quotes",
            );
            None
        }
    }
}

/// A whole number from 0 to `max`. `noun` names what it is (`a percentage`) for the
/// out-of-range message; every message gives the real range, not the type's.
fn as_u32(
    cx: &mut Ctxt<'_>,
    v: &Spanned<DeValue<'_>>,
    path: &str,
    max: u32,
    noun: &str,
) -> Option<u32> {
    match v.get_ref() {
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .ok()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= max)
        {
            Some(n) => Some(n),
            None => {
                cx.error_help(
                    v.span(),
                    path,
                    format!("{} is not {noun}", i.as_str()),
                    format!("use a whole number from 0 to {max}"),
                );
                None
            }
        },
        other => {
            let help = match other {
                DeValue::Float(_) => {
                    format!("use a whole number from 0 to {max}, without a fraction")
                }
                DeValue::String(_) => format!("write the number without quotes (0 to {max})"),
                _ => format!("write a whole number from 0 to {max}"),
            };
            cx.error_help(
                v.span(),
                path,
                format!("expected a whole number, found {}", describe(other)),
                help,
            );
            None
        }
    }
}

fn read_u32(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    max: u32,
    noun: &str,
) -> Option<u32> {
    as_u32(cx, t.get(key)?, path, max, noun)
}

fn read_enum<T: Copy>(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    all: &[(T, &'static str)],
) -> Option<T> {
    let (s, span) = read_string(cx, t, key, &format!("{path}.{key}"))?;
    if let Some((v, _)) = all.iter().find(|(_, n)| *n == s) {
        return Some(*v);
    }
    let names: Vec<&str> = all.iter().map(|(_, n)| *n).collect();
    cx.error_help(
        span,
        &format!("{path}.{key}"),
        format!("unknown {key} `{s}`"),
        did_you_mean(&s, names.iter().copied()).map_or_else(
            || format!("use one of: {}", names.join(", ")),
            |n| format!("did you mean \"{n}\"?"),
        ),
    );
    None
}
