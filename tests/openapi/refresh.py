#!/usr/bin/env python3
"""Writes service/web/openapi.json (the API's description, OpenAPI 3.1) from
the router's routes (agricertd --routes), the summaries below, and the
answers the integration suite received, recorded with

    AGRICERT_OPENAPI_RECORD=/tmp/answers.jsonl tests/run --suite integration --suite browser
    tests/openapi/refresh.py build/test/service/agricertd /tmp/answers.jsonl

The response schemas are what the suite saw, leniently: every number is a
"number" or null, a member is required only when every answer had it (and only in
the top two levels), a value only ever null may be anything. Errors refer to
the one Error schema. Run it after adding or changing routes (test_openapi
fails until the document has them), then read the diff; the document is
the repository's, not a build product.
"""
import collections
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
OUT = os.path.join(ROOT, "service/web/openapi.json")

S = {
"GET /healthz": ("Health: the database and CUPS, apart", "200 when the database answers (status ok, or degraded with CUPS down), 503 when it does not. A token of a role that may supervise adds `detail` (the reasons); anyone else sees only the states."),
"GET /api/v1/keys": ("The public halves of the code keys", "For verifiers: kid, alg (Ed25519 or SM2), status, PEM, and which one signs."),
"GET /api/v1/openapi.json": ("This document", "The API's description, OpenAPI 3.1."),
"GET /metrics": ("Metrics in the Prometheus text format", "Requests by route pattern and status, latencies, group commit, the database pool, print jobs by printer and state, scans by verdict, clone suspicions. From the host itself (loopback, not through a proxy) or with the configured metrics_token as a bearer token; 404 otherwise."),
"POST /api/v1/sessions": ("Log in", "`{\"phone\",\"pin\"}` or `{\"username\",\"password\"}`; a kiosk sends its device token. 401 wrong credentials, 423 account_locked, 429 too many attempts."),
"POST /api/v1/sessions/assisted": ("Assisted issuing (代开)", "A village station's session at its kiosk: `{\"producer\", \"pin\"}`, the farmer's PIN typed by the farmer; a session of the farmer bound to the kiosk, with `assisted_by`. 401 with tries_left, 423 locked, 403 outside_villages."),
"GET /api/v1/certificates": ("我的合格证: one's own certificates", "`?mine&limit=&offset=`: newest first, paged, with print state and reprints."),
"POST /api/v1/kiosks/{kiosk}/calibration": ("Print the dot-gain calibration run", "Four labels at dot gain 0..3 on the kiosk's printer, to choose its compensation."),
"GET /api/v1/products/menu": ("The catalogue as the kiosk offers it", "Categories with their products (the caller's most used first) and `mine`."),
"PUT /api/v1/kiosks/{kiosk}/station": ("Make a kiosk a village station", "`{\"subject\", \"villages\": [codes]}`: the station's staff subject and the villages it serves."),
"GET /api/v1/kiosks/{kiosk}/station": ("A kiosk's village station", "The station's subject and villages."),
"POST /api/v1/households": ("Enrol a household producer", "`{\"name\", \"village\", \"pin\", \"phone\"?, \"id_number\"?, \"products\"?}` by a station (its villages) or a regulator (its jurisdiction)."),
"GET /api/v1/households": ("Households a station may help", "By name or phone (`q`), paged; phones masked for a station."),
"DELETE /api/v1/sessions/current": ("Log out", "Ends the session whose token is sent (204)."),
"GET /api/v1/trust-bundle": ("The signed trust bundle", "Text (proto/CODE.md), rebuilt at most once a minute."),
"GET /api/v1/trust-bundle/key": ("The trust bundle key", "Its public half, to install once in verifiers."),
"POST /api/v1/certificates": ("Issue a certificate", "A producer (or a kiosk session) issues a certificate with its labels' signed item codes, stored durably before the answer; with `printer` the labels are printed. `Idempotency-Key` makes a retry safe."),
"GET /api/v1/certificates/{serial}": ("A certificate", "With its item codes: its issuer and staff."),
"POST /api/v1/certificates/{serial}/revocation": ("Revoke a certificate", "`{\"reason\", \"cascade\"}`: a regulator covering the issuer's region; with cascade every certificate made from it goes too."),
"GET /api/v1/print-jobs/{job}": ("A print job", "Its state as CUPS reports it, and the printer's."),
"POST /api/v1/certificates/{serial}/reprint": ("Print the labels again", "`{\"printer\"}`: the same codes on a new job; 409 for a revoked certificate."),
"GET /v/{payload}": ("Scan a label", "The verdict on a scanned code: a Chinese page, or JSON with `Accept: application/json` (status, the certificate as the label shows it, scans, clone suspicion). `?market=ID` with an inspector's token."),
"GET /V/{payload}": ("Scan a label (upper-case URL)", "The same as /v/{payload}: QR codes in alphanumeric mode carry the URL in upper case."),
"POST /api/v1/receipts": ("Collect certificates (收取)", "A purchaser records the labels it received: `{\"receipts\": [{\"code\", \"quantity\"?, \"unit\"?}]}`, each reported."),
"GET /api/v1/stock": ("Stock", "Per inbound certificate and external lot: received, used, left."),
"GET /api/v1/certificates/{serial}/trace": ("Trace a certificate", "Every certificate, issuer, origin and quantity up to the farms or down to the shops (`direction`)."),
"GET /api/v1/certificates/{serial}/epcis": ("The chain as GS1 EPCIS 2.0", "JSON-LD: ObjectEvents and TransformationEvents."),
"GET /api/v1/certificates/{serial}/recall": ("Recall report", "Every certificate made from it, its item codes and the purchasers holding them."),
"GET /api/v1/external-certificates/{id}/recall": ("Recall report of an external lot", "Every certificate made from the external lot."),
"POST /api/v1/rapid-tests": ("Record a rapid test", "A testing station's or an inspector's test of a producer's product."),
"POST /api/v1/rapid-tests/own": ("Record one's own test", "A producer's self test or commissioned lab report."),
"PUT /api/v1/rapid-tests/{id}/photo": ("The photo of an own test", "`{\"photo\": \"<JPEG, base64>\"}`, at most 2 MB of JPEG."),
"GET /api/v1/rapid-tests": ("Rapid tests", "Newest first, paged."),
"POST /api/v1/rapid-tests/{id}/revocation": ("Revoke a failed test's batch", "The certificates the failed test covers, in one call."),
"POST /api/v1/inspections": ("A market check (查验)", "The scanned labels of a seller, each with its status."),
"GET /api/v1/inspections": ("Market checks", "With what each found (default: the last 30 days)."),
"POST /api/v1/unlicensed-reports": ("Report produce without a certificate", "无证产品反馈 at a market."),
"GET /api/v1/unlicensed-reports": ("Reports of produce without a certificate", ""),
"GET /api/v1/clone-suspicions": ("Clone suspicions", "Item codes that look copied: far apart, or scanned too often."),
"GET /api/v1/markets/{id}/stalls": ("A market's stalls", ""),
"GET /api/v1/stats/townships": ("Township statistics", "JSON, or CSV with `format=csv`."),
"GET /api/v1/subjects": ("Search the registry (名录库)", "Paged."),
"POST /api/v1/subjects": ("Register a subject", ""),
"GET /api/v1/subjects/{id}": ("A subject", "Phone and ID numbers masked except for regulators covering it."),
"PATCH /api/v1/subjects/{id}": ("Edit a subject", ""),
"POST /api/v1/subjects/{id}/grade": ("Set a subject's credit grade", "`{\"grade\": \"A|B|C\", \"reason\"}`."),
"POST /api/v1/subjects/{id}/status": ("Set a subject's status", "`{\"status\": \"active|suspended|blacklisted\", \"reason\"}`."),
"GET /api/v1/subjects/{id}/changes": ("A subject's grade and status changes", "Who, when, why."),
"GET /api/v1/regions": ("Administrative divisions", "`?parent=` for one level."),
"POST /api/v1/regions": ("Add a division", "County regulator."),
"GET /api/v1/regions/{region}": ("A division", ""),
"GET /api/v1/markets": ("Markets", ""),
"POST /api/v1/markets": ("Add a market", ""),
"GET /api/v1/markets/{id}": ("A market", ""),
"PATCH /api/v1/markets/{id}": ("Edit a market", ""),
"GET /api/v1/products": ("The product catalogue", "Ids never change: they are in signed codes."),
"POST /api/v1/products": ("Add a product", ""),
"GET /api/v1/products/{id}": ("A product", ""),
"PATCH /api/v1/products/{id}": ("Edit a product", ""),
"GET /api/v1/kiosks": ("Kiosks", ""),
"POST /api/v1/kiosks": ("Add a kiosk", ""),
"GET /api/v1/kiosks/{kiosk}": ("A kiosk", ""),
"PATCH /api/v1/kiosks/{kiosk}": ("Edit a kiosk", ""),
"POST /api/v1/external-certificates": ("Register an external certificate (外来合格证)", ""),
"GET /api/v1/external-certificates": ("External certificates", "The newest 1,000, with used and left."),
"PUT /api/v1/external-certificates/{id}/photo": ("The photo of an external certificate", "`Content-Type: image/jpeg`, at most 2 MB."),
"GET /api/v1/external-certificates/{id}/photo": ("The photo of an external certificate", "image/jpeg."),
"GET /api/v1/products/{id}/mix": ("What a mix product may contain", ""),
"PUT /api/v1/products/{id}/mix": ("Set what a mix product may contain", "`{\"may_contain\": [names]}` replaces the list."),
"GET /api/v1/stats/supervision": ("The township table (annexes 3 and 4)", "JSON, or CSV with `format=csv`."),
"GET /api/v1/stats/daily": ("Certificates per day", "JSON, or CSV with `format=csv`."),
"GET /api/v1/stats/registry": ("Subjects by grade and status", "JSON, or CSV with `format=csv`."),
"GET /api/v1/failed-tests": ("Failed rapid tests", "With whether each still blocks and its batch's certificates."),
"GET /api/v1/revocations": ("Revoked certificates", ""),
"GET /api/v1/certificates/{serial}/revocation-preview": ("Dry run of a revocation", "Nothing changes."),
"GET /api/v1/patrols": ("Patrols (巡查)", "JSON, or CSV with `format=csv`."),
"POST /api/v1/patrols": ("Record a patrol", ""),
"GET /api/v1/patrols/coverage": ("Patrol coverage per township and month", ""),
"GET /api/v1/patrols/unvisited": ("Producers without an onsite patrol this quarter", ""),
"GET /api/v1/patrols/{id}": ("A patrol", "With its photos."),
"POST /api/v1/patrols/{id}/photos": ("Add a photo to a patrol", "`{\"photo\": \"<JPEG, base64>\"}`."),
"GET /api/v1/patrols/{id}/photos/{photo}": ("A patrol's photo", "image/jpeg."),
"POST /api/v1/quarantine-certificates": ("Import animal quarantine certificates", "A CSV file (`Content-Type: text/csv`), all lines or none."),
"GET /api/v1/quarantine/reconciliation": ("Quarantine reconciliation (动检证比对)", ""),
"GET /api/v1/sampling-plans": ("Sampling plans (双随机)", ""),
"POST /api/v1/sampling-plans": ("Draw a month's sampling plan", ""),
"GET /api/v1/sampling-plans/{id}": ("A sampling plan", "JSON, or CSV with `format=csv`."),
"GET /api/v1/sampling-plans/{id}/redraw": ("Redraw a sampling plan from its records", "Anyone can redo the draw: `matches` says whether it came out the same."),
}

