//! `cargo flags refs` on a generated tree of 10,000 Rust files (100 crates of 100
//! modules, ~80 lines each, 50 flags): checks every count exactly and measures the
//! wall time of the whole command, with one thread and with one per core.
//!
//! Run with `--nocapture` to see the timings. They are printed, not asserted: a
//! loaded CI machine makes any time budget either meaningless or flaky.

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use common::{TempDir, run};

const CRATES: usize = 100;
const MODULES: usize = 100;
const FLAGS: usize = 50;
/// Flags 0..40 are on/off, 40..45 have variants, 45..50 are never referenced.
const BOOL_FLAGS: usize = 40;
const VARIANT_FLAGS: usize = 5;

fn manifest() -> String {
    let mut m = String::from("[settings]\nwarn_ahead_days = 14\n");
    for i in 0..FLAGS {
        write!(m, "\n[flags.flag_{i:02}]\ndescription = \"Generated flag {i}\"\nowner = \"team-{}\"\nkind = \"ops\"\n", i % 7).unwrap();
        if (BOOL_FLAGS..BOOL_FLAGS + VARIANT_FLAGS).contains(&i) {
            m.push_str("variants = [\"alpha\", \"beta\", \"gamma\"]\ndefault = \"alpha\"\n");
        }
    }
    m
}

fn camel(i: usize) -> String {
    format!("Flag{i:02}")
}

/// One module's source, and what it refers to: (flag index, how many times).
fn module(n: usize, counts: &mut [usize], unknown: &mut usize) -> String {
    let f = n % BOOL_FLAGS;
    let mut s = String::new();
    writeln!(
        s,
        "//! Generated module {n}: realistic code around flag uses."
    )
    .unwrap();
    writeln!(
        s,
        "//! Mentions in docs do not count: flags::flag_45(), flags::FLAG_46."
    )
    .unwrap();
    s.push_str("use std::collections::HashMap;\nuse std::fmt;\n\nuse crate::flags;\n\n");
    writeln!(s, "/// An order line.\n#[derive(Clone, Debug, PartialEq)]\npub struct Line{n} {{\n    pub sku: String,\n    pub quantity: u32,\n    pub price_cents: u64,\n    pub tags: Vec<String>,\n}}\n").unwrap();
    writeln!(s, "impl fmt::Display for Line{n} {{\n    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {{\n        write!(f, \"{{}} x{{}} @ {{}}\", self.sku, self.quantity, self.price_cents)\n    }}\n}}\n").unwrap();
    writeln!(s, "pub trait Priced {{\n    fn total(&self) -> u64;\n    fn discounted(&self, pct: u8) -> u64 {{\n        self.total() * u64::from(100 - pct.min(100)) / 100\n    }}\n}}\n").unwrap();
    writeln!(s, "impl Priced for Line{n} {{\n    fn total(&self) -> u64 {{\n        u64::from(self.quantity) * self.price_cents\n    }}\n}}\n").unwrap();
    writeln!(
        s,
        "pub fn summarize<T: Priced + fmt::Debug>(items: &[T]) -> HashMap<&'static str, u64> {{"
    )
    .unwrap();
    s.push_str("    let mut out = HashMap::new();\n    let total: u64 = items.iter().map(Priced::total).sum();\n    out.insert(\"total\", total);\n");
    writeln!(s, "    if flags::flag_{f:02}() {{\n        out.insert(\"discounted\", items.iter().map(|i| i.discounted(10)).sum());\n    }}").unwrap();
    counts[f] += 1;
    s.push_str("    let label = \"flags::flag_47() in a string does not count\";\n    let _ = label.len();\n    out\n}\n\n");
    if n.is_multiple_of(7) {
        let h = (n / 7) % BOOL_FLAGS;
        writeln!(s, "pub fn gated(ctx: &Context) -> bool {{\n    // flags::FLAG_48 in a comment does not count\n    flags::FLAG_{h:02}.get_for(ctx) && ctx.user.len() > 3\n}}\n").unwrap();
        counts[h] += 1;
        s.push_str("pub struct Context {\n    pub user: String,\n}\n\n");
    }
    if n.is_multiple_of(50) {
        let v = BOOL_FLAGS + (n / 50) % VARIANT_FLAGS;
        let e = camel(v);
        writeln!(s, "pub fn layout() -> &'static str {{\n    match flags::flag_{v:02}() {{\n        flags::{e}::Alpha => \"a\",\n        flags::{e}::Beta => \"b\",\n        _ => \"c\",\n    }}\n}}\n").unwrap();
        counts[v] += 3;
    }
    if n.is_multiple_of(1000) {
        writeln!(
            s,
            "pub fn removed() -> bool {{\n    flags::gone_{}()\n}}\n",
            n / 1000
        )
        .unwrap();
        *unknown += 1;
    }
    writeln!(s, "#[cfg(test)]\nmod tests {{\n    use super::*;\n\n    #[test]\n    fn totals() {{\n        let l = Line{n} {{ sku: \"a\".into(), quantity: 2, price_cents: 150, tags: vec![] }};\n        assert_eq!(l.total(), 300);\n        assert_eq!(l.discounted(50), 150);\n        assert!(format!(\"{{l}}\").starts_with(\"a x2\"));\n    }}\n}}").unwrap();
    s
}

