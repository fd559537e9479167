// The kiosk page's logic (kiosk.html): screens, keypads, the JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const UNITS = [["kg", "千克"], ["jin", "斤"], ["piece", "个"], ["head", "头"], ["only", "只"], ["box", "箱"],
  ["bag", "袋"], ["bundle", "捆"], ["g", "克"], ["t", "吨"]];
const UNIT_ZH = Object.fromEntries(UNITS);
const BASIS_ZH = { quality_control: "质量安全控制符合要求", self_test: "自行检测合格", commissioned_test: "委托检测合格" };
const MAX_LABELS = 500;
const PAGE = { tests: 4, certs: 4, stock: 4, farmers: 4, scanned: 4 };
/* Products a page: 4 by 4 on a landscape screen, 3 by 7 upright (kiosk.html's grid). */
const portrait = matchMedia("(orientation: portrait)");
const productsPerPage = () => (portrait.matches ? 21 : 16);

const state = {
  device: null, session: null, role: null, kiosk: null, subject: null, name: "",
  farmer: null,    // an assisted session: { token, id, name }
  station: null,   // the station's villages, once read
  flow: null,      // what is being issued
  printing: false, // a print job is being followed: nobody is logged out
  idleMs: 120000, idle: null, stack: [],
};

/* The API: JSON both ways, with the acting session (the farmer's when assisting). */
async function api(path, opts = {}) {
  const headers = { "Content-Type": "application/json" };
  const token = opts.token !== undefined ? opts.token : acting();
  if (token) headers.Authorization = "Bearer " + token;
  if (opts.key) headers["Idempotency-Key"] = opts.key;
  let res;
  try {
    const r = await fetch(path, { method: opts.method || "GET", headers, body: opts.body ? JSON.stringify(opts.body) : undefined });
    res = { status: r.status, body: r.status === 204 ? {} : await r.json().catch(() => ({})) };
  } catch (e) {
    res = { status: 0, body: {} };
  }
  if (res.status === 401 && token && token !== state.device && !opts.login) expired();
  return res;
}
const acting = () => (state.farmer ? state.farmer.token : state.session);

function errorText(res) {
  if (res.status === 0) return "连不上服务器，请稍后再试；一直这样请找工作人员";
  return (res.body && res.body.error && res.body.error.message_zh) || "出错了，请再试一次或找工作人员";
}

/* The message bar: always there, so that nothing moves when it shows. */
function say(text, kind = "err") {
  const m = $("msg");
  m.textContent = text || "";
  m.className = text ? "on " + kind : "";
}

/* Screens, with a back button that goes where one came from. */
/* No way back from these: the login, the menus, and a print (not to issue twice). */
const ROOTS = ["s-setup", "s-login", "s-home", "s-print"];
function show(id, opts = {}) {
  if (opts.root) state.stack = [];
  if (state.stack[state.stack.length - 1] !== id) state.stack.push(id);
  render(id);
}
function render(id) {
  document.querySelectorAll(".screen").forEach((s) => s.classList.toggle("on", s.id === id));
  if (id !== "s-camera") stopCamera();
  $("logout").hidden = !state.session;
  $("back").hidden = ROOTS.includes(id) || state.stack.length < 2;
  $("who").textContent = !state.session ? "" : state.farmer ? "代开：" + state.farmer.name : state.name;
}
function back() {
  if (state.stack.length < 2) return;
  state.stack.pop();
  say("");
  render(state.stack[state.stack.length - 1]);
}
$("back").addEventListener("click", back);

/* Idle: logged out after a while, with what was typed cleared, and told why;
 * never while a print job is followed. */
function resetIdle() {
  clearTimeout(state.idle);
  if (state.session) state.idle = setTimeout(onIdle, state.idleMs);
}
function onIdle() {
  if (state.printing) return resetIdle();
  const minutes = Math.max(1, Math.round(state.idleMs / 60000));
  logout().then(() => say(`您有${minutes}分钟没有操作，已自动退出，刚才输入的内容已清除。请重新登录。`, "info"));
}
document.addEventListener("pointerdown", resetIdle);
document.addEventListener("keydown", resetIdle);

function expired() {
  if (!state.session) return;
  state.session = null;
  state.farmer = null;
  clearAll();
  startLogin();
  say("登录已过期，请重新登录");
}

/* Keypads and the fields they type into. */
function keypad(container, onKey, extra) {
  ["1", "2", "3", "4", "5", "6", "7", "8", "9", extra || "", "0", "⌫"].forEach((k) => {
    const b = document.createElement("button");
    b.textContent = k;
    b.disabled = k === "";
    b.setAttribute("aria-label", k === "⌫" ? "删除" : k);
    b.addEventListener("click", () => onKey(k));
    container.appendChild(b);
  });
}
function typeInto(field, k) {
  let v = field.dataset.fresh ? "" : field.dataset.value || "";
  delete field.dataset.fresh;
  if (k === "⌫") v = v.slice(0, -1);
  else if (v.length < Number(field.dataset.max)) v += k;
  setField(field, v);
  return v;
}
function setField(field, v, fresh) {
  field.dataset.value = v;
  field.textContent = field.dataset.secret ? "●".repeat(v.length) : v;
  if (fresh) field.dataset.fresh = "1";
  else delete field.dataset.fresh;
}
const valueOf = (id) => $(id).dataset.value || "";
function clearAll() {
  document.querySelectorAll(".field").forEach((f) => setField(f, ""));
  document.querySelectorAll("input.text").forEach((i) => { i.value = ""; });
  state.flow = null;
  scanned.length = 0;
}
function activate(on, off) {
  $(on).classList.add("active");
  if (off) $(off).classList.remove("active");
}
/* Two fields typed on one keypad: a tap on a field types into it; the first,
 * once full, hands over to the second. */
