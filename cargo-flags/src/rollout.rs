//! `cargo flags rollout` and `cargo flags audit`: a guarded rollout's persisted state
//! and audit log, read and changed from the command line, and `rollout run`, the
//! fleet's controller (see [`crate::rollout_run`]). A manual change here is written the
//! way a controller writes it (state file saved atomically under its inter-process
//! lock, audit entry appended and chained); a running controller using the same files
//! picks it up at its next tick and applies its percentage. With `--target`, the
//! change is also applied to the target at once.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use flags_rollout::{
    Attribution, AuditLog, FnExposure, RolloutController, StateStore, Verification, format_entry,
};

use crate::args::Globals;
use crate::outcome::{Exit, Failure};
use crate::workspace;

/// Where a rollout's files are.
#[derive(Debug, Args)]
pub struct RolloutFiles {
    /// The directory holding `state.json` and `audit.jsonl` (default: `.flags` beside
    /// the manifest).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The state file, if not `DIR/state.json`.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The audit log, if not `DIR/audit.jsonl`.
    #[arg(long)]
    pub audit: Option<PathBuf>,
    /// The environment the rollouts run in (an Unleash environment): state is kept
    /// per environment, by default in `.flags/ENV/`.
    #[arg(long, global = true)]
    pub environment: Option<String>,
}

/// Arguments of `cargo flags rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: RolloutAction,
    /// The files.
    #[command(flatten)]
    pub files: RolloutFiles,
}

/// A rollout action.
#[derive(Debug, Subcommand)]
pub enum RolloutAction {
    /// Every rollout's stage, status and last decision.
    Status,
    /// Move a flag to its next stage now.
    Advance(ManualArgs),
    /// Stop automatic decisions for a flag (exposure stays where it is).
    Pause(ManualArgs),
    /// Resume automatic decisions (a rolled-back flag restarts at stage 1).
    Resume(ManualArgs),
    /// Withdraw a flag to 0% now.
    Rollback(ManualArgs),
    /// Run the fleet's controller until SIGTERM or ctrl-c: metrics from Prometheus,
    /// exposure in Unleash or a shared rule file.
    Run(Box<crate::rollout_run::RunArgs>),
}

/// Arguments of a manual change.
#[derive(Debug, Args)]
pub struct ManualArgs {
    /// The flag.
    pub flag: String,
    /// Why (kept in the audit log).
    #[arg(long, default_value = "manual change")]
    pub reason: String,
    /// Who (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
    /// Also apply the change to this target now (`unleash=URL` or `file=PATH`);
    /// without it a running controller applies it at its next tick.
    #[arg(long, value_name = "TARGET")]
    pub target: Option<String>,
    /// Unleash admin or personal access token, for `--target unleash=URL`.
    #[arg(long, env = "FLAGS_UNLEASH_ADMIN_TOKEN", hide_env_values = true)]
    pub unleash_token: Option<String>,
    /// Unleash project of the toggle.
    #[arg(long, default_value = "default")]
    pub unleash_project: String,
}

/// Arguments of `cargo flags audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `verify` checks the hash chain instead of printing the log.
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// The files.
    #[command(flatten)]
    pub files: RolloutFiles,
}

/// An audit action.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check every line's hash and the chain; exit 0 intact, 1 torn last line (a
    /// crash mid-write), 2 tampered or truncated.
    Verify,
}

/// One of the controller's manual transitions: (controller, flag, who and why).
type ManualAction = fn(
    &RolloutController,
    &str,
    Attribution,
) -> Result<flags_rollout::Transition, flags_rollout::RolloutError>;

/// Exit codes of `rollout`.
pub const ROLLOUT_EXIT_CODES: &str =
    "Exit codes: 0 done; 2 unknown flag, no plan for it, or the files cannot be used.";
/// Exit codes of `audit`.
pub const AUDIT_EXIT_CODES: &str = "Exit codes: 0 printed / intact; 1 torn last line (a crash \
mid-write; the next writer repairs it); 2 tampered, truncated in the middle, or unreadable.";

fn paths(globals: &Globals, files: &RolloutFiles) -> Result<(PathBuf, PathBuf), Failure> {
    let dir = match &files.dir {
        Some(d) => d.clone(),
        None => {
            let base = workspace::locate(globals.manifest.as_deref())?
                .dir
                .join(".flags");
            match &files.environment {
                Some(env) => base.join(env),
                None => base,
            }
        }
    };
    Ok((
        files
            .state
            .clone()
            .unwrap_or_else(|| dir.join("state.json")),
        files
            .audit
            .clone()
            .unwrap_or_else(|| dir.join("audit.jsonl")),
    ))
}

fn fail(e: impl std::fmt::Display) -> Failure {
    Failure::msg(e.to_string())
}

