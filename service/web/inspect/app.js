// The inspector's phone page (index.html). Online, every scan is judged by
// the service (GET /v/{payload}); offline, by verify.js with the trust
// bundle kept in IndexedDB. Checks and reports made offline wait in a queue
// (IndexedDB too) and are sent when the network is back, each with its own
// Idempotency-Key so that a resend is stored once.
import * as V from "./verify.js";

const $ = (id) => document.getElementById(id);
const SESSION = "agricert-inspect-session";
const STAFF = ["inspector", "township_regulator", "county_regulator", "admin"];
const state = { session: null, bundle: null, bundleInfo: null, verifier: null, labels: [],
  markets: [], products: [], camera: null, lastScan: { text: "", at: 0 }, flushing: false };

// Storage: one IndexedDB object store of keys and values.
const idb = new Promise((resolve, reject) => {
  const q = indexedDB.open("agricert-inspect", 1);
  q.onupgradeneeded = () => q.result.createObjectStore("kv");
  q.onsuccess = () => resolve(q.result);
  q.onerror = () => reject(q.error);
});
async function kv(mode, fn) {
  const db = await idb;
  return new Promise((resolve, reject) => {
    const tx = db.transaction("kv", mode);
    const q = fn(tx.objectStore("kv"));
    tx.oncomplete = () => resolve(q.result);
    tx.onerror = () => reject(tx.error);
  });
}
const load = (k) => kv("readonly", (s) => s.get(k));
const save = (k, v) => kv("readwrite", (s) => s.put(v, k));

function say(text, ok) {
  const m = $("msg");
  m.textContent = text;
  m.className = "msg on " + (ok ? "ok" : "err");
  clearTimeout(say.t);
  say.t = setTimeout(() => m.classList.remove("on"), 6000);
}
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// The API; a network failure throws {offline: true}.
async function api(path, opts = {}) {
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  if (state.session) headers.Authorization = "Bearer " + state.session.token;
  if (opts.body) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, { method: opts.method || "GET", headers, cache: "no-store",
      body: opts.body ? JSON.stringify(opts.body) : undefined });
  } catch {
    throw { offline: true };
  }
  const body = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (r.status === 401 && state.session && path !== "/api/v1/sessions") logout("登录已过期，请重新登录");
  return { status: r.status, body };
}
const online = () => navigator.onLine !== false;

function showNet() {
  const n = $("net");
  n.textContent = online() ? "在线" : "离线";
  n.className = online() ? "" : "off";
}

function show(screen) {
  document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("on", s.id === screen));
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("on", b.dataset.go === screen));
  $("nav").hidden = screen === "s-login";
  if (screen !== "s-check") stopCamera();
}

// Verdicts: what the label is, and what to do next.
const VERDICTS = {
  valid: ["ok", "✔ 真实有效", "可以正常销售。"],
  clone: ["warn", "⚠ 疑似复制码", "这个码在别处也被扫过。核对包装和实物是否一致，拍照留存，并报告乡镇农安办。"],
  revoked: ["bad", "✘ 已撤销", "请勿销售。把这批货单独存放，并报告乡镇农安办。"],
  forged: ["bad", "✘ 疑似伪造或被篡改", "暂扣这批货，不要让摊主带走，立即打电话给乡镇农安办。"],
  unknown: ["warn", "？ 查无此证", "请摊主出示纸质合格证或进货凭证；拿不出的，用“无证反馈”上报。"],
  malformed: ["warn", "？ 不是合格证二维码", "请扫标签上印有“承诺达标合格证”字样的二维码，或输入标签上的12位编号。"],
  unconfirmed: ["warn", "… 现在无法确认", "签名是真的，但暂时查不到是否已撤销。先拍照记录，联网后再扫一次。"],
  cannot: ["warn", "… 现在无法核验", "没有网络，本机也没有信任包。请联网后再扫，或先拍照记录。"],
};
const KIND = { valid: "valid", revoked: "revoked", bad_signature: "forged", not_issued: "forged",
  key_revoked: "forged", unknown_certificate: "unknown", unknown_item: "unknown",
  unknown_key: "unknown", malformed: "malformed", unconfirmed: "unconfirmed", cannot: "cannot" };
