//! Default context fields: `start()` installs `appName`, `environment` and the
//! configured fields process-wide, as Unleash's SDKs put them in every context, so a
//! toggle constrained on them decides as Unleash's engine (Yggdrasil) does for a
//! context carrying them. In a process of its own: the defaults are process-wide.

mod common;

use common::Mock;
use flags_runtime::raw::IndexAccess;
use flags_runtime::{Context, FlagHandle, Layer};
use flags_unleash::UnleashConfig;
use unleash_yggdrasil::{Context as YContext, EngineState, UpdateMessage};

mod flags_mod {
    flags_runtime::flags!(pub mod flags = "tests/flags.toml");
}
use flags_mod::flags;

/// `new_search` is on for `checkout` in `production` in `eu`; `checkout_layout` is
/// `wide` there and `compact` elsewhere (a strategy per environment).
const PAYLOAD: &str = r#"{"version":2,"features":[
  {"name":"new_search","enabled":true,"strategies":[{"name":"default","constraints":[
     {"contextName":"appName","operator":"IN","values":["checkout"]},
     {"contextName":"environment","operator":"IN","values":["production"]},
     {"contextName":"region","operator":"IN","values":["eu"]}]}]},
  {"name":"checkout_layout","enabled":true,"strategies":[
     {"name":"flexibleRollout","parameters":{"rollout":"100","stickiness":"default","groupId":"g"},
      "constraints":[{"contextName":"environment","operator":"IN","values":["production"]}],
      "variants":[{"name":"wide","weight":1000,"stickiness":"default"}]},
     {"name":"default","variants":[{"name":"compact","weight":1000,"stickiness":"default"}]}]}]}"#;

fn yggdrasil() -> EngineState {
    let engine = EngineState::default();
    let message: UpdateMessage = serde_json::from_str(PAYLOAD).unwrap_or_else(|e| panic!("{e}"));
    let warnings = engine.take_state(message);
    assert!(
        warnings.as_ref().is_none_or(|w| w.is_empty()),
        "{warnings:?}"
    );
    engine
}

/// What Yggdrasil decides for `user` in a context an Unleash SDK configured like
/// `config` would build.
fn theirs(engine: &EngineState, user: &str, fields: &serde_json::Value) -> (bool, String) {
    let mut ctx = serde_json::json!({"userId": user});
    for (k, v) in fields.as_object().into_iter().flatten() {
        if k == "appName" || k == "environment" {
            ctx[k] = v.clone();
        } else {
            ctx["properties"][k] = v.clone();
        }
    }
    let ctx: YContext = serde_json::from_value(ctx).unwrap_or_else(|e| panic!("{e}"));
    (
        engine.is_enabled("new_search", &ctx, &None),
        engine.get_variant("checkout_layout", &ctx, &None).name,
    )
}

#[test]
fn start_sets_app_name_environment_and_configured_fields() {
    let engine = yggdrasil();
    let mock = Mock::start(PAYLOAD, "\"d1\"");
    let config = |env: Option<&str>| {
        let c = UnleashConfig::new(&mock.url, "checkout")
            .metrics_interval(None)
            .timeout(flags_test_support::wait::patience())
            .context_field("region", "eu");
        match env {
            Some(e) => c.environment(e),
            None => c,
        }
    };
    let ours = |user: &str| {
        let ctx = Context::with_key(user);
        let layout = flags::REGISTRY.explain(flags::CHECKOUT_LAYOUT.index(), &ctx);
        assert_eq!(layout.layer, Layer::Remote);
        (flags::NEW_SEARCH.get_for(&ctx), layout.label.to_owned())
    };
    let users = ["u1", "", "b6a1e0c2-8f57-4d4e-9a57-3a0d6c1b2f11", "x:y"];

    // Before any start: no default fields, the constrained strategies never match.
    assert_eq!(Context::with_key("u1").get("appName"), None);

    for (env, fields) in [
        (
            Some("production"),
            serde_json::json!({"appName":"checkout","environment":"production","region":"eu"}),
        ),
        (
            None,
            serde_json::json!({"appName":"checkout","environment":"default","region":"eu"}),
        ),
    ] {
        let unleash =
            flags_unleash::start(&flags::REGISTRY, config(env)).unwrap_or_else(|e| panic!("{e}"));
        for user in users {
            let (on, variant) = ours(user);
            assert_eq!(
                (on, variant),
                theirs(&engine, user, &fields),
                "user {user:?}, {fields}"
            );
        }
        unleash.stop();
    }

    // Both answers differ between the two configurations, so the defaults decided.
    assert!(
        theirs(
            &engine,
            "u1",
            &serde_json::json!({"appName":"checkout","environment":"production","region":"eu"})
        )
        .0
    );
    assert!(
        !theirs(
            &engine,
            "u1",
            &serde_json::json!({"appName":"checkout","environment":"default","region":"eu"})
        )
        .0
    );

    // A context's own field wins over the default.
    let own = Context::with_key("u1").attr("environment", "production");
    assert!(flags::NEW_SEARCH.get_for(&own));
    let region = Context::with_key("u1")
        .attr("environment", "production")
        .attr("region", "us");
    assert!(!flags::NEW_SEARCH.get_for(&region));
}
