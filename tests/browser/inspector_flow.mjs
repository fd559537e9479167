// Drives the inspector's phone page (/inspect) in Debian's Chromium at
// 360×740 as a market inspector would: logs in, scans a printed label (the
// label's image handed to the page's camera decoder), a tampered code and a
// revoked one; reports unlicensed produce; then with the network cut opens
// the page again, checks the same three from the stored trust bundle,
// records a market check that waits in the queue and is sent when the
// network is back. Prints one JSON object with what it saw.
// Usage: node inspector_flow.mjs URL SHOT_DIR ARGS_JSON
// ARGS_JSON: {label_png, genuine, tampered, revoked, market, api_token}
import fs from "node:fs";
import { chromium } from "playwright-core";

process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = "1";
const [url, shots, argsFile] = process.argv.slice(2);
const args = JSON.parse(fs.readFileSync(argsFile, "utf8"));
const label = "data:image/png;base64," + fs.readFileSync(args.label_png).toString("base64");
const seen = { transfers: [] };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-breakpad", "--disable-crash-reporter"],
});

// Bytes on the wire, by phase: every response that came from the network
// (not from the service worker), the service worker's own fetches included.
let phase = "first";
const bytes = {};
function track(context) {
  context.on("requestfinished", async (req) => {
    const resp = await req.response();
    if (!resp || resp.fromServiceWorker()) return;
    const s = await req.sizes();
    const n = s.responseBodySize + s.responseHeadersSize;
    bytes[phase] = (bytes[phase] || 0) + n;
    seen.transfers.push([phase, new URL(req.url()).pathname, n, req.serviceWorker() ? "sw" : "page"]);
  });
}

async function inspections() {
  const r = await fetch(url + "/api/v1/inspections", { headers: { Authorization: "Bearer " + args.api_token } });
  return (await r.json()).inspections.length;
}

