"""The inspector page's offline verifier (service/web/inspect/verify.js) in
node: code vectors with Ed25519 (WebCrypto and the vendored @noble/ed25519)
and SM2 (the vendored sm-crypto), trust bundles judged as agricert-verify
judges them (verify_check.mjs prints the TAP)."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("AGRICERT_ROOT", os.path.abspath(os.path.join(HERE, "../..")))
BUILD = os.environ.get("AGRICERT_BUILD", "")


def main():
    if shutil.which("node") is None or not BUILD:
        print("1..0 # SKIP needs node and a build (run through tests/run)")
        return 0
    with tempfile.TemporaryDirectory(prefix="verify-js.", dir=os.environ.get("AGRICERT_TEST_TMP")) as tmp:
        out = subprocess.run(["node", os.path.join(HERE, "verify_check.mjs"), ROOT, BUILD, tmp],
                             capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    sys.stdout.write(out.stdout)
    if out.returncode != 0 and "1.." not in out.stdout:
        print("not ok 1 - verify_check.mjs ran")
        print("1..1")
        for line in out.stderr.splitlines()[-20:]:
            print("#   " + line)
    return 1 if out.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
