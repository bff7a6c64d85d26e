//! Every check of the arguments that can fail after they parse: a seed without a
//! random mode, and the flags named against the manifest (a name it does not declare,
//! with the nearest one it does; a static flag, which no override can vary; a name
//! given twice). Each mistake is recorded in the expansion's error context.

use flags_manifest::{Manifest, did_you_mean};

use super::args::{FlagName, MatrixArgs, Mode};
use crate::ctxt::Ctxt;

/// Checks `args`, and the flags they name against `manifest` when there is one.
/// Returns the manifest name of each flag named, in order, for the expansion (a flag
/// written by its accessor's identifier is varied by its manifest name).
pub(super) fn check(args: &MatrixArgs, manifest: Option<&Manifest>, cx: &Ctxt) -> Vec<String> {
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
    let mut names: Vec<String> = Vec::with_capacity(flags.value.len());
    for flag in &flags.value {
        let name = match manifest {
            Some(manifest) => match known(flag, manifest, cx) {
                Some(name) => name,
                None => continue,
            },
            None => flag.name.clone(),
        };
        if names.contains(&name) {
            cx.error_at(flag.span, format!("`{name}` is named twice"));
        } else {
            names.push(name);
        }
    }
    names
}

/// The manifest name of `flag`, or `None` after recording why the matrix cannot vary it.
fn known(flag: &FlagName, manifest: &Manifest, cx: &Ctxt) -> Option<String> {
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
    Some(found.name.clone())
}
