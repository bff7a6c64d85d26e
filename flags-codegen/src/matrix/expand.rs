//! Code generation for the rewritten test: the `FlagMatrix` builder the arguments
//! describe, and the test's body moved into the matrix's closure. Nothing here can fail.

use proc_macro2::Ident;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, Path, ReturnType};

use super::args::{MatrixArgs, Mode, Pin};

/// The test function, its attributes and signature as written, its body run once per
/// combination. `flags` are the handle constants of the flags to vary (empty: every
/// one), found in the registry's module.
pub(super) fn test(args: &MatrixArgs, flags: &[Ident], func: &ItemFn) -> TokenStream {
    let builder = builder(args, flags);
    let case = args.case.as_ref().map_or_else(|| quote!(_), |c| quote!(#c));
    let body = &func.block;
    // The test's return type annotates the body, so `?` and `Err(x.into())` infer
    // exactly as they would in the test itself.
    let run = match (func.sig.asyncness.is_some(), &func.sig.output) {
        (false, ReturnType::Default) => quote!(__flags_matrix.run(|#case| #body);),
        (false, ReturnType::Type(_, ty)) => quote! {
            __flags_matrix.run_result(|#case| -> #ty #body);
            ::core::result::Result::Ok(())
        },
        (true, ReturnType::Default) => {
            quote!(__flags_matrix.run_async(|#case| async move #body).await;)
        }
        (true, ReturnType::Type(_, ty)) => quote! {
            __flags_matrix
                .run_async_result(|#case| async move {
                    let __flags_result: #ty = async move #body.await;
                    __flags_result
                })
                .await;
            ::core::result::Result::Ok(())
        },
    };
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    quote! {
        #(#attrs)*
        #vis #sig {
            let __flags_matrix = #builder;
            #run
        }
    }
}

/// `::flags_test::FlagMatrix::new(&REGISTRY)` and a call for each argument given.
fn builder(args: &MatrixArgs, flags: &[Ident]) -> TokenStream {
    let registry = registry(args);
    let mut builder = quote!(::flags_test::FlagMatrix::new(&#registry));
    if !flags.is_empty() {
        // The handles are constants beside the registry, in the module `flags!`
        // generated: `crate::flags::REGISTRY` and `crate::flags::SEARCH_V2`.
        let mut module = registry.clone();
        module.segments.pop();
        builder.extend(quote!(.flags(&[#(&#module #flags),*])));
    }
    if let Some(mode) = &args.mode {
        builder.extend(match mode.value {
            Mode::Exhaustive => quote!(.exhaustive()),
            Mode::Pairwise => quote!(.pairwise()),
            Mode::TWise(t) => quote!(.t_wise(#t)),
            Mode::Random(count) => quote!(.random(#count)),
        });
    }
    if let Some(seed) = &args.seed {
        let seed = seed.value;
        builder.extend(quote!(.seed(#seed)));
    }
    if let Some(pins) = &args.pins {
        let pins = pins.iter().map(|pin| match pin {
            Pin::Defaults => quote!(::flags_test::Pin::Defaults),
            Pin::AllOn => quote!(::flags_test::Pin::AllOn),
            Pin::AllOff => quote!(::flags_test::Pin::AllOff),
        });
        builder.extend(quote!(.pins([#(#pins),*])));
    }
    for rule in &args.rules {
        builder.extend(quote!(.rule(#rule)));
    }
    builder
}

/// The registry the matrix varies: `registry = PATH`, else `crate::flags::REGISTRY`.
pub(super) fn registry(args: &MatrixArgs) -> Path {
    args.registry
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(crate::flags::REGISTRY))
}
