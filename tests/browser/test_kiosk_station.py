"""The kiosk as a village station and a purchaser use it, in Chromium
(kiosk_station_flow.mjs): the station's operator enrols a farmer without a
phone (the farmer chooses the PIN, a trivial one is refused) and helps the
farmer issue (代开: the farmer types the PIN; a wrong one says how many tries
are left); a purchaser collects two packages by scanning their labels and
re-issues part of them from its stock. Every step fits both kiosk screens,
also with a message showing; the screenshots are kept."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import FENGCHENG, http, issue, psql, run_test  # noqa: E402
from kiosk_harness import fits, flow, need_browser  # noqa: E402

VILLAGE = "350524103201"


def main():
    need_browser()
    run_test("kioskstation", run)


def run(t, svc):
    office = svc.township_office(FENGCHENG, role=None).id
    county = svc.county_regulator().token
    station = svc.add_subject("staff", "凤城镇示范村服务站", "0595-23208888", VILLAGE).id
    svc.cli("account", "add", "phone_pin", station, "station", "13859007777", "135246")
    buyer = svc.purchaser().id
    svc.cli("account", "add", "phone_pin", buyer, "purchaser", "13859005678", "135790")
    device = svc.add_kiosk("demo-kiosk", "凤城镇示范村服务站", office)
    svc.start()
    r = http("PUT", svc.url + "/api/v1/kiosks/demo-kiosk/station", {"subject": station, "villages": [VILLAGE]},
             svc.auth(county))
    t.eq(r.status, 200, "the county makes the demo kiosk a village station")
    cert = issue(svc, svc.token, "豇豆", 20, 2).json()
    codes = [x["code"] for x in cert["items"]]

    seen = flow(t, svc, "kiosk_station_flow.mjs", device, json.dumps(codes))
    t.eq(seen.get("stationMenu"), ["帮农户开证", "登记农户"], "the station's menu")
    t.ok(seen.get("villages") == ["凤城镇示范村"] and seen.get("villageChosen") == 1,
         "its one village is chosen for it", seen.get("villages"))
    t.eq(seen.get("picked"), "选好了（2 种）", "the farmer's products are picked from the catalogue")
    t.ok("太简单" in (seen.get("weakPin") or ""), "a PIN like 123456 is refused, saying why", seen.get("weakPin"))
    t.ok("登记好了：王秀英" in (seen.get("enrolled") or ""), "the farmer is enrolled", seen.get("enrolled"))
    t.ok(any("王秀英" in x for x in seen.get("farmers") or []), "and listed among the station's farmers",
         seen.get("farmers"))
    t.ok("还可以再试4次" in (seen.get("farmerWrongPin") or ""), "the farmer's wrong PIN: tries left",
         seen.get("farmerWrongPin"))
    t.ok(seen.get("who") == "代开：王秀英" and "本站协助" in (seen.get("assistedTitle") or ""),
         "with the right PIN the kiosk works for the farmer, saying the station assists", seen.get("who"))
    t.eq(sorted(seen.get("farmerMine") or []), ["豇豆", "韭菜"], "the farmer's enrolled products come first")
    t.eq(seen.get("assistedPrint"), "completed", "the farmer's labels print")
    t.ok(seen.get("doneLabel") == "开完了，回到服务站" and seen.get("backAtStation") == "凤城镇示范村服务站",
         "and the kiosk goes back to the station", [seen.get("doneLabel"), seen.get("backAtStation")])
    t.ok("收货扫码" in (seen.get("purchaserMenu") or []), "a purchaser's menu", seen.get("purchaserMenu"))
    t.eq(seen.get("scanCount"), "已扫 2 件", "two labels scanned")
    t.ok("收好了 2 件" in (seen.get("collected") or ""), "and collected", seen.get("collected"))
    t.ok(len(seen.get("stock") or []) == 1 and "剩 20" in seen["stock"][0], "the stock shows the 20 kg",
         seen.get("stock"))
    t.eq(seen.get("prefilled"), "20", "re-issuing proposes what is left")
    t.eq(seen.get("reissuePrint"), "completed", "the re-issued certificate prints")
    fits(t, seen)

    farmer = psql(svc.db, "SELECT id || ' ' || kind || ' ' || enrolled_by FROM subject WHERE name = '王秀英'").split()
    t.eq(farmer[1:], ["household", str(station)], "the farmer is a household the station enrolled")
    t.eq(psql(svc.db, "SELECT string_agg(p.name, ',' ORDER BY p.id) FROM producer_product pp JOIN product p "
                      f"ON p.id = pp.product_id WHERE pp.subject_id = {farmer[0]}"), "豇豆,韭菜", "with two products")
    t.eq(psql(svc.db, f"SELECT p.name || ' ' || c.labels || ' ' || c.assisted_by FROM certificate c JOIN product p "
                      f"ON p.id = c.product_id WHERE c.issuer_id = {farmer[0]}"), f"韭菜 1 {station}",
         "the farmer's certificate, assisted by the station")
    t.eq(psql(svc.db, f"SELECT count(*) FROM receipt WHERE purchaser_id = {buyer}"), "2", "two receipts")
    t.eq(psql(svc.db, f"SELECT c.style || ' ' || c.quantity_milli || ' ' || i.input_serial || ' ' || i.quantity_milli "
                      f"FROM certificate c JOIN certificate_input i ON i.serial = c.serial WHERE c.issuer_id = {buyer}"),
         f"2 15000 {cert['id']} 15000", "a style-2 certificate of 15 kg drawn from the collected one")


if __name__ == "__main__":
    main()
