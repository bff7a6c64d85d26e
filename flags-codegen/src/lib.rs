//! The code generation behind `flags!`, as a normal library so that it can be unit
//! tested and benchmarked outside a compiler.
//!
//! One expansion runs in stages, each its own module: [`FlagsInput`] parses the macro's
//! input, [`ManifestFile::read`] finds and reads the manifest, `valid` runs every check
//! that can fail (the manifest, the build date, static values, expiry) and collects
//! all errors in the context the three macros share (`ctxt`), and `expand` generates
//! the module. Errors never stop at the first: each becomes its own `compile_error!`,
//! spanned at the manifest path literal.
//!
//! ```
//! use flags_codegen::{Env, FlagsInput, ManifestFile, expand_manifest};
//! let input: FlagsInput = syn::parse_str(r#""flags.toml""#).unwrap();
//! let file = ManifestFile::new("flags.toml", "/src/app/flags.toml", r#"
//! [flags.search_v2]
//! description = "New search ranking"
//! owner = "search-team"
//! kind = "ops"
//! "#);
//! let env = Env::new().with_var("FLAGS_TODAY", "2027-01-31");
//! let code = expand_manifest(&input, &file, &env).to_string();
//! assert!(code.contains("pub fn search_v2 () -> bool"));
//!
//! let bad = ManifestFile::new("flags.toml", "/src/app/flags.toml", "[flags.x]\nkind = 1\n");
//! let errors = expand_manifest(&input, &bad, &env).to_string();
//! assert!(errors.contains("compile_error ! { \"flags.toml:1:8: `flags.x.description`"));
//! ```

mod ctxt;
mod doc;
mod env;
mod expand;
mod gate;
mod input;
mod matrix;
mod source;
mod valid;

use proc_macro2::TokenStream;

pub use env::{CARGO_PRIMARY_PACKAGE, Env, FLAGS_STATIC_PREFIX, FLAGS_TODAY, SOURCE_DATE_EPOCH};
pub use gate::{GateArgs, expand_gate};
pub use input::FlagsInput;
pub use matrix::{MatrixArgs, expand_matrix};
pub use source::{ManifestFile, locate};

use ctxt::Ctxt;

/// The whole `flags!` macro: parses `input`, reads the manifest it names and returns
/// the generated module, or `compile_error!`s saying what is wrong. Never panics.
///
/// ```
/// use flags_codegen::{Env, expand};
/// let env = Env::new().with_manifest_dir(std::env::temp_dir());
/// let out = expand(quote::quote!("no-such-manifest-9c1e.toml"), &env).to_string();
/// assert!(out.contains("cannot find the manifest `no-such-manifest-9c1e.toml`"));
/// ```
pub fn expand(input: TokenStream, env: &Env) -> TokenStream {
    let input = match syn::parse2::<FlagsInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match ManifestFile::read(&input.path, env) {
        Ok(file) => expand_manifest(&input, &file, env),
        Err(e) => e.to_compile_error(),
    }
}

/// Expands a manifest already read: the stages after finding the file. Returns the
/// generated module, preceded by a `compile_error!` for every problem found; when the
/// manifest itself does not parse, the errors and an empty module (so that each
/// `#[feature_gate]` on the same manifest stays quiet rather than repeat them).
pub fn expand_manifest(input: &FlagsInput, file: &ManifestFile, env: &Env) -> TokenStream {
    let cx = Ctxt::new();
    let checked = valid::check(&cx, input.path.span(), file, env);
    let mut out = cx
        .check_at_most(ctxt::MAX_ERRORS, |more| {
            let (noun, verb) = if more == 1 {
                ("problem", "is")
            } else {
                ("problems", "are")
            };
            format!(
                "and {more} more {noun} in the manifest, which {verb} not shown here: run \
                 `cargo flags lint` to see every one"
            )
        })
        .err()
        .map(|e| e.to_compile_error())
        .unwrap_or_default();
    match checked {
        Some(checked) => out.extend(expand::module(input, file, &checked)),
        None => out.extend(expand::empty_module(input)),
    }
    out
}

#[cfg(test)]
mod tests;
