// Drives the kiosk page as a village station and a purchaser would: the
// station's operator logs in, enrols a farmer (name, village, no phone, two
// products, a PIN the farmer types twice: a trivial one is refused), then
// helps the farmer issue (代开): picks the farmer, the farmer types the PIN
// (a wrong one says how many tries are left), issues and prints; then a
// purchaser collects two packages by scanning their labels and re-issues
// part of them from its stock. Every step is looked at in both screen sizes.
// Prints one JSON object with what it saw.
// Usage: node kiosk_station_flow.mjs URL DEVICE_TOKEN SHOT_DIR CODES_JSON
import { kiosk, launch } from "./kiosk_lib.mjs";

const [url, device, shots, codesJson] = process.argv.slice(2);
const codes = JSON.parse(codesJson);
const seen = {};
const { browser, page } = await launch(url);
const k = kiosk(page, shots, seen);
try {
  await page.goto(`${url}/kiosk.html#device=${device}`);
  await k.on("s-login");

  // The station enrols a farmer without a phone.
  await k.login("13859007777", "135246");
  seen.stationMenu = await page.locator("#home-menu .choice").allTextContents();
  await k.snap("station-home");
  await k.menu("登记农户");
  await k.on("s-enrol");
  await page.locator("#f-name").fill("王秀英");
  seen.villages = await page.locator("#villages .choice").allTextContents();
  seen.villageChosen = await page.locator("#villages .choice.sel").count();
  await k.snap("station-enrol");
  await page.locator("#enrol-go").tap();
  await k.on("s-enrol-phone");
  await k.snap("station-enrol-phone");
  await page.locator("#enrol-phone-go").tap();
  await k.on("s-category");
  await page.locator("#categories .choice", { hasText: "蔬菜" }).tap();
  await k.on("s-product");
  await k.tap("#products .choice", "豇豆");
  await k.tap("#products .choice", "韭菜");
  await page.locator("#back").tap();
  await k.on("s-category");
  seen.picked = await page.locator("#picked-go").textContent();
  await page.locator("#picked-go").tap();
  await k.on("s-enrol-pin");
  await k.keys("enrol-pin-keys", "123456" + "123456");
  await page.locator("#enrol-pin-go").tap();
  await page.locator("#msg.on").waitFor();
  seen.weakPin = await k.msg();
  await k.snap("station-enrol-pin-error");
  await k.keys("enrol-pin-keys", "372915" + "372915");
  await page.locator("#enrol-pin-go").tap();
  await k.on("s-home");
  seen.enrolled = await k.msg();

  // Assisted issuing: the farmer's PIN, then the farmer's certificate.
  await k.menu("帮农户开证");
  await k.on("s-farmers");
  await page.locator("#farmers .item").first().waitFor();
  seen.farmers = await page.locator("#farmers .item").allInnerTexts();
  await k.snap("station-farmers");
  await page.locator("#farmers .item", { hasText: "王秀英" }).locator("button").tap();
  await k.on("s-farmer-pin");
  await k.keys("farmer-pin-keys", "372910");
  await page.locator("#farmer-pin-go").tap();
  await page.locator("#msg.on").waitFor();
  seen.farmerWrongPin = await k.msg();
  await k.snap("station-farmer-pin-error");
  await k.keys("farmer-pin-keys", "372915");
  await page.locator("#farmer-pin-go").tap();
  await page.waitForFunction(() => document.getElementById("who").textContent.startsWith("代开"));
  seen.who = await page.locator("#who").textContent();
  seen.assistedTitle = await page.locator("#home-title").textContent();
  await k.snap("assisted-home");
  await k.menu("开合格证");
  await k.on("s-category");
  seen.farmerMine = await page.locator("#mine .choice").allTextContents();
  await k.tap("#mine .choice", "韭菜");
  await k.keys("qty-keys", "8");
  await page.locator("#qty-go").tap();
  await page.locator('[data-basis="quality_control"]').tap();
  await k.on("s-labels");
  await k.keys("labels-keys", "1");
  await page.locator("#print").tap();
  await k.printed();
  seen.assistedPrint = await page.locator("#print-state").getAttribute("data-state");
  seen.doneLabel = await page.locator("#done").textContent();
  await k.snap("assisted-printed");
  await page.locator("#done").tap();
  await k.on("s-home");
  seen.backAtStation = await page.locator("#who").textContent();
  await page.locator("#logout").tap();
  await k.on("s-login");

  // A purchaser collects by scanning, then re-issues from its stock.
  await k.login("13859005678", "135790");
  seen.purchaserMenu = await page.locator("#home-menu .choice").allTextContents();
  await k.menu("收货扫码");
  await k.on("s-collect");
  for (const code of codes) {
    await page.locator("#f-scan").fill(code);
    await page.locator("#f-scan").press("Enter");
  }
  seen.scanCount = await k.text("#scan-count");
  await k.snap("purchaser-collect");
  await page.locator("#collect-go").tap();
  await page.locator("#msg.on").waitFor();
  seen.collected = await k.msg();
  seen.collectedItems = await page.locator("#scanned .item").allInnerTexts();
  await k.snap("purchaser-collected");
  await page.locator("#back").tap();
  await k.on("s-home");
  await k.menu("再次开具（从进货开）");
  await k.on("s-stock");
  await page.locator("#stock .item").first().waitFor();
  seen.stock = await page.locator("#stock .item").allInnerTexts();
  await page.locator("#stock .item").first().tap();
  await k.snap("purchaser-stock");
  await page.locator("#stock-go").tap();
  await k.on("s-qty");
  seen.prefilled = await page.locator("#f-qty").textContent();
  await k.keys("qty-keys", "15");
  await page.locator("#qty-go").tap();
  await k.on("s-labels");
  seen.reissueSummary = await k.text("#summary");
  await k.keys("labels-keys", "1");
  await page.locator("#print").tap();
  await k.printed();
  seen.reissuePrint = await page.locator("#print-state").getAttribute("data-state");
  await k.snap("purchaser-reissued");
  await page.locator("#done").tap();
  await k.on("s-login");
} catch (e) {
  seen.error = String(e);
  await page.screenshot({ path: shots + "/station-error.png" }).catch(() => {});
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