/// Runs `cargo flags rollout`.
pub fn run_rollout(globals: &Globals, args: &RolloutArgs) -> Result<Exit, Failure> {
    let (state, audit) = paths(globals, &args.files)?;
    if let RolloutAction::Status = args.action {
        return status(&state);
    }
    let loaded = workspace::load(globals)?;
    for parent in [state.parent(), audit.parent()].into_iter().flatten() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure::msg(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    let (m, act): (&ManualArgs, ManualAction) = match &args.action {
        RolloutAction::Status => return status(&state),
        RolloutAction::Run(run) => {
            let target = crate::rollout_run::target(
                &run.target,
                args.files.environment.as_deref(),
                run.unleash_token.as_deref(),
                &run.unleash_project,
            )?;
            let mut builder = RolloutController::with_target(target)
                .state_file(&state)
                .audit_log(&audit);
            if let Some(env) = &args.files.environment {
                builder = builder.environment(env);
            }
            return crate::rollout_run::run(builder, &loaded.manifest, run);
        }
        RolloutAction::Advance(m) => (m, |c, f, by| c.advance(f, by)),
        RolloutAction::Pause(m) => (m, |c, f, by| c.pause(f, by)),
        RolloutAction::Resume(m) => (m, |c, f, by| c.resume(f, by)),
        RolloutAction::Rollback(m) => (m, |c, f, by| c.rollback(f, by)),
    };
    // Without a target only the persisted state and the log change: a running
    // controller (or the service's own) applies the percentage at its next tick.
    let mut builder = match &m.target {
        Some(spec) => RolloutController::with_target(crate::rollout_run::target(
            spec,
            args.files.environment.as_deref(),
            m.unleash_token.as_deref(),
            &m.unleash_project,
        )?),
        None => RolloutController::builder(FnExposure(|_: &str, _: u8| {})),
    }
    .state_file(&state)
    .audit_log(&audit);
    if let Some(env) = &args.files.environment {
        builder = builder.environment(env);
    }
    let controller = builder.build().map_err(fail)?;
    // Only the flag asked about: registering resumes it (and reads its target back).
    if let Some(plan) = loaded
        .manifest
        .flag(&m.flag)
        .and_then(|f| f.rollout.clone())
    {
        controller.register(&m.flag, plan).map_err(fail)?;
    }
    if loaded
        .manifest
        .flag(&m.flag)
        .is_none_or(|f| f.rollout.is_none())
    {
        return Err(Failure::msg(format!(
            "flag `{}` has no rollout plan in {} (add [flags.{}.rollout])",
            m.flag, loaded.file.display, m.flag
        )));
    }
    let actor = m
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "cli".to_owned());
    let by = Attribution::by(actor).because(m.reason.as_str());
    let t = act(&controller, &m.flag, by).map_err(fail)?;
    let from = t
        .from
        .map_or_else(|| "not started".to_owned(), |p| p.to_string());
    println!("{}: {from} -> {} ({})", t.flag, t.to, t.reason);
    Ok(Exit::Clean)
}

fn status(state: &Path) -> Result<Exit, Failure> {
    let Some(file) = StateStore::new(state).load().map_err(fail)? else {
        println!("no rollout state at {} yet", state.display());
        return Ok(Exit::Clean);
    };
    for (flag, r) in &file.rollouts {
        let stages: Vec<String> = r.stages.iter().map(|s| format!("{s}%")).collect();
        println!(
            "{flag}: {} since {} [{}]",
            r.position,
            r.since,
            stages.join(" ")
        );
        println!("  {}", r.reason);
    }
    Ok(Exit::Clean)
}

/// Runs `cargo flags audit`.
pub fn run_audit(globals: &Globals, args: &AuditArgs) -> Result<Exit, Failure> {
    let (_, audit) = paths(globals, &args.files)?;
    match args.action {
        None => {
            for entry in AuditLog::read_entries(&audit).map_err(fail)? {
                println!("{}", format_entry(&entry));
            }
            Ok(Exit::Clean)
        }
        Some(AuditAction::Verify) => match AuditLog::verify_file(&audit).map_err(fail)? {
            Verification::Intact { entries, .. } => {
                println!("{}: intact, {entries} entries", audit.display());
                Ok(Exit::Clean)
            }
            Verification::TornTail { entries, line, .. } => {
                println!(
                    "{}: {entries} intact entries, then a torn line {line} (a write cut short by a crash)",
                    audit.display()
                );
                Ok(Exit::Warnings)
            }
            Verification::Broken { line, problem } => Err(Failure::msg(format!(
                "{}:{line}: the audit log does not verify: {problem}",
                audit.display()
            ))),
        },
    }
}
