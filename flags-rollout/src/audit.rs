//! The audit log: an append-only JSON Lines file with one entry per rollout
//! transition, manual or automatic, each flushed to disk before the change takes
//! effect, and chained by SHA-256 so that editing, deleting or reordering lines is
//! detected.
//!
//! # Line format
//!
//! Each line is one JSON object, [`AuditEntry`], whose members are in a fixed order and
//! whose last member is `"hash"`:
//!
//! ```text
//! {"seq":1,"revision":1,"at":…,"flag":"search_v2",…,"prev":"000…000","hash":"9f2c…"}
//! ```
//!
//! - `seq` numbers entries from 1 with no gap;
//! - `prev` is the previous entry's `hash` (64 zeros for the first entry);
//! - `hash` is the lowercase hex SHA-256 of the line's exact bytes from the opening `{`
//!   up to and including `"hash":"`, that is every byte of the line except the hash
//!   itself and the closing `"}`.
//!
//! Hashing the bytes as written, rather than a re-serialisation of the parsed value,
//! means any change to any byte of a line is caught, even one that JSON would read
//! back as the same value (`\u001f` for `\u001F`, `1e5` for `1E5`). Because every entry
//! carries its predecessor's hash, deleting, inserting or swapping whole lines breaks
//! the chain at the next line. Removing whole lines at the *end* leaves a valid shorter
//! chain; [`AuditLog::verify_anchored`] catches that against an anchor kept elsewhere
//! (the controller keeps one in its state file).
//!
//! A chain without a secret key detects damage and casual edits, not a forger who
//! recomputes every hash after an edit; anchoring the head hash somewhere they cannot
//! write closes that gap.
//!
//! # Crashes
//!
//! An entry is written with one `write` and then `fsync`ed. A crash in between can
//! leave a *torn* last line: bytes after the last newline. [`verify`](AuditLog::verify)
//! reports it as [`Verification::TornTail`], distinct from tampering, and
//! [`AuditLog::open`] removes it before appending (the entry it belonged to never
//! completed, so the change it described never took effect).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::decision::Evidence;
use crate::error::AuditError;
pub use crate::error::Problem;
use crate::state::{Cause, Position, Transition, sync_dir};

/// `prev` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The bytes between the hashed part of a line and the end of the line.
const HASH_KEY: &[u8] = b",\"hash\":\"";
const LINE_END: &[u8] = b"\"}";
const HASH_HEX_LEN: usize = 64;

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The state file revision that recorded the transition.
    pub revision: u64,
    /// When it happened.
    pub at: Timestamp,
    /// The flag.
    pub flag: String,
    /// Position before (`null` when the rollout started).
    pub from: Option<Position>,
    /// Position after.
    pub to: Position,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// Automatic or manual.
    pub source: Cause,
    /// The metrics look behind an automatic decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// Hash of the previous entry.
    pub prev: String,
    /// SHA-256 of this line up to `"hash":"`; see the module docs.
    pub hash: String,
}

impl AuditEntry {
    /// The transition this entry records.
    pub fn transition(&self) -> Transition {
        Transition {
            revision: self.revision,
            at: self.at,
            flag: self.flag.clone(),
            from: self.from,
            to: self.to,
            reason: self.reason.clone(),
            actor: self.actor.clone(),
            source: self.source,
            evidence: self.evidence.clone(),
        }
    }

    /// The anchor naming this entry.
    pub fn anchor(&self) -> AuditAnchor {
        AuditAnchor {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// A reference to one entry (its number and hash), kept outside the log to detect
/// lines removed from its end.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AuditAnchor {
    /// The entry's `seq`.
    pub seq: u64,
    /// The entry's `hash`.
    pub hash: String,
}

/// The result of verifying a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every line checks out.
    Intact {
        /// Entries in the log.
        entries: u64,
        /// The last entry, if any.
        head: Option<AuditAnchor>,
    },
    /// Every complete line checks out, and after the last one there are bytes without
    /// a final newline: a write cut short by a crash.
    TornTail {
        /// Intact entries before the torn line.
        entries: u64,
        /// The last intact entry, if any.
        head: Option<AuditAnchor>,
        /// The torn line's number.
        line: u64,
        /// Its length in bytes.
        bytes: usize,
    },
    /// A line fails verification; lines after it are not checked.
    Broken {
        /// The first bad line, 1-based.
        line: u64,
        /// What is wrong with it.
        problem: Problem,
    },
}

impl Verification {
    /// Whether the log is exactly as written.
    pub fn is_intact(&self) -> bool {
        matches!(self, Verification::Intact { .. })
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verification::Intact { entries, .. } => {
                write!(f, "intact: {entries} entries, hash chain verified")
            }
            Verification::TornTail {
                entries,
                line,
                bytes,
                ..
            } => write!(
                f,
                "{entries} entries verified; line {line} is torn ({bytes} bytes without a newline), \
                 the remains of a write cut short by a crash"
            ),
            Verification::Broken { line, problem } => write!(f, "line {line}: {problem}"),
        }
    }
}

