//! Variant payloads written in the manifest reach the generated handle: the payload
//! of the weighted variant that decided, for each context, and none for a variant no
//! weighted list chose. VIPs get `wide` from their strategy; everyone else the split.

use flags_runtime::manifest::PayloadKind;
use flags_runtime::{Context, Layer};

flags_runtime::flags!("tests/payloads.toml");

#[test]
fn the_handle_gives_the_chosen_variants_payload() {
    let read = |ctx: &Context| {
        flags::CHECKOUT_LAYOUT.with_payload_for(ctx, |variant, payload| {
            (variant, payload.map(|p| (p.kind, p.value.to_owned())))
        })
    };
    let (variant, payload) = read(&Context::with_key("vip"));
    assert_eq!(variant, flags::CheckoutLayout::Wide);
    assert_eq!(
        payload,
        Some((PayloadKind::Json, r#"{"cols": 3}"#.to_owned()))
    );

    let mut seen = [false; 2];
    for i in 0..200 {
        let ctx = Context::with_key(format!("user-{i}"));
        let (variant, payload) = read(&ctx);
        assert_eq!(variant, flags::CHECKOUT_LAYOUT.get_for(&ctx), "user-{i}");
        match variant {
            flags::CheckoutLayout::Compact => {
                seen[0] = true;
                assert_eq!(payload, Some((PayloadKind::Number, "1".to_owned())));
            }
            flags::CheckoutLayout::Wide => {
                seen[1] = true;
                assert_eq!(
                    payload,
                    Some((PayloadKind::Json, r#"{"cols": 3}"#.to_owned()))
                );
            }
            flags::CheckoutLayout::Classic => panic!("the split never picks classic"),
        }
    }
    assert_eq!(seen, [true, true], "both weighted variants were chosen");

    // An override decides without a weighted list: no payload.
    flags::REGISTRY
        .set_override(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::Wide)
        .unwrap_or_else(|e| panic!("{e}"));
    let detail = flags::CHECKOUT_LAYOUT.explain(&Context::with_key("vip"));
    assert_ne!(detail.layer, Layer::Manifest);
    assert_eq!(
        read(&Context::with_key("vip")),
        (flags::CheckoutLayout::Wide, None)
    );
    flags::REGISTRY
        .clear_override(flags::CHECKOUT_LAYOUT)
        .unwrap_or_else(|e| panic!("{e}"));
}
