//! The evaluation context: who a flag is evaluated for (a targeting key) and what is
//! known about them (typed attributes), passed explicitly or installed for a scope.
//!
//! A [`Context`] is cheap to clone (one reference count) so it can be installed as the
//! *ambient* context of a thread for a scope ([`Context::enter`], [`with_context`]) or
//! of an async task ([`Context::scope`], which re-installs it on every poll and so
//! follows the task across threads without depending on any async runtime).
//! Evaluation only reads it: no allocation, no lock. With no context at all a flag is
//! evaluated for the anonymous context.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::{Context as TaskContext, Poll};

/// Process-wide default attributes ([`Context::set_defaults`]); null when none. A
/// set is leaked when installed and never freed, so a reader may hold it forever.
static DEFAULTS: AtomicPtr<Inner> = AtomicPtr::new(std::ptr::null_mut());

/// Default attribute `name`, if one is set.
#[inline]
fn default_attr(name: &str) -> Option<&'static Attr> {
    let ptr = DEFAULTS.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `Box::leak` in `Context::set_defaults`
    // (published with a release store after the value was written) and is never
    // freed or written through again, so it is a valid `&'static Inner`.
    let defaults: &'static Inner = unsafe { ptr.as_ref() }?;
    defaults.attrs.iter().find(|a| *a.name == *name)
}

/// What a flag is evaluated for: a targeting key (user id, account id, …) and named
/// attributes.
///
/// Attributes are typed when set (string, number, bool; dates and versions as strings
/// in RFC 3339 and semver form) and compared as Unleash does: as text for the string
/// operators, as numbers for the numeric ones. The attribute names `key` and `userId`
/// refer to the targeting key.
///
/// # Examples
///
/// ```
/// use flags_runtime::Context;
///
/// let ctx = Context::with_key("user-42")
///     .attr("country", "fr")
///     .attr("age", 37)
///     .attr("beta", true)
///     .attr("appVersion", "2.4.1");
/// assert_eq!(ctx.targeting_key(), Some("user-42"));
/// assert_eq!(ctx.get("age"), Some("37"));
/// assert_eq!(ctx.get("userId"), Some("user-42"));
/// assert!(Context::anonymous().targeting_key().is_none());
/// ```
#[derive(Clone, Default)]
pub struct Context {
    /// `None` is the anonymous context; sharing keeps `clone` (and so `enter`)
    /// allocation-free.
    inner: Option<Arc<Inner>>,
}

#[derive(Clone, Default, PartialEq)]
struct Inner {
    key: Option<Attr>,
    attrs: Vec<Attr>,
}

/// One attribute, kept as text (how every operator but the numeric ones sees it)
/// with its number parsed once when set. The text is a `String` so that a context
/// kept for reuse can be re-keyed in its buffer ([`Context::rekey`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Attr {
    name: Box<str>,
    text: String,
    number: Option<f64>,
}

impl Attr {
    fn new(name: &str, value: AttrValue) -> Attr {
        let (text, number) = match value {
            AttrValue::Str(s) => {
                let number = number(&s);
                (s, number)
            }
            AttrValue::Num(n) => (n.to_string(), Some(n)),
            AttrValue::Bool(b) => (String::from(if b { "true" } else { "false" }), None),
        };
        Attr {
            name: Box::from(name),
            text,
            number,
        }
    }

    /// The value as text.
    #[inline]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The value as a number, when it is one.
    #[inline]
    pub(crate) fn number(&self) -> Option<f64> {
        self.number
    }
}

/// `text` read as a number as Yggdrasil reads a context value: Rust's float syntax,
/// no surrounding spaces, `inf` and `nan` included. Text with a character that no
/// number has (most keys: UUIDs, e-mail addresses) is refused before parsing, which
/// costs more than the scan.
fn number(text: &str) -> Option<f64> {
    let numeric = text
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'.' | b'+' | b'-' | b'e' | b'E'));
    if !numeric {
        let word = text.strip_prefix(['+', '-']).unwrap_or(text);
        if !["inf", "infinity", "nan"]
            .iter()
            .any(|w| word.eq_ignore_ascii_case(w))
        {
            return None;
        }
    }
    text.parse::<f64>().ok()
}

