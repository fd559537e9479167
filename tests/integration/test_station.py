"""Village service stations (issue 11): a station bound to its kiosk and its
villages enrols household producers (name, village, optional phone,
products, a PIN the farmer chooses), as township staff do within their
township; at its kiosk it opens a farmer's session once the farmer has
typed the PIN (代开). The farmer is the issuer; the certificate, the session
and the audit log name the station that helped; wrong PINs count toward the
farmer's lockout and say how many tries are left; the township statistics
count the certificate as a household's; the scan page names the township
office to call."""
from harness import CANNEI, FENGCHENG, http, psql, run_test, scan

STATION_PHONE = "13859007777"
STATION_PIN = "135246"
VILLAGE = "350524103201"     # 凤城镇示范村 (deploy/data/regions-anxi.csv)
NEW_VILLAGE = "350524103202"  # added below
OUTSIDE = "350524100201"      # a village of 参内镇, not the station's


def main():
    run_test("station", run)


def run(t, svc):
    with open(svc.config, "a") as f:
        f.write("printer.fc-station = demo-kiosk 60x40@203\n")
    county = svc.county_regulator().token
    office_id, fengcheng = svc.township_office(FENGCHENG)
    cannei = svc.township_office(CANNEI).token
    station_id = svc.add_subject("staff", "凤城镇示范村服务站", "0595-23208888", VILLAGE).id
    svc.cli("account", "add", "phone_pin", station_id, "station", STATION_PHONE, STATION_PIN)
    kiosk = svc.add_kiosk("fc-station", "凤城镇示范村服务站", office_id)
    other_kiosk = svc.add_kiosk("other-kiosk", "另一服务站", office_id)
    station_api = svc.add_token(station_id, "station")
    svc.start()
    api = svc.url + "/api/v1"

    def call(method, path, body=None, token=None):
        return http(method, api + path, body, svc.auth(token))

    for code, name, parent in ((NEW_VILLAGE, "凤城镇新村", FENGCHENG), (OUTSIDE, "参内镇溪口村", CANNEI)):
        t.eq(call("POST", "/regions", {"code": code, "name": name, "parent": parent}, county).status, 201,
             f"the county adds the village {name}")

    stations(t, call, county, fengcheng, station_id)
    session = station_login(t, svc, kiosk, other_kiosk)
    households = enrol(t, svc, call, session, fengcheng, cannei)
    assisted(t, svc, call, session, station_api, households, station_id, kiosk, other_kiosk, county)
    t.eq(svc.stop(), 0, "stopped")


def stations(t, call, county, fengcheng, station_id):
    body = {"subject": station_id, "villages": [VILLAGE, NEW_VILLAGE]}
    r = call("PUT", "/kiosks/fc-station/station", body, fengcheng)
    t.eq(r.status, 403, "a township regulator does not set up stations (the county does)")
    r = call("PUT", "/kiosks/fc-station/station", dict(body, villages=["350524103000"]), county)
    t.ok(r.status == 400 and r.json()["error"]["field"] == "villages", "a township is not a village", r.body)
    r = call("PUT", "/kiosks/fc-station/station", dict(body, villages=["350524103299"]), county)
    t.ok(r.status == 422 and r.json()["error"]["code"] == "unknown_village", "an unknown village: 422", r.body)
    r = call("PUT", "/kiosks/fc-station/station", body, county)
    t.ok(r.status == 200 and [v["name"] for v in r.json()["villages"]] == ["凤城镇示范村", "凤城镇新村"]
         and r.json()["subject"]["id"] == station_id, "the county makes the kiosk a station of two villages", r.body)
    r = call("PUT", "/kiosks/other-kiosk/station", body, county)
    t.ok(r.status == 409 and r.json()["error"]["code"] == "subject_taken",
         "one station subject serves one kiosk", r.body)