/// A torn last line removed by [`AuditLog::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    /// The torn line's number.
    pub line: u64,
    /// Bytes removed.
    pub bytes: usize,
    /// SHA-256 of the removed bytes, for the record.
    pub sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(HASH_HEX_LEN);
    for b in digest {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Checks one complete line (without its newline) and returns the entry.
fn check_line(line: &[u8], expected_seq: u64, expected_prev: &str) -> Result<AuditEntry, Problem> {
    if line.is_empty() {
        return Err(Problem::EmptyLine);
    }
    if std::str::from_utf8(line).is_err() {
        return Err(Problem::NotUtf8);
    }
    let tail = HASH_HEX_LEN + LINE_END.len();
    if line.len() < tail + HASH_KEY.len() + 1 || !line.ends_with(LINE_END) {
        return Err(Problem::MissingHash);
    }
    let (hashed, rest) = line.split_at(line.len() - tail);
    let stored = &rest[..HASH_HEX_LEN];
    if !hashed.ends_with(HASH_KEY)
        || !stored
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return Err(Problem::MissingHash);
    }
    // Both are ASCII hex here.
    let stored = String::from_utf8_lossy(stored).into_owned();
    let computed = sha256_hex(hashed);
    if stored != computed {
        return Err(Problem::HashMismatch { stored, computed });
    }
    let entry: AuditEntry =
        serde_json::from_slice(line).map_err(|e| Problem::NotAnEntry(e.to_string()))?;
    if entry.hash != stored {
        // A second "hash" member earlier in the object would make the parsed value
        // disagree with the bytes that were hashed.
        return Err(Problem::NotAnEntry("duplicate `hash` member".to_owned()));
    }
    crate::state::check_transition("", &entry.transition()).map_err(|(field, why)| {
        Problem::OutOfRange {
            field: field.trim_start_matches('.').to_owned(),
            why,
        }
    })?;
    if entry.seq != expected_seq {
        return Err(Problem::SequenceGap {
            expected: expected_seq,
            found: entry.seq,
        });
    }
    if entry.prev != expected_prev {
        return Err(Problem::ChainBroken {
            expected: expected_prev.to_owned(),
            found: entry.prev,
        });
    }
    Ok(entry)
}

/// Verifies a whole log held in memory; see the module docs for what is checked.
///
/// ```
/// use flags_rollout::audit::{verify_bytes, Verification};
/// assert_eq!(verify_bytes(b""), Verification::Intact { entries: 0, head: None });
/// assert!(matches!(verify_bytes(b"{\"seq\":1"), Verification::TornTail { line: 1, .. }));
/// assert!(matches!(verify_bytes(b"{}\n"), Verification::Broken { line: 1, .. }));
/// ```
pub fn verify_bytes(bytes: &[u8]) -> Verification {
    scan(bytes, None, |_| {}).0
}

/// Like [`verify_bytes`], and also checks that the log reaches `anchor` with the same
/// hash, which catches whole lines removed from the end.
pub fn verify_bytes_anchored(bytes: &[u8], anchor: &AuditAnchor) -> Verification {
    scan(bytes, Some(anchor), |_| {}).0
}