/// A typed attribute value; built with `From` from strings, numbers and bools.
///
/// # Examples
///
/// ```
/// use flags_runtime::AttrValue;
///
/// assert_eq!(AttrValue::from("fr"), AttrValue::Str("fr".to_owned()));
/// assert_eq!(AttrValue::from(3u8), AttrValue::Num(3.0));
/// assert_eq!(AttrValue::from(true), AttrValue::Bool(true));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// Text; also how dates (RFC 3339) and versions (semver) are given.
    Str(String),
    /// A number.
    Num(f64),
    /// A bool, compared as the text `true` / `false`.
    Bool(bool),
}

impl From<&str> for AttrValue {
    fn from(v: &str) -> Self {
        AttrValue::Str(v.to_owned())
    }
}
impl From<String> for AttrValue {
    fn from(v: String) -> Self {
        AttrValue::Str(v)
    }
}
impl From<&String> for AttrValue {
    fn from(v: &String) -> Self {
        AttrValue::Str(v.clone())
    }
}
impl From<bool> for AttrValue {
    fn from(v: bool) -> Self {
        AttrValue::Bool(v)
    }
}
impl From<f64> for AttrValue {
    fn from(v: f64) -> Self {
        AttrValue::Num(v)
    }
}
impl From<f32> for AttrValue {
    fn from(v: f32) -> Self {
        AttrValue::Num(f64::from(v))
    }
}
macro_rules! num_from {
    ($($t:ty),*) => {$(
        impl From<$t> for AttrValue {
            fn from(v: $t) -> Self {
                // Attribute numbers are compared as f64, as Unleash does; integers
                // beyond 2^53 lose precision exactly as they would there.
                AttrValue::Num(v as f64)
            }
        }
    )*};
}
num_from!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Context {
    /// The anonymous context: no key, no attributes.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// static ANON: Context = Context::anonymous();
    /// assert!(ANON.is_anonymous());
    /// ```
    #[must_use]
    pub const fn anonymous() -> Context {
        Context { inner: None }
    }

    /// An empty context to add a key and attributes to (same as [`Context::anonymous`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let ctx = Context::new().attr("sessionId", "s-1");
    /// assert_eq!(ctx.get("sessionId"), Some("s-1"));
    /// ```
    #[must_use]
    pub fn new() -> Context {
        Context::anonymous()
    }

    /// A context for targeting key `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// assert_eq!(Context::with_key("u1").targeting_key(), Some("u1"));
    /// ```
    #[must_use]
    pub fn with_key(key: impl Into<String>) -> Context {
        Context::new().key(key)
    }

    /// Sets the targeting key. An empty key is a key (Yggdrasil buckets `""` like
    /// any other user id); a context without a key is [`Context::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// assert_eq!(Context::new().key("acct-7").targeting_key(), Some("acct-7"));
    /// assert_eq!(Context::new().key("").targeting_key(), Some(""));
    /// ```
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Context {
        self.set_key(key);
        self
    }

    /// Sets the targeting key in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let mut ctx = Context::new();
    /// ctx.set_key("u9");
    /// assert_eq!(ctx.targeting_key(), Some("u9"));
    /// ```
    pub fn set_key(&mut self, key: impl Into<String>) {
        let key: String = key.into();
        let inner = self.make_mut();
        inner.key = Some(Attr::new("key", AttrValue::Str(key)));
    }

    /// Sets the targeting key in place to a copy of `key`, writing it into the
    /// previous key's buffer when this context is not shared (no clone of it is
    /// alive) and the buffer is large enough: a context kept for reuse, one per
    /// thread say, is re-keyed without allocating. Otherwise the same as
    /// [`Context::set_key`].
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let mut ctx = Context::with_key("user-1").attr("plan", "pro");
    /// ctx.rekey("user-2");
    /// assert_eq!(ctx.targeting_key(), Some("user-2"));
    /// assert_eq!(ctx.get("plan"), Some("pro"));
    /// ```
    pub fn rekey(&mut self, key: &str) {
        let inner = self.make_mut();
        match &mut inner.key {
            Some(attr) => {
                attr.text.clear();
                attr.text.push_str(key);
                attr.number = number(key);
            }
            None => inner.key = Some(Attr::new("key", AttrValue::Str(key.to_owned()))),
        }
    }

    /// Adds (or replaces) attribute `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let ctx = Context::new().attr("plan", "pro").attr("plan", "team");
    /// assert_eq!(ctx.get("plan"), Some("team"));
    /// ```
    #[must_use]
    pub fn attr(mut self, name: &str, value: impl Into<AttrValue>) -> Context {
        self.set_attr(name, value);
        self
    }

    /// Adds (or replaces) attribute `name` in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let mut ctx = Context::new();
    /// ctx.set_attr("seats", 12);
    /// assert_eq!(ctx.get("seats"), Some("12"));
    /// ```
    pub fn set_attr(&mut self, name: &str, value: impl Into<AttrValue>) {
        let attr = Attr::new(name, value.into());
        let inner = self.make_mut();
        match inner.attrs.iter_mut().find(|a| *a.name == *name) {
            Some(slot) => *slot = attr,
            None => inner.attrs.push(attr),
        }
    }

    fn make_mut(&mut self) -> &mut Inner {
        Arc::make_mut(self.inner.get_or_insert_with(Default::default))
    }

    /// The targeting key, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// assert_eq!(Context::with_key("k").targeting_key(), Some("k"));
    /// ```
    #[must_use]
    pub fn targeting_key(&self) -> Option<&str> {
        self.key_attr().map(Attr::text)
    }

    /// Whether the context has neither a key nor attributes.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// assert!(Context::new().is_anonymous());
    /// assert!(!Context::new().attr("a", 1).is_anonymous());
    /// ```
    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(|i| i.key.is_none() && i.attrs.is_empty())
    }

    /// Attribute `name` as text; `key` and `userId` name the targeting key (unless
    /// the context has no key and an attribute of that name).
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let ctx = Context::with_key("u").attr("beta", true);
    /// assert_eq!(ctx.get("beta"), Some("true"));
    /// assert_eq!(ctx.get("key"), Some("u"));
    /// assert_eq!(ctx.get("missing"), None);
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lookup(name).map(Attr::text)
    }

    #[inline]
    pub(crate) fn key_attr(&self) -> Option<&Attr> {
        self.inner.as_ref()?.key.as_ref()
    }

    #[inline]
    pub(crate) fn lookup(&self, name: &str) -> Option<&Attr> {
        if let Some(inner) = &self.inner {
            if let (Some(key), "key" | "userId") = (&inner.key, name) {
                return Some(key);
            }
            if let Some(a) = inner.attrs.iter().find(|a| *a.name == *name) {
                return Some(a);
            }
        }
        default_attr(name)
    }

    /// Sets attributes every evaluation context has unless it sets them itself, as
    /// Unleash SDKs add `appName`, `environment` and any fields the application
    /// configures to every context. The attributes of `defaults` are taken (its key
    /// is not: a default user makes no sense); a context's own attributes win.
    ///
    /// Meant to be called at start-up: each call replaces the previous defaults for
    /// evaluations that start afterwards, and keeps the previous set allocated for
    /// the rest of the process, so that evaluation reads them without a lock or a
    /// reference count.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// Context::set_defaults(&Context::new().attr("appName", "checkout").attr("environment", "prod"));
    /// let ctx = Context::with_key("u").attr("environment", "staging");
    /// assert_eq!(ctx.get("appName"), Some("checkout"));
    /// assert_eq!(ctx.get("environment"), Some("staging"));
    /// assert_eq!(Context::anonymous().get("appName"), Some("checkout"));
    /// ```
    pub fn set_defaults(defaults: &Context) {
        let inner = Inner {
            key: None,
            attrs: defaults
                .inner
                .as_ref()
                .map(|i| i.attrs.clone())
                .unwrap_or_default(),
        };
        DEFAULTS.store(Box::leak(Box::new(inner)), Ordering::Release);
    }

    /// Installs this context as the current thread's ambient context until the guard
    /// is dropped; the previous one comes back then. Guards must be dropped in the
    /// reverse order of their creation (as scopes are).
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    ///
    /// let ctx = Context::with_key("u1");
    /// {
    ///     let _guard = ctx.enter();
    ///     assert_eq!(Context::current().targeting_key(), Some("u1"));
    /// }
    /// assert!(Context::current().is_anonymous());
    /// ```
    #[must_use = "the context is only ambient while the guard lives"]
    pub fn enter(&self) -> ContextGuard {
        let prev = AMBIENT
            .try_with(|slot| match slot.try_borrow_mut() {
                Ok(mut slot) => Some(slot.replace(self.clone())),
                // Only reachable if a flag evaluation on this thread were running
                // user code while it reads the ambient context; it never does.
                Err(_) => None,
            })
            .ok()
            .flatten();
        ContextGuard {
            restore: prev,
            _not_send: PhantomData,
        }
    }

    /// The current thread's ambient context (a clone, for handing to another thread
    /// or task); anonymous when none is installed.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::{with_context, Context};
    ///
    /// let seen = with_context(&Context::with_key("u2"), Context::current);
    /// assert_eq!(seen.targeting_key(), Some("u2"));
    /// ```
    #[must_use]
    pub fn current() -> Context {
        with_ambient(Context::clone)
    }

    /// Wraps `future` so this context is ambient whenever it is polled, on whatever
    /// thread polls it. Works with any executor.
    ///
    /// # Examples
    ///
    /// ```
    /// use flags_runtime::Context;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    ///
    /// let task = Context::with_key("u3").scope(async { Context::current() });
    /// assert_eq!(block_on(task).targeting_key(), Some("u3"));
    /// ```
    pub fn scope<F: Future>(self, future: F) -> WithContext<F> {
        WithContext {
            context: self,
            future,
        }
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        match (&self.inner, &other.inner) {
            (Some(a), Some(b)) => a == b,
            (None, None) => true,
            (Some(x), None) | (None, Some(x)) => x.key.is_none() && x.attrs.is_empty(),
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The targeting key identifies a person: it is never printed.
        let mut d = f.debug_struct("Context");
        d.field("has_key", &self.targeting_key().is_some());
        if let Some(inner) = &self.inner {
            let names: Vec<&str> = inner.attrs.iter().map(|a| &*a.name).collect();
            d.field("attributes", &names);
        }
        d.finish()
    }
}

