//! `cargo flags report`: one page describing every flag (what it is for, who owns it,
//! when it expires, what it is set to now, how much code uses it), as Markdown for docs
//! or as a self-contained HTML page to open in a browser.
//!
//! [`Page`] is the model both formats render; `md` and `html` only lay it out.

mod html;
mod md;

use flags_rollout::{StateFile, StateStore};
use std::io::Write;

use flags_manifest::{Date, expiry_state};

use crate::args::Globals;
use crate::cli::{ReportArgs, ReportFormat};
use crate::expiry::{self, ExpiryClass};
use crate::outcome::{Exit, Failure};
use crate::refs::{self, Scan};
use crate::rules_summary::summarize;
use crate::workspace::{self, Loaded, State};

/// One flag's line in the report.
#[derive(Clone, Debug)]
pub struct Row {
    /// Manifest name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Who answers for it.
    pub owner: String,
    /// Its kind (`release`, `ops`, ...).
    pub kind: &'static str,
    /// Its lifecycle state.
    pub lifecycle: &'static str,
    /// Its expiry date, if temporary.
    pub expires: Option<Date>,
    /// Fine, expiring soon, stale or permanent.
    pub expiry: ExpiryClass,
    /// The distance to or past the date: `in 9 days`, `12 days ago`, `today`.
    pub expiry_detail: String,
    /// The manifest default, as `on`/`off` or a variant name.
    pub default: String,
    /// What decides the value now, summarised (`rollout 25% by key`).
    pub state: String,
    /// Where that came from: the state file, the manifest, or nothing (`default`).
    pub state_source: String,
    /// The rollout stage, when a source of stages knows it.
    pub stage: Option<String>,
    /// References found in the scanned sources.
    pub refs: usize,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Page {
    /// The manifest, as messages name it.
    pub manifest: String,
    /// The state file, if one was given.
    pub state: Option<String>,
    /// The directory scanned for references.
    pub root: String,
    /// The day expiry was judged on.
    pub today: Date,
    /// The warn-ahead window, in days.
    pub warn_ahead_days: u32,
    /// One row per flag, in manifest order.
    pub rows: Vec<Row>,
    /// References to flags the manifest does not declare.
    pub unknown_refs: usize,
    /// Flags worth retiring with `cargo flags retire`: stale ones, and rollouts that
    /// finished at 100% at least a soak time ago.
    pub candidates: Vec<crate::retire::Candidate>,
}

impl Page {
    /// How many rows are in `class`.
    pub fn count(&self, class: ExpiryClass) -> usize {
        self.rows.iter().filter(|r| r.expiry == class).count()
    }

    /// `7 flags, 1 stale, 2 expiring soon`.
    pub fn summary(&self) -> String {
        let n = self.rows.len();
        format!(
            "{n} flag{}, {} stale, {} expiring soon",
            if n == 1 { "" } else { "s" },
            self.count(ExpiryClass::Stale),
            self.count(ExpiryClass::Soon)
        )
    }
}

/// Builds the report's model.
pub fn build(
    loaded: &Loaded,
    state: Option<&State>,
    rollouts: Option<&StateFile>,
    scan: &Scan,
    today: Date,
) -> Page {
    let manifest = &loaded.manifest;
    let counts = scan.counts(manifest.flags.len());
    let rows = manifest
        .flags
        .iter()
        .map(|flag| {
            let es = expiry_state(flag, &manifest.settings, today);
            let state_rules = state.and_then(|s| s.rules.get(flag.index).cloned().flatten());
            let (summary, source) = if flag.is_static {
                (
                    format!(
                        "static: {} (fixed at build time)",
                        flag.value_label(flag.default)
                    ),
                    loaded.file.display.clone(),
                )
            } else if let (Some(rules), Some(s)) = (&state_rules, state) {
                (summarize(flag, rules), s.display.clone())
            } else if !flag.rules.is_empty() {
                (summarize(flag, &flag.rules), loaded.file.display.clone())
            } else {
                (summarize(flag, &flag.rules), "default".to_owned())
            };
            Row {
                name: flag.name.clone(),
                description: flag.description.clone(),
                owner: flag.owner.clone(),
                kind: flag.kind.as_str(),
                lifecycle: flag.lifecycle.as_str(),
                expires: flag.expires,
                expiry: ExpiryClass::of(es),
                expiry_detail: expiry::distance(es),
                default: flag.value_label(flag.default),
                state: summary,
                state_source: source,
                // Only a rollout state file knows stages; without one the report says
                // so instead of guessing.
                stage: rollouts
                    .and_then(|r| r.rollouts.get(&flag.name))
                    .map(|r| r.position.to_string()),
                refs: counts[flag.index],
            }
        })
        .collect();
    let mut candidates: Vec<crate::retire::Candidate> = manifest
        .flags
        .iter()
        .filter(|f| {
            matches!(
                ExpiryClass::of(expiry_state(f, &manifest.settings, today)),
                ExpiryClass::Stale
            )
        })
        .map(|f| crate::retire::Candidate {
            flag: f.name.clone(),
            keep: None,
            reason: format!(
                "stale: expired on {} ({})",
                f.expires.map(|d| d.to_string()).unwrap_or_default(),
                expiry::distance(expiry_state(f, &manifest.settings, today))
            ),
        })
        .collect();
    if let Some(r) = rollouts {
        candidates.extend(crate::retire::finished_rollouts(manifest, r));
    }
    Page {
        candidates,
        manifest: loaded.file.display.clone(),
        state: state.map(|s| s.display.clone()),
        root: scan.root.clone(),
        today,
        warn_ahead_days: manifest.settings.warn_ahead_days,
        rows,
        unknown_refs: scan.unknown.len(),
    }
}

/// Runs `cargo flags report`.
pub fn run(globals: &Globals, args: &ReportArgs) -> Result<Exit, Failure> {
    let loaded = workspace::load(globals)?;
    let today = workspace::today(globals)?;
    let state = args
        .state
        .as_deref()
        .map(|path| workspace::load_state(path, &loaded.manifest))
        .transpose()?;
    let rollouts = match &args.rollouts {
        Some(path) => StateStore::new(path).load().map_err(|e| {
            Failure::msg(format!(
                "cannot use the rollout state {}: {e}",
                path.display()
            ))
        })?,
        None => None,
    };
    let scan = refs::scan(&loaded.manifest, &loaded.file.dir, &args.scan)?;
    let page = build(&loaded, state.as_ref(), rollouts.as_ref(), &scan, today);
    let format = args.format.unwrap_or_else(|| {
        let html = args
            .out
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
        if html {
            ReportFormat::Html
        } else {
            ReportFormat::Md
        }
    });
    let text = match format {
        ReportFormat::Md => md::render(&page),
        ReportFormat::Html => html::render(&page),
    };
    match &args.out {
        Some(path) => {
            crate::workspace::write_replacing(path, text.as_bytes())
                .map_err(|e| Failure::io("write", path, &e))?;
            let _ = writeln!(
                std::io::stderr(),
                "report: wrote {} ({})",
                path.display(),
                page.summary()
            );
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Exit::Clean)
}
