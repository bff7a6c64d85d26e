//! A crate that uses every form of `flags!` and `#[feature_gate]`, as a user's crate
//! would, with warnings denied: a lint that the generated code raises in the caller's
//! crate fails this build (and `cargo clippy -- -D warnings` in CI). Each form has a
//! unit test, so every expansion also runs.

#![deny(warnings)]
#![warn(clippy::all, clippy::pedantic)]

use std::future::Future;

use flags_runtime::{Context, feature_gate};

flags_runtime::flags!("flags.toml");
flags_runtime::flags!(pub(crate) mod second = "flags.toml");

/// Single-expression body.
#[feature_gate(search_v2, fallback = rank_v1)]
pub fn rank(query: &str) -> usize {
    query.len() * 2
}

/// The ranking while `search_v2` is off.
#[must_use]
pub fn rank_v1(query: &str) -> usize {
    query.len()
}

/// Multi-statement body with an early `return`, traced.
#[feature_gate(search_v2, fallback = score_v1, trace)]
pub fn score(words: &[&str]) -> usize {
    if words.is_empty() {
        return 0;
    }
    let total: usize = words.iter().map(|w| w.len()).sum();
    total * 2
}

/// The score while `search_v2` is off.
#[must_use]
pub fn score_v1(words: &[&str]) -> usize {
    words.len()
}

/// An inner attribute at the top of the body.
#[feature_gate(search_v2, fallback = rank_v1)]
pub fn rank_inner(query: &str) -> usize {
    #![allow(clippy::let_and_return)]
    let n = query.len() * 2;
    n
}

/// A body that is one statement and no tail: returns `()`.
#[feature_gate(search_v2, fallback = push_v1)]
pub fn push(out: &mut Vec<u8>) {
    out.push(2);
}

/// `push` while `search_v2` is off.
pub fn push_v1(out: &mut Vec<u8>) {
    out.push(1);
}

/// An empty body.
#[feature_gate(search_v2, fallback = nothing_v1)]
pub fn nothing() {}

/// `nothing` while `search_v2` is off.
pub fn nothing_v1() {}

/// Evaluated against an explicit context.
#[feature_gate(search_v2, fallback = for_user_v1, context = ctx)]
pub fn for_user(ctx: &Context) -> &'static str {
    "v2"
}

/// `for_user` while `search_v2` is off.
#[must_use]
pub fn for_user_v1(_ctx: &Context) -> &'static str {
    "v1"
}

/// Outcomes recorded for the guarded rollout; `?` in the body.
///
/// # Errors
/// When `amount` is not a whole number.
#[feature_gate(new_checkout, fallback = pay_v1, measure)]
pub fn pay(amount: &str) -> Result<u64, std::num::ParseIntError> {
    let cents: u64 = amount.parse()?;
    Ok(cents * 2)
}

/// `pay` while `new_checkout` is off.
///
/// # Errors
/// When `amount` is not a whole number.
pub fn pay_v1(amount: &str) -> Result<u64, std::num::ParseIntError> {
    amount.parse()
}

/// `measure` and `trace` together on a single-expression body.
#[feature_gate(new_checkout, fallback = quote_v1, measure, trace)]
pub fn quote(amount: u64) -> Option<u64> {
    amount.checked_mul(2)
}

/// `quote` while `new_checkout` is off.
#[must_use]
pub fn quote_v1(amount: u64) -> Option<u64> {
    Some(amount)
}

/// One implementation per variant; the body is the manifest default.
#[feature_gate(checkout_layout, "two-col" = layout_two, one_page = layout_one)]
pub fn layout(items: usize) -> String {
    format!("classic, {items} items")
}

/// The `two-col` layout.
#[must_use]
pub fn layout_two(items: usize) -> String {
    format!("two-col, {items} items")
}

/// The `one_page` layout.
#[must_use]
pub fn layout_one(items: usize) -> String {
    format!("one_page, {items} items")
}

/// A variant gate with `variant =`, a context, a module path and trace.
#[feature_gate(checkout_layout, variant = "one_page", classic = columns_classic, "two-col" = columns_two, context = ctx, module = crate::second, trace)]
pub fn columns(ctx: &Context) -> u8 {
    3
}

/// The classic layout's columns.
#[must_use]
pub fn columns_classic(_ctx: &Context) -> u8 {
    1
}

/// The `two-col` layout's columns.
#[must_use]
pub fn columns_two(_ctx: &Context) -> u8 {
    2
}

/// A static on/off flag: the compiler picks the side.
#[feature_gate(dark_mode, fallback = theme_light)]
pub fn theme() -> &'static str {
    "dark"
}

/// The theme while `dark_mode` is off.
#[must_use]
pub fn theme_light() -> &'static str {
    "light"
}

/// A static flag with a context and trace.
#[feature_gate(dark_mode, fallback = contrast_low, context = ctx, trace)]
pub fn contrast(ctx: &Context) -> u8 {
    9
}

/// The contrast while `dark_mode` is off.
#[must_use]
pub fn contrast_low(_ctx: &Context) -> u8 {
    1
}

/// A static variant flag.
#[feature_gate(density, compact = row_height_compact)]
pub fn row_height() -> u8 {
    24
}

/// The compact row height.
#[must_use]
pub fn row_height_compact() -> u8 {
    16
}

