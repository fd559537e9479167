"""The audit log (sql/0003_audit.sql, sql/AUDIT.md), end to end: certificates
issued in batches over HTTP, a revocation, print jobs, a subject edited with
the CLI and key changes all land in audit_log; `agricert audit verify` finds
the chain intact, then names the entry when a superuser changes, deletes or
reorders entries; the service's role agricert_app cannot change the log; and
the cost of the audit trigger on the batch insert path, as a TAP comment."""
import concurrent.futures
import os
import re
import statistics
import subprocess
import time

from harness import http, psql, run_test

BODY = {"product": "豇豆", "quantity": 25, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}

SUBJECTS_HEADER = "kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status\n"
SUBJECT_ROW = "cooperative,安溪县凤城镇茶叶专业合作社,,,0595-23230001,350524103201,凤城镇,{grade},active\n"

# The statement service/daemon/ac_issuer.c sends for a batch (group commit).
ISSUE_SQL = (
    "WITH input AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::int[], "
    "$4::smallint[], $5::smallint[], $6::int[], $7::bigint[], $8::smallint[], $9::text[], "
    "$10::bigint[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], "
    "$16::text[]) AS t(serial, kid, issuer_id, style, basis, product_id, quantity_milli, "
    "unit, origin, origin_code, contact, labels, codes, idem, printer_id, fp)), "
    "ins AS (INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, "
    "quantity_milli, unit, origin, origin_code, contact, labels, item_codes, "
    "idempotency_key, request_fp, issued_at) "
    "SELECT serial, kid, issuer_id, style, basis, product_id, quantity_milli, unit, origin, "
    "origin_code, contact, labels, string_to_array(codes, ','), idem, fp, $17::timestamptz "
    "FROM input ON CONFLICT (issuer_id, idempotency_key) DO NOTHING RETURNING serial), "
    "pj AS (INSERT INTO print_job (serial, printer_id) SELECT i.serial, i.printer_id "
    "FROM input i JOIN ins USING (serial) WHERE i.printer_id IS NOT NULL "
    "RETURNING id, serial) "
    "SELECT ins.serial, pj.id FROM ins LEFT JOIN pj USING (serial)")


def run_psql(conninfo, sql):
    """psql without raising: (returncode, stdout + stderr)."""
    out = subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
                         capture_output=True, text=True)
    return out.returncode, (out.stdout + out.stderr).strip()


def as_app(conninfo):
    return re.sub(r"user=\S+", "user=agricert_app", conninfo)


def serials(objects):
    got = set()
    for obj in objects.split(";") if objects else []:
        got.update(int(s) for s in obj.split(":", 1)[1].split(","))
    return got


def main():
    run_test("audit", run)


def verify(svc):
    out = svc.cli("audit", "verify", check=False)
    return out.returncode, out.stdout + out.stderr


