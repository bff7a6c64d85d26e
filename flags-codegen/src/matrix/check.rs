//! Every check of the arguments that can fail after they parse: a seed without a
//! random mode, and the flags named against the manifest (a name it does not declare,
//! with the nearest one it does; a static flag, which no override can vary; a name
//! given twice). Each mistake is recorded in the expansion's error context.

use proc_macro2::Ident;
use quote::format_ident;

use flags_manifest::{Flag, Manifest, did_you_mean};

use super::args::{FlagName, MatrixArgs, Mode};
use crate::ctxt::Ctxt;

/// Checks `args`, and the flags they name against `manifest` when there is one.
/// Returns the handle constant of each flag named, in order, spanned at its name, for
/// the expansion (a flag written by its manifest name or its accessor's identifier
/// alike).
pub(super) fn check(args: &MatrixArgs, manifest: Option<&Manifest>, cx: &Ctxt) -> Vec<Ident> {
    if let Some(seed) = &args.seed
        && !matches!(args.mode.as_ref().map(|m| m.value), Some(Mode::Random(_)))
    {
        cx.error_at(
            seed.span,
            "`seed` only applies with `random = N`: the other modes choose the same \
             combinations on every run",
        );
    }
    let Some(flags) = &args.flags else {
        return Vec::new();
    };
    if flags.value.is_empty() {
        cx.error_at(
            flags.span,
            "`flags = []` varies nothing: name at least one flag, or leave `flags` out to vary \
             every dynamic flag",
        );
    }
    let Some(manifest) = manifest else {
        return Vec::new();
    };
    let mut names: Vec<&str> = Vec::with_capacity(flags.value.len());
    let mut handles = Vec::with_capacity(flags.value.len());
    for flag in &flags.value {
        let Some(found) = known(flag, manifest, cx) else {
            continue;
        };
        if names.contains(&found.name.as_str()) {
            cx.error_at(flag.span, format!("`{}` is named twice", found.name));
        } else {
            names.push(&found.name);
            // The constant `flags!` generates for the flag (as `valid` names it).
            handles.push(format_ident!(
                "{}",
                found.ident.to_ascii_uppercase(),
                span = flag.span
            ));
        }
    }
    handles
}

/// The flag `flag` names, or `None` after recording why the matrix cannot vary it.
fn known<'m>(flag: &FlagName, manifest: &'m Manifest, cx: &Ctxt) -> Option<&'m Flag> {
    let found = manifest.flag(&flag.name).or_else(|| {
        flag.is_ident
            .then(|| manifest.flags.iter().find(|f| f.ident == flag.name))
            .flatten()
    });
    let Some(found) = found else {
        let hint = did_you_mean(&flag.name, manifest.flags.iter().map(|f| f.name.as_str()))
            .map_or_else(String::new, |h| format!(": did you mean `{h}`?"));
        cx.error_at(
            flag.span,
            format!("no flag `{}` in the manifest{hint}", flag.name),
        );
        return None;
    };
    if found.is_static {
        cx.error_at(
            flag.span,
            format!(
                "`{}` is a static flag: its value is fixed when the crate is compiled, so a \
                 matrix cannot vary it in process (run the suite once per value with \
                 `cargo flags matrix`, which sets FLAGS_STATIC_* for each build)",
                found.name
            ),
        );
        return None;
    }
    Some(found)
}
