//! OpenFeature's evaluation context as a flags [`Context`]: the targeting key, and
//! each custom field as an attribute typed the way the constraint operators read it.
//!
//! | OpenFeature field | flags attribute | operators that read it |
//! |---|---|---|
//! | `targeting_key` | the targeting key (`key`, `userId`) | rollouts, `keys`, every operator |
//! | `Bool` | `true` / `false` | `in`, `not_in`, `str_*` |
//! | `Int` | its decimal text, parsed once as a number | `num_*`, and the text ones exactly |
//! | `Float` | a number | `num_*` |
//! | `String` | text (a number when it reads as one) | every operator |
//! | `DateTime` | RFC 3339 text with its offset and nanoseconds (in UTC when the offset has seconds) | `date_*` |
//! | `Struct` | left out: no operator reads a structure | — |
//!
//! Integers go in as their exact decimal text rather than as an `f64`, so an id past
//! 2^53 still compares exactly with `in`; numeric operators see the same number either
//! way.

use std::cell::RefCell;
use std::fmt::Write as _;

use flags_runtime::{AttrValue, Context};
use open_feature::{EvaluationContext, EvaluationContextFieldValue};

/// The flags context for an OpenFeature evaluation context.
///
/// # Examples
///
/// ```
/// use flags_openfeature::to_context;
/// use open_feature::EvaluationContext;
///
/// let ctx = EvaluationContext::default()
///     .with_targeting_key("user-42")
///     .with_custom_field("country", "NZ")
///     .with_custom_field("seats", 12)
///     .with_custom_field("verified", true);
/// let flags_ctx = to_context(&ctx);
/// assert_eq!(flags_ctx.targeting_key(), Some("user-42"));
/// assert_eq!(flags_ctx.get("country"), Some("NZ"));
/// assert_eq!(flags_ctx.get("seats"), Some("12"));
/// assert_eq!(flags_ctx.get("verified"), Some("true"));
/// ```
#[must_use]
pub fn to_context(ctx: &EvaluationContext) -> Context {
    let mut out = match &ctx.targeting_key {
        Some(key) => Context::with_key(key.as_str()),
        None => Context::anonymous(),
    };
    for (name, value) in &ctx.custom_fields {
        if let Some(value) = attr(value) {
            out.set_attr(name, value);
        }
    }
    out
}

thread_local! {
    /// This thread's context of a targeting key alone, re-keyed in place for each
    /// evaluation of such a context: it is never handed out, so it stays unshared
    /// and re-keying writes into its buffer instead of allocating.
    static KEYED: RefCell<Context> = const { RefCell::new(Context::anonymous()) };
}

/// The anonymous context, for an OpenFeature context with neither key nor fields.
static ANONYMOUS: Context = Context::anonymous();

/// Runs `f` on the flags context for `ctx` ([`to_context`]): for a targeting key
/// alone, this thread's reused context re-keyed to it (no allocation once its buffer
/// has grown to the keys' length); with custom fields, a fresh conversion.
pub(crate) fn with_converted<R>(ctx: &EvaluationContext, f: impl Fn(&Context) -> R) -> R {
    if !ctx.custom_fields.is_empty() {
        return f(&to_context(ctx));
    }
    let Some(key) = ctx.targeting_key.as_deref() else {
        return f(&ANONYMOUS);
    };
    let reused = KEYED.try_with(|keyed| {
        let mut keyed = keyed.try_borrow_mut().ok()?;
        if keyed.targeting_key() != Some(key) {
            keyed.rekey(key);
        }
        Some(f(&keyed))
    });
    match reused {
        Ok(Some(r)) => r,
        // Thread-locals torn down, or a re-entrant call: convert afresh.
        _ => f(&Context::with_key(key)),
    }
}

/// One custom field as an attribute value; `None` for what no operator can read.
fn attr(value: &EvaluationContextFieldValue) -> Option<AttrValue> {
    Some(match value {
        EvaluationContextFieldValue::Bool(b) => AttrValue::Bool(*b),
        EvaluationContextFieldValue::Int(i) => AttrValue::Str(i.to_string()),
        EvaluationContextFieldValue::Float(f) => AttrValue::Num(*f),
        EvaluationContextFieldValue::String(s) => AttrValue::Str(s.clone()),
        EvaluationContextFieldValue::DateTime(t) => AttrValue::Str(rfc3339(t)?),
        EvaluationContextFieldValue::Struct(_) => return None,
    })
}

/// `t` as RFC 3339 text, keeping its offset and every nonzero digit of its
/// nanoseconds: what the `date_*` operators parse. RFC 3339 offsets are whole
/// minutes, so a time whose offset has seconds (a local mean time, `+00:09:21`) is
/// given as the same instant in UTC rather than with its offset cut short, which
/// would move it; `None` when that instant is past the years `time` represents.
/// (Years outside 0 to 9999 have no RFC 3339 form; their text parses as no date, so
/// date operators do not match.)
pub(crate) fn rfc3339(t: &time::OffsetDateTime) -> Option<String> {
    let t = if t.offset().seconds_past_minute() == 0 {
        *t
    } else {
        t.checked_to_offset(time::UtcOffset::UTC)?
    };
    let mut s = String::with_capacity(35);
    let _ = write!(
        s,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let nanos = t.nanosecond();
    if nanos != 0 {
        let digits = format!("{nanos:09}");
        let _ = write!(s, ".{}", digits.trim_end_matches('0'));
    }
    let (h, m, _) = t.offset().as_hms();
    if h == 0 && m == 0 {
        s.push('Z');
    } else {
        let sign = if h < 0 || m < 0 { '-' } else { '+' };
        let _ = write!(s, "{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs());
    }
    Some(s)
}
