//! Every check that can fail, in one place: the manifest itself (through
//! `flags_manifest`), the build date, the values of static flags taken from the
//! environment, expiry under the manifest's policy, and the identifiers the expansion
//! will use. The result is a [`Checked`] plan that code generation follows without
//! deciding anything, plus the errors found on the way.

use flags_manifest::{
    Diagnostic, ExpiryPolicy, ExpiryState, Flag, FlagType, Manifest, Pos, Severity, Value,
    expiry_state, to_upper_camel,
};
use proc_macro2::{Ident, Span};

use crate::ctxt::Ctxt;
use crate::env::{Env, FLAGS_STATIC_PREFIX, FLAGS_TODAY, SOURCE_DATE_EPOCH};
use crate::source::ManifestFile;

/// A manifest ready to expand.
pub(crate) struct Checked {
    /// The manifest as read.
    pub manifest: Manifest,
    /// What to generate for each flag, by index.
    pub flags: Vec<FlagPlan>,
    /// `FLAGS_STATIC_*` variables set but read by no flag, each close to one that is.
    pub unread: Vec<UnreadVar>,
}

/// A `FLAGS_STATIC_*` variable that looks like a misspelling: the build warns about it
/// through a `#[deprecated]` item, as about an expired flag.
pub(crate) struct UnreadVar {
    /// The variable, as set.
    pub var: String,
    /// The deprecated item's name: the variable, as an identifier.
    pub item: Ident,
    /// The deprecation note.
    pub note: String,
}

/// What to generate for one flag.
pub(crate) struct FlagPlan {
    /// The accessor function (`search_v2`).
    pub accessor: Ident,
    /// The handle constant, or the static flag's constant (`SEARCH_V2`).
    pub constant: Ident,
    /// The enum of a variant flag.
    pub variants: Option<VariantEnum>,
    /// Where the flag stands against its expiry date today.
    pub expiry: Option<ExpiryState>,
    /// The deprecated item that warns about a stale flag.
    pub stale_warning: Option<StaleWarning>,
    /// The value a static flag is compiled with.
    pub fixed: Option<StaticValue>,
}

/// The generated enum of a variant flag.
pub(crate) struct VariantEnum {
    /// The type (`CheckoutLayout`).
    pub ty: Ident,
    /// One per variant, in manifest order (`Classic`, `TwoCol`).
    pub variants: Vec<Ident>,
}

/// A `#[deprecated]` item whose use makes the compiler warn about a stale flag.
pub(crate) struct StaleWarning {
    /// Its name, which reads as a sentence (`search_v2_expired_2026_01_31`).
    pub item: Ident,
    /// The deprecation note.
    pub note: String,
}

/// The compile-time value of a static flag.
pub(crate) struct StaticValue {
    /// The value.
    pub value: Value,
    /// The variable that can set it (`FLAGS_STATIC_DARK_MODE`).
    pub var: String,
    /// Whether the variable set it (else it is the manifest default).
    pub from_env: bool,
}

