//! The numerical pieces of the decision tests: normal and Student-t tail quantiles, and
//! one-sided confidence bounds for a binomial proportion from the Chernoff inequality.
//! Everything is computed from first principles (series, continued fractions,
//! bisection) so the crate needs no numerics dependency; accuracy is checked against
//! published table values in the tests below.

use std::f64::consts::{PI, SQRT_2};

/// Complementary error function, to about 1e-14 relative accuracy.
///
/// Below 2.5 it is `1 - erf(x)` with erf from its Maclaurin series (terms stay small
/// enough there that cancellation costs at most two digits); from 2.5 on it is the
/// Laplace continued fraction `erfc x = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))`,
/// evaluated bottom-up with enough terms to converge at x = 2.5.
pub(crate) fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 2.5 {
        let x2 = x * x;
        let mut term = x; // (-1)^n x^(2n+1) / n!
        let mut sum = x;
        let mut n = 0.0;
        loop {
            n += 1.0;
            term *= -x2 / n;
            let add = term / (2.0 * n + 1.0);
            sum += add;
            if add.abs() <= 1e-17 * sum.abs() || n > 200.0 {
                break;
            }
        }
        return 1.0 - 2.0 / PI.sqrt() * sum;
    }
    if x > 27.0 {
        return 0.0; // below the smallest positive f64
    }
    let mut t = x;
    for k in (1..=160).rev() {
        t = x + (f64::from(k) / 2.0) / t;
    }
    (-x * x).exp() / PI.sqrt() / t
}

/// `P(Z > z)` for a standard normal `Z`.
pub(crate) fn normal_upper_tail(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// The `z` with `P(Z > z) = alpha`, for `alpha` in (0, 1).
pub(crate) fn normal_upper_quantile(alpha: f64) -> f64 {
    if alpha >= 0.5 {
        return if alpha == 0.5 {
            0.0
        } else {
            -normal_upper_quantile(1.0 - alpha)
        };
    }
    // Q(38) is about 3e-316: any alpha a decision can use lies inside [0, 38].
    bisect(0.0, 38.0, |z| normal_upper_tail(z) > alpha)
}

/// Finds the boundary between `go_right` being true (left part) and false (right part)
/// in `[lo, hi]` to the last bit of precision.
fn bisect(mut lo: f64, mut hi: f64, go_right: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if go_right(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `ln Γ(x)` for `x > 0`: Stirling's series from 20 on, the recurrence
/// `Γ(x) = Γ(x+1)/x` below.
pub(crate) fn ln_gamma(x: f64) -> f64 {
    let mut shift = 0.0;
    let mut x = x;
    while x < 20.0 {
        shift += x.ln();
        x += 1.0;
    }
    let x2 = x * x;
    let series = 1.0 / (12.0 * x) - 1.0 / (360.0 * x * x2) + 1.0 / (1260.0 * x * x2 * x2)
        - 1.0 / (1680.0 * x * x2 * x2 * x2);
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + series - shift
}

/// The regularized incomplete beta function `I_x(a, b)`, from its continued fraction
/// (evaluated with the modified Lentz method) on the side of the mean where it
/// converges fast, and the symmetry `I_x(a, b) = 1 - I_(1-x)(b, a)` on the other.
pub(crate) fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - inc_beta(1.0 - x, b, a);
    }
    let ln_front = a * x.ln() + b * (-x).ln_1p() - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    const TINY: f64 = 1e-300;
    let mut f = 1.0;
    let mut c = 1.0;
    let mut d = 0.0;
    for i in 0..10_000u32 {
        let m = f64::from(i / 2);
        let coeff = if i == 0 {
            1.0
        } else if i % 2 == 0 {
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m))
        } else {
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
        };
        d = 1.0 + coeff * d;
        if d.abs() < TINY {
            d = TINY;
        }
        d = 1.0 / d;
        c = 1.0 + coeff / c;
        if c.abs() < TINY {
            c = TINY;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() < 1e-14 {
            break;
        }
    }
    // With coefficient 1 first, f = 1/(1 + d1/(1 + d2/…)) · (the leading 1): divide out.
    ln_front.exp() * (f - 1.0) / a
}

