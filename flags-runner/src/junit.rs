//! The JUnit XML report CI systems display: one `testsuite` per run, one `testcase` per
//! combination named by its label, a `failure` holding the tail of the log of a failing
//! combination, `error` for one that could not start and `skipped` for one that did not
//! run to the end.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::report::{Outcome, RunReport};

/// At most this much of the end of a log goes into a failure.
const TAIL_BYTES: u64 = 32 * 1024;

/// At most this many lines of the end of a log go into a failure.
const TAIL_LINES: usize = 100;

/// Writes [`junit_xml`] of `report` to `path`, creating its directory; the file is
/// replaced whole, so a reader never sees half a report.
pub fn write_junit(path: &Path, report: &RunReport) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut file = File::create(&tmp)?;
    file.write_all(junit_xml(report).as_bytes())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)
}

/// The report as JUnit XML.
///
/// ```
/// use flags_runner::{junit_xml, RunReport};
///
/// let report = RunReport {
///     results: Vec::new(),
///     total: 0,
///     partition: None,
///     description: "pairwise over 0 flags".into(),
///     seed: None,
///     interrupted: false,
///     jobs: 1,
///     log_dir: "logs".into(),
///     junit: None,
///     warnings: Vec::new(),
///     elapsed: std::time::Duration::ZERO,
/// };
/// let xml = junit_xml(&report);
/// assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
/// assert!(xml.contains("<testsuite name=\"flags matrix (pairwise over 0 flags)\" tests=\"0\""));
/// ```
pub fn junit_xml(report: &RunReport) -> String {
    let tests = report.results.len();
    let failures = report.count("FAIL");
    let errors = report.count("ERROR");
    let skipped = report
        .results
        .iter()
        .filter(|r| r.outcome.is_skipped())
        .count();
    let time = format!("{:.3}", report.elapsed.as_secs_f64());
    let mut name = format!("flags matrix ({}", report.description);
    if let Some(p) = report.partition {
        name.push_str(&format!(", shard {p}"));
    }
    name.push(')');

    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"flags matrix\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{time}\">\n",
        xml_escape(&name)
    ));
    x.push_str("    <properties>\n");
    let mut properties = vec![
        ("mode".to_owned(), report.description.clone()),
        ("combinations".to_owned(), report.total.to_string()),
        ("jobs".to_owned(), report.jobs.to_string()),
        ("interrupted".to_owned(), report.interrupted.to_string()),
    ];
    if let Some(p) = report.partition {
        properties.push(("partition".to_owned(), p.to_string()));
    }
    if let Some(seed) = report.seed {
        properties.push(("seed".to_owned(), seed.to_string()));
    }
    for (key, value) in properties {
        x.push_str(&format!(
            "      <property name=\"{}\" value=\"{}\"/>\n",
            xml_escape(&key),
            xml_escape(&value)
        ));
    }
    x.push_str("    </properties>\n");
    for r in &report.results {
        let open = format!(
            "    <testcase name=\"{}\" classname=\"flags.matrix\" time=\"{:.3}\"",
            xml_escape(&r.combination.label),
            r.duration.as_secs_f64()
        );
        let message = xml_escape(&r.outcome.describe());
        match &r.outcome {
            Outcome::Passed => x.push_str(&format!("{open}/>\n")),
            Outcome::Failed { .. } => {
                let tail = r.log.as_deref().map(log_tail).unwrap_or_default();
                x.push_str(&format!(
                    "{open}>\n      <failure message=\"{message}\" type=\"exit status\">{}</failure>\n    </testcase>\n",
                    escape_text(&tail)
                ));
            }
            Outcome::Error { .. } => {
                x.push_str(&format!(
                    "{open}>\n      <error message=\"{message}\" type=\"spawn\"/>\n    </testcase>\n"
                ));
            }
            Outcome::NotRealisable { .. } => {
                x.push_str(&format!(
                    "{open}>\n      <failure message=\"{message}\" type=\"not realisable\"/>\n    </testcase>\n"
                ));
            }
            Outcome::Stopped | Outcome::NotRun { .. } => {
                x.push_str(&format!(
                    "{open}>\n      <skipped message=\"{message}\"/>\n    </testcase>\n"
                ));
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// The last [`TAIL_LINES`] lines of a log (within its last [`TAIL_BYTES`]), or a note
/// saying why there are none.
pub(crate) fn log_tail(path: &Path) -> String {
    match read_tail(path) {
        Ok(tail) => tail,
        Err(e) => format!("(cannot read the log {}: {e})", path.display()),
    }
}

fn read_tail(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    // A cut through the middle of the file starts inside a line; drop that part line.
    if start > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let skip = lines.len().saturating_sub(TAIL_LINES);
    let mut tail = String::new();
    if skip > 0 || start > 0 {
        tail.push_str(&format!(
            "(last {} lines of {})\n",
            lines.len() - skip,
            path.display()
        ));
    }
    for line in &lines[skip..] {
        tail.push_str(line);
        tail.push('\n');
    }
    Ok(tail)
}

/// `text` escaped for XML text and attribute values. Characters XML 1.0 cannot carry at
/// all (most control characters) become U+FFFD; line breaks and tabs are kept as
/// character references so that attribute values keep them too.
///
/// ```
/// assert_eq!(
///     flags_runner::xml_escape("a<b & \"c\" 'd'>\u{1b}[0m\n"),
///     "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{fffd}[0m&#10;"
/// );
/// ```
pub fn xml_escape(text: &str) -> String {
    escape_with(text, true)
}

/// Escaping for element text: like [`xml_escape`], but line breaks and tabs stay as they
/// are so that a log tail reads as a log in the file.
fn escape_text(text: &str) -> String {
    escape_with(text, false)
}

fn escape_with(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if !attribute => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
