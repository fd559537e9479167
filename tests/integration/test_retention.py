"""Retention of collected records (issue 4): receipts are kept at least
retention_months (default 24, never less than the law's 6). agricertd and the
CLI refuse a smaller setting; `agricert purge receipts` deletes older ones as
the owner; the database refuses deleting a receipt younger than 6 months
whoever asks, and the service's role may not delete receipts at all. The
chain (trace) and the audit log survive a purge."""
import os
import re
import subprocess

from harness import BUILD, http, issue, psql, run_test, scan, try_psql


def daemon_refuses(svc, env):
    """Starts agricertd with env; returns (exit code or None if it kept running, output)."""
    proc = subprocess.Popen([os.path.join(BUILD, "service/agricertd")], env=env, cwd=svc.tmp,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=20)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return None, out


def main():
    run_test("retention", run, printers=False)


def run(t, svc):
    law = "收取的合格证至少保存6个月"

    # (a) Below the legal minimum, neither the service nor the CLI starts.
    env = dict(svc.env, AGRICERT_RETENTION_MONTHS="3")
    rc, out = daemon_refuses(svc, env)
    t.ok(rc not in (None, 0) and "retention_months is 3" in out and "at least 6 months" in out and law in out,
         "agricertd refuses AGRICERT_RETENTION_MONTHS=3, naming the setting and the legal minimum", f"rc={rc}\n{out}")
    r = subprocess.run([os.path.join(BUILD, "service/agricert"), "purge", "receipts", "--dry-run"], env=env,
                       cwd=svc.tmp, capture_output=True, text=True)
    t.ok(r.returncode != 0 and "retention_months is 3" in r.stderr and law in r.stderr
         and "AGRICERT_RETENTION_MONTHS" in r.stderr, "the CLI refuses it too", f"rc={r.returncode}\n{r.stderr}")
    for bad, what in (("abc", "expected a number of months"), ("5000", "at most 1200 months"), ("5", law)):
        r = subprocess.run([os.path.join(BUILD, "service/agricert"), "audit", "verify"],
                           env=dict(svc.env, AGRICERT_RETENTION_MONTHS=bad), cwd=svc.tmp, capture_output=True, text=True)
        t.ok(r.returncode != 0 and "retention_months is" in r.stderr and what in r.stderr,
             f"retention_months={bad} is refused: {what}", r.stderr)
    conf = os.path.join(svc.tmp, "short.conf")
    with open(conf, "w") as f:
        f.write("# too short\nretention_months = 4\n")
    rc, out = daemon_refuses(svc, dict(svc.env, AGRICERT_CONFIG=conf))
    t.ok(rc not in (None, 0) and f"{conf}:2: retention_months is 4" in out and law in out,
         "the same from the configuration file, with its line", f"rc={rc}\n{out}")
    with open(conf, "w") as f:
        f.write("retention_months = 6\n")
    r = subprocess.run([os.path.join(BUILD, "service/agricert"), "purge", "receipts", "--dry-run"],
                       env=dict(svc.env, AGRICERT_CONFIG=conf), cwd=svc.tmp, capture_output=True, text=True)
    t.ok(r.returncode == 0 and "retention_months 6" in r.stdout, "6 months is accepted", r.stdout + r.stderr)

    # (b) A default service; a purchaser collects four items and re-issues.
    buyer = svc.purchaser().token
    county = svc.county_regulator().token
    svc.start()
    a = issue(svc, svc.token, "豇豆", 40, 4).json()
    codes = [i["code"] for i in a["items"]]
    r = http("POST", svc.url + "/api/v1/receipts",
             {"receipts": [{"code": c, "quantity": 10, "unit": "kg"} for c in codes]}, svc.auth(buyer))
    t.eq([x["status"] for x in r.json().get("results", [])], ["recorded"] * 4, "the purchaser collects four items")
    mix = issue(svc, buyer, "豇豆", 25, 1, {"inputs": [{"certificate": a["id"], "quantity": 25, "unit": "kg"}]}).json()
    ids = psql(svc.db, f"SELECT string_agg(id::text, ',' ORDER BY item) FROM receipt WHERE serial = {a['id']}").split(",")
    t.eq(len(ids), 4, "four receipts are stored")
    old30, old30b, old7, young3 = ids

    # Receipts are partitioned by month (sql/0028): backdating moves a row to
    # another month, which PostgreSQL does as a delete and an insert, so the
    # floor refuses it for a young receipt like any delete.
    rc, out = try_psql(svc.db, f"UPDATE receipt SET received_at = now() - interval '30 months' WHERE id = {old30}")
    t.ok(rc != 0 and "AC002" in out and "至少保存6个月" in out,
         "backdating a young receipt into an older month is refused like deleting it", out)
    # The test backdates with triggers off (session_replication_role = replica).
    rc, out = try_psql(svc.db, "SET session_replication_role = replica; "
                               f"UPDATE receipt SET received_at = now() - interval '30 months' WHERE id IN ({old30}, {old30b}); "
                               f"UPDATE receipt SET received_at = now() - interval '7 months' WHERE id = {old7}; "
                               f"UPDATE receipt SET received_at = now() - interval '3 months' WHERE id = {young3}")
    t.eq(rc, 0, "receipts are backdated to 30, 30, 7 and 3 months ago")

    def remaining():
        return psql(svc.db, f"SELECT coalesce(string_agg(id::text, ',' ORDER BY item), '') FROM receipt WHERE serial = {a['id']}")

    r = svc.cli("purge", "receipts", "--dry-run", check=False)
    t.ok(r.returncode == 0 and re.search(r"would purge 2 receipts .*retention_months 24", r.stdout)
         and "将删除2条" in r.stdout and "24个月" in r.stdout, "--dry-run reports 2 receipts past 24 months", r.stdout + r.stderr)
    t.eq(remaining(), ",".join(ids), "--dry-run deletes nothing")
    r = svc.cli("purge", "receipts", check=False)
    t.ok(r.returncode == 0 and re.search(r"purged 2 receipts received before .* \(retention_months 24\)", r.stdout)
         and "已删除2条" in r.stdout, "purge deletes the 2 receipts past 24 months, in English and Chinese",
         r.stdout + r.stderr)
    t.eq(remaining(), f"{old7},{young3}", "only the 30-month-old receipts are gone")
    r = svc.cli("purge", "receipts", check=False)
    t.ok(r.returncode == 0 and "purged 0 receipts" in r.stdout, "a second purge finds nothing", r.stdout + r.stderr)

    r = subprocess.run([os.path.join(BUILD, "service/agricert"), "purge", "receipts"],
                       env=dict(svc.env, AGRICERT_RETENTION_MONTHS="6"), cwd=svc.tmp, capture_output=True, text=True)
    t.ok(r.returncode == 0 and "purged 1 receipts" in r.stdout and "retention_months 6" in r.stdout,
         "with retention_months=6 the 7-month-old receipt goes", r.stdout + r.stderr)
    t.eq(remaining(), young3, "the 3-month-old receipt stays")

    # The floor in the database, whoever asks.
    rc, out = try_psql(svc.db, f"DELETE FROM receipt WHERE id = {young3}")
    t.ok(rc != 0 and "AC002" in out and "less than 6 months ago" in out and law in out,
         "the owner's direct DELETE of a 3-month-old receipt is refused by the floor (AC002)", out)
    rc, out = try_psql(svc.db, "TRUNCATE receipt CASCADE")
    t.ok(rc != 0 and "AC002" in out, "so is TRUNCATE", out)
    rc, out = try_psql(svc.app_db, f"DELETE FROM receipt WHERE id = {young3}")
    t.ok(rc != 0 and "42501" in out and "permission denied" in out,
         "agricert_app may not delete receipts at all", out)
    rc, out = try_psql(svc.app_db, "TRUNCATE receipt")
    t.ok(rc != 0 and "permission denied" in out, "nor truncate them", out)
    t.eq(remaining(), young3, "the 3-month-old receipt is still there")
    rc, out = try_psql(svc.db, "SET session_replication_role = replica; "
                               f"UPDATE receipt SET received_at = now() - interval '6 months 1 day' WHERE id = {young3}; "
                               "RESET session_replication_role; "
                               f"DELETE FROM receipt WHERE id = {young3} RETURNING id")
    t.ok(rc == 0 and out.strip().endswith(young3), "past 6 months the owner may delete it directly", out)

    # The chain and the audit log survive.
    up = http("GET", svc.url + f"/api/v1/certificates/{mix['id']}/trace?direction=upstream", headers=svc.auth(county))
    nodes = {n["certificate"]: n for n in up.json().get("nodes", [])} if up.status == 200 else {}
    t.ok(set(nodes) == {mix["id"], a["id"]} and nodes[a["id"]]["drawn"]["quantity"] == 25,
         "trace upstream still reaches the farm after the purge", up.body)
    down = http("GET", svc.url + f"/api/v1/certificates/{a['id']}/trace?direction=downstream", headers=svc.auth(county))
    made = {n["certificate"] for n in down.json().get("nodes", []) if n["depth"] == 1} if down.status == 200 else set()
    t.eq(made, {mix["id"]}, "and downstream still finds what was made from it")
    s = scan(svc, codes[0]).json()
    t.eq(s.get("status"), "valid", "a purged receipt's item code still scans valid")
    actors = psql(svc.db, "SELECT string_agg(actor, ',' ORDER BY id) FROM audit_log WHERE action = 'receipt.delete'")
    kinds = [x.split(":")[0] for x in actors.split(",")]
    t.eq(kinds, ["cli", "cli", "db"], "each purge that deleted is one receipt.delete audit entry, naming the CLI's user")
    r = svc.cli("audit", "verify", check=False)
    t.ok(r.returncode == 0 and "audit log intact" in r.stdout, "agricert audit verify passes after the purges",
         r.stdout + r.stderr)
    rc = svc.stop()
    t.eq(rc, 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
