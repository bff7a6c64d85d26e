//! Differential test against Unleash's own engine (Yggdrasil, `unleash-yggdrasil`):
//! random payloads covering every strategy, operator (inverted and case-insensitive
//! too), stickiness, weighted/fixed/strategy variants, variant overrides, dependencies
//! and segments, evaluated on random contexts by both engines. `isEnabled`, the
//! variant's name, its payload and `feature_enabled` must agree on every sticky
//! evaluation; evaluations that reach a random draw (random stickiness, or default
//! stickiness without `userId` and `sessionId`) are compared by distribution in
//! `random_stickiness_distributions`.
//!
//! The seed is printed; `TEST_DIFFERENTIAL_SEED=<n>` replays a run and
//! `TEST_DIFFERENTIAL_PAYLOADS=<n>` changes its size. A disagreement prints a shrunk
//! reproducer: the payload JSON and the context JSON.
//!
//! Toggles Yggdrasil cannot compile (it warns, and turns the whole toggle off) are
//! left out and counted: the generator produces few of them, on purpose, as Unleash's
//! server never sends them (a numeric operand that is not a number, a missing segment).

#[path = "differential/generate.rs"]
mod generate;
#[path = "differential/manifest.rs"]
mod manifest;

use std::collections::HashSet;

use flags_runtime::Context;
use flags_unleash::{ClientFeatures, Toggles, UnleashContext};
use generate::Rng;
use serde_json::{Value, json};
use unleash_yggdrasil::{Context as YContext, EngineState, UpdateMessage};

/// What one engine answers for one toggle and context.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    enabled: bool,
    variant: String,
    variant_enabled: bool,
    feature_enabled: bool,
    payload: Option<(String, String)>,
}

struct Engines {
    ours: Toggles,
    theirs: EngineState,
    /// Toggles Yggdrasil refused to compile.
    refused: HashSet<String>,
}

fn engines(payload: &Value) -> Result<Engines, String> {
    let text = payload.to_string();
    let parsed = ClientFeatures::parse(text.as_bytes()).map_err(|e| format!("ours: {e}"))?;
    let ours = Toggles::new(&parsed).map_err(|e| format!("ours: {e}"))?;
    let theirs = EngineState::default();
    let message: UpdateMessage =
        serde_json::from_str(&text).map_err(|e| format!("yggdrasil: {e}"))?;
    let refused = theirs
        .take_state(message)
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.toggle_name)
        .collect();
    Ok(Engines {
        ours,
        theirs,
        refused,
    })
}

/// A context as each engine takes it.
struct Contexts {
    ours: Context,
    theirs: YContext,
}

fn contexts(ctx: &Value) -> Contexts {
    let ours: UnleashContext = serde_json::from_value(ctx.clone()).expect("context shape");
    Contexts {
        ours: ours.to_context(),
        theirs: serde_json::from_value(ctx.clone()).expect("context shape"),
    }
}

fn ours(e: &Engines, toggle: &str, ctx: &Contexts) -> Answer {
    let ctx = &ctx.ours;
    let v = e.ours.variant(toggle, ctx);
    Answer {
        enabled: e.ours.is_enabled(toggle, ctx),
        variant: v.name,
        variant_enabled: v.enabled,
        feature_enabled: v.feature_enabled,
        payload: v.payload.map(|p| (p.kind, p.value)),
    }
}

fn theirs(e: &Engines, toggle: &str, ctx: &Contexts) -> Answer {
    let ctx = &ctx.theirs;
    let v = e.theirs.get_variant(toggle, ctx, &None);
    Answer {
        enabled: e.theirs.is_enabled(toggle, ctx, &None),
        variant: v.name,
        variant_enabled: v.enabled,
        feature_enabled: v.feature_enabled,
        payload: v.payload.map(|p| (p.payload_type, p.value)),
    }
}

/// A context field as Yggdrasil reads it: built-in fields at the top level,
/// custom ones under `properties`.
fn field<'a>(ctx: &'a Value, name: &str) -> Option<&'a str> {
    ctx.get(name)
        .or_else(|| ctx.get("properties").and_then(|p| p.get(name)))
        .and_then(Value::as_str)
}

fn seed_missing(stickiness: &str, ctx: &Value) -> bool {
    match stickiness {
        "default" => field(ctx, "userId").is_none() && field(ctx, "sessionId").is_none(),
        // No context field is called `random`: always a draw.
        other => field(ctx, other).is_none(),
    }
}

fn list_draws(list: Option<&Value>, stickiness: &str, ctx: &Value) -> bool {
    let Some(list) = list.and_then(Value::as_array) else {
        return false;
    };
    let weighted = list
        .iter()
        .filter(|v| v["weight"].as_u64().unwrap_or(0) > 0)
        .count();
    weighted > 1 && seed_missing(stickiness, ctx)
}

