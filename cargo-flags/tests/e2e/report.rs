//! `cargo flags report` (the HTML page's behaviour in a browser is tested in
//! `tests/report_html_browser.rs`).

use crate::common::{TODAY, TempDir, run};

#[test]
fn markdown_has_one_row_per_flag_with_state_expiry_and_references() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &["flags", "report", "--today", TODAY, "--state", "state.toml"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let md = &r.stdout;
    assert!(md.starts_with("# Feature flags\n\nManifest `flags.toml` · state `state.toml` · references in `.` · as of 2026-06-01\n\n**6 flags, 1 stale, 1 expiring soon**\n"), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| `")).collect();
    assert_eq!(
        rows,
        [
            "| `search_v2` | New search ranking | search-team | release | active | 🟢 2099-01-31 (fine: in 26542 days) | off | rollout 25% by key <sub>(state.toml)</sub> | — | 2 |",
            "| `checkout_layout` | Which checkout page layout to show | checkout-team | experiment | active | 🟡 2026-06-10 (expiring soon: in 9 days) | classic | fixed: two-col <sub>(state.toml)</sub> | — | 4 |",
            "| `old_banner` | Holiday banner &lt;script&gt;document.body.dataset.pwned = 'yes'&lt;/script&gt; | growth | release | active | 🔴 2026-01-31 (stale: 121 days ago) | off | killed (kill switch) <sub>(state.toml)</sub> | — | 1 |",
            "| `new_index` | Serve search from the new index | search-team | ops | active | ⚪ permanent | off | default (off) <sub>(default)</sub> | — | 1 |",
            "| `payments_kill` | Kill switch for the payment provider | payments | ops | active | ⚪ permanent | off | default (off) <sub>(default)</sub> | — | 0 |",
            "| `dark_mode` | Dark theme for everyone | design | permission | active | ⚪ permanent | off | static: off (fixed at build time) <sub>(flags.toml)</sub> | — | 1 |",
        ]
    );
    assert!(!md.contains("<script>"));
    assert!(md.contains("2 reference(s) to flags that are not declared"));
    assert!(
        md.contains("\n## Retirement candidates\n\n- `old_banner`: stale: expired on 2026-01-31 (121 days ago) (`cargo flags retire old_banner --keep on|off`)\n"),
        "{md}"
    );
}

#[test]
fn without_a_state_file_the_manifest_decides() {
    let shop = TempDir::fixture("shop");
    let r = run(&shop.path, &["report", "--today", TODAY]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("| `search_v2` | New search ranking | search-team | release | active | 🟢 2099-01-31 (fine: in 26542 days) | off | default (off) <sub>(default)</sub> | — | 2 |"), "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("# Feature flags\n\nManifest `flags.toml` · references in `.`")
    );
}

#[test]
fn html_is_self_contained_escaped_and_sortable() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &[
            "report",
            "--today",
            TODAY,
            "--state",
            "state.toml",
            "--out",
            "flags.html",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "", "the page goes to the file");
    assert_eq!(
        r.stderr.trim(),
        "report: wrote flags.html (6 flags, 1 stale, 1 expiring soon)"
    );
    let html = shop.read("flags.html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    // No external assets: nothing is loaded from anywhere.
    for external in ["src=", "href=", "http:", "https:", "@import", "url("] {
        assert!(!html.contains(external), "found {external}");
    }
    // Exactly our one inline script; the manifest's <script> is text.
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(html.contains(
        "Holiday banner &lt;script&gt;document.body.dataset.pwned = &#39;yes&#39;&lt;/script&gt;"
    ));
    assert_eq!(html.matches("<tr id=\"flag-").count(), 6);
    assert!(html.contains("<strong>6 flags</strong>, <span class=\"stale\">1 stale</span>, <span class=\"soon\">1 expiring soon</span>"));
    for key in ["name", "owner", "expiry"] {
        assert!(
            html.contains(&format!("data-sort=\"{key}\"")),
            "{key} is sortable"
        );
    }
    assert!(html.contains("data-name=\"old_banner\" data-owner=\"growth\" data-kind=\"release\" data-lifecycle=\"active\" data-expiry=\"2026-01-31\" data-refs=\"1\" class=\"expiry-stale\""));
    assert!(html.contains("<span class=\"badge soon\">expiring soon</span> <time datetime=\"2026-06-10\">2026-06-10</time>"));
}

#[test]
fn explicit_format_wins_over_the_extension() {
    let shop = TempDir::fixture("shop");
    let r = run(
        &shop.path,
        &[
            "report",
            "--today",
            TODAY,
            "--format",
            "md",
            "--out",
            "flags.html",
        ],
    );
    assert_eq!(r.code, 0);
    assert!(shop.read("flags.html").starts_with("# Feature flags"));
    let r = run(
        &shop.path,
        &["report", "--today", TODAY, "--format", "html"],
    );
    assert!(r.stdout.starts_with("<!DOCTYPE html>"));
}

#[test]
fn a_bad_state_file_is_reported_with_its_position() {
    let shop = TempDir::fixture("shop");
    shop.write("state.toml", "[flags.serch_v2]\nvalue = true\n");
    let r = run(
        &shop.path,
        &["report", "--state", "state.toml", "--today", TODAY],
    );
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr.trim(),
        "error: state.toml:1:8: `flags.serch_v2`: no flag `serch_v2` is declared in the manifest (help: did you mean `search_v2`?)"
    );
    let r = run(&shop.path, &["report", "--state", "missing.toml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: cannot read missing.toml: "),
        "{}",
        r.stderr
    );
}
