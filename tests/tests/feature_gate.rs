//! `#[feature_gate]` at run time: every function form routed under both states of its
//! flag (scoped overrides, so tests in parallel never see each other's), every variant
//! of a variant flag, the `context` form, static flags routed at compile time, the
//! per-side counters and the `trace` span. Manifest: `tests/gate.toml`; one block
//! uses `tests/flags.toml` through the default manifest path and `module = ...`.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

use flags_runtime::{Context, feature_gate};

flags_runtime::flags!("gate.toml");
// The same crate's other manifest, under another module name: gates that name it use
// the default `manifest` (`flags.toml`) and `module = crate::shop`.
flags_runtime::flags!(mod shop = "flags.toml");

// ---- a free function, by an on/off flag ---------------------------------------------

/// The new ranking, the body: runs when `new_engine` is on.
#[feature_gate(new_engine, fallback = rank_v1, manifest = "gate.toml")]
fn rank(query: &str) -> usize {
    query.len() * 2
}

fn rank_v1(query: &str) -> usize {
    query.len()
}

#[test]
fn free_function_follows_the_flag() {
    assert_eq!(rank("abc"), 3, "off by default: the fallback");
    {
        let _on = flags::REGISTRY
            .scoped_overrides()
            .set(flags::NEW_ENGINE, true);
        assert_eq!(rank("abc"), 6, "on: the body");
    }
    let _off = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, false);
    assert_eq!(rank("abcd"), 4);
}

/// The flag written as a string, in the long `flag = ...` form.
#[feature_gate(flag = "new_engine", fallback = greeting_v1, manifest = "gate.toml")]
fn greeting(name: String, excited: bool) -> String {
    format!("Hello, {name}{}", if excited { "!" } else { "." })
}

fn greeting_v1(name: String, excited: bool) -> String {
    format!("hi {name}{}", if excited { "!" } else { "" })
}

#[test]
fn flag_by_string_and_owned_parameters() {
    assert_eq!(greeting("Ann".to_owned(), true), "hi Ann!");
    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    assert_eq!(greeting("Ann".to_owned(), false), "Hello, Ann.");
}

// ---- inherent methods: &self, &mut self, self, and an associated function -----------

#[derive(Debug, PartialEq)]
struct Tally {
    n: u32,
}

impl Tally {
    #[feature_gate(new_engine, fallback = Self::new_v1, manifest = "gate.toml")]
    fn new(n: u32) -> Self {
        Tally { n: n * 10 }
    }

    fn new_v1(n: u32) -> Self {
        Tally { n }
    }

    #[feature_gate(new_engine, fallback = value_v1, manifest = "gate.toml")]
    fn value(&self) -> u32 {
        self.n + 1000
    }

    fn value_v1(&self) -> u32 {
        self.n
    }

    #[feature_gate(new_engine, fallback = Self::bump_v1, manifest = "gate.toml")]
    fn bump(&mut self, by: u32) {
        self.n += by * 2;
    }

    fn bump_v1(&mut self, by: u32) {
        self.n += by;
    }

    #[feature_gate(new_engine, fallback = finish_v1, manifest = "gate.toml")]
    fn finish(self) -> String {
        format!("v2:{}", self.n)
    }

    fn finish_v1(self) -> String {
        format!("v1:{}", self.n)
    }
}

#[test]
fn inherent_methods_follow_the_flag() {
    let mut t = Tally::new(1);
    assert_eq!(t, Tally { n: 1 });
    assert_eq!(t.value(), 1);
    t.bump(3);
    assert_eq!(t.n, 4);
    assert_eq!(t.finish(), "v1:4");

    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    let mut t = Tally::new(1);
    assert_eq!(t, Tally { n: 10 });
    assert_eq!(t.value(), 1010);
    t.bump(3);
    assert_eq!(t.n, 16);
    assert_eq!(t.finish(), "v2:16");
}

