//! The whole-suite runner, end to end: real manifests in temporary directories and small
//! `sh` commands that pass or fail depending on the flag variables they get.
#![cfg(unix)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use flags_runner::{
    self as runner, FlagSelection, Interrupt, Mode, NotRunReason, Outcome, Partition, Pin,
    RunError, RunOptions, RunReport,
};
use flags_test_support::{fixtures, wait};

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// A bool flag `a` and a variant flag `b` (classic, compact; default classic).
fn ab() -> String {
    fixtures::bool_and_variant("a", "b")
}

/// Fails only for a=on, b=compact, after printing what it saw.
const FAIL_ON_A_COMPACT: &str = r#"echo "seen a=[$FLAGS_A] b=[$FLAGS_B] label=[$FLAGS_COMBINATION]"; test "$FLAGS_A" != on || test "$FLAGS_B" != compact"#;

const AB_LABELS: [&str; 4] = [
    "a=off, b=classic",
    "a=off, b=compact",
    "a=on, b=classic",
    "a=on, b=compact",
];

/// A fresh directory under cargo's temporary directory for integration tests.
struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new(name: &str, manifest: &str) -> Fixture {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("runner-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("flags.toml"), manifest).unwrap();
        Fixture { dir }
    }

    /// Exhaustive, no pins, one job, logs and cwd in the fixture, `sh -c script`.
    fn options(&self, script: &str) -> RunOptions {
        let mut opts = RunOptions::new(self.dir.join("flags.toml"), ["sh", "-c", script]);
        opts.plan.mode = Mode::Exhaustive;
        opts.plan.pins = Vec::new();
        opts.work_dir = Some(self.dir.clone());
        opts.log_dir = Some(self.dir.join("logs"));
        opts
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Runs without signal handlers, capturing the printed output.
fn run(opts: &RunOptions) -> (RunReport, String) {
    let mut out = Vec::new();
    let report = runner::run_with(opts, &Interrupt::new(), &mut out).unwrap();
    (report, String::from_utf8(out).unwrap())
}

fn labels(report: &RunReport) -> Vec<String> {
    report
        .results
        .iter()
        .map(|r| r.combination.label.clone())
        .collect()
}

fn outcomes(report: &RunReport) -> Vec<(String, Outcome)> {
    report
        .results
        .iter()
        .map(|r| (r.combination.label.clone(), r.outcome.clone()))
        .collect()
}

fn log_of(report: &RunReport, label: &str) -> String {
    let result = report.result(label).unwrap();
    std::fs::read_to_string(result.log.as_ref().unwrap()).unwrap()
}

/// Waits (with the shared generous deadline) for `path` to exist with some text and
/// returns its trimmed contents.
fn wait_for_file(path: &Path) -> String {
    wait::wait_for(&format!("{} to appear", path.display()), || {
        std::fs::read_to_string(path)
            .ok()
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
    })
}

fn process_exists(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

// ---------------------------------------------------------------------------------------
// A minimal XML well-formedness checker (elements, attributes, references, text).
// ---------------------------------------------------------------------------------------

#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for child in &self.children {
            child.all(name, out);
        }
    }

    fn find_all(&self, name: &str) -> Vec<&Element> {
        let mut out = Vec::new();
        self.all(name, &mut out);
        out
    }
}

struct Xml<'a> {
    s: &'a str,
    at: usize,
}

