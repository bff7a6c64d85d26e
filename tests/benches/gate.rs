//! `#[feature_gate]` overhead, side by side in one run: the floor (one relaxed atomic
//! load), the flag check alone, each implementation called directly, the routed call
//! on both sides, and the routed call with counting on. The goal: routing adds no more
//! than the flag check (`routed - direct <= flag check`).
//!
//! The fast path is measured with the values the manifest gives (`bench_off` is off,
//! `bench_on` is on): no scope or override, so their fast cells hold the value. Counting
//! is measured on a second registry of the same manifest (`mod counted`), so that it
//! does not slow the others down. Names are prefixed so divan lists them in order.
//!
//! Read the numbers net of `a0_empty_call`: routing costs `d - c` (off) and `f - e`
//! (on), to compare with the flag check's `b - a0`. At this scale (a cycle or two)
//! code alignment moves a median by a cycle between builds, so `i_`/`j_` give the
//! sturdier comparison: the same choice written by hand, `if flags::X.get() {..}`.

use flags_runtime::raw::IndexAccess;
use std::sync::atomic::{AtomicBool, Ordering};

use divan::black_box;
use flags_runtime::{Value, feature_gate};

flags_runtime::flags!("gate.toml");
flags_runtime::flags!(mod counted = "gate.toml");

fn main() {
    flags::REGISTRY.init();
    counted::REGISTRY.init();
    counted::REGISTRY.set_counting(true);
    // The premise of the fast-path numbers: both cells serve their value without
    // evaluating; so does the counted registry's, whose reads are counted on the way.
    let index = |flag: flags_runtime::BoolFlag| flag.meta().index;
    assert_eq!(
        flags::REGISTRY.fast_value(index(flags::BENCH_OFF)),
        Some(Value::Bool(false))
    );
    assert_eq!(
        flags::REGISTRY.fast_value(index(flags::BENCH_ON)),
        Some(Value::Bool(true))
    );
    assert_eq!(
        counted::REGISTRY.fast_value(index(counted::BENCH_OFF)),
        Some(Value::Bool(false))
    );
    assert!(counted::REGISTRY.is_counting());
    // The routes are right before they are timed.
    assert_eq!(mix_off(3), mix_v1(3));
    assert_eq!(mix_on(3), mix_v2(3));
    assert_eq!(mix_off_counted(3), mix_v1(3));
    assert_eq!(mix_on_counted(3), mix_v2(3));
    divan::main();
}

/// The old implementation.
fn mix_v1(x: u64) -> u64 {
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
}

/// The new implementation, called directly (the same code as the gated bodies).
fn mix_v2(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

#[feature_gate(bench_off, fallback = mix_v1, manifest = "gate.toml")]
fn mix_off(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

#[feature_gate(bench_on, fallback = mix_v1, manifest = "gate.toml")]
fn mix_on(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

#[feature_gate(bench_off, fallback = mix_v1, module = crate::counted, manifest = "gate.toml")]
fn mix_off_counted(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

#[feature_gate(bench_on, fallback = mix_v1, module = crate::counted, manifest = "gate.toml")]
fn mix_on_counted(x: u64) -> u64 {
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

static FLOOR: AtomicBool = AtomicBool::new(false);

/// The cost every benchmark below shares: a call that is not inlined, with the
/// argument hidden from the optimiser. Each benchmark is `#[inline(never)]`, so that
/// none is inlined into divan's loop while another is not (a difference of a whole
/// call, larger than what is measured).
#[divan::bench]
#[inline(never)]
fn a0_empty_call() -> u64 {
    black_box(0x1234_5678)
}

/// The floor: one relaxed load of an atomic bool.
#[divan::bench]
#[inline(never)]
fn a_floor_atomic_bool_load() -> bool {
    black_box(&FLOOR).load(Ordering::Relaxed)
}

/// The flag check alone: `bench_off`'s fast cell.
#[divan::bench]
#[inline(never)]
fn b_flag_check() -> bool {
    flags::BENCH_OFF.get()
}

/// The old implementation, called directly.
#[divan::bench]
#[inline(never)]
fn c_direct_v1() -> u64 {
    mix_v1(black_box(0x1234_5678))
}

/// Routed, flag off: the fallback (`mix_v1`) runs.
#[divan::bench]
#[inline(never)]
fn d_routed_off() -> u64 {
    mix_off(black_box(0x1234_5678))
}

/// The new implementation, called directly.
#[divan::bench]
#[inline(never)]
fn e_direct_v2() -> u64 {
    mix_v2(black_box(0x1234_5678))
}

/// Routed, flag on: the body runs.
#[divan::bench]
#[inline(never)]
fn f_routed_on() -> u64 {
    mix_on(black_box(0x1234_5678))
}

/// Routed with counting on (slow path plus one counter per side), flag off.
#[divan::bench]
#[inline(never)]
fn g_routed_off_counting() -> u64 {
    mix_off_counted(black_box(0x1234_5678))
}

/// Routed with counting on, flag on.
#[divan::bench]
#[inline(never)]
fn h_routed_on_counting() -> u64 {
    mix_on_counted(black_box(0x1234_5678))
}

/// For scale, what a person writes without the attribute: `if flag { new } else { old }`
/// with the flag check (which evaluates out of line on its slow path), flag off.
#[divan::bench]
#[inline(never)]
fn i_handwritten_if_off() -> u64 {
    let x = black_box(0x1234_5678);
    if flags::BENCH_OFF.get() {
        mix_v2(x)
    } else {
        mix_v1(x)
    }
}

/// The same, flag on.
#[divan::bench]
#[inline(never)]
fn j_handwritten_if_on() -> u64 {
    let x = black_box(0x1234_5678);
    if flags::BENCH_ON.get() {
        mix_v2(x)
    } else {
        mix_v1(x)
    }
}
