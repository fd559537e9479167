"""Offline verification end to end: agricertd publishes a signed trust bundle
and its key; agricert-verify, with no network and no service running, reads a
printed label through zbarimg, says 真实有效 with the names from the bundle,
and refuses altered codes, revoked certificates and older bundles."""
import os
import subprocess
import tempfile

from harness import BUILD, altered, http, label_files, label_pages, payload, run_test, wait_print_job, zbar

BODY = {"product": "豇豆", "quantity": 25, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 2}


def verify(*args, stdin=None):
    return subprocess.run([os.path.join(BUILD, "service/agricert-verify"), *args], input=stdin,
                          capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})


def main():
    run_test("trust", run)


def run(t, svc):
    svc.cli("key", "new", "--bundle")
    regulator = svc.county_regulator().token
    svc.env["AGRICERT_REGION"] = "350524"
    svc.start()
    d = svc.tmp

    printing = bool(os.environ.get("AGRICERT_TEST_QUEUE"))
    a = http("POST", svc.url + "/api/v1/certificates", dict(BODY, printer="demo-kiosk") if printing else BODY,
             svc.auth()).json()
    b = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth()).json()
    codes_a = [i["code"] for i in a["items"]]
    code_b = b["items"][0]["code"]

    r = http("GET", svc.url + "/api/v1/trust-bundle")
    t.ok(r.status == 200 and r.text.startswith("AGRICERT-TRUST-BUNDLE 1\n") and "\nsignature " in r.text,
         "GET /api/v1/trust-bundle serves a signed bundle", r.text[:300])
    bundle1 = os.path.join(d, "bundle1.txt")
    open(bundle1, "w").write(r.text)
    t.ok("product 1 豇豆" in r.text and "凤城镇示范家庭农场" in r.text and "region 350524100000 参内镇" in r.text,
         "the bundle carries products, issuers and regions")
    t.ok("安溪县农安中心" not in r.text, "staff are not in the public catalogue")
    r = http("GET", svc.url + "/api/v1/trust-bundle/key")
    t.ok(r.status == 200 and "BEGIN PUBLIC KEY" in r.text and "PRIVATE" not in r.text,
         "GET /api/v1/trust-bundle/key gives the bundle key's public half", r.text[:200])
    key = os.path.join(d, "bundle-key.pem")
    open(key, "w").write(r.text)
    t.eq(svc.cli("trust", "key").stdout, r.text, "agricert trust key prints the same key")

    # Wait for the label, then stop the service: from here on everything is offline.
    label = None
    if printing:
        wait_print_job(svc, a["print_job"]["id"], timeout=30)
        for f in reversed(label_files()):
            pngs = label_pages(f, os.path.join(d, "label"))
            if sorted(zbar(pngs).split()) == sorted(codes_a):
                label = pngs
                break
    http("POST", svc.url + f"/api/v1/certificates/{b['id']}/revocation", {"reason": "快检不合格"}, svc.auth(regulator))
    t.eq(svc.stop(), 0, "agricertd stopped: the rest runs offline")

    r = verify("--bundle", bundle1, "--bundle-key", key, codes_a[0])
    t.ok(r.returncode == 0 and "真实有效" in r.stdout, "a genuine code: exit 0, 真实有效", r.stdout + r.stderr)
    for text in ("豇豆", "25 千克", "凤城镇示范家庭农场", "质量安全控制符合要求", "凤城镇示范村"):
        t.ok(text in r.stdout, f"the verdict names {text} from the bundle", r.stdout)
    if label:
        r = verify("--bundle", bundle1, "--bundle-key", key, "-", stdin=zbar(label))
        t.ok(r.returncode == 0 and r.stdout.count("真实有效") == 2,
             "zbarimg --raw label.png | agricert-verify - : both printed labels genuine", r.stdout + r.stderr)
    else:
        t.ok(False, "a printed label to scan", "no label found")
    r = verify("--bundle", bundle1, "--bundle-key", key, "--lang", "en", codes_a[1])
    t.ok(r.returncode == 0 and "genuine" in r.stdout.lower(), "--lang en", r.stdout)
    r = verify("--bundle", bundle1, "--bundle-key", key, "--json", codes_a[1])
    import json
    j = json.loads(r.stdout.strip().splitlines()[0]) if r.stdout.strip() else {}
    t.ok(j.get("valid") is True and j.get("product") == "豇豆" and j.get("serial") == a["id"], "--json", r.stdout)

    r = verify("--bundle", bundle1, "--bundle-key", key, altered(payload(codes_a[0]), 60))
    t.ok(r.returncode == 1 and "真实有效" not in r.stdout, "an altered code: exit 1", r.stdout + r.stderr)

    # The revocation reaches inspectors through the next bundle.
    bundle2 = os.path.join(d, "bundle2.txt")
    svc.cli("trust", "export", bundle2)
    v1 = int(open(bundle1).read().split("\n")[1].split()[1])
    v2 = int(open(bundle2).read().split("\n")[1].split()[1])
    t.ok(v2 > v1, f"the next bundle has a higher version ({v1} -> {v2})")
    r = verify("--bundle", bundle1, "--bundle-key", key, code_b)
    t.eq(r.returncode, 0, "with the old bundle the revoked certificate is not yet known as revoked")
    r = verify("--bundle", bundle2, "--bundle-key", key, code_b)
    t.ok(r.returncode == 1 and "撤销" in r.stdout, "with the new bundle it is 已撤销: exit 1", r.stdout + r.stderr)

    # A verifier that has seen bundle 2 refuses bundle 1.
    state = os.path.join(d, "verifier-state")
    r = verify("--bundle", bundle2, "--bundle-key", key, "--state", state, codes_a[0])
    t.eq(r.returncode, 0, "bundle 2 accepted and remembered")
    r = verify("--bundle", bundle1, "--bundle-key", key, "--state", state, codes_a[0])
    t.ok(r.returncode == 2 and ("过旧" in r.stdout + r.stderr or "older" in r.stdout + r.stderr),
         "an older bundle is refused: exit 2", r.stdout + r.stderr)

    # A tampered bundle, or one signed by another key, is refused.
    tampered = os.path.join(d, "tampered.txt")
    open(tampered, "w").write(open(bundle2).read().replace("豇豆", "白菜", 1))
    r = verify("--bundle", tampered, "--bundle-key", key, codes_a[0])
    t.eq(r.returncode, 2, "a tampered bundle: exit 2")
    with tempfile.TemporaryDirectory() as other:
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", os.path.join(other, "k")], check=True)
        subprocess.run(["openssl", "pkey", "-in", os.path.join(other, "k"), "-pubout", "-out", os.path.join(other, "p")], check=True)
        r = verify("--bundle", bundle2, "--bundle-key", os.path.join(other, "p"), codes_a[0])
        t.eq(r.returncode, 2, "a bundle checked against another key: exit 2")
    r = verify("--bundle", bundle2)
    t.eq(r.returncode, 2, "usage error: exit 2")


if __name__ == "__main__":
    main()
