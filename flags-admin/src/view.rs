//! What `/flags.json` says: a read-only picture of the registry (and of the rollout
//! controller, when there is one) taken at one moment.
//!
//! It reads the registry without evaluating anything for a context, so that looking
//! at the dashboard never shows up in the evaluation counts it displays.

use std::collections::BTreeMap;
use std::time::SystemTime;

use flags_rollout::{RolloutController, RolloutState, Transition};
use flags_runtime::manifest::{Date, Settings, UtcMillis};
use flags_runtime::raw::SnapshotAccess;
use flags_runtime::{FlagMeta, Layer, Registry};
use serde::{Deserialize, Serialize};

/// How many of a rollout's latest transitions are shown.
const TRANSITIONS_SHOWN: usize = 5;

/// The whole of `/flags.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlagsView {
    /// When the picture was taken (UTC, to the millisecond).
    pub at: String,
    /// The day expiry is judged against.
    pub today: String,
    /// The manifest's path as the registry names it.
    pub manifest: String,
    /// The registry's snapshot generation (+1 per applied change).
    pub generation: u64,
    /// Updates rejected and values skipped since start, all sources together.
    pub errors: u64,
    /// Whether evaluations are being counted (`Registry::set_counting`).
    pub counting: bool,
    /// Whether this endpoint accepts writes (a token and an audit log are configured).
    pub writes: bool,
    /// Every flag, in manifest order.
    pub flags: Vec<FlagView>,
    /// The sources feeding the registry's layers, with their health.
    pub sources: Vec<SourceView>,
}

/// One flag.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlagView {
    /// Its name.
    pub name: String,
    /// `release`, `experiment`, `ops` or `permission`.
    pub kind: String,
    /// Who answers for it.
    pub owner: String,
    /// What it is for.
    pub description: String,
    /// Its expiry date, `YYYY-MM-DD`.
    pub expires: Option<String>,
    /// `planned`, `active`, `rolled_out` or `deprecated`.
    pub lifecycle: String,
    /// Fixed at build time: no write can change it.
    #[serde(rename = "static")]
    pub is_static: bool,
    /// Variant names; empty for an on/off flag.
    pub variants: Vec<String>,
    /// The manifest default (`on`, `off` or a variant).
    pub default: String,
    /// The value in force when it is the same for everyone (`uniform`), else `None`.
    pub value: Option<String>,
    /// Whether every context gets the same value.
    pub uniform: bool,
    /// The layer that decides: `manifest`, `file`, `env`, `remote`, `rollout` or
    /// `override`.
    pub layer: String,
    /// What each layer with rules for the flag says, lowest first (empty: no layer
    /// has rules, the manifest default decides).
    pub layers: Vec<LayerView>,
    /// The rules declared in the manifest, in a few words (`None`: none).
    pub manifest_rules: Option<String>,
    /// Evaluations by value label, counted while counting is on.
    pub counts: BTreeMap<String, u64>,
    /// Whether it is past or near its expiry date.
    pub expiry: Expiry,
    /// Its guarded rollout, when the controller has one.
    pub rollout: Option<RolloutView>,
}

/// What one layer says about a flag.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerView {
    /// The layer.
    pub layer: String,
    /// Where its rules came from (a file path, `env`, a URL, `set_override`).
    pub origin: String,
    /// The rules in a few words.
    pub rules: String,
}

/// A flag's expiry on [`FlagsView::today`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiry {
    /// `permanent` (no date), `fine`, `expiring` (within the manifest's warn-ahead
    /// days, the last day included) or `stale` (past its date).
    pub state: String,
    /// Days until the date (negative: days past it); `None` when permanent.
    pub days_left: Option<i64>,
}

/// A guarded rollout's position and recent history.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RolloutView {
    /// The current stage, from 1.
    pub stage: usize,
    /// The plan's stages, in percent.
    pub stages: Vec<u8>,
    /// Exposure now, in percent.
    pub percent: u8,
    /// `running`, `paused`, `rolled_back` or `completed`.
    pub status: String,
    /// When the current stage (or pause, rollback) began.
    pub since: String,
    /// Why it is where it is.
    pub reason: String,
    /// Why the controller holds it (its saved state is invalid), if it does.
    pub held: Option<String>,
    /// The latest transitions, newest last.
    pub transitions: Vec<TransitionView>,
}

/// One rollout transition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TransitionView {
    /// When.
    pub at: String,
    /// The position before (`stage 1 at 5% (running)`), `None` at the start.
    pub from: Option<String>,
    /// The position after.
    pub to: String,
    /// Who.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// Whether it rolled the flag back.
    pub rollback: bool,
}

/// A source feeding one of the registry's layers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceView {
    /// Its layer.
    pub layer: String,
    /// Where it reads from.
    pub origin: String,
    /// The revision of the last accepted update (an Unleash ETag, say).
    pub revision: Option<String>,
    /// The last successful poll.
    pub last_success: Option<String>,
    /// The last failed poll.
    pub last_failure: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// The last error.
    pub last_error: Option<String>,
    /// Updates applied.
    pub updates: u64,
    /// Failures in all.
    pub failures: u64,
    /// Whether its last contact failed.
    pub failing: bool,
}

