"""Print faults (issue 12, part 5) through the API: a paused queue, paper
out, an offline printer, CUPS down; each shows in GET /api/v1/print-jobs/{id}
within seconds as a stable keyword with words for the kiosk
({"fault": {"code", "message", "message_zh"}}), and afterwards a reprint
prints the same codes: nothing is lost. (A job not printed within
print_timeout: test_printing.py.)"""
import glob
import os
import shutil
import socket
import subprocess
import time

from harness import ROOT, http, label_files, read_label, run_test, wait_for, wait_print_job

BODY = {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 2}
CUPS_DIR = os.path.dirname(os.environ.get("AGRICERT_TEST_LABELS_DIR", "/nonexistent"))


def tool(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or name


def cups(name, *args):
    return subprocess.run([tool(name), "-h", os.environ["AGRICERT_CUPS_SERVER"], *args],
                          capture_output=True, text=True, timeout=30)


def raw_mode(printer, mode):
    """Sets the demo raw printer's mode; offline: once it refuses connections."""
    subprocess.run([os.path.join(ROOT, "deploy/raw-printer"), "mode", CUPS_DIR, printer, mode], check=True)
    if mode == "offline":
        port = int(open(os.path.join(CUPS_DIR, f"raw-{printer}.port")).read())

        def refused():
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                return False
            except OSError:
                return True
        wait_for(refused, 5)


def set_reasons(queue, reasons):
    """What a backend reports of its printer (paper out...), set on the queue as
    CUPS-Add-Modify-Printer does; "none" clears it."""
    test = os.path.join(os.environ.get("AGRICERT_TEST_TMP", "/tmp"), "reasons.test")
    with open(test, "w") as f:
        f.write("{\n OPERATION CUPS-Add-Modify-Printer\n GROUP operation-attributes-tag\n"
                " ATTR charset attributes-charset utf-8\n ATTR naturalLanguage attributes-natural-language en\n"
                " ATTR uri printer-uri $uri\n ATTR name requesting-user-name root\n"
                f" GROUP printer-attributes-tag\n ATTR keyword printer-state-reasons {reasons}\n"
                " STATUS successful-ok\n}\n")
    uri = f"ipp://{os.environ['AGRICERT_CUPS_SERVER']}/admin/printers/{queue}"
    return subprocess.run([tool("ipptool"), "-T", "10", uri.replace("/admin/printers/", "/printers/"), test],
                          capture_output=True, text=True)


class Faults:
    def __init__(self, t, svc):
        self.t, self.svc = t, svc

    def job(self, job):
        return http("GET", self.svc.url + f"/api/v1/print-jobs/{job}", None, self.svc.auth()).json()

    def issue(self, printer):
        r = http("POST", self.svc.url + "/api/v1/certificates", dict(BODY, printer=printer), self.svc.auth())
        self.t.eq(r.status, 201, f"issued on {printer}")
        cert = r.json()
        return cert, cert["print_job"]["id"], sorted(i["code"] for i in cert["items"])

    def shows(self, job, code, within=8):
        """Waits until the job shows fault code: the job as then read."""
        seen = {}

        def check():
            seen.update(self.job(job))
            return (seen.get("fault") or {}).get("code") == code
        ok = wait_for(check, within)
        fault = seen.get("fault") or {}
        self.t.ok(ok and fault.get("message_zh") and fault.get("message"),
                  f"the job shows fault {code!r} with words for the kiosk within {within} s", seen)
        return seen

    def reprint(self, cert, printer, codes, pattern):
        before = set(glob.glob(os.path.join(os.environ["AGRICERT_TEST_LABELS_DIR"], pattern)))
        r = http("POST", self.svc.url + f"/api/v1/certificates/{cert['id']}/reprint", {"printer": printer},
                 self.svc.auth())
        self.t.eq(r.status, 201, "reprint accepted")
        job = wait_print_job(self.svc, r.json()["print_job"]["id"], timeout=30)
        self.t.eq(job.get("state"), "completed", "the reprint completes")
        self.t.eq(job.get("fault"), None, "and shows no fault")
        return before


def paused(t, f, queue):
    t.eq(cups("cupsdisable", queue).returncode, 0, "the kiosk's queue is paused (cupsdisable)")
    try:
        cert, job, codes = f.issue("demo-kiosk")
        j = f.shows(job, "paused")
        t.ok(j.get("state") in ("pending", "held", "stopped"), "the job waits", j)
        t.ok("暂停" in j["fault"]["message_zh"], "in Chinese: 打印机已暂停", j["fault"])
    finally:
        cups("cupsenable", queue)
    done = wait_print_job(f.svc, job, timeout=30)
    t.ok(done.get("state") == "completed" and done.get("fault") is None,
         "resumed: the job prints and the fault clears", done)
    files = label_files()
    t.eq(sorted(read_label(files[-1])) if files else [], codes, "with its codes")


def paper_out(t, f):
    raw_mode("demo-zpl", "hold")
    try:
        cert, job, codes = f.issue("demo-zpl")
        t.ok(wait_for(lambda: f.job(job).get("state") == "printing", 10), "the job reaches the printer",
             f.job(job))
        r = set_reasons("demo-zpl", "media-empty-error")
        t.ok(r.returncode == 0, "the printer reports paper out", r.stdout[-400:] + r.stderr[-400:])
        j = f.shows(job, "media-empty")
        t.ok("缺纸" in j["fault"]["message_zh"], "in Chinese: 打印机缺纸", j["fault"])
    finally:
        set_reasons("demo-zpl", "none")
        raw_mode("demo-zpl", "ok")
    t.eq(wait_print_job(f.svc, job, timeout=30).get("state"), "completed", "paper in: the job completes")
    f.reprint(cert, "demo-zpl", codes, "demo-zpl-*.zpl")


def offline(t, f):
    raw_mode("demo-tspl", "offline")
    try:
        cert, job, codes = f.issue("demo-tspl")
        j = f.shows(job, "offline", within=12)
        t.ok("没有响应" in j["fault"]["message_zh"], "in Chinese: 打印机没有响应", j["fault"])
    finally:
        raw_mode("demo-tspl", "ok")
    # The socket backend retries every 30 s: cancel rather than wait, then reprint.
    t.eq(cups("cancel", "-a", "demo-tspl").returncode, 0, "the stuck job is cancelled at CUPS")
    t.ok(wait_for(lambda: f.job(job).get("state") == "canceled", 10), "the job shows canceled", f.job(job))
    before = f.reprint(cert, "demo-tspl", codes, "demo-tspl-*.tspl")
    new = sorted(set(glob.glob(os.path.join(os.environ["AGRICERT_TEST_LABELS_DIR"], "demo-tspl-*.tspl"))) - before)
    data = open(new[-1], "rb").read() if new else b""
    t.ok(all(c.encode() in data for c in codes), "the reprint carries the same codes", len(data))


def cups_down(t, svc):
    """CUPS unreachable when the job is sent: failed with cups-down; nothing is
    lost: once CUPS answers again, the reprint prints the same codes."""
    svc.stop()
    server = svc.env["AGRICERT_CUPS_SERVER"]
    svc.env["AGRICERT_CUPS_SERVER"] = "127.0.0.1:1"  # nothing listens there
    svc.start()
    f = Faults(t, svc)
    cert, job, codes = f.issue("demo-kiosk")
    j = f.shows(job, "cups-down")
    t.eq(j.get("state"), "failed", "the job is failed, the certificate kept")
    t.ok("补打" in j["fault"]["message_zh"], "the kiosk is told to reprint later", j["fault"])
    svc.stop()
    svc.env["AGRICERT_CUPS_SERVER"] = server
    svc.start()
    f.reprint(cert, "demo-kiosk", codes, "job-*.pdf")
    files = label_files()
    t.eq(sorted(read_label(files[-1])) if files else [], codes, "CUPS back: the reprint has the same codes")


def run(t, svc):
    queue = os.environ["AGRICERT_TEST_QUEUE"]
    with open(svc.config, "a") as cf:
        cf.write(f"printer.demo-zpl = demo-zpl 60x40@203 zpl\nprinter.demo-tspl = demo-tspl 60x40@203 tspl\n"
                 f"print_timeout = 60\n")
    svc.start()
    f = Faults(t, svc)
    paused(t, f, queue)
    paper_out(t, f)
    offline(t, f)
    cups_down(t, svc)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    run_test("print_faults", run)