const kindOf = (v) => (v.status === "valid" && v.clone_suspected ? "clone" : KIND[v.status] || "unknown");

// What a label says is shown only once its signature is known genuine.
const TRUSTED = ["valid", "revoked", "unconfirmed"];

function details(v) {
  if (!TRUSTED.includes(v.status)) return "";
  const c = v.certificate || {};
  const name = (x) => (x && typeof x === "object" ? x.name : x);
  const rows = v.offline
    ? [["产品", v.product ?? `产品编号 ${v.product_id}`], ["数量", `${v.quantity} ${v.unit_zh}`],
      ["产地", v.origin ? `${v.origin}` : v.origin_code], ["开具方", v.issuer ?? `主体编号 ${v.issuer_id}`],
      ["开具日期", v.issue_date], ["编号", v.number], ["标签", `第 ${v.item} 件`], ["承诺依据", v.basis_zh]]
    : [["产品", name(c.product)], ["数量", c.quantity != null ? `${c.quantity} ${c.unit_zh || ""}` : null],
      ["产地", c.origin], ["开具方", name(c.issuer)], ["联系方式", c.contact],
      ["开具时间", (c.issued_at || "").slice(0, 16).replace("T", " ")], ["编号", c.number],
      ["标签", v.item ? `第 ${v.item} 件，共 ${c.labels} 件` : null], ["承诺依据", c.basis_zh],
      ["撤销原因", c.revoke_reason]];
  const body = rows.filter((r) => r[1]).map((r) => `<tr><th>${r[0]}</th><td>${esc(r[1])}</td></tr>`).join("");
  return body ? `<table>${body}</table>` : "";
}

function showVerdict(v) {
  const kind = kindOf(v);
  const [cls, title, todo] = VERDICTS[kind];
  let note = v.clone_reason ? esc(v.clone_reason) + "。" : "";
  if (v.offline) note += `离线核验（信任包第 ${state.bundleInfo?.version} 版）。联网后会再核对是否被复制。`;
  if (v.note) note += esc(v.note);
  $("verdict").innerHTML = `<div class="verdict ${cls}" data-status="${esc(v.status)}" data-kind="${kind}"` +
    ` data-offline="${v.offline ? 1 : 0}"><h2>${title}</h2><p>${todo}</p>` +
    (note ? `<small>${note}</small>` : "") + `</div>` + details(v);
}

// A scanned text: the service's verdict when online, else the bundle's.
async function judge(text) {
  const payload = V.findPayload(text);
  if (online() && payload) {
    const market = $("market").value;
    try {
      const r = await api("/v/" + encodeURIComponent(payload) + (market ? "?market=" + market : ""));
      if (r.status === 200 && r.body.status) return r.body;
    } catch (e) {
      if (!e.offline) throw e;
    }
  }
  if (!state.bundle) return { status: "cannot", offline: true };
  return { ...(await state.verifier.judge(text, state.bundle)), offline: true };
}

// A certificate number typed from the label: it names the certificate but
// cannot prove that a label is genuine.
async function judgeNumber(num) {
  const serial = Number(num);
  const note = "编号只能查到合格证，不能证明标签是真的，请尽量扫码。";
  if (online()) {
    try {
      const r = await api("/api/v1/certificates/" + serial);
      if (r.status === 404) return { status: "unknown_certificate", note };
      if (r.status === 200)
        return { status: r.body.revoked_at || r.body.status === "revoked" ? "revoked" : "valid",
          certificate: r.body, note };
    } catch (e) {
      if (!e.offline) throw e;
    }
  }
  if (!state.bundle) return { status: "cannot", offline: true };
  if (state.bundle.revoked.has(serial)) return { status: "revoked", offline: true, number: num };
  return { status: "unconfirmed", offline: true, note: "离线时只能查撤销名单：该编号不在撤销名单中。" + note };
}

