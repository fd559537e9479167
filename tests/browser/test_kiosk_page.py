"""The kiosk touch screen in a real browser (Chromium driven by
playwright-core): a farmer logs in with phone and PIN on the on-screen
keypad, prints three labels of 豇豆 on the kiosk's printer, sees the job
complete, and logs out."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import FENGCHENG, psql, run_test, skip_all  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if shutil.which("chromium") is None or shutil.which("node") is None:
        skip_all("chromium or node is not installed")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        skip_all("run tests/run (it installs playwright-core with npm ci)")
    if not os.environ.get("AGRICERT_TEST_QUEUE"):
        skip_all("needs the virtual printer (run through tests/run)")
    run_test("kiosk", run)


def run(t, svc):
    staff = svc.township_office(FENGCHENG, role=None).id
    svc.cli("account", "add", "phone_pin", svc.producer, "producer", "13859001234", "246810")
    device = svc.add_kiosk("demo-kiosk", "凤城镇示范村自助服务站", staff)
    svc.start()
    out = subprocess.run(["node", os.path.join(HERE, "kiosk_flow.mjs"), svc.url, device, svc.tmp],
                         capture_output=True, text=True, timeout=240, cwd=HERE, stdin=subprocess.DEVNULL)
    seen = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
    t.ok("error" not in seen, "the whole flow ran", seen.get("error", "") + out.stderr[-500:])
    t.ok(seen.get("deviceKept"), "the device token is kept and removed from the address bar")
    t.ok("手机号或密码不对" in (seen.get("wrongPin") or ""), "a wrong PIN says so in plain Chinese", seen.get("wrongPin"))
    t.ok("您好" in (seen.get("greeting") or ""), "the farmer is greeted by name", seen.get("greeting"))
    t.ok((seen.get("products") or 0) >= 20, "the product catalogue is offered as big buttons", seen.get("products"))
    t.eq(seen.get("labels"), "3", "the label counter reached 3")
    t.ok("豇豆" in (seen.get("summary") or "") and "25 千克" in (seen.get("summary") or ""),
         "the summary shows product and quantity", seen.get("summary"))
    t.eq(seen.get("printState"), "completed", "the page follows the job until the printer completes it")
    t.ok("请取走标签" in (seen.get("printText") or ""), "and tells the farmer to take the labels", seen.get("printText"))
    t.ok(seen.get("loggedOut"), "完成 logs out back to the login screen")
    row = psql(svc.db, "SELECT labels, origin, origin_code, basis FROM certificate ORDER BY serial DESC LIMIT 1")
    t.eq(row, "3|福建省泉州市安溪县凤城镇凤城镇示范村|350524103201|0",
         "the certificate has 3 labels and the producer's registered origin")
    t.eq(psql(svc.db, "SELECT count(*) FROM api_token WHERE label = 'session' AND revoked_at IS NULL"), "0",
         "the session was closed")
    for name in ("kiosk-login", "kiosk-products", "kiosk-confirm", "kiosk-printed"):
        path = os.path.join(svc.tmp, name + ".png")
        t.ok(os.path.exists(path) and os.path.getsize(path) > 5000, f"screenshot {name}.png")


if __name__ == "__main__":
    main()
