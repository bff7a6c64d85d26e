//! `cargo flags rollout run`: the fleet's one rollout controller as a long-running
//! command. It reads outcome metrics summed over every instance from Prometheus, sets
//! each flag's percentage where every instance reads it (a toggle's gradual rollout in
//! Unleash, or a shared rule file), and ticks on an interval until SIGTERM or ctrl-c.
//!
//! State and the audit log are the files the other `rollout` commands use, so a manual
//! `cargo flags rollout pause|resume|rollback|advance` from another shell reaches it at
//! its next tick. Killed at any moment (SIGKILL), it resumes at the same stage when
//! started again: the state file says where each rollout is, and a write to the target
//! that a crash cut short is completed rather than recorded again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use flags_fleet::{PrometheusSource, RuleFileTarget, UnleashTarget, Webhook};
use flags_rollout::{ExposureTarget, RolloutController, Transition};

use crate::outcome::{Exit, Failure};

/// Arguments of `cargo flags rollout run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Where outcome metrics come from: `prometheus=URL` (Prometheus's HTTP API,
    /// summing every instance's `flags_outcomes_total` and latency histogram).
    #[arg(long, value_name = "SOURCE")]
    pub metrics: String,
    /// Label matchers added to every Prometheus query, e.g. `job="checkout"`.
    #[arg(long, value_name = "MATCHERS")]
    pub selector: Option<String>,
    /// Where exposure is set: `unleash=URL` (the toggle's gradual rollout in
    /// `--environment`, through the Admin API) or `file=PATH` (a rule file every
    /// instance watches).
    #[arg(long, value_name = "TARGET")]
    pub target: String,
    /// Unleash admin or personal access token.
    #[arg(long, env = "FLAGS_UNLEASH_ADMIN_TOKEN", hide_env_values = true)]
    pub unleash_token: Option<String>,
    /// Unleash project of the toggles.
    #[arg(long, default_value = "default")]
    pub unleash_project: String,
    /// Time between ticks (`500ms`, `5s`, `1m`).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    /// POST a JSON alert here on every transition and rollback.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Drive only these flags (repeatable; default: every flag with a rollout plan).
    #[arg(long = "flag", value_name = "NAME")]
    pub flags: Vec<String>,
}

/// Parses a duration as the manifest writes them (`250ms`, `5s`, `2m`; see
/// [`flags_manifest::parse_duration`]), between 10 ms and a day.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = flags_manifest::parse_duration(text)
        .ok_or_else(|| format!("`{text}` is not a duration like 500ms, 5s or 1m"))?;
    if !(Duration::from_millis(10)..=Duration::from_secs(86_400)).contains(&d) {
        return Err(format!("`{text}` must be between 10ms and 24h"));
    }
    Ok(d)
}

/// The target named by `--target`.
pub fn target(
    spec: &str,
    environment: Option<&str>,
    token: Option<&str>,
    project: &str,
) -> Result<Arc<dyn ExposureTarget>, Failure> {
    match spec.split_once('=') {
        Some(("unleash", url)) => {
            let environment = environment.ok_or_else(|| {
                Failure::msg(
                    "--target unleash=URL needs --environment (the Unleash environment to change)",
                )
            })?;
            let token = token.ok_or_else(|| {
                Failure::msg("--target unleash=URL needs --unleash-token or FLAGS_UNLEASH_ADMIN_TOKEN (an admin or personal access token)")
            })?;
            let t = UnleashTarget::new(url, token, environment)
                .map_err(Failure::msg)?
                .project(project);
            Ok(Arc::new(t))
        }
        Some(("file", path)) if !path.trim().is_empty() => {
            Ok(Arc::new(RuleFileTarget::new(path.trim())))
        }
        _ => Err(Failure::msg(format!(
            "--target `{spec}`: expected unleash=URL or file=PATH"
        ))),
    }
}

fn transition_line(t: &Transition) -> String {
    let from = t
        .from
        .map_or_else(|| "not started".to_owned(), |p| p.to_string());
    format!(
        "{} {}: {from} -> {} by {} ({})",
        t.at, t.flag, t.to, t.actor, t.reason
    )
}

/// Builds the controller, registers the plans, and ticks until a signal.
pub fn run(
    controller: flags_rollout::ControllerBuilder,
    manifest: &flags_manifest::Manifest,
    args: &RunArgs,
) -> Result<Exit, Failure> {
    let source = match args.metrics.split_once('=') {
        Some(("prometheus", url)) => {
            let s = PrometheusSource::new(url).map_err(Failure::msg)?;
            match &args.selector {
                Some(sel) => s.selector(sel),
                None => s,
            }
        }
        _ => {
            return Err(Failure::msg(format!(
                "--metrics `{}`: expected prometheus=URL",
                args.metrics
            )));
        }
    };
    let webhook = args
        .webhook
        .as_deref()
        .map(Webhook::new)
        .transpose()
        .map_err(Failure::msg)?;
    let mut builder = controller
        .metrics(source)
        .on_transition(|t| println!("{}", transition_line(t)));
    if let Some(hook) = webhook {
        builder = builder.on_transition(move |t| hook.send(t));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| Failure::msg(format!("cannot handle signals: {e}")))?;
    }
    let controller: RolloutController = builder.build().map_err(Failure::msg)?;
    let mut driven = 0;
    for flag in &manifest.flags {
        let Some(plan) = &flag.rollout else { continue };
        if !args.flags.is_empty() && !args.flags.contains(&flag.name) {
            continue;
        }
        controller
            .register(&flag.name, plan.clone())
            .map_err(Failure::msg)?;
        driven += 1;
    }
    for wanted in &args.flags {
        if manifest.flag(wanted).is_none_or(|f| f.rollout.is_none()) {
            return Err(Failure::msg(format!(
                "flag `{wanted}` has no rollout plan in the manifest"
            )));
        }
    }
    if driven == 0 {
        return Err(Failure::msg("no flag in the manifest has a rollout plan"));
    }
    for s in controller.states() {
        println!("{}: {} since {}", s.flag, s.position, s.since);
    }
    eprintln!(
        "rollout controller running: {driven} flag(s), a tick every {:?}; SIGTERM or ctrl-c stops it",
        args.interval
    );
    let mut reported = std::collections::BTreeMap::new();
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        controller.tick();
        let outages = controller.outages();
        for (flag, problem) in &outages {
            if reported.get(flag) != Some(problem) {
                eprintln!("{flag}: held, {problem}");
            }
        }
        for flag in reported.keys() {
            if !outages.contains_key(flag) {
                eprintln!("{flag}: metrics and target answer again; the stage resumes");
            }
        }
        reported = outages;
        // Waits out the interval in short steps so a signal stops it promptly.
        while !stop.load(Ordering::SeqCst) && started.elapsed() < args.interval {
            std::thread::sleep(Duration::from_millis(20).min(args.interval));
        }
    }
    eprintln!("rollout controller stopped");
    Ok(Exit::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5h"), Ok(Duration::from_secs(5 * 3600)));
        assert!(
            parse_duration("2").is_err(),
            "a unit is needed, as in the manifest"
        );
        assert!(parse_duration("2d").is_err(), "more than a day");
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("x").is_err());
    }
}
