"""The supply chain's quantity rules in the database (issue 10, part 1):
receipts convert to the certificate's unit (kg, g, t and 斤 to each other, a
count unit to nothing else), never add up to more than the certificate, take
the package's share when no quantity is given, and are never of one's own
certificates; a re-issue's product is its inputs' (or a declared mix of them)
and its quantity at most what it draws, converted; a suspended purchaser
neither collects nor re-issues; two purchasers racing for the last kilograms
of a certificate: exactly one wins. A migration over rows that break the
rules reports them and changes nothing."""
import os
import shutil
import threading

from harness import CANNEI, FENGCHENG, ROOT, Service, http, issue, psql, run_test


def main():
    run_test("rules", run, printers=False)


def run(t, svc):
    p_id, buyer = svc.purchaser()
    q_id, other = svc.add_subject("collector", "安溪县参内农产品收购站", "13859007777", CANNEI, "purchaser")
    s_id, doomed = svc.add_subject("collector", "凤城镇流动收购户", "13859008888", FENGCHENG, "purchaser")
    county = svc.county_regulator().token
    fengcheng = svc.township_office(FENGCHENG).token
    # A product for mixes, in the catalogue before the service loads it.
    mixed = int(psql(svc.db, "WITH p AS (INSERT INTO product (id, name, category) SELECT max(id) + 1, "
                             "'混合蔬菜', '蔬菜' FROM product RETURNING id) SELECT id FROM p"))
    svc.start()
    url = svc.url

    def collect(token, *entries):
        r = http("POST", url + "/api/v1/receipts", {"receipts": list(entries)}, svc.auth(token))
        return r.json().get("results", []) if r.status == 200 else r

    def code(cert, item=1):
        return cert["items"][item - 1]["code"]

    def reissue(token, product, qty, inputs, unit="kg", labels=1):
        return issue(svc, token, product, qty, labels, {"unit": unit, "inputs": [
            {"certificate": c["id"], "quantity": q, "unit": u} for c, q, u in inputs]})

    def error(r):
        return (r.status, r.json().get("error", {}).get("code"))

    # Units: 斤, g and t convert to kg; a count unit converts to nothing else.
    beans = issue(svc, svc.token, "豇豆", 100, 2).json()
    res = collect(buyer, {"code": code(beans), "quantity": 60, "unit": "jin"},
                  {"code": code(beans, 2), "quantity": 3, "unit": "box"})
    t.ok(res[0]["status"] == "recorded" and (res[0]["quantity"], res[0]["unit"], res[0]["left"]) == (30, "kg", 70),
         "60 斤 of a kg certificate is recorded as 30 kg, 70 kg left", res)
    t.eq(res[1]["status"], "unit_mismatch", "3 boxes of a kg certificate: unit_mismatch")
    res = collect(buyer, {"code": code(beans, 2), "quantity": 0.02, "unit": "t"})
    t.ok(res[0]["status"] == "recorded" and (res[0]["quantity"], res[0]["left"]) == (20, 50),
         "0.02 t is recorded as 20 kg", res)
    eggs = issue(svc, svc.token, "鸡蛋", 10, 2, {"unit": "box"}).json()
    res = collect(buyer, {"code": code(eggs), "quantity": 2, "unit": "kg"},
                  {"code": code(eggs, 2), "quantity": 4, "unit": "box"})
    t.eq([x["status"] for x in res], ["unit_mismatch", "recorded"], "a box certificate takes boxes, not kilograms")
    t.eq(psql(svc.db, f"SELECT string_agg(quantity_milli || ' ' || unit, ',' ORDER BY item) FROM receipt "
                      f"WHERE serial = {beans['id']}"), "30000 1,20000 1", "receipts are stored in the certificate's unit")

    # A certificate's receipts, over its items and purchasers, never exceed it.
    ten = issue(svc, svc.token, "豇豆", 10, 3).json()
    res = collect(buyer, {"code": code(ten), "quantity": 8, "unit": "kg"})
    t.eq(res[0]["left"], 2, "8 of 10 kg collected: 2 left")
    res = collect(other, {"code": code(ten, 2), "quantity": 5, "unit": "kg"})
    t.ok(res[0]["status"] == "exceeds_certificate" and res[0]["left"] == 2 and res[0]["unit"] == "kg",
         "another purchaser's 5 kg of what is left: exceeds_certificate, saying 2 kg are left", res)
    res = collect(other, {"code": code(ten, 2)})
    t.ok(res[0]["status"] == "exceeds_certificate" and res[0]["left"] == 2,
         "without a quantity the package's share (3.333 kg) exceeds it too", res)
    res = collect(other, {"code": code(ten, 2), "quantity": 4, "unit": "jin"},
                  {"code": code(ten, 3), "quantity": 0.5, "unit": "kg"})
    t.eq([(x["status"], x.get("left")) for x in res], [("recorded", 0), ("exceeds_certificate", 0)],
         "4 斤 takes the last 2 kg; the next entry of the same request sees that nothing is left")

    # Without a quantity, a receipt takes the package's share.
    thirds = issue(svc, svc.token, "豇豆", 100, 3).json()
    res = collect(buyer, *[{"code": code(thirds, i)} for i in (1, 2, 3)])
    t.ok([x["quantity"] for x in res] == [33.333, 33.333, 33.334] and res[2]["left"] == 0,
         "100 kg on 3 labels: 33.333, 33.333 and 33.334 kg, exactly the certificate", res)

    # Nobody collects their own certificate.
    split = reissue(buyer, "豇豆", 30, [(thirds, 30, "kg")]).json()
    res = collect(buyer, {"code": code(split)})
    t.eq(res[0]["status"], "own_certificate", "a purchaser cannot collect its own re-issued certificate")
    t.eq(collect(other, {"code": code(split)})[0]["status"], "recorded", "another purchaser can")

    # A re-issue's product is its inputs' product, or a declared mix of them.
    leeks = issue(svc, svc.token, "韭菜", 20, 1).json()
    collect(buyer, {"code": code(leeks), "quantity": 20, "unit": "kg"})
    r = reissue(buyer, "韭菜", 5, [(thirds, 5, "kg")])
    t.ok(error(r) == (422, "product_mismatch") and "「豇豆」" in r.json()["error"]["message_zh"]
         and "「韭菜」" in r.json()["error"]["message_zh"], "cowpeas re-issued as leeks: 422 product_mismatch", r.body)
    r = reissue(buyer, "混合蔬菜", 10, [(thirds, 5, "kg"), (leeks, 5, "kg")])
    t.eq(error(r), (422, "product_mismatch"), "a mix product not declared to contain them: refused")
    r = http("PUT", url + f"/api/v1/products/{mixed}/mix", {"may_contain": ["豇豆", "韭菜"]}, svc.auth(buyer))
    t.eq(r.status, 403, "a purchaser cannot declare a mix")
    r = http("PUT", url + f"/api/v1/products/{mixed}/mix", {"may_contain": ["豇豆", "韭菜"]}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["may_contain"] == ["豇豆", "韭菜"], "the county declares 混合蔬菜 a mix of cowpeas and leeks", r.body)
    t.eq(http("GET", url + f"/api/v1/products/{mixed}/mix", headers=svc.auth(buyer)).json()["may_contain"],
         ["豇豆", "韭菜"], "anyone may read what a mix may contain")
    r = reissue(buyer, "混合蔬菜", 10, [(thirds, 5, "kg"), (leeks, 5, "kg")])
    t.ok(r.status == 201 and r.json()["product"]["name"] == "混合蔬菜", "cowpeas and leeks re-issued as 混合蔬菜",
         r.body)
    collect(buyer, {"code": code(eggs), "quantity": 5, "unit": "box"})
    r = reissue(buyer, "混合蔬菜", 1, [(eggs, 1, "box")], unit="box")
    t.eq(error(r), (422, "product_mismatch"), "eggs are not among what 混合蔬菜 may contain")

    # A re-issue gives at most what it draws, converted: loss allowed, gain not.
    r = reissue(buyer, "豇豆", 11, [(thirds, 10, "kg")])
    t.ok(error(r) == (422, "output_exceeds_inputs") and "11 千克" in r.json()["error"]["message_zh"]
         and "10 千克" in r.json()["error"]["message_zh"], "11 kg from 10 kg: 422 output_exceeds_inputs", r.body)
    t.eq(reissue(buyer, "豇豆", 9.5, [(thirds, 10, "kg")]).status, 201, "9.5 kg from 10 kg: a loss is allowed")
    t.eq(error(reissue(buyer, "豇豆", 21, [(thirds, 10, "kg")], unit="jin")), (422, "output_exceeds_inputs"),
         "21 斤 from 10 kg: refused")
    t.eq(reissue(buyer, "豇豆", 20, [(thirds, 10, "kg")], unit="jin").status, 201, "20 斤 from 10 kg: given")
    r = reissue(buyer, "鸡蛋", 1, [(eggs, 1, "kg")], unit="box")
    t.ok(error(r) == (422, "unit_mismatch") and "不能换算" in r.json()["error"]["message_zh"],
         "drawing kilograms from a box certificate: 422 unit_mismatch", r.body)
    r = reissue(buyer, "鸡蛋", 2, [(eggs, 10, "box")], unit="box")
    t.ok(error(r) == (409, "insufficient_input") and "还差 1 箱" in r.json()["error"]["message_zh"],
         "10 boxes from the 9 received: insufficient_input, in boxes", r.body)
    stock = {x["certificate"]: x for x in http("GET", url + "/api/v1/stock", headers=svc.auth(buyer)).json()["items"]}
    t.ok(stock[thirds["id"]]["used"] == 55 and stock[thirds["id"]]["left"] == 45 and stock[eggs["id"]]["unit"] == "box"
         and stock[beans["id"]]["received"] == 50, "the stock is in each certificate's unit", stock)

    # A suspended purchaser neither collects nor re-issues.
    fresh = issue(svc, svc.token, "豇豆", 10, 2).json()
    collect(doomed, {"code": code(fresh), "quantity": 5, "unit": "kg"})
    r = http("POST", url + f"/api/v1/subjects/{s_id}/status", {"status": "suspended", "reason": "收购台账不全"},
             svc.auth(fengcheng))
    t.eq(r.status, 200, "the township office suspends a purchaser")
    r = http("POST", url + "/api/v1/receipts", {"receipts": [{"code": code(fresh, 2)}]}, svc.auth(doomed))
    t.ok(error(r) == (403, "subject_inactive") and "乡镇农安办" in r.json()["error"]["message_zh"],
         "it cannot collect, and is told to contact the township office", r.body)
    r = reissue(doomed, "豇豆", 5, [(fresh, 5, "kg")])
    t.ok(error(r) == (403, "subject_inactive") and "乡镇农安办" in r.json()["error"]["message_zh"],
         "nor re-issue", r.body)
    r = http("POST", url + "/api/v1/external-certificates", {
        "kind": "certificate", "number": "纸质-001", "issuer_name": "散户", "product": "豇豆", "quantity": 5,
        "origin": "福建省安溪县", "date": "2026-03-02"}, svc.auth(doomed))
    t.eq(error(r), (403, "subject_inactive"), "nor register a certificate from outside")
    t.eq(psql(svc.db, f"SELECT (SELECT count(*) FROM receipt WHERE purchaser_id = {s_id}) || ',' || "
                      f"(SELECT count(*) FROM certificate WHERE issuer_id = {s_id})"), "1,0",
         "nothing was stored for it")

    # Two purchasers race for the last kilograms: exactly one wins, every time.
    wins = []
    for _ in range(8):
        last = issue(svc, svc.token, "豇豆", 10, 3).json()
        collect(buyer, {"code": code(last), "quantity": 6, "unit": "kg"})
        gate = threading.Barrier(2)
        got = {}

        def grab(token, item):
            gate.wait()
            got[item] = collect(token, {"code": code(last, item), "quantity": 4, "unit": "kg"})[0]["status"]
        threads = [threading.Thread(target=grab, args=(buyer, 2)), threading.Thread(target=grab, args=(other, 3))]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wins.append(sorted(got.values()))
        total = psql(svc.db, f"SELECT sum(quantity_milli) FROM receipt WHERE serial = {last['id']}")
        if total != "10000":
            wins.append(("total", total))
    t.eq(wins, [["exceeds_certificate", "recorded"]] * 8,
         "8 races of two purchasers for the last 4 kg: one recorded, one exceeds_certificate, the total 10 kg")
    t.eq(svc.stop(), 0, "agricertd stops cleanly")

    migration_report(t)


