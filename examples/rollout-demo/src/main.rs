//! A guarded rollout, end to end, on simulated traffic and a simulated clock.
//!
//! `checkout` is gated by `new_checkout`; its new implementation shares a connection
//! pool that is fine under light load and starts failing once more than a fifth of the
//! traffic goes through it. The rollout controller starts the flag at 1%, widens it
//! while the new path is as healthy as the old one, and rolls it back to 0% by itself
//! when the bug shows, with the state and a hash-chained audit log on local files.
//!
//! The simulated clock starts at the real time, so the audit log's timestamps are
//! plausible dates; the story is told in simulated time elapsed since the start
//! (`+5m00s`), which is what a reader follows.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flags_rollout::{
    AuditLog, ManualClock, RolloutController, Status, Timestamp, Verification, format_entry,
};
use flags_runtime::Context;

flags_runtime::flags!("flags.toml");

/// Requests per simulated step, and the step's length.
const REQUESTS_PER_STEP: u64 = 2_000;
const STEP: Duration = Duration::from_secs(10);
/// The simulation ends after this long even if the rollout has not.
const MAX_STEPS: u64 = 400;

/// Share of requests (per mille) the new path carried in the last step: its pool.
static NEW_PATH_LOAD: AtomicU64 = AtomicU64::new(0);
static RNG: AtomicU64 = AtomicU64::new(0x5eed);

/// A small deterministic generator (splitmix64), so every run tells the same story.
fn random() -> u64 {
    let mut z = RNG
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Fails with probability `per_mille / 1000`.
fn fails(per_mille: u64) -> bool {
    random() % 1000 < per_mille
}

#[derive(Debug)]
struct CheckoutError;

/// The new checkout: its outcome is recorded for the rollout on the side that ran.
#[flags_runtime::feature_gate(new_checkout, fallback = checkout_v1, measure)]
fn checkout(cart: u64) -> Result<u64, CheckoutError> {
    // The bug: past 20% of the traffic the shared pool runs dry.
    let per_mille = if NEW_PATH_LOAD.load(Ordering::Relaxed) > 200 {
        60
    } else {
        5
    };
    if fails(per_mille) {
        Err(CheckoutError)
    } else {
        Ok(cart * 2)
    }
}

/// The old checkout, healthy: 0.5% of requests fail for reasons of their own.
fn checkout_v1(cart: u64) -> Result<u64, CheckoutError> {
    if fails(5) {
        Err(CheckoutError)
    } else {
        Ok(cart * 2)
    }
}

/// Simulated time since the start, as `+5m00s`.
fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    format!("+{}m{:02}s", s / 60, s % 60)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::var_os("ROLLOUT_DEMO_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("flags-rollout-demo"));
    // A fresh start each run: the demo's story begins at "not started".
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let (state_path, audit_path) = (dir.join("state.json"), dir.join("audit.jsonl"));

    let start = Timestamp::from_millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    );
    let clock = ManualClock::new(start);
    let rolled_back = Arc::new(AtomicU64::new(0));
    let alarm = rolled_back.clone();
    let controller = RolloutController::builder(&flags::REGISTRY)
        .clock(clock.clone())
        .state_file(&state_path)
        .audit_log(&audit_path)
        .on_rollback(move |t| {
            alarm.store(1, Ordering::Relaxed);
            eprintln!("ALERT  {} rolled back: {}", t.flag, t.reason);
        })
        .build()?;
    let manifest = flags::REGISTRY
        .manifest()
        .ok_or("the embedded manifest did not load")?;
    controller.register_manifest(manifest)?;
    controller.attach(&flags::REGISTRY);

    println!(
        "rolling out `new_checkout` over stages 1% 5% 25% 50% 100% (times are simulated, counted from the start)"
    );
    let live = std::io::stdout().is_terminal();
    let mut last_stage = None;
    for step in 1..=MAX_STEPS {
        let mut on = 0;
        for _ in 0..REQUESTS_PER_STEP {
            let user = Context::with_key(format!("user-{}", random() % 50_000));
            let _guard = user.enter();
            on += u64::from(flags::new_checkout());
            let _ = checkout(random() % 100);
        }
        NEW_PATH_LOAD.store(on * 1000 / REQUESTS_PER_STEP, Ordering::Relaxed);
        clock.advance(STEP);
        let transitions = controller.tick();
        for t in &transitions {
            if live {
                print!("\r\x1b[2K");
            }
            println!(
                "{:>7}  {:<26} {}",
                elapsed(t.at.since(start)),
                t.to.to_string(),
                t.reason
            );
        }
        let state = controller
            .state("new_checkout")
            .ok_or("the rollout is not registered")?;
        if live {
            print!(
                "\r\x1b[2K{:>7}  {}  live: {}% of requests on the new path",
                elapsed(STEP * u32::try_from(step).unwrap_or(u32::MAX)),
                state.position,
                on * 100 / REQUESTS_PER_STEP
            );
            std::io::stdout().flush()?;
        } else if transitions.is_empty() && last_stage != Some(state.position.stage) {
            println!(
                "{:>7}  now at {}",
                elapsed(STEP * u32::try_from(step).unwrap_or(u32::MAX)),
                state.position
            );
        }
        last_stage = Some(state.position.stage);
        if matches!(
            state.position.status,
            Status::RolledBack | Status::Completed
        ) {
            break;
        }
    }
    if live {
        println!();
    }

    println!("\naudit log ({}):", audit_path.display());
    for entry in AuditLog::read_entries(&audit_path)? {
        println!(
            "  {:>7}  {}",
            elapsed(entry.at.since(start)),
            format_entry(&entry)
        );
    }
    match AuditLog::verify_file(&audit_path)? {
        Verification::Intact { .. } => println!("audit chain verified: intact"),
        other => println!("audit chain: {other:?}"),
    }
    if rolled_back.load(Ordering::Relaxed) == 1 {
        println!("the new path was rolled back to 0% without a human; the old one serves everyone");
    }
    Ok(())
}
