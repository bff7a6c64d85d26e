//! Kleitman–Spencer: the optimal pairwise covering array of boolean factors, built
//! directly from the `w`-subsets of the rows.

use super::Row;
use super::binomial;

/// The number of rows of an optimal pairwise covering array of `k` boolean factors: the least
/// `N` with `C(N - 1, ceil(N / 2)) >= k` (Kleitman and Spencer, 1973; Katona, 1973).
///
/// [`generate`](super::generate) reaches exactly this size for unconstrained boolean flags with at most one
/// pinned row. The function is meant for `k >= 2`; it returns 2 for `k = 1` and 1 for `k = 0`.
///
/// ```
/// use flags_test::cover::kleitman_spencer_rows;
///
/// assert_eq!(kleitman_spencer_rows(10), 6);
/// assert_eq!(kleitman_spencer_rows(1000), 14);
/// ```
pub fn kleitman_spencer_rows(k: usize) -> usize {
    let k = k as u128;
    let mut n = 1usize;
    while binomial(n - 1, n.div_ceil(2)) < k {
        n += 1;
    }
    n
}

/// The Kleitman–Spencer pairwise covering array for `k` boolean factors, with its first row
/// equal to `first` (all zeros by default).
///
/// Let `N = kleitman_spencer_rows(k)` and `w = ceil(N / 2)`. Column `j` is the indicator
/// vector of the `j`-th `w`-subset of rows `{1, .., N-1}` (row 0 is all zeros). There are
/// `C(N-1, w) >= k` such subsets, so the columns are distinct. Every two columns `A != B`
/// cover all four pairs:
/// - `00` in row 0, where every column is 0;
/// - `10` and `01`: `A` and `B` are distinct sets of the same size `w`, so neither contains
///   the other; a row in `A \ B` reads `10`, a row in `B \ A` reads `01`;
/// - `11`: `|A| + |B| = 2w >= N > N - 1`, so two `w`-subsets of an `(N-1)`-set intersect,
///   and a row in `A ∩ B` reads `11`.
///
/// Flipping both levels of a column keeps every pair of columns covering all four pairs, so
/// flipping the columns where `first` is 1 makes row 0 equal to `first`.
pub(crate) fn ks_rows(k: usize, first: Option<&Row>) -> Vec<Row> {
    let n = kleitman_spencer_rows(k);
    let w = n.div_ceil(2);
    let mut rows = vec![vec![0u16; k]; n];
    let mut subset: Vec<usize> = (1..=w).collect();
    let mut columns = Vec::with_capacity(k);
    while columns.len() < k {
        columns.push(subset.clone());
        // Next w-subset of {1, .., n-1} in lexicographic order.
        if let Some(i) = (0..w).rev().find(|&i| subset[i] < n - w + i) {
            subset[i] += 1;
            for j in i + 1..w {
                subset[j] = subset[j - 1] + 1;
            }
        }
    }
    for (col, ones) in columns.iter().enumerate() {
        for &r in ones {
            rows[r][col] = 1;
        }
    }
    if let Some(first) = first {
        for row in &mut rows {
            for (value, flip) in row.iter_mut().zip(first) {
                *value ^= flip;
            }
        }
    }
    rows
}
