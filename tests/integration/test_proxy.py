"""agricertd behind the real nginx site (deploy/nginx/agricert.conf): a
self-signed certificate made with openssl req, the site with its ports, its
certificate and its upstream changed to this test's (nothing else), `nginx
-t`, then nginx started on free ports with its own prefix and pid file and no
system configuration. Over HTTPS: /healthz, HTTP/2, an issue and a scan, the
body limit, the redirect from HTTP. The request log and the scan log show the
client's address as nginx passed it on: X-Forwarded-For is believed from the
trusted proxy (also when a client forged part of it) and ignored when a
client sends it directly."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

from harness import ROOT, free_port, psql, run_test, skip_all, wait_for

CLIENT = "127.0.0.2"  # the client's source address: loopback, not a trusted proxy
FORGED = "203.0.113.9"
BODY = {"product": "豇豆", "quantity": 25, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}


def main():
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        skip_all("nginx is not installed (deploy/install-deps installs it)")
    run_test("proxy", run, printers=False)


class Nginx:
    """nginx with its own prefix, configuration, pid file and logs under dir."""

    def __init__(self, dir, upstream_port):
        self.dir = dir
        self.https_port = free_port()
        self.http_port = free_port()
        self.cert = os.path.join(dir, "cert.pem")
        self.key = os.path.join(dir, "key.pem")
        self.exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = None
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", self.key, "-out", self.cert], check=True, capture_output=True)
        self.conf = os.path.join(dir, "nginx.conf")
        with open(os.path.join(dir, "site.conf"), "w") as f:
            f.write(self.site(upstream_port))
        os.makedirs(os.path.join(dir, "logs"), exist_ok=True)
        os.makedirs(os.path.join(dir, "tmp"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(self.main_conf())

    def site(self, upstream_port):
        """The installed site with this test's ports, certificate and upstream: each
        replacement must apply exactly as often as said, so the site is what runs."""
        with open(os.path.join(ROOT, "deploy/nginx/agricert.conf")) as f:
            text = f.read()
        for pattern, repl, count in (
                (r"listen 80;", f"listen 127.0.0.1:{self.http_port};", 1),
                (r"listen \[::\]:80;", f"listen [::1]:{self.http_port};", 1),
                (r"listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;", 1),
                (r"listen \[::\]:443 ssl http2;", f"listen [::1]:{self.https_port} ssl http2;", 1),
                (r"ssl_certificate /\S+;", f"ssl_certificate {self.cert};", 1),
                (r"ssl_certificate_key /\S+;", f"ssl_certificate_key {self.key};", 1),
                (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream_port};", 1)):
            text, n = re.subn(pattern, repl, text)
            assert n == count, f"the site no longer has {pattern}"
        return text

    def main_conf(self):
        d = self.dir
        user = "user nobody nogroup;\n" if os.getuid() == 0 else ""
        temp = "".join(f"\t{k}_temp_path {d}/tmp/{k};\n"
                       for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return (f"{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\n"
                f"error_log {d}/logs/error.log info;\nevents {{ worker_connections 256; }}\n"
                f"http {{\n\taccess_log {d}/logs/access.log;\n{temp}"
                f"\tinclude {d}/site.conf;\n}}\n")

    def command(self, *extra):
        return [self.exe, "-p", self.dir, "-c", self.conf, "-e", "stderr", *extra]

    def test(self):
        return subprocess.run(self.command("-t"), capture_output=True, text=True)

    def start(self):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "logs/stderr.log"), "w"))
        return wait_for(lambda: self.proc.poll() is None and
                        os.path.exists(os.path.join(self.dir, "nginx.pid")) and
                        port_open(self.https_port), 15)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def request(port, method, path, body=None, headers=None, tls=None, source=CLIENT):
    """One request from source (an address of this machine): (status, headers, body, version)."""
    if tls is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=30,
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def peer_logged(svc, request_id):
    """The peer= of the request log line with that request id."""
    line = [ln for ln in svc.read_log().splitlines() if f" id={request_id} " in ln]
    m = re.search(r" peer=(\S+)", line[0]) if line else None
    return m.group(1) if m else None


def check_through_nginx(t, svc, ngx, tls):
    status, hdrs, body = request(ngx.https_port, "GET", "/healthz", tls=tls)
    t.ok(status == 200 and json.loads(body).get("status") == "ok",
         "GET /healthz over HTTPS through nginx", body)
    t.eq(peer_logged(svc, hdrs.get("x-request-id")), CLIENT,
         "the request log shows the client's address that nginx passed on")
    h2 = subprocess.run(["curl", "-sS", "--http2", "--cacert", ngx.cert, "-o", "/dev/null", "-w",
                         "%{http_version}", f"https://127.0.0.1:{ngx.https_port}/healthz"],
                        capture_output=True, text=True)
    t.eq(h2.stdout, "2", "nginx speaks HTTP/2 over TLS")

    status, hdrs, body = request(ngx.https_port, "POST", "/api/v1/certificates", BODY,
                                 {"Authorization": f"Bearer {svc.token}",
                                  "X-Forwarded-For": FORGED}, tls=tls)
    t.eq(status, 201, "a certificate issued through nginx")
    t.eq(peer_logged(svc, hdrs.get("x-request-id")), CLIENT,
         "a forged X-Forwarded-For is not believed: the address nginx saw is logged")
    code = json.loads(body)["items"][0]["code"] if status == 201 else "HTTPS://X/V/X"
    t.ok(code.startswith(f"HTTPS://127.0.0.1:{ngx.https_port}/V/"), "its code points at nginx",
         code)

    path = code[code.index("/V/"):]
    status, hdrs, body = request(ngx.https_port, "GET", path, tls=tls,
                                 headers={"Accept": "application/json"})
    t.ok(status == 200 and json.loads(body).get("status") == "valid",
         "the code scanned through nginx is valid", body[:300])
    t.eq(peer_logged(svc, hdrs.get("x-request-id")), CLIENT, "the scan's request log line too")
    t.ok(wait_for(lambda: psql(svc.db, "SELECT host(peer) FROM scan_log ORDER BY id DESC LIMIT 1")
                  == CLIENT, 10),
         "and the scan log in the database", psql(svc.db, "SELECT host(peer) FROM scan_log"))

    status, hdrs, _ = request(ngx.https_port, "POST", "/api/v1/certificates", b"x" * (100 << 10),
                              {"Authorization": f"Bearer {svc.token}"}, tls=tls)
    t.ok(status == 413 and "x-request-id" not in hdrs,
         "nginx refuses a 100 KB body itself (413, before agricertd)", (status, hdrs))
    status, hdrs, _ = request(ngx.https_port, "PUT", "/api/v1/rapid-tests/1/photo",
                              b"x" * (1 << 20), {"Authorization": f"Bearer {svc.token}"}, tls=tls)
    t.ok(status != 413 and "x-request-id" in hdrs,
         "but lets a 1 MB rapid test photo through to agricertd", (status, hdrs))
    status, hdrs, _ = request(ngx.http_port, "GET", "/healthz")
    t.ok(status == 301 and hdrs.get("location", "").startswith("https://"),
         "plain HTTP is redirected to HTTPS", (status, hdrs))


def check_login_limit(t, ngx, tls):
    """Logins are limited per client address (10 a minute): behind nginx, per
    the address nginx passes on, not per nginx."""
    wrong = {"phone": "13800000000", "pin": "000000"}
    got = [request(ngx.https_port, "POST", "/api/v1/sessions", wrong, tls=tls)[0]
           for _ in range(11)]
    t.eq(got, [401] * 10 + [429], "11 logins in a minute from one client: the 11th is 429")
    status = request(ngx.https_port, "POST", "/api/v1/sessions", wrong, tls=tls,
                     source="127.0.0.3")[0]
    t.eq(status, 401, "another client behind the same nginx may still try")


def check_direct(t, svc):
    """Without nginx: the header is believed from the trusted address only."""
    status, hdrs, _ = request(svc.port, "GET", "/healthz", headers={"X-Forwarded-For": FORGED})
    t.eq((status, peer_logged(svc, hdrs.get("x-request-id"))), (200, CLIENT),
         "X-Forwarded-For sent directly by a client is ignored")
    status, hdrs, _ = request(svc.port, "GET", "/healthz", headers={"X-Forwarded-For": FORGED},
                              source="127.0.0.1")
    t.eq((status, peer_logged(svc, hdrs.get("x-request-id"))), (200, FORGED),
         "and believed from 127.0.0.1, the trusted proxy")


def run(t, svc):
    os.makedirs(os.path.join(svc.tmp, "nginx"))
    ngx = Nginx(os.path.join(svc.tmp, "nginx"), svc.port)
    with open(svc.config, "a") as f:
        f.write("trusted_proxies = 127.0.0.1, ::1\n")
    svc.env["AGRICERT_PUBLIC_URL"] = f"https://127.0.0.1:{ngx.https_port}"
    r = ngx.test()
    t.ok(r.returncode == 0 and "test is successful" in r.stderr, "nginx -t accepts the site",
         r.stderr)
    svc.start()
    try:
        if not t.ok(ngx.start(), "nginx runs the site on free ports",
                    open(os.path.join(ngx.dir, "logs/stderr.log")).read()):
            return
        tls = ssl.create_default_context(cafile=ngx.cert)
        check_through_nginx(t, svc, ngx, tls)
        check_login_limit(t, ngx, tls)
        check_direct(t, svc)
    finally:
        ngx.stop()
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
