//! Running the command once per combination, `jobs` at a time.
//!
//! Each job is a thread that takes the next combination, starts the command with the
//! combination's variables, logs its stdout and stderr to a file of its own, and waits
//! for it by polling, so that it notices an interrupt while waiting and stops its own
//! child (no other thread ever signals a process it did not reap itself, so a recycled
//! process id is never hit). The calling thread only collects results and prints
//! progress.
//!
//! On Unix each command runs in a process group of its own: stopping it stops what it
//! started too (cargo's compiler and test binaries), and a Ctrl-C typed at the terminal
//! reaches only the runner, which then decides how to stop the commands.
//!
//! ## Target directories
//!
//! When more than one job runs a `cargo` command and the combinations differ in a static
//! flag, each job gets a `CARGO_TARGET_DIR` of its own (`flags-matrix/job-N` in the
//! target directory). A static flag's value is a build-time variable (`FLAGS_STATIC_*`)
//! that cargo tracks, so each combination rebuilds the crate into the same artifact
//! paths: two jobs sharing a target directory would overwrite each other's test
//! binaries, and one could run the binary built for the other's combination. When only
//! dynamic flags vary, every combination needs the same build, so the jobs share the
//! target directory: cargo's lock lets one job build while the others wait, and they all
//! reuse that build instead of compiling the project once per job.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::interrupt::Interrupt;
use flags_test::plan::Combination;

use crate::report::{CombinationResult, NotRunReason, Outcome, format_duration};
use crate::{REPORT_VAR, combination_env};

/// How long a command gets to exit after SIGTERM before it is killed, unless the
/// [`Interrupt`] says otherwise.
const GRACE: Duration = Duration::from_secs(3);

/// The longest pause between two checks of a running command.
const MAX_POLL: Duration = Duration::from_millis(25);

/// How often the collecting thread looks at the interrupt while nothing finishes.
const TICK: Duration = Duration::from_millis(50);

/// Everything the jobs share.
pub(crate) struct Setup {
    /// Program and arguments.
    pub(crate) command: Vec<OsString>,
    /// Where the command runs.
    pub(crate) work_dir: PathBuf,
    /// Where the logs go (exists).
    pub(crate) log_dir: PathBuf,
    /// How many combinations run at a time.
    pub(crate) jobs: usize,
    /// Stop starting combinations after a failure.
    pub(crate) fail_fast: bool,
    /// A target directory per job, under this directory, or `None` to share.
    pub(crate) job_target_dirs: Option<PathBuf>,
}

/// The cargo target directory the command would use: `$CARGO_TARGET_DIR` (relative to
/// the working directory) or `target` in the working directory.
pub(crate) fn target_dir(work_dir: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => work_dir.join(dir),
        _ => work_dir.join("target"),
    }
}

/// Whether the program is cargo (`cargo`, `/usr/bin/cargo`, `cargo.exe`).
pub(crate) fn is_cargo(program: &OsStr) -> bool {
    Path::new(program)
        .file_name()
        .is_some_and(|name| name == "cargo" || name == "cargo.exe")
}

/// Whether the combinations build differently: some static flag takes two values.
pub(crate) fn static_flags_vary(combinations: &[&Combination]) -> bool {
    let Some(first) = combinations.first() else {
        return false;
    };
    combinations.iter().any(|c| {
        c.static_values()
            .zip(first.static_values())
            .any(|(a, b)| a.value != b.value)
    })
}

/// What the collecting thread hears from the jobs.
enum Event {
    Started,
    Finished(usize, CombinationResult),
}

