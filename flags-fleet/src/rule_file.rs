//! A rule file every instance watches (the runtime's file layer,
//! `flags_runtime::FileSource`) as the exposure target.
//!
//! The controller owns one strategy per flag: the first `type = "rollout"` strategy of
//! `[flags.NAME]`, whose `percent` it reads and sets. Other keys of that strategy
//! (stickiness, group, variants), the flag's other strategies and every other flag are
//! kept as written. A flag without such a strategy gets one on the first write. Each
//! write replaces the file atomically (a temporary file in the same directory, flushed,
//! renamed over it, the directory flushed), which the file layer applies whole.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flags_rollout::{ExposureTarget, TargetError};
use toml::{Table, Value};

/// An [`ExposureTarget`] writing rollout percentages into a shared rule file.
///
/// ```
/// use flags_fleet::RuleFileTarget;
/// use flags_rollout::ExposureTarget;
///
/// let dir = std::env::temp_dir().join(format!("flags-fleet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let target = RuleFileTarget::new(dir.join("rules.toml"));
/// assert_eq!(target.read_exposure("new_checkout")?, None);
/// target.write_exposure("new_checkout", 5)?;
/// assert_eq!(target.read_exposure("new_checkout")?, Some(5));
/// let text = std::fs::read_to_string(dir.join("rules.toml"))?;
/// assert!(text.contains("type = \"rollout\""));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RuleFileTarget {
    path: PathBuf,
}

impl RuleFileTarget {
    /// The rule file at `path` (created on the first write).
    pub fn new(path: impl Into<PathBuf>) -> RuleFileTarget {
        RuleFileTarget { path: path.into() }
    }

    fn unavailable(&self, detail: String) -> TargetError {
        TargetError::Unavailable {
            origin: self.describe(),
            detail,
        }
    }

    fn unusable(&self, flag: &str, detail: String) -> TargetError {
        TargetError::Unusable {
            origin: self.describe(),
            flag: flag.to_owned(),
            detail,
        }
    }

    /// The file as a table; a missing file is an empty one.
    fn load(&self, flag: &str) -> Result<Table, TargetError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
            Err(e) => return Err(self.unavailable(e.to_string())),
        };
        text.parse::<Table>()
            .map_err(|e| self.unusable(flag, format!("not valid TOML, fix it by hand: {e}")))
    }

    fn save(&self, table: &Table) -> Result<(), TargetError> {
        let text = toml::to_string_pretty(table).map_err(|e| self.unavailable(e.to_string()))?;
        write_atomically(&self.path, text.as_bytes()).map_err(|e| self.unavailable(e.to_string()))
    }
}

/// The `percent` of the first rollout strategy of `flag`, if there is one.
fn rollout_of<'a>(table: &'a Table, flag: &str) -> Option<&'a Table> {
    table
        .get("flags")?
        .get(flag)?
        .get("strategies")?
        .as_array()?
        .iter()
        .filter_map(Value::as_table)
        .find(|s| s.get("type").and_then(Value::as_str) == Some("rollout"))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.map_or_else(|| PathBuf::from(&name), |d| d.join(&name));
    let mut file = fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    if let Some(dir) = dir {
        // Makes the rename durable; some file systems cannot sync a directory.
        let _ = fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

impl ExposureTarget for RuleFileTarget {
    fn describe(&self) -> String {
        format!("rule file {}", self.path.display())
    }

    fn read_exposure(&self, flag: &str) -> Result<Option<u8>, TargetError> {
        let table = self.load(flag)?;
        let Some(strategy) = rollout_of(&table, flag) else {
            return Ok(None);
        };
        match strategy.get("percent") {
            Some(Value::Integer(p)) if (0..=100).contains(p) => Ok(Some(*p as u8)),
            other => Err(self.unusable(
                flag,
                format!("the rollout strategy's percent {other:?} is not 0 to 100"),
            )),
        }
    }

    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        let mut table = self.load(flag)?;
        let not_table = |what: &str| self.unusable(flag, format!("{what} is not a table"));
        let flags = table
            .entry("flags")
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| not_table("`flags`"))?;
        let entry = flags
            .entry(flag)
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| not_table("the flag's entry"))?;
        if entry.contains_key("value") {
            return Err(self.unusable(
                flag,
                "the flag has a fixed `value` in the rule file, which would override the rollout; remove it".to_owned(),
            ));
        }
        let strategies = entry
            .entry("strategies")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .ok_or_else(|| self.unusable(flag, "`strategies` is not an array".to_owned()))?;
        let existing = strategies
            .iter_mut()
            .filter_map(Value::as_table_mut)
            .find(|s| s.get("type").and_then(Value::as_str) == Some("rollout"));
        match existing {
            Some(s) => {
                s.insert(
                    "percent".to_owned(),
                    Value::Integer(i64::from(percent.min(100))),
                );
            }
            None => {
                let mut s = Table::new();
                s.insert("type".to_owned(), Value::String("rollout".to_owned()));
                s.insert(
                    "percent".to_owned(),
                    Value::Integer(i64::from(percent.min(100))),
                );
                strategies.push(Value::Table(s));
            }
        }
        self.save(&table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_percentage_changes() {
        let dir = std::env::temp_dir().join(format!("flags-fleet-rules-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.toml");
        fs::write(
            &path,
            "[flags.other]\nvalue = true\n\n[flags.f]\n[[flags.f.strategies]]\ntype = \"rollout\"\npercent = 5\nstickiness = \"userId\"\n",
        )
        .unwrap();
        let t = RuleFileTarget::new(&path);
        assert_eq!(t.read_exposure("f").unwrap(), Some(5));
        t.write_exposure("f", 25).unwrap();
        assert_eq!(t.read_exposure("f").unwrap(), Some(25));
        let table: Table = fs::read_to_string(&path).unwrap().parse().unwrap();
        assert_eq!(table["flags"]["other"]["value"], Value::Boolean(true));
        assert_eq!(
            table["flags"]["f"]["strategies"][0]["stickiness"],
            Value::String("userId".into())
        );
        assert!(
            t.write_exposure("other", 5).is_err(),
            "a fixed value is not overridden"
        );
        fs::write(&path, "not toml [").unwrap();
        assert!(matches!(
            t.read_exposure("f"),
            Err(TargetError::Unusable { .. })
        ));
        fs::remove_dir_all(dir).unwrap();
    }
}
