//! Reed–Solomon orthogonal arrays over GF(q): `q^t` rows covering every `t`-tuple
//! exactly once for up to `q + 1` factors of at most `q` levels.

use super::Row;
use std::collections::HashSet;

/// The finite field GF(q) for a prime power `q`, as addition and multiplication tables.
pub(crate) struct Field {
    pub(crate) q: usize,
    pub(crate) add: Vec<u16>,
    pub(crate) mul: Vec<u16>,
}

impl Field {
    pub(crate) fn new(q: usize) -> Option<Self> {
        let (p, m) = prime_power(q)?;
        // Elements are polynomials of degree < m over GF(p), digit i of the base-p number
        // being the coefficient of x^i; multiplication is modulo a monic irreducible `modulus`.
        let digits = |mut e: usize| -> Vec<usize> {
            (0..m)
                .map(|_| {
                    let d = e % p;
                    e /= p;
                    d
                })
                .collect()
        };
        let number = |poly: &[usize]| poly.iter().rev().fold(0, |acc, &d| acc * p + d);
        let modulus = (0..q)
            .map(|low| {
                let mut poly = digits(low);
                poly.push(1);
                poly
            })
            .find(|f| is_irreducible(f, p))?;
        let mut add = vec![0u16; q * q];
        let mut mul = vec![0u16; q * q];
        for a in 0..q {
            let da = digits(a);
            for b in 0..q {
                let db = digits(b);
                let sum: Vec<usize> = da.iter().zip(&db).map(|(x, y)| (x + y) % p).collect();
                let mut product = vec![0; 2 * m];
                for (i, x) in da.iter().enumerate() {
                    for (j, y) in db.iter().enumerate() {
                        product[i + j] = (product[i + j] + x * y) % p;
                    }
                }
                poly_reduce(&mut product, &modulus, p);
                add[a * q + b] = u16::try_from(number(&sum)).ok()?;
                mul[a * q + b] = u16::try_from(number(&product[..m])).ok()?;
            }
        }
        Some(Self { q, add, mul })
    }

    pub(crate) fn add(&self, a: u16, b: u16) -> u16 {
        self.add[usize::from(a) * self.q + usize::from(b)]
    }

    pub(crate) fn mul(&self, a: u16, b: u16) -> u16 {
        self.mul[usize::from(a) * self.q + usize::from(b)]
    }
}

/// `(p, m)` with `q = p^m` for a prime `p`, or `None` when `q` is not a prime power.
pub(crate) fn prime_power(q: usize) -> Option<(usize, usize)> {
    let p = (2..=q).find(|p| q.is_multiple_of(*p))?;
    let mut m = 0;
    let mut rest = q;
    while rest.is_multiple_of(p) {
        rest /= p;
        m += 1;
    }
    (rest == 1).then_some((p, m))
}

/// Replaces `poly` (coefficients low first) by its remainder modulo the monic `modulus`.
pub(crate) fn poly_reduce(poly: &mut [usize], modulus: &[usize], p: usize) {
    let m = modulus.len() - 1;
    for top in (m..poly.len()).rev() {
        let c = poly[top];
        if c != 0 {
            for (i, &coefficient) in modulus.iter().enumerate() {
                let at = top - m + i;
                poly[at] = (poly[at] + (p - c) * coefficient) % p;
            }
        }
    }
}

/// Whether the monic `f` (coefficients low first) has no monic factor of degree 1..=deg/2.
pub(crate) fn is_irreducible(f: &[usize], p: usize) -> bool {
    let m = f.len() - 1;
    (1..=m / 2).all(|d| {
        (0..p.pow(d as u32)).all(|low| {
            let mut divisor: Vec<usize> = (0..d)
                .scan(low, |rest, _| {
                    let digit = *rest % p;
                    *rest /= p;
                    Some(digit)
                })
                .collect();
            divisor.push(1);
            let mut remainder = f.to_vec();
            poly_reduce(&mut remainder, &divisor, p);
            remainder[..d].iter().any(|&c| c != 0)
        })
    })
}

/// The Reed–Solomon orthogonal array of strength `t` collapsed onto `levels`, with its first
/// row equal to `first`, or `None` when no small field fits.
///
/// Over GF(q) with `q >= t` and `k <= q + 1` factors, the rows are the `q^t` polynomials
/// `f` of degree `< t`; column `j < q` holds `f(x_j)` for the `j`-th field element and
/// column `q` the coefficient of `x^(t-1)`. Any `t` columns determine `f` (Lagrange
/// interpolation; with column `q`, interpolate `f - c x^(t-1)` at `t - 1` points), so every
/// `t`-tuple of field elements appears exactly once. Mapping each column's symbols onto the
/// factor's levels by any surjection keeps every tuple of levels present, and permuting a
/// column's symbols keeps the array orthogonal, which places `first` on the zero polynomial.
pub(crate) fn rs_rows(levels: &[u16], t: usize, first: Option<&Row>) -> Option<Vec<Row>> {
    let k = levels.len();
    let widest = usize::from(levels.iter().copied().max()?);
    let need = widest.max(t).max(k.saturating_sub(1)).max(2);
    let q = (need..=256).find(|&q| prime_power(q).is_some())?;
    let size = u32::try_from(t).ok().and_then(|t| q.checked_pow(t))?;
    if size > 1 << 16 {
        return None;
    }
    let field = Field::new(q)?;
    let mut rows = Vec::with_capacity(size);
    let mut coefficients = vec![0u16; t];
    for code in 0..size {
        let mut rest = code;
        for c in &mut coefficients {
            *c = u16::try_from(rest % q).ok()?;
            rest /= q;
        }
        let row: Row = (0..k)
            .map(|j| {
                let symbol = if j < q {
                    let x = j as u16;
                    coefficients
                        .iter()
                        .rev()
                        .fold(0, |acc, &c| field.add(field.mul(acc, x), c))
                } else {
                    coefficients[t - 1]
                };
                let symbol = match first {
                    Some(first) if symbol == 0 => first[j],
                    Some(first) if symbol == first[j] => 0,
                    _ => symbol,
                };
                symbol % levels[j]
            })
            .collect();
        rows.push(row);
    }
    let mut seen = HashSet::new();
    rows.retain(|row| seen.insert(row.clone()));
    Some(rows)
}
