//! Which flag combinations a matrix run executes.
//!
//! Running a test under every combination of flag values ([`Coverage::Exhaustive`]) grows
//! exponentially with the number of flags. A covering array of strength `t`
//! ([`Coverage::TWise`]) instead guarantees that every combination of values of any `t` flags
//! appears in at least one row, which exercises every fault caused by the interaction of at
//! most `t` flags with far fewer rows: pairwise coverage of 1000 boolean flags takes 14 rows.
//! [`Constraints`] keep combinations that must never run out of every row; value tuples that
//! no valid row can contain are reported in [`Plan::infeasible`] instead of being required.
//! Pinned rows (all on, all off, the defaults) are always part of the plan and count toward
//! coverage. Every strategy is deterministic: the same input gives the same plan.
//!
//! # How t-wise plans are built
//!
//! 1. **Constructions.** Pairwise coverage of boolean flags uses the Kleitman–Spencer
//!    construction (see [`kleitman_spencer_rows`]), which is optimal. Up to `q + 1` factors with
//!    at most `q` levels, `q` a prime power, get the Reed–Solomon orthogonal array of strength
//!    `t` over GF(`q`): `q^t` rows, optimal when every factor has `q` levels. Without
//!    constraints an optimal construction is returned as it is.
//! 2. **Greedy.** Otherwise rows are added one at a time, AETG style: each candidate row starts
//!    from an uncovered tuple and fixes the remaining factors one by one to the level that
//!    covers the most new tuples, staying inside the constraints; the best of a few seeded
//!    candidates is kept. With constraints and a construction, the construction's rows are
//!    first moved into the constraints and the search of step 3 covers what they miss.
//! 3. **Shrinking.** The row that covers the fewest tuples alone is dropped and a tabu search
//!    (after Nurmela's search for covering arrays) changes the other rows until every
//!    feasible tuple is covered again; this repeats until the search gives up or a lower
//!    bound is met. The search stops after a number of moves fixed by the problem's size, so
//!    with its fixed seed the result is the same on every machine.
//!
//! One file per part: `model` (factors, constraints, plans, errors), `checker` (the
//! constraints over concrete factors and the search for valid rows), `binary`
//! (Kleitman–Spencer), `orthogonal` (Reed–Solomon over GF(q)), `tuples` (the tuples to
//! cover and their counts), `greedy` and `tabu` (steps 2 and 3), `rng`.
//!
//! Sizes reached (pairwise, no constraints): 2^10 → 6 rows, 2^20 → 8, 2^100 → 10,
//! 2^1000 → 14 (all optimal), 3^4 → 9 and 4^5 → 16 (optimal), 3^13 → 15 (the best known),
//! 2^5 3^4 → 10 (optimal: 9 rows would need the ternary columns to form the affine plane of
//! order 3, whose points cannot be 2-coloured without a one-coloured line).
//!
//! ```
//! use flags_test::cover::{generate, Constraints, Factor, Setting, Coverage};
//!
//! let factors: Vec<Factor> = (0..10).map(|i| Factor::boolean(format!("flag_{i}"))).collect();
//! let plan = generate(&factors, &Coverage::pairwise(), &Constraints::new(), &[])?;
//! assert_eq!(plan.rows.len(), 6);
//!
//! // Flag 1 can only be on when flag 0 is on.
//! let constraints = Constraints::new().requires(Setting::new(1, 1), Setting::new(0, 1));
//! let plan = generate(&factors, &Coverage::pairwise(), &constraints, &[])?;
//! assert!(plan.rows.iter().all(|row| row[1] == 0 || row[0] == 1));
//! # Ok::<(), flags_test::cover::CoverError>(())
//! ```

mod binary;
mod checker;
mod greedy;
mod model;
mod orthogonal;
mod rng;
mod tabu;
#[cfg(test)]
mod tests;
mod tuples;

use std::collections::HashSet;

pub use binary::kleitman_spencer_rows;
pub use model::{Constraints, CoverError, Coverage, Factor, Plan, Row, Setting, Tuple};

use binary::ks_rows;
use checker::Checker;
use greedy::{fill_greedily, prefer};
use model::Rule;
use orthogonal::rs_rows;
use rng::SplitMix64;
use tabu::{repair, shrink};
use tuples::{Cover, Universe};