async function check(text) {
  text = String(text || "").trim();
  if (!text) return;
  const isNumber = /^\d{1,15}$/.test(text);
  const v = isNumber ? await judgeNumber(text) : await judge(text);
  showVerdict(v);
  if (!isNumber) addLabel(text, v);
  return v;
}

// The labels of the stall being checked.
function addLabel(text, v) {
  const d = V.decodeCode(text);
  const id = d.fields ? d.fields.payload : text;
  if (state.labels.some((l) => l.id === id)) return;
  const trusted = TRUSTED.includes(v.status) && d.fields;
  const what = trusted ? v.product || v.certificate?.product?.name ||
    `编号 ${String(d.fields.serial).padStart(12, "0")}` : { forged: "内容不可信", malformed: "无法识别" }[kindOf(v)] || "查无此证";
  state.labels.push({ id, text, kind: kindOf(v), title: VERDICTS[kindOf(v)][1], what });
  drawLabels();
}
function drawLabels() {
  $("list-title").textContent = `本摊已扫 ${state.labels.length} 个标签`;
  $("labels").innerHTML = state.labels.map((l) => `<li><span>${esc(l.what)}</span>` +
    `<span class="chip ${VERDICTS[l.kind][0]}">${esc(l.title)}</span></li>`).join("");
}

// Camera: BarcodeDetector where the browser has one, else the vendored jsQR.
let jsQRLoaded = null;
function loadJsQR() {
  jsQRLoaded ??= new Promise((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/vendor/jsqr/jsQR.js";
    s.onload = () => resolve(window.jsQR);
    s.onerror = () => { jsQRLoaded = null; reject(new Error("jsQR")); };
    document.head.append(s);
  });
  return jsQRLoaded;
}
async function detector() {
  if ("BarcodeDetector" in window) {
    try {
      if ((await BarcodeDetector.getSupportedFormats()).includes("qr_code"))
        return new BarcodeDetector({ formats: ["qr_code"] });
    } catch { /* fall back to jsQR */ }
  }
  return null;
}
const canvas = document.createElement("canvas");
async function decodeImage(src, w, h, det) {
  if (det) {
    const found = await det.detect(src);
    return found.length ? found[0].rawValue : null;
  }
  const jsQR = await loadJsQR();
  const scale = Math.min(1, 960 / Math.max(w, h));
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  const g = canvas.getContext("2d", { willReadFrequently: true });
  g.drawImage(src, 0, 0, canvas.width, canvas.height);
  const img = g.getImageData(0, 0, canvas.width, canvas.height);
  const r = jsQR(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
  return r ? r.data : null;
}
async function onDecoded(text) {
  const now = Date.now();
  if (text === state.lastScan.text && now - state.lastScan.at < 3000) return;
  state.lastScan = { text, at: now };
  navigator.vibrate?.(80);
  await check(text);
}
async function startCamera() {
  if (state.camera) return;
  if (!navigator.mediaDevices?.getUserMedia) {
    say("这个浏览器不能用相机，请输入标签上的编号");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    say("打不开相机：请在浏览器设置里允许使用相机，或输入标签上的编号");
    return;
  }
  const video = $("video");
  video.srcObject = stream;
  await video.play().catch(() => {});
  const det = await detector();
  state.camera = { stream, timer: null };
  $("camera").classList.add("on");
  const tick = async () => {
    if (!state.camera) return;
    try {
      if (video.videoWidth) {
        const text = await decodeImage(video, video.videoWidth, video.videoHeight, det);
        if (text) await onDecoded(text);
      }
    } catch { /* the next frame may do */ }
    if (state.camera) state.camera.timer = setTimeout(tick, 200);
  };
  tick();
}
function stopCamera() {
  if (!state.camera) return;
  clearTimeout(state.camera.timer);
  state.camera.stream.getTracks().forEach((t) => t.stop());
  state.camera = null;
  $("camera").classList.remove("on");
}

// An image (a data: URL) through the camera's decoder: for tests, and for a
// photo of a label.
async function scanImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  const text = await decodeImage(img, img.naturalWidth, img.naturalHeight, await detector());
  if (!text) {
    say("没有认出二维码，请靠近一点、对准标签再试");
    return null;
  }
  await onDecoded(text);
  return text;
}

