//! Finding and reading the workspace's manifest and state file, and deciding what day
//! expiry is judged on. Every subcommand starts here, so a manifest is located, read
//! and reported on the same way by all of them.

use std::path::{Path, PathBuf};

use flags_manifest::{Date, Diagnostic, Manifest, Pos, Rules, Severity};

use crate::args::Globals;
use crate::outcome::Failure;

const MANIFEST: &str = "flags.toml";

/// Where the manifest is and how messages name it.
#[derive(Clone, Debug)]
pub struct ManifestFile {
    /// The path to open.
    pub path: PathBuf,
    /// The name used in messages and annotations: relative to the current directory
    /// when possible, so `file=flags.toml` matches the repository in CI.
    pub display: String,
    /// The directory holding it: the default root for scanning sources.
    pub dir: PathBuf,
}

/// A manifest that was read and checked.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// Where it came from.
    pub file: ManifestFile,
    /// Its text, for locating keys the model keeps no position for.
    pub source: String,
    /// The checked model.
    pub manifest: Manifest,
    /// Non-fatal diagnostics from the manifest crate.
    pub notes: Vec<Diagnostic>,
}

/// Finds the manifest: `explicit` if given, else `flags.toml` in the current
/// directory, else the nearest parent directory holding both `Cargo.toml` and
/// `flags.toml`.
pub fn locate(explicit: Option<&Path>) -> Result<ManifestFile, Failure> {
    if let Some(path) = explicit {
        return Ok(manifest_file(path.to_path_buf(), display_of(path)));
    }
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::msg(format!("cannot read the current directory: {e}")))?;
    let here = cwd.join(MANIFEST);
    if here.is_file() {
        return Ok(manifest_file(PathBuf::from(MANIFEST), MANIFEST.to_owned()));
    }
    for (depth, dir) in cwd.ancestors().enumerate().skip(1) {
        if dir.join("Cargo.toml").is_file() && dir.join(MANIFEST).is_file() {
            let display = format!("{}{MANIFEST}", "../".repeat(depth));
            return Ok(manifest_file(dir.join(MANIFEST), display));
        }
    }
    Err(Failure::msg(format!(
        "no {MANIFEST} in {} or in a parent directory that also holds a Cargo.toml \
         (run inside the workspace, or pass --manifest PATH)",
        cwd.display()
    )))
}

fn manifest_file(path: PathBuf, display: String) -> ManifestFile {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    ManifestFile { path, display, dir }
}

/// A path as the user wrote it, without a leading `./`.
pub fn display_of(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_owned()
}

/// Reads and checks the manifest. On failure, returns every diagnostic (errors first)
/// exactly as the manifest crate produced them, for the caller to render.
pub fn read(file: &ManifestFile) -> Result<Loaded, Vec<Diagnostic>> {
    let bytes = std::fs::read(&file.path).map_err(|e| {
        vec![Diagnostic {
            severity: Severity::Error,
            pos: Pos {
                span: 0..0,
                line: 1,
                col: 1,
            },
            key: String::new(),
            message: format!("cannot read the manifest: {e}"),
            help: Some("check the path, or pass --manifest PATH".to_owned()),
        }]
    })?;
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        // The manifest crate turns bytes that are not UTF-8 into a positioned error.
        Err(e) => {
            return Err(
                match flags_manifest::parse_bytes(e.as_bytes(), &file.display) {
                    Err(e) => e.diagnostics,
                    Ok(_) => Vec::new(),
                },
            );
        }
    };
    match flags_manifest::parse_str_with_notes(&source, &file.display) {
        Ok((manifest, notes)) => Ok(Loaded {
            file: file.clone(),
            source,
            manifest,
            notes,
        }),
        Err(e) => Err(e.diagnostics),
    }
}

/// Renders diagnostics as `error: FILE:LINE:COL: ...`, one per line.
pub fn render_all(diagnostics: &[Diagnostic], file: &str) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", severity_word(d.severity), d.render(file)))
        .collect()
}

/// `error`, `warning` or `note`.
pub fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Locates and reads the manifest for a command that cannot work without a valid one.
pub fn load(globals: &Globals) -> Result<Loaded, Failure> {
    let file = locate(globals.manifest.as_deref())?;
    read(&file).map_err(|diags| {
        let mut lines = render_all(&diags, &file.display);
        if lines.is_empty() {
            lines.push(format!("error: {}: the manifest is invalid", file.display));
        }
        Failure::lines(lines)
    })
}

