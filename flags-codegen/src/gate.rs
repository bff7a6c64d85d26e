//! `#[feature_gate]`: routes a function between implementations by a flag. Parsing the
//! attribute, checking it against the manifest and generating the routed body are the
//! three stages below; the function's signature, attributes and body tokens are kept
//! as written so compiler errors inside the body still point at the user's code, and
//! the calls to the other implementations are spanned at the paths naming them, so a
//! signature that does not match is reported there.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, FnArg, Ident, Item, ItemFn, LitStr, Pat, Path, Token, TraitItemFn};

use flags_manifest::{Flag, FlagType, Manifest, did_you_mean, to_upper_camel};

use crate::{Env, ManifestFile};

/// The named arguments; any other `NAME = path` routes the variant `NAME`.
const ARGUMENTS: &[&str] = &[
    "fallback", "variant", "context", "module", "manifest", "trace", "measure",
];

/// The attribute's arguments, as written.
pub struct GateArgs {
    /// The flag, by its manifest name.
    flag: (String, Span),
    /// `fallback = path`: the implementation when a bool flag is off.
    fallback: Option<Path>,
    /// `variant = "name"`: the variant the annotated body implements.
    variant: Option<LitStr>,
    /// `other_variant = path` (or `"other-variant" = path`) pairs.
    routes: Vec<Route>,
    /// `context = expr`: evaluate against this context instead of the ambient one.
    context: Option<Expr>,
    /// `module = path`: where `flags!` generated the accessors (default `crate::flags`).
    module: Option<Path>,
    /// `manifest = "path"`: the manifest (default `flags.toml`, like `flags!`).
    manifest: Option<LitStr>,
    /// `trace`: open a `tracing` span carrying the flag and the side that ran.
    trace: bool,
    /// `measure`: record each call's outcome and latency for the flag's guarded
    /// rollout, on the side that ran.
    measure: Option<Span>,
    /// Arguments given twice, reported with the other mistakes.
    repeated: Vec<syn::Error>,
}

/// `NAME = path`: the implementation of variant `NAME`. A variant whose name is not a
/// Rust identifier (`two-col`) is written as a string: `"two-col" = path`.
struct Route {
    variant: String,
    span: Span,
    path: Path,
}

impl Parse for GateArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[feature_gate] needs the flag first: `#[feature_gate(flag_name, fallback = function)]`",
            ));
        }
        // `flag = NAME` is the long form of the first argument.
        let fork = input.fork();
        if fork.call(Ident::parse_any).is_ok_and(|k| k == "flag") && fork.peek(Token![=]) {
            input.call(Ident::parse_any)?;
            input.parse::<Token![=]>()?;
        }
        let flag = if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            (lit.value(), lit.span())
        } else {
            let ident = input.call(Ident::parse_any).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the flag's name first: `#[feature_gate(flag_name, ...)]`",
                )
            })?;
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
            measure: None,
            repeated: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                expect_eq(input, &format!("\"{}\"", lit.value()), lit.span())?;
                args.routes.push(Route {
                    variant: lit.value(),
                    span: lit.span(),
                    path: function_path(input, &format!("\"{}\"", lit.value()))?,
                });
                continue;
            }
            let key: Ident = input.call(Ident::parse_any)?;
            let name = key.to_string();
            let named = ARGUMENTS.contains(&name.as_str());
            if named && seen.contains(&name) {
                args.repeated.push(syn::Error::new(
                    key.span(),
                    format!("`{name}` is given twice"),
                ));
            } else if named {
                seen.push(name.clone());
            }
            // `trace` alone is the switch; `trace = path` would route a variant so named.
            if name == "trace" && !input.peek(Token![=]) {
                args.trace = true;
                continue;
            }
            if name == "measure" && !input.peek(Token![=]) {
                args.measure = Some(key.span());
                continue;
            }
            expect_eq(input, &name, key.span())?;
            match name.as_str() {
                "fallback" => args.fallback = Some(function_path(input, &name)?),
                "variant" => args.variant = Some(string(input, "variant", "the variant's name")?),
                "context" => args.context = Some(input.parse()?),
                "module" => args.module = Some(input.parse()?),
                "manifest" => args.manifest = Some(string(input, "manifest", "a path")?),
                _ => args.routes.push(Route {
                    path: function_path(input, &name)?,
                    variant: name,
                    span: key.span(),
                }),
            }
        }
        Ok(args)
    }
}

