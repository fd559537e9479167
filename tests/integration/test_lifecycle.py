"""A clean stop under load (README.md, "Architecture"): SIGTERM while
issues with printing, scans, logins (Argon2id in the thread pool), trust
bundles and status queries are in flight. Every request sent before the
signal is answered; the service closes every module after its work, exits 0,
leaves no handle open and no LeakSanitizer report (tests/run runs it with
leak detection on). Then: a config that cannot listen fails cleanly too."""
import signal
import socket
import threading
import time

from harness import free_port, http, run_test


def fire(svc, kinds, n, results):
    """Starts n threads per kind; each records (kind, status or the error)."""
    def worker(kind, make):
        method, path, body, headers = make()
        try:
            r = http(method, svc.url + path, body, headers, timeout=40)
            results.append((kind, r.status))
        except OSError as e:
            results.append((kind, f"error: {e}"))
    threads = []
    for kind, make in kinds.items():
        for _ in range(n):
            threads.append(threading.Thread(target=worker, args=(kind, make)))
    for th in threads:
        th.start()
    return threads


def run(t, svc):
    svc.cli("account", "add", "phone_pin", str(svc.producer), "producer", "13859001234", "246810")
    svc.start()
    issued = http("POST", svc.url + "/api/v1/certificates",
                  {"product": "韭菜", "quantity": 3, "unit": "kg", "origin": "福建省安溪县凤城镇",
                   "origin_code": "350524103201", "basis": "quality_control", "labels": 1},
                  svc.auth()).json()
    code = issued["items"][0]["code"]
    scan_path = code[code.index("/V/"):]
    body = {"product": "韭菜", "quantity": 3, "unit": "kg", "origin": "福建省安溪县凤城镇",
            "origin_code": "350524103201", "basis": "quality_control", "labels": 40,
            "printer": "demo-kiosk"}
    kinds = {
        "issue": lambda: ("POST", "/api/v1/certificates", body, svc.auth()),
        "scan": lambda: ("GET", scan_path, None, {"Accept": "application/json"}),
        "login": lambda: ("POST", "/api/v1/sessions", {"phone": "13859001234", "pin": "246810"}, {}),
        "health": lambda: ("GET", "/healthz", None, {}),
        "certificate": lambda: ("GET", f"/api/v1/certificates/{issued['id']}", None, svc.auth()),
    }
    results = []
    threads = fire(svc, kinds, 6, results)
    # The requests are on their way: most are in the thread pool or the
    # database when the signal comes.
    time.sleep(0.05)
    sent_at_signal = len(threads)
    svc.proc.send_signal(signal.SIGTERM)
    for th in threads:
        th.join(60)
    # Signal 0 only checks the process is there: the SIGTERM above stops it.
    rc = svc.stop(sig=0, timeout=60)
    log = svc.read_log()

    answered = [s for _, s in results if isinstance(s, int)]
    failed = [(k, s) for k, s in results if not isinstance(s, int)]
    t.eq(len(results), sent_at_signal, "every request came back")
    t.ok(not failed, f"all {sent_at_signal} requests in flight at SIGTERM were answered", failed)
    t.ok(all(s in (200, 201) for s in answered) or not answered,
         "and answered in full (not 503), the work under way finished",
         sorted(set((k, s) for k, s in results)))
    t.eq(rc, 0, "agricertd exits 0 after SIGTERM")
    t.ok("main: stopped" in log, "the log says it stopped", log[-2000:])
    t.ok("handle left open" not in log, "no libuv handle was left open", log[-2000:])
    t.ok("LeakSanitizer" not in log and "AddressSanitizer" not in log,
         "no leak or memory error report", log[-4000:])
    t.ok("ended without an answer" not in log, "every handler answered", log[-2000:])

    # A port already taken: the service says so, closes what it opened, exits 1.
    taken = free_port()
    s = socket.socket()
    s.bind(("127.0.0.1", taken))
    s.listen(1)
    svc.env["AGRICERT_LISTEN"] = f"127.0.0.1:{taken}"
    try:
        svc.start()
        started = True
    except RuntimeError:
        started = False
    s.close()
    log = svc.read_log()
    t.ok(not started and "could not listen on 127.0.0.1:%d" % taken in log,
         "a taken port is reported", log[-1500:])
    tail = log[log.rindex("could not listen"):] if "could not listen" in log else log
    t.ok("LeakSanitizer" not in tail and "handle left open" not in tail,
         "and the failed start leaks nothing and closes every handle", tail[-2000:])


if __name__ == "__main__":
    run_test("lifecycle", run)
