"""Real kiosk printers (README, "Real printers"): kiosks registered through the
API with their printer's language, media, resolution and dot-gain
compensation; certificates printed through agricertd and CUPS to the virtual
IPP printer (PDF) and the demo raw printers (ZPL, TSPL), the bytes read back
from what the printers received:

- PDF at every size, 203 and 300 dpi: pdftoppm at the printer's resolution,
  zbarimg reads every code; pdftotext holds the contact number in full and
  第N件/共N件; 40x30 is refused (too small for every legal field).
- ZPL at 50x30, 60x40 (203 dpi), 70x50, 100x70 (300 dpi): rendered to PNG by
  zpl-renderer-js (zebrash, offline), zbarimg reads
  every code, equal to the issued ones.
- TSPL: every command checked against the TSPL manual's grammar; the QRCODE
  payloads equal the codes; TEXT is valid GBK.
- Degraded images: one dot of spread on every edge (3x3 dilation of black)
  and one dot of loss (erosion), read by at least two of zbarimg, ZXingReader
  (zxing-cpp) and jsQR, independent readers.
- A change of the kiosk's printer applies to the next job, no restart."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import ROOT, http, run_test, wait_print_job

LABELS = os.environ.get("AGRICERT_TEST_LABELS_DIR", "/nonexistent")
NODE_TOOL = os.path.join(ROOT, "tests/browser/label_tool.mjs")
BODY = {"product": "豇豆", "quantity": 25, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control"}
CONTACT = "13859001234"  # the demo producer's, as the CLI registered it


def new_files(before, pattern, timeout=15):
    """Files matching pattern in the labels folder that were not in before."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = sorted(set(glob.glob(os.path.join(LABELS, pattern))) - before, key=os.path.getmtime)
        if found:
            return found
        time.sleep(0.1)
    return []


def zbar(images):
    out = subprocess.run(["zbarimg", "--nodbus", "-q", "--raw", *images], capture_output=True, text=True)
    return out.stdout.split()


def zxing(image):
    out = subprocess.run(["ZXingReader", "-bytes", image], capture_output=True)
    return out.stdout.decode("latin1").strip() if out.returncode == 0 else ""


def read_three(image, how, work):
    """What each reader reads from image after `how` (none, gain, loss)."""
    pgm = os.path.join(work, f"{os.path.basename(image)}-{how}.pgm")
    js = subprocess.run(["node", NODE_TOOL, "read", image, how, pgm], capture_output=True, text=True)
    z = zbar([pgm])
    return {"zbarimg": z[0] if z else "", "zxing": zxing(pgm), "jsqr": js.stdout.strip()}


class Printing:
    def __init__(self, t, svc, county):
        self.t, self.svc, self.county = t, svc, county
        self.api = svc.url + "/api/v1"

    def kiosk(self, kid, queue, **printer):
        body = {"id": kid, "name": f"服务站 {kid}", "region_code": "350524103201", "cups_queue": queue}
        body.update(printer)
        r = http("POST", self.api + "/kiosks", body, self.svc.auth(self.county))
        if r.status != 201:
            raise RuntimeError(f"kiosk {kid}: {r.status} {r.body}")
        return r.json()

    def print_on(self, kid, labels, pattern, **fields):
        """Issues labels on kiosk kid: (codes, the job as last read, the new files)."""
        before = set(glob.glob(os.path.join(LABELS, pattern)))
        r = http("POST", self.api + "/certificates", dict(BODY, labels=labels, printer=kid, **fields),
                 self.svc.auth())
        if r.status != 201:
            raise RuntimeError(f"issue on {kid}: {r.status} {r.body}")
        cert = r.json()
        job = wait_print_job(self.svc, cert["print_job"]["id"], timeout=30)
        files = new_files(before, pattern) if job.get("state") == "completed" else []
        return [i["code"] for i in cert["items"]], job, files


