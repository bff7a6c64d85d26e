//! The in-process matrix: every combination runs in its own override scope, failures
//! are collected and named by their flag values, the manifest's and the test's
//! constraints hold, and async bodies get the same treatment.

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use flags_test::plan::PlanError;
use flags_test::{FlagHandleExt, FlagMatrix, FlagSetting, MatrixError, Pin};

flags_runtime::flags!("tests/matrix.toml");
// The same manifest as a second registry, whose handles are not `flags::REGISTRY`'s.
flags_runtime::flags!(mod other = "tests/matrix.toml");

fn current() -> String {
    format!(
        "fast_tax={}, currency={}, receipts_v2={}",
        if flags::fast_tax() { "on" } else { "off" },
        flags::currency(),
        if flags::receipts_v2() { "on" } else { "off" }
    )
}

fn panic_text(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the matrix should fail");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Polls a future to completion on this thread (the bodies here never wait on I/O).
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn exhaustive_runs_every_valid_combination_with_its_values_in_force() {
    let seen = Mutex::new(Vec::new());
    FlagMatrix::new(&flags::REGISTRY).exhaustive().run(|case| {
        assert_eq!(
            current(),
            case.label,
            "the case's values are the ones in force"
        );
        seen.lock().unwrap().push(case.label.clone());
    });
    let seen = seen.into_inner().unwrap();
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no combination runs twice");
    // 2 x 3 x 2 = 12, minus receipts_v2=on with fast_tax=off (3): 9 valid.
    assert_eq!(seen.len(), 9, "{seen:#?}");
    assert!(
        seen.iter()
            .all(|l| !(l.contains("fast_tax=off") && l.contains("receipts_v2=on")))
    );
    // Outside the matrix the defaults are back.
    assert_eq!(current(), "fast_tax=off, currency=eur, receipts_v2=off");
}

#[test]
fn every_combination_runs_and_each_failure_is_named() {
    let runs = Mutex::new(0);
    let msg = panic_text(|| {
        FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::FAST_TAX, &flags::CURRENCY])
            .exhaustive()
            .run(|_| {
                *runs.lock().unwrap() += 1;
                // The bug: the new tax engine rounds yen wrongly.
                assert!(
                    !(flags::fast_tax() && flags::currency() == flags::Currency::Jpy),
                    "yen rounded to cents"
                );
            });
    });
    assert_eq!(
        *runs.lock().unwrap(),
        6,
        "all six combinations ran despite the failure"
    );
    assert!(msg.starts_with("1 of 6 flag combinations failed:"), "{msg}");
    assert!(
        msg.contains("fast_tax=on, currency=jpy: panicked: yen rounded to cents"),
        "{msg}"
    );
}

#[test]
fn result_bodies_fail_on_err() {
    let msg = panic_text(|| {
        FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::CURRENCY])
            .exhaustive()
            .pins([])
            .run_result(|case| {
                if case.get(flags::CURRENCY) == Some(flags::Currency::Usd) {
                    Err("no dollar prices")
                } else {
                    Ok(())
                }
            });
    });
    assert!(
        msg.contains("currency=usd: returned Err(\"no dollar prices\")"),
        "{msg}"
    );
    assert!(msg.starts_with("1 of 3 "), "{msg}");
}

#[test]
fn pairwise_covers_every_pair_within_the_manifest_constraints() {
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .pairwise()
        .cases()
        .unwrap();
    let mut pairs = BTreeSet::new();
    for c in &cases {
        // In manifest order: fast_tax, currency, receipts_v2.
        let v: Vec<&str> = c.values().map(|(_, value)| value).collect();
        assert_eq!(v.len(), 3, "{}", c.label);
        assert!(
            !(v[0] == "off" && v[2] == "on"),
            "receipts_v2 requires fast_tax: {}",
            c.label
        );
        for i in 0..3 {
            for j in i + 1..3 {
                pairs.insert((i, v[i], j, v[j]));
            }
        }
    }
    // Feasible pairs: tax x currency 6, tax x receipts 3, currency x receipts 6.
    assert_eq!(pairs.len(), 15, "{cases:#?}");
    assert!(cases.len() <= 9);
}

#[test]
fn pins_are_always_included() {
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX, &flags::RECEIPTS_V2])
        .pins([Pin::AllOn, Pin::Defaults])
        .cases()
        .unwrap();
    assert_eq!(cases[0].label, "fast_tax=on, receipts_v2=on");
    assert_eq!(cases[1].label, "fast_tax=off, receipts_v2=off");
}