def station_login(t, svc, kiosk, other_kiosk):
    url = svc.url + "/api/v1/sessions"
    r = http("POST", url, {"phone": STATION_PHONE, "pin": STATION_PIN}, svc.auth(other_kiosk))
    t.eq(r.status, 403, "the station's account does not log in at another kiosk")
    r = http("POST", url, {"phone": STATION_PHONE, "pin": STATION_PIN}, svc.auth(kiosk))
    t.ok(r.status == 201 and r.json()["role"] == "station" and r.json()["kiosk"] == "fc-station",
         "the station logs in at its kiosk with phone and PIN", r.body)
    session = r.json()["token"]
    r = http("GET", svc.url + "/api/v1/kiosks/fc-station/station", headers=svc.auth(session))
    t.ok(r.status == 200 and len(r.json()["villages"]) == 2, "the station reads its villages", r.body)
    r = http("GET", svc.url + "/api/v1/kiosks/fc-station/station", headers=svc.auth(svc.token))
    t.eq(r.status, 403, "a producer does not")
    return session


def enrol(t, svc, call, session, fengcheng, cannei):
    farmer = {"name": "凤城镇农户林阿婆", "village": NEW_VILLAGE, "phone": "13905950001",
              "products": ["豇豆", "番茄"], "pin": "258013"}
    r = call("POST", "/households", farmer, session)
    lin = r.json()
    t.ok(r.status == 201 and lin["kind"] == "household" and lin["village_name"] == "凤城镇新村"
         and lin["products"] == ["豇豆", "番茄"] and lin["phone_login"] and lin["enrolled_by"] == "凤城镇示范村服务站",
         "the station enrols a farmer of its village with a phone, products and a PIN", r.body)
    wang = call("POST", "/households", {"name": "王奶奶", "village": VILLAGE, "pin": "369258"}, session).json()
    t.ok(wang.get("id") and not wang["phone_login"], "and one without a phone", wang)
    t.eq(psql(svc.db, f"SELECT kind || ' ' || login || ' ' || (secret_hash LIKE '$argon2id$%') FROM account "
                            f"WHERE subject_id = {wang['id']}"),
         f"pin household-{wang['id']} true", "who gets a PIN-only account, the PIN hashed with Argon2id")

    refusals = (
        ({"name": "李四", "village": OUTSIDE, "pin": "258013"}, session, 403, "outside_villages",
         "a village the station does not serve"),
        ({"name": "李四", "village": NEW_VILLAGE, "pin": "123456"}, session, 400, "weak_pin", "a PIN anyone would guess"),
        ({"name": "李四", "village": NEW_VILLAGE, "pin": "25801"}, session, 400, "invalid_pin", "a short PIN"),
        (dict(farmer, name="林阿公"), session, 409, "phone_taken", "a phone that already logs in"),
        ({"name": "李四", "village": NEW_VILLAGE, "pin": "258013", "products": ["香草冰淇淋"]}, session, 422,
         "unknown_product", "a product not in the catalogue"),
        ({"name": "李四", "village": NEW_VILLAGE, "pin": "258013"}, cannei, 403, "outside_jurisdiction",
         "another township's regulator"),
    )
    for body, token, status, code, what in refusals:
        r = call("POST", "/households", body, token)
        t.ok(r.status == status and r.json()["error"]["code"] == code, f"refused: {what} ({status} {code})", r.body)
    r = call("POST", "/households", {"name": "李四", "village": NEW_VILLAGE, "pin": "258013"}, svc.token)
    t.eq(r.status, 403, "a producer does not enrol anyone")

    r = call("POST", "/households", {"name": "凤城镇农户陈五", "village": NEW_VILLAGE, "phone": "13905950002",
                                     "pin": "470136"}, fengcheng)
    chen = r.json()
    t.ok(r.status == 201 and chen["enrolled_by"] == "凤城镇农安办", "the township office enrols too", r.body)
    r = call("POST", "/households", {"name": "参内镇农户郑六", "village": OUTSIDE, "pin": "470136"}, cannei)
    zheng = r.json()
    t.eq(r.status, 201, "参内镇's office enrols a farmer of its own village")

    r = call("GET", "/households", None, session)
    names = [x["name"] for x in r.json()["items"]]
    t.ok(r.status == 200 and sorted(names) == sorted(["凤城镇农户林阿婆", "王奶奶", "凤城镇农户陈五"]),
         "the station lists the farmers of its villages, whoever enrolled them", r.body)
    t.ok(all("****" in x["contact"] for x in r.json()["items"] if x.get("contact")),
         "with their phones masked", r.body)
    t.eq([x["name"] for x in call("GET", "/households?q=%E7%8E%8B", None, session).json()["items"]], ["王奶奶"],
         "and finds one by name")
    t.eq([x["name"] for x in call("GET", "/households", None, cannei).json()["items"]], ["参内镇农户郑六"],
         "参内镇's office lists only its own")
    return {"lin": lin, "wang": wang, "chen": chen, "zheng": zheng}