// ---- trait-impl methods ---------------------------------------------------------------

trait Shape {
    fn area(&self) -> u32;
    fn grow(&mut self, by: u32);
    fn into_label(self) -> String;
}

struct Square(u32);

impl Square {
    fn area_v1(&self) -> u32 {
        self.0 * 4 // the perimeter, by mistake: what v2 fixes
    }
    fn grow_v1(&mut self, by: u32) {
        self.0 += by;
    }
    fn into_label_v1(self) -> String {
        format!("square {}", self.0)
    }
}

impl Shape for Square {
    #[feature_gate(new_engine, fallback = area_v1, manifest = "gate.toml")]
    fn area(&self) -> u32 {
        self.0 * self.0
    }

    #[feature_gate(new_engine, fallback = grow_v1, manifest = "gate.toml")]
    fn grow(&mut self, by: u32) {
        self.0 *= by;
    }

    #[feature_gate(new_engine, fallback = into_label_v1, manifest = "gate.toml")]
    fn into_label(self) -> String {
        format!("Square(side = {})", self.0)
    }
}

#[test]
fn trait_impl_methods_follow_the_flag() {
    let mut s = Square(3);
    assert_eq!(s.area(), 12);
    s.grow(2);
    assert_eq!(s.0, 5);
    assert_eq!(s.into_label(), "square 5");

    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    let mut s = Square(3);
    assert_eq!(s.area(), 9);
    s.grow(2);
    assert_eq!(s.0, 6);
    // Through the trait object too.
    let dynamic: &dyn Shape = &s;
    assert_eq!(dynamic.area(), 36);
    assert_eq!(s.into_label(), "Square(side = 6)");
}

// ---- generics with a where-clause, impl Trait in and out -----------------------------

#[feature_gate(new_engine, fallback = total_v1, manifest = "gate.toml")]
fn total<T, I>(items: I, start: T) -> T
where
    I: IntoIterator<Item = T>,
    T: std::ops::Add<Output = T> + Copy,
{
    items.into_iter().fold(start, |a, b| a + b + b)
}

fn total_v1<T, I>(items: I, start: T) -> T
where
    I: IntoIterator<Item = T>,
    T: std::ops::Add<Output = T> + Copy,
{
    items.into_iter().fold(start, |a, b| a + b)
}

/// `impl Trait` out: both sides return the same concrete type.
#[feature_gate(new_engine, fallback = evens_v1, manifest = "gate.toml")]
fn evens(limit: u32, label: impl std::fmt::Display) -> impl Iterator<Item = String> {
    let label = label.to_string();
    (0..limit)
        .filter(|n| n % 2 == 0)
        .map(|n| format!("{label}{n}"))
        .collect::<Vec<_>>()
        .into_iter()
}

fn evens_v1(limit: u32, label: impl std::fmt::Display) -> std::vec::IntoIter<String> {
    vec![format!("{label}<{limit}")].into_iter()
}

/// A generic method in a generic impl.
struct Wrapper<T>(T);

impl<T: std::fmt::Debug + Clone> Wrapper<T> {
    #[feature_gate(new_engine, fallback = pair_v1, manifest = "gate.toml")]
    fn pair<U>(&self, other: U) -> (T, U)
    where
        U: std::fmt::Debug,
    {
        (self.0.clone(), other)
    }

    fn pair_v1<U>(&self, other: U) -> (T, U)
    where
        U: std::fmt::Debug,
    {
        let _ = format!("{other:?}");
        (self.0.clone(), other)
    }

    #[feature_gate(new_engine, fallback = show_v1, manifest = "gate.toml")]
    fn show(&self) -> String {
        format!("v2 {:?}", self.0)
    }

    fn show_v1(&self) -> String {
        format!("v1 {:?}", self.0)
    }
}

