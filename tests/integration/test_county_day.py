"""A day at a county (issue 4, "done when"), against a running agricertd and
PostgreSQL: producers in three townships test their key-risk produce before
sale (the demo catalogue: one producer is refused until tested, then issues
on its test) and issue certificates; one fails a
cowpea rapid test and is blocked; a purchaser collects from two producers,
mixes and splits into three certificates, and one over-draw is refused; it
registers a lot bought with a paper certificate and mixes it with a third
producer's (issue 10); the failed batch is revoked in one call; an inspector checks a market stall and
finds the one revoked item; a regulator traces both ways and gets the recall
list; a village station enrols a household in 湖头镇 and helps the farmer
issue at its kiosk (issue 11); the township statistics add up, the station's
certificate among the households'; the EPCIS export validates; then a patrol
round, the day's quarantine reconciliation with one mismatch, and a
sampling plan redrawn from its seed (issue 13)."""
import datetime
import json
import os
import time

import harness
from harness import CANNEI, FENGCHENG, HUTOU, ROOT, http, own_test, psql, run_test, scan
from supervision_lib import redraw_plan


def main():
    run_test("countyday", run, printers=False, tests_required=True)


def run(t, svc):
    # Who takes part: the demo family farm in 凤城镇 is producer A.
    a_id, farm_a = svc.producer, svc.token
    b_id, farm_b = svc.second_producer(region="350524100201")
    c_id, farm_c = svc.add_subject("cooperative", "湖头镇绿源蔬菜专业合作社", "13805952222", "350524105201", "producer")
    p_id, buyer = svc.purchaser()
    county = svc.county_regulator().token
    hutou_id, hutou = svc.township_office(HUTOU)
    i_id, inspector = svc.market_inspector()
    year = time.strftime("%Y", time.gmtime(time.time() + 8 * 3600))
    svc.cli("import", "quotas", year, os.path.join(ROOT, "deploy/data/anxi-rapid-test-quota-2023.csv"))
    station = station_setup(svc, hutou_id)
    svc.start()
    url = svc.url
    issued = {FENGCHENG: [], CANNEI: [], HUTOU: []}  # certificates the script issued, by township

    def issue(token, township, product, qty, labels, inputs=None, origin="350524103201", test=None):
        extra = {"origin_code": origin}
        if test:
            extra.update(basis="self_test", test=test)
        if inputs:
            extra["inputs"] = [x if isinstance(x, dict) else {"certificate": x[0], "quantity": x[1], "unit": "kg"}
                               for x in inputs]
        r = harness.issue(svc, token, product, qty, labels, extra)
        if r.status == 201:
            issued[township].append(r.json())
        return r

    def post(path, body, token):
        return http("POST", url + path, body, svc.auth(token))

    def get(path, token):
        return http("GET", url + path, headers=svc.auth(token))

    # Morning: cowpeas and leeks are tested before sale. A is refused until it
    # tests; B and C test their strips at the kiosk first (photos kept).
    r = issue(farm_a, FENGCHENG, "豇豆", 100, 2)
    t.ok(r.status == 403 and r.json()["error"]["code"] == "test_required" and
         "乡镇农产品检测站" in r.json()["error"]["message_zh"], "A's untested cowpeas are refused, saying where to test", r.body)
    a_test = own_test(svc, farm_a, "豇豆").json()["id"]
    for token, product in ((farm_b, "豇豆"), (farm_c, "豇豆"), (farm_c, "韭菜")):
        own_test(svc, token, product)

    # Producers in three townships issue.
    a1 = issue(farm_a, FENGCHENG, "豇豆", 100, 2, test=a_test).json()
    t.eq(a1.get("basis"), "self_test", "A issues its cowpeas on that test")
    b1 = issue(farm_b, CANNEI, "豇豆", 60, 1, origin="350524100201").json()
    c1 = issue(farm_c, HUTOU, "豇豆", 80, 2, origin="350524105201").json()
    c2 = issue(farm_c, HUTOU, "韭菜", 30, 1, origin="350524105201").json()
    t.ok(all(x.get("id") for x in (a1, b1, c1, c2)), "producers in 凤城镇, 参内镇 and 湖头镇 issue certificates")

    # A village station in 湖头镇 enrols a household and helps the farmer issue.
    issued[HUTOU].append(station_day(t, svc, county, *station))

    # The purchaser collects what it bought from A and C.
    r = post("/api/v1/receipts", {"receipts": [
        {"code": a1["items"][0]["code"], "quantity": 50, "unit": "kg"},
        {"code": a1["items"][1]["code"], "quantity": 50, "unit": "kg"},
        {"code": c1["items"][0]["code"], "quantity": 40, "unit": "kg"},
        {"code": c1["items"][1]["code"], "quantity": 40, "unit": "kg"}]}, buyer)
    t.eq([x["status"] for x in r.json()["results"]], ["recorded"] * 4, "the purchaser collects from two producers")

    # The township station tests C's cowpeas: they fail.
    r = post("/api/v1/rapid-tests", {"subject": c_id, "product": "豇豆", "method": "enzyme_inhibition",
                                     "items": "有机磷和氨基甲酸酯类农药（抑制率 68%）", "result": "fail",
                                     "station": "湖头镇农产品快检室", "tester": "苏检测员",
                                     "batch": "2号地块 今晨采收"}, hutou)
    test = r.json()
    t.ok(r.status == 201 and test["blocked"] and test["batch_certificates"] == 1, "C's cowpeas fail a rapid test", r.body)
    r = issue(farm_c, HUTOU, "豇豆", 20, 1, origin="350524105201")
    t.ok(r.status == 403 and r.json()["error"]["code"] == "blocked_by_failed_test", "C is blocked from issuing for cowpeas", r.body)
    t.eq(issue(farm_c, HUTOU, "韭菜", 10, 1, origin="350524105201").status, 201, "C still issues for its leeks")

    # The purchaser mixes and splits: three certificates; an over-draw is refused.
    mix = issue(buyer, FENGCHENG, "豇豆", 100, 2, [(a1["id"], 60), (c1["id"], 40)]).json()
    s1 = issue(buyer, FENGCHENG, "豇豆", 30, 1, [(a1["id"], 30)]).json()
    s2 = issue(buyer, FENGCHENG, "豇豆", 10, 1, [(a1["id"], 10)]).json()
    t.ok(mix.get("style") == 2 and s1.get("style") == 2 and s2.get("style") == 2,
         "mixing A and C into one certificate and splitting A into two", [mix, s1, s2])
    r = issue(buyer, FENGCHENG, "豇豆", 50, 1, [(c1["id"], 50)])
    t.ok(r.status == 409 and r.json()["error"]["code"] == "insufficient_input" and "还差 10 千克" in r.json()["error"]["message_zh"],
         "drawing 50 kg from the 40 kg of C left is refused, saying by how much", r.body)
    stock = {x["certificate"]: x for x in get("/api/v1/stock", buyer).json()["items"]}
    t.ok(stock[a1["id"]]["left"] == 0 and stock[c1["id"]]["left"] == 40, "the stock shows what is left", stock)

    # A lot bought with a paper certificate (外来合格证) goes into a mix with B's cowpeas.
    r = post("/api/v1/receipts", {"receipts": [{"code": b1["items"][0]["code"]}]}, buyer)
    t.ok(r.json()["results"][0]["status"] == "recorded" and r.json()["results"][0]["quantity"] == 60,
         "the purchaser collects B's package; without a quantity it is the package's 60 kg", r.body)
    today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date().isoformat()
    r = post("/api/v1/external-certificates", {
        "kind": "certificate", "number": "闽安-2026-000173", "issuer_name": "湖头镇散户王六",
        "contact": "13905951234", "product": "豇豆", "quantity": 20, "unit": "kg",
        "origin": "福建省安溪县湖头镇", "origin_code": "350524105201", "date": today}, buyer)
    paper = r.json()
    t.ok(r.status == 201 and paper["left"] == 20, "it registers a paper certificate that came with 20 kg", r.body)
    photo = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    r = http("PUT", url + f"/api/v1/external-certificates/{paper['id']}/photo", photo,
             svc.auth(buyer, **{"Content-Type": "image/jpeg"}))
    t.eq(r.status, 200, "with a photo of the paper")
    mix2 = issue(buyer, FENGCHENG, "豇豆", 78, 2, [(b1["id"], 60),
                                                 {"external": paper["id"], "quantity": 20, "unit": "kg"}])
    t.ok(mix2.status == 201, "B's 60 kg and the paper lot's 20 kg are mixed into 78 kg (2 kg lost sorting)", mix2.body)
    mix2 = mix2.json()
    up = get(f"/api/v1/certificates/{mix2['id']}/trace?direction=upstream", county).json()
    sources = {(n["certificate"], n.get("external")) for n in up["nodes"] if n["depth"] == 1}
    t.eq(sources, {(b1["id"], None), (None, paper["id"])}, "its trace reaches B's certificate and the paper lot")

    # The regulator revokes the failed batch in one call, and what was made from it.
    r = post(test["revocation"], {}, hutou)
    t.ok(r.status == 200 and r.json()["revoked"] == [c1["id"]] and r.json()["cascaded"] == 1,
         "one call revokes C's cowpea certificate and the mix made from it", r.body)

    # An inspector checks the purchaser's stall at the market and finds the revoked item.
    m = post("/api/v1/markets", {"name": "安溪县凤城农贸市场", "region_code": FENGCHENG, "kind": "farmers_market"},
             county).json()["id"]
    r = post("/api/v1/inspections", {"market": m, "seller": "凤城农产品收购站 3 号档口", "codes": [
        mix["items"][0]["code"], s1["items"][0]["code"], s2["items"][0]["code"]]}, inspector)
    res = r.json()
    t.ok(r.status == 201 and [x["status"] for x in res["results"]] == ["revoked", "valid", "valid"] and res["problems"] == 1,
         "the inspector scans three labels and finds the one revoked item", r.body)
    page = scan(svc, mix["items"][1]["code"], html=True).text
    t.ok("已被撤销" in page and "快检不合格" in page, "the scan page tells a shopper why")
    t.eq(post("/api/v1/unlicensed-reports", {"market": m, "product": "豇豆", "seller": "流动摊贩"}, inspector).status, 201,
         "a stall with no certificate is reported")

    # The regulator traces both ways and gets the recall list.
    up = get(f"/api/v1/certificates/{mix['id']}/trace?direction=upstream", county).json()
    farms = {n["certificate"]: n for n in up["nodes"] if n["depth"] == 1}
    t.ok(set(farms) == {a1["id"], c1["id"]} and farms[c1["id"]]["issuer"]["name"] == "湖头镇绿源蔬菜专业合作社"
         and farms[c1["id"]]["drawn"]["quantity"] == 40 and farms[a1["id"]]["drawn"]["quantity"] == 60
         and farms[c1["id"]]["origin_code"] == "350524105201", "upstream: the two farms, their villages and shares", up)
    down = get(f"/api/v1/certificates/{c1['id']}/trace?direction=downstream", county).json()
    t.ok({n["certificate"] for n in down["nodes"]} == {c1["id"], mix["id"]} and
         p_id in [n for n in down["nodes"] if n["depth"] == 0][0]["collected_by"],
         "downstream: the mix made from C and who collected C", down)
    rec = get(f"/api/v1/certificates/{c1['id']}/recall", county).json()
    affected = {x["certificate"]: x for x in rec["affected"]}
    t.ok(set(affected) == {c1["id"], mix["id"]} and affected[c1["id"]]["holders"][0]["name"] == "安溪县凤城农产品收购站"
         and len(affected[mix["id"]]["items"]) == 2, "the recall list: certificates, item codes, holders", rec)

    # The township statistics add up to what happened today.
    st = get("/api/v1/stats/townships", county).json()
    rows = {x["code"]: x for x in st["townships"]}
    for code, name in ((FENGCHENG, "凤城镇"), (CANNEI, "参内镇"), (HUTOU, "湖头镇")):
        want_c = len(issued[code])
        want_i = sum(x["labels"] for x in issued[code])
        t.ok(rows[code]["certificates"] == want_c and rows[code]["item_codes"] == want_i,
             f"{name}: {want_c} certificates, {want_i} item codes", rows[code])
    t.ok(rows[HUTOU]["household_certificates"] == 1, "湖头镇 counts the certificate issued with the station's help "
         "as a household's", rows[HUTOU])
    t.ok(rows[CANNEI]["household_certificates"] == 1 and rows[HUTOU]["rapid_tests"] == 1 and
         rows[HUTOU]["rapid_test_quota"] > 0 and rows[FENGCHENG]["rapid_tests"] == 0,
         "household certificates and the station's rapid tests against the quota (not the producers' own)", rows[HUTOU])
    t.ok(st["totals"]["certificates"] == sum(len(v) for v in issued.values()) ==
         sum(x["certificates"] for x in st["townships"]), "the county totals are the sum of the townships", st["totals"])
    csv = http("GET", url + "/api/v1/stats/townships?format=csv", headers=svc.auth(county)).text
    line = [x for x in csv.splitlines() if x.startswith(HUTOU)]
    t.ok(line and line[0].split(",")[3] == str(len(issued[HUTOU])), "the CSV says the same", line)
    t.ok(all(len(x.split(",")) == 9 for x in csv.splitlines()), "every CSV row has all 9 columns, quota or not",
         [x for x in csv.splitlines() if len(x.split(",")) != 9][:3])
    # A day is China's day, whatever the hour: today's certificates are today's.
    cst = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    day = get(f"/api/v1/stats/townships?from={cst}&to={cst + datetime.timedelta(days=1)}", county).json()
    t.eq(day["totals"]["certificates"], st["totals"]["certificates"],
         f"the statistics of {cst} (China Standard Time) count every certificate issued today")

    # The EPCIS export of the mixes validates against GS1's schema.
    doc = get(f"/api/v1/certificates/{mix['id']}/epcis", county).json()
    schema_path = os.path.join(ROOT, "tests/data/epcis/EPCIS-JSON-Schema.json")
    import jsonschema
    with open(schema_path) as f:
        schema = json.load(f)
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    t.ok(not errors and len(doc["epcisBody"]["eventList"]) >= 4, "the EPCIS 2.0 export validates", errors[:3])
    doc = get(f"/api/v1/certificates/{mix2['id']}/epcis", county).json()
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
    lots = [q["epcClass"] for e in doc["epcisBody"]["eventList"] for q in e.get("quantityList", [])]
    t.ok(not errors and f"urn:agricert:external:{paper['id']}" in lots,
         "so does the one with the paper lot, which it adds as an ObjectEvent", errors[:3])
    logged = "SELECT count(*) FROM scan_log WHERE market_id = %d AND subject_id = %d" % (m, i_id)
    t.ok(harness.wait_for(lambda: psql(svc.db, logged) == "3"), "the inspector's scans are in the scan log")

    supervision(t, svc, {"a": a_id, "b": b_id, "c": c_id, "farm_a": farm_a, "farm_c": farm_c, "county": county,
                         "hutou": hutou, "test": test["id"]})


