//! A rule file every instance watches (the runtime's file layer,
//! `flags_runtime::FileSource`) as the exposure target.
//!
//! The controller owns one strategy per flag: the first `type = "rollout"` strategy of
//! `[flags.NAME]`, whose `percent` it reads and sets. Other keys of that strategy
//! (stickiness, group, variants), the flag's other strategies, every other flag, and
//! the file's comments and layout are kept as written (`toml_edit`). A flag without
//! such a strategy gets one on the first write. A flag the file fixes (`value`, or
//! `enabled = false`) reads as that: 0% when off, 100% when on, so a person who kills
//! it there is seen as a change the controller did not make. Each
//! write replaces the file atomically (a temporary file in the same directory, flushed,
//! renamed over it, the directory flushed), which the file layer applies whole.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flags_rollout::{ExposureTarget, TargetError};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, TableLike, value};

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

    /// The file as a document; a missing file is an empty one.
    fn load(&self, flag: &str) -> Result<DocumentMut, TargetError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(DocumentMut::new()),
            Err(e) => return Err(self.unavailable(e.to_string())),
        };
        text.parse::<DocumentMut>()
            .map_err(|e| self.unusable(flag, format!("not valid TOML, fix it by hand: {e}")))
    }

    fn save(&self, doc: &DocumentMut) -> Result<(), TargetError> {
        write_atomically(&self.path, doc.to_string().as_bytes())
            .map_err(|e| self.unavailable(e.to_string()))
    }
}

/// The first rollout strategy among `strategies` (an array of tables, or an inline
/// array of inline tables).
fn rollout_of(strategies: &Item) -> Option<&dyn TableLike> {
    let is_rollout = |t: &&dyn TableLike| t.get("type").and_then(Item::as_str) == Some("rollout");
    match strategies {
        Item::ArrayOfTables(a) => a.iter().map(|t| t as &dyn TableLike).find(is_rollout),
        Item::Value(v) => v
            .as_array()?
            .iter()
            .filter_map(|v| v.as_inline_table())
            .map(|t| t as &dyn TableLike)
            .find(is_rollout),
        _ => None,
    }
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
        let doc = self.load(flag)?;
        let Some(entry) = doc
            .get("flags")
            .and_then(|f| f.get(flag))
            .and_then(Item::as_table_like)
        else {
            return Ok(None);
        };
        // A flag the file fixes is that value for everyone.
        if entry.get("enabled").and_then(Item::as_bool) == Some(false) {
            return Ok(Some(0));
        }
        if let Some(fixed) = entry.get("value") {
            return match fixed.as_bool() {
                Some(on) => Ok(Some(if on { 100 } else { 0 })),
                None => Err(self.unusable(
                    flag,
                    "the flag has a fixed variant in the rule file; a rollout sets on or off"
                        .to_owned(),
                )),
            };
        }
        let Some(strategy) = entry.get("strategies").and_then(rollout_of) else {
            return Ok(None);
        };
        match strategy.get("percent").and_then(Item::as_integer) {
            Some(p) if (0..=100).contains(&p) => Ok(u8::try_from(p).ok()),
            other => Err(self.unusable(
                flag,
                format!("the rollout strategy's percent {other:?} is not 0 to 100"),
            )),
        }
    }

    fn write_exposure(&self, flag: &str, percent: u8) -> Result<(), TargetError> {
        let mut doc = self.load(flag)?;
        let not_table = |what: &str| self.unusable(flag, format!("{what} is not a table"));
        let flags = doc
            .entry("flags")
            .or_insert_with(|| {
                let mut t = Table::new();
                t.set_implicit(true);
                Item::Table(t)
            })
            .as_table_like_mut()
            .ok_or_else(|| not_table("`flags`"))?;
        let entry = flags
            .entry(flag)
            .or_insert(Item::Table(Table::new()))
            .as_table_like_mut()
            .ok_or_else(|| not_table("the flag's entry"))?;
        if entry.contains_key("value")
            || entry.get("enabled").and_then(Item::as_bool) == Some(false)
        {
            return Err(self.unusable(
                flag,
                "the flag is fixed in the rule file (`value` or `enabled = false`), which would override the rollout; remove it".to_owned(),
            ));
        }
        let percent = i64::from(percent.min(100));
        let strategies = entry
            .entry("strategies")
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        let is_rollout =
            |t: &dyn TableLike| t.get("type").and_then(Item::as_str) == Some("rollout");
        match strategies {
            Item::ArrayOfTables(a) => {
                if let Some(t) = a.iter_mut().find(|t| is_rollout(*t)) {
                    t.insert("percent", value(percent));
                } else {
                    let mut t = Table::new();
                    t.insert("type", value("rollout"));
                    t.insert("percent", value(percent));
                    a.push(t);
                }
            }
            Item::Value(v) => {
                let array = v.as_array_mut().ok_or_else(|| {
                    self.unusable(flag, "`strategies` is not an array".to_owned())
                })?;
                let found = array
                    .iter()
                    .position(|v| v.as_inline_table().is_some_and(|t| is_rollout(t)));
                match found.and_then(|i| array.get_mut(i)?.as_inline_table_mut()) {
                    Some(t) => {
                        t.insert("percent", percent.into());
                    }
                    None => {
                        let mut t = toml_edit::InlineTable::new();
                        t.insert("type", "rollout".into());
                        t.insert("percent", percent.into());
                        array.push(t);
                    }
                }
            }
            _ => return Err(self.unusable(flag, "`strategies` is not an array".to_owned())),
        }
        self.save(&doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::{Table, Value};

    #[test]
    fn only_the_percentage_changes() {
        let dir = std::env::temp_dir().join(format!("flags-fleet-rules-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rules.toml");
        fs::write(
            &path,
            "# Shared rules.\n[flags.other]\nvalue = true # forced on\n\n[flags.killed]\nenabled = false\n\n[flags.f]\n# the rollout\n[[flags.f.strategies]]\ntype = \"rollout\"\npercent = 5\nstickiness = \"userId\"\n",
        )
        .unwrap();
        let t = RuleFileTarget::new(&path);
        assert_eq!(t.read_exposure("f").unwrap(), Some(5));
        t.write_exposure("f", 25).unwrap();
        assert_eq!(t.read_exposure("f").unwrap(), Some(25));
        let text = fs::read_to_string(&path).unwrap();
        for kept in [
            "# Shared rules.",
            "value = true # forced on",
            "# the rollout",
        ] {
            assert!(text.contains(kept), "{kept:?} kept in:\n{text}");
        }
        // Fixed by hand in the file: read as what it does to everyone.
        assert_eq!(t.read_exposure("other").unwrap(), Some(100));
        assert_eq!(t.read_exposure("killed").unwrap(), Some(0));
        assert!(t.write_exposure("killed", 5).is_err());
        // A new flag gets a rollout strategy.
        t.write_exposure("fresh", 1).unwrap();
        assert_eq!(t.read_exposure("fresh").unwrap(), Some(1));
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
