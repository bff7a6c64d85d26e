//! Parsing the attribute's arguments into [`GateArgs`]: the flag first, then named
//! arguments and `VARIANT = path` routes, each mistake a `syn::Error` on its token.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Path, Token};

/// The named arguments; any other `NAME = path` routes the variant `NAME`.
pub(super) const ARGUMENTS: &[&str] = &[
    "fallback", "variant", "context", "module", "manifest", "trace", "measure",
];

/// The attribute's arguments, as written.
pub struct GateArgs {
    /// The flag, by its manifest name.
    pub(super) flag: (String, Span),
    /// `fallback = path`: the implementation when a bool flag is off.
    pub(super) fallback: Option<Path>,
    /// `variant = "name"`: the variant the annotated body implements.
    pub(super) variant: Option<LitStr>,
    /// `other_variant = path` (or `"other-variant" = path`) pairs.
    pub(super) routes: Vec<Route>,
    /// `context = expr`: evaluate against this context instead of the ambient one.
    pub(super) context: Option<Expr>,
    /// `module = path`: where `flags!` generated the accessors (default `crate::flags`).
    pub(super) module: Option<Path>,
    /// `manifest = "path"`: the manifest (default `flags.toml`, like `flags!`).
    pub(super) manifest: Option<LitStr>,
    /// `trace`: open a `tracing` span carrying the flag and the side that ran.
    pub(super) trace: bool,
    /// `measure`: record each call's outcome and latency for the flag's guarded
    /// rollout, on the side that ran.
    pub(super) measure: Option<Span>,
    /// Arguments given twice, reported with the other mistakes.
    pub(super) repeated: Vec<syn::Error>,
}

/// `NAME = path`: the implementation of variant `NAME`. A variant whose name is not a
/// Rust identifier (`two-col`) is written as a string: `"two-col" = path`.
pub(super) struct Route {
    pub(super) variant: String,
    pub(super) span: Span,
    pub(super) path: Path,
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
