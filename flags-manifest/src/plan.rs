//! Guarded rollout plans: the stages a flag's exposure goes through, how long each is
//! watched, and the thresholds that send it back to zero. Declared per flag in
//! `[flags.NAME.rollout]`.

use std::time::Duration;

/// A staged rollout plan for one on/off flag.
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutPlan {
    /// Exposure percentages, strictly increasing, each 1 to 100 (e.g. 1, 5, 25, 50, 100).
    pub stages: Vec<u8>,
    /// Minimum time a stage is watched before it may advance.
    pub soak: Duration,
    /// Outcomes each side (treatment and control) must have before any decision.
    pub min_samples: u64,
    /// The thresholds that trigger a rollback.
    pub criteria: Criteria,
}

/// Rollback thresholds. Each is checked with a statistical test at `confidence`, so
/// noise alone does not trigger it; unset thresholds are not checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Criteria {
    /// Highest acceptable treatment error rate (0 to 1), absolute.
    pub max_error_rate: Option<f64>,
    /// Highest acceptable increase of the treatment error rate over control
    /// (0 to 1, in absolute terms: 0.01 is one percentage point).
    pub max_error_rate_increase: Option<f64>,
    /// Highest acceptable mean treatment latency, in milliseconds.
    pub max_latency_ms: Option<f64>,
    /// Highest acceptable ratio of treatment to control mean latency (1.2 = 20% slower).
    pub max_latency_ratio: Option<f64>,
    /// Confidence of the whole rollout (0.5 to just under 1; 0.99 by default): the
    /// chance of a rollback when nothing regressed is at most `1 - confidence`, over
    /// every stage, criterion and look together.
    pub confidence: f64,
}

impl Default for Criteria {
    fn default() -> Self {
        Criteria {
            max_error_rate: None,
            max_error_rate_increase: Some(0.0),
            max_latency_ms: None,
            max_latency_ratio: None,
            confidence: 0.99,
        }
    }
}

/// Parses a duration written as a number and a unit: `500ms`, `30s`, `10m`, `2h`, `1d`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(flags_manifest::parse_duration("10m"), Some(Duration::from_secs(600)));
/// assert_eq!(flags_manifest::parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(flags_manifest::parse_duration("ten minutes"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms).map(Duration::from_millis)
}