/// Generics with a where-clause.
#[feature_gate(search_v2, fallback = largest_v1)]
pub fn largest<T>(items: &[T]) -> Option<&T>
where
    T: Ord,
{
    items.iter().max()
}

/// `largest` while `search_v2` is off.
pub fn largest_v1<T>(items: &[T]) -> Option<&T>
where
    T: Ord,
{
    items.first()
}

/// An `impl Trait` return.
#[feature_gate(search_v2, fallback = digits_v1)]
pub fn digits(n: u32) -> impl Iterator<Item = u32> {
    n.to_string()
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect::<Vec<_>>()
        .into_iter()
}

/// `digits` while `search_v2` is off.
#[must_use]
pub fn digits_v1(n: u32) -> std::vec::IntoIter<u32> {
    vec![n].into_iter()
}

/// `async fn`, single expression.
#[feature_gate(search_v2, fallback = load_v1)]
pub async fn load(id: u32) -> u32 {
    id * 2
}

/// `load` while `search_v2` is off.
pub async fn load_v1(id: u32) -> u32 {
    std::future::ready(id).await
}

/// `async fn`, traced, with statements.
#[feature_gate(search_v2, fallback = fetch_v1, trace)]
pub async fn fetch(id: u32) -> u32 {
    let id = load(id).await;
    id + 1
}

/// `fetch` while `search_v2` is off.
pub async fn fetch_v1(id: u32) -> u32 {
    std::future::ready(id).await
}

/// `async fn` measured.
///
/// # Errors
/// When there is nothing to settle.
#[feature_gate(new_checkout, fallback = settle_v1, measure)]
pub async fn settle(amount: u64) -> Result<u64, String> {
    if amount == 0 {
        return Err("nothing to settle".to_owned());
    }
    Ok(amount * 2)
}

/// `settle` while `new_checkout` is off.
///
/// # Errors
/// Never; the signature is `settle`'s.
pub async fn settle_v1(amount: u64) -> Result<u64, String> {
    Ok(std::future::ready(amount).await)
}

/// `unsafe fn`.
///
/// # Safety
/// `p` points to a readable `u8`.
#[feature_gate(search_v2, fallback = read_v1)]
pub unsafe fn read(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { *p }.wrapping_mul(2)
}

/// `read` while `search_v2` is off.
///
/// # Safety
/// As [`read`].
#[must_use]
pub unsafe fn read_v1(p: *const u8) -> u8 {
    // SAFETY: the caller's contract.
    unsafe { *p }
}

/// A type with gated methods.
#[derive(Debug, Default)]
pub struct Index {
    /// Hits so far.
    pub hits: u32,
}

impl Index {
    /// `&self`, fallback by plain name.
    #[feature_gate(search_v2, fallback = hits_v1)]
    #[must_use]
    pub fn hits(&self) -> u32 {
        self.hits * 2
    }

    /// `hits` while `search_v2` is off.
    #[must_use]
    pub fn hits_v1(&self) -> u32 {
        self.hits
    }

    /// `&mut self`, fallback as `Self::old`.
    #[feature_gate(search_v2, fallback = Self::add_v1)]
    pub fn add(&mut self, n: u32) {
        self.hits += 2 * n;
    }

    /// `add` while `search_v2` is off.
    pub fn add_v1(&mut self, n: u32) {
        self.hits += n;
    }

    /// `self` by value, traced.
    #[feature_gate(search_v2, fallback = Self::into_hits_v1, trace)]
    #[must_use]
    pub fn into_hits(self) -> u32 {
        self.hits * 2
    }

    /// `into_hits` while `search_v2` is off.
    #[must_use]
    pub fn into_hits_v1(self) -> u32 {
        self.hits
    }

    /// An associated function without `self`.
    #[feature_gate(search_v2, fallback = Self::empty_v1)]
    #[must_use]
    pub fn empty() -> Index {
        Index { hits: 2 }
    }

    /// `empty` while `search_v2` is off.
    #[must_use]
    pub fn empty_v1() -> Index {
        Index { hits: 1 }
    }

    /// An `async` method, measured.
    #[feature_gate(new_checkout, fallback = Self::refresh_v1, measure)]
    pub async fn refresh(&mut self) -> Option<u32> {
        self.hits += 2;
        Some(self.hits)
    }

    /// `refresh` while `new_checkout` is off.
    pub async fn refresh_v1(&mut self) -> Option<u32> {
        self.hits += std::future::ready(1).await;
        Some(self.hits)
    }
}

/// A trait whose implementation is gated.
pub trait Describe {
    /// One line about `self`.
    fn describe(&self) -> String;
}

impl Describe for Index {
    #[feature_gate(search_v2, fallback = describe_v1)]
    fn describe(&self) -> String {
        format!("index v2 ({} hits)", self.hits)
    }
}

impl Index {
    fn describe_v1(&self) -> String {
        format!("index ({} hits)", self.hits)
    }
}

impl std::fmt::Display for Index {
    #[feature_gate(search_v2, fallback = fmt_v1, trace)]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} hits", self.hits * 2)
    }
}

impl Index {
    fn fmt_v1(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} hit(s)", self.hits)
    }
}

/// Runs a future that never waits to completion (the forms above never wait).
pub fn block_on<F: Future>(future: F) -> F::Output {
    use std::task::{Context as TaskContext, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

// rustfmt would spread these over several lines, and the point is that they are not.
#[rustfmt::skip]
pub mod one_line;

#[cfg(test)]
mod tests;