def check_pdf_sizes(t, p, work):
    for size in ["50x30", "60x40", "70x50", "100x70"]:
        for dpi in (203, 300):
            kid = f"pdf-{size}-{dpi}"
            w, h = size.split("x")
            p.kiosk(kid, os.environ["AGRICERT_TEST_QUEUE"], media=f"om_{w}x{h}mm_{w}x{h}mm", dpi=dpi)
            codes, job, files = p.print_on(kid, 2, "job-*.pdf")
            if not t.ok(job.get("state") == "completed" and files, f"{size}@{dpi}: the PDF job completes", job):
                continue
            prefix = os.path.join(work, kid)
            subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", files[-1], prefix], check=True)
            pages = sorted(glob.glob(prefix + "-*.pgm"))
            t.eq(zbar(pages), codes, f"{size}@{dpi}: pdftoppm at {dpi} dpi, zbarimg reads every code")
            text = subprocess.run(["pdftotext", files[-1], "-"], capture_output=True, text=True).stdout
            t.ok(f"联系方式：{CONTACT}" in text or f"电话：{CONTACT}" in text or CONTACT in text.replace(" ", ""),
                 f"{size}@{dpi}: pdftotext holds the contact number in full", text)
            t.ok("第1件/共2件" in text and "第2件/共2件" in text, f"{size}@{dpi}: 第N件/共N件 on each label")
            yield size, dpi, pages[0]


def check_degraded(t, name, page, how, work, need=2):
    got = read_three(page, how, work)
    good = [k for k, v in got.items() if v.startswith("HTTP")]
    t.ok(len(good) >= need, f"{name}, one dot of {how} on every edge: read by {len(good)} readers "
         f"({', '.join(good) or 'none'})", got)


def check_pdf(t, p, work):
    for size, dpi, page in list(check_pdf_sizes(t, p, work)):
        if size == "50x30" and dpi == 203:
            continue  # 3-dot modules: with the printer's compensation below
        for how in ("gain", "loss"):
            check_degraded(t, f"{size}@{dpi}", page, how, work)
    # 50x30 at 203 dpi has 3-dot modules: the kiosk's dot_gain matches its printer.
    for gain, how in ((1, "gain"), (-1, "loss")):
        kid = f"pdf-50x30-g{gain}".replace("-g-", "-gm")
        p.kiosk(kid, os.environ["AGRICERT_TEST_QUEUE"], media="om_50x30mm_50x30mm", dpi=203, dot_gain=gain)
        codes, job, files = p.print_on(kid, 1, "job-*.pdf")
        if t.ok(files, f"50x30@203 with dot_gain {gain} prints", job):
            prefix = os.path.join(work, kid)
            subprocess.run(["pdftoppm", "-r", "203", "-gray", files[-1], prefix], check=True)
            check_degraded(t, f"50x30@203 compensated ({gain})", prefix + "-1.pgm", how, work)
    p.kiosk("pdf-40x30", os.environ["AGRICERT_TEST_QUEUE"], label_size="40x30@203")
    r = http("POST", p.api + "/certificates", dict(BODY, labels=1, printer="pdf-40x30"), p.svc.auth())
    job = wait_print_job(p.svc, r.json()["print_job"]["id"], timeout=20)
    t.ok(job.get("state") == "failed" and (job.get("fault") or {}).get("code") == "label-too-small",
         "40x30: refused as too small for every legal field, said so", job)


