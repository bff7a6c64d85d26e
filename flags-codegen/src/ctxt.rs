//! A collector of errors, so that one build reports every problem with a manifest and
//! not just the first. Every error is spanned at the manifest path literal, the one
//! place in the user's code that stands for the whole file.

use proc_macro2::{Span, TokenStream};

/// The most errors one expansion reports; the rest are counted in one more. A
/// manifest of 10,000 bad flags would otherwise print megabytes of errors, and the
/// first few screens are all anyone reads in a build log.
pub(crate) const MAX_ERRORS: usize = 50;

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

    /// One `compile_error!` per recorded error, in the order they were found, up to
    /// [`MAX_ERRORS`]; then one saying how many more there are and where to see them.
    pub(crate) fn into_compile_errors(mut self) -> TokenStream {
        if self.errors.len() > MAX_ERRORS {
            let more = self.errors.len() - MAX_ERRORS;
            self.errors.truncate(MAX_ERRORS);
            let (noun, verb) = if more == 1 {
                ("problem", "is")
            } else {
                ("problems", "are")
            };
            self.error(format!(
                "and {more} more {noun} in the manifest, which {verb} not shown here: run \
                 `cargo flags lint` to see every one"
            ));
        }
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