/// Walks the log, calling `each` on every verified entry. Returns the verdict and the
/// length in bytes of the verified prefix.
fn scan(
    bytes: &[u8],
    anchor: Option<&AuditAnchor>,
    mut each: impl FnMut(AuditEntry),
) -> (Verification, usize) {
    let mut pos = 0;
    let mut line_no = 0u64;
    let mut head: Option<AuditAnchor> = None;
    while pos < bytes.len() {
        line_no += 1;
        let Some(nl) = bytes[pos..].iter().position(|&b| b == b'\n') else {
            let entries = head.as_ref().map_or(0, |h| h.seq);
            if let Some(v) = anchor.and_then(|a| anchor_problem(a, entries)) {
                return (v, pos);
            }
            return (
                Verification::TornTail {
                    entries,
                    head,
                    line: line_no,
                    bytes: bytes.len() - pos,
                },
                pos,
            );
        };
        let line = &bytes[pos..pos + nl];
        let prev = head.as_ref().map_or(GENESIS_HASH, |h| h.hash.as_str());
        let expected = line_no;
        match check_line(line, expected, prev) {
            Ok(entry) => {
                if let Some(a) = anchor
                    && a.seq == entry.seq
                    && a.hash != entry.hash
                {
                    return (
                        Verification::Broken {
                            line: line_no,
                            problem: Problem::AnchorMismatch {
                                expected: a.hash.clone(),
                                found: entry.hash,
                            },
                        },
                        pos,
                    );
                }
                head = Some(entry.anchor());
                each(entry);
            }
            Err(problem) => {
                return (
                    Verification::Broken {
                        line: line_no,
                        problem,
                    },
                    pos,
                );
            }
        }
        pos += nl + 1;
    }
    let entries = head.as_ref().map_or(0, |h| h.seq);
    if let Some(v) = anchor.and_then(|a| anchor_problem(a, entries)) {
        return (v, pos);
    }
    (Verification::Intact { entries, head }, pos)
}

fn anchor_problem(anchor: &AuditAnchor, entries: u64) -> Option<Verification> {
    (anchor.seq > entries).then(|| Verification::Broken {
        line: entries + 1,
        problem: Problem::Truncated {
            anchor_seq: anchor.seq,
            entries,
        },
    })
}

/// The serialised line for `entry` (whose `hash` is ignored), without the newline,
/// and its hash.
fn encode(entry: &AuditEntry) -> io::Result<(Vec<u8>, String)> {
    let mut body = entry.clone();
    body.hash = String::new();
    let mut bytes = serde_json::to_vec(&body).map_err(io::Error::other)?;
    // With an empty hash the object ends in `,"hash":""}`: cut after `"hash":"`.
    let cut = bytes.len() - LINE_END.len();
    if !bytes[..cut].ends_with(HASH_KEY) {
        return Err(io::Error::other(
            "audit entry does not serialise with `hash` last",
        ));
    }
    bytes.truncate(cut);
    let hash = sha256_hex(&bytes);
    bytes.extend_from_slice(hash.as_bytes());
    bytes.extend_from_slice(LINE_END);
    Ok((bytes, hash))
}

/// An audit log open for appending.
///
/// ```
/// use flags_rollout::{AuditLog, Position, Cause, Status, Timestamp, Transition};
/// let dir = std::env::temp_dir().join(format!("flags-rollout-audit-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("audit.jsonl");
/// let mut log = AuditLog::open(&path)?;
/// let entry = log.append(&Transition {
///     revision: 1, at: Timestamp::from_millis(0), flag: "search_v2".into(), from: None,
///     to: Position { stage: 0, percent: 1, status: Status::Running },
///     reason: "rollout started".into(), actor: "controller".into(),
///     source: Cause::Automatic, evidence: None,
/// })?;
/// assert_eq!(entry.seq, 1);
/// assert!(AuditLog::verify_file(&path)?.is_intact());
/// println!("{}", flags_rollout::format_entry(&entry));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
    len: u64,
    head: Option<AuditAnchor>,
    repaired: Option<Repair>,
    needs_repair: bool,
}