#[test]
fn user_rules_are_never_broken() {
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .exhaustive()
        .rule("currency=jpy -> fast_tax=off")
        .rule("currency=usd !& receipts_v2=on")
        .cases()
        .unwrap();
    assert!(!cases.is_empty());
    for c in &cases {
        assert!(
            !(c.get(flags::CURRENCY) == Some(flags::Currency::Jpy)
                && c.get(flags::FAST_TAX) == Some(true)),
            "{}",
            c.label
        );
        assert!(
            !(c.get(flags::CURRENCY) == Some(flags::Currency::Usd)
                && c.get(flags::RECEIPTS_V2) == Some(true)),
            "{}",
            c.label
        );
    }
    let err = FlagMatrix::new(&flags::REGISTRY)
        .rule("currency=gbp -> fast_tax=off")
        .cases()
        .unwrap_err();
    assert!(err.to_string().contains("currency=gbp"), "{err}");
    assert!(
        FlagMatrix::new(&flags::REGISTRY)
            .rule("nonsense")
            .cases()
            .is_err()
    );
}

#[test]
fn random_mode_is_replayable_by_seed() {
    let labels = |seed| {
        FlagMatrix::new(&flags::REGISTRY)
            .random(4)
            .seed(seed)
            .pins([])
            .cases()
            .unwrap()
            .into_iter()
            .map(|c| c.label)
            .collect::<Vec<_>>()
    };
    assert_eq!(labels(11), labels(11));
    assert_eq!(labels(11).len(), 4);
}

#[test]
fn async_bodies_run_under_each_combination() {
    let seen = Mutex::new(BTreeSet::new());
    block_on(
        FlagMatrix::new(&flags::REGISTRY)
            .exhaustive()
            .run_async(|case| {
                let seen = &seen;
                async move {
                    assert_eq!(current(), case.label);
                    seen.lock().unwrap().insert(case.label);
                }
            }),
    );
    assert_eq!(seen.into_inner().unwrap().len(), 9);

    let msg = panic_text(|| {
        block_on(
            FlagMatrix::new(&flags::REGISTRY)
                .flags(&[&flags::CURRENCY])
                .exhaustive()
                .pins([])
                .run_async_result(|_| async move {
                    if flags::currency() == flags::Currency::Jpy {
                        Err(42)
                    } else {
                        Ok(())
                    }
                }),
        )
    });
    assert!(msg.contains("currency=jpy: returned Err(42)"), "{msg}");
}

#[test]
fn parallel_matrices_do_not_see_each_other() {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    FlagMatrix::new(&flags::REGISTRY).exhaustive().run(|case| {
                        std::thread::yield_now();
                        assert_eq!(current(), case.label);
                    });
                }
            });
        }
    });
}

#[flags_test::matrix(flags = [fast_tax, currency], exhaustive, case = case)]
#[test]
fn attribute_form_runs_each_combination() {
    assert_eq!(case.get(flags::FAST_TAX), Some(flags::fast_tax()));
}

#[flags_test::matrix(flags = [fast_tax, currency], exhaustive)]
#[test]
#[should_panic(expected = "fast_tax=on, currency=jpy: panicked: yen rounded to cents")]
fn attribute_form_names_the_failing_combination() {
    assert!(
        !(flags::fast_tax() && flags::currency() == flags::Currency::Jpy),
        "yen rounded to cents"
    );
}

#[flags_test::matrix(pairwise, rules = ["currency=jpy -> fast_tax=off"])]
#[test]
fn attribute_form_with_result() -> Result<(), String> {
    if flags::currency() == flags::Currency::Jpy && flags::fast_tax() {
        return Err("rule broken".into());
    }
    Ok(())
}

thread_local! {
    static PANICKED_AT: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns where its panic was raised, as a panic hook
/// sees it. The hook is chained once and only records into this thread's slot, so
/// tests running in parallel are not disturbed.
fn panic_location(f: impl FnOnce()) -> String {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| l.to_string());
            let _ = PANICKED_AT.try_with(|slot| *slot.borrow_mut() = at);
            previous(info);
        }));
    });
    PANICKED_AT.with(|slot| slot.borrow_mut().take());
    let _ = panic_text(f);
    PANICKED_AT
        .with(|slot| slot.borrow_mut().take())
        .expect("the hook saw the panic")
}