function fieldPair(first, second, pad) {
  const pair = { current: first };
  const pick = (id, other) => { pair.current = id; activate(id, other); };
  $(first).addEventListener("click", () => pick(first, second));
  $(second).addEventListener("click", () => pick(second, first));
  keypad($(pad), (k) => {
    const v = typeInto($(pair.current), k);
    if (pair.current === first && v.length === Number($(first).dataset.max)) pick(second, first);
  });
  pair.reset = () => {
    setField($(first), "");
    setField($(second), "");
    pick(first, second);
  };
  return pair;
}

/* Lists shown a page at a time, with 上一页 and 下一页. */
function pager(prefix, fetchPage, draw) {
  const p = { offset: 0, size: PAGE[prefix], total: 0 };
  p.load = async (offset = 0) => {
    p.offset = Math.max(0, offset);
    const res = await fetchPage(p.offset, p.size);
    if (res.status !== 200) return say(errorText(res));
    p.total = res.body.total;
    draw(res.body.items || []);
    $(prefix + "-page").textContent = p.total ? `第 ${Math.floor(p.offset / p.size) + 1} / ${Math.ceil(p.total / p.size)} 页` : "";
    $(prefix + "-prev").disabled = p.offset === 0;
    $(prefix + "-next").disabled = p.offset + p.size >= p.total;
  };
  $(prefix + "-prev").addEventListener("click", () => p.load(p.offset - p.size));
  $(prefix + "-next").addEventListener("click", () => p.load(p.offset + p.size));
  return p;
}
function listItem(html, button, onTap) {
  const d = document.createElement("div");
  d.className = "item";
  d.innerHTML = `<div>${html}</div>`;
  if (button) {
    const b = document.createElement("button");
    b.textContent = button;
    b.addEventListener("click", onTap);
    d.appendChild(b);
  } else if (onTap) {
    d.addEventListener("click", onTap);
  }
  return d;
}
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const when = (iso) => (iso || "").slice(5, 16).replace("T", " ");

/* Log in: phone and PIN on the keypad. */
const loginPair = fieldPair("f-phone", "f-pin", "login-keys");
function startLogin() {
  state.session = null;
  state.stack = [];
  loginPair.reset();
  show("s-login", { root: true });
}
$("login-go").addEventListener("click", async () => {
  const phone = valueOf("f-phone"), pin = valueOf("f-pin");
  if (phone.length !== 11) return say("请输入11位手机号");
  if (pin.length !== 6) return say("密码是6位数字");
  const res = await api("/api/v1/sessions", { method: "POST", token: state.device, body: { phone, pin }, login: true });
  setField($("f-pin"), "");
  if (res.status !== 201) {
    $("f-pin").click();
    return say(errorText(res));
  }
  Object.assign(state, { session: res.body.token, role: res.body.role, kiosk: res.body.kiosk,
    subject: res.body.subject.id, name: res.body.subject.name, farmer: null, station: null });
  say(res.body.subject.name + "，您好", "ok");
  resetIdle();
  showHome();
});

async function logout() {
  const tokens = [state.farmer && state.farmer.token, state.session].filter(Boolean);
  state.farmer = null;
  state.printing = false;
  for (const t of tokens) await api("/api/v1/sessions/current", { method: "DELETE", token: t, login: true });
  clearAll();
  say("");
  startLogin();
}
$("logout").addEventListener("click", logout);
$("done").addEventListener("click", () => (state.farmer ? endFarmer() : logout()));

/* Home: what this person does here. */
const MENUS = {
  producer: [["开合格证", () => startIssue()], ["我的合格证", () => openMine()]],
  purchaser: [["收货扫码", () => openCollect()], ["再次开具（从进货开）", () => openStock()], ["我的合格证", () => openMine()]],
  station: [["帮农户开证", () => openFarmers()], ["登记农户", () => openEnrol()]],
};
function showHome() {
  const role = state.farmer ? "producer" : state.role;
  const items = [...(MENUS[role] || [])];
  if (state.farmer) items.push(["开完了，回到服务站", () => endFarmer()]);
  $("home-title").textContent = state.farmer ? `正在帮 ${state.farmer.name} 开证（本站协助）` : "请选择";
  const box = $("home-menu");
  box.innerHTML = "";
  items.forEach(([label, go]) => {
    const b = document.createElement("button");
    b.className = "choice";
    b.textContent = label;
    b.addEventListener("click", () => { say(""); go(); });
    box.appendChild(b);
  });
  show("s-home", { root: true });
}

