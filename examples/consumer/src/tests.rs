//! One test per form: each runs the gated function on both sides of its flag.

use super::*;

fn search_on() -> flags_runtime::OverrideGuard {
    flags::REGISTRY
        .scoped_overrides()
        .set(flags::SEARCH_V2, true)
}

fn checkout_on() -> flags_runtime::OverrideGuard {
    flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_CHECKOUT, true)
}

#[test]
fn single_expression_body() {
    assert_eq!(rank("abc"), 3);
    let _on = search_on();
    assert_eq!(rank("abc"), 6);
}

#[test]
fn inner_attribute() {
    assert_eq!(rank_inner("abc"), 3);
    let _on = search_on();
    assert_eq!(rank_inner("abc"), 6);
}

#[test]
fn statements_with_early_return_traced() {
    assert_eq!(score(&["ab", "c"]), 2);
    let _on = search_on();
    assert_eq!(score(&["ab", "c"]), 6);
    assert_eq!(score(&[]), 0);
}

#[test]
fn unit_and_empty_bodies() {
    let mut out = Vec::new();
    push(&mut out);
    nothing();
    let _on = search_on();
    push(&mut out);
    nothing();
    assert_eq!(out, [1, 2]);
}

#[test]
fn explicit_context() {
    let ctx = Context::with_key("user-1");
    assert_eq!(for_user(&ctx), "v1");
    let _on = search_on();
    assert_eq!(for_user(&ctx), "v2");
}

#[test]
fn measured_with_question_mark() {
    assert_eq!(pay("21"), Ok(21));
    assert_eq!(quote(4), Some(4));
    let _on = checkout_on();
    assert_eq!(pay("21"), Ok(42));
    assert!(pay("x").is_err());
    assert_eq!(quote(4), Some(8));
    assert_eq!(quote(u64::MAX), None);
}

#[test]
fn variants() {
    assert_eq!(layout(2), "classic, 2 items");
    let ctx = Context::with_key("user-1");
    assert_eq!(columns(&ctx), 1);
    let _two = flags::REGISTRY
        .scoped_overrides()
        .set(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::TwoCol);
    assert_eq!(layout(2), "two-col, 2 items");
    let _one = second::REGISTRY
        .scoped_overrides()
        .set(second::CHECKOUT_LAYOUT, second::CheckoutLayout::OnePage);
    assert_eq!(columns(&ctx), 3);
}

#[test]
fn static_flags() {
    assert_eq!(flags::DARK_MODE, flags::dark_mode());
    assert_eq!(theme(), "dark");
    assert_eq!(contrast(&Context::new()), 9);
    assert_eq!(flags::density(), flags::Density::Comfortable);
    assert_eq!(row_height(), 24);
    // Overrides cannot reach a static flag: it is a `const`.
    let _on = search_on();
    assert_eq!(theme(), "dark");
}

#[test]
fn generics_and_impl_trait() {
    assert_eq!(largest(&[1, 3, 2]), Some(&1));
    assert_eq!(digits(42).count(), 1);
    let _on = search_on();
    assert_eq!(largest(&[1, 3, 2]), Some(&3));
    assert_eq!(digits(42).count(), 2);
}

#[test]
fn async_fns() {
    assert_eq!(block_on(load(5)), 5);
    assert_eq!(block_on(fetch(5)), 5);
    assert_eq!(block_on(settle(5)), Ok(5));
    let _search = search_on();
    assert_eq!(block_on(load(5)), 10);
    assert_eq!(block_on(fetch(5)), 11);
    let _checkout = checkout_on();
    assert_eq!(block_on(settle(5)), Ok(10));
    assert!(block_on(settle(0)).is_err());
}

#[test]
fn unsafe_fn() {
    let byte = 7u8;
    // SAFETY: `&byte` is readable.
    assert_eq!(unsafe { read(&raw const byte) }, 7);
    let _on = search_on();
    // SAFETY: as above.
    assert_eq!(unsafe { read(&raw const byte) }, 14);
}