/// `P(T > t)` for Student's t with `df` degrees of freedom, `t >= 0`.
pub(crate) fn student_upper_tail(t: f64, df: f64) -> f64 {
    0.5 * inc_beta(df / (df + t * t), df / 2.0, 0.5)
}

/// The `t` with `P(T > t) = alpha` for Student's t with `df` degrees of freedom.
///
/// From 100 degrees of freedom on it is the Cornish–Fisher expansion around the normal
/// quantile (Abramowitz & Stegun 26.7.5, four terms, error far below 1e-4 there);
/// below, the exact tail is inverted by bisection.
pub(crate) fn student_upper_quantile(alpha: f64, df: f64) -> f64 {
    if alpha >= 0.5 {
        return if alpha == 0.5 {
            0.0
        } else {
            -student_upper_quantile(1.0 - alpha, df)
        };
    }
    if df >= 100.0 {
        let z = normal_upper_quantile(alpha);
        let (z2, z3) = (z * z, z * z * z);
        let (z5, z7, z9) = (z3 * z2, z3 * z2 * z2, z3 * z3 * z3);
        let g1 = (z3 + z) / 4.0;
        let g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
        let g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
        let g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92_160.0;
        return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
    }
    let df = df.max(1.0);
    let mut hi = 1.0;
    while student_upper_tail(hi, df) > alpha && hi < 1e300 {
        hi *= 2.0;
    }
    bisect(0.0, hi, |t| student_upper_tail(t, df) > alpha)
}

/// Kullback–Leibler divergence between Bernoulli(p) and Bernoulli(q).
pub(crate) fn kl_bernoulli(p: f64, q: f64) -> f64 {
    let a = if p > 0.0 { p * (p / q).ln() } else { 0.0 };
    let b = if p < 1.0 {
        (1.0 - p) * ((-p).ln_1p() - (-q).ln_1p())
    } else {
        0.0
    };
    a + b
}

/// A lower confidence bound `L` for a binomial proportion after `k` successes in `n`
/// trials: `P(L > p) <= alpha` for every true `p`.
///
/// From the Chernoff bound `P(p̂ >= q) <= exp(-n·KL(q‖p))` for `q >= p`: `L` is the
/// smallest `p <= p̂` with `n·KL(p̂‖p) <= ln(1/alpha)`. The bound holds for every `n`,
/// with no normal approximation, which matters when errors are rare.
pub(crate) fn binomial_lower_bound(k: u64, n: u64, alpha: f64) -> f64 {
    if n == 0 || k == 0 {
        return 0.0;
    }
    let p = k.min(n) as f64 / n as f64;
    let c = (1.0 / alpha).ln() / n as f64;
    // KL(p‖q) falls as q rises towards p: the left part exceeds c.
    let l = bisect(0.0, p, |q| kl_bernoulli(p, q) > c);
    // Round towards the safe side of the bisection interval's width.
    (l - 1e-15).max(0.0)
}