/* Picking products: categories, then products, the usual ones first. */
const picker = { mode: "issue", menu: null, category: null, page: 0, chosen: new Set() };
async function openPicker(mode) {
  picker.mode = mode;
  const res = await api("/api/v1/products/menu");
  if (res.status !== 200) return say(errorText(res));
  picker.menu = res.body;
  drawCategories();
  show("s-category");
}
function productButton(p) {
  const b = document.createElement("button");
  b.className = "choice" + (picker.chosen.has(p.name) ? " sel" : "");
  b.textContent = p.name;
  b.addEventListener("click", () => tapProduct(p, b));
  return b;
}
function drawCategories() {
  const mine = picker.mode === "issue" ? picker.menu.mine.slice(0, 8) : [];
  $("mine-box").hidden = mine.length === 0;
  $("categories-hint").textContent = mine.length ? "或者先选类别" : "先选类别";
  $("mine").innerHTML = "";
  mine.forEach((p) => $("mine").appendChild(productButton(p)));
  $("categories").innerHTML = "";
  picker.menu.categories.forEach((c) => {
    const b = document.createElement("button");
    b.className = "choice";
    b.innerHTML = `${esc(c.name)}<small>${c.products.length} 种</small>`;
    b.addEventListener("click", () => { picker.category = c; picker.page = 0; drawProducts(); show("s-product"); });
    $("categories").appendChild(b);
  });
  $("category-title").textContent = picker.mode === "issue" ? "开什么产品？" : "农户种养哪些产品？（可多选，可不选）";
  $("picked-go").hidden = picker.mode !== "enrol";
  $("picked-go").textContent = `选好了（${picker.chosen.size} 种）`;
}
function drawProducts() {
  const all = picker.category.products, per = productsPerPage();
  const pages = Math.ceil(all.length / per);
  picker.page = Math.min(picker.page, pages - 1);
  picker.per = per;
  $("product-title").textContent = picker.category.name;
  $("products").innerHTML = "";
  all.slice(picker.page * per, (picker.page + 1) * per).forEach((p) => $("products").appendChild(productButton(p)));
  $("page").textContent = `第 ${picker.page + 1} / ${pages} 页`;
  $("prev").disabled = picker.page === 0;
  $("next").disabled = picker.page + 1 >= pages;
}
$("prev").addEventListener("click", () => { picker.page--; drawProducts(); });
/* Turned: the same products stay in view. */
portrait.addEventListener("change", () => {
  if (!picker.category) return;
  picker.page = Math.floor((picker.page * picker.per) / productsPerPage());
  drawProducts();
});
$("next").addEventListener("click", () => { picker.page++; drawProducts(); });
function tapProduct(p, button) {
  if (picker.mode === "enrol") {
    if (picker.chosen.has(p.name)) picker.chosen.delete(p.name);
    else picker.chosen.add(p.name);
    button.classList.toggle("sel", picker.chosen.has(p.name));
    $("picked-go").textContent = `选好了（${picker.chosen.size} 种）`;
    return;
  }
  state.flow = { kind: "issue", product: p, unit: UNIT_ZH[p.default_unit] ? p.default_unit : "kg" };
  startQty();
}

/* Issuing: product, quantity, basis (and its test), labels, print. */
function startIssue() {
  state.flow = null;
  openPicker("issue");
}
function startQty() {
  const f = state.flow;
  setField($("f-qty"), f.qty || "", !!f.qty);
  $("qty-title").textContent = f.product.name + "：多少？";
  const units = f.kind === "reissue" ? [[f.unit, UNIT_ZH[f.unit]]] : UNITS.slice(0, 6);
  if (!units.some(([u]) => u === f.unit)) units[units.length - 1] = [f.unit, UNIT_ZH[f.unit]];
  const box = $("units");
  box.innerHTML = "";
  units.forEach(([u, zh]) => {
    const b = document.createElement("button");
    b.className = "choice" + (u === f.unit ? " sel" : "");
    b.textContent = zh;
    b.addEventListener("click", () => { f.unit = u; box.querySelectorAll(".choice").forEach((c) => c.classList.toggle("sel", c === b)); });
    box.appendChild(b);
  });
  show("s-qty");
}
keypad($("qty-keys"), (k) => {
  if (k === "." && valueOf("f-qty").includes(".")) return;
  typeInto($("f-qty"), k);
}, ".");
$("qty-go").addEventListener("click", () => {
  const f = state.flow, q = Number(valueOf("f-qty"));
  if (!(q > 0)) return say("请输入数量");
  if (f.kind === "reissue" && q > f.available) return say(`最多 ${f.available} ${UNIT_ZH[f.unit]}（所选进货剩下的）`);
  say("");
  f.qty = valueOf("f-qty");
  if (f.kind === "reissue") {
    f.basis = "quality_control";
    return startLabels();
  }
  document.querySelectorAll("[data-basis]").forEach((b) => b.classList.remove("sel"));
  show("s-basis");
});
document.querySelectorAll("[data-basis]").forEach((b) => b.addEventListener("click", () => {
  state.flow.basis = b.dataset.basis;
  state.flow.test = null;
  if (b.dataset.basis === "quality_control") return startLabels();
  openTests();
}));