impl Xml<'_> {
    fn parse(s: &str) -> Result<Element, String> {
        let mut p = Xml { s, at: 0 };
        if p.rest().starts_with("<?xml") {
            let end = p.rest().find("?>").ok_or("unterminated declaration")?;
            p.at += end + 2;
        }
        p.ws();
        let root = p.element()?;
        p.ws();
        if p.at != s.len() {
            return Err(format!("content after the root element at {}", p.at));
        }
        Ok(root)
    }

    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn ws(&mut self) {
        let trimmed = self.rest().trim_start_matches([' ', '\n', '\r', '\t']);
        self.at = self.s.len() - trimmed.len();
    }

    fn name(&mut self) -> Result<String, String> {
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || "_-.:".contains(c)))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(format!("expected a name at {}", self.at));
        }
        let name = self.rest()[..len].to_owned();
        self.at += len;
        Ok(name)
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.rest().starts_with(token) {
            self.at += token.len();
            Ok(())
        } else {
            Err(format!(
                "expected `{token}` at {}: {:.30}",
                self.at,
                self.rest()
            ))
        }
    }

    /// Decodes character data up to `stop`, checking every reference and character.
    fn chars(&mut self, stop: &[char]) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.rest().chars().next() {
            if stop.contains(&c) {
                break;
            }
            match c {
                '<' => return Err(format!("raw `<` at {}", self.at)),
                '&' => {
                    let end = self.rest().find(';').ok_or("unterminated reference")?;
                    let entity = &self.rest()[1..end];
                    let decoded = match entity {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => {
                            let code = if let Some(hex) = entity.strip_prefix("#x") {
                                u32::from_str_radix(hex, 16)
                            } else if let Some(dec) = entity.strip_prefix('#') {
                                dec.parse()
                            } else {
                                return Err(format!("unknown entity `{entity}`"));
                            };
                            let c = code.ok().and_then(char::from_u32).ok_or("bad reference")?;
                            check_char(c)?;
                            c
                        }
                    };
                    out.push(decoded);
                    self.at += end + 1;
                }
                c => {
                    check_char(c)?;
                    out.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
        Ok(out)
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let name = self.name()?;
        let mut attrs = BTreeMap::new();
        loop {
            self.ws();
            if self.rest().starts_with("/>") {
                self.at += 2;
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            if self.rest().starts_with('>') {
                self.at += 1;
                break;
            }
            let key = self.name()?;
            self.ws();
            self.expect("=")?;
            self.ws();
            self.expect("\"")?;
            let value = self.chars(&['"'])?;
            self.expect("\"")?;
            if attrs.insert(key.clone(), value).is_some() {
                return Err(format!("attribute `{key}` repeated"));
            }
        }
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            text.push_str(&self.chars(&['<'])?);
            if self.rest().starts_with("</") {
                self.at += 2;
                let end = self.name()?;
                if end != name {
                    return Err(format!("`</{end}>` closes `<{name}>`"));
                }
                self.ws();
                self.expect(">")?;
                return Ok(Element {
                    name,
                    attrs,
                    children,
                    text,
                });
            }
            if self.rest().is_empty() {
                return Err(format!("`<{name}>` is not closed"));
            }
            children.push(self.element()?);
        }
    }
}

fn check_char(c: char) -> Result<(), String> {
    let ok = matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "character U+{:04X} is not allowed in XML",
            c as u32
        ))
    }
}

#[test]
fn the_xml_checker_rejects_what_it_must() {
    assert!(Xml::parse("<a><b></a>").is_err());
    assert!(Xml::parse("<a x=\"1 < 2\"/>").is_err());
    assert!(Xml::parse("<a>&bogus;</a>").is_err());
    assert!(Xml::parse("<a>\u{1}</a>").is_err());
    assert!(Xml::parse("<a>&#1;</a>").is_err());
    assert!(Xml::parse("<a/><b/>").is_err());
    let ok = Xml::parse("<?xml version=\"1.0\"?>\n<a k=\"&lt;&#10;\">x &amp; <b/>y</a>").unwrap();
    assert_eq!(ok.attrs["k"], "<\n");
    assert_eq!(ok.text, "x & y");
}

// ---------------------------------------------------------------------------------------
// Results, table, exit status
// ---------------------------------------------------------------------------------------

#[test]
fn the_failing_combination_is_reported_by_label() {
    let fx = Fixture::new("fail", &ab());
    let (report, out) = run(&fx.options(FAIL_ON_A_COMPACT));

    assert_eq!(labels(&report), AB_LABELS);
    let failing: Vec<&str> = report
        .failures()
        .map(|r| r.combination.label.as_str())
        .collect();
    assert_eq!(failing, ["a=on, b=compact"]);
    assert_eq!(
        report.result("a=on, b=compact").unwrap().outcome,
        Outcome::Failed {
            code: Some(1),
            signal: None
        }
    );
    assert_eq!(report.count("PASS"), 3);
    assert!(!report.success());
    assert_eq!(report.exit_code(), 1);
    assert!(!report.interrupted);

    // Every combination got its own values and label, and its own log.
    for label in AB_LABELS {
        let log = log_of(&report, label);
        let (a, b) = label.split_once(", ").unwrap();
        let expected = format!(
            "seen a=[{}] b=[{}] label=[{label}]",
            a.trim_start_matches("a="),
            b.trim_start_matches("b=")
        );
        assert!(log.contains(&expected), "log of {label}:\n{log}");
    }

    // The table names the failing combination with its result and exit code.
    let fail_line = out
        .lines()
        .find(|l| !l.starts_with('[') && l.contains("FAIL") && l.ends_with("a=on, b=compact"))
        .unwrap_or_else(|| panic!("no FAIL line in:\n{out}"));
    let columns: Vec<&str> = fail_line.split_whitespace().collect();
    assert_eq!(columns[0], "4", "{fail_line}");
    assert_eq!(columns[3], "1", "exit code column: {fail_line}");
    assert_eq!(
        out.lines()
            .filter(|l| !l.starts_with('[') && l.split_whitespace().nth(1) == Some("PASS"))
            .count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("failing combinations:\n    a=on, b=compact  (exit code 1)"),
        "{out}"
    );
}

#[test]
fn a_passing_run_is_a_success() {
    let fx = Fixture::new("pass", &ab());
    let (report, _) = run(&fx.options("true"));
    assert!(report.success());
    assert_eq!(report.exit_code(), 0);
    assert_eq!(report.results.len(), 4);
}

