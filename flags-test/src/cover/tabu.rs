//! Shrinking a plan: drop the weakest row, then repair coverage by tabu search (after
//! Nurmela's search for covering arrays), with move counts rather than time as limits.

use super::checker::{Checker, fill};
use super::greedy::prefer;
use super::model::Row;
use super::rng::SplitMix64;
use super::tuples::Cover;

/// Removes rows one at a time, repairing coverage by tabu search after each removal, until
/// the search fails or `bound` rows remain; returns the smallest covering rows found.
pub(crate) fn shrink(
    cover: &mut Cover<'_>,
    checker: &Checker<'_>,
    bound: usize,
    rng: &mut SplitMix64,
) -> Vec<Row> {
    let mut best = cover.rows.clone();
    while cover.rows.len() > bound.max(cover.pinned) {
        let weakest = (cover.pinned..cover.rows.len()).min_by_key(|&r| cover.unique(r));
        let Some(weakest) = weakest else { break };
        cover.remove_row(weakest);
        if !repair(cover, checker, rng) {
            break;
        }
        best = cover.rows.clone();
    }
    best
}

/// Tabu search for covering every feasible tuple with the current number of rows. A move
/// picks a random uncovered tuple and writes it into the row where that loses the fewest
/// other tuples; cells changed within the last few moves are not changed again unless that
/// reaches a new best. The search gives up after a fixed number of moves, or earlier when it
/// has not improved on its best for a while; both limits count moves, not time, so the
/// result does not depend on the machine.
pub(crate) fn repair(cover: &mut Cover<'_>, checker: &Checker<'_>, rng: &mut SplitMix64) -> bool {
    let universe = cover.universe;
    let k = universe.levels.len();
    let rows = cover.rows.len();
    if cover.pinned == rows {
        return cover.open.is_empty();
    }
    // About 20 million tuple look-ups at most per attempt.
    let per_move = (rows - cover.pinned) * universe.t * universe.by_col[0].len().max(1);
    let moves = (20_000_000 / per_move).clamp(500, 200_000) as u64;
    let patience = (moves / 10).max(500);
    let tenure = 2 + (rows as u64) / 8;
    let mut changed_at = vec![0u64; rows * k];
    let mut levels = Vec::new();
    let mut changes: Vec<(usize, u16)> = Vec::new();
    let mut chosen: Vec<(usize, u16)> = Vec::new();
    let mut scratch = Vec::new();
    let mut best_open = cover.open.len();
    let mut improved_at = 0;
    for step in 1..=moves {
        if cover.open.is_empty() {
            return true;
        }
        if step - improved_at > patience {
            return false;
        }
        let tuple = cover.open[rng.below(cover.open.len())] as usize;
        let s = universe.decode(tuple, &mut levels);
        let cols = universe.cols(s);
        let mut best: Option<(i64, usize)> = None;
        let mut ties = 0;
        // First only rows that stay valid as they are; if there is none, rows where other
        // factors must change too.
        for refit in [false, true] {
            if best.is_some() || (refit && checker.unconstrained()) {
                break;
            }
            for r in cover.pinned..rows {
                changes.clear();
                for (&c, &level) in cols.iter().zip(&levels) {
                    if cover.rows[r][c as usize] != level {
                        changes.push((c as usize, level));
                    }
                }
                let tabu = changes.iter().any(|&(c, _)| {
                    changed_at[r * k + c] != 0 && changed_at[r * k + c] + tenure >= step
                });
                if !checker.unconstrained() {
                    let fits = if refit {
                        fit_constraints(checker, &cover.rows[r], &mut changes, &mut scratch)
                    } else {
                        checker.allows_changed(&cover.rows[r], &changes, &mut scratch)
                    };
                    if !fits {
                        continue;
                    }
                }
                let delta = cover.delta(r, &changes);
                // Aspiration: a tabu move is still taken when it beats the best state so far.
                if tabu && (cover.open.len() as i64 + delta) >= best_open as i64 {
                    continue;
                }
                // Ties are broken uniformly (reservoir sampling over the tied rows).
                let take = match best {
                    Some((least, _)) if delta > least => false,
                    Some((least, _)) if delta == least => {
                        ties += 1;
                        rng.below(ties) == 0
                    }
                    _ => {
                        ties = 1;
                        true
                    }
                };
                if take {
                    best = Some((delta, r));
                    chosen.clone_from(&changes);
                }
            }
        }
        if let Some((_, r)) = best {
            cover.apply(r, &chosen);
            for &(c, _) in &chosen {
                changed_at[r * k + c] = step;
            }
            if cover.open.len() < best_open {
                best_open = cover.open.len();
                improved_at = step;
            }
        }
    }
    cover.open.is_empty()
}

/// Makes `row` with `changes` applied valid by changing other factors too, as few as the
/// search finds: first only factors read by the rules the changed row breaks, then any.
/// Returns `false` when no valid row has the changed levels.
pub(crate) fn fit_constraints(
    checker: &Checker<'_>,
    row: &[u16],
    changes: &mut Vec<(usize, u16)>,
    scratch: &mut Vec<Option<u16>>,
) -> bool {
    if checker.allows_changed(row, changes, scratch) {
        return true;
    }
    fill(scratch, row, changes);
    let pinned = |f: usize| changes.iter().any(|change| change.0 == f);
    let mut local = scratch.clone();
    for rule in checker.rules {
        if !rule.allows(scratch) {
            match rule.scope() {
                Some(scope) => scope.into_iter().for_each(|f| {
                    if !pinned(f) {
                        local[f] = None;
                    }
                }),
                None => (0..row.len()).for_each(|f| {
                    if !pinned(f) {
                        local[f] = None;
                    }
                }),
            }
        }
    }
    let mut keep = |f: usize, levels: &mut Vec<u16>| prefer(levels, row[f]);
    let found = checker.complete(&local, &mut keep).or_else(|| {
        let mut only_changes = vec![None; row.len()];
        for &(c, level) in changes.iter() {
            only_changes[c] = Some(level);
        }
        checker.complete(&only_changes, &mut keep)
    });
    let Some(fixed) = found else {
        return false;
    };
    changes.clear();
    changes.extend(
        (0..row.len())
            .filter(|&f| fixed[f] != row[f])
            .map(|f| (f, fixed[f])),
    );
    true
}