impl AuditLog {
    /// Opens the log at `path`, creating it if missing. Every line is verified; a torn
    /// last line is removed (see [`repaired`](Self::repaired)); any other damage is an
    /// error, since extending a log that fails verification would hide it.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        let path = path.as_ref().to_path_buf();
        let io_err = |source| AuditError::Io {
            path: path.clone(),
            source,
        };
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err)?;
        if !existed {
            sync_dir(&path).map_err(io_err)?;
        }
        let bytes = fs::read(&path).map_err(io_err)?;
        let (verdict, good_len) = scan(&bytes, None, |_| {});
        let (head, repaired) = match verdict {
            Verification::Intact { head, .. } => (head, None),
            Verification::TornTail {
                head,
                line,
                bytes: n,
                ..
            } => {
                let repair = Repair {
                    line,
                    bytes: n,
                    sha256: sha256_hex(&bytes[good_len..]),
                };
                file.set_len(good_len as u64).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                tracing::warn!(
                    target: "flags::audit",
                    path = %path.display(),
                    line = repair.line,
                    bytes = repair.bytes,
                    sha256 = %repair.sha256,
                    "removed a torn last line left by a crash from the audit log"
                );
                (head, Some(repair))
            }
            Verification::Broken { line, problem } => {
                return Err(AuditError::Broken {
                    path,
                    line,
                    problem,
                });
            }
        };
        Ok(AuditLog {
            path,
            file,
            len: good_len as u64,
            head,
            repaired,
            needs_repair: false,
        })
    }

    /// Whether the file still ends where this log last wrote or read it (another
    /// process appended nothing since).
    pub(crate) fn is_current(&self) -> bool {
        fs::metadata(&self.path).is_ok_and(|m| m.len() == self.len)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last entry's anchor, `None` for an empty log.
    pub fn head(&self) -> Option<&AuditAnchor> {
        self.head.as_ref()
    }

    /// The torn line [`open`](Self::open) removed, if it removed one.
    pub fn repaired(&self) -> Option<&Repair> {
        self.repaired.as_ref()
    }

    /// Appends an entry for `transition` and flushes it to disk; returns the entry as
    /// written. If the write fails, the partial line is removed.
    pub fn append(&mut self, transition: &Transition) -> Result<AuditEntry, AuditError> {
        let io_err = |source| AuditError::Io {
            path: self.path.clone(),
            source,
        };
        if self.needs_repair {
            self.file
                .set_len(self.len)
                .map_err(|_| AuditError::NeedsRepair {
                    path: self.path.clone(),
                })?;
            self.needs_repair = false;
        }
        let t = transition;
        let mut entry = AuditEntry {
            // Verified entries number their lines, so this cannot overflow.
            seq: self.head.as_ref().map_or(1, |h| h.seq.saturating_add(1)),
            revision: t.revision,
            at: t.at,
            flag: t.flag.clone(),
            from: t.from,
            to: t.to,
            reason: t.reason.clone(),
            actor: t.actor.clone(),
            source: t.source,
            evidence: t.evidence.clone(),
            prev: self
                .head
                .as_ref()
                .map_or_else(|| GENESIS_HASH.to_owned(), |h| h.hash.clone()),
            hash: String::new(),
        };
        let (mut line, hash) = encode(&entry).map_err(io_err)?;
        line.push(b'\n');
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            if self.file.set_len(self.len).is_err() {
                self.needs_repair = true;
            }
            return Err(io_err(e));
        }
        self.len += line.len() as u64;
        entry.hash = hash;
        self.head = Some(entry.anchor());
        Ok(entry)
    }

    /// Every entry of this log, verified.
    pub fn entries(&self) -> Result<Vec<AuditEntry>, AuditError> {
        AuditLog::read_entries(&self.path)
    }

    /// Verifies this log as it is on disk now.
    pub fn verify(&self) -> Result<Verification, AuditError> {
        AuditLog::verify_file(&self.path)
    }

    /// Reads every entry of the log at `path` without opening it for writing (for
    /// `cargo flags audit`). Fails at the first line that does not verify; a torn last
    /// line is skipped.
    pub fn read_entries(path: impl AsRef<Path>) -> Result<Vec<AuditEntry>, AuditError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut entries = Vec::new();
        match scan(&bytes, None, |e| entries.push(e)).0 {
            Verification::Broken { line, problem } => Err(AuditError::Broken {
                path: path.to_path_buf(),
                line,
                problem,
            }),
            _ => Ok(entries),
        }
    }

    /// Verifies the log at `path` without opening it for writing. I/O errors are
    /// errors; everything about the content is in the [`Verification`].
    pub fn verify_file(path: impl AsRef<Path>) -> Result<Verification, AuditError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(verify_bytes(&bytes))
    }

    /// Verifies the log at `path` and that it still reaches `anchor` (from a state
    /// file or another copy of the head), which also catches lines removed from the end.
    pub fn verify_anchored(
        path: impl AsRef<Path>,
        anchor: &AuditAnchor,
    ) -> Result<Verification, AuditError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(verify_bytes_anchored(&bytes, anchor))
    }
}

