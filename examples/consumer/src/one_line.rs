//! The same forms, each written on one line.
//!
//! rustc's `unused_braces` looks only at one-line blocks, so a body nested in a
//! generated block warns here and not in the multi-line forms.

use flags_runtime::{Context, feature_gate};

/// Single expression.
#[feature_gate(search_v2, fallback = crate::rank_v1)]
pub fn rank(query: &str) -> usize { query.len() * 2 }

/// Single expression, traced.
#[feature_gate(search_v2, fallback = crate::rank_v1, trace)]
pub fn rank_traced(query: &str) -> usize { query.len() * 2 }

/// Single expression, with a context.
#[feature_gate(search_v2, fallback = crate::for_user_v1, context = ctx)]
pub fn for_user(ctx: &Context) -> &'static str { "v2" }

/// Measured.
#[feature_gate(new_checkout, fallback = crate::quote_v1, measure)]
pub fn quote(amount: u64) -> Option<u64> { amount.checked_mul(2) }

/// Measured and traced.
#[feature_gate(new_checkout, fallback = crate::quote_v1, measure, trace)]
pub fn quote_traced(amount: u64) -> Option<u64> { amount.checked_mul(2) }

/// Variants.
#[feature_gate(checkout_layout, "two-col" = crate::layout_two, one_page = crate::layout_one)]
pub fn layout(items: usize) -> String { format!("classic, {items} items") }

/// Variants, traced, with a context.
#[feature_gate(checkout_layout, "two-col" = layout_for_two, one_page = layout_for_two, context = ctx, trace)]
pub fn layout_for(ctx: &Context, items: usize) -> String { format!("classic, {items} items, {}", ctx.targeting_key().unwrap_or("-")) }

/// `layout_for` in the other layouts.
#[must_use]
pub fn layout_for_two(_ctx: &Context, items: usize) -> String { format!("two-col, {items} items") }

/// A static flag.
#[feature_gate(dark_mode, fallback = crate::theme_light)]
pub fn theme() -> &'static str { "dark" }

/// A static flag, traced, with a context.
#[feature_gate(dark_mode, fallback = crate::contrast_low, context = ctx, trace)]
pub fn contrast(ctx: &Context) -> u8 { 9 }

/// A static variant flag.
#[feature_gate(density, compact = crate::row_height_compact)]
pub fn row_height() -> u8 { 24 }

/// Generics.
#[feature_gate(search_v2, fallback = crate::largest_v1)]
pub fn largest<T: Ord>(items: &[T]) -> Option<&T> { items.iter().max() }

/// `impl Trait`.
#[feature_gate(search_v2, fallback = crate::digits_v1)]
pub fn digits(n: u32) -> impl Iterator<Item = u32> { vec![n / 10, n % 10].into_iter() }

/// `async`.
#[feature_gate(search_v2, fallback = crate::load_v1)]
pub async fn load(id: u32) -> u32 { id * 2 }

/// `async`, traced.
#[feature_gate(search_v2, fallback = crate::load_v1, trace)]
pub async fn load_traced(id: u32) -> u32 { id * 2 }

/// `async`, measured.
#[feature_gate(new_checkout, fallback = crate::settle_v1, measure)]
pub async fn settle(amount: u64) -> Result<u64, String> { Ok(amount * 2) }

/// `unsafe fn`.
///
/// # Safety
/// `p` points to a readable `u8`.
#[feature_gate(search_v2, fallback = crate::read_v1)]
pub unsafe fn read(p: *const u8) -> u8 { unsafe { *p }.wrapping_mul(2) }

/// A type with one-line methods.
#[derive(Debug, Default)]
pub struct Counter {
    /// The count.
    pub n: u32,
}

impl Counter {
    /// `&self`.
    #[feature_gate(search_v2, fallback = Self::get_v1)]
    #[must_use]
    pub fn get(&self) -> u32 { self.n * 2 }

    /// `get` while `search_v2` is off.
    #[must_use]
    pub fn get_v1(&self) -> u32 { self.n }

    /// `&mut self`, traced.
    #[feature_gate(search_v2, fallback = bump_v1, trace)]
    pub fn bump(&mut self) { self.n += 2 }

    /// `bump` while `search_v2` is off.
    pub fn bump_v1(&mut self) { self.n += 1 }

    /// `self`, measured.
    #[feature_gate(new_checkout, fallback = Self::take_v1, measure)]
    #[must_use]
    pub fn take(self) -> Option<u32> { Some(self.n * 2) }

    /// `take` while `new_checkout` is off.
    #[must_use]
    pub fn take_v1(self) -> Option<u32> { Some(self.n) }
}

impl crate::Describe for Counter {
    #[feature_gate(search_v2, fallback = Self::describe_v1)]
    fn describe(&self) -> String { format!("counter v2 at {}", self.n) }
}

impl Counter {
    fn describe_v1(&self) -> String { format!("counter at {}", self.n) }
}
