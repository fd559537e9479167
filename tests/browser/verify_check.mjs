// The inspector page's offline verifier (service/web/inspect/verify.js) in
// node, as TAP: the code vectors of proto/vectors/code-v1.json with both
// algorithms and both Ed25519 back-ends (WebCrypto and the vendored
// @noble/ed25519), SM2 through the vendored sm-crypto; the committed trust
// bundles of the fuzz corpus against agricert-verify's verdicts; and fresh
// bundles and codes from gen_bundle_fixture, judged by both verifiers.
// Usage: node verify_check.mjs ROOT BUILD TMPDIR
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [root, build, tmp] = process.argv.slice(2);
const web = path.join(root, "service/web");
const V = await import(path.join(web, "inspect/verify.js"));
const ed = await import(path.join(web, "vendor/noble-ed25519/index.js"));
const sm2 = createRequire(import.meta.url)(path.join(web, "vendor/sm-crypto/sm2.js"));

let n = 0;
let failed = 0;
function ok(cond, what, detail) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - ${what}`);
  if (!cond) {
    failed++;
    for (const l of String(detail ?? "").split("\n")) console.log("#   " + l);
  }
}

const webcrypto = await V.webCryptoEd25519(globalThis.crypto?.subtle);
ok(webcrypto !== null, "node's WebCrypto has Ed25519");
const backends = {
  webcrypto: V.createVerifier({ ed25519: webcrypto, sm2: V.smCryptoSm2(sm2) }),
  noble: V.createVerifier({ ed25519: V.nobleEd25519(ed), sm2: V.smCryptoSm2(sm2) }),
};
const flip = (p, i) => {
  const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  return p.slice(0, i) + A[(A.indexOf(p[i]) + 1) % 32] + p.slice(i + 1);
};

// 1. The vectors.
const vectors = JSON.parse(fs.readFileSync(path.join(root, "proto/vectors/code-v1.json"), "utf8"));
const keys = new Map();
for (const k of vectors.keys) {
  const key = V.pemKey(k.public_pem);
  ok(key && key.alg === k.alg, `vector key ${k.kid} (${k.alg}) read from its PEM`);
  keys.set(k.kid, { kid: k.kid, ...key, status: "active" });
}
const bundle = (revoked = []) => ({ keys, products: new Map(), issuers: new Map(),
  regions: new Map(), revoked: new Set(revoked) });
for (const c of vectors.codes) {
  const d = V.decodeCode(c.url);
  ok(!d.error && V.hex(d.signed) === c.fields_hex && V.hex(d.sig) === c.signature_hex,
    `vector ${c.name}: the URL decodes to its fields and signature`, JSON.stringify(d.error));
  const f = c.fields;
  const got = d.fields || {};
  ok(got.serial === f.serial && got.item === f.item && got.issue_date === f.issue_date &&
    got.product === f.product && got.quantity_milli === f.quantity_milli &&
    V.UNITS[got.unit]?.[0] === f.unit && got.issuer === f.issuer && got.origin === f.origin &&
    V.BASIS[got.basis]?.[0] === f.basis && V.STYLES[got.style] === f.style,
  `vector ${c.name}: every field as the vector says`, JSON.stringify(got));
  for (const [name, v] of Object.entries(backends)) {
    if (keys.get(c.kid).alg === "sm2" && name === "noble") continue;
    const j = await v.judge(c.payload, bundle());
    ok(j.status === "valid", `vector ${c.name} (${keys.get(c.kid).alg}, ${name}): valid`, j.status);
    const bad = await v.judge(flip(c.payload, 60), bundle());
    ok(bad.status === "bad_signature", `vector ${c.name} (${name}) altered: bad_signature`, bad.status);
    const lower = await v.judge(c.url.toLowerCase(), bundle([f.serial]));
    ok(lower.status === "revoked", `vector ${c.name} (${name}) lower case, serial revoked: revoked`,
      lower.status);
  }
}
const reasons = { truncated: "truncated", malformed: "malformed", version: "version",
  signature: "bad_signature" };
for (const [i, c] of vectors.invalid.entries()) {
  let got = V.decodeCode(c.text).error;
  if (!got) got = (await backends.webcrypto.judge(c.text, bundle())).status;
  ok(got === reasons[c.error], `invalid vector ${i + 1}: ${c.error}`, got);
}
ok(V.decodeCode("HTTPS://X/V/" + vectors.codes[0].payload + "/?m=1").fields?.serial ===
  vectors.codes[0].fields.serial, "a URL with a trailing / and a query decodes");
ok(V.decodeCode("ftp://x/V/" + vectors.codes[0].payload).error === "malformed",
  "another scheme is not a code");

// 2. The committed bundles (signed with the vector keys: Ed25519 kid 1,
// SM2 kid 2) against agricert-verify.
const verify = path.join(build, "service/agricert-verify");
fs.mkdirSync(tmp, { recursive: true });
const pubs = [1, 2].map((kid) => {
  const f = path.join(tmp, `vector-${kid}.pub`);
  fs.writeFileSync(f, vectors.keys.find((k) => k.kid === kid).public_pem);
  return { kid, file: f, key: V.pemKey(vectors.keys.find((k) => k.kid === kid).public_pem) };
});
const corpus = path.join(root, "tests/fuzz/corpus/bundle");
const probe = vectors.codes[0].payload;
let accepted = 0;
for (const name of fs.readdirSync(corpus).sort()) {
  const bytes = new Uint8Array(fs.readFileSync(path.join(corpus, name)));
  for (const p of pubs) {
    const c = spawnSync(verify, ["--bundle", path.join(corpus, name), "--bundle-key", p.file,
      "--json", probe]);
    const cOk = c.status !== 2;
    let js;
    try {
      await backends.webcrypto.parseBundle(bytes, p.key);
      js = true;
    } catch (e) {
      js = e.message;
    }
    accepted += js === true;
    ok((js === true) === cOk, `bundle ${name} with bundle key ${p.kid}: ${cOk ? "accepted" : "refused"} as agricert-verify does`,
      `js: ${js}, agricert-verify: ${c.status} ${c.stderr}`);
  }
}
ok(accepted >= 3, "the valid bundles of the corpus were accepted", accepted);

// 3. Fresh keys, bundles and codes (gen_bundle_fixture): every code judged
// as agricert-verify judges it, with an Ed25519 and an SM2 bundle key.
const fx = path.join(tmp, "fixture");
fs.mkdirSync(fx, { recursive: true });
execFileSync(path.join(build, "proto/gen_bundle_fixture"), [fx]);
const codes = fs.readFileSync(path.join(fx, "codes.txt"), "utf8").trim().split("\n").map((l) => l.split(" "));
for (const [bundleFile, keyFile] of [["bundle.txt", "bundle.pub"], ["bundle-sm2.txt", "bundle-sm2.pub"]]) {
  const key = V.pemKey(fs.readFileSync(path.join(fx, keyFile), "utf8"));
  const b = await backends.webcrypto.parseBundle(new Uint8Array(fs.readFileSync(path.join(fx, bundleFile))), key);
  ok(b.version === 7n, `${bundleFile}: signed by a ${key.alg} bundle key, version 7`);
  for (const [name, text] of [...codes, ["altered", flip(codes[0][1].split("/").pop(), 70)]]) {
    const c = spawnSync(verify, ["--bundle", path.join(fx, bundleFile), "--bundle-key",
      path.join(fx, keyFile), "--json", text]);
    const want = JSON.parse(c.stdout.toString().trim().split("\n")[0]);
    const got = await backends.webcrypto.judge(text, b);
    const same = got.status === want.status && (want.status === "malformed" ||
      (got.product === want.product && got.issuer === want.issuer && got.origin === want.origin &&
       got.quantity === want.quantity && got.issue_date === want.issue_date &&
       got.origin_code === want.origin_code));
    ok(same, `${bundleFile}: code ${name} is ${want.status}, with the same names, as agricert-verify says`,
      JSON.stringify({ got, want }));
  }
  const tampered = new Uint8Array(fs.readFileSync(path.join(fx, bundleFile)));
  tampered[40] ^= 1;
  let why = null;
  await backends.webcrypto.parseBundle(tampered, key).catch((e) => { why = e.message; });
  ok(why === "bad_signature", `${bundleFile} with one bit changed is refused`, why);
}
const other = V.pemKey(fs.readFileSync(path.join(fx, "other.pub"), "utf8"));
let why = null;
await backends.webcrypto.parseBundle(new Uint8Array(fs.readFileSync(path.join(fx, "bundle.txt"))), other)
  .catch((e) => { why = e.message; });
ok(why === "bad_signature", "a bundle checked against another key is refused", why);
ok(!V.newerBundle(7n, 6n) && V.newerBundle(7n, 8n) && V.newerBundle(7n, 7n) && V.newerBundle(null, 1n),
  "an older bundle than the one kept is refused, a newer or the same replaces it");

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
