"""print_timeout (README.md, "Configuration"): a job that has not printed
that many seconds after it reached CUPS, here because the kiosk's printer is
paused, is cancelled at CUPS and marked failed with reason "timeout", so
that the kiosk polling it can say so, and the labels do not come out later
for nobody when the printer is resumed."""
import os
import shutil
import subprocess
import time

from harness import http, run_test, wait_for

TIMEOUT_S = 5


def cups(tool, *args):
    server = os.environ["AGRICERT_CUPS_SERVER"]
    path = shutil.which(tool, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    return subprocess.run([path, "-h", server, *args], capture_output=True, text=True,
                          timeout=30)


def run(t, svc):
    queue = os.environ["AGRICERT_TEST_QUEUE"]
    with open(svc.config, "a") as f:
        f.write(f"print_timeout = {TIMEOUT_S}\n")
    svc.start()
    t.eq(cups("cupsdisable", queue).returncode, 0, "the kiosk's printer is paused")
    try:
        body = {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": "福建省安溪县凤城镇",
                "origin_code": "350524103201", "basis": "quality_control", "labels": 2,
                "printer": "demo-kiosk"}
        r = http("POST", svc.url + "/api/v1/certificates", body, svc.auth())
        t.eq(r.status, 201, "issued with printing")
        job = r.json()["print_job"]["id"]

        def state():
            return http("GET", svc.url + f"/api/v1/print-jobs/{job}", None, svc.auth()).json()
        t.ok(wait_for(lambda: state().get("cups_job_id") is not None, 5) and
             state()["state"] in ("pending", "held", "stopped"),
             "the job waits at the paused printer", state())
        started = time.time()
        t.ok(wait_for(lambda: state()["state"] == "failed", TIMEOUT_S + 30),
             f"after print_timeout ({TIMEOUT_S} s) the job is failed", state())
        took = time.time() - started
        job_state = state()
        t.ok("timeout" in (job_state.get("reason") or ""),
             "its reason says it timed out, for the kiosk to show", job_state)
        fault = job_state.get("fault") or {}
        t.ok(fault.get("code") == "timeout" and "已取消" in (fault.get("message_zh") or ""),
             "its fault is the keyword timeout with Chinese words for the kiosk", job_state)
        t.note(f"failed {took:.1f} s after it was seen waiting (print_timeout {TIMEOUT_S} s)")
        jobs = cups("lpstat", "-W", "not-completed", "-o", queue).stdout
        t.ok(f"{queue}-{job_state['cups_job_id']} " not in jobs,
             "and it is no longer queued at CUPS", jobs)
        t.ok(f"job {job} on demo-kiosk timed out after {TIMEOUT_S} s: cancelled" in svc.read_log(),
             "the log says so")
    finally:
        cups("cupsenable", queue)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    run_test("printing", run)