#[test]
fn a_command_that_cannot_start_is_an_error_not_a_pass() {
    let fx = Fixture::new("nostart", &ab());
    let mut opts = fx.options("true");
    opts.command = vec!["/nonexistent/flags-test-command".into()];
    let (report, _) = run(&opts);
    assert_eq!(report.failures().count(), 4);
    assert!(matches!(
        &report.results[0].outcome,
        Outcome::Error { message } if message.contains("cannot start")
    ));
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn pins_come_first_and_are_named() {
    let fx = Fixture::new("pins", &ab());
    std::fs::write(fx.path("prod.toml"), "[flags.b]\nvalue = \"compact\"\n").unwrap();
    let mut opts = fx.options("true");
    opts.plan.pins = vec![
        Pin::Defaults,
        Pin::AllOn,
        Pin::AllOff,
        Pin::State(fx.path("prod.toml")),
    ];
    let matrix = runner::plan(&opts).unwrap();
    let rows: Vec<(&str, Vec<String>)> = matrix
        .combinations
        .iter()
        .map(|c| (c.label.as_str(), c.pinned_as.clone()))
        .collect();
    let state = format!("state:{}", fx.path("prod.toml").display());
    assert_eq!(
        rows,
        [
            (
                "a=off, b=classic",
                vec!["defaults".into(), "all-off".into()]
            ),
            ("a=on, b=compact", vec!["all-on".into()]),
            ("a=off, b=compact", vec![state]),
            ("a=on, b=classic", vec![]),
        ]
    );
}

#[test]
fn fail_fast_stops_starting_combinations() {
    let fx = Fixture::new("failfast", &ab());
    let mut opts = fx.options(r#"test "$FLAGS_B" != compact"#);
    opts.fail_fast = true;
    let (report, _) = run(&opts);
    let got = outcomes(&report);
    assert_eq!(got[0].1, Outcome::Passed);
    assert!(got[1].1.is_failure());
    for (_, outcome) in &got[2..] {
        assert_eq!(
            *outcome,
            Outcome::NotRun {
                reason: NotRunReason::FailFast
            }
        );
    }
    assert_eq!(report.exit_code(), 1);
}

// ---------------------------------------------------------------------------------------
// Partitions
// ---------------------------------------------------------------------------------------

/// Five bool flags (`f5` excludes `f1`) and a three-variant `layout`.
fn many() -> String {
    let mut m: String = ["f1", "f2", "f3", "f4"].map(fixtures::flag).concat();
    m += &fixtures::flag("f5").replace("\n\n", "\nexcludes = [\"f1\"]\n\n");
    m + &fixtures::variant_flag("layout", &["one", "two", "three"], "two")
}

#[test]
fn partitions_are_disjoint_and_cover_every_combination() {
    let fx = Fixture::new("partition", &many());
    let mut opts = fx.options("true");
    opts.plan.mode = Mode::Pairwise;
    opts.plan.pins = Pin::standard();
    let whole: Vec<String> = runner::plan(&opts)
        .unwrap()
        .combinations
        .iter()
        .map(|c| c.label.clone())
        .collect();
    assert!(whole.len() >= 6, "{whole:?}");

    for shards in [1, 2, 3, 4, whole.len() + 2] {
        let mut seen: Vec<String> = Vec::new();
        for m in 1..=shards {
            opts.partition = Some(Partition::new(m, shards).unwrap());
            let (report, out) = run(&opts);
            assert!(report.success(), "{out}");
            assert_eq!(report.total, whole.len());
            for r in &report.results {
                assert_eq!(r.combination.index % shards, m - 1, "shard {m}/{shards}");
                assert_eq!(whole[r.combination.index], r.combination.label);
            }
            seen.extend(labels(&report));
        }
        let distinct: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "a combination ran in two shards of {shards}"
        );
        seen.sort();
        let mut expected = whole.clone();
        expected.sort();
        assert_eq!(seen, expected, "shards of {shards} miss combinations");
    }
}

#[test]
fn partition_parsing_rejects_impossible_shards() {
    assert_eq!(
        "3/4".parse::<Partition>().unwrap(),
        Partition::new(3, 4).unwrap()
    );
    for bad in ["0/4", "5/4", "1/0", "4", "a/b", ""] {
        assert!(bad.parse::<Partition>().is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// JUnit
// ---------------------------------------------------------------------------------------

#[test]
fn junit_is_well_formed_with_one_testcase_per_combination() {
    let fx = Fixture::new("junit", &ab());
    // The failing combination prints characters XML must escape or cannot carry.
    let script = r#"echo "ran $FLAGS_COMBINATION"
if [ "$FLAGS_A" = on ] && [ "$FLAGS_B" = compact ]; then
  printf 'bad <b> & "q" \047s\047 \001 ]]>\n'
  exit 3
fi"#;
    let mut opts = fx.options(script);
    opts.junit = Some(fx.path("reports/junit.xml"));
    let (report, out) = run(&opts);
    assert!(out.contains("JUnit report: "), "{out}");

    let xml = std::fs::read_to_string(fx.path("reports/junit.xml")).unwrap();
    let root = Xml::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(root.name, "testsuites");
    let suites = root.find_all("testsuite");
    assert_eq!(suites.len(), 1);
    assert_eq!(suites[0].attrs["tests"], "4");
    assert_eq!(suites[0].attrs["failures"], "1");
    assert_eq!(suites[0].attrs["errors"], "0");
    assert_eq!(suites[0].attrs["skipped"], "0");

    let cases = root.find_all("testcase");
    let names: Vec<&str> = cases.iter().map(|c| c.attrs["name"].as_str()).collect();
    assert_eq!(names, AB_LABELS);
    assert_eq!(root.find_all("failure").len(), 1);
    let failing: Vec<&&Element> = cases
        .iter()
        .filter(|c| !c.find_all("failure").is_empty())
        .collect();
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].attrs["name"], "a=on, b=compact");
    let failure = &failing[0].children[0];
    assert_eq!(failure.attrs["message"], "exit code 3");
    // The tail of the log, unescaped by the parser back to what the command printed.
    assert!(
        failure.text.contains("ran a=on, b=compact"),
        "{}",
        failure.text
    );
    assert!(
        failure.text.contains("bad <b> & \"q\" 's' \u{fffd} ]]>"),
        "{}",
        failure.text
    );
    assert_eq!(report.exit_code(), 1);
}

// ---------------------------------------------------------------------------------------
// Jobs
// ---------------------------------------------------------------------------------------

#[test]
fn several_jobs_give_the_same_results() {
    let fx = Fixture::new("jobs", &ab());
    let mut opts = fx.options(FAIL_ON_A_COMPACT);
    let (one, _) = run(&opts);
    opts.jobs = 4;
    let (four, _) = run(&opts);
    assert_eq!(four.jobs, 4);
    assert_eq!(outcomes(&one), outcomes(&four));
    for label in AB_LABELS {
        assert!(log_of(&four, label).contains(&format!("label=[{label}]")));
    }
}

#[test]
fn jobs_really_run_at_the_same_time() {
    // Each combination announces itself, then waits until two have started: with one job
    // at a time this can only time out.
    let fx = Fixture::new("parallel", &ab());
    let started = fx.path("started");
    std::fs::create_dir_all(&started).unwrap();
    let script = format!(
        r#"touch "{dir}/$$"
i=0
while [ "$(ls "{dir}" | wc -l)" -lt 2 ]; do
  i=$((i+1)); [ $i -gt 400 ] && exit 9
  sleep 0.05
done"#,
        dir = started.display()
    );
    let mut opts = fx.options(&script);
    opts.jobs = 2;
    let (report, out) = run(&opts);
    assert!(report.success(), "{out}");
}

// ---------------------------------------------------------------------------------------
// requires / excludes
// ---------------------------------------------------------------------------------------

const RULES: &str = r#"
[flags.a]
description = "d"
owner = "o"
kind = "ops"

[flags.b]
description = "d"
owner = "o"
kind = "ops"
variants = ["classic", "compact", "wide"]
default = "classic"

[flags.c]
description = "c requires a"
owner = "o"
kind = "ops"
requires = ["a"]

[flags.d]
description = "d excludes a"
owner = "o"
kind = "ops"
excludes = ["a"]

[flags.e]
description = "e requires b=wide"
owner = "o"
kind = "ops"
requires = ["b=wide"]

[flags.f]
description = "f requires b off its default"
owner = "o"
kind = "ops"
requires = ["b"]
"#;

/// Exits non-zero when the variables it gets break a rule of `RULES`.
const CHECK_RULES: &str = r#"
if [ "$FLAGS_C" = on ] && [ "$FLAGS_A" != on ]; then exit 11; fi
if [ "$FLAGS_D" = on ] && [ "$FLAGS_A" = on ]; then exit 12; fi
if [ "$FLAGS_E" = on ] && [ "$FLAGS_B" != wide ]; then exit 13; fi
if [ "$FLAGS_F" = on ] && [ "$FLAGS_B" = classic ]; then exit 14; fi
exit 0
"#;

/// Every valid combination of `RULES`, by brute force over the rules as the manifest
/// documents them.
fn valid_rule_labels() -> BTreeSet<String> {
    let on = |x: bool| if x { "on" } else { "off" };
    let mut out = BTreeSet::new();
    for bits in 0..(1u32 << 5) {
        for b in ["classic", "compact", "wide"] {
            let [a, c, d, e, f] = [0, 1, 2, 3, 4].map(|i| bits & (1 << i) != 0);
            let valid = (!c || a) && !(d && a) && (!e || b == "wide") && (!f || b != "classic");
            if valid {
                out.insert(format!(
                    "a={}, b={b}, c={}, d={}, e={}, f={}",
                    on(a),
                    on(c),
                    on(d),
                    on(e),
                    on(f)
                ));
            }
        }
    }
    out
}

#[test]
fn exhaustive_runs_exactly_the_valid_combinations() {
    let fx = Fixture::new("rules", RULES);
    let (report, out) = run(&fx.options(CHECK_RULES));
    assert!(report.success(), "{out}");
    let got: BTreeSet<String> = labels(&report).into_iter().collect();
    assert_eq!(got.len(), report.results.len(), "duplicate combinations");
    let expected = valid_rule_labels();
    assert!(expected.len() < 96, "the rules must exclude something");
    assert_eq!(got, expected);
}

#[test]
fn pairwise_and_pins_respect_the_rules() {
    let fx = Fixture::new("rules-pairwise", RULES);
    let mut opts = fx.options(CHECK_RULES);
    opts.plan.mode = Mode::Pairwise;
    opts.plan.pins = Pin::standard();
    let (report, out) = run(&opts);
    assert!(report.success(), "{out}");
    let valid = valid_rule_labels();
    for label in labels(&report) {
        assert!(valid.contains(&label), "invalid combination {label}");
    }
    // All on has d and a on together: left out, and said so.
    assert!(
        report.warnings.iter().any(|w| matches!(
            w,
            flags_test::plan::PlanWarning::PinBreaksRules { pin, .. } if pin == "all-on"
        )),
        "{:?}",
        report.warnings
    );
    assert!(
        out.contains("warning: pinned combination `all-on`"),
        "{out}"
    );
    assert!(
        report.results[0]
            .combination
            .pinned_as
            .contains(&"defaults".to_owned())
    );
}

#[test]
fn flags_outside_the_selection_constrain_through_their_defaults() {
    // Only c and d vary; a stays at its default (off), so c can never be on.
    let fx = Fixture::new("rules-fixed", RULES);
    let mut opts = fx.options(CHECK_RULES);
    opts.plan.flags = FlagSelection::Named(vec!["d".into(), "c".into()]);
    let (report, out) = run(&opts);
    assert!(report.success(), "{out}");
    assert_eq!(labels(&report), ["c=off, d=off", "c=off, d=on"]);
}

// ---------------------------------------------------------------------------------------
// Static flags
// ---------------------------------------------------------------------------------------

const STATIC: &str = r#"
[flags.a]
description = "dynamic"
owner = "o"
kind = "ops"

[flags.s]
description = "static bool"
owner = "o"
kind = "ops"
static = true

[flags.v]
description = "static variant"
owner = "o"
kind = "ops"
static = true
variants = ["x", "y"]
default = "x"
"#;

#[test]
fn static_flags_travel_in_build_time_variables() {
    let fx = Fixture::new("static", STATIC);
    let script = r#"echo "a=[$FLAGS_A] s=[$FLAGS_STATIC_S] v=[$FLAGS_STATIC_V] plain=[${FLAGS_S-unset}${FLAGS_V-unset}]""#;

    // By default only dynamic flags vary.
    let (report, _) = run(&fx.options(script));
    assert_eq!(labels(&report), ["a=off", "a=on"]);

    let mut opts = fx.options(script);
    opts.plan.flags = FlagSelection::All;
    let (report, out) = run(&opts);
    assert!(report.success(), "{out}");
    assert_eq!(report.results.len(), 8);
    for r in &report.results {
        let values: BTreeMap<&str, &str> = r
            .combination
            .values
            .iter()
            .map(|v| (v.flag.as_str(), v.value.as_str()))
            .collect();
        let log = log_of(&report, &r.combination.label);
        let expected = format!(
            "a=[{}] s=[{}] v=[{}] plain=[unsetunset]",
            values["a"], values["s"], values["v"]
        );
        assert!(log.contains(&expected), "{}:\n{log}", r.combination.label);
    }
}

/// The target directory the runner would share, as the fake cargo should see it.
fn inherited_target_dir() -> String {
    std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "unset".to_owned())
}

#[test]
fn cargo_jobs_get_their_own_target_dir_only_when_static_flags_vary() {
    use std::os::unix::fs::PermissionsExt;

    let fx = Fixture::new("targetdir", STATIC);
    let bin = fx.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\necho \"target=[${CARGO_TARGET_DIR-unset}] args=[$*]\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target_of = |report: &RunReport| -> BTreeSet<String> {
        report
            .results
            .iter()
            .map(|r| {
                let log = std::fs::read_to_string(r.log.as_ref().unwrap()).unwrap();
                let line = log.lines().find(|l| l.starts_with("target=[")).unwrap();
                assert!(line.ends_with("args=[test --quiet]"), "{line}");
                line["target=[".len()..line.find("] args").unwrap()].to_owned()
            })
            .collect()
    };
    let base = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => fx.dir.join(dir),
        None => fx.dir.join("target"),
    };
    let mut opts = fx.options("unused");
    opts.command = vec![cargo.clone().into(), "test".into(), "--quiet".into()];

    // Static flags vary and two jobs: one target directory per job.
    opts.plan.flags = FlagSelection::All;
    opts.jobs = 2;
    let (report, out) = run(&opts);
    assert!(report.success(), "{out}");
    let dirs = target_of(&report);
    let allowed: BTreeSet<String> = [1, 2]
        .iter()
        .map(|n| {
            base.join(format!("flags-matrix/job-{n}"))
                .display()
                .to_string()
        })
        .collect();
    assert!(dirs.is_subset(&allowed), "{dirs:?} not in {allowed:?}");
    assert!(out.contains("static flags vary"), "{out}");

    // Only dynamic flags vary: the jobs share the usual target directory.
    opts.plan.flags = FlagSelection::Dynamic;
    let (report, _) = run(&opts);
    assert_eq!(target_of(&report), BTreeSet::from([inherited_target_dir()]));

    // One job: nothing to share with.
    opts.plan.flags = FlagSelection::All;
    opts.jobs = 1;
    let (report, _) = run(&opts);
    assert_eq!(target_of(&report), BTreeSet::from([inherited_target_dir()]));

    // Not cargo: the variable is left alone.
    opts.jobs = 2;
    opts.command = vec![
        "sh".into(),
        "-c".into(),
        "exec \"$0\" test --quiet".into(),
        cargo.into(),
    ];
    let (report, _) = run(&opts);
    assert_eq!(target_of(&report), BTreeSet::from([inherited_target_dir()]));
}

