// The offline verifier of the inspector's page: the item code and the trust
// bundle of proto/CODE.md, checked in the browser (or in node, for the
// tests) with no network. Pure: signatures go through the backends given to
// createVerifier() — Ed25519 through WebCrypto where the browser has it,
// else the vendored @noble/ed25519; SM2/SM3 through the vendored sm-crypto.
// Nothing here trusts a byte before its signature is checked.

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PAYLOAD_CHARS = 151; // ceil(94 * 8 / 5)
const CODE_BYTES = 94;
const FIELD_BYTES = 30;
const MAX_BUNDLE = 4 * 1024 * 1024;
const MAX_LINE = 1024;

export const UNITS = [null, ["kg", "千克"], ["g", "克"], ["t", "吨"], ["jin", "斤"], ["piece", "个"],
  ["head", "头"], ["box", "箱"], ["bag", "袋"], ["bundle", "捆"], ["only", "只"]];
export const BASIS = [["quality_control", "质量安全控制符合要求"], ["self_test", "自行检测合格"],
  ["commissioned_test", "委托检测合格"]];
export const STYLES = [null, "producer", "purchaser"];

// SubjectPublicKeyInfo prefixes (CODE.md, "Verifying a bundle").
const SPKI_ED25519 = "302a300506032b6570032100";
const SPKI_SM2 = "3059301306072a8648ce3d020106082a811ccf5501822d034200";

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export function unhex(s) {
  if (s.length % 2 || /[^0-9a-f]/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

// The payload of a scanned text: the bare payload, or http(s)://HOST/V/
// (any case) + payload, then optionally "/", then ?query or #fragment.
export function findPayload(text) {
  const t = String(text).trim();
  const m = /^https?:\/\/[^/?#\s]+\/[Vv]\/([^/?#]*)\/?(?:[?#].*)?$/i.exec(t);
  if (m) return m[1];
  if (/^[a-z]+:/i.test(t)) return null;
  return t;
}

// Base32 (RFC 4648, no padding, either case), canonical text only.
function base32Decode(s) {
  const bits = s.length * 5;
  const out = new Uint8Array(Math.floor(bits / 8));
  let acc = 0;
  let n = 0;
  let j = 0;
  for (const ch of s) {
    acc = (acc << 5) | B32.indexOf(ch);
    n += 5;
    if (n >= 8) {
      n -= 8;
      out[j++] = (acc >> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (acc !== 0 || [1, 3, 6].includes(s.length % 8)) return null;
  return out;
}

const be = (b, off, len) => {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + b[off + i];
  return v;
};

// Days since 2020-01-01 as YYYY-MM-DD.
export function dayText(day) {
  return new Date(Date.UTC(2020, 0, 1) + day * 86400000).toISOString().slice(0, 10);
}

// Decodes a scanned code: {fields, signed, sig} or {error} with error one of
// malformed, version, truncated, range (CODE.md, "Decoding order").
export function decodeCode(text) {
  const p = findPayload(text);
  if (p === null || p.length === 0) return { error: "malformed" };
  const up = p.toUpperCase();
  if (/[^A-Z2-7]/.test(up)) return { error: "malformed" };
  if (up.length >= 2 && ((B32.indexOf(up[0]) << 3) | (B32.indexOf(up[1]) >> 2)) !== 1)
    return { error: "version" };
  if (up.length < PAYLOAD_CHARS) return { error: "truncated" };
  if (up.length > PAYLOAD_CHARS) return { error: "malformed" };
  const raw = base32Decode(up);
  if (raw === null || raw.length !== CODE_BYTES) return { error: "malformed" };
  const f = {
    version: raw[0], kid: be(raw, 1, 2), serial: be(raw, 3, 6), item: be(raw, 9, 2),
    issue_day: be(raw, 11, 2), product: be(raw, 13, 2), quantity_milli: be(raw, 15, 4),
    unit: raw[19], issuer: be(raw, 20, 4), origin: be(raw, 24, 5), flags: raw[29],
  };
  const basis = f.flags & 3;
  const style = (f.flags >> 2) & 3;
  if (f.item === 0 || f.product === 0 || f.quantity_milli === 0 || f.unit < 1 || f.unit > 10 ||
      f.issuer === 0 || f.origin < 100000000000 || f.origin > 999999999999 || basis === 3 ||
      style === 0 || style === 3 || (f.flags & 0xf0))
    return { error: "range" };
  return {
    fields: { ...f, basis, style, payload: up, issue_date: dayText(f.issue_day) },
    signed: raw.slice(0, FIELD_BYTES),
    sig: raw.slice(FIELD_BYTES),
  };
}

// A public key PEM (SubjectPublicKeyInfo) as {alg, raw}, or null.
export function pemKey(pem) {
  const b64 = String(pem).replace(/-----[^-]+-----|#[^\n]*|\s/g, "");
  let der;
  try {
    der = hex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return null;
  }
  if (der.startsWith(SPKI_ED25519) && der.length === SPKI_ED25519.length + 64)
    return { alg: "ed25519", raw: unhex(der.slice(SPKI_ED25519.length)) };
  if (der.startsWith(SPKI_SM2) && der.length === SPKI_SM2.length + 130)
    return { alg: "sm2", raw: unhex(der.slice(SPKI_SM2.length)) };
  return null;
}

const NUM = /^(0|[1-9][0-9]*)$/;
const num = (s, max) => (NUM.test(s) && Number(s) <= max ? Number(s) : null);
const DATE = /^\d{4}-\d{2}-\d{2}$/;
function realDate(s) {
  if (!DATE.test(s)) return false;
  const d = new Date(s + "T00:00:00Z");
  return !isNaN(d) && d.toISOString().slice(0, 10) === s;
}
const goodName = (s) => s.length > 0 && !/[\u0000-\u001f\u007f-\u009f]/.test(s);

// Whether 04 || x || y is a point of the SM2 curve (GB/T 32918.5).
const SM2_P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const SM2_B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
function onSm2Curve(raw) {
  if (raw[0] !== 4) return false;
  const x = BigInt("0x" + hex(raw.slice(1, 33)));
  const y = BigInt("0x" + hex(raw.slice(33)));
  if (x >= SM2_P || y >= SM2_P) return false;
  return (y * y - (x * x * x + (SM2_P - 3n) * x + SM2_B)) % SM2_P === 0n;
}

class BundleError extends Error {}
const refuse = (why) => { throw new BundleError(why); };

// One record line after line 4 into b (CODE.md's table).
function bundleRecord(b, line) {
  const sp = line.indexOf(" ");
  const kind = sp < 0 ? line : line.slice(0, sp);
  const rest = sp < 0 ? "" : line.slice(sp + 1);
  const idName = (max) => {
    const s = rest.indexOf(" ");
    const id = s < 0 ? null : num(rest.slice(0, s), max);
    const name = s < 0 ? "" : rest.slice(s + 1);
    if (id === null || id === 0 || !goodName(name)) refuse("malformed");
    return [id, name];
  };
  const put = (map, id, v) => (map.has(id) ? refuse("duplicate") : map.set(id, v));
  if (kind === "key") {
    const f = rest.split(" ");
    const kid = num(f[0], 65535);
    if (f.length !== 6 || !kid || !["ed25519", "sm2"].includes(f[1]) ||
        !["active", "retired", "revoked"].includes(f[2])) refuse("malformed");
    for (const d of [f[3], f[4]]) if (d !== "-" && !realDate(d)) refuse("malformed");
    if (f[3] !== "-" && f[4] !== "-" && f[3] > f[4]) refuse("malformed");
    const raw = unhex(f[5]);
    if (!raw || raw.length !== (f[1] === "ed25519" ? 32 : 65)) refuse("malformed");
    if (f[1] === "sm2" && !onSm2Curve(raw)) refuse("key");
    put(b.keys, kid, { kid, alg: f[1], status: f[2], not_before: f[3], not_after: f[4], raw });
  } else if (kind === "product") {
    put(b.products, ...idName(65535));
  } else if (kind === "issuer") {
    put(b.issuers, ...idName(4294967295));
  } else if (kind === "region") {
    const [code, name] = idName(999999999999);
    if (code < 100000000000) refuse("malformed");
    put(b.regions, code, name);
  } else if (kind === "revoked") {
    const serial = num(rest, 281474976710655);
    if (serial === null) refuse("malformed");
    if (b.revoked.has(serial)) refuse("duplicate");
    b.revoked.add(serial);
  } else {
    refuse("malformed");
  }
}

// The verifier: backends {ed25519(raw, msg, sig), sm2(raw, msg, sig)}, each
// an async function answering true or false.
export function createVerifier(backends) {
  const verifySig = (key, msg, sig) =>
    key.alg === "ed25519" ? backends.ed25519(key.raw, msg, sig) : backends.sm2(key.raw, msg, sig);

  // Parses and checks a bundle's text against the bundle key {alg, raw}
  // (and, when given, its kid). Resolves to the bundle, or rejects with an
  // Error whose message is the reason (version, malformed, unknown_key,
  // bad_signature, duplicate, key, too_big). input: the bytes as fetched
  // (or a string).
  async function parseBundle(input, bundleKey, bundleKid) {
    const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
    if (bytes.length > MAX_BUNDLE) refuse("too_big");
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      refuse("malformed");
    }
    const first = text.slice(0, text.indexOf("\n") + 1);
    if (first !== "AGRICERT-TRUST-BUNDLE 1\n")
      refuse(/^AGRICERT-TRUST-BUNDLE [0-9]+\n$/.test(first) ? "version" : "malformed");
    const body = text.endsWith("\n") ? text.slice(0, -1) : text;
    const cut = body.lastIndexOf("\n");
    const m = /^signature (0|[1-9][0-9]*) ([0-9a-f]{128})$/.exec(body.slice(cut + 1));
    if (cut < 0 || !m || !num(m[1], 65535)) refuse("malformed");
    if (bundleKid && Number(m[1]) !== bundleKid) refuse("unknown_key");
    const signed = new TextEncoder().encode(body.slice(0, cut + 1));
    if (!(await verifySig(bundleKey, signed, unhex(m[2])))) refuse("bad_signature");

    const lines = body.slice(0, cut).split("\n");
    const b = { kid: Number(m[1]), keys: new Map(), products: new Map(), issuers: new Map(),
      regions: new Map(), revoked: new Set() };
    for (const l of lines) {
      if (new TextEncoder().encode(l).length + 1 > MAX_LINE) refuse("too_big");
      if (l.includes("\r")) refuse("malformed");
    }
    const v = /^version (0|[1-9][0-9]*)$/.exec(lines[1] || "");
    const issued = /^issued (\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$/.exec(lines[2] || "");
    const region = /^region ([1-9][0-9]{5,11})$/.exec(lines[3] || "");
    if (!v || BigInt(v[1]) > 18446744073709551615n || !issued || !realDate(issued[1]) || !region)
      refuse("malformed");
    b.version = BigInt(v[1]);
    b.issued = lines[2].slice(7);
    b.region = region[1];
    for (const l of lines.slice(4)) bundleRecord(b, l);
    return b;
  }

  // The place of origin by the most specific region the bundle names.
  function originName(b, code) {
    for (const c of [code, Math.floor(code / 1000) * 1000, Math.floor(code / 1e6) * 1e6])
      if (b.regions.has(c)) return b.regions.get(c);
    return null;
  }

  // Judges a scanned code with bundle b (CODE.md, "A verifier"): resolves
  // to {status, ...decoded fields and names}; status valid, malformed,
  // unknown_key, bad_signature, key_revoked or revoked.
  async function judge(text, b) {
    const c = decodeCode(text);
    if (c.error) return { valid: false, status: "malformed", error: c.error };
    const f = c.fields;
    const out = {
      valid: false, kid: f.kid, serial: f.serial, number: String(f.serial).padStart(12, "0"),
      item: f.item, product_id: f.product, product: b.products.get(f.product) ?? null,
      quantity: f.quantity_milli / 1000, quantity_milli: f.quantity_milli,
      unit: UNITS[f.unit][0], unit_zh: UNITS[f.unit][1], issuer_id: f.issuer,
      issuer: b.issuers.get(f.issuer) ?? null, origin_code: String(f.origin),
      origin: originName(b, f.origin), issue_date: f.issue_date, basis: BASIS[f.basis][0],
      basis_zh: BASIS[f.basis][1], style: STYLES[f.style],
    };
    const key = b.keys.get(f.kid);
    if (!key) return { ...out, status: "unknown_key" };
    if (!(await verifySig(key, c.signed, c.sig))) return { ...out, status: "bad_signature" };
    if (key.status === "revoked") return { ...out, status: "key_revoked" };
    if (b.revoked.has(f.serial)) return { ...out, status: "revoked" };
    return { ...out, valid: true, status: "valid" };
  }

  return { parseBundle, judge, verifySig };
}

// Whether a newly fetched bundle may replace the one kept: never an older
// version (a rollback to a bundle that still trusts a since-revoked key).
export function newerBundle(kept, next) {
  return kept == null || BigInt(next) >= BigInt(kept);
}

// Ed25519 through WebCrypto: a function, or null where the browser lacks it.
export async function webCryptoEd25519(subtle) {
  if (!subtle) return null;
  try {
    // A key of the vectors: importing it tells whether Ed25519 is there.
    await subtle.importKey("raw", unhex(
      "2b5c899da47d13f9c830d126c503683a592173a466535147e70618f835442fb5"), { name: "Ed25519" },
    false, ["verify"]);
  } catch {
    return null;
  }
  return async (raw, msg, sig) => {
    try {
      const k = await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
      return await subtle.verify({ name: "Ed25519" }, k, sig, msg);
    } catch {
      return false;
    }
  };
}

// Ed25519 through @noble/ed25519 (RFC 8032 rules: zip215 off).
export function nobleEd25519(ed) {
  return async (raw, msg, sig) => {
    try {
      return await ed.verifyAsync(sig, msg, raw, { zip215: false });
    } catch {
      return false;
    }
  };
}

// SM2 with SM3 and the default ID 1234567812345678 through sm-crypto's sm2
// module; sig is r || s.
export function smCryptoSm2(sm2) {
  return async (raw, msg, sig) => {
    try {
      return sm2.doVerifySignature(Array.from(msg), hex(sig), hex(raw),
        { hash: true, der: false, userId: "1234567812345678" });
    } catch {
      return false;
    }
  };
}
