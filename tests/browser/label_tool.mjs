// Label images for tests/integration/test_labels.py, in node:
//   node label_tool.mjs zpl FILE.zpl WIDTH_MM HEIGHT_MM DPMM PREFIX
//       renders each ^XA..^XZ label with zpl-renderer-js (zebrash, no online
//       service) to PREFIX-N.png and prints the paths
//   node label_tool.mjs read IMAGE none|gain|loss OUT.pgm
//       binarises IMAGE (8-bit grey PNG or PGM) at 50 %, then adds one dot of
//       black on every edge (gain: a 3x3 dilation) or takes one away (loss:
//       erosion), writes OUT.pgm for the other readers and prints what jsQR
//       (the vendored copy the inspector page uses) reads, or an empty line
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function readPgm(buf) {
  const head = buf.toString("latin1", 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
  if (!head) throw new Error("not a binary PGM");
  const w = +head[1], h = +head[2];
  return { w, h, px: buf.subarray(head[0].length, head[0].length + w * h) };
}

function readPng(buf) {
  let w = 0, h = 0, type = 0, depth = 0;
  const idat = [];
  for (let o = 8; o < buf.length;) {
    const len = buf.readUInt32BE(o), kind = buf.toString("latin1", o + 4, o + 8);
    const data = buf.subarray(o + 8, o + 8 + len);
    if (kind === "IHDR") {
      w = data.readUInt32BE(0); h = data.readUInt32BE(4); depth = data[8]; type = data[9];
    } else if (kind === "IDAT") idat.push(data);
    o += 12 + len;
  }
  const ch = { 0: 1, 2: 3, 4: 2, 6: 4 }[type];
  if (depth !== 8 || !ch) throw new Error(`PNG type ${type}/${depth} not handled`);
  const raw = zlib.inflateSync(Buffer.concat(idat)), stride = w * ch;
  const out = Buffer.alloc(stride * h), px = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? out[y * stride + x - ch] : 0, b = y ? out[(y - 1) * stride + x] : 0;
      const c = x >= ch && y ? out[(y - 1) * stride + x - ch] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f];
      out[y * stride + x] = (src[x] + pred) & 255;
    }
    for (let x = 0; x < w; x++) px[y * w + x] = out[y * stride + x * ch]; // grey or red
  }
  return { w, h, px };
}

function degrade(img, how) {
  const { w, h } = img, ink = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) ink[i] = img.px[i] < 128 ? 1 : 0;
  if (how === "none") return ink;
  const out = new Uint8Array(w * h), gain = how === "gain";
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = gain ? 0 : 1;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          const s = yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : ink[yy * w + xx];
          v = gain ? v | s : v & s;
        }
      out[y * w + x] = v;
    }
  return out;
}

async function zpl(file, wmm, hmm, dpmm, prefix) {
  const { ready } = await import("zpl-renderer-js");
  const { api } = await ready;
  const labels = fs.readFileSync(file, "latin1").split(/(?=\^XA)/).filter((s) => s.includes("^XZ"));
  const head = fs.readFileSync(file, "latin1").split("^XA")[0]; // ~SD and the like
  for (let i = 0; i < labels.length; i++) {
    const png = await api.zplToBase64Async(head + labels[i], +wmm, +hmm, +dpmm);
    const out = `${prefix}-${i + 1}.png`;
    fs.writeFileSync(out, Buffer.from(png, "base64"));
    console.log(out);
  }
}

function read(file, how, out) {
  const buf = fs.readFileSync(file);
  const img = buf[0] === 0x89 ? readPng(buf) : readPgm(buf);
  const ink = degrade(img, how);
  const grey = Buffer.alloc(img.w * img.h), rgba = new Uint8ClampedArray(img.w * img.h * 4);
  for (let i = 0; i < img.w * img.h; i++) {
    grey[i] = ink[i] ? 0 : 255;
    rgba.fill(grey[i], i * 4, i * 4 + 3);
    rgba[i * 4 + 3] = 255;
  }
  fs.writeFileSync(out, Buffer.concat([Buffer.from(`P5\n${img.w} ${img.h}\n255\n`), grey]));
  const jsQR = require(path.join(here, "../../service/web/vendor/jsqr/jsQR.js"));
  const code = jsQR(rgba, img.w, img.h, { inversionAttempts: "dontInvert" });
  console.log(code ? code.data : "");
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === "zpl") await zpl(...args);
else if (cmd === "read") read(...args);
else { console.error("usage: label_tool.mjs zpl|read ..."); process.exit(2); }
