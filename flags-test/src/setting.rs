//! One side of a matrix rule, typed: a flag's handle and one of its own values, so a
//! rule such as [`FlagMatrix::requires`](crate::FlagMatrix::requires) is checked by the
//! compiler (a value of the wrong type, or a variant the flag does not have, does not
//! build) instead of being parsed from `flag=value` text when the matrix plans.

use std::fmt;

use flags_runtime::{FlagHandle, Registry, Value};

/// A flag at one of its values, made from the flag's handle: a side of a
/// [`FlagMatrix::requires`](crate::FlagMatrix::requires) or
/// [`FlagMatrix::excludes`](crate::FlagMatrix::excludes) rule.
///
/// Displays as the rule syntax of the command line, `flag=value` (`on`/`off` for an
/// on/off flag, the variant's manifest name otherwise).
///
/// ```
/// use flags_test::{FlagHandleExt, FlagSetting};
///
/// flags_runtime::flags!("tests/matrix.toml");
///
/// # fn main() {
/// assert_eq!(flags::FAST_TAX.is(false).to_string(), "fast_tax=off");
/// let jpy = FlagSetting::new(flags::CURRENCY, flags::Currency::Jpy);
/// assert_eq!(jpy.to_string(), "currency=jpy");
/// assert_eq!(jpy.name(), "currency");
/// # }
/// ```
///
/// The value is checked against the flag's type: an on/off flag takes a `bool`, a
/// variant flag its own enum, and anything else does not compile.
///
/// ```compile_fail
/// use flags_test::FlagHandleExt;
///
/// flags_runtime::flags!("tests/matrix.toml");
///
/// # fn main() {
/// let _ = flags::FAST_TAX.is(flags::Currency::Jpy);
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "a setting does nothing until a rule of a `FlagMatrix` uses it"]
pub struct FlagSetting {
    registry: &'static Registry,
    index: usize,
    value: Value,
}

impl FlagSetting {
    /// `flag` at `value`, which has the type the flag's accessor returns: `bool`, or
    /// the flag's variant enum.
    pub fn new<H: FlagHandle>(flag: H, value: H::Value) -> FlagSetting {
        FlagSetting {
            registry: flag.registry(),
            index: flag.index(),
            value: H::encode(value),
        }
    }

    /// The flag's name, as written in the manifest.
    pub fn name(&self) -> &'static str {
        self.registry.flags()[self.index].name
    }

    /// The registry of the flag's handle, to tell a handle of another `flags!` module.
    pub(crate) fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The value as the rule syntax spells it: `on`, `off` or the variant's name.
    fn label(&self) -> String {
        match self.value {
            Value::Bool(true) => "on".to_owned(),
            Value::Bool(false) => "off".to_owned(),
            // A handle's enum only has the manifest's variants; `#i` for any other index
            // names no value, so the planner rejects the rule rather than guessing.
            Value::Variant(i) => self.registry.flags()[self.index]
                .variants
                .get(usize::from(i))
                .map_or_else(|| format!("#{i}"), |name| (*name).to_owned()),
        }
    }
}

impl fmt::Display for FlagSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name(), self.label())
    }
}

/// Makes a [`FlagSetting`] from any handle `flags!` generates: `flags::SEARCH_V2.is(true)`,
/// `flags::CHECKOUT_LAYOUT.is(flags::CheckoutLayout::Compact)`.
///
/// Implemented for every [`FlagHandle`]; bring it into scope to write rules.
///
/// ```
/// use flags_test::{FlagHandleExt, FlagMatrix};
///
/// flags_runtime::flags!("tests/matrix.toml");
///
/// # fn main() {
/// FlagMatrix::new(&flags::REGISTRY)
///     .requires(flags::CURRENCY.is(flags::Currency::Jpy), flags::FAST_TAX.is(false))
///     .run(|case| {
///         if case.get(flags::CURRENCY) == Some(flags::Currency::Jpy) {
///             assert_eq!(case.get(flags::FAST_TAX), Some(false));
///         }
///     });
/// # }
/// ```
pub trait FlagHandleExt: FlagHandle {
    /// This flag at `value`: the same as [`FlagSetting::new`]`(self, value)`.
    fn is(self, value: Self::Value) -> FlagSetting;
}

impl<H: FlagHandle> FlagHandleExt for H {
    fn is(self, value: H::Value) -> FlagSetting {
        FlagSetting::new(self, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    flags_runtime::flags!("tests/matrix.toml");

    #[test]
    fn a_setting_spells_its_value_as_the_rule_syntax_does() {
        assert_eq!(flags::FAST_TAX.is(true).to_string(), "fast_tax=on");
        assert_eq!(flags::RECEIPTS_V2.is(false).to_string(), "receipts_v2=off");
        assert_eq!(
            flags::CURRENCY.is(flags::Currency::Usd).to_string(),
            "currency=usd"
        );
        let jpy = FlagSetting::new(flags::CURRENCY, flags::Currency::Jpy);
        assert_eq!(jpy.to_string(), "currency=jpy");
        assert_eq!(jpy.name(), "currency");
        assert!(std::ptr::eq(jpy.registry(), &flags::REGISTRY));
    }

    #[test]
    fn every_setting_parses_back_as_its_own_value() {
        let manifest = flags::REGISTRY.manifest().unwrap();
        let settings = [
            (flags::FAST_TAX.is(true), Value::Bool(true)),
            (flags::FAST_TAX.is(false), Value::Bool(false)),
            (flags::CURRENCY.is(flags::Currency::Eur), Value::Variant(0)),
            (flags::CURRENCY.is(flags::Currency::Usd), Value::Variant(1)),
            (flags::CURRENCY.is(flags::Currency::Jpy), Value::Variant(2)),
        ];
        for (setting, value) in settings {
            let text = setting.to_string();
            let (name, label) = text.split_once('=').unwrap();
            let parsed = manifest.flag(name).and_then(|f| f.parse_value(label));
            assert_eq!(parsed, Some(value), "{text}");
        }
    }
}