/* A test-based basis: one's passing test of this product, or a new one photographed. */
const tests = pager("tests", (offset) => api(`/api/v1/rapid-tests?subject=${state.farmer ? state.farmer.id : state.subject}`
    + `&product=${encodeURIComponent(state.flow.product.name)}&limit=50`)
  .then((res) => {
    if (res.status !== 200) return res;
    const ok = res.body.items.filter((x) => x.result === "pass" && x.backs_certificates);
    return { status: 200, body: { items: ok.slice(offset, offset + PAGE.tests), total: ok.length } };
  }), (items) => {
  const box = $("tests");
  box.innerHTML = "";
  const KIND = { station: "检测站快检", self: "自己检测", commissioned: "委托检测" };
  items.forEach((x) => box.appendChild(listItem(
    `<b>${esc(KIND[x.kind] || x.kind)} · 合格</b><br>${esc(when(x.tested_at))} ${esc(x.station || x.lab || "")}${x.report_number ? " 报告 " + esc(x.report_number) : ""}`,
    "用这条", () => { state.flow.test = x.id; startLabels(); })));
  if (!items.length) box.appendChild(listItem("还没有这个产品的合格检测记录。可以现在检测，拍照留存。"));
});
function openTests() {
  $("tests-title").textContent = `${state.flow.product.name}：选择合格的检测记录`;
  $("own-test").textContent = state.flow.basis === "self_test" ? "现在自己检测，拍照留存" : "登记委托检测报告，拍照留存";
  tests.load(0);
  show("s-tests");
}
$("own-test").addEventListener("click", () => {
  const self = state.flow.basis === "self_test";
  state.flow.own = { kind: self ? "self" : "commissioned", method: self ? null : "lab", result: null };
  $("owntest-self").hidden = !self;
  $("owntest-lab").hidden = self;
  $("owntest-title").textContent = self ? `${state.flow.product.name}：用什么检测的？` : `${state.flow.product.name}：委托检测报告`;
  document.querySelectorAll("[data-method],[data-result]").forEach((b) => b.classList.remove("sel"));
  show("s-owntest");
});
document.querySelectorAll("[data-method]").forEach((b) => b.addEventListener("click", () => {
  state.flow.own.method = b.dataset.method;
  document.querySelectorAll("[data-method]").forEach((c) => c.classList.toggle("sel", c === b));
}));
document.querySelectorAll("[data-result]").forEach((b) => b.addEventListener("click", () => {
  state.flow.own.result = b.dataset.result;
  document.querySelectorAll("[data-result]").forEach((c) => c.classList.toggle("sel", c === b));
}));
$("owntest-go").addEventListener("click", () => {
  const own = state.flow.own;
  if (own.kind === "self" && !own.method) return say("请选择用的是试纸还是速测卡");
  if (own.kind === "commissioned" && (!$("f-lab").value.trim() || !$("f-report").value.trim())) return say("请填写检测机构和报告编号");
  if (!own.result) return say("请选择检测结果：合格还是不合格");
  say("");
  $("camera-title").textContent = own.kind === "self" ? "把试纸放在镜头前，点“拍照”" : "把检测报告放在镜头前，点“拍照”";
  openCamera();
});

/* The kiosk's camera: a photo of the strip or the report, as a JPEG. */
let stream = null;
async function openCamera() {
  stopCamera();
  $("photo-img").hidden = true;
  $("video").hidden = false;
  $("shoot").hidden = false;
  $("retake").hidden = $("use-photo").hidden = true;
  show("s-camera");
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 1280 } } });
    $("video").srcObject = stream;
  } catch (e) {
    say("摄像头用不了，请找工作人员检查");
  }
}
function stopCamera() {
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
}
$("shoot").addEventListener("click", () => {
  const v = $("video");
  if (!v.videoWidth) return say("摄像头还没准备好，请稍等再拍");
  const scale = Math.min(1, 1280 / v.videoWidth);
  const c = document.createElement("canvas");
  c.width = Math.round(v.videoWidth * scale);
  c.height = Math.round(v.videoHeight * scale);
  c.getContext("2d").drawImage(v, 0, 0, c.width, c.height);
  state.flow.photo = c.toDataURL("image/jpeg", 0.85);
  $("photo-img").src = state.flow.photo;
  $("photo-img").hidden = false;
  $("video").hidden = true;
  $("shoot").hidden = true;
  $("retake").hidden = $("use-photo").hidden = false;
});
$("retake").addEventListener("click", openCamera);
$("use-photo").addEventListener("click", async () => {
  const f = state.flow, own = f.own;
  const ITEMS = { colloidal_gold: "禁限用和常规农药", enzyme_inhibition: "有机磷和氨基甲酸酯类农药", lab: "农药残留" };
  const body = own.kind === "self"
    ? { kind: "self", product: f.product.name, method: own.method, items: ITEMS[own.method], result: own.result }
    : { kind: "commissioned", product: f.product.name, lab: $("f-lab").value.trim(), report_number: $("f-report").value.trim(),
      items: ITEMS.lab, result: own.result };
  $("use-photo").disabled = true;
  const res = await api("/api/v1/rapid-tests/own", { method: "POST", body });
  const photo = res.status === 201
    ? await api(`/api/v1/rapid-tests/${res.body.id}/photo`, { method: "PUT", body: { photo: f.photo.split(",")[1] } })
    : res;
  $("use-photo").disabled = false;
  if (photo.status !== 201) return say(errorText(photo));
  if (own.result === "fail") {
    say("检测不合格：这批货不能采收、不能上市（不合格不采收、不上市）。已记录，复检合格后才能开证。", "info");
    return showHome();
  }
  say("检测记录和照片已保存", "ok");
  f.test = res.body.id;
  startLabels();
});

