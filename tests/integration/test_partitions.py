"""Growth (issue 15, sql/0028): the scan log, the receipts and the audit log
are partitioned by month; agricertd creates the coming months; an item is
still collected once across months; `agricert archive DIR` detaches, writes
and drops only the months past their legal minimum, and the audit chain stays
verifiable (also against anchors) after its oldest months have left."""
import csv
import hashlib
import os
import subprocess
import time

from harness import http, issue, psql, run_test, scan, try_psql, wait_for

# A database that has run since January 2024, as a superuser: the first
# FIRST entries of the audit log are moved to that month and every hash is
# recomputed with the database's reference function (a consistent history).
BACKDATE = """
SET session_replication_role = replica;
SELECT partition_create('audit_log', date '2024-01-01');
UPDATE audit_log SET at = timestamptz '2024-01-10 08:00+08' + id * interval '1 minute'
  WHERE id <= {first};
DO $$
DECLARE r record; v_prev bytea := '\\x' || repeat('00', 32);
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    UPDATE audit_log SET prev_hash = v_prev,
      hash = sha256(v_prev || convert_to(audit_canonical(r.id, r.at, r.actor, r.action, r.object,
                                                          r.before, r.after), 'UTF8'))
      WHERE id = r.id RETURNING hash INTO v_prev;
  END LOOP;
  UPDATE audit_head SET hash = v_prev;
END $$;
"""


def main():
    run_test("partitions", run, printers=False)


def month(offset):
    """The first day of the month offset months from now (China time), as SQL text."""
    return f"(date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') + interval '{offset} months')::date"


