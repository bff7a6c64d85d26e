//! The constructions and the search, checked by brute force.

use super::orthogonal::Field;
use super::*;
use proptest::prelude::{
    Just, ProptestConfig, any, prop, prop_assert, prop_assert_eq, prop_compose, proptest,
};
use std::time::Instant;

fn booleans(k: usize) -> Vec<Factor> {
    (0..k).map(|i| Factor::boolean(format!("f{i}"))).collect()
}

fn mixed(levels: &[usize]) -> Vec<Factor> {
    levels
        .iter()
        .enumerate()
        .map(|(i, &n)| Factor::new(format!("f{i}"), (0..n).map(|l| format!("v{l}"))))
        .collect()
}

fn pairwise(factors: &[Factor]) -> Plan {
    generate(factors, &Coverage::pairwise(), &Constraints::new(), &[]).unwrap()
}

/// Calls `visit` with every `t`-subset of `0..k` (written independently of `Universe`).
fn each_subset(k: usize, t: usize, visit: &mut dyn FnMut(&[usize])) {
    fn go(
        start: usize,
        k: usize,
        t: usize,
        chosen: &mut Vec<usize>,
        visit: &mut dyn FnMut(&[usize]),
    ) {
        if chosen.len() == t {
            visit(chosen);
            return;
        }
        for c in start..k {
            chosen.push(c);
            go(c + 1, k, t, chosen, visit);
            chosen.pop();
        }
    }
    go(0, k, t, &mut Vec::new(), visit);
}

fn code(levels: &[usize], subset: &[usize], row: &[u16]) -> usize {
    subset
        .iter()
        .fold(0, |acc, &c| acc * levels[c] + usize::from(row[c]))
}

/// Every combination of levels, by brute force, and the valid ones.
fn valid_rows(levels: &[usize], constraints: &Constraints) -> Vec<Row> {
    let mut all = vec![Vec::new()];
    for &n in levels {
        all = all
            .into_iter()
            .flat_map(|prefix: Row| {
                (0..n as u16).map(move |l| {
                    let mut row = prefix.clone();
                    row.push(l);
                    row
                })
            })
            .collect();
    }
    all.into_iter()
        .filter(|row| {
            let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
            constraints.allows(&full)
        })
        .collect()
}

/// Brute-force check of a t-wise plan: shape, validity, and coverage of every tuple that
/// some valid row contains (all tuples when `constraints` is empty). Returns the
/// infeasible tuples it found.
fn assert_covers(plan: &Plan, t: usize, constraints: &Constraints) -> HashSet<Tuple> {
    let levels: Vec<usize> = plan.factors.iter().map(|f| f.levels.len()).collect();
    let k = levels.len();
    let distinct: HashSet<&Row> = plan.rows.iter().collect();
    assert_eq!(distinct.len(), plan.rows.len(), "repeated rows");
    for row in &plan.rows {
        assert_eq!(row.len(), k);
        assert!(
            row.iter().zip(&levels).all(|(&l, &n)| usize::from(l) < n),
            "{row:?}"
        );
        let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
        assert!(
            constraints.allows(&full),
            "row {row:?} violates the constraints"
        );
    }
    let valid = (!constraints.is_empty()).then(|| valid_rows(&levels, constraints));
    let mut infeasible = HashSet::new();
    each_subset(k, t, &mut |subset| {
        let width: usize = subset.iter().map(|&c| levels[c]).product();
        let mut covered = vec![false; width];
        for row in &plan.rows {
            covered[code(&levels, subset, row)] = true;
        }
        let mut needed = vec![true; width];
        if let Some(valid) = &valid {
            needed = vec![false; width];
            for row in valid {
                needed[code(&levels, subset, row)] = true;
            }
        }
        for local in 0..width {
            let mut rest = local;
            let mut settings: Vec<Setting> = subset
                .iter()
                .rev()
                .map(|&c| {
                    let l = rest % levels[c];
                    rest /= levels[c];
                    Setting::new(c, l as u16)
                })
                .collect();
            settings.reverse();
            let tuple = Tuple { settings };
            assert!(!needed[local] || covered[local], "{tuple:?} not covered");
            if !needed[local] {
                infeasible.insert(tuple);
            }
        }
    });
    infeasible
}

