// Drives the kiosk page in Debian's Chromium the way a farmer would: taps
// the phone number and PIN on the keypad (a wrong PIN first: tries left), a
// category and a product, the quantity, the basis, types the number of
// labels and prints; then issues on a test of its own photographed with the
// kiosk's camera while the printer is paused (shown, then recovered, with
// nobody logged out meanwhile); reprints from 我的合格证; logs out; logs in
// again to issue on the test on record and on a commissioned report
// photographed; and is logged out when idle. The back button is tried twice.
// Every step is looked at in both screen sizes.
// Prints one JSON object with what it saw.
// Usage: node kiosk_flow.mjs URL DEVICE_TOKEN SHOT_DIR IDLE_SECONDS QUEUE
import { cups, kiosk, launch } from "./kiosk_lib.mjs";

const [url, device, shots, idle, queue] = process.argv.slice(2);
const seen = {};
const { browser, page } = await launch(url);
const k = kiosk(page, shots, seen);
try {
  await page.goto(`${url}/kiosk.html#device=${device}&idle=${idle}`);
  await k.on("s-login");
  seen.deviceKept = await page.evaluate(() => localStorage.getItem("agricert-device") !== null && !location.hash);
  await k.snap("kiosk-login");

  // A wrong PIN first: the message says what to do and how many tries are left.
  await k.keys("login-keys", "13859001234" + "111111");
  await page.locator("#login-go").tap();
  await page.locator("#msg.on").waitFor();
  seen.wrongPin = await k.msg();
  await k.snap("kiosk-login-error");
  await k.keys("login-keys", "246810");
  await page.locator("#login-go").tap();
  await k.on("s-home");
  seen.greeting = await k.msg();
  await k.snap("kiosk-home");

  // Categories, then products; the quantity and the labels typed on the keypad.
  await k.menu("开合格证");
  await k.on("s-category");
  seen.categories = await page.locator("#categories .choice").count();
  seen.mineFirstTime = await page.locator("#mine-box").isVisible();
  await k.snap("kiosk-categories");
  await page.locator("#categories .choice", { hasText: "蔬菜" }).tap();
  await k.on("s-product");
  seen.productPage = await k.text("#page");
  await k.snap("kiosk-products");
  await page.locator("#next").tap();
  seen.secondPage = await page.locator("#products .choice").first().textContent();
  await page.locator("#prev").tap();
  await k.tap("#products .choice", "豇豆");
  await k.on("s-qty");
  await page.locator("#qty-go").tap();
  seen.noQuantity = await k.msg();
  await k.snap("kiosk-quantity-error");
  // The back button: one screen back with the message gone, and forward again.
  await page.locator("#back").tap();
  await k.on("s-product");
  seen.backToProducts = (await k.msg()) === "";
  await k.tap("#products .choice", "豇豆");
  await k.on("s-qty");
  await k.keys("qty-keys", "25");
  await page.locator("#qty-go").tap();
  await k.on("s-basis");
  await k.snap("kiosk-basis");
  await page.locator("#back").tap();
  await k.on("s-qty");
  seen.backKeptQty = await page.locator("#f-qty").textContent();
  await page.locator("#qty-go").tap();
  await k.on("s-basis");
  await page.locator('[data-basis="quality_control"]').tap();
  await k.on("s-labels");
  await k.keys("labels-keys", "3");
  seen.labels = await page.locator("#f-labels").textContent();
  seen.summary = await k.text("#summary");
  await k.snap("kiosk-labels");
  await page.locator("#print").tap();
  await k.printed(90000);
  seen.printState = await page.locator("#print-state").getAttribute("data-state");
  seen.printText = await k.text("#print-state");
  await k.snap("kiosk-printed");

  // Again: the usual product first; a self test photographed; the printer paused.
  await page.locator("#again").tap();
  await k.on("s-category");
  seen.mine = await page.locator("#mine .choice").allTextContents();
  await k.tap("#mine .choice", "豇豆");
  await k.keys("qty-keys", "12.5");
  await page.locator("#qty-go").tap();
  await page.locator('[data-basis="self_test"]').tap();
  await k.on("s-tests");
  await page.locator("#tests .item").first().waitFor();
  seen.noTests = await k.text("#tests");
  await k.snap("kiosk-tests");
  await page.locator("#own-test").tap();
  await k.on("s-owntest");
  seen.selfShows = [await page.locator('[data-method="colloidal_gold"]').isVisible(), await page.locator("#f-lab").isVisible()];
  await page.locator('[data-method="colloidal_gold"]').tap();
  await page.locator('[data-result="pass"]').tap();
  await k.snap("kiosk-own-test");
  await page.locator("#owntest-go").tap();
  await k.on("s-camera");
  await page.waitForFunction(() => document.getElementById("video").videoWidth > 0, null, { timeout: 15000 });
  await page.locator("#shoot").tap();
  await k.snap("kiosk-photo");
  await page.locator("#use-photo").tap();
  await k.on("s-labels");
  seen.testSummary = await k.text("#summary");
  await k.keys("labels-keys", "2");
  cups("cupsdisable", queue);
  const pausedAt = Date.now();
  await page.locator("#print").tap();
  await page.locator('#print-state[data-problem="1"]').waitFor({ timeout: 15000 });
  seen.pausedAfterMs = Date.now() - pausedAt;
  seen.pausedText = await k.text("#print-state");
  seen.pausedTodo = await k.text("#print-todo");
  await k.snap("kiosk-printer-paused");
  // The other printer problems, as the page words the job's answer for each.
  seen.faults = await page.evaluate(() => [
    { state: "pending", fault: { code: "media-empty", message: "out of paper", message_zh: "打印机缺纸" } },
    { state: "pending", printer_state_reasons: ["media-empty-error"] },
    { state: "pending", fault: { code: "offline" } },
    { state: "pending", printer_state_reasons: "connecting-to-device" },
    { state: "pending", fault: { code: "cups-down" } },
    { state: "failed", reason: "timeout", fault: { code: "timeout" } },
    { state: "failed", fault: { code: "unprintable-character", message_zh: "标签上的“𠮷”字打印不出来" } },
  ].map((job) => describe(job, "000000000001", 2)));
  // Longer than the idle logout: nobody is logged out while the job is pending.
  await page.waitForTimeout((Number(idle) + 3) * 1000);
  seen.stillThere = await page.locator("#s-print.on").isVisible();
  cups("cupsenable", queue);
  await k.printed(60000);
  seen.recoveredState = await page.locator("#print-state").getAttribute("data-state");
  seen.recoveredText = await k.text("#print-state");

  // 我的合格证, and a reprint of the same codes.
  await page.locator("#mine-go").tap();
  await k.on("s-mine");
  await page.locator("#certs .item").nth(1).waitFor({ timeout: 15000 });
  seen.certs = await page.locator("#certs .item").allInnerTexts();
  await k.snap("kiosk-mine");
  await page.locator("#certs .item button").first().tap();
  await k.on("s-print");
  await k.printed(60000);
  seen.reprintState = await page.locator("#print-state").getAttribute("data-state");
  await page.locator("#done").tap();
  await k.on("s-login");
  seen.loggedOut = true;

  // The self test on record is picked from the list; then a commissioned report photographed.
  await k.login("13859001234", "246810");
  await k.menu("开合格证");
  await k.on("s-category");
  await k.tap("#mine .choice", "豇豆");
  await k.keys("qty-keys", "8");
  await page.locator("#qty-go").tap();
  await page.locator('[data-basis="self_test"]').tap();
  await k.on("s-tests");
  await page.locator("#tests .item button").first().waitFor();
  seen.testsOnRecord = await page.locator("#tests .item").allInnerTexts();
  await page.locator("#tests .item button").first().tap();
  await k.on("s-labels");
  seen.pickedSummary = await k.text("#summary");
  await page.locator("#print").tap();
  await k.printed(60000);
  seen.pickedState = await page.locator("#print-state").getAttribute("data-state");
  await page.locator("#again").tap();
  await k.on("s-category");
  await k.tap("#mine .choice", "豇豆");
  await k.keys("qty-keys", "6");
  await page.locator("#qty-go").tap();
  await page.locator('[data-basis="commissioned_test"]').tap();
  await k.on("s-tests");
  await page.locator("#own-test").tap();
  await k.on("s-owntest");
  seen.reportShows = [await page.locator('[data-method="colloidal_gold"]').isVisible(), await page.locator("#f-lab").isVisible()];
  await page.locator('[data-result="pass"]').tap();
  await page.locator("#owntest-go").tap();
  seen.noReport = await k.msg();
  await k.snap("kiosk-report-error");
  await page.locator("#f-lab").fill("安溪县农产品质量安全检验检测中心");
  await page.locator("#f-report").fill("AX2026-0117");
  await page.locator("#owntest-go").tap();
  await k.on("s-camera");
  await page.waitForFunction(() => document.getElementById("video").videoWidth > 0, null, { timeout: 15000 });
  await page.locator("#shoot").tap();
  await page.locator("#use-photo").tap();
  await k.on("s-labels");
  seen.reportSummary = await k.text("#summary");
  await page.locator("#print").tap();
  await k.printed(60000);
  seen.reportState = await page.locator("#print-state").getAttribute("data-state");

  // Idle: logged out with what was typed cleared, and told why.
  await page.locator("#again").tap();
  await k.on("s-category");
  await page.locator("#mine .choice").first().tap();
  await k.keys("qty-keys", "7");
  seen.typedBeforeIdle = await page.locator("#f-qty").textContent();
  await page.waitForFunction(() => document.getElementById("s-login").classList.contains("on"), null,
    { timeout: (Number(idle) + 10) * 1000 });
  seen.idleMessage = await k.msg();
  seen.idleCleared = await page.evaluate(() => [...document.querySelectorAll(".field")].every((f) => !f.dataset.value));
  await k.snap("kiosk-idle-logout");
} catch (e) {
  seen.error = String(e);
  await page.screenshot({ path: shots + "/kiosk-error.png" }).catch(() => {});
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
