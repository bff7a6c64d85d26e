//! The macro's input: `"path"` or `VIS mod NAME = "path"`, parsed into [`FlagsInput`].
//! Every way the input can be wrong is a `syn::Error` on the offending token.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token, Visibility};

/// What `flags!( ... )` was given.
///
/// ```
/// use flags_codegen::FlagsInput;
/// let short: FlagsInput = syn::parse_str(r#""flags.toml""#).unwrap();
/// assert_eq!((short.name.to_string(), short.path.value()), ("flags".into(), "flags.toml".into()));
///
/// let long: FlagsInput = syn::parse_str(r#"pub(crate) mod feature = "config/flags.toml""#).unwrap();
/// assert_eq!(long.name, "feature");
///
/// assert!(syn::parse_str::<FlagsInput>(r#""flags.toml" extra"#).is_err());
/// assert!(syn::parse_str::<FlagsInput>("42").is_err());
/// ```
#[derive(Clone)]
pub struct FlagsInput {
    /// Visibility of the generated module (`pub` in the short form).
    pub vis: Visibility,
    /// Name of the generated module (`flags` in the short form).
    pub name: Ident,
    /// The manifest path as written.
    pub path: LitStr,
}

const USAGE: &str = "write `flags!(\"flags.toml\")` or `flags!(pub mod name = \"flags.toml\")`";

impl Parse for FlagsInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("flags! needs the path of a manifest: {USAGE}"),
            ));
        }
        let (vis, name) = if input.peek(LitStr) {
            let vis = Visibility::Public(<Token![pub]>::default());
            (vis, Ident::new("flags", Span::call_site()))
        } else if input.peek(Token![pub]) || input.peek(Token![mod]) {
            let vis: Visibility = input.parse()?;
            input
                .parse::<Token![mod]>()
                .map_err(|e| syn::Error::new(e.span(), format!("expected `mod`: {USAGE}")))?;
            let name: Ident = input.parse().map_err(|e| {
                syn::Error::new(e.span(), format!("expected the module's name: {USAGE}"))
            })?;
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(e.span(), format!("expected `=` and the path: {USAGE}"))
            })?;
            (vis, name)
        } else {
            return Err(input.error(format!(
                "expected the manifest path as a string literal: {USAGE}"
            )));
        };
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected the manifest path as a string literal: {USAGE}"),
            )
        })?;
        if !path.suffix().is_empty() {
            return Err(syn::Error::new(
                path.span(),
                format!(
                    "unexpected suffix `{}` on the manifest path: write just the string",
                    path.suffix()
                ),
            ));
        }
        // A trailing comma, as rustfmt and most macros accept.
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the manifest path: flags! takes one manifest per call",
            ));
        }
        Ok(FlagsInput { vis, name, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        match syn::parse_str::<FlagsInput>(src) {
            Ok(_) => panic!("{src} parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn forms() {
        let f: FlagsInput = syn::parse_str(r#"mod x = "a.toml""#).unwrap();
        assert!(matches!(f.vis, Visibility::Inherited));
        assert_eq!(f.name, "x");
        let f: FlagsInput = syn::parse_str(r#"pub(super) mod y = r"a.toml""#).unwrap();
        assert!(matches!(f.vis, Visibility::Restricted(_)));
        assert_eq!(f.path.value(), "a.toml");
        let f: FlagsInput = syn::parse_str(r#""a.toml""#).unwrap();
        assert!(matches!(f.vis, Visibility::Public(_)));
        let f: FlagsInput = syn::parse_str(r#""a.toml","#).unwrap();
        assert_eq!(f.path.value(), "a.toml");
        let f: FlagsInput = syn::parse_str(r#"mod m = "a.toml" ,"#).unwrap();
        assert_eq!(f.name, "m");
    }

    #[test]
    fn bad_input() {
        assert!(err("").contains("needs the path of a manifest"));
        assert!(err("42").contains("expected the manifest path as a string literal"));
        assert!(err("flags_toml").contains("expected the manifest path as a string literal"));
        assert!(err(r#"b"flags.toml""#).contains("string literal"));
        assert!(err(r#""a.toml" "b.toml""#).contains("unexpected tokens after the manifest path"));
        assert!(err(r#""a.toml",,"#).contains("unexpected tokens"));
        assert!(err(r#""a.toml", "b.toml""#).contains("unexpected tokens"));
        assert!(err(r#"pub mod = "a.toml""#).contains("expected the module's name"));
        assert!(err(r#"pub mod x "a.toml""#).contains("expected `=`"));
        assert!(err(r#"pub x = "a.toml""#).contains("expected `mod`"));
        assert!(err(r#"mod x = 3"#).contains("string literal"));
        assert!(err(r#""a.toml"suffix"#).contains("unexpected suffix `suffix`"));
    }
}
