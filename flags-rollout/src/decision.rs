//! The decision tests: whether a stage's window of metrics shows a real degradation,
//! as opposed to noise.
//!
//! # The rule
//!
//! Every configured criterion of a [`RolloutPlan`] is a one-sided test of "the
//! treatment is within the limit" against "it is worse". A check is *breached* when a
//! lower confidence bound on the treatment's metric lies above the limit; the stage then
//! rolls back. A stage advances only when its soak time has passed, both sides have
//! `min_samples` outcomes, and the check made at that moment finds no breach.
//!
//! | criterion                 | metric                   | lower bound used |
//! |---------------------------|--------------------------|------------------|
//! | `max_error_rate`          | treatment error rate     | Chernoff (KL) lower bound on a binomial proportion at level α |
//! | `max_error_rate_increase` | treatment − control rate | Chernoff lower bound of the treatment minus Chernoff upper bound of the control, each at α/2 |
//! | `max_latency_ms`          | treatment mean latency   | one-sample Student t lower bound at α |
//! | `max_latency_ratio`       | treatment / control mean | Welch's t test of μt − r·μc ≤ 0 at α (the ratio's lower bound, Fieller-style, is reported) |
//!
//! The Chernoff bound `P(p̂ ≥ q) ≤ exp(−n·KL(q‖p))` holds for every sample size, so the
//! error-rate checks need no normal approximation; that matters because errors are
//! rare and the treatment's sample at a 1% stage is small. The difference check is valid
//! by the union bound: if the treatment's lower bound and the control's upper bound both
//! hold (probability at least 1 − α), the bound on the difference holds.
//!
//! The latency checks rely on the central limit theorem (Welch's t, Welch–Satterthwaite
//! degrees of freedom, exact Student quantiles below 100 degrees of freedom). Latency is
//! skewed to the right, and a studentised mean of right-skewed data has a lighter upper
//! and a heavier lower tail than Student's t: the test is conservative while the
//! treatment is the smaller group (stages below 50%) and somewhat liberal when the
//! control is (stages above 50%). In simulation with exponential latencies (skewness 2)
//! and 600 to 1,900 requests per side, first looks at 50% and 75% rejected about twice
//! as often as their nominal level, and whole A/A rollouts still stayed within the
//! budget (`tests/simulation.rs` has the numbers). Keep `min_samples` in the hundreds
//! when latency criteria are set.
//!
//! # Repeated looks
//!
//! A controller looks at a stage many times. Each look spends part of the error budget
//! `α = 1 − confidence`, which covers the whole rollout: it is split evenly over the
//! plan's stages and its configured criteria, and within a stage the `k`-th look is
//! tested at
//!
//! ```text
//! α_k = α / (stages · criteria) · 6 / (π² k²)
//! ```
//!
//! Since `Σ 6/(π² k²) = 1`, the union bound gives: **when the treatment is no worse than
//! the limits, the chance that the rollout is ever rolled back, at any stage and any
//! number of looks, is at most `1 − confidence`.** The bound is conservative (looks are
//! strongly correlated), which the simulations in `tests/simulation.rs` confirm. Because
//! later looks get a smaller share, the controller looks only when the sample has grown
//! by a factor (1.5 by default) since the previous look, and once more when the soak
//! ends; a stage then sees about `log(n_final / min_samples) / log 1.5` looks.
//!
//! At a 100% stage there is no control group: comparative criteria are not checked
//! there and only the treatment needs `min_samples`.

use std::f64::consts::PI;

use flags_manifest::RolloutPlan;
use serde::{Deserialize, Serialize};

use crate::metrics::{Metrics, SideMetrics};
use crate::stats;

/// The threshold a check tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Criterion {
    /// `max_error_rate`: the treatment's error rate, absolute.
    ErrorRate,
    /// `max_error_rate_increase`: treatment minus control error rate.
    ErrorRateIncrease,
    /// `max_latency_ms`: the treatment's mean latency.
    LatencyMs,
    /// `max_latency_ratio`: treatment mean latency over control mean latency.
    LatencyRatio,
}