/// An upper confidence bound `U` for a binomial proportion after `k` successes in `n`
/// trials: `P(U < p) <= alpha` (the mirror image of [`binomial_lower_bound`]).
pub(crate) fn binomial_upper_bound(k: u64, n: u64, alpha: f64) -> f64 {
    if n == 0 || k >= n {
        return 1.0;
    }
    let p = k as f64 / n as f64;
    let c = (1.0 / alpha).ln() / n as f64;
    let u = bisect(p, 1.0, |q| kl_bernoulli(p, q) <= c);
    (u + 1e-15).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn erfc_matches_reference_values() {
        // Reference values to 16 digits (erfc is tabulated in A&S 7.1 and DLMF 7).
        let table = [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_1),
            (2.0, 0.004_677_734_981_047_266),
            (2.5, 4.069_520_174_449_59e-4),
            (3.0, 2.209_049_699_858_544e-5),
            (4.0, 1.541_725_790_028_002e-8),
            (6.0, 2.151_973_671_249_892e-17),
            (-1.0, 1.842_700_792_949_715),
        ];
        for (x, want) in table {
            let got = erfc(x);
            assert!(close(got, want, 1e-12), "erfc({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn normal_quantiles() {
        let table = [
            (0.05, 1.644_853_626_951_472),
            (0.025, 1.959_963_984_540_054),
            (0.01, 2.326_347_874_040_841),
            (1e-5, 4.264_890_793_922_825),
            (1e-9, 5.997_807_015_007_686),
            (0.9, -1.281_551_565_544_601),
        ];
        for (a, want) in table {
            let got = normal_upper_quantile(a);
            assert!(close(got, want, 1e-10), "z({a}) = {got}, want {want}");
        }
    }

    #[test]
    fn ln_gamma_values() {
        assert!(close(ln_gamma(0.5), 0.572_364_942_924_700_1, 1e-13));
        assert!(ln_gamma(1.0).abs() < 1e-13);
        assert!(close(ln_gamma(10.0), 12.801_827_480_081_469, 1e-13));
        assert!(close(ln_gamma(123.4), 469.336_097_442_190_6, 1e-12));
    }

    #[test]
    fn student_tail_is_exact_for_one_degree() {
        // With one degree of freedom t is Cauchy: P(T > t) = 1/2 - atan(t)/π.
        for t in [0.1f64, 1.0, 3.0, 50.0] {
            let want = 0.5 - t.atan() / PI;
            assert!(close(student_upper_tail(t, 1.0), want, 1e-11), "t={t}");
        }
    }

    #[test]
    fn student_quantiles_match_tables() {
        let table = [
            (0.05, 1.0, 6.313_751_514_675_04),
            (0.025, 10.0, 2.228_138_851_986_274),
            (0.005, 5.0, 4.032_142_983_555_228),
            (0.001, 30.0, 3.385_184_866_829_305),
            (0.0005, 99.0, 3.391_528_833_363_651),
            (0.001, 100.0, 3.173_739_493_738_783),
            (0.025, 1000.0, 1.962_339_080_826_409),
        ];
        for (a, df, want) in table {
            let got = student_upper_quantile(a, df);
            assert!(close(got, want, 1e-6), "t({a}, {df}) = {got}, want {want}");
        }
    }

    #[test]
    fn cornish_fisher_joins_the_exact_quantile() {
        // Just below and at the switch the two methods must agree closely, including
        // far out in the tail where decisions are made.
        for a in [1e-2, 1e-4, 1e-6, 1e-8] {
            let exact = student_upper_quantile(a, 99.999);
            let approx = student_upper_quantile(a, 100.0);
            assert!(close(approx, exact, 1e-4), "alpha {a}: {approx} vs {exact}");
        }
    }

    /// Binomial probability mass, computed in logs.
    fn pmf(k: u64, n: u64, p: f64) -> f64 {
        let (k, n) = (k as f64, n as f64);
        (ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
            + k * p.ln()
            + (n - k) * (-p).ln_1p())
        .exp()
    }

    #[test]
    fn chernoff_bounds_cover_exactly() {
        // The exact probability that a bound misses the true p, summed over every
        // outcome, must not exceed alpha, for small and large n and rare and common p.
        for &(n, p) in &[
            (50u64, 0.01),
            (200, 0.01),
            (1000, 0.05),
            (300, 0.5),
            (2000, 0.002),
        ] {
            for alpha in [0.05, 1e-3] {
                let mut miss_low = 0.0;
                let mut miss_high = 0.0;
                for k in 0..=n {
                    let pr = pmf(k, n, p);
                    if binomial_lower_bound(k, n, alpha) > p {
                        miss_low += pr;
                    }
                    if binomial_upper_bound(k, n, alpha) < p {
                        miss_high += pr;
                    }
                }
                assert!(miss_low <= alpha, "lower n={n} p={p} α={alpha}: {miss_low}");
                assert!(
                    miss_high <= alpha,
                    "upper n={n} p={p} α={alpha}: {miss_high}"
                );
            }
        }
    }

    #[test]
    fn chernoff_bounds_tighten_with_data() {
        let wide = binomial_lower_bound(5, 100, 1e-3);
        let narrow = binomial_lower_bound(500, 10_000, 1e-3);
        assert!(wide < narrow && narrow < 0.05, "{wide} {narrow}");
        assert_eq!(binomial_lower_bound(0, 100, 0.01), 0.0);
        assert_eq!(binomial_upper_bound(100, 100, 0.01), 1.0);
        let u = binomial_upper_bound(0, 1000, 0.01);
        // n·KL(0‖u) = -n·ln(1-u) = ln(100)
        assert!(close(u, 1.0 - (-(100f64.ln()) / 1000.0).exp(), 1e-9), "{u}");
    }
}