/// Checks the manifest in `file` in the surroundings `env`, recording each problem in
/// `cx` at `span` (the manifest path literal, the one place in the user's code that
/// stands for the whole file). Without a manifest model (the file does not parse)
/// there is no plan; with one, the plan is returned even when other errors were found,
/// so that the user's code still resolves the flags and the build shows only the real
/// problems.
pub(crate) fn check(cx: &Ctxt, span: Span, file: &ManifestFile, env: &Env) -> Option<Checked> {
    let written = file.written();
    let manifest = match flags_manifest::parse_bytes(file.bytes(), written) {
        Ok(m) => m,
        Err(e) => {
            for d in e
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
            {
                cx.error_at(span, d.render(written));
            }
            return None;
        }
    };
    // Expiry is the business of the crate's own developers. Built as a dependency,
    // the crate compiles quietly: its users cannot remove its flags, and a library
    // past its dates must not break every build downstream.
    let today = if !env.is_primary() {
        None
    } else {
        match flags_manifest::today(env.var(FLAGS_TODAY), env.var(SOURCE_DATE_EPOCH)) {
            Ok((today, _)) => Some(today),
            Err(msg) => {
                cx.error_at(span, format!(
                    "cannot tell today's date for flag expiry: {msg} (help: set {FLAGS_TODAY} to \
                     a date such as 2027-01-31, or unset it and {SOURCE_DATE_EPOCH} to use the \
                     clock)"
                ));
                None
            }
        }
    };
    let mut flags = Vec::with_capacity(manifest.flags.len());
    for flag in &manifest.flags {
        let mut fail = |key: &str, message: String, help: &str| {
            cx.error_at(span, diagnostic(flag, key, message, help).render(written));
        };
        let accessor = ident(&flag.ident, &mut fail);
        let constant = ident(&flag.ident.to_ascii_uppercase(), &mut fail);
        let variants = match &flag.ty {
            FlagType::Bool => None,
            FlagType::Variants(names) => {
                let ty = ident(&to_upper_camel(&flag.ident), &mut fail);
                let variants: Vec<Option<Ident>> = names
                    .iter()
                    .map(|v| ident(&to_upper_camel(v), &mut fail))
                    .collect();
                ty.zip(variants.into_iter().collect::<Option<Vec<_>>>())
                    .map(|(ty, variants)| VariantEnum { ty, variants })
            }
        };
        let expiry = today.map(|t| expiry_state(flag, &manifest.settings, t));
        let mut stale_warning = None;
        match expiry {
            Some(ExpiryState::StaleError { days_over }) => {
                let grace = match manifest.settings.expiry {
                    ExpiryPolicy::Error { grace_days } => grace_days,
                    _ => 0,
                };
                fail(
                    "expires",
                    format!(
                        "{}, past the {grace}-day grace period of expiry = \"error\"",
                        expired_sentence(flag, days_over)
                    ),
                    &remove_advice(written),
                );
            }
            Some(ExpiryState::Stale { days_over })
                if manifest.settings.expiry != ExpiryPolicy::Off =>
            {
                let name = stale_item_name(flag);
                stale_warning = ident(&name, &mut fail).map(|item| StaleWarning {
                    item,
                    note: format!(
                        "{}: {}",
                        expired_sentence(flag, days_over),
                        remove_advice(written)
                    ),
                });
            }
            _ => {}
        }
        let fixed = flag.is_static.then(|| static_value(flag, env, &mut fail));
        if let (Some(accessor), Some(constant)) = (accessor, constant) {
            let ok_enum = variants.is_some() || flag.ty == FlagType::Bool;
            if ok_enum {
                flags.push(FlagPlan {
                    accessor,
                    constant,
                    variants,
                    expiry,
                    stale_warning,
                    fixed,
                });
            }
        }
    }
    let unread = unread_vars(&manifest, env, file.written());
    // A flag without a plan could only come from an identifier the manifest should
    // have refused; its error is recorded above and nothing is generated.
    (flags.len() == manifest.flags.len()).then_some(Checked {
        manifest,
        flags,
        unread,
    })
}

/// The `FLAGS_STATIC_*` variables set that no static flag reads, when they look meant
/// for this manifest: close to a static flag's variable (a misspelling), or naming a
/// flag that is not static. Other names are left alone: the environment is shared by
/// every crate in the build, and may set variables for another crate's manifest.
fn unread_vars(manifest: &Manifest, env: &Env, written: &str) -> Vec<UnreadVar> {
    let statics: Vec<String> = manifest
        .flags
        .iter()
        .filter(|f| f.is_static)
        .map(|f| flags_manifest::static_env_var(&f.name))
        .collect();
    let mut unread = Vec::new();
    for (var, _) in env.vars_with_prefix(FLAGS_STATIC_PREFIX) {
        if statics.iter().any(|s| s == var) {
            continue;
        }
        let suffix = &var[FLAGS_STATIC_PREFIX.len()..];
        let dynamic = manifest
            .flags
            .iter()
            .find(|f| !f.is_static && flags_manifest::env_suffix(&f.name) == suffix);
        let note = if let Some(flag) = dynamic {
            format!(
                "{var} is set, but flag `{}` of {written} is not static, so it is not read at \
                 build time (help: set {} when the program runs, or declare the flag \
                 `static = true`)",
                flag.name,
                flags_manifest::env_var(&flag.name)
            )
        } else if let Some(meant) = flags_manifest::did_you_mean(
            suffix,
            // Without the shared prefix, so that closeness is the flag name's.
            statics.iter().map(|s| &s[FLAGS_STATIC_PREFIX.len()..]),
        ) {
            format!(
                "{var} is set, but no static flag of {written} reads it (help: did you mean \
                 {FLAGS_STATIC_PREFIX}{meant}?)"
            )
        } else {
            continue;
        };
        let name: String = var
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let Ok(item) = syn::parse_str::<Ident>(&name) else {
            continue;
        };
        if unread.iter().any(|u: &UnreadVar| u.item == item) {
            continue;
        }
        unread.push(UnreadVar {
            var: var.to_owned(),
            item,
            note,
        });
    }
    unread
}

