//! The provider requirements of the OpenFeature specification (section 2, "Provider"),
//! one test each, named after the requirement. Requirements that the SDK's 0.3
//! provider trait has no place for (shutdown, context reconciliation, tracking,
//! events) are listed in the crate docs as not applicable instead of faked here.
//!
//! The resolve methods are called directly: their futures are ready at once (the
//! provider never waits), so one poll with a no-op waker runs them, without a runtime.

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use flags_runtime::manifest::{PayloadKind, Rules, Value, VariantPayload, WeightedVariant};
use flags_runtime::raw::IndexAccess;
use flags_runtime::{Layer, Registry};
use open_feature::provider::{FeatureProvider, ProviderStatus, ResolutionDetails};
use open_feature::{
    EvaluationContext, EvaluationError, EvaluationErrorCode, EvaluationReason, FlagMetadataValue,
    StructValue,
};

use super::*;

/// A registry of `tests/flags.toml` of its own, for tests that change layers.
macro_rules! registry {
    ($m:ident) => {
        mod $m {
            flags_runtime::flags!(pub mod flags = "tests/flags.toml");
        }
    };
}
registry!(shared);
registry!(layered);
registry!(unready);
registry!(counted);

/// Runs a future that never waits (the provider's) to its end.
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut TaskContext::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the provider's futures never wait"),
    }
}

fn ready(registry: &'static Registry) -> FlagsProvider {
    let mut p = FlagsProvider::new(registry);
    now(p.initialize(&EvaluationContext::default()));
    p
}

fn provider() -> FlagsProvider {
    ready(&shared::flags::REGISTRY)
}

fn user(key: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(key)
}

fn ok<T: std::fmt::Debug>(r: EvaluationResult<ResolutionDetails<T>>) -> ResolutionDetails<T> {
    match r {
        Ok(d) => d,
        Err(e) => panic!("expected a resolution, got {e:?}"),
    }
}

fn err<T: std::fmt::Debug>(r: EvaluationResult<ResolutionDetails<T>>) -> EvaluationError {
    match r {
        Err(e) => e,
        Ok(d) => panic!("expected an error, got {d:?}"),
    }
}

/// A key the 50% rollout of `beta_rollout` admits, and one it does not.
fn rollout_keys(p: &FlagsProvider) -> (String, String) {
    let mut inside = None;
    let mut outside = None;
    for i in 0..1000 {
        let key = format!("user-{i}");
        let d = ok(now(p.resolve_bool_value("beta_rollout", &user(&key))));
        if d.value {
            inside.get_or_insert(key);
        } else {
            outside.get_or_insert(key);
        }
        if let (Some(a), Some(b)) = (&inside, &outside) {
            return (a.clone(), b.clone());
        }
    }
    panic!("1,000 keys all on one side of a 50% rollout");
}

#[test]
fn req_2_1_1_metadata_names_the_provider() {
    let p = provider();
    assert_eq!(p.metadata().name, "flags");
    assert_eq!(p.metadata().name, PROVIDER_NAME);
}

/// The SDK's 0.3 trait takes the flag key and the context; the default value stays
/// with the caller, who gets it back on error (`unwrap_or`), so resolution by key and
/// context into a resolution details structure is what is checked here.
#[test]
fn req_2_2_1_resolves_a_key_in_a_context_into_resolution_details() {
    let p = provider();
    let nz = user("u-1").with_custom_field("country", "NZ");
    let fr = user("u-1").with_custom_field("country", "FR");
    let on: ResolutionDetails<bool> = ok(now(p.resolve_bool_value("nz_only", &nz)));
    let off = ok(now(p.resolve_bool_value("nz_only", &fr)));
    assert!(on.value, "the context decides");
    assert!(!off.value);
    // The context is optional in the client API: an empty one is anonymous.
    let anon = ok(now(
        p.resolve_bool_value("nz_only", &EvaluationContext::default())
    ));
    assert!(!anon.value);
}

