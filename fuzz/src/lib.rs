//! The fuzz targets' entry points, one function per target, each taking arbitrary
//! bytes through the same public functions the runtime, the controller and the CLI
//! use. They never panic on any input; a panic is a defect. The fuzz targets
//! (`fuzz_targets/*.rs`) call them under libFuzzer, and `tests/tests/fuzz_corpus.rs`
//! replays every committed corpus file through them on stable Rust.

use flags_rollout::StateStore;
use flags_runtime::__private::{FastCell, FlagMeta, Registry};
use flags_runtime::manifest::{
    Constraint, Operator, Pos, Rules, Stickiness, Strategy, StrategyKind,
};
use flags_runtime::raw::{IndexAccess as _, SnapshotAccess};
use flags_runtime::{Context, EnvSource, FileSource, Layer};
use flags_unleash::{ClientFeatures, DeltaEvent, Toggles};

/// The manifest the rule-file, environment and operator targets check against.
const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "compact", "wide"]

[flags.beta]
description = "d"
owner = "o"
kind = "ops"
[[flags.beta.strategies]]
type = "rollout"
percent = 50
"#;

static META: [FlagMeta; 3] = [
    FlagMeta::bare("search_v2", 0, &[]),
    FlagMeta::bare("layout", 1, &["classic", "compact", "wide"]),
    FlagMeta::bare("beta", 2, &[]),
];
static CELLS: [FastCell; 3] = [const { FastCell::new() }; 3];
static REGISTRY: Registry = Registry::new(&META, &CELLS, MANIFEST, "flags.toml");

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Evaluates every flag of the registry for a few contexts.
fn evaluate_all(attr: &str) {
    let snap = REGISTRY.snapshot();
    for ctx in [
        Context::new(),
        Context::with_key("user-1").attr("a", attr),
        Context::with_key(attr).attr("country", attr),
    ] {
        for i in 0..META.len() {
            let _ = snap.value_for(i, &ctx);
            let _ = snap.explain(i, &ctx).map(|d| d.to_string());
        }
    }
}

/// Target `manifest`: a `flags.toml` parsed and checked, its diagnostics rendered.
pub fn manifest(data: &[u8]) {
    match flags_runtime::manifest::parse_str(&text(data), "flags.toml") {
        Ok(m) => {
            for f in &m.flags {
                let _ = format!("{f:?}");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Target `rules_env`: the bytes before the first NUL are a rule file, parsed against
/// the manifest and applied when valid; the rest is the environment (`FLAGS` and
/// `FLAGS_*` variables, one `NAME=value` per line).
pub fn rules_env(data: &[u8]) {
    let (file, env) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Some(m) = REGISTRY.manifest() {
        match FileSource::parse(file, "state.toml", m) {
            Ok(rules) => {
                let _ = REGISTRY.set_layer(Layer::File, "state.toml", rules);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let env = text(env);
    let vars = env.lines().map(|line| match line.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => ("FLAGS".to_owned(), line.to_owned()),
    });
    let source = EnvSource::from_vars(vars);
    let (values, problems) = source.parse(&META);
    for p in &problems {
        let _ = p.to_string();
    }
    let rules = values
        .into_iter()
        .map(|(i, v)| {
            let r = Rules {
                value: Some(v),
                ..Rules::default()
            };
            (i, r)
        })
        .collect();
    let _ = REGISTRY.set_layer(Layer::Env, "env", rules);
    evaluate_all("x");
}

/// Target `unleash`: the bytes as a client features payload (checked, mapped and
/// evaluated offline for every toggle) and as a list of delta events applied to it.
pub fn unleash(data: &[u8]) {
    let mut payload = match ClientFeatures::parse(data) {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            ClientFeatures::default()
        }
    };
    if let Ok(events) = DeltaEvent::parse_events(data) {
        let _ = payload.apply_delta(&events);
    }
    if let Ok(toggles) = Toggles::new(&payload) {
        let ctx = Context::with_key("user-1").attr("country", "nz");
        for f in &payload.features {
            let _ = toggles.is_enabled(&f.name, &ctx);
            let _ = toggles.variant(&f.name, &ctx);
        }
    }
    let _ = ClientFeatures::parse(&payload.to_json());
}

/// Target `files`: the bytes as a rollout state file (checked, and every position
/// displayed as `cargo flags rollout status` does), an audit log (verified) and an
/// Unleash backup file (checked as a payload).
pub fn files(data: &[u8]) {
    match StateStore::new("state.json").parse(data) {
        Ok((state, invalid)) => {
            for r in state.rollouts.values() {
                let _ = format!("{} since {}", r.position, r.since);
                for t in &r.history {
                    let _ = format!("{:?} -> {}", t.from.map(|p| p.to_string()), t.to);
                }
            }
            for (_, e) in invalid {
                let _ = e.to_string();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let v = flags_rollout::audit::verify_bytes(data);
    let _ = v.to_string();
    if let Ok(backup) = ClientFeatures::parse(data) {
        let _ = Toggles::new(&backup);
    }
}

/// Target `operators`: byte 0 picks the operator, byte 1 its flags (inverted, case
/// insensitive), and the rest, split at NUL bytes, is the context value followed by
/// the operands. The constraint is compiled as a layer's rules and evaluated.
pub fn operators(data: &[u8]) {
    let [op, bits, rest @ ..] = data else {
        return;
    };
    let (operator, _, _) = Operator::ALL[usize::from(*op) % Operator::ALL.len()];
    let mut parts = rest.split(|&b| b == 0).map(|p| text(p).into_owned());
    let value = parts.next().unwrap_or_default();
    let constraint = Constraint {
        attribute: "a".to_owned(),
        operator,
        values: parts.collect(),
        inverted: bits & 1 != 0,
        case_insensitive: bits & 2 != 0,
    };
    let rules = Rules {
        strategies: vec![Strategy {
            kind: StrategyKind::All,
            constraints: vec![constraint],
            variants: Vec::new(),
            variant_stickiness: Stickiness::default(),
            pos: Pos::default(),
        }],
        ..Rules::default()
    };
    if REGISTRY
        .set_layer(Layer::Remote, "fuzz", vec![(0, rules)])
        .is_ok()
    {
        evaluate_all(&value);
    }
}
