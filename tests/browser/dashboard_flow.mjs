// Drives the regulator's dashboard in Debian's Chromium the way township
// and county staff would: logs in, reads the township table and the daily
// chart, records a patrol with a photo, previews and revokes a certificate
// and exports its recall list, imports quarantine certificates, draws a
// sampling plan and checks it against its seed, exports CSV files and looks
// at the print layout. Prints one JSON object with what it saw.
// Usage: node dashboard_flow.mjs URL DIR SERIAL   (DIR holds photo.jpg and
// quarantine.csv, and receives the screenshots and downloads)
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const [url, dir, serial] = process.argv.slice(2);
const seen = { errors: [] };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-breakpad", "--disable-crash-reporter"],
});

// The rows of a table as {key: {field: text}}.
const rows = (page, id) => page.evaluate((id) => {
  const out = {};
  for (const tr of document.querySelectorAll(`#${id} tbody tr[data-key]`)) {
    const row = {};
    for (const td of tr.querySelectorAll("td[data-field]")) row[td.dataset.field] = td.textContent.trim();
    out[tr.dataset.key] = row;
  }
  return out;
}, id);

async function open(page, name) {
  await page.evaluate(() => { document.body.dataset.loaded = ""; });
  await page.evaluate((n) => { location.hash = n; }, name);
  await page.waitForFunction((n) => [n, "error"].includes(document.body.dataset.loaded), name);
  if (await page.evaluate(() => document.body.dataset.loaded) === "error")
    throw new Error(name + ": " + await page.locator("#msg").textContent());
}

// Clicks button and answers the bytes of the file it downloads, base64.
async function download(page, button) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.locator(button).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: readFileSync(path).toString("base64") };
}

async function login(page, user) {
  await page.goto(url + "/dashboard");
  await page.locator("#login-form").waitFor();
  await page.fill("#username", user);
  await page.fill("#password", "agricert-test-pw");
  await page.click("#login-form button");
  await page.waitForFunction(() => document.body.dataset.loaded);
}

