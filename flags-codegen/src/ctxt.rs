//! The error context of an expansion, shared by `flags!`, `#[feature_gate]` and
//! `#[flags_test::matrix]`: every check records its mistakes here instead of returning
//! at the first, and the expansion asks for them once at the end, so one build shows
//! every problem.
//!
//! The context must be asked. A check that records an error the expansion then
//! forgets to collect would compile the user's code as if nothing were wrong, so a
//! context dropped without [`Ctxt::check`] panics in debug builds, where the tests of
//! this crate run: the mistake is in this crate, never in the user's input.

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;

/// The most errors one expansion reports; the rest are counted in one more. A
/// manifest of 10,000 bad flags would otherwise print megabytes of errors, and the
/// first few screens are all anyone reads in a build log.
pub(crate) const MAX_ERRORS: usize = 50;

/// The errors recorded during one expansion, in the order they were found.
///
/// Recording takes `&self`, so that the checks of one expansion can share the
/// context while they also borrow the input they check.
pub(crate) struct Ctxt {
    /// `None` once the errors were taken by [`Ctxt::check`]: what the drop check reads.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty context.
    pub(crate) fn new() -> Ctxt {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records `message` at `span`.
    pub(crate) fn error_at(&self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Records `error`, and each error it already combines, as they are.
    pub(crate) fn push(&self, error: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.extend(error);
        }
    }

    /// Ends the context: `Ok` when nothing was recorded, else every error combined into
    /// one, which becomes one `compile_error!` per error, in order.
    pub(crate) fn check(self) -> syn::Result<()> {
        combine(self.take())
    }

    /// [`Ctxt::check`], keeping the first `max` errors; when there are more, one more
    /// error at the last kept one's span says so in the words `more(count)` gives.
    pub(crate) fn check_at_most(
        self,
        max: usize,
        more: impl FnOnce(usize) -> String,
    ) -> syn::Result<()> {
        let mut errors = self.take();
        if errors.len() > max {
            let count = errors.len() - max;
            errors.truncate(max);
            let span = errors.last().map_or_else(Span::call_site, syn::Error::span);
            errors.push(syn::Error::new(span, more(count)));
        }
        combine(errors)
    }

    fn take(&self) -> Vec<syn::Error> {
        self.errors.borrow_mut().take().unwrap_or_default()
    }
}

fn combine(errors: Vec<syn::Error>) -> syn::Result<()> {
    match errors.into_iter().reduce(|mut all, e| {
        all.combine(e);
        all
    }) {
        Some(all) => Err(all),
        None => Ok(()),
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        // While unwinding from another panic, a second one would abort and hide it.
        let unchecked = self.errors.get_mut().is_some();
        if cfg!(debug_assertions) && unchecked && !std::thread::panicking() {
            panic!("an error context was dropped without `check`: its errors would be lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(result: syn::Result<()>) -> Vec<String> {
        result
            .err()
            .into_iter()
            .flatten()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn nothing_recorded_is_ok() {
        let cx = Ctxt::new();
        assert!(cx.check().is_ok());
    }

    #[test]
    fn every_error_is_kept_in_order() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        let mut pair = syn::Error::new(Span::call_site(), "second");
        pair.combine(syn::Error::new(Span::call_site(), "third"));
        cx.push(pair);
        assert_eq!(messages(cx.check()), ["first", "second", "third"]);
    }

    #[test]
    fn at_most_counts_the_rest_in_one_more() {
        let cx = Ctxt::new();
        for i in 0..5 {
            cx.error_at(Span::call_site(), i);
        }
        let out = messages(cx.check_at_most(3, |n| format!("{n} more")));
        assert_eq!(out, ["0", "1", "2", "2 more"]);
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "only");
        assert_eq!(
            messages(cx.check_at_most(1, |n| format!("{n} more"))),
            ["only"]
        );
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "dropped without `check`")]
    fn dropped_unchecked_panics_in_debug() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "lost");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "dropped without `check`")]
    fn dropped_unchecked_panics_even_without_errors() {
        // A path that forgets `check` is a bug whether or not this input had errors.
        let _cx = Ctxt::new();
    }
}