/// One entry as a line for people (`cargo flags audit`):
///
/// ```text
/// #3 2026-04-14T09:30:00.000Z search_v2: stage 1 at 1% (running) -> stage 1 at 0% (rolled back) [automatic by controller] error rate increase +3.90 pp …
/// ```
///
/// ```
/// use flags_rollout::{AuditEntry, Position, Cause, Status, Timestamp, format_entry};
/// let e = AuditEntry {
///     seq: 3, revision: 9, at: Timestamp::from_millis(1_776_159_000_000),
///     flag: "search_v2".into(),
///     from: Some(Position { stage: 1, percent: 5, status: Status::Running }),
///     to: Position { stage: 1, percent: 5, status: Status::Paused },
///     reason: "investigating a support ticket".into(), actor: "alice".into(),
///     source: Cause::Manual, evidence: None, prev: String::new(), hash: String::new(),
/// };
/// assert_eq!(format_entry(&e),
///     "#3 2026-04-14T09:30:00.000Z search_v2: stage 2 at 5% (running) -> \
///      stage 2 at 5% (paused) [manual by alice] investigating a support ticket");
/// ```
pub fn format_entry(entry: &AuditEntry) -> String {
    let from = entry
        .from
        .map_or_else(|| "not started".to_owned(), |p| p.to_string());
    format!(
        "#{} {} {}: {from} -> {} [{} by {}] {}",
        entry.seq, entry.at, entry.flag, entry.to, entry.source, entry.actor, entry.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    fn transition(i: u64) -> Transition {
        Transition {
            revision: i,
            at: Timestamp::from_millis(1_000 * i),
            flag: "search_v2".into(),
            from: Some(Position {
                stage: 0,
                percent: 1,
                status: Status::Running,
            }),
            to: Position {
                stage: 1,
                percent: 5,
                status: Status::Running,
            },
            reason: format!("step {i}: \u{1f} control char, \"quotes\", ünïcode"),
            actor: "controller".into(),
            source: Cause::Automatic,
            evidence: None,
        }
    }

    fn log_bytes(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut prev = GENESIS_HASH.to_owned();
        for i in 1..=n {
            let t = transition(i);
            let e = AuditEntry {
                seq: i,
                revision: t.revision,
                at: t.at,
                flag: t.flag,
                from: t.from,
                to: t.to,
                reason: t.reason,
                actor: t.actor,
                source: t.source,
                evidence: None,
                prev: prev.clone(),
                hash: String::new(),
            };
            let (line, hash) = encode(&e).unwrap();
            out.extend_from_slice(&line);
            out.push(b'\n');
            prev = hash;
        }
        out
    }

    #[test]
    fn out_of_range_values_with_a_valid_hash_are_refused() {
        let mut t = transition(1);
        t.to.stage = usize::MAX;
        let bad = |t: Transition| {
            let e = AuditEntry {
                seq: 1,
                revision: t.revision,
                at: t.at,
                flag: t.flag,
                from: t.from,
                to: t.to,
                reason: t.reason,
                actor: t.actor,
                source: t.source,
                evidence: None,
                prev: GENESIS_HASH.to_owned(),
                hash: String::new(),
            };
            let (mut line, _) = encode(&e).unwrap();
            line.push(b'\n');
            verify_bytes(&line)
        };
        let field = |v: Verification| match v {
            Verification::Broken {
                line: 1,
                problem: Problem::OutOfRange { field, .. },
            } => field,
            v => panic!("refused as out of range: {v}"),
        };
        assert_eq!(field(bad(t)), "to.stage");
        let mut t = transition(1);
        t.to.percent = 101;
        assert_eq!(field(bad(t)), "to.percent");
        let mut t = transition(1);
        t.revision = u64::MAX;
        assert_eq!(field(bad(t)), "revision");
        let mut t = transition(1);
        t.at = Timestamp::from_millis(u64::MAX);
        let v = bad(t);
        assert!(
            v.to_string().contains("`at` is 18446744073709551615 ms"),
            "{v}"
        );
    }

    #[test]
    fn a_written_chain_verifies() {
        let bytes = log_bytes(4);
        match verify_bytes(&bytes) {
            Verification::Intact { entries: 4, head } => assert_eq!(head.unwrap().seq, 4),
            v => panic!("{v}"),
        }
    }

    #[test]
    fn equivalent_json_rewrites_are_still_changes() {
        // \u001f -> \u001F reads back as the same string but is a different byte.
        let bytes = log_bytes(2);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("\\u001f"));
        let changed = text.replacen("\\u001f", "\\u001F", 1);
        assert!(matches!(
            verify_bytes(changed.as_bytes()),
            Verification::Broken {
                line: 1,
                problem: Problem::HashMismatch { .. }
            }
        ));
    }

    #[test]
    fn deleted_and_swapped_lines_break_the_chain() {
        let bytes = log_bytes(4);
        let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
        let without_second: Vec<u8> = [lines[0], lines[2], lines[3]].concat();
        assert!(matches!(
            verify_bytes(&without_second),
            Verification::Broken {
                line: 2,
                problem: Problem::SequenceGap {
                    expected: 2,
                    found: 3
                }
            }
        ));
        let swapped: Vec<u8> = [lines[0], lines[2], lines[1], lines[3]].concat();
        assert!(matches!(
            verify_bytes(&swapped),
            Verification::Broken { line: 2, .. }
        ));
        let without_first: Vec<u8> = lines[1..].concat();
        assert!(matches!(
            verify_bytes(&without_first),
            Verification::Broken { line: 1, .. }
        ));
    }

    #[test]
    fn renumbered_deletion_is_caught_by_the_chain() {
        // Remove line 2 and renumber line 3 as 2 (recomputing its own hash): the seq
        // check passes but prev still names the removed line.
        let bytes = log_bytes(3);
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        let mut third: AuditEntry = serde_json::from_slice(lines[2]).unwrap();
        third.seq = 2;
        let (line3, _) = encode(&third).unwrap();
        let forged = [lines[0], b"\n", &line3, b"\n"].concat();
        assert!(matches!(
            verify_bytes(&forged),
            Verification::Broken {
                line: 2,
                problem: Problem::ChainBroken { .. }
            }
        ));
    }

    #[test]
    fn tail_truncation_needs_an_anchor() {
        let bytes = log_bytes(4);
        let full = verify_bytes(&bytes);
        let Verification::Intact {
            head: Some(anchor), ..
        } = full
        else {
            panic!("{full}")
        };
        let lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
        let shorter = lines[..3].concat();
        assert!(verify_bytes(&shorter).is_intact());
        assert!(matches!(
            verify_bytes_anchored(&shorter, &anchor),
            Verification::Broken {
                line: 4,
                problem: Problem::Truncated {
                    anchor_seq: 4,
                    entries: 3
                }
            }
        ));
        assert!(verify_bytes_anchored(&bytes, &anchor).is_intact());
        let wrong = AuditAnchor {
            seq: 2,
            hash: GENESIS_HASH.into(),
        };
        assert!(matches!(
            verify_bytes_anchored(&bytes, &wrong),
            Verification::Broken {
                line: 2,
                problem: Problem::AnchorMismatch { .. }
            }
        ));
    }

    #[test]
    fn torn_tail_is_distinct_from_damage() {
        let bytes = log_bytes(3);
        for cut in 1..40 {
            let torn = &bytes[..bytes.len() - cut];
            match verify_bytes(torn) {
                Verification::TornTail {
                    entries: 2,
                    line: 3,
                    ..
                } => {}
                v => panic!("cut {cut}: {v}"),
            }
        }
    }

    #[test]
    fn duplicate_hash_member_is_rejected() {
        // A line whose body smuggles in another "hash" member before the real one.
        let e = AuditEntry {
            seq: 1,
            revision: 1,
            at: Timestamp::from_millis(0),
            flag: "f".into(),
            from: None,
            to: Position {
                stage: 0,
                percent: 1,
                status: Status::Running,
            },
            reason: "r".into(),
            actor: "a".into(),
            source: Cause::Manual,
            evidence: None,
            prev: GENESIS_HASH.into(),
            hash: String::new(),
        };
        let (line, _) = encode(&e).unwrap();
        let text = String::from_utf8(line).unwrap();
        let body_end = text.len() - (HASH_HEX_LEN + LINE_END.len() + HASH_KEY.len());
        let mut hashed = text[..body_end].replacen("{", "{\"hash\":\"x\",", 1);
        hashed.push_str(",\"hash\":\"");
        let forged = format!("{hashed}{}\"}}\n", sha256_hex(hashed.as_bytes()));
        assert!(matches!(
            verify_bytes(forged.as_bytes()),
            Verification::Broken {
                line: 1,
                problem: Problem::NotAnEntry(_)
            }
        ));
    }
}
