"""Reads and writes on two connections (README, "Operating a cluster"):
agricertd sends what tolerates lag (scans, trace, EPCIS, statistics, registry
lists) to db_read and everything else to db. Here db_read is a copy of the
database taken earlier, a replica that lags for ever: what was issued after
the copy is issued and read back on the primary, but not seen by the read
paths; what was there before is. Then a multi-host db whose first host is
dead, with target_session_attrs, and two agricertd issuing at once on one
database: no serial twice."""
import os
import subprocess
import threading
import time

from harness import http, issue, psql, run_test, scan

BODY = {"product": "韭菜", "quantity": 1, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}


def start_extra(svc, env, name):
    """Another agricertd on svc's keys with env: (process, url)."""
    from harness import free_port
    port = free_port()
    env = dict(env, AGRICERT_LISTEN=f"127.0.0.1:{port}", AGRICERT_PUBLIC_URL=f"http://127.0.0.1:{port}")
    log = open(os.path.join(svc.tmp, f"{name}.log"), "ab")
    proc = subprocess.Popen([os.path.join(os.environ["AGRICERT_BUILD"], "service/agricertd")], env=env,
                            cwd=svc.tmp, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            if http("GET", url + "/healthz", timeout=2).status == 200:
                time.sleep(0.2)
                return proc, url, log
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{name} did not start: " + open(os.path.join(svc.tmp, f"{name}.log")).read())


def stop_extra(proc, log):
    proc.terminate()
    rc = proc.wait(30)
    log.close()
    return rc


def reads_and_writes(t, svc):
    svc.start()
    before = issue(svc, None, "韭菜", 1, 1)
    t.eq(before.status, 201, "a certificate issued before the copy")
    t.eq(svc.stop(), 0, "agricertd stops for the copy")
    replica = f"{svc.dbname}_replica"
    admin = svc.db.replace(f"dbname={svc.dbname}", "dbname=postgres")
    psql(admin, f"CREATE DATABASE {replica} TEMPLATE {svc.dbname}")
    svc.env["AGRICERT_DB_READ"] = svc.app_db.replace(f"dbname={svc.dbname}", f"dbname={replica}")
    svc.start()
    after = issue(svc, None, "韭菜", 1, 1)
    t.eq(after.status, 201, "issuing goes to the primary (db)")
    a, b = before.json(), after.json()
    r = http("GET", svc.url + f"/api/v1/certificates/{b['id']}", headers=svc.auth())
    t.eq(r.status, 200, "reading back one's own certificate: the primary")
    t.eq(scan(svc, a["items"][0]["code"]).json().get("status"), "valid", "a scan of the older certificate: found on db_read")
    r = scan(svc, b["items"][0]["code"])
    t.ok(r.json().get("status") != "valid", "a scan of the newer one: db_read has not got it (a lagging replica)", r.body)
    t.eq(http("GET", svc.url + f"/api/v1/certificates/{a['id']}/trace?direction=upstream", headers=svc.auth()).status, 200,
         "trace of the older: db_read")
    t.eq(http("GET", svc.url + f"/api/v1/certificates/{b['id']}/trace?direction=upstream", headers=svc.auth()).status, 404,
         "trace of the newer: not on db_read")
    t.eq(http("GET", svc.url + f"/api/v1/certificates/{b['id']}/epcis", headers=svc.auth()).status, 404,
         "EPCIS of the newer: not on db_read")
    sid = svc.add_subject("family_farm", "副本测试农场", "13859001234", "350524103201").id
    admin_token = svc.city_admin().token
    lst = http("GET", svc.url + "/api/v1/subjects?limit=200", headers=svc.auth(admin_token))
    t.eq(lst.status, 200, "registry list answered")
    ids = [s["id"] for s in lst.json()["items"]] if lst.status == 200 else []
    t.ok(ids and sid not in ids, "a subject added since is not in the list (db_read)", ids[-5:])
    one = http("GET", svc.url + f"/api/v1/subjects/{sid}", headers=svc.auth(admin_token))
    t.eq(one.status, 200, "... but a subject by id is read on the primary")
    t.eq(svc.stop(), 0, "agricertd with two pools stops cleanly")
    log = svc.read_log()
    t.ok("LeakSanitizer" not in log and "ERROR: AddressSanitizer" not in log, "no sanitizer report")
    del svc.env["AGRICERT_DB_READ"]
    psql(admin, f"DROP DATABASE {replica}")


def multi_host(t, svc):
    dead = os.path.join(svc.tmp, "dead-sock")
    os.makedirs(dead)
    parts = dict(kv.split("=", 1) for kv in svc.app_db.split())
    multi = (f"host={dead},{parts['host']} port={parts['port']},{parts['port']} user={parts['user']} "
             f"dbname={parts['dbname']} target_session_attrs=read-write connect_timeout=5")
    svc.env["AGRICERT_DB"] = multi
    svc.env["AGRICERT_DB_READ"] = multi.replace("read-write", "prefer-standby")
    svc.start()
    r = issue(svc, None, "韭菜", 1, 1)
    t.eq(r.status, 201, "db with two hosts, the first dead, target_session_attrs=read-write: issues")
    t.eq(scan(svc, r.json()["items"][0]["code"]).json().get("status"), "valid",
         "db_read with target_session_attrs=prefer-standby (no standby here): scans")
    t.eq(svc.stop(), 0, "stops")
    svc.env["AGRICERT_DB"] = svc.app_db
    del svc.env["AGRICERT_DB_READ"]


def two_instances(t, svc):
    svc.start()
    other, other_url, log = start_extra(svc, svc.env, "agricertd-2")
    acked, errors = [], []
    lock = threading.Lock()

    def worker(url, k):
        for i in range(25):
            r = http("POST", url + "/api/v1/certificates", BODY,
                     svc.auth(**{"Idempotency-Key": f"two-{k}-{i}"}), timeout=30)
            with lock:
                (acked if r.status == 201 else errors).append(r.json().get("id") if r.status == 201 else r.status)
    threads = [threading.Thread(target=worker, args=(url, k))
               for k, url in enumerate([svc.url, other_url] * 4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(errors, [], "two instances, 8 clients, 200 issues: all answered 201")
    t.eq(len(set(acked)), len(acked), f"no serial given twice ({len(acked)} serials)")
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate WHERE idempotency_key LIKE 'two-%'"), "200",
         "200 certificates stored")
    blocks = psql(svc.db, "SELECT count(DISTINCT serial / 4096) FROM certificate WHERE idempotency_key LIKE 'two-%'")
    t.ok(int(blocks) >= 2, f"each instance issues from its own serial block ({blocks} blocks)")
    t.eq(stop_extra(other, log), 0, "the second instance stops")
    t.eq(svc.stop(), 0, "the first stops")


def run(t, svc):
    reads_and_writes(t, svc)
    multi_host(t, svc)
    two_instances(t, svc)


def main():
    run_test("replicas", run, printers=False)


if __name__ == "__main__":
    main()
