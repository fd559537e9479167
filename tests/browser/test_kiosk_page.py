"""The kiosk touch screen in a real browser (Chromium driven by
playwright-core, kiosk_flow.mjs): a farmer logs in with phone and PIN on the
on-screen keypad (a wrong PIN says how many tries are left), picks a
category and a product, types the quantity and the number of labels, prints
on the kiosk's printer and sees the job complete; issues again on a self
test photographed with the kiosk's camera while the printer is paused (the
kiosk says so within seconds, in plain Chinese with what to do, and keeps
the farmer logged in until it prints); reprints from 我的合格证; logs out;
issues on the test on record and on a commissioned report photographed; and
an idle kiosk logs out by itself, clearing what was typed and saying why.
The back button goes one screen back.
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
    t.ok(seen.get("backToProducts"), "the back button goes one screen back, the message gone")
    t.eq(seen.get("backKeptQty"), "25", "and back from the basis, the quantity typed is still there")
    t.eq(seen.get("labels"), "3", "the label count is typed on the keypad")
    t.ok("豇豆" in (seen.get("summary") or "") and "25 千克" in (seen.get("summary") or ""),
         "the summary shows product and quantity", seen.get("summary"))
    t.eq(seen.get("printState"), "completed", "the page follows the job until the printer completes it")
    t.ok("请取走标签" in (seen.get("printText") or ""), "and tells the farmer to take the labels", seen.get("printText"))
    t.eq((seen.get("mine") or [None])[0], "豇豆", "the next time, the farmer's usual product comes first")
    t.ok("还没有这个产品的合格检测记录" in (seen.get("noTests") or ""), "no passing test yet: it says so")
    t.eq(seen.get("selfShows"), [True, False], "a self test asks for the method, not a lab and report number")
    t.eq(seen.get("reportShows"), [False, True], "a commissioned report asks for the lab and number, not a method")
    t.ok("检测记录" in (seen.get("testSummary") or ""), "the own test, photographed, backs the certificate",
         seen.get("testSummary"))
    t.ok((seen.get("pausedAfterMs") or 99999) < 8000 and "打印机暂停了" in (seen.get("pausedText") or "")
         and "恢复打印" in (seen.get("pausedTodo") or ""),
         "a paused printer is shown within seconds, saying what to do",
         [seen.get("pausedAfterMs"), seen.get("pausedText"), seen.get("pausedTodo")])
    faults = seen.get("faults") or []
    want = [("problem", "打印机没纸了", "装上标签纸"), ("problem", "打印机没纸了", "装上标签纸"),
            ("problem", "打印机没有连上", "检查打印机的电源"), ("problem", "打印机没有连上", "检查打印机的电源"),
            ("problem", "连不上打印服务", "检查打印服务"), ("bad", "没有按时打印出来", "我的合格证"),
            ("bad", "打印失败", "𠮷")]
    t.ok(len(faults) == len(want) and all(f[0] == cls and text in f[1] and todo in f[2]
                                          for f, (cls, text, todo) in zip(faults, want)),
         "paper out, offline, the print service down, not printed in time, a character it cannot print: "
         "each in plain Chinese with what to do (from the fault code or CUPS's reasons)", faults)
    t.ok(seen.get("stillThere"), f"nobody is logged out while the job waits (longer than the {IDLE_S} s idle logout)")
    t.ok(seen.get("recoveredState") == "completed" and "请取走标签" in (seen.get("recoveredText") or ""),
         "resumed, the labels print", seen.get("recoveredText"))
    t.ok(len(seen.get("certs") or []) == 2 and "12.5" in seen["certs"][0], "我的合格证 lists both, newest first",
         seen.get("certs"))
    t.eq(seen.get("reprintState"), "completed", "a reprint from 我的合格证 prints")
    t.ok(seen.get("loggedOut"), "完成 logs out back to the login screen")
    on_record = seen.get("testsOnRecord") or []
    t.ok(len(on_record) == 1 and "自己检测 · 合格" in on_record[0], "the self test is on record the next time",
         on_record)
    t.ok(seen.get("pickedState") == "completed" and "检测记录" in (seen.get("pickedSummary") or ""),
         "picked from the list, it backs another certificate, printed", seen.get("pickedSummary"))
    t.ok("请填写检测机构和报告编号" in (seen.get("noReport") or ""), "a commissioned report needs its lab and number",
         seen.get("noReport"))
    t.ok(seen.get("reportState") == "completed" and "检测记录" in (seen.get("reportSummary") or ""),
         "the commissioned report, photographed, backs a certificate, printed", seen.get("reportSummary"))
    t.ok(seen.get("typedBeforeIdle") == "7" and "没有操作" in (seen.get("idleMessage") or "")
         and "已清除" in seen.get("idleMessage") and seen.get("idleCleared"),
         "idle: logged out, what was typed cleared, and told why", seen.get("idleMessage"))
    fits(t, seen)

    rows = psql(svc.db, "SELECT c.labels || ' ' || c.basis || ' ' || coalesce(r.kind, '-') || ' ' || c.origin_code "
                        "FROM certificate c LEFT JOIN rapid_test r ON r.id = c.test_id ORDER BY c.serial").splitlines()
    t.eq(rows, ["3 0 - 350524103201", "2 1 self 350524103201", "1 1 self 350524103201",
                "1 2 commissioned 350524103201"],
         "four certificates: 3 labels on quality control, 2 and 1 on the self test, 1 on the commissioned report; "
         "the producer's registered origin")
    t.eq(psql(svc.db, "SELECT count(DISTINCT test_id) FROM certificate WHERE basis = 1"), "1",
         "the second self-test certificate rests on the same test")
    t.eq(psql(svc.db, "SELECT string_agg(r.kind || ' ' || coalesce(r.report_number, '-'), ',' ORDER BY r.id) "
                      "FROM rapid_test_photo p JOIN rapid_test r ON r.id = p.test_id "
                      "WHERE r.result = 'pass' AND octet_length(p.jpeg) > 1000"), "self -,commissioned AX2026-0117",
         "the strip's and the report's photos from the camera are kept with their tests")
    t.eq(psql(svc.db, "SELECT count(*) FILTER (WHERE reprint) || '/' || count(*) FROM print_job"), "1/5",
         "five print jobs, one of them the reprint")
    t.eq(psql(svc.db, "SELECT count(*) FROM api_token WHERE label = 'session' AND revoked_at IS NULL"), "0",
         "every session was closed")


if __name__ == "__main__":
    main()
