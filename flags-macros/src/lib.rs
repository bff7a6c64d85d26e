//! Procedural macros of the flags framework: `flags!` and `#[feature_gate]`.

use proc_macro::TokenStream;

/// Reads a flag manifest at build time and generates a module of typed accessors.
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
