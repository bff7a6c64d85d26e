//! How a flag's name is spelled elsewhere: the identifiers of generated code and the
//! environment variables that set flags. The one place each spelling is made, so the
//! macro, the runtime and the CLI agree.

/// `name` in snake_case: `PaymentsBeta` and `payments-beta` give `payments_beta`.
///
/// ```
/// assert_eq!(flags_manifest::to_snake_case("PaymentsBeta-v2"), "payments_beta_v2");
/// ```
pub fn to_snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '-' || c == '_' || c == ' ' || c == '.' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        } else if c.is_uppercase() {
            if prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The environment spelling of flag `name`: its accessor identifier in upper case
/// (`search_v2` and `SearchV2` give `SEARCH_V2`). The runtime reads
/// `FLAGS_<this>`, the `flags!` macro `FLAGS_STATIC_<this>` for static flags.
///
/// ```
/// assert_eq!(flags_manifest::env_suffix("search-v2"), "SEARCH_V2");
/// assert_eq!(flags_manifest::env_suffix("PaymentsBeta"), "PAYMENTS_BETA");
/// ```
pub fn env_suffix(name: &str) -> String {
    to_snake_case(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The prefix of the variables that set dynamic flags when the program runs.
pub const ENV_PREFIX: &str = "FLAGS_";

/// The prefix of the variables that set static flags when the crate is built.
pub const STATIC_ENV_PREFIX: &str = "FLAGS_STATIC_";

/// The variable the runtime reads dynamic flag `name` from: `FLAGS_<NAME>`, with
/// [`env_suffix`].
///
/// ```
/// assert_eq!(flags_manifest::env_var("search-v2"), "FLAGS_SEARCH_V2");
/// ```
pub fn env_var(name: &str) -> String {
    format!("{ENV_PREFIX}{}", env_suffix(name))
}

/// The variable the `flags!` macro reads static flag `name` from at build time:
/// `FLAGS_STATIC_<NAME>`, with [`env_suffix`]. The one place this spelling is made.
///
/// ```
/// assert_eq!(flags_manifest::static_env_var("DarkMode"), "FLAGS_STATIC_DARK_MODE");
/// ```
pub fn static_env_var(name: &str) -> String {
    format!("{STATIC_ENV_PREFIX}{}", env_suffix(name))
}

/// `name` in UpperCamelCase, the form of generated enum types and variants.
///
/// ```
/// assert_eq!(flags_manifest::to_upper_camel("checkout_layout"), "CheckoutLayout");
/// assert_eq!(flags_manifest::to_upper_camel("two-column"), "TwoColumn");
/// ```
pub fn to_upper_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c == '_' || c == '-' || c == ' ' || c == '.' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
