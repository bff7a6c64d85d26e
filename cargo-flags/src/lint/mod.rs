//! `cargo flags lint`: everything wrong with a manifest, in one run, for people and CI.
//!
//! Manifest errors (syntax, naming convention, missing owner or description, temporary
//! flags without `expires`, `requires` cycles) come from the manifest crate, exactly as
//! the `flags!` macro reports them. On top of a valid manifest, lint judges expiry on
//! "today": stale flags are warnings (errors past the grace period under
//! `expiry = "error"`), flags inside the warn-ahead window are notes, each naming the
//! owner to notify.

mod render;

use std::cmp::Reverse;
use std::path::PathBuf;

use flags_manifest::{Date, Diagnostic, ExpiryState, Pos, Severity, expiry_state};

use crate::args::Globals;
use crate::cli::{LintArgs, LintFormat};
use crate::expiry;
use crate::outcome::{Exit, Failure};
use crate::workspace::{self, Loaded};

/// One thing lint found.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What, where and how to fix, as the manifest crate models a problem.
    pub diagnostic: Diagnostic,
    /// A short category: the title of a GitHub annotation.
    pub title: &'static str,
    /// The flag concerned, if one.
    pub flag: Option<String>,
    /// Its owner: who to notify.
    pub owner: Option<String>,
}

impl Finding {
    fn from_manifest(diagnostic: Diagnostic) -> Finding {
        let title = match diagnostic.severity {
            Severity::Error => "invalid manifest",
            Severity::Warning => "manifest warning",
            Severity::Note => "manifest note",
        };
        Finding {
            diagnostic,
            title,
            flag: None,
            owner: None,
        }
    }
}

/// The outcome of linting one manifest.
#[derive(Clone, Debug)]
pub struct Lint {
    /// How messages name the manifest.
    pub file: String,
    /// The day expiry was judged on (absent when the manifest did not parse).
    pub today: Option<Date>,
    /// How many flags the manifest declares (absent when it did not parse).
    pub flags: Option<usize>,
    /// Findings, most serious first, then in file order.
    pub findings: Vec<Finding>,
}

impl Lint {
    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.diagnostic.severity == severity)
            .count()
    }

    /// The exit code: errors fail, warnings fail only when denied.
    pub fn exit(&self, deny_warnings: bool) -> Exit {
        if self.count(Severity::Error) > 0 {
            Exit::Errors
        } else if deny_warnings && self.count(Severity::Warning) > 0 {
            Exit::Warnings
        } else {
            Exit::Clean
        }
    }
}

/// Runs `cargo flags lint`.
pub fn run(globals: &Globals, args: &LintArgs) -> Result<Exit, Failure> {
    let file = workspace::locate(globals.manifest.as_deref())?;
    let lint = match workspace::read(&file) {
        Ok(loaded) => {
            let mut lint = check(&loaded, workspace::today(globals)?);
            retirement_candidates(&mut lint, &loaded);
            lint
        }
        Err(diagnostics) => invalid(&file.display, diagnostics),
    };
    let exit = lint.exit(args.deny_warnings);
    let mut out = std::io::stdout().lock();
    match args.format {
        LintFormat::Human => render::human(&mut out, &lint)?,
        LintFormat::Json => render::json(&mut out, &lint, exit)?,
        LintFormat::Github => render::github(&mut out, &lint)?,
    }
    Ok(exit)
}

/// Notes for flags whose rollout finished at 100% at least a soak time ago, from the
/// rollout state beside the manifest (`.flags/state.json`). A state file that cannot
/// be read is `rollout status`'s business, not lint's: it adds nothing here.
fn retirement_candidates(lint: &mut Lint, loaded: &Loaded) {
    // `.flags/state.json`, and `.flags/ENV/state.json` of each environment.
    let dir = loaded.file.dir.join(".flags");
    let mut states = vec![(None, dir.join("state.json"))];
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut envs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("state.json").is_file())
            .collect();
        envs.sort();
        for env in envs {
            let name = env.file_name().map(|n| n.to_string_lossy().into_owned());
            states.push((name, env.join("state.json")));
        }
    }
    for (env, path) in states {
        let Ok(Some(state)) = crate::retire::load_state(&path) else {
            continue;
        };
        candidates_from(lint, loaded, &state, env.as_deref());
    }
}

