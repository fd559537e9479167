"""The cluster of deploy/run-cluster (README, "Operating a cluster"), started
for this test: a pg_auto_failover monitor, primary and secondary, a pgbouncer
in front of each, two agricertd and nginx with a self-signed certificate.

1. Backups: pgBackRest restores to a point in time into a fresh PostgreSQL;
   there `agricert audit verify` passes, certificates issued before that point
   scan valid and those issued after it are not there.
2. Failover under load, through nginx: clients issue (each with its own
   Idempotency-Key, retried with the same key until answered) and scan; the
   primary's machine is lost (keeper, PostgreSQL and its pgbouncer, SIGKILL). Writes get 503 for at
   most 30 s, scans keep working from the secondary, no acknowledged
   certificate is lost, a retried key is stored once and answers the same
   certificate again.
3. One agricertd is killed under load: nginx routes around it; no request
   needs more than one retry.
The figures (seconds of 503, requests retried, lost) are printed as TAP
comments and written to the cluster directory as failover-figures.json."""
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time

from harness import ROOT, Tap, skip_all

BUILD = os.environ.get("AGRICERT_BUILD", "")
TMP = os.environ.get("AGRICERT_TEST_TMP", "/tmp")
CLUSTER = os.path.join(TMP, "cluster")
BODY = {"product": "茶叶", "quantity": 1, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}


def run_cluster(*args):
    env = dict(os.environ, AGRICERT_CLUSTER_DIR=CLUSTER, AGRICERT_CLUSTER_BUILD=BUILD)
    return subprocess.run([os.path.join(ROOT, "deploy/run-cluster"), *args], env=env,
                          capture_output=True, text=True, timeout=900)


def ports():
    out = {}
    with open(os.path.join(CLUSTER, "ports.env")) as f:
        for line in f:
            k, v = line.strip().split("=")
            out[k[len("port_"):]] = int(v)
    return out


def as_root(cmd):
    """cmd as root: directly, or through sudo (non-interactive)."""
    return cmd if os.getuid() == 0 else ["sudo", "-n", "--", *cmd]


