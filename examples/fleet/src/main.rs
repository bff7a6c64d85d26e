//! One instance of a service in a fleet, for fleet-wide guarded rollouts.
//!
//! It reads its flags from Unleash (`flags-unleash`), serves synthetic traffic (a batch
//! of requests from random users every tick), decides each request's path with
//! `new_checkout` and records its outcome on that side; a request on the new path
//! fails while `fail_new_checkout` is on. It serves the registry through
//! `flags-admin` on 127.0.0.1: `/metrics` for Prometheus, `/flags.json` and the
//! dashboard. The first line it prints is its base URL.
//!
//! ```text
//! fleet --unleash http://127.0.0.1:4242 --token '*:development.secret' --instance a
//! ```
//!
//! Run several and point Prometheus at them; a controller that reads Prometheus and
//! writes the rollout percentage into Unleash then moves every instance together.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use flags_admin::Admin;
use flags_runtime::{Context, Outcome, Side};
use flags_unleash::UnleashConfig;

flags_runtime::flags!("flags.toml");

/// A service instance: flags from Unleash, traffic, outcomes, /metrics.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The Unleash server's base URL.
    #[arg(long)]
    unleash: String,
    /// A client (backend) token of the environment to read.
    #[arg(long)]
    token: String,
    /// This instance's name (Unleash instance id).
    #[arg(long, default_value = "fleet")]
    instance: String,
    /// How often to poll Unleash, in milliseconds.
    #[arg(long, default_value_t = 250)]
    poll_ms: u64,
    /// Requests served per tick.
    #[arg(long, default_value_t = 100)]
    requests: u32,
    /// Time between ticks, in milliseconds.
    #[arg(long, default_value_t = 20)]
    tick_ms: u64,
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
    let config = UnleashConfig::new(&args.unleash, "fleet")
        .token(&args.token)
        .instance_id(&args.instance)
        .interval(Duration::from_millis(args.poll_ms.max(1)))
        .no_backup_file();
    let unleash = match flags_unleash::start(&flags::REGISTRY, config) {
        Ok(unleash) => unleash,
        Err(e) => {
            eprintln!("fleet: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match Admin::builder(&flags::REGISTRY)
        .bind(format!("127.0.0.1:{}", args.port))
        .start()
    {
        Ok(server) => server,
        Err(e) => {
            eprintln!("fleet: cannot serve on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("http://{}", server.local_addr());
    let _ = std::io::stdout().flush();

    let traffic = {
        let (requests, tick) = (args.requests, Duration::from_millis(args.tick_ms));
        let latency = Duration::from_millis(args.latency_ms);
        let seed = seed(&args.instance);
        std::thread::spawn(move || serve(requests, tick, latency, seed))
    };
    if args.exit_on_stdin_close {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        server.stop();
        unleash.stop();
        return ExitCode::SUCCESS;
    }
    let _ = traffic.join();
    ExitCode::SUCCESS
}

/// Serves `requests` requests every `tick`, for ever: each from a random user, routed
/// by `new_checkout` and recorded on its side.
fn serve(requests: u32, tick: Duration, latency: Duration, mut state: u64) {
    loop {
        for _ in 0..requests {
            let user = format!("user-{:016x}", next(&mut state));
            let ctx = Context::with_key(user);
            let on = flags::NEW_CHECKOUT.get_for(&ctx);
            let failed = on && flags::FAIL_NEW_CHECKOUT.get();
            let outcome = if failed {
                Outcome::error(latency)
            } else {
                Outcome::ok(latency)
            };
            flags::NEW_CHECKOUT.record_outcome(Side::from_bool(on), outcome);
        }
        // Pacing, not synchronisation: a steady request rate.
        std::thread::sleep(tick);
    }
}

/// A seed that differs per instance and per start.
fn seed(instance: &str) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    instance
        .bytes()
        .fold(nanos ^ 0x9e37_79b9_7f4a_7c15, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

/// SplitMix64: users spread evenly over the rollout's buckets.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
