"""The regulator's dashboard in a real browser (Chromium driven by
playwright-core) with staff logins: a township's figures equal what the API
answers it, and so do the county's; a patrol with a photo, a revocation
with its preview and recall list, a quarantine import with its
reconciliation and a sampling plan checked against its seed, end to end;
CSV exports byte for byte (byte order mark, quoting, formulas neutralised);
the print layout. Screenshots are kept in the test's directory and, with
AGRICERT_UPDATE_SCREENSHOTS=1, in tests/browser/screenshots/."""
import base64
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import CANNEI, FENGCHENG, HUTOU, ROOT, http, issue, run_test, skip_all  # noqa: E402
from supervision_lib import excel_csv, redraw_plan, tiny_jpeg  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "agricert-test-pw"
SHOTS = ["dashboard-township", "dashboard-daily", "dashboard-patrols", "dashboard-revoke-preview",
         "dashboard-recall", "dashboard-quarantine", "dashboard-sampling", "dashboard-sampling-print"]
# Township table fields shown as plain numbers, and those shown as "done/quota".
PLAIN = ["producers", "certificates", "item_codes", "household_certificates", "household_share",
         "producers_under_20", "patrols_onsite", "patrols_online", "patrol_coverage", "rapid_tests_lab",
         "rapid_tests_own", "rapid_tests_failed"]
QUOTA = ["rapid_tests_colloidal_gold", "rapid_tests_enzyme_inhibition", "rapid_tests_veterinary", "rapid_tests"]


def main():
    if shutil.which("chromium") is None or shutil.which("node") is None:
        skip_all("chromium or node is not installed")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        skip_all("run tests/run (it installs playwright-core with npm ci)")
    run_test("dashboard", run, printers=False)


def api(svc, token, path):
    r = http("GET", svc.url + path, headers=svc.auth(token))
    assert r.status == 200, (path, r.status, r.body)
    return r


def number(text):
    """A cell's figure: its number, or the part before "/" of done/quota."""
    head = text.split("/")[0].strip()
    return float(head) if head else None


def same_table(page, doc):
    """Differences between the township table as shown and the API's document."""
    diff = []
    for row in doc["townships"]:
        shown = page.get(row["code"], {})
        for f in PLAIN + QUOTA:
            want = row[f]
            got = number(shown.get(f, ""))
            if (want is None and got is not None) or (want is not None and got != float(want)):
                diff.append(f"{row['name']} {f}: shown {shown.get(f)!r}, API {want!r}")
    return diff


def prepare(svc):
    """The people, their certificates and the files the flow uploads; the serial to revoke."""
    county = svc.county_regulator()
    fengcheng = svc.township_office(FENGCHENG)
    svc.cli("account", "add", "password", county.id, "county_regulator", "county", PASSWORD)
    svc.cli("account", "add", "password", fengcheng.id, "township_regulator", "fengcheng", PASSWORD)
    _, household = svc.second_producer(region="350524100201")
    _, coop = svc.add_subject("cooperative", "湖头镇绿源养殖专业合作社", "13805952222", "350524105201", "producer")
    _, buyer = svc.purchaser()
    for i in range(5):
        svc.add_subject("household", f"凤城镇农户{i}", f"1390000{i:04d}", "350524103201")
    year = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).year
    svc.cli("import", "quotas", year, os.path.join(ROOT, "deploy/data/anxi-rapid-test-quota-2023.csv"))
    svc.start()
    a = issue(svc, svc.token, "豇豆", 40, 2).json()
    issue(svc, svc.token, "生猪", 20, 1, {"unit": "head"})
    issue(svc, household, "韭菜", 15, 1, {"origin_code": "350524100201"})
    issue(svc, coop, "肉牛", 5, 1, {"unit": "head", "origin_code": "350524105201"})
    http("POST", svc.url + "/api/v1/receipts", {"receipts": [{"code": i["code"], "quantity": 20, "unit": "kg"} for i in a["items"]]},
         svc.auth(buyer))
    b = issue(svc, buyer, "豇豆", 10, 1, {"inputs": [{"certificate": a["id"], "quantity": 10, "unit": "kg"}]}).json()
    http("POST", svc.url + "/api/v1/rapid-tests", {"subject": svc.producer, "product": "豇豆", "method": "colloidal_gold",
                                                   "items": "毒死蜱", "result": "pass", "station": "凤城镇快检室",
                                                   "tester": "林检测员"}, svc.auth(fengcheng.token))
    with open(os.path.join(svc.tmp, "photo.jpg"), "wb") as f:
        f.write(tiny_jpeg())
    day = (datetime.datetime.utcnow() + datetime.timedelta(hours=8)).date()
    with open(os.path.join(svc.tmp, "quarantine.csv"), "w", encoding="utf-8") as f:
        f.write("检疫证号,货主,动物种类,数量,单位,启运地点,签发日期\r\n"
                f"3505000001,凤城镇示范家庭农场,生猪,18,头,福建省安溪县凤城镇,{day}\r\n"
                f"3505000002,湖头镇张三,肉牛,5,头,福建省安溪县湖头镇,{day}\r\n")
    return county, fengcheng, a["id"], b["id"]


