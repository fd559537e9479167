"""An acknowledged certificate is never lost: not when agricertd is killed
with SIGKILL in the middle of a burst, and not when PostgreSQL restarts under
it (agricertd reconnects and goes on issuing)."""
import os
import signal
import subprocess
import threading
import time

from harness import http, psql, run_test

BODY = {"product": "韭菜", "quantity": 2.5, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 2}


def burst(svc, n_threads, per_thread, acked, errors):
    def worker(k):
        for i in range(per_thread):
            try:
                r = http("POST", svc.url + "/api/v1/certificates", BODY,
                         svc.auth(**{"Idempotency-Key": f"burst-{k}-{i}"}), timeout=10)
            except OSError as e:
                errors.append(str(e))
                return
            if r.status == 201:
                acked.append(r.json()["id"])
            else:
                errors.append(r.status)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    return threads


def pg_ctl(*args):
    pgdir = os.environ["AGRICERT_TEST_PG_DIR"]
    bindir = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
    # The server must not inherit a pipe of ours, or run() waits for it forever.
    subprocess.run(["runuser", "-u", "postgres", "--", f"/usr/lib/postgresql/{bindir}/bin/pg_ctl",
                    "-D", os.path.join(pgdir, "data"), "-l", os.path.join(pgdir, "postgres.log"),
                    "-w", "-m", "fast", *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main():
    run_test("durability", run, printers=False)


def run(t, svc):
    svc.start()

    # SIGKILL in the middle of a burst of concurrent issues.
    acked, errors = [], []
    threads = burst(svc, 8, 40, acked, errors)
    time.sleep(0.4)
    svc.proc.send_signal(signal.SIGKILL)
    svc.proc.wait()
    svc.proc = None
    svc.log.close()
    for th in threads:
        th.join()
    t.ok(len(acked) > 0, f"some issues were acknowledged before the kill ({len(acked)})")
    stored = set(int(x) for x in psql(svc.db, "SELECT serial FROM certificate").split())
    missing = [a for a in acked if a not in stored]
    t.ok(not missing, "every acknowledged certificate is in PostgreSQL after SIGKILL", missing[:10])

    # Restarted, the same idempotency keys give back the stored certificates.
    svc.start()
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth(**{"Idempotency-Key": "burst-0-0"}))
    t.ok(r.status in (200, 201), "a retry after the crash is answered", r.body)

    # PostgreSQL restarts under a running agricertd.
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    t.eq(r.status, 201, "issuing works before the database restart")
    pg_ctl("restart")
    ok_after = None
    deadline = time.time() + 30
    statuses = []
    while time.time() < deadline:
        r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth(**{"Idempotency-Key": "after-restart"}))
        statuses.append(r.status)
        if r.status in (200, 201):
            ok_after = r.json()["id"]
            break
        t.ok(r.status == 503 and r.json()["error"]["code"] == "unavailable" and
             r.json()["error"]["message_zh"], "while reconnecting: 503 with a clear error", r.body) if len(statuses) == 1 else None
        time.sleep(0.2)
    t.ok(ok_after is not None, "agricertd reconnects and issues after PostgreSQL restarts", statuses)
    if ok_after is not None:
        t.eq(psql(svc.db, f"SELECT count(*) FROM certificate WHERE serial = {ok_after}"), "1",
             "the certificate issued after the restart is stored")
    r = http("GET", svc.url + "/healthz")
    t.eq(r.status, 200, "healthz is green again")
    t.eq(svc.stop(), 0, "SIGTERM afterwards exits cleanly")


if __name__ == "__main__":
    main()