/// Consumes the `=` after argument `name`, or says that the argument needs a value.
fn expect_eq(input: ParseStream<'_>, name: &str, span: Span) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("`{name}` needs a value: `{name} = ...`"),
        ))
    }
}

/// The value of `key = path`: the other implementation.
fn function_path(input: ParseStream<'_>, key: &str) -> syn::Result<Path> {
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key} = ...` takes the path of a function, like `{key} = render_v1`"),
        )
    })
}

/// The value of `key = "..."`.
fn string(input: ParseStream<'_>, key: &str, what: &str) -> syn::Result<LitStr> {
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key} = ...` takes {what} as a string, like `{key} = \"...\"`"),
        )
    })
}

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
    let Ok(manifest) = flags_manifest::parse_bytes(file.bytes(), file.written()) else {
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

/// Collects every mistake, so that one build reports them all.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
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

    let mut errors = Errors::default();
    for e in &args.repeated {
        errors.push(e.clone());
    }
    if let Some(c) = &func.sig.constness {
        errors.push(syn::Error::new(
            c.span(),
            "#[feature_gate] cannot route a `const fn`: a flag's value is only known at run time (use a static flag's constant directly)",
        ));
    }
    let params = call_parameters(func, &mut errors);
    let own_name = &func.sig.ident;
    let others = args
        .fallback
        .iter()
        .chain(args.routes.iter().map(|r| &r.path));
    for path in others {
        if path.get_ident() == Some(own_name) {
            errors.push(syn::Error::new(
                path.span(),
                format!(
                    "`{own_name}` would call itself: name the other implementation, not the gated function"
                ),
            ));
        }
    }
    if let (Some(span), FlagType::Variants(_)) = (args.measure, &flag.ty) {
        errors.push(syn::Error::new(
            span,
            format!("`measure` records outcomes for a guarded rollout, which needs an on/off flag; `{name}` has variants"),
        ));
    }
    let sides = match &flag.ty {
        FlagType::Bool => bool_sides(args, name, &mut errors),
        FlagType::Variants(variants) => variant_sides(args, flag, variants, &mut errors),
    };
    errors.finish()?;

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
                    __flags_on,
                    ::flags_runtime::Succeeded::succeeded(&__flags_out),
                    __flags_start.elapsed(),
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

    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #prelude
            #routed
        }
    })
}

/// Which implementation runs for each value: `None` is the annotated body.
enum Sides<'a> {
    Bool { fallback: &'a Path },
    Variants(Vec<(&'a str, Option<&'a Path>)>),
}

fn bool_sides<'a>(args: &'a GateArgs, name: &str, errors: &mut Errors) -> Sides<'a> {
    if let Some(v) = &args.variant {
        errors.push(syn::Error::new(
            v.span(),
            format!(
                "`{name}` is an on/off flag; it has no variants (remove `variant = ...`: the body is the `on` side)"
            ),
        ));
    }
    for r in &args.routes {
        let hint = match r.variant.as_str() {
            "off" => " (the `off` side is `fallback = ...`)".to_owned(),
            "on" => " (the `on` side is the function's own body)".to_owned(),
            other => did_you_mean(other, ARGUMENTS.iter().copied())
                .map_or_else(String::new, |h| format!(" (did you mean `{h}`?)")),
        };
        errors.push(syn::Error::new(
            r.span,
            format!(
                "unknown argument `{}`{hint}: `{name}` is an on/off flag, so give `fallback = function` for when it is off",
                r.variant
            ),
        ));
    }
    match &args.fallback {
        Some(fallback) => Sides::Bool { fallback },
        // An unknown argument above already says to add `fallback`. (No sides: an
        // error is pushed on every way here, so nothing is expanded.)
        None if !args.routes.is_empty() => Sides::Variants(Vec::new()),
        None => {
            errors.push(syn::Error::new(
                args.flag.1,
                format!(
                    "`{name}` is an on/off flag: add `fallback = function` (the implementation used when it is off)"
                ),
            ));
            Sides::Variants(Vec::new())
        }
    }
}

