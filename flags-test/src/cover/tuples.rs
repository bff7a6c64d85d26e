//! The tuples a t-wise plan must cover, indexed densely ([`Universe`]), and how often
//! the current rows cover each ([`Cover`]): the bookkeeping the greedy and tabu search
//! share.

use super::MAX_TUPLES;
use super::checker::Checker;
use super::model::{CoverError, Row, Setting, Tuple};
use super::rng::SplitMix64;
use super::{SEARCH_SEED, binomial};

/// Every tuple of `t` settings, indexed densely: the `t`-subsets of factors in
/// lexicographic order, and within a subset the level combinations in mixed radix.
pub(crate) struct Universe {
    pub(crate) levels: Vec<u16>,
    pub(crate) t: usize,
    /// `t` factor indices per subset.
    pub(crate) cols: Vec<u32>,
    /// First tuple index of each subset, plus the total at the end.
    pub(crate) offsets: Vec<usize>,
    /// The subsets that contain each factor.
    pub(crate) by_col: Vec<Vec<u32>>,
    /// Whether some valid row contains the tuple.
    pub(crate) feasible: Vec<bool>,
}

impl Universe {
    pub(crate) fn build(checker: &Checker<'_>, t: usize) -> Result<Self, CoverError> {
        let levels = &checker.levels;
        let k = levels.len();
        let too_many = CoverError::TooManyTuples {
            strength: t,
            factors: k,
            limit: MAX_TUPLES,
        };
        if t == 0 || t > k {
            return Err(CoverError::BadStrength {
                strength: t,
                factors: k,
            });
        }
        if binomial(k, t) > u128::from(MAX_TUPLES) {
            return Err(too_many);
        }
        let mut cols = Vec::new();
        let mut offsets = vec![0usize];
        let mut by_col = vec![Vec::new(); k];
        let mut total = 0u64;
        let mut subset: Vec<usize> = (0..t).collect();
        loop {
            let id = u32::try_from(offsets.len() - 1).map_err(|_| too_many.clone())?;
            let mut width = 1u64;
            for &c in &subset {
                width *= u64::from(levels[c]);
                cols.push(c as u32);
                by_col[c].push(id);
            }
            total = total.saturating_add(width);
            if total > MAX_TUPLES {
                return Err(too_many);
            }
            offsets.push(total as usize);
            match (0..t).rev().find(|&i| subset[i] < k - t + i) {
                Some(i) => {
                    subset[i] += 1;
                    for j in i + 1..t {
                        subset[j] = subset[j - 1] + 1;
                    }
                }
                None => break,
            }
        }
        let mut universe = Self {
            levels: levels.clone(),
            t,
            cols,
            offsets,
            by_col,
            feasible: vec![true; total as usize],
        };
        universe.mark_infeasible(checker);
        Ok(universe)
    }

    pub(crate) fn len(&self) -> usize {
        self.feasible.len()
    }

    pub(crate) fn subsets(&self) -> usize {
        self.offsets.len() - 1
    }

    pub(crate) fn cols(&self, s: usize) -> &[u32] {
        &self.cols[s * self.t..(s + 1) * self.t]
    }

    pub(crate) fn index(&self, s: usize, row: &[u16]) -> usize {
        let local = self.cols(s).iter().fold(0, |acc, &c| {
            acc * usize::from(self.levels[c as usize]) + usize::from(row[c as usize])
        });
        self.offsets[s] + local
    }

    /// Like `index`, for `row` with `changes` (factor, level) applied.
    pub(crate) fn index_with(&self, s: usize, row: &[u16], changes: &[(usize, u16)]) -> usize {
        let local = self.cols(s).iter().fold(0, |acc, &c| {
            let c = c as usize;
            let level = changes
                .iter()
                .find(|change| change.0 == c)
                .map_or(row[c], |change| change.1);
            acc * usize::from(self.levels[c]) + usize::from(level)
        });
        self.offsets[s] + local
    }

