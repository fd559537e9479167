"""The inspector's scan page in a real browser (headless Chromium): a genuine
label shows 真实有效 with the certificate; a forged one shows the red verdict."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import altered, issue, payload, run_test, skip_all  # noqa: E402

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


def run(t, svc):
    svc.start()
    r = issue(svc, svc.token, "豇豆", 12.5, 1, {"origin": "福建省安溪县凤城镇"})
    t.eq(r.status, 201, "issued a certificate to scan")
    code = r.json()["items"][0]["code"]
    page = svc.url + "/v/" + payload(code)
    with tempfile.TemporaryDirectory() as profile:
        dom = chromium(profile, "--dump-dom", page)
        t.ok('data-status="valid"' in dom and "真实有效" in dom, "Chromium renders the verdict 真实有效", dom[:400])
        for text in ("豇豆", "12.5 千克", "福建省安溪县凤城镇", "质量安全控制符合要求", "138****1234", "第 1 件，共 1 件"):
            t.ok(text in dom, f"the page shows {text}")
        shot = os.path.join(svc.tmp, "scan-valid.png")
        chromium(profile, f"--screenshot={shot}", page)
        t.ok(os.path.exists(shot) and os.path.getsize(shot) > 5000, "a screenshot of the page was taken", shot)
        dom = chromium(profile, "--dump-dom", svc.url + "/v/" + altered(payload(code), 50))
        t.ok('class="verdict bad"' in dom and "真实有效" not in dom and "签名校验失败" in dom,
             "a forged code shows the red verdict in Chinese", dom[:400])


if __name__ == "__main__":
    main()
