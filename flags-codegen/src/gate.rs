//! `#[feature_gate]`: routes a function between implementations by a flag. Parsing the
//! attribute, checking it against the manifest and generating the routed body are the
//! three stages below; the function's signature, attributes and body tokens are kept
//! as written so compiler errors inside the body still point at the user's code.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, ItemFn, LitStr, Pat, Path, Token};

use flags_manifest::{FlagType, Manifest, did_you_mean, to_upper_camel};

use crate::{Env, ManifestFile};

/// The attribute's arguments, as written.
pub struct GateArgs {
    /// The flag, by its manifest name.
    flag: (String, Span),
    /// `fallback = path`: the implementation when a bool flag is off.
    fallback: Option<Path>,
    /// `variant = "name"`: the variant the annotated body implements.
    variant: Option<LitStr>,
    /// `other_variant = path` pairs.
    routes: Vec<(Ident, Path)>,
    /// `context = expr`: evaluate against this context instead of the ambient one.
    context: Option<Expr>,
    /// `module = path`: where `flags!` generated the accessors (default `crate::flags`).
    module: Option<Path>,
    /// `manifest = "path"`: the manifest (default `flags.toml`, like `flags!`).
    manifest: Option<LitStr>,
    /// `trace`: open a `tracing` span carrying the flag and the side that ran.
    trace: bool,
}

impl Parse for GateArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let flag = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else {
            let ident: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            (ident.to_string(), ident.span())
        };
        let mut args = GateArgs {
            flag,
            fallback: None,
            variant: None,
            routes: Vec::new(),
            context: None,
            module: None,
            manifest: None,
            trace: false,
        };
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            if key == "trace" {
                args.trace = true;
                continue;
            }
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "fallback" => args.fallback = Some(input.parse()?),
                "variant" => args.variant = Some(input.parse()?),
                "context" => args.context = Some(input.parse()?),
                "module" => args.module = Some(input.parse()?),
                "manifest" => args.manifest = Some(input.parse()?),
                _ => args.routes.push((key, input.parse()?)),
            }
        }
        Ok(args)
    }
}

