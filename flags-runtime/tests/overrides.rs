//! Overrides: process-wide, and scoped to a thread or a task so that tests running in
//! parallel never see each other's.

// Needs the `rule-files` feature: its registries are built from manifest text (`Registry::new`).
#![cfg(feature = "rule-files")]

mod common;

use flags_runtime::raw::{GuardAccess as _, IndexAccess};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Barrier};
use std::task::{Context as TaskContext, Poll, Waker};

use common::{Layout, Pricing};
use flags_runtime::{Context, Overrides, Value};

test_registry!(par);
test_registry!(nest);
test_registry!(task);
test_registry!(global);

#[test]
fn scopes_are_isolated_across_parallel_threads() {
    const THREADS: usize = 6;
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let layouts = [Layout::Classic, Layout::Compact, Layout::Wide];
    let mut handles = Vec::new();
    for i in 0..THREADS {
        let barrier = barrier.clone();
        handles.push(std::thread::spawn(move || {
            let layout = layouts[i % 3];
            let on = i % 2 == 0;
            let _scope = par::REGISTRY
                .scoped_overrides()
                .set(par::LAYOUT, layout)
                .set(par::SEARCH_V2, on);
            barrier.wait();
            for _ in 0..20_000 {
                assert_eq!(par::LAYOUT.get(), layout);
                assert_eq!(par::SEARCH_V2.get(), on);
                // Prerequisites see the scoped value too.
                assert_eq!(par::CHECKOUT.get(), on);
            }
            barrier.wait();
        }));
    }
    // This thread has no scope: it sees the manifest defaults throughout.
    barrier.wait();
    for _ in 0..20_000 {
        assert_eq!(par::LAYOUT.get(), Layout::Classic);
        assert!(!par::SEARCH_V2.get());
    }
    assert_eq!(
        par::REGISTRY.fast_value(common::LAYOUT),
        None,
        "scopes force the slow path"
    );
    barrier.wait();
    for h in handles {
        h.join()
            .unwrap_or_else(|_| panic!("a reader saw another thread's override"));
    }
    // Every scope dropped: the fast cells serve again.
    assert_eq!(
        par::REGISTRY.fast_value(common::LAYOUT),
        Some(Value::Variant(0))
    );
    assert_eq!(
        par::REGISTRY.fast_value(common::SEARCH_V2),
        Some(Value::Bool(false))
    );
}

#[test]
fn scopes_nest_and_unwind() {
    assert_eq!(nest::LAYOUT.get(), Layout::Classic);
    {
        let _outer = nest::REGISTRY
            .scoped_overrides()
            .set(nest::LAYOUT, Layout::Compact)
            .set(nest::PRICING, Pricing::B);
        assert_eq!(nest::LAYOUT.get(), Layout::Compact);
        {
            let mut inner = nest::REGISTRY.scoped_overrides();
            inner.insert(nest::LAYOUT, Layout::Wide);
            assert_eq!(nest::LAYOUT.get(), Layout::Wide);
            assert_eq!(nest::PRICING.get(), Pricing::B, "outer scope still applies");
            inner
                .try_insert_value(common::SEARCH_V2, Value::Bool(true))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(nest::SEARCH_V2.get());
            assert!(
                inner
                    .try_insert_value(common::SEARCH_V2, Value::Variant(1))
                    .is_err()
            );
            assert!(inner.try_insert_value(42, Value::Bool(true)).is_err());
        }
        assert_eq!(nest::LAYOUT.get(), Layout::Compact);
        assert!(!nest::SEARCH_V2.get());
        // Snapshots and explain honour the scope too.
        assert_eq!(nest::REGISTRY.snapshot().get(nest::LAYOUT), Layout::Compact);
        assert_eq!(
            nest::LAYOUT.explain(&Context::new()).reason,
            flags_runtime::Reason::Override
        );
    }
    assert_eq!(nest::LAYOUT.get(), Layout::Classic);
    assert_eq!(nest::PRICING.get_for(&Context::with_key("x")), {
        let point = flags_runtime::bucket::variant_bucket("pricing", "x", 1000);
        if point <= 500 { Pricing::A } else { Pricing::B }
    });
    assert!(
        Overrides::new()
            .set(nest::SEARCH_V2, true)
            .run(|| nest::SEARCH_V2.get())
    );
    assert!(!nest::SEARCH_V2.get());
}

