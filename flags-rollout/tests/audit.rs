//! The audit log on disk: every single-byte change, deletion or truncation is
//! detected; a torn last line is reported as such and repaired on open.

mod common;

use std::sync::LazyLock;

use common::scratch;
use flags_rollout::audit::{verify_bytes, verify_bytes_anchored};
use flags_rollout::{
    AuditError, AuditLog, Cause, Position, Problem, Status, Timestamp, Transition, Verification,
    format_entry,
};
use proptest::prelude::*;

fn transition(i: u64) -> Transition {
    Transition {
        revision: i,
        at: Timestamp::from_millis(1_776_159_000_000 + 60_000 * i),
        flag: if i.is_multiple_of(2) {
            "search_v2"
        } else {
            "checkout"
        }
        .to_owned(),
        from: (i > 1).then_some(Position {
            stage: 0,
            percent: 1,
            status: Status::Running,
        }),
        to: Position {
            stage: 1,
            percent: 5,
            status: if i.is_multiple_of(3) {
                Status::RolledBack
            } else {
                Status::Running
            },
        },
        reason: format!("entry {i}: \"quoted\", tab\t, ünïcode ✓"),
        actor: if i.is_multiple_of(2) {
            "controller"
        } else {
            "alice"
        }
        .to_owned(),
        source: if i.is_multiple_of(2) {
            Cause::Automatic
        } else {
            Cause::Manual
        },
        evidence: None,
    }
}

/// A log of 6 entries written through `AuditLog::append`, as bytes.
static LOG: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let dir = scratch("audit-fixture");
    let path = dir.join("audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    for i in 1..=6 {
        log.append(&transition(i)).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    bytes
});

fn line_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && i + 1 < bytes.len() {
            starts.push(i + 1);
        }
    }
    starts
}

#[test]
fn the_fixture_is_intact() {
    match verify_bytes(&LOG) {
        Verification::Intact {
            entries: 6,
            head: Some(h),
        } => assert_eq!(h.seq, 6),
        v => panic!("{v}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// Any single byte changed to any other value, anywhere, is detected.
    #[test]
    fn any_single_byte_change_is_detected(pos in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let mut bytes = LOG.clone();
        let i = pos.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        let v = verify_bytes(&bytes);
        prop_assert!(!v.is_intact(), "byte {} changed to {:?}: {}", i, bytes[i] as char, v);
        // Only the final newline can make it look like a torn tail; anything else is
        // damage, reported on the line that holds the byte (or, for a newline turned
        // into something else, that line merged with the next).
        if i == bytes.len() - 1 {
            let is_torn = matches!(v, Verification::TornTail { entries: 5, line: 6, .. });
            prop_assert!(is_torn, "{}", v);
        } else {
            let line = line_starts(&LOG).iter().filter(|&&s| s <= i).count() as u64;
            let is_broken_there = matches!(v, Verification::Broken { line: l, .. } if l == line);
            prop_assert!(is_broken_there, "byte {} on line {}: {}", i, line, v);
        }
    }

    /// Removing any one line is detected; removing the last needs the anchor.
    #[test]
    fn any_deleted_line_is_detected(k in 0usize..6) {
        let starts = line_starts(&LOG);
        let end = starts.get(k + 1).copied().unwrap_or(LOG.len());
        let mut bytes = LOG[..starts[k]].to_vec();
        bytes.extend_from_slice(&LOG[end..]);
        let head = match verify_bytes(&LOG) {
            Verification::Intact { head: Some(h), .. } => h,
            v => panic!("{v}"),
        };
        if k == 5 {
            prop_assert!(verify_bytes(&bytes).is_intact());
            let anchored = verify_bytes_anchored(&bytes, &head);
            let is_truncated = matches!(
                anchored,
                Verification::Broken { line: 6, problem: Problem::Truncated { anchor_seq: 6, entries: 5 } }
            );
            prop_assert!(is_truncated, "{}", anchored);
        } else {
            let v = verify_bytes(&bytes);
            let is_broken_there = matches!(v, Verification::Broken { line, .. } if line == k as u64 + 1);
            prop_assert!(is_broken_there, "{}", v);
        }
    }

    /// Cutting the file at any byte leaves a torn tail, or a shorter intact log when
    /// the cut falls just after a newline.
    #[test]
    fn any_truncation_is_torn_or_a_prefix(cut in 0usize..1_000_000) {
        let cut = cut % LOG.len();
        let bytes = &LOG[..cut];
        let whole_lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        match verify_bytes(bytes) {
            Verification::Intact { entries, .. } => {
                prop_assert!(cut == 0 || LOG[cut - 1] == b'\n');
                prop_assert_eq!(entries, whole_lines);
            }
            Verification::TornTail { entries, line, bytes: n, .. } => {
                prop_assert_eq!(entries, whole_lines);
                prop_assert_eq!(line, whole_lines + 1);
                prop_assert!(n > 0);
            }
            v => prop_assert!(false, "cut at {}: {}", cut, v),
        }
    }
}

#[test]
fn open_repairs_a_torn_tail_and_appends_after_it() {
    let dir = scratch("audit-torn");
    let path = dir.join("audit.jsonl");
    let lines = line_starts(&LOG);
    // Five whole entries and the first 40 bytes of the sixth.
    let torn_at = lines[5] + 40;
    std::fs::write(&path, &LOG[..torn_at]).unwrap();
    assert!(matches!(
        AuditLog::verify_file(&path).unwrap(),
        Verification::TornTail {
            entries: 5,
            line: 6,
            bytes: 40,
            ..
        }
    ));
    let mut log = AuditLog::open(&path).unwrap();
    let repair = log.repaired().unwrap();
    assert_eq!((repair.line, repair.bytes), (6, 40));
    assert_eq!(log.head().unwrap().seq, 5);
    let e = log.append(&transition(6)).unwrap();
    assert_eq!(e.seq, 6);
    assert!(log.verify().unwrap().is_intact());
    // The re-appended entry is byte for byte the one that was torn.
    assert_eq!(std::fs::read(&path).unwrap(), *LOG);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn open_refuses_a_damaged_log() {
    let dir = scratch("audit-damaged");
    let path = dir.join("audit.jsonl");
    let mut bytes = LOG.clone();
    let at = line_starts(&bytes)[2] + 10;
    bytes[at] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    match AuditLog::open(&path) {
        Err(AuditError::Broken { line: 3, .. }) => {}
        other => panic!("{other:?}"),
    }
    // Read-only access reports the same, and the file is untouched.
    assert!(matches!(
        AuditLog::read_entries(&path),
        Err(AuditError::Broken { line: 3, .. })
    ));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn entries_and_formatting() {
    let dir = scratch("audit-entries");
    let path = dir.join("audit.jsonl");
    let mut torn = LOG.clone();
    torn.extend_from_slice(b"{\"seq\":7,\"rev");
    std::fs::write(&path, &torn).unwrap();
    let entries = AuditLog::read_entries(&path).unwrap();
    assert_eq!(entries.len(), 6, "the torn tail is not an entry");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.transition(), transition(i as u64 + 1));
    }
    assert_eq!(
        format_entry(&entries[0]),
        "#1 2026-04-14T09:31:00.000Z checkout: not started -> stage 2 at 5% (running) \
         [manual by alice] entry 1: \"quoted\", tab\t, ünïcode ✓"
    );
    assert_eq!(
        format_entry(&entries[2]),
        "#3 2026-04-14T09:33:00.000Z checkout: stage 1 at 1% (running) -> stage 2 at 5% (rolled back) \
         [manual by alice] entry 3: \"quoted\", tab\t, ünïcode ✓"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