/// The day expiry is judged on: `--today`, else `FLAGS_TODAY`, else
/// `SOURCE_DATE_EPOCH`, else the clock.
pub fn today(globals: &Globals) -> Result<Date, Failure> {
    if let Some(day) = globals.today {
        return Ok(day);
    }
    let var = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    flags_manifest::today(
        var("FLAGS_TODAY").as_deref(),
        var("SOURCE_DATE_EPOCH").as_deref(),
    )
    .map(|(day, _)| day)
    .map_err(Failure::msg)
}

/// A state (rule) file: its name for messages and each flag's rules, by flag index.
#[derive(Clone, Debug)]
pub struct State {
    /// How messages name the file.
    pub display: String,
    /// Rules by flag index; flags the file does not mention are absent.
    pub rules: Vec<Option<Rules>>,
}

/// Reads and checks a state file against the manifest.
pub fn load_state(path: &Path, manifest: &Manifest) -> Result<State, Failure> {
    let display = display_of(path);
    let text = std::fs::read_to_string(path).map_err(|e| Failure::io("read", path, &e))?;
    let parsed = flags_manifest::parse_rules_str(&text, &display, manifest)
        .map_err(|e| Failure::lines(render_all(&e.diagnostics, &display)))?;
    let mut rules = vec![None; manifest.flags.len()];
    for (index, r) in parsed {
        if let Some(slot) = rules.get_mut(index) {
            *slot = Some(r);
        }
    }
    Ok(State { display, rules })
}

/// The position of `key` among a flag's own keys in the manifest text, found by
/// reading the lines of the flag's table (the model keeps the position of the flag's
/// name only). Falls back to the flag's name.
pub fn key_pos(source: &str, flag_pos: &Pos, key: &str) -> Pos {
    let start = flag_pos.span.start.min(source.len());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let mut offset = line_start;
    for (i, line) in source[line_start..].split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if i > 0 && trimmed.starts_with('[') {
            break;
        }
        // On the flag's own line, only look after its name (an inline table).
        let from = if i == 0 { start - line_start } else { 0 };
        if let Some(at) = find_key(line, from, key) {
            let at = offset + at;
            return Pos::locate(source, at..at + key.len());
        }
        offset += line.len();
    }
    flag_pos.clone()
}

/// The byte offset in `line` (at or after `from`) of `key` written as a TOML key.
fn find_key(line: &str, from: usize, key: &str) -> Option<usize> {
    let mut search = from.min(line.len());
    while let Some(rel) = line.get(search..).and_then(|rest| rest.find(key)) {
        let at = search + rel;
        let before = line[..at].trim_end_matches(['"', '\'']).trim_end();
        let starts_key = before.is_empty() || before.ends_with(['{', ',']);
        let after = line[at + key.len()..]
            .trim_start_matches(['"', '\''])
            .trim_start();
        if starts_key && after.starts_with('=') {
            return Some(at);
        }
        search = at + key.len();
    }
    None
}

/// Replaces `path` whole: a temporary file beside it, synced, then renamed over it, so
/// that a reader (an editor, a build, a web server serving a report) never sees half
/// a file.
pub(crate) fn write_replacing(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(name);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "[flags.a]\ndescription = \"expires = not this\"\nowner = \"o\"\n  expires = 2027-01-01\n\n[flags.b]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nexpires = 2028-01-01\n[flags.c]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\n";

    #[test]
    fn finds_the_expires_key_of_each_flag() {
        let m = flags_manifest::parse_str(SRC, "flags.toml").unwrap();
        let at = |name: &str| {
            let p = key_pos(SRC, &m.flag(name).unwrap().pos, "expires");
            (p.line, p.col)
        };
        assert_eq!(at("a"), (4, 3));
        assert_eq!(at("b"), (10, 1));
        // No `expires`: the flag's own position, not the next flag's key.
        assert_eq!(at("c"), (11, 8));
    }

    #[test]
    fn finds_keys_in_inline_tables() {
        let src = "[flags]\nx = { description = \"d\", owner = \"o\", expires = 2027-01-01 }\n";
        let m = flags_manifest::parse_str(src, "flags.toml").unwrap();
        let p = key_pos(src, &m.flags[0].pos, "expires");
        assert_eq!((p.line, p.col), (2, 39));
    }
}