#[test]
fn req_2_2_2_1_typed_resolution_of_bool_number_string_and_structure() {
    let p = provider();
    let ctx = user("u-2");
    let b: ResolutionDetails<bool> = ok(now(p.resolve_bool_value("search_v2", &ctx)));
    let i: ResolutionDetails<i64> = ok(now(p.resolve_int_value("page_size", &ctx)));
    let f: ResolutionDetails<f64> = ok(now(p.resolve_float_value("ratio", &ctx)));
    let s: ResolutionDetails<String> = ok(now(p.resolve_string_value("checkout_layout", &ctx)));
    let st: ResolutionDetails<StructValue> =
        ok(now(p.resolve_struct_value("checkout_layout", &ctx)));
    assert!(!b.value);
    assert_eq!(i.value, 50);
    assert!((f.value - 0.75).abs() < f64::EPSILON);
    assert_eq!(s.value, "two_col");
    assert_eq!(
        st.value.fields.get("cols"),
        Some(&open_feature::Value::Int(2))
    );
}

#[test]
fn req_2_2_3_value_is_the_resolved_value() {
    let p = provider();
    let (inside, outside) = rollout_keys(&p);
    // The same answer as the typed accessor, for both sides of the rollout.
    for key in [inside, outside] {
        let ctx = flags_runtime::Context::with_key(key.as_str());
        let d = ok(now(p.resolve_bool_value("beta_rollout", &user(&key))));
        assert_eq!(d.value, shared::flags::BETA_ROLLOUT.get_for(&ctx));
    }
    let st = ok(now(p.resolve_struct_value("checkout_layout", &user("u"))));
    let fields = &st.value.fields;
    assert_eq!(fields.get("ratio"), Some(&open_feature::Value::Float(0.5)));
    assert_eq!(
        fields.get("label"),
        Some(&open_feature::Value::String("two".into()))
    );
    assert_eq!(fields.get("wide"), Some(&open_feature::Value::Bool(false)));
    assert_eq!(
        fields.get("sizes"),
        Some(&open_feature::Value::Array(vec![
            open_feature::Value::Int(1),
            open_feature::Value::Int(2)
        ]))
    );
    let nested = fields
        .get("nested")
        .and_then(open_feature::Value::as_struct);
    assert_eq!(
        nested.and_then(|n| n.fields.get("gap")),
        Some(&open_feature::Value::Int(8))
    );
}

#[test]
fn req_2_2_4_variant_names_the_value() {
    let p = provider();
    let ctx = user("u-4");
    let on = user("u-4").with_custom_field("country", "NZ");
    assert_eq!(
        ok(now(p.resolve_bool_value("nz_only", &on)))
            .variant
            .as_deref(),
        Some("on")
    );
    assert_eq!(
        ok(now(p.resolve_bool_value("search_v2", &ctx)))
            .variant
            .as_deref(),
        Some("off")
    );
    assert_eq!(
        ok(now(p.resolve_string_value("checkout_layout", &ctx)))
            .variant
            .as_deref(),
        Some("two_col")
    );
    // A payload's variant is the variant that carries it.
    assert_eq!(
        ok(now(p.resolve_int_value("page_size", &ctx)))
            .variant
            .as_deref(),
        Some("large")
    );
}