#[test]
fn generic_functions_and_impl_trait() {
    assert_eq!(total([1u64, 2, 3], 10), 16);
    assert_eq!(total(vec![0.5f64, 0.25], 0.0), 0.75);
    assert_eq!(evens(5, "n").collect::<Vec<_>>(), ["n<5"]);
    assert_eq!(Wrapper(7u8).pair("x"), (7, "x"));
    assert_eq!(Wrapper("a").show(), "v1 \"a\"");

    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    assert_eq!(total([1u64, 2, 3], 10), 22);
    assert_eq!(total(vec![0.5f64, 0.25], 0.0), 1.5);
    assert_eq!(evens(5, "n").collect::<Vec<_>>(), ["n0", "n2", "n4"]);
    assert_eq!(Wrapper(7u8).pair(1.5), (7, 1.5));
    assert_eq!(Wrapper("a").show(), "v2 \"a\"");
}

// ---- async fn ---------------------------------------------------------------------------

/// Drives a future on this thread (so thread-local overrides apply), re-polling after
/// `Pending`: the futures here wake themselves at once.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    let mut polls = 0;
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        polls += 1;
        assert!(polls < 1000, "the future never completed");
    }
}

/// Returns `Pending` once, so that the routed `.await` really suspends.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[feature_gate(new_engine, fallback = fetch_v1, manifest = "gate.toml")]
async fn fetch(id: u32) -> String {
    YieldOnce(false).await;
    format!("v2/{id}")
}

async fn fetch_v1(id: u32) -> String {
    YieldOnce(false).await;
    format!("v1/{id}")
}

struct Client {
    calls: u32,
}

impl Client {
    #[feature_gate(new_engine, fallback = send_v1, manifest = "gate.toml")]
    async fn send(&mut self, body: &str) -> usize {
        YieldOnce(false).await;
        self.calls += 10;
        body.len() * 2
    }

    async fn send_v1(&mut self, body: &str) -> usize {
        self.calls += 1;
        body.len()
    }
}

#[test]
fn async_functions_follow_the_flag() {
    let mut client = Client { calls: 0 };
    assert_eq!(block_on(fetch(7)), "v1/7");
    assert_eq!(block_on(client.send("abc")), 3);
    assert_eq!(client.calls, 1);

    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    assert_eq!(block_on(fetch(7)), "v2/7");
    assert_eq!(block_on(client.send("abc")), 6);
    assert_eq!(client.calls, 11);
}

// ---- unsafe fn -----------------------------------------------------------------------

/// # Safety
/// `i` must be in bounds of the allocation `bytes` points into.
#[feature_gate(new_engine, fallback = byte_at_v1, manifest = "gate.toml")]
unsafe fn byte_at(bytes: *const u8, i: usize) -> u8 {
    // SAFETY: the caller keeps `i` in bounds.
    unsafe { *bytes.add(i) }.wrapping_mul(2)
}

/// # Safety
/// As [`byte_at`].
unsafe fn byte_at_v1(bytes: *const u8, i: usize) -> u8 {
    // SAFETY: the caller keeps `i` in bounds.
    unsafe { *bytes.add(i) }
}

#[test]
fn unsafe_functions_follow_the_flag() {
    let data = [5u8, 6, 7];
    // SAFETY: index 2 is in bounds of `data`.
    assert_eq!(unsafe { byte_at(data.as_ptr(), 2) }, 7);
    let _on = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    // SAFETY: as above.
    assert_eq!(unsafe { byte_at(data.as_ptr(), 2) }, 14);
}

// ---- variant flags ---------------------------------------------------------------------

/// The body implements `one_page`; `two-col` is not an identifier, so it is quoted.
#[feature_gate(
    layout,
    variant = "one_page",
    classic = render_classic,
    "two-col" = render_two_col,
    manifest = "gate.toml"
)]
fn render(items: usize) -> String {
    format!("one page, {items} items")
}

fn render_classic(items: usize) -> String {
    format!("classic, {items} items")
}

fn render_two_col(items: usize) -> String {
    format!("two columns, {items} items")
}

