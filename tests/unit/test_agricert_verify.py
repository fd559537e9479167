#!/usr/bin/env python3
"""agricert-verify against real bundles and codes (TAP).

    test_agricert_verify.py path/to/agricert-verify path/to/gen_bundle_fixture

gen_bundle_fixture (proto/gen_bundle_fixture.c) writes fresh keys, signed
trust bundles and signed codes into a temporary directory; this script runs
the verifier on them as an inspector would and checks verdicts, decoded
fields, exit statuses, the state file, stdin mode, --json and --lang en.
Standard library only.
"""
import json
import os
import subprocess
import sys
import tempfile

VERIFY = os.path.abspath(sys.argv[1])
GEN = os.path.abspath(sys.argv[2])
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

n = 0
failed = 0


def check(ok, what, detail=""):
    global n, failed
    n += 1
    if ok:
        print(f"ok {n} - {what}")
    else:
        failed += 1
        print(f"not ok {n} - {what}")
        for line in str(detail).splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


def run(d, *args, bundle="bundle.txt", key="bundle.pub", stdin=None):
    cmd = [VERIFY, "--bundle", os.path.join(d, bundle), "--bundle-key", os.path.join(d, key)]
    cmd += list(args)
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def alter(payload, pos):
    """Another alphabet character at pos (not the last one: canonical base32 stays)."""
    c = payload[pos]
    return payload[:pos] + B32[(B32.index(c) + 1) % 32] + payload[pos + 1:]