#[test]
fn a_failing_combination_names_the_line_of_the_test_that_failed() {
    let mut assert_line = 0;
    let msg = panic_text(|| {
        FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::FAST_TAX, &flags::CURRENCY])
            .exhaustive()
            .run(|_| {
                assert_line = line!() + 1;
                assert!(!(flags::fast_tax() && flags::currency() == flags::Currency::Jpy));
            });
    });
    let at = format!("{}:{assert_line}:", file!());
    assert!(
        msg.contains("fast_tax=on, currency=jpy: panicked: ") && msg.contains(&at),
        "the failure should name {at}: {msg}"
    );
}

#[test]
fn the_matrix_fails_at_the_callers_line_not_inside_flags_test() {
    let mut run_line = 0;
    let at = panic_location(|| {
        let matrix = FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::CURRENCY])
            .exhaustive();
        run_line = line!() + 1;
        matrix.run(|_| assert_ne!(flags::currency(), flags::Currency::Jpy));
    });
    assert_eq!(at, format!("{}:{run_line}:16", file!()));

    // The Result form too.
    let at = panic_location(|| {
        let matrix = FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::CURRENCY])
            .exhaustive();
        run_line = line!() + 1;
        matrix.run_result(|_| {
            if flags::currency() == flags::Currency::Jpy {
                Err(1)
            } else {
                Ok(())
            }
        });
    });
    assert_eq!(at, format!("{}:{run_line}:16", file!()));
}

#[test]
fn an_async_matrix_names_the_callers_line_in_its_failure() {
    let mut run_line = 0;
    let msg = panic_text(|| {
        let matrix = FlagMatrix::new(&flags::REGISTRY)
            .flags(&[&flags::CURRENCY])
            .exhaustive();
        run_line = line!() + 1;
        let run = matrix.run_async(|_| async move {
            assert_ne!(flags::currency(), flags::Currency::Jpy, "no yen");
        });
        block_on(run);
    });
    assert!(msg.contains("currency=jpy: panicked: "), "{msg}");
    assert!(
        msg.contains(&format!("at {}:{}:", file!(), run_line + 1)),
        "the panic's own line: {msg}"
    );
    assert!(
        msg.contains(&format!("matrix run at {}:{run_line}:", file!())),
        "the caller's line: {msg}"
    );
}

#[flags_test::matrix(flags = [currency], exhaustive)]
#[test]
#[should_panic(expected = "tests/matrix.rs:")]
fn attribute_form_failure_names_this_file() {
    assert_ne!(flags::currency(), flags::Currency::Jpy);
}

#[test]
fn a_case_reads_its_values_typed_by_handle() {
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX, &flags::CURRENCY])
        .exhaustive()
        .cases()
        .unwrap();
    assert_eq!(cases.len(), 6);
    let last = &cases[5];
    assert_eq!(last.label, "fast_tax=on, currency=jpy");
    assert_eq!(last.get(flags::FAST_TAX), Some(true));
    assert_eq!(last.get(flags::CURRENCY), Some(flags::Currency::Jpy));
    // Not varied, or a handle of another registry: no value.
    assert_eq!(last.get(flags::RECEIPTS_V2), None);
    assert_eq!(last.get(other::FAST_TAX), None);
    assert_eq!(
        last.values().collect::<Vec<_>>(),
        [("fast_tax", "on"), ("currency", "jpy")]
    );
}

#[test]
fn a_handle_of_another_registry_is_an_error() {
    let err = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX, &other::CURRENCY])
        .cases()
        .unwrap_err();
    assert!(
        matches!(err, MatrixError::ForeignFlag { ref flag } if flag == "currency"),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("flag `currency` belongs to another registry than the matrix's"),
        "{err}"
    );
}

fn labels(matrix: &FlagMatrix) -> Vec<String> {
    matrix
        .cases()
        .unwrap()
        .into_iter()
        .map(|c| c.label)
        .collect()
}