/// Without `variant`, the body implements the manifest default (`classic`).
#[feature_gate(layout, one_page = width_one_page, "two-col" = width_two_col, manifest = "gate.toml")]
fn width() -> u32 {
    100
}

fn width_one_page() -> u32 {
    300
}

fn width_two_col() -> u32 {
    200
}

#[test]
fn every_variant_routes_to_its_implementation() {
    use flags::Layout;
    assert_eq!(render(3), "classic, 3 items", "the default variant");
    assert_eq!(width(), 100);
    for (variant, text, w) in [
        (Layout::Classic, "classic, 3 items", 100),
        (Layout::TwoCol, "two columns, 3 items", 200),
        (Layout::OnePage, "one page, 3 items", 300),
    ] {
        let _v = flags::REGISTRY
            .scoped_overrides()
            .set(flags::LAYOUT, variant);
        assert_eq!(render(3), text, "{variant:?}");
        assert_eq!(width(), w, "{variant:?}");
    }
}

/// The other manifest, by the default path (`flags.toml`) and `module`: its
/// `checkout_layout` defaults to `two-col`, which the body implements.
#[feature_gate(checkout_layout, module = crate::shop, classic = columns_classic, one_page = columns_one_page)]
fn columns() -> u8 {
    2
}

fn columns_classic() -> u8 {
    1
}

fn columns_one_page() -> u8 {
    0
}

#[test]
fn default_manifest_and_module_argument() {
    use shop::CheckoutLayout;
    assert_eq!(columns(), 2);
    for (variant, n) in [
        (CheckoutLayout::Classic, 1),
        (CheckoutLayout::TwoCol, 2),
        (CheckoutLayout::OnePage, 0),
    ] {
        let _v = shop::REGISTRY
            .scoped_overrides()
            .set(shop::CHECKOUT_LAYOUT, variant);
        assert_eq!(columns(), n, "{variant:?}");
    }
}

// ---- context = ctx -------------------------------------------------------------------------

#[feature_gate(vip_pricing, fallback = price_regular, context = ctx, manifest = "gate.toml")]
fn price(ctx: &Context, cents: u64) -> u64 {
    cents * 8 / 10
}

fn price_regular(_ctx: &Context, cents: u64) -> u64 {
    cents
}

#[feature_gate(tier_for_key, variant = "gold", basic = perks_basic, context = &customer.ctx, manifest = "gate.toml")]
fn perks(customer: &Customer) -> &'static str {
    "lounge"
}

fn perks_basic(_customer: &Customer) -> &'static str {
    "none"
}

struct Customer {
    ctx: Context,
}

#[test]
fn context_decides_the_side() {
    let vip = Context::with_key("vip-1");
    let other = Context::with_key("user-9");
    assert_eq!(price(&vip, 1000), 800);
    assert_eq!(price(&other, 1000), 1000);
    // The explicit context wins over the ambient one.
    let _ambient = other.enter();
    assert_eq!(price(&vip, 1000), 800);

    let gold = Customer {
        ctx: Context::with_key("vip-1"),
    };
    let basic = Customer {
        ctx: Context::with_key("vip-2"),
    };
    assert_eq!(perks(&gold), "lounge");
    assert_eq!(perks(&basic), "none");

    // An override still decides over the rules.
    let _off = flags::REGISTRY
        .scoped_overrides()
        .set(flags::VIP_PRICING, false);
    assert_eq!(price(&vip, 1000), 1000);
}

// ---- static flags: routed by the compiler --------------------------------------------------

#[feature_gate(static_on, fallback = never_called, manifest = "gate.toml")]
fn static_side() -> &'static str {
    "body"
}

fn never_called() -> &'static str {
    panic!("the fallback of a flag that is statically on ran")
}

#[feature_gate(static_off, fallback = static_fallback, manifest = "gate.toml")]
fn static_body_unused() -> &'static str {
    panic!("the body of a flag that is statically off ran")
}