def as_postgres(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else ["sudo", "-n", "-u", "postgres", "--", *cmd]


def psql(conninfo, sql):
    return subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


class Client:
    """One keep-alive HTTPS connection to nginx, checked against the cluster's certificate."""

    def __init__(self, url):
        self.host, self.port = url.split("//")[1].split(":")
        self.ctx = ssl.create_default_context(cafile=os.path.join(CLUSTER, "nginx/cert.pem"))
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or None); status 0 when the connection failed."""
        data = json.dumps(body).encode() if body is not None else None
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        h.update(headers or {})
        for _ in range(2):  # a keep-alive connection nginx closed meanwhile: reconnect once
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx,
                                                            timeout=30)
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                try:
                    return r.status, json.loads(raw)
                except ValueError:
                    return r.status, None
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0, None


class Load:
    """Writers and scanners through nginx until stop(); what they saw, with times."""

    def __init__(self, url, token, codes, tag, writers=6, scanners=4):
        self.url, self.token, self.codes, self.tag = url, token, codes, tag
        self.lock = threading.Lock()
        self.acked = {}          # key -> certificate id
        self.write_fail = []     # (time, status) of each answer other than 200/201
        self.scan_fail = []      # (time, status, scan status)
        self.scans_ok = 0
        self.max_tries = 0       # the most attempts one key needed
        self.retried_keys = []
        self.running = True
        self.threads = [threading.Thread(target=self.writer, args=(k,)) for k in range(writers)]
        self.threads += [threading.Thread(target=self.scanner, args=(k,)) for k in range(scanners)]
        for th in self.threads:
            th.start()

    def writer(self, k):
        c = Client(self.url)
        i = 0
        while self.running:
            key = f"{self.tag}-{k}-{i}"
            tries = 0
            while True:
                tries += 1
                status, doc = c.request("POST", "/api/v1/certificates", BODY,
                                        {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key})
                if status in (200, 201) and doc:
                    with self.lock:
                        self.acked[key] = doc["id"]
                        self.max_tries = max(self.max_tries, tries)
                        if tries > 1:
                            self.retried_keys.append(key)
                    break
                with self.lock:
                    self.write_fail.append((time.monotonic(), status))
                if tries > 600:
                    return
                time.sleep(0.1)
            i += 1

    def scanner(self, k):
        c = Client(self.url)
        i = k
        while self.running:
            code = self.codes[i % len(self.codes)]
            i += 1
            status, doc = c.request("GET", "/v/" + code.rsplit("/", 1)[-1])
            with self.lock:
                if status == 200 and doc and doc.get("status") == "valid":
                    self.scans_ok += 1
                else:
                    self.scan_fail.append((time.monotonic(), status, doc and doc.get("status")))
            time.sleep(0.02)

    def stop(self):
        self.running = False
        for th in self.threads:
            th.join(120)


def primary_node(mon):
    return psql(mon, "SELECT nodename FROM pgautofailover.node WHERE reportedstate IN ('primary', 'single', "
                     "'wait_primary') ORDER BY nodeid LIMIT 1")


def kill_node(name):
    run = os.path.realpath(os.path.join(CLUSTER, "run"))
    pid = subprocess.run(as_postgres(["cat", os.path.join(run, "xdg/run/pg_autoctl" + run, name, "pg_autoctl.pid")]),
                         capture_output=True, text=True, check=True).stdout.split()[0]
    subprocess.run(as_root(["kill", "-KILL", "--", f"-{pid}"]), check=True)
    # Its pgbouncer runs on the same machine and goes with it.
    with open(os.path.join(run, f"pgbouncer-{name[-1]}.pid")) as f:
        subprocess.run(as_root(["kill", "-KILL", f.read().strip()]), check=True)


def issue_some(client, token, n, tag):
    codes, ids = [], []
    for i in range(n):
        status, doc = client.request("POST", "/api/v1/certificates", BODY,
                                     {"Authorization": f"Bearer {token}", "Idempotency-Key": f"{tag}-{i}"})
        if status == 201:
            codes.append(doc["items"][0]["code"])
            ids.append(doc["id"])
    return codes, ids


def backups(t, url, token, p):
    """pgBackRest point-in-time restore into a fresh PostgreSQL."""
    run = os.path.realpath(os.path.join(CLUSTER, "run"))
    client = Client(url)
    before_codes, before_ids = issue_some(client, token, 5, "pitr-before")
    t.eq(len(before_ids), 5, "5 certificates issued before the restore point")
    primary = f"host=127.0.0.1,127.0.0.1 port={p['node1']},{p['node2']} user=postgres dbname=agricert " \
              "target_session_attrs=read-write"
    time.sleep(1.5)
    target = psql(primary, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
    time.sleep(1.5)
    after_codes, after_ids = issue_some(client, token, 3, "pitr-after")
    t.eq(len(after_ids), 3, "3 issued after it")
    conf = os.path.join(run, "pgbackrest.conf")
    chk = subprocess.run(as_postgres(["pgbackrest", f"--config={conf}", "--stanza=agricert",
                          "check"]), capture_output=True, text=True)
    t.eq(chk.returncode, 0, "pgbackrest check: the WAL up to now is archived")
    restore = os.path.join(TMP, "restored")
    sock = os.path.join(TMP, "restored-sock")
    for d in (restore, sock):
        os.makedirs(d, mode=0o700)
        subprocess.run(as_root(["chown", "postgres:postgres", d]), check=True)
    out = subprocess.run(as_postgres(["pgbackrest", f"--config={conf}", "--stanza=agricert",
                          f"--pg1-path={restore}", "--type=time", f"--target={target}", "--target-action=promote",
                          "restore"]), capture_output=True, text=True)
    t.ok(out.returncode == 0, f"pgbackrest restore --type=time --target='{target}' into a fresh directory",
         out.stdout + out.stderr)
    port = p["https"] + 1000 if p["https"] < 64000 else p["https"] - 1000
    bindir = sorted(os.listdir("/usr/lib/postgresql"))[-1]
    start = subprocess.run(as_postgres([f"/usr/lib/postgresql/{bindir}/bin/pg_ctl", "-D",
                            restore, "-l", os.path.join(sock, "postgres.log"), "-w", "-t", "120", "-o",
                            f"-p {port} -k {sock} -c listen_addresses='' -c archive_mode=off "
                            "-c synchronous_standby_names=''", "start"]),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
    t.ok(start.returncode == 0, "the restored cluster starts (a fresh PostgreSQL, archiving off, no standby)",
         start.stdout + start.stderr)
    db = f"host={sock} port={port} user=postgres dbname=agricert"
    deadline = time.monotonic() + 120
    while start.returncode == 0 and time.monotonic() < deadline:
        try:
            if psql(db, "SELECT pg_is_in_recovery()") == "f":
                break
        except subprocess.CalledProcessError:
            pass
        time.sleep(0.5)
    try:
        restored_checks(t, db, before_ids, after_ids, before_codes, port)
    finally:
        subprocess.run(as_postgres([f"/usr/lib/postgresql/{bindir}/bin/pg_ctl", "-D",
                        restore, "-m", "fast", "-w", "stop"]), capture_output=True)


def restored_checks(t, db, before_ids, after_ids, before_codes, port):
    got = set(int(x) for x in psql(db, "SELECT serial FROM certificate").split())
    t.ok(set(before_ids) <= got, "restored: every certificate issued before the point is there", sorted(got)[-10:])
    t.ok(not (set(after_ids) & got), "restored: none issued after it")
    env = dict(os.environ, AGRICERT_DB=db, AGRICERT_DB_OWNER=db, AGRICERT_KEYS=os.path.join(CLUSTER, "keys"),
               AGRICERT_SQL=os.path.join(ROOT, "sql"), AGRICERT_WEB=os.path.join(ROOT, "service/web"),
               AGRICERT_CONFIG="")
    cli = os.path.join(BUILD, "service/agricert")
    out = subprocess.run([cli, "audit", "verify"], env=env, capture_output=True, text=True)
    t.ok(out.returncode == 0 and "audit log intact" in out.stdout, "restored: agricert audit verify passes",
         out.stdout + out.stderr)
    app_port = port + 1
    env.update(AGRICERT_LISTEN=f"127.0.0.1:{app_port}", AGRICERT_PUBLIC_URL=f"http://127.0.0.1:{app_port}")
    log = open(os.path.join(TMP, "restored-agricertd.log"), "ab")
    proc = subprocess.Popen([os.path.join(BUILD, "service/agricertd")], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        healthy = False
        deadline = time.monotonic() + 120  # an ASan build on a loaded machine starts slowly
        while not healthy and proc.poll() is None and time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", app_port, timeout=5)
                conn.request("GET", "/healthz")
                healthy = conn.getresponse().status == 200
            except OSError:
                time.sleep(0.2)
        t.ok(healthy, "restored: agricertd starts on the restored database",
             open(os.path.join(TMP, "restored-agricertd.log"), errors="replace").read()[-2000:])
        valid = 0
        for code in before_codes:
            conn = http.client.HTTPConnection("127.0.0.1", app_port, timeout=10)
            conn.request("GET", "/v/" + code.rsplit("/", 1)[-1], headers={"Accept": "application/json"})
            r = conn.getresponse()
            if r.status == 200 and json.loads(r.read()).get("status") == "valid":
                valid += 1
        t.eq(valid, len(before_codes), "restored: the certificates issued before the point scan valid")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def failover(t, url, token, p, figures):
    mon = f"host=127.0.0.1 port={p['monitor']} user=autoctl_node dbname=pg_auto_failover"
    client = Client(url)
    codes, _ = issue_some(client, token, 20, "scan-set")
    t.eq(len(codes), 20, "20 certificates to scan")
    load = Load(url, token, codes, "fo")
    time.sleep(4)
    old = primary_node(mon)
    killed_at = time.monotonic()
    kill_node(old)
    t.note(f"killed the primary {old} (pg_autoctl and PostgreSQL, SIGKILL) under load")
    new = None
    while time.monotonic() - killed_at < 90:
        new = psql(mon, "SELECT nodename FROM pgautofailover.node WHERE reportedstate IN ('wait_primary', 'primary') "
                        f"AND nodename <> '{old}'")
        if new:
            break
        time.sleep(0.5)
    t.ok(bool(new), f"the secondary is promoted ({new})")
    # Load goes on until writes have worked for a while after the failover.
    time.sleep(8)
    load.stop()
    fails = [f for f in load.write_fail if f[0] >= killed_at]
    window = (max(f[0] for f in fails) - killed_at) if fails else 0.0
    statuses = sorted(set(f[1] for f in fails))
    figures.update({"write_unavailable_seconds": round(window, 1), "write_failures": len(fails),
                    "write_failure_statuses": statuses, "keys_retried": len(load.retried_keys),
                    "certificates_acknowledged": len(load.acked), "scans_ok": load.scans_ok,
                    "scans_failed": len(load.scan_fail), "promotion": new})
    t.note(f"failover: writes unavailable {window:.1f} s ({len(fails)} answers {statuses}), "
           f"{len(load.retried_keys)} keys retried, {len(load.acked)} acknowledged, "
           f"{load.scans_ok} scans ok, {len(load.scan_fail)} failed")
    t.ok(window <= 30 and load.retried_keys, f"writes fail for at most 30 s ({window:.1f} s), then the "
         f"retried keys succeed ({len(load.retried_keys)})")
    t.ok(set(statuses) <= {503}, "... and they fail with 503 (statuses seen)", statuses)
    t.eq(load.scan_fail, [], "scans never fail during the failover (the standby answers them)")
    return load, new


def check_stored(t, p, load, figures):
    primary = f"host=127.0.0.1,127.0.0.1 port={p['node1']},{p['node2']} user=postgres dbname=agricert " \
              "target_session_attrs=read-write"
    rows = psql(primary, "SELECT idempotency_key, serial FROM certificate WHERE idempotency_key LIKE 'fo-%' "
                         "OR idempotency_key LIKE 'ag-%'").splitlines()
    stored = {}
    for line in rows:
        k, s = line.split("|")
        stored.setdefault(k, []).append(int(s))
    lost = [k for k, v in load.acked.items() if stored.get(k) != [v]]
    figures["lost"] = len(lost)
    t.eq(lost, [], f"none of the {len(load.acked)} acknowledged certificates lost (each stored once, same serial)")
    twice = [k for k, v in stored.items() if len(v) > 1]
    t.eq(twice, [], "no key stored twice")
    client = Client(load.url)
    again = [client.request("POST", "/api/v1/certificates", BODY,
                            {"Authorization": f"Bearer {load.token}", "Idempotency-Key": k}) for k in load.retried_keys[:20]]
    t.ok(again and all(s == 200 and d["id"] == load.acked[k] for (s, d), k in zip(again, load.retried_keys[:20])),
         f"a retried key sent again answers 200 with the same certificate ({len(again)} keys)",
         [s for s, _ in again])


def kill_instance(t, url, token, codes, figures):
    load = Load(url, token, codes, "ag")
    time.sleep(3)
    with open(os.path.join(CLUSTER, "agricertd-1.pid")) as f:
        os.kill(int(f.read()), signal.SIGKILL)
    t.note("killed agricertd 1 (SIGKILL) under load")
    time.sleep(8)
    load.stop()
    figures["agricertd_kill"] = {"max_attempts_per_issue": load.max_tries, "write_failures": len(load.write_fail),
                                 "write_failure_statuses": sorted(set(f[1] for f in load.write_fail)),
                                 "scan_failures": len(load.scan_fail), "acknowledged": len(load.acked)}
    t.note(f"agricertd killed: {len(load.write_fail)} issues retried, {len(load.scan_fail)} scans failed, "
           f"at most {load.max_tries} attempts for one issue")
    t.ok(len(load.acked) > 0 and load.max_tries <= 2,
         f"issues go on ({len(load.acked)}), none needed more than one retry (at most {load.max_tries} attempts)")
    t.ok(len(load.scan_fail) <= 4, "at most one failed scan per scanning client (nginx retries GET itself)",
         load.scan_fail)
    return load


def main():
    if not BUILD:
        skip_all("run through tests/run")
    if os.getuid() != 0 and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode != 0:
        skip_all("needs root or sudo (PostgreSQL runs as postgres)")
    t = Tap()
    figures = {}
    try:
        out = run_cluster()
        t.ok(out.returncode == 0, "deploy/run-cluster starts the cluster", out.stdout + out.stderr[-3000:])
        if out.returncode != 0:
            return
        url = out.stdout.strip().splitlines()[-1]
        with open(os.path.join(CLUSTER, "url")) as f:
            t.eq(f.read().strip(), url, f"it prints the HTTPS address and writes it to the cluster's url ({url})")
        with open(os.path.join(CLUSTER, "producer-token")) as f:
            token = f.read().strip()
        p = ports()
        try:
            backups(t, url, token, p)
        except (subprocess.CalledProcessError, OSError) as e:
            t.ok(False, "the backup checks ran", str(e))
        load, _ = failover(t, url, token, p, figures)
        load2 = kill_instance(t, url, token, load.codes, figures)
        load.acked.update(load2.acked)
        load.retried_keys += load2.retried_keys
        check_stored(t, p, load, figures)
        t.note("figures: " + json.dumps(figures, ensure_ascii=False))
        with open(os.path.join(CLUSTER, "failover-figures.json"), "w") as f:
            json.dump(figures, f, indent=1)
    finally:
        out = run_cluster("stop")
        t.ok(out.returncode == 0, "deploy/run-cluster stop", out.stderr)
        left = subprocess.run(["pgrep", "-f", os.path.realpath(os.path.join(CLUSTER, "run"))], capture_output=True,
                              text=True).stdout.split()
        t.eq(left, [], "nothing of the cluster is left running")
        # Its data directory under /tmp (the postgres user's) goes with the test.
        run = os.path.realpath(os.path.join(CLUSTER, "run"))
        if run.startswith("/tmp/agricert-cluster-"):
            subprocess.run(as_root(["rm", "-rf", run]))
        t.done()


if __name__ == "__main__":
    main()