fn candidates_from(
    lint: &mut Lint,
    loaded: &Loaded,
    state: &flags_rollout::StateFile,
    env: Option<&str>,
) {
    for mut c in crate::retire::finished_rollouts(&loaded.manifest, state) {
        if let Some(env) = env {
            c.reason = format!("{} in {env}", c.reason);
        }
        let Some(flag) = loaded.manifest.flag(&c.flag) else {
            continue;
        };
        lint.findings.push(Finding {
            diagnostic: Diagnostic {
                severity: Severity::Note,
                pos: flag.pos.clone(),
                key: format!("flags.{}", flag.name),
                message: format!("flag `{}` is ready to retire: {}", flag.name, c.reason),
                help: Some(format!(
                    "cargo flags retire {} --keep {}",
                    flag.name,
                    c.keep.as_deref().unwrap_or("on|off")
                )),
            },
            title: "retirement candidate",
            flag: Some(flag.name.clone()),
            owner: Some(flag.owner.clone()),
        });
    }
}

fn invalid(file: &str, diagnostics: Vec<Diagnostic>) -> Lint {
    let mut findings: Vec<Finding> = diagnostics
        .into_iter()
        .map(Finding::from_manifest)
        .collect();
    if findings.is_empty() {
        // The manifest crate always explains a rejection; keep the exit code honest
        // even if it ever does not.
        findings.push(Finding::from_manifest(Diagnostic {
            severity: Severity::Error,
            pos: Pos {
                span: 0..0,
                line: 1,
                col: 1,
            },
            key: String::new(),
            message: "the manifest is invalid".to_owned(),
            help: None,
        }));
    }
    Lint {
        file: file.to_owned(),
        today: None,
        flags: None,
        findings,
    }
}

/// Lints a valid manifest on `today`.
pub fn check(loaded: &Loaded, today: Date) -> Lint {
    let manifest = &loaded.manifest;
    let mut findings: Vec<Finding> = loaded
        .notes
        .iter()
        .cloned()
        .map(Finding::from_manifest)
        .collect();
    for flag in &manifest.flags {
        let state = expiry_state(flag, &manifest.settings, today);
        let (severity, title, help) = match state {
            ExpiryState::Stale { .. } => (
                Severity::Warning,
                "stale flag",
                format!(
                    "remove it from the code and flags.toml (`cargo flags retire {} --keep on|off`), \
                     or move `expires` later",
                    flag.name
                ),
            ),
            ExpiryState::StaleError { .. } => (
                Severity::Error,
                "stale flag past its grace period",
                format!(
                    "under expiry = \"error\" builds now fail: remove it from the code and \
                     flags.toml (`cargo flags retire {} --keep on|off`), or move `expires` later",
                    flag.name
                ),
            ),
            ExpiryState::ExpiringSoon { .. } => (
                Severity::Note,
                "flag expiring soon",
                format!(
                    "tell {} to remove the flag or move `expires` later",
                    flag.owner
                ),
            ),
            ExpiryState::Fine { .. } | ExpiryState::Permanent => continue,
        };
        findings.push(Finding {
            diagnostic: Diagnostic {
                severity,
                pos: workspace::key_pos(&loaded.source, &flag.pos, "expires"),
                key: format!("flags.{}.expires", flag.name),
                message: expiry::sentence(flag, state),
                help: Some(help),
            },
            title,
            flag: Some(flag.name.clone()),
            owner: Some(flag.owner.clone()),
        });
    }
    findings.sort_by_key(|f| {
        (
            Reverse(f.diagnostic.severity),
            f.diagnostic.pos.line,
            f.diagnostic.pos.col,
        )
    });
    Lint {
        file: loaded.file.display.clone(),
        today: Some(today),
        flags: Some(manifest.flags.len()),
        findings,
    }
}
