"""Input errors stay with their request (issue 10): one producer's bad
request never fails another's, even when both share a group commit, and
errors the input causes are 4xx with a stable code, never 503 "retry".

- A quality-control certificate naming a test that does not exist is refused
  (422 test_not_passing) while another producer issues at the same time.
- A batch the database refuses for one request's value (here a CHECK the test
  adds) is stored again job by job: the others are stored, the one at fault
  gets 422 invalid_value.
- Rapid tests naming a certificate that does not exist (422) or a subject id
  beyond an int (400); an Idempotency-Key that is not UTF-8 (400)."""
import threading

from harness import http, issue, psql, run_test

ROUNDS = 10
# More clients than the issuer has batches in flight (4), so that batches
# gather several requests.
CLIENTS = 6


def concurrently(jobs):
    """Runs each (name, fn) ROUNDS times in each of CLIENTS threads; returns statuses by name."""
    out = {name: [] for name, _ in jobs}

    def worker(name, fn):
        for i in range(ROUNDS):
            out[name].append(fn(i).status)
    threads = [threading.Thread(target=worker, args=job) for job in jobs for _ in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return out


def run(t, svc):
    other = svc.second_producer()
    svc.start()
    good = lambda i: issue(svc, other.token, "韭菜", 2, 1, {"origin_code": "350524104201"})
    for _ in range(3):
        bad_test = lambda i: issue(svc, svc.token, "豇豆", 5, 1, {"test": 999999999})
        got = concurrently([("good", good), ("bad", bad_test)])
        if set(got["good"]) == {201}:
            break
    t.ok(set(got["good"]) == {201}, f"{ROUNDS * CLIENTS} certificates of another producer all stored meanwhile",
         got["good"])
    t.ok(set(got["bad"]) == {422}, "a test id that does not exist: 422, never 503", got["bad"])
    r = issue(svc, svc.token, "豇豆", 5, 1, {"test": 999999999})
    t.eq(r.json()["error"]["code"], "test_not_passing", "and the code says which rule")

    # A value the database refuses, in a batch with others: stored job by job.
    psql(svc.db, "ALTER TABLE certificate ADD CONSTRAINT test_refuses_origin "
                 "CHECK (origin <> '不收的产地')")
    bad_origin = lambda i: issue(svc, svc.token, "豇豆", 5, 1, {"origin": "不收的产地"})
    before = int(psql(svc.db, "SELECT count(*) FROM certificate"))
    got = concurrently([("good", good), ("bad", bad_origin), ("good2", good)])
    stored = int(psql(svc.db, "SELECT count(*) FROM certificate")) - before
    t.ok(set(got["good"]) | set(got["good2"]) == {201},
         "the other producer's certificates are all stored", got)
    t.ok(set(got["bad"]) == {422}, "the refused one gets 422, never 503", got["bad"])
    t.eq(stored, 2 * ROUNDS * CLIENTS, "exactly the good ones are in the database")
    t.ok("storing them one by one" in svc.read_log(),
         "a refused batch was stored again job by job", svc.read_log()[-1500:])
    r = bad_origin(0)
    t.eq((r.status, r.json()["error"]["code"]), (422, "invalid_value"), "alone, it is 422 invalid_value")
    psql(svc.db, "ALTER TABLE certificate DROP CONSTRAINT test_refuses_origin")

    # Rapid tests and keys.
    county = svc.county_regulator()
    test = {"subject": svc.producer, "product": "豇豆", "method": "colloidal_gold",
            "items": "毒死蜱", "result": "pass", "station": "凤城镇农产品检测站", "tester": "王五"}
    r = http("POST", svc.url + "/api/v1/rapid-tests", dict(test, certificate=987654321),
             svc.auth(county.token))
    t.eq(r.status, 422, "a rapid test of a certificate that does not exist: 422")
    r = http("POST", svc.url + "/api/v1/rapid-tests", dict(test, subject=2 ** 31),
             svc.auth(county.token))
    t.eq(r.status, 400, "a subject id beyond an int: 400")
    r = http("POST", svc.url + "/api/v1/certificates",
             {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": "福建省安溪县",
              "origin_code": "350524103201", "basis": "quality_control"},
             svc.auth(**{"Idempotency-Key": "key-\xff\xfe"}))
    t.eq((r.status, r.json()["error"]["code"]), (400, "invalid_idempotency_key"),
         "an Idempotency-Key that is not UTF-8: 400, so that a client does not retry forever")
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    run_test("inputs", run)
