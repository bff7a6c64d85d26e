//! Finding and reading the manifest a `flags!` call names.
//!
//! The rule, in order: an absolute path is used as written; a relative path is looked up
//! under the crate root (`CARGO_MANIFEST_DIR`), then in the directory of the source file
//! that invokes the macro. The first place where the path exists wins, so a crate's own
//! `flags.toml` is always found the same way, and a file compiled on its own (a trybuild
//! case, a doc test) can still keep its manifest beside it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use flags_manifest::{Manifest, ManifestError};

use syn::LitStr;

use crate::env::Env;

/// A manifest found and read: the path as the user wrote it (how messages name the
/// file), where it is on disk, and its bytes.
///
/// ```
/// use flags_codegen::ManifestFile;
/// let file = ManifestFile::new("flags.toml", "/src/app/flags.toml", "[flags.x]\n");
/// assert_eq!(file.written(), "flags.toml");
/// assert_eq!(file.bytes(), b"[flags.x]\n");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestFile {
    written: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl ManifestFile {
    /// A manifest held in memory, as if read from `path`.
    pub fn new(
        written: impl Into<String>,
        path: impl Into<PathBuf>,
        bytes: impl Into<Vec<u8>>,
    ) -> ManifestFile {
        ManifestFile {
            written: written.into(),
            path: path.into(),
            bytes: bytes.into(),
        }
    }

    /// Finds the manifest `lit` names (see the module docs for the rule) and reads it.
    /// Every failure is an error spanned at the literal.
    pub fn read(lit: &LitStr, env: &Env) -> syn::Result<ManifestFile> {
        let written = lit.value();
        let fail = |msg: String| syn::Error::new(lit.span(), msg);
        let Some(found) = locate(&written, env) else {
            return Err(fail(format!(
                "cannot find the manifest `{written}`: it is neither under the crate root (the \
                 directory of Cargo.toml) nor beside the source file that calls flags! (help: \
                 check the spelling, or write the path relative to Cargo.toml)"
            )));
        };
        // `include_bytes!` needs an absolute path: relative ones would be taken relative
        // to the invoking file, not to where the manifest was found.
        let path = std::path::absolute(&found).unwrap_or(found);
        if path.to_str().is_none() {
            return Err(fail(format!(
                "the manifest path `{}` is not valid UTF-8, so it cannot be included in the \
                 build (help: rename the file or a directory above it)",
                path.display()
            )));
        }
        if path.is_dir() {
            return Err(fail(format!(
                "`{written}` is a directory, not a manifest file (help: name the TOML file \
                 itself, e.g. `{}`)",
                Path::new(&written).join("flags.toml").display()
            )));
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(ManifestFile {
                written,
                path,
                bytes,
            }),
            Err(e) => Err(fail(format!(
                "cannot read the manifest `{written}`: {e} (help: check the file's permissions)"
            ))),
        }
    }

    /// The path as written in the macro call.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// Where the manifest is on disk (absolute when found by [`ManifestFile::read`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest's content.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The manifest path of the `flags!` call that generates module `module`, found by
/// reading the invoking file and the crate root's `src/lib.rs` and `src/main.rs`, so
/// that `#[feature_gate]` reads the manifest `flags!` reads without being told. `None`
/// when no such call is found there (a call in another file, or made through another
/// macro): the gate then falls back to `flags.toml` and says how to name the file.
pub(crate) fn flags_call_path(env: &Env, module: &str) -> Option<String> {
    let roots = env
        .manifest_dir()
        .into_iter()
        .flat_map(|dir| [dir.join("src/lib.rs"), dir.join("src/main.rs")]);
    let files = env
        .source_file()
        .map(Path::to_path_buf)
        .into_iter()
        .chain(roots);
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let found = flags_call_in(&file, text, module);
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The path of the `flags!` call generating `module` in one source file, looked up once
/// per compiler process for the same file, text and module: every gate of a file asks
/// the same question, and parsing the file is the costly part. The text is compared in
/// full, so an edited file is parsed anew.
fn flags_call_in(file: &Path, text: String, module: &str) -> Option<String> {
    /// One answer: the file, its text, the module asked for, and the path found.
    type Answer = (PathBuf, String, String, Option<String>);
    static ANSWERS: Mutex<Vec<Answer>> = Mutex::new(Vec::new());
    let mut answers = ANSWERS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((.., found)) = answers
        .iter()
        .find(|(f, t, m, _)| f == file && m == module && *t == text)
    {
        return found.clone();
    }
    let found = syn::parse_file(&text).ok().and_then(|parsed| {
        let mut finder = FlagsCalls {
            module,
            found: None,
        };
        syn::visit::visit_file(&mut finder, &parsed);
        finder.found
    });
    if answers.len() == PARSED_KEPT {
        answers.remove(0);
    }
    answers.push((file.to_path_buf(), text, module.to_owned(), found.clone()));
    found
}

struct FlagsCalls<'a> {
    module: &'a str,
    found: Option<String>,
}

impl<'ast> syn::visit::Visit<'ast> for FlagsCalls<'_> {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let is_flags = mac.path.segments.last().is_some_and(|s| s.ident == "flags");
        if is_flags
            && self.found.is_none()
            && let Ok(input) = mac.parse_body::<crate::FlagsInput>()
            && input.name == self.module
        {
            self.found = Some(input.path.value());
        }
    }
}

