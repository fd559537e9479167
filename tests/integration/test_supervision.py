"""Supervision (issue 13, parts 3-5) through the API, with the permission
paths: township staff record patrols of their producers with photos
(JPEG, at most 2 MiB, SHA-256 kept), coverage per month and the producers
not visited this quarter; animal quarantine certificates imported as CSV
(all lines or none) and reconciled against the livestock certificates;
monthly sampling plans drawn from a recorded seed that anyone can redraw.
A township sees its own, a county its county, producers and inspectors
nothing."""
import base64
import datetime
import hashlib

import harness
from harness import CANNEI, FENGCHENG, HUTOU, http, psql, run_test
from supervision_lib import excel_csv, redraw_plan, tiny_jpeg

TODAY = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()


def main():
    run_test("supervision", run, printers=False)


def run(t, svc):
    cast = {
        "farm": (svc.producer, svc.token),
        "household": svc.second_producer(region="350524100201"),
        "coop": svc.add_subject("cooperative", "湖头镇绿源养殖专业合作社", "13805952222", "350524105201", "producer"),
        "county": svc.county_regulator(),
        "fengcheng": svc.township_office(FENGCHENG),
        "cannei": svc.township_office(CANNEI),
        "inspector": svc.market_inspector(),
    }
    svc.start()
    patrols(t, svc, cast)
    quarantine(t, svc, cast)
    sampling(t, svc, cast)


def call(svc, method, path, token, body=None, headers=None):
    h = svc.auth(token)
    h.update(headers or {})
    return http(method, svc.url + path, body, h)


def code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError):
        return None


