//! Covering-array generation: the size of each plan (printed once, before the
//! timings: sizes are deterministic) and the time to build it, for the shapes the
//! `cover` module documentation quotes. Sizes reached are checked by the unit tests;
//! this only measures.
//!
//! `cargo bench -p flags-test --bench cover`

use std::hint::black_box;

use flags_test::cover::{Constraints, Coverage, Factor, Setting, generate};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and divan then
    // runs each benchmark once as a test: the size table is for benchmark runs only.
    if std::env::args().any(|a| a == "--bench") {
        for &name in CASES {
            let (factors, strategy, constraints) = case(name);
            let plan = generate(&factors, &strategy, &constraints, &[])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            println!("{name}: {} rows", plan.rows.len());
        }
    }
    divan::main();
}

/// Pairwise unless the name says otherwise.
const CASES: &[&str] = &[
    "2^10",
    "2^20",
    "2^100",
    "2^1000",
    "3^4",
    "3^13",
    "4^5",
    "2^5 3^4",
    "2^3 3^2 4",
    "5^6",
    "2^50 3^10",
    "2^10 t=3",
    "3^13 with 8 rules",
    "2^60 with 20 rules",
    "2^200 with 20 rules",
    "2^1000 with 20 rules",
];

fn mixed(levels: &[usize]) -> Vec<Factor> {
    levels
        .iter()
        .enumerate()
        .map(|(i, &n)| Factor::new(format!("f{i}"), (0..n).map(|l| format!("v{l}"))))
        .collect()
}

/// Ten `requires` and ten `excludes` rules over the first sixty boolean factors.
fn twenty_rules() -> Constraints {
    let on = |f| Setting::new(f, 1);
    let mut constraints = Constraints::new();
    for i in 0..10 {
        constraints = constraints
            .requires(on(2 * i + 1), on(2 * i))
            .excludes(on(40 + i), on(50 + i));
    }
    constraints
}

/// The factors, strategy and constraints of case `name`.
fn case(name: &str) -> (Vec<Factor>, Coverage, Constraints) {
    let pairwise = |levels: Vec<usize>| (mixed(&levels), Coverage::pairwise(), Constraints::new());
    match name {
        "2^10" => pairwise(vec![2; 10]),
        "2^20" => pairwise(vec![2; 20]),
        "2^100" => pairwise(vec![2; 100]),
        "2^1000" => pairwise(vec![2; 1000]),
        "3^4" => pairwise(vec![3; 4]),
        "3^13" => pairwise(vec![3; 13]),
        "4^5" => pairwise(vec![4; 5]),
        "2^5 3^4" => pairwise(vec![2, 2, 2, 2, 2, 3, 3, 3, 3]),
        "2^3 3^2 4" => pairwise(vec![2, 2, 2, 3, 3, 4]),
        "5^6" => pairwise(vec![5; 6]),
        "2^50 3^10" => pairwise([vec![2; 50], vec![3; 10]].concat()),
        "2^10 t=3" => (mixed(&[2; 10]), Coverage::TWise(3), Constraints::new()),
        "3^13 with 8 rules" => {
            let mut constraints = Constraints::new();
            for i in 0..4 {
                constraints = constraints
                    .requires(Setting::new(i, 2), Setting::new(i + 4, 1))
                    .excludes(Setting::new(i + 8, 0), Setting::new(i + 1, 0));
            }
            (mixed(&[3; 13]), Coverage::pairwise(), constraints)
        }
        "2^60 with 20 rules" => (mixed(&[2; 60]), Coverage::pairwise(), twenty_rules()),
        "2^200 with 20 rules" => (mixed(&[2; 200]), Coverage::pairwise(), twenty_rules()),
        "2^1000 with 20 rules" => (mixed(&[2; 1000]), Coverage::pairwise(), twenty_rules()),
        _ => panic!("no case {name}"),
    }
}

/// Building the plan of each case (the factors and constraints are made outside the
/// timed part).
#[divan::bench(args = CASES, sample_count = 5, sample_size = 1)]
fn plan(bencher: divan::Bencher, name: &str) {
    let (factors, strategy, constraints) = case(name);
    bencher.bench(|| {
        generate(black_box(&factors), black_box(&strategy), &constraints, &[]).map(|p| p.rows.len())
    });
}
