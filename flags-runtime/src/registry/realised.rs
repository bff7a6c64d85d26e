//! The matrix runner's check that the combination it claims is the one in force.
//!
//! `cargo flags matrix` sets each flag of a combination in the environment and
//! `FLAGS_MATRIX_REPORT` to a file of its own. When that variable is set, a registry
//! that starts evaluates every flag the environment set, with an empty context, and
//! appends a line to the file for each one whose value is not the one set: a
//! `requires` not met, an `excludes` met, a bad value. The runner reports such a
//! combination as not realisable instead of as passed. Without the variable nothing
//! here runs.

use std::ffi::OsStr;
use std::io::Write;

use flags_manifest::Value;

use crate::context::Context;
use crate::explain::Reason;
use crate::meta::FlagMeta;
use crate::snapshot::{SnapshotData, Statics, View};

/// The variable naming the file to append unrealised values to.
pub(crate) const REPORT_VAR: &str = "FLAGS_MATRIX_REPORT";

/// The lines to report: one per flag of `forced` whose value in `data` differs, and
/// one per environment problem of this manifest's flags.
pub(crate) fn unrealised(
    manifest: &str,
    meta: &[FlagMeta],
    statics: &Statics,
    data: &SnapshotData,
    forced: &[(usize, Value)],
    problems: &[String],
) -> Vec<String> {
    let view = View {
        statics,
        data,
        scoped: None,
    };
    let ctx = Context::new();
    let mut lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{manifest}: {p}"))
        .collect();
    for &(index, wanted) in forced {
        let outcome = view.evaluate(index, &ctx);
        if outcome.value == wanted {
            continue;
        }
        let m = &meta[index];
        let why = match outcome.reason {
            Reason::PrerequisiteFailed { flag } => {
                let other = usize::try_from(flag).ok().filter(|&i| i < meta.len());
                match other {
                    Some(i) => {
                        let o = &meta[i];
                        let named =
                            |list: &[crate::meta::Requirement]| list.iter().any(|r| r.flag == i);
                        if named(m.requires) && !named(m.excludes) {
                            format!(
                                "it requires `{}`, which is {}",
                                o.name,
                                o.label(view.evaluate(i, &ctx).value)
                            )
                        } else {
                            // An exclusion sees the other flag before its own
                            // exclusions, so its final value would mislead here.
                            format!("it excludes `{}`, which is set too", o.name)
                        }
                    }
                    None => format!("prerequisite flag #{flag} failed"),
                }
            }
            other => other.to_string(),
        };
        lines.push(format!(
            "{manifest}: flag `{}` was set to {} but is {} ({why})",
            m.name,
            m.label(wanted),
            m.label(outcome.value),
        ));
    }
    lines
}

/// Appends `lines` to the file `path`, one write per line so that the processes of
/// one combination (a test binary each) never interleave within a line. A file that
/// cannot be written is reported on stderr: the runner then sees no report, and the
/// run must not fail for it.
pub(crate) fn append(path: &OsStr, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    let result = file.and_then(|mut f| {
        lines
            .iter()
            .try_for_each(|l| f.write_all(format!("{l}\n").as_bytes()))
    });
    if let Err(e) = result {
        eprintln!(
            "flags: cannot write {REPORT_VAR} file {}: {e}",
            std::path::Path::new(path).display()
        );
    }
}
