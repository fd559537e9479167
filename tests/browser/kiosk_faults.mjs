// Printer faults in the kiosk page (Debian's Chromium): a farmer logs in,
// then issues one label per fault through the touch screen while
// test_kiosk_faults.py breaks the printer. Talks to it in lines: prints
// {"step": ...} as JSON and waits for a line on stdin before going on; the
// last line printed is what it saw. Usage: node kiosk_faults.mjs URL DEVICE SHOT_DIR FAULT...
import readline from "node:readline";
import { kiosk, launch } from "./kiosk_lib.mjs";

const [url, device, shots, ...faults] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const ask = async (step, data = {}) => {
  console.log(JSON.stringify({ step, ...data }));
  return (await lines.next()).value;
};
const seen = { faults: {} };
const { browser, page } = await launch(url);
const k = kiosk(page, shots, seen);
try {
  const printState = () => page.evaluate(() => {
    const e = document.getElementById("print-state");
    const todo = document.getElementById("print-todo").textContent;
    return { state: e.dataset.state || "", fault: e.dataset.fault || "", text: e.textContent + " " + todo };
  });
  await page.goto(url + "/kiosk.html#device=" + device);
  await k.on("s-login");
  await k.login("13859001234", "246810");
  await k.menu("开合格证");
  await k.on("s-category");

  for (const fault of faults) {
    await ask("break", { fault });
    await page.locator("#categories .choice", { hasText: "蔬菜" }).tap();
    await k.on("s-product");
    await k.tap("#products .choice", "豇豆");
    await k.on("s-qty");
    await k.keys("qty-keys", "5");
    await page.locator("#qty-go").tap();
    await k.on("s-basis");
    await page.locator('[data-basis="quality_control"]').tap();
    await k.on("s-labels");
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
    await k.printed(60000).catch(() => {});
    seen.faults[fault] = { shown, after: await printState() };
    await page.locator("#again").tap();
    await k.on("s-category");
  }
} catch (e) {
  seen.error = String(e);
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
