//! Every function form `#[feature_gate]` routes compiles without a warning in a user's
//! crate (edition 2024, so `unsafe_op_in_unsafe_fn` is on), and routes as it should.

#![deny(warnings)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use flags_runtime::{Context, feature_gate};

flags_runtime::flags!("gate_flags.toml");
flags_runtime::flags!(pub(crate) mod other = "gate_flags.toml");

#[feature_gate(search_v2, fallback = rank_v1, trace, manifest = "gate_flags.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

struct Index {
    hits: u32,
}

impl Index {
    #[feature_gate(search_v2, fallback = hits_v1, manifest = "gate_flags.toml")]
    fn hits(&self) -> u32 {
        self.hits * 2
    }

    fn hits_v1(&self) -> u32 {
        self.hits
    }

    #[feature_gate(search_v2, fallback = Self::add_v1, manifest = "gate_flags.toml")]
    fn add(&mut self, n: u32) {
        self.hits += 2 * n;
    }

    fn add_v1(&mut self, n: u32) {
        self.hits += n;
    }

    #[feature_gate(search_v2, fallback = into_hits_v1, manifest = "gate_flags.toml")]
    fn into_hits(self) -> u32 {
        self.hits * 2
    }

    fn into_hits_v1(self) -> u32 {
        self.hits
    }
}

impl std::fmt::Display for Index {
    #[feature_gate(search_v2, fallback = fmt_v1, manifest = "gate_flags.toml")]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "index v2 ({} hits)", self.hits)
    }
}

impl Index {
    fn fmt_v1(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "index ({} hits)", self.hits)
    }
}

#[feature_gate(search_v2, fallback = largest_v1, manifest = "gate_flags.toml")]
fn largest<T>(items: &[T]) -> Option<&T>
where
    T: Ord,
{
    items.iter().max()
}

fn largest_v1<T>(items: &[T]) -> Option<&T>
where
    T: Ord,
{
    items.first()
}

#[feature_gate(search_v2, fallback = digits_v1, manifest = "gate_flags.toml")]
fn digits(n: u32) -> impl Iterator<Item = u32> {
    n.to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect::<Vec<_>>()
        .into_iter()
}

fn digits_v1(n: u32) -> std::vec::IntoIter<u32> {
    vec![n].into_iter()
}

#[feature_gate(search_v2, fallback = load_v1, trace, manifest = "gate_flags.toml")]
async fn load(id: u32) -> u32 {
    id * 2
}

async fn load_v1(id: u32) -> u32 {
    id
}

/// # Safety
/// `p` points to a readable `u8`.
#[feature_gate(search_v2, fallback = read_v1, manifest = "gate_flags.toml")]
unsafe fn read(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { *p }.wrapping_mul(2)
}

/// # Safety
/// As [`read`].
unsafe fn read_v1(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { *p }
}

#[feature_gate(checkout_layout, "two-col" = layout_two, one_page = layout_one, context = ctx, manifest = "gate_flags.toml")]
fn layout(ctx: &Context) -> u8 {
    1
}

fn layout_two(_ctx: &Context) -> u8 {
    2
}

fn layout_one(_ctx: &Context) -> u8 {
    3
}

#[feature_gate(checkout_layout, module = crate::other, variant = "one_page", classic = other_classic, "two-col" = other_two, manifest = "gate_flags.toml")]
fn other_layout() -> u8 {
    3
}

fn other_classic() -> u8 {
    1
}

fn other_two() -> u8 {
    2
}

// A static flag: the compiler picks the side; the context is not needed, yet not
// reported unused.
#[feature_gate(dark_mode, fallback = theme_light, context = ctx, trace, manifest = "gate_flags.toml")]
fn theme(ctx: &Context) -> &'static str {
    "dark"
}

fn theme_light(_ctx: &Context) -> &'static str {
    "light"
}

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn check(on: bool) {
    let k = if on { 2 } else { 1 };
    assert_eq!(rank("abc"), 3 * k as usize);
    let mut index = Index { hits: 3 };
    assert_eq!(index.hits(), 3 * k);
    index.add(1);
    assert_eq!(index.hits, 3 + k);
    assert_eq!(
        index.to_string(),
        if on {
            "index v2 (5 hits)"
        } else {
            "index (4 hits)"
        }
    );
    assert_eq!(index.into_hits(), (3 + k) * k);
    assert_eq!(largest(&[1, 3, 2]), Some(if on { &3 } else { &1 }));
    assert_eq!(digits(42).count(), if on { 2 } else { 1 });
    assert_eq!(block_on(load(5)), 5 * k);
    let byte = 7u8;
    // SAFETY: `&byte` is readable.
    assert_eq!(unsafe { read(&byte) }, 7 * k as u8);
    assert_eq!(theme(&Context::new()), "dark");
}

fn main() {
    check(false);
    {
        let _on = flags::REGISTRY
            .scoped_overrides()
            .set(flags::SEARCH_V2, true);
        check(true);
    }
    let ctx = Context::with_key("user-1");
    assert_eq!(layout(&ctx), 1);
    let _two = flags::REGISTRY
        .scoped_overrides()
        .set(flags::CHECKOUT_LAYOUT, flags::CheckoutLayout::TwoCol);
    assert_eq!(layout(&ctx), 2);
    assert_eq!(other_layout(), 1);
}
