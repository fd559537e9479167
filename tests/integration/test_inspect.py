"""Inspections (issue 4, part 6) and the failed test's batch: every scan is
logged (when, where, by whom, verdict); inspectors check market stalls and
report produce sold without a certificate (无证产品反馈); item codes that
look copied are flagged on the scan page and listed for regulators; a failed
rapid test's batch is revoked in one call."""
import time

from harness import CANNEI, altered, http, issue, psql, run_test, scan, wait_for


def main():
    run_test("inspect", run, printers=False)


def run(t, svc):
    county = svc.county_regulator().token
    insp_id, inspector = svc.market_inspector()
    canei = svc.township_office(CANNEI).token
    admin = svc.city_admin().token
    buyer = svc.purchaser().token
    psql(svc.db, "INSERT INTO region (code, name, level, parent) VALUES "
         "(350200000000, '厦门市', 2, 350000000000), (350203000000, '思明区', 3, 350200000000)")
    svc.start()
    url = svc.url

    def market(name, region, kind, token):
        r = http("POST", url + "/api/v1/markets", {"name": name, "region_code": region, "kind": kind}, svc.auth(token))
        assert r.status == 201, r.body
        return r.json()["id"]
    m1 = market("安溪县凤城农贸市场", "350524103000", "farmers_market", county)
    m2 = market("厦门市思明区第八市场", "350203000000", "wholesale", admin)

    cert = issue(svc, svc.token, "豇豆", 20, 3).json()
    codes = [i["code"] for i in cert["items"]]

    # Every scan is logged: when, where, by whom, the verdict.
    s = scan(svc, codes[0]).json()
    t.ok(s["status"] == "valid" and s["clone_suspected"] is False and "scans" in s,
         "a scan answers the verdict with the scan count and no suspicion", s)
    t.eq(scan(svc, codes[0], market=m1, token=inspector).json()["status"], "valid",
         "an inspector's app scans at a market, signed in")
    r = http("GET", url + "/v/NOTACODE", headers={"Accept": "application/json"})
    t.eq(r.json()["status"], "malformed", "an unreadable code is answered too")
    r = scan(svc, codes[0], token="not-a-token")
    t.eq(r.status, 401, "a scan with a bad token is refused rather than logged as somebody else")
    t.ok(wait_for(lambda: psql(svc.db, "SELECT count(*) FROM scan_log") == "3"),
         "the three scans reach the log within moments (written in batches)",
         psql(svc.db, "SELECT count(*) FROM scan_log"))
    rows = psql(svc.db, "SELECT coalesce(serial::text, '-'), coalesce(item::text, '-'), verdict, "
                "coalesce(market_id::text, '-'), coalesce(subject_id::text, '-'), host(peer), "
                "scanned_at > now() - interval '1 minute' FROM scan_log ORDER BY id").splitlines()
    t.eq(rows, [f"{cert['id']}|1|valid|-|-|127.0.0.1|t", f"{cert['id']}|1|valid|{m1}|{insp_id}|127.0.0.1|t",
                "-|-|malformed|-|-|127.0.0.1|t"], "each logged with when, where, by whom and the verdict")

    # Clone suspicion: one label seen at two markets farther apart than anyone travels.
    scan(svc, codes[1], market=m1, token=inspector)
    scan(svc, codes[1], market=m2, token=inspector)
    for _ in range(3):
        scan(svc, codes[0], market=m1, token=inspector)
    t.ok(wait_for(lambda: psql(svc.db, "SELECT count(*) FROM clone_suspicion") == "1"),
         "the same code at Anxi and Xiamen within minutes is flagged")
    s = scan(svc, codes[1]).json()
    t.ok(s["status"] == "valid" and s["clone_suspected"] is True and "安溪县凤城农贸市场" in s["clone_reason"]
         and "厦门市思明区第八市场" in s["clone_reason"], "the scan answer says so, naming both markets", s)
    page = scan(svc, codes[1], html=True).text
    t.ok("疑似被复制" in page and "真实有效" not in page and 'class="verdict warn clone" data-status="valid"' in page,
         "the scan page is headed by the warning in amber, never 真实有效")
    t.eq(scan(svc, codes[0]).json()["clone_suspected"], False, "repeated scans at one market are not suspicious")
    # Far more scans than one package gets.
    for _ in range(21):
        scan(svc, codes[2])
    t.ok(wait_for(lambda: psql(svc.db, "SELECT count(*) FROM clone_suspicion WHERE reason = 'too_many_scans'") == "1"),
         "21 scans of one label are flagged")
    s = scan(svc, codes[2]).json()
    t.ok(s["clone_suspected"] is True and "扫描" in s["clone_reason"] and s["scans"] >= 21,
         "the scan answer gives the count", s)
    r = http("GET", url + "/api/v1/clone-suspicions", headers=svc.auth(county))
    sus = {(x["certificate"], x["item"]): x for x in r.json().get("suspicions", [])} if r.status == 200 else {}
    far = sus.get((cert["id"], 2), {})
    t.ok(len(sus) == 2 and far.get("reason") == "far_apart" and sorted(far.get("markets", [])) ==
         sorted(["安溪县凤城农贸市场", "厦门市思明区第八市场"]) and far.get("issuer") == "凤城镇示范家庭农场" and
         sus.get((cert["id"], 3), {}).get("reason") == "too_many_scans",
         "regulators get the list: code, reason, markets, issuer", r.body)
    r = http("GET", url + f"/api/v1/clone-suspicions?market={m2}", headers=svc.auth(county))
    t.eq([x["item"] for x in r.json()["suspicions"]], [2], "filtered by market")
    t.eq(http("GET", url + "/api/v1/clone-suspicions", headers=svc.auth(canei)).json()["suspicions"], [],
         "another township's regulator sees none of this township's codes")
    t.eq(http("GET", url + "/api/v1/clone-suspicions", headers=svc.auth(inspector)).status, 403,
         "the list is for regulators")
    t.eq(http("GET", url + "/api/v1/clone-suspicions?from=yesterday", headers=svc.auth(county)).status, 400,
         "a bad date is refused")

    # A market check (查验): one stall, its labels, what was found.
    other = issue(svc, svc.token, "韭菜", 8, 2).json()
    http("POST", url + f"/api/v1/certificates/{other['id']}/revocation", {"reason": "标签信息错误"}, svc.auth(county))
    forged = altered(codes[0], 60)
    check = {"market": m1, "seller": "A12 号摊位 张三", "notes": "例行查验",
             "codes": [codes[0], other["items"][1]["code"], forged, "hello"]}
    r = http("POST", url + "/api/v1/inspections", check, svc.auth(inspector))
    res = r.json() if r.status == 201 else {}
    t.ok(r.status == 201 and [x["status"] for x in res.get("results", [])] ==
         ["valid", "revoked", "bad_signature", "malformed"] and res.get("problems") == 3,
         "an inspection answers each label: valid, revoked, forged, unreadable", r.body)
    t.ok(res.get("results") and res["results"][1].get("product") == "韭菜" and res["results"][1]["status_zh"] == "已撤销",
         "with the product and a Chinese verdict")
    iid = res.get("id")
    t.eq(psql(svc.db, f"SELECT market_id, inspector_id, seller, codes, problems FROM inspection WHERE id = {iid}"),
         f"{m1}|{insp_id}|A12 号摊位 张三|4|3", "the inspection is stored")
    t.ok(wait_for(lambda: psql(svc.db, f"SELECT count(*) FROM scan_log WHERE inspection_id = {iid}") == "4"),
         "its four scans are in the scan log under the inspection")
    before = psql(svc.db, "SELECT count(*) FROM inspection")
    for body, token, status, what in [
            ({"codes": []}, inspector, 400, "no market"),
            ({"market": 99999, "codes": []}, inspector, 404, "an unknown market"),
            ({"market": m1, "codes": "x"}, inspector, 400, "codes not a list"),
            ({"market": m1, "codes": ["x"] * 201}, inspector, 400, "more than 200 codes"),
            ({"market": m1, "codes": [], "seller": "x" * 201}, inspector, 400, "a seller name too long"),
            ({"market": m1, "codes": []}, svc.token, 403, "a producer"),
            ({"market": m1, "codes": []}, canei, 403, "a regulator of another township")]:
        r = http("POST", url + "/api/v1/inspections", body, svc.auth(token))
        t.ok(r.status == status and r.json()["error"]["message_zh"], f"inspection refused: {what} ({status})", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM inspection"), before, "refused inspections stored nothing")
    r = http("GET", url + "/api/v1/inspections", headers=svc.auth(county))
    listed = {x["id"]: x for x in r.json().get("inspections", [])}
    t.ok(iid in listed and listed[iid]["market_name"] == "安溪县凤城农贸市场" and
         sorted(f["status"] for f in listed[iid]["findings"]) == ["bad_signature", "malformed", "revoked"],
         "the county lists inspections with their findings", r.body)
    t.eq(http("GET", url + f"/api/v1/inspections?market={m2}", headers=svc.auth(county)).json()["inspections"], [],
         "filtered by market")
    t.eq(http("GET", url + "/api/v1/inspections", headers=svc.auth(canei)).json()["inspections"], [],
         "another township's regulator does not see this market's checks")

    # 无证产品反馈: produce on sale with no certificate.
    rep = {"market": m1, "product": "豇豆", "seller": "流动摊贩（未留姓名）", "quantity": 15, "unit": "kg",
           "notes": "无合格证，已责令暂停销售"}
    r = http("POST", url + "/api/v1/unlicensed-reports", rep, svc.auth(inspector))
    t.ok(r.status == 201 and r.json()["id"] > 0 and r.json()["message_zh"], "an unlicensed sale is reported", r.body)
    for body, token, status, what in [
            (dict(rep, product="榴莲干"), inspector, 400, "a product not in the catalogue"),
            ({k: v for k, v in rep.items() if k != "seller"}, inspector, 400, "no seller"),
            (dict(rep, quantity=-1), inspector, 400, "a negative quantity"),
            (dict(rep, unit="barrel"), inspector, 400, "an unknown unit"),
            (dict(rep, market=99999), inspector, 404, "an unknown market"),
            (rep, buyer, 403, "a purchaser"),
            (rep, canei, 403, "a regulator of another township")]:
        r = http("POST", url + "/api/v1/unlicensed-reports", body, svc.auth(token))
        t.ok(r.status == status and r.json()["error"]["message_zh"], f"report refused: {what} ({status})", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM unlicensed_report"), "1", "refused reports stored nothing")
    r = http("GET", url + "/api/v1/unlicensed-reports", headers=svc.auth(county))
    got = r.json().get("reports", [])
    t.ok(len(got) == 1 and got[0]["product"] == "豇豆" and got[0]["quantity"] == 15 and got[0]["unit"] == "kg"
         and got[0]["reported_by"] == "凤城市场协管员陈明", "the county lists the reports", r.body)
    t.eq(http("GET", url + "/api/v1/unlicensed-reports", headers=svc.auth(canei)).json()["reports"], [],
         "another township's regulator does not")

    # A failed rapid test: its batch revoked in one call, with what was made from it.
    batch = [issue(svc, svc.token, "豇豆", 10, 1).json() for _ in range(3)]
    leek = issue(svc, svc.token, "韭菜", 10, 1).json()
    http("POST", url + "/api/v1/receipts", {"receipts": [{"code": batch[0]["items"][0]["code"], "quantity": 10, "unit": "kg"}]},
         svc.auth(buyer))
    made = issue(svc, buyer, "豇豆", 4, 1, {"inputs": [{"certificate": batch[0]["id"], "quantity": 4, "unit": "kg"}]}).json()
    test = {"subject": svc.producer, "product": "豇豆", "method": "colloidal_gold", "items": "毒死蜱",
            "result": "fail", "station": "凤城镇农产品快检室", "tester": "林检测员", "batch": "3号大棚 11月20日采收"}
    r = http("POST", url + "/api/v1/rapid-tests", test, svc.auth(county))
    failed = r.json()
    expected = psql(svc.db, f"SELECT string_agg(serial::text, ',' ORDER BY serial) FROM certificate WHERE issuer_id = "
                    f"{svc.producer} AND product_id = (SELECT id FROM product WHERE name = '豇豆') AND revoked_at IS NULL")
    t.ok(r.status == 201 and failed["batch_certificates"] == len(expected.split(",")) and
         failed["revocation"] == f"/api/v1/rapid-tests/{failed['id']}/revocation",
         "a failed test offers the revocation of its batch, saying how many certificates", r.body)
    t.eq(psql(svc.db, f"SELECT batch FROM rapid_test WHERE id = {failed['id']}"), "3号大棚 11月20日采收", "the sampled batch is kept")
    rev = url + failed["revocation"]
    t.eq(http("POST", rev, {}, svc.auth(inspector)).status, 403, "an inspector cannot revoke")
    r = http("POST", rev, {}, svc.auth(canei))
    t.ok(r.status == 403 and r.json()["error"]["code"] == "outside_jurisdiction", "nor another township's regulator")
    t.eq(http("POST", rev, {"days": 0}, svc.auth(county)).status, 400, "days must be 1 to 90")
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate WHERE revoked_at IS NOT NULL"), "1", "refusals revoked nothing")
    r = http("POST", rev, None, svc.auth(county))
    out = r.json()
    t.ok(r.status == 200 and sorted(out["revoked"]) == [int(x) for x in expected.split(",")] and out["cascaded"] == 1,
         "one call revokes the producer's cowpea certificates and the one made from them", r.body)
    t.eq(psql(svc.db, f"SELECT revoked_at IS NULL FROM certificate WHERE serial = {leek['id']}"), "t",
         "its leek certificate stays valid")
    s = scan(svc, made["items"][0]["code"]).json()
    t.ok(s["status"] == "revoked" and "快检不合格：毒死蜱" in s["certificate"]["revoke_reason"] and
         "上游" in s["certificate"]["revoke_reason"], "the purchaser's certificate scans revoked, saying why", s)
    r = http("POST", rev, None, svc.auth(county))
    t.ok(r.status == 200 and r.json()["revoked"] == [] and r.json()["cascaded"] == 0, "calling again changes nothing")
    passed = http("POST", url + "/api/v1/rapid-tests", dict(test, result="pass"), svc.auth(county)).json()
    r = http("POST", url + f"/api/v1/rapid-tests/{passed['id']}/revocation", None, svc.auth(county))
    t.ok(r.status == 409 and r.json()["error"]["code"] == "test_passed", "a passing test revokes nothing", r.body)
    t.eq(http("POST", url + "/api/v1/rapid-tests/999999/revocation", None, svc.auth(county)).status, 404, "an unknown test: 404")
    t.eq(http("POST", url + "/api/v1/rapid-tests/abc/revocation", None, svc.auth(county)).status, 404, "a test id that is no number: 404")
    # A test of one certificate condemns that certificate only.
    two = [issue(svc, svc.token, "豇豆", 5, 1).json() for _ in range(2)]
    r = http("POST", url + "/api/v1/rapid-tests", dict(test, certificate=two[0]["id"]), svc.auth(county))
    t.eq(r.json().get("batch_certificates"), 1, "a test of one certificate names a batch of one")
    r = http("POST", url + r.json()["revocation"], {"reason": "抽检该批次不合格", "cascade": False}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["revoked"] == [two[0]["id"]], "and revokes only that one", r.body)
    t.eq(psql(svc.db, f"SELECT revoke_reason FROM certificate WHERE serial = {two[0]['id']}"), "抽检该批次不合格",
         "with the reason given")

    # A clean stop writes the scans still in memory.
    time.sleep(0.5)  # longer than the log's batching delay
    n = int(psql(svc.db, "SELECT count(*) FROM scan_log"))
    scan(svc, codes[0])
    t.eq(svc.stop(), 0, "agricertd stops cleanly")
    t.eq(psql(svc.db, "SELECT count(*) FROM scan_log"), str(n + 1), "the last scan was written before exit")


if __name__ == "__main__":
    main()
