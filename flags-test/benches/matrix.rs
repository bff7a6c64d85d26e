//! Per-combination overhead of the in-process matrix: 1,024 combinations (ten on/off
//! flags, exhaustive) of a trivial body, beside the same body run 1,024 times without
//! the harness, and the planning alone. Goal: under 10 ms for the 1,024, i.e. under
//! 1 µs a combination.

use std::hint::black_box;

use flags_test::FlagMatrix;

flags_runtime::flags!("benches/matrix.toml");

fn main() {
    divan::main();
}

fn body() -> bool {
    black_box(flags::f3()) ^ black_box(flags::f7())
}

/// The body alone, 1,024 times: the floor the harness is compared with.
#[divan::bench(sample_count = 30)]
fn bare_body_1024() -> u32 {
    let mut n = 0;
    for _ in 0..1024 {
        n += u32::from(body());
    }
    n
}

/// Planning only: the 1,024 combinations with their override sets.
#[divan::bench(sample_count = 30)]
fn plan_1024() -> usize {
    FlagMatrix::new(&flags::REGISTRY)
        .exhaustive()
        .pins([])
        .cases()
        .map_or(0, |c| c.len())
}

/// The whole matrix: planning, a scope per combination, the body, the failure check.
#[divan::bench(sample_count = 30)]
fn matrix_1024() -> u32 {
    let mut n = 0;
    FlagMatrix::new(&flags::REGISTRY)
        .exhaustive()
        .pins([])
        .run(|_| n += u32::from(body()));
    n
}