thread_local! {
    /// The ambient context of this thread.
    static AMBIENT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

static ANONYMOUS: Context = Context::anonymous();

/// Runs `f` with the ambient context (anonymous when none). The borrow is held only
/// while `f` runs; `f` is evaluation code that runs no user code, so nothing can try
/// to install a context meanwhile. `f` is borrowed, not moved, so that it can still
/// run (on the anonymous context) when thread-local storage is gone.
#[inline]
pub(crate) fn with_ambient<R>(f: impl Fn(&Context) -> R) -> R {
    let ran = AMBIENT.try_with(|slot| {
        let slot = slot.try_borrow().ok()?;
        Some(f(slot.as_ref().unwrap_or(&ANONYMOUS)))
    });
    match ran {
        Ok(Some(r)) => r,
        // Thread-local storage is being torn down: anonymous.
        _ => f(&ANONYMOUS),
    }
}

/// Restores the previous ambient context when dropped; see [`Context::enter`].
#[must_use = "the context is only ambient while the guard lives"]
pub struct ContextGuard {
    /// `Some(previous)` when this guard installed a context.
    restore: Option<Option<Context>>,
    /// The ambient context is per thread: the guard must be dropped where it was made.
    _not_send: PhantomData<*const ()>,
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.restore.take() {
            let _ = AMBIENT.try_with(|slot| {
                if let Ok(mut slot) = slot.try_borrow_mut() {
                    *slot = prev;
                }
            });
        }
    }
}

