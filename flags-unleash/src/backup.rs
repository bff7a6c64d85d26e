//! The backup file: the last good payload, written atomically (a temporary file in
//! the same folder, synced, then renamed over the old one), so a crash mid-write
//! leaves the previous backup, never a torn one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating the folder if needed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unleash-backup".to_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable where the platform allows syncing a folder.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("flags-unleash-backup-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let path = dir.join("nested").join("backup.json");
        write_atomic(&path, b"first").unwrap_or_else(|e| panic!("{e}"));
        write_atomic(&path, b"second").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fs::read(&path).unwrap_or_default(), b"second");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap_or(&dir))
            .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 1, "{names:?}");
        // A folder where the file should be: refused, and nothing left behind.
        let blocked = dir.join("blocked");
        fs::create_dir_all(blocked.join("x")).unwrap_or_else(|e| panic!("{e}"));
        assert!(write_atomic(&blocked, b"data").is_err());
        let left: Vec<_> = fs::read_dir(&dir)
            .map(|r| r.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            left.iter().all(|n| !n.to_string_lossy().contains(".tmp-")),
            "{left:?}"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}
