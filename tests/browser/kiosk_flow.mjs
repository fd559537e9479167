// Drives the kiosk page in Debian's Chromium the way a farmer would: taps
// the phone number and PIN on the keypad, a product, the quantity, the basis,
// three labels, print; waits for the printer; logs out. Prints one JSON
// object with what it saw. Usage: node kiosk_flow.mjs URL DEVICE_TOKEN SHOT_DIR
import { chromium } from "playwright-core";

const [url, device, shots] = process.argv.slice(2);
const seen = {};
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-breakpad", "--disable-crash-reporter"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1024, height: 768 }, hasTouch: true });
  const tap = (sel, text) => page.locator(sel).filter({ hasText: new RegExp("^" + text + "$") }).first().tap();
  await page.goto(url + "/kiosk.html#device=" + device);
  await page.locator("#s-login.on").waitFor();
  seen.deviceKept = await page.evaluate(() => localStorage.getItem("agricert-device") !== null && !location.hash);
  await page.screenshot({ path: shots + "/kiosk-login.png" });

  // A wrong PIN first: the message must say what to do, in Chinese.
  for (const d of "13859001234") await tap("#login-keys button", d);
  for (const d of "111111") await tap("#login-keys button", d);
  await page.locator("#login-go").tap();
  await page.locator("#msg.on").waitFor();
  seen.wrongPin = await page.locator("#msg").textContent();
  for (const d of "246810") await tap("#login-keys button", d);
  await page.locator("#login-go").tap();
  await page.locator("#s-product.on").waitFor();
  seen.greeting = await page.locator("#msg").textContent();
  seen.products = await page.locator("#products .choice").count();
  await page.screenshot({ path: shots + "/kiosk-products.png" });

  await tap("#products .choice", "豇豆");
  await page.locator("#s-qty.on").waitFor();
  for (const d of "25") await tap("#qty-keys button", d);
  await page.locator("#qty-go").tap();
  await page.locator("#s-basis.on").waitFor();
  await tap("[data-basis]", "质量安全控制符合要求");
  await page.locator("#s-confirm.on").waitFor();
  await page.locator("#plus").tap();
  await page.locator("#plus").tap();
  seen.labels = await page.locator("#labels").textContent();
  seen.summary = await page.locator("#summary").textContent();
  await page.screenshot({ path: shots + "/kiosk-confirm.png" });
  await page.locator("#print").tap();
  await page.waitForFunction(() => ["completed", "failed", "canceled"].includes(
    document.getElementById("print-state").dataset.state), null, { timeout: 90000 });
  seen.printState = await page.locator("#print-state").getAttribute("data-state");
  seen.printText = await page.locator("#print-state").textContent();
  await page.screenshot({ path: shots + "/kiosk-printed.png" });
  await page.locator("#done").tap();
  await page.locator("#s-login.on").waitFor();
  seen.loggedOut = true;
} catch (e) {
  seen.error = String(e);
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