/// Whether evaluating `toggle` for `ctx` may reach a random draw in either engine
/// (conservative: a `true` only moves the case to the distribution comparison).
fn may_draw(payload: &Value, toggle: &str, ctx: &Value, depth: u8) -> bool {
    let Some(f) = payload["features"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == toggle))
    else {
        return false;
    };
    let strategies = f["strategies"].as_array().cloned().unwrap_or_default();
    for s in &strategies {
        let stickiness = s["parameters"]["stickiness"].as_str().unwrap_or("default");
        match s["name"].as_str() {
            Some("gradualRolloutRandom") => return true,
            Some("flexibleRollout") if stickiness == "random" || seed_missing(stickiness, ctx) => {
                return true;
            }
            _ => {}
        }
        if list_draws(s.get("variants"), stickiness, ctx) {
            return true;
        }
    }
    let feature_stickiness = f["variants"][0]["stickiness"].as_str().unwrap_or("default");
    if list_draws(f.get("variants"), feature_stickiness, ctx) {
        return true;
    }
    depth == 0
        && f["dependencies"].as_array().is_some_and(|ds| {
            ds.iter()
                .any(|d| may_draw(payload, d["feature"].as_str().unwrap_or(""), ctx, 1))
        })
}

/// The one shape the rule model does not follow: a dependency on a parent's
/// variants, where the parent has a `flexibleRollout` without `groupId` with
/// variants of its own. Yggdrasil buckets that rollout under the dependent toggle's
/// name but splits its variants under the parent's; a strategy of the model has one
/// group for both.
fn split_groups(payload: &Value, toggle: &str) -> bool {
    let feature = |name: &str| {
        payload["features"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == name))
            .cloned()
    };
    let Some(f) = feature(toggle) else {
        return false;
    };
    f["dependencies"].as_array().is_some_and(|ds| {
        ds.iter().any(|d| {
            d["variants"].as_array().is_some_and(|v| !v.is_empty())
                && feature(d["feature"].as_str().unwrap_or("")).is_some_and(|p| {
                    p["strategies"].as_array().is_some_and(|ss| {
                        ss.iter().any(|s| {
                            s["name"] == "flexibleRollout"
                                && s["parameters"].get("groupId").is_none()
                                && s["variants"].as_array().is_some_and(|v| !v.is_empty())
                        })
                    })
                })
        })
    })
}

/// Whether a toggle's answer depends on a toggle Yggdrasil refused.
fn touches_refused(payload: &Value, toggle: &str, refused: &HashSet<String>) -> bool {
    if refused.contains(toggle) {
        return true;
    }
    payload["features"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == toggle))
        .and_then(|f| f["dependencies"].as_array())
        .is_some_and(|ds| {
            ds.iter()
                .any(|d| d["feature"].as_str().is_some_and(|p| refused.contains(p)))
        })
}

/// The answers of both engines, or `None` when they agree (or the case is out).
fn disagreement(payload: &Value, toggle: &str, ctx: &Value) -> Option<(Answer, Answer)> {
    let e = engines(payload).ok()?;
    if touches_refused(payload, toggle, &e.refused)
        || may_draw(payload, toggle, ctx, 0)
        || split_groups(payload, toggle)
    {
        return None;
    }
    let both = contexts(ctx);
    let (a, b) = (ours(&e, toggle, &both), theirs(&e, toggle, &both));
    (a != b).then_some((a, b))
}

