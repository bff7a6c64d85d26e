//! `#[feature_gate]`: routes a function between implementations by a flag. Parsing the
//! attribute (`args`), checking it against the manifest (`check`) and generating the
//! routed body (`expand`) are the three stages; this module reads the manifest and
//! joins them. The function's signature, attributes and body tokens are kept as
//! written so compiler errors inside the body still point at the user's code, and the
//! calls to the other implementations are spanned at the paths naming them, so a
//! signature that does not match is reported there.

mod args;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Item, ItemFn, LitStr, Path, TraitItemFn};

use flags_manifest::{FlagType, Manifest, did_you_mean, to_upper_camel};

use crate::ctxt::Ctxt;
use crate::{Env, ManifestFile};

pub use args::GateArgs;
use check::{Sides, bool_sides, call_parameters, variant_sides};
use expand::{call_other, traced};

/// The whole attribute: `args` and the annotated function in, the routed function (or
/// `compile_error!`s) out. Never panics.
pub fn expand_gate(args: TokenStream, item: TokenStream, env: &Env) -> TokenStream {
    let args = match syn::parse2::<GateArgs>(args) {
        Ok(a) => a,
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    let func = match parse_function(item.clone()) {
        Ok(f) => f,
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    let module = args
        .module
        .clone()
        .unwrap_or_else(|| syn::parse_quote_spanned!(args.flag.1=> crate::flags));
    // Without `manifest = ...`, the manifest of the `flags!` call that generates the
    // module, when it can be found; else `flags.toml`, as `flags!` defaults.
    let manifest_lit = args.manifest.clone().unwrap_or_else(|| {
        let name = module
            .segments
            .last()
            .map_or_else(|| "flags".to_owned(), |s| s.ident.to_string());
        let path = crate::source::flags_call_path(env, &name);
        LitStr::new(path.as_deref().unwrap_or("flags.toml"), args.flag.1)
    });
    let file = match ManifestFile::read(&manifest_lit, env) {
        Ok(file) => file,
        Err(_) if args.manifest.is_none() => {
            let e = syn::Error::new(
                args.flag.1,
                format!(
                    "#[feature_gate] cannot find the manifest `{}`: it is neither under the \
                     crate root nor beside this file, and no `flags!` call in this file or the \
                     crate root names another (help: name the file `flags!` reads, as it is \
                     written there: `manifest = \"config/flags.toml\"`)",
                    manifest_lit.value()
                ),
            );
            return with_item(e.to_compile_error(), item);
        }
        Err(e) => return with_item(e.to_compile_error(), item),
    };
    let Ok(manifest) = crate::source::parsed(&file) else {
        // `flags!` reports every problem of the manifest, once; a gate repeating them
        // would multiply each by the number of gates. The function stays as written,
        // and the path to the module is still resolved, so a gate with no `flags!` at
        // all cannot pass unnoticed (`flags!` emits the module even on errors).
        return quote!(#item const _: () = { use #module as _; };);
    };
    match route(&args, &func, &manifest) {
        Ok(out) => out,
        Err(e) => with_item(e.to_compile_error(), item),
    }
}

/// The annotated item as a function with a body, or an error saying what it is instead.
fn parse_function(item: TokenStream) -> syn::Result<ItemFn> {
    syn::parse2::<ItemFn>(item.clone()).map_err(|e| {
        if let Ok(decl) = syn::parse2::<TraitItemFn>(item.clone())
            && decl.default.is_none()
        {
            let span = decl.semi_token.map_or_else(|| decl.sig.span(), |s| s.span());
            return syn::Error::new(
                span,
                "#[feature_gate] needs the function's body: put it on the implementation, not on a declaration",
            );
        }
        match syn::parse2::<Item>(item) {
            Ok(other) => not_a_function(&other).unwrap_or(e),
            Err(_) => e,
        }
    })
}

fn not_a_function(item: &Item) -> Option<syn::Error> {
    let (what, span) = match item {
        Item::Struct(i) => ("a struct", i.struct_token.span),
        Item::Enum(i) => ("an enum", i.enum_token.span),
        Item::Union(i) => ("a union", i.union_token.span),
        Item::Const(i) => ("a const", i.const_token.span),
        Item::Static(i) => ("a static", i.static_token.span),
        Item::Impl(i) => ("an impl block", i.impl_token.span),
        Item::Trait(i) => ("a trait", i.trait_token.span),
        Item::Mod(i) => ("a module", i.mod_token.span),
        Item::Type(i) => ("a type alias", i.type_token.span),
        Item::Use(i) => ("a `use`", i.use_token.span),
        Item::Macro(i) => ("a macro call", i.mac.path.span()),
        _ => return None,
    };
    Some(syn::Error::new(
        span,
        format!("#[feature_gate] routes a function, not {what}: put it on a `fn` with a body"),
    ))
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

    let cx = Ctxt::new();
    for e in &args.repeated {
        cx.push(e.clone());
    }
    if let Some(c) = &func.sig.constness {
        cx.push(syn::Error::new(
            c.span(),
            "#[feature_gate] cannot route a `const fn`: a flag's value is only known at run time (use a static flag's constant directly)",
        ));
    }
    let params = call_parameters(func, &cx);
    let own_name = &func.sig.ident;
    let others = args
        .fallback
        .iter()
        .chain(args.routes.iter().map(|r| &r.path));
    for path in others {
        if path.get_ident() == Some(own_name) {
            cx.push(syn::Error::new(
                path.span(),
                format!(
                    "`{own_name}` would call itself: name the other implementation, not the gated function"
                ),
            ));
        }
    }
    if let (Some(span), FlagType::Variants(_)) = (args.measure, &flag.ty) {
        cx.push(syn::Error::new(
            span,
            format!("`measure` records outcomes for a guarded rollout, which needs an on/off flag; `{name}` has variants"),
        ));
    }
    let sides = match &flag.ty {
        FlagType::Bool => bool_sides(args, name, &cx),
        FlagType::Variants(variants) => variant_sides(args, flag, variants, &cx),
    };
    cx.check()?;

    let module = args
        .module
        .clone()
        .unwrap_or_else(|| syn::parse_quote_spanned!(name_span=> crate::flags));
    let handle = format_ident!("{}", flag.ident.to_ascii_uppercase(), span = name_span);
    let fn_name = own_name.to_string();
    let flag_name = &flag.name;
    let body = &func.block;
    let arity = flag.arity();

    let (prelude, value) = if flag.is_static {
        // The value is a `const`: the compiler folds the branch and drops the other
        // side. A context has nothing to decide, but is still evaluated (once, as for
        // a run-time flag) so that it is not reported unused.
        let ctx = args.context.as_ref().map(|ctx| quote!(let _ = &(#ctx);));
        (
            ctx.unwrap_or_default(),
            quote_spanned!(name_span=> #module::#handle),
        )
    } else {
        let prelude = quote! {
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
        (prelude, value)
    };

    // Each side is a block of our own with the body's statements spliced in, never
    // the body's block nested in ours: a nested one-line block is `unused_braces` in
    // the caller's crate (and `cargo fix` would then remove braces a fn needs).
    let stmts = &body.stmts;
    let side = |label: &str, target: Option<&Path>| -> TokenStream {
        match target {
            None => traced(args, flag_name, label, &fn_name, func, quote!(#(#stmts)*)),
            Some(path) => {
                let call = call_other(func, path, &params);
                traced(args, flag_name, label, &fn_name, func, call)
            }
        }
    };
    let routed = match sides {
        Sides::Bool { fallback } if args.measure.is_some() && !flag.is_static => {
            // The body runs in a closure (an async block in an `async fn`) so that a
            // `return` or `?` inside it still ends where the outcome is recorded.
            let on = match (&func.sig.asyncness, args.trace) {
                // Traced, the body is already an async block of its own.
                (Some(_), true) => side("on", None),
                (Some(_), false) => quote!({ async move { #(#stmts)* }.await }),
                (None, _) => {
                    let call = quote!((|| { #(#stmts)* })());
                    traced(args, flag_name, "on", &fn_name, func, call)
                }
            };
            let off = side("off", Some(fallback));
            quote! {
                let __flags_start = ::std::time::Instant::now();
                let __flags_on: bool = #value;
                let __flags_out = if __flags_on #on else #off;
                #module::#handle.record_outcome(
                    ::flags_runtime::__private::Side::from_bool(__flags_on),
                    ::flags_runtime::Succeeded::outcome(&__flags_out, __flags_start.elapsed()),
                );
                __flags_out
            }
        }
        Sides::Bool { fallback } => {
            let on = side("on", None);
            let off = side("off", Some(fallback));
            quote!(if #value #on else #off)
        }
        Sides::Variants(targets) => {
            let enum_ty = format_ident!("{}", to_upper_camel(&flag.ident), span = name_span);
            let arms = targets.iter().map(|(v, target)| {
                let variant = format_ident!("{}", to_upper_camel(v), span = name_span);
                let run = side(v, *target);
                quote!(#module::#enum_ty::#variant => #run)
            });
            quote!(match #value { #(#arms)* })
        }
    };

    // syn keeps the body's inner attributes (`#![allow(..)]`) with the function's own;
    // they go back at the top of the body, where they were written.
    let (inner, outer): (Vec<&syn::Attribute>, Vec<&syn::Attribute>) = func
        .attrs
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let vis = &func.vis;
    let sig = &func.sig;
    Ok(quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #prelude
            #routed
        }
    })
}

#[cfg(test)]
mod tests;
