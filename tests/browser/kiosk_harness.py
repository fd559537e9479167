"""What the kiosk's browser tests share: the checks that Chromium, node and
the virtual printer are there, running a flow script (kiosk_lib.mjs and a
*_flow.mjs) against the test's agricertd, and judging how every step fitted
the kiosk's two screens. Screenshots go to AGRICERT_SCREENSHOTS, else the
test's directory."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
from harness import skip_all  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def need_browser():
    if shutil.which("chromium") is None or shutil.which("node") is None:
        skip_all("chromium or node is not installed")
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        skip_all("run tests/run (it installs playwright-core with npm ci)")
    if not os.environ.get("AGRICERT_TEST_QUEUE"):
        skip_all("needs the virtual printer (run through tests/run)")


def flow(t, svc, script, device, *args):
    """Runs script URL DEVICE SHOT_DIR ARGS...: what it saw (its last line of JSON)."""
    shots = os.environ.get("AGRICERT_SCREENSHOTS") or svc.tmp
    os.makedirs(shots, exist_ok=True)
    out = subprocess.run(["node", os.path.join(HERE, script), svc.url, device, shots, *args],
                         capture_output=True, text=True, timeout=280, cwd=HERE, stdin=subprocess.DEVNULL)
    seen = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {}
    t.ok("error" not in seen, "the whole flow ran", seen.get("error", "") + out.stderr[-800:])
    return seen


def fits(t, seen):
    """Every step looked at fits both screens, with and without a message."""
    for name, problems in seen.get("fit", {}).items():
        t.ok(not problems, f"{name}: everything on screen at 1024x768 and 800x1280, also with a message", problems)
    shots = seen.get("shots", [])
    t.ok(shots and all(os.path.exists(p) and os.path.getsize(p) > 5000 for p in shots),
         f"{len(shots)} screenshots kept", [p for p in shots if not os.path.exists(p)][:3])
