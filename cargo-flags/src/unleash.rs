//! `cargo flags unleash diff`: compares the manifest with a live Unleash server, so CI
//! catches drift before a deploy (variants, dependencies against `requires`/`excludes`,
//! flags the server lacks, toggles no flag binds). Exit 0 when they agree, 1 on drift,
//! 2 when the manifest or the server cannot be read.

use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use flags_manifest::FlagType;
use flags_unleash::{ManifestFlag, UnleashConfig};

use crate::args::Globals;
use crate::outcome::{Exit, Failure};
use crate::workspace;

/// Exit codes of `cargo flags unleash diff`.
pub const UNLEASH_EXIT_CODES: &str = "\
Exit codes:
  0  the manifest and the server agree
  1  drift: a difference is listed
  2  the manifest is invalid, or the server cannot be reached or sent a refused payload";

/// Arguments of `cargo flags unleash`.
#[derive(Debug, Args)]
pub struct UnleashArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UnleashCommand,
}

/// The `unleash` subcommands.
#[derive(Debug, Subcommand)]
pub enum UnleashCommand {
    /// Compare the manifest with the toggles of a live server.
    #[command(after_help = UNLEASH_EXIT_CODES)]
    Diff(DiffArgs),
}

/// Arguments of `cargo flags unleash diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The server's base URL (`http://unleash:4242`, with or without `/api`).
    #[arg(long, env = "UNLEASH_URL", value_name = "URL")]
    pub url: String,
    /// A client API token of the environment to compare with.
    #[arg(
        long,
        env = "UNLEASH_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// The application name sent to the server.
    #[arg(long, default_value = "cargo-flags", value_name = "NAME")]
    pub app: String,
    /// Seconds to wait for the server.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub timeout: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
}

/// Output formats of `unleash diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// One line per difference.
    Human,
    /// One JSON document: `{"drift": ["...", ...]}`.
    Json,
}

/// Runs `cargo flags unleash ...`.
pub fn run(globals: &Globals, args: &UnleashArgs) -> Result<Exit, Failure> {
    match &args.command {
        UnleashCommand::Diff(diff) => run_diff(globals, diff),
    }
}

fn run_diff(globals: &Globals, args: &DiffArgs) -> Result<Exit, Failure> {
    let loaded = workspace::load(globals)?;
    let flags: Vec<ManifestFlag> = loaded
        .manifest
        .flags
        .iter()
        .map(|f| ManifestFlag {
            name: f.name.clone(),
            variants: match &f.ty {
                FlagType::Bool => Vec::new(),
                FlagType::Variants(v) => v.clone(),
            },
            is_static: f.is_static,
            requires: f
                .requires
                .iter()
                .map(|r| (r.flag.clone(), r.variant.clone()))
                .collect(),
            excludes: f
                .excludes
                .iter()
                .map(|r| (r.flag.clone(), r.variant.clone()))
                .collect(),
        })
        .collect();
    let mut config = UnleashConfig::new(&args.url, &args.app)
        .timeout(Duration::from_secs(args.timeout.max(1)))
        .no_backup_file()
        .metrics_interval(None);
    if let Some(token) = &args.token {
        config = config.token(token);
    }
    let payload = flags_unleash::fetch(&config).map_err(Failure::msg)?;
    let drift = flags_unleash::drift(&flags, &payload);
    let lines: Vec<String> = drift.iter().map(ToString::to_string).collect();
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        DiffFormat::Json => writeln!(out, "{}", serde_json::json!({ "drift": lines })),
        DiffFormat::Human if lines.is_empty() => writeln!(
            out,
            "{}: the manifest's {} flags and the server's {} toggles agree",
            loaded.file.display,
            flags.len(),
            payload.features.len()
        ),
        DiffFormat::Human => {
            let mut r = writeln!(
                out,
                "{}: {} difference(s) with {}:",
                loaded.file.display,
                lines.len(),
                args.url
            );
            for l in &lines {
                r = r.and_then(|()| writeln!(out, "  {l}"));
            }
            r
        }
    };
    written.map_err(|e| Failure::msg(format!("writing the diff: {e}")))?;
    Ok(if lines.is_empty() {
        Exit::Clean
    } else {
        Exit::Warnings
    })
}