fn variant_sides<'a>(
    args: &'a GateArgs,
    flag: &Flag,
    variants: &'a [String],
    errors: &mut Errors,
) -> Sides<'a> {
    let name = &flag.name;
    if let Some(f) = &args.fallback {
        errors.push(syn::Error::new(
            f.span(),
            format!(
                "`{name}` has variants ({}): route each variant by name instead of `fallback`",
                variants.join(", ")
            ),
        ));
    }
    // Variants that a misspelt name was taken for: not reported missing as well.
    let mut meant: Vec<&str> = Vec::new();
    let own = match &args.variant {
        Some(lit) => {
            let v = lit.value();
            if !variants.contains(&v) {
                meant.extend(did_you_mean(&v, variants.iter().map(String::as_str)));
                errors.push(unknown_variant(lit.span(), name, &v, variants));
            }
            v
        }
        None => flag.value_label(flag.default),
    };
    for (i, r) in args.routes.iter().enumerate() {
        if !variants.contains(&r.variant) {
            meant.extend(did_you_mean(
                &r.variant,
                variants.iter().map(String::as_str),
            ));
            errors.push(unknown_variant(r.span, name, &r.variant, variants));
        } else if r.variant == own {
            let how = if args.variant.is_some() {
                "`variant = ...`"
            } else {
                "the manifest default"
            };
            errors.push(syn::Error::new(
                r.span,
                format!(
                    "variant `{}` is implemented by the function's own body ({how}); remove `{} = ...`",
                    r.variant,
                    written(&r.variant)
                ),
            ));
        } else if args.routes[..i].iter().any(|p| p.variant == r.variant) {
            errors.push(syn::Error::new(
                r.span,
                format!("variant `{}` is routed twice", r.variant),
            ));
        }
    }
    let mut sides = Vec::with_capacity(variants.len());
    let mut missing = Vec::new();
    for v in variants {
        if *v == own {
            sides.push((v.as_str(), None));
        } else if let Some(r) = args.routes.iter().find(|r| r.variant == *v) {
            sides.push((v.as_str(), Some(&r.path)));
        } else if !meant.contains(&v.as_str()) {
            missing.push(v.as_str());
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|v| format!("`{v}`")).collect();
        let add: Vec<String> = missing
            .iter()
            .map(|v| format!("{} = function", written(v)))
            .collect();
        let (noun, verb) = if missing.len() == 1 {
            ("variant", "has")
        } else {
            ("variants", "have")
        };
        errors.push(syn::Error::new(
            args.flag.1,
            format!(
                "{noun} {} of `{name}` {verb} no implementation: add `{}`",
                names.join(", "),
                add.join(", ")
            ),
        ));
    }
    Sides::Variants(sides)
}

/// How a variant is written as an argument: bare when it is an identifier, quoted
/// otherwise (`two-col`), or when bare it would be one of the named arguments.
fn written(variant: &str) -> String {
    let ident = syn::parse_str::<Ident>(variant).is_ok() && !ARGUMENTS.contains(&variant);
    if ident {
        variant.to_owned()
    } else {
        format!("\"{variant}\"")
    }
}

fn unknown_variant(span: Span, flag: &str, v: &str, variants: &[String]) -> syn::Error {
    let hint = did_you_mean(v, variants.iter().map(String::as_str)).map_or_else(
        || format!(" (variants: {})", variants.join(", ")),
        |h| format!(": did you mean `{}`?", written(h)),
    );
    syn::Error::new(span, format!("`{flag}` has no variant `{v}`{hint}"))
}

