"""Observability: GET /metrics in the Prometheus text format (checked by Debian's
promtool after real traffic, its counts moving with the requests that made
them, and who may read it), the request log (static files logged too; no
request, however it is spelled, can put a line in the log that does not
start with the service's timestamp and level; JSON lines with
log_format = json), and /healthz reporting the database and CUPS apart,
without libpq's or CUPS' words for anonymous callers."""
import json
import os
import re
import shutil
import socket
import subprocess

from harness import (altered, free_port, http, issue, psql, run_test, scan, skip_all,
                     wait_for)

TOKEN = "metrics-secret-0123456789"
# The service's own line: 2026-11-23T10:00:00.123Z info  http: ...
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) [a-z]+: ")


def main():
    if shutil.which("promtool") is None:
        skip_all("promtool is not installed (deploy/install-deps installs prometheus)")
    run_test("observe", run)


def metrics(svc, headers=None):
    return http("GET", svc.url + "/metrics", headers=headers or {})


def samples(text):
    """{'name{labels}': value} of a text-format exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def value(text, name, **labels):
    """The sum of name's samples whose labels include labels."""
    total = 0.0
    for key, v in samples(text).items():
        base, _, rest = key.partition("{")
        if base != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
        if all(have.get(k) == str(want) for k, want in labels.items()):
            total += v
    return total


def promtool(text):
    return subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                          text=True)