/* The number of labels, typed; then check and print. */
function startLabels() {
  const f = state.flow;
  if (f.kind === "reissue") f.inputs = drawInputs(f.lots, f.qty);
  const rows = [["产品", f.product.name], ["数量", `${f.qty} ${UNIT_ZH[f.unit]}`], ["承诺依据", BASIS_ZH[f.basis]]];
  if (f.test) rows.push(["检测记录", "编号 " + f.test]);
  if (f.kind === "reissue") rows[2] = ["来源", f.inputs.map((x) => x.number).join("、")];
  $("summary").innerHTML = rows.map(([k, v]) => `<div>${k}：${esc(v)}</div>`).join("");
  setField($("f-labels"), String(f.labels || 1), true);
  show("s-labels");
}
keypad($("labels-keys"), (k) => typeInto($("f-labels"), k));
$("print").addEventListener("click", async () => {
  const n = Number(valueOf("f-labels"));
  if (!(n >= 1)) return say("请输入标签张数");
  if (n > MAX_LABELS) return say(`一次最多打印 ${MAX_LABELS} 张`);
  state.flow.labels = n;
  say("");
  issue();
});
async function origin() {
  const me = await api("/api/v1/subjects/" + (state.farmer ? state.farmer.id : state.subject));
  const code = me.body.region_code || "";
  const region = code ? await api("/api/v1/regions/" + code) : { body: {} };
  return { origin_code: code, origin: region.body.full_name || me.body.region_name || "" };
}
async function issue() {
  const f = state.flow;
  $("print").disabled = true;
  startPrintScreen("正在开具…");
  const body = { product: f.product.name, quantity: Number(f.qty), unit: f.unit, basis: f.basis, labels: f.labels,
    printer: state.kiosk, ...(await origin()) };
  if (f.test) body.test = f.test;
  if (f.inputs) body.inputs = f.inputs.map(({ certificate, external, quantity, unit }) => (external ? { external, quantity, unit } : { certificate, quantity, unit }));
  const key = "kiosk-" + Date.now() + "-" + Math.random().toString(36).slice(2);
  let res;
  for (let attempt = 0; attempt < 3; attempt++) {
    res = await api("/api/v1/certificates", { method: "POST", body, key });
    if (res.status !== 503 && res.status !== 0) break;
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  $("print").disabled = false;
  if (res.status !== 201 && res.status !== 200) return printFinished("bad", errorText(res), "");
  followJob(res.body.print_job && res.body.print_job.id, res.body.number, f.labels);
}

/* Following the print job: every second, in plain words, with what to do. */
const PROBLEMS = [
  [["media-empty", "media-needed"], "打印机没纸了", "请服务站工作人员装上标签纸。装好后会接着打印，不用重新开。"],
  [["media-jam"], "标签纸卡住了", "请服务站工作人员打开打印机，取出卡住的纸。取出后会接着打印。"],
  [["cover-open", "door-open", "interlock-open"], "打印机的盖子开着", "请把打印机的盖子盖好，盖好后会接着打印。"],
  [["offline", "connecting-to-device", "shutdown", "unreachable"], "打印机没有连上", "请服务站工作人员检查打印机的电源和数据线。连上后会接着打印。"],
  [["cups-down", "no-queue"], "连不上打印服务", "请服务站工作人员检查打印服务和打印机设置。恢复后会接着打印。"],
  [["paused", "printer-stopped", "stopped"], "打印机暂停了", "请服务站工作人员在打印机上恢复打印。恢复后会接着打印，不用重新开。"],
];
function keywords(...values) {
  return values.flatMap((v) => (Array.isArray(v) ? v : String(v || "").split(/[,\s]+/)))
    .map((k) => k.trim().toLowerCase()).filter((k) => k && !/-(warning|report)$/.test(k))
    .map((k) => k.replace(/-error$/, ""));
}
function describe(job, number, labels) {
  const s = job.state;
  // The job's fault (its code, a keyword below) where the service names one, else CUPS's reasons.
  const fault = job.fault || null;
  const keys = keywords(fault && fault.code, job.printer_state_reasons, job.reason,
    job.printer_state === "stopped" ? "stopped" : "");
  const later = `合格证已经开好了（编号 ${number}）。请服务站工作人员修好打印机，然后在“我的合格证”里补打。`;
  if (s === "completed") return ["done", `打印好了，请取走标签（${labels} 张）`, ""];
  if (s === "failed" && keys.some((k) => k.startsWith("timeout"))) return ["bad", "没有按时打印出来，已经取消", later];
  if (["failed", "canceled", "aborted"].includes(s))
    return ["bad", "打印失败", (fault && fault.message_zh ? fault.message_zh + "。" : "") + later];
  const p = PROBLEMS.find(([ks]) => ks.some((k) => keys.includes(k)));
  if (p) return ["problem", p[1], p[2] + `（编号 ${number}）`];
  if (fault && fault.message_zh) return ["problem", "打印机出了问题", fault.message_zh + `（编号 ${number}）`];
  if (s === "held") return ["problem", "打印任务被挂起了", "请服务站工作人员处理打印机。"];
  return ["", s === "printing" || s === "processing" ? "正在打印…" : "正在发送到打印机…", ""];
}
function startPrintScreen(text) {
  ["again", "done", "mine-go"].forEach((id) => { $(id).hidden = true; });
  setPrint("", text, "", "");
  $("print-state").dataset.number = "";
  state.printing = true;
  show("s-print");
}
/* The state for scripts too: data-state (the job's), data-problem, data-fault (its code), data-number. */
function setPrint(cls, text, todo, s, fault) {
  $("print-state").className = "state " + cls;
  $("print-state").textContent = text;
  $("print-state").dataset.state = s;
  $("print-state").dataset.problem = cls === "problem" ? "1" : "";
  $("print-state").dataset.fault = fault || "";
  $("print-todo").textContent = todo;
}
async function followJob(id, number, labels) {
  const deadline = Date.now() + 600000;
  $("print-state").dataset.number = number || "";
  if (!id) return printFinished("done", `已开具（编号 ${number}），没有打印`, "");
  while (Date.now() < deadline && state.printing) {
    const res = await api("/api/v1/print-jobs/" + id);
    if (res.status === 200) {
      const [cls, text, todo] = describe(res.body, number, labels);
      setPrint(cls, text, todo, res.body.state || "", res.body.fault && res.body.fault.code);
      if (["completed", "failed", "canceled", "aborted"].includes(res.body.state)) break;
    } else if (res.status === 502) {
      setPrint("problem", "连不上打印服务", "系统会继续查询；一直这样请找服务站工作人员。", "");
    } else if (res.status === 401) {
      return;
    }
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  if (state.session) printFinished();
}
function printFinished(cls, text, todo) {
  if (text) setPrint(cls, text, todo, "");
  state.printing = false;
  resetIdle();
  $("again").hidden = $("done").hidden = $("mine-go").hidden = false;
  $("again").textContent = state.role === "purchaser" ? "继续开" : "再开一张";
  $("done").textContent = state.farmer ? "开完了，回到服务站" : "完成，退出";
  if (state.stack[state.stack.length - 1] === "s-print") render("s-print");
}
$("again").addEventListener("click", () => (state.role === "purchaser" && !state.farmer ? openStock() : startIssue()));
$("mine-go").addEventListener("click", () => openMine());

/* 我的合格证: one's certificates, newest first; reprint prints the same codes. */
const certs = pager("certs", (offset, size) => api(`/api/v1/certificates?mine&limit=${size}&offset=${offset}`), (items) => {
  const box = $("certs");
  box.innerHTML = "";
  items.forEach((c) => {
    const html = `<b>${esc(c.product)} ${esc(c.quantity)} ${esc(UNIT_ZH[c.unit] || c.unit)}</b> · ${c.labels} 张`
      + `<br>${esc(when(c.issued_at))} 编号 ${esc(c.number)}${c.revoked ? " · 已撤销" : ""}${c.reprints ? ` · 补打过 ${c.reprints} 次` : ""}`;
    box.appendChild(listItem(html, c.revoked ? null : "补打", c.revoked ? null : () => reprint(c)));
  });
  if (!items.length) box.appendChild(listItem("还没有开过合格证"));
});
function openMine() {
  certs.load(0);
  show("s-mine");
}
async function reprint(c) {
  startPrintScreen(`正在补打 ${c.product}（编号 ${c.number}）…`);
  const res = await api(`/api/v1/certificates/${c.id}/reprint`, { method: "POST", body: { printer: state.kiosk } });
  if (res.status !== 201) return printFinished("bad", errorText(res), "");
  followJob(res.body.print_job.id, c.number, c.labels);
}

/* Purchasers: collect by scanning each package (a scanner types the code and Enter). */
const scanned = [];
let collected = false; // the list shows what the last collection did
const RECEIPT_ZH = { recorded: "收好了", already_collected: "这件已经收过了", exceeds_certificate: "超过了合格证上的数量",
  unit_mismatch: "计量单位对不上", own_certificate: "这是您自己开的合格证", invalid_quantity: "数量不对", revoked: "合格证已撤销，不能收",
  bad_signature: "疑似假码，不能收", malformed: "不是合格证二维码", unknown_key: "无法确认真假，不能收",
  key_revoked: "这个码已作废，不能收", unknown_certificate: "系统中查不到这张合格证", unknown_item: "合格证没有这个标签", not_issued: "与系统开出的码不一致" };
function openCollect() {
  scanned.length = 0;
  collected = false;
  drawScanned();
  show("s-collect");
  $("f-scan").value = "";
  $("f-scan").focus();
}
function drawScanned(results) {
  const box = $("scanned");
  box.innerHTML = "";
  const from = Math.max(0, scanned.length - PAGE.scanned);
  scanned.slice(from).forEach((code, i) => {
    const r = results && results[from + i];
    const html = `<b>第 ${scanned.indexOf(code) + 1} 件</b> …${esc(code.slice(-12))}`
      + (r ? `<br>${esc(RECEIPT_ZH[r.status] || r.status)}${r.quantity ? ` ${r.quantity} ${UNIT_ZH[r.unit] || ""}` : ""}` : "");
    box.appendChild(listItem(html, results ? null : "删掉", results ? null : () => { scanned.splice(scanned.indexOf(code), 1); drawScanned(); }));
  });
  $("scan-count").textContent = `已扫 ${scanned.length} 件` + (from ? `（显示最后${PAGE.scanned}件）` : "");
  $("collect-go").disabled = scanned.length === 0 || !!results;
}
$("f-scan").addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  const code = $("f-scan").value.trim();
  $("f-scan").value = "";
  if (!code) return;
  if (collected) {
    scanned.length = 0;
    collected = false;
  }
  if (scanned.includes(code)) return say("这件刚才已经扫过了", "info");
  if (scanned.length >= 100) return say("一次最多收100件，请先确认收货");
  scanned.push(code);
  say("");
  drawScanned();
});
$("collect-go").addEventListener("click", async () => {
  const res = await api("/api/v1/receipts", { method: "POST", body: { receipts: scanned.map((code) => ({ code })) } });
  if (res.status !== 200 && res.status !== 201) return say(errorText(res));
  drawScanned(res.body.results);
  collected = true;
  const bad = res.body.results.length - res.body.recorded;
  say(`收好了 ${res.body.recorded} 件` + (bad ? `，${bad} 件没有收（看下面的原因）` : ""), bad ? "info" : "ok");
});

