//! How a command ends: the exit code CI reads, and the failure that stops a command
//! before it can produce its output.

use std::fmt;
use std::path::Path;

/// The process exit code of a command, ordered by seriousness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Nothing to act on (notes may have been printed).
    Clean = 0,
    /// Warnings, or unused flags, that the caller asked to treat as failures.
    Warnings = 1,
    /// Errors: a bad manifest or state file, a reference to a flag that does not
    /// exist, an unknown flag name, or a failed write.
    Errors = 2,
}

/// A command that could not do its job. Its lines go to stderr and the process exits
/// with [`Exit::Errors`].
#[derive(Debug)]
pub struct Failure {
    lines: Vec<String>,
}

impl Failure {
    /// A failure with a one-line message, printed as `error: MESSAGE`.
    pub fn msg(message: impl fmt::Display) -> Failure {
        Failure {
            lines: vec![format!("error: {message}")],
        }
    }

    /// A failure made of lines printed as they are (rendered diagnostics).
    pub fn lines(lines: Vec<String>) -> Failure {
        Failure { lines }
    }

    /// A failure to read or write `path`.
    pub fn io(action: &str, path: &Path, err: &std::io::Error) -> Failure {
        Failure::msg(format!("cannot {action} {}: {err}", path.display()))
    }

    /// The lines to print.
    pub fn into_lines(self) -> Vec<String> {
        self.lines
    }
}

/// Writing to stdout failed. A closed pipe (`cargo flags refs | head`) is the
/// reader's choice, not a problem to report, so it fails silently.
impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            Failure { lines: Vec::new() }
        } else {
            Failure::msg(format!("cannot write the output: {err}"))
        }
    }
}