/// Removes every part of the payload and context that the disagreement does not
/// need, one part at a time, until nothing more can go.
fn shrink(mut payload: Value, toggle: &str, mut ctx: Value) -> (Value, Value) {
    loop {
        let mut candidates: Vec<(Value, Value)> = Vec::new();
        let features = payload["features"].as_array().cloned().unwrap_or_default();
        for (i, f) in features.iter().enumerate() {
            if f["name"] != toggle {
                let mut p = payload.clone();
                p["features"].as_array_mut().unwrap().remove(i);
                candidates.push((p, ctx.clone()));
            }
            for key in ["strategies", "variants", "dependencies"] {
                for j in 0..f[key].as_array().map_or(0, Vec::len) {
                    let mut p = payload.clone();
                    p["features"][i][key].as_array_mut().unwrap().remove(j);
                    candidates.push((p, ctx.clone()));
                }
            }
            for j in 0..f["strategies"].as_array().map_or(0, Vec::len) {
                for key in ["constraints", "variants", "segments"] {
                    for k in 0..f["strategies"][j][key].as_array().map_or(0, Vec::len) {
                        let mut p = payload.clone();
                        p["features"][i]["strategies"][j][key]
                            .as_array_mut()
                            .unwrap()
                            .remove(k);
                        candidates.push((p, ctx.clone()));
                    }
                }
            }
        }
        for i in 0..payload["segments"].as_array().map_or(0, Vec::len) {
            let mut p = payload.clone();
            p["segments"].as_array_mut().unwrap().remove(i);
            candidates.push((p, ctx.clone()));
        }
        if let Some(fields) = ctx.as_object() {
            for k in fields.keys() {
                let mut c = ctx.clone();
                c.as_object_mut().unwrap().remove(k);
                candidates.push((payload.clone(), c));
            }
        }
        if let Some(props) = ctx.get("properties").and_then(Value::as_object) {
            for k in props.keys() {
                let mut c = ctx.clone();
                c["properties"].as_object_mut().unwrap().remove(k);
                candidates.push((payload.clone(), c));
            }
        }
        match candidates
            .into_iter()
            .find(|(p, c)| disagreement(p, toggle, c).is_some())
        {
            Some((p, c)) => (payload, ctx) = (p, c),
            None => return (payload, ctx),
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// This machine's host name as both engines read it.
fn host() -> String {
    hostname::get()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

const CONTEXTS_PER_PAYLOAD: usize = 32;
/// Enough for at least 100,000 sticky evaluations compared.
const DEFAULT_PAYLOADS: u64 = 2_600;

#[test]
fn agrees_with_yggdrasil_on_random_payloads() {
    let seed = env_number("TEST_DIFFERENTIAL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let payloads = env_number("TEST_DIFFERENTIAL_PAYLOADS").unwrap_or(DEFAULT_PAYLOADS);
    println!("differential seed {seed} (replay: TEST_DIFFERENTIAL_SEED={seed})");
    let mut rng = Rng::new(seed);
    let host = host();
    let (mut compared, mut drawn, mut refused, mut toggles) = (0u64, 0u64, 0u64, 0u64);
    let mut split = 0u64;
    let (mut compared_toml, mut not_in_toml) = (0u64, 0u64);
    let mut failures = Vec::new();
    for _ in 0..payloads {
        let payload = generate::payload(&mut rng, &host);
        let jsons: Vec<Value> = (0..CONTEXTS_PER_PAYLOAD)
            .map(|_| generate::context(&mut rng))
            .collect();
        let converted: Vec<Contexts> = jsons.iter().map(contexts).collect();
        let e = match engines(&payload) {
            Ok(e) => e,
            Err(why) => {
                failures.push(format!("payload refused: {why}\npayload: {payload}"));
                continue;
            }
        };
        let parsed = ClientFeatures::parse(payload.to_string().as_bytes()).expect("parsed above");
        let toml = match manifest::FromToml::new(&parsed) {
            Ok(t) => t,
            Err(why) => {
                failures.push(format!("flags.toml refused: {why}\npayload: {payload}"));
                continue;
            }
        };
        let names: Vec<String> = payload["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect();
        for (name, feature) in names.iter().zip(&parsed.features) {
            toggles += 1;
            let in_toml = manifest::expressible(feature);
            if !in_toml {
                not_in_toml += 1;
            }
            if touches_refused(&payload, name, &e.refused) {
                refused += 1;
                continue;
            }
            if split_groups(&payload, name) {
                split += 1;
                continue;
            }
            for (ctx, both) in jsons.iter().zip(&converted) {
                if may_draw(&payload, name, ctx, 0) {
                    drawn += 1;
                    continue;
                }
                compared += 1;
                let (a, b) = (ours(&e, name, both), theirs(&e, name, both));
                if in_toml {
                    compared_toml += 1;
                    let t = toml.answer(name, &both.ours);
                    let expected = Some((
                        b.enabled,
                        b.variant.clone(),
                        b.variant_enabled,
                        b.feature_enabled,
                        b.payload.clone(),
                    ));
                    if t != expected && failures.len() < 3 {
                        failures.push(format!(
                            "toggle `{name}` through flags.toml:\n  flags.toml: {t:?}\n  yggdrasil:  {b:?}\n  payload: {payload}\n  context: {ctx}\n{}",
                            toml.text
                        ));
                    } else if t != expected {
                        failures.push(String::new());
                    }
                }
                if a != b && failures.len() < 3 {
                    let (p, c) = shrink(payload.clone(), name, ctx.clone());
                    let (a, b) = disagreement(&p, name, &c).unwrap_or((a, b));
                    failures.push(format!(
                        "toggle `{name}`:\n  ours:      {a:?}\n  yggdrasil: {b:?}\n  payload: {p}\n  context: {c}"
                    ));
                } else if a != b {
                    failures.push(String::new());
                }
            }
        }
    }
    println!(
        "differential: {payloads} payloads, {toggles} toggles ({refused} refused by Yggdrasil's compiler, left out), \
         {compared} sticky evaluations compared (each: isEnabled, variant name, payload, featureEnabled), \
         {drawn} evaluations reaching a random draw left to the distribution test, \
         {split} toggles left out for a parent rollout whose variants Yggdrasil splits under another group; \
         through flags.toml: {compared_toml} of those evaluations compared ({not_in_toml} toggles not expressible in flags.toml)"
    );
    assert!(
        failures.is_empty(),
        "{} disagreements (seed {seed}); the first, shrunk:\n{}",
        failures.len(),
        failures
            .iter()
            .filter(|f| !f.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    if payloads >= DEFAULT_PAYLOADS {
        assert!(compared >= 100_000, "only {compared} evaluations compared");
        assert!(
            compared_toml >= 80_000,
            "only {compared_toml} evaluations compared through flags.toml"
        );
    }
}

/// Share of `true` over `n` evaluations of `f`.
/// Of `n` draws: how many were on, and how many of those were variant `a`.
fn sample(n: u32, mut draw: impl FnMut() -> Answer) -> (f64, f64) {
    let (mut on, mut a) = (0u32, 0u32);
    for _ in 0..n {
        let answer = draw();
        if answer.enabled {
            on += 1;
            if answer.variant == "a" {
                a += 1;
            }
        }
    }
    (f64::from(on), f64::from(a))
}

/// The standard error of a share `p` estimated from `n` draws.
fn sigma(p: f64, n: f64) -> f64 {
    (p * (1.0 - p) / n.max(1.0)).sqrt()
}

#[test]
fn random_stickiness_distributions() {
    const N: u32 = 50_000;
    let cases = [
        (
            "flexibleRollout",
            json!({"rollout": "10", "stickiness": "random"}),
        ),
        (
            "flexibleRollout",
            json!({"rollout": "50", "stickiness": "random"}),
        ),
        (
            "flexibleRollout",
            json!({"rollout": "90", "stickiness": "random"}),
        ),
        (
            "flexibleRollout",
            json!({"rollout": "30", "stickiness": "default"}),
        ),
        ("gradualRolloutRandom", json!({"percentage": "25"})),
        ("gradualRolloutRandom", json!({"percentage": "75"})),
    ];
    // Anonymous: default stickiness finds neither userId nor sessionId.
    let anonymous = contexts(&json!({"properties": {"tenant": "t"}}));
    for (name, params) in cases {
        let payload = json!({"version": 2, "features": [{"name": "r", "enabled": true,
            "strategies": [{"name": name, "parameters": params}],
            "variants": [
                {"name": "a", "weight": 300, "stickiness": "random"},
                {"name": "b", "weight": 700}]}]});
        let e = engines(&payload).unwrap();
        assert!(e.refused.is_empty());
        let (ours_on, ours_a) = sample(N, || ours(&e, "r", &anonymous));
        let (theirs_on, theirs_a) = sample(N, || theirs(&e, "r", &anonymous));
        let n = f64::from(N);
        let (p_ours, p_theirs) = (ours_on / n, theirs_on / n);
        // The variant's share among the draws that were on, from the same draws.
        let (v_ours, v_theirs) = (ours_a / ours_on.max(1.0), theirs_a / theirs_on.max(1.0));
        println!(
            "{name} {params}: on {p_ours:.3} (yggdrasil {p_theirs:.3}), variant a among on {v_ours:.3} (yggdrasil {v_theirs:.3})"
        );
        // Five standard errors of the difference: a false failure about once in
        // two million comparisons. Yggdrasil's `gradualRolloutRandom` draws from
        // 1..=99 (P = (p-1)/99, at most 0.76 points from p/100): one point on top.
        let on_limit = 5.0 * (sigma(p_ours, n).powi(2) + sigma(p_theirs, n).powi(2)).sqrt() + 0.01;
        assert!(
            (p_ours - p_theirs).abs() < on_limit,
            "{name} {params}: on {p_ours} vs {p_theirs} (limit {on_limit})"
        );
        let v_limit =
            5.0 * (sigma(v_ours, ours_on).powi(2) + sigma(v_theirs, theirs_on).powi(2)).sqrt();
        assert!(
            (v_ours - v_theirs).abs() < v_limit,
            "{name} {params}: variant shares {v_ours} vs {v_theirs} (limit {v_limit})"
        );
    }
}