// ---------------------------------------------------------------------------------------
// Modes, errors
// ---------------------------------------------------------------------------------------

#[test]
fn random_runs_report_and_reuse_their_seed() {
    let fx = Fixture::new("random", &many());
    let mut opts = fx.options("true");
    opts.plan.mode = Mode::Random {
        count: 5,
        seed: Some(42),
    };
    let first = runner::plan(&opts).unwrap();
    let again = runner::plan(&opts).unwrap();
    assert_eq!(first, again);
    assert_eq!(first.seed, Some(42));
    assert_eq!(first.combinations.len(), 5);
    let (report, out) = run(&opts);
    assert!(out.contains("random seed: 42"), "{out}");
    assert_eq!(report.seed, Some(42));

    // Without a seed one is chosen and reported, and it reproduces the run.
    opts.plan.mode = Mode::Random {
        count: 5,
        seed: None,
    };
    let chosen = runner::plan(&opts).unwrap();
    let seed = chosen.seed.unwrap();
    opts.plan.mode = Mode::Random {
        count: 5,
        seed: Some(seed),
    };
    assert_eq!(
        runner::plan(&opts).unwrap().combinations,
        chosen.combinations
    );

    // Shards must agree on the draw.
    opts.plan.mode = Mode::Random {
        count: 5,
        seed: None,
    };
    opts.partition = Some(Partition::new(1, 2).unwrap());
    assert!(matches!(
        runner::plan(&opts),
        Err(RunError::SeedRequired { count: 5 })
    ));
}

