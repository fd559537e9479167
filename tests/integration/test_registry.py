"""The registry (名录库) end to end against a running agricertd: CSV import of
the demo subjects (all rows or none, with a report of rejected rows), search
and paging, masking of phone and ID numbers, every write route with its
jurisdiction (township, county, admin), grade and status changes with who,
when and why, a suspended producer refused at issue, regions, markets,
products (ids never change) and kiosks, and the CSV export round trip.
Every refused request is checked against the database: nothing changed."""
import os
import re
import urllib.parse

from harness import ANXI, CANNEI, FENGCHENG, http, psql, run_test

GANDE = "350524110000"     # 感德镇


def main():
    run_test("registry", run, printers=False)


def state(svc):
    """A fingerprint of every registry table: equal before and after means nothing changed."""
    return psql(svc.db, "SELECT concat_ws('|', "
                "(SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM subject s), "
                "(SELECT md5(coalesce(string_agg(c::text, ',' ORDER BY id), '')) FROM subject_change c), "
                "(SELECT md5(coalesce(string_agg(r::text, ',' ORDER BY code), '')) FROM region r), "
                "(SELECT md5(coalesce(string_agg(m::text, ',' ORDER BY id), '')) FROM market m), "
                "(SELECT md5(coalesce(string_agg(k::text, ',' ORDER BY id), '')) FROM kiosk k), "
                "(SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY id), '')) FROM product p))")


