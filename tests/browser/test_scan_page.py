"""The scan page in a real browser (headless Chromium), as a buyer or an
inspector meets it on a phone: a genuine label shows 真实有效 with the
certificate; each verdict says what a buyer and an inspector should do next
and whom to call (the issuer's township office from the registry, with its
telephone); a suspected copy is never headed 真实有效; a forged code says so
in plain words (no 签名校验) and points to the local office and 12316; a
revoked certificate says not to buy it."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import FENGCHENG, altered, http, issue, payload, psql, run_test, scan, skip_all, wait_for  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=412,900"]


def chromium(profile, *args):
    exe = shutil.which("chromium")
    out = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                         capture_output=True, text=True, timeout=90)
    return out.stdout


def main():
    if shutil.which("chromium") is None:
        skip_all("chromium is not installed")
    run_test("browser", run, printers=False)


def heading(dom):
    """The verdict's heading: the text of the first .verdict before its sub-line."""
    m = re.search(r'<div class="verdict[^"]*"[^>]*>(.*?)<div class="sub">', dom, re.S)
    return m.group(1) if m else ""


def run(t, svc):
    fengcheng = svc.township_office(FENGCHENG).token
    svc.start()
    r = issue(svc, svc.token, "豇豆", 12.5, 3, {"origin": "福建省安溪县凤城镇"})
    t.eq(r.status, 201, "issued a certificate to scan")
    codes = [x["code"] for x in r.json()["items"]]
    revoked = issue(svc, svc.token, "韭菜", 5, 1).json()
    r = http("POST", svc.url + f"/api/v1/certificates/{revoked['id']}/revocation",
             {"reason": "快检不合格（腐霉利）", "cascade": True}, svc.auth(fengcheng))
    t.eq(r.status, 200, "and revoked another")
    for _ in range(21):
        scan(svc, codes[1])
    t.ok(wait_for(lambda: psql(svc.db, "SELECT count(*) FROM clone_suspicion") == "1"),
         "one label scanned 21 times is suspected of being copied")
    shots = os.environ.get("AGRICERT_SCREENSHOTS") or svc.tmp
    os.makedirs(shots, exist_ok=True)
    pages = {"valid": codes[0], "copy": codes[1], "revoked": revoked["items"][0]["code"],
             "forged": altered(payload(codes[2]), 50)}
    with tempfile.TemporaryDirectory() as profile:
        dom = {}
        for name, code in pages.items():
            page = svc.url + "/v/" + payload(code)
            dom[name] = chromium(profile, "--dump-dom", page)
            shot = os.path.join(shots, f"scan-{name}.png")
            chromium(profile, f"--screenshot={shot}", page)
            t.ok(os.path.exists(shot) and os.path.getsize(shot) > 5000, f"a screenshot of the {name} page", shot)

    valid = dom["valid"]
    t.ok('data-status="valid"' in valid and "真实有效" in heading(valid), "Chromium renders the verdict 真实有效",
         valid[:400])
    for text in ("豇豆", "12.5 千克", "福建省安溪县凤城镇", "质量安全控制符合要求", "138****1234", "第 1 件，共 3 件"):
        t.ok(text in valid, f"the page shows {text}")
    for name in ("valid", "copy", "revoked", "forged"):
        t.ok("买家：" in dom[name] and "查验人员：" in dom[name] and "联系：" in dom[name],
             f"{name}: what a buyer and an inspector do next, and whom to call", dom[name][:600])
        t.ok("签名" not in dom[name], f"{name}: in plain words, no 签名校验")
    t.ok("凤城镇农安办" in valid and 'href="tel:0595-23201234"' in valid,
         "the issuer's township office from the registry, its telephone a tap away")
    copy = dom["copy"]
    t.ok("真实有效" not in copy and "疑似被复制" in heading(copy) and 'class="verdict warn clone"' in copy
         and "暂停销售" in copy and "凤城镇农安办" in copy,
         "a suspected copy is headed by the warning in amber, never 真实有效, and says what to do", heading(copy))
    rev = dom["revoked"]
    t.ok('class="verdict bad"' in rev and "已被撤销" in heading(rev) and "请不要购买" in rev
         and "快检不合格（腐霉利）" in rev and "凤城镇农安办" in rev,
         "a revoked certificate: do not buy, why, whom to call", heading(rev))
    forged = dom["forged"]
    t.ok('class="verdict bad"' in forged and "真实有效" not in forged and "疑似假冒" in heading(forged)
         and "暂扣" in forged and "12316" in forged and "凤城镇农安办" not in forged,
         "a forged code: plain words, withhold the goods, the local office and 12316 (the code names nobody)",
         heading(forged))


if __name__ == "__main__":
    main()
