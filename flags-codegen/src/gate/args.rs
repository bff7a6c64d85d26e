//! Parsing the attribute's arguments into [`GateArgs`] with `syn::meta::parser`: the
//! flag first, then named arguments and `VARIANT = path` routes, each mistake a
//! `syn::Error` on its token.
//!
//! Two forms are not meta syntax: the flag named by a string (`"search-v2"`) and a
//! route keyed by a string (`"two-col" = wide`), for names that are not identifiers.
//! Before the meta parser runs, a string literal that opens an argument is replaced by
//! a placeholder identifier carrying the literal's span, and the parser's callback
//! maps it back, so that every argument goes through the one parser.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Expr, LitStr, Path, Token};

/// The named arguments; any other `NAME = path` routes the variant `NAME`.
pub(super) const ARGUMENTS: &[&str] = &[
    "fallback", "variant", "context", "module", "manifest", "trace", "measure",
];

/// The prefix of the placeholders standing for string keys: no identifier a user
/// writes in this position starts with it and means anything else.
const STRING_KEY: &str = "__flags_gate_string_key_";

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
        let tokens: TokenStream = input.parse()?;
        let (tokens, keys) = placeholders(tokens)?;
        let mut args = GateArgs {
            flag: (String::new(), Span::call_site()),
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
        let mut first = true;
        let mut seen: Vec<String> = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let key = match meta.path.get_ident() {
                Some(ident) => Key::of(ident, &keys),
                None => return Err(meta.error(not_a_name(first))),
            };
            if std::mem::take(&mut first) {
                args.flag = flag(&meta, key)?;
                return Ok(());
            }
            args.argument(&meta, key, &mut seen)
        });
        parser.parse2(tokens)?;
        Ok(args)
    }
}

/// An argument's key: an identifier, or a string literal that opened the argument.
enum Key {
    Ident(String, Span),
    String(String, Span),
}

impl Key {
    fn of(ident: &Ident, keys: &[(String, Span)]) -> Key {
        let name = ident.to_string();
        let string = name
            .strip_prefix(STRING_KEY)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| keys.get(n));
        match string {
            Some((value, span)) => Key::String(value.clone(), *span),
            None => Key::Ident(
                name.strip_prefix("r#")
                    .map_or_else(|| name.clone(), str::to_owned),
                ident.span(),
            ),
        }
    }
}

/// The first argument: `name`, `"name"`, `flag = name` or `flag = "name"`.
fn flag(meta: &ParseNestedMeta<'_>, key: Key) -> syn::Result<(String, Span)> {
    let named = match key {
        Key::Ident(name, _) if name == "flag" && meta.input.peek(Token![=]) => {
            let value = meta.value()?;
            return if value.peek(LitStr) {
                let lit: LitStr = value.parse()?;
                Ok((lit.value(), lit.span()))
            } else {
                let ident: Ident = value
                    .call(syn::ext::IdentExt::parse_any)
                    .map_err(|e| syn::Error::new(e.span(), not_a_name(true)))?;
                Ok((ident.to_string(), ident.span()))
            };
        }
        Key::Ident(name, span) | Key::String(name, span) => (name, span),
    };
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(syn::Error::new(named.1, not_a_name(true)));
    }
    Ok(named)
}

fn not_a_name(first: bool) -> &'static str {
    if first {
        "expected the flag's name first: `#[feature_gate(flag_name, ...)]`"
    } else {
        "expected an argument's name, like `fallback = function`, or a variant's: `\"two-col\" = function`"
    }
}

impl GateArgs {
    /// One argument after the flag.
    fn argument(
        &mut self,
        meta: &ParseNestedMeta<'_>,
        key: Key,
        seen: &mut Vec<String>,
    ) -> syn::Result<()> {
        let (name, span) = match key {
            Key::String(variant, span) => {
                let written = format!("\"{variant}\"");
                expect_eq(meta, &written, span)?;
                self.routes.push(Route {
                    path: function_path(meta, &written)?,
                    variant,
                    span,
                });
                return Ok(());
            }
            Key::Ident(name, span) => (name, span),
        };
        let named = ARGUMENTS.contains(&name.as_str());
        if named && seen.contains(&name) {
            self.repeated
                .push(syn::Error::new(span, format!("`{name}` is given twice")));
        } else if named {
            seen.push(name.clone());
        }
        // `trace` alone is the switch; `trace = path` would route a variant so named.
        if name == "trace" && !meta.input.peek(Token![=]) {
            self.trace = true;
            return Ok(());
        }
        if name == "measure" && !meta.input.peek(Token![=]) {
            self.measure = Some(span);
            return Ok(());
        }
        expect_eq(meta, &name, span)?;
        match name.as_str() {
            "fallback" => self.fallback = Some(function_path(meta, &name)?),
            "variant" => self.variant = Some(string(meta, "variant", "the variant's name")?),
            "context" => self.context = Some(meta.value()?.parse::<Expr>()?),
            "module" => self.module = Some(meta.value()?.parse::<Path>()?),
            "manifest" => self.manifest = Some(string(meta, "manifest", "a path")?),
            _ => self.routes.push(Route {
                path: function_path(meta, &name)?,
                variant: name,
                span,
            }),
        }
        Ok(())
    }
}

/// `tokens` with every string literal that opens an argument (first, or after a comma
/// at the top level) replaced by a placeholder identifier, and the strings replaced.
fn placeholders(tokens: TokenStream) -> syn::Result<(TokenStream, Vec<(String, Span)>)> {
    let mut keys = Vec::new();
    let mut out = Vec::new();
    let mut opens = true;
    for tt in tokens {
        let next_opens = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',');
        let replaced = match &tt {
            TokenTree::Literal(lit) if opens => {
                match syn::parse2::<LitStr>(TokenTree::Literal(lit.clone()).into()) {
                    Ok(s) => {
                        let ident = Ident::new(&format!("{STRING_KEY}{}", keys.len()), s.span());
                        keys.push((s.value(), s.span()));
                        Some(TokenTree::Ident(ident))
                    }
                    // A number or other literal where a name belongs.
                    Err(_) => {
                        return Err(syn::Error::new(
                            lit.span(),
                            not_a_name(keys.is_empty() && out.is_empty()),
                        ));
                    }
                }
            }
            _ => None,
        };
        out.push(replaced.unwrap_or(tt));
        opens = next_opens;
    }
    Ok((out.into_iter().collect(), keys))
}

/// Consumes nothing: checks that argument `name` has a value (`name = ...`).
fn expect_eq(meta: &ParseNestedMeta<'_>, name: &str, span: Span) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("`{name}` needs a value: `{name} = ...`"),
        ))
    }
}

/// The value of `key = path`: the other implementation.
fn function_path(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<Path> {
    meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key} = ...` takes the path of a function, like `{key} = render_v1`"),
        )
    })
}

/// The value of `key = "..."`.
fn string(meta: &ParseNestedMeta<'_>, key: &str, what: &str) -> syn::Result<LitStr> {
    meta.value()?.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key} = ...` takes {what} as a string, like `{key} = \"...\"`"),
        )
    })
}
