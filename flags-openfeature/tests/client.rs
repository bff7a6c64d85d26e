//! End to end through the OpenFeature SDK's client API: flags as the global provider,
//! every value type, every error code the provider gives (not-ready aside: the SDK
//! initialises a provider when it is set, so that one is a unit test), contexts built from
//! OpenFeature's types (invocation, client and global), hooks at every level around
//! our evaluations, counting that sees one evaluation per OpenFeature evaluation, and
//! an override seen by the next evaluation.
//!
//! The SDK's API is a process-wide singleton: the provider, a global hook and a global
//! context are set once for this binary ([`setup`]), and each test reads flags that
//! no other test here changes.

use flags_runtime::raw::IndexAccess as _;
use std::sync::{Arc, Mutex};

use flags_openfeature::{FlagsProvider, keys};
use open_feature::{
    EvaluationContext, EvaluationDetails, EvaluationError, EvaluationErrorCode, EvaluationOptions,
    EvaluationReason, FlagMetadataValue, Hook, HookContext, HookHints, OpenFeature, StructValue,
    Value,
};
use tokio::sync::OnceCell;

flags_runtime::flags!(mod flags = "tests/flags.toml");

/// Two flags that require each other, which only a hand-built registry can hold (the
/// `flags!` macro refuses the cycle): their evaluation ends in an error.
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
    pub static REGISTRY: Registry = Registry::new(
        &META,
        &CELLS,
        "[flags.chicken]\ndescription = \"c\"\nowner = \"o\"\nkind = \"ops\"\n\
         [flags.egg]\ndescription = \"e\"\nowner = \"o\"\nkind = \"ops\"\n",
        "cycle.toml",
    );
}

/// What the hooks saw, in order: `(hook, stage, flag)`.
type Log = Arc<Mutex<Vec<(&'static str, &'static str, String)>>>;

fn log() -> &'static Log {
    static LOG: std::sync::OnceLock<Log> = std::sync::OnceLock::new();
    LOG.get_or_init(Log::default)
}

/// A hook that writes each stage it runs into the log.
struct Recorder {
    name: &'static str,
    log: Log,
}

impl Recorder {
    fn note(&self, stage: &'static str, ctx: &HookContext<'_>) {
        if let Ok(mut l) = self.log.lock() {
            l.push((self.name, stage, ctx.flag_key.to_owned()));
        }
    }
}

#[open_feature::async_trait]
impl Hook for Recorder {
    async fn before<'a>(
        &self,
        ctx: &HookContext<'a>,
        _: Option<&'a HookHints>,
    ) -> Result<Option<EvaluationContext>, EvaluationError> {
        self.note("before", ctx);
        Ok(None)
    }
    async fn after<'a>(
        &self,
        ctx: &HookContext<'a>,
        _: &EvaluationDetails<Value>,
        _: Option<&'a HookHints>,
    ) -> Result<(), EvaluationError> {
        self.note("after", ctx);
        Ok(())
    }
    async fn error<'a>(
        &self,
        ctx: &HookContext<'a>,
        _: &EvaluationError,
        _: Option<&'a HookHints>,
    ) {
        self.note("error", ctx);
    }
    async fn finally<'a>(
        &self,
        ctx: &HookContext<'a>,
        _: &EvaluationDetails<Value>,
        _: Option<&'a HookHints>,
    ) {
        self.note("finally", ctx);
    }
}

fn recorder(name: &'static str) -> Recorder {
    Recorder {
        name,
        log: log().clone(),
    }
}

/// Sets, once: flags as the global provider (with a provider hook), a global hook,
/// and a global context whose `country` is `NZ`.
async fn setup() {
    static DONE: OnceCell<()> = OnceCell::const_new();
    DONE.get_or_init(|| async {
        flags::REGISTRY.set_counting(true);
        let mut api = OpenFeature::singleton_mut().await;
        api.set_provider(FlagsProvider::new(&flags::REGISTRY).with_hook(recorder("provider")))
            .await;
        api.set_named_provider("cycle", FlagsProvider::new(&cycle::REGISTRY))
            .await;
        api.add_hook(recorder("api")).await;
        api.set_evaluation_context(EvaluationContext::default().with_custom_field("country", "NZ"))
            .await;
    })
    .await;
}

async fn client() -> open_feature::Client {
    setup().await;
    OpenFeature::singleton().await.create_client()
}

fn user(key: &str) -> EvaluationContext {
    EvaluationContext::default().with_targeting_key(key)
}