fn static_fallback() -> &'static str {
    "fallback"
}

#[feature_gate(static_density, variant = "comfortable", compact = density_compact, context = &Context::with_key("vip-1"), manifest = "gate.toml")]
fn density() -> u8 {
    2
}

fn density_compact() -> u8 {
    panic!("the variant a static flag is not at ran")
}

#[test]
fn static_flags_route_at_compile_time() {
    assert_eq!(static_side(), "body");
    assert_eq!(static_body_unused(), "fallback");
    assert_eq!(density(), 2);
    // No override reaches them: they are constants, and scopes on the registry do not
    // turn them into run-time reads.
    let _all = flags::REGISTRY
        .scoped_overrides()
        .set(flags::NEW_ENGINE, true);
    assert_eq!(static_side(), "body");
    assert_eq!(static_body_unused(), "fallback");
    assert_eq!(density(), 2);
}

// ---- counts per side -------------------------------------------------------------------------

static COUNTED_CALLS: AtomicU64 = AtomicU64::new(0);

#[feature_gate(counted, fallback = counted_off, manifest = "gate.toml")]
fn counted_fn() -> bool {
    COUNTED_CALLS.fetch_add(1, Ordering::Relaxed);
    true
}

fn counted_off() -> bool {
    COUNTED_CALLS.fetch_add(1, Ordering::Relaxed);
    false
}

#[feature_gate(counted_layout, right = side_right, center = side_center, manifest = "gate.toml")]
fn side() -> char {
    'L'
}

fn side_right() -> char {
    'R'
}

fn side_center() -> char {
    'C'
}

#[test]
fn counts_per_side_once_counting_is_on() {
    use flags::CountedLayout;
    // Calls before counting is on run but are not counted.
    assert!(!counted_fn());
    assert_eq!(side(), 'L');
    let gate = |function: &str| {
        flags::REGISTRY
            .gate_counts()
            .into_iter()
            .find(|g| g.function == function)
    };
    assert_eq!(gate("counted_fn"), None, "no call counted yet");

    flags::REGISTRY.set_counting(true);
    for _ in 0..3 {
        assert!(!counted_fn());
    }
    {
        let _on = flags::REGISTRY.scoped_overrides().set(flags::COUNTED, true);
        for _ in 0..5 {
            assert!(counted_fn());
        }
    }
    for (variant, n, expect) in [
        (CountedLayout::Left, 1, 'L'),
        (CountedLayout::Right, 2, 'R'),
        (CountedLayout::Center, 4, 'C'),
    ] {
        let _v = flags::REGISTRY
            .scoped_overrides()
            .set(flags::COUNTED_LAYOUT, variant);
        for _ in 0..n {
            assert_eq!(side(), expect);
        }
    }
    // A static flag's gate has no run-time side to count.
    assert_eq!(static_side(), "body");

    let counts = gate("counted_fn").expect("counted_fn recorded calls");
    assert_eq!(counts.flag, "counted");
    assert_eq!(counts.sides, [("off", 3), ("on", 5)]);
    assert_eq!((counts.get("off"), counts.get("on")), (3, 5));
    let sides = gate("side").expect("side recorded calls");
    assert_eq!(sides.flag, "counted_layout");
    assert_eq!(sides.sides, [("left", 1), ("right", 2), ("center", 4)]);
    assert_eq!(gate("static_side"), None);
    assert_eq!(
        COUNTED_CALLS.load(Ordering::Relaxed),
        9,
        "every call ran once"
    );
}

// ---- trace ---------------------------------------------------------------------------------

/// What the recording subscriber saw: span names with their fields (a span's id is its
/// position here plus one), events' fields, and how often each span was entered and
/// exited.
#[derive(Default)]
struct Seen {
    spans: Vec<(String, Vec<(String, String)>)>,
    events: Vec<Vec<(String, String)>>,
    enters: Vec<u64>,
    exits: Vec<u64>,
}

