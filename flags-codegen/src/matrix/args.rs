//! Parsing the attribute's arguments into [`MatrixArgs`] with `syn::meta::parser`: each
//! argument is `name`, `name = value` or `name = [list]`, in any order. A mistake in
//! the syntax stops the parse at its token; an argument given twice, or a second mode,
//! is collected with the other mistakes and the parse goes on.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitInt, LitStr, Path, Token, bracketed};

use flags_manifest::did_you_mean;

use crate::ctxt::Ctxt;

/// The arguments the attribute knows, for the message about any other.
pub(super) const ARGUMENTS: &[&str] = &[
    "flags",
    "exhaustive",
    "pairwise",
    "t_wise",
    "random",
    "seed",
    "pins",
    "rules",
    "registry",
    "manifest",
    "case",
];

/// The attribute's arguments, as written.
pub struct MatrixArgs {
    /// `flags = [a, "b-c"]`: the flags to vary, each with where it is written.
    pub(super) flags: Option<Named<Vec<FlagName>>>,
    /// The mode, with the span of the argument that chose it.
    pub(super) mode: Option<Named<Mode>>,
    /// `seed = N`, with the span of its value.
    pub(super) seed: Option<Named<u64>>,
    /// `pins = [defaults, all_on, all_off]`.
    pub(super) pins: Option<Vec<Pin>>,
    /// `rules = ["a=on -> b=x"]`.
    pub(super) rules: Vec<LitStr>,
    /// `registry = PATH` (default `crate::flags::REGISTRY`).
    pub(super) registry: Option<Path>,
    /// `manifest = "path"`: where the flag names are checked (default: the manifest of
    /// the `flags!` call generating the registry's module).
    pub(super) manifest: Option<LitStr>,
    /// `case = NAME`: binds the current case in the body.
    pub(super) case: Option<Ident>,
}

/// A value and the span of the argument (or literal) that gave it.
pub(super) struct Named<T> {
    pub(super) value: T,
    pub(super) span: Span,
}

/// A flag named in `flags = [...]`: an identifier, or a string for a name that is not
/// one (a manifest with `[settings.naming] style = "any"`).
pub(super) struct FlagName {
    pub(super) name: String,
    pub(super) span: Span,
    /// Written as an identifier: it may also name the flag by its accessor.
    pub(super) is_ident: bool,
}

/// How combinations are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Exhaustive,
    Pairwise,
    TWise(u8),
    Random(usize),
}

/// A combination always run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pin {
    Defaults,
    AllOn,
    AllOff,
}

impl MatrixArgs {
    /// Parses `tokens`. A syntax error is returned; arguments given twice and a second
    /// mode are recorded in `cx` and parsing goes on, so that every one is reported.
    pub(super) fn parse(tokens: TokenStream, cx: &Ctxt) -> syn::Result<MatrixArgs> {
        let mut args = MatrixArgs {
            flags: None,
            mode: None,
            seed: None,
            pins: None,
            rules: Vec::new(),
            registry: None,
            manifest: None,
            case: None,
        };
        let mut seen: Vec<String> = Vec::new();
        let parser = syn::meta::parser(|meta| {
            let Some(key) = meta.path.get_ident().map(Ident::unraw) else {
                return Err(meta.error(format!(
                    "unknown argument: use one of {}",
                    ARGUMENTS.join(", ")
                )));
            };
            let name = key.to_string();
            if !ARGUMENTS.contains(&name.as_str()) {
                return Err(unknown(&meta, &name));
            }
            if seen.contains(&name) {
                cx.error_at(key.span(), format!("`{name}` is given twice"));
            } else {
                seen.push(name.clone());
            }
            args.argument(&name, &key, &meta, cx)
        });
        parser.parse2(tokens)?;
        Ok(args)
    }

