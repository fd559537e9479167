// What the dashboard's sections share: the API with the session's token,
// messages, tables, CSV files for Excel, downloads and SVG charts.
"use strict";

window.AC = (function () {
  const TOKEN = "agricert-dashboard-token";

  function token() {
    return sessionStorage.getItem(TOKEN);
  }

  function setToken(t) {
    if (t) sessionStorage.setItem(TOKEN, t);
    else sessionStorage.removeItem(TOKEN);
  }

  // Calls the API; answers {status, body} with body parsed as JSON when it
  // is JSON, else the raw response (for CSV and photos: raw = true).
  async function api(method, path, body, opts) {
    const o = opts || {};
    const headers = {};
    if (token()) headers.Authorization = "Bearer " + token();
    let data;
    if (body instanceof Blob || typeof body === "string") {
      data = body;
      headers["Content-Type"] = o.type || "text/csv";
    } else if (body !== undefined) {
      data = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    const r = await fetch(path, { method, headers, body: data });
    if (o.raw) return { status: r.status, response: r };
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
    return { status: r.status, body: json, text };
  }

  // The API's answer, or an Error carrying its Chinese message.
  async function get(path) {
    const r = await api("GET", path);
    if (r.status !== 200) throw apiError(r);
    return r.body;
  }

  function apiError(r) {
    const e = new Error((r.body && r.body.error && r.body.error.message_zh) || ("请求失败（" + r.status + "）"));
    e.status = r.status;
    e.body = r.body;
    return e;
  }

  function say(text, ok) {
    const m = document.getElementById("msg");
    m.textContent = text;
    m.className = "msg " + (ok ? "ok" : "err");
    m.hidden = !text;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k.startsWith("data")) e.setAttribute(k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids.flat()) {
      if (k === undefined || k === null) continue;
      e.append(k instanceof Node ? k : String(k));
    }
    return e;
  }

  // Fills a table from columns [{key, title, text?, cell?(row)}] and rows;
  // each cell carries data-field, each row data-key = row[keyField].
  function table(id, columns, rows, opts) {
    const o = opts || {};
    const t = document.getElementById(id);
    t.replaceChildren(el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c.title)))));
    const body = el("tbody");
    for (const row of rows) {
      const tr = el("tr", { dataKey: o.key ? row[o.key] : undefined, class: o.rowClass ? o.rowClass(row) : undefined });
      for (const c of columns) {
        const v = c.cell ? c.cell(row) : c.time ? time(row[c.key]) : row[c.key];
        tr.append(el("td", { class: c.text ? "text" : undefined, dataField: c.key }, v === null || v === undefined ? "" : v));
      }
      body.append(tr);
    }
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: columns.length, class: "text" }, o.empty || "（无）")));
    t.append(body);
    return t;
  }

  // A CSV file for spreadsheets, by the rules of sql/0023_supervision.sql
  // (csv_cell): a UTF-8 byte order mark, every cell quoted with quotes
  // doubled, a cell that starts with = + - @, a tab or a carriage return
  // prefixed with an apostrophe, CRLF line ends.
  function csvCell(v) {
    let s = v === null || v === undefined ? "" : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return '"' + s.replace(/"/g, '""') + '"';
  }

  function csvText(header, rows) {
    return "\uFEFF" + [header, ...rows].map((r) => r.map(csvCell).join(",") + "\r\n").join("");
  }

  function save(blob, name) {
    const a = el("a", { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  // Downloads the API's CSV at path (its bytes as they are) as name.
  async function downloadCsv(path, name) {
    const r = await api("GET", path, undefined, { raw: true });
    if (r.response.status !== 200) throw new Error("导出失败（" + r.response.status + "）");
    save(new Blob([await r.response.arrayBuffer()], { type: "text/csv" }), name);
  }

  function saveCsv(name, header, rows) {
    save(new Blob([csvText(header, rows)], { type: "text/csv;charset=utf-8" }), name);
  }

  // A bar chart as inline SVG: bars [{label, value, key}], a second series
  // drawn as a line when given (values by the same index).
  function barChart(bars, opts) {
    const o = opts || {};
    const W = 900, H = 240, L = 44, B = 34, T = 14;
    const max = Math.max(1, ...bars.map((b) => b.value), ...(o.line || []));
    const step = (W - L - 10) / Math.max(1, bars.length);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const add = (tag, a, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(a)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      svg.append(e);
      return e;
    };
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    if (o.title) add("title", {}, o.title);
    const y = (v) => H - B - (v / max) * (H - B - T);
    for (let g = 0; g <= 4; g++) {
      const v = Math.round((max * g) / 4);
      add("line", { x1: L, x2: W - 5, y1: y(v), y2: y(v), stroke: "#e3e8e3" });
      add("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#566" }, v);
    }
    bars.forEach((b, i) => {
      const x = L + i * step + step * 0.15;
      const r = add("rect", { x, y: y(b.value), width: step * 0.7, height: H - B - y(b.value), fill: o.color || "#1a5f34",
        "data-key": b.key, "data-value": b.value });
      const tip = document.createElementNS(ns, "title");
      tip.textContent = `${b.label}：${b.value}`;
      r.append(tip);
      if (bars.length <= 16 || i % Math.ceil(bars.length / 15) === 0)
        add("text", { x: x + step * 0.35, y: H - B + 14, "text-anchor": "middle", "font-size": 11, fill: "#566" }, b.label);
    });
    if (o.line) {
      const pts = o.line.map((v, i) => `${L + i * step + step / 2},${y(v)}`).join(" ");
      add("polyline", { points: pts, fill: "none", stroke: "#d08a1a", "stroke-width": 2 });
    }
    if (o.legend) {
      o.legend.forEach((l, i) => {
        add("rect", { x: L + 10 + i * 110, y: H - 14, width: 10, height: 10, fill: l.color });
        add("text", { x: L + 24 + i * 110, y: H - 5, "font-size": 12 }, l.label);
      });
    }
    return svg;
  }

  // A progress bar: done of target (target missing: the number alone).
  function progress(done, target) {
    if (!target) return el("span", {}, done);
    const pct = Math.round((100 * done) / target);
    return el("span", { title: `${done} / ${target}` },
      el("span", { class: "bar bg" }, el("i", { class: pct > 100 ? "over" : "", style: `width:${Math.min(100, pct)}%` })),
      ` ${done}/${target}（${pct}%）`);
  }

  // A time as the API writes it (2026-12-02T08:40:20+08:00) as people read it.
  function time(s) {
    return s ? String(s).replace("T", " ").slice(0, 16) : "";
  }

  // Dates as the API writes them, in China Standard Time.
  function cstDate(offsetDays) {
    const d = new Date(Date.now() + 8 * 3600 * 1000 + (offsetDays || 0) * 86400 * 1000);
    return d.toISOString().slice(0, 10);
  }

  const words = {
    method: { colloidal_gold: "胶体金", enzyme_inhibition: "酶抑制", lab: "定量检测" },
    mode: { onsite: "现场", online: "线上" },
    outcome: { compliant: "合格", rectify: "限期整改", referred: "移交执法" },
    check: { records: "生产记录", certificate_use: "合格证开具", display: "亮证", rapid_test: "快检" },
    status: { active: "正常", suspended: "暂停开具", blacklisted: "黑名单" },
    kind: { enterprise: "企业", cooperative: "合作社", family_farm: "家庭农场", household: "农户",
      collector: "收购单位", purchaser_individual: "收购个人", staff: "工作人员" },
    field: { credit_grade: "信用等级", status: "状态" },
    reason: { far_apart: "异地短时重复扫描", too_many_scans: "扫描次数过多" },
  };

  function word(group, v) {
    return (words[group] && words[group][v]) || v || "";
  }

  return { token, setToken, api, get, apiError, say, el, table, csvCell, csvText, save, downloadCsv, saveCsv,
    barChart, progress, time, cstDate, word };
})();
