//! The constraints over concrete factors: checking partial rows, and the search for
//! valid rows every generator builds on.

use super::model::{Constraints, Row, Rule};

/// Writes `row` with `changes` applied into `partial`, every factor assigned.
pub(crate) fn fill(partial: &mut Vec<Option<u16>>, row: &[u16], changes: &[(usize, u16)]) {
    partial.clear();
    partial.extend(row.iter().copied().map(Some));
    for &(c, level) in changes {
        partial[c] = Some(level);
    }
}

/// Reorders the candidate levels of a factor in place, most preferred first.
pub(crate) type Order<'o> = dyn FnMut(usize, &mut Vec<u16>) + 'o;

/// The constraints over concrete factors, with the search for valid rows.
pub(crate) struct Checker<'a> {
    pub(crate) levels: Vec<u16>,
    pub(crate) rules: &'a [Rule],
    /// Factors some rule reads, in index order; the others can take any level.
    pub(crate) relevant: Vec<usize>,
    /// The rules with a declared scope that read each factor.
    pub(crate) by_factor: Vec<Vec<usize>>,
    /// Whether some custom rule may read any factor.
    pub(crate) unscoped: bool,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(levels: &[u16], constraints: &'a Constraints) -> Self {
        let mut relevant = vec![false; levels.len()];
        let mut by_factor = vec![Vec::new(); levels.len()];
        let mut unscoped = false;
        for (index, rule) in constraints.rules.iter().enumerate() {
            match rule.scope() {
                Some(scope) => {
                    for f in scope {
                        relevant[f] = true;
                        if by_factor[f].last() != Some(&index) {
                            by_factor[f].push(index);
                        }
                    }
                }
                None => {
                    relevant.iter_mut().for_each(|r| *r = true);
                    unscoped = true;
                }
            }
        }
        Self {
            levels: levels.to_vec(),
            rules: &constraints.rules,
            relevant: (0..levels.len()).filter(|&f| relevant[f]).collect(),
            by_factor,
            unscoped,
        }
    }

    pub(crate) fn k(&self) -> usize {
        self.levels.len()
    }

    pub(crate) fn unconstrained(&self) -> bool {
        self.rules.is_empty()
    }

    pub(crate) fn allows(&self, partial: &[Option<u16>]) -> bool {
        self.rules.iter().all(|rule| rule.allows(partial))
    }

    pub(crate) fn allows_row(&self, row: &[u16]) -> bool {
        let mut scratch = Vec::new();
        fill(&mut scratch, row, &[]);
        self.allows(&scratch)
    }

    /// Whether the valid `row` with `changes` applied is still valid. Only the rules that
    /// read a changed factor can break; `scratch` is working space.
    pub(crate) fn allows_changed(
        &self,
        row: &[u16],
        changes: &[(usize, u16)],
        scratch: &mut Vec<Option<u16>>,
    ) -> bool {
        if self.unscoped {
            fill(scratch, row, changes);
            return self.allows(scratch);
        }
        let value = |f: usize| {
            changes
                .iter()
                .find(|change| change.0 == f)
                .map_or(row[f], |change| change.1)
        };
        let mut filled = false;
        changes.iter().all(|&(c, _)| {
            self.by_factor[c].iter().all(|&r| {
                let rule = &self.rules[r];
                rule.allows_complete(value).unwrap_or_else(|| {
                    if !filled {
                        fill(scratch, row, changes);
                        filled = true;
                    }
                    rule.allows(scratch)
                })
            })
        })
    }

    /// The levels of unassigned factor `f` that the rules allow next to `partial`.
    pub(crate) fn domain(&self, partial: &mut [Option<u16>], f: usize, out: &mut Vec<u16>) {
        out.clear();
        for level in 0..self.levels[f] {
            partial[f] = Some(level);
            if self.allows(partial) {
                out.push(level);
            }
        }
        partial[f] = None;
    }

    /// Whether `partial` is allowed and every unassigned relevant factor still has a level.
    pub(crate) fn consistent(&self, partial: &mut [Option<u16>]) -> bool {
        if !self.allows(partial) {
            return false;
        }
        self.relevant.iter().all(|&f| {
            partial[f].is_some()
                || (0..self.levels[f]).any(|level| {
                    partial[f] = Some(level);
                    let ok = self.allows(partial);
                    partial[f] = None;
                    ok
                })
        })
    }

    /// A valid row that agrees with `partial`, or `None` when there is none. Levels are
    /// tried in the order `order` puts them in.
    pub(crate) fn complete(&self, partial: &[Option<u16>], order: &mut Order<'_>) -> Option<Row> {
        let mut work = partial.to_vec();
        if !self.search(&mut work, &self.relevant, order) {
            return None;
        }
        let mut candidates = Vec::new();
        let row: Row = work
            .iter()
            .enumerate()
            .map(|(f, level)| {
                level.unwrap_or_else(|| {
                    candidates.clear();
                    candidates.extend(0..self.levels[f]);
                    order(f, &mut candidates);
                    candidates.first().copied().unwrap_or(0)
                })
            })
            .collect();
        if self.allows_row(&row) {
            return Some(row);
        }
        // A custom rule read a factor outside its declared scope; search over every factor.
        let all: Vec<usize> = (0..self.k()).collect();
        let mut work = partial.to_vec();
        if self.search(&mut work, &all, order) {
            Some(work.iter().map(|level| level.unwrap_or(0)).collect())
        } else {
            None
        }
    }

    /// Depth-first search with forward checking over `vars`, choosing the factor with the
    /// fewest allowed levels first. On success every factor in `vars` is assigned.
    pub(crate) fn search(
        &self,
        partial: &mut [Option<u16>],
        vars: &[usize],
        order: &mut Order<'_>,
    ) -> bool {
        struct Frame {
            factor: usize,
            levels: Vec<u16>,
            next: usize,
        }
        if !self.allows(partial) {
            return false;
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut domain = Vec::new();
        loop {
            let mut pick: Option<(usize, Vec<u16>)> = None;
            let mut dead_end = false;
            for &f in vars {
                if partial[f].is_some() {
                    continue;
                }
                self.domain(partial, f, &mut domain);
                if domain.is_empty() {
                    dead_end = true;
                    break;
                }
                if pick
                    .as_ref()
                    .is_none_or(|(_, best)| domain.len() < best.len())
                {
                    pick = Some((f, domain.clone()));
                    if domain.len() == 1 {
                        break;
                    }
                }
            }
            if !dead_end {
                match pick {
                    None => return true,
                    Some((factor, mut levels)) => {
                        order(factor, &mut levels);
                        stack.push(Frame {
                            factor,
                            levels,
                            next: 0,
                        });
                    }
                }
            }
            // Assign the next untried level of the innermost factor, backtracking as needed.
            loop {
                let Some(top) = stack.last_mut() else {
                    return false;
                };
                if let Some(&level) = top.levels.get(top.next) {
                    top.next += 1;
                    partial[top.factor] = Some(level);
                    break;
                }
                partial[top.factor] = None;
                stack.pop();
            }
        }
    }

    /// Calls `emit` with every valid row in lexicographic order until it returns `false`.
    pub(crate) fn enumerate(&self, mut emit: impl FnMut(&[u16]) -> bool) {
        let k = self.k();
        let mut partial = vec![None; k];
        if !self.consistent(&mut partial) {
            return;
        }
        if k == 0 {
            emit(&[]);
            return;
        }
        let mut next = vec![0u16; k];
        let mut row = vec![0u16; k];
        let mut depth = 0;
        loop {
            let mut advanced = false;
            while next[depth] < self.levels[depth] {
                let level = next[depth];
                next[depth] += 1;
                partial[depth] = Some(level);
                if self.consistent(&mut partial) {
                    row[depth] = level;
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                partial[depth] = None;
                if depth == 0 {
                    return;
                }
                depth -= 1;
            } else if depth + 1 == k {
                if !emit(&row) {
                    return;
                }
            } else {
                depth += 1;
                next[depth] = 0;
            }
        }
    }
}
