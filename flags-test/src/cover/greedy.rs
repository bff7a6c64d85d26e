//! Greedy rows, AETG style: each new row starts from an uncovered tuple and fixes the
//! other factors one by one to the level that covers the most new tuples.

use super::checker::Checker;
use super::model::Row;
use super::rng::SplitMix64;
use super::tuples::Cover;

/// Adds rows greedily until every feasible tuple is covered.
pub(crate) fn fill_greedily(cover: &mut Cover<'_>, checker: &Checker<'_>, rng: &mut SplitMix64) {
    let universe = cover.universe;
    // Candidates per row, fewer when building a row is expensive.
    let work = universe.subsets().saturating_mul(universe.t).max(1);
    let candidates = (400_000 / work).clamp(1, 12);
    while !cover.open.is_empty() {
        let mut best: Option<(usize, Row)> = None;
        for _ in 0..candidates {
            let Some(row) = greedy_row(cover, checker, rng) else {
                continue;
            };
            let gain = cover.gain(&row);
            if best.as_ref().is_none_or(|(most, _)| gain > *most) {
                best = Some((gain, row));
            }
        }
        match best {
            Some((_, row)) => cover.add_row(row),
            // Unreachable: every open tuple has a valid row (that is how it was found
            // feasible), and the search that builds a row is complete.
            None => break,
        }
    }
}

/// One valid row covering at least one uncovered tuple: a random uncovered tuple, then the
/// other factors in random order, each at the level that covers the most uncovered tuples
/// together with the factors fixed before it. `None` only if the constraint search fails,
/// which the feasibility of open tuples rules out.
pub(crate) fn greedy_row(
    cover: &Cover<'_>,
    checker: &Checker<'_>,
    rng: &mut SplitMix64,
) -> Option<Row> {
    let universe = cover.universe;
    let k = universe.levels.len();
    let mut partial = vec![None; k];
    let mut row = vec![0u16; k];
    let mut levels = Vec::new();
    let tuple = cover.open[rng.below(cover.open.len())] as usize;
    let s = universe.decode(tuple, &mut levels);
    for (&c, &level) in universe.cols(s).iter().zip(&levels) {
        partial[c as usize] = Some(level);
        row[c as usize] = level;
    }
    let constrained = !checker.unconstrained();
    // A valid row agreeing with `partial`; one exists because open tuples are feasible.
    let mut witness = if constrained {
        checker.complete(&partial, &mut |_, levels| rng.shuffle(levels))
    } else {
        None
    };
    let mut order: Vec<usize> = (0..k).filter(|&f| partial[f].is_none()).collect();
    rng.shuffle(&mut order);
    let mut score = Vec::new();
    let mut choices: Vec<u16> = Vec::new();
    let mut scratch = Vec::new();
    for f in order {
        let n = universe.levels[f];
        score.clear();
        score.resize(usize::from(n), 0usize);
        for &s in &universe.by_col[f] {
            let s = s as usize;
            let cols = universe.cols(s);
            if cols
                .iter()
                .any(|&c| c as usize != f && partial[c as usize].is_none())
            {
                continue;
            }
            // The tuple index is linear in f's level: base + level * stride.
            let (mut base, mut stride) = (0usize, 0usize);
            for &c in cols {
                let c = c as usize;
                let radix = usize::from(universe.levels[c]);
                base *= radix;
                stride *= radix;
                if c == f {
                    stride = 1;
                } else {
                    base += usize::from(row[c]);
                }
            }
            base += universe.offsets[s];
            for (level, points) in score.iter_mut().enumerate() {
                let i = base + level * stride;
                if cover.count[i] == 0 && universe.feasible[i] {
                    *points += 1;
                }
            }
        }
        choices.clear();
        choices.extend(0..n);
        rng.shuffle(&mut choices);
        choices.sort_by_key(|&level| std::cmp::Reverse(score[usize::from(level)]));
        for &level in &choices {
            partial[f] = Some(level);
            // Keep `partial` extendable to a valid row, with `witness` as the proof.
            let fits = !constrained
                || witness.as_ref().is_some_and(|w| w[f] == level)
                || witness.as_mut().is_some_and(|w| {
                    // Often the witness with this one level changed is still valid.
                    let valid = checker.allows_changed(w, &[(f, level)], &mut scratch);
                    if valid {
                        w[f] = level;
                    }
                    valid
                })
                || {
                    let hint = witness.take();
                    let found = checker
                        .allows(&partial)
                        .then(|| {
                            checker.complete(&partial, &mut |g, levels| {
                                if let Some(w) = &hint {
                                    prefer(levels, w[g]);
                                }
                            })
                        })
                        .flatten();
                    witness = found.or(hint);
                    witness.as_ref().is_some_and(|w| w[f] == level)
                };
            if fits {
                row[f] = level;
                break;
            }
            partial[f] = None;
        }
    }
    (!constrained || checker.allows_row(&row)).then_some(row)
}

/// Moves `level` to the front of `levels`.
pub(crate) fn prefer(levels: &mut [u16], level: u16) {
    if let Some(at) = levels.iter().position(|&l| l == level) {
        levels[..=at].rotate_right(1);
    }
}