def patrols(t, svc, cast):
    farm, household = cast["farm"][0], cast["household"].id
    fc, cn, county = cast["fengcheng"].token, cast["cannei"].token, cast["county"].token
    visit = {"subject": farm, "checks": ["records", "certificate_use", "display"],
             "findings": "生产记录齐全，合格证按批开具，门店亮证", "outcome": "compliant"}
    r = call(svc, "POST", "/api/v1/patrols", fc, visit)
    t.ok(r.status == 201 and r.json()["id"] > 0, "凤城镇's office records a visit to its family farm", r.body)
    pid = r.json()["id"]
    online = dict(visit, mode="online", checks=["records"], findings="线上查看生产记录", visited_on=str(TODAY - datetime.timedelta(days=1)))
    t.eq(call(svc, "POST", "/api/v1/patrols", fc, online).status, 201, "and an online check dated yesterday")

    refused = [
        (fc, dict(visit, subject=household), 403, "outside_jurisdiction", "a township may not patrol another township's producer"),
        (fc, dict(visit, subject=cast["fengcheng"].id), 422, "not_a_producer", "only producers are patrolled"),
        (fc, dict(visit, subject=999999), 404, "unknown_subject", "an unknown subject is 404"),
        (fc, dict(visit, checks=["records", "records"]), 400, "invalid_checks", "each check at most once"),
        (fc, dict(visit, checks=["weather"]), 400, "invalid_checks", "only the four kinds of check"),
        (fc, dict(visit, outcome="fine"), 400, "invalid_patrol", "the outcome is compliant, rectify or referred"),
        (fc, dict(visit, visited_on=str(TODAY + datetime.timedelta(days=1))), 422, "invalid_date", "not in the future"),
        (fc, dict(visit, rapid_test=12345), 422, "unknown_rapid_test", "a rapid test must be the producer's"),
        (cast["farm"][1], visit, 403, "forbidden", "a producer records no patrols"),
        (cast["inspector"].token, visit, 403, "forbidden", "nor does a market inspector"),
    ]
    for token, body, status, err, what in refused:
        r = call(svc, "POST", "/api/v1/patrols", token, body)
        t.ok(r.status == status and code(r) == err, what, r.body)
    r = call(svc, "POST", "/api/v1/patrols", cn, dict(visit, subject=household, outcome="rectify",
                                                     findings="未按批开具合格证，责令7日内整改"))
    t.eq(r.status, 201, "参内镇's office patrols its household")

    # Photos: JPEG only, 2 MiB at most, kept with their SHA-256.
    jpeg = tiny_jpeg()
    photo = lambda data, token=fc, patrol=pid: call(svc, "POST", f"/api/v1/patrols/{patrol}/photos", token,
                                                    {"photo": base64.b64encode(data).decode()})
    r = photo(jpeg)
    t.ok(r.status == 201 and r.json()["sha256"] == hashlib.sha256(jpeg).hexdigest() and r.json()["bytes"] == len(jpeg),
         "a photo is kept with its SHA-256", r.body)
    got = call(svc, "GET", r.json()["path"], fc)
    ctype = {k.lower(): v for k, v in got.headers.items()}.get("content-type")
    t.ok(got.status == 200 and got.body == jpeg and ctype == "image/jpeg",
         "and read back byte for byte as image/jpeg", got.headers)
    r = photo(jpeg)
    t.ok(r.status == 200 and r.json()["duplicate"], "the same photo twice is kept once", r.body)
    big = jpeg[:4] + b"\0" * (2 * 1024 * 1024 - len(jpeg)) + jpeg[4:]
    t.eq(photo(big[:2 * 1024 * 1024]).status, 201, "a photo of exactly 2 MiB is taken")
    r = photo(big[:2 * 1024 * 1024] + b"\0")
    t.ok(r.status == 413 and code(r) == "photo_too_large", "one byte more is refused", r.body)
    r = photo(big + b"\0" * (1024 * 1024))
    t.ok(r.status == 413 and code(r) == "body_too_large", "a body over the photo route's 3 MiB is refused unread", r.body)
    r = call(svc, "POST", "/api/v1/patrols", fc, dict(visit, findings="x" * 70000))
    t.ok(r.status == 413 and code(r) == "body_too_large", "other routes keep the 64 KiB limit", r.body)
    r = photo(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    t.ok(r.status == 415 and code(r) == "photo_not_jpeg", "a PNG is refused", r.body)
    r = call(svc, "POST", f"/api/v1/patrols/{pid}/photos", fc, {"photo": "not base64 at all!"})
    t.ok(r.status == 400 and code(r) == "invalid_photo", "so is text that is not base64", r.body)
    r = photo(jpeg, token=cn)
    t.ok(r.status == 403 and code(r) == "outside_jurisdiction", "another township may not add photos", r.body)
    t.eq(call(svc, "GET", f"/api/v1/patrols/{pid}/photos/1", cn).status, 403, "nor read them")
    t.eq(photo(jpeg, patrol=99999).status, 404, "a photo of an unknown patrol is 404")
    for i in range(4):
        photo(jpeg + bytes([i]))
    r = photo(jpeg + b"\x09")
    t.ok(r.status == 409 and code(r) == "too_many_photos", "a patrol keeps at most 6 photos", r.body)

    # Reading: one's own township, the county all of it.
    mine = call(svc, "GET", "/api/v1/patrols", fc).json()["patrols"]
    t.ok({p["subject"] for p in mine} == {farm} and len(mine) == 2 and len(mine[0]["photos"]) + len(mine[1]["photos"]) == 6,
         "凤城镇 lists its two patrols with their photos", mine)
    t.eq(len(call(svc, "GET", "/api/v1/patrols", county).json()["patrols"]), 3, "the county lists all three")
    t.eq(call(svc, "GET", f"/api/v1/patrols/{pid}", cn).status, 403, "参内镇 may not read 凤城镇's patrol")
    t.eq(call(svc, "GET", "/api/v1/patrols", cast["farm"][1]).status, 403, "a producer reads no patrols")
    r = call(svc, "GET", f"/api/v1/patrols?subject={farm}&format=csv", county)
    problems, rows = excel_csv(r.body)
    t.ok(r.status == 200 and not problems and len(rows) == 3 and rows[1][4] == "凤城镇示范家庭农场",
         "the CSV of a producer's patrols opens in Excel", problems or rows)

    cov = call(svc, "GET", f"/api/v1/patrols/coverage?year={TODAY.year}", county).json()
    town = {x["code"]: x for x in cov["townships"]}
    month = town[FENGCHENG]["months"][TODAY.month - 1]
    t.ok(month["onsite"] == 1 and month["patrolled"] == 1 and month["coverage"] == 100.0,
         "coverage: 凤城镇 patrolled its one producer this month", month)
    t.ok(set(town) >= {FENGCHENG, CANNEI, HUTOU}, "the county's coverage has every township")
    t.eq([x["code"] for x in call(svc, "GET", "/api/v1/patrols/coverage", fc).json()["townships"]], [FENGCHENG],
         "a township's coverage is its own")
    left = call(svc, "GET", "/api/v1/patrols/unvisited", county).json()["producers"]
    t.ok({p["id"] for p in left} == {cast["coop"].id}, "not visited this quarter: the cooperative in 湖头镇 alone", left)


def quarantine(t, svc, cast):
    farm_tok = cast["farm"][1]
    county, cn = cast["county"].token, cast["cannei"].token
    issue = lambda tok, product, qty, unit, origin: harness.issue(svc, tok, product, qty, 1, {"unit": unit, "origin_code": origin})
    issue(farm_tok, "生猪", 20, "head", "350524103201")        # the quarantine certificate says 18
    issue(farm_tok, "乌鸡", 100, "only", "350524103201")        # matches
    issue(cast["coop"].token, "肉牛", 5, "head", "350524105201")  # someone else's quarantine certificate
    issue(cast["household"].token, "肉羊", 10, "head", "350524100201")  # none
    day = str(TODAY)
    lines = ["number,owner,species,quantity,unit,origin,date",
             f"3505240001,凤城镇示范家庭农场,生猪,18,头,福建省安溪县凤城镇,{day}",
             f"3505240002,凤城镇示范家庭农场,乌鸡,100,只,350524103201,{day}",
             f"3505240003,湖头镇张三,牛,5,head,福建省泉州市安溪县湖头镇,{day}",
             f'3505240004,"参内镇农户李四",乌鸡,50,只,参内镇,{day}']
    csv = lambda rows: ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()
    post = lambda body, tok=county, ctype="text/csv": call(svc, "POST", "/api/v1/quarantine-certificates", tok, body,
                                                             {"Content-Type": ctype})
    r = post(csv(lines))
    t.ok(r.status == 201 and r.json()["imported"] == 4 and r.json()["new"] == 4, "the county imports four quarantine certificates", r.body)
    r = post(csv(lines[:2]))
    t.ok(r.status == 201 and r.json()["updated"] == 1, "importing one again updates it", r.body)
    bad = lines[:2] + ["3505240005,某人,骆驼,5,只,凤城镇," + day, "x,某人,生猪,0,头,火星," + day]
    r = post(csv(bad))
    rejected = {x["line"]: x for x in r.json().get("rejected", [])}
    t.ok(r.status == 422 and code(r) == "rejected_rows" and set(rejected) == {3, 4}
         and "畜禽" in rejected[3]["message_zh"], "lines at fault are named, each saying why", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM quarantine_certificate"), "4", "and nothing of that file was imported")
    r = post(csv([lines[0], lines[3]]), tok=cn)
    t.ok(r.status == 422 and "辖区" in r.json()["rejected"][0]["message_zh"], "参内镇 may not import 湖头镇's certificates", r.body)
    t.eq(post(csv(lines), ctype="application/json").status, 415, "the file is sent as text/csv")
    t.eq(post(csv(["number,owner"])).status, 422, "a file needs the header")
    t.eq(post(csv(lines), tok=cast["inspector"].token).status, 403, "an inspector imports nothing")

    rec = call(svc, "GET", "/api/v1/quarantine/reconciliation", county).json()
    found = {(x["kind"], x["product"]): x for x in rec["discrepancies"]}
    t.eq(sorted(found), [("missing_certificate", "乌鸡"), ("missing_quarantine", "肉羊"), ("owner_mismatch", "肉牛"),
                         ("quantity_over", "生猪")], "the reconciliation finds each kind of mismatch once")
    t.ok(found[("quantity_over", "生猪")]["quarantine_quantity"] == "18" and
         found[("quantity_over", "生猪")]["certificates"][0]["quantity"] == "20", "20 head certified against 18 quarantined")
    t.ok(found[("owner_mismatch", "肉牛")]["owner"] == "湖头镇张三" and
         found[("owner_mismatch", "肉牛")]["certificates"][0]["issuer"] == "湖头镇绿源养殖专业合作社",
         "the cattle's owner is not the cooperative that certified them")
    t.eq(rec["summary"]["matched"], 2, "two quarantine certificates meet their certificates")
    mine = call(svc, "GET", "/api/v1/quarantine/reconciliation", cn).json()["discrepancies"]
    t.eq(sorted(x["kind"] for x in mine), ["missing_certificate", "missing_quarantine"], "参内镇 sees its own two")
    r = call(svc, "GET", f"/api/v1/quarantine/reconciliation?from={day}&to={TODAY + datetime.timedelta(days=1)}&format=csv", county)
    problems, rows = excel_csv(r.body)
    t.ok(not problems and len(rows) == 5 and rows[0][1] == "问题类型", "the reconciliation as CSV", problems or rows)
    t.eq(call(svc, "GET", "/api/v1/quarantine/reconciliation", cast["farm"][1]).status, 403, "a producer sees none of it")


def sampling(t, svc, cast):
    fc, cn, county = cast["fengcheng"].token, cast["cannei"].token, cast["county"].token
    for i in range(12):
        svc.add_subject("household", f"凤城镇农户{i:02d}", f"1380000{i:04d}", "350524103201")
    psql(svc.db, "UPDATE subject SET credit_grade = 'C' WHERE name IN ('凤城镇农户03', '凤城镇农户07')")
    month = TODAY.strftime("%Y-%m")
    r = call(svc, "POST", "/api/v1/sampling-plans", fc, {"township": FENGCHENG, "size": 4})
    plan = r.json()
    t.ok(r.status == 201 and plan["month"] == month and len(plan["picks"]) == 4 and len(plan["seed"]) == 32,
         "凤城镇 draws this month's plan of 4 with a recorded seed", r.body)
    weights = {c["name"]: c["weight"] for c in plan["candidates"]}
    t.ok(weights["凤城镇农户03"] == 4 * weights["凤城镇农户01"], "a C-grade producer weighs four times an A", weights)
    t.eq([(p["draw"], p["subject"], p["inspector"]) for p in plan["picks"]], redraw_plan(plan),
         "the draw is reproduced from the published seed, candidates and weights (sql/SAMPLING.md)")
    again = call(svc, "GET", f"/api/v1/sampling-plans/{plan['id']}/redraw", fc).json()
    t.ok(again["matches"] and [p["subject"] for p in again["picks"]] == [p["subject"] for p in plan["picks"]],
         "and by the service from its records", again)
    r = call(svc, "POST", "/api/v1/sampling-plans", county, {"township": FENGCHENG, "month": month})
    t.ok(r.status == 409 and code(r) == "plan_exists" and r.json()["plan"] == plan["id"],
         "a month's plan is drawn once: no redrawing until the sample suits", r.body)
    r = call(svc, "POST", "/api/v1/sampling-plans", fc, {"township": CANNEI})
    t.ok(r.status == 403 and code(r) == "outside_jurisdiction", "凤城镇 may not draw 参内镇's plan", r.body)
    r = call(svc, "POST", "/api/v1/sampling-plans", county, {"township": "350524122000"})
    t.ok(r.status == 404 and code(r) == "unknown_township", "an unknown township is 404", r.body)
    r = call(svc, "POST", "/api/v1/sampling-plans", county, {"township": "350524111000"})
    t.ok(r.status == 422 and code(r) == "no_producers", "a township without producers has no plan", r.body)
    t.eq(code(call(svc, "POST", "/api/v1/sampling-plans", county, {"township": FENGCHENG, "month": "2026-13"})),
         "invalid_plan", "the month is YYYY-MM")
    t.eq(call(svc, "GET", f"/api/v1/sampling-plans/{plan['id']}", cn).status, 403, "参内镇 may not read it")
    t.eq(call(svc, "POST", "/api/v1/sampling-plans", cast["farm"][1], {"township": FENGCHENG}).status, 403,
         "a producer draws nothing")
    listed = call(svc, "GET", f"/api/v1/sampling-plans?month={month}", county).json()["plans"]
    t.eq([p["id"] for p in listed], [plan["id"]], "the county lists the month's plans")
    t.eq(call(svc, "GET", "/api/v1/sampling-plans", cn).json()["plans"], [], "参内镇 has none")
    r = call(svc, "GET", f"/api/v1/sampling-plans/{plan['id']}?format=csv", fc)
    problems, rows = excel_csv(r.body)
    drawn = [row for row in rows[1:] if row[12]]
    t.ok(not problems and len(rows) == 1 + len(plan["candidates"]) and len(drawn) == 4 and rows[1][3] == plan["seed"],
         "the plan as CSV: every candidate, its weight, the seed and the draw", problems or rows[:3])


if __name__ == "__main__":
    main()