/// The most value tuples a t-wise plan may track; beyond it the strength is too high for
/// the number of factors.
const MAX_TUPLES: u64 = 1 << 24;

/// Spaces with at most this many combinations are enumerated for random sampling.
const ENUMERATE_FOR_SAMPLING: u64 = 1 << 16;

/// Seed of the search behind t-wise plans; fixed so that plans are reproducible.
const SEARCH_SEED: u64 = 0x5eed_f1a6_c0de_0001;

/// Generates the rows of a matrix run.
///
/// `pinned` rows come first, in the order given (duplicates dropped); they must satisfy the
/// constraints, and for t-wise plans they count toward coverage. See [`Coverage`] for the
/// modes and the module documentation for how t-wise plans are built.
///
/// ```
/// use flags_test::cover::{generate, Constraints, Factor, Coverage};
///
/// let factors: Vec<Factor> = (0..4).map(|i| Factor::new(format!("f{i}"), ["a", "b", "c"])).collect();
/// let all_a = vec![0; 4];
/// let plan = generate(&factors, &Coverage::pairwise(), &Constraints::new(), &[all_a.clone()])?;
/// assert_eq!(plan.rows.len(), 9);
/// assert_eq!(plan.rows[0], all_a);
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
pub fn generate(
    factors: &[Factor],
    strategy: &Coverage,
    constraints: &Constraints,
    pinned: &[Row],
) -> Result<Plan, CoverError> {
    let levels = validate_factors(factors)?;
    validate_constraints(constraints, &levels)?;
    validate_rows(factors, &levels, pinned)?;
    let checker = Checker::new(&levels, constraints);
    let mut seen = HashSet::new();
    let mut rows: Vec<Row> = Vec::new();
    for (index, row) in pinned.iter().enumerate() {
        let partial: Vec<Option<u16>> = row.iter().copied().map(Some).collect();
        if !checker.allows(&partial) {
            let label = labelled(factors, row);
            return Err(CoverError::PinnedViolates { row: index, label });
        }
        if seen.insert(row.clone()) {
            rows.push(row.clone());
        }
    }
    if rows.is_empty()
        && checker
            .complete(&vec![None; levels.len()], &mut |_, _| {})
            .is_none()
    {
        return Err(CoverError::Unsatisfiable);
    }
    let mut plan = Plan {
        factors: factors.to_vec(),
        rows: Vec::new(),
        strength: None,
        infeasible: Vec::new(),
    };
    match *strategy {
        Coverage::Exhaustive { limit } => plan.rows = exhaustive(&checker, rows, limit)?,
        Coverage::Random { count, seed } => plan.rows = sample(&checker, rows, count, seed),
        Coverage::TWise(strength) => {
            let (rows, infeasible) = t_wise(&checker, usize::from(strength), rows)?;
            plan.rows = rows;
            plan.infeasible = infeasible;
            plan.strength = Some(strength);
        }
    }
    Ok(plan)
}

/// The feasible tuples of `t` settings that none of `rows` contains; empty when `rows` is a
/// t-wise covering array for `factors` under `constraints`.
///
/// Rows are only checked for shape (one valid level per factor), not against the
/// constraints; a tuple no valid row can contain is never reported.
///
/// ```
/// use flags_test::cover::{uncovered_tuples, Constraints, Factor, Setting, Tuple};
///
/// let factors = [Factor::boolean("a"), Factor::boolean("b")];
/// let rows = [vec![0, 0], vec![1, 1], vec![0, 1]];
/// let missing = uncovered_tuples(&factors, &rows, 2, &Constraints::new())?;
/// assert_eq!(missing, [Tuple { settings: vec![Setting::new(0, 1), Setting::new(1, 0)] }]);
/// # Ok::<(), flags_test::cover::CoverError>(())
/// ```
pub fn uncovered_tuples(
    factors: &[Factor],
    rows: &[Row],
    t: usize,
    constraints: &Constraints,
) -> Result<Vec<Tuple>, CoverError> {
    let levels = validate_factors(factors)?;
    validate_constraints(constraints, &levels)?;
    validate_rows(factors, &levels, rows)?;
    let checker = Checker::new(&levels, constraints);
    let universe = Universe::build(&checker, t)?;
    let cover = Cover::new(&universe, rows.to_vec(), rows.len());
    let mut open = cover.open.clone();
    open.sort_unstable();
    Ok(open
        .into_iter()
        .map(|tuple| universe.tuple(tuple as usize))
        .collect())
}