#[test]
fn methods() {
    let mut index = Index::empty();
    assert_eq!(index.hits, 1);
    assert_eq!(index.hits(), 1);
    index.add(1);
    assert_eq!(index.hits, 2);
    assert_eq!(block_on(index.refresh()), Some(3));
    assert_eq!(index.describe(), "index (3 hits)");
    assert_eq!(index.to_string(), "3 hit(s)");
    assert_eq!(index.into_hits(), 3);

    let _search = search_on();
    let _checkout = checkout_on();
    let mut index = Index::empty();
    assert_eq!(index.hits, 2);
    assert_eq!(index.hits(), 4);
    index.add(1);
    assert_eq!(index.hits, 4);
    assert_eq!(block_on(index.refresh()), Some(6));
    assert_eq!(index.describe(), "index v2 (6 hits)");
    assert_eq!(index.to_string(), "12 hits");
    assert_eq!(index.into_hits(), 12);
}

#[test]
fn accessors() {
    assert!(!flags::search_v2());
    assert_eq!(flags::checkout_layout(), flags::CheckoutLayout::Classic);
    assert!(flags::dark_mode());
    assert_eq!(flags::META.len(), 5);
    assert_eq!(flags::CheckoutLayout::default().to_string(), "classic");
}

#[test]
fn one_line_forms() {
    use crate::one_line as o;
    let ctx = Context::with_key("user-1");
    let mut c = o::Counter { n: 1 };
    let byte = 7u8;
    let off = (
        o::rank("abc"),
        o::rank_traced("abc"),
        o::for_user(&ctx),
        o::quote(4),
        o::quote_traced(4),
        o::layout(2),
        o::largest(&[1, 3, 2]),
        o::digits(42).count(),
        block_on(o::load(5)),
        block_on(o::load_traced(5)),
        block_on(o::settle(5)),
        // SAFETY: `&byte` is readable.
        unsafe { o::read(&raw const byte) },
    );
    assert_eq!(
        off,
        (
            3,
            3,
            "v1",
            Some(4),
            Some(4),
            "classic, 2 items".to_owned(),
            Some(&1),
            1,
            5,
            5,
            Ok(5),
            7
        )
    );
    assert_eq!(o::layout_for(&ctx, 1), "classic, 1 items, user-1");
    assert_eq!(
        (o::theme(), o::contrast(&ctx), o::row_height()),
        ("dark", 9, 24)
    );
    c.bump();
    assert_eq!((c.get(), c.describe()), (2, "counter at 2".to_owned()));
    assert_eq!(c.take(), Some(2));

    let _search = search_on();
    let _checkout = checkout_on();
    let mut c = o::Counter { n: 1 };
    let on = (
        o::rank("abc"),
        o::rank_traced("abc"),
        o::for_user(&ctx),
        o::quote(4),
        o::quote_traced(4),
        o::largest(&[1, 3, 2]),
        o::digits(42).count(),
        block_on(o::load(5)),
        block_on(o::load_traced(5)),
        block_on(o::settle(5)),
        // SAFETY: `&byte` is readable.
        unsafe { o::read(&raw const byte) },
    );
    assert_eq!(
        on,
        (
            6,
            6,
            "v2",
            Some(8),
            Some(8),
            Some(&3),
            2,
            10,
            10,
            Ok(10),
            14
        )
    );
    c.bump();
    assert_eq!((c.get(), c.describe()), (6, "counter v2 at 3".to_owned()));
    assert_eq!(c.take(), Some(6));
    let _two = flags::REGISTRY
        .scoped_overrides()
        .set(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::TwoCol);
    assert_eq!(o::layout(2), "two-col, 2 items");
    assert_eq!(o::layout_for(&ctx, 2), "two-col, 2 items");
}

#[flags_test::matrix(flags = [search_v2, checkout_layout], exhaustive)]
#[test]
fn matrix_single_expression() {
    assert!(rank("abcd") >= 4);
}

#[flags_test::matrix(flags = [search_v2, new_checkout], pairwise, case = case)]
#[test]
fn matrix_with_case_and_result() -> Result<(), String> {
    let expected = if case.get(flags::NEW_CHECKOUT) == Some(true) {
        42
    } else {
        21
    };
    let paid = pay("21").map_err(|e| e.to_string())?;
    if paid == expected {
        Ok(())
    } else {
        Err(format!("{paid} != {expected} in {}", case.label))
    }
}

#[flags_test::matrix(flags = [search_v2], exhaustive)]
#[test]
fn matrix_async_body() {
    let loaded = block_on(load(3));
    assert!(loaded == 3 || loaded == 6);
}
