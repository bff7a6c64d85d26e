//! Small manifests that several crates' tests build on, written once. Each helper
//! returns a `[flags.NAME]` table as TOML text, so a test assembles exactly the flags
//! it needs and the text it feeds a parser stays visible in one place.

/// An on/off flag `name` with the fields every flag needs (description, owner, kind
/// `ops`) and nothing else, followed by a blank line.
///
/// ```
/// let toml = flags_test_support::fixtures::flag("beta");
/// assert!(toml.starts_with("[flags.beta]\n"));
/// ```
pub fn flag(name: &str) -> String {
    format!("[flags.{name}]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\n")
}

/// A variant flag `name` with `variants` and `default`, otherwise as [`flag`].
///
/// ```
/// let toml = flags_test_support::fixtures::variant_flag("layout", &["a", "b"], "b");
/// assert!(toml.contains("variants = [\"a\", \"b\"]\ndefault = \"b\"\n"));
/// ```
pub fn variant_flag(name: &str, variants: &[&str], default: &str) -> String {
    let list = variants
        .iter()
        .map(|v| format!("\"{v}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "[flags.{name}]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n\
         variants = [{list}]\ndefault = \"{default}\"\n\n"
    )
}

/// The smallest manifest with both kinds of flag: on/off `bool_name` and a variant
/// flag `variant_name` with `classic` (the default) and `compact`. Four combinations.
pub fn bool_and_variant(bool_name: &str, variant_name: &str) -> String {
    flag(bool_name) + &variant_flag(variant_name, &["classic", "compact"], "classic")
}