def run(t, svc):
    county, fengcheng, serial, resold = prepare(svc)
    before_daily = api(svc, fengcheng.token, "/api/v1/stats/daily").json()
    before_table = api(svc, fengcheng.token, "/api/v1/stats/supervision?from={0}&to={1}".format(
        before_daily["from"], before_daily["to"])).json()
    out = subprocess.run(["node", os.path.join(HERE, "dashboard_flow.mjs"), svc.url, svc.tmp, str(serial)],
                         capture_output=True, text=True, timeout=240, cwd=HERE, stdin=subprocess.DEVNULL)
    seen = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
    t.ok("error" not in seen and out.returncode == 0, "the whole flow ran", seen.get("error", "") + out.stderr[-800:])
    t.eq(seen.get("errors"), [], "no script error on the page")
    t.ok("凤城镇" in (seen.get("who") or ""), "the township's login says whose jurisdiction it shows", seen.get("who"))
    t.eq(seen.get("period"), {"from": before_daily["from"], "to": before_daily["to"]},
         "the default period is the last 30 days, as the API's")

    # Figures: what the page shows is what the API answers that login.
    t.eq(set(seen.get("township") or {}), {FENGCHENG}, "a township's table has its own township alone")
    t.eq(same_table(seen.get("township") or {}, before_table), [], "凤城镇's figures equal the API's")
    t.ok(before_table["townships"][0]["certificates"] == 3, "(and they are not all zero)", before_table["townships"][0])
    t.eq(seen.get("dailyBars"), [[d["day"], d["certificates"]] for d in before_daily["days"]],
         "the daily chart has one bar per day with the API's counts")
    t.eq(seen.get("dailySum"), str(sum(d["certificates"] for d in before_daily["days"])), "and its total")
    whole = api(svc, county.token, "/api/v1/stats/supervision?from={0}&to={1}".format(
        before_daily["from"], before_daily["to"])).json()
    t.ok(set(seen.get("countyTownship") or {}) >= {FENGCHENG, CANNEI, HUTOU, "total"}, "the county's table has every township and a total")
    t.eq(same_table(seen.get("countyTownship") or {}, whole), [], "the county's figures equal the API's")
    csv_check(t, svc, county.token, seen.get("townshipCsv"),
              f"/api/v1/stats/supervision?from={before_daily['from']}&to={before_daily['to']}&format=csv", "township table")

    patrols(t, svc, fengcheng, seen)
    revocation(t, svc, fengcheng, seen, serial, resold)
    quarantine(t, svc, county, seen)
    sampling(t, svc, county, seen)
    t.ok(seen.get("print", {}).get("nav") == "none" and seen["print"]["form"] == "none" and seen["print"]["head"] == "block"
         and seen["print"]["table"] != "none" and "双随机抽检" in seen["print"]["headText"],
         "printed, the page drops navigation and forms and keeps the section with its heading", seen.get("print"))
    t.ok(os.path.getsize(os.path.join(svc.tmp, "dashboard-sampling-print.pdf")) > 5000, "a printable PDF of the plan")
    keep = os.environ.get("AGRICERT_UPDATE_SCREENSHOTS") and os.path.join(HERE, "screenshots")
    for name in SHOTS:
        path = os.path.join(svc.tmp, name + ".png")
        t.ok(os.path.exists(path) and os.path.getsize(path) > 5000, f"screenshot {name}.png")
        if keep and os.path.exists(path):
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, keep)


def csv_check(t, svc, token, got, path, what):
    """The downloaded file equals the API's bytes and opens in Excel."""
    body = base64.b64decode((got or {}).get("bytes", ""))
    t.eq(body, api(svc, token, path).body, f"the {what} CSV downloaded is the API's, byte for byte")
    problems, _ = excel_csv(body)
    t.eq(problems, [], f"the {what} CSV has a byte order mark, quoted cells and CRLF")