// The queue of checks and reports to send.
async function queue() {
  return (await load("queue")) || [];
}
async function enqueue(item) {
  const q = await queue();
  q.push(item);
  await save("queue", q);
  drawQueue();
}
async function sendOne(item) {
  const path = item.kind === "inspection" ? "/api/v1/inspections" : "/api/v1/unlicensed-reports";
  const r = await api(path, { method: "POST", body: item.body, headers: { "Idempotency-Key": item.key } });
  if (r.status === 200 || r.status === 201) {
    item.state = "sent";
    item.result = r.body.message_zh || "已记录";
    item.problems = r.body.problems;
  } else if (r.status === 409 && r.body.error?.code === "inspection_in_progress") {
    return;
  } else if (r.status >= 500) {
    return;
  } else {
    item.state = "failed";
    item.result = r.body.error?.message_zh || `上传失败（${r.status}）`;
  }
}
async function flush() {
  if (state.flushing || !online() || !state.session) return;
  state.flushing = true;
  try {
    for (const item of await queue()) {
      if (item.state !== "pending") continue;
      await sendOne(item);
      // Keep each answer as soon as it is known.
      const q = await queue();
      const i = q.findIndex((x) => x.key === item.key);
      if (i >= 0) q[i] = item;
      await save("queue", q);
    }
  } catch (e) {
    if (!e.offline) console.error(e);
  } finally {
    state.flushing = false;
    drawQueue();
  }
}
async function drawQueue() {
  const q = await queue();
  const waiting = q.filter((x) => x.state === "pending").length;
  $("nav-queue").textContent = waiting ? `待上传(${waiting})` : "上传记录";
  $("q-title").textContent = waiting ? `${waiting} 条记录等待上传，联网后会自动上传。` : "没有待上传的记录。";
  const word = { pending: ["wait", "等待上传"], sent: ["ok", "已上传"], failed: ["bad", "上传失败"] };
  $("queue").innerHTML = q.slice(-30).reverse().map((x) => `<li data-state="${x.state}"><span>` +
    `${esc(x.title)}<br><small>${esc(x.result || x.at)}</small></span>` +
    `<span class="chip ${word[x.state][0]}">${word[x.state][1]}</span></li>`).join("");
}

// Sends now when online (the queue keeps it if the network drops meanwhile).
async function record(kind, body, title) {
  const item = { key: crypto.randomUUID(), kind, body, title, state: "pending",
    at: new Date().toLocaleString("zh-CN") };
  await enqueue(item);
  if (online()) await flush();
  const q = await queue();
  const done = q.find((x) => x.key === item.key);
  if (done.state === "sent") say(done.result, true);
  else if (done.state === "failed") say(done.result);
  else say("没有网络：已保存在本机，联网后自动上传", true);
  return done;
}

async function submitCheck() {
  const market = Number($("market").value);
  if (!market) return say("请先选择查验的市场");
  if (!state.labels.length) return say("请先扫这个摊位的标签");
  const seller = $("stall").value.trim();
  const name = $("market").selectedOptions[0].textContent;
  await record("inspection", { market, seller: seller || undefined, codes: state.labels.map((l) => l.text) },
    `查验 ${name} ${seller}：${state.labels.length} 个标签`);
  state.labels = [];
  drawLabels();
}

async function submitReport() {
  const market = Number($("r-market").value);
  const product = $("r-product").value;
  const seller = $("r-seller").value.trim();
  if (!market || !product || !seller) return say("请填写市场、产品和摊位/摊主");
  const body = { market, product, seller };
  const qty = Number($("r-qty").value);
  if (qty > 0) Object.assign(body, { quantity: qty, unit: $("r-unit").value });
  if ($("r-notes").value.trim()) body.notes = $("r-notes").value.trim();
  await record("report", body, `无证反馈 ${product}（${seller}）`);
  $("r-qty").value = $("r-notes").value = "";
}