/// Where `written` resolves to under the rule of this module, if anywhere.
///
/// ```
/// use flags_codegen::{locate, Env};
/// let dir = std::env::temp_dir();
/// let env = Env::new().with_manifest_dir(&dir);
/// assert_eq!(locate(".", &env), Some(dir.join(".")));
/// assert_eq!(locate("surely-not-here-3f9a.toml", &env), None);
/// ```
pub fn locate(written: &str, env: &Env) -> Option<PathBuf> {
    let rel = Path::new(written);
    if rel.is_absolute() {
        return rel.exists().then(|| rel.to_path_buf());
    }
    let beside_source = env
        .source_file()
        .and_then(Path::parent)
        .map(|dir| dir.join(rel));
    env.manifest_dir()
        .map(|dir| dir.join(rel))
        .into_iter()
        .chain(beside_source)
        .find(|candidate| candidate.exists())
}

/// How many manifests [`parsed`] keeps: a crate has one or a few, so the oldest is
/// dropped only in a process (a language server) that sees many crates.
const PARSED_KEPT: usize = 8;

/// A manifest parsed once and shared.
struct Parsed {
    written: String,
    bytes: Vec<u8>,
    manifest: Arc<Manifest>,
}

static PARSED: Mutex<Vec<Parsed>> = Mutex::new(Vec::new());

/// `file` parsed, once per compiler process for the same name and bytes: every
/// `#[feature_gate]` and `#[flags_test::matrix]` of a crate reads the manifest its
/// `flags!` call reads, so all but the first find it parsed. The bytes are compared in
/// full, so an edited manifest is parsed anew. A manifest with errors is not kept (the
/// attribute macros stay quiet about it; `flags!` reports every problem once).
pub(crate) fn parsed(file: &ManifestFile) -> Result<Arc<Manifest>, ManifestError> {
    let mut kept = PARSED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = kept
        .iter()
        .find(|p| p.written == file.written && p.bytes == file.bytes)
    {
        return Ok(Arc::clone(&hit.manifest));
    }
    let manifest = Arc::new(flags_manifest::parse_bytes(&file.bytes, &file.written)?);
    if kept.len() == PARSED_KEPT {
        kept.remove(0);
    }
    kept.push(Parsed {
        written: file.written.clone(),
        bytes: file.bytes.clone(),
        manifest: Arc::clone(&manifest),
    });
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("flags-codegen-{}-{name}", std::process::id()));
        std::fs::create_dir_all(dir.join("crate/src")).unwrap();
        std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
        dir
    }

    fn lit(s: &str) -> LitStr {
        LitStr::new(s, proc_macro2::Span::call_site())
    }

    #[test]
    fn crate_root_first_then_beside_source() {
        let dir = scratch("order");
        std::fs::write(dir.join("crate/a.toml"), "root").unwrap();
        std::fs::write(dir.join("elsewhere/a.toml"), "beside").unwrap();
        std::fs::write(dir.join("elsewhere/b.toml"), "beside").unwrap();
        let env = Env::new()
            .with_manifest_dir(dir.join("crate"))
            .with_source_file(Some(dir.join("elsewhere/case.rs")));
        let a = ManifestFile::read(&lit("a.toml"), &env).unwrap();
        assert_eq!(a.bytes(), b"root");
        assert!(a.path().is_absolute());
        let b = ManifestFile::read(&lit("b.toml"), &env).unwrap();
        assert_eq!(b.bytes(), b"beside");
        assert_eq!(b.written(), "b.toml");
        let abs = dir.join("elsewhere/b.toml");
        let c = ManifestFile::read(&lit(abs.to_str().unwrap()), &Env::new()).unwrap();
        assert_eq!(c.path(), abs);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_source_file_is_made_absolute() {
        // rustc names workspace files relative to its working directory, which is the
        // package directory under `cargo test`; build such a relative name.
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cwd, Path::new(env!("CARGO_MANIFEST_DIR")));
        let rel_dir = PathBuf::from(format!(
            "../target/tmp/flags-codegen-{}-relative",
            std::process::id()
        ));
        std::fs::create_dir_all(rel_dir.join("src")).unwrap();
        std::fs::write(rel_dir.join("src/m.toml"), "x").unwrap();
        let env = Env::new().with_source_file(Some(rel_dir.join("src/lib.rs")));
        let m = ManifestFile::read(&lit("m.toml"), &env).unwrap();
        assert!(m.path().is_absolute(), "{}", m.path().display());
        assert_eq!(std::fs::read(m.path()).unwrap(), b"x");
        std::fs::remove_dir_all(&rel_dir).unwrap();
    }

    #[test]
    fn missing_and_directory() {
        let dir = scratch("missing");
        let env = Env::new().with_manifest_dir(dir.join("crate"));
        let e = ManifestFile::read(&lit("nope.toml"), &env).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot find the manifest `nope.toml`"),
            "{e}"
        );
        let e = ManifestFile::read(&lit("src"), &env).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("`src` is a directory, not a manifest file"),
            "{e}"
        );
        // No crate root and no source file: nothing can be found.
        let e = ManifestFile::read(&lit("src"), &Env::new()).unwrap_err();
        assert!(e.to_string().starts_with("cannot find"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