#[test]
fn kleitman_spencer_formula() {
    // Known optimal sizes of pairwise covering arrays of k boolean factors.
    let known = [
        (2, 4),
        (3, 4),
        (4, 5),
        (5, 6),
        (10, 6),
        (11, 7),
        (15, 7),
        (16, 8),
        (20, 8),
        (35, 8),
        (36, 9),
        (56, 9),
        (57, 10),
        (100, 10),
        (126, 10),
        (127, 11),
        (1000, 14),
    ];
    for (k, n) in known {
        assert_eq!(kleitman_spencer_rows(k), n, "k = {k}");
    }
    assert_eq!(kleitman_spencer_rows(1), 2);
    assert_eq!(kleitman_spencer_rows(usize::MAX), 69);
}

#[test]
fn pairwise_booleans_reach_kleitman_spencer_exactly() {
    for k in (2..=50).chain([100, 1000]) {
        let plan = pairwise(&booleans(k));
        assert_eq!(plan.rows.len(), kleitman_spencer_rows(k), "k = {k}");
        assert_covers(&plan, 2, &Constraints::new());
    }
}

#[test]
fn one_pinned_row_keeps_kleitman_spencer_size() {
    let factors = booleans(20);
    let defaults: Row = (0..20).map(|i| (i % 3 == 0) as u16).collect();
    let plan = generate(
        &factors,
        &Coverage::pairwise(),
        &Constraints::new(),
        std::slice::from_ref(&defaults),
    )
    .unwrap();
    assert_eq!(plan.rows.len(), 8);
    assert_eq!(plan.rows[0], defaults);
    assert_covers(&plan, 2, &Constraints::new());
}

#[test]
fn pinned_all_on_and_all_off_come_first() {
    for k in [6, 30, 1000] {
        let factors = booleans(k);
        let pinned = vec![vec![1; k], vec![0; k]];
        let plan = generate(
            &factors,
            &Coverage::pairwise(),
            &Constraints::new(),
            &pinned,
        )
        .unwrap();
        assert_eq!(plan.rows[..2], pinned[..]);
        assert!(
            plan.rows.len() <= kleitman_spencer_rows(k) + 1,
            "k = {k}: {}",
            plan.rows.len()
        );
        assert_covers(&plan, 2, &Constraints::new());
    }
}

#[test]
fn orthogonal_arrays_are_found() {
    let plan = pairwise(&mixed(&[3; 4]));
    assert_eq!(plan.rows.len(), 9);
    assert_covers(&plan, 2, &Constraints::new());
    let plan = pairwise(&mixed(&[4; 5]));
    assert_eq!(plan.rows.len(), 16);
    assert_covers(&plan, 2, &Constraints::new());
    let plan = generate(
        &mixed(&[3; 4]),
        &Coverage::TWise(3),
        &Constraints::new(),
        &[],
    )
    .unwrap();
    assert_eq!(plan.rows.len(), 27);
    assert_covers(&plan, 3, &Constraints::new());
}

#[test]
fn three_to_the_thirteen_within_ten_percent_of_best_known() {
    let start = Instant::now();
    let plan = pairwise(&mixed(&[3; 13]));
    assert!(plan.rows.len() <= 16, "{} rows", plan.rows.len());
    assert_covers(&plan, 2, &Constraints::new());
    // Speed is measured by `benches/cover.rs`; the search's limits count moves, not time.
    eprintln!("3^13: {} rows in {:?}", plan.rows.len(), start.elapsed());
}

