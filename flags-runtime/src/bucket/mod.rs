//! Sticky bucketing, bit-for-bit compatible with Unleash's client SDKs.
//!
//! A gradual rollout puts every targeting key (user id, session id, a custom
//! context field) into one of 100 buckets, and a variant split puts it at a
//! point on the `1..=total_weight` line. Both are derived from MurmurHash3
//! (x86, 32-bit) over the UTF-8 bytes of `"{group_id}:{key}"`, exactly as
//! Unleash's client SDKs (Node, Java, Go, Python, and their shared Rust core
//! Yggdrasil) do, so a Rust service and a service using one of those SDKs put
//! the same user in the same bucket:
//!
//! | use      | seed                     | result                        |
//! |----------|--------------------------|-------------------------------|
//! | rollout  | [`ROLLOUT_SEED`] (0)     | `hash % 100 + 1`, in `1..=100` |
//! | variants | [`VARIANT_SEED`]         | `hash % total_weight + 1`     |
//!
//! The group id is the strategy's `groupId` parameter (Unleash fills it with the
//! feature name by default) for rollouts and strategy variants, and the feature
//! name for feature-level variants.
//!
//! The hash is computed over the pieces `group_id`, `":"` and `key` in sequence,
//! without joining them into a `String`: evaluation stays allocation-free. A
//! [`BucketGroup`] hashes `"{group_id}:"` once, when rules are compiled, and
//! keeps the hash state after it (with the partial 4-byte block it ends in), so
//! that a sticky evaluation reads only the key, a block at a time (see
//! `murmur3.rs`).
//!
//! One caveat on non-ASCII keys: the Unleash Node SDK hashes the low byte of
//! each UTF-16 code unit (its `murmurhash3js` dependency), not UTF-8, and the
//! Java SDK's own hashing uses the JVM's default charset (UTF-8 since Java 18),
//! so for keys or group ids outside ASCII those can disagree with the others.
//! This module follows the UTF-8 majority (Go, Python, Yggdrasil).

use std::fmt;

mod murmur3;

use murmur3::Prefix;
pub use murmur3::murmur3_32;

/// Seed that Unleash SDKs use for rollout buckets (`flexibleRollout`,
/// `gradualRolloutUserId`, `gradualRolloutSessionId`).
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::{ROLLOUT_SEED, murmur3_32};
///
/// let hash = murmur3_32(ROLLOUT_SEED, &[b"gr1", b":", b"123"]);
/// assert_eq!(hash % 100 + 1, 73);
/// ```
pub const ROLLOUT_SEED: u32 = 0;

/// Seed that Unleash SDKs use when picking a variant
/// (`VARIANT_NORMALIZATION_SEED` in their sources).
///
/// A different seed from [`ROLLOUT_SEED`] keeps the variant a user gets
/// independent of whether they fell in a rollout's first or last percent.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::{VARIANT_SEED, murmur3_32};
///
/// let hash = murmur3_32(VARIANT_SEED, &[b"gr1:123"]);
/// assert_eq!(hash % 100 + 1, 96);
/// ```
pub const VARIANT_SEED: u32 = 86_028_157;

/// State after `"{group_id}:"`, ready for a key.
#[inline]
fn group_prefix(seed: u32, group_id: &str) -> Prefix {
    Prefix::new(seed, &[group_id.as_bytes(), b":"])
}

/// `hash % 100 + 1` as a bucket.
#[inline]
fn rollout_from_hash(hash: u32) -> Bucket {
    // `hash % 100` is below 100, so it fits in a u8 and the sum is in 1..=100.
    Bucket((hash % 100) as u8 + 1)
}

/// `hash % total_weight + 1`, or 0 for a zero total.
#[inline]
fn variant_from_hash(hash: u32, total_weight: u32) -> u32 {
    match hash.checked_rem(total_weight) {
        Some(rem) => rem + 1,
        None => 0,
    }
}

