//! Reading TOML values at a path: typed scalars, lists, tables and flag references,
//! each problem reported at its span.

use crate::date::Date;
use crate::error::{Ctxt, did_you_mean};
use crate::model::{FlagRef, FlagType, Value};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub(super) fn as_f64(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<f64> {
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

pub(super) fn read_refs(cx: &mut Ctxt<'_>, t: &DeTable<'_>, key: &str, path: &str) -> Vec<FlagRef> {
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

pub(super) fn read_date(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<Date> {
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

pub(super) fn describe(v: &DeValue<'_>) -> &'static str {
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

pub(super) fn key_span(t: &DeTable<'_>, key: &str) -> Range<usize> {
    t.get_key_value(key).map_or(0..0, |(k, _)| k.span())
}

pub(super) fn check_keys(cx: &mut Ctxt<'_>, t: &DeTable<'_>, path: &str, allowed: &[&str]) {
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

pub(super) fn table_at<'a, 'i>(
    cx: &mut Ctxt<'_>,
    t: &'a DeTable<'i>,
    key: &str,
    path: &str,
) -> Option<&'a DeTable<'i>> {
    as_table(cx, t.get(key)?, path)
}

pub(super) fn as_table<'a, 'i>(
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

pub(super) fn as_array<'a, 'i>(
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

pub(super) fn as_string(
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
pub(super) fn as_scalar_string(
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

pub(super) fn read_string(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
) -> Option<(String, Range<usize>)> {
    as_string(cx, t.get(key)?, path)
}

pub(super) fn read_strings(
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

pub(super) fn read_bool(cx: &mut Ctxt<'_>, v: &Spanned<DeValue<'_>>, path: &str) -> Option<bool> {
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
pub(super) fn as_u32(
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

pub(super) fn read_u32(
    cx: &mut Ctxt<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    max: u32,
    noun: &str,
) -> Option<u32> {
    as_u32(cx, t.get(key)?, path, max, noun)
}

pub(super) fn read_enum<T: Copy>(
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
