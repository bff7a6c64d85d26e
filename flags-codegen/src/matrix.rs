//! `#[flags_test::matrix]`: rewrites a test so that its body runs under each flag
//! combination through `flags_test::FlagMatrix`. The test's own attributes (`#[test]`,
//! `#[tokio::test]`, ...) and signature stay as written; only the body moves into the
//! matrix's closure (an `async move` block for `async fn`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, ItemFn, LitInt, LitStr, Path, ReturnType, Token, bracketed};

/// The attribute's arguments.
pub struct MatrixArgs {
    registry: Option<Path>,
    flags: Vec<String>,
    mode: Option<TokenStream>,
    seed: Option<LitInt>,
    pins: Option<Vec<TokenStream>>,
    rules: Vec<LitStr>,
    case: Option<Ident>,
}

impl Parse for MatrixArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = MatrixArgs {
            registry: None,
            flags: Vec::new(),
            mode: None,
            seed: None,
            pins: None,
            rules: Vec::new(),
            case: None,
        };
        let set_mode = |args: &mut MatrixArgs, key: &Ident, mode: TokenStream| {
            if args.mode.replace(mode).is_some() {
                return Err(syn::Error::new(
                    key.span(),
                    "choose one mode: exhaustive, pairwise, t_wise = N or random = N",
                ));
            }
            Ok(())
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "exhaustive" => set_mode(&mut args, &key, quote!(.exhaustive()))?,
                "pairwise" => set_mode(&mut args, &key, quote!(.pairwise()))?,
                "t_wise" => {
                    input.parse::<Token![=]>()?;
                    let t: LitInt = input.parse()?;
                    let n: u8 = t.base10_parse()?;
                    if n < 2 {
                        return Err(syn::Error::new(
                            t.span(),
                            "t_wise needs a strength of 2 or more",
                        ));
                    }
                    set_mode(&mut args, &key, quote!(.t_wise(#n)))?;
                }
                "random" => {
                    input.parse::<Token![=]>()?;
                    let n: LitInt = input.parse()?;
                    let count: usize = n.base10_parse()?;
                    set_mode(&mut args, &key, quote!(.random(#count)))?;
                }
                "seed" => {
                    input.parse::<Token![=]>()?;
                    args.seed = Some(input.parse()?);
                }
                "registry" => {
                    input.parse::<Token![=]>()?;
                    args.registry = Some(input.parse()?);
                }
                "case" => {
                    input.parse::<Token![=]>()?;
                    args.case = Some(input.parse()?);
                }
                "flags" => {
                    input.parse::<Token![=]>()?;
                    let content;
                    bracketed!(content in input);
                    let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                    args.flags = names.iter().map(Ident::to_string).collect();
                }
                "rules" => {
                    input.parse::<Token![=]>()?;
                    let content;
                    bracketed!(content in input);
                    args.rules = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
                        .into_iter()
                        .collect();
                }
                "pins" => {
                    input.parse::<Token![=]>()?;
                    let content;
                    bracketed!(content in input);
                    let mut pins = Vec::new();
                    for pin in Punctuated::<Ident, Token![,]>::parse_terminated(&content)? {
                        pins.push(match pin.to_string().as_str() {
                            "defaults" => quote!(::flags_test::Pin::Defaults),
                            "all_on" => quote!(::flags_test::Pin::AllOn),
                            "all_off" => quote!(::flags_test::Pin::AllOff),
                            _ => {
                                return Err(syn::Error::new(
                                    pin.span(),
                                    "unknown pin: use defaults, all_on or all_off",
                                ));
                            }
                        });
                    }
                    args.pins = Some(pins);
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{other}`: use flags = [...], exhaustive, pairwise, t_wise = N, random = N, seed = N, pins = [...], rules = [\"a=on -> b=x\"], registry = PATH, case = NAME"
                        ),
                    ));
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        if let Some(seed) = &args.seed
            && !args
                .mode
                .as_ref()
                .is_some_and(|m| m.to_string().contains("random"))
        {
            return Err(syn::Error::new(
                seed.span(),
                "`seed` only applies with `random = N`",
            ));
        }
        Ok(args)
    }
}

/// The whole attribute: never panics; errors keep the test function in the output.
pub fn expand_matrix(args: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse2::<MatrixArgs>(args) {
        Ok(a) => a,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#e #item);
        }
    };
    let registry = args
        .registry
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(crate::flags::REGISTRY));
    let mut builder = quote!(::flags_test::FlagMatrix::new(&#registry));
    if !args.flags.is_empty() {
        let names = &args.flags;
        builder.extend(quote!(.flags([#(#names),*])));
    }
    if let Some(m) = &args.mode {
        builder.extend(m.clone());
    }
    if let Some(seed) = &args.seed {
        builder.extend(quote!(.seed(#seed)));
    }
    if let Some(pins) = &args.pins {
        builder.extend(quote!(.pins([#(#pins),*])));
    }
    for r in &args.rules {
        builder.extend(quote!(.rule(#r)));
    }
    let case = args.case.clone().map_or_else(|| quote!(_), |c| quote!(#c));
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
