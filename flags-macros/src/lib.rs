//! Procedural macros of the flags framework. They only parse and delegate: the work is
//! done by `flags-codegen`, a normal library that is tested and benchmarked without a
//! compiler. Use them through `flags-runtime`, which re-exports them.

use proc_macro::TokenStream;

#[doc = include_str!("flags.md")]
#[proc_macro]
pub fn flags(input: TokenStream) -> TokenStream {
    // The invoking file is the second place a manifest path is looked up, after the
    // crate root. `local_file` is stable since Rust 1.88; it is `None` when the call
    // comes from code without a file on disk, and then only the crate root is searched.
    let source_file = proc_macro::Span::call_site().local_file();
    let env = flags_codegen::Env::from_process().with_source_file(source_file);
    flags_codegen::expand(input.into(), &env).into()
}

#[doc = include_str!("feature_gate.md")]
#[proc_macro_attribute]
pub fn feature_gate(args: TokenStream, item: TokenStream) -> TokenStream {
    let source_file = proc_macro::Span::call_site().local_file();
    let env = flags_codegen::Env::from_process().with_source_file(source_file);
    flags_codegen::expand_gate(args.into(), item.into(), &env).into()
}

#[doc = include_str!("matrix.md")]
#[proc_macro_attribute]
pub fn matrix(args: TokenStream, item: TokenStream) -> TokenStream {
    let source_file = proc_macro::Span::call_site().local_file();
    let env = flags_codegen::Env::from_process().with_source_file(source_file);
    flags_codegen::expand_matrix(args.into(), item.into(), &env).into()
}
