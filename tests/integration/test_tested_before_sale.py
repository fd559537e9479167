"""Tested before sale (issue 10, part 4): a product with test_required_days
(the demo's key-risk varieties: 1 day) is issued only on a passing test of
the producer within that many days, else 403 test_required; producers record
their own tests, self or commissioned, each backed by a photo of the strip or
report (JPEG <= 2 MB, kept with its SHA-256); a failed own test blocks as a
station's does; the list of tests by who may see what; a township's quota
counts the stations' tests only."""
import hashlib
import subprocess

from harness import CANNEI, FENGCHENG, http, issue, jpeg, own_test, psql, put_photo, run_test

MB = 1024 * 1024


def main():
    run_test("tested", run, printers=False, tests_required=True)


def run(t, svc):
    a_id, farm_a = svc.producer, svc.token
    b_id, farm_b = svc.second_producer()
    p_id, buyer = svc.purchaser()
    county = svc.county_regulator().token
    fengcheng = svc.township_office(FENGCHENG).token
    cannei = svc.township_office(CANNEI).token
    _, inspector = svc.market_inspector()
    svc.start()
    api = svc.url + "/api/v1"

    def own(token, body):
        return http("POST", api + "/rapid-tests/own", body, svc.auth(token))

    def photo(token, test, data):
        return put_photo(svc, token, test, data)

    def listed(token, query=""):
        return http("GET", api + "/rapid-tests" + query, headers=svc.auth(token))

    def code(r):
        return r.json().get("error", {}).get("code") if r.status >= 400 else None

    strip = {"kind": "self", "product": "豇豆", "method": "colloidal_gold", "items": "毒死蜱、克百威",
             "result": "pass", "batch": "3号大棚 今晨采收"}
    report = {"kind": "commissioned", "product": "豇豆", "lab": "福建省农产品质量安全检验检测中心",
              "report_number": "MZ2026-01234", "items": "有机磷类农药 12 项", "result": "pass"}

    # The setting: the demo's key-risk products, through the products API.
    products = {p["name"]: p for p in http("GET", api + "/products?limit=200", headers=svc.auth(farm_a)).json()["items"]}
    t.ok(products["豇豆"]["test_required_days"] == 1 and products["茶叶"]["test_required_days"] is None,
         "the demo catalogue: cowpeas tested the day of sale, tea not required", products["豇豆"])
    tea = products["茶叶"]["id"]
    r = http("PATCH", api + f"/products/{tea}", {"test_required_days": 3}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["test_required_days"] == 3, "the county regulator sets a product's window", r.body)
    for bad in (0, 31, "1", 1.5):
        r = http("PATCH", api + f"/products/{tea}", {"test_required_days": bad}, svc.auth(county))
        t.ok(r.status == 400 and r.json()["error"]["field"] == "test_required_days",
             f"test_required_days {bad!r} is refused", r.body)
    t.eq(http("PATCH", api + f"/products/{tea}", {"test_required_days": 1}, svc.auth(inspector)).status, 403,
         "an inspector may not change it")
    r = http("PATCH", api + f"/products/{tea}", {"test_required_days": None}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["test_required_days"] is None, "null: no test required", r.body)

    # Refused until tested; a test without its photo does not count yet.
    r = issue(svc, farm_a, "豇豆", 25, 1)
    err = r.json().get("error", {})
    t.ok(r.status == 403 and err.get("code") == "test_required" and
         "请先到乡镇农产品检测站或服务站做速测，合格后再开具" in err.get("message_zh", ""),
         "cowpeas untested: 403 test_required, saying where to get tested", r.body)
    t.eq(issue(svc, farm_a, "茶叶", 5, 1).status, 201, "tea needs no test")
    r = own(farm_a, strip)
    t1 = r.json().get("id")
    t.ok(r.status == 201 and r.json()["kind"] == "self" and r.json()["blocked"] is False and
         r.json()["photo"] == f"/api/v1/rapid-tests/{t1}/photo", "the producer records its own passing test", r.body)
    t.eq(code(issue(svc, farm_a, "豇豆", 25, 1)), "test_required", "without the strip's photo it is no test yet")
    t.eq(code(issue(svc, farm_a, "豇豆", 25, 1, {"basis": "self_test", "test": t1})), "test_not_passing",
         "nor a basis")

    # Photo refusals.
    t.ok(code(photo(farm_a, t1, "not base64!")) == "invalid_photo" and code(photo(farm_a, t1, "")) == "invalid_photo",
         "a photo that is not base64: 400 invalid_photo")
    t.eq(code(photo(farm_a, t1, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)), "photo_not_jpeg", "a PNG: 415 photo_not_jpeg")
    r = photo(farm_a, t1, jpeg(2 * MB + 1))
    t.ok(r.status == 413 and code(r) == "photo_too_large", "a JPEG over 2 MB: 413 photo_too_large", r.body[:300])
    try:
        status = http("PUT", api + f"/rapid-tests/{t1}/photo", {"photo": "A" * (3 * MB + 8)}, svc.auth(farm_a)).status
    except OSError:
        status = "reset"  # h2o answers 413 and closes before the body is read
    t.ok(status in (413, "reset"), "a body over 3 MB is not read", status)
    t.eq(photo(farm_b, t1, jpeg()).status, 403, "another producer may not add the photo")
    t.eq(photo(farm_a, 999999, jpeg()).status, 404, "an unknown test: 404")
    t.eq(photo(buyer, t1, jpeg()).status, 403, "a purchaser records no tests")
    picture = jpeg(200 * 1024)
    r = photo(farm_a, t1, picture)
    t.ok(r.status == 201 and r.json()["sha256"] == hashlib.sha256(picture).hexdigest() and r.json()["bytes"] == len(picture),
         "the strip's photo is kept with its SHA-256", r.body)
    t.eq(psql(svc.db, f"SELECT md5(jpeg) FROM rapid_test_photo WHERE test_id = {t1}"), hashlib.md5(picture).hexdigest(),
         "the database holds the very bytes")
    t.eq(code(photo(farm_a, t1, jpeg(seed=b"other"))), "photo_exists", "a photo is never replaced: 409")

    # Issued on that test, and only within the window.
    r = issue(svc, farm_a, "豇豆", 25, 1)
    t.eq(r.status, 201, "with today's passing test the cowpeas are issued")
    r = issue(svc, farm_a, "豇豆", 25, 1, {"basis": "self_test", "test": t1})
    t.ok(r.status == 201 and r.json()["basis"] == "self_test", "and the own test is a basis", r.body)
    a1 = r.json()
    t.eq(psql(svc.db, f"SELECT test_id FROM certificate WHERE serial = {a1['id']}"), str(t1), "the certificate names it")
    psql(svc.db, f"UPDATE rapid_test SET tested_at = tested_at - interval '1 day' WHERE id = {t1}")
    t.eq(code(issue(svc, farm_a, "豇豆", 25, 1)), "test_required", "yesterday's test does not cover today's sale")
    cowpea = products["豇豆"]["id"]
    http("PATCH", api + f"/products/{cowpea}", {"test_required_days": 2}, svc.auth(county))
    t.eq(issue(svc, farm_a, "豇豆", 25, 1).status, 201, "with a 2-day window it does")
    http("PATCH", api + f"/products/{cowpea}", {"test_required_days": 1}, svc.auth(county))

    # A failed own test blocks as a station's does; which retest lifts a block.
    r = own(farm_a, dict(strip, product="韭菜", result="fail", method="enzyme_inhibition"))
    t2 = r.json().get("id")
    t.ok(r.status == 201 and r.json()["blocked"] is True, "a failed self test of leeks is recorded", r.body)
    t.eq(code(issue(svc, farm_a, "韭菜", 5, 1)), "blocked_by_failed_test", "and blocks the leeks")
    t3 = own_test(svc, farm_a, "韭菜", photo=False).json()["id"]
    t.eq(code(issue(svc, farm_a, "韭菜", 5, 1)), "blocked_by_failed_test", "a retest without its photo lifts nothing")
    photo(farm_a, t3, jpeg(seed=b"t3"))
    t.eq(issue(svc, farm_a, "韭菜", 5, 1).status, 201, "a passing self retest with its photo lifts a self test's block")
    station = {"subject": a_id, "product": "韭菜", "method": "colloidal_gold", "items": "腐霉利", "result": "fail",
               "station": "凤城镇农产品快检室", "tester": "林检测员"}
    r = http("POST", api + "/rapid-tests", station, svc.auth(fengcheng))
    t.ok(r.status == 201 and r.json()["blocked"] is True, "the township station fails the leeks", r.body)
    own_test(svc, farm_a, "韭菜")
    t.eq(code(issue(svc, farm_a, "韭菜", 5, 1)), "blocked_by_failed_test", "the producer's own strip does not lift a station's block")
    t6 = own(farm_a, dict(report, product="韭菜", report_number="MZ2026-01240")).json()["id"]
    photo(farm_a, t6, jpeg(seed=b"t6"))
    t.eq(issue(svc, farm_a, "韭菜", 5, 1).status, 201, "a lab's passing report does")

    # A commissioned test, with the report.
    r = own(farm_b, {k: v for k, v in report.items() if k != "report_number"})
    t.ok(r.status == 400 and r.json()["error"]["field"] == "report_number", "a commissioned test needs its report number", r.body)
    t.eq(own(farm_b, dict(report, tester="x")).json()["error"]["field"], "tester", "a commissioned test has no tester")
    t.eq(own(farm_b, dict(strip, lab="x")).json()["error"]["field"], "lab", "a self test names no lab")
    t.eq(own(farm_b, dict(strip, method="lab")).json()["error"]["field"], "method", "a self test is a strip test")
    t.eq(own(farm_b, dict(report, subject=a_id)).status, 403, "a producer records its own tests only")
    t.eq(own(county, report).status, 403, "staff record station tests, not own tests")
    t.eq(http("POST", api + "/rapid-tests", station, svc.auth(farm_a)).status, 403, "a producer records no station tests")
    r = own(farm_b, report)
    tb = r.json().get("id")
    t.ok(r.status == 201 and r.json()["kind"] == "commissioned", "the household records a lab's report", r.body)
    scan_of_report = jpeg(2 * MB, seed=b"report")
    r = photo(farm_b, tb, scan_of_report)
    t.ok(r.status == 201 and r.json()["bytes"] == 2 * MB, "the report's photo, 2 MB (a 2.7 MB body)", r.body)
    t.eq(code(issue(svc, farm_a, "豇豆", 5, 1, {"basis": "commissioned_test", "test": tb})), "test_not_passing",
         "another producer's report is no basis")
    r = issue(svc, farm_b, "豇豆", 60, 1, {"basis": "commissioned_test", "test": tb})
    t.ok(r.status == 201 and r.json()["basis"] == "commissioned_test", "the household issues on the lab's report", r.body)

    # Re-issues are not subject to it: the purchaser has no test of its own.
    code_a1 = a1["items"][0]["code"]
    http("POST", api + "/receipts", {"receipts": [{"code": code_a1, "quantity": 25, "unit": "kg"}]}, svc.auth(buyer))
    r = issue(svc, buyer, "豇豆", 10, 1, {"inputs": [{"certificate": a1["id"], "quantity": 10, "unit": "kg"}]})
    t.ok(r.status == 201 and r.json()["style"] == 2, "a purchaser re-issues cowpeas without a test of its own", r.body)

    # The list: a producer its own, a township its township, newest first, paged.
    mine = listed(farm_a).json()
    items = mine["items"]
    order = [(x["tested_at"], x["id"]) for x in items]
    t.ok(mine["total"] == 6 and {x["subject"] for x in items} == {a_id} and order == sorted(order, reverse=True),
         "a producer lists its own tests, newest first", mine)
    by_id = {x["id"]: x for x in items}
    t.ok(by_id[t1]["photo"]["sha256"] == hashlib.sha256(picture).hexdigest() and by_id[t1]["backs_certificates"] and
         by_id[t6]["lab"] == report["lab"] and by_id[t6]["report_number"] == "MZ2026-01240" and
         [x["station"] for x in items if x["kind"] == "station"] == ["凤城镇农产品快检室"],
         "each with its kind, where it was done and its photo", items)
    t.eq(listed(farm_a, f"?subject={b_id}").status, 403, "a producer may not list another's tests")
    leeks = listed(farm_a, "?product=%E9%9F%AD%E8%8F%9C").json()["items"]
    t.ok(len(leeks) == 5 and all(x["product"] == "韭菜" for x in leeks), "filtered by product", leeks)
    town = listed(fengcheng).json()
    t.ok(town["total"] == 6 and {x["subject"] for x in town["items"]} == {a_id}, "凤城镇 sees its own township's producers", town)
    r = listed(fengcheng, f"?subject={b_id}")
    t.ok(r.status == 403 and code(r) == "outside_jurisdiction", "and not another township's", r.body)
    t.eq({x["subject"] for x in listed(cannei).json()["items"]}, {b_id}, "参内镇 sees its household only")
    t.eq(listed(county).json()["total"], 7, "the county sees both")
    t.eq(listed(inspector, f"?subject={b_id}").json()["total"], 1, "an inspector reads tests anywhere")
    t.eq(listed(buyer).status, 403, "a purchaser lists no tests")
    page1 = listed(county, "?limit=3").json()
    page2 = listed(county, "?limit=3&offset=3").json()
    t.ok(len(page1["items"]) == 3 and page1["total"] == 7 and
         not {x["id"] for x in page1["items"]} & {x["id"] for x in page2["items"]}, "paged", [page1, page2])
    t.ok(listed(county, "?limit=0").status == 400 and listed(county, "?limit=201").status == 400 and
         listed(county, "?product=%E6%97%A0").status == 400, "bad paging or an unknown product: 400")

    # The township's quota counts the station's test only.
    rows = {x["code"]: x for x in http("GET", api + "/stats/townships", headers=svc.auth(county)).json()["townships"]}
    t.ok(rows[FENGCHENG]["rapid_tests"] == 1 and rows[CANNEI]["rapid_tests"] == 0,
         "rapid tests against the quota: the station's one in 凤城镇, none for the own tests", [rows[FENGCHENG], rows[CANNEI]])

    # What the database itself keeps and refuses.
    audit = psql(svc.db, f"SELECT after::text FROM audit_log WHERE action = 'rapid_test_photo.create' "
                         f"AND object = 'rapid_test_photo:{t1}'")
    t.ok(hashlib.sha256(picture).hexdigest() in audit and "jpeg" not in audit, "the audit log records the hash, not the bytes", audit)
    for sql in (f"UPDATE rapid_test_photo SET uploaded_at = now() WHERE test_id = {t1}",
                f"DELETE FROM rapid_test_photo WHERE test_id = {t1}"):
        try:
            psql(svc.app_db, sql)
            t.ok(False, "the service's role may not replace or delete a photo: " + sql)
        except subprocess.CalledProcessError as e:
            t.ok("permission denied" in e.stderr, "the service's role may not replace or delete a photo: " + sql.split()[0])
    try:
        psql(svc.db, f"INSERT INTO rapid_test_photo (test_id, jpeg) VALUES ({t2}, '\\x89504e47')")
        t.ok(False, "the database refuses a photo that is no JPEG")
    except subprocess.CalledProcessError as e:
        t.ok("rapid_test_photo_jpeg_check" in e.stderr, "the database refuses a photo that is no JPEG", e.stderr)

    log = svc.read_log()
    t.ok("ERROR" not in log and "runtime error" not in log, "no errors in the service log", log[-2000:])
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
