//! Variant payloads read as OpenFeature's integer, float and structure values.
//!
//! A payload is text with a kind (`string`, `json`, `csv`, `number`), as Unleash has
//! them. Numbers come from `number` payloads and from `json` payloads that are a
//! number; structures from `json` payloads that are an object. Any other kind is the
//! wrong type (`TYPE_MISMATCH`); text that does not parse as its own kind says
//! (`PARSE_ERROR`): the manifest checks payloads, but rules built in code or handed
//! over by a remote source may carry anything.

use flags_runtime::Payload;
use flags_runtime::manifest::PayloadKind;
use open_feature::{EvaluationError, EvaluationErrorCode, StructValue, Value};

/// An error with its code and message.
pub(crate) fn error(code: EvaluationErrorCode, message: String) -> EvaluationError {
    EvaluationError {
        code,
        message: Some(message),
    }
}

fn mismatch(flag: &str, variant: &str, p: &Payload<'_>, wanted: &str) -> EvaluationError {
    error(
        EvaluationErrorCode::TypeMismatch,
        format!(
            "flag `{flag}`: the payload of variant `{variant}` is a `{}` payload, not {wanted}",
            p.kind.as_str()
        ),
    )
}

fn unparsable(flag: &str, variant: &str, p: &Payload<'_>, why: &str) -> EvaluationError {
    error(
        EvaluationErrorCode::ParseError,
        format!(
            "flag `{flag}`: the `{}` payload of variant `{variant}` does not parse: {why}",
            p.kind.as_str()
        ),
    )
}

/// A payload as a JSON document, for the `json` kind.
fn json(flag: &str, variant: &str, p: &Payload<'_>) -> Result<serde_json::Value, EvaluationError> {
    serde_json::from_str(p.value).map_err(|e| unparsable(flag, variant, p, &e.to_string()))
}

/// A `number` payload's text as a float (surrounding spaces allowed, as the manifest
/// allows them).
fn number(flag: &str, variant: &str, p: &Payload<'_>) -> Result<f64, EvaluationError> {
    match p.value.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(unparsable(flag, variant, p, "not a finite number")),
    }
}

/// The payload as an integer: a `number` (or `json` number) with no fractional part
/// that fits `i64`.
pub(crate) fn int(flag: &str, variant: &str, p: &Payload<'_>) -> Result<i64, EvaluationError> {
    let not_int = || mismatch(flag, variant, p, "an integer");
    match p.kind {
        PayloadKind::Number => {
            // Exact for every i64 first; then `5e3`, `50.0` and the like.
            if let Ok(i) = p.value.trim().parse::<i64>() {
                return Ok(i);
            }
            whole(number(flag, variant, p)?).ok_or_else(not_int)
        }
        PayloadKind::Json => match json(flag, variant, p)? {
            serde_json::Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().and_then(whole))
                .ok_or_else(not_int),
            _ => Err(not_int()),
        },
        PayloadKind::String | PayloadKind::Csv => Err(not_int()),
    }
}

/// `n` as an `i64` when it is a whole number in range.
fn whole(n: f64) -> Option<i64> {
    // 2^63 is exactly representable; every whole f64 below it in magnitude fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    // The cast is exact for a whole number in range (and saturating, never undefined,
    // for the others, which are refused).
    (n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n)).then_some(n as i64)
}

/// The payload as a float: a `number` or a `json` number.
pub(crate) fn float(flag: &str, variant: &str, p: &Payload<'_>) -> Result<f64, EvaluationError> {
    match p.kind {
        PayloadKind::Number => number(flag, variant, p),
        PayloadKind::Json => match json(flag, variant, p)? {
            serde_json::Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| mismatch(flag, variant, p, "a float")),
            _ => Err(mismatch(flag, variant, p, "a float")),
        },
        PayloadKind::String | PayloadKind::Csv => Err(mismatch(flag, variant, p, "a float")),
    }
}

/// The payload as a structure: a `json` object.
pub(crate) fn structure(
    flag: &str,
    variant: &str,
    p: &Payload<'_>,
) -> Result<StructValue, EvaluationError> {
    if p.kind != PayloadKind::Json {
        return Err(mismatch(flag, variant, p, "a JSON object"));
    }
    match json(flag, variant, p)? {
        serde_json::Value::Object(map) => {
            object(map).map_err(|why| unparsable(flag, variant, p, &why))
        }
        _ => Err(mismatch(flag, variant, p, "a JSON object")),
    }
}

/// A JSON object as a structure. `null` members are left out (OpenFeature's values
/// have no null, and an absent field reads as a null one); a `null` in an array has
/// nothing to stand for and is an error.
fn object(map: serde_json::Map<String, serde_json::Value>) -> Result<StructValue, String> {
    let mut out = StructValue::default();
    for (key, v) in map {
        if v.is_null() {
            continue;
        }
        let v = value(v).map_err(|why| format!("`{key}`: {why}"))?;
        out.fields.insert(key, v);
    }
    Ok(out)
}

