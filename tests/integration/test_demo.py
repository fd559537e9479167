"""The supervision commands of the CLI (issue 13): `agricert demo load`
fills an empty database with a month of signed demo activity, marked as
demo data, and refuses a database that holds other activity; `agricert
import quarantine` takes a CSV file all or none; `agricert import targets`
loads the annex 3 targets the township table shows."""
import datetime
import os

import harness
from harness import FENGCHENG, ROOT, http, psql, run_test, scan


def main():
    run_test("demo", run, printers=False)


def run(t, svc):
    year = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).year
    svc.cli("import", "quotas", "2023", os.path.join(ROOT, "deploy/data/anxi-rapid-test-quota-2023.csv"))
    r = svc.cli("import", "targets", "2023", os.path.join(ROOT, "deploy/data/anxi-townships-2023.csv"))
    t.ok(r.returncode == 0 and "imported 24 targets for 2023" in r.stdout, "agricert import targets: 24 townships", r.stdout + r.stderr)
    r = svc.cli("demo", "load")
    t.ok(r.returncode == 0 and "demo data loaded" in r.stdout, "agricert demo load fills an empty database", r.stdout + r.stderr)
    t.eq(psql(svc.db, "SELECT loaded, foreign_data IS NULL FROM demo_state()"), "t|t", "the demo is marked as demo data")
    r = svc.cli("demo", "load")
    t.ok(r.returncode == 0 and "loaded already" in r.stdout, "a second load does nothing", r.stdout)
    t.eq(svc.cli("audit", "verify").returncode, 0, "the audit log's chain holds after the load")
    t.eq(psql(svc.db, "SELECT (SELECT count(*) FROM scan_log_default) + (SELECT count(*) FROM receipt_default)"
                      " + (SELECT count(*) FROM audit_log_default) || ',' || (SELECT count(*) FROM scan_log)"),
         "0," + psql(svc.db, "SELECT count(*) FROM scan_log"),
         "the demo's scans and receipts are in their months' partitions, none in a default one (sql/0028)")

    county = svc.county_regulator().token
    fengcheng = svc.township_office(FENGCHENG).token
    svc.start()
    get = lambda path, token: http("GET", svc.url + path, headers=svc.auth(token)).json()
    table = get("/api/v1/stats/supervision", county)
    t.ok(table["demo"] and table["totals"]["certificates"] > 100 and table["totals"]["rapid_tests_failed"] == 3
         and table["totals"]["patrols_onsite"] > 0, "the county's dashboard shows the demo month, marked demo", table["totals"])
    mine = {x["code"]: x for x in get("/api/v1/stats/supervision", fengcheng)["townships"]}
    t.ok(mine[FENGCHENG]["certificates"] > 10 and mine[FENGCHENG]["target_item_codes"] == 496
         and mine[FENGCHENG]["rapid_test_quota"] == 460, "凤城镇's office sees its own figures against this year's targets and quota",
         mine[FENGCHENG])
    kinds = sorted(x["kind"] for x in get("/api/v1/quarantine/reconciliation", county)["discrepancies"])
    t.eq(kinds, ["missing_certificate", "missing_quarantine", "owner_mismatch", "quantity_over"],
         "the week's reconciliation has one of each mismatch")
    t.eq(len(get("/api/v1/failed-tests", county)["blocks"]), 2, "two failed tests still block their producers")
    t.eq(len(get("/api/v1/sampling-plans", county)["plans"]), 2, "this month's plans of 凤城镇 and 湖头镇 are drawn")
    code = psql(svc.db, "SELECT item_codes[1] FROM certificate WHERE revoked_at IS NULL ORDER BY serial DESC LIMIT 1")
    t.eq(scan(svc, code).json()["status"], "valid", "a demo label scans as genuine: the loader signed it")
    revoked = psql(svc.db, "SELECT item_codes[1] FROM certificate WHERE revoked_at IS NOT NULL LIMIT 1")
    t.eq(scan(svc, revoked).json()["status"], "revoked", "and a revoked one as revoked")

    # The CLI imports quarantine certificates all or none.
    day = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
    path = os.path.join(svc.tmp, "q.csv")
    with open(path, "w") as f:
        f.write(f"number,owner,species,quantity,unit,origin,date\nQC-0001,某货主,生猪,8,头,湖头镇,{day}\nQC-0002,某货主,骆驼,8,只,湖头镇,{day}\n")
    before = psql(svc.db, "SELECT count(*) FROM quarantine_certificate")
    r = svc.cli("import", "quarantine", path, check=False)
    t.ok(r.returncode == 1 and "line 3: rejected: species" in r.stderr and "nothing imported" in r.stderr,
         "agricert import quarantine names the line at fault and imports nothing", r.stderr)
    t.eq(psql(svc.db, "SELECT count(*) FROM quarantine_certificate"), before, "nothing was imported")
    with open(path, "w") as f:
        f.write(f"\ufeff检疫证号,货主,动物种类,数量,单位,启运地点,签发日期\r\nQC-0001,某货主,生猪,8,头,湖头镇,{day}\r\n")
    r = svc.cli("import", "quarantine", path, check=False)
    t.ok(r.returncode == 0 and "imported 1 quarantine certificates (1 new, 0 updated)" in r.stdout,
         "a good file (Chinese header, byte order mark, CRLF) is imported", r.stdout + r.stderr)
    t.ok("cli:" in psql(svc.db, "SELECT actor FROM audit_log WHERE action = 'quarantine_certificate.create' ORDER BY id DESC LIMIT 1"),
         "the audit log names the CLI's user")

    # A database with activity of its own is refused.
    other = harness.Service("demo_other", printers=False)
    try:
        other.setup_demo()
        other.start()
        harness.issue(other, other.token, "豇豆", 10, 1)
        subjects = psql(other.db, "SELECT count(*) FROM subject")
        r = other.cli("demo", "load", check=False)
        t.ok(r.returncode == 1 and "holds certificates that are not demo data" in r.stderr,
             "demo load refuses a database with real certificates, saying so", r.stdout + r.stderr)
        t.eq(psql(other.db, "SELECT count(*) FROM subject"), subjects, "and adds nothing to it")
    finally:
        other.close()


if __name__ == "__main__":
    main()