#[test]
fn bad_requests_are_errors_that_say_what_to_do() {
    let fx = Fixture::new("errors", &ab());
    let mut opts = fx.options("true");
    opts.plan.flags = FlagSelection::Named(vec!["bb".into()]);
    let err = runner::plan(&opts).unwrap_err();
    assert!(err.to_string().contains("did you mean `b`?"), "{err}");

    opts.plan.flags = FlagSelection::Dynamic;
    opts.command.clear();
    let err = runner::run_with(&opts, &Interrupt::new(), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, RunError::EmptyCommand));

    let only_static = Fixture::new(
        "errors-static",
        "[flags.s]\ndescription = \"d\"\nowner = \"o\"\nkind = \"ops\"\nstatic = true\n",
    );
    let err = runner::plan(&only_static.options("true")).unwrap_err();
    assert!(
        matches!(err, RunError::Plan(runner::PlanError::NoFlags { .. })),
        "{err}"
    );

    let mut opts = fx.options("true");
    opts.plan.max_combinations = 3;
    let err = runner::plan(&opts).unwrap_err();
    assert!(
        err.to_string().contains("more than 3 valid combinations"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Interrupts
// ---------------------------------------------------------------------------------------

/// The third combination (a=on, b=classic) records its pid in `pid` and sleeps; the
/// others pass at once.
fn sleeper_script(fx: &Fixture) -> String {
    format!(
        r#"if [ "$FLAGS_A" = on ]; then echo $$ > "{dir}/pid.tmp"; mv "{dir}/pid.tmp" "{dir}/pid"; exec sleep 30; fi"#,
        dir = fx.dir.display()
    )
}

fn assert_partial_report(report: &RunReport, junit: &Path) {
    assert!(report.interrupted);
    assert!(!report.success());
    assert_eq!(report.exit_code(), 130);
    let got = outcomes(report);
    assert_eq!(got[0], (AB_LABELS[0].to_owned(), Outcome::Passed));
    assert_eq!(got[1], (AB_LABELS[1].to_owned(), Outcome::Passed));
    assert_eq!(got[2], (AB_LABELS[2].to_owned(), Outcome::Stopped));
    assert_eq!(
        got[3],
        (
            AB_LABELS[3].to_owned(),
            Outcome::NotRun {
                reason: NotRunReason::Interrupted
            }
        )
    );
    assert_junit_partial(junit);
}

fn assert_junit_partial(junit: &Path) {
    let xml = std::fs::read_to_string(junit).unwrap();
    let root = Xml::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(root.find_all("testcase").len(), 4);
    assert_eq!(root.find_all("skipped").len(), 2);
    assert_eq!(root.find_all("failure").len(), 0);
    assert_eq!(root.find_all("testsuite")[0].attrs["skipped"], "2");
}

#[test]
fn an_interrupt_stops_cleanly_with_a_partial_report() {
    let fx = Fixture::new("interrupt", &ab());
    let mut opts = fx.options(&sleeper_script(&fx));
    opts.junit = Some(fx.path("junit.xml"));
    let interrupt = Interrupt::new();
    let trigger = interrupt.clone();
    let pid_file = fx.path("pid");
    let watcher = std::thread::spawn(move || {
        let pid: i32 = wait_for_file(&pid_file).parse().unwrap();
        trigger.trigger();
        pid
    });
    let start = Instant::now();
    let mut out = Vec::new();
    let report = runner::run_with(&opts, &interrupt, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let sleeper = watcher.join().unwrap();
    eprintln!("the run stopped after {:?}", start.elapsed());
    // Had the sleeping command not been stopped, it would have slept its 30 s and
    // passed: the partial report's STOPPED says it was stopped.
    assert_partial_report(&report, &fx.path("junit.xml"));
    assert!(
        !process_exists(sleeper),
        "pid {sleeper} survived the interrupt"
    );
    assert!(
        out.contains("interrupted: starting no more combinations"),
        "{out}"
    );
    assert!(out.contains("STOPPED"), "{out}");
    assert!(out.contains("NOT RUN"), "{out}");
}

/// Runs the sleeper ignoring SIGTERM and sleeping an hour (so only a kill ends it),
/// interrupts it `times` times through `interrupt` once it sleeps, and returns the
/// report, how long the stop took after the interrupt, and the sleeper's pid. Fails
/// if the run has not ended after the shared deadline.
fn interrupt_sleeper(name: &str, times: usize, interrupt: Interrupt) -> (RunReport, Duration, i32) {
    let fx = Fixture::new(name, &ab());
    // Ignored signals stay ignored across exec, so `sleep` ignores SIGTERM too.
    let script = format!(
        "trap '' TERM; {}",
        sleeper_script(&fx).replace("exec sleep 30", "exec sleep 3600")
    );
    let mut opts = fx.options(&script);
    opts.junit = Some(fx.path("junit.xml"));
    let trigger = interrupt.clone();
    let pid_file = fx.path("pid");
    let watcher = std::thread::spawn(move || {
        let pid: i32 = wait_for_file(&pid_file).parse().unwrap();
        for _ in 0..times {
            trigger.trigger();
        }
        (pid, Instant::now())
    });
    let (done, finished) = mpsc::channel();
    let run = std::thread::spawn(move || {
        let report = runner::run_with(&opts, &interrupt, &mut Vec::new());
        let _ = done.send(());
        report
    });
    let (sleeper, triggered) = watcher.join().unwrap();
    if finished.recv_timeout(wait::patience()).is_err() {
        // SAFETY: plain kill(2), so that a failing test leaves no hour-long sleeper.
        unsafe { libc::kill(sleeper, libc::SIGKILL) };
        panic!(
            "the command ignoring SIGTERM still ran {:?} after the interrupt",
            wait::patience()
        );
    }
    let took = triggered.elapsed();
    eprintln!("stopped {took:?} after the interrupt");
    let report = run.join().unwrap().unwrap();
    assert_partial_report(&report, &fx.path("junit.xml"));
    assert!(
        !process_exists(sleeper),
        "pid {sleeper} survived the interrupt"
    );
    (report, took, sleeper)
}

#[test]
fn a_command_ignoring_sigterm_is_killed_after_the_grace_period() {
    // The default grace (3 s). The sleeper sleeps an hour: that the run ended at all
    // says it was killed; the lower bound says not before the grace period.
    let (_, took, _) = interrupt_sleeper("grace", 1, Interrupt::new());
    assert!(
        took >= Duration::from_millis(2500),
        "killed before the grace period: {took:?}"
    );
}

#[test]
fn a_second_interrupt_kills_at_once() {
    // A grace period of an hour: only the second interrupt can end the run before the
    // deadline.
    let interrupt = Interrupt::new().with_grace(Duration::from_secs(3600));
    let _ = interrupt_sleeper("forced", 2, interrupt);
}

#[test]
fn the_grace_period_can_be_set() {
    let grace = Duration::from_millis(1500);
    let (_, took, _) = interrupt_sleeper("own-grace", 1, Interrupt::new().with_grace(grace));
    assert!(took >= grace, "killed before the grace period: {took:?}");
}

/// Not a test: the runner process `sigint_stops_a_runner_process` starts and interrupts.
#[test]
#[ignore = "run by sigint_stops_a_runner_process"]
fn sigint_child_runner() {
    let Some(dir) = std::env::var_os("FLAGS_RUNNER_TEST_DIR") else {
        return;
    };
    let fx = Fixture {
        dir: PathBuf::from(dir),
    };
    let mut opts = fx.options(&sleeper_script(&fx));
    opts.junit = Some(fx.path("junit.xml"));
    let report = runner::run(&opts).unwrap();
    // Keep the directory for the parent to inspect.
    std::mem::forget(fx);
    std::process::exit(report.exit_code());
}

#[test]
fn sigint_stops_a_runner_process() {
    let fx = Fixture::new("sigint", &ab());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sigint_child_runner", "--ignored", "--nocapture"])
        .env("FLAGS_RUNNER_TEST_DIR", &fx.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).unwrap();
        text
    });
    let sleeper: i32 = wait_for_file(&fx.path("pid")).parse().unwrap();
    let runner_pid = i32::try_from(child.id()).unwrap();
    // SAFETY: plain kill(2) on the child started above, which has not been reaped.
    assert_eq!(unsafe { libc::kill(runner_pid, libc::SIGINT) }, 0);

    let status = wait::wait_for_exit(&mut child, "the runner after SIGINT", 1);
    let out = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{out}");
    assert!(
        !process_exists(sleeper),
        "pid {sleeper} survived the interrupt"
    );
    let table_line = |label: &str| {
        out.lines()
            .find(|l| l.ends_with(label) && !l.starts_with('['))
            .unwrap_or_else(|| panic!("no table line for {label}:\n{out}"))
            .to_owned()
    };
    assert!(table_line(AB_LABELS[0]).contains("PASS"), "{out}");
    assert!(table_line(AB_LABELS[2]).contains("STOPPED"), "{out}");
    assert!(table_line(AB_LABELS[3]).contains("NOT RUN"), "{out}");
    assert!(out.contains("interrupted:"), "{out}");
    assert_junit_partial(&fx.path("junit.xml"));
}

// ---------------------------------------------------------------------------------------
// Combinations the program could not realise
// ---------------------------------------------------------------------------------------

/// Stands in for the runtime: reports `a=on` as not realised, then passes.
const UNREALISED_A: &str = r#"if [ "$FLAGS_A" = on ]; then echo "flags.toml: flag \`a\` was set to on but is off (it requires \`z\`, which is off)" >> "$FLAGS_MATRIX_REPORT"; fi; exit 0"#;

#[test]
fn a_combination_reported_unrealised_is_never_a_pass() {
    let fx = Fixture::new("unrealised", &ab());
    let mut opts = fx.options(UNREALISED_A);
    opts.junit = Some(fx.path("junit.xml"));
    let (report, out) = run(&opts);
    let line = "flags.toml: flag `a` was set to on but is off (it requires `z`, which is off)";
    let unrealisable = Outcome::NotRealisable {
        unrealised: vec![line.to_owned()],
    };
    assert_eq!(
        outcomes(&report),
        [
            ("a=off, b=classic".to_owned(), Outcome::Passed),
            ("a=off, b=compact".to_owned(), Outcome::Passed),
            ("a=on, b=classic".to_owned(), unrealisable.clone()),
            ("a=on, b=compact".to_owned(), unrealisable),
        ]
    );
    assert_eq!(report.exit_code(), 1);
    assert_eq!(report.count("UNREALISABLE"), 2);
    assert!(
        out.contains(&format!(
            "failing combinations:\n    a=on, b=classic  (not realisable: {line})"
        )),
        "{out}"
    );
    assert!(out.contains(": 2 passed, 2 not realisable in "), "{out}");
    let log = log_of(&report, "a=on, b=classic");
    assert!(
        log.contains(&format!(
            "flags matrix: this combination was not in force:\n    {line}"
        )),
        "{log}"
    );
    let junit = std::fs::read_to_string(fx.path("junit.xml")).unwrap();
    assert_eq!(
        junit.matches("type=\"not realisable\"").count(),
        2,
        "{junit}"
    );

    // A report left by an earlier run is not read as this run's.
    let (again, out) = run(&fx.options("true"));
    assert!(again.success(), "{out}");
}