/// CPU seconds used so far by this process's waited-for children (Linux; `None`
/// elsewhere), so the measurement can be read apart from the load of a shared machine.
fn children_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(") ")?.1.split(' ').collect();
    // cutime and cstime, fields 16 and 17 of proc(5), in USER_HZ (100 on Linux).
    let ticks = fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn seconds(cpu: Option<f64>) -> String {
    cpu.map_or_else(|| "unmeasured".to_owned(), |s| format!("{s:.2}s"))
}

/// Runs `refs --format json`; returns the document, wall time and CPU seconds.
fn timed_refs(
    dir: &std::path::Path,
    jobs: Option<&str>,
) -> (serde_json::Value, Duration, Option<f64>) {
    let mut args = vec!["refs", "--format", "json"];
    if let Some(j) = jobs {
        args.extend(["--jobs", j]);
    }
    let cpu_before = children_cpu();
    let started = Instant::now();
    let r = run(dir, &args);
    let wall = started.elapsed();
    let cpu = children_cpu()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    assert_eq!(
        r.code, 2,
        "the generated tree refers to removed flags: {}",
        r.stderr
    );
    (r.json(), wall, cpu)
}

#[test]
fn ten_thousand_files() {
    // FLAGS_SCALE_DIR keeps the generated tree there (for profiling by hand).
    let kept = std::env::var_os("FLAGS_SCALE_DIR").map(std::path::PathBuf::from);
    let tree = match &kept {
        Some(dir) => {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir).unwrap();
            TempDir { path: dir.clone() }
        }
        None => TempDir::new("scale"),
    };
    tree.write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    tree.write("flags.toml", &manifest());
    let mut counts = vec![0usize; FLAGS];
    let mut unknown = 0;
    let generating = Instant::now();
    let mut bytes = 0;
    for c in 0..CRATES {
        for m in 0..MODULES {
            let n = c * MODULES + m;
            let src = module(n, &mut counts, &mut unknown);
            bytes += src.len();
            tree.write(&format!("crates/c{c:02}/src/m{m:02}.rs"), &src);
        }
    }
    eprintln!(
        "generated {} files ({:.1} MB) in {:?}",
        CRATES * MODULES,
        bytes as f64 / 1e6,
        generating.elapsed()
    );

    let (doc, wall, cpu) = timed_refs(&tree.path, None);
    eprintln!(
        "refs on 10,000 files, {} threads: {wall:.2?} wall, {} CPU (scan {} ms)",
        doc["threads"],
        seconds(cpu),
        doc["elapsed_ms"]
    );
    let mut runs = vec![doc.clone()];
    // The one-thread comparison doubles the test's time; only in optimised builds.
    if !cfg!(debug_assertions) {
        let (single, wall, cpu) = timed_refs(&tree.path, Some("1"));
        eprintln!(
            "refs on 10,000 files, 1 thread: {wall:.2?} wall, {} CPU (scan {} ms)",
            seconds(cpu),
            single["elapsed_ms"]
        );
        assert_eq!(
            single["flags"], doc["flags"],
            "threads do not change the result"
        );
        runs.push(single);
    }

    let expected: Vec<u64> = counts.iter().map(|c| *c as u64).collect();
    let unused: Vec<String> = (BOOL_FLAGS + VARIANT_FLAGS..FLAGS)
        .map(|i| format!("flag_{i:02}"))
        .collect();
    for d in &runs {
        assert_eq!(d["files_scanned"], 10_000);
        assert_eq!(d["skipped"], serde_json::json!([]));
        let found: Vec<u64> = d["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["count"].as_u64().unwrap())
            .collect();
        assert_eq!(found, expected);
        assert_eq!(d["unused"], serde_json::json!(unused));
        assert_eq!(d["unknown"].as_array().unwrap().len(), unknown);
    }

    // The times are printed above, not asserted: on a loaded machine any bound is
    // either loose enough to prove nothing or tight enough to fail for no reason.
    if kept.is_some() {
        std::mem::forget(tree);
    }
}
