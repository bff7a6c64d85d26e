//! `#[flags_test::matrix]`: rewrites a test so that its body runs under each flag
//! combination through `flags_test::FlagMatrix`. Parsing the attribute (`args`),
//! checking it, with the flags it names against the manifest (`check`), and generating
//! the test (`expand`) are the three stages; this module finds the manifest and joins
//! them. The test's own attributes (`#[test]`, `#[tokio::test]`, ...) and signature
//! stay as written; only the body moves into the matrix's closure (an `async move`
//! block for `async fn`).

mod args;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, LitStr};

use flags_manifest::Manifest;

use crate::ctxt::Ctxt;
use crate::{Env, ManifestFile};

pub use args::MatrixArgs;

/// The whole attribute: `args` and the test function in, the rewritten test out, or
/// `compile_error!`s for every mistake found, followed by the test as written (so that
/// one mistake does not also make the test vanish). Never panics.
///
/// The flags named in `flags = [...]` are checked against the manifest: the one given
/// by `manifest = "..."`, else the one the `flags!` call generating the registry's
/// module reads (found in the invoking file or the crate root, as `#[feature_gate]`
/// finds it), else `flags.toml`.
///
/// ```
/// use flags_codegen::{Env, expand_matrix};
/// let dir = std::env::temp_dir().join(format!("flags-codegen-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("flags.toml"), "[flags.search_v2]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n").unwrap();
/// let env = Env::new().with_manifest_dir(&dir);
/// let test = quote::quote!(fn ranks() {});
///
/// let out = expand_matrix(quote::quote!(flags = [search_v2], exhaustive), test.clone(), &env);
/// assert!(out.to_string().contains(". flags (& [& crate :: flags :: SEARCH_V2]) . exhaustive ()"));
///
/// let out = expand_matrix(quote::quote!(flags = [serch_v2]), test, &env);
/// assert!(out.to_string().contains("no flag `serch_v2` in the manifest: did you mean `search_v2`?"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn expand_matrix(args: TokenStream, item: TokenStream, env: &Env) -> TokenStream {
    let cx = Ctxt::new();
    let args = MatrixArgs::parse(args, &cx).map_err(|e| cx.push(e));
    let func = syn::parse2::<ItemFn>(item.clone()).map_err(|e| {
        cx.error_at(
            e.span(),
            format!("#[flags_test::matrix] goes on a test function: {e}"),
        );
    });
    let out = match (args, func) {
        (Ok(args), Ok(func)) => match manifest(&args, env, &cx) {
            Lookup::Unparsable => {
                // `flags!` reports every problem of the manifest, once, and generates
                // no handles: the test stays as written, its registry still named so
                // that a matrix with no `flags!` at all does not pass unnoticed.
                let registry = expand::registry(&args);
                Some(quote!(#item const _: () = { use #registry as _; };))
            }
            Lookup::Found(manifest) => {
                let flags = check::check(&args, manifest.as_deref(), &cx);
                Some(expand::test(&args, &flags, &func))
            }
        },
        _ => None,
    };
    match (cx.check(), out) {
        (Ok(()), Some(out)) => out,
        (Err(e), _) => {
            let e = e.to_compile_error();
            quote!(#e #item)
        }
        // Every way to no output records an error first; should one not, the test is
        // kept as written rather than lost.
        (Ok(()), None) => item,
    }
}

/// What became of the manifest the flags are checked against.
enum Lookup {
    /// The manifest (`None` when there was nothing to check, or it could not be found:
    /// an error is recorded then).
    Found(Option<std::sync::Arc<Manifest>>),
    /// It was found but does not parse. `flags!` reports every problem of the manifest
    /// once; a matrix repeating them would multiply them by the number of tests.
    Unparsable,
}

/// The manifest to check the flags named against, when there are names to check (or
/// the manifest was named).
fn manifest(args: &MatrixArgs, env: &Env, cx: &Ctxt) -> Lookup {
    let file = match (&args.manifest, &args.flags) {
        (Some(lit), _) => match ManifestFile::read(lit, env) {
            Ok(file) => file,
            Err(e) => {
                cx.push(e);
                return Lookup::Found(None);
            }
        },
        (None, Some(flags)) => {
            // The module of `registry = a::flags::REGISTRY` is the segment before the
            // last; a registry named alone is taken to be in `flags`, the default.
            let module = args
                .registry
                .as_ref()
                .and_then(|path| path.segments.iter().rev().nth(1))
                .map_or_else(|| "flags".to_owned(), |s| s.ident.to_string());
            let path = crate::source::flags_call_path(env, &module);
            let lit = LitStr::new(path.as_deref().unwrap_or("flags.toml"), flags.span);
            let Ok(file) = ManifestFile::read(&lit, env) else {
                cx.error_at(
                    flags.span,
                    format!(
                        "#[flags_test::matrix] cannot find the manifest to check these flags \
                         against: `{}` is neither under the crate root nor beside this file, \
                         and no `flags!` call in this file or the crate root generates module \
                         `{module}` (help: name the file `flags!` reads, as it is written \
                         there: `manifest = \"config/flags.toml\"`)",
                        lit.value()
                    ),
                );
                return Lookup::Found(None);
            };
            file
        }
        (None, None) => return Lookup::Found(None),
    };
    match crate::source::parsed(&file) {
        Ok(manifest) => Lookup::Found(Some(manifest)),
        Err(_) => Lookup::Unparsable,
    }
}

#[cfg(test)]
mod tests;