// Markets, stalls and products: fetched when online, kept for offline use.
async function cached(key, path) {
  if (online()) {
    try {
      const r = await api(path);
      if (r.status === 200) {
        await save(key, r.body);
        return r.body;
      }
    } catch { /* offline after all */ }
  }
  return (await load(key)) || null;
}
const options = (items, value, label) => items.map((x) =>
  `<option value="${esc(value(x))}">${esc(label(x))}</option>`).join("");
async function loadLists() {
  state.markets = (await cached("markets", "/api/v1/markets?limit=200"))?.items || [];
  state.products = (await cached("products", "/api/v1/products"))?.items || [];
  const m = options(state.markets, (x) => x.id, (x) => x.name);
  $("market").innerHTML = `<option value="">请选择市场</option>` + m;
  $("r-market").innerHTML = `<option value="">请选择市场</option>` + m;
  $("r-product").innerHTML = `<option value="">请选择产品</option>` +
    options(state.products, (x) => x.name, (x) => x.name);
  const last = localStorage.getItem("agricert-inspect-market");
  if (last && state.markets.some((x) => String(x.id) === last)) {
    $("market").value = $("r-market").value = last;
    loadStalls();
  }
}
async function loadStalls() {
  const id = $("market").value;
  localStorage.setItem("agricert-inspect-market", id);
  $("r-market").value = id;
  const s = id ? await cached("stalls:" + id, `/api/v1/markets/${id}/stalls`) : null;
  $("stalls").innerHTML = options(s?.stalls || [], (x) => `${x.code} ${x.seller || ""}`.trim(), (x) => x.seller || x.code);
}

