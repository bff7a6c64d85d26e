//! One instance of a service in a fleet, for watching a flag with Prometheus.
//!
//! It turns counting on, records the request outcomes given on its command line for
//! `new_checkout` (so many successes and errors with the flag on, the treatment, and
//! off, the control), then serves the registry through `flags-admin` on 127.0.0.1
//! until it is stopped: `/metrics` (flags-observe's metrics), `/flags.json` and the
//! dashboard at `/`. The first line it prints is the address Prometheus should scrape.
//!
//! ```text
//! fleet-demo --treatment-ok 90 --treatment-errors 10 --control-ok 95 --control-errors 5
//! ```
//!
//! Run two or more with different numbers and point Prometheus at all of them: the
//! error rate by side across the fleet is
//! `sum by (side) (flags_outcomes_total{flag="new_checkout",result="error"}) /
//! sum by (side) (flags_outcomes_total{flag="new_checkout"})`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use flags_admin::Admin;
use flags_runtime::{Outcome, Side};

flags_runtime::flags!("flags.toml");

/// Records outcomes for `new_checkout` and serves them at /metrics.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Requests that succeeded with the flag on (the treatment).
    #[arg(long, default_value_t = 0)]
    treatment_ok: u64,
    /// Requests that failed with the flag on.
    #[arg(long, default_value_t = 0)]
    treatment_errors: u64,
    /// Requests that succeeded with the flag off (the control).
    #[arg(long, default_value_t = 0)]
    control_ok: u64,
    /// Requests that failed with the flag off.
    #[arg(long, default_value_t = 0)]
    control_errors: u64,
    /// Latency recorded for every request, in milliseconds.
    #[arg(long, default_value_t = 5)]
    latency_ms: u64,
    /// Port to listen on, on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Exit when standard input closes: a parent that pipes it cannot leave this
    /// process behind, even when the parent is killed.
    #[arg(long)]
    exit_on_stdin_close: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    flags::REGISTRY.set_counting(true);
    record(&args);

    // The admin endpoint serves the registry's metrics (flags-observe) at /metrics.
    let server = Admin::builder(&flags::REGISTRY)
        .bind(format!("127.0.0.1:{}", args.port))
        .start();
    let server = match server {
        Ok(server) => server,
        Err(e) => {
            eprintln!("fleet-demo: cannot serve on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    // The first line is for whoever started this process: where to scrape.
    println!("http://{}/metrics", server.local_addr());
    let _ = std::io::stdout().flush();

    if args.exit_on_stdin_close {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        server.stop();
        return ExitCode::SUCCESS;
    }
    // The server runs on threads of its own; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}

/// Records the outcomes the command line asks for, as the request path would.
fn record(args: &Args) {
    let latency = Duration::from_millis(args.latency_ms);
    let batches = [
        (Side::Treatment, Outcome::ok(latency), args.treatment_ok),
        (
            Side::Treatment,
            Outcome::error(latency),
            args.treatment_errors,
        ),
        (Side::Control, Outcome::ok(latency), args.control_ok),
        (Side::Control, Outcome::error(latency), args.control_errors),
    ];
    for (side, outcome, n) in batches {
        for _ in 0..n {
            flags::NEW_CHECKOUT.record_outcome(side, outcome);
        }
    }
}
