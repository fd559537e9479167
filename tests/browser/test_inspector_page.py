"""The inspector's phone page (/inspect) in a real browser (Chromium driven
by playwright-core) at 360×740: a staff login; a printed label scanned from
its image, a tampered and a revoked code, each with its verdict; then with
the network cut the page opens from its service worker, judges the same
three from the stored trust bundle, and queues a market check that is sent
once when the network is back. The first load stays under 150 KB.
Screenshots are kept in the test's directory and, with
AGRICERT_UPDATE_SCREENSHOTS=1, in tests/browser/screenshots/."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import (ROOT, altered, http, issue, label_files, label_pages, psql, read_label,  # noqa: E402
                     run_test, skip_all, wait_print_job)

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_LOAD_LIMIT = 150_000


def main():
    if shutil.which("chromium") is None or shutil.which("node") is None:
        skip_all("chromium or node is not installed")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        skip_all("run tests/run (it installs playwright-core with npm ci)")
    if not os.environ.get("AGRICERT_TEST_QUEUE"):
        skip_all("needs the virtual printer (run through tests/run)")
    run_test("inspector", run)


def printed_label(t, svc):
    """A certificate printed on the virtual kiosk printer: its code and the label as a PNG."""
    before = set(label_files())
    r = issue(svc, svc.token, "豇豆", 25, 1, {"printer": "demo-kiosk"})
    t.eq(r.status, 201, "a certificate is issued and printed")
    job = wait_print_job(svc, r.json()["print_job"]["id"])
    t.eq(job.get("state"), "completed", "its label is printed")
    new = [f for f in label_files() if f not in before]
    code = r.json()["items"][0]["code"]
    t.ok(new and read_label(new[-1]) == [code], "zbarimg reads the code from the printed label", new)
    return code, label_pages(new[-1], os.path.join(svc.tmp, "label"))[0]


def run(t, svc):
    svc.cli("key", "new", "--bundle")
    svc.cli("import", "markets", os.path.join(ROOT, "deploy/data/markets-demo.csv"))
    inspector = svc.market_inspector()
    svc.cli("account", "add", "password", inspector.id, "inspector", "inspector", "agricert-demo")
    county = svc.county_regulator().token
    svc.start()
    genuine, png = printed_label(t, svc)
    revoked = issue(svc, svc.token, "韭菜", 10, 1).json()
    r = http("POST", svc.url + f"/api/v1/certificates/{revoked['id']}/revocation",
             {"reason": "快检不合格", "cascade": False}, svc.auth(county))
    t.ok(r.status == 200, "a second certificate is revoked", r.body)
    market = int(psql(svc.db, "SELECT id FROM market WHERE name = '安溪县凤城农贸市场'"))
    args = {"label_png": png, "tampered": altered(genuine, 60), "revoked": revoked["items"][0]["code"],
            "market": market, "api_token": county}
    args_file = os.path.join(svc.tmp, "inspector-args.json")
    with open(args_file, "w") as f:
        json.dump(args, f)
    out = subprocess.run(["node", os.path.join(HERE, "inspector_flow.mjs"), svc.url, svc.tmp, args_file],
                         capture_output=True, text=True, timeout=270, cwd=HERE, stdin=subprocess.DEVNULL)
    seen = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
    t.ok("error" not in seen, "the whole flow ran", seen.get("error", "") + out.stderr[-800:])
    t.note(f"first load {seen.get('firstLoadBytes')} bytes; after login (lists, bundle, what this "
           f"browser needs offline) {seen.get('afterLoginBytes')} bytes")
    for phase, path, n, who in seen.get("transfers", []):
        t.note(f"  {phase:12} {who:4} {n:7} {path}")
    t.ok(0 < (seen.get("firstLoadBytes") or 0) <= FIRST_LOAD_LIMIT,
         f"the first load transfers at most {FIRST_LOAD_LIMIT} bytes", seen.get("firstLoadBytes"))
    t.eq(seen.get("path"), "/inspect/", "/inspect opens the page")
    t.ok("密码" in (seen.get("wrongPassword") or "") or "不对" in (seen.get("wrongPassword") or ""),
         "a wrong password is said in Chinese", seen.get("wrongPassword"))
    t.ok((seen.get("stalls") or 0) == 5, "the market's stalls are offered", seen.get("stalls"))
    t.eq(seen.get("decoded"), genuine, "the camera's decoder reads the printed label's image")
    online = seen.get("online") or {}
    offline = seen.get("offline") or {}
    for where, v in (("online", online), ("offline", offline)):
        g, x, rv = v.get("genuine") or "", v.get("tampered") or "", v.get("revoked") or ""
        t.ok("真实有效" in g and "可以正常销售" in g and "豇豆" in g and "25 千克" in g,
             f"{where}: the genuine label says 真实有效, what to do, and what it is", g)
        t.ok("伪造或被篡改" in x and "暂扣" in x and "乡镇农安办" in x,
             f"{where}: the tampered code says forged, withhold it, call the township office", x)
        t.ok("已撤销" in rv and "请勿销售" in rv and "单独存放" in rv and "报告" in rv,
             f"{where}: the revoked code says do not sell, keep aside, report", rv)
    t.ok("离线核验" in (offline.get("genuine") or ""), "offline verdicts say they come from the stored bundle")
    t.ok("已记录" in (seen.get("report") or ""), "an unlicensed-produce report is recorded", seen.get("report"))
    t.eq(seen.get("netLabel"), "离线", "the page opens with no network and says it is offline")
    t.eq(seen.get("marketKept"), str(market), "the chosen market is kept")
    t.eq(seen.get("labelsListed"), 3, "the three labels are listed for the stall")
    t.ok("联网后自动上传" in (seen.get("queuedMessage") or ""), "the check waits in the queue", seen.get("queuedMessage"))
    t.eq(seen.get("inspectionsWhileOffline"), 0, "nothing reached the service while offline")
    t.ok("1 条记录等待上传" in (seen.get("queueWhileOffline") or ""), "the queue shows one check waiting")
    t.ok("已上传" in (seen.get("queueAfter") or ""), "back online, the queue is sent", seen.get("queueAfter"))
    t.eq(seen.get("inspectionsAfter"), 1, "the service lists the check once")
    t.eq(psql(svc.db, "SELECT count(*), min(codes), min(problems), min(seller) FROM inspection"),
         "1|3|2|A02 陈氏豆类", "the database holds the check exactly once: 3 labels, 2 problems")
    t.eq(psql(svc.db, "SELECT count(*) FROM inspection_request WHERE answer IS NOT NULL"), "1",
         "sent with an Idempotency-Key, its answer kept for a retry")
    t.eq(psql(svc.db, "SELECT count(*) FROM unlicensed_report"), "1", "the report is stored once")
    t.ok("已撤销" in (seen.get("noSession") or ""), "offline with the session expired, codes are still verified",
         seen.get("noSession"))
    keep = os.environ.get("AGRICERT_UPDATE_SCREENSHOTS") and os.path.join(HERE, "screenshots")
    for name in ("inspect-login", "inspect-genuine", "inspect-tampered", "inspect-revoked", "inspect-report",
                 "inspect-offline-genuine", "inspect-offline-revoked", "inspect-queued", "inspect-sent"):
        path = os.path.join(svc.tmp, name + ".png")
        t.ok(os.path.exists(path) and os.path.getsize(path) > 5000, f"screenshot {name}.png")
        if keep and os.path.exists(path):
            os.makedirs(keep, exist_ok=True)
            shutil.copy(path, keep)


if __name__ == "__main__":
    main()
