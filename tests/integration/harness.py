"""Shared harness for agricert's integration tests (Python 3 standard library only).

The real components only: tests/run has started a private PostgreSQL and a
private cupsd with the virtual kiosk printer and exported their addresses.
Each test gets its own database and key directory, starts its own agricertd
from the build directory, and prints TAP.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("AGRICERT_BUILD", "")
ROOT = os.environ.get("AGRICERT_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {what}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {what}", flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print(f"#   {line}", flush=True)
        return cond

    def eq(self, got, want, what):
        return self.ok(got == want, what, f"got {got!r}, want {want!r}")

    def note(self, text):
        print(f"# {text}", flush=True)

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print(f"1..0 # SKIP {reason}")
    sys.exit(0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def psql(conninfo, sql):
    out = subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def http(method, url, body=None, headers=None, timeout=30):
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


def issue(svc, token, product, qty, labels, extra=None):
    """POST /api/v1/certificates with a plain body; extra adds or overrides fields."""
    body = {"product": product, "quantity": qty, "unit": "kg", "origin": "福建省安溪县",
            "origin_code": "350524103201", "basis": "quality_control", "labels": labels}
    body.update(extra or {})
    return http("POST", svc.url + "/api/v1/certificates", body, svc.auth(token))


def wait_for(what, timeout=10):
    """Polls what() until it is true (then True) or timeout seconds pass (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if what():
            return True
        time.sleep(0.1)
    return False


class Service:
    """A private database, key directory and agricertd for one test."""

    def __init__(self, name, printers=True):
        base = os.environ.get("AGRICERT_TEST_DB")
        if not base or not BUILD:
            skip_all("run through tests/run (needs AGRICERT_TEST_DB and AGRICERT_BUILD)")
        self.tmp = tempfile.mkdtemp(prefix=f"{name}.", dir=os.environ.get("AGRICERT_TEST_TMP"))
        os.chmod(self.tmp, 0o755)
        self.dbname = f"t_{name}_{os.getpid()}"
        admin = base.replace("dbname=agricert", "dbname=postgres")
        psql(admin, f"DROP DATABASE IF EXISTS {self.dbname}")
        psql(admin, f"CREATE DATABASE {self.dbname}")
        self.db = base.replace("dbname=agricert", f"dbname={self.dbname}")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = os.path.join(self.tmp, "keys")
        self.log_path = os.path.join(self.tmp, "agricertd.log")
        self.env = dict(os.environ)
        # The service and the CLI run as the application role; migrations as
        # the owner (sql/AUDIT.md). self.db (the owner) is for the tests' psql.
        self.app_db = self.db.replace("user=postgres", "user=agricert_app")
        self.env.update({
            "AGRICERT_DB": self.app_db,
            "AGRICERT_DB_OWNER": self.db,
            "AGRICERT_LISTEN": f"127.0.0.1:{self.port}",
            "AGRICERT_PUBLIC_URL": self.url,
            "AGRICERT_KEYS": self.keys,
            "AGRICERT_SQL": os.path.join(ROOT, "sql"),
            "AGRICERT_WEB": os.path.join(ROOT, "service/web"),
        })
        self.env.pop("AGRICERT_CONFIG", None)
        self.config = os.path.join(self.tmp, "agricert.conf")
        with open(self.config, "w") as f:
            if printers and os.environ.get("AGRICERT_TEST_QUEUE"):
                f.write(f"printer.demo-kiosk = {os.environ['AGRICERT_TEST_QUEUE']} 60x40@203\n")
        self.env["AGRICERT_CONFIG"] = self.config
        self.proc = None

    def cli(self, *args, check=True):
        out = subprocess.run([os.path.join(BUILD, "service/agricert"), *args], env=self.env,
                             cwd=self.tmp, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"agricert {' '.join(args)} failed: {out.stderr}")
        return out

    def setup_demo(self):
        """Schema, a key, the catalogue and one producer with a token."""
        self.cli("migrate")
        self.cli("key", "new", "--alg", "ed25519")
        self.cli("import", "regions", os.path.join(ROOT, "deploy/data/regions-anxi.csv"))
        self.cli("import", "products", os.path.join(ROOT, "deploy/data/products.csv"))
        self.producer = int(self.cli("subject", "add", "family_farm", "凤城镇示范家庭农场",
                                     "13859001234", "350524103201").stdout.strip())
        self.token = self.cli("token", "create", str(self.producer), "producer").stdout.strip()

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BUILD, "service/agricertd")], env=self.env,
                                     cwd=self.tmp, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agricertd exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                if http("GET", self.url + "/healthz", timeout=2).status == 200:
                    # The catalogue loads right after start.
                    time.sleep(0.2)
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("agricertd did not become healthy:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def auth(self, token=None, **extra):
        h = {"Authorization": f"Bearer {token or self.token}"}
        h.update(extra)
        return h

    def close(self):
        if self.proc is not None:
            self.stop(signal.SIGKILL)