/// `flag `x` (owner: team) expired on 2026-01-31, 12 days ago`.
pub(crate) fn expired_sentence(flag: &Flag, days_over: i64) -> String {
    let date = flag.expires.map(|d| d.to_string()).unwrap_or_default();
    let ago = if days_over == 1 {
        "1 day ago".to_owned()
    } else {
        format!("{days_over} days ago")
    };
    format!(
        "flag `{}` (owner: {}) expired on {date}, {ago}",
        flag.name, flag.owner
    )
}

fn remove_advice(written: &str) -> String {
    format!("remove it from the code and {written}, or move `expires` later")
}

/// `search_v2_expired_2026_01_31`: the deprecated item reads as a sentence in the
/// compiler's warning.
fn stale_item_name(flag: &Flag) -> String {
    let date = flag
        .expires
        .map(|d| format!("{:04}_{:02}_{:02}", d.year(), d.month(), d.day()))
        .unwrap_or_default();
    format!("{}_expired_{date}", flag.ident)
}

fn static_value(flag: &Flag, env: &Env, fail: &mut impl FnMut(&str, String, &str)) -> StaticValue {
    let var = flags_manifest::static_env_var(&flag.name);
    let Some(text) = env.var(&var) else {
        return StaticValue {
            value: flag.default,
            var,
            from_env: false,
        };
    };
    match flag.parse_value(text) {
        Some(value) => StaticValue {
            value,
            var,
            from_env: true,
        },
        None => {
            let help = match &flag.ty {
                FlagType::Bool => format!("set {var} to on or off, or unset it to use the default"),
                FlagType::Variants(vs) => format!(
                    "set {var} to one of {}, or unset it to use the default",
                    vs.join(", ")
                ),
            };
            fail(
                "static",
                format!(
                    "{var} is `{text}`, which is not a value of static flag `{}`",
                    flag.name
                ),
                &help,
            );
            StaticValue {
                value: flag.default,
                var,
                from_env: false,
            }
        }
    }
}

/// A diagnostic at the flag's table, in the form every tool of the workspace prints.
fn diagnostic(flag: &Flag, key: &str, message: String, help: &str) -> Diagnostic {
    let key = if key.is_empty() {
        format!("flags.{}", flag.name)
    } else {
        format!("flags.{}.{key}", flag.name)
    };
    Diagnostic {
        severity: Severity::Error,
        pos: Pos {
            span: flag.pos.span.clone(),
            line: flag.pos.line,
            col: flag.pos.col,
        },
        key,
        message,
        help: Some(help.to_owned()),
    }
}

/// `text` as an identifier, or an error: the manifest refuses names that are not
/// identifiers, so this only guards against a name slipping through, never panicking.
fn ident(text: &str, fail: &mut impl FnMut(&str, String, &str)) -> Option<Ident> {
    match syn::parse_str::<Ident>(text) {
        Ok(i) => Some(i),
        Err(_) => {
            fail(
                "",
                format!("`{text}` is not a Rust identifier, so it cannot be generated"),
                "rename the flag or variant",
            );
            None
        }
    }
}