def check_zpl(t, p, work):
    if not os.path.isdir(os.path.join(ROOT, "tests/browser/node_modules/zpl-renderer-js")):
        t.ok(False, "zpl-renderer-js is installed (tests/run: npm ci in tests/browser)")
        return
    for size, dpi, dpmm in (("50x30", 203, 8), ("60x40", 203, 8), ("70x50", 300, 12), ("100x70", 300, 12)):
        kid = f"zpl-{size}-{dpi}"
        w, h = size.split("x")
        p.kiosk(kid, "demo-zpl", printer_language="zpl", media=f"om_{w}x{h}mm_{w}x{h}mm", dpi=dpi,
                darkness=20)
        codes, job, files = p.print_on(kid, 3, "demo-zpl-*.zpl")
        if not t.ok(job.get("state") == "completed" and files, f"ZPL {size}@{dpi}: the job reaches the printer", job):
            continue
        data = open(files[-1], "rb").read()
        t.ok(data.startswith(b"~SD20\n^XA") and data.count(b"^XA") == 3 and b"^BQN,2," in data,
             f"ZPL {size}@{dpi}: darkness, three formats, the printer's own QR command")
        prefix = os.path.join(work, kid)
        out = subprocess.run(["node", NODE_TOOL, "zpl", files[-1], w, h, str(dpmm), prefix],
                             capture_output=True, text=True)
        pngs = out.stdout.split()
        t.eq(zbar(pngs), codes, f"ZPL {size}@{dpi}: zpl-renderer-js renders it, zbarimg reads every code")
        for how in ("gain", "loss") if size in ("60x40", "100x70") else ():
            if pngs:
                check_degraded(t, f"ZPL {size}@{dpi}", pngs[0], how, work)


TSPL_GRAMMAR = {
    b"SIZE": rb"(\d+(\.\d+)?) mm,(\d+(\.\d+)?) mm",
    b"GAP": rb"\d+(\.\d+)? mm,\d+(\.\d+)? mm",
    b"DIRECTION": rb"[01](,[01])?",
    b"REFERENCE": rb"\d+,\d+",
    b"DENSITY": rb"([0-9]|1[0-5])",
    b"CLS": rb"",
    b"BAR": rb"\d+,\d+,\d+,\d+",
    b"TEXT": rb'\d+,\d+,"[A-Z0-9.]+",(0|90|180|270),([1-9]|10),([1-9]|10),"[^"]*"',
    b"QRCODE": rb'\d+,\d+,[LMQH],([1-9]|10),[AM],(0|90|180|270)(,M[12],S[0-8])?,"[^"]*"',
    b"PRINT": rb"\d+(,\d+)?",
}


def tspl_commands(data):
    """Splits TSPL into (command, arguments) by the manual: CR LF ends a command;
    BITMAP X,Y,width,height,mode, is followed by width*height bytes of data."""
    out, i = [], 0
    while i < len(data):
        m = re.match(rb"BITMAP (\d+),(\d+),(\d+),(\d+),([012]),", data[i:])
        if m:
            n = int(m.group(3)) * int(m.group(4))
            end = i + m.end() + n
            out.append((b"BITMAP", m.groups(), data[i + m.end():end]))
            if data[end:end + 2] != b"\r\n":
                raise ValueError(f"BITMAP at {i}: {n} bytes of data not followed by CR LF")
            i = end + 2
            continue
        end = data.index(b"\r\n", i)
        line = data[i:end]
        name, _, args = line.partition(b" ")
        out.append((name, args, None))
        i = end + 2
    return out


def check_tspl_job(t, name, data, codes):
    try:
        cmds = tspl_commands(data)
    except ValueError as e:
        t.ok(False, f"{name}: commands end in CR LF", str(e))
        return
    bad = [c for c in cmds if c[0] != b"BITMAP" and
           (c[0] not in TSPL_GRAMMAR or not re.fullmatch(TSPL_GRAMMAR[c[0]], c[1], re.S))]
    t.ok(not bad, f"{name}: every command follows the TSPL grammar", bad[:3])
    size = next((c for c in cmds if c[0] == b"SIZE"), None)
    w_mm, h_mm = (float(x) for x in re.findall(rb"[\d.]+", size[1])[:2]) if size else (0, 0)
    payloads = [re.search(rb'"A?(.*)"$', c[1]).group(1).decode() for c in cmds if c[0] == b"QRCODE"]
    t.eq(payloads, codes, f"{name}: the QRCODE payloads are the codes (manual alphanumeric input)")
    texts = [re.search(rb',"([^"]*)"$', c[1]).group(1) for c in cmds if c[0] == b"TEXT"]
    try:
        decoded = [x.decode("gbk") for x in texts]
        ok = bool(texts)
    except UnicodeDecodeError as e:
        decoded, ok = [], False
    t.ok(ok, f"{name}: TEXT in TSS24.BF2 is valid GBK", texts[:3])
    t.ok(any("承诺达标合格证" in x for x in decoded), f"{name}: the title in the printer's font", decoded[:3])
    t.eq([c[0] for c in cmds].count(b"PRINT"), len(codes), f"{name}: one PRINT per label")
    t.ok(w_mm > 0 and all(int(c[1][0]) + int(c[1][2]) * 8 <= w_mm / 25.4 * 300 + 8
                          for c in cmds if c[0] == b"BITMAP"), f"{name}: bitmaps stay on the label")