/// A rollout bucket: a whole number in `1..=100`.
///
/// A key is inside a `P`% rollout when its bucket is `<= P`, so 0% lets
/// nobody in and 100% lets everybody in, and raising the percentage only ever
/// adds keys.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::Bucket;
///
/// let bucket = Bucket::new(42).expect("42 is a valid bucket");
/// assert_eq!(bucket.get(), 42);
/// assert!(bucket.is_in_rollout(42));
/// assert!(!bucket.is_in_rollout(41));
/// assert!(Bucket::new(0).is_none());
/// assert!(Bucket::new(101).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bucket(u8);

impl Bucket {
    /// The first bucket, in every rollout above 0%.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::Bucket;
    ///
    /// assert_eq!(Bucket::MIN.get(), 1);
    /// ```
    pub const MIN: Bucket = Bucket(1);

    /// The last bucket, only in a 100% rollout.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::Bucket;
    ///
    /// assert_eq!(Bucket::MAX.get(), 100);
    /// assert!(!Bucket::MAX.is_in_rollout(99));
    /// ```
    pub const MAX: Bucket = Bucket(100);

    /// The bucket numbered `value`, or `None` outside `1..=100`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::Bucket;
    ///
    /// assert_eq!(Bucket::new(1), Some(Bucket::MIN));
    /// assert_eq!(Bucket::new(0), None);
    /// ```
    #[must_use]
    pub const fn new(value: u8) -> Option<Bucket> {
        if value >= 1 && value <= 100 {
            Some(Bucket(value))
        } else {
            None
        }
    }

    /// The bucket's number, in `1..=100`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::rollout_bucket;
    ///
    /// assert_eq!(rollout_bucket("groupX", "999").get(), 25);
    /// ```
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether a key in this bucket is inside a rollout of `percent`%.
    ///
    /// That is `bucket <= percent`, the comparison every Unleash SDK makes;
    /// percentages above 100 behave like 100.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::rollout_bucket;
    ///
    /// let bucket = rollout_bucket("gr1", "123"); // bucket 73
    /// assert!(bucket.is_in_rollout(73));
    /// assert!(!bucket.is_in_rollout(72));
    /// assert!(!bucket.is_in_rollout(0));
    /// ```
    #[must_use]
    pub const fn is_in_rollout(self, percent: u8) -> bool {
        self.0 <= percent
    }
}