#[test]
fn req_2_2_5_reason_follows_the_runtime_explanation() {
    let p = provider();
    let reason_of =
        |flag: &str, ctx: &EvaluationContext| ok(now(p.resolve_bool_value(flag, ctx))).reason;
    let (inside, outside) = rollout_keys(&p);
    let nz = user("u").with_custom_field("country", "NZ");
    let fr = user("u").with_custom_field("country", "FR");
    // Static flag: compiled in.
    assert_eq!(reason_of("dark_mode", &nz), Some(EvaluationReason::Static));
    // No rules at all: the manifest default.
    assert_eq!(reason_of("search_v2", &nz), Some(EvaluationReason::Default));
    // A constraint matched / failed.
    assert_eq!(
        reason_of("nz_only", &nz),
        Some(EvaluationReason::TargetingMatch)
    );
    assert_eq!(reason_of("nz_only", &fr), Some(EvaluationReason::Default));
    // A percentage rollout, either side of it.
    assert_eq!(
        reason_of("beta_rollout", &user(&inside)),
        Some(EvaluationReason::Split)
    );
    assert_eq!(
        reason_of("beta_rollout", &user(&outside)),
        Some(EvaluationReason::Default),
        "outside the rollout no strategy matched"
    );
    // Variant weights.
    assert_eq!(
        ok(now(p.resolve_string_value("checkout_layout", &nz))).reason,
        Some(EvaluationReason::Split)
    );
    // Kill switch.
    assert_eq!(reason_of("killed", &nz), Some(EvaluationReason::Disabled));
    // An override (this thread only) is a fixed value.
    let _forced = shared::flags::REGISTRY
        .scoped_overrides()
        .set(shared::flags::SEARCH_V2, true);
    assert_eq!(reason_of("search_v2", &nz), Some(EvaluationReason::Static));
    // Error: see req_2_2_7 (the runtime's `Reason::Error` is an error result).
    assert_eq!(
        reason(&FlagMeta::bare("x", 0, &[]), Reason::Error),
        EvaluationReason::Error
    );
}

/// In Rust the error code lives only in the `Err` side: a successful resolution has
/// no field to put one in. Checked on every type and every reason of the fixture.
#[test]
fn req_2_2_6_normal_execution_has_no_error_code() {
    let p = provider();
    let ctx = user("u-6").with_custom_field("country", "NZ");
    for flag in [
        "search_v2",
        "beta_rollout",
        "nz_only",
        "killed",
        "dark_mode",
        "plan_gate",
    ] {
        assert!(now(p.resolve_bool_value(flag, &ctx)).is_ok(), "{flag}");
    }
    assert!(now(p.resolve_int_value("page_size", &ctx)).is_ok());
    assert!(now(p.resolve_float_value("ratio", &ctx)).is_ok());
    assert!(
        now(p.resolve_float_value("page_size", &ctx)).is_ok(),
        "an int reads as a float"
    );
    assert!(now(p.resolve_string_value("greeting", &ctx)).is_ok());
    assert!(now(p.resolve_struct_value("checkout_layout", &ctx)).is_ok());
}

