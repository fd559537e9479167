"""The API description, service/web/openapi.json (OpenAPI 3.1): Redocly's CLI
lints it; its paths and methods are exactly the router's (agricertd --routes,
the route tables of service/handlers/), so that neither can change without
the other; it is served at /api/v1/openapi.json. Every answer the other
integration tests receive through harness.http() is checked against it
(harness.OpenApiCheck)."""
import json
import os
import re
import subprocess

from harness import BUILD, OPENAPI_PATH, ROOT, http, run_test, skip_all

REDOCLY = os.path.join(ROOT, "tests/openapi/node_modules/.bin/redocly")


def main():
    run_test("openapi", run, printers=False)


def normal(path):
    """A path with its parameters' names left out: /a/{serial}/b -> /a/{}/b."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def run(t, svc):
    with open(OPENAPI_PATH) as f:
        doc = json.load(f)
    t.eq(doc.get("openapi", "")[:3], "3.1", "an OpenAPI 3.1 document")

    out = subprocess.run([os.path.join(BUILD, "service/agricertd"), "--routes"],
                         capture_output=True, text=True, check=True).stdout
    routes = {(m, normal(p)) for m, p, _ in (line.split() for line in out.splitlines())}
    documented = {(m.upper(), normal(p)) for p, item in doc["paths"].items() for m in item
                  if m in ("get", "put", "post", "patch", "delete")}
    t.ok(len(routes) > 70, f"agricertd --routes lists the routes ({len(routes)})")
    t.ok(not routes - documented, "every route is in the document", sorted(routes - documented))
    t.ok(not documented - routes, "every operation of the document is a route",
         sorted(documented - routes))
    auth = {(m, normal(p)): a for m, p, a in (line.split() for line in out.splitlines())}
    wrong = []
    for p, item in doc["paths"].items():
        for m, op in item.items():
            want = {"token": [{"bearer": []}], "optional": [{}, {"bearer": []}], "-": []}
            a = auth.get((m.upper(), normal(p)))
            if a is not None and op.get("security") != want[a]:
                wrong.append(f"{m.upper()} {p}: {op.get('security')} but the route says {a}")
    t.ok(not wrong, "each operation's security is its route's (token, optional, none)", wrong)

    if os.path.exists(REDOCLY):
        env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true")
        lint = subprocess.run([REDOCLY, "lint", "--format", "stylish", OPENAPI_PATH],
                              capture_output=True, text=True, env=env,
                              cwd=os.path.join(ROOT, "tests/openapi"))
        t.ok(lint.returncode == 0, "redocly lint finds no error", lint.stdout[-3000:] + lint.stderr[-2000:])
    else:
        t.note(f"SKIP redocly lint: {REDOCLY} not installed (tests/run runs npm ci in tests/openapi)")

    regulator = svc.county_regulator().token
    svc.cli("key", "new", "--bundle")  # so that the trust bundle is served
    svc.start()
    # Every GET without parameters once, as the county's regulator: each answer is
    # checked against the document by harness.http, like every other test's.
    plain = sorted(p for p, item in doc["paths"].items() if "get" in item and "{" not in p)
    failed = []
    for p in plain:
        r = http("GET", svc.url + p, headers=svc.auth(regulator))
        if r.status >= 500 or r.status == 401:
            failed.append(f"GET {p}: {r.status} {r.body[:200]!r}")
    t.ok(not failed, f"the {len(plain)} GETs without parameters answer a regulator "
         "(a refusal is an answer: only a purchaser has stock)", failed)
    r = http("GET", svc.url + "/api/v1/openapi.json")
    t.eq(r.status, 200, "GET /api/v1/openapi.json")
    t.ok(r.json() == doc, "it serves the document in the repository")
    t.ok(r.headers.get("content-type", r.headers.get("Content-Type", "")).startswith("application/json"),
         "as JSON")


if __name__ == "__main__":
    main()
