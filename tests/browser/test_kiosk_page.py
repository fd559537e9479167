"""The kiosk touch screen in a real browser (Chromium driven by
playwright-core, kiosk_flow.mjs): a farmer logs in with phone and PIN on the
on-screen keypad (a wrong PIN says how many tries are left), picks a
category and a product, types the quantity and the number of labels, prints
on the kiosk's printer and sees the job complete; issues again on a self
test photographed with the kiosk's camera while the printer is paused (the
kiosk says so within seconds, in plain Chinese with what to do, and keeps
the farmer logged in until it prints); reprints from 我的合格证; logs out; and
an idle kiosk logs out by itself, clearing what was typed and saying why.
Every step fits both kiosk screens (1024x768, 800x1280), also with a message
showing; the screenshots are kept (AGRICERT_SCREENSHOTS, else the test's
directory)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import FENGCHENG, psql, run_test  # noqa: E402
from kiosk_harness import fits, flow, need_browser  # noqa: E402

IDLE_S = 12


def main():
    need_browser()
    run_test("kiosk", run)


def run(t, svc):
    staff = svc.township_office(FENGCHENG, role=None).id
    svc.cli("account", "add", "phone_pin", svc.producer, "producer", "13859001234", "246810")
    device = svc.add_kiosk("demo-kiosk", "凤城镇示范村自助服务站", staff)
    svc.start()
    seen = flow(t, svc, "kiosk_flow.mjs", device, str(IDLE_S), os.environ["AGRICERT_TEST_QUEUE"])
    t.ok(seen.get("deviceKept"), "the device token is kept and removed from the address bar")
    t.ok("手机号或密码不对" in (seen.get("wrongPin") or "") and "还可以再试4次" in seen.get("wrongPin"),
         "a wrong PIN says so in plain Chinese, with the tries left", seen.get("wrongPin"))
    t.ok("您好" in (seen.get("greeting") or ""), "the farmer is greeted by name", seen.get("greeting"))
    t.ok((seen.get("categories") or 0) >= 8 and not seen.get("mineFirstTime"),
         "categories first (no usual products yet)", seen.get("categories"))
    t.ok((seen.get("productPage") or "").startswith("第 1 /") and seen.get("secondPage"),
         "a category's products a page at a time", seen.get("productPage"))
    t.ok("请输入数量" in (seen.get("noQuantity") or ""), "下一步 without a quantity says what is missing")
    t.eq(seen.get("labels"), "3", "the label count is typed on the keypad")
    t.ok("豇豆" in (seen.get("summary") or "") and "25 千克" in (seen.get("summary") or ""),
         "the summary shows product and quantity", seen.get("summary"))
    t.eq(seen.get("printState"), "completed", "the page follows the job until the printer completes it")
    t.ok("请取走标签" in (seen.get("printText") or ""), "and tells the farmer to take the labels", seen.get("printText"))
    t.eq((seen.get("mine") or [None])[0], "豇豆", "the next time, the farmer's usual product comes first")
    t.ok("还没有这个产品的合格检测记录" in (seen.get("noTests") or ""), "no passing test yet: it says so")
    t.ok("检测记录" in (seen.get("testSummary") or ""), "the own test, photographed, backs the certificate",
         seen.get("testSummary"))
    t.ok((seen.get("pausedAfterMs") or 99999) < 8000 and "打印机暂停了" in (seen.get("pausedText") or "")
         and "恢复打印" in (seen.get("pausedTodo") or ""),
         "a paused printer is shown within seconds, saying what to do",
         [seen.get("pausedAfterMs"), seen.get("pausedText"), seen.get("pausedTodo")])
    t.ok(seen.get("stillThere"), f"nobody is logged out while the job waits (longer than the {IDLE_S} s idle logout)")
    t.ok(seen.get("recoveredState") == "completed" and "请取走标签" in (seen.get("recoveredText") or ""),
         "resumed, the labels print", seen.get("recoveredText"))
    t.ok(len(seen.get("certs") or []) == 2 and "12.5" in seen["certs"][0], "我的合格证 lists both, newest first",
         seen.get("certs"))
    t.eq(seen.get("reprintState"), "completed", "a reprint from 我的合格证 prints")
    t.ok(seen.get("loggedOut"), "完成 logs out back to the login screen")
    t.ok(seen.get("typedBeforeIdle") == "7" and "没有操作" in (seen.get("idleMessage") or "")
         and "已清除" in seen.get("idleMessage") and seen.get("idleCleared"),
         "idle: logged out, what was typed cleared, and told why", seen.get("idleMessage"))
    fits(t, seen)

    rows = psql(svc.db, "SELECT labels || ' ' || basis || ' ' || (test_id IS NOT NULL) || ' ' || origin_code "
                        "FROM certificate ORDER BY serial").splitlines()
    t.eq(rows, ["3 0 false 350524103201", "2 1 true 350524103201"],
         "two certificates: 3 labels on quality control, 2 on the self test; the producer's registered origin")
    t.eq(psql(svc.db, "SELECT count(*) FROM rapid_test_photo p JOIN rapid_test r ON r.id = p.test_id "
                      "WHERE r.kind = 'self' AND r.result = 'pass' AND octet_length(p.jpeg) > 1000"), "1",
         "the strip's photo from the camera is kept with the test")
    t.eq(psql(svc.db, "SELECT count(*) FILTER (WHERE reprint) || '/' || count(*) FROM print_job"), "1/3",
         "three print jobs, one of them the reprint")
    t.eq(psql(svc.db, "SELECT count(*) FROM api_token WHERE label = 'session' AND revoked_at IS NULL"), "0",
         "every session was closed")


if __name__ == "__main__":
    main()
