"""Labels render while the group commit is in flight (README.md, "Printing"),
and reach CUPS only for certificates that were stored: a batch whose commit
fails leaves no print job, no job at CUPS and no label; a certificate the
database refuses within a batch is the only one not printed; every label
printed carries the codes stored for its certificate.

The commit is made to fail by a trigger on certificate (installed by this
test as the owner) for two marked origins: one raises an error that fails
the whole batch (503), the other a check violation, after which the batch is
stored job by job and only the marked certificate is refused (422)."""
import os
import shutil
import subprocess
import threading

from harness import http, label_files, psql, read_label, run_test, wait_for, wait_print_job

FAIL_BATCH = "批次失败村"  # the whole batch's commit fails
REFUSED = "拒收村"  # this certificate's row is refused
GOOD = "福建省安溪县凤城镇"


def cups_jobs(queue):
    """The ids of every job CUPS knows on queue, finished or not."""
    server = os.environ["AGRICERT_CUPS_SERVER"]
    lpstat = shutil.which("lpstat", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    out = subprocess.run([lpstat, "-h", server, "-W", "all", "-o", queue], capture_output=True,
                         text=True, timeout=30).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def body(origin, labels):
    return {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": origin,
            "origin_code": "350524103201", "basis": "quality_control", "labels": labels,
            "printer": "demo-kiosk"}


def issue_together(svc, origins):
    """POSTs one certificate per origin from as many threads at once (so that
    they share group commits): the answers, in the order of origins."""
    answers = [None] * len(origins)

    def one(i):
        answers[i] = http("POST", svc.url + "/api/v1/certificates",
                          body(origins[i], 2 if origins[i] == GOOD else 1), svc.auth())
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(origins))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return answers


def run(t, svc):
    queue = os.environ["AGRICERT_TEST_QUEUE"]
    psql(svc.db, f"""CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.origin = '{FAIL_BATCH}' THEN
                RAISE EXCEPTION 'test: this batch fails';
            ELSIF NEW.origin = '{REFUSED}' THEN
                RAISE EXCEPTION 'test: this row is refused' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER test_refuse BEFORE INSERT ON certificate
            FOR EACH ROW EXECUTE FUNCTION test_refuse()""")
    svc.start()
    files_before = set(label_files())
    cups_before = cups_jobs(queue)

    answers = []
    for marked in (FAIL_BATCH, REFUSED, FAIL_BATCH, REFUSED):
        answers += issue_together(svc, [GOOD, GOOD, marked, GOOD, GOOD])
    statuses = [a.status for a in answers]
    stored = [a.json() for a in answers if a.status == 201]
    t.ok(all(a.status in (201, 503) for a in answers[0::10] + answers[1::10]) and
         [statuses[i] for i in (2, 12)] == [503, 503],
         "a batch whose commit fails is answered 503 (its other certificates 201 or 503)", statuses)
    t.ok([statuses[i] for i in (7, 17)] == [422, 422] and
         all(statuses[i] == 201 for k in (5, 15) for i in (k, k + 1, k + 3, k + 4)),
         "a refused certificate is answered 422, the rest of its batch is stored (201)", statuses)
    t.ok(all(c.get("print_job") and c["print_job"].get("id") for c in stored),
         "every stored certificate has its print job", [c.get("print_job") for c in stored])
    serials = ",".join(str(c["id"]) for c in stored)
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate").strip(), str(len(stored)),
         "only the certificates answered 201 are stored")
    t.eq(psql(svc.db, "SELECT count(*) FROM print_job").strip(), str(len(stored)),
         "and only they have a print job")
    t.eq(psql(svc.db, f"SELECT count(*) FROM print_job WHERE serial NOT IN ({serials})").strip(),
         "0", "no print job names a certificate that was not stored")

    done = [wait_print_job(svc, c["print_job"]["id"]) for c in stored]
    t.ok(all(j.get("state") == "completed" for j in done),
         "every stored certificate's labels printed", [j.get("state") for j in done])
    t.ok(wait_for(lambda: len(set(label_files()) - files_before) >= len(stored), 30),
         "the virtual printer wrote their labels")
    new_cups = cups_jobs(queue) - cups_before
    t.eq(len(new_cups), len(stored), "CUPS received one job per stored certificate, no more")
    new_files = sorted(set(label_files()) - files_before)
    t.eq(len(new_files), len(stored), "one label file per stored certificate, no more")
    # A label's QR code is the code's URL (as the answer's items give it).
    printed = sorted(sorted(url.rsplit("/", 1)[-1] for url in read_label(f)) for f in new_files)
    want = sorted(sorted(i["code"].rsplit("/", 1)[-1] for i in c["items"]) for c in stored)
    in_db = sorted(sorted(row.split(",")) for row in psql(
        svc.db, "SELECT array_to_string(item_codes, ',') FROM certificate").splitlines())
    t.ok(printed == want == in_db and len(printed) == len(stored),
         "each label printed carries exactly the codes stored for its certificate",
         {"printed": printed, "stored": in_db, "answered": want})
    t.ok("could not store" in svc.read_log(), "the failed commit is in the log")
    t.eq(svc.stop(), 0, "agricertd stops cleanly (nothing rendered ahead is left over)")


if __name__ == "__main__":
    run_test("print_ahead", run)