/// The call to another implementation, every token spanned at the path that names it:
/// a signature that does not match (parameters, return type, `async`) is reported
/// there rather than on the gated function.
fn call_other(func: &ItemFn, path: &Path, params: &[Ident]) -> TokenStream {
    let span = path.span();
    let args = params.iter().map(|p| {
        let mut p = p.clone();
        p.set_span(p.span().located_at(span));
        p
    });
    let receiver = func.sig.receiver().map(|r| {
        let mut token = r.self_token;
        token.span = token.span.located_at(span);
        quote!(#token,)
    });
    let target = if receiver.is_some() && path.get_ident().is_some() {
        quote_spanned!(span=> Self::#path)
    } else {
        quote!(#path)
    };
    let awaited = func.sig.asyncness.map(|_| quote_spanned!(span=> .await));
    let call = quote_spanned!(span=> #target(#receiver #(#args),*) #awaited);
    if func.sig.unsafety.is_some() {
        // The caller of the gated `unsafe fn` has upheld its contract; the other
        // implementation has the same signature, so the same contract.
        quote_spanned!(span=> unsafe { #call })
    } else {
        call
    }
}

/// One side as a block: `run` (statements, or the call to another implementation),
/// inside a `tracing` span when `trace` is on. In an `async fn` the span instruments
/// the side's future, as `#[tracing::instrument]` does, so it is entered on every poll
/// and never held across an `.await`.
fn traced(
    args: &GateArgs,
    flag: &str,
    side: &str,
    function: &str,
    func: &ItemFn,
    run: TokenStream,
) -> TokenStream {
    if !args.trace {
        return quote!({ #run });
    }
    let tracing = quote!(::flags_runtime::__private::tracing);
    let span = quote! {
        let __flags_gate_span = #tracing::trace_span!(target: "flags::gate", "feature_gate", flag = #flag, side = #side, function = #function);
    };
    if func.sig.asyncness.is_some() {
        quote!({
            #span
            #tracing::Instrument::instrument(async move { #run }, __flags_gate_span).await
        })
    } else {
        quote!({
            #span
            let __flags_gate_entered = __flags_gate_span.enter();
            #run
        })
    }
}

/// The parameters to pass on to another implementation, by name. A parameter bound by
/// a pattern (`(a, b): (u8, u8)`, `ref a`, `_`) has no plain name to pass, so it is an
/// error that says how to write it instead.
fn call_parameters(func: &ItemFn, errors: &mut Errors) -> Vec<Ident> {
    let mut params = Vec::new();
    for (i, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        match &*pt.pat {
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                params.push(pi.ident.clone());
            }
            _ => errors.push(syn::Error::new(
                pt.pat.span(),
                format!(
                    "#[feature_gate] needs a plain name for parameter {}, to pass it to the other implementation; bind the pattern inside the body",
                    i + 1
                ),
            )),
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[flags.search_v2]
description = "d"
owner = "o"
kind = "ops"

[flags.layout]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "two-col"]
default = "classic"

[flags.dark_mode]
description = "d"
owner = "o"
kind = "ops"
static = true
"#;

    fn expand(args: &str, item: &str) -> Result<String, String> {
        let manifest = flags_manifest::parse_str(MANIFEST, "flags.toml").unwrap();
        let args: GateArgs = syn::parse_str(args).map_err(|e| e.to_string())?;
        let func: ItemFn = syn::parse_str(item).unwrap();
        route(&args, &func, &manifest)
            .map(|t| t.to_string())
            .map_err(|e| {
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
    }

    #[test]
    fn unsafe_fn_calls_the_other_side_in_an_unsafe_block() {
        let out = expand(
            "search_v2, fallback = read_v1",
            "unsafe fn read(p: *const u8) -> u8 { unsafe { *p } }",
        )
        .unwrap();
        assert!(out.contains("unsafe { read_v1 (p) }"), "{out}");
        let safe = expand("search_v2, fallback = f1", "fn f(x: u8) -> u8 { x }").unwrap();
        assert!(!safe.contains("unsafe"), "{safe}");
    }

    #[test]
    fn variants_that_are_not_identifiers_are_routed_by_string() {
        let out = expand(r#"layout, "two-col" = wide"#, "fn w() -> u8 { 1 }").unwrap();
        assert!(
            out.contains("crate :: flags :: Layout :: TwoCol => { wide () }"),
            "{out}"
        );
        assert!(
            out.contains("crate :: flags :: Layout :: Classic => { 1 }"),
            "{out}"
        );
        let missing = expand("layout", "fn w() -> u8 { 1 }").unwrap_err();
        assert!(
            missing.contains(r#"add `"two-col" = function`"#),
            "{missing}"
        );
    }

    #[test]
    fn bodies_are_spliced_not_nested() {
        // A one-line body nested as `{ { x } }` is `unused_braces` in the caller's crate.
        let out = expand("search_v2, fallback = f1", "fn f(x: u8) -> u8 { x }").unwrap();
        assert!(out.contains("{ x } else { f1 (x) }"), "{out}");
        assert!(!out.contains("{ {"), "{out}");
        let traced = expand(
            "search_v2, fallback = f1, trace",
            "fn f(x: u8) -> u8 { let y = x; y }",
        )
        .unwrap();
        assert!(
            traced.contains(
                "let __flags_gate_entered = __flags_gate_span . enter () ; let y = x ; y }"
            ),
            "{traced}"
        );
        let measured = expand(
            "search_v2, fallback = f1, measure",
            "fn f(x: u8) -> u8 { x }",
        )
        .unwrap();
        assert!(measured.contains("(|| { x }) ()"), "{measured}");
        assert!(!measured.contains("{ {"), "{measured}");
    }

    #[test]
    fn trace_instruments_the_future_in_async() {
        let out = expand(
            "search_v2, fallback = load_v1, trace",
            "async fn load(id: u32) -> u32 { id }",
        )
        .unwrap();
        assert!(
            out.contains(
                "Instrument :: instrument (async move { id } , __flags_gate_span) . await"
            ),
            "{out}"
        );
        assert!(
            out.contains("Instrument :: instrument (async move { load_v1 (id) . await } , __flags_gate_span) . await"),
            "{out}"
        );
        assert!(!out.contains("enter ()"), "{out}");
    }

    #[test]
    fn methods_pass_self_and_await_in_async() {
        let out = expand(
            "search_v2, fallback = load_v1",
            "async fn load(&mut self, id: u32) -> u32 { id }",
        )
        .unwrap();
        assert!(out.contains("Self :: load_v1 (self , id) . await"), "{out}");
    }

    #[test]
    fn static_flags_route_by_the_constant_without_a_gate() {
        let out = expand(
            "dark_mode, fallback = light, context = ctx",
            "fn theme(ctx: &Ctx) -> u8 { 1 }",
        )
        .unwrap();
        assert!(out.contains("if crate :: flags :: DARK_MODE"), "{out}");
        assert!(!out.contains("Gate"), "{out}");
        assert!(out.contains("let _ = & (ctx) ;"), "{out}");
    }

    #[test]
    fn every_mistake_is_reported_in_one_go() {
        let err = expand(
            "layout, fallback = f, variant = \"wide\", classic = g",
            "const fn w((a, b): (u8, u8)) -> u8 { a }",
        )
        .unwrap_err();
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 5, "{err}");
        assert!(lines[0].contains("cannot route a `const fn`"), "{err}");
        assert!(lines[1].contains("plain name for parameter 1"), "{err}");
        assert!(lines[2].contains("route each variant by name"), "{err}");
        assert!(lines[3].contains("has no variant `wide`"), "{err}");
        // `wide` is not close to `two-col`, so that one is still reported missing.
        assert!(
            lines[4].contains("variant `two-col` of `layout` has no implementation"),
            "{err}"
        );
    }

    #[test]
    fn arguments_given_twice_and_without_value_are_errors() {
        let twice = expand("search_v2, fallback = a, fallback = b", "fn f() {}").unwrap_err();
        assert!(twice.contains("`fallback` is given twice"), "{twice}");
        let bare = expand("search_v2, fallback", "fn f() {}").unwrap_err();
        assert!(bare.contains("`fallback` needs a value"), "{bare}");
        let long = expand(r#"flag = "search_v2", fallback = a"#, "fn f() {}").unwrap();
        assert!(long.contains("SEARCH_V2 . route"), "{long}");
    }
}