/// Pending once, then ready with what it reads: each poll may run on another thread.
struct ReadTwice {
    polls: u8,
    seen: Vec<(Layout, Option<String>)>,
}

impl Future for ReadTwice {
    type Output = Vec<(Layout, Option<String>)>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let key = Context::current().targeting_key().map(str::to_owned);
        self.seen.push((task::LAYOUT.get(), key));
        self.polls += 1;
        if self.polls < 2 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(std::mem::take(&mut self.seen))
        }
    }
}

#[test]
fn overrides_and_context_follow_a_task_across_threads() {
    let fut = Overrides::new().set(task::LAYOUT, Layout::Wide).scope(
        Context::with_key("task-user").scope(ReadTwice {
            polls: 0,
            seen: Vec::new(),
        }),
    );
    let mut fut = Box::pin(fut);
    let waker = Waker::noop();
    let mut cx = TaskContext::from_waker(waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    // Between polls, nothing leaks onto the polling thread.
    assert_eq!(task::LAYOUT.get(), Layout::Classic);
    assert!(Context::current().is_anonymous());
    let seen = std::thread::spawn(move || {
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(v) => v,
            Poll::Pending => Vec::new(),
        }
    })
    .join()
    .unwrap_or_else(|_| panic!("second poll"));
    let expected = (Layout::Wide, Some("task-user".to_owned()));
    assert_eq!(seen, vec![expected.clone(), expected]);
    // The wrapped future is gone: back to the fast path.
    assert_eq!(
        task::REGISTRY.fast_value(common::LAYOUT),
        Some(Value::Variant(0))
    );
}

#[test]
fn process_wide_overrides() {
    global::REGISTRY
        .set_override(global::LAYOUT, Layout::Compact)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(global::LAYOUT.get(), Layout::Compact);
    // Seen from every thread, and served from the fast cell.
    assert_eq!(
        std::thread::spawn(|| global::LAYOUT.get())
            .join()
            .unwrap_or_else(|_| panic!("reader")),
        Layout::Compact
    );
    assert_eq!(
        global::REGISTRY.fast_value(common::LAYOUT),
        Some(Value::Variant(1))
    );
    // A scope wins over the process-wide override on its thread.
    {
        let _s = global::REGISTRY
            .scoped_overrides()
            .set(global::LAYOUT, Layout::Wide);
        assert_eq!(global::LAYOUT.get(), Layout::Wide);
    }
    global::REGISTRY
        .clear_override(global::LAYOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(global::LAYOUT.get(), Layout::Classic);
    global::REGISTRY
        .set_override_value(common::SEARCH_V2, Value::Bool(true))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(global::SEARCH_V2.get());
    assert!(global::CHECKOUT.get(), "the prerequisite is now met");
    assert!(
        global::REGISTRY
            .set_override_value(common::SEARCH_V2, Value::Variant(0))
            .is_err()
    );
    assert!(
        global::REGISTRY
            .set_override_value(99, Value::Bool(true))
            .is_err()
    );
    // A handle of another registry is refused, not applied to the flag of the same
    // index here, nor silently to its own registry.
    assert!(matches!(
        global::REGISTRY.set_override(task::LAYOUT, Layout::Wide),
        Err(flags_runtime::UpdateError::ForeignFlag { flag: "layout" })
    ));
    assert!(global::REGISTRY.clear_override(task::LAYOUT).is_err());
    global::REGISTRY.clear_overrides();
    assert!(!global::SEARCH_V2.get());
}