def check_tspl(t, p):
    for size, dpi in (("70x50", 203), ("100x70", 203), ("60x40", 300)):
        kid = f"tspl-{size}-{dpi}"
        w, h = size.split("x")
        p.kiosk(kid, "demo-tspl", printer_language="tspl", media=f"om_{w}x{h}mm_{w}x{h}mm", dpi=dpi,
                darkness=9)
        codes, job, files = p.print_on(kid, 2, "demo-tspl-*.tspl")
        if t.ok(job.get("state") == "completed" and files, f"TSPL {size}@{dpi}: the job reaches the printer", job):
            check_tspl_job(t, f"TSPL {size}@{dpi}", open(files[-1], "rb").read(), codes)
    # 堃 is in GBK, not in GB 2312 (what TSS24.BF2 has): drawn as a BITMAP between TEXTs.
    kid = "tspl-rare"
    p.kiosk(kid, "demo-tspl", printer_language="tspl", media="om_70x50mm_70x50mm", dpi=203)
    codes, job, files = p.print_on(kid, 1, "demo-tspl-*.tspl", origin="福建省安溪县堃镇")
    if t.ok(job.get("state") == "completed" and files, "TSPL with 堃 in the origin prints", job):
        data = open(files[-1], "rb").read()
        check_tspl_job(t, "TSPL 堃", data, codes)
        texts = b"".join(re.findall(rb'TEXT [^\r]*"([^"]*)"\r\n', data)).decode("gbk", "replace")
        t.ok("堃" not in texts and "福建省安溪县" in texts and data.count(b"BITMAP ") >= 1,
             "TSPL: the resident font for GB 2312, a BITMAP for 堃", texts)


def check_change_applies(t, p):
    """The kiosk's printer changed through the API: the next job follows, no restart."""
    p.kiosk("switch", os.environ["AGRICERT_TEST_QUEUE"])
    codes, job, files = p.print_on("switch", 1, "job-*.pdf")
    t.ok(files and open(files[-1], "rb").read(5) == b"%PDF-", "a kiosk printing PDF", job)
    r = http("PATCH", p.api + "/kiosks/switch", {"cups_queue": "demo-zpl", "printer_language": "zpl"},
             p.svc.auth(p.county))
    t.ok(r.status == 200 and r.json()["printer_language"] == "zpl" and r.json()["media"] == "om_60x40mm_60x40mm",
         "PATCH the kiosk to a ZPL printer", r.body)
    codes, job, files = p.print_on("switch", 1, "demo-zpl-*.zpl")
    t.ok(files and open(files[-1], "rb").read().count(b"^XA") == 1, "the next job is ZPL on the new queue", job)
    r = http("PATCH", p.api + "/kiosks/switch", {"media": "om_45x30mm_45x30mm"}, p.svc.auth(p.county))
    t.eq(r.status, 400, "an unsupported media is refused")
    r = http("PATCH", p.api + "/kiosks/switch", {"dot_gain": 9}, p.svc.auth(p.county))
    t.eq(r.status, 400, "a dot gain out of range is refused")


def run(t, svc):
    county = svc.county_regulator().token
    svc.start()
    p = Printing(t, svc, county)
    work = tempfile.mkdtemp(prefix="labels.", dir=os.environ.get("AGRICERT_TEST_TMP"))
    try:
        check_change_applies(t, p)
        check_pdf(t, p, work)
        check_zpl(t, p, work)
        check_tspl(t, p)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    run_test("labels", run)