    /// The subset and the levels (in the subset's factor order) of a tuple index.
    pub(crate) fn decode(&self, tuple: usize, levels: &mut Vec<u16>) -> usize {
        let s = self.offsets.partition_point(|&o| o <= tuple) - 1;
        let mut local = tuple - self.offsets[s];
        levels.clear();
        for &c in self.cols(s).iter().rev() {
            let n = usize::from(self.levels[c as usize]);
            levels.push((local % n) as u16);
            local /= n;
        }
        levels.reverse();
        s
    }

    pub(crate) fn tuple(&self, tuple: usize) -> Tuple {
        let mut levels = Vec::new();
        let s = self.decode(tuple, &mut levels);
        Tuple {
            settings: self
                .cols(s)
                .iter()
                .zip(levels)
                .map(|(&c, level)| Setting::new(c as usize, level))
                .collect(),
        }
    }

    pub(crate) fn infeasible(&self) -> Vec<Tuple> {
        (0..self.len())
            .filter(|&i| !self.feasible[i])
            .map(|i| self.tuple(i))
            .collect()
    }

    /// No plan has fewer rows than the feasible tuples of any one subset, since a row
    /// covers one tuple per subset.
    pub(crate) fn lower_bound(&self) -> usize {
        (0..self.subsets())
            .map(|s| {
                (self.offsets[s]..self.offsets[s + 1])
                    .filter(|&i| self.feasible[i])
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// Marks the tuples that no valid row contains. A subset of factors that no rule reads
    /// has all its tuples feasible (if any row is valid). For the others, each valid row
    /// found for a tuple of unknown status settles every tuple it contains, so few searches
    /// are needed.
    pub(crate) fn mark_infeasible(&mut self, checker: &Checker<'_>) {
        if checker.unconstrained() {
            return;
        }
        let k = self.levels.len();
        let mut relevant = vec![false; k];
        checker.relevant.iter().for_each(|&f| relevant[f] = true);
        let satisfiable = checker.complete(&vec![None; k], &mut |_, _| {}).is_some();
        let mut touched = Vec::new();
        for s in 0..self.subsets() {
            if self.cols(s).iter().any(|&c| relevant[c as usize]) {
                touched.push(s);
            } else {
                self.feasible[self.offsets[s]..self.offsets[s + 1]].fill(satisfiable);
            }
        }
        const UNKNOWN: u8 = 0;
        const FEASIBLE: u8 = 1;
        let mut state = vec![UNKNOWN; self.len()];
        let mut rng = SplitMix64::new(SEARCH_SEED);
        let mut partial = vec![None; k];
        let mut levels = Vec::new();
        for &s in &touched {
            for tuple in self.offsets[s]..self.offsets[s + 1] {
                if state[tuple] != UNKNOWN {
                    continue;
                }
                self.decode(tuple, &mut levels);
                for (&c, &level) in self.cols(s).iter().zip(&levels) {
                    partial[c as usize] = Some(level);
                }
                // Random levels elsewhere make each found row settle many unknown tuples.
                let found = checker
                    .allows(&partial)
                    .then(|| checker.complete(&partial, &mut |_, levels| rng.shuffle(levels)))
                    .flatten();
                match found {
                    Some(row) => {
                        for &s in &touched {
                            state[self.index(s, &row)] = FEASIBLE;
                        }
                    }
                    None => self.feasible[tuple] = false,
                }
                for &c in self.cols(s) {
                    partial[c as usize] = None;
                }
            }
        }
    }
}

/// Rows and how often each tuple is covered, with the set of uncovered feasible tuples.
pub(crate) struct Cover<'u> {
    pub(crate) universe: &'u Universe,
    pub(crate) rows: Vec<Row>,
    /// The first `pinned` rows are never changed or removed.
    pub(crate) pinned: usize,
    pub(crate) count: Vec<u32>,
    /// Uncovered feasible tuples, in no particular order.
    pub(crate) open: Vec<u32>,
    /// Position of each tuple in `open`, or `NOT_OPEN`.
    pub(crate) position: Vec<u32>,
}

pub(crate) const NOT_OPEN: u32 = u32::MAX;

impl<'u> Cover<'u> {
    pub(crate) fn new(universe: &'u Universe, rows: Vec<Row>, pinned: usize) -> Self {
        let n = universe.len();
        // Tuple indices fit in u32 because `MAX_TUPLES` does.
        let open: Vec<u32> = (0..n as u32)
            .filter(|&i| universe.feasible[i as usize])
            .collect();
        let mut position = vec![NOT_OPEN; n];
        for (at, &tuple) in open.iter().enumerate() {
            position[tuple as usize] = at as u32;
        }
        let mut cover = Self {
            universe,
            rows: Vec::with_capacity(rows.len()),
            pinned,
            count: vec![0; n],
            open,
            position,
        };
        for row in rows {
            cover.add_row(row);
        }
        cover
    }

    pub(crate) fn increment(&mut self, tuple: usize) {
        if self.count[tuple] == 0 && self.position[tuple] != NOT_OPEN {
            let at = self.position[tuple] as usize;
            self.open.swap_remove(at);
            if let Some(&moved) = self.open.get(at) {
                self.position[moved as usize] = at as u32;
            }
            self.position[tuple] = NOT_OPEN;
        }
        self.count[tuple] += 1;
    }

    pub(crate) fn decrement(&mut self, tuple: usize) {
        self.count[tuple] -= 1;
        if self.count[tuple] == 0 && self.universe.feasible[tuple] {
            self.position[tuple] = self.open.len() as u32;
            self.open.push(tuple as u32);
        }
    }

    pub(crate) fn add_row(&mut self, row: Row) {
        for s in 0..self.universe.subsets() {
            self.increment(self.universe.index(s, &row));
        }
        self.rows.push(row);
    }

    pub(crate) fn remove_row(&mut self, r: usize) {
        let row = self.rows.swap_remove(r);
        for s in 0..self.universe.subsets() {
            self.decrement(self.universe.index(s, &row));
        }
    }

    /// How many uncovered feasible tuples `row` would cover.
    pub(crate) fn gain(&self, row: &[u16]) -> usize {
        (0..self.universe.subsets())
            .map(|s| self.universe.index(s, row))
            .filter(|&i| self.count[i] == 0 && self.universe.feasible[i])
            .count()
    }

    /// How many tuples only row `r` covers.
    pub(crate) fn unique(&self, r: usize) -> usize {
        (0..self.universe.subsets())
            .filter(|&s| self.count[self.universe.index(s, &self.rows[r])] == 1)
            .count()
    }

    /// Calls `visit(old, new)` once for every subset touched by changing row `r` as
    /// `changes` (distinct factors, each to a level different from the current one) says.
    pub(crate) fn for_each_touched(
        &self,
        r: usize,
        changes: &[(usize, u16)],
        mut visit: impl FnMut(usize, usize),
    ) {
        let universe = self.universe;
        let row = &self.rows[r];
        for (i, &(c, _)) in changes.iter().enumerate() {
            for &s in &universe.by_col[c] {
                let s = s as usize;
                let cols = universe.cols(s);
                // A subset holding an earlier changed factor was visited already.
                if changes[..i]
                    .iter()
                    .any(|change| cols.contains(&(change.0 as u32)))
                {
                    continue;
                }
                visit(universe.index(s, row), universe.index_with(s, row, changes));
            }
        }
    }

    /// The change in the number of uncovered feasible tuples if row `r` changed.
    pub(crate) fn delta(&self, r: usize, changes: &[(usize, u16)]) -> i64 {
        let mut delta = 0;
        self.for_each_touched(r, changes, |old, new| {
            if self.count[old] == 1 && self.universe.feasible[old] {
                delta += 1;
            }
            if self.count[new] == 0 && self.universe.feasible[new] {
                delta -= 1;
            }
        });
        delta
    }

    pub(crate) fn apply(&mut self, r: usize, changes: &[(usize, u16)]) {
        let mut touched = Vec::new();
        self.for_each_touched(r, changes, |old, new| touched.push((old, new)));
        for (old, new) in touched {
            self.decrement(old);
            self.increment(new);
        }
        for &(c, level) in changes {
            self.rows[r][c] = level;
        }
    }
}