impl Criterion {
    /// The key that sets it in `[flags.NAME.rollout]`.
    ///
    /// ```
    /// use flags_rollout::Criterion;
    /// assert_eq!(Criterion::LatencyRatio.manifest_key(), "max_latency_ratio");
    /// ```
    pub fn manifest_key(self) -> &'static str {
        match self {
            Criterion::ErrorRate => "max_error_rate",
            Criterion::ErrorRateIncrease => "max_error_rate_increase",
            Criterion::LatencyMs => "max_latency_ms",
            Criterion::LatencyRatio => "max_latency_ratio",
        }
    }

    /// Whether it compares treatment with control (and so needs a control group).
    pub fn is_comparative(self) -> bool {
        matches!(self, Criterion::ErrorRateIncrease | Criterion::LatencyRatio)
    }
}

/// The outcome of one check at one look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was tested.
    pub criterion: Criterion,
    /// The configured limit (a rate, a rate difference, milliseconds or a ratio).
    pub limit: f64,
    /// The observed value of the metric in the window.
    pub estimate: f64,
    /// A lower confidence bound on the metric at this look's level.
    pub lower_bound: f64,
    /// Whether the metric is significantly above the limit.
    pub breached: bool,
}

impl Check {
    /// One sentence for logs, alerts and the audit trail.
    ///
    /// ```
    /// use flags_rollout::{Check, Criterion};
    /// let c = Check { criterion: Criterion::ErrorRate, limit: 0.02, estimate: 0.05,
    ///                 lower_bound: 0.031, breached: true };
    /// assert_eq!(c.describe(),
    ///     "error rate 5.00% (at least 3.10%) is above the limit of 2.00%");
    /// ```
    pub fn describe(&self) -> String {
        let verdict = if self.breached {
            "is above"
        } else {
            "is within"
        };
        match self.criterion {
            Criterion::ErrorRate => format!(
                "error rate {:.2}% (at least {:.2}%) {verdict} the limit of {:.2}%",
                self.estimate * 100.0,
                self.lower_bound * 100.0,
                self.limit * 100.0
            ),
            Criterion::ErrorRateIncrease => format!(
                "error rate increase {:+.2} pp (at least {:+.2} pp) {verdict} the limit of {:+.2} pp",
                self.estimate * 100.0,
                self.lower_bound * 100.0,
                self.limit * 100.0
            ),
            Criterion::LatencyMs => format!(
                "mean latency {:.1} ms (at least {:.1} ms) {verdict} the limit of {:.1} ms",
                self.estimate, self.lower_bound, self.limit
            ),
            Criterion::LatencyRatio => format!(
                "latency ratio {:.3} (at least {:.3}) {verdict} the limit of {:.3}",
                self.estimate, self.lower_bound, self.limit
            ),
        }
    }
}

/// What one side looked like in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SideSummary {
    /// Outcomes counted.
    pub samples: u64,
    /// Errors counted.
    pub errors: u64,
    /// Error rate (0 without samples).
    pub error_rate: f64,
    /// Mean latency in milliseconds (0 without samples).
    pub mean_latency_ms: f64,
}

impl SideSummary {
    /// The summary of `m`.
    pub fn of(m: &SideMetrics) -> SideSummary {
        SideSummary {
            samples: m.samples(),
            errors: m.errors(),
            error_rate: m.error_rate().unwrap_or(0.0),
            mean_latency_ms: m.mean_latency_ms().unwrap_or(0.0),
        }
    }
}

/// Everything one look saw and concluded: kept with every automatic decision so that a
/// rollback can be explained afterwards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Stage index looked at.
    pub stage: usize,
    /// Its exposure.
    pub percent: u8,
    /// Which look of the stage this was (1-based).
    pub look: u32,
    /// The significance level of each check at this look.
    pub alpha: f64,
    /// The treatment in the stage's window.
    pub treatment: SideSummary,
    /// The control in the stage's window.
    pub control: SideSummary,
    /// Every check made (comparative ones are skipped at 100%).
    pub checks: Vec<Check>,
}