async function township(page) {
  await login(page, "fengcheng");
  seen.who = await page.locator("#who").textContent();
  await open(page, "township");
  seen.period = { from: await page.inputValue("#from"), to: await page.inputValue("#to") };
  seen.township = await rows(page, "township-table");
  await page.screenshot({ path: dir + "/dashboard-township.png" });
  await open(page, "daily");
  seen.dailySum = await page.locator("#daily-sum").getAttribute("data-certificates");
  seen.dailyBars = await page.evaluate(() => [...document.querySelectorAll("#daily-chart rect[data-key]")]
    .map((r) => [r.dataset.key, Number(r.dataset.value)]));
  await page.screenshot({ path: dir + "/dashboard-daily.png" });

  // A patrol with a photo, whose findings a spreadsheet would take for a formula.
  await open(page, "patrols");
  await page.fill("#patrol-search", "示范");
  await page.locator("#patrol-search").dispatchEvent("change");
  await page.waitForFunction(() => document.querySelectorAll("#patrol-subject option").length > 0);
  await page.check("input[name=check][value=display]");
  await page.fill("#patrol-findings", "=1+1 农药使用记录不全");
  await page.check("input[name=outcome][value=rectify]");
  await page.setInputFiles("#patrol-photos", dir + "/photo.jpg");
  await page.click("#patrol-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("msg").className.includes("ok"));
  seen.patrolMessage = await page.locator("#msg").textContent();
  seen.patrols = await rows(page, "patrols-table");
  await page.locator("#patrols-table button.link").first().click();
  await page.waitForFunction(() => { const i = document.querySelector("#patrol-photos-view img"); return i && i.naturalWidth > 0; });
  seen.photoWidth = await page.evaluate(() => document.querySelector("#patrol-photos-view img").naturalWidth);
  seen.patrolsCsv = await download(page, "[data-csv=patrols]");
  await page.screenshot({ path: dir + "/dashboard-patrols.png", fullPage: true });

  // Revocation: the preview first, then the revocation, then the recall list.
  await open(page, "revoke");
  await page.fill("#preview-serial", serial);
  await page.click("#preview-form button");
  await page.locator("#preview:not([hidden])").waitFor();
  seen.preview = { would: await page.locator("#preview").getAttribute("data-would-revoke"),
    rows: await rows(page, "preview-table") };
  await page.screenshot({ path: dir + "/dashboard-revoke-preview.png" });
  await page.fill("#revoke-reason", "快检不合格（毒死蜱）");
  await page.click("#revoke-form button");
  await page.locator("#recall:not([hidden])").waitFor();
  await page.waitForFunction(() => document.getElementById("msg").className.includes("ok"));
  seen.revokeMessage = await page.locator("#msg").textContent();
  seen.recall = await rows(page, "recall-table");
  seen.recallCsv = await download(page, "[data-local-csv=recall]");
  await page.screenshot({ path: dir + "/dashboard-recall.png", fullPage: true });
  await page.click("#logout");
  await page.locator("#login-form").waitFor();
}

async function county(page) {
  await login(page, "county");
  await open(page, "township");
  seen.countyTownship = await rows(page, "township-table");
  seen.townshipCsv = await download(page, "[data-csv=township]");

  await open(page, "quarantine");
  await page.setInputFiles("#quarantine-file", dir + "/quarantine.csv");
  await page.evaluate(() => { document.body.dataset.loaded = ""; });
  await page.click("#quarantine-form button");
  await page.waitForFunction(() => !document.getElementById("quarantine-result").hidden);
  await page.waitForFunction(() => document.body.dataset.loaded === "quarantine");
  seen.quarantineResult = await page.locator("#quarantine-result").textContent();
  seen.reconciliation = await page.evaluate(() => [...document.querySelectorAll("#reconciliation-table tbody tr[data-key]")]
    .map((tr) => tr.dataset.key));
  seen.reconciliationCsv = await download(page, "[data-csv=reconciliation]");
  await page.screenshot({ path: dir + "/dashboard-quarantine.png", fullPage: true });

  await open(page, "sampling");
  await page.selectOption("#plan-township", "350524103000");
  await page.fill("#plan-size", "2");
  await page.click("#plan-form button");
  await page.locator("#plan-view:not([hidden])").waitFor();
  seen.plan = { id: await page.locator("#plan-view").getAttribute("data-plan"), seed: await page.locator("#plan-seed").textContent(),
    picks: await page.evaluate(() => [...document.querySelectorAll("#picks-table tbody tr[data-key]")].map((tr) => tr.dataset.key)) };
  await page.click("#plan-redraw");
  await page.waitForFunction(() => document.getElementById("plan-check").dataset.matches);
  seen.redraw = { matches: await page.locator("#plan-check").getAttribute("data-matches"), text: await page.locator("#plan-check").textContent() };
  seen.planCsv = await download(page, "[data-csv=plan]");
  await page.screenshot({ path: dir + "/dashboard-sampling.png", fullPage: true });

  // The print layout: navigation and buttons gone, the section and its header kept.
  await page.emulateMedia({ media: "print" });
  seen.print = await page.evaluate(() => ({
    nav: getComputedStyle(document.getElementById("nav")).display,
    form: getComputedStyle(document.getElementById("plan-form")).display,
    head: getComputedStyle(document.getElementById("print-head")).display,
    headText: document.getElementById("print-head").textContent,
    table: getComputedStyle(document.getElementById("picks-table")).display,
  }));
  await page.screenshot({ path: dir + "/dashboard-sampling-print.png", fullPage: true });
  await page.pdf({ path: dir + "/dashboard-sampling-print.pdf", format: "A4", landscape: true });
  await page.emulateMedia({ media: "screen" });
}

try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: "zh-CN",
    timezoneId: "Asia/Shanghai", acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("dialog", (d) => d.accept());
  await township(page);
  await county(page);
} catch (e) {
  seen.error = String(e);
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
