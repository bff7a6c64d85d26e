// The admin dashboard in headless Chromium, driven by playwright-core. Run by
// tests/dashboard.rs, which starts the admin server and passes:
//   ADMIN_URL          the server's base address (http://127.0.0.1:PORT)
//   ADMIN_TOKEN        a write token (actor alice)
//   CHROMIUM           the browser executable
//   SCREENSHOT         where to save a screenshot (PNG)
//   TEST_PLAYWRIGHT_DIR  the folder whose node_modules holds playwright-core
//   TIMEOUT_MS         how long to wait for any one thing
// Exits 0 when every check passed, 1 with a message otherwise.

import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`dashboard.mjs: ${name} is not set`); process.exit(2); }
  return v;
};
const base = env("ADMIN_URL");
const token = env("ADMIN_TOKEN");
const timeout = Number(process.env.TIMEOUT_MS || "30000");
const require = createRequire(join(env("TEST_PLAYWRIGHT_DIR"), "node_modules") + "/");
const { chromium } = require("playwright-core");

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok: " + what);
}

const profile = mkdtempSync(join(tmpdir(), "flags-admin-chromium-"));
let browser;
try {
  // A fresh profile folder (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: env("CHROMIUM"),
    headless: true,
    timeout,
    viewport: { width: 1400, height: 700 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(timeout);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  let loads = 0;
  page.on("load", () => { loads += 1; });

  await page.goto(base + "/");
  const expected = (await (await fetch(base + "/flags.json")).json()).flags.map((f) => f.name);
  await page.waitForFunction((n) => document.querySelectorAll("#flags tbody tr").length === n, expected.length);
  const rows = await page.$$eval("#flags tbody tr", (trs) => trs.map((tr) => tr.dataset.flag));
  check(JSON.stringify(rows.slice().sort()) === JSON.stringify(expected.slice().sort()),
    `one row per flag (${rows.join(", ")})`);

  // A description holding markup is shown as that text, and its script never ran.
  const hostile = "<script>window.__pwned=1</script>";
  const desc = await page.textContent('tr[data-flag="beta"] td.description');
  check(desc === hostile, "the hostile description renders as text");
  check(await page.$$eval("#flags script", (s) => s.length) === 0, "no script element inside the table");
  check(await page.evaluate(() => typeof window.__pwned) === "undefined", "window.__pwned is undefined");

  // Markers: stale and expiring flags, a rolled-back rollout.
  check(await page.getAttribute('tr[data-flag="beta"]', "class") === "stale", "the stale flag is highlighted");
  check(await page.getAttribute('tr[data-flag="layout"]', "class") === "expiring", "the expiring flag is highlighted");
  await page.waitForSelector('tr[data-flag="checkout_v2"] td.rollout .tag.rolled_back');
  console.log("ok: the rolled-back rollout is marked");

  await page.waitForSelector("#sources tbody tr.failing .tag.failing");
  check(await page.$$eval("#sources tbody tr.failing", (trs) => trs.length) === 1, "the failing source is marked");

  const valueOf = (flag) => page.textContent(`tr[data-flag="${flag}"] td.value`);
  check(await valueOf("beta") === "off", "beta starts off");

  // A write from the page without a token is refused, and shown as refused.
  await page.click('tr[data-flag="beta"] button:text-is("on")');
  await page.waitForFunction(() => /refused \(401\)/.test(document.querySelector("#message").textContent));
  check(await valueOf("beta") === "off", "a write without the token changed nothing");

  // A write through the API shows up in the page without a reload.
  await page.evaluate(() => { window.__sameDocument = true; });
  const res = await fetch(base + "/api/flags/beta/override", {
    method: "POST",
    headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
    body: JSON.stringify({ value: true, reason: "browser test" }),
  });
  check(res.status === 200, "the API accepts the write with the token");
  await page.waitForFunction(() =>
    document.querySelector('tr[data-flag="beta"] td.value').textContent === "on");
  check(await page.evaluate(() => window.__sameDocument === true) && loads === 1,
    "the page shows the new value without a reload");

  // The page's own controls, with the token pasted in.
  await page.fill("#token", token);
  await page.selectOption('tr[data-flag="layout"] select.variant', "compact");
  await page.click('tr[data-flag="layout"] button:text-is("set")');
  await page.waitForFunction(() =>
    document.querySelector('tr[data-flag="layout"] td.value').textContent === "compact");
  console.log("ok: a write from the page with the token applies");

  // Sorting and filtering.
  await page.click('#flags th[data-key="name"]');
  const sorted = await page.$$eval("#flags tbody tr", (trs) => trs.map((tr) => tr.dataset.flag));
  check(JSON.stringify(sorted) === JSON.stringify(expected.slice().sort().reverse()),
    `clicking the sorted column reverses the order (${sorted.join(", ")})`);
  await page.fill("#filter", "payments");
  const shown = await page.$$eval("#flags tbody tr:not([hidden])", (trs) => trs.map((tr) => tr.dataset.flag));
  check(JSON.stringify(shown) === JSON.stringify(["checkout_v2"]), "the filter keeps matching rows only");
  await page.fill("#filter", "");

  check(errors.length === 0, "no script error in the page: " + errors.join("; "));
  await page.screenshot({ path: env("SCREENSHOT"), fullPage: true });
  console.log("screenshot: " + env("SCREENSHOT"));
} catch (e) {
  console.error(String(e && e.stack || e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