def run(t, svc):
    queue = os.environ.get("AGRICERT_TEST_QUEUE")
    staff, regulator = svc.county_regulator()
    t.eq(psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'api_token.create'"), "2",
         "creating tokens (the closest thing to a login) is audited")
    t.ok(int(psql(svc.db, "SELECT count(*) FROM audit_log WHERE action IN ('region.create', 'product.create')")) >= 2,
         "catalogue imports are audited")
    svc.start()

    # 50 concurrent requests: the issuer commits them in a few batches.
    body = dict(BODY)
    if queue:
        body["printer"] = "demo-kiosk"

    def issue(i):
        return http("POST", svc.url + "/api/v1/certificates", body,
                    svc.auth(**{"Idempotency-Key": f"audit-{i:04d}"}))

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(issue, range(50)))
    t.ok(all(r.status == 201 for r in answers), "50 concurrent certificates issued",
         [r.status for r in answers if r.status != 201])
    issued = {r.json()["id"] for r in answers if r.status == 201}
    entries = int(psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'certificate.issue'"))
    logged = serials(psql(svc.db, "SELECT string_agg(object, ';') FROM audit_log WHERE action = 'certificate.issue'"))
    t.eq(logged, issued, "every issued serial is listed in a certificate.issue entry")
    t.ok(1 <= entries < 50, f"one entry per batch statement, not per certificate ({entries} entries for 50)")
    one = min(issued)
    row = psql(svc.db, "SELECT after -> 'issuer_id' -> (array_position(string_to_array(split_part(object, ':', 2), ','), "
                       f"'{one}') - 1) FROM audit_log WHERE action = 'certificate.issue' AND object ~ '[:,]{one}(,|$)'")
    t.eq(row, str(svc.producer), "the entry's after holds the certificates, column by column")

    # A revocation: before/after of what changed.
    victim = max(issued)
    r = http("POST", svc.url + f"/api/v1/certificates/{victim}/revocation", {"reason": "快检不合格"},
             svc.auth(regulator))
    t.eq(r.status, 200, "a regulator revokes a certificate")
    row = psql(svc.db, "SELECT object, before -> '%d' ->> 'revoked_at', after -> '%d' ->> 'revoke_reason', actor "
                       "FROM audit_log WHERE action = 'certificate.revoke'" % (victim, victim)).split("|")
    t.ok(row[:3] == [f"certificate:{victim}", "", "快检不合格"],
         "certificate.revoke entry: revoked_at was null, reason after", row)
    t.ok(len(row) > 3 and row[3].endswith(":county_regulator"),
         "the entry names the regulator who revoked (subject:role)", row)
    r = http("POST", svc.url + f"/api/v1/certificates/{victim}/revocation", {"reason": "again"}, svc.auth(regulator))
    t.eq((r.status, psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'certificate.revoke'")), (409, "1"),
         "a refused second revocation changes nothing and logs nothing")

    if queue:
        deadline = time.time() + 30
        states = "0"
        while time.time() < deadline:
            states = psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'print_job.state'")
            if int(states) > 0:
                break
            time.sleep(0.5)
        t.ok(int(psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'print_job.print'")) >= 1
             and int(states) >= 1, "print jobs and their state changes are audited")

    # A subject edited with the CLI: an import that changes its grade.
    path = os.path.join(svc.tmp, "subjects.csv")
    for grade in ("A", "B"):
        with open(path, "w") as f:
            f.write(SUBJECTS_HEADER + SUBJECT_ROW.format(grade=grade))
        svc.cli("import", "subjects", path)
    row = psql(svc.db, "SELECT before::text, after::text FROM audit_log WHERE action = 'subject.update' "
                       "AND after::text LIKE '%credit_grade%' ORDER BY id DESC LIMIT 1")
    t.ok('"credit_grade": "A"' in row and '"credit_grade": "B"' in row,
         "editing a subject with the CLI is audited with before and after", row)

    # Key changes happen in files; the CLI appends their entries.
    svc.cli("key", "new")
    svc.cli("key", "retire", "1")
    row = psql(svc.db, "SELECT actor, object, before ->> 'status', after ->> 'status' FROM audit_log "
                       "WHERE action = 'key.status' ORDER BY id DESC LIMIT 1").split("|")
    t.ok(row[0].startswith("cli:") and row[1:] == ["key:1", "active", "retired"],
         "a key status change is audited with the CLI user", row)
    t.eq(psql(svc.db, "SELECT object FROM audit_log WHERE action = 'key.new' ORDER BY id DESC LIMIT 1"), "key:2",
         "a new key is audited")

    count = psql(svc.db, "SELECT count(*) FROM audit_log")
    rc, out = verify(svc)
    t.ok(rc == 0 and f"audit log intact: {count} entries, head " in out, "agricert audit verify: intact", out)
    out = svc.cli("audit", "log", "3", check=False)
    t.ok(out.returncode == 0 and "key.status key:1" in out.stdout and out.stdout.startswith("#"),
         "agricert audit log 3 prints the last entries", out.stdout + out.stderr)

    # The service's role: business tables yes, the audit log read-only.
    app = as_app(svc.db)
    for sql in ("UPDATE audit_log SET actor = 'someone else' WHERE id = 1",
                "DELETE FROM audit_log WHERE id = 1",
                "TRUNCATE audit_log",
                "INSERT INTO audit_log (id, actor, action, object, prev_hash, hash) "
                "VALUES (1000000, 'x', 'x.y', 'x', '\\x00', '\\x00')",
                "UPDATE audit_head SET last_id = 0",
                "SET session_replication_role = replica",
                "ALTER TABLE certificate DISABLE TRIGGER audit_certificate_ins"):
        rc, out = run_psql(app, sql)
        t.ok(rc != 0 and ("permission denied" in out or "must be owner" in out),
             f"agricert_app is refused: {sql.split(' WHERE')[0][:60]}", out)
    rc, out = run_psql(app, f"WITH a AS (SELECT set_config('agricert.actor', '{staff}:county_regulator', true)) "
                            f"INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, "
                            f"quantity_milli, unit, origin, origin_code, contact, issued_at, labels, item_codes) "
                            f"SELECT 999999, 2, {svc.producer}, 1, 0, min(id), 1000, 1, 'o', 350524103201, 'c', "
                            f"now(), 1, '{{X}}' FROM product, a RETURNING serial")
    t.ok(rc == 0 and out.startswith("999999"), "agricert_app inserts a certificate", out)
    t.eq(psql(svc.db, "SELECT actor || ' ' || action FROM audit_log ORDER BY id DESC LIMIT 1"),
         f"{staff}:county_regulator certificate.issue",
         "... audited, attributed through agricert.actor set in the same statement")
    rc, out = run_psql(app, "SELECT audit_append(NULL, 'key.new', 'key:9', NULL, '{\"alg\": \"sm2\"}')")
    t.ok(rc == 0 and psql(svc.db, "SELECT actor FROM audit_log ORDER BY id DESC LIMIT 1").startswith("db:agricert_app"),
         "agricert_app may append through audit_append, as itself", out)
    rc, out = run_psql(svc.db, "UPDATE audit_log SET actor = 'x' WHERE id = 1")
    t.ok(rc != 0 and "append-only" in out, "even the owner's UPDATE is refused by the append-only trigger", out)

    # Tampering, as a superuser who first disables the triggers. The service
    # is stopped so that nothing is appended meanwhile; the log is restored
    # after each case.
    t.eq(svc.stop(), 0, "agricertd stops")
    rc, out = verify(svc)
    t.eq(rc, 0, "intact before tampering")
    psql(svc.db, "CREATE TABLE audit_copy AS SELECT * FROM audit_log")
    restore = ("SET session_replication_role = replica; DELETE FROM audit_log; "
               "INSERT INTO audit_log SELECT * FROM audit_copy")
    revoke_id = int(psql(svc.db, "SELECT id FROM audit_log WHERE action = 'certificate.revoke'"))
    last = int(psql(svc.db, "SELECT max(id) FROM audit_log"))
    mid = last // 2
    cases = [
        ("an entry's after changed",
         f"UPDATE audit_log SET after = jsonb_set(after, '{{{victim},revoke_reason}}', '\"误操作\"') WHERE id = {revoke_id}",
         revoke_id, "changed"),
        ("an entry deleted",
         f"DELETE FROM audit_log WHERE id = {mid}", mid, "missing"),
        ("two entries swapped (whole rows but ids)",
         f"UPDATE audit_log a SET at = b.at, actor = b.actor, action = b.action, object = b.object, "
         f"before = b.before, after = b.after, prev_hash = b.prev_hash, hash = b.hash "
         f"FROM audit_copy b WHERE (a.id, b.id) IN (({mid}, {mid + 3}), ({mid + 3}, {mid}))",
         mid, "out of order"),
        ("two entries' contents swapped (hashes kept)",
         f"UPDATE audit_log a SET actor = b.actor, action = b.action, object = b.object, "
         f"before = b.before, after = b.after "
         f"FROM audit_copy b WHERE (a.id, b.id) IN (({mid}, {mid + 1}), ({mid + 1}, {mid}))",
         mid, "changed"),
        ("the last entry deleted",
         f"DELETE FROM audit_log WHERE id = {last}", last, "missing"),
    ]
    for what, sql, bad, word in cases:
        psql(svc.db, "SET session_replication_role = replica; " + sql)
        rc, out = verify(svc)
        t.ok(rc == 1 and f"audit log broken at entry {bad}:" in out and word in out,
             f"{what}: audit verify exits 1 naming entry {bad}", out)
        psql(svc.db, restore)
    rc, out = verify(svc)
    t.ok(rc == 0, "restored: intact again", out)

    bench(t, svc)


def bench(t, svc):
    """Issuing cost: the batch statement of ac_issue.c with and without the
    audit triggers, 2,000 certificates in batches of 512, each committed."""
    product = psql(svc.db, "SELECT min(id) FROM product")
    code = "HTTP://127.0.0.1/V/" + "A" * 52

    def script(base, tag):
        lines = [f"PREPARE issue AS {ISSUE_SQL};"]
        for start in range(0, 2000, 512):
            n = min(512, 2000 - start)
            s = [base + start + i for i in range(n)]

            def arr(vals):
                return "'{" + ",".join(str(v) for v in vals) + "}'"
            lines.append("EXECUTE issue(" + ", ".join([
                arr(s), arr([2] * n), arr([svc.producer] * n), arr([1] * n), arr([0] * n),
                arr([product] * n), arr([25000] * n), arr([1] * n),
                arr(['"福建省安溪县凤城镇"'] * n), arr([350524103201] * n), arr(["13859001234"] * n),
                arr([1] * n), arr([f'"{code}"'] * n), arr([f"{tag}-{v}" for v in s]),
                arr(["demo-kiosk"] * n), arr(["fp"] * n), "now()"]) + ");")
        return "\n".join(lines) + "\n"

    def timed(base, tag):
        path = os.path.join(svc.tmp, f"bench-{tag}.sql")
        with open(path, "w") as f:
            f.write(script(base, tag))
        start = time.monotonic()
        subprocess.run(["psql", svc.db, "-qAt", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null", "-f", path],
                       check=True)
        return time.monotonic() - start

    triggers = "audit_certificate_ins, audit_print_job_ins"
    with_audit, without = [], []
    base = 10_000_000
    for rnd in range(5):
        with_audit.append(timed(base, f"a{rnd}"))
        base += 4096
        for trg in triggers.split(", "):
            table = trg[len("audit_"):-len("_ins")]
            psql(svc.db, f"ALTER TABLE {table} DISABLE TRIGGER {trg}")
        without.append(timed(base, f"n{rnd}"))
        base += 4096
        for trg in triggers.split(", "):
            table = trg[len("audit_"):-len("_ins")]
            psql(svc.db, f"ALTER TABLE {table} ENABLE TRIGGER {trg}")
    a = statistics.median(with_audit)
    n = statistics.median(without)
    t.note(f"batch insert of 2,000 certificates (4 statements, each committed), median of 5: "
           f"{a * 1000:.0f} ms with the audit trigger, {n * 1000:.0f} ms without: "
           f"+{(a - n) / 2000 * 1e6:.1f} us per certificate ({(a / n - 1) * 100:+.0f} %), "
           f"{2000 / a:.0f} vs {2000 / n:.0f} certificates/s")
    rc, out = verify(svc)
    t.ok(rc == 0, "the benchmark's entries keep the chain intact", out)


if __name__ == "__main__":
    main()
