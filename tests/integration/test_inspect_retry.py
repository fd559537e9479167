"""A market check sent again with the same Idempotency-Key (the inspector's
phone page sends the checks it queued offline when the network is back) is
recorded once and answered from the first; demo markets and their stalls
load with `agricert import markets`, and the page lists a market's stalls."""
import os
import threading

from harness import ROOT, altered, http, issue, psql, run_test, wait_for


def main():
    run_test("inspect_retry", run, printers=False)


def run(t, svc):
    out = svc.cli("import", "markets", os.path.join(ROOT, "deploy/data/markets-demo.csv"))
    t.eq(out.stdout.strip(), "imported 14 markets", "the demo markets and stalls load")
    svc.cli("import", "markets", os.path.join(ROOT, "deploy/data/markets-demo.csv"))
    t.eq(psql(svc.db, "SELECT count(*) || '/' || (SELECT count(*) FROM market_stall) FROM market"), "5/13",
         "loading them again changes nothing (5 markets, 13 stalls)")
    bad = os.path.join(svc.tmp, "bad-markets.csv")
    with open(bad, "w") as f:
        f.write("market,region_code,kind,address,stall,seller\n某市场,350524103000,bazaar,,1,\n")
    out = svc.cli("import", "markets", bad, check=False)
    t.ok(out.returncode == 1 and "line 2: rejected" in out.stderr, "a market of an unknown kind is refused", out.stderr)

    _, inspector = svc.market_inspector()
    svc.start()
    url = svc.url
    m = int(psql(svc.db, "SELECT id FROM market WHERE name = '安溪县凤城农贸市场'"))
    r = http("GET", url + f"/api/v1/markets/{m}/stalls", headers=svc.auth(inspector))
    stalls = r.json().get("stalls", [])
    t.ok(r.status == 200 and [s["code"] for s in stalls] == ["A01", "A02", "A03", "B01", "B02"]
         and stalls[0]["seller"] == "林记蔬菜", "a market's stalls, in order, with their sellers", r.body)
    t.eq(http("GET", url + "/api/v1/markets/99999/stalls", headers=svc.auth(inspector)).status, 404,
         "an unknown market has no stalls (404)")
    t.eq(http("GET", url + f"/api/v1/markets/{m}/stalls", headers=svc.auth()).status, 403,
         "a producer may not list stalls")

    codes = [i["code"] for i in issue(svc, svc.token, "豇豆", 20, 2).json()["items"]]
    body = {"market": m, "seller": "A02 陈氏豆类", "codes": [codes[0], altered(codes[1], 40)]}
    key = {"Idempotency-Key": "inspector-phone-0001"}
    first = http("POST", url + "/api/v1/inspections", body, svc.auth(inspector, **key))
    t.eq(first.status, 201, "a check with an Idempotency-Key is recorded")
    again = http("POST", url + "/api/v1/inspections", body, svc.auth(inspector, **key))
    t.ok(again.status == 200 and again.json() == first.json(),
         "sent again, it is answered with the first answer (200)", again.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM inspection"), "1", "and stored once")
    t.ok(wait_for(lambda: psql(svc.db, "SELECT count(*) FROM scan_log") == "2"), "its two labels logged once")

    other = dict(body, seller="B01 凤城鲜果")
    r = http("POST", url + "/api/v1/inspections", other, svc.auth(inspector, **key))
    t.ok(r.status == 422 and r.json()["error"]["code"] == "idempotency_key_reused",
         "the same key with another check is refused (422)", r.body)
    r = http("POST", url + "/api/v1/inspections", body, svc.auth(inspector, **{"Idempotency-Key": "x" * 129}))
    t.eq(r.status, 400, "a key over 128 characters is refused")

    # Ten copies at once of a check with a new key: one stored, all answered alike.
    key2 = {"Idempotency-Key": "inspector-phone-0002"}
    answers = []

    def send():
        answers.append(http("POST", url + "/api/v1/inspections", body, svc.auth(inspector, **key2)))
    threads = [threading.Thread(target=send) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stored = [a for a in answers if a.status == 201]
    replays = [a for a in answers if a.status == 200]
    busy = [a for a in answers if a.status == 409]
    t.ok(len(stored) == 1 and len(replays) + len(busy) == 9
         and all(a.body == stored[0].body for a in replays)
         and all(a.json()["error"]["code"] == "inspection_in_progress" for a in busy),
         "ten copies at once: one 201, the others its replay or 409 while it is under way",
         [a.status for a in answers])
    r = http("POST", url + "/api/v1/inspections", body, svc.auth(inspector, **key2))
    t.ok(r.status == 200 and r.body == stored[0].body, "then every retry gets the first answer")
    t.eq(psql(svc.db, "SELECT count(*) FROM inspection"), "2", "and one more check stored")
    r = http("POST", url + "/api/v1/inspections", body, svc.auth(inspector))
    t.eq(r.status, 201, "without a key every check is recorded, as before")
    t.eq(psql(svc.db, "SELECT count(*) FROM inspection"), "3", "a third check")


if __name__ == "__main__":
    main()