/* Purchasers: re-issue from the stock, drawing from the lots chosen. */
const stockSel = new Map();
let stockItems = [];
const stock = pager("stock", async (offset, size) => {
  const res = await api("/api/v1/stock");
  if (res.status !== 200) return res;
  stockItems = res.body.items.filter((x) => x.left > 0);
  return { status: 200, body: { items: stockItems.slice(offset, offset + size), total: stockItems.length } };
}, (items) => {
  const box = $("stock");
  box.innerHTML = "";
  items.forEach((x) => {
    const key = (x.certificate || "e" + x.external) + "";
    const d = listItem(`<b>${esc(x.product)} 剩 ${x.left} ${esc(UNIT_ZH[x.unit] || x.unit)}</b><br>${esc(x.issuer.name)} · 编号 ${esc(x.number)}`,
      null, () => {
        const first = [...stockSel.values()][0];
        if (first && (first.product !== x.product || first.unit !== x.unit)) return say("一次只能用同一种产品、同一计量单位的进货");
        if (stockSel.has(key)) stockSel.delete(key);
        else stockSel.set(key, x);
        d.classList.toggle("sel", stockSel.has(key));
        $("stock-go").disabled = stockSel.size === 0;
        say("");
      });
    d.classList.toggle("sel", stockSel.has(key));
    box.appendChild(d);
  });
  if (!items.length) box.appendChild(listItem("没有剩余的进货。请先收货。"));
});
function openStock() {
  stockSel.clear();
  $("stock-go").disabled = true;
  stock.load(0);
  show("s-stock");
}
$("stock-go").addEventListener("click", () => {
  const lots = [...stockSel.values()];
  const available = Math.round(lots.reduce((s, x) => s + x.left, 0) * 1000) / 1000;
  state.flow = { kind: "reissue", product: { name: lots[0].product }, unit: lots[0].unit, lots, available, qty: String(available) };
  startQty();
});
/* What the new certificate draws: the chosen lots in turn, until its quantity. */
const drawInputs = (lots, qty) => {
  let left = Number(qty);
  return lots.map((x) => {
    const q = Math.min(x.left, left);
    left = Math.round((left - q) * 1000) / 1000;
    return { certificate: x.certificate, external: x.external, quantity: q, unit: x.unit, number: x.number };
  }).filter((x) => x.quantity > 0);
};

