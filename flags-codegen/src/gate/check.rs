//! Every check of a gate against its flag that can fail: which implementation runs for
//! each value, and the parameters that are passed on. Each mistake is recorded in the
//! expansion's error context, so one build reports them all.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, Path};

use flags_manifest::{Flag, did_you_mean};

use super::args::{ARGUMENTS, GateArgs};
use crate::ctxt::Ctxt;

/// Which implementation runs for each value: `None` is the annotated body.
pub(super) enum Sides<'a> {
    Bool { fallback: &'a Path },
    Variants(Vec<(&'a str, Option<&'a Path>)>),
}

pub(super) fn bool_sides<'a>(args: &'a GateArgs, name: &str, cx: &Ctxt) -> Sides<'a> {
    if let Some(v) = &args.variant {
        cx.push(syn::Error::new(
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
        cx.push(syn::Error::new(
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
            cx.push(syn::Error::new(
                args.flag.1,
                format!(
                    "`{name}` is an on/off flag: add `fallback = function` (the implementation used when it is off)"
                ),
            ));
            Sides::Variants(Vec::new())
        }
    }
}

pub(super) fn variant_sides<'a>(
    args: &'a GateArgs,
    flag: &Flag,
    variants: &'a [String],
    cx: &Ctxt,
) -> Sides<'a> {
    let name = &flag.name;
    if let Some(f) = &args.fallback {
        cx.push(syn::Error::new(
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
                cx.push(unknown_variant(lit.span(), name, &v, variants));
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
            cx.push(unknown_variant(r.span, name, &r.variant, variants));
        } else if r.variant == own {
            let how = if args.variant.is_some() {
                "`variant = ...`"
            } else {
                "the manifest default"
            };
            cx.push(syn::Error::new(
                r.span,
                format!(
                    "variant `{}` is implemented by the function's own body ({how}); remove `{} = ...`",
                    r.variant,
                    written(&r.variant)
                ),
            ));
        } else if args.routes[..i].iter().any(|p| p.variant == r.variant) {
            cx.push(syn::Error::new(
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
        cx.push(syn::Error::new(
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
pub(super) fn written(variant: &str) -> String {
    let ident = syn::parse_str::<Ident>(variant).is_ok() && !ARGUMENTS.contains(&variant);
    if ident {
        variant.to_owned()
    } else {
        format!("\"{variant}\"")
    }
}

pub(super) fn unknown_variant(span: Span, flag: &str, v: &str, variants: &[String]) -> syn::Error {
    let hint = did_you_mean(v, variants.iter().map(String::as_str)).map_or_else(
        || format!(" (variants: {})", variants.join(", ")),
        |h| format!(": did you mean `{}`?", written(h)),
    );
    syn::Error::new(span, format!("`{flag}` has no variant `{v}`{hint}"))
}

/// The parameters to pass on to another implementation, by name. A parameter bound by
/// a pattern (`(a, b): (u8, u8)`, `ref a`, `_`) has no plain name to pass, so it is an
/// error that says how to write it instead.
pub(super) fn call_parameters(func: &ItemFn, cx: &Ctxt) -> Vec<Ident> {
    let mut params = Vec::new();
    for (i, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else { continue };
        match &*pt.pat {
            Pat::Ident(pi) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                params.push(pi.ident.clone());
            }
            _ => cx.push(syn::Error::new(
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
