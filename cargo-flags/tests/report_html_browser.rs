//! The HTML report in a real browser: headless Chromium loads the page, runs its
//! inline script, and `--dump-dom` shows the resulting document. Checks that the page
//! loads, has one row per flag, keeps the manifest's `<script>` as text, and that
//! sorting (by `#sort=` in the address and by clicking headers) reorders the rows.
//!
//! Needs Chromium (`apt-get install -y chromium`). Without it the tests print
//! "skipped: ..." and pass, unless `TEST_REQUIRE_SERVICES=1` (set by `scripts/test.sh`,
//! which installs Chromium) makes them mandatory.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{TODAY, TempDir, run};
use flags_test_support::{service, wait};

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "CHROMIUM={} is not a file", path.display());
        return Some(path);
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let mut dirs: Vec<PathBuf> = vec![PathBuf::from("/usr/bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// The browser, or `None` (after saying so) when it is absent and not required.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = find_chromium() {
        return Some(path);
    }
    service::absent(
        "headless Chromium (looked for chromium, chromium-browser, google-chrome in \
         /usr/bin and PATH, and $CHROMIUM)",
        "`apt-get install -y chromium` (or set CHROMIUM to the browser)",
    );
    None
}

/// Loads `url` headless and returns the DOM after the page's scripts ran.
fn dump_dom(browser: &Path, url: &str) -> String {
    let profile = TempDir::new("chromium-profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", browser.display()));
    // Read both pipes while the browser runs, so a large page cannot fill a pipe and
    // stall it.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    // A browser start on a loaded machine can take long: three times the deadline.
    let status = wait::wait_for_exit(&mut child, &format!("chromium loading {url}"), 3);
    let stdout = stdout.join().expect("reading chromium's output");
    let stderr = stderr.join().expect("reading chromium's errors");
    assert!(
        status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&stderr)
    );
    let dom = String::from_utf8(stdout).expect("UTF-8 DOM");
    assert!(
        dom.contains("</html>"),
        "no document dumped for {url}: {dom}"
    );
    dom
}

/// The flag names of the table's rows, in document order.
fn row_order(dom: &str) -> Vec<String> {
    dom.split("<tr id=\"flag-")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

fn body_attr(dom: &str, name: &str) -> Option<String> {
    let body = &dom[dom.find("<body")?..];
    let tag = &body[..body.find('>')?];
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(tag[start..].split('"').next()?.to_owned())
}

/// A report of the shop fixture written by the CLI, and its file URL.
fn report() -> (TempDir, String) {
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
            "report.html",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let url = format!("file://{}", shop.join("report.html").display());
    (shop, url)
}

const MANIFEST_ORDER: [&str; 6] = [
    "search_v2",
    "checkout_layout",
    "old_banner",
    "new_index",
    "payments_kill",
    "dark_mode",
];
const BY_OWNER: [&str; 6] = [
    "checkout_layout", // checkout-team
    "dark_mode",       // design
    "old_banner",      // growth
    "payments_kill",   // payments
    "new_index",       // search-team (ties sort by name)
    "search_v2",       // search-team
];
const BY_EXPIRY: [&str; 6] = [
    "old_banner",      // 2026-01-31, stale
    "checkout_layout", // 2026-06-10, soon
    "search_v2",       // 2099-01-31
    "dark_mode",       // permanent flags last, by name
    "new_index",
    "payments_kill",
];

#[test]
fn loads_with_one_row_per_flag_and_the_manifest_text_escaped() {
    let Some(browser) = chromium() else { return };
    let (_shop, url) = report();
    let dom = dump_dom(&browser, &url);
    assert_eq!(row_order(&dom), MANIFEST_ORDER);
    assert!(dom.contains("<title>Feature flags — flags.toml</title>"));
    assert!(dom.contains("<strong>6 flags</strong>, <span class=\"stale\">1 stale</span>, <span class=\"soon\">1 expiring soon</span>"));
    // The description's <script> stayed text: it did not run and is shown escaped.
    assert_eq!(
        body_attr(&dom, "data-pwned"),
        None,
        "the manifest's script ran"
    );
    assert!(dom.contains(
        "Holiday banner &lt;script&gt;document.body.dataset.pwned = 'yes'&lt;/script&gt;"
    ));
    assert_eq!(
        body_attr(&dom, "data-sorted"),
        None,
        "nothing sorted without a request"
    );
}

#[test]
fn address_fragment_sorts_by_owner_expiry_and_name() {
    let Some(browser) = chromium() else { return };
    let (_shop, url) = report();

    let dom = dump_dom(&browser, &format!("{url}#sort=owner"));
    assert_eq!(
        body_attr(&dom, "data-sorted").as_deref(),
        Some("owner"),
        "the sort script ran"
    );
    assert_eq!(row_order(&dom), BY_OWNER);
    assert!(dom.contains("data-sort=\"owner\" aria-sort=\"ascending\""));

    let dom = dump_dom(&browser, &format!("{url}#sort=expiry"));
    assert_eq!(row_order(&dom), BY_EXPIRY);

    let dom = dump_dom(&browser, &format!("{url}#sort=-expiry"));
    let mut descending = vec!["dark_mode", "new_index", "payments_kill"];
    descending.extend(["search_v2", "checkout_layout", "old_banner"]);
    assert_eq!(row_order(&dom), descending);

    let dom = dump_dom(&browser, &format!("{url}#sort=name"));
    let mut by_name = MANIFEST_ORDER.to_vec();
    by_name.sort_unstable();
    assert_eq!(row_order(&dom), by_name);

    // An unknown column leaves the page as it is.
    let dom = dump_dom(&browser, &format!("{url}#sort=nonsense"));
    assert_eq!(row_order(&dom), MANIFEST_ORDER);
}

#[test]
fn clicking_headers_sorts_and_toggles_direction() {
    let Some(browser) = chromium() else { return };
    let (shop, _) = report();
    // Drive the page like a person: click Owner twice, then Expires, recording the
    // row order after each click.
    let clicks = r##"<script>
const order = () => [...document.querySelectorAll("#flags tbody tr")].map((r) => r.dataset.name).join(",");
const click = (key) => document.querySelector(`th[data-sort="${key}"] button`).click();
const seen = [];
click("owner"); seen.push(order());
click("owner"); seen.push(order());
click("expiry"); seen.push(order());
document.body.dataset.clicks = seen.join("|");
</script>
</body>"##;
    let html = shop.read("report.html").replace("</body>", clicks);
    shop.write("clicks.html", &html);
    let dom = dump_dom(
        &browser,
        &format!("file://{}", shop.join("clicks.html").display()),
    );
    let recorded = body_attr(&dom, "data-clicks").expect("the click script ran");
    let orders: Vec<Vec<&str>> = recorded
        .split('|')
        .map(|o| o.split(',').collect())
        .collect();
    let mut owner_descending = vec!["new_index", "search_v2", "payments_kill"];
    owner_descending.extend(["old_banner", "dark_mode", "checkout_layout"]);
    assert_eq!(
        orders,
        [BY_OWNER.to_vec(), owner_descending, BY_EXPIRY.to_vec()]
    );
    assert!(dom.contains("data-sort=\"expiry\" aria-sort=\"ascending\""));
    assert!(dom.contains("data-sort=\"owner\" aria-sort=\"none\""));
}