/* The station: a farmer of its villages, the farmer's PIN, then the farmer's session. */
const farmers = pager("farmers", (offset, size) => api(`/api/v1/households?limit=${size}&offset=${offset}`
    + ($("f-farmer-q").value.trim() ? "&q=" + encodeURIComponent($("f-farmer-q").value.trim()) : "")), (items) => {
  const box = $("farmers");
  box.innerHTML = "";
  items.forEach((x) => box.appendChild(listItem(
    `<b>${esc(x.name)}</b>${x.locked ? " · 密码锁定中" : ""}<br>${esc(x.village_name || "")}${x.contact ? " · " + esc(x.contact) : ""}`,
    "帮这位开", () => askFarmerPin(x))));
  if (!items.length) box.appendChild(listItem("没有找到。还没登记的农户，请先“登记农户”。"));
});
function openFarmers() {
  $("f-farmer-q").value = "";
  farmers.load(0);
  show("s-farmers");
}
$("farmer-search").addEventListener("click", () => farmers.load(0));
$("f-farmer-q").addEventListener("keydown", (e) => { if (e.key === "Enter") farmers.load(0); });
let farmerChosen = null;
function askFarmerPin(x) {
  farmerChosen = x;
  $("farmer-pin-title").textContent = `请 ${x.name} 输入密码`;
  setField($("f-farmer-pin"), "");
  show("s-farmer-pin");
}
keypad($("farmer-pin-keys"), (k) => typeInto($("f-farmer-pin"), k));
$("farmer-pin-go").addEventListener("click", async () => {
  const pin = valueOf("f-farmer-pin");
  if (pin.length !== 6) return say("密码是6位数字");
  const res = await api("/api/v1/sessions/assisted", { method: "POST", body: { producer: farmerChosen.id, pin }, token: state.session, login: true });
  setField($("f-farmer-pin"), "");
  if (res.status !== 201) {
    say(errorText(res));
    if (res.status === 423) back();
    return;
  }
  state.farmer = { token: res.body.token, id: res.body.subject.id, name: res.body.subject.name };
  say(`${state.farmer.name}，您好。现在由服务站帮您开证`, "ok");
  showHome();
});
async function endFarmer() {
  const token = state.farmer && state.farmer.token;
  state.farmer = null;
  state.flow = null;
  if (token) await api("/api/v1/sessions/current", { method: "DELETE", token, login: true });
  say("农户的登录已结束", "ok");
  showHome();
}