/// Runs `combinations`, printing progress to `out`; returns a result for each, in the
/// same order (combinations that never started are [`Outcome::NotRun`]) and whether the
/// run was interrupted.
pub(crate) fn run_all(
    setup: &Setup,
    combinations: &[&Combination],
    interrupt: &Interrupt,
    out: &mut dyn Write,
) -> (Vec<CombinationResult>, bool) {
    let total = combinations.len();
    let mut results: Vec<Option<CombinationResult>> = vec![None; total];
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut interrupted = false;
    let mut running = 0usize;
    let mut done = 0usize;
    let stop = || interrupt.is_triggered() || (setup.fail_fast && failed.load(Ordering::SeqCst));
    thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Event>();
        for slot in 0..setup.jobs.min(total) {
            let tx = tx.clone();
            let (next, failed, stop) = (&next, &failed, &stop);
            scope.spawn(move || {
                loop {
                    if stop() {
                        break;
                    }
                    let position = next.fetch_add(1, Ordering::SeqCst);
                    let Some(combination) = combinations.get(position) else {
                        break;
                    };
                    // Checked again: the stop may have come while taking the position.
                    if stop() {
                        break;
                    }
                    if tx.send(Event::Started).is_err() {
                        break;
                    }
                    let result = run_one(setup, combination, slot, interrupt);
                    if result.outcome.is_failure() {
                        failed.store(true, Ordering::SeqCst);
                    }
                    if tx.send(Event::Finished(position, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut said_fail_fast = false;
        loop {
            if interrupt.is_triggered() && !interrupted {
                interrupted = true;
                say(
                    out,
                    format_args!(
                        "interrupted: starting no more combinations; stopping {running} running (press Ctrl-C again to kill them at once)"
                    ),
                );
            }
            match rx.recv_timeout(TICK) {
                Ok(Event::Started) => running += 1,
                Ok(Event::Finished(position, result)) => {
                    running = running.saturating_sub(1);
                    done += 1;
                    let time = format_duration(result.duration);
                    say(
                        out,
                        format_args!(
                            "[{done}/{total}] {:<7} {time:>8}  {}",
                            result.outcome.status(),
                            result.combination.label
                        ),
                    );
                    if setup.fail_fast && result.outcome.is_failure() && !said_fail_fast {
                        said_fail_fast = true;
                        say(
                            out,
                            format_args!("fail-fast: starting no more combinations"),
                        );
                    }
                    results[position] = Some(result);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
    });
    // A job that saw the interrupt before the collecting thread did may have stopped
    // its command; that is an interrupted run too.
    interrupted |= interrupt.is_triggered();
    let reason = if interrupted {
        NotRunReason::Interrupted
    } else {
        NotRunReason::FailFast
    };
    let results = results
        .into_iter()
        .zip(combinations)
        .map(|(result, combination)| {
            result.unwrap_or_else(|| CombinationResult {
                combination: (*combination).clone(),
                outcome: Outcome::NotRun { reason },
                duration: Duration::ZERO,
                log: None,
            })
        })
        .collect();
    (results, interrupted)
}

/// Writes a progress line; a closed or full output must not stop the run.
fn say(out: &mut dyn Write, line: std::fmt::Arguments<'_>) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The log file of a combination: its number and a file-name-safe label.
pub(crate) fn log_name(combination: &Combination) -> String {
    let mut slug = String::new();
    for c in combination.label.chars() {
        let c = match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' => c,
            '=' => '-',
            _ => '_',
        };
        if !(c == '_' && slug.ends_with('_')) {
            slug.push(c);
        }
        if slug.len() >= 120 {
            break;
        }
    }
    format!("{:04}-{slug}.log", combination.index + 1)
}

/// Runs the command for one combination in job `slot`.
fn run_one(
    setup: &Setup,
    combination: &Combination,
    slot: usize,
    interrupt: &Interrupt,
) -> CombinationResult {
    let log_path = setup.log_dir.join(log_name(combination));
    let start = Instant::now();
    let outcome = match execute(setup, combination, slot, interrupt, &log_path) {
        Ok(outcome) => outcome,
        Err(message) => {
            // Leave the reason in the log too, for whoever reads the logs first.
            if let Ok(mut log) = File::options().append(true).create(true).open(&log_path) {
                let _ = writeln!(log, "flags matrix: {message}");
            }
            Outcome::Error { message }
        }
    };
    CombinationResult {
        combination: combination.clone(),
        outcome,
        duration: start.elapsed(),
        log: Some(log_path),
    }
}

fn execute(
    setup: &Setup,
    combination: &Combination,
    slot: usize,
    interrupt: &Interrupt,
    log_path: &Path,
) -> Result<Outcome, String> {
    let mut log = File::create(log_path)
        .map_err(|e| format!("cannot create the log {}: {e}", log_path.display()))?;
    let Some((program, args)) = setup.command.split_first() else {
        return Err("no command to run".to_owned());
    };
    let mut env = combination_env(combination);
    // Where the runtime reports values it could not realise; a stale file from an
    // earlier run must not be read as this run's.
    let unrealised_path = log_path.with_extension("unrealised");
    match std::fs::remove_file(&unrealised_path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(format!(
                "cannot remove the stale report {}: {e}",
                unrealised_path.display()
            ));
        }
    }
    env.push((REPORT_VAR.to_owned(), unrealised_path.display().to_string()));
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&setup.work_dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    let mut header = format!(
        "# flags matrix: combination {}: {}\n# command: {}\n# environment:",
        combination.index + 1,
        combination.label,
        shell_words(&setup.command)
    );
    for (key, value) in &env {
        header.push_str(&format!(" {key}={value:?}"));
    }
    if let Some(base) = &setup.job_target_dirs {
        let dir = base.join(format!("job-{}", slot + 1));
        header.push_str(&format!(
            " CARGO_TARGET_DIR={:?}",
            dir.display().to_string()
        ));
        command.env("CARGO_TARGET_DIR", dir);
    }
    header.push_str("\n\n");
    let write_err = |e: io::Error| format!("cannot write the log {}: {e}", log_path.display());
    log.write_all(header.as_bytes()).map_err(write_err)?;
    let stdout = log.try_clone().map_err(write_err)?;
    let stderr = log.try_clone().map_err(write_err)?;
    command.stdout(stdout).stderr(stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn().map_err(|e| {
        format!(
            "cannot start `{}` in {}: {e}",
            program.to_string_lossy(),
            setup.work_dir.display()
        )
    })?;
    let (status, stopped) = wait(&mut child, interrupt)
        .map_err(|e| format!("lost track of the command (pid {}): {e}", child.id()))?;
    if stopped {
        return Ok(Outcome::Stopped);
    }
    let unrealised = match std::fs::read_to_string(&unrealised_path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return Err(format!(
                "cannot read the runtime's report {}: {e}",
                unrealised_path.display()
            ));
        }
    };
    if !unrealised.is_empty() {
        // Leave the reason in the log too, beside the command's own output.
        let _ = writeln!(
            log,
            "\nflags matrix: this combination was not in force:\n    {}",
            unrealised.join("\n    ")
        );
        return Ok(Outcome::NotRealisable { unrealised });
    }
    Ok(outcome_of(status))
}

fn outcome_of(status: ExitStatus) -> Outcome {
    if status.success() {
        return Outcome::Passed;
    }
    #[cfg(unix)]
    let signal = {
        use std::os::unix::process::ExitStatusExt;
        status.signal()
    };
    #[cfg(not(unix))]
    let signal = None;
    Outcome::Failed {
        code: status.code(),
        signal,
    }
}

/// Waits for the child, stopping it when the run is interrupted; `true` when it was
/// stopped.
fn wait(child: &mut Child, interrupt: &Interrupt) -> io::Result<(ExitStatus, bool)> {
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        if interrupt.is_triggered() {
            return terminate(child, interrupt).map(|status| (status, true));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// SIGTERM to the child's process group, [`GRACE`] (or the interrupt's own grace) to
/// exit, cut short by a second interrupt, then SIGKILL.
#[cfg(unix)]
fn terminate(child: &mut Child, interrupt: &Interrupt) -> io::Result<ExitStatus> {
    // The child leads its own group (`process_group(0)`), so its id is the group's, and
    // the child is not reaped yet, so the id still names it.
    let group = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    signal_group(group, libc::SIGTERM);
    let deadline = Instant::now() + interrupt.grace().unwrap_or(GRACE);
    while Instant::now() < deadline && !interrupt.is_forced() {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        thread::sleep(Duration::from_millis(10));
    }
    if let Some(status) = child.try_wait()? {
        return Ok(status);
    }
    signal_group(group, libc::SIGKILL);
    child.wait()
}

#[cfg(unix)]
fn signal_group(group: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative id addresses the
    // process group, which exists while its unreaped leader does.
    unsafe { libc::kill(-group, signal) };
}

#[cfg(not(unix))]
fn terminate(child: &mut Child, _interrupt: &Interrupt) -> io::Result<ExitStatus> {
    child.kill()?;
    child.wait()
}

/// The command as a shell would read it, for the log header.
fn shell_words(words: &[OsString]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|w| {
            let w = w.to_string_lossy();
            let plain = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                w.into_owned()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect();
    quoted.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags_test::plan::FlagValue;

    fn combination(label: &str, statics: &[&str]) -> Combination {
        Combination {
            index: 6,
            label: label.to_owned(),
            values: statics
                .iter()
                .map(|v| FlagValue {
                    flag: "s".into(),
                    value: (*v).into(),
                    is_static: true,
                    var: "FLAGS_STATIC_S".into(),
                })
                .collect(),
            pinned_as: Vec::new(),
        }
    }

    #[test]
    fn log_names_are_numbered_and_safe() {
        let c = combination("a=on, layout=two/col", &[]);
        assert_eq!(log_name(&c), "0007-a-on_layout-two_col.log");
    }

    #[test]
    fn cargo_is_recognised_by_file_name() {
        assert!(is_cargo(OsStr::new("cargo")));
        assert!(is_cargo(OsStr::new("/home/me/.cargo/bin/cargo")));
        assert!(!is_cargo(OsStr::new("cargo-nextest")));
        assert!(!is_cargo(OsStr::new("cargo.sh")));
        assert!(!is_cargo(OsStr::new("sh")));
    }

    #[test]
    fn static_variation_is_detected() {
        let on = combination("s=on", &["on"]);
        let off = combination("s=off", &["off"]);
        assert!(static_flags_vary(&[&on, &off]));
        assert!(!static_flags_vary(&[&on, &on]));
        assert!(!static_flags_vary(&[]));
    }

    #[test]
    fn shell_words_quote_what_needs_it() {
        let words: Vec<OsString> = ["sh", "-c", "test \"$A\" != on"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(shell_words(&words), "sh -c 'test \"$A\" != on'");
    }
}