def run(t, svc):
    api = svc.url + "/api/v1"
    county = svc.county_regulator().token
    cannei_id, cannei = svc.township_office(CANNEI)
    fengcheng = svc.township_office(FENGCHENG).token
    inspector = svc.add_subject("staff", "安溪县市场查验员", "0595-23231234", ANXI, "inspector").token
    admin = svc.city_admin().token

    # Import: a file with bad rows imports nothing and names every bad row.
    bad = os.path.join(svc.tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status\n"
                "household,好的农户,,,13800001111,350524100000,,A,active\n"
                "farmer,类型错误,,,13800001112,350524100000,,A,active\n"
                "household,地区不存在,,,13800001113,350524999000,,A,active\n"
                "enterprise,信用代码错误,91350524ABCDEFGHJ1,,13800001114,350524100000,,A,active\n"
                "household,等级错误,,,13800001115,350524100000,,D,active\n"
                "household,\"带,逗号\",,,13800001116,350524100000,\"地址,有逗号\",A,active\n"
                "household,好的农户,,,13800001117,350524100000,,A,active\n")
    before = state(svc)
    out = svc.cli("import", "subjects", bad, check=False)
    t.ok(out.returncode != 0, "an import with bad rows fails", out.stderr)
    for line in (3, 4, 5, 6, 8):
        t.ok(f"line {line}: rejected" in out.stderr, f"the report names line {line}", out.stderr)
    t.ok("line 2:" not in out.stderr and "line 7:" not in out.stderr, "good rows (even quoted commas) are not reported",
         out.stderr)
    t.eq(state(svc), before, "nothing was imported")
    demo = os.path.join(os.environ.get("AGRICERT_ROOT", ""), "deploy/data/subjects-demo.csv")
    out = svc.cli("import", "subjects", demo, check=False)
    t.ok(out.returncode == 0 and "30 new" in out.stdout, "the demo subjects import", out.stderr + out.stdout)
    t.eq(psql(svc.db, "SELECT count(*) FROM subject WHERE kind <> 'staff'"), "31", "31 subjects (30 demo + setup)")
    t.eq(psql(svc.db, "SELECT count(*) FROM subject_change WHERE actor_role = 'cli'"),
         psql(svc.db, "SELECT count(*) FILTER (WHERE credit_grade <> 'A') + count(*) FILTER (WHERE status <> 'active') "
              "FROM subject"), "the import recorded every grade other than A and status other than active")
    out = svc.cli("import", "subjects", demo, check=False)
    t.ok(out.returncode == 0 and "30 updated" in out.stdout, "importing again updates, not duplicates", out.stdout)
    t.eq(psql(svc.db, "SELECT count(*) FROM subject WHERE kind <> 'staff'"), "31", "still 31 subjects")

    svc.start()
    sid = lambda name: int(psql(svc.db, f"SELECT id FROM subject WHERE name = '{name}'"))  # noqa: E731
    cannei_subj = sid("苏文彬")
    fengcheng_subj = sid("刘美华")

    # Reading: staff only.
    r = http("GET", api + "/subjects")
    t.eq(r.status, 401, "listing subjects without a token: 401")
    r = http("GET", api + "/subjects", headers=svc.auth())
    t.ok(r.status == 403 and r.json()["error"]["message_zh"], "a producer may not list the registry: 403", r.body)
    r = http("GET", api + "/subjects", headers=svc.auth(inspector))
    j = r.json()
    t.ok(r.status == 200 and j["total"] == 31 and len(j["items"]) == 31 and j["limit"] == 50 and j["offset"] == 0,
         "an inspector lists all 31 subjects (staff accounts are not listed)", r.body[:300])

    # Paging.
    seen = []
    for off in (0, 10, 20, 30):
        p = http("GET", api + f"/subjects?limit=10&offset={off}", headers=svc.auth(inspector)).json()
        seen += [i["id"] for i in p["items"]]
    t.ok(len(seen) == 31 and len(set(seen)) == 31 and seen == sorted(seen), "pages of 10 cover every subject once")
    for q in ("limit=201", "limit=0", "offset=-1", "limit=abc", "offset=1000001"):
        r = http("GET", api + "/subjects?" + q, headers=svc.auth(inspector))
        t.ok(r.status == 400 and r.json()["error"]["code"] == "invalid_parameter", f"{q}: 400", r.body)

    # Search.
    def search(q, tok=inspector):
        return http("GET", api + "/subjects?" + urllib.parse.quote(q, safe="=&%"), headers=svc.auth(tok))

    want = psql(svc.db, "SELECT count(*) FROM subject WHERE kind <> 'staff' AND name LIKE '%茶%'")
    j = search("q=%E8%8C%B6").json()
    t.ok(str(j["total"]) == want and all("茶" in i["name"] for i in j["items"]), f"q=茶 finds the {want} tea subjects", j)
    j = search("q=%E5%90%88%E4%BD%9C%E7%A4%BE&kind=cooperative").json()
    t.eq(j["total"], 7, "q=合作社&kind=cooperative: 7 cooperatives")
    j = search("region=350524110").json()
    t.ok(j["total"] == 2 and all(i["region_code"].startswith("350524110") for i in j["items"]),
         "region=350524110 (感德镇): 2 subjects", j)
    t.eq(search("region=" + GANDE).json()["total"], 2, "a 12-digit township code filters the same")
    j = search("grade=C").json()
    t.ok(j["total"] == 1 and j["items"][0]["key_supervision"] is True, "grade=C: the key-supervision list", j)
    t.eq(search("status=suspended").json()["total"], 1, "status=suspended: one subject")
    cc = psql(svc.db, "SELECT credit_code FROM subject WHERE name = '安溪县剑斗镇云中茶叶专业合作社'")
    t.eq(search("q=" + cc, county).json()["total"], 1, "search by credit code")
    t.eq(search("q=%25").json()["total"], 0, "q=% is a literal percent sign")
    r = search("q=" + "茶" * 51)
    t.eq(r.status, 400, "a 51-character search term: 400")
    for q in ("kind=farmer", "grade=D", "status=gone", "region=35x"):
        t.eq(search(q).status, 400, f"{q}: 400")

    # Masking.
    def subject(i, tok):
        return http("GET", api + f"/subjects/{i}", headers=svc.auth(tok))

    full_phone = psql(svc.db, f"SELECT contact FROM subject WHERE id = {cannei_subj}")
    full_id = psql(svc.db, f"SELECT id_number FROM subject WHERE id = {cannei_subj}")
    j = subject(cannei_subj, inspector).json()
    t.ok(re.fullmatch(r"138\*{4}\d{4}", j["contact"]) and j["contact"][-4:] == full_phone[-4:],
         "an inspector sees the phone masked (138****1234)", j)
    t.ok(re.fullmatch(r"350524\*{8}[0-9X]{4}", j["id_number"] or ""), "an inspector sees the ID masked", j)
    j = subject(cannei_subj, cannei).json()
    t.ok(j["contact"] == full_phone and j["id_number"] == full_id, "the township's regulator sees them in full", j)
    j = subject(fengcheng_subj, cannei).json()
    t.ok("*" in j["contact"] and "*" in j["id_number"], "another township's regulator sees them masked", j)
    t.ok(subject(fengcheng_subj, county).json()["contact"].isdigit(), "the county regulator sees them in full")
    j = http("GET", api + "/subjects?limit=200", headers=svc.auth(inspector)).json()
    t.ok(all(i["contact"] is None or "*" in i["contact"] for i in j["items"]), "lists are masked for inspectors too")

    # Own subject only for producers.
    r = subject(svc.producer, svc.token)
    t.ok(r.status == 200 and r.json()["id"] == svc.producer, "a producer reads its own subject", r.body)
    t.eq(subject(cannei_subj, svc.token).status, 403, "a producer may not read another subject")
    t.eq(subject(999999, county).status, 404, "an unknown subject: 404")
    t.eq(http("GET", api + "/subjects/abc", headers=svc.auth(county)).status, 404, "a malformed id: 404")
    t.eq(http("GET", api + f"/subjects/{cannei_subj}/changes", headers=svc.auth(svc.token)).status, 403,
         "a producer may not read another subject's changes")

    # Creating subjects.
    new = {"kind": "household", "name": "参内镇新农户", "contact": "13811112222", "region_code": CANNEI,
           "id_number": full_id[:17] and "350524198001011234"}
    # A valid ID number for the new household.
    body = "35052419800101123"
    w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    new["id_number"] = body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w)) % 11]

    def denied(method, path, body, tok, status, what):
        before = state(svc)
        r = http(method, api + path, body, svc.auth(tok) if tok else None)
        ok = r.status == status and "error" in r.json()
        t.ok(ok and state(svc) == before, f"{what}: {status}, nothing changed", r.body)
        return r

    denied("POST", "/subjects", new, None, 401, "creating a subject without a token")
    denied("POST", "/subjects", new, svc.token, 403, "a producer creating a subject")
    denied("POST", "/subjects", new, inspector, 403, "an inspector creating a subject")
    denied("POST", "/subjects", dict(new, region_code=FENGCHENG), cannei, 403,
           "a township regulator creating in another township")
    denied("POST", "/subjects", dict(new, kind="staff"), county, 403, "a county regulator creating a staff account")
    r = denied("POST", "/subjects", dict(new, name=""), cannei, 400, "an empty name")
    t.eq(r.json()["error"].get("field"), "name", "the error names the field")
    denied("POST", "/subjects", dict(new, credit_code="91350524ABCDEFGHJ1"), cannei, 400, "a bad credit code")
    denied("POST", "/subjects", dict(new, id_number="350524198001011230"), cannei, 400, "a bad ID check digit")
    denied("POST", "/subjects", dict(new, kind="farmer"), cannei, 400, "an unknown kind")
    denied("POST", "/subjects", dict(new, region_code="3505241000"), cannei, 400, "a 10-digit region")
    denied("POST", "/subjects", dict(new, region_code="350524100999"), cannei, 422, "a region not in the table")
    denied("POST", "/subjects", dict(new, grade="A"), cannei, 400, "an unknown field")
    denied("POST", "/subjects", dict(new, name="名" * 101), cannei, 400, "a 101-character name")
    denied("POST", "/subjects", dict(new, kind="cooperative", credit_code=cc), county, 409, "a duplicate credit code")
    r = http("POST", api + "/subjects", new, svc.auth(cannei))
    t.ok(r.status == 201 and r.json()["id_number"] == new["id_number"] and r.json()["region_name"] == "参内镇",
         "the township regulator registers a household in its township", r.body)
    new_id = r.json()["id"]

    # Editing.
    denied("PATCH", f"/subjects/{new_id}", {"contact": "13899990000"}, fengcheng, 403,
           "another township's regulator editing")
    denied("PATCH", f"/subjects/{new_id}", {"region_code": FENGCHENG}, cannei, 403,
           "a township regulator moving a subject out of its township")
    denied("PATCH", f"/subjects/{new_id}", {"id": 5}, cannei, 400, "changing an id")
    denied("PATCH", f"/subjects/{new_id}", {}, cannei, 400, "an empty change")
    denied("PATCH", f"/subjects/{new_id}", {"contact": "phone"}, cannei, 400, "a contact that is not a phone number")
    denied("PATCH", "/subjects/999999", {"contact": "13899990000"}, cannei, 404, "editing an unknown subject")
    r = http("PATCH", api + f"/subjects/{new_id}", {"contact": "13899990000", "address": "参内镇岐山村"},
             svc.auth(cannei))
    t.ok(r.status == 200 and r.json()["contact"] == "13899990000", "the township regulator edits its subject", r.body)
    r = http("PATCH", api + f"/subjects/{new_id}", {"region_code": FENGCHENG}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["region_code"] == FENGCHENG, "the county regulator moves it to 凤城镇", r.body)
    denied("PATCH", f"/subjects/{new_id}", {"name": "改名"}, cannei, 403, "参内镇 can no longer edit it")

    # Another county: regions by the admin, a subject there, out of the county regulator's reach.
    denied("POST", "/regions", {"code": "350525000000", "name": "永春县", "parent": "350500000000"}, county, 403,
           "a county regulator adding another county")
    r = http("POST", api + "/regions", {"code": "350525000000", "name": "永春县", "parent": "350500000000"},
             svc.auth(admin))
    t.ok(r.status == 201 and r.json()["level"] == 3, "the admin adds 永春县", r.body)
    r = http("POST", api + "/regions", {"code": "350525100000", "name": "桃城镇", "parent": "350525000000"},
             svc.auth(admin))
    t.eq(r.status, 201, "the admin adds 桃城镇")
    denied("POST", "/subjects", dict(new, name="永春农户", region_code="350525100000"), county, 403,
           "the Anxi county regulator creating a subject in 永春县")
    r = http("POST", api + "/subjects", dict(new, name="永春农户", region_code="350525100000"), svc.auth(admin))
    t.eq(r.status, 201, "the admin creates a subject in 永春县")
    yc = r.json()["id"]
    denied("PATCH", f"/subjects/{yc}", {"contact": "13800000000"}, county, 403,
           "the Anxi county regulator editing a 永春 subject")
    denied("POST", f"/subjects/{yc}/grade", {"grade": "C", "reason": "x"}, county, 403,
           "the Anxi county regulator grading a 永春 subject")
    denied("PATCH", f"/subjects/{cannei_subj}", {"region_code": "350525100000"}, county, 403,
           "the county regulator moving a subject out of the county")

    # Grades and status, with who, when and why.
    denied("POST", f"/subjects/{cannei_subj}/grade", {"grade": "C"}, cannei, 400, "a grade without a reason")
    denied("POST", f"/subjects/{cannei_subj}/grade", {"grade": "D", "reason": "x"}, cannei, 400, "grade D")
    denied("POST", f"/subjects/{cannei_subj}/grade", {"grade": "C", "reason": "x"}, fengcheng, 403,
           "another township's regulator grading")
    denied("POST", f"/subjects/{cannei_subj}/grade", {"grade": "C", "reason": "x"}, inspector, 403,
           "an inspector grading")
    denied("POST", f"/subjects/{cannei_subj}/grade", {"grade": "C", "reason": "x"}, svc.token, 403,
           "a producer grading")
    denied("POST", "/subjects/999999/grade", {"grade": "C", "reason": "x"}, county, 404, "grading an unknown subject")
    r = http("POST", api + f"/subjects/{cannei_subj}/grade", {"grade": "C", "reason": "豇豆快检不合格（毒死蜱）"},
             svc.auth(cannei))
    j = r.json()
    t.ok(r.status == 200 and j["credit_grade"] == "C" and j["key_supervision"] and j["changed"],
         "the township regulator grades its subject C (key supervision)", r.body)
    row = psql(svc.db, "SELECT field, old_value, new_value, reason, actor_subject_id, actor_role, "
               f"at > now() - interval '1 minute' FROM subject_change WHERE subject_id = {cannei_subj}")
    t.eq(row, f"credit_grade|A|C|豇豆快检不合格（毒死蜱）|{cannei_id}|township_regulator|t",
         "the change is kept with who, when and why")
    r = http("POST", api + f"/subjects/{cannei_subj}/grade", {"grade": "C", "reason": "复核"}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["changed"] is False, "the same grade again changes nothing", r.body)
    t.eq(psql(svc.db, f"SELECT count(*) FROM subject_change WHERE subject_id = {cannei_subj}"), "1",
         "and records no change")
    r = http("GET", api + f"/subjects/{cannei_subj}/changes", headers=svc.auth(inspector))
    j = r.json()
    t.ok(r.status == 200 and j["total"] == 1 and j["items"][0]["actor_name"] == "参内镇农安办"
         and j["items"][0]["reason"] == "豇豆快检不合格（毒死蜱）" and j["items"][0]["at"],
         "GET changes lists it with the actor's name", r.body)

    # A suspended producer cannot issue.
    hh, hh_token = svc.add_subject("household", "参内镇待暂停农户", "13800002222", CANNEI, "producer")
    denied("POST", f"/subjects/{hh}/status", {"status": "paused", "reason": "x"}, cannei, 400, "an unknown status")
    r = http("POST", api + f"/subjects/{hh}/status", {"status": "suspended", "reason": "拒不整改"}, svc.auth(cannei))
    t.ok(r.status == 200 and r.json()["status"] == "suspended", "the township regulator suspends a producer", r.body)
    cert = {"product": "芹菜", "quantity": 8, "unit": "kg", "origin": "福建省安溪县参内镇",
            "origin_code": "350524100201", "basis": "quality_control", "labels": 1}
    r = http("POST", svc.url + "/api/v1/certificates", cert, svc.auth(hh_token))
    t.ok(r.status == 403 and r.json()["error"]["code"] == "subject_inactive", "the suspended producer cannot issue",
         r.body)
    t.eq(psql(svc.db, f"SELECT count(*) FROM certificate WHERE issuer_id = {hh}"), "0", "no certificate was stored")
    t.eq(psql(svc.db, f"SELECT field || ':' || old_value || '>' || new_value || ':' || reason FROM subject_change "
              f"WHERE subject_id = {hh}"), "status:active>suspended:拒不整改", "the suspension is recorded")

    # Regions.
    r = http("GET", api + "/regions?parent=" + ANXI, headers=svc.auth(svc.token))
    j = r.json()
    t.ok(r.status == 200 and len(j["items"]) == 24 and all(i["level"] == 4 for i in j["items"]),
         "GET regions?parent=安溪县: its 24 townships", r.body[:200])
    t.eq([i["name"] for i in http("GET", api + "/regions", headers=svc.auth(svc.token)).json()["items"]],
         ["福建省"], "GET regions: the roots")
    r = http("GET", api + "/regions/350524103201", headers=svc.auth(inspector))
    j = r.json()
    t.ok(r.status == 200 and [p["name"] for p in j["path"]] == ["福建省", "泉州市", "安溪县", "凤城镇"]
         and j["full_name"] == "福建省泉州市安溪县凤城镇凤城镇示范村", "GET a village with its path", r.body)
    t.eq(http("GET", api + "/regions/350524999000", headers=svc.auth(inspector)).status, 404, "an unknown region: 404")
    t.eq(http("GET", api + "/regions?parent=123", headers=svc.auth(inspector)).status, 400, "a bad parent: 400")
    t.eq(http("GET", api + "/regions", headers=None).status, 401, "regions need a token")
    denied("POST", "/regions", {"code": "350524103202", "name": "新村", "parent": FENGCHENG}, cannei, 403,
           "a township regulator adding a region")
    denied("POST", "/regions", {"code": "350524103202", "name": "新村", "parent": CANNEI}, county, 422,
           "a village whose code does not start with its parent's")
    denied("POST", "/regions", {"code": "350524103201", "name": "重复", "parent": FENGCHENG}, county, 409,
           "a region that exists")
    r = http("POST", api + "/regions", {"code": "350524103202", "name": "凤城镇新村", "parent": FENGCHENG},
             svc.auth(county))
    t.ok(r.status == 201 and r.json()["level"] == 5, "the county regulator adds a village", r.body)

    # The setup's producer sits in village 350524100201, which the demo regions lack: add it.
    r = http("POST", api + "/regions", {"code": "350524100201", "name": "参内镇示范村", "parent": CANNEI},
             svc.auth(county))
    t.eq(r.status, 201, "the county regulator adds the setup producer's village")

    # Markets.
    market = {"name": "安溪县凤城农贸市场", "region_code": FENGCHENG, "kind": "farmers_market", "address": "凤城镇二环路"}
    denied("POST", "/markets", market, fengcheng, 403, "a township regulator adding a market")
    denied("POST", "/markets", dict(market, kind="bazaar"), county, 400, "an unknown market kind")
    denied("POST", "/markets", dict(market, region_code="350525100000"), county, 403, "a market outside the county")
    r = http("POST", api + "/markets", market, svc.auth(county))
    t.ok(r.status == 201 and r.json()["kind"] == "farmers_market", "the county regulator adds a market", r.body)
    mid = r.json()["id"]
    t.eq(http("GET", api + f"/markets/{mid}", headers=svc.auth(inspector)).json()["name"], market["name"],
         "an inspector reads the market")
    t.eq(http("GET", api + "/markets", headers=svc.auth(svc.token)).status, 403, "a producer may not list markets")
    j = http("GET", api + "/markets?kind=farmers_market&region=350524103", headers=svc.auth(inspector)).json()
    t.eq(j["total"], 1, "markets filter by kind and region")
    denied("PATCH", f"/markets/{mid}", {"kind": "wholesale"}, inspector, 403, "an inspector editing a market")
    r = http("PATCH", api + f"/markets/{mid}", {"kind": "wholesale"}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["kind"] == "wholesale" and r.json()["id"] == mid, "PATCH a market", r.body)

    # Products: ids are printed into codes and never change.
    denied("POST", "/products", {"name": "苦瓜", "category": "蔬菜"}, cannei, 403, "a township regulator adding a product")
    denied("POST", "/products", {"name": "苦瓜", "category": "蔬菜", "default_unit": "ton"}, county, 400, "a bad unit")
    denied("POST", "/products", {"name": "豇豆", "category": "蔬菜"}, county, 409, "a product that exists")
    top = int(psql(svc.db, "SELECT max(id) FROM product"))
    r = http("POST", api + "/products", {"name": "苦瓜", "category": "蔬菜", "key_risk": True}, svc.auth(county))
    t.ok(r.status == 201 and r.json()["id"] == top + 1 and r.json()["default_unit"] == "kg",
         "the county regulator adds a product with the next id", r.body)
    pid = int(psql(svc.db, "SELECT id FROM product WHERE name = '芹菜'"))
    denied("PATCH", f"/products/{pid}", {"id": 999}, county, 400, "changing a product id")
    denied("PATCH", f"/products/{pid}", {"key_risk": "yes"}, county, 400, "key_risk must be a boolean")
    denied("PATCH", f"/products/{pid}", {"key_risk": False}, inspector, 403, "an inspector editing a product")
    r = http("PATCH", api + f"/products/{pid}", {"name": "西芹", "key_risk": False, "default_unit": "jin"},
             svc.auth(county))
    t.ok(r.status == 200 and r.json()["id"] == pid and r.json()["name"] == "西芹", "PATCH renames a product", r.body)
    t.eq(psql(svc.db, f"SELECT id FROM product WHERE name = '西芹'"), str(pid), "and its id is unchanged")
    t.eq(http("PATCH", api + "/products/60000", {"name": "x"}, svc.auth(county)).status, 404, "an unknown product")
    t.eq(http("DELETE", api + f"/products/{pid}", headers=svc.auth(admin)).status, 405, "products are never deleted")
    j = http("GET", api + "/products?key_risk=true&limit=200", headers=svc.auth(svc.token)).json()
    t.ok(j["total"] >= 1 and all(p["key_risk"] for p in j["items"]), "a producer lists the key-risk products", j)

    # Kiosks.
    kiosk = {"id": "fengcheng-01", "name": "凤城镇合格证自助服务站", "region_code": FENGCHENG, "cups_queue": "demo-kiosk"}
    denied("POST", "/kiosks", kiosk, fengcheng, 403, "a township regulator adding a kiosk")
    denied("POST", "/kiosks", dict(kiosk, id="Bad Id"), county, 400, "a bad kiosk id")
    denied("POST", "/kiosks", dict(kiosk, label_size="60x40"), county, 400, "a bad label size")
    r = http("POST", api + "/kiosks", kiosk, svc.auth(county))
    t.ok(r.status == 201 and r.json()["label_size"] == "60x40@203" and r.json()["status"] == "active",
         "the county regulator adds a kiosk", r.body)
    denied("POST", "/kiosks", kiosk, county, 409, "a kiosk id that exists")
    denied("PATCH", "/kiosks/fengcheng-01", {"id": "x"}, county, 400, "changing a kiosk id")
    r = http("PATCH", api + "/kiosks/fengcheng-01", {"status": "disabled"}, svc.auth(county))
    t.ok(r.status == 200 and r.json()["status"] == "disabled", "PATCH disables the kiosk", r.body)
    t.eq(http("GET", api + "/kiosks/fengcheng-01", headers=svc.auth(inspector)).json()["status"], "disabled",
         "GET the kiosk")
    t.eq(http("GET", api + "/kiosks?status=disabled", headers=svc.auth(inspector)).json()["total"], 1, "list kiosks")
    t.eq(http("GET", api + "/kiosks/nope", headers=svc.auth(inspector)).status, 404, "an unknown kiosk: 404")
    t.eq(http("GET", api + "/nothing-here", headers=svc.auth(inspector)).status, 404, "other API paths still 404")

    # Export round trip.
    out = svc.cli("export", "subjects")
    path = os.path.join(svc.tmp, "export.csv")
    with open(path, "w") as f:
        f.write(out.stdout)
    n = psql(svc.db, "SELECT count(*) FROM subject WHERE kind <> 'staff'")
    t.ok(out.stdout.startswith("kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status\n")
         and len(out.stdout.splitlines()) == int(n) + 1, "export subjects: a header and one line per subject")
    changes = psql(svc.db, "SELECT count(*) FROM subject_change")
    r = svc.cli("import", "subjects", path, check=False)
    t.ok(r.returncode == 0 and "(0 new" in r.stdout, "re-importing the export updates every subject", r.stderr + r.stdout)
    t.eq(psql(svc.db, "SELECT count(*) FROM subject WHERE kind <> 'staff'"), n, "no duplicates")
    t.eq(psql(svc.db, "SELECT count(*) FROM subject_change"), changes, "and no spurious grade or status changes")
    t.eq(svc.cli("export", "subjects").stdout, out.stdout, "the export is unchanged by the round trip")
    regions = svc.cli("export", "regions").stdout.splitlines()
    t.ok(regions[0] == "code,name,level,parent" and regions[1].startswith("350000000000,福建省,1,"),
         "export regions: parents first", regions[:2])
    products = svc.cli("export", "products").stdout.splitlines()
    t.ok(products[0] == "name,category,key_risk,default_unit,id,test_required_days" and f"西芹,蔬菜,no,jin,{pid}," in products,
         "export products", products[:3])
    t.ok("ERROR" not in svc.read_log() and "runtime error" not in svc.read_log(), "no errors in the service log",
         svc.read_log()[-2000:])
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