impl From<Bucket> for u8 {
    fn from(bucket: Bucket) -> u8 {
        bucket.0
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The rollout bucket of `key` (a stickiness value such as a user id) within
/// `group_id`, as Unleash computes it: murmur3 with seed 0 over
/// `"{group_id}:{key}"`, then `% 100 + 1`.
///
/// No allocation; the strings are hashed as UTF-8.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::rollout_bucket;
///
/// // The values Unleash's own SDK tests check across Node, Java and Go.
/// assert_eq!(rollout_bucket("gr1", "123").get(), 73);
/// assert_eq!(rollout_bucket("groupX", "999").get(), 25);
/// ```
#[must_use]
#[inline]
pub fn rollout_bucket(group_id: &str, key: &str) -> Bucket {
    rollout_from_hash(group_prefix(ROLLOUT_SEED, group_id).hash(key.as_bytes()))
}

/// Where `key` falls on the `1..=total_weight` line of a variant split within
/// `group_id`, as Unleash computes it: murmur3 with [`VARIANT_SEED`] over
/// `"{group_id}:{key}"`, then `% total_weight + 1`.
///
/// The caller picks the first variant whose running sum of weights reaches the
/// returned value (Unleash's server normalises weights to a total of 1000, but
/// any total works).
///
/// A `total_weight` of 0 returns 0, outside every split: Unleash SDKs select
/// no variant when the weights add up to zero, so treat a 0 result (or check
/// the total first) as "no variant" rather than walking the weights.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::variant_bucket;
///
/// // Weights [500, 500]: a point in 1..=500 is the first variant.
/// let point = variant_bucket("checkout-flow", "user-42", 1000);
/// assert!((1..=1000).contains(&point));
///
/// assert_eq!(variant_bucket("gr1", "123", 100), 96);
/// assert_eq!(variant_bucket("gr1", "123", 0), 0);
/// ```
#[must_use]
#[inline]
pub fn variant_bucket(group_id: &str, key: &str, total_weight: u32) -> u32 {
    if total_weight == 0 {
        return 0;
    }
    variant_from_hash(
        group_prefix(VARIANT_SEED, group_id).hash(key.as_bytes()),
        total_weight,
    )
}

/// A group id hashed once, for strategies evaluated many times.
///
/// Holds the hash state after `"{group_id}:"` for both seeds, so each
/// evaluation only hashes the key. Results are identical to
/// [`rollout_bucket`] and [`variant_bucket`] with the same group id.
///
/// # Examples
///
/// ```
/// use flags_runtime::bucket::{BucketGroup, rollout_bucket, variant_bucket};
///
/// let group = BucketGroup::new("gr1");
/// assert_eq!(group.rollout_bucket("123"), rollout_bucket("gr1", "123"));
/// assert_eq!(group.variant_bucket("123", 100), variant_bucket("gr1", "123", 100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketGroup {
    rollout: Prefix,
    variant: Prefix,
}

impl BucketGroup {
    /// Prepares `group_id` (a strategy's `groupId`, or a feature name for
    /// feature-level variants).
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::BucketGroup;
    ///
    /// let group = BucketGroup::new("groupX");
    /// assert_eq!(group.rollout_bucket("999").get(), 25);
    /// ```
    #[must_use]
    pub fn new(group_id: &str) -> Self {
        Self {
            rollout: group_prefix(ROLLOUT_SEED, group_id),
            variant: group_prefix(VARIANT_SEED, group_id),
        }
    }

    /// The rollout bucket of `key` in this group; see [`rollout_bucket`].
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::BucketGroup;
    ///
    /// let group = BucketGroup::new("gr1");
    /// assert!(group.rollout_bucket("123").is_in_rollout(73));
    /// ```
    #[must_use]
    #[inline]
    pub fn rollout_bucket(&self, key: &str) -> Bucket {
        rollout_from_hash(self.rollout.hash(key.as_bytes()))
    }

