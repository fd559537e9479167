"""Certificates from outside (issue 10, part 3): a purchaser registers a paper
certificate, a test report, or a lot backed by its own passing rapid test,
with a photo (a JPEG of at most 2 MB, kept with its SHA-256, uploaded on its
own route with its own body limit); they are re-issue inputs under the same
rules, and show in the stock, the trace (as leaves), a recall and the EPCIS
export. Who may do what: a producer may not register, a purchaser sees only
its own, staff their jurisdiction."""
import hashlib
import threading

from harness import CANNEI, epcis_errors, http, issue, psql, run_test, try_psql


def main():
    run_test("external", run, printers=False)


def jpeg(size):
    """size bytes that start as a JPEG does (SOI, APP0) and end with EOI."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    body = hashlib.sha256(str(size).encode()).digest() * (size // 32 + 1)
    return head + body[:size - len(head) - 2] + b"\xff\xd9"


def run(t, svc):
    p_id, buyer = svc.purchaser()
    q_id, other = svc.add_subject("collector", "安溪县参内农产品收购站", "13859007777", CANNEI, "purchaser")
    county = svc.county_regulator().token
    cannei = svc.township_office(CANNEI).token
    svc.start()
    url = svc.url
    api = url + "/api/v1/external-certificates"

    def register(token, **fields):
        return http("POST", api, fields, svc.auth(token))

    def put_photo(token, ext, data, ctype="image/jpeg"):
        return http("PUT", f"{api}/{ext}/photo", data, svc.auth(token, **{"Content-Type": ctype}))

    def error(r):
        return (r.status, r.json().get("error", {}).get("code"))

    paper = dict(kind="certificate", number="闽安-2026-000173", issuer_name="湖头镇散户王六", contact="13905951234",
                 product="豇豆", quantity=50, unit="kg", origin="福建省安溪县湖头镇", origin_code="350524105201",
                 date="2026-03-02")

    # Registering: purchasers only, every field checked.
    t.eq(register(svc.token, **paper).status, 403, "a producer may not register an external certificate")
    r = register(buyer, **paper)
    ext = r.json()
    t.ok(r.status == 201 and ext["kind"] == "certificate" and ext["number"] == paper["number"]
         and ext["quantity"] == 50 and ext["left"] == 50 and ext["purchaser"]["id"] == p_id and ext["photo"] is None,
         "a purchaser registers a paper certificate", r.body)
    for change, want, what in [
            ({"number": None}, (400, "missing_field"), "a certificate without its number"),
            ({"product": "榴莲"}, (422, "unknown_product"), "a product not in the catalogue"),
            ({"quantity": 0}, (400, "invalid_field"), "a quantity of 0"),
            ({"date": "2026-3-2"}, (400, "invalid_field"), "a date not written YYYY-MM-DD"),
            ({"test": 1}, (400, "unexpected_field"), "a rapid test on a certificate"),
            ({"colour": "green"}, (400, "unknown_field"), "an unknown field")]:
        body = {k: v for k, v in dict(paper, **change).items() if v is not None}
        t.eq(error(register(buyer, **body)), want, f"refused: {what}")
    report = dict(paper, kind="test_report", lab="安溪县农产品质量安全检验检测中心", report_number="AX-2026-0412",
                  result="pass")
    del report["number"]
    r = register(buyer, **report)
    t.ok(r.status == 201 and r.json()["lab"] == report["lab"], "a passing test report is registered", r.body)
    t.eq(error(register(buyer, **dict(report, result="fail"))), (422, "report_not_passing"),
         "a failed test report is not (不合格不上市)")
    test = {"subject": p_id, "product": "豇豆", "method": "colloidal_gold", "items": "毒死蜱、克百威",
            "result": "pass", "station": "凤城镇农产品快检室", "tester": "林检测员"}
    passed = http("POST", url + "/api/v1/rapid-tests", test, svc.auth(county)).json()["id"]
    failed = http("POST", url + "/api/v1/rapid-tests", dict(test, result="fail"), svc.auth(county)).json()["id"]
    own = dict(kind="own_test", issuer_name="凤城镇农户陈七", product="豇豆", quantity=30, unit="kg",
               origin="福建省安溪县凤城镇", date="2026-03-02")
    r = register(buyer, **own, test=passed)
    t.ok(r.status == 201 and r.json()["test"] == passed, "a lot without a certificate, backed by its own passing test",
         r.body)
    t.eq(error(register(buyer, **own, test=failed)), (422, "test_not_passing"), "a failed test backs nothing")
    t.eq(error(register(other, **own, test=passed)), (422, "test_not_passing"), "nor another purchaser's test")

    # The photo: a JPEG of at most 2 MB, on its own route.
    photo = jpeg(150000)
    r = put_photo(buyer, ext["id"], photo)
    t.ok(r.status == 200 and r.json()["photo"]["sha256"] == hashlib.sha256(photo).hexdigest()
         and r.json()["photo"]["bytes"] == len(photo), "a 150 KB photo is stored with its SHA-256", r.body)
    t.eq(psql(svc.db, f"SELECT sha256 FROM external_photo WHERE external_id = {ext['id']}"),
         hashlib.sha256(photo).hexdigest(), "the database keeps the photo and its hash")
    r = http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(buyer))
    t.ok(r.status == 200 and r.body == photo and {k.lower(): v for k, v in r.headers.items()}.get("content-type")
         == "image/jpeg",
         "the purchaser gets the same bytes back as image/jpeg")
    t.ok(http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(county)).body == photo, "so does the county")
    t.eq(http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(other)).status, 403, "another purchaser may not")
    t.eq(http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(cannei)).status, 403,
         "nor another township's regulator")
    t.eq(http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(svc.token)).status, 403, "nor a producer")
    t.eq(put_photo(other, ext["id"], photo).status, 403, "only its purchaser adds the photo")
    t.eq(error(put_photo(buyer, ext["id"], b"\x89PNG\r\n\x1a\n" + photo[8:])), (422, "not_jpeg"), "a PNG is refused")
    t.eq(error(put_photo(buyer, ext["id"], photo, "image/png")), (415, "unsupported_media_type"),
         "so is another Content-Type")
    big = jpeg(2 * 1024 * 1024)
    t.eq(put_photo(buyer, ext["id"], big).status, 200, "a photo of exactly 2 MB is taken")
    r = put_photo(buyer, ext["id"], jpeg(2 * 1024 * 1024 + 1))
    t.ok(error(r) == (413, "body_too_large") and "2097152" in r.json()["error"]["message"],
         "one byte more: 413 body_too_large, the project's JSON error naming the limit", r.body)
    t.eq(http("GET", f"{api}/{ext['id']}/photo", headers=svc.auth(buyer)).body, big, "the 2 MB photo stayed")
    r = http("POST", url + "/api/v1/receipts", {"receipts": [{"code": "x" * 100}] * 1000}, svc.auth(buyer))
    t.ok(error(r) == (413, "body_too_large") and "65536" in r.json()["error"]["message"],
         "other routes keep the 64 KB limit (JSON 413)", r.body[:300])

    # Lists: one's own; staff their jurisdiction.
    mine = http("GET", api, headers=svc.auth(buyer)).json()["items"]
    t.ok(len(mine) == 3 and {x["kind"] for x in mine} == {"certificate", "test_report", "own_test"}
         and mine[-1]["photo"]["sha256"] == hashlib.sha256(big).hexdigest(), "the purchaser lists its three", mine)
    t.eq(http("GET", api, headers=svc.auth(other)).json()["items"], [], "another purchaser sees none of them")
    t.eq(len(http("GET", api, headers=svc.auth(county)).json()["items"]), 3, "the county sees them")
    t.eq(http("GET", api, headers=svc.auth(cannei)).json()["items"], [], "参内镇's office does not (凤城镇's purchaser)")
    t.eq(http("GET", api, headers=svc.auth(svc.token)).status, 403, "a producer may not list")

    # Re-issue inputs under the same rules.
    farm = issue(svc, svc.token, "豇豆", 40, 1).json()
    http("POST", url + "/api/v1/receipts", {"receipts": [{"code": farm["items"][0]["code"]}]}, svc.auth(buyer))

    def reissue(token, qty, inputs, unit="kg"):
        return issue(svc, token, "豇豆", qty, 1, {"unit": unit, "inputs": inputs})

    r = reissue(buyer, 60, [{"external": ext["id"], "quantity": 60, "unit": "kg"}])
    t.ok(error(r) == (409, "insufficient_input") and "外来合格证" in r.json()["error"]["message_zh"]
         and "还差 10 千克" in r.json()["error"]["message_zh"], "drawing 60 kg from a 50 kg paper certificate: refused",
         r.body)
    t.eq(error(reissue(buyer, 5, [{"external": ext["id"], "quantity": 5, "unit": "box"}])), (422, "unit_mismatch"),
         "boxes from a kg lot: refused")
    t.eq(error(reissue(other, 5, [{"external": ext["id"], "quantity": 5, "unit": "kg"}])), (422, "unknown_external"),
         "another purchaser's external certificate: refused")
    r = reissue(buyer, 65, [{"certificate": farm["id"], "quantity": 40, "unit": "kg"},
                            {"external": ext["id"], "quantity": 50, "unit": "jin"}])
    mix = r.json()
    t.ok(r.status == 201 and mix["style"] == 2, "a mix of a farm's certificate and 50 斤 of the paper one", r.body)
    got = []

    def draw():
        got.append(reissue(buyer, 15, [{"external": ext["id"], "quantity": 15, "unit": "kg"}]).status)
    threads = [threading.Thread(target=draw) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.eq(sorted(got), [201, 409, 409, 409], "4 racing 15 kg draws from the 25 kg left: exactly one")
    t.eq(psql(svc.db, "SELECT round(sum(unit_convert(quantity_milli, unit, 1::smallint))) FROM external_input "
                      f"WHERE external_id = {ext['id']}"), "40000", "the database never lets the draws exceed the lot")

    # Stock, trace, recall and EPCIS.
    stock = [x for x in http("GET", url + "/api/v1/stock", headers=svc.auth(buyer)).json()["items"]
             if x.get("external") == ext["id"]]
    t.ok(stock and stock[0]["certificate"] is None and stock[0]["number"] == paper["number"]
         and (stock[0]["received"], stock[0]["used"], stock[0]["left"]) == (50, 40, 10)
         and stock[0]["issuer"]["name"] == "湖头镇散户王六", "the stock lists the paper certificate", stock)
    up = http("GET", url + f"/api/v1/certificates/{mix['id']}/trace?direction=upstream", headers=svc.auth(county)).json()
    leaves = [n for n in up["nodes"] if n.get("external") == ext["id"]]
    t.ok(len(leaves) == 1 and leaves[0]["certificate"] is None and leaves[0]["external_kind"] == "certificate"
         and leaves[0]["number"] == paper["number"] and leaves[0]["issuer"]["kind"] == "external"
         and leaves[0]["drawn"] == {"quantity": 50, "unit": "jin"} and leaves[0]["via"] == mix["id"],
         "the upstream trace shows the external lot as a leaf, marked external", up)
    rec = http("GET", f"{api}/{ext['id']}/recall", headers=svc.auth(county))
    affected = {x["certificate"]: x for x in rec.json().get("affected", [])} if rec.status == 200 else {}
    t.ok(len(affected) == 2 and mix["id"] in affected and all(x["depth"] == 1 for x in affected.values())
         and affected[mix["id"]]["issuer"]["name"] == "安溪县凤城农产品收购站"
         and rec.json()["external"]["number"] == paper["number"],
         "the recall from the paper certificate lists the two certificates made from it", rec.body)
    t.eq(http("GET", f"{api}/{ext['id']}/recall", headers=svc.auth(buyer)).status, 403, "the recall is for staff")
    doc = http("GET", url + f"/api/v1/certificates/{mix['id']}/epcis", headers=svc.auth(county)).json()
    events = doc.get("epcisBody", {}).get("eventList", [])
    lot = f"urn:agricert:external:{ext['id']}"
    added = [e for e in events if e["type"] == "ObjectEvent" and e["quantityList"][0]["epcClass"] == lot]
    tr = [e for e in events if e["type"] == "TransformationEvent"]
    t.ok(len(added) == 1 and added[0]["action"] == "ADD" and added[0]["quantityList"][0]["quantity"] == 50
         and tr and {"epcClass": lot, "quantity": 25, "uom": "KGM"} in tr[0]["inputQuantityList"],
         "EPCIS: an ObjectEvent adds the external lot, the transformation consumes 50 斤 of it", events)
    errors = epcis_errors(doc)
    t.ok(not errors, "the EPCIS export with the external lot validates against EPCIS-JSON-Schema.json", errors[:5])

    # Kept at least as long as receipts.
    rc, out = try_psql(svc.db, f"DELETE FROM external_photo WHERE external_id = {ext['id']}")
    t.ok(rc != 0 and "AC002" in out, "the owner cannot delete a photo younger than 6 months", out)
    rc, out = try_psql(svc.db, f"DELETE FROM external_certificate WHERE id = {mine[0]['id']}")
    t.ok(rc != 0 and "AC002" in out and "至少保存6个月" in out, "nor an external certificate", out)
    rc, out = try_psql(svc.app_db, f"DELETE FROM external_certificate WHERE id = {mine[0]['id']}")
    t.ok(rc != 0 and "permission denied" in out, "the service's role may not delete them at all", out)
    t.eq(svc.stop(), 0, "agricertd stops cleanly")


if __name__ == "__main__":
    main()