fn labelled(factors: &[Factor], row: &[u16]) -> String {
    let parts: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(factor, &level)| Setting::new(factor, level).label(factors))
        .collect();
    parts.join(", ")
}

fn validate_factors(factors: &[Factor]) -> Result<Vec<u16>, CoverError> {
    let mut names = HashSet::new();
    factors
        .iter()
        .map(|factor| {
            if !names.insert(factor.name.as_str()) {
                return Err(CoverError::DuplicateFactor {
                    name: factor.name.clone(),
                });
            }
            match u16::try_from(factor.levels.len()) {
                Ok(0) => Err(CoverError::NoLevels {
                    factor: factor.name.clone(),
                }),
                Ok(levels) => Ok(levels),
                Err(_) => Err(CoverError::TooManyLevels {
                    factor: factor.name.clone(),
                    levels: factor.levels.len(),
                }),
            }
        })
        .collect()
}

fn validate_constraints(constraints: &Constraints, levels: &[u16]) -> Result<(), CoverError> {
    for rule in &constraints.rules {
        let unknown = |factor: usize, level: u16| CoverError::UnknownSetting {
            rule: rule.describe(),
            factor,
            level,
            factors: levels.len(),
        };
        match rule {
            Rule::Requires { when: a, then: b } | Rule::Excludes { a, b } => {
                for s in [a, b] {
                    if levels.get(s.factor).is_none_or(|&n| s.level >= n) {
                        return Err(unknown(s.factor, s.level));
                    }
                }
            }
            Rule::Custom {
                scope: Some(scope), ..
            } => {
                if let Some(&factor) = scope.iter().find(|&&f| f >= levels.len()) {
                    return Err(unknown(factor, 0));
                }
            }
            Rule::Custom { scope: None, .. } => {}
        }
    }
    Ok(())
}

fn validate_rows(factors: &[Factor], levels: &[u16], rows: &[Row]) -> Result<(), CoverError> {
    for (index, row) in rows.iter().enumerate() {
        if row.len() != levels.len() {
            return Err(CoverError::RowLength {
                row: index,
                len: row.len(),
                factors: levels.len(),
            });
        }
        if let Some(factor) = (0..row.len()).find(|&f| row[f] >= levels[f]) {
            return Err(CoverError::RowLevel {
                row: index,
                factor: factors[factor].name.clone(),
                level: row[factor],
                levels: usize::from(levels[factor]),
            });
        }
    }
    Ok(())
}

/// `C(n, r)`, or `u128::MAX` when it does not fit.
fn binomial(n: usize, r: usize) -> u128 {
    if r > n {
        return 0;
    }
    let r = r.min(n - r);
    let mut acc = 1u128;
    for i in 0..r {
        // acc = C(n, i), so acc * (n - i) = C(n, i + 1) * (i + 1) divides exactly.
        match acc.checked_mul((n - i) as u128) {
            Some(product) => acc = product / (i as u128 + 1),
            None => return u128::MAX,
        }
    }
    acc
}

// ---------------------------------------------------------------------------------------
// Exhaustive and random plans
// ---------------------------------------------------------------------------------------

fn exhaustive(
    checker: &Checker<'_>,
    pinned: Vec<Row>,
    limit: usize,
) -> Result<Vec<Row>, CoverError> {
    if pinned.len() > limit {
        return Err(CoverError::TooManyCombinations { limit });
    }
    let seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned;
    let mut over = false;
    checker.enumerate(|row| {
        if seen.contains(row) {
            return true;
        }
        if rows.len() == limit {
            over = true;
            return false;
        }
        rows.push(row.to_vec());
        true
    });
    if over {
        Err(CoverError::TooManyCombinations { limit })
    } else {
        Ok(rows)
    }
}