try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true,
    isMobile: true, deviceScaleFactor: 1, locale: "zh-CN" });
  track(context);
  const page = await context.newPage();
  const verdict = async (status, offline) => {
    const sel = `#verdict .verdict[data-status="${status}"][data-offline="${offline ? 1 : 0}"]`;
    await page.locator(sel).waitFor({ timeout: 20000 });
    return page.locator("#verdict").innerText();
  };
  const type = async (text) => {
    await page.locator("#code").fill(text);
    await page.locator("#code-go").tap();
  };

  // First load: the login screen, the service worker installed.
  await page.goto(url + "/inspect");
  await page.locator("#s-login.on").waitFor();
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForLoadState("networkidle");
  await page.waitForTimeout(500);
  seen.firstLoadBytes = bytes.first || 0;
  seen.path = new URL(page.url()).pathname;
  await page.screenshot({ path: shots + "/inspect-login.png" });

  phase = "after-login";
  await page.locator("#user").fill("inspector");
  await page.locator("#pass").fill("wrong-password");
  await page.locator("#login-go").tap();
  await page.locator("#msg.on.err").waitFor();
  seen.wrongPassword = await page.locator("#msg").innerText();
  await page.locator("#pass").fill("agricert-demo");
  await page.locator("#login-go").tap();
  await page.locator("#s-check.on").waitFor();
  await page.waitForFunction(() => /第 \d+ 版/.test(document.getElementById("bundle-info").textContent));
  seen.bundleInfo = await page.locator("#bundle-info").innerText();
  await page.locator("#market").selectOption(String(args.market));
  await page.waitForFunction(() => document.querySelectorAll("#stalls option").length > 0);
  seen.stalls = await page.locator("#stalls option").count();
  await page.locator("#stall").fill("A01 林记蔬菜");

  // Online: the service's verdicts.
  seen.decoded = await page.evaluate((img) => window.agricertInspect.scanImage(img), label);
  seen.online = { genuine: await verdict("valid", false) };
  await page.screenshot({ path: shots + "/inspect-genuine.png", fullPage: true });
  await type(args.tampered);
  seen.online.tampered = await verdict("bad_signature", false);
  await page.screenshot({ path: shots + "/inspect-tampered.png", fullPage: true });
  await type(args.revoked);
  seen.online.revoked = await verdict("revoked", false);
  await page.screenshot({ path: shots + "/inspect-revoked.png", fullPage: true });
  await page.locator("#clear").tap();

  // Unlicensed produce, online.
  await page.locator('nav button[data-go="s-report"]').tap();
  await page.locator("#r-product").selectOption("豇豆");
  await page.locator("#r-seller").fill("流动摊贩");
  await page.locator("#r-qty").fill("15");
  await page.locator("#r-go").tap();
  await page.waitForFunction(() => /已记录|已保存/.test(document.getElementById("msg").textContent));
  seen.report = await page.locator("#msg").innerText();
  await page.screenshot({ path: shots + "/inspect-report.png" });
  await page.locator('nav button[data-go="s-check"]').tap();

  // What this browser needs offline is kept (jsQR: no BarcodeDetector here).
  await page.waitForFunction(async () => navigator.serviceWorker.controller &&
    (await caches.match("/vendor/jsqr/jsQR.js")) && (await caches.match("/inspect/app.js")), null,
  { timeout: 30000 });
  seen.afterLoginBytes = bytes["after-login"] || 0;

  // Offline: the page opens from the service worker, judges from the bundle.
  phase = "offline";
  await context.setOffline(true);
  await page.reload();
  await page.locator("#s-check.on").waitFor();
  await page.waitForFunction(() => /第 \d+ 版/.test(document.getElementById("bundle-info").textContent));
  seen.netLabel = await page.locator("#net").innerText();
  seen.marketKept = await page.locator("#market").inputValue();
  await page.locator("#stall").fill("A02 陈氏豆类");
  await page.evaluate((img) => window.agricertInspect.scanImage(img), label);
  seen.offline = { genuine: await verdict("valid", true) };
  await page.screenshot({ path: shots + "/inspect-offline-genuine.png", fullPage: true });
  await type(args.tampered);
  seen.offline.tampered = await verdict("bad_signature", true);
  await type(args.revoked);
  seen.offline.revoked = await verdict("revoked", true);
  await page.screenshot({ path: shots + "/inspect-offline-revoked.png", fullPage: true });
  seen.labelsListed = await page.locator("#labels li").count();
  await page.locator("#submit").tap();
  await page.waitForFunction(() => /上传|已记录/.test(document.getElementById("msg").textContent));
  seen.queuedMessage = await page.locator("#msg").innerText();
  seen.inspectionsWhileOffline = await inspections();
  await page.locator('nav button[data-go="s-queue"]').tap();
  seen.queueWhileOffline = await page.locator("#q-title").innerText();
  await page.screenshot({ path: shots + "/inspect-queued.png" });

  // The network is back: the queue is sent, once.
  await context.setOffline(false);
  await page.locator('#queue li[data-state="sent"]').waitFor({ timeout: 30000 });
  seen.queueAfter = await page.locator("#queue").innerText();
  await page.screenshot({ path: shots + "/inspect-sent.png" });
  await page.evaluate(() => window.agricertInspect.flush());
  await page.reload();
  await page.locator("#s-check.on").waitFor();
  await page.waitForTimeout(1000);
  seen.inspectionsAfter = await inspections();

  // Offline with no session left (a staff session lasts 8 hours): the page
  // still opens and verifies; only uploading waits for a login.
  await page.evaluate(() => localStorage.removeItem("agricert-inspect-session"));
  await context.setOffline(true);
  await page.reload();
  await page.locator("#s-check.on").waitFor();
  await type(args.revoked);
  seen.noSession = await verdict("revoked", true);
  await context.setOffline(false);
  await page.locator("#s-login.on").waitFor();
  seen.bytes = bytes;
} catch (e) {
  seen.error = String(e && e.stack || e);
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