#[test]
fn mixed_levels_are_sensible() {
    // 4 x 3 pairs force 12 rows.
    let plan = pairwise(&mixed(&[2, 2, 2, 3, 3, 4]));
    assert!(
        (12..=13).contains(&plan.rows.len()),
        "{} rows",
        plan.rows.len()
    );
    assert_covers(&plan, 2, &Constraints::new());
    let plan = pairwise(&mixed(&[2, 2, 2, 2, 2, 3, 3, 3, 3]));
    assert!(plan.rows.len() <= 11, "{} rows", plan.rows.len());
    assert_covers(&plan, 2, &Constraints::new());
}

#[test]
fn higher_strengths_cover() {
    for (levels, t) in [
        (vec![2; 8], 3),
        (vec![2, 3, 2, 4, 2], 3),
        (vec![2; 6], 4),
        (vec![3, 2, 2], 3),
    ] {
        let plan = generate(
            &mixed(&levels),
            &Coverage::TWise(t as u8),
            &Constraints::new(),
            &[],
        )
        .unwrap();
        assert_covers(&plan, t, &Constraints::new());
        let product: usize = levels.iter().product();
        assert!(plan.rows.len() <= product);
    }
    // Strength 1: every level once; as many rows as the widest factor.
    let plan = generate(
        &mixed(&[2, 5, 3]),
        &Coverage::TWise(1),
        &Constraints::new(),
        &[],
    )
    .unwrap();
    assert_eq!(plan.rows.len(), 5);
    assert_covers(&plan, 1, &Constraints::new());
}

#[test]
fn t_wise_is_deterministic() {
    let constraints = Constraints::new().excludes(Setting::new(0, 1), Setting::new(3, 2));
    let factors = mixed(&[2, 3, 3, 3, 2, 2]);
    let a = generate(&factors, &Coverage::pairwise(), &constraints, &[]).unwrap();
    let b = generate(&factors, &Coverage::pairwise(), &constraints, &[]).unwrap();
    assert_eq!(a, b);
}

