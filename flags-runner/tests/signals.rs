//! SIGINT and SIGTERM while an [`Interrupt::on_signals`] lives: counted, the second one
//! forcing; after it is dropped, the signals take their default action again.

#![cfg(unix)]

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use flags_runner::Interrupt;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::low_level::raise;

#[test]
fn signals_are_counted_while_installed_then_end_the_process_again() {
    // In a process of its own, since after the guard is gone a signal ends it.
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_installs_counts_and_drops",
            "--ignored",
            "--nocapture",
        ])
        .env("FLAGS_SIGNALS_CHILD", "1")
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(SIGTERM),
        "the child should end by the default action of SIGTERM once the guard was dropped: {status:?}"
    );
}

/// Not a test: the process `signals_are_counted_while_installed_then_end_the_process_again`
/// starts.
#[test]
#[ignore = "run by signals_are_counted_while_installed_then_end_the_process_again"]
fn child_installs_counts_and_drops() {
    if std::env::var_os("FLAGS_SIGNALS_CHILD").is_none() {
        return;
    }
    let interrupt = Interrupt::on_signals().unwrap();
    assert!(!interrupt.is_triggered());
    // `raise` runs the handler on this thread before it returns.
    raise(SIGINT).unwrap();
    assert!(interrupt.is_triggered());
    assert!(!interrupt.is_forced());
    raise(SIGTERM).unwrap();
    assert!(interrupt.is_forced());
    drop(interrupt);
    raise(SIGTERM).unwrap();
    // Reached only if SIGTERM no longer ends the process: the parent sees exit code 3.
    std::process::exit(3);
}
