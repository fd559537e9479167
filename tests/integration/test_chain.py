"""The supply chain (issue 4, first part): a purchaser collects item codes
from two producers, mixes and splits them into new certificates (style 2)
under mass balance enforced by the database even when re-issues race, and
traces both ways."""
import os
import threading
import time

from harness import CANNEI, FENGCHENG, ROOT, altered, epcis_errors, http, issue, psql, run_test, scan


def main():
    run_test("chain", run, printers=False)


def run(t, svc):
    b_id, prod_b = svc.second_producer()
    p_id, buyer = svc.purchaser()
    county = svc.county_regulator().token
    svc.start()
    url = svc.url

    a1 = issue(svc, svc.token, "豇豆", 100, 2).json()
    b1 = issue(svc, prod_b, "豇豆", 60, 1).json()
    codes_a1 = [i["code"] for i in a1["items"]]
    code_b1 = b1["items"][0]["code"]
    forged = altered(codes_a1[0], 50)

    # Collect (收取): item by item, the valid ones in one transaction.
    r = http("POST", url + "/api/v1/receipts", {"receipts": [
        {"code": codes_a1[0], "quantity": 50, "unit": "kg"},
        {"code": codes_a1[1], "quantity": 50, "unit": "kg"},
        {"code": code_b1, "quantity": 60, "unit": "kg"},
        {"code": forged, "quantity": 1, "unit": "kg"},
        {"code": "not a code", "quantity": 1, "unit": "kg"}]}, svc.auth(buyer))
    statuses = [x["status"] for x in r.json().get("results", [])]
    t.eq((r.status, statuses), (200, ["recorded", "recorded", "recorded", "bad_signature", "malformed"]),
         "receipts are reported item by item")
    r = http("POST", url + "/api/v1/receipts", {"receipts": [{"code": codes_a1[0], "quantity": 50, "unit": "kg"}]},
             svc.auth(buyer))
    t.eq(r.json()["results"][0]["status"], "already_collected", "an item code is collected once")
    r = http("POST", url + "/api/v1/receipts", {"receipts": [{"code": code_b1, "quantity": 1, "unit": "kg"}]},
             svc.auth(prod_b))
    t.eq(r.status, 403, "a producer does not collect")
    stock = {x["certificate"]: x for x in http("GET", url + "/api/v1/stock", headers=svc.auth(buyer)).json()["items"]}
    t.ok(stock.get(a1["id"], {}).get("received") == 100 and stock[a1["id"]]["left"] == 100 and
         stock.get(b1["id"], {}).get("received") == 60, "the stock view lists what was received", stock)

    # Mix (混装): 40 kg of A1 and 60 kg of B1 into one certificate.
    r = issue(svc, buyer, "豇豆", 100, 2, {"inputs": [
        {"certificate": a1["id"], "quantity": 40, "unit": "kg"},
        {"certificate": b1["id"], "quantity": 60, "unit": "kg"}]})
    mix = r.json()
    t.ok(r.status == 201 and mix["style"] == 2 and "已按规定收取并保存" in mix["promise"],
         "a purchaser re-issues a mixed batch with the style-2 promise", r.body)
    s = scan(svc, mix["items"][0]["code"]).json()
    t.eq((s["status"], s["certificate"]["style"]), ("valid", 2), "the re-issued code scans valid, style 2")

    # Split (分装): the remaining 60 kg of A1 into two certificates.
    r1 = issue(svc, buyer, "豇豆", 30, 1, {"inputs": [{"certificate": a1["id"], "quantity": 30, "unit": "kg"}]})
    r2 = issue(svc, buyer, "豇豆", 30, 1, {"inputs": [{"certificate": a1["id"], "quantity": 30, "unit": "kg"}]})
    t.ok(r1.status == 201 and r2.status == 201, "splitting into two certificates works")

    # Over-draw: A1 is used up.
    before = psql(svc.db, "SELECT count(*) FROM certificate")
    r = issue(svc, buyer, "豇豆", 1, 1, {"inputs": [{"certificate": a1["id"], "quantity": 1, "unit": "kg"}]})
    err = r.json().get("error", {})
    t.ok(r.status == 409 and err.get("code") == "insufficient_input" and a1["number"] in err.get("message_zh", "")
         and "还差 1 千克" in err.get("message_zh", ""), "an over-draw is refused, naming the input and the shortfall", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate"), before, "the refused re-issue stored nothing")
    r = issue(svc, buyer, "豇豆", 1, 1, {"inputs": [{"certificate": 999999, "quantity": 1, "unit": "kg"}]})
    t.eq(r.status, 409, "drawing from a certificate never received is refused")
    r = issue(svc, svc.token, "豇豆", 1, 1, {"inputs": [{"certificate": a1["id"], "quantity": 1, "unit": "kg"}]})
    t.eq(r.status, 400, "a producer's certificate has no inputs")
    r = issue(svc, buyer, "豇豆", 1, 1)
    t.eq(r.status, 400, "a purchaser's certificate needs inputs")

    # Racing re-issues: 10 concurrent draws of 2 kg from 10 kg.
    a2 = issue(svc, svc.token, "豇豆", 10, 1).json()
    http("POST", url + "/api/v1/receipts", {"receipts": [{"code": a2["items"][0]["code"], "quantity": 10, "unit": "kg"}]},
         svc.auth(buyer))
    results = []

    def draw():
        results.append(issue(svc, buyer, "豇豆", 2, 1, {"inputs": [{"certificate": a2["id"], "quantity": 2, "unit": "kg"}]}).status)
    threads = [threading.Thread(target=draw) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(sorted(results), [201] * 5 + [409] * 5, "10 racing 2 kg draws from 10 kg: exactly 5 succeed")
    t.eq(psql(svc.db, f"SELECT sum(quantity_milli) FROM certificate_input WHERE input_serial = {a2['id']}"), "10000",
         "the database never lets the draws exceed what was received")

    # Rapid tests: 不合格不采收、不上市.
    test = {"subject": b_id, "product": "豇豆", "method": "colloidal_gold", "items": "毒死蜱、克百威",
            "result": "fail", "station": "参内镇农产品快检室", "tester": "王检测员"}
    r = http("POST", url + "/api/v1/rapid-tests", test, svc.auth(county))
    failed = r.json().get("id")
    t.ok(r.status == 201 and r.json()["blocked"] is True, "a failed cowpea test is recorded", r.body)
    r = issue(svc, prod_b, "豇豆", 5, 1)
    t.ok(r.status == 403 and r.json()["error"]["code"] == "blocked_by_failed_test" and "复检合格前" in r.json()["error"]["message_zh"],
         "the producer can no longer issue for cowpeas, told why", r.body)
    t.eq(issue(svc, prod_b, "韭菜", 5, 1).status, 201, "other products are not blocked")
    r = http("POST", url + "/api/v1/rapid-tests", test, svc.auth(svc.token))
    t.eq(r.status, 403, "a producer cannot record tests")
    fc = svc.township_office(FENGCHENG).token
    r = http("POST", url + "/api/v1/rapid-tests", dict(test, result="pass"), svc.auth(fc))
    t.ok(r.status == 403 and r.json()["error"]["code"] == "outside_jurisdiction",
         "another township's regulator cannot record it", r.body)
    r = http("POST", url + "/api/v1/rapid-tests", dict(test, result="pass"), svc.auth(county))
    passed = r.json().get("id")
    t.ok(r.status == 201 and r.json()["blocked"] is False, "a passing retest is recorded", r.body)
    r = issue(svc, prod_b, "豇豆", 5, 1, {"basis": "self_test", "test": passed})
    t.ok(r.status == 201 and r.json()["basis"] == "self_test", "after the retest it issues again, resting on the test", r.body)
    r = issue(svc, prod_b, "豇豆", 5, 1, {"basis": "self_test", "test": failed})
    t.ok(r.status == 422 and r.json()["error"]["code"] == "test_not_passing", "a failed test is no basis", r.body)
    r = issue(svc, prod_b, "豇豆", 5, 1, {"basis": "commissioned_test"})
    t.eq(r.status, 400, "a test-based basis needs a test id")

    # Trace both ways.
    up = http("GET", url + f"/api/v1/certificates/{mix['id']}/trace?direction=upstream", headers=svc.auth(buyer)).json()
    nodes = {n["certificate"]: n for n in up.get("nodes", [])}
    t.ok(set(nodes) == {mix["id"], a1["id"], b1["id"]} and nodes[a1["id"]]["drawn"]["quantity"] == 40 and
         nodes[b1["id"]]["issuer"]["name"] == "参内镇农户李四" and nodes[b1["id"]]["drawn"]["quantity"] == 60,
         "upstream: both farms with their contributions", up)
    down = http("GET", url + f"/api/v1/certificates/{a1['id']}/trace?direction=downstream", headers=svc.auth(county)).json()
    made = {n["certificate"] for n in down.get("nodes", []) if n["depth"] == 1}
    t.ok(made == {mix["id"], r1.json()["id"], r2.json()["id"]}, "downstream: every certificate made from A1", down)
    root = [n for n in down.get("nodes", []) if n["depth"] == 0]
    t.ok(root and p_id in root[0]["collected_by"], "and who collected it")
    r = http("GET", url + f"/api/v1/certificates/{mix['id']}/trace?direction=upstream", headers=svc.auth(prod_b))
    t.eq(r.status, 403, "another producer may not trace the purchaser's certificate")
    r = http("GET", url + f"/api/v1/certificates/{mix['id']}/trace?direction=sideways", headers=svc.auth(buyer))
    t.eq(r.status, 400, "a bad direction: 400")

    # EPCIS 2.0 export, validated against GS1's JSON schema.
    r = http("GET", url + f"/api/v1/certificates/{mix['id']}/epcis", headers=svc.auth(county))
    doc = r.json() if r.status == 200 else {}
    events = doc.get("epcisBody", {}).get("eventList", [])
    kinds = sorted((e["type"], e.get("bizStep")) for e in events)
    t.ok(("TransformationEvent", "repackaging") in kinds and kinds.count(("ObjectEvent", "commissioning")) == 2
         and ("ObjectEvent", "receiving") in kinds, "EPCIS: issuing, receiving and the transformation", kinds)
    tr = [e for e in events if e["type"] == "TransformationEvent"]
    t.ok(tr and sorted((q["epcClass"], q["quantity"], q["uom"]) for q in tr[0]["inputQuantityList"]) ==
         sorted([(f"urn:agricert:lot:{a1['id']}", 40, "KGM"), (f"urn:agricert:lot:{b1['id']}", 60, "KGM")]),
         "the transformation consumes 40 kg of A1 and 60 kg of B1 (UN/CEFACT KGM)", tr)
    errors = epcis_errors(doc)
    t.ok(not errors, "the EPCIS export validates against EPCIS-JSON-Schema.json", errors[:5])
    r = http("GET", url + f"/api/v1/certificates/{mix['id']}/epcis", headers=svc.auth(prod_b))
    t.eq(r.status, 403, "another producer may not export it")

    # Township statistics, as county offices report them.
    year = time.strftime("%Y", time.gmtime(time.time() + 8 * 3600))
    svc.cli("import", "quotas", year, os.path.join(ROOT, "deploy/data/anxi-rapid-test-quota-2023.csv"))
    r = http("GET", url + "/api/v1/stats/townships", headers=svc.auth(county))
    rows = {x["name"]: x for x in r.json().get("townships", [])} if r.status == 200 else {}
    canei = rows.get("参内镇", {})
    fengcheng = rows.get("凤城镇", {})
    t.ok(len(rows) == 24 and canei.get("certificates") == int(psql(svc.db, f"SELECT count(*) FROM certificate WHERE issuer_id = {b_id}")) and
         canei.get("rapid_tests") == 2 and canei.get("rapid_test_quota") == 460 and canei.get("household_certificates") == canei.get("certificates"),
         "per township: certificates, household certificates, rapid tests against the quota", canei)
    t.ok(fengcheng.get("producers_under_20") >= 1 and r.json()["totals"]["certificates"] ==
         int(psql(svc.db, "SELECT count(*) FROM certificate")), "the totals add up", r.json().get("totals"))
    r = http("GET", url + "/api/v1/stats/townships?format=csv", headers=svc.auth(county))
    t.ok(r.status == 200 and r.text.startswith("乡镇代码,乡镇,") and "参内镇" in r.text, "the same as CSV", r.text[:200])
    t.eq(http("GET", url + "/api/v1/stats/townships", headers=svc.auth(buyer)).status, 403, "statistics are for regulators")

    # A failed batch upstream: revoke with cascade, then the recall list.
    r = http("POST", url + f"/api/v1/certificates/{a1['id']}/revocation",
             {"reason": "快检不合格（毒死蜱）", "cascade": True}, svc.auth(county))
    t.ok(r.status == 200 and r.json().get("cascaded") == 3, "revoking A1 with cascade revokes the 3 made from it", r.body)
    s = scan(svc, mix["items"][0]["code"]).json()
    t.ok(s["status"] == "revoked" and "上游合格证" in s["certificate"]["revoke_reason"],
         "the mixed certificate scans as revoked, naming the upstream cause", s)
    t.eq(psql(svc.db, f"SELECT revoked_at IS NULL FROM certificate WHERE serial = {b1['id']}"), "t",
         "B1, an input of the mix but not made from A1, stays valid")
    r = http("GET", url + f"/api/v1/certificates/{a1['id']}/recall", headers=svc.auth(county))
    rec = r.json() if r.status == 200 else {}
    affected = {x["certificate"]: x for x in rec.get("affected", [])}
    t.ok(set(affected) == {a1["id"], mix["id"], r1.json()["id"], r2.json()["id"]} and
         all(x["revoked"] for x in affected.values()), "the recall lists A1 and everything made from it", rec)
    t.ok(len(affected.get(a1["id"], {}).get("holders", [])) == 2 and
         affected[a1["id"]]["holders"][0]["name"] == "安溪县凤城农产品收购站" and
         len(affected[mix["id"]]["items"]) == 2, "with the purchasers holding its items and every item code", rec)
    r = http("GET", url + f"/api/v1/certificates/{a1['id']}/recall", headers=svc.auth(svc.token))
    t.eq(r.status, 403, "the recall list is for staff")

    # A lattice: at each of 16 steps two certificates each draw from both of
    # the step before. There are 2^17 paths down to the farms; the trace
    # answers one node per edge, at once. Two purchasers take turns: nobody
    # collects their own certificates.
    level = [issue(svc, svc.token, "韭菜", 100, 2).json() for _ in range(2)]
    second = svc.add_subject("collector", "安溪县参内农产品收购站", "13859007777", CANNEI, "purchaser").token
    for step in range(16):
        holder = (buyer, second)[step % 2]
        http("POST", url + "/api/v1/receipts", {"receipts": [
            {"code": i["code"], "quantity": 50, "unit": "kg"} for c in level for i in c["items"]]}, svc.auth(holder))
        level = [issue(svc, holder, "韭菜", 100, 2, {"inputs": [
            {"certificate": c["id"], "quantity": 50, "unit": "kg"} for c in level]}).json() for _ in range(2)]
    start = time.time()
    r = http("GET", url + f"/api/v1/certificates/{level[0]['id']}/trace?direction=upstream", headers=svc.auth(county))
    took = time.time() - start
    up = r.json()
    t.ok(r.status == 200 and up["truncated"] is False and len({n["certificate"] for n in up["nodes"]}) == 33
         and len(up["nodes"]) <= 2 * 2 * 16 + 1 and {n["depth"] for n in up["nodes"]} == set(range(17)),
         "a 16-step lattice traces to both farms with one node per edge, not one per path", (r.status, len(up.get("nodes", []))))
    t.note(f"lattice trace: {len(up['nodes'])} nodes in {took * 1000:.0f} ms")


if __name__ == "__main__":
    main()
