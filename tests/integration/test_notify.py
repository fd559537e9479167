"""agricertd under systemd's Type=notify (deploy/systemd/agricertd.service.in):
with NOTIFY_SOCKET pointing at a datagram socket this test listens on, it
sends READY=1 once it listens, RELOADING=1 then READY=1 when SIGHUP reloads
the key rings, and STOPPING=1 on SIGTERM, then exits 0."""
import os
import signal
import socket

from harness import run_test


def main():
    run_test("notify", run, printers=False)


def receive(sock, until, timeout=10):
    """The datagrams that arrive until one contains until (or timeout s pass)."""
    got = []
    sock.settimeout(timeout)
    try:
        while not any(until in m for m in got):
            got.append(sock.recv(4096).decode())
    except socket.timeout:
        pass
    return got


def run(t, svc):
    path = os.path.join(svc.tmp, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    svc.env["NOTIFY_SOCKET"] = path
    try:
        svc.start()
        got = receive(sock, "READY=1")
        ready = [m for m in got if "READY=1" in m]
        t.ok(ready, "READY=1 once it listens", got)
        t.ok(ready and f"STATUS=listening on 127.0.0.1:{svc.port}, signing key 1" in ready[0],
             "with a status saying where it listens and which key signs", got)

        svc.cli("key", "new")
        svc.proc.send_signal(signal.SIGHUP)
        got = receive(sock, "READY=1")
        kinds = [k for m in got for k in ("RELOADING=1", "READY=1") if k in m]
        t.eq(kinds, ["RELOADING=1", "READY=1"], "SIGHUP: RELOADING=1, then READY=1")
        t.ok(any("MONOTONIC_USEC=" in m for m in got if "RELOADING=1" in m),
             "RELOADING=1 carries MONOTONIC_USEC (systemd's notify-reload wants it)", got)
        t.ok(any("signing key 2" in m for m in got if "READY=1" in m),
             "and READY=1 names the new signing key", got)

        svc.proc.send_signal(signal.SIGTERM)
        got = receive(sock, "STOPPING=1")
        t.ok(any("STOPPING=1" in m for m in got), "SIGTERM: STOPPING=1", got)
        rc = svc.stop(sig=0)
        t.eq(rc, 0, "and it exits 0")
        log = svc.read_log()
        t.ok("LeakSanitizer" not in log and "AddressSanitizer" not in log,
             "no leak or memory error report", log[-3000:])
    finally:
        sock.close()


if __name__ == "__main__":
    main()