/// The whole attribute: `args` and the annotated function in, the routed function (or
/// `compile_error!`s) out. Never panics.
pub fn expand_gate(args: TokenStream, item: TokenStream, env: &Env) -> TokenStream {
    let args = match syn::parse2::<GateArgs>(args) {
        Ok(a) => a,
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    let func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    let manifest_lit = args
        .manifest
        .clone()
        .unwrap_or_else(|| LitStr::new("flags.toml", args.flag.1));
    let manifest = ManifestFile::read(&manifest_lit, env).and_then(|file| {
        flags_manifest::parse_bytes(file.bytes(), file.written()).map_err(|e| {
            syn::Error::new(
                manifest_lit.span(),
                format!("#[feature_gate] cannot use the manifest: {e}"),
            )
        })
    });
    let manifest = match manifest {
        Ok(m) => m,
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    match route(&args, &func, &manifest) {
        Ok(out) => out,
        Err(e) => with_item(e.to_compile_error(), item),
    }
}

/// Keeps the user's function in the output next to an error, so one mistake in the
/// attribute does not cascade into "cannot find function" errors at every call.
fn with_item(error: TokenStream, item: TokenStream) -> TokenStream {
    quote!(#error #item)
}

fn route(args: &GateArgs, func: &ItemFn, manifest: &Manifest) -> syn::Result<TokenStream> {
    let (name, name_span) = (&args.flag.0, args.flag.1);
    let Some(flag) = manifest.flag(name) else {
        let hint = did_you_mean(name, manifest.flags.iter().map(|f| f.name.as_str()))
            .map_or_else(String::new, |h| format!(": did you mean `{h}`?"));
        return Err(syn::Error::new(
            name_span,
            format!("no flag `{name}` in the manifest{hint}"),
        ));
    };
    if let Some(c) = &func.sig.constness {
        return Err(syn::Error::new(
            c.span(),
            "#[feature_gate] cannot route a `const fn`: a flag's value is only known at run time (use a static flag's constant directly)",
        ));
    }
    let module = args
        .module
        .clone()
        .unwrap_or_else(|| syn::parse_quote_spanned!(name_span=> crate::flags));
    let handle = format_ident!("{}", flag.ident.to_uppercase(), span = name_span);
    let call_args = call_arguments(func)?;
    let has_receiver = func.sig.receiver().is_some();
    let call = |path: &Path| -> TokenStream {
        let span = path.span();
        let target = if has_receiver && path.get_ident().is_some() {
            quote_spanned!(span=> Self::#path)
        } else {
            quote_spanned!(span=> #path)
        };
        let recv = has_receiver.then(|| quote!(self,));
        let awaited = func.sig.asyncness.map(|_| quote!(.await));
        quote_spanned!(span=> #target(#recv #(#call_args),*) #awaited)
    };
    let body = &func.block;
    let flag_name = &flag.name;

    let fn_name = func.sig.ident.to_string();
    let arity = flag.arity();
    let (counters, value) = if flag.is_static {
        (
            TokenStream::new(),
            quote_spanned!(name_span=> #module::#handle),
        )
    } else {
        let counters = quote! {
            static __FLAGS_GATE_COUNTS: [::core::sync::atomic::AtomicU64; #arity] =
                [const { ::core::sync::atomic::AtomicU64::new(0) }; #arity];
            static __FLAGS_GATE: ::flags_runtime::__private::Gate =
                ::flags_runtime::__private::Gate::new(#fn_name, &__FLAGS_GATE_COUNTS);
        };
        let value = match &args.context {
            Some(ctx) => {
                quote_spanned!(name_span=> #module::#handle.route_for(#ctx, &__FLAGS_GATE))
            }
            None => quote_spanned!(name_span=> #module::#handle.route(&__FLAGS_GATE)),
        };
        (counters, value)
    };

    let routed = match &flag.ty {
        FlagType::Bool => {
            if let Some(v) = &args.variant {
                return Err(syn::Error::new(
                    v.span(),
                    format!("`{name}` is an on/off flag; it has no variants"),
                ));
            }
            if let Some((k, _)) = args.routes.first() {
                return Err(syn::Error::new(
                    k.span(),
                    format!(
                        "unknown argument `{k}`: `{name}` is an on/off flag, so give `fallback = function` for when it is off"
                    ),
                ));
            }
            let Some(fallback) = &args.fallback else {
                return Err(syn::Error::new(
                    name_span,
                    format!(
                        "`{name}` is an on/off flag: add `fallback = function` (the implementation used when it is off)"
                    ),
                ));
            };
            let off = call(fallback);
            let trace_on = trace(args, flag_name, "on", &fn_name, func);
            let trace_off = trace(args, flag_name, "off", &fn_name, func);
            quote! {
                if #value {
                    #trace_on
                                        #body
                } else {
                    #trace_off
                    #off
                }
            }
        }
        FlagType::Variants(variants) => {
            if let Some(f) = &args.fallback {
                return Err(syn::Error::new(
                    f.span(),
                    format!(
                        "`{name}` has variants ({}): route each variant by name instead of `fallback`",
                        variants.join(", ")
                    ),
                ));
            }
            let own = match &args.variant {
                Some(lit) => {
                    let v = lit.value();
                    if !variants.contains(&v) {
                        return Err(unknown_variant(lit.span(), name, &v, variants));
                    }
                    v
                }
                None => flag.value_label(flag.default),
            };
            let enum_ty = format_ident!("{}", to_upper_camel(&flag.ident), span = name_span);
            let mut arms = Vec::new();
            let mut errors: Option<syn::Error> = None;
            let mut push_err = |e: syn::Error| match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            };
            for (key, _) in &args.routes {
                let k = key.to_string();
                if !variants.contains(&k) {
                    push_err(unknown_variant(key.span(), name, &k, variants));
                } else if k == own {
                    push_err(syn::Error::new(
                        key.span(),
                        format!(
                            "variant `{k}` is implemented by the function's own body; remove `{k} = ...`"
                        ),
                    ));
                }
            }
            for v in variants {
                let variant_ident = format_ident!("{}", to_upper_camel(v), span = name_span);
                let side = trace(args, flag_name, v, &fn_name, func);
                if *v == own {
                    arms.push(quote!(#module::#enum_ty::#variant_ident => { #side #body }));
                } else if let Some((_, path)) = args.routes.iter().find(|(k, _)| k == v) {
                    let c = call(path);
                    arms.push(quote!(#module::#enum_ty::#variant_ident => { #side #c }));
                } else {
                    push_err(syn::Error::new(
                        name_span,
                        format!(
                            "variant `{v}` of `{name}` has no implementation: add `{} = function`",
                            v
                        ),
                    ));
                }
            }
            if let Some(e) = errors {
                return Err(e);
            }
            quote! {
                match #value {
                    #(#arms)*
                }
            }
        }
    };

    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #counters
            #routed
        }
    })
}

fn unknown_variant(span: Span, flag: &str, v: &str, variants: &[String]) -> syn::Error {
    let hint = did_you_mean(v, variants.iter().map(String::as_str)).map_or_else(
        || format!(" (variants: {})", variants.join(", ")),
        |h| format!(": did you mean `{h}`?"),
    );
    syn::Error::new(span, format!("`{flag}` has no variant `{v}`{hint}"))
}

fn trace(args: &GateArgs, flag: &str, side: &str, function: &str, func: &ItemFn) -> TokenStream {
    if !args.trace {
        return TokenStream::new();
    }
    if func.sig.asyncness.is_some() {
        // A span guard must not be held across `.await`; an event carries the same fields.
        quote! {
            ::flags_runtime::__private::tracing::trace!(target: "flags::gate", flag = #flag, side = #side, function = #function, "feature gate routed");
        }
    } else {
        quote! {
            let __flags_gate_span = ::flags_runtime::__private::tracing::trace_span!(target: "flags::gate", "feature_gate", flag = #flag, side = #side, function = #function);
            let __flags_gate_entered = __flags_gate_span.enter();
        }
    }
}

/// The arguments to pass on to another implementation: every parameter by its name. A
/// parameter bound by a pattern (`(a, b): (u8, u8)`) has no name to pass, so it is an
/// error that says how to write it instead.
fn call_arguments(func: &ItemFn) -> syn::Result<Vec<TokenStream>> {
    let mut args = Vec::new();
    for (i, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        match &*pt.pat {
            Pat::Ident(pi) if pi.subpat.is_none() => {
                let id = &pi.ident;
                args.push(quote!(#id));
            }
            _ => {
                return Err(syn::Error::new(
                    pt.pat.span(),
                    format!(
                        "#[feature_gate] needs a plain name for parameter {}, to pass it to the other implementation; bind the pattern inside the body",
                        i + 1
                    ),
                ));
            }
        }
    }
    Ok(args)
}