#[test]
fn typed_rules_give_the_same_cases_as_their_string_forms() {
    for mode in [flags_test::Mode::Exhaustive, flags_test::Mode::Pairwise] {
        let unconstrained = labels(&FlagMatrix::new(&flags::REGISTRY).mode(mode));
        let typed = labels(
            &FlagMatrix::new(&flags::REGISTRY)
                .mode(mode)
                .requires(
                    flags::CURRENCY.is(flags::Currency::Jpy),
                    flags::FAST_TAX.is(false),
                )
                .excludes(
                    FlagSetting::new(flags::CURRENCY, flags::Currency::Usd),
                    flags::RECEIPTS_V2.is(true),
                ),
        );
        let text = labels(
            &FlagMatrix::new(&flags::REGISTRY)
                .mode(mode)
                .rule("currency=jpy -> fast_tax=off")
                .rule("currency=usd !& receipts_v2=on"),
        );
        assert_eq!(typed, text, "{mode:?}");
        // The rules do constrain: some unconstrained case breaks them, and none left does.
        let breaks = |label: &String| {
            (label.contains("currency=jpy") && label.contains("fast_tax=on"))
                || (label.contains("currency=usd") && label.contains("receipts_v2=on"))
        };
        assert!(
            unconstrained.iter().any(breaks),
            "{mode:?}: {unconstrained:?}"
        );
        assert!(!typed.iter().any(breaks), "{mode:?}: {typed:?}");
    }
    // Exhaustively: 9 valid combinations, less jpy with fast_tax on (receipts_v2 off
    // or on: 2) and usd with receipts_v2 on (1).
    let exhaustive = labels(
        &FlagMatrix::new(&flags::REGISTRY)
            .exhaustive()
            .requires(
                flags::CURRENCY.is(flags::Currency::Jpy),
                flags::FAST_TAX.is(false),
            )
            .excludes(
                flags::CURRENCY.is(flags::Currency::Usd),
                flags::RECEIPTS_V2.is(true),
            ),
    );
    assert_eq!(exhaustive.len(), 6, "{exhaustive:?}");
}

#[test]
fn typed_rules_on_variant_values_hold() {
    // A variant excluding itself leaves the flag's other variants only.
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::CURRENCY])
        .exhaustive()
        .excludes(
            flags::CURRENCY.is(flags::Currency::Eur),
            flags::CURRENCY.is(flags::Currency::Eur),
        )
        .cases()
        .unwrap();
    let currencies: Vec<_> = cases.iter().map(|c| c.get(flags::CURRENCY)).collect();
    assert_eq!(
        currencies,
        [Some(flags::Currency::Usd), Some(flags::Currency::Jpy)]
    );
    // A variant side of a requires: every jpy case has the old tax engine, and jpy
    // still runs.
    let cases = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX, &flags::CURRENCY])
        .exhaustive()
        .requires(
            flags::CURRENCY.is(flags::Currency::Jpy),
            flags::FAST_TAX.is(false),
        )
        .cases()
        .unwrap();
    let jpy: Vec<_> = cases
        .iter()
        .filter(|c| c.get(flags::CURRENCY) == Some(flags::Currency::Jpy))
        .map(|c| c.get(flags::FAST_TAX))
        .collect();
    assert_eq!(jpy, [Some(false)]);
    assert_eq!(cases.len(), 5);
}

#[test]
fn a_typed_rule_with_a_handle_of_another_registry_is_an_error() {
    let requires = FlagMatrix::new(&flags::REGISTRY)
        .requires(
            other::CURRENCY.is(other::Currency::Jpy),
            flags::FAST_TAX.is(false),
        )
        .cases()
        .unwrap_err();
    assert!(
        matches!(requires, MatrixError::ForeignFlag { ref flag } if flag == "currency"),
        "{requires}"
    );
    let excludes = FlagMatrix::new(&flags::REGISTRY)
        .excludes(
            flags::CURRENCY.is(flags::Currency::Usd),
            other::RECEIPTS_V2.is(true),
        )
        .cases()
        .unwrap_err();
    assert!(
        matches!(excludes, MatrixError::ForeignFlag { ref flag } if flag == "receipts_v2"),
        "{excludes}"
    );
    // The same error, word for word, as a foreign handle given to `flags()`.
    let listed = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&other::RECEIPTS_V2])
        .cases()
        .unwrap_err();
    assert_eq!(excludes.to_string(), listed.to_string());
}

#[test]
fn a_typed_rule_on_a_flag_the_matrix_does_not_vary_is_the_same_error_as_its_text() {
    let typed = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX])
        .requires(
            flags::CURRENCY.is(flags::Currency::Jpy),
            flags::FAST_TAX.is(false),
        )
        .cases()
        .unwrap_err();
    let text = FlagMatrix::new(&flags::REGISTRY)
        .flags(&[&flags::FAST_TAX])
        .rule("currency=jpy -> fast_tax=off")
        .cases()
        .unwrap_err();
    assert!(
        matches!(typed, MatrixError::Plan(PlanError::BadRule { ref side, .. }) if side == "currency=jpy"),
        "{typed}"
    );
    assert_eq!(typed.to_string(), text.to_string());
}
