"""Printer faults in the kiosk page (issue 12, part 5), in Chromium
(kiosk_faults.mjs): a farmer issues a label on the touch screen while the
kiosk's printer is paused, out of paper, offline, while CUPS is down, and
while it stays paused beyond print_timeout. Each time the page shows the
service's fault keyword and its plain Chinese words within seconds, and what
happens once the fault is repaired: a paused or paper-out printer goes on
printing; an offline printer's job is cancelled; after CUPS down and the
timeout the job is failed and a reprint prints the same codes. The kiosk's
printer moves between queues through the API (PATCH /api/v1/kiosks/{id}),
with no restart. (The same faults through the API: integration/test_print_faults.py.)"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../integration"))
from harness import (FENGCHENG, http, label_files, psql, read_label, run_test, skip_all,  # noqa: E402
                     wait_for, wait_print_job)
from test_print_faults import cups, raw_mode, set_reasons  # noqa: E402

# fault: (printer queue, language, words the kiosk must show, state once repaired)
FAULTS = {
    "paused": ("demo-kiosk", "pdf", "暂停", "completed"),
    "media-empty": ("demo-zpl", "zpl", "没纸了", "completed"),
    "offline": ("demo-tspl", "tspl", "没有连上", "canceled"),
    "cups-down": ("demo-kiosk", "pdf", "补打", "failed"),
    "timeout": ("demo-kiosk", "pdf", "已经取消", "failed"),
}
KIOSK = "fault-kiosk"


def main():
    if not os.path.exists("/usr/bin/chromium") or not os.path.isdir(os.path.join(HERE, "node_modules",
                                                                                  "playwright-core")):
        skip_all("chromium or playwright-core is not installed (tests/run installs them)")
    if not os.environ.get("AGRICERT_TEST_QUEUE"):
        skip_all("needs the virtual printer (run through tests/run)")
    run_test("kiosk_faults", run)


class Printer:
    """Breaks and repairs the kiosk's printer, step by step with the page."""

    def __init__(self, t, svc, county):
        self.t, self.svc, self.county = t, svc, county
        self.cups_server = svc.env["AGRICERT_CUPS_SERVER"]
        self.serials = {}

    def restart(self, cups_server=None, print_timeout=None):
        self.svc.stop()
        self.svc.env["AGRICERT_CUPS_SERVER"] = cups_server or self.cups_server
        with open(self.svc.config) as f:
            conf = re.sub(r"(?m)^print_timeout = .*\n", "", f.read())
        with open(self.svc.config, "w") as f:
            f.write(conf + (f"print_timeout = {print_timeout}\n" if print_timeout else ""))
        self.svc.start()

    def job(self):
        row = psql(self.svc.db, "SELECT id || ' ' || serial FROM print_job ORDER BY id DESC LIMIT 1").split()
        return int(row[0]), int(row[1])

    def brk(self, fault):
        queue, lang = FAULTS[fault][:2]
        r = http("PATCH", self.svc.url + f"/api/v1/kiosks/{KIOSK}",
                 {"cups_queue": queue, "printer_language": lang}, self.svc.auth(self.county))
        self.t.eq(r.status, 200, f"{fault}: the kiosk prints on {queue} ({lang}) from its next job")
        if fault in ("paused", "timeout"):
            if fault == "timeout":
                self.restart(print_timeout=5)
            self.t.eq(cups("cupsdisable", queue).returncode, 0, f"{fault}: the queue is paused")
        elif fault == "media-empty":
            raw_mode(queue, "hold")
        elif fault == "offline":
            raw_mode(queue, "offline")
        elif fault == "cups-down":
            self.restart(cups_server="127.0.0.1:1")

    def issued(self, fault):
        job, self.serials[fault] = self.job()
        if fault != "media-empty":
            return
        got = wait_for(lambda: http("GET", self.svc.url + f"/api/v1/print-jobs/{job}", None,
                                    self.svc.auth()).json().get("state") == "printing", 15)
        self.t.ok(got, "media-empty: the job reaches the printer")
        self.t.eq(set_reasons("demo-zpl", "media-empty-error").returncode, 0, "the printer reports paper out")

    def repair(self, fault):
        queue = FAULTS[fault][0]
        if fault in ("paused", "timeout"):
            cups("cupsenable", queue)
        elif fault == "media-empty":
            set_reasons(queue, "none")
            raw_mode(queue, "ok")
        elif fault == "offline":
            raw_mode(queue, "ok")
            # The socket backend retries every 30 s: the staff cancel it.
            cups("cancel", "-a", queue)
        elif fault == "cups-down":
            self.restart()

    def reprint(self, fault):
        """After a failed job: the same codes again, nothing lost."""
        serial = self.serials.get(fault)
        cert = http("GET", self.svc.url + f"/api/v1/certificates/{serial}", None, self.svc.auth()).json()
        codes = sorted(i["code"] for i in cert.get("items", []))
        r = http("POST", self.svc.url + f"/api/v1/certificates/{serial}/reprint", {"printer": KIOSK},
                 self.svc.auth())
        job = wait_print_job(self.svc, r.json()["print_job"]["id"], timeout=30) if r.status == 201 else {}
        files = label_files()
        self.t.ok(job.get("state") == "completed" and codes and files and sorted(read_label(files[-1])) == codes,
                  f"{fault}: the reprint prints the same codes", [r.status, job, codes])


def talk(t, svc, printer, device):
    proc = subprocess.Popen(["node", os.path.join(HERE, "kiosk_faults.mjs"), svc.url, device, svc.tmp, *FAULTS],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=HERE)
    steps = {"break": printer.brk, "issued": printer.issued, "repair": printer.repair}
    seen = {}
    try:
        for line in proc.stdout:
            msg = json.loads(line)
            if "step" not in msg:
                seen = msg
                break
            steps[msg["step"]](msg["fault"])
            proc.stdin.write("go\n")
            proc.stdin.flush()
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        stderr = proc.stderr.read()
        proc.wait(timeout=60)
    t.ok("error" not in seen and seen, "the page ran through every fault", seen.get("error", "") + stderr[-500:])
    return seen.get("faults", {})


def run(t, svc):
    staff = svc.township_office(FENGCHENG, role=None).id
    county = svc.county_regulator().token
    svc.cli("account", "add", "phone_pin", svc.producer, "producer", "13859001234", "246810")
    device = svc.add_kiosk(KIOSK, "凤城镇示范村自助服务站", staff)
    svc.start()
    printer = Printer(t, svc, county)
    seen = talk(t, svc, printer, device)
    for fault, (_, _, words, after) in FAULTS.items():
        got = seen.get(fault, {})
        shown = got.get("shown", {})
        t.ok(shown.get("fault") == fault and words in shown.get("text", ""),
             f"{fault}: the kiosk shows it within seconds, in Chinese ({words})", shown)
        t.eq(got.get("after", {}).get("state"), after, f"{fault}: repaired, the job is {after}")
        shot = os.path.join(svc.tmp, f"kiosk-fault-{fault}.png")
        t.ok(os.path.exists(shot) and os.path.getsize(shot) > 5000, f"screenshot kiosk-fault-{fault}.png")
        if after == "failed":
            printer.reprint(fault)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