def patrols(t, svc, fengcheng, seen):
    t.ok("已保存" in (seen.get("patrolMessage") or "") and "照片 1 张" in seen["patrolMessage"],
         "a patrol with its photo is saved", seen.get("patrolMessage"))
    listed = api(svc, fengcheng.token, "/api/v1/patrols").json()["patrols"]
    mine = [p for p in listed if p["findings"] == "=1+1 农药使用记录不全"]
    photo = open(os.path.join(svc.tmp, "photo.jpg"), "rb").read()
    t.ok(len(mine) == 1 and mine[0]["outcome"] == "rectify" and mine[0]["checks"] == ["records", "certificate_use", "display"]
         and mine[0]["photos"][0]["sha256"] == hashlib.sha256(photo).hexdigest(),
         "the API has it with the photo's SHA-256", mine)
    t.ok(str(mine[0]["id"]) in (seen.get("patrols") or {}) if mine else False, "the page lists it")
    t.eq(seen.get("photoWidth"), 16, "and shows its photo, fetched with the token")
    body = base64.b64decode((seen.get("patrolsCsv") or {}).get("bytes", ""))
    problems, rows = excel_csv(body)
    cells = [r[9] for r in rows[1:]]
    t.ok(not problems and "'=1+1 农药使用记录不全" in cells and b'"\'=1+1' in body,
         "the patrols CSV neutralises the formula-like findings and quotes every cell", problems or cells)
    t.eq(body, api(svc, fengcheng.token, "/api/v1/patrols?format=csv").body, "and is the API's, byte for byte")


def revocation(t, svc, fengcheng, seen, serial, resold):
    preview = seen.get("preview") or {}
    t.eq(preview.get("would"), "2", "the preview says the revocation takes the certificate and the one made from it")
    t.eq(len(preview.get("rows", {})), 2, "and lists both")
    cert = api(svc, fengcheng.token, f"/api/v1/certificates/{serial}").json()
    t.ok(cert.get("revoked_at") and "下游 1 张" in (seen.get("revokeMessage") or ""),
         "revoking from the page revokes it and its downstream", seen.get("revokeMessage"))
    t.eq(set((seen.get("recall") or {}).keys()), {str(serial), str(resold)}, "the recall list has both certificates")
    body = base64.b64decode((seen.get("recallCsv") or {}).get("bytes", ""))
    problems, rows = excel_csv(body)
    t.ok(not problems and len(rows) == 3 and "安溪县凤城农产品收购站" in rows[1][7],
         "the recall list exports for Excel with the holder and its telephone", problems or rows)


def quarantine(t, svc, county, seen):
    t.ok("已导入 2 条" in (seen.get("quarantineResult") or ""), "the county imports the quarantine file", seen.get("quarantineResult"))
    doc = api(svc, county.token, "/api/v1/quarantine/reconciliation").json()
    t.eq(sorted(seen.get("reconciliation") or []), sorted(d["kind"] for d in doc["discrepancies"]),
         "the reconciliation shown is the API's")
    t.ok({"quantity_over", "owner_mismatch"} <= set(seen.get("reconciliation") or []), "with the pigs over and the cattle's owner")
    csv_check(t, svc, county.token, seen.get("reconciliationCsv"), "/api/v1/quarantine/reconciliation?from={0}&to={1}&format=csv".format(
        doc["from"], doc["to"]), "reconciliation")


def sampling(t, svc, county, seen):
    shown = seen.get("plan") or {}
    plan = api(svc, county.token, f"/api/v1/sampling-plans/{shown.get('id')}").json()
    t.ok(shown.get("seed") == plan["seed"] and shown.get("picks") == [str(p["subject"]) for p in plan["picks"]]
         and len(plan["picks"]) == 2, "the plan drawn on the page is the API's, seed and picks", shown)
    t.eq((seen.get("redraw") or {}).get("matches"), "true", "redrawn from its seed, it comes out the same")
    t.eq([(p["draw"], p["subject"], p["inspector"]) for p in plan["picks"]], redraw_plan(plan),
         "and so it does in Python from what the plan publishes")
    csv_check(t, svc, county.token, seen.get("planCsv"), f"/api/v1/sampling-plans/{plan['id']}?format=csv", "sampling plan")


if __name__ == "__main__":
    main()
