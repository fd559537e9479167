"""Shared harness for agricert's integration tests (Python 3 standard library only).

The real components only: tests/run has started a private PostgreSQL and a
private cupsd with the virtual kiosk printer and exported their addresses.
Each test gets its own database and key directory, starts its own agricertd
from the build directory, and prints TAP.

A test is main() calling run_test(name, run): run(t, svc) gets the Tap and a
Service with the demo set-up, adds the people it needs (add_subject, or the
shared cast: county_regulator, township_office, purchaser, ...), starts
agricertd and checks.
"""
import base64
import csv
import glob
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import NamedTuple, Optional

BUILD = os.environ.get("AGRICERT_BUILD", "")
ROOT = os.environ.get("AGRICERT_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "../..")))

# Region codes of deploy/data/regions-anxi.csv the tests use.
QUANZHOU = "350500000000"   # 泉州市
ANXI = "350524000000"       # 安溪县
CANNEI = "350524100000"     # 参内镇
FENGCHENG = "350524103000"  # 凤城镇
HUTOU = "350524105000"      # 湖头镇

# The township agricultural product safety offices: name and telephone.
TOWNSHIP_OFFICES = {
    FENGCHENG: ("凤城镇农安办", "0595-23201234"),
    CANNEI: ("参内镇农安办", "0595-23209999"),
    HUTOU: ("湖头镇农产品质量安全监管站", "0595-23401234"),
}


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
        if OPENAPI.checked or OPENAPI.problems:
            self.ok(not OPENAPI.problems,
                    f"the {OPENAPI.checked} answers checked match web/openapi.json",
                    "\n".join(OPENAPI.problems[:30]))
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


def try_psql(conninfo, sql):
    """Runs sql, expecting it may fail: (returncode, stdout + stderr, with the SQLSTATE).
    Quiet: psql 15 follows the rows of a DELETE ... RETURNING with its status line."""
    out = subprocess.run(["psql", conninfo, "-q", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                          "-tAc", sql], capture_output=True, text=True)
    return out.returncode, out.stdout + out.stderr


def epcis_errors(doc):
    """What GS1's EPCIS 2.0 JSON schema (../shared/epcis, else tests/data/epcis) finds wrong
    with doc, formats checked: a list of messages, empty when it validates."""
    schema_path = os.path.join(ROOT, "../shared/epcis/EPCIS-JSON-Schema.json")
    if not os.path.exists(schema_path):
        schema_path = os.path.join(ROOT, "tests/data/epcis/EPCIS-JSON-Schema.json")
    try:
        import jsonschema
    except ImportError:
        return ["python3-jsonschema is needed to validate the EPCIS export"]
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [e.message for e in validator.iter_errors(doc)]


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


def header(headers, name):
    """A header of a response's headers dict, whatever its case."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


OPENAPI_PATH = os.path.join(ROOT, "service/web/openapi.json")


class OpenApiCheck:
    """Checks every answer the tests get through http() against web/openapi.json: the
    operation its method and path name, then the body (JSON ones) against the schema of
    its status (or the operation's "default"). What does not match is kept and reported
    by Tap.done as one more failed check. AGRICERT_OPENAPI_RECORD=FILE also appends each
    answer to FILE (JSON lines), for writing the document."""

    def __init__(self):
        self.doc = None
        self.problems = []
        self.checked = 0
        self.ops = []

    def load(self):
        if self.doc is not None:
            return self.doc
        with open(OPENAPI_PATH) as f:
            self.doc = json.load(f)
        for path, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(path)) + "$"
            if "{payload}" in path:
                pattern = pattern.replace("[^/]+$", ".+$")
            self.ops.append((re.compile(pattern), path, item))
        return self.doc

    def operation(self, method, path):
        for rx, template, item in self.ops:
            if rx.match(path):
                op = item.get(method.lower()) or (item.get("get") if method == "HEAD" else None)
                return template, op
        return None, None

    def schema_errors(self, schema, value):
        import jsonschema
        resolver_doc = dict(self.doc)
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": resolver_doc.get("components", {})})
        return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"[:300]
                for e in validator.iter_errors(value)][:3]

    def check(self, method, url, status, headers, body):
        parsed = urllib.parse.urlsplit(url)
        api = parsed.path.startswith(("/api/", "/v/", "/V/")) or parsed.path in ("/healthz", "/metrics")
        if parsed.hostname not in ("127.0.0.1", "localhost") or not api:
            return  # elsewhere, or the static pages
        record = os.environ.get("AGRICERT_OPENAPI_RECORD")
        if record:
            with open(record, "a") as f:
                f.write(json.dumps({"method": method, "path": parsed.path, "status": status,
                                    "type": header(headers, "Content-Type"),
                                    "body": body.decode("utf-8", "replace")[:20000]},
                                   ensure_ascii=False) + "\n")
        try:
            self.load()
        except (OSError, ValueError) as e:
            self.problems.append(f"cannot read {OPENAPI_PATH}: {e}")
            return
        template, op = self.operation(method, parsed.path)
        where = f"{method} {parsed.path} {status}"
        if op is None and status >= 400:
            # The router's 404 and 405 for what no route has: the one error shape.
            op = {"responses": {"default": {"$ref": "#/components/responses/Error"}}}
        if op is None:
            self.problems.append(f"{where}: no operation in the document")
            return
        responses = op.get("responses", {})
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if resp is None:
            self.problems.append(f"{where}: status not documented for {method} {template}")
            return
        if "$ref" in resp:  # "#/components/responses/Error"
            resp = self.doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[-1]]
        self.checked += 1
        ctype = header(headers, "Content-Type").split(";")[0].strip()
        if status == 204 or not body:
            return
        media = resp.get("content", {})
        if ctype != "application/json" or method == "HEAD":
            if media and ctype not in media and "*/*" not in media and method != "HEAD":
                self.problems.append(f"{where}: content type {ctype} not documented")
            return
        schema = media.get("application/json", {}).get("schema")
        if schema is None:
            self.problems.append(f"{where}: JSON answer, no JSON schema documented")
            return
        try:
            value = json.loads(body.decode("utf-8"))
        except ValueError:
            self.problems.append(f"{where}: the body is not JSON")
            return
        for e in self.schema_errors(schema, value):
            self.problems.append(f"{where} ({template}): {e}")


OPENAPI = OpenApiCheck()


def http(method, url, body=None, headers=None, timeout=30):
    response = _http(method, url, body, headers, timeout)
    OPENAPI.check(method, url, response.status, response.headers, response.body)
    return response


def _http(method, url, body=None, headers=None, timeout=30):
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


def jpeg(size=64, seed=b"strip"):
    """A JPEG-looking file of size bytes (SOI, APP0, filler, EOI): a photo of a test strip."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    body = (hashlib.sha256(seed).digest() * (size // 32 + 1))[:max(size - len(head) - 2, 0)]
    return head + body + b"\xff\xd9"


def put_photo(svc, token, test, data):
    """PUT /api/v1/rapid-tests/<test>/photo: data (bytes) base64-encoded, or a str as it is."""
    body = {"photo": data if isinstance(data, str) else base64.b64encode(data).decode()}
    return http("PUT", svc.url + f"/api/v1/rapid-tests/{test}/photo", body, svc.auth(token))


def own_test(svc, token, product, photo=True, **fields):
    """A producer's own passing self test of product (fields override), with the strip's
    photo unless photo is False: the answer of POST /api/v1/rapid-tests/own."""
    body = {"kind": "self", "product": product, "method": "colloidal_gold", "items": "毒死蜱、克百威",
            "result": "pass"}
    body.update(fields)
    r = http("POST", svc.url + "/api/v1/rapid-tests/own", body, svc.auth(token))
    if photo and r.status == 201:
        put_photo(svc, token, r.json()["id"], jpeg(seed=str(r.json()["id"]).encode()))
    return r


def payload(code):
    """An item code's payload: what follows its last slash (a bare payload is its own)."""
    return code.rsplit("/", 1)[-1]


def code_bytes(code):
    """The payload decoded from base32: 30 bytes of message, then the signature."""
    text = payload(code)
    return base64.b32decode(text + "=" * (-len(text) % 8))


def altered(code, pos):
    """The same code with the character at pos of its payload changed: a forgery."""
    p = payload(code)
    return code[:len(code) - len(p)] + p[:pos] + ("A" if p[pos] != "A" else "B") + p[pos + 1:]


def flipped(code, index, mask):
    """code's payload with the bits of mask flipped in byte index, re-encoded (no padding)."""
    raw = bytearray(code_bytes(code))
    raw[index] ^= mask
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


def scan(svc, code, market=None, token=None, html=False):
    """GET /v/<payload> as a scanner does: JSON unless html, optionally at a market and signed in."""
    path = "/v/" + payload(code) + (f"?market={market}" if market else "")
    headers = {"Accept": "text/html" if html else "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return http("GET", svc.url + path, headers=headers)


def _der_int(b):
    b = b.lstrip(b"\x00") or b"\x00"
    if b[0] & 0x80:
        b = b"\x00" + b
    return b"\x02" + bytes([len(b)]) + b


def openssl_verify(pem, code, alg="Ed25519"):
    """Whether the openssl command line accepts code's signature under the public key pem
    (for SM2: SM3 and the default ID, the signature as DER)."""
    raw = code_bytes(code)
    sig = raw[30:]
    if alg == "SM2":
        body = _der_int(sig[:32]) + _der_int(sig[32:])
        sig = b"\x30" + bytes([len(body)]) + body
    with tempfile.TemporaryDirectory() as d:
        paths = {k: os.path.join(d, k) for k in ("pub", "msg", "sig")}
        with open(paths["pub"], "w") as f:
            f.write(pem)
        with open(paths["msg"], "wb") as f:
            f.write(raw[:30])
        with open(paths["sig"], "wb") as f:
            f.write(sig)
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pub"], "-rawin",
               "-in", paths["msg"], "-sigfile", paths["sig"]]
        if alg == "SM2":
            cmd += ["-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
        return subprocess.run(cmd, capture_output=True).returncode == 0


def wait_for(what, timeout=10):
    """Polls what() until it is true (then True) or timeout seconds pass (False)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if what():
            return True
        time.sleep(0.1)
    return False


def wait_print_job(svc, job, token=None, timeout=60):
    """Polls GET /api/v1/print-jobs/<job> until it is completed, failed, canceled
    or aborted, or timeout seconds pass: the job as last read ({} if never)."""
    last = {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = http("GET", svc.url + f"/api/v1/print-jobs/{job}", headers=svc.auth(token))
        if r.status == 200:
            last = r.json()
            if last.get("state") in ("completed", "failed", "canceled", "aborted"):
                break
        time.sleep(0.2)
    return last


def label_files():
    """The PDFs the virtual kiosk printer has written, oldest first."""
    labels_dir = os.environ.get("AGRICERT_TEST_LABELS_DIR", "/nonexistent")
    return sorted(glob.glob(os.path.join(labels_dir, "*")), key=os.path.getmtime)


def label_pages(pdf, prefix):
    """Renders a label PDF at the printer's 203 dpi to prefix-N.png: their paths, in order."""
    subprocess.run(["pdftoppm", "-r", "203", "-png", pdf, prefix], check=True)
    return sorted(glob.glob(prefix + "*.png"))


def zbar(pngs):
    """What zbarimg --raw reads from the images: one code a line."""
    return subprocess.run(["zbarimg", "--nodbus", "-q", "--raw", *pngs], capture_output=True, text=True).stdout


def read_label(pdf):
    """The codes zbarimg reads from a printed label PDF."""
    with tempfile.TemporaryDirectory() as d:
        return zbar(label_pages(pdf, os.path.join(d, "p"))).split()


class Subject(NamedTuple):
    """A registry subject the CLI added, and its API token if it was given a role."""
    id: int
    token: Optional[str]


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
        args = [str(a) for a in args]
        out = subprocess.run([os.path.join(BUILD, "service/agricert"), *args], env=self.env,
                             cwd=self.tmp, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise RuntimeError(f"agricert {' '.join(args)} failed: {out.stderr}")
        return out

    def setup_demo(self, tests_required=False):
        """Schema, a key, the catalogue and one producer with a token. The demo
        catalogue has key-risk products tested before sale (test_required_days);
        unless tests_required, the tests import it with that column empty."""
        self.cli("migrate")
        self.cli("key", "new", "--alg", "ed25519")
        self.cli("import", "regions", os.path.join(ROOT, "deploy/data/regions-anxi.csv"))
        self.cli("import", "products", self.demo_products(tests_required))
        self.producer = int(self.cli("subject", "add", "family_farm", "凤城镇示范家庭农场",
                                     "13859001234", "350524103201").stdout.strip())
        self.token = self.add_token(self.producer, "producer")

    def demo_products(self, tests_required):
        """deploy/data/products.csv, or a copy of it without the test_required_days
        settings: tests that are not about testing before sale issue key-risk
        products such as 豇豆 without recording a test first."""
        path = os.path.join(ROOT, "deploy/data/products.csv")
        if tests_required:
            return path
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
        col = rows[0].index("test_required_days")
        for row in rows[1:]:
            row[col] = ""
        copy = os.path.join(self.tmp, "products.csv")
        with open(copy, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        return copy

    def add_token(self, subject, role):
        """A new API token of role for the subject (agricert token create)."""
        return self.cli("token", "create", subject, role).stdout.strip()

    def add_subject(self, kind, name, contact, region, role=None):
        """Adds a subject with the CLI and, given a role, a token for it: Subject(id, token)."""
        sid = int(self.cli("subject", "add", kind, name, contact, region).stdout.strip())
        return Subject(sid, self.add_token(sid, role) if role else None)

    # The people of Anxi county the tests share, besides setup_demo's family
    # farm in 凤城镇 (the producer).
    def county_regulator(self):
        """安溪县农安中心, the county's regulator."""
        return self.add_subject("staff", "安溪县农安中心", "0595-23231234", ANXI, "county_regulator")

    def township_office(self, township, role="township_regulator"):
        """A township's office (TOWNSHIP_OFFICES) as its regulator; role=None: no token."""
        name, phone = TOWNSHIP_OFFICES[township]
        return self.add_subject("staff", name, phone, township, role)

    def purchaser(self):
        """安溪县凤城农产品收购站, a collection station in 凤城镇."""
        return self.add_subject("collector", "安溪县凤城农产品收购站", "13859005678", FENGCHENG, "purchaser")

    def second_producer(self, region=CANNEI):
        """参内镇农户李四, a household producer in 参内镇 (or one of its villages)."""
        return self.add_subject("household", "参内镇农户李四", "13900001111", region, "producer")

    def market_inspector(self):
        """凤城市场协管员陈明, an inspector at the markets of 凤城镇."""
        return self.add_subject("staff", "凤城市场协管员陈明", "0595-23205678", FENGCHENG, "inspector")

    def city_admin(self):
        """泉州市农业农村局, an administrator above the county."""
        return self.add_subject("staff", "泉州市农业农村局", "0595-22581234", QUANZHOU, "admin")

    def add_kiosk(self, kiosk_id, name, staff, region="350524103201", queue="demo-kiosk"):
        """A kiosk (by default in 凤城镇示范村, printing on the virtual printer's queue) and
        its device token, issued by the staff subject: the token."""
        psql(self.db, "INSERT INTO kiosk (id, name, region_code, cups_queue) VALUES "
                      f"('{kiosk_id}', '{name}', {region}, '{queue}')")
        return self.cli("kiosk", "token", kiosk_id, staff).stdout.strip()

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


def run_test(name, run, printers=True, tests_required=False):
    """The frame of every test: a Tap and a Service with the demo set-up
    (setup_demo, agricertd not started; tests_required: the key-risk products
    must be tested before sale, as in the demo), run(t, svc), then the service
    stopped, its plan printed and the exit status."""
    t = Tap()
    svc = Service(name, printers=printers)
    try:
        svc.setup_demo(tests_required)
        run(t, svc)
    finally:
        svc.close()
    t.done()