def main():
    with tempfile.TemporaryDirectory(prefix="agricert-verify-") as d:
        subprocess.run([GEN, d], check=True)
        codes = {}
        with open(os.path.join(d, "codes.txt"), encoding="ascii") as f:
            for line in f:
                name, text = line.split()
                codes[name] = text

        rc, out, err = run(d, codes["genuine"])
        check(rc == 0, "genuine code: exit 0", err)
        for want in ["真实有效", "产品：豇豆", "数量：25 千克",
                     "产地：福建省安溪县凤城镇示范村 (350524100201)",
                     "开具方：凤城镇示范家庭农场 (17)", "承诺依据：质量安全控制符合要求",
                     "开具日期：2026-11-24", "编号：000000001000", "标签：第 1 件",
                     "承诺：未使用禁用农药、兽药及其他化合物；使用的常规农药、兽药残留不超标。"]:
            check(want in out.splitlines(), f"genuine code prints {want}", out)

        rc, out, err = run(d, codes["genuine-sm2"])
        check(rc == 0 and out.startswith("真实有效\n") and "数量：2.5 千克" in out,
              "genuine SM2 code (retired key) verifies, 2.5 千克", out + err)

        url = codes["genuine-url"]
        rc, out, _ = run(d, url)
        check(rc == 0 and "数量：0.001 千克" in out, "genuine code as an upper-case URL", out)
        rc, out, _ = run(d, url.lower())
        check(rc == 0 and out.startswith("真实有效"), "the URL in lower case", out)

        rc, out, _ = run(d, codes["township"])
        check(rc == 0 and "产地：参内镇 (350524100999)" in out,
              "origin falls back to the township name", out)
        rc, out, _ = run(d, codes["unknown-names"])
        check(rc == 0 and "产地：目录中未收录 (350600000001)" in out,
              "an origin the catalogue lacks is shown by code", out)

        for pos in (60, 100, 149):
            rc, out, _ = run(d, alter(codes["genuine"], pos))
            check(rc == 1 and out.startswith("无效：签名校验失败（可能伪造或被篡改）\n"),
                  f"signature character {pos} altered: bad signature, exit 1", out)
        for pos in (5, 20, 40):
            rc, out, _ = run(d, alter(codes["genuine"], pos))
            check(rc == 1 and not out.startswith("真实有效"),
                  f"field character {pos} altered: refused, exit 1", out)

        rc, out, _ = run(d, codes["revoked-serial"])
        check(rc == 1 and out.startswith("已撤销\n") and "编号：000000004096" in out,
              "revoked certificate: 已撤销, exit 1", out)
        rc, out, _ = run(d, codes["revoked-key"])
        check(rc == 1 and out.startswith("无效：签发密钥已吊销\n"),
              "code of a revoked key: exit 1", out)
        rc, out, _ = run(d, codes["unknown-key"])
        check(rc == 1 and out.startswith("无效：签发密钥未知\n"),
              "code of a key not in the bundle: exit 1", out)
        for junk in ["hello", "AEAAC", codes["genuine"] + "A", "HTTPS://X/Y/" + codes["genuine"]]:
            rc, out, _ = run(d, junk)
            check(rc == 1 and out.startswith("无法识别的二维码\n"),
                  f"not a code ({junk[:20]}...): exit 1", out)

        # Several codes: exit 1 when any is not valid.
        rc, out, _ = run(d, codes["genuine"], codes["revoked-key"])
        check(rc == 1 and out.count("真实有效") == 1, "one valid and one invalid: exit 1", out)

        # Standard input, as zbarimg prints it.
        lines = ("\n" + codes["genuine"] + "\r\n\n   \nQR-Code:" + codes["genuine-sm2"] +
                 "\n  " + url + "  \n")
        rc, out, err = run(d, "-", stdin=lines.encode())
        check(rc == 0 and out.count("真实有效\n") == 3,
              "- reads codes a line, skips blanks, strips QR-Code: and CR", out + err)
        rc, out, _ = run(d, "-", stdin=(codes["genuine"] + "\n" + codes["revoked-serial"]).encode())
        check(rc == 1 and "已撤销" in out, "- with a revoked code: exit 1", out)
        rc, out, err = run(d, "-", stdin=b"\n\n")
        check(rc == 1 and out == "", "- with no code at all: exit 1", out + err)

        # --json: one object a line, as json parses it.
        rc, out, err = run(d, "--json", "-",
                           stdin="\n".join(codes[k] for k in codes).encode() + b"\nhello\n")
        objs = []
        try:
            objs = [json.loads(line) for line in out.splitlines()]
        except ValueError as e:
            check(False, "--json output parses", f"{e}\n{out}")
        check(rc == 1 and len(objs) == len(codes) + 1, "--json: one object per code", out)
        by = {k: o for k, o in zip(list(codes) + ["junk"], objs)}
        if len(objs) == len(codes) + 1:
            g = by["genuine"]
            check(g["valid"] is True and g["status"] == "valid" and g["serial"] == 1000 and
                  g["item"] == 1 and g["product"] == "豇豆" and g["quantity"] == 25 and
                  g["unit"] == "kg" and g["issuer"] == "凤城镇示范家庭农场" and
                  g["origin_code"] == "350524100201" and g["origin"] == "福建省安溪县凤城镇示范村"
                  and g["issue_date"] == "2026-11-24" and g["basis"] == "quality_control" and
                  g["style"] == "producer", "--json: fields of a genuine code", g)
            check(by["genuine-sm2"]["quantity"] == 2.5, "--json: quantity 2.5")
            check(by["unknown-names"]["issuer"] == 'Quote " and \\ backslash' and
                  by["unknown-names"]["origin"] is None, "--json: escaping and null names",
                  by["unknown-names"])
            want = {"revoked-serial": "revoked", "revoked-key": "key_revoked",
                    "unknown-key": "unknown_key", "junk": "malformed"}
            check(all(by[k]["status"] == v and by[k]["valid"] is False for k, v in want.items()),
                  "--json: statuses", [by[k] for k in want])
        rc, out, _ = run(d, "--json", alter(codes["genuine"], 100))
        check(rc == 1 and json.loads(out)["status"] == "bad_signature", "--json: bad_signature",
              out)

        # --lang en.
        rc, out, _ = run(d, "--lang", "en", codes["genuine"])
        check(rc == 0 and out.startswith("genuine and valid\n") and "Quantity: 25 kg" in out and
              "Issue date: 2026-11-24" in out, "--lang en: genuine", out)
        rc, out, _ = run(d, "--lang", "en", alter(codes["genuine"], 100))
        check(rc == 1 and out.startswith("not genuine: bad signature"), "--lang en: bad", out)

        # The bundle itself.
        rc, out, err = run(d, codes["genuine"], bundle="bundle-sm2.txt", key="bundle-sm2.pub")
        check(rc == 0 and out.startswith("真实有效"), "a bundle signed with an SM2 bundle key",
              out + err)
        rc, out, err = run(d, codes["genuine"], key="other.pub")
        check(rc == 2 and out == "" and "信任包无效" in err, "wrong bundle key: exit 2", err)
        rc, out, err = run(d, "--bundle-kid", "2", codes["genuine"])
        check(rc == 2 and out == "", "another bundle kid: exit 2", err)
        rc, out, err = run(d, "--bundle-kid", "1", codes["genuine"])
        check(rc == 0, "--bundle-kid 1: exit 0", err)
        with open(os.path.join(d, "bundle.txt"), "rb") as f:
            text = f.read()
        for i, (old, new) in enumerate([(b"revoked 4096", b"revoked 4097"),
                                        (b"version 7", b"version 9"),
                                        ("豇豆".encode(), "番茄".encode())]):
            with open(os.path.join(d, f"forged{i}.txt"), "wb") as f:
                f.write(text.replace(old, new))
            rc, out, err = run(d, codes["revoked-serial"], bundle=f"forged{i}.txt")
            check(rc == 2 and out == "" and "signature does not verify" in err,
                  f"bundle with {new.decode()} instead of {old.decode()}: bad signature, exit 2",
                  err)
        with open(os.path.join(d, "truncated.txt"), "wb") as f:
            f.write(text[:text.index(b"signature")])
        rc, _, err = run(d, codes["genuine"], bundle="truncated.txt")
        check(rc == 2, "bundle without its signature line: exit 2", err)
        rc, _, err = run(d, codes["genuine"], bundle="missing.txt")
        check(rc == 2 and "could not read trust bundle" in err, "missing bundle: exit 2", err)

        # --state: remembers the highest version, refuses an older bundle.
        state = os.path.join(d, "state")
        rc, _, err = run(d, "--state", state, codes["genuine"])
        check(rc == 0 and open(state).read() == "version 7\n", "state created at version 7", err)
        rc, _, err = run(d, "--state", state, codes["genuine"], bundle="bundle-v8.txt")
        check(rc == 0 and open(state).read() == "version 8\n", "newer bundle updates the state",
              err)
        rc, out, err = run(d, "--state", state, codes["genuine"])
        check(rc == 2 and out == "" and "信任包版本过旧" in err and
              open(state).read() == "version 8\n", "older bundle than the state: exit 2", err)
        rc, _, err = run(d, "--state", state, codes["genuine"], bundle="bundle-v6.txt")
        check(rc == 2 and "信任包版本过旧" in err, "version 6 after 8: exit 2", err)
        rc, _, err = run(d, "--state", state, codes["genuine"], bundle="bundle-v8.txt")
        check(rc == 0, "the same version again: exit 0", err)
        check(sorted(os.listdir(d)).count("state") == 1 and
              not any(x.startswith("state.tmp") for x in os.listdir(d)),
              "no temporary state file left")
        with open(state, "w") as f:
            f.write("garbage\n")
        rc, _, err = run(d, "--state", state, codes["genuine"])
        check(rc == 2 and "state file" in err, "unreadable state: exit 2", err)

        # Usage.
        p = subprocess.run([VERIFY], capture_output=True)
        check(p.returncode == 2, "no arguments: exit 2")
        rc, _, _ = run(d, "--lang", "fr", codes["genuine"])
        check(rc == 2, "--lang fr: exit 2")
        rc, _, _ = run(d)
        check(rc == 2, "no code argument: exit 2")
        rc, _, _ = run(d, "--bundle-kid", "0", codes["genuine"])
        check(rc == 2, "--bundle-kid 0: exit 2")

    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