// The trust bundle: its key is pinned on first use; a bundle is kept only
// when its signature checks and it is not older than the one kept.
async function bundleKey() {
  let k = await load("bundle-key");
  if (!k && online()) {
    const r = await fetch("/api/v1/trust-bundle/key", { cache: "no-store" }).catch(() => null);
    if (r?.ok) {
      const pem = await r.text();
      const kid = Number((/# bundle key (\d+)/.exec(pem) || [])[1]);
      if (V.pemKey(pem) && kid) {
        k = { pem, kid };
        await save("bundle-key", k);
      }
    }
  }
  return k ? { ...V.pemKey(k.pem), kid: k.kid } : null;
}
async function useBundle(bytes, key) {
  const b = await state.verifier.parseBundle(new Uint8Array(bytes), key, key.kid);
  state.bundle = b;
  state.bundleInfo = { version: String(b.version), issued: b.issued };
  return b;
}
async function loadBundle() {
  const key = await bundleKey();
  if (!key) return;
  const kept = await load("bundle");
  if (kept && !state.bundle) await useBundle(kept.bytes, key).catch(() => null);
  if (online()) {
    try {
      const r = await fetch("/api/v1/trust-bundle", { cache: "no-store" });
      if (r.ok) {
        const bytes = await r.arrayBuffer();
        const b = await state.verifier.parseBundle(new Uint8Array(bytes), key, key.kid);
        if (V.newerBundle(kept?.version, b.version)) {
          await save("bundle", { bytes, version: String(b.version), fetched: Date.now() });
          await useBundle(bytes, key);
        }
      }
    } catch (e) {
      if (e instanceof Error && !(e instanceof TypeError)) say("新的信任包校验失败，继续使用本机保存的版本");
    }
  }
  const i = state.bundleInfo;
  $("bundle-info").textContent = i ? `离线核验用的信任包：第 ${i.version} 版（${i.issued.slice(0, 10)}）` :
    "本机还没有信任包：联网登录一次后，离线也能核验。";
}

// The verifier's back-ends, and the files this browser needs offline.
async function verifier() {
  const webEd = await V.webCryptoEd25519(crypto.subtle);
  let noble = null;
  let sm = null;
  const ed25519 = webEd || (async (...a) => {
    noble ??= V.nobleEd25519(await import("/vendor/noble-ed25519/index.js"));
    return noble(...a);
  });
  const sm2 = async (...a) => {
    if (!sm) {
      await new Promise((resolve, reject) => {
        const s = document.createElement("script");
        s.src = "/vendor/sm-crypto/sm2.js";
        s.onload = resolve;
        s.onerror = reject;
        document.head.append(s);
      });
      sm = V.smCryptoSm2(window.sm2);
    }
    return sm(...a);
  };
  state.needs = [...(webEd ? [] : ["/vendor/noble-ed25519/index.js"]),
    ...((await detector()) ? [] : ["/vendor/jsqr/jsQR.js"])];
  return V.createVerifier({ ed25519, sm2 });
}
// Fetches what this browser will need offline so that the service worker
// keeps it (after the first load: jsQR is large and most phones have
// BarcodeDetector).
async function warm() {
  if (!online()) return;
  await Promise.all((state.needs || []).map((u) => fetch(u).catch(() => null)));
}

async function afterLogin() {
  show("s-check");
  await Promise.all([loadLists(), loadBundle()]);
  drawQueue();
  flush();
  await warm();
}

async function login() {
  const username = $("user").value.trim();
  const password = $("pass").value;
  if (!username || !password) return say("请输入用户名和密码");
  let r;
  try {
    r = await api("/api/v1/sessions", { method: "POST", body: { username, password } });
  } catch {
    return say("没有网络，登录需要联网");
  }
  if (r.status !== 201) return say(r.body.error?.message_zh || "用户名或密码不对");
  if (!STAFF.includes(r.body.role)) return say("这个页面供市场查验人员使用，您的账号不能查验");
  state.session = { token: r.body.token, expires_at: r.body.expires_at, role: r.body.role };
  localStorage.setItem(SESSION, JSON.stringify(state.session));
  $("pass").value = "";
  say("登录成功", true);
  await afterLogin();
}

async function logout(why) {
  if (state.session && online() && !why) await api("/api/v1/sessions/current", { method: "DELETE" }).catch(() => {});
  state.session = null;
  localStorage.removeItem(SESSION);
  show("s-login");
  if (why) say(why);
}

let readyResolve;
const ready = new Promise((r) => { readyResolve = r; });

async function start() {
  showNet();
  addEventListener("online", () => {
    showNet();
    if (!state.session) return show("s-login");
    flush();
    loadBundle();
  });
  addEventListener("offline", showNet);
  setInterval(flush, 30000);
  $("login-go").onclick = login;
  $("pass").onkeydown = (e) => e.key === "Enter" && login();
  $("scan").onclick = startCamera;
  $("cam-off").onclick = stopCamera;
  $("code-go").onclick = () => check($("code").value).then(() => { $("code").value = ""; });
  $("code").onkeydown = (e) => e.key === "Enter" && $("code-go").click();
  $("clear").onclick = () => { state.labels = []; drawLabels(); };
  $("submit").onclick = submitCheck;
  $("market").onchange = loadStalls;
  $("stall").onchange = () => { $("r-seller").value = $("stall").value; };
  $("r-go").onclick = submitReport;
  $("q-go").onclick = flush;
  $("logout").onclick = () => logout();
  document.querySelectorAll("nav button").forEach((b) => { b.onclick = () => show(b.dataset.go); });
  state.verifier = await verifier();
  const s = JSON.parse(localStorage.getItem(SESSION) || "null");
  if (s && new Date(s.expires_at) > new Date()) {
    state.session = s;
    await afterLogin();
  } else if (!online() && (await load("bundle"))) {
    // Verifying needs no login: the queue waits for one.
    await afterLogin();
    say("离线核验：联网后请重新登录，才能上传查验记录");
  } else {
    show("s-login");
  }
  if ("serviceWorker" in navigator) await navigator.serviceWorker.register("sw.js").catch(() => null);
  readyResolve();
}

// For tests and for a photo of a label.
window.agricertInspect = { ready, scanImage, check, flush, state, afterLogin };
start();