def raw(port, data, timeout=10):
    """Sends bytes on a new connection; what came back until the server closed or timed out."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got:
                head, _, body = got.partition(b"\r\n\r\n")
                m = re.search(rb"content-length: *(\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)):
                    break
    except OSError:
        pass
    finally:
        s.close()
    return got


# Requests that try to forge or disturb log lines: escapes in the path,
# raw control bytes, long paths, odd headers, static and API paths alike.
INJECTIONS = [
    b"GET /api/v1/x%0A2026-01-01T00:00:00.000Z%20info%20%20http:%20forged HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /index.html%0D%0Aforged%1B[31mred HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /v/AAAA%0Aforged%00nul%E4%BD%A0 HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /kiosk\x1b[2J\x07bell HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /raw\xff\xfe\x80bytes HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /a\rforged HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /" + b"%0A" * 4000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /" + b"x" * 20000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Odd: \x1b[31m\r\nX-Forwarded-For: 1.2.3.4\n forged\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: a\r\nUser-Agent: \xff\xfe\r\nX\x1bY: 1\r\n\r\n",
    b"GET /api/v1/keys HTTP/1.1\r\nHost: a\r\nReferer: http://x/%0Aforged\r\n\r\n",
    b"\x1b[2J\r\n\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
]


def check_log_lines(t, text, what):
    bad = [line for line in text.split("\n")[:-1] if not LINE.match(line)]
    t.ok(not bad, f"{what}: every line of the log starts with the timestamp and level", bad[:5])
    t.ok("\x1b" not in text and "\r" not in text, f"{what}: no escape or carriage return in the log")


def check_json_lines(t, text):
    bad = []
    for line in text.split("\n")[:-1]:
        try:
            j = json.loads(line)
            if not re.match(r"^\d{4}-\d\d-\d\dT", j["ts"]) or j["level"] not in (
                    "debug", "info", "warn", "error"):
                bad.append(line)
        except (ValueError, KeyError, TypeError):
            bad.append(line)
    t.ok(not bad, "log_format = json: every line is a JSON object with ts, level and msg", bad[:5])
    return [json.loads(line) for line in text.split("\n")[:-1] if line not in bad]


def check_metrics(t, svc):
    before = metrics(svc).text
    r = issue(svc, svc.token, "豇豆", 10, 2, {"printer": "demo-kiosk"})
    t.eq(r.status, 201, "a certificate is issued")
    code = r.json()["items"][0]["code"]
    for _ in range(3):
        scan(svc, code)
    scan(svc, altered(code, 10))
    http("GET", svc.url + "/index.html")
    http("GET", svc.url + "/api/v1/no-such-thing")
    m = metrics(svc)
    t.eq(m.status, 200, "GET /metrics from the host itself")
    ctype = {k.lower(): v for k, v in m.headers.items()}.get("content-type", "")
    t.ok(ctype.startswith("text/plain; version=0.0.4"),
         "the Prometheus text format's content type", m.headers)
    check = promtool(m.text)
    t.ok(check.returncode == 0, "promtool check metrics accepts it", check.stdout + check.stderr)
    after = m.text

    def moved(name, by, what, **labels):
        got = value(after, name, **labels) - value(before, name, **labels)
        t.ok(got >= by, f"{what} ({name} {labels} +{got:g})", f"moved by {got}, want >= {by}")

    moved("agricert_http_requests_total", 1, "the issue is counted under its route pattern",
          method="POST", route="/api/v1/certificates", status=201)
    moved("agricert_http_requests_total", 4, "scans are counted under /v/{payload}, not their paths",
          method="GET", route="/v/{payload}", status=200)
    moved("agricert_http_request_duration_seconds_count", 4, "scan latencies are in the histogram",
          route="/v/{payload}")
    moved("agricert_http_requests_total", 1, "a static file is counted", route="(static)", status=200)
    moved("agricert_http_requests_total", 1, "an unknown API path is counted", route="(none)",
          status=404)
    moved("agricert_scans_total", 3, "genuine scans by verdict", verdict="valid")
    moved("agricert_scans_total", 1, "a forged code by verdict", verdict="bad_signature")
    moved("agricert_issue_batch_certificates_count", 1, "a group-commit batch")
    moved("agricert_issue_wait_seconds_count", 1, "a certificate's wait for its batch")
    moved("agricert_db_queries_total", 3, "database queries")
    t.ok(value(after, "agricert_db_connections", state="ready") >= 1,
         "the pool's ready connections", after)
    t.ok(value(after, "agricert_print_jobs_up") == 1, "print jobs counted from the database")
    t.ok(value(after, "agricert_print_jobs", printer="demo-kiosk") >= 1,
         "the issue's print job by printer and state",
         [l for l in after.splitlines() if "print_jobs" in l])
    t.ok(not re.search(r"/v/[A-Z0-9]{20}", after), "no raw scanned path becomes a label")
    return code


def check_clone_count(t, svc, code):
    """More than AC_CLONE_SCAN_LIMIT genuine scans of one label: a clone suspicion."""
    before = value(metrics(svc).text, "agricert_scan_clone_suspicions_total")
    suspected = False
    for _ in range(30):
        r = scan(svc, code)
        suspected = suspected or r.json().get("clone_suspected") is True
        if suspected:
            break
        wait_for(lambda: False, timeout=0.25)  # the scan log writes every 200 ms
    t.ok(suspected, "a label scanned too often is suspected of being copied")
    after = value(metrics(svc).text, "agricert_scan_clone_suspicions_total")
    t.ok(after > before, f"clone suspicions are counted ({before:g} -> {after:g})")


def check_access(t, svc):
    r = metrics(svc, {"X-Forwarded-For": "198.51.100.7"})
    t.eq(r.status, 404, "through a proxy (X-Forwarded-For) /metrics is not there")
    t.eq(r.json()["error"]["code"], "not_found", "... with the JSON error")
    r = metrics(svc, {"X-Forwarded-For": "198.51.100.7", "Authorization": "Bearer wrong"})
    t.eq(r.status, 404, "a wrong metrics token is refused")
    r = metrics(svc, {"X-Forwarded-For": "198.51.100.7", "Authorization": "Bearer " + TOKEN})
    t.eq(r.status, 200, "metrics_token lets a scraper elsewhere in")


def check_health(t, svc):
    r = http("GET", svc.url + "/healthz")
    j = r.json()
    t.ok(r.status == 200 and j["database"] == "ok" and j["cups"] == "ok" and j["status"] == "ok",
         "healthz: database and CUPS both ok", r.body)
    # Nobody may connect to this test's database: the pool's connections are cut.
    psql(svc.db, f"ALTER DATABASE {svc.dbname} CONNECTION LIMIT 0")
    try:
        psql(svc.db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     f"WHERE datname = '{svc.dbname}' AND usename = 'agricert_app'")
        down = {}

        def is_down():
            r = http("GET", svc.url + "/healthz", timeout=20)
            down.update(status=r.status, body=r.body, json=r.json())
            return r.status == 503

        t.ok(wait_for(is_down, timeout=30), "healthz says 503 when the database refuses", down)
        j = down.get("json", {})
        t.ok(j.get("database") == "down" and j.get("cups") == "ok" and "detail" not in j,
             "the database down and CUPS ok, apart", down)
        body = down.get("body", b"").decode("utf-8", "replace").lower()
        t.ok(not any(w in body for w in ("fatal", "too many", "terminat", "server closed",
                                          "postgres", "libpq", "could not", "timeout")),
             "no libpq words in the anonymous answer", body)
        t.ok(re.search(r"could not reach the database for /healthz: \S", svc.read_log()),
             "the log has the reason", svc.read_log()[-2000:])
    finally:
        psql(svc.db, f"ALTER DATABASE {svc.dbname} CONNECTION LIMIT -1")
    t.ok(wait_for(lambda: http("GET", svc.url + "/healthz", timeout=20).status == 200, timeout=30),
         "healthz recovers with the database")


def check_cups_down(t, svc, regulator):
    """The same service with CUPS on a port where nothing listens."""
    svc.stop()
    svc.env["AGRICERT_CUPS_SERVER"] = f"127.0.0.1:{free_port()}"
    svc.start()
    r = http("GET", svc.url + "/healthz")
    j = r.json()
    t.ok(r.status == 200 and j["status"] == "degraded" and j["database"] == "ok"
         and j["cups"] == "down", "CUPS down: 200, degraded, the database still ok", r.body)
    t.ok("detail" not in j and "refused" not in r.text.lower() and "could not" not in r.text.lower(),
         "no CUPS words for an anonymous caller", r.body)
    r = http("GET", svc.url + "/healthz", headers=svc.auth(regulator))
    t.ok(r.status == 200 and "cups_error" in r.json().get("detail", {}),
         "a regulator sees why", r.body)
    t.ok("could not reach CUPS" in svc.read_log(), "the log says why")


def check_injection(t, svc):
    start = len(svc.read_log())
    for req in INJECTIONS:
        raw(svc.port, req)
    http("GET", svc.url + "/index.html")
    t.ok(wait_for(lambda: "GET /index.html 200" in svc.read_log()[start:]),
         "a static file is logged", svc.read_log()[start:][-2000:])
    log = svc.read_log()[start:]
    check_log_lines(t, log, "text lines after forged requests")
    t.ok("\\x0a2026-01-01" in log, "a %0A in a path is logged escaped", log[-3000:])
    t.ok(log.count("\n") >= len(INJECTIONS), "each request has a line")


def check_json_log(t, svc):
    svc.stop()
    svc.env["AGRICERT_LOG_FORMAT"] = "json"
    with open(svc.log_path, "rb") as f:
        start = len(f.read())
    svc.start()
    for req in INJECTIONS:
        raw(svc.port, req)
    http("GET", svc.url + "/index.html")
    wait_for(lambda: "/index.html 200" in svc.read_log()[start:])
    svc.stop()
    with open(svc.log_path, "rb") as f:
        text = f.read()[start:].decode("utf-8")  # JSON lines are UTF-8 throughout
    lines = check_json_lines(t, text)
    t.ok(any(j["msg"].startswith("GET /index.html 200") for j in lines),
         "the static file's line in JSON", text[-2000:])
    t.ok(any("\\x0a2026-01-01" in j["msg"] for j in lines), "the forged path escaped in JSON")


def run(t, svc):
    svc.env["AGRICERT_METRICS_TOKEN"] = TOKEN
    regulator = svc.county_regulator().token
    svc.start()
    code = check_metrics(t, svc)
    check_clone_count(t, svc, code)
    check_access(t, svc)
    check_injection(t, svc)
    check_health(t, svc)
    check_cups_down(t, svc, regulator)
    check_json_log(t, svc)


if __name__ == "__main__":
    main()