def supervision(t, svc, who):
    """Issue 13: the afternoon's patrol round, the day's quarantine reconciliation
    (one mismatch), and next month's sampling plan of 参内镇, redrawn from its seed."""
    url = svc.url
    post = lambda path, body, token, **h: http("POST", url + path, body, svc.auth(token, **h))
    get = lambda path, token: http("GET", url + path, headers=svc.auth(token))
    county = who["county"]

    # The patrol round: 湖头镇 visits the producer whose cowpeas failed; the county the two others.
    visits = [(who["hutou"], who["c"], ["records", "rapid_test"], "豇豆快检不合格，已停止采收，移交执法", "referred", who["test"]),
              (county, who["a"], ["records", "certificate_use", "display"], "记录齐全，亮证经营", "compliant", None),
              (county, who["b"], ["records", "certificate_use"], "未按批次开具合格证，责令整改", "rectify", None)]
    ids = []
    for token, subject, checks, findings, outcome, test in visits:
        r = post("/api/v1/patrols", {"subject": subject, "checks": checks, "findings": findings, "outcome": outcome,
                                     "rapid_test": test}, token)
        ids.append(r.json().get("id"))
    t.ok(all(ids), "a patrol round: three producers in three townships visited", ids)
    cst = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    cov = get(f"/api/v1/patrols/coverage?year={cst.year}", county).json()
    visited = {x["code"]: x["months"][cst.month - 1]["patrolled"] for x in cov["townships"]}
    t.ok(visited[FENGCHENG] == visited[CANNEI] == visited[HUTOU] == 1, "coverage: each township patrolled its producer", visited)
    left = {p["id"] for p in get("/api/v1/patrols/unvisited", county).json()["producers"]}
    t.ok(not left & {who["a"], who["b"], who["c"]}, "none of the three is left on the quarter's list", left)
    t.eq(get(f"/api/v1/patrols/{ids[1]}", who["hutou"]).status, 403, "湖头镇 may not read the county's patrol in 凤城镇")

    # Livestock leaves with its quarantine certificates (and, key-risk, tested before sale);
    # one batch is certified over its certificate.
    for token, product in ((who["farm_c"], "生猪"), (who["farm_a"], "乌鸡")):
        own_test(svc, token, product, items="莱克多巴胺、克伦特罗")
    sent = [harness.issue(svc, who["farm_c"], "生猪", 12, 1, {"unit": "head", "origin_code": "350524105201"}).status,
            harness.issue(svc, who["farm_a"], "乌鸡", 30, 1, {"unit": "only"}).status]
    t.eq(sent, [201, 201], "the pigs and the chickens leave with their certificates")
    csv = ("number,owner,species,quantity,unit,origin,date\n"
           f"3505240501,湖头镇绿源蔬菜专业合作社,生猪,10,头,福建省安溪县湖头镇,{cst}\n"
           f"3505240502,凤城镇示范家庭农场,乌鸡,30,只,福建省安溪县凤城镇,{cst}\n")
    r = post("/api/v1/quarantine-certificates", csv.encode(), county, **{"Content-Type": "text/csv"})
    t.ok(r.status == 201 and r.json()["imported"] == 2, "the county imports the day's quarantine certificates", r.body)
    rec = get("/api/v1/quarantine/reconciliation", county).json()
    t.ok([(x["kind"], x["quarantine"]) for x in rec["discrepancies"]] == [("quantity_over", "3505240501")]
         and rec["summary"]["matched"] == 2, "the reconciliation finds the one batch certified over its quarantine", rec)

    # Next month's sampling plan of 参内镇, and the same draw again from its seed.
    for i in range(4):
        svc.add_subject("household", f"参内镇农户{i}", f"1390001{i:04d}", "350524100202")
    month = (cst.replace(day=28) + datetime.timedelta(days=4)).strftime("%Y-%m")
    r = post("/api/v1/sampling-plans", {"township": CANNEI, "month": month, "size": 3}, county)
    plan = r.json()
    t.ok(r.status == 201 and len(plan["picks"]) == 3 and plan["month"] == month, "参内镇's plan for next month: 3 of 5", r.body)
    again = [get(f"/api/v1/sampling-plans/{plan['id']}/redraw", county).json() for _ in range(2)]
    drawn = [p["subject"] for p in plan["picks"]]
    t.ok(all(a["matches"] and [p["subject"] for p in a["picks"]] == drawn for a in again),
         "drawn twice more from its seed, the same producers in the same order", again)
    t.eq([(p["draw"], p["subject"], p["inspector"]) for p in plan["picks"]], redraw_plan(plan),
         "and so by anyone, from the seed and weights the plan publishes")