/* The station enrols a farmer: name and village, phone, products, the farmer's PIN. */
const enrolment = { village: null };
async function openEnrol() {
  if (!state.station) {
    const res = await api(`/api/v1/kiosks/${state.kiosk}/station`);
    if (res.status !== 200) return say(errorText(res));
    state.station = res.body;
  }
  enrolment.village = state.station.villages.length === 1 ? state.station.villages[0].code : null;
  picker.chosen = new Set();
  $("f-name").value = "";
  setField($("f-enrol-phone"), "");
  const box = $("villages");
  box.innerHTML = "";
  state.station.villages.forEach((v) => {
    const b = document.createElement("button");
    b.className = "choice" + (v.code === enrolment.village ? " sel" : "");
    b.textContent = v.name;
    b.addEventListener("click", () => { enrolment.village = v.code; box.querySelectorAll(".choice").forEach((c) => c.classList.toggle("sel", c === b)); });
    box.appendChild(b);
  });
  show("s-enrol");
}
$("enrol-go").addEventListener("click", () => {
  if (!$("f-name").value.trim()) return say("请填写农户姓名");
  if (!enrolment.village) return say("请选择农户所在的村");
  say("");
  show("s-enrol-phone");
});
keypad($("enrol-phone-keys"), (k) => typeInto($("f-enrol-phone"), k));
$("enrol-phone-go").addEventListener("click", () => {
  const phone = valueOf("f-enrol-phone");
  if (phone && phone.length !== 11) return say("手机号是11位；没有手机可以不填");
  say("");
  openPicker("enrol");
});
const enrolPair = fieldPair("f-enrol-pin", "f-enrol-pin2", "enrol-pin-keys");
$("picked-go").addEventListener("click", () => {
  enrolPair.reset();
  $("enrol-pin-title").textContent = `请 ${$("f-name").value.trim()} 自己设6位密码`;
  show("s-enrol-pin");
});
$("enrol-pin-go").addEventListener("click", async () => {
  const pin = valueOf("f-enrol-pin");
  if (pin.length !== 6) return say("密码是6位数字");
  if (pin !== valueOf("f-enrol-pin2")) {
    setField($("f-enrol-pin2"), "");
    $("f-enrol-pin2").click();
    return say("两遍输的密码不一样，请再输一遍");
  }
  const body = { name: $("f-name").value.trim(), village: enrolment.village, products: [...picker.chosen], pin };
  if (valueOf("f-enrol-phone")) body.phone = valueOf("f-enrol-phone");
  const res = await api("/api/v1/households", { method: "POST", body });
  setField($("f-enrol-pin"), "");
  setField($("f-enrol-pin2"), "");
  if (res.status !== 201) {
    $("f-enrol-pin").click();
    return say(errorText(res));
  }
  say(`登记好了：${res.body.name}（${res.body.village_name}）。现在可以“帮农户开证”了`, "ok");
  showHome();
});

/* Start: the device token from the set-up address, then the login screen. */
(function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("device")) {
    localStorage.setItem("agricert-device", hash.get("device"));
    if (hash.get("idle")) localStorage.setItem("agricert-idle", hash.get("idle"));
    history.replaceState(null, "", location.pathname);
  }
  state.device = localStorage.getItem("agricert-device");
  state.idleMs = 1000 * (Number(localStorage.getItem("agricert-idle")) || 120);
  if (!state.device) return show("s-setup", { root: true });
  startLogin();
})();