impl fmt::Debug for ContextGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextGuard").finish_non_exhaustive()
    }
}

/// Runs `f` with `ctx` as the ambient context of the current thread.
///
/// # Examples
///
/// ```
/// use flags_runtime::{with_context, Context};
///
/// let key = with_context(&Context::with_key("u4"), || {
///     Context::current().targeting_key().map(str::to_owned)
/// });
/// assert_eq!(key.as_deref(), Some("u4"));
/// ```
pub fn with_context<R>(ctx: &Context, f: impl FnOnce() -> R) -> R {
    let _guard = ctx.enter();
    f()
}

pin_project_lite::pin_project! {
    /// A future whose context is ambient on every poll; see [`Context::scope`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithContext<F> {
        context: Context,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = this.context.enter();
        this.future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_what_rust_parses_and_nothing_else() {
        for text in [
            "12",
            "-3",
            "+4.5",
            ".5",
            "5.",
            "1e5",
            "1E-5",
            "inf",
            "-Infinity",
            "+NaN",
            "nAn",
            "",
            "-",
            "e",
            ".",
            "--1",
            "1e",
            "0x10",
            " 1",
            "1 ",
            "infinit",
            "nana",
            "+-inf",
            "3f2a9c1e-0b4d-4c2e-9a6f-5d8e7b1c2a3f",
            "12345678-1234-1234-1234-123456789012",
            "user@example.com",
            "\u{661}\u{662}",
            "1\u{e9}",
        ] {
            // Bits, so that NaN equals NaN.
            let bits = |n: Option<f64>| n.map(f64::to_bits);
            assert_eq!(bits(number(text)), bits(text.parse().ok()), "{text:?}");
        }
        // Re-keying reads the new key's number, not the old one's.
        let mut ctx = Context::with_key("12");
        ctx.rekey("3f2a9c1e");
        assert_eq!(ctx.key_attr().and_then(Attr::number), None);
        ctx.rekey("7");
        assert_eq!(ctx.key_attr().and_then(Attr::number), Some(7.0));
    }

    #[test]
    fn attributes_are_typed_and_replaced() {
        let ctx = Context::with_key("u")
            .attr("n", 4.5)
            .attr("i", -3)
            .attr("b", false)
            .attr("s", " 12 ")
            .attr("t", "12")
            .attr("n", 5);
        assert_eq!(ctx.get("n"), Some("5"));
        assert_eq!(ctx.lookup("n").and_then(Attr::number), Some(5.0));
        assert_eq!(ctx.lookup("i").and_then(Attr::number), Some(-3.0));
        assert_eq!(ctx.get("b"), Some("false"));
        assert_eq!(ctx.lookup("b").and_then(Attr::number), None);
        // Spaces make it text, as Yggdrasil parses numbers.
        assert_eq!(ctx.lookup("s").and_then(Attr::number), None);
        assert_eq!(ctx.lookup("t").and_then(Attr::number), Some(12.0));
        assert_eq!(ctx.lookup("userId").map(Attr::text), Some("u"));
    }

    #[test]
    fn key_alias_falls_back_to_attribute_without_key() {
        let ctx = Context::new().attr("userId", "from-attr");
        assert_eq!(ctx.get("userId"), Some("from-attr"));
        assert_eq!(ctx.targeting_key(), None);
    }

    #[test]
    fn clones_are_independent() {
        let a = Context::with_key("a");
        let b = a.clone().attr("x", 1);
        assert_eq!(a.get("x"), None);
        assert_eq!(b.get("x"), Some("1"));
        assert_ne!(a, b);
        assert_eq!(Context::new(), Context::anonymous());
    }

    #[test]
    fn enter_nests_and_restores() {
        let outer = Context::with_key("outer");
        let inner = Context::with_key("inner");
        assert!(Context::current().is_anonymous());
        {
            let _a = outer.enter();
            assert_eq!(Context::current().targeting_key(), Some("outer"));
            {
                let _b = inner.enter();
                assert_eq!(Context::current().targeting_key(), Some("inner"));
            }
            assert_eq!(Context::current().targeting_key(), Some("outer"));
        }
        assert!(Context::current().is_anonymous());
    }

    #[test]
    fn ambient_is_per_thread() {
        let _g = Context::with_key("main").enter();
        let seen = std::thread::spawn(Context::current)
            .join()
            .expect("thread runs");
        assert!(seen.is_anonymous());
        assert_eq!(Context::current().targeting_key(), Some("main"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let text = format!("{:?}", Context::with_key("secret-user").attr("plan", "x"));
        assert!(!text.contains("secret-user"), "{text}");
        assert!(text.contains("plan"));
    }

    #[test]
    fn future_wrapper_installs_on_each_poll() {
        use std::task::Waker;
        struct YieldOnce(bool);
        impl Future for YieldOnce {
            type Output = Option<String>;
            fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
                if self.0 {
                    Poll::Ready(Context::current().targeting_key().map(str::to_owned))
                } else {
                    self.0 = true;
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            }
        }
        let mut fut = Box::pin(Context::with_key("task").scope(YieldOnce(false)));
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        // Between polls the context is not ambient on this thread.
        assert!(Context::current().is_anonymous());
        // The second poll happens on another thread: the context follows the task.
        let out = std::thread::spawn(move || {
            let waker = Waker::noop();
            let mut cx = TaskContext::from_waker(waker);
            match fut.as_mut().poll(&mut cx) {
                Poll::Ready(v) => v,
                Poll::Pending => None,
            }
        })
        .join()
        .expect("thread runs");
        assert_eq!(out.as_deref(), Some("task"));
    }
}