routes = [l.split() for l in subprocess.run([sys.argv[1], "--routes"], capture_output=True, text=True, check=True).stdout.splitlines()]
samples = collections.defaultdict(list)  # (method, template) -> [(status, type, body)]

def to_doc_path(pattern):
    # unique parameter names: the second {id} of /patrols/{id}/photos/{id} is the photo
    if pattern == "/api/v1/patrols/{id}/photos/{id}":
        return "/api/v1/patrols/{id}/photos/{photo}"
    return pattern

matchers = []
for m, p, auth in routes:
    rx = "^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(p)) + "$"
    if "{payload}" in p:
        rx = rx.replace("[^/]+$", ".+$")
    matchers.append((m, re.compile(rx), p))

for f in sys.argv[2:]:
    for line in open(f):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        meth = "GET" if rec["method"] == "HEAD" else rec["method"]
        for m, rx, p in matchers:
            if m == meth and rx.match(rec["path"]):
                samples[(m, p)].append((rec["status"], rec["type"].split(";")[0].strip(), rec["body"], rec["method"]))
                break

def merge_types(schemas):
    return schemas

def infer(values, depth=0):
    """A lenient schema for the JSON values seen."""
    types = set()
    objs, arrs = [], []
    for v in values:
        if v is None: types.add("null")
        elif isinstance(v, bool): types.add("boolean")
        elif isinstance(v, (int, float)): types.add("number")
        elif isinstance(v, str): types.add("string")
        elif isinstance(v, list): types.add("array"); arrs.append(v)
        elif isinstance(v, dict): types.add("object"); objs.append(v)
    if not types:
        return {}
    if types == {"null"}:
        return {}  # only ever null so far: anything
    if "number" in types:
        types.add("null")  # figures of the database: null where there is nothing to count
    s = {"type": sorted(types)[0] if len(types) == 1 else sorted(types)}
    if objs and depth < 6:
        keys = collections.OrderedDict()
        for o in objs:
            for k in o:
                keys.setdefault(k, []).append(o[k])
        s["properties"] = {k: infer(vs, depth + 1) for k, vs in keys.items()}
        req = [k for k in keys if all(k in o for o in objs)]
        if req and depth < 2:
            s["required"] = req
    if arrs and depth < 6:
        items = [x for a in arrs for x in a]
        if items:
            s["items"] = infer(items, depth + 1)
    return s