GUANGDE = "350524105201"  # a village of 湖头镇, the station's


def station_setup(svc, office):
    """A village station in 湖头镇: the village, the kiosk, the station's
    subject and its phone-and-PIN account: the subject and the kiosk's device token."""
    psql(svc.db, f"INSERT INTO region (code, name, level, parent) VALUES ({GUANGDE}, '湖头镇光德村', 5, {HUTOU})")
    station = svc.add_subject("staff", "湖头镇光德村服务站", "0595-23409999", GUANGDE).id
    svc.cli("account", "add", "phone_pin", station, "station", "13859008888", "864213")
    return station, svc.add_kiosk("ht-guangde", "湖头镇光德村服务站", office, region=GUANGDE)


def station_day(t, svc, county, station_id, device):
    """The county makes the kiosk a station; the station logs in there, enrols
    a farmer without a phone and, with the farmer's PIN, issues for the farmer."""
    api = svc.url + "/api/v1"
    r = http("PUT", api + "/kiosks/ht-guangde/station", {"subject": station_id, "villages": [GUANGDE]},
             svc.auth(county))
    t.eq(r.status, 200, "the county sets up a village station in 湖头镇")
    station = http("POST", api + "/sessions", {"phone": "13859008888", "pin": "864213"}, svc.auth(device)).json()["token"]
    farmer = http("POST", api + "/households", {"name": "光德村散户苏大伯", "village": GUANGDE,
                                                "products": ["番茄", "豇豆"], "pin": "739184"}, svc.auth(station)).json()
    r = http("POST", api + "/sessions/assisted", {"producer": farmer["id"], "pin": "739184"}, svc.auth(station))
    t.ok(r.status == 201 and r.json()["assisted_by"]["id"] == station_id,
         "the station enrols a farmer and opens the farmer's session with the farmer's PIN", r.body)
    r = harness.issue(svc, r.json()["token"], "番茄", 40, 2, {"origin": "福建省安溪县湖头镇光德村", "origin_code": GUANGDE})
    cert = r.json()
    t.ok(r.status == 201 and cert["issuer"]["name"] == "光德村散户苏大伯" and cert["assisted_by"]["id"] == station_id,
         "the farmer issues, assisted by the station", r.body)
    return cert


if __name__ == "__main__":
    main()