def assisted(t, svc, call, session, station_api, households, station_id, kiosk, other_kiosk, county):
    wang, lin, zheng = households["wang"], households["lin"], households["zheng"]
    r = call("POST", "/sessions/assisted", {"producer": wang["id"], "pin": "369259"}, session)
    err = r.json()["error"]
    t.ok(r.status == 401 and err["tries_left"] == 4 and "还可以再试4次" in err["message_zh"],
         "a wrong PIN: 401, saying how many tries are left", r.body)
    r = call("POST", "/sessions/assisted", {"producer": wang["id"], "pin": "369258"}, session)
    body = r.json()
    t.ok(r.status == 201 and body["role"] == "producer" and body["subject"]["id"] == wang["id"]
         and body["kiosk"] == "fc-station" and body["assisted_by"] == {"id": station_id, "name": "凤城镇示范村服务站"},
         "the farmer types the PIN: a session of the farmer, assisted by the station", r.body)
    farmer = body["token"]
    r = call("POST", "/sessions/assisted", {"producer": zheng["id"], "pin": "470136"}, session)
    t.ok(r.status == 403 and r.json()["error"]["code"] == "outside_villages",
         "not for a farmer of another station's village", r.body)
    r = call("POST", "/sessions/assisted", {"producer": wang["id"], "pin": "369258"}, station_api)
    t.eq(r.status, 403, "nor away from the station's kiosk")
    r = call("POST", "/sessions/assisted", {"producer": wang["id"], "pin": "369258"}, svc.token)
    t.eq(r.status, 403, "a producer does not assist")

    cert = issue_assisted(t, svc, call, farmer, wang, station_id)
    audit(t, svc, cert, station_id)
    r = call("GET", "/certificates?mine&limit=5", None, farmer)
    items = r.json().get("items", [])
    t.ok(r.status == 200 and r.json()["total"] == 1 and items[0]["id"] == cert["id"]
         and items[0]["assisted_by"] == "凤城镇示范村服务站" and items[0]["quantity"] == 5,
         "我的合格证 lists it, with who helped", r.body)
    r = call("POST", f"/certificates/{cert['id']}/reprint", {"printer": "fc-station"}, farmer)
    t.eq(r.status, 201, "the farmer reprints it at the station")
    r = call("GET", "/products/menu", None, farmer)
    t.ok(r.status == 200 and r.json()["mine"][0]["name"] == "豇豆" and r.json()["mine"][0]["uses"] == 1,
         "the farmer's menu offers the product issued first", r.body[:300])
    menu = r.json()
    t.ok(len(menu["categories"]) >= 8 and sum(len(c["products"]) for c in menu["categories"]) >= 300,
         "in a catalogue of hundreds of products in their categories",
         [(c["name"], len(c["products"])) for c in menu["categories"]])
    page = scan(svc, cert["items"][0]["code"], html=True).text
    t.ok("真实有效" in page and "王奶奶" in page and "凤城镇农安办" in page and "0595-23201234" in page,
         "the scan page names the farmer and the township office to call", page[:600])
    office = scan(svc, cert["items"][0]["code"]).json().get("office")
    t.eq(office, {"name": "凤城镇农安办", "phone": "0595-23201234"}, "and so does the scan's JSON, for apps")

    lockout(t, svc, call, session, lin, other_kiosk)
    st = call("GET", "/stats/townships", None, county).json()
    row = [x for x in st["townships"] if x["code"] == FENGCHENG][0]
    t.ok(row["household_certificates"] == 1 and row["certificates"] == 1,
         "the township statistics count it as a household's certificate", row)
    t.eq(call("DELETE", "/sessions/current", None, farmer).status, 204, "the farmer's session ends")
    t.eq(call("GET", "/households", None, session).status, 200, "the station's goes on")


