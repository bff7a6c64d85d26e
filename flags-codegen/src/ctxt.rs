//! A collector of errors, so that one build reports every problem with a manifest and
//! not just the first. Every error is spanned at the manifest path literal, the one
//! place in the user's code that stands for the whole file.

use proc_macro2::{Span, TokenStream};

/// Errors gathered during one expansion.
pub(crate) struct Ctxt {
    span: Span,
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// A collector whose errors point at `span`.
    pub(crate) fn new(span: Span) -> Ctxt {
        Ctxt {
            span,
            errors: Vec::new(),
        }
    }

    /// Records one error message.
    pub(crate) fn error(&mut self, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(self.span, message));
    }

    /// One `compile_error!` per recorded error, in the order they were found.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.errors
            .into_iter()
            .reduce(|mut all, e| {
                all.combine(e);
                all
            })
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}