def run(t, svc):
    county = svc.county_regulator().token
    buyer = svc.purchaser().token

    # (a) The tables are partitioned, this month and two ahead exist, and a
    # default partition catches the rest.
    for table in ("scan_log", "receipt", "audit_log"):
        kind = psql(svc.db, f"SELECT relkind FROM pg_class WHERE relname = '{table}'")
        parts = psql(svc.db, f"SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i "
                             f"JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '{table}'::regclass").split(",")
        want = [psql(svc.db, f"SELECT '{table}_' || to_char({month(k)}, 'YYYY_MM')") for k in range(3)]
        t.ok(kind == "p" and all(w in parts for w in want) and f"{table}_default" in parts,
             f"{table} is partitioned by month: {', '.join(want)} and a default", parts)

    # agricertd creates what is missing at start.
    ahead = psql(svc.db, f"SELECT 'scan_log_' || to_char({month(2)}, 'YYYY_MM')")
    psql(svc.db, f"DROP TABLE {ahead}")
    svc.start()
    wait_for(lambda: psql(svc.db, f"SELECT to_regclass('{ahead}') IS NOT NULL") == "t", 10)
    t.ok(f"partition {ahead} created" in svc.read_log(), "agricertd creates the month it lacked at start, and says so",
         svc.read_log()[-2000:])

    # (b) What the service writes lands in this month's partitions.
    a = issue(svc, svc.token, "豇豆", 40, 4).json()
    codes = [i["code"] for i in a["items"]]
    t.eq(scan(svc, codes[0]).json().get("status"), "valid", "a scan of a fresh certificate is valid")
    r = http("POST", svc.url + "/api/v1/receipts", {"receipts": [{"code": codes[0], "quantity": 10, "unit": "kg"}]},
             svc.auth(buyer))
    t.eq([x["status"] for x in r.json().get("results", [])], ["recorded"], "the purchaser collects item 1")
    now = psql(svc.db, f"SELECT to_char({month(0)}, 'YYYY_MM')")
    wait_for(lambda: psql(svc.db, f"SELECT count(*) FROM scan_log WHERE serial = {a['id']}") != "0", 10)
    where = psql(svc.db, f"SELECT (SELECT tableoid::regclass::text FROM scan_log WHERE serial = {a['id']} LIMIT 1) || ',' || "
                         f"(SELECT tableoid::regclass::text FROM receipt WHERE serial = {a['id']}) || ',' || "
                         f"(SELECT tableoid::regclass::text FROM audit_log ORDER BY id DESC LIMIT 1)")
    t.eq(where, f"scan_log_{now},receipt_{now},audit_log_{now}", "scan, receipt and audit entry are in this month's partitions")

    # (c) An item is collected once across months.
    psql(svc.db, "SELECT partition_create('receipt', date '2024-01-01')")
    rc, out = try_psql(svc.db, f"INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit, received_at) "
                               f"SELECT purchaser_id, serial, 1, 1000, unit, '2024-01-15' FROM receipt WHERE serial = {a['id']}")
    t.ok(rc != 0 and "23505" in out and "already collected" in out,
         "the same item in another month's partition is a unique violation", out)
    # Two owners' transactions race for item 2, in different months: one wins.
    ins = (f"INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit, received_at) "
           f"SELECT purchaser_id, serial, 2, 1000, unit, {{at}} FROM receipt WHERE serial = {a['id']} AND item = 1")
    first = subprocess.Popen(["psql", svc.db, "-v", "ON_ERROR_STOP=1", "-qtAc",
                              "BEGIN; " + ins.format(at="now()") + "; SELECT pg_sleep(2); COMMIT"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: psql(svc.db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'BEGIN; INSERT INTO receipt%' "
                                  "AND wait_event = 'PgSleep'") == "1", 10)
    rc2, out2 = try_psql(svc.db, ins.format(at="'2024-01-20'"))
    out1 = first.communicate()[0]
    t.ok(first.returncode == 0 and rc2 != 0 and "23505" in out2,
         "racing inserts of one item into two months: the first commits, the second is refused", out1 + out2)
    r = http("POST", svc.url + "/api/v1/receipts", {"receipts": [{"code": codes[1]}]}, svc.auth(buyer))
    t.eq([x["status"] for x in r.json().get("results", [])], ["already_collected"],
         "the API says already_collected for the item collected in the other transaction")
    psql(svc.db, "SET session_replication_role = replica; "
                 f"DELETE FROM receipt WHERE serial = {a['id']} AND item = 2")

    # (d) An old history: scans and receipts of January 2024, and the first
    # audit entries of that month too.
    psql(svc.db, "SELECT partition_create('scan_log', date '2024-01-01')")
    psql(svc.db, f"INSERT INTO scan_log (scanned_at, serial, item, verdict) SELECT '2024-01-05'::timestamptz "
                 f"+ g * interval '1 hour', {a['id']}, 1, 'valid' FROM generate_series(1, 50) g")
    psql(svc.db, "SET session_replication_role = replica; "
                 f"UPDATE receipt SET received_at = '2024-01-25' WHERE serial = {a['id']} AND item = 1")
    first_entries = 5
    psql(svc.db, BACKDATE.format(first=first_entries))
    out = svc.cli("audit", "verify", check=False)
    t.ok(out.returncode == 0 and "audit log intact" in out.stdout, "the backdated history verifies", out.stdout + out.stderr)
    anchors = os.path.join(svc.tmp, "anchors.txt")
    svc.cli("key", "new", "--anchor")
    out = svc.cli("audit", "anchor", anchors, check=False)
    t.eq(out.returncode, 0, "the head is anchored before archiving")
    # A month within the legal minimum: last month's receipts.
    young = psql(svc.db, f"SELECT partition_create('receipt', {month(-1)})")
    psql(svc.db, f"INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit, received_at) "
                 f"SELECT purchaser_id, serial, 3, 1000, unit, {month(-1)} + interval '3 days' FROM receipt "
                 f"WHERE serial = {a['id']} AND item = 1")

    out = svc.cli("archive", "--dry-run", os.path.join(svc.tmp, "archive"), check=False)
    due = sorted(line.split()[-1] for line in out.stdout.splitlines() if line.startswith("would archive"))
    t.eq(due, ["audit_log_2024_01", "receipt_2024_01", "scan_log_2024_01"],
         "dry run: the three months of January 2024 are due, last month is not")
    t.ok(young not in out.stdout, f"{young} (inside 6 months) is not listed", out.stdout)
    rc, out = try_psql(svc.db, f"SELECT partition_detach('{young}')")
    t.ok(rc != 0 and "AC002" in out and "至少保存6个月" in out, "detaching a month inside the legal minimum is refused", out)
    rc, out = try_psql(svc.app_db, "SELECT partition_detach('receipt_2024_01')")
    t.ok(rc != 0 and "permission denied" in out, "the service's role may not detach at all", out)

    # (e) Archive.
    dest = os.path.join(svc.tmp, "archive")
    out = svc.cli("archive", dest, check=False)
    t.ok(out.returncode == 0 and out.stdout.count("archived ") == 3 and "已归档" in out.stdout,
         "agricert archive archives the three months, in English and Chinese", out.stdout + out.stderr)
    for name, rows in (("scan_log_2024_01", 50), ("receipt_2024_01", 1), ("audit_log_2024_01", first_entries)):
        path = os.path.join(dest, name + ".csv")
        with open(path, newline="") as f:
            got = list(csv.DictReader(f))
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        rec = psql(svc.db, f"SELECT rows || ',' || sha256 || ',' || file FROM partition_archive WHERE name = '{name}'")
        t.ok(len(got) == rows and rec == f"{rows},{digest},{path}"
             and psql(svc.db, f"SELECT to_regclass('{name}') IS NULL") == "t",
             f"{name}: {rows} rows in the file, its SHA-256 recorded, the table dropped", rec)
    t.eq(psql(svc.db, f"SELECT count(*) FROM receipt WHERE received_at >= {month(-1)}"), "1",
         "the receipt of last month stays")
    t.eq(psql(svc.db, "SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE action LIKE 'partition.%'"),
         ",".join(["partition.detach", "partition.archive"] * 3), "each detach and archive is in the audit log")
    with open(os.path.join(dest, "audit_log_2024_01.csv"), newline="") as f:
        last = list(csv.DictReader(f))[-1]
    t.eq(last["hash"], "\\x" + psql(svc.db, "SELECT encode(prev_hash, 'hex') FROM audit_log ORDER BY id LIMIT 1"),
         "the archived file's last hash is the one the first remaining entry follows")

    out = svc.cli("audit", "verify", check=False)
    t.ok(out.returncode == 0 and "audit log intact" in out.stdout
         and f"entries 1 to {first_entries} are archived" in out.stdout,
         "audit verify passes after the oldest month left, from the archived hash", out.stdout + out.stderr)
    out = svc.cli("audit", "verify", "--anchors", anchors, check=False)
    t.ok(out.returncode == 0 and "1 anchors matched" in out.stdout, "and still holds the anchor made before",
         out.stdout + out.stderr)
    archived = os.path.join(dest, "audit_log_2024_01.csv")
    out = svc.cli("audit", "verify", "--archive", archived, check=False)
    t.ok(out.returncode == 0 and f"intact: entries 1 to {first_entries} of the audit log" in out.stdout,
         "audit verify --archive checks the archived month's chain and its record", out.stdout + out.stderr)
    with open(archived, encoding="utf-8") as f:
        text = f.read()
    forged = os.path.join(svc.tmp, "forged.csv")
    with open(forged, "w", encoding="utf-8") as f:
        f.write(text.replace("cli:", "cli:x", 1))
    out = svc.cli("audit", "verify", "--archive", forged, check=False)
    t.ok(out.returncode == 1 and "SHA-256" in out.stdout, "a changed archive file is reported", out.stdout + out.stderr)
    t.eq(scan(svc, codes[0]).json().get("status"), "valid", "the certificate still scans as valid")
    up = http("GET", svc.url + f"/api/v1/certificates/{a['id']}/trace?direction=upstream", headers=svc.auth(county))
    t.eq(up.status, 200, "and traces")

    # (f) Tampering with the archive record is found.
    psql(svc.db, "SET session_replication_role = replica; "
                 "UPDATE partition_archive SET last_id = last_id + 1 WHERE name = 'audit_log_2024_01'")
    out = svc.cli("audit", "verify", check=False)
    t.ok(out.returncode == 1 and "no partition.detach entry of the chain says so" in out.stdout,
         "a changed archive record (hiding entries) is reported", out.stdout + out.stderr)
    psql(svc.db, "UPDATE partition_archive SET last_id = last_id - 1 WHERE name = 'audit_log_2024_01'")
    out = svc.cli("archive", dest, check=False)
    t.ok(out.returncode == 0 and "nothing to archive" in out.stdout, "a second run has nothing to do", out.stdout)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
