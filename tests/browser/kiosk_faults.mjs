// Printer faults in the kiosk page (Debian's Chromium): a farmer logs in,
// then issues one label per fault through the touch screen while
// test_kiosk_faults.py breaks the printer. Talks to it in lines: prints
// {"step": ...} as JSON and waits for a line on stdin before going on; the
// last line printed is what it saw. Usage: node kiosk_faults.mjs URL DEVICE SHOT_DIR FAULT...
import readline from "node:readline";
import { chromium } from "playwright-core";

const [url, device, shots, ...faults] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ask = async (step, data = {}) => {
  console.log(JSON.stringify({ step, ...data }));
  return (await lines.next()).value;
};
const seen = { faults: {} };
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-breakpad", "--disable-crash-reporter"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 }, hasTouch: true });
  const tap = (sel, text) => page.locator(sel).filter({ hasText: new RegExp("^" + text + "$") }).first().tap();
  const printState = () => page.evaluate(() => {
    const e = document.getElementById("print-state");
    return { state: e.dataset.state || "", fault: e.dataset.fault || "", text: e.textContent };
  });
  await page.goto(url + "/kiosk.html#device=" + device);
  await page.locator("#s-login.on").waitFor();
  for (const d of "13859001234") await tap("#login-keys button", d);
  for (const d of "246810") await tap("#login-keys button", d);
  await page.locator("#login-go").tap();
  await page.locator("#s-product.on").waitFor();

  for (const fault of faults) {
    await ask("break", { fault });
    await tap("#products .choice", "豇豆");
    await page.locator("#s-qty.on").waitFor();
    for (const d of "5") await tap("#qty-keys button", d);
    await page.locator("#qty-go").tap();
    await page.locator("#s-basis.on").waitFor();
    await tap("[data-basis]", "质量安全控制符合要求");
    await page.locator("#s-confirm.on").waitFor();
    await page.locator("#print").tap();
    await page.waitForFunction(() => document.getElementById("print-state").dataset.number, null,
      { timeout: 30000 });
    await ask("issued", { fault });
    // The page polls the job; the fault must show within seconds.
    await page.waitForFunction((f) => document.getElementById("print-state").dataset.fault === f,
      fault, { timeout: 20000 }).catch(() => {});
    const shown = await printState();
    await page.screenshot({ path: `${shots}/kiosk-fault-${fault}.png` });
    await ask("repair", { fault });
    await page.waitForFunction(() => ["completed", "failed", "canceled"].includes(
      document.getElementById("print-state").dataset.state), null, { timeout: 60000 }).catch(() => {});
    seen.faults[fault] = { shown, after: await printState() };
    await page.locator("#again").tap();
    await page.locator("#s-product.on").waitFor();
  }
} catch (e) {
  seen.error = String(e);
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