def migration_report(t):
    """Rows from before the rules that break them are reported, not changed."""
    old = Service("rulesmig", printers=False)
    try:
        sql = os.path.join(old.tmp, "sql")
        os.makedirs(sql)
        for f in sorted(os.listdir(os.path.join(ROOT, "sql"))):
            if f.endswith(".sql") and f < "0018":
                shutil.copy(os.path.join(ROOT, "sql", f), sql)
        old.env["AGRICERT_SQL"] = sql
        old.setup_demo()
        buyer = old.add_subject("collector", "安溪县凤城农产品收购站", "13859005678", FENGCHENG).id
        psql(old.db, f"""
            INSERT INTO certificate (serial, kid, issuer_id, style, basis, product_id, quantity_milli, unit, origin,
                origin_code, contact, issued_at, labels, item_codes)
            SELECT 4096 + n, 1, CASE n WHEN 3 THEN {buyer} ELSE {old.producer} END, CASE n WHEN 3 THEN 2 ELSE 1 END,
                0, (SELECT id FROM product WHERE name = CASE n WHEN 2 THEN '韭菜' ELSE '豇豆' END), 10000, 1, 'o',
                350524103201, 'c', now(), 2, '{{A,B}}'
            FROM generate_series(1, 3) n;
            INSERT INTO receipt (purchaser_id, serial, item, quantity_milli, unit) VALUES
                ({buyer}, 4097, 1, 8000, 1), ({buyer}, 4097, 2, 8000, 1), ({buyer}, 4098, 1, 5000, 1),
                ({buyer}, 4099, 1, 1000, 1);
            INSERT INTO certificate_input (serial, input_serial, quantity_milli, unit) VALUES (4099, 4098, 5000, 1);
            """)
        shutil.rmtree(sql)
        shutil.copytree(os.path.join(ROOT, "sql"), sql)
        r = old.cli("migrate", check=False)
        t.ok(r.returncode == 0 and "NOTICE:  4 existing rows break the supply-chain rules" in r.stderr
             and "chain_rule_violations" in r.stderr, "the migration says how many rows break the rules", r.stderr)
        rows = psql(old.db, "SELECT string_agg(rule || ':' || serial, ',' ORDER BY rule, serial) "
                            "FROM chain_rule_violations")
        t.eq(rows, "exceeds_certificate:4097,output_exceeds_inputs:4099,own_certificate:4099,product_mismatch:4099",
             "chain_rule_violations names each: over-collected, gain, own certificate, another product")
        t.eq(psql(old.db, "SELECT count(*) || ',' || sum(quantity_milli) FROM receipt"), "4,22000",
             "and the rows are kept as they were")
    finally:
        old.close()


if __name__ == "__main__":
    main()