/// The error code of an evaluation that must fail.
fn code<T: std::fmt::Debug>(r: Result<T, EvaluationError>) -> EvaluationErrorCode {
    match r {
        Err(e) => e.code,
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// A structure of the application's own, read from a `json` payload.
#[derive(Debug, PartialEq)]
struct Layout {
    cols: i64,
    label: String,
}

impl TryFrom<StructValue> for Layout {
    type Error = String;

    fn try_from(s: StructValue) -> Result<Self, Self::Error> {
        let cols = s.fields.get("cols").and_then(Value::as_i64);
        let label = s.fields.get("label").and_then(Value::as_str);
        match (cols, label) {
            (Some(cols), Some(label)) => Ok(Layout {
                cols,
                label: label.to_owned(),
            }),
            _ => Err("cols and label".to_owned()),
        }
    }
}

/// A structure the payload does not fit.
#[derive(Debug)]
struct Pricing;

impl TryFrom<StructValue> for Pricing {
    type Error = ();

    fn try_from(s: StructValue) -> Result<Self, ()> {
        s.fields.get("currency").map(|_| Pricing).ok_or(())
    }
}

#[tokio::test]
async fn global_provider_serves_every_type() {
    let client = client().await;
    let metadata = OpenFeature::singleton().await.provider_metadata().await;
    assert_eq!(metadata.name, "flags");
    let ctx = user("user-1");
    let ctx = Some(&ctx);

    assert!(
        !client
            .get_bool_value("search_v2", ctx, None)
            .await
            .unwrap_or(true)
    );
    assert_eq!(
        client
            .get_int_value("page_size", ctx, None)
            .await
            .unwrap_or(10),
        50
    );
    assert!(
        (client
            .get_float_value("ratio", ctx, None)
            .await
            .unwrap_or(0.0)
            - 0.75)
            .abs()
            < 1e-12
    );
    assert_eq!(
        client
            .get_string_value("checkout_layout", ctx, None)
            .await
            .unwrap_or_default(),
        "two_col"
    );
    let layout: Result<Layout, _> = client.get_struct_value("checkout_layout", ctx, None).await;
    assert_eq!(
        layout.ok(),
        Some(Layout {
            cols: 2,
            label: "two".into()
        })
    );

    let details = client
        .get_string_details("checkout_layout", ctx, None)
        .await;
    let details = match details {
        Ok(d) => d,
        Err(e) => panic!("{e:?}"),
    };
    assert_eq!(details.flag_key, "checkout_layout");
    assert_eq!(details.variant.as_deref(), Some("two_col"));
    assert_eq!(details.reason, Some(EvaluationReason::Split));
    assert_eq!(
        details.flag_metadata.values.get(keys::OWNER),
        Some(&FlagMetadataValue::String("checkout-team".into()))
    );
    assert_eq!(
        details.flag_metadata.values.get(keys::LAYER),
        Some(&FlagMetadataValue::String("manifest".into()))
    );
    let killed = client.get_bool_details("killed", ctx, None).await;
    assert_eq!(
        killed.ok().and_then(|d| d.reason),
        Some(EvaluationReason::Disabled)
    );
    let fixed = client.get_bool_details("dark_mode", ctx, None).await;
    assert_eq!(
        fixed.ok().and_then(|d| d.reason),
        Some(EvaluationReason::Static)
    );
}

#[tokio::test]
async fn every_error_code_comes_back_with_the_callers_default() {
    let client = client().await;
    let ctx = user("user-2");
    let ctx = Some(&ctx);

    assert_eq!(
        code(client.get_bool_value("no_such_flag", ctx, None).await),
        EvaluationErrorCode::FlagNotFound
    );
    assert_eq!(
        code(client.get_bool_value("checkout_layout", ctx, None).await),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(client.get_int_value("ratio", ctx, None).await),
        EvaluationErrorCode::TypeMismatch
    );
    assert_eq!(
        code(
            client
                .get_struct_value::<Pricing>("checkout_layout", ctx, None)
                .await
        ),
        EvaluationErrorCode::TypeMismatch,
        "the SDK's own conversion into the caller's type"
    );
    // The caller's default is what the application reads on error.
    assert!(
        client
            .get_bool_value("no_such_flag", ctx, None)
            .await
            .unwrap_or(true)
    );
    assert_eq!(
        client
            .get_int_value("search_v2", ctx, None)
            .await
            .unwrap_or(7),
        7
    );

    // PARSE_ERROR: a remote layer hands over a payload that is not a number.
    let bad = flags_runtime::manifest::Rules {
        variants: vec![flags_runtime::manifest::WeightedVariant {
            variant: 1,
            name: "high".into(),
            weight: 1,
            payload: Some(flags_runtime::manifest::VariantPayload {
                kind: flags_runtime::manifest::PayloadKind::Number,
                value: "three quarters".into(),
            }),
        }],
        ..Default::default()
    };
    let ratio = flags::REGISTRY
        .index_of("bad_payload")
        .unwrap_or(usize::MAX);
    let applied =
        flags::REGISTRY.set_layer(flags_runtime::Layer::Remote, "test", vec![(ratio, bad)]);
    assert!(applied.is_ok(), "{applied:?}");
    let r = client.get_float_value("bad_payload", ctx, None).await;
    assert_eq!(code(r.clone()), EvaluationErrorCode::ParseError);
    assert!((r.unwrap_or(0.5) - 0.5).abs() < f64::EPSILON);

    // GENERAL: an evaluation that cannot complete (a named client on the cycle).
    let cyclic = client_named("cycle").await;
    let r = cyclic.get_bool_value("chicken", ctx, None).await;
    assert_eq!(code(r), EvaluationErrorCode::General("GENERAL".to_owned()));
    assert!(
        !cyclic
            .get_bool_value("egg", ctx, None)
            .await
            .unwrap_or(false)
    );
}

#[tokio::test]
async fn contexts_from_openfeature_types_reach_the_rules() {
    let client = client().await;
    let date = |y: i32| {
        time::Date::from_calendar_date(y, time::Month::June, 15)
            .map(|d| d.midnight().assume_utc())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    let customer = |seats: i64, signed_up: i32, verified: bool| {
        user("acct-9")
            .with_custom_field("seats", seats)
            .with_custom_field("signed_up", date(signed_up))
            .with_custom_field("verified", verified)
    };
    let gate = |ctx: EvaluationContext| {
        let client = &client;
        async move {
            client
                .get_bool_value("plan_gate", Some(&ctx), None)
                .await
                .unwrap_or(false)
        }
    };
    assert!(gate(customer(12, 2024, true)).await);
    assert!(
        !gate(customer(9, 2024, true)).await,
        "num_gte on an Int field"
    );
    assert!(
        !gate(customer(12, 2027, true)).await,
        "date_before on a DateTime field"
    );
    assert!(!gate(customer(12, 2024, false)).await, "a Bool field");
    let float_seats = customer(12, 2024, true).with_custom_field("seats", 10.5);
    assert!(gate(float_seats).await, "a Float field");

    // The global context (country = NZ) fills what the invocation leaves out; what the
    // invocation says wins.
    let nz = client
        .get_bool_value("nz_only", Some(&user("u")), None)
        .await;
    assert_eq!(nz.ok(), Some(true));
    let fr = user("u").with_custom_field("country", "FR");
    assert_eq!(
        client.get_bool_value("nz_only", Some(&fr), None).await.ok(),
        Some(false)
    );
    // A client's own context sits between the two.
    let mut au = client_named("au").await;
    au.set_evaluation_context(EvaluationContext::default().with_custom_field("country", "AU"));
    assert_eq!(
        au.get_bool_value("nz_only", Some(&user("u")), None)
            .await
            .ok(),
        Some(false)
    );
}

async fn client_named(name: &str) -> open_feature::Client {
    setup().await;
    OpenFeature::singleton().await.create_named_client(name)
}

#[tokio::test]
async fn hooks_run_around_each_evaluation_which_counts_once() {
    let client = client_named("hooked").await.with_hook(recorder("client"));
    let options = EvaluationOptions::default().with_hook(recorder("invocation"));
    let ctx = user("user-4");
    let before = flags::REGISTRY.counts().total("greeting");
    let fancy_before = flags::REGISTRY.counts().get("greeting", "fancy");

    let v = client
        .get_string_value("greeting", Some(&ctx), Some(&options))
        .await;
    assert_eq!(v.ok().as_deref(), Some("fancy"));
    let missing = client
        .get_string_value("greeting_typo", Some(&ctx), Some(&options))
        .await;
    assert_eq!(code(missing), EvaluationErrorCode::FlagNotFound);

    let seen = |flag: &str| -> Vec<(&'static str, &'static str)> {
        let l = log().lock().map(|l| l.clone()).unwrap_or_default();
        l.into_iter()
            .filter(|(_, _, f)| f == flag)
            .map(|(h, s, _)| (h, s))
            .collect()
    };
    // Before: API, client, invocation, provider; after and finally in reverse.
    assert_eq!(
        seen("greeting"),
        [
            ("api", "before"),
            ("client", "before"),
            ("invocation", "before"),
            ("provider", "before"),
            ("provider", "after"),
            ("invocation", "after"),
            ("client", "after"),
            ("api", "after"),
            ("provider", "finally"),
            ("invocation", "finally"),
            ("client", "finally"),
            ("api", "finally"),
        ]
    );
    // An unknown flag: error hooks instead of after hooks.
    let stages: Vec<_> = seen("greeting_typo").into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        stages,
        [
            "before", "before", "before", "before", "error", "error", "error", "error", "finally",
            "finally", "finally", "finally"
        ]
    );
    // Twelve hook calls around one evaluation, and the runtime counted one.
    assert_eq!(flags::REGISTRY.counts().total("greeting") - before, 1);
    assert_eq!(
        flags::REGISTRY.counts().get("greeting", "fancy") - fancy_before,
        1
    );
}

#[tokio::test]
async fn an_override_is_seen_by_the_next_evaluation() {
    let client = client().await;
    let ctx = user("user-5");
    let read = || async {
        client
            .get_bool_details("flip_me", Some(&ctx), None)
            .await
            .map(|d| (d.value, d.reason))
            .ok()
    };
    assert_eq!(read().await, Some((false, Some(EvaluationReason::Default))));
    assert!(flags::REGISTRY.set_override(flags::FLIP_ME, true).is_ok());
    assert_eq!(read().await, Some((true, Some(EvaluationReason::Static))));
    assert!(flags::REGISTRY.clear_override(flags::FLIP_ME).is_ok());
    assert_eq!(read().await, Some((false, Some(EvaluationReason::Default))));
}