fn value(v: serde_json::Value) -> Result<Value, String> {
    Ok(match v {
        serde_json::Value::Null => return Err("null has no OpenFeature value".to_owned()),
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // u64 past i64::MAX and fractions: as floats, as JSON readers take them.
            None => Value::Float(n.as_f64().ok_or("a number out of range")?),
        },
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| value(v).map_err(|why| format!("[{i}]: {why}")))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(map) => Value::Struct(object(map)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(kind: PayloadKind, value: &str) -> Payload<'_> {
        Payload { kind, value }
    }

    fn code<T: std::fmt::Debug>(r: Result<T, EvaluationError>) -> EvaluationErrorCode {
        match r {
            Err(e) => e.code,
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn integers_from_number_and_json_payloads() {
        let ok = |kind, text| int("f", "v", &p(kind, text)).ok();
        assert_eq!(ok(PayloadKind::Number, "50"), Some(50));
        assert_eq!(ok(PayloadKind::Number, " -7 "), Some(-7));
        assert_eq!(ok(PayloadKind::Number, "5e3"), Some(5000));
        assert_eq!(
            ok(PayloadKind::Number, "9223372036854775807"),
            Some(i64::MAX)
        );
        assert_eq!(ok(PayloadKind::Json, "42"), Some(42));
        assert_eq!(ok(PayloadKind::Json, "42.0"), Some(42));
        let mismatch = EvaluationErrorCode::TypeMismatch;
        assert_eq!(
            code(int("f", "v", &p(PayloadKind::Number, "2.5"))),
            mismatch
        );
        assert_eq!(
            code(int("f", "v", &p(PayloadKind::Number, "1e300"))),
            mismatch
        );
        assert_eq!(
            code(int("f", "v", &p(PayloadKind::Json, "\"3\""))),
            mismatch
        );
        assert_eq!(code(int("f", "v", &p(PayloadKind::String, "3"))), mismatch);
        assert_eq!(code(int("f", "v", &p(PayloadKind::Csv, "3"))), mismatch);
        let parse = EvaluationErrorCode::ParseError;
        assert_eq!(code(int("f", "v", &p(PayloadKind::Number, "three"))), parse);
        assert_eq!(code(int("f", "v", &p(PayloadKind::Json, "{"))), parse);
    }

    #[test]
    fn floats_from_number_and_json_payloads() {
        let ok = |kind, text| float("f", "v", &p(kind, text)).ok();
        assert_eq!(ok(PayloadKind::Number, "0.75"), Some(0.75));
        assert_eq!(ok(PayloadKind::Number, "3"), Some(3.0));
        assert_eq!(ok(PayloadKind::Json, "-1.5e2"), Some(-150.0));
        assert_eq!(
            code(float("f", "v", &p(PayloadKind::Json, "[1]"))),
            EvaluationErrorCode::TypeMismatch
        );
        assert_eq!(
            code(float("f", "v", &p(PayloadKind::Number, "inf"))),
            EvaluationErrorCode::ParseError
        );
    }

    #[test]
    fn structures_from_json_objects() {
        let s = structure(
            "f",
            "v",
            &p(
                PayloadKind::Json,
                r#"{"a": 1, "b": 2.5, "c": "x", "d": true, "e": [1, "y"], "f": {"g": null, "h": 18446744073709551615}}"#,
            ),
        );
        let s = match s {
            Ok(s) => s,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(s.fields.get("a"), Some(&Value::Int(1)));
        assert_eq!(s.fields.get("b"), Some(&Value::Float(2.5)));
        assert_eq!(s.fields.get("c"), Some(&Value::String("x".into())));
        assert_eq!(s.fields.get("d"), Some(&Value::Bool(true)));
        assert_eq!(
            s.fields.get("e"),
            Some(&Value::Array(vec![
                Value::Int(1),
                Value::String("y".into())
            ]))
        );
        let inner = s.fields.get("f").and_then(Value::as_struct);
        assert_eq!(
            inner.map(|i| i.fields.len()),
            Some(1),
            "null member left out"
        );
        assert_eq!(
            inner.and_then(|i| i.fields.get("h")),
            Some(&Value::Float(18_446_744_073_709_551_615.0))
        );
        let mismatch = EvaluationErrorCode::TypeMismatch;
        assert_eq!(
            code(structure("f", "v", &p(PayloadKind::Json, "[1]"))),
            mismatch
        );
        assert_eq!(
            code(structure("f", "v", &p(PayloadKind::Number, "1"))),
            mismatch
        );
        assert_eq!(
            code(structure("f", "v", &p(PayloadKind::Csv, "a,b"))),
            mismatch
        );
        let parse = EvaluationErrorCode::ParseError;
        assert_eq!(
            code(structure("f", "v", &p(PayloadKind::Json, "{x}"))),
            parse
        );
        assert_eq!(
            code(structure(
                "f",
                "v",
                &p(PayloadKind::Json, r#"{"a": [null]}"#)
            )),
            parse
        );
    }
}