    /// The variant point of `key` in this group; see [`variant_bucket`],
    /// including its 0 for a zero `total_weight`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::bucket::BucketGroup;
    ///
    /// let group = BucketGroup::new("groupX");
    /// assert_eq!(group.variant_bucket("999", 100), 60);
    /// assert_eq!(group.variant_bucket("999", 0), 0);
    /// ```
    #[must_use]
    #[inline]
    pub fn variant_bucket(&self, key: &str, total_weight: u32) -> u32 {
        if total_weight == 0 {
            return 0;
        }
        variant_from_hash(self.variant.hash(key.as_bytes()), total_weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    /// Unleash's SDK tests, "normalized values are the same across node, java
    /// and go clients": unleash-client-node `src/test/strategy/util.test.ts`
    /// and unleash-client-java `StrategyUtilsTest`
    /// (`getNormalizedNumber(identifier, groupId)` = 73 and 25).
    #[test]
    fn unleash_sdk_rollout_values() {
        assert_eq!(rollout_bucket("gr1", "123").get(), 73);
        assert_eq!(rollout_bucket("groupX", "999").get(), 25);
    }

    /// unleash-client-java `StrategyUtilsTest`
    /// "normalized_values_with_variant_seed_are_the_same_across_node_java":
    /// with `VARIANT_NORMALIZATION_SEED` and normaliser 100, 96 and 60.
    #[test]
    fn unleash_sdk_variant_seed_values() {
        assert_eq!(VARIANT_SEED, 86_028_157);
        assert_eq!(variant_bucket("gr1", "123", 100), 96);
        assert_eq!(variant_bucket("groupX", "999", 100), 60);
    }

    /// Outcomes that Unleash's client specification (npm
    /// `@unleash/client-specification` 6.1.0) requires of rollouts, reduced to
    /// the bucket comparison they depend on. Several sit exactly on the
    /// boundary, which pins down `<=`.
    #[test]
    fn client_specification_rollouts() {
        // (file, group id, key, percent, expected in rollout)
        let cases: &[(&str, &str, &str, u8, bool)] = &[
            ("03/04 Feature.A3/A4", "AB12A", "123", 100, true),
            ("03/04 Feature.B3/B4", "AB12A", "122", 50, true),
            ("03/04 Feature.B3/B4", "AB12A", "155", 50, false),
            ("03/04 Feature.C3/C4", "AB12A", "122", 0, false),
            ("10", "Feature.flexibleRollout.10", "174", 10, true),
            ("10", "Feature.flexibleRollout.10", "499", 10, false),
            ("10", "Feature.flexibleRollout.userId.55", "25", 55, true),
            (
                "10",
                "Feature.flexibleRollout.sessionId.42",
                "147",
                42,
                true,
            ),
            ("10", "Feature.flexibleRollout.0", "12", 0, false),
            (
                "12",
                "Feature.flexible.rollout.custom.stickiness_50",
                "402",
                50,
                false,
            ),
            (
                "12",
                "Feature.flexible.rollout.custom.stickiness_50",
                "388",
                50,
                true,
            ),
            (
                "12",
                "Feature.flexible.rollout.custom.stickiness_50",
                "39",
                50,
                true,
            ),
        ];
        for &(file, group, key, percent, expected) in cases {
            let bucket = rollout_bucket(group, key);
            assert_eq!(
                bucket.is_in_rollout(percent),
                expected,
                "spec {file}: {group}:{key} at {percent}% (bucket {bucket})"
            );
        }
        // The boundary cases above, exactly.
        assert_eq!(
            rollout_bucket("Feature.flexibleRollout.10", "174").get(),
            10
        );
        assert_eq!(
            rollout_bucket("Feature.flexibleRollout.userId.55", "25").get(),
            55
        );
        assert_eq!(
            rollout_bucket("Feature.flexibleRollout.sessionId.42", "147").get(),
            42
        );
    }

    /// Index of the variant Unleash picks: the first whose running weight sum
    /// reaches the point.
    fn pick(weights: &[u32], point: u32) -> Option<usize> {
        let mut sum = 0;
        weights.iter().position(|&w| {
            sum += w;
            sum >= point
        })
    }

    /// Variant outcomes required by `@unleash/client-specification` 6.1.0.
    #[test]
    fn client_specification_variants() {
        // (file, group id, key, weights, expected variant index)
        let cases: &[(&str, &str, &str, &[u32], usize)] = &[
            (
                "08 Feature.Variants.B",
                "Feature.Variants.B",
                "2",
                &[1, 1],
                1,
            ),
            (
                "08 Feature.Variants.B",
                "Feature.Variants.B",
                "0",
                &[1, 1],
                0,
            ),
            (
                "08 Feature.Variants.C",
                "Feature.Variants.C",
                "232",
                &[33, 33, 33],
                0,
            ),
            (
                "08 Feature.Variants.C",
                "Feature.Variants.C",
                "607",
                &[33, 33, 33],
                1,
            ),
            (
                "08 Feature.Variants.C",
                "Feature.Variants.C",
                "656",
                &[33, 33, 33],
                2,
            ),
            (
                "08 Feature.Variants.D",
                "Feature.Variants.D",
                "712",
                &[1, 49, 50],
                0,
            ),
            (
                "08 Feature.Variants.D",
                "Feature.Variants.D",
                "525",
                &[1, 49, 50],
                1,
            ),
            (
                "08 Feature.Variants.D",
                "Feature.Variants.D",
                "537",
                &[1, 49, 50],
                2,
            ),
            // No override matches user 388, so hashing decides.
            (
                "08 Feature.Variants.override.D",
                "Feature.Variants.override.D",
                "388",
                &[33, 33, 34],
                1,
            ),
            (
                "12 custom stickiness",
                "Feature.flexible.rollout.custom.stickiness_100",
                "616",
                &[25, 25, 25, 25],
                0,
            ),
            (
                "12 custom stickiness",
                "Feature.flexible.rollout.custom.stickiness_100",
                "503",
                &[25, 25, 25, 25],
                1,
            ),
            (
                "12 custom stickiness",
                "Feature.flexible.rollout.custom.stickiness_100",
                "438",
                &[25, 25, 25, 25],
                2,
            ),
            (
                "12 custom stickiness",
                "Feature.flexible.rollout.custom.stickiness_100",
                "44",
                &[25, 25, 25, 25],
                3,
            ),
            (
                "15 F9.globalSegmentOn",
                "F9.globalSegmentOn",
                "616",
                &[25, 25, 25, 25],
                2,
            ),
            // Strategy variants hash with the strategy's groupId ("a").
            ("16 multiple.variants", "a", "5", &[1, 1], 0),
            ("16 multiple.variants", "a", "0", &[1, 1], 1),
            ("16 variants.stickiness", "a", "1", &[1, 1], 0),
            ("16 variants.stickiness", "a", "2", &[1, 1], 1),
        ];
        for &(file, group, key, weights, expected) in cases {
            let total = weights.iter().sum();
            let point = variant_bucket(group, key, total);
            assert_eq!(
                pick(weights, point),
                Some(expected),
                "spec {file}: {group}:{key} point {point} of {total}"
            );
        }
    }

    #[test]
    fn zero_total_weight_selects_nothing() {
        assert_eq!(variant_bucket("flag", "user", 0), 0);
        assert_eq!(variant_bucket("", "", 0), 0);
    }

    #[test]
    fn variant_bucket_with_one_weight_is_one() {
        assert_eq!(variant_bucket("flag", "anyone", 1), 1);
    }

    #[test]
    fn non_ascii_is_hashed_as_utf8() {
        let group = "Feature.UTF-8.Hell\u{f8}_W\u{f8}rld";
        let key = "\u{fc}n\u{ef}c\u{f8}d\u{e9}";
        let joined = format!("{group}:{key}");
        let hash = murmur3_32(ROLLOUT_SEED, &[joined.as_bytes()]);
        assert_eq!(u32::from(rollout_bucket(group, key).get()), hash % 100 + 1);
        // Value from the mmh3 Python package over the same UTF-8 bytes.
        assert_eq!(rollout_bucket(group, key).get(), 44);
    }

    #[test]
    fn bucket_constructor_bounds() {
        assert_eq!(Bucket::new(0), None);
        for v in 1..=100u8 {
            assert_eq!(Bucket::new(v).map(Bucket::get), Some(v));
        }
        for v in 101..=u8::MAX {
            assert_eq!(Bucket::new(v), None);
        }
        assert_eq!(Bucket::MIN.get(), 1);
        assert_eq!(Bucket::MAX.get(), 100);
        assert_eq!(u8::from(Bucket::MAX), 100);
        assert_eq!(Bucket::MIN.to_string(), "1");
    }

    #[test]
    fn zero_percent_admits_nobody_and_hundred_admits_everybody() {
        for v in 1..=100u8 {
            let Some(bucket) = Bucket::new(v) else {
                panic!("{v} is a valid bucket");
            };
            assert!(!bucket.is_in_rollout(0));
            assert!(bucket.is_in_rollout(100));
            assert!(bucket.is_in_rollout(u8::MAX));
        }
    }

    /// Share of `keys` numbered keys of `group` that land in a `percent`% rollout.
    fn share_in_rollout(group: &str, keys: u32, percent: u8) -> f64 {
        let mut key = String::with_capacity(16);
        let mut inside = 0u32;
        for i in 0..keys {
            key.clear();
            let _ = write!(key, "user-{i}");
            if rollout_bucket(group, &key).is_in_rollout(percent) {
                inside += 1;
            }
        }
        f64::from(inside) / f64::from(keys)
    }

    #[test]
    fn distribution_fixed_group() {
        for percent in [10u8, 25, 50] {
            let share = share_in_rollout("new-checkout", 100_000, percent);
            let target = f64::from(percent) / 100.0;
            assert!(
                (share - target).abs() <= 0.01,
                "{percent}%: got {:.3}%",
                share * 100.0
            );
        }
    }

    #[test]
    fn variant_points_spread_evenly_over_thousand() {
        let mut quarters = [0u32; 4];
        let mut key = String::with_capacity(16);
        for i in 0..100_000 {
            key.clear();
            let _ = write!(key, "session-{i}");
            let point = variant_bucket("pricing-page", &key, 1000);
            assert!((1..=1000).contains(&point));
            quarters[((point - 1) / 250) as usize] += 1;
        }
        for (i, &count) in quarters.iter().enumerate() {
            let share = f64::from(count) / 100_000.0;
            assert!((share - 0.25).abs() <= 0.01, "quarter {i}: {share}");
        }
    }

    proptest! {
        #[test]
        fn rollout_bucket_is_hash_of_joined_string(group in ".{0,20}", key in ".{0,40}") {
            let joined = format!("{group}:{key}");
            let hash = murmur3_32(ROLLOUT_SEED, &[joined.as_bytes()]);
            let bucket = rollout_bucket(&group, &key);
            prop_assert_eq!(u32::from(bucket.get()), hash % 100 + 1);
            prop_assert!((1..=100).contains(&bucket.get()));
            prop_assert_eq!(Bucket::new(bucket.get()), Some(bucket));
        }

        #[test]
        fn variant_bucket_is_in_range(group in ".{0,20}", key in ".{0,40}", total in 1u32..=100_000) {
            let joined = format!("{group}:{key}");
            let hash = murmur3_32(VARIANT_SEED, &[joined.as_bytes()]);
            let point = variant_bucket(&group, &key, total);
            prop_assert_eq!(point, hash % total + 1);
            prop_assert!((1..=total).contains(&point));
        }

        #[test]
        fn bucket_group_matches_free_functions(
            group in ".{0,20}",
            key in ".{0,40}",
            total in 0u32..=100_000,
        ) {
            let prepared = BucketGroup::new(&group);
            prop_assert_eq!(prepared.rollout_bucket(&key), rollout_bucket(&group, &key));
            prop_assert_eq!(
                prepared.variant_bucket(&key, total),
                variant_bucket(&group, &key, total)
            );
        }

        #[test]
        fn rollout_is_monotonic(group in ".{0,20}", key in ".{0,40}", p in 0u8..=100, q in 0u8..=100) {
            let (low, high) = (p.min(q), p.max(q));
            let bucket = rollout_bucket(&group, &key);
            if bucket.is_in_rollout(low) {
                prop_assert!(bucket.is_in_rollout(high));
            }
            // And the key is in exactly the rollouts at or above its bucket.
            prop_assert_eq!(bucket.is_in_rollout(p), p >= bucket.get());
        }
    }

    proptest! {
        // Each case hashes 300k keys; a few groups are enough.
        #![proptest_config(ProptestConfig::with_cases(8))]

        #[test]
        fn distribution_any_group(group in "[a-zA-Z0-9._-]{1,30}") {
            for percent in [10u8, 25, 50] {
                let share = share_in_rollout(&group, 100_000, percent);
                let target = f64::from(percent) / 100.0;
                prop_assert!(
                    (share - target).abs() <= 0.01,
                    "group {group:?} at {percent}%: got {:.3}%", share * 100.0
                );
            }
        }
    }
}
