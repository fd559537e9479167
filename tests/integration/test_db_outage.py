"""Robust when PostgreSQL is not (issue 14): while the database is frozen
(every process of the cluster stopped with SIGSTOP) or shut down, every
request is answered within a bound (503 with a clear error, never a hang),
and the service recovers by itself when the database is back. The bound is
db_timeout (here 3 s) plus a margin for the watchdog's tick."""
import os
import re
import signal
import subprocess
import threading
import time

from harness import ROOT, http, issue, run_test

DB_TIMEOUT_S = 3
BOUND_S = DB_TIMEOUT_S + 2


def cluster_pids():
    """The postmaster and every process under it."""
    data = os.path.join(os.environ["AGRICERT_TEST_PG_DIR"], "data")
    with open(os.path.join(data, "postmaster.pid")) as f:
        pids = [int(f.readline())]
    i = 0
    while i < len(pids):
        out = subprocess.run(["pgrep", "-P", str(pids[i])], capture_output=True, text=True).stdout
        pids += [int(p) for p in out.split()]
        i += 1
    return pids


def signal_gone_ok(pid, sig):
    """A backend may end between listing and signalling (a client that just
    left): that one needs no signal, and the others must still get theirs."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def pg_stop():
    pgdir = os.environ["AGRICERT_TEST_PG_DIR"]
    subprocess.run([os.path.join(ROOT, "deploy/pg-down"), pgdir], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pg_start():
    """deploy/pg-up again, with the cluster's directory and port, as tests/run did."""
    pgdir = os.environ["AGRICERT_TEST_PG_DIR"]
    port = re.search(r"port=(\d+)", os.environ["AGRICERT_TEST_DB"]).group(1)
    subprocess.run([os.path.join(ROOT, "deploy/pg-up"), pgdir, port], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def answered_within(svc, bound):
    """Sends a health check, an issue and a read at once; returns (all within bound, details)."""
    requests = {
        "health": lambda: http("GET", svc.url + "/healthz", timeout=bound + 10),
        "issue": lambda: issue(svc, svc.token, "韭菜", 1, 1),
        "read": lambda: http("GET", svc.url + "/api/v1/certificates/4096", None, svc.auth(),
                             timeout=bound + 10),
    }
    got = {}

    def one(name, fn):
        start = time.time()
        try:
            got[name] = (fn().status, round(time.time() - start, 1))
        except OSError as e:
            got[name] = (str(e), round(time.time() - start, 1))
    threads = [threading.Thread(target=one, args=item) for item in requests.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join(bound + 20)
    ok = all(isinstance(s, int) and s == 503 and took <= bound for s, took in got.values())
    return ok, got


def recovers(svc, within=20):
    deadline = time.time() + within
    while time.time() < deadline:
        if http("GET", svc.url + "/healthz", timeout=5).status == 200 and \
                issue(svc, svc.token, "韭菜", 1, 1).status == 201:
            return True
        time.sleep(0.5)
    return False


def run(t, svc):
    with open(svc.config, "a") as f:
        f.write(f"db_timeout = {DB_TIMEOUT_S}\n")
    svc.start()
    t.eq(issue(svc, svc.token, "韭菜", 1, 1).status, 201, "issuing works")

    pids = cluster_pids()
    try:
        for pid in pids:
            signal_gone_ok(pid, signal.SIGSTOP)
        ok, got = answered_within(svc, BOUND_S)
        t.ok(ok, f"PostgreSQL frozen: every request answered 503 within {BOUND_S} s", got)
        ok, got = answered_within(svc, BOUND_S)
        t.ok(ok, "and again while it stays frozen", got)
    finally:
        for pid in pids:
            signal_gone_ok(pid, signal.SIGCONT)
    t.ok(recovers(svc), "thawed: the service recovers by itself")

    pg_stop()
    try:
        ok, got = answered_within(svc, BOUND_S)
        t.ok(ok, f"PostgreSQL down: every request answered 503 within {BOUND_S} s", got)
    finally:
        pg_start()
    t.ok(recovers(svc), "restarted: the service recovers by itself")
    log = svc.read_log()
    t.ok("timed out waiting for an answer" in log, "the log says why (timed out)", log[-1500:])
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    run_test("db_outage", run, printers=False)