    /// One argument, `name` known and first seen or repeated (a repeated one is parsed
    /// all the same, so that the parse goes on at the next).
    fn argument(
        &mut self,
        name: &str,
        key: &Ident,
        meta: &ParseNestedMeta<'_>,
        cx: &Ctxt,
    ) -> syn::Result<()> {
        let span = key.span();
        match name {
            "exhaustive" => {
                no_value(meta, name)?;
                self.set_mode(Mode::Exhaustive, span, cx);
            }
            "pairwise" => {
                no_value(meta, name)?;
                self.set_mode(Mode::Pairwise, span, cx);
            }
            "t_wise" => {
                let lit: LitInt = value(meta, name, "a strength, like `t_wise = 3`")?;
                let t: u8 = lit.base10_parse()?;
                if t < 2 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`t_wise` needs a strength of 2 or more (2 is `pairwise`)",
                    ));
                }
                self.set_mode(Mode::TWise(t), span, cx);
            }
            "random" => {
                let lit: LitInt = value(meta, name, "a count, like `random = 20`")?;
                let count: usize = lit.base10_parse()?;
                if count == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`random` needs a count of 1 or more",
                    ));
                }
                self.set_mode(Mode::Random(count), span, cx);
            }
            "seed" => {
                let lit: LitInt = value(meta, name, "a number, like `seed = 7`")?;
                self.seed = Some(Named {
                    value: lit.base10_parse()?,
                    span: lit.span(),
                });
            }
            "flags" => {
                let names = list(meta, name, "flag names, like `flags = [search_v2]`", |s| {
                    if s.peek(LitStr) {
                        let lit: LitStr = s.parse()?;
                        Ok(FlagName {
                            name: lit.value(),
                            span: lit.span(),
                            is_ident: false,
                        })
                    } else {
                        let ident = s.call(Ident::parse_any).map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                "`flags = [...]` takes flag names: as written in the manifest, \
                                 quoted when a name is not an identifier (`\"checkout-layout\"`)",
                            )
                        })?;
                        Ok(FlagName {
                            name: ident.unraw().to_string(),
                            span: ident.span(),
                            is_ident: true,
                        })
                    }
                })?;
                self.flags = Some(Named { value: names, span });
            }
            "pins" => {
                let pins = list(meta, name, "pins, like `pins = [defaults]`", |s| {
                    let unknown = |span| {
                        syn::Error::new(span, "unknown pin: use defaults, all_on or all_off")
                    };
                    let ident = s.call(Ident::parse_any).map_err(|e| unknown(e.span()))?;
                    match ident.to_string().as_str() {
                        "defaults" => Ok(Pin::Defaults),
                        "all_on" => Ok(Pin::AllOn),
                        "all_off" => Ok(Pin::AllOff),
                        _ => Err(unknown(ident.span())),
                    }
                })?;
                self.pins = Some(pins);
            }
            "rules" => {
                self.rules = list(
                    meta,
                    name,
                    "rules as strings, like `rules = [\"a=on -> b=compact\"]`",
                    |s| {
                        s.parse::<LitStr>().map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                "`rules = [...]` takes each rule as a string, like `\"a=on -> b=compact\"`",
                            )
                        })
                    },
                )?;
            }
            "registry" => {
                self.registry = Some(value(
                    meta,
                    name,
                    "a path, like `registry = flags::REGISTRY`",
                )?);
            }
            "manifest" => {
                self.manifest = Some(value(
                    meta,
                    name,
                    "a path as a string, like `manifest = \"flags.toml\"`",
                )?);
            }
            "case" => {
                self.case = Some(value(
                    meta,
                    name,
                    "a name for the case, like `case = case`",
                )?);
            }
            _ => return Err(unknown(meta, name)),
        }
        Ok(())
    }

    /// Records the mode; a second one is a mistake (the same one twice is already
    /// reported as given twice).
    fn set_mode(&mut self, mode: Mode, span: Span, cx: &Ctxt) {
        match &self.mode {
            Some(first)
                if std::mem::discriminant(&first.value) != std::mem::discriminant(&mode) =>
            {
                cx.error_at(
                    span,
                    "choose one mode: exhaustive, pairwise, t_wise = N or random = N",
                );
            }
            Some(_) => {}
            None => self.mode = Some(Named { value: mode, span }),
        }
    }
}

/// The error for an argument the attribute does not know, with the nearest it does.
fn unknown(meta: &ParseNestedMeta<'_>, name: &str) -> syn::Error {
    let hint = did_you_mean(name, ARGUMENTS.iter().copied())
        .map_or_else(String::new, |h| format!(": did you mean `{h}`?"));
    meta.error(format!(
        "unknown argument `{name}`{hint} (the arguments: {})",
        ARGUMENTS.join(", ")
    ))
}

/// A switch: nothing may follow its name.
fn no_value(meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        return Err(meta.error(format!("`{name}` takes no value: write it alone")));
    }
    Ok(())
}

/// The value of `name = value`, parsed as `T`; `what` says what is expected.
fn value<T: syn::parse::Parse>(
    meta: &ParseNestedMeta<'_>,
    name: &str,
    what: &str,
) -> syn::Result<T> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("`{name}` needs a value: {what}")));
    }
    let input = meta.value()?;
    input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("`{name} = ...` takes {what}")))
}

/// The value of `name = [a, b]`, each element parsed by `item`.
fn list<T>(
    meta: &ParseNestedMeta<'_>,
    name: &str,
    what: &str,
    item: fn(ParseStream<'_>) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("`{name}` needs a value: {what}")));
    }
    let input = meta.value()?;
    if !input.peek(syn::token::Bracket) {
        return Err(input.error(format!("`{name} = ...` takes a list in brackets: {what}")));
    }
    let content;
    bracketed!(content in input);
    Ok(
        Punctuated::<T, Token![,]>::parse_terminated_with(&content, item)?
            .into_iter()
            .collect(),
    )
}
