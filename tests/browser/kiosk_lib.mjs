// What the kiosk flows share: Debian's Chromium with a fake camera, taps on
// the keypad, and a look at every step at both kiosk screens (1024×768
// landscape, 800×1280 portrait), with and without a message showing:
// a screenshot each, and every button, field and the header within the
// screen, nothing scrolled.
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

export const SIZES = [[1024, 768], [800, 1280]];

export async function launch(url) {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-breakpad", "--disable-crash-reporter",
      // The kiosk's camera: Chromium's test pattern, allowed without asking.
      "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
  });
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, hasTouch: true, locale: "zh-CN" });
  await context.grantPermissions(["camera"], { origin: url });
  return { browser, page: await context.newPage() };
}

export function kiosk(page, shots, seen) {
  const k = {};
  // Taps the first element of sel whose whole text is text.
  k.tap = (sel, text) => page.locator(sel)
    .filter({ hasText: new RegExp("^" + text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$") }).first().tap();
  k.keys = async (pad, digits) => {
    for (const d of digits) await k.tap(`#${pad} button`, d === "<" ? "⌫" : d);
  };
  k.on = (screen, timeout = 15000) => page.locator(`#${screen}.on`).waitFor({ timeout });
  k.msg = async () => (await page.locator("#msg").getAttribute("class")).includes("on") ? page.locator("#msg").textContent() : "";
  k.menu = (text) => k.tap("#home-menu .choice", text);
  k.text = (sel) => page.locator(sel).innerText();
  k.login = async (phone, pin) => {
    await k.keys("login-keys", phone + pin);
    await page.locator("#login-go").tap();
    await k.on("s-home");
  };
  // Waits until the print job ends (the page's data-state says so).
  k.printed = (timeout = 60000) => page.waitForFunction(() => ["completed", "failed", "canceled"].includes(
    document.getElementById("print-state").dataset.state), null, { timeout });
  // What lies outside the screen, or is scrolled: [] when all fits.
  const outside = () => page.evaluate(() => {
    const bad = [];
    const w = innerWidth, h = innerHeight;
    if (document.documentElement.scrollHeight > h + 1 || document.documentElement.scrollWidth > w + 1) bad.push("the page scrolls");
    const shown = document.querySelectorAll("header button:not([hidden]), .screen.on button, .screen.on .field, .screen.on input, #msg.on");
    for (const e of shown) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (getComputedStyle(e).visibility === "hidden") continue;
      if (r.top < -1 || r.left < -1 || r.bottom > h + 1 || r.right > w + 1)
        bad.push(`${e.id || e.tagName.toLowerCase()} "${(e.textContent || "").trim().slice(0, 12)}" at ${Math.round(r.left)},${Math.round(r.top)}-${Math.round(r.right)},${Math.round(r.bottom)}`);
    }
    return bad;
  });
  // Looks at the step at both sizes, then with a long message showing.
  k.snap = async (name) => {
    seen.fit = seen.fit || {};
    seen.shots = seen.shots || [];
    const problems = [];
    for (const [w, h] of SIZES) {
      await page.setViewportSize({ width: w, height: h });
      await page.waitForTimeout(60);
      problems.push(...(await outside()).map((p) => `${w}x${h}: ${p}`));
      const path = `${shots}/${name}-${w}x${h}.png`;
      await page.screenshot({ path });
      seen.shots.push(path);
      const had = await page.evaluate(() => [document.getElementById("msg").textContent, document.getElementById("msg").className]);
      await page.evaluate(() => say("出错了：这是一条很长的提示，看它显示时下面的按钮是否还在屏幕里，没有被挤出去，请按提示操作或找工作人员"));
      problems.push(...(await outside()).map((p) => `${w}x${h} with a message: ${p}`));
      await page.evaluate(([t, c]) => { const m = document.getElementById("msg"); m.textContent = t; m.className = c; }, had);
    }
    await page.setViewportSize({ width: SIZES[0][0], height: SIZES[0][1] });
    seen.fit[name] = problems;
  };
  return k;
}

// The CUPS command line against the test's cupsd (tests/integration/test_printing.py does the same).
export function cups(tool, ...args) {
  const server = process.env.AGRICERT_CUPS_SERVER;
  return execFileSync(tool, ["-h", server, ...args], { env: { ...process.env, PATH: process.env.PATH + ":/usr/sbin:/sbin" } });
}
