//! Flags from `flags!` in a program that depends on `flags-runtime` with
//! `default-features = false`: the manifest is checked when the crate is built and its
//! rules become data, so the program carries no TOML parser and no serde, and the
//! flags still work in full (a sticky rollout behind a gate, a variant with a payload,
//! a constant). `scripts/test.sh` builds this crate alone and checks its dependency
//! tree.

#![deny(warnings)]

use flags_runtime::{Context, with_context};

flags_runtime::flags!("flags.toml");

/// The search ranking: the v2 model for users in the `search_v2` rollout.
#[flags_runtime::feature_gate(search_v2, fallback = rank_v1)]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

/// The checkout layout for `ctx` and its payload's text, if the variant has one.
fn layout(ctx: &Context) -> (flags::CheckoutLayout, Option<String>) {
    flags::CHECKOUT_LAYOUT.with_payload_for(ctx, |variant, payload| {
        (variant, payload.map(|p| p.value.to_owned()))
    })
}

fn main() {
    for user in ["alice", "bob", "carol", "tester"] {
        let ctx = Context::with_key(user);
        let score = with_context(&ctx, || rank("shoes"));
        let (layout, payload) = layout(&ctx);
        let payload = payload
            .map(|p| format!(" (payload {p})"))
            .unwrap_or_default();
        println!("{user:>6}: rank = {score:>2}, checkout_layout = {layout}{payload}");
    }
    println!("new_footer = {}", flags::new_footer());
}

#[cfg(test)]
mod tests {
    use super::*;
    use flags_runtime::{Layer, Reason};

    #[test]
    fn the_rollout_admits_about_half_sticks_and_drives_the_gate() {
        let keys: Vec<Context> = (0..400)
            .map(|i| Context::with_key(format!("user-{i}")))
            .collect();
        let on = keys.iter().filter(|c| flags::SEARCH_V2.get_for(c)).count();
        assert!((100..=300).contains(&on), "{on} of 400 keys admitted");
        for c in &keys {
            let admitted = flags::SEARCH_V2.get_for(c);
            assert_eq!(admitted, flags::SEARCH_V2.get_for(c), "sticky");
            let expected = if admitted { 10 } else { 5 };
            assert_eq!(with_context(c, || rank("shoes")), expected);
        }
        let why = flags::SEARCH_V2.explain(&keys[0]);
        assert!(
            matches!(
                why.reason,
                Reason::Rollout { percent: 50, .. } | Reason::NoStrategyMatched
            ),
            "{why}"
        );
        assert_eq!(why.layer, Layer::Manifest);
    }

    #[test]
    fn the_variant_and_its_payload_come_from_the_manifest() {
        assert_eq!(
            layout(&Context::with_key("tester")),
            (
                flags::CheckoutLayout::Compact,
                Some(r#"{"columns": 1}"#.to_owned())
            )
        );
        assert_eq!(
            layout(&Context::with_key("alice")),
            (flags::CheckoutLayout::Classic, None)
        );
        assert!(flags::new_footer());
    }
}