/// A minimal subscriber that records every span and event on this thread.
struct Recorder {
    seen: Arc<Mutex<Seen>>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields::default();
        span.record(&mut fields);
        let mut seen = self.seen.lock().unwrap();
        seen.spans
            .push((span.metadata().name().to_owned(), fields.0));
        seen.enters.push(0);
        seen.exits.push(0);
        tracing::span::Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == "flags::gate" {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.seen.lock().unwrap().events.push(fields.0);
        }
    }
    fn enter(&self, id: &tracing::span::Id) {
        self.seen.lock().unwrap().enters[span_index(id)] += 1;
    }
    fn exit(&self, id: &tracing::span::Id) {
        self.seen.lock().unwrap().exits[span_index(id)] += 1;
    }
}

fn span_index(id: &tracing::span::Id) -> usize {
    usize::try_from(id.into_u64() - 1).unwrap()
}

thread_local! {
    static TRACED_BODY_RAN: Cell<bool> = const { Cell::new(false) };
}

#[feature_gate(traced, fallback = traced_off, trace, manifest = "gate.toml")]
fn traced_fn(x: u32) -> u32 {
    TRACED_BODY_RAN.with(|r| r.set(true));
    x + 1
}

fn traced_off(x: u32) -> u32 {
    x
}

#[feature_gate(traced, fallback = traced_async_off, trace, manifest = "gate.toml")]
async fn traced_async() -> u8 {
    YieldOnce(false).await;
    1
}

async fn traced_async_off() -> u8 {
    YieldOnce(false).await;
    0
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn trace_emits_a_span_with_flag_and_side() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let recorder = Recorder {
        seen: Arc::clone(&seen),
        next_id: AtomicU64::new(0),
    };
    tracing::subscriber::with_default(recorder, || {
        assert_eq!(traced_fn(1), 1);
        assert_eq!(block_on(traced_async()), 0);
        let _on = flags::REGISTRY.scoped_overrides().set(flags::TRACED, true);
        assert_eq!(traced_fn(1), 2);

        // In an `async fn` the span instruments the side's future: entered on every
        // poll, and exited before the future yields, never held across the `.await`.
        let mut future = pin!(traced_async());
        let mut cx = TaskContext::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        {
            let seen = seen.lock().unwrap();
            let last = seen.spans.len() - 1;
            assert_eq!(field(&seen.spans[last].1, "side"), Some("on"));
            assert_eq!((seen.enters[last], seen.exits[last]), (1, 1));
        }
        assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(1));
        let seen = seen.lock().unwrap();
        let last = seen.spans.len() - 1;
        // Once per poll; `tracing` also enters it to drop the finished future.
        assert!(seen.enters[last] >= 2, "{:?}", seen.enters);
        assert_eq!(seen.enters[last], seen.exits[last]);
    });
    assert!(TRACED_BODY_RAN.with(Cell::get));
    let seen = seen.lock().unwrap();
    let gate_spans: Vec<_> = seen
        .spans
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name == "feature_gate")
        .collect();
    assert_eq!(gate_spans.len(), 4, "one span per call: {:?}", seen.spans);
    let expected = [
        ("off", "traced_fn"),
        ("off", "traced_async"),
        ("on", "traced_fn"),
        ("on", "traced_async"),
    ];
    for ((i, (_, fields)), (side, function)) in gate_spans.iter().zip(expected) {
        assert_eq!(field(fields, "flag"), Some("traced"));
        assert_eq!(field(fields, "side"), Some(side));
        assert_eq!(field(fields, "function"), Some(function));
        assert!(seen.enters[*i] >= 1, "span {i} was never entered");
        assert_eq!(seen.enters[*i], seen.exits[*i], "span {i} left entered");
    }
    assert!(
        seen.events.is_empty(),
        "spans, not events: {:?}",
        seen.events
    );
}