pub(crate) fn time(t: SystemTime) -> String {
    UtcMillis::from_system_time(t)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Today: `fixed`, else `FLAGS_TODAY`, else the clock (also when `FLAGS_TODAY` is
/// malformed: a dashboard with the clock's day beats no dashboard).
pub(crate) fn today(fixed: Option<Date>) -> Date {
    if let Some(d) = fixed {
        return d;
    }
    let env = std::env::var("FLAGS_TODAY").ok();
    flags_runtime::manifest::today(env.as_deref(), None)
        .or_else(|_| flags_runtime::manifest::today(None, None))
        .map(|(d, _)| d)
        .unwrap_or(EPOCH)
}

/// The day of last resort: a clock outside years 1 to 9999.
const EPOCH: Date = Date::ymd(1970, 1, 1);

pub(crate) fn build(
    registry: &Registry,
    controller: Option<&RolloutController>,
    writes: bool,
    today: Date,
) -> FlagsView {
    let snapshot = registry.snapshot();
    let manifest = registry.manifest();
    let default_settings = Settings::default();
    let settings = manifest.map_or(&default_settings, |m| &m.settings);
    let counts = registry.counts();
    let rollouts: BTreeMap<String, RolloutState> = controller
        .map(|c| {
            c.states()
                .into_iter()
                .map(|s| (s.flag.clone(), s))
                .collect()
        })
        .unwrap_or_default();
    let held = controller.map(RolloutController::held).unwrap_or_default();
    // Every flag's layers from one look (one lock), like the snapshot above.
    let mut all_layers = registry.layers_of_all().into_iter();
    let flags = registry
        .flags()
        .iter()
        .enumerate()
        .map(|(i, meta)| {
            let uniform = snapshot.uniform_value(i);
            let layers = layer_views(all_layers.next().unwrap_or_default());
            // The manifest layer's entry is its declared rules, summarised as the
            // runtime summarises every layer.
            let manifest_rules = layers
                .iter()
                .find(|l| l.layer == Layer::Manifest.as_str())
                .map(|l| l.rules.clone());
            let layer = snapshot
                .layer(i)
                .map_or_else(|| "manifest".to_owned(), |l| l.as_str().to_owned());
            FlagView {
                name: meta.name.to_owned(),
                kind: meta.kind.as_str().to_owned(),
                owner: meta.owner.to_owned(),
                description: meta.description.to_owned(),
                expires: meta.expires.map(|d| d.to_string()),
                lifecycle: meta.lifecycle.as_str().to_owned(),
                is_static: meta.is_static,
                variants: meta.variants.iter().map(|v| (*v).to_owned()).collect(),
                default: meta.label(meta.default).to_owned(),
                value: uniform.map(|v| meta.label(v).to_owned()),
                uniform: uniform.is_some(),
                layers,
                layer,
                manifest_rules,
                counts: counts
                    .flags
                    .get(i)
                    .map(|c| {
                        c.values
                            .iter()
                            .map(|(label, n)| ((*label).to_owned(), *n))
                            .collect()
                    })
                    .unwrap_or_default(),
                expiry: expiry(meta, settings, today),
                rollout: rollouts
                    .get(meta.name)
                    .map(|s| rollout(s, held.get(meta.name).cloned())),
            }
        })
        .collect();
    FlagsView {
        at: time(SystemTime::now()),
        today: today.to_string(),
        manifest: registry.manifest_source().0.to_owned(),
        generation: snapshot.generation(),
        errors: registry.error_count(),
        counting: registry.is_counting(),
        writes,
        flags,
        sources: sources(registry),
    }
}

fn layer_views(layers: Vec<flags_runtime::LayerRules>) -> Vec<LayerView> {
    layers
        .into_iter()
        .map(|l| LayerView {
            layer: l.layer.as_str().to_owned(),
            origin: l.origin,
            rules: l.rules,
        })
        .collect()
}

fn sources(registry: &Registry) -> Vec<SourceView> {
    registry
        .source_health()
        .into_iter()
        .map(|h| SourceView {
            failing: h.is_failing(),
            layer: h.layer.as_str().to_owned(),
            origin: h.origin,
            revision: h.revision,
            last_success: h.last_success.map(time),
            last_failure: h.last_failure.map(time),
            consecutive_failures: h.consecutive_failures,
            last_error: h.last_error,
            updates: h.updates,
            failures: h.failures,
        })
        .collect()
}

fn expiry(meta: &FlagMeta, settings: &Settings, today: Date) -> Expiry {
    let Some(expires) = meta.expires else {
        return Expiry {
            state: "permanent".to_owned(),
            days_left: None,
        };
    };
    let days_left = today.days_until(expires);
    let state = if days_left < 0 {
        "stale"
    } else if days_left <= i64::from(settings.warn_ahead_days) {
        "expiring"
    } else {
        "fine"
    };
    Expiry {
        state: state.to_owned(),
        days_left: Some(days_left),
    }
}

fn rollout(state: &RolloutState, held: Option<String>) -> RolloutView {
    let skip = state.history.len().saturating_sub(TRANSITIONS_SHOWN);
    RolloutView {
        stage: state.position.stage.saturating_add(1),
        stages: state.stages.clone(),
        percent: state.position.percent,
        status: status(state.position.status).to_owned(),
        since: state.since.to_string(),
        reason: state.reason.clone(),
        held,
        transitions: state.history[skip..].iter().map(transition).collect(),
    }
}

fn status(s: flags_rollout::Status) -> &'static str {
    match s {
        flags_rollout::Status::Running => "running",
        flags_rollout::Status::Paused => "paused",
        flags_rollout::Status::RolledBack => "rolled_back",
        flags_rollout::Status::Completed => "completed",
    }
}

fn transition(t: &Transition) -> TransitionView {
    TransitionView {
        at: t.at.to_string(),
        from: t.from.map(|p| p.to_string()),
        to: t.to.to_string(),
        actor: t.actor.clone(),
        reason: t.reason.clone(),
        rollback: t.is_rollback(),
    }
}