impl Evidence {
    /// The first breached check, if any.
    pub fn breach(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.breached)
    }

    /// A one-line account: the window and every check.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "look {} at {}%: treatment {} req, {} err, {:.1} ms; control {} req, {} err, {:.1} ms; α={:.2e}",
            self.look,
            self.percent,
            self.treatment.samples,
            self.treatment.errors,
            self.treatment.mean_latency_ms,
            self.control.samples,
            self.control.errors,
            self.control.mean_latency_ms,
            self.alpha
        );
        for c in &self.checks {
            s.push_str("; ");
            s.push_str(&c.describe());
        }
        s
    }
}

/// The configured criteria of a plan, in a fixed order.
pub fn criteria_of(plan: &RolloutPlan) -> Vec<(Criterion, f64)> {
    let c = &plan.criteria;
    [
        (Criterion::ErrorRate, c.max_error_rate),
        (Criterion::ErrorRateIncrease, c.max_error_rate_increase),
        (Criterion::LatencyMs, c.max_latency_ms),
        (Criterion::LatencyRatio, c.max_latency_ratio),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// The significance level of each check at the `look`-th look (1-based) of a stage:
/// `(1 − confidence) / (stages · criteria) · 6 / (π² look²)`.
///
/// ```
/// use flags_manifest::{Criteria, RolloutPlan};
/// use std::time::Duration;
/// let plan = RolloutPlan { stages: vec![1, 5, 25, 50], soak: Duration::from_secs(600),
///     min_samples: 100, criteria: Criteria::default() }; // one criterion, 0.99
/// let a1 = flags_rollout::look_alpha(&plan, 1);
/// assert!((a1 - 0.01 / 4.0 * 6.0 / (std::f64::consts::PI.powi(2))).abs() < 1e-15);
/// assert!((flags_rollout::look_alpha(&plan, 2) - a1 / 4.0).abs() < 1e-15);
/// ```
pub fn look_alpha(plan: &RolloutPlan, look: u32) -> f64 {
    let alpha = 1.0 - plan.criteria.confidence;
    let stages = plan.stages.len().max(1) as f64;
    let criteria = criteria_of(plan).len().max(1) as f64;
    let k = f64::from(look.max(1));
    alpha / (stages * criteria) * 6.0 / (PI * PI * k * k)
}

/// Checks that a plan can drive a rollout; returns what is wrong otherwise.
///
/// ```
/// use flags_manifest::{Criteria, RolloutPlan};
/// use std::time::Duration;
/// let mut plan = RolloutPlan { stages: vec![1, 10, 100], soak: Duration::from_secs(60),
///     min_samples: 50, criteria: Criteria::default() };
/// assert!(flags_rollout::validate_plan(&plan).is_ok());
/// plan.stages = vec![10, 5];
/// assert!(flags_rollout::validate_plan(&plan).is_err());
/// ```
pub fn validate_plan(plan: &RolloutPlan) -> Result<(), String> {
    if plan.stages.is_empty() {
        return Err("the plan has no stages".to_owned());
    }
    let mut prev = 0u8;
    for &p in &plan.stages {
        if p == 0 || p > 100 || p <= prev {
            return Err(format!(
                "stages {:?} are not increasing percentages from 1 to 100",
                plan.stages
            ));
        }
        prev = p;
    }
    let conf = plan.criteria.confidence;
    if !(0.5..1.0).contains(&conf) {
        return Err(format!("confidence {conf} is not in [0.5, 1)"));
    }
    for (k, v) in criteria_of(plan) {
        if !v.is_finite() || v < 0.0 {
            return Err(format!(
                "`{}` = {v} is not a non-negative number",
                k.manifest_key()
            ));
        }
    }
    Ok(())
}

/// Runs every configured check of `plan` on a stage's `window` at look `look`.
///
/// Checks that lack data (a latency check with fewer than two samples, a comparative
/// check at 100% or without control samples) are left out rather than guessed.
pub fn evaluate(plan: &RolloutPlan, stage: usize, window: &Metrics, look: u32) -> Evidence {
    let percent = plan.stages.get(stage).copied().unwrap_or(100);
    let alpha = look_alpha(plan, look);
    let (t, c) = (&window.treatment, &window.control);
    let with_control = percent < 100 && c.samples() > 0;
    let mut checks = Vec::new();
    for (criterion, limit) in criteria_of(plan) {
        if criterion.is_comparative() && !with_control {
            continue;
        }
        let check = match criterion {
            Criterion::ErrorRate => error_rate(t, limit, alpha),
            Criterion::ErrorRateIncrease => error_increase(t, c, limit, alpha),
            Criterion::LatencyMs => latency_ms(t, limit, alpha),
            Criterion::LatencyRatio => latency_ratio(t, c, limit, alpha),
        };
        if let Some(check) = check {
            checks.push(check);
        }
    }
    Evidence {
        stage,
        percent,
        look,
        alpha,
        treatment: SideSummary::of(t),
        control: SideSummary::of(c),
        checks,
    }
}

/// Keeps serialized numbers finite (JSON has no infinity).
fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

fn error_rate(t: &SideMetrics, limit: f64, alpha: f64) -> Option<Check> {
    let n = t.samples();
    if n == 0 {
        return None;
    }
    let lower = stats::binomial_lower_bound(t.errors(), n, alpha);
    Some(Check {
        criterion: Criterion::ErrorRate,
        limit,
        estimate: t.error_rate().unwrap_or(0.0),
        lower_bound: lower,
        breached: lower > limit,
    })
}

fn error_increase(t: &SideMetrics, c: &SideMetrics, limit: f64, alpha: f64) -> Option<Check> {
    if t.samples() == 0 || c.samples() == 0 {
        return None;
    }
    let lt = stats::binomial_lower_bound(t.errors(), t.samples(), alpha / 2.0);
    let uc = stats::binomial_upper_bound(c.errors(), c.samples(), alpha / 2.0);
    let lower = lt - uc;
    Some(Check {
        criterion: Criterion::ErrorRateIncrease,
        limit,
        estimate: t.error_rate().unwrap_or(0.0) - c.error_rate().unwrap_or(0.0),
        lower_bound: lower,
        breached: lower > limit,
    })
}

/// Mean and variance in ms, with at least two samples.
fn moments(m: &SideMetrics) -> Option<(f64, f64, f64)> {
    Some((
        m.samples() as f64,
        m.mean_latency_ms()?,
        m.latency_variance_ms2()?,
    ))
}

fn latency_ms(t: &SideMetrics, limit: f64, alpha: f64) -> Option<Check> {
    let (n, mean, var) = moments(t)?;
    let q = stats::student_upper_quantile(alpha, n - 1.0);
    let lower = mean - q * (var / n).sqrt();
    Some(Check {
        criterion: Criterion::LatencyMs,
        limit,
        estimate: mean,
        lower_bound: finite(lower),
        breached: lower > limit,
    })
}

fn latency_ratio(t: &SideMetrics, c: &SideMetrics, limit: f64, alpha: f64) -> Option<Check> {
    let (nt, mt, vart) = moments(t)?;
    let (nc, mc, varc) = moments(c)?;
    let vt = vart / nt;
    let vc1 = varc / nc; // variance of the control mean; scaled by r² below
    // Welch–Satterthwaite degrees of freedom of μt − r·μc at the limit r.
    let vc = limit * limit * vc1;
    let df = if vt + vc > 0.0 {
        (vt + vc).powi(2) / (vt * vt / (nt - 1.0) + vc * vc / (nc - 1.0))
    } else {
        nt + nc - 2.0
    };
    let q = stats::student_upper_quantile(alpha, df);
    // g(r) > 0 means μt − r·μc is significantly above 0. g falls as r rises, so the
    // check at the limit is g(limit) > 0 and the ratio's lower bound is g's root.
    let g = |r: f64| mt - r * mc - q * (vt + r * r * vc1).sqrt();
    let breached = g(limit) > 0.0;
    let lower = if g(0.0) <= 0.0 {
        0.0
    } else {
        let mut hi = 1.0;
        while g(hi) > 0.0 && hi < 1e12 {
            hi *= 2.0;
        }
        let mut lo = 0.0;
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if g(mid) > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    };
    let estimate = if mc > 0.0 { mt / mc } else { f64::MAX };
    Some(Check {
        criterion: Criterion::LatencyRatio,
        limit,
        estimate: finite(estimate),
        lower_bound: finite(lower),
        breached,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{Outcome, Recorder, Side};
    use flags_manifest::Criteria;
    use std::time::Duration;

    fn plan(criteria: Criteria) -> RolloutPlan {
        RolloutPlan {
            stages: vec![1, 5, 25, 50, 100],
            soak: Duration::from_secs(600),
            min_samples: 100,
            criteria,
        }
    }

    fn fill(r: &Recorder, side: Side, n: u64, errors: u64, ms: impl Fn(u64) -> u64) {
        for i in 0..n {
            let lat = Duration::from_millis(ms(i));
            r.record(
                side,
                if i < errors {
                    Outcome::error(lat)
                } else {
                    Outcome::ok(lat)
                },
            );
        }
    }

    #[test]
    fn alpha_spending_sums_to_the_budget() {
        let p = plan(Criteria {
            max_latency_ratio: Some(1.2),
            ..Criteria::default()
        });
        let total: f64 = (1..200_000).map(|k| look_alpha(&p, k)).sum::<f64>() * 5.0 * 2.0;
        assert!(total < 0.01 && total > 0.0099, "{total}");
    }

    #[test]
    fn clear_error_regression_is_breached_and_noise_is_not() {
        let p = plan(Criteria::default());
        let r = Recorder::new();
        fill(&r, Side::Treatment, 1000, 50, |_| 10);
        fill(&r, Side::Control, 99_000, 990, |_| 10);
        let ev = evaluate(&p, 0, &r.snapshot(), 1);
        let b = ev.breach().expect("5% vs 1% on 1000 samples is a breach");
        assert_eq!(b.criterion, Criterion::ErrorRateIncrease);
        assert!((b.estimate - 0.04).abs() < 1e-12);
        assert!(b.lower_bound > 0.0 && b.lower_bound < 0.04);

        let r = Recorder::new();
        fill(&r, Side::Treatment, 1000, 14, |_| 10); // 1.4% vs 1%: within noise
        fill(&r, Side::Control, 99_000, 990, |_| 10);
        let ev = evaluate(&p, 0, &r.snapshot(), 1);
        assert_eq!(ev.checks.len(), 1);
        assert!(ev.breach().is_none(), "{}", ev.summary());
    }

    #[test]
    fn absolute_error_rate_uses_the_treatment_only() {
        let p = plan(Criteria {
            max_error_rate: Some(0.02),
            max_error_rate_increase: None,
            ..Criteria::default()
        });
        let r = Recorder::new();
        fill(&r, Side::Treatment, 2000, 100, |_| 1);
        let ev = evaluate(&p, 4, &r.snapshot(), 1);
        assert_eq!(ev.percent, 100);
        assert!(ev.breach().is_some(), "{}", ev.summary());
    }

    #[test]
    fn comparative_checks_are_skipped_at_full_exposure() {
        let p = plan(Criteria {
            max_latency_ratio: Some(1.0),
            ..Criteria::default()
        });
        let r = Recorder::new();
        fill(&r, Side::Treatment, 500, 400, |_| 900);
        fill(&r, Side::Control, 500, 0, |_| 1);
        let ev = evaluate(&p, 4, &r.snapshot(), 1);
        assert!(ev.checks.is_empty());
        let ev = evaluate(&p, 3, &r.snapshot(), 1);
        assert_eq!(ev.checks.len(), 2);
        assert!(ev.checks.iter().all(|c| c.breached));
    }

    #[test]
    fn latency_checks() {
        let p = plan(Criteria {
            max_error_rate_increase: None,
            max_latency_ms: Some(50.0),
            max_latency_ratio: Some(1.2),
            ..Criteria::default()
        });
        // Treatment 60 ± 10 ms, control 40 ± 10 ms: both limits clearly breached.
        let r = Recorder::new();
        fill(&r, Side::Treatment, 400, 0, |i| 50 + (i % 21));
        fill(&r, Side::Control, 4000, 0, |i| 30 + (i % 21));
        let ev = evaluate(&p, 1, &r.snapshot(), 1);
        assert_eq!(ev.checks.len(), 2);
        for c in &ev.checks {
            assert!(c.breached, "{}", c.describe());
            assert!(c.lower_bound > c.limit && c.lower_bound < c.estimate);
        }
        // Treatment 42 ms vs control 40 ms: under both limits.
        let r = Recorder::new();
        fill(&r, Side::Treatment, 400, 0, |i| 32 + (i % 21));
        fill(&r, Side::Control, 4000, 0, |i| 30 + (i % 21));
        let ev = evaluate(&p, 1, &r.snapshot(), 1);
        assert!(ev.breach().is_none(), "{}", ev.summary());
    }

    #[test]
    fn ratio_lower_bound_agrees_with_the_test() {
        // For any limit, "breached" must equal "lower bound above the limit".
        let r = Recorder::new();
        fill(&r, Side::Treatment, 300, 0, |i| 45 + (i % 31));
        fill(&r, Side::Control, 3000, 0, |i| 35 + (i % 31));
        let w = r.snapshot();
        for limit in [0.9, 1.0, 1.1, 1.15, 1.2, 1.25, 1.3, 1.5] {
            let c = latency_ratio(&w.treatment, &w.control, limit, 1e-4).unwrap();
            assert_eq!(c.breached, c.lower_bound > limit, "limit {limit}: {c:?}");
        }
    }

    #[test]
    fn constant_latency_does_not_divide_by_zero() {
        let p = plan(Criteria {
            max_latency_ratio: Some(1.0),
            max_latency_ms: Some(5.0),
            ..Criteria::default()
        });
        let r = Recorder::new();
        fill(&r, Side::Treatment, 200, 0, |_| 5);
        fill(&r, Side::Control, 200, 0, |_| 5);
        let ev = evaluate(&p, 0, &r.snapshot(), 1);
        assert!(ev.breach().is_none(), "{}", ev.summary());
        let json = serde_json::to_string(&ev).unwrap();
        let back: Evidence = serde_json::from_str(&json).unwrap();
        assert_eq!(back.checks.len(), ev.checks.len());
        for (a, b) in back.checks.iter().zip(&ev.checks) {
            assert_eq!((a.criterion, a.breached), (b.criterion, b.breached));
            assert!((a.lower_bound - b.lower_bound).abs() < 1e-12);
        }
    }

    #[test]
    fn plan_validation() {
        let mut p = plan(Criteria::default());
        assert!(validate_plan(&p).is_ok());
        p.stages = vec![];
        assert!(validate_plan(&p).is_err());
        p.stages = vec![0, 5];
        assert!(validate_plan(&p).is_err());
        p.stages = vec![5, 5];
        assert!(validate_plan(&p).is_err());
        p.stages = vec![5, 101];
        assert!(validate_plan(&p).is_err());
        p.stages = vec![5];
        p.criteria.confidence = 1.0;
        assert!(validate_plan(&p).is_err());
        p.criteria.confidence = 0.95;
        p.criteria.max_latency_ms = Some(f64::NAN);
        assert!(validate_plan(&p).is_err());
    }
}