fn sample(checker: &Checker<'_>, pinned: Vec<Row>, count: usize, seed: u64) -> Vec<Row> {
    let mut rng = SplitMix64::new(seed);
    let mut seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned;
    let target = rows.len().saturating_add(count);
    let space = checker
        .levels
        .iter()
        .fold(1u64, |acc, &n| acc.saturating_mul(u64::from(n)));
    if space <= ENUMERATE_FOR_SAMPLING {
        // Small space: a seeded shuffle of all valid rows gives distinct rows uniformly.
        let mut all = Vec::new();
        checker.enumerate(|row| {
            all.push(row.to_vec());
            true
        });
        for i in 0..all.len() {
            if rows.len() >= target {
                break;
            }
            let j = i + rng.below(all.len() - i);
            all.swap(i, j);
            if seen.insert(all[i].clone()) {
                rows.push(all[i].clone());
            }
        }
    } else {
        let none = vec![None; checker.k()];
        let mut attempts = count.saturating_mul(8).saturating_add(64);
        while rows.len() < target && attempts > 0 {
            attempts -= 1;
            let drawn = checker.complete(&none, &mut |_, levels| rng.shuffle(levels));
            if let Some(row) = drawn
                && seen.insert(row.clone())
            {
                rows.push(row);
            }
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------
// t-wise plans
// ---------------------------------------------------------------------------------------

fn t_wise(
    checker: &Checker<'_>,
    t: usize,
    pinned: Vec<Row>,
) -> Result<(Vec<Row>, Vec<Tuple>), CoverError> {
    let levels = &checker.levels;
    let k = levels.len();
    if t == 0 || t > k {
        return Err(CoverError::BadStrength {
            strength: t,
            factors: k,
        });
    }
    // The construction ignores the constraints; with constraints it is only a start.
    let construction = if t == 2 && levels.iter().all(|&n| n == 2) {
        Some(ks_rows(k, pinned.first()))
    } else {
        rs_rows(levels, t, pinned.first())
    };
    if t == 2 && levels.iter().all(|&n| n == 2) && checker.unconstrained() {
        // Optimal (Kleitman–Spencer) with at most one pinned row, which becomes one of its
        // rows; with more, at most `pinned.len() - 1` rows above optimal, and for many flags
        // the search below would be slow for little gain.
        let rows = with_pinned(&pinned, construction.clone().unwrap_or_default());
        if pinned.len() <= 1 || binomial(k, 2) > 50_000 {
            return Ok((rows, Vec::new()));
        }
    }
    let universe = Universe::build(checker, t)?;
    let infeasible = universe.infeasible();
    let bound = universe.lower_bound().max(pinned.len());
    let mut rng = SplitMix64::new(SEARCH_SEED);
    let fresh = |rows: Vec<Row>| Cover::new(&universe, rows, pinned.len());
    let mut cover = match construction {
        Some(rows) if checker.unconstrained() => {
            let rows = with_pinned(&pinned, rows);
            if rows.len() <= bound {
                return Ok((rows, infeasible));
            }
            // Greedy from scratch may still beat a construction made for a larger field.
            let mut greedy = fresh(pinned.clone());
            fill_greedily(&mut greedy, checker, &mut rng);
            if greedy.rows.len() < rows.len() {
                greedy
            } else {
                fresh(rows)
            }
        }
        Some(rows) => {
            // The construction's rows moved into the constraints, the search run to cover
            // what they miss, and greedy rows for whatever remains: close to the
            // construction's size when the constraints are few.
            let none = vec![None; k];
            let fitted = rows
                .iter()
                .filter_map(|row| checker.complete(&none, &mut |f, levels| prefer(levels, row[f])))
                .collect();
            let mut cover = fresh(with_pinned(&pinned, fitted));
            if !repair(&mut cover, checker, &mut rng) {
                fill_greedily(&mut cover, checker, &mut rng);
            }
            cover
        }
        None => {
            let mut cover = fresh(pinned.clone());
            fill_greedily(&mut cover, checker, &mut rng);
            cover
        }
    };
    let rows = shrink(&mut cover, checker, bound, &mut rng);
    Ok((rows, infeasible))
}

fn with_pinned(pinned: &[Row], construction: Vec<Row>) -> Vec<Row> {
    let mut seen: HashSet<Row> = pinned.iter().cloned().collect();
    let mut rows = pinned.to_vec();
    rows.extend(
        construction
            .into_iter()
            .filter(|row| seen.insert(row.clone())),
    );
    rows
}