KIND = {
    "serial": ("A certificate serial", {"type": "string", "pattern": "^[0-9]{1,15}$"}),
    "id": ("A record id", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
    "photo": ("A photo id", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
    "job": ("A print job id", {"type": "string", "pattern": "^[0-9]{1,18}$"}),
    "kiosk": ("A kiosk id", {"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"}),
    "region": ("A 12-digit administrative division code", {"type": "string", "pattern": "^[0-9]{12}$"}),
    "payload": ("The scanned code: what follows /v/ in the label's URL", {"type": "string"}),
}

ERROR = {"$ref": "#/components/responses/Error"}

HEALTH = {"type": "object", "required": ["status", "database", "cups", "db_connections", "signing_key"],
          "properties": {
              "status": {"enum": ["ok", "degraded", "unavailable"]},
              "database": {"enum": ["ok", "down"]},
              "cups": {"enum": ["ok", "down", "not_configured"]},
              "db_connections": {"type": "integer", "description": "Connections of the pool ready now"},
              "signing_key": {"type": "integer", "description": "The kid that signs, 0 for none"},
              "detail": {"type": "object", "description": "Only for a token of a role that may supervise: why",
                         "properties": {k: {"type": ["string", "null"]} for k in (
                             "database_error", "cups_error", "printer_state", "printer_state_reasons")}}}}
# Hand-written answers, over what the suite saw: (method, route) -> {status: response}.
OVERRIDES = {
    ("GET", "/healthz"): {
        "200": {"description": "The database answers (CUPS may be down: degraded)",
                "content": {"application/json": {"schema": HEALTH}}},
        "503": {"description": "The database does not answer",
                "content": {"application/json": {"schema": HEALTH}}}},
    ("GET", "/metrics"): {
        "200": {"description": "The Prometheus text format, version 0.0.4",
                "content": {"text/plain": {"schema": {"type": "string"}}}},
        "404": ERROR},
}
doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "agricert API",
        "version": "1",
        "summary": "Signed compliance certificates (承诺达标合格证) for farm produce: issue, print, scan, trace, supervise.",
        "description": "Every error is `{\"error\": {\"code\", \"message\", \"message_zh\", \"field\"?, \"request_id\"}}` with a stable `code` (see the README). The router answers 401 (no or unknown token), 403 (the role may not), 404 and 405 before a handler runs; a database that does not answer is 503 `unavailable` (nothing changed).",
        "license": {"name": "Proprietary", "identifier": "LicenseRef-agricert"},
    },
    "servers": [{"url": "/", "description": "the service itself (behind nginx: https://<host>/)"}],
    "tags": [],
    "paths": {},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API token (agricert token create), a session's token (POST /api/v1/sessions) or a kiosk's device token."}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message", "message_zh", "request_id"],
                    "properties": {
                        "code": {"type": "string", "description": "Stable, for programs: unauthorized, forbidden, not_found, body_too_large, invalid_value, unavailable, ..."},
                        "message": {"type": "string", "description": "English, says what to do"},
                        "message_zh": {"type": "string", "description": "Chinese, says what to do"},
                        "field": {"type": "string", "description": "The request field the error is about"},
                        "request_id": {"type": "string", "description": "Also sent as X-Request-Id and logged"},
                    },
                    "additionalProperties": True}},
            },
        },
        "responses": {"Error": {"description": "The error (any status of 400 and above)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    },
}

TAGS = [
    ("scan", "Scanning a label: the verdict, for anyone", ["/v/", "/V/"]),
    ("service", "Health, metrics and this document", ["/healthz", "/metrics", "/api/v1/openapi.json"]),
    ("trust", "Public keys and the signed trust bundle, for offline verifiers", ["/api/v1/keys", "/api/v1/trust-bundle"]),
    ("sessions", "Logging in and out", ["/api/v1/sessions"]),
    ("certificates", "Issuing, reading, printing, revoking and tracing certificates", ["/api/v1/certificates", "/api/v1/print-jobs"]),
    ("supply chain", "Collecting labels, stock, certificates from outside", ["/api/v1/receipts", "/api/v1/stock", "/api/v1/external-certificates"]),
    ("testing", "Rapid tests and what a failed one blocks", ["/api/v1/rapid-tests", "/api/v1/failed-tests"]),
    ("markets", "Market checks, produce without certificates, copied labels", ["/api/v1/inspections", "/api/v1/unlicensed-reports", "/api/v1/clone-suspicions"]),
    ("registry", "Subjects (名录库), divisions, markets, products, kiosks, village stations and their households", ["/api/v1/subjects", "/api/v1/regions", "/api/v1/markets", "/api/v1/products", "/api/v1/kiosks", "/api/v1/households"]),
    ("supervision", "The regulator's dashboard: statistics, revocations, patrols, quarantine, sampling", ["/api/v1/stats", "/api/v1/revocations", "/api/v1/patrols", "/api/v1/quarantine", "/api/v1/sampling-plans"]),
]


def tag_of(p):
    if p == "/api/v1/certificates/{serial}/revocation-preview":
        return "supervision"
    for name, _, prefixes in TAGS:
        if any(p.startswith(x) for x in prefixes):
            return name
    raise SystemExit("no tag for " + p)

op_ids = set()
for m, p, auth in routes + [["GET", "/api/v1/openapi.json", "-"]]:
    dp = to_doc_path(p)
    key = f"{m} {dp}"
    summary, desc = S.get(key, (None, ""))
    if summary is None:
        print("no summary for", key, file=sys.stderr)
        summary = key
    opid = re.sub(r"[^a-zA-Z0-9]+", "_", f"{m.lower()}_{dp.replace('/api/v1/', '')}").strip("_")
    op = {"operationId": opid, "summary": summary, "tags": [tag_of(dp)]}
    if desc:
        op["description"] = desc
    params = []
    for name in re.findall(r"\{(\w+)\}", dp):
        d, sch = KIND[name]
        params.append({"name": name, "in": "path", "required": True, "description": d, "schema": sch})
    if params:
        op["parameters"] = params
    if auth == "token":
        op["security"] = [{"bearer": []}]
    elif auth == "optional":
        op["security"] = [{}, {"bearer": []}]
    else:
        op["security"] = []
    if m in ("POST", "PUT", "PATCH"):
        if dp == "/api/v1/quarantine-certificates":
            content = {"text/csv": {"schema": {"type": "string"}}}
        elif dp == "/api/v1/external-certificates/{id}/photo":
            content = {"image/jpeg": {"schema": {"type": "string", "contentMediaType": "image/jpeg"}}}
        else:
            content = {"application/json": {"schema": {"type": "object"}}}
        op["requestBody"] = {"required": m != "POST" or dp not in ("/api/v1/certificates/{serial}/reprint",), "content": content}
    responses = {}
    by_status = collections.defaultdict(list)
    for st, ct, body, how in samples.get((m, p), []):
        by_status[st].append((ct, body, how))
    def all_errors(st):
        for ct, body, how in by_status[st]:
            try:
                if ct == "application/json" and body and "error" not in json.loads(body):
                    return False
            except ValueError:
                pass
        return True

    for st in sorted(by_status):
        if st >= 400 and all_errors(st):
            continue
        cts = collections.defaultdict(list)
        for ct, body, how in by_status[st]:
            cts[ct or "application/octet-stream"].append((body, how))
        content = {}
        for ct, bodies in cts.items():
            if ct == "application/json":
                vals = []
                for b, how in bodies:
                    if how == "HEAD" or not b:
                        continue
                    try:
                        vals.append(json.loads(b))
                    except ValueError:
                        pass
                content[ct] = {"schema": infer(vals) if vals else {}}
            elif ct == "image/jpeg":
                content[ct] = {"schema": {"type": "string", "contentMediaType": "image/jpeg"}}
            else:
                content[ct] = {"schema": {"type": "string"}}
        r = {"description": {200: "OK", 201: "Created", 202: "Accepted", 204: "No content",
                             503: "Unavailable"}.get(st, str(st))}
        if content and st != 204:
            r["content"] = content
        responses[str(st)] = r
    if not any(s.startswith("2") for s in responses):
        if dp == "/metrics":
            responses["200"] = {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
        elif dp == "/api/v1/openapi.json":
            responses["200"] = {"description": "This document", "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}
        elif dp == "/api/v1/trust-bundle" or dp == "/api/v1/trust-bundle/key":
            responses["200"] = {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
        else:
            responses["200"] = {"description": "OK", "content": {"application/json": {"schema": {"type": ["object", "array"]}}}}
    for st in sorted({s for s in by_status if s >= 400 and all_errors(s)}):
        responses[str(st)] = ERROR
    if not any(s.startswith("4") for s in responses):
        responses["400"] = ERROR
    responses.update(OVERRIDES.get((m, p), {}))
    responses["default"] = ERROR
    op["responses"] = responses
    doc["paths"].setdefault(dp, {})[m.lower()] = op
doc["tags"] = [{"name": n, "description": d} for n, d, _ in TAGS]
json.dump(doc, open(OUT, "w"), ensure_ascii=False, indent=1)
print(len(doc["paths"]), "paths", sum(len(v) for v in doc["paths"].values()), "operations", file=sys.stderr)
missing = [k for k in [(m, p) for m, p, a in routes] if k not in samples]
print("routes without samples:", missing, file=sys.stderr)