#[test]
fn req_2_2_7_abnormal_execution_is_an_error_with_a_code() {
    let p = provider();
    let ctx = user("u-7");
    let code = |e: EvaluationError| e.code;
    assert_eq!(
        code(err(now(p.resolve_bool_value("no_such_flag", &ctx)))),
        EvaluationErrorCode::FlagNotFound
    );
    // Wrong shape of flag, both ways.
    assert_eq!(
        code(err(now(p.resolve_bool_value("checkout_layout", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(err(now(p.resolve_string_value("search_v2", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(err(now(p.resolve_int_value("search_v2", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    // A payload of the wrong kind: JSON object as a number, a number as a structure,
    // a string payload as a number.
    assert_eq!(
        code(err(now(p.resolve_int_value("checkout_layout", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(err(now(p.resolve_struct_value("page_size", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(err(now(p.resolve_float_value("greeting", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    // A fractional number is not an integer.
    assert_eq!(
        code(err(now(p.resolve_int_value("ratio", &ctx)))),
        EvaluationErrorCode::TypeMismatch
    );
    // Text that does not parse as its kind: rules from code are not checked.
    let reg = &layered::flags::REGISTRY;
    let p = ready(reg);
    let page = reg.index_of("page_size").unwrap_or(usize::MAX);
    let bad = Rules {
        variants: vec![WeightedVariant {
            variant: 1,
            name: "large".into(),
            weight: 1,
            payload: Some(VariantPayload {
                kind: PayloadKind::Number,
                value: "fifty".into(),
            }),
        }],
        ..Rules::default()
    };
    assert!(
        reg.set_layer(Layer::Remote, "test", vec![(page, bad)])
            .is_ok()
    );
    let e = err(now(p.resolve_int_value("page_size", &ctx)));
    assert_eq!(e.code, EvaluationErrorCode::ParseError);
    assert!(
        e.message
            .is_some_and(|m| m.contains("fifty") || m.contains("number"))
    );
    assert!(reg.clear_layer(Layer::Remote).is_ok());
    assert_eq!(ok(now(p.resolve_int_value("page_size", &ctx))).value, 50);
    // An evaluation that cannot complete (the runtime's `Reason::Error`): GENERAL.
    let p = ready(&cycle::REGISTRY);
    let e = err(now(p.resolve_bool_value("chicken", &ctx)));
    assert_eq!(e.code, EvaluationErrorCode::General("GENERAL".to_owned()));
    assert!(
        e.message
            .is_some_and(|m| m.contains("chicken") && m.contains("error"))
    );
}

#[test]
fn req_2_2_8_1_resolution_details_are_generic_over_the_value() {
    // The type system carries it: each method's details hold its own type.
    let p = provider();
    let ctx = user("u-8");
    let i: i64 = ok(now(p.resolve_int_value("page_size", &ctx))).value;
    let f: f64 = ok(now(p.resolve_float_value("ratio", &ctx))).value;
    let s: String = ok(now(p.resolve_string_value("greeting", &ctx))).value;
    assert_eq!((i, s.as_str()), (50, "fancy"));
    assert!(f > 0.0);
}

#[test]
fn req_2_2_9_flag_metadata_is_populated() {
    let p = provider();
    let d = ok(now(p.resolve_string_value("checkout_layout", &user("u-9"))));
    let m = d.flag_metadata.map(|m| m.values).unwrap_or_default();
    let s = |v: &str| Some(FlagMetadataValue::String(v.to_owned()));
    assert_eq!(m.get(keys::OWNER).cloned(), s("checkout-team"));
    assert_eq!(m.get(keys::KIND).cloned(), s("experiment"));
    assert_eq!(m.get(keys::LIFECYCLE).cloned(), s("active"));
    assert_eq!(m.get(keys::EXPIRES).cloned(), s("2030-12-31"));
    assert_eq!(m.get(keys::LAYER).cloned(), s("manifest"));
    assert_eq!(
        m.get(keys::STATIC).cloned(),
        Some(FlagMetadataValue::Bool(false))
    );
    // The deciding layer follows the decision: an override decides here.
    let _forced = shared::flags::REGISTRY
        .scoped_overrides()
        .set(shared::flags::SEARCH_V2, true);
    let d = ok(now(p.resolve_bool_value("search_v2", &user("u-9"))));
    let m = d.flag_metadata.map(|m| m.values).unwrap_or_default();
    assert_eq!(m.get(keys::LAYER).cloned(), s("override"));
    assert_eq!(m.get(keys::EXPIRES).cloned(), s("2030-01-31"));
}

#[test]
fn req_2_2_10_flag_metadata_holds_bools_strings_and_numbers() {
    let p = provider();
    for flag in ["search_v2", "dark_mode", "killed"] {
        let d = ok(now(p.resolve_bool_value(flag, &user("u-10"))));
        let m = d.flag_metadata.map(|m| m.values).unwrap_or_default();
        assert!(!m.is_empty());
        for (key, value) in m {
            assert!(!key.is_empty());
            assert!(matches!(
                value,
                FlagMetadataValue::Bool(_)
                    | FlagMetadataValue::String(_)
                    | FlagMetadataValue::Int(_)
                    | FlagMetadataValue::Float(_)
            ));
        }
    }
    let d = ok(now(p.resolve_bool_value("dark_mode", &user("u-10"))));
    let m = d.flag_metadata.map(|m| m.values).unwrap_or_default();
    assert_eq!(m.get(keys::STATIC), Some(&FlagMetadataValue::Bool(true)));
}

/// Provider hooks are offered through the trait's `hooks`; that they run around an
/// evaluation is shown end to end in `tests/client.rs`.
#[test]
fn req_2_3_1_provider_hooks_can_be_added() {
    struct Quiet;
    #[open_feature::async_trait]
    impl open_feature::Hook for Quiet {
        async fn before<'a>(
            &self,
            _: &open_feature::HookContext<'a>,
            _: Option<&'a open_feature::HookHints>,
        ) -> Result<Option<EvaluationContext>, EvaluationError> {
            Ok(None)
        }
        async fn after<'a>(
            &self,
            _: &open_feature::HookContext<'a>,
            _: &open_feature::EvaluationDetails<open_feature::Value>,
            _: Option<&'a open_feature::HookHints>,
        ) -> Result<(), EvaluationError> {
            Ok(())
        }
        async fn error<'a>(
            &self,
            _: &open_feature::HookContext<'a>,
            _: &EvaluationError,
            _: Option<&'a open_feature::HookHints>,
        ) {
        }
        async fn finally<'a>(
            &self,
            _: &open_feature::HookContext<'a>,
            _: &open_feature::EvaluationDetails<open_feature::Value>,
            _: Option<&'a open_feature::HookHints>,
        ) {
        }
    }
    assert!(provider().hooks().is_empty(), "none unless asked for");
    assert_eq!(
        provider().with_hook(Quiet).with_hook(Quiet).hooks().len(),
        2
    );
}

/// As with the error code, a successful resolution has no message field in Rust.
#[test]
fn req_2_3_2_normal_execution_has_no_error_message() {
    let p = provider();
    let r = now(p.resolve_string_value("checkout_layout", &user("u")));
    assert!(r.is_ok());
}

#[test]
fn req_2_3_3_error_messages_say_what_was_wrong() {
    let p = provider();
    let ctx = user("u");
    let message = |e: EvaluationError| e.message.unwrap_or_default();
    let m = message(err(now(p.resolve_bool_value("serch_v2", &ctx))));
    assert!(
        m.contains("serch_v2") && m.contains("tests/flags.toml"),
        "{m}"
    );
    let m = message(err(now(p.resolve_bool_value("checkout_layout", &ctx))));
    assert!(
        m.contains("classic, two_col, three_col") && m.contains("string"),
        "{m}"
    );
    let m = message(err(now(p.resolve_string_value("search_v2", &ctx))));
    assert!(m.contains("bool"), "{m}");
    let m = message(err(now(p.resolve_int_value("checkout_layout", &ctx))));
    assert!(m.contains("two_col") && m.contains("json"), "{m}");
}

#[test]
fn req_2_4_1_initialize_accepts_the_global_context() {
    let mut p = FlagsProvider::new(&unready::flags::REGISTRY);
    now(p.initialize(&user("global").with_custom_field("region", "eu")));
    assert_eq!(p.status(), ProviderStatus::Ready);
    // Contexts are read per evaluation: the global one changes nothing by itself.
    assert!(!ok(now(p.resolve_bool_value("nz_only", &user("u")))).value);
}

/// The SDK's 0.3 trait documents the status rules of the specification revision it
/// follows (2.4.3 READY after a normal initialize); initializing cannot fail here
/// (a bad environment value is reported and skipped), so ERROR never arises.
#[test]
fn req_2_4_3_status_is_ready_after_initialize() {
    let mut p = FlagsProvider::new(&unready::flags::REGISTRY);
    assert_eq!(p.status(), ProviderStatus::NotReady);
    now(p.initialize(&EvaluationContext::default()));
    assert_eq!(p.status(), ProviderStatus::Ready);
}

/// 2.4.5 of the revision the SDK's trait quotes: "SHOULD indicate an error if flag
/// resolution is attempted before the provider is ready".
#[test]
fn req_2_4_5_resolution_before_ready_is_an_error() {
    let p = FlagsProvider::new(&unready::flags::REGISTRY);
    let ctx = user("u");
    assert_eq!(
        err(now(p.resolve_bool_value("search_v2", &ctx))).code,
        EvaluationErrorCode::ProviderNotReady
    );
    assert_eq!(
        err(now(p.resolve_struct_value("checkout_layout", &ctx))).code,
        EvaluationErrorCode::ProviderNotReady
    );
}

#[test]
fn context_fields_keep_the_types_operators_need() {
    let p = provider();
    // seats >= 10 (a number), signed_up before 2026 (a date), verified (a bool).
    let base = || {
        user("u")
            .with_custom_field("seats", 12)
            .with_custom_field("verified", true)
    };
    let date = |y: i32| {
        time::Date::from_calendar_date(y, time::Month::March, 1)
            .map(|d| d.midnight().assume_utc())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    let gate = |ctx: &EvaluationContext| ok(now(p.resolve_bool_value("plan_gate", ctx))).value;
    assert!(gate(&base().with_custom_field("signed_up", date(2025))));
    assert!(!gate(&base().with_custom_field("signed_up", date(2027))));
    assert!(!gate(
        &base()
            .with_custom_field("signed_up", date(2025))
            .with_custom_field("seats", 9.5)
    ));
    assert!(!gate(
        &base()
            .with_custom_field("signed_up", date(2025))
            .with_custom_field("verified", false)
    ));
    // A string that reads as a number is a number for `num_*`.
    assert!(gate(
        &base()
            .with_custom_field("signed_up", date(2025))
            .with_custom_field("seats", "10")
    ));
}

#[test]
fn date_times_are_rfc_3339_and_offsets_with_seconds_keep_the_instant() {
    use time::{Date, Month, OffsetDateTime, Time, UtcOffset};
    let at = |y, mo, d, (h, mi, s), nanos, (oh, om, os)| {
        let date = Date::from_calendar_date(y, mo, d).ok()?;
        let time = Time::from_hms_nano(h, mi, s, nanos).ok()?;
        let offset = UtcOffset::from_hms(oh, om, os).ok()?;
        Some(OffsetDateTime::new_in_offset(date, time, offset))
    };
    let text = |t: Option<OffsetDateTime>| t.and_then(|t| context::rfc3339(&t));
    // Whole-minute offsets are kept, with the nanoseconds' nonzero digits.
    assert_eq!(
        text(at(
            2025,
            Month::March,
            1,
            (9, 5, 7),
            120_000_000,
            (5, 30, 0)
        ))
        .as_deref(),
        Some("2025-03-01T09:05:07.12+05:30")
    );
    assert_eq!(
        text(at(2025, Month::March, 1, (9, 5, 7), 0, (0, -30, 0))).as_deref(),
        Some("2025-03-01T09:05:07-00:30")
    );
    assert_eq!(
        text(at(2025, Month::March, 1, (9, 5, 7), 0, (0, 0, 0))).as_deref(),
        Some("2025-03-01T09:05:07Z")
    );
    // An offset with seconds (not RFC 3339): the same instant in UTC, not the
    // offset cut to minutes (+05:30, 15 seconds off).
    assert_eq!(
        text(at(2025, Month::March, 1, (9, 5, 7), 5, (5, 30, 15))).as_deref(),
        Some("2025-03-01T03:34:52.000000005Z")
    );
    assert_eq!(
        text(at(2025, Month::March, 1, (9, 5, 7), 0, (-5, -30, -15))).as_deref(),
        Some("2025-03-01T14:35:22Z")
    );
    // Past the last representable instant in UTC: left out rather than moved.
    let last = at(9999, Month::December, 31, (23, 59, 59), 0, (0, 0, -15));
    assert!(last.is_some());
    assert_eq!(text(last), None);
    let ctx = user("u").with_custom_field("signed_up", last.unwrap_or(OffsetDateTime::UNIX_EPOCH));
    assert_eq!(crate::to_context(&ctx).get("signed_up"), None);

    // Through an operator: `signed_up` before 2026-01-01T00:00:00Z.
    let p = provider();
    let gate = |signed_up: Option<OffsetDateTime>| {
        let ctx = user("u")
            .with_custom_field("seats", 12)
            .with_custom_field("verified", true)
            .with_custom_field("signed_up", signed_up.unwrap_or(OffsetDateTime::UNIX_EPOCH));
        ok(now(p.resolve_bool_value("plan_gate", &ctx))).value
    };
    // 00:00:10 local at +00:00:15 is 23:59:55 UTC the day before: before 2026.
    assert!(gate(at(2026, Month::January, 1, (0, 0, 10), 0, (0, 0, 15))));
    // 23:59:50 local at -00:00:15 is 00:00:05 UTC on the 1st: not before.
    assert!(!gate(at(
        2025,
        Month::December,
        31,
        (23, 59, 50),
        0,
        (0, 0, -15)
    )));
}

#[test]
fn one_resolution_counts_one_evaluation() {
    let reg = &counted::flags::REGISTRY;
    let p = ready(reg);
    reg.set_counting(true);
    let ctx = user("u").with_custom_field("country", "NZ");
    for _ in 0..3 {
        assert!(now(p.resolve_bool_value("nz_only", &ctx)).is_ok());
        assert!(now(p.resolve_struct_value("checkout_layout", &ctx)).is_ok());
    }
    // Names that are not found or of the wrong shape are refused before evaluating.
    assert!(now(p.resolve_bool_value("checkout_layout", &ctx)).is_err());
    let counts = reg.counts();
    assert_eq!(counts.get("nz_only", "on"), 3);
    assert_eq!(counts.total("nz_only"), 3);
    assert_eq!(counts.get("checkout_layout", "two_col"), 3);
    assert_eq!(counts.total("checkout_layout"), 3);
    // And a variant override is read by the next resolution.
    let layout = reg.index_of("checkout_layout").unwrap_or(usize::MAX);
    assert!(reg.set_override_value(layout, Value::Variant(2)).is_ok());
    let d = ok(now(p.resolve_string_value("checkout_layout", &ctx)));
    assert_eq!(
        (d.value.as_str(), d.reason),
        ("three_col", Some(EvaluationReason::Static))
    );
}

#[test]
fn contexts_of_a_key_alone_are_reused_per_thread_without_mixing_users() {
    let (a, b) = (user("reuse-a"), user("reuse-b"));
    let key = |c: &EvaluationContext| {
        context::with_converted(c, |f| f.targeting_key().map(str::to_owned))
    };
    assert_eq!(key(&a).as_deref(), Some("reuse-a"));
    assert_eq!(key(&a).as_deref(), Some("reuse-a"));
    assert_eq!(key(&b).as_deref(), Some("reuse-b"));
    // A longer key, then a shorter one, in the same buffer.
    let long = user("reuse-a-much-longer-key-than-before");
    assert_eq!(
        key(&long).as_deref(),
        Some("reuse-a-much-longer-key-than-before")
    );
    assert_eq!(key(&a).as_deref(), Some("reuse-a"));
    // Numeric keys are numbers to the numeric operators, whatever came before.
    let number =
        |c: &EvaluationContext| context::with_converted(c, |f| f.get("key").map(str::to_owned));
    assert_eq!(number(&user("12")).as_deref(), Some("12"));
    // Custom fields are never served from the key-only context, and leave nothing in it.
    let with_field = user("reuse-a").with_custom_field("country", "NZ");
    let country =
        |c: &EvaluationContext| context::with_converted(c, |f| f.get("country").map(str::to_owned));
    assert_eq!(country(&with_field).as_deref(), Some("NZ"));
    assert_eq!(country(&a), None);
    assert!(context::with_converted(
        &EvaluationContext::default(),
        flags_runtime::Context::is_anonymous
    ));
    // The answers follow the user, whatever was converted last.
    let p = provider();
    let (inside, outside) = rollout_keys(&p);
    for _ in 0..3 {
        assert!(ok(now(p.resolve_bool_value("beta_rollout", &user(&inside)))).value);
        assert!(!ok(now(p.resolve_bool_value("beta_rollout", &user(&outside)))).value);
    }
}

#[test]
fn a_sticky_rollout_reads_the_key_alone_and_yields_to_a_scoped_override() {
    let p = provider();
    let summary = |d: ResolutionDetails<bool>| (d.value, d.variant, d.reason);
    let mut inside = 0;
    for i in 0..200 {
        let key = format!("sticky-{i}");
        let bare = ok(now(p.resolve_bool_value("beta_rollout", &user(&key))));
        // Custom fields play no part in a rollout on the key, read or not.
        let fields = user(&key)
            .with_custom_field("country", "NZ")
            .with_custom_field("seats", 3);
        let full = ok(now(p.resolve_bool_value("beta_rollout", &fields)));
        let typed =
            shared::flags::BETA_ROLLOUT.get_for(&flags_runtime::Context::with_key(key.as_str()));
        assert_eq!(bare.value, typed, "{key}");
        inside += usize::from(typed);
        assert_eq!(summary(bare), summary(full), "{key}");
    }
    assert!(
        (40..160).contains(&inside),
        "{inside} of 200 inside a 50% rollout"
    );
    // An override in scope decides, keyed context or not.
    let (inside, _) = rollout_keys(&p);
    let _forced = shared::flags::REGISTRY
        .scoped_overrides()
        .set(shared::flags::BETA_ROLLOUT, false);
    let d = ok(now(p.resolve_bool_value("beta_rollout", &user(&inside))));
    assert_eq!((d.value, d.reason), (false, Some(EvaluationReason::Static)));
    let layer = d
        .flag_metadata
        .and_then(|m| m.values.get(keys::LAYER).cloned());
    assert_eq!(
        layer,
        Some(FlagMetadataValue::String("override".to_owned()))
    );
}

#[test]
fn without_flag_metadata_leaves_metadata_out() {
    let p = ready(&shared::flags::REGISTRY).without_flag_metadata();
    let d = ok(now(p.resolve_bool_value("search_v2", &user("u"))));
    assert!(d.flag_metadata.is_none());
    assert_eq!(d.reason, Some(EvaluationReason::Default));
    assert!(
        ok(now(provider().resolve_bool_value("search_v2", &user("u"))))
            .flag_metadata
            .is_some()
    );
}

/// Two flags that require each other: rules from outside a checked manifest (the
/// `flags!` macro refuses the cycle), the one way evaluation ends in an error.
mod cycle {
    use flags_runtime::__private::{FastCell, FlagMeta, Registry};
    use flags_runtime::Requirement;

    static META: [FlagMeta; 2] = [
        FlagMeta {
            requires: &[Requirement::on(1)],
            ..FlagMeta::bare("chicken", 0, &[])
        },
        FlagMeta {
            requires: &[Requirement::on(0)],
            ..FlagMeta::bare("egg", 1, &[])
        },
    ];
    static CELLS: [FastCell; 2] = [const { FastCell::new() }; 2];
    pub(super) static REGISTRY: Registry = Registry::new(
        &META,
        &CELLS,
        "[flags.chicken]\ndescription = \"c\"\nowner = \"o\"\nkind = \"ops\"\n\
         [flags.egg]\ndescription = \"e\"\nowner = \"o\"\nkind = \"ops\"\n",
        "cycle.toml",
    );
}