#[test]
fn constraints_remove_rows_and_report_infeasible_pairs() {
    let on = |f| Setting::new(f, 1);
    // 1 needs 0; 2 excludes 0; so 1 and 2 are never on together.
    let constraints = Constraints::new()
        .requires(on(1), on(0))
        .excludes(on(2), on(0));
    let factors = booleans(6);
    let plan = generate(&factors, &Coverage::pairwise(), &constraints, &[]).unwrap();
    let infeasible = assert_covers(&plan, 2, &constraints);
    let reported: HashSet<Tuple> = plan.infeasible.iter().cloned().collect();
    assert_eq!(reported, infeasible);
    let derived = Tuple {
        settings: vec![on(1), on(2)],
    };
    assert!(reported.contains(&derived));
    assert_eq!(reported.len(), 3);
    assert!(
        uncovered_tuples(&factors, &plan.rows, 2, &constraints)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn custom_constraints_hold_in_every_mode() {
    // At most one of the first five flags is on; conservative on partial rows.
    let constraints = Constraints::new().custom("one of five", |row| {
        row[..5].iter().filter(|l| **l == Some(1)).count() <= 1
    });
    let factors = booleans(8);
    let plan = generate(&factors, &Coverage::pairwise(), &constraints, &[]).unwrap();
    let infeasible = assert_covers(&plan, 2, &constraints);
    assert_eq!(infeasible.len(), 10);
    let scoped = Constraints::new().custom_over("one of five", 0..5, |row| {
        row[..5].iter().filter(|l| **l == Some(1)).count() <= 1
    });
    let plan = generate(&factors, &Coverage::TWise(3), &scoped, &[]).unwrap();
    assert_covers(&plan, 3, &scoped);
    let random = generate(
        &factors,
        &Coverage::Random { count: 20, seed: 7 },
        &constraints,
        &[],
    )
    .unwrap();
    assert_eq!(random.rows.len(), 20);
    let all = generate(
        &factors,
        &Coverage::Exhaustive { limit: 1000 },
        &constraints,
        &[],
    )
    .unwrap();
    assert_eq!(all.rows.len(), 6 * 8);
    for row in random.rows.iter().chain(&all.rows) {
        assert!(row[..5].iter().filter(|&&l| l == 1).count() <= 1);
    }
}

#[test]
fn many_flags_with_constraints() {
    let start = Instant::now();
    let factors = booleans(60);
    let on = |f| Setting::new(f, 1);
    let mut constraints = Constraints::new();
    for i in 0..10 {
        constraints = constraints
            .requires(on(2 * i + 1), on(2 * i))
            .excludes(on(40 + i), on(50 + i));
    }
    let plan = generate(
        &factors,
        &Coverage::pairwise(),
        &constraints,
        &[vec![0; 60]],
    )
    .unwrap();
    assert_eq!(plan.rows[0], vec![0; 60]);
    for row in &plan.rows {
        let full: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
        assert!(constraints.allows(&full));
    }
    assert!(
        uncovered_tuples(&factors, &plan.rows, 2, &constraints)
            .unwrap()
            .is_empty()
    );
    assert_eq!(plan.infeasible.len(), 20);
    assert!(plan.rows.len() <= 12, "{} rows", plan.rows.len());
    eprintln!(
        "2^60 with 20 rules: {} rows in {:?}",
        plan.rows.len(),
        start.elapsed()
    );
}

#[test]
fn exhaustive_counts_and_order() {
    let factors = vec![
        Factor::boolean("a"),
        Factor::new("b", ["x", "y", "z"]),
        Factor::boolean("c"),
    ];
    let none = Constraints::new();
    let plan = generate(&factors, &Coverage::Exhaustive { limit: 12 }, &none, &[]).unwrap();
    assert_eq!(plan.rows.len(), 12);
    let mut sorted = plan.rows.clone();
    sorted.sort();
    assert_eq!(sorted, plan.rows);
    let err = generate(&factors, &Coverage::Exhaustive { limit: 11 }, &none, &[]).unwrap_err();
    assert_eq!(err, CoverError::TooManyCombinations { limit: 11 });

    // a=on requires b=y; b=z excludes c=on.
    let constraints = Constraints::new()
        .requires(Setting::new(0, 1), Setting::new(1, 1))
        .excludes(Setting::new(1, 2), Setting::new(2, 1));
    let pinned = vec![vec![1, 1, 1]];
    let plan = generate(
        &factors,
        &Coverage::Exhaustive { limit: 12 },
        &constraints,
        &pinned,
    )
    .unwrap();
    let levels = [2, 3, 2];
    let mut expected = valid_rows(&levels, &constraints);
    assert_eq!(expected.len(), 7);
    expected.retain(|row| *row != pinned[0]);
    assert_eq!(plan.rows[0], pinned[0]);
    assert_eq!(plan.rows[1..], expected[..]);
    assert!(matches!(
        generate(
            &factors,
            &Coverage::Exhaustive { limit: 6 },
            &constraints,
            &pinned
        ),
        Err(CoverError::TooManyCombinations { limit: 6 })
    ));
}

#[test]
fn random_is_deterministic_per_seed() {
    let factors = booleans(30);
    let none = Constraints::new();
    let draw = |seed| {
        generate(
            &factors,
            &Coverage::Random { count: 10, seed },
            &none,
            &[vec![1; 30]],
        )
        .unwrap()
    };
    let a = draw(1);
    assert_eq!(a, draw(1));
    assert_ne!(a.rows, draw(2).rows);
    assert_eq!(a.rows.len(), 11);
    assert_eq!(a.rows[0], vec![1; 30]);
    let distinct: HashSet<&Row> = a.rows.iter().collect();
    assert_eq!(distinct.len(), 11);

    // A small space is exhausted rather than repeated.
    let small = booleans(3);
    let constraints = Constraints::new().excludes(Setting::new(0, 1), Setting::new(1, 1));
    let plan = generate(
        &small,
        &Coverage::Random {
            count: 100,
            seed: 3,
        },
        &constraints,
        &[],
    )
    .unwrap();
    assert_eq!(plan.rows.len(), 6);
    let again = generate(
        &small,
        &Coverage::Random { count: 3, seed: 3 },
        &constraints,
        &[],
    )
    .unwrap();
    assert_eq!(again.rows[..], plan.rows[..3]);
}

#[test]
fn labels_name_every_setting() {
    let factors = vec![
        Factor::boolean("search_v2_stable"),
        Factor::new("checkout_layout", ["classic", "compact"]),
    ];
    let plan = generate(
        &factors,
        &Coverage::pairwise(),
        &Constraints::new(),
        &[vec![1, 1]],
    )
    .unwrap();
    assert_eq!(
        plan.label(0),
        "search_v2_stable=on, checkout_layout=compact"
    );
    assert_eq!(
        plan.settings(0),
        [("search_v2_stable", "on"), ("checkout_layout", "compact")]
    );
    assert_eq!(
        Setting::find(&factors, "checkout_layout", "compact"),
        Some(Setting::new(1, 1))
    );
    assert_eq!(Setting::find(&factors, "checkout_layout", "wide"), None);
}

#[test]
fn bad_input_is_rejected() {
    let none = Constraints::new();
    let two = booleans(2);
    let pairwise = Coverage::pairwise();
    assert_eq!(
        generate(&booleans(1), &pairwise, &none, &[]).unwrap_err(),
        CoverError::BadStrength {
            strength: 2,
            factors: 1
        }
    );
    assert!(matches!(
        generate(&two, &Coverage::TWise(0), &none, &[]),
        Err(CoverError::BadStrength { .. })
    ));
    let empty = vec![Factor::new("x", Vec::<String>::new())];
    assert!(matches!(
        generate(&empty, &pairwise, &none, &[]),
        Err(CoverError::NoLevels { .. })
    ));
    let twice = vec![Factor::boolean("x"), Factor::boolean("x")];
    assert!(matches!(
        generate(&twice, &pairwise, &none, &[]),
        Err(CoverError::DuplicateFactor { .. })
    ));
    assert!(matches!(
        generate(&two, &pairwise, &none, &[vec![0]]),
        Err(CoverError::RowLength { row: 0, .. })
    ));
    assert!(matches!(
        generate(&two, &pairwise, &none, &[vec![0, 2]]),
        Err(CoverError::RowLevel { row: 0, .. })
    ));
    let bad_rule = Constraints::new().excludes(Setting::new(0, 1), Setting::new(5, 0));
    assert!(matches!(
        generate(&two, &pairwise, &bad_rule, &[]),
        Err(CoverError::UnknownSetting { factor: 5, .. })
    ));
    let bad_scope = Constraints::new().custom_over("x", [3], |_| true);
    assert!(matches!(
        generate(&two, &pairwise, &bad_scope, &[]),
        Err(CoverError::UnknownSetting { factor: 3, .. })
    ));
    let exclusive = Constraints::new().excludes(Setting::new(0, 0), Setting::new(1, 0));
    assert!(matches!(
        generate(&two, &pairwise, &exclusive, &[vec![0, 0]]),
        Err(CoverError::PinnedViolates { row: 0, .. })
    ));
    let impossible = Constraints::new().custom("never", |_| false);
    for strategy in [
        pairwise.clone(),
        Coverage::Exhaustive { limit: 9 },
        Coverage::Random { count: 2, seed: 0 },
    ] {
        assert_eq!(
            generate(&two, &strategy, &impossible, &[]).unwrap_err(),
            CoverError::Unsatisfiable
        );
    }
    assert!(matches!(
        generate(&booleans(1000), &Coverage::TWise(4), &none, &[]),
        Err(CoverError::TooManyTuples { .. })
    ));
}

#[test]
fn uncovered_tuples_finds_gaps() {
    let factors = mixed(&[3; 4]);
    let plan = pairwise(&factors);
    let none = Constraints::new();
    assert!(
        uncovered_tuples(&factors, &plan.rows, 2, &none)
            .unwrap()
            .is_empty()
    );
    // In an orthogonal array every pair appears once: dropping a row uncovers its 6 pairs.
    let dropped = &plan.rows[1..];
    let missing = uncovered_tuples(&factors, dropped, 2, &none).unwrap();
    assert_eq!(missing.len(), 6);
    for tuple in &missing {
        assert!(
            tuple
                .settings
                .iter()
                .all(|s| plan.rows[0][s.factor] == s.level)
        );
    }
}

#[test]
fn field_tables_are_fields() {
    for q in [2, 3, 4, 5, 7, 8, 9, 16, 25, 27] {
        let field = Field::new(q).unwrap();
        for a in 1..q as u16 {
            let inverses = (1..q as u16).filter(|&b| field.mul(a, b) == 1).count();
            assert_eq!(inverses, 1, "q = {q}, a = {a}");
            assert_eq!(field.add(a, 0), a);
            assert_eq!(field.mul(a, 1), a);
        }
    }
    assert!(Field::new(6).is_none());
    assert!(Field::new(12).is_none());
}

prop_compose! {
    fn small_problem()(levels in prop::collection::vec(1usize..=4, 2..=6))(
        rules in prop::collection::vec(
            (any::<bool>(), 0..levels.len(), 0u16..4, 0..levels.len(), 0u16..4),
            0..=4,
        ),
        forbidden_sum in any::<Option<u16>>(),
        t in 2usize..=3,
        pin in any::<Option<prop::sample::Index>>(),
        levels in Just(levels),
    ) -> (Vec<usize>, Constraints, usize, Option<prop::sample::Index>) {
        let mut constraints = Constraints::new();
        for (requires, a, la, b, lb) in rules {
            let a = Setting::new(a, la % levels[a] as u16);
            let b = Setting::new(b, lb % levels[b] as u16);
            constraints = if requires {
                constraints.requires(a, b)
            } else {
                constraints.excludes(a, b)
            };
        }
        if let Some(sum) = forbidden_sum {
            // A custom rule without a declared scope, conservative on partial rows.
            let sum = sum % 6;
            constraints = constraints.custom("sum", move |row| match (row[0], row[1]) {
                (Some(a), Some(b)) => a + b != sum,
                _ => true,
            });
        }
        (levels.clone(), constraints, t.min(levels.len()), pin)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn constrained_plans_are_valid_and_cover(
        (levels, constraints, t, pin) in small_problem(),
        seed in any::<u64>(),
    ) {
        let factors = mixed(&levels);
        let valid = valid_rows(&levels, &constraints);
        let pinned: Vec<Row> = match (&pin, valid.is_empty()) {
            (Some(index), false) => vec![valid[index.index(valid.len())].clone()],
            _ => Vec::new(),
        };
        let result = generate(&factors, &Coverage::TWise(t as u8), &constraints, &pinned);
        if valid.is_empty() {
            prop_assert_eq!(result.unwrap_err(), CoverError::Unsatisfiable);
            return Ok(());
        }
        let plan = result.unwrap();
        prop_assert_eq!(&plan.rows[..pinned.len()], &pinned[..]);
        let infeasible = assert_covers(&plan, t, &constraints);
        let reported: HashSet<Tuple> = plan.infeasible.iter().cloned().collect();
        prop_assert_eq!(reported, infeasible);
        prop_assert!(plan.rows.len() <= valid.len());

        let limit = Coverage::Exhaustive { limit: 1 << 12 };
        let exhaustive = generate(&factors, &limit, &constraints, &[]).unwrap();
        prop_assert_eq!(exhaustive.rows, valid.clone());

        let random = Coverage::Random { count: 5, seed };
        let drawn = generate(&factors, &random, &constraints, &pinned).unwrap();
        prop_assert_eq!(&drawn, &generate(&factors, &random, &constraints, &pinned).unwrap());
        prop_assert_eq!(&drawn.rows[..pinned.len()], &pinned[..]);
        prop_assert_eq!(drawn.rows.len(), (pinned.len() + 5).min(valid.len()));
        let distinct: HashSet<&Row> = drawn.rows.iter().collect();
        prop_assert_eq!(distinct.len(), drawn.rows.len());
        prop_assert!(drawn.rows.iter().all(|row| valid.contains(row)));
    }
}