def issue_assisted(t, svc, call, farmer, wang, station_id):
    body = {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": "福建省安溪县凤城镇凤城镇示范村",
            "origin_code": VILLAGE, "basis": "quality_control", "labels": 2, "printer": "fc-station"}
    r = call("POST", "/certificates", body, farmer)
    cert = r.json()
    t.ok(r.status == 201 and cert["issuer"]["id"] == wang["id"] and cert["issuer"]["name"] == "王奶奶"
         and cert["assisted_by"] == {"id": station_id, "name": "凤城镇示范村服务站"},
         "the farmer issues: the farmer is the issuer, the station assisted", r.body)
    t.eq(cert.get("contact"), "0595-23208888", "a farmer without a phone is reached through the station")
    t.eq(psql(svc.db, f"SELECT issuer_id || ' ' || assisted_by FROM certificate WHERE serial = {cert['id']}"),
         f"{wang['id']} {station_id}", "the certificate row records who assisted")
    r = call("POST", "/certificates", dict(body, printer="demo-kiosk"), farmer)
    t.ok(r.status in (403, 422), "the assisted session prints at the station only", r.body)
    return cert


def audit(t, svc, cert, station_id):
    row = psql(svc.db, "SELECT after -> 'assisted_by' ->> 0 FROM audit_log WHERE action = 'certificate.issue' "
                       f"AND object = 'certificate:{cert['id']}'")
    t.eq(row, str(station_id), "the audit log's issue entry names the station that assisted")
    actor = psql(svc.db, "SELECT actor FROM audit_log WHERE action = 'api_token.create' ORDER BY id DESC LIMIT 1")
    t.ok(actor.endswith(f"+assisted_by:{station_id}") and "@fc-station" in actor,
         "and the session was opened by the farmer at the kiosk, assisted by the station", actor)


def lockout(t, svc, call, session, lin, other_kiosk):
    tries = []
    for _ in range(3):
        r = call("POST", "/sessions/assisted", {"producer": lin["id"], "pin": "000000"}, session)
        tries.append((r.status, r.json()["error"].get("tries_left")))
    # The same lock as logging in alone: two more wrong PINs with the phone elsewhere.
    for _ in range(2):
        r = http("POST", svc.url + "/api/v1/sessions", {"phone": "13905950001", "pin": "000000"},
                 svc.auth(other_kiosk))
        tries.append((r.status, r.json()["error"].get("tries_left")))
    t.eq(tries, [(401, 4), (401, 3), (401, 2), (401, 1), (423, 0)],
         "wrong PINs at the station count toward the farmer's lockout: 4, 3, 2, 1 tries left, then locked")
    r = call("POST", "/sessions/assisted", {"producer": lin["id"], "pin": "258013"}, session)
    t.ok(r.status == 423 and r.json()["error"]["code"] == "account_locked",
         "locked, even the right PIN is refused at the station", r.body)
    items = call("GET", "/households?q=13905950001", None, session).json()["items"]
    t.ok(items and items[0]["locked"], "the station sees the farmer is locked", items)


if __name__ == "__main__":
    main()
