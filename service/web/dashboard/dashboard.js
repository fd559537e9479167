// The regulator's dashboard: log in, then one page per section, each
// loaded from the API for the period chosen (from .. to, to excluded).
"use strict";

(function () {
  const { el, api, get, say, table, word, progress } = AC;
  const $ = (id) => document.getElementById(id);
  const state = { who: null, prefix: "", township: null, data: {}, plan: null };
  const REGULATORS = ["township_regulator", "county_regulator", "admin"];
  const SUBJECT = "agricert-dashboard-subject";
  const ROLE = "agricert-dashboard-role";
  const PATROL_ROWS = 100;

  function period() {
    return `from=${$("from").value}&to=${$("to").value}`;
  }

  function setPeriod(from, to) {
    $("from").value = from;
    $("to").value = to;
  }

  // A section's loader runs; its failure is said once, in Chinese.
  async function show(name) {
    const page = $("page-" + name) ? name : "township";
    document.querySelectorAll(".page").forEach((p) => p.classList.toggle("on", p.id === "page-" + page));
    document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("on", a.hash === "#" + page));
    $("print-head").textContent = `${document.querySelector("#nav a.on").textContent}　${state.who.jurisdiction}　`
      + `统计时段 ${$("from").value} 至 ${$("to").value}（不含）　打印于 ${new Date().toLocaleString("zh-CN")}`;
    say("");
    try {
      await loaders[page]();
      document.body.dataset.loaded = page;
    } catch (e) {
      say(e.message);
      document.body.dataset.loaded = "error";
    }
  }

  function demo(doc) {
    if (doc && doc.demo) $("demo-banner").hidden = false;
    return doc;
  }

  /* 乡镇工作台账: annexes 3 and 4. */
  const quota = (done, q) => progress(done, q);
  const townshipColumns = [
    { key: "name", title: "乡镇", text: true },
    { key: "producers", title: "生产主体" },
    { key: "certificates", title: "开具合格证" },
    { key: "item_codes", title: "赋码数" },
    { key: "household_certificates", title: "农户开具" },
    { key: "household_share", title: "农户占比%" },
    { key: "producers_under_20", title: "不足20批主体" },
    { key: "patrols_onsite", title: "现场巡查" },
    { key: "patrols_online", title: "线上巡查" },
    { key: "patrol_coverage", title: "巡查覆盖率%" },
    { key: "rapid_tests_colloidal_gold", title: "胶体金/任务", cell: (r) => quota(r.rapid_tests_colloidal_gold, r.quota_colloidal_gold) },
    { key: "rapid_tests_enzyme_inhibition", title: "酶抑制/任务", cell: (r) => quota(r.rapid_tests_enzyme_inhibition, r.quota_enzyme_inhibition) },
    { key: "rapid_tests_veterinary", title: "兽残/任务", cell: (r) => quota(r.rapid_tests_veterinary, r.quota_veterinary) },
    { key: "rapid_tests_lab", title: "定量检测" },
    { key: "rapid_tests", title: "快检合计/任务", cell: (r) => quota(r.rapid_tests, r.rapid_test_quota) },
    { key: "rapid_tests_own", title: "主体自检/委托" },
    { key: "rapid_tests_failed", title: "不合格" },
  ];

  async function loadTownship() {
    const doc = demo(await get(`/api/v1/stats/supervision?${period()}`));
    state.data.township = doc;
    const t = doc.totals;
    $("township-cards").replaceChildren(
      card("合格证", t.certificates, "certificates"), card("赋码", t.item_codes, "item_codes"),
      card("农户开具", t.household_certificates, "household_certificates"),
      card("巡查（现场/线上）", `${t.patrols_onsite}/${t.patrols_online}`, "patrols"),
      card("快检", t.rapid_tests, "rapid_tests"), card("快检不合格", t.rapid_tests_failed, "rapid_tests_failed", t.rapid_tests_failed > 0));
    const total = Object.assign({ name: "合计", code: "total" }, t, {
      producers_under_20: sum(doc.townships, "producers_under_20"),
      household_share: t.certificates ? Math.round((1000 * t.household_certificates) / t.certificates) / 10 : null,
      patrol_coverage: t.producers ? Math.round((1000 * t.producers_patrolled) / t.producers) / 10 : null,
      quota_colloidal_gold: sum(doc.townships, "quota_colloidal_gold"), quota_enzyme_inhibition: sum(doc.townships, "quota_enzyme_inhibition"),
      quota_veterinary: sum(doc.townships, "quota_veterinary"),
    });
    table("township-table", townshipColumns, doc.townships.concat(doc.townships.length > 1 ? [total] : []), {
      key: "code", rowClass: (r) => (r.code === "total" ? "total" : r.rapid_tests_failed > 0 ? "warn" : undefined) });
    $("quarter-year").textContent = doc.year;
    const q = (i, f) => (r) => r.quarters[i][f];
    const cum = (r, f) => r.quarters.reduce((s, x) => s + x[f], 0);
    table("quarter-table", [
      { key: "name", title: "乡镇", text: true },
      { key: "q1", title: "一季度赋码", cell: q(0, "item_codes") }, { key: "q2", title: "二季度赋码", cell: q(1, "item_codes") },
      { key: "q3", title: "三季度赋码", cell: q(2, "item_codes") }, { key: "q4", title: "四季度赋码", cell: q(3, "item_codes") },
      { key: "codes_year", title: "全年赋码/任务", cell: (r) => progress(cum(r, "item_codes"), r.target_item_codes) },
      { key: "households_year", title: "农户开具/任务", cell: (r) => progress(cum(r, "household_certificates"), r.target_household_certificates) },
      { key: "tests_year", title: "全年快检/任务", cell: (r) => progress(cum(r, "rapid_tests"), r.rapid_test_quota) },
      { key: "patrols_year", title: "全年巡查", cell: (r) => cum(r, "patrols") },
    ], doc.townships, { key: "code" });
  }

  function sum(rows, key) {
    return rows.reduce((s, r) => s + (r[key] || 0), 0);
  }

  function card(title, value, key, bad) {
    return el("div", { class: bad ? "card bad" : "card", dataCard: key }, el("b", {}, value), title);
  }

  /* 每日开具 */
  async function loadDaily() {
    const doc = demo(await get(`/api/v1/stats/daily?${period()}`));
    const days = doc.days;
    const certs = sum(days, "certificates");
    $("daily-sum").textContent = `${doc.from} 至 ${doc.to}（不含）共开具合格证 ${certs} 张，赋码 ${sum(days, "item_codes")} 个，其中农户开具 ${sum(days, "household_certificates")} 张。`;
    $("daily-sum").dataset.certificates = certs;
    $("daily-chart").replaceChildren(AC.barChart(days.map((d) => ({ label: d.day.slice(5), key: d.day, value: d.certificates })), {
      title: "每日开具合格证", line: days.map((d) => d.item_codes),
      legend: [{ label: "合格证（张）", color: "#1a5f34" }, { label: "赋码（个）", color: "#d08a1a" }] }));
  }

  /* 快检不合格 */
  async function loadTests() {
    const doc = demo(await get(`/api/v1/failed-tests?${period()}`));
    table("blocks-table", [
      { key: "subject_name", title: "生产主体", text: true }, { key: "product", title: "产品", text: true },
      { key: "since", title: "禁止开具起始", time: true }, { key: "test", title: "快检编号" },
    ], doc.blocks, { key: "subject", empty: "（无）" });
    table("failed-table", [
      { key: "tested_at", title: "检测时间", time: true }, { key: "township_name", title: "乡镇", text: true },
      { key: "subject_name", title: "生产主体", text: true },
      { key: "credit_grade", title: "等级", cell: (r) => el("span", { class: "tag " + r.credit_grade }, r.credit_grade) },
      { key: "product", title: "产品", text: true }, { key: "method", title: "方法", cell: (r) => word("method", r.method) },
      { key: "items", title: "检测项目", text: true }, { key: "station", title: "检测点", text: true },
      { key: "blocking", title: "禁止开具", cell: (r) => el("span", { class: r.blocking ? "tag bad" : "tag ok" }, r.blocking ? "是" : "已解除") },
      { key: "batch", title: "批次撤销", cell: (r) => `${r.batch_revoked}/${r.batch_certificates}` },
      { key: "action", title: "", cell: (r) => (r.batch_revoked < r.batch_certificates
        ? el("button", { type: "button", class: "link no-print", onclick: () => revokeBatch(r) }, "撤销该批次") : "") },
    ], doc.tests, { key: "id", empty: "本时段没有不合格记录" });
  }

  async function revokeBatch(test) {
    if (!confirm(`撤销 ${test.subject_name} 的 ${test.product} 批次（${test.batch_certificates} 张合格证）及下游再次开具的合格证？`)) return;
    const r = await api("POST", test.revocation, {});
    if (r.status !== 200) return say(AC.apiError(r).message);
    await show("tests");
    say(r.body.message_zh, true);
  }

  /* 市场查验 */
  async function loadMarkets() {
    const clones = await get(`/api/v1/clone-suspicions?${period()}`);
    const reports = await get(`/api/v1/unlicensed-reports?${period()}`);
    state.data.clones = clones.suspicions;
    state.data.unlicensed = reports.reports;
    table("clone-table", cloneColumns, clones.suspicions, { key: "number", empty: "本时段没有疑似复制的追溯码" });
    table("unlicensed-table", unlicensedColumns, reports.reports, { key: "id", empty: "本时段没有无证产品反馈" });
  }

  const cloneColumns = [
    { key: "flagged_at", title: "发现时间", time: true }, { key: "number", title: "合格证编号" }, { key: "item", title: "标签序号" },
    { key: "product", title: "产品", text: true }, { key: "issuer", title: "开具主体", text: true },
    { key: "reason", title: "原因", cell: (r) => word("reason", r.reason) }, { key: "detail", title: "详情", text: true },
    { key: "markets", title: "扫描市场", text: true, cell: (r) => r.markets.join("、") },
  ];
  const unlicensedColumns = [
    { key: "reported_at", title: "时间", time: true }, { key: "market_name", title: "市场", text: true },
    { key: "product", title: "产品", text: true }, { key: "seller", title: "摊主", text: true },
    { key: "quantity", title: "数量", cell: (r) => (r.quantity ? `${r.quantity} ${r.unit}` : "") },
    { key: "notes", title: "备注", text: true }, { key: "reported_by", title: "反馈人", text: true },
  ];

  /* 信用与状态 */
  async function loadRegistry() {
    const doc = demo(await get(`/api/v1/stats/registry?${period()}`));
    const g = doc.by_grade, s = doc.by_status;
    $("registry-cards").replaceChildren(card("A级", g.A, "A"), card("B级", g.B, "B"), card("C级（重点监管）", g.C, "C", g.C > 0),
      card("暂停开具", s.suspended, "suspended", s.suspended > 0), card("黑名单", s.blacklisted, "blacklisted", s.blacklisted > 0));
    $("grade-chart").replaceChildren(AC.barChart([{ label: "A级", value: g.A, key: "A" }, { label: "B级", value: g.B, key: "B" },
      { label: "C级", value: g.C, key: "C" }, { label: "暂停开具", value: s.suspended, key: "suspended" },
      { label: "黑名单", value: s.blacklisted, key: "blacklisted" }], { title: "信用等级与状态" }));
    table("registry-table", [{ key: "name", title: "乡镇", text: true }, { key: "A", title: "A级" }, { key: "B", title: "B级" },
      { key: "C", title: "C级" }, { key: "suspended", title: "暂停开具" }, { key: "blacklisted", title: "黑名单" }], doc.townships, { key: "code" });
    table("changes-table", [
      { key: "at", title: "时间", time: true }, { key: "subject_name", title: "主体", text: true },
      { key: "field", title: "项目", cell: (r) => word("field", r.field) },
      { key: "old_value", title: "原值", cell: (r) => (r.field === "status" ? word("status", r.old_value) : r.old_value) },
      { key: "new_value", title: "新值", cell: (r) => (r.field === "status" ? word("status", r.new_value) : r.new_value) },
      { key: "reason", title: "原因", text: true }, { key: "actor_name", title: "操作人", text: true },
    ], doc.changes, { key: "id", empty: "本时段没有变更" });
  }

  /* 撤销与召回 */
  async function loadRevoke() {
    const doc = demo(await get(`/api/v1/revocations?${period()}`));
    table("revocations-table", [
      { key: "revoked_at", title: "撤销时间", time: true }, { key: "number", title: "合格证编号" },
      { key: "product", title: "产品", text: true }, { key: "issuer", title: "开具主体", text: true },
      { key: "quantity", title: "数量", cell: (r) => r.quantity + r.unit_zh }, { key: "reason", title: "原因", text: true },
      { key: "downstream", title: "下游" },
      { key: "recall", title: "", cell: (r) => el("button", { type: "button", class: "link no-print", onclick: () => loadRecall(r.certificate) }, "召回清单") },
    ], doc.revocations, { key: "certificate", empty: "本时段没有撤销" });
  }

  async function preview(ev) {
    ev.preventDefault();
    const serial = String(Number($("preview-serial").value));
    const doc = await get(`/api/v1/certificates/${serial}/revocation-preview?cascade=${$("preview-cascade").checked}`).catch((e) => say(e.message));
    if (!doc) return;
    state.preview = doc;
    $("preview").hidden = false;
    $("preview").dataset.wouldRevoke = doc.would_revoke;
    $("preview-summary").textContent = doc.already_revoked && !doc.would_revoke ? "该合格证已被撤销，下游也已全部撤销。"
      : `撤销将涉及 ${doc.would_revoke} 张合格证（其中下游 ${doc.would_cascade} 张），共 ${doc.labels} 个追溯码标签；以下为预览，尚未撤销。`;
    table("preview-table", [
      { key: "depth", title: "层级" }, { key: "number", title: "合格证编号" }, { key: "product", title: "产品", text: true },
      { key: "issuer", title: "开具主体", text: true }, { key: "quantity", title: "数量", cell: (r) => r.quantity + r.unit_zh },
      { key: "labels", title: "标签" }, { key: "revoked", title: "状态", cell: (r) => (r.revoked ? "已撤销" : "将撤销") },
      { key: "holders", title: "持有人", text: true, cell: (r) => r.holders.join("、") },
    ], doc.certificates, { key: "certificate" });
    $("revoke-form").hidden = doc.would_revoke === 0;
  }

  async function revoke(ev) {
    ev.preventDefault();
    const doc = state.preview;
    const r = await api("POST", `/api/v1/certificates/${doc.certificate}/revocation`, { reason: $("revoke-reason").value, cascade: doc.cascade });
    if (r.status !== 200) return say(AC.apiError(r).message);
    $("preview").hidden = true;
    await loadRevoke();
    await loadRecall(doc.certificate);
    say(`已撤销合格证 ${r.body.number}，下游 ${r.body.cascaded} 张。请按召回清单通知持有人。`, true);
  }

  async function loadRecall(serial) {
    const doc = await get(`/api/v1/certificates/${serial}/recall`);
    state.data.recall = doc.affected;
    $("recall").hidden = false;
    $("recall-title").textContent = String(serial).padStart(12, "0");
    table("recall-table", recallColumns, doc.affected, { key: "certificate" });
  }

  const recallColumns = [
    { key: "depth", title: "层级" }, { key: "number", title: "合格证编号" }, { key: "product", title: "产品", text: true },
    { key: "issuer", title: "开具主体", text: true, cell: (r) => r.issuer.name },
    { key: "contact", title: "联系电话", cell: (r) => r.issuer.contact },
    { key: "revoked", title: "状态", cell: (r) => (r.revoked ? "已撤销" : "有效") }, { key: "items", title: "标签数", cell: (r) => r.items.length },
    { key: "holders", title: "收取人（联系电话）", text: true, cell: (r) => holders(r).join("；") },
  ];

  function holders(r) {
    const seen = {};
    for (const h of r.holders) seen[h.name] = `${h.name}（${h.contact || ""}）`;
    return Object.values(seen);
  }

  /* 巡查 */
  async function loadPatrols() {
    const year = $("from").value.slice(0, 4);
    const doc = demo(await get(`/api/v1/patrols?${period()}`));
    state.data.patrols = doc.patrols;
    const mode = $("patrol-filter").value;
    const shown = doc.patrols.filter((p) => !mode || p.mode === mode);
    $("patrols-count").textContent = `共 ${shown.length} 条` + (shown.length > PATROL_ROWS ? `，显示最近 ${PATROL_ROWS} 条（导出 CSV 查看全部）` : "");
    table("patrols-table", [
      { key: "visited_on", title: "日期" }, { key: "township_name", title: "乡镇", text: true },
      { key: "subject_name", title: "生产主体", text: true }, { key: "mode", title: "方式", cell: (r) => word("mode", r.mode) },
      { key: "checks", title: "检查内容", text: true, cell: (r) => r.checks.map((c) => word("check", c)).join("、") },
      { key: "findings", title: "发现问题", text: true },
      { key: "outcome", title: "处理", cell: (r) => el("span", { class: r.outcome === "compliant" ? "tag ok" : "tag bad" }, word("outcome", r.outcome)) },
      { key: "recorded_by_name", title: "记录人", text: true },
      { key: "photos", title: "照片", cell: (r) => (r.photos.length ? el("button", { type: "button", class: "link", onclick: () => photos(r) }, `${r.photos.length} 张`) : "") },
    ], shown.slice(0, PATROL_ROWS), { key: "id", empty: "本时段没有巡查记录" });
    const cov = await get(`/api/v1/patrols/coverage?year=${year}`);
    $("coverage-year").textContent = cov.year;
    const months = [];
    for (let m = 1; m <= 12; m++)
      months.push({ key: "m" + m, title: m + "月", cell: (r) => coverageCell(r, r.months[m - 1]) });
    table("coverage-table", [{ key: "name", title: "乡镇", text: true }, { key: "producers", title: "主体数" }].concat(months),
      cov.townships, { key: "code" });
    const left = await get("/api/v1/patrols/unvisited");
    $("unvisited-quarter").textContent = left.quarter;
    table("unvisited-table", [
      { key: "township_name", title: "乡镇", text: true }, { key: "name", title: "生产主体", text: true },
      { key: "credit_grade", title: "等级", cell: (r) => el("span", { class: "tag " + r.credit_grade }, r.credit_grade) },
      { key: "status", title: "状态", cell: (r) => word("status", r.status) }, { key: "contact", title: "联系电话" },
      { key: "last_visit", title: "上次现场巡查" },
    ], left.producers, { key: "id", empty: "本季度所有生产主体均已现场巡查" });
    if (!$("patrol-day").value) $("patrol-day").value = AC.cstDate();
    if (!$("patrol-subject").options.length) await findSubjects();
  }

  function coverageCell(t, m) {
    if (!m.patrolled && !m.onsite && !m.online) return "";
    return el("span", { title: `现场 ${m.onsite} 家次，线上 ${m.online} 家次` }, `${m.patrolled}/${t.producers}`,
      el("br"), el("small", {}, (m.coverage === null ? "-" : m.coverage) + "%"));
  }

  async function photos(p) {
    const box = $("patrol-photos-view");
    box.replaceChildren(el("h4", {}, `${p.subject_name} ${p.visited_on} 巡查照片`));
    for (const ph of p.photos) {
      const r = await api("GET", ph.path, undefined, { raw: true });
      if (r.response.status !== 200) continue;
      const url = URL.createObjectURL(await r.response.blob());
      box.append(el("figure", {}, el("img", { src: url, alt: "巡查照片" }), el("figcaption", { class: "hint" }, "SHA-256 " + ph.sha256.slice(0, 16) + "…")));
    }
  }

  async function findSubjects() {
    const q = $("patrol-search").value.trim();
    const list = await get(`/api/v1/subjects?limit=50&region=${state.prefix}` + (q ? "&q=" + encodeURIComponent(q) : ""));
    const producers = list.items.filter((s) => ["enterprise", "cooperative", "family_farm", "household"].includes(s.kind));
    $("patrol-subject").replaceChildren(...producers.map((s) => el("option", { value: s.id }, `${s.name}（${word("kind", s.kind)}，${s.region_name || ""}）`)));
  }

  async function recordPatrol(ev) {
    ev.preventDefault();
    const checks = [...document.querySelectorAll("input[name=check]:checked")].map((c) => c.value);
    const body = { subject: Number($("patrol-subject").value), visited_on: $("patrol-day").value,
      mode: document.querySelector("input[name=mode]:checked").value, checks, findings: $("patrol-findings").value,
      outcome: document.querySelector("input[name=outcome]:checked").value };
    const r = await api("POST", "/api/v1/patrols", body);
    if (r.status !== 201) return say(AC.apiError(r).message);
    const files = [...$("patrol-photos").files];
    let kept = 0;
    for (const f of files) {
      if (f.size > 2 * 1024 * 1024) { say(`照片「${f.name}」超过 2 MB，未上传`); continue; }
      const p = await api("POST", `/api/v1/patrols/${r.body.id}/photos`, { photo: await base64(f) });
      if (p.status !== 201 && p.status !== 200) return say(`照片「${f.name}」：${AC.apiError(p).message}`);
      kept++;
    }
    $("patrol-form").reset();
    $("patrol-day").value = AC.cstDate();
    await loadPatrols();
    say(`巡查记录已保存${kept ? `，照片 ${kept} 张` : ""}。`, true);
  }

  function base64(file) {
    return new Promise((resolve, reject) => {
      const fr = new FileReader();
      fr.onload = () => resolve(String(fr.result).split(",")[1]);
      fr.onerror = () => reject(fr.error);
      fr.readAsDataURL(file);
    });
  }

  /* 动检证比对 */
  async function loadQuarantine() {
    const doc = demo(await get(`/api/v1/quarantine/reconciliation?${period()}`));
    const s = doc.summary;
    $("reconciliation-cards").replaceChildren(card("检疫证明", s.quarantine_certificates, "quarantine_certificates"),
      card("畜禽合格证", s.certificates, "certificates"), card("已匹配", s.matched, "matched"),
      card("数量超出", s.quantity_over, "quantity_over", s.quantity_over > 0), card("货主不一致", s.owner_mismatch, "owner_mismatch", s.owner_mismatch > 0),
      card("缺少合格证", s.missing_certificate, "missing_certificate", s.missing_certificate > 0),
      card("缺少检疫证明", s.missing_quarantine, "missing_quarantine", s.missing_quarantine > 0));
    table("reconciliation-table", [
      { key: "day", title: "日期" }, { key: "kind_zh", title: "问题类型", text: true }, { key: "township_name", title: "乡镇", text: true },
      { key: "product", title: "品种", text: true }, { key: "quarantine", title: "检疫证号" }, { key: "owner", title: "货主", text: true },
      { key: "quarantine_quantity", title: "检疫数量", cell: (r) => (r.quarantine_quantity ? r.quarantine_quantity + r.quarantine_unit_zh : "") },
      { key: "certificates", title: "合格证", text: true, cell: (r) => r.certificates.map((c) => `${c.number} ${c.issuer} ${c.quantity}${c.unit_zh}`).join("；") },
      { key: "detail_zh", title: "说明", text: true },
    ], doc.discrepancies.map((d, i) => Object.assign({ row: i }, d)), {
      key: "kind", rowClass: () => "warn", empty: "本时段动检证与合格证全部一致" });
  }

  async function importQuarantine(ev) {
    ev.preventDefault();
    const f = $("quarantine-file").files[0];
    const r = await api("POST", "/api/v1/quarantine-certificates", f, { type: "text/csv" });
    const out = $("quarantine-result");
    out.hidden = false;
    if (r.status === 201) {
      out.textContent = `已导入 ${r.body.imported} 条检疫证明（新增 ${r.body.new}，更新 ${r.body.updated}）。`;
      await show("quarantine");
    } else {
      const rows = (r.body && r.body.rejected) || [];
      out.textContent = AC.apiError(r).message + "\n" + rows.map((x) => `第 ${x.line} 行：${x.message_zh}`).join("\n");
    }
  }

  /* 双随机抽检 */
  async function loadSampling() {
    if (!$("plan-township").options.length) {
      const towns = state.township ? [state.township]
        : (await get(`/api/v1/regions?parent=${state.who.county}`)).items.map((t) => ({ code: t.code, name: t.name }));
      $("plan-township").replaceChildren(...towns.map((t) => el("option", { value: t.code }, t.name)));
      $("plan-month").value = AC.cstDate().slice(0, 7);
    }
    const doc = demo(await get("/api/v1/sampling-plans"));
    table("plans-table", [
      { key: "month", title: "月份" }, { key: "township_name", title: "乡镇", text: true }, { key: "size", title: "抽取数" },
      { key: "seed", title: "随机种子", cell: (r) => el("code", {}, r.seed) }, { key: "drawn_at", title: "抽取时间", time: true },
      { key: "open", title: "", cell: (r) => el("button", { type: "button", class: "link", onclick: () => openPlan(r.id) }, "查看") },
    ], doc.plans, { key: "id", empty: "还没有抽检计划" });
  }

  async function drawPlan(ev) {
    ev.preventDefault();
    const body = { township: $("plan-township").value, month: $("plan-month").value };
    if ($("plan-size").value) body.size = Number($("plan-size").value);
    const r = await api("POST", "/api/v1/sampling-plans", body);
    if (r.status === 409) {
      say(AC.apiError(r).message);
      return openPlan(r.body.plan);
    }
    if (r.status !== 201) return say(AC.apiError(r).message);
    await loadSampling();
    showPlan(r.body);
    say(`已随机抽取 ${r.body.picks.length} 个生产主体，随机种子已记录。`, true);
  }

  async function openPlan(id) {
    showPlan(await get(`/api/v1/sampling-plans/${id}`));
  }

  function showPlan(p) {
    state.plan = p;
    $("plan-view").hidden = false;
    $("plan-view").dataset.plan = p.id;
    $("plan-title").textContent = `${p.township_name} ${p.month} 抽检计划（第 ${p.id} 号，抽取 ${p.picks.length} 个）`;
    $("plan-seed").textContent = p.seed;
    $("plan-method").textContent = p.method;
    $("plan-check").textContent = "";
    table("picks-table", [
      { key: "draw", title: "顺序" }, { key: "name", title: "生产主体", text: true },
      { key: "credit_grade", title: "等级", cell: (r) => el("span", { class: "tag " + r.credit_grade }, r.credit_grade) },
      { key: "weight", title: "权重" }, { key: "product", title: "建议抽检产品", text: true },
      { key: "inspector_name", title: "检查人员", text: true },
    ], p.picks, { key: "subject" });
    table("candidates-table", [
      { key: "subject", title: "编号" }, { key: "name", title: "生产主体", text: true }, { key: "credit_grade", title: "等级" },
      { key: "key_risk", title: "重点品种", cell: (r) => (r.key_risk ? "是" : "否") }, { key: "failures", title: "近12月不合格" },
      { key: "quarters_untested", title: "未快检季度" }, { key: "weight", title: "权重" }, { key: "draw", title: "抽中顺序" },
    ], p.candidates, { key: "subject" });
  }

  async function redraw() {
    const r = await get(`/api/v1/sampling-plans/${state.plan.id}/redraw`);
    const same = r.matches && r.picks.map((x) => x.subject).join() === state.plan.picks.map((x) => x.subject).join();
    $("plan-check").textContent = same ? "复核一致：用记录的种子重新抽取，结果与计划相同。" : "复核不一致！请核查。";
    $("plan-check").dataset.matches = same;
  }

  /* CSV exports */
  const csvPaths = {
    township: () => [`/api/v1/stats/supervision?${period()}&format=csv`, `乡镇工作台账_${$("from").value}.csv`],
    daily: () => [`/api/v1/stats/daily?${period()}&format=csv`, `每日开具_${$("from").value}.csv`],
    tests: () => [`/api/v1/failed-tests?${period()}&format=csv`, `快检不合格_${$("from").value}.csv`],
    registry: () => [`/api/v1/stats/registry?${period()}&format=csv`, `信用状态变更_${$("from").value}.csv`],
    patrols: () => [`/api/v1/patrols?${period()}&format=csv`, `巡查记录_${$("from").value}.csv`],
    coverage: () => [`/api/v1/patrols/coverage?year=${$("from").value.slice(0, 4)}&format=csv`, "巡查覆盖率.csv"],
    unvisited: () => ["/api/v1/patrols/unvisited?format=csv", "本季度未巡查主体.csv"],
    reconciliation: () => [`/api/v1/quarantine/reconciliation?${period()}&format=csv`, `动检证比对_${$("from").value}.csv`],
    plan: () => [`/api/v1/sampling-plans/${state.plan.id}?format=csv`, `抽检计划_${state.plan.township_name}_${state.plan.month}.csv`],
  };

  // Lists the API has no CSV of: the same rules, made here (lib.js).
  const localCsv = {
    clones: () => ["疑似复制追溯码.csv", cloneColumns, state.data.clones],
    unlicensed: () => ["无证产品反馈.csv", unlicensedColumns, state.data.unlicensed],
    recall: () => [`召回清单_${$("recall-title").textContent}.csv`, recallColumns, state.data.recall],
  };

  function exportLocal(which) {
    const [name, columns, rows] = localCsv[which]();
    const cols = columns.filter((c) => c.title);
    AC.saveCsv(name, cols.map((c) => c.title), (rows || []).map((r) => cols.map((c) => {
      const v = c.cell ? c.cell(r) : r[c.key];
      return v instanceof Node ? v.textContent : v;
    })));
  }

  /* Log in, log out, the frame. */
  async function login(ev) {
    ev.preventDefault();
    const r = await api("POST", "/api/v1/sessions", { username: $("username").value, password: $("password").value });
    if (r.status !== 201) return say(AC.apiError(r).message);
    if (!REGULATORS.includes(r.body.role)) {
      await api("DELETE", "/api/v1/sessions/current");
      return say("此工作台仅限乡镇和县级监管人员使用");
    }
    AC.setToken(r.body.token);
    sessionStorage.setItem(SUBJECT, r.body.subject.id);
    sessionStorage.setItem(ROLE, r.body.role);
    $("password").value = "";
    await start();
  }

  async function start() {
    let me;
    try {
      me = await whoAmI();
    } catch (e) {
      AC.setToken(null);
      $("login").hidden = false;
      $("app").hidden = true;
      if (e.status !== 401) say(e.message);
      return;
    }
    state.who = me;
    $("who").textContent = `${me.name}（${me.jurisdiction}）`;
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    $("print").hidden = false;
    if (!$("from").value) setPeriod(AC.cstDate(-29), AC.cstDate(1));
    await show(location.hash.slice(1));
  }

  // The caller's subject and jurisdiction (a township, a county, or all),
  // from what the login answered (kept for this tab only).
  async function whoAmI() {
    const s = await get(`/api/v1/subjects/${sessionStorage.getItem(SUBJECT)}`);
    const role = sessionStorage.getItem(ROLE);
    const code = s.region_code;
    const county = code.slice(0, 6) + "000000";
    const town = role === "township_regulator";
    const admin = role === "admin";
    state.prefix = admin ? "" : town ? code.slice(0, 9) : code.slice(0, 6);
    state.township = town ? { code: code.slice(0, 9) + "000", name: s.region_name } : null;
    return { name: s.name, county, jurisdiction: admin ? "全部辖区" : town ? s.region_name : await regionName(county) };
  }

  async function regionName(code) {
    const r = await api("GET", `/api/v1/regions/${code}`);
    return r.status === 200 ? r.body.name : code;
  }

  async function logout() {
    await api("DELETE", "/api/v1/sessions/current");
    AC.setToken(null);
    sessionStorage.clear();
    location.hash = "";
    location.reload();
  }

  const loaders = { township: loadTownship, daily: loadDaily, tests: loadTests, markets: loadMarkets, registry: loadRegistry,
    revoke: loadRevoke, patrols: loadPatrols, quarantine: loadQuarantine, sampling: loadSampling };

  // Every handler's failure is said, never left unhandled.
  function on(id, event, fn) {
    $(id).addEventListener(event, (ev) => Promise.resolve(fn(ev)).catch((e) => say(e.message)));
  }

  function wire() {
    on("login-form", "submit", login);
    on("logout", "click", logout);
    on("print", "click", () => window.print());
    on("apply", "click", () => show(location.hash.slice(1)));
    window.addEventListener("hashchange", () => state.who && show(location.hash.slice(1)));
    on("preview-form", "submit", preview);
    on("revoke-form", "submit", revoke);
    on("patrol-form", "submit", recordPatrol);
    on("patrol-search", "change", findSubjects);
    on("patrol-filter", "change", () => show("patrols"));
    on("quarantine-form", "submit", importQuarantine);
    on("plan-form", "submit", drawPlan);
    on("plan-redraw", "click", redraw);
    document.querySelectorAll("[data-csv]").forEach((b) => b.addEventListener("click", () => {
      const [path, name] = csvPaths[b.dataset.csv]();
      AC.downloadCsv(path, name).catch((e) => say(e.message));
    }));
    document.querySelectorAll("[data-local-csv]").forEach((b) => b.addEventListener("click", () => exportLocal(b.dataset.localCsv)));
  }

  wire();
  if (AC.token()) start().catch((e) => say(e.message));
  else $("login").hidden = false;
})();
