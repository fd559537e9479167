"""The walking skeleton end to end (issue 2): a producer's request is signed,
committed in PostgreSQL, printed through the real cupsd onto the virtual kiosk
printer, read back from the label with zbarimg, and verified by a scan."""
import os
import re
import signal
import time

from harness import (altered, flipped, http, label_files, openssl_verify, payload, psql, read_label, run_test,
                     scan, wait_print_job)

ISSUE = {
    "product": "豇豆",
    "quantity": 25,
    "unit": "kg",
    "origin": "福建省安溪县凤城镇",
    "origin_code": "350524103201",
    "basis": "quality_control",
    "contact": "13859001234",
    "labels": 3,
    "printer": "demo-kiosk",
}


def main():
    run_test("skeleton", run)


def run(t, svc):
    svc.start()
    url = svc.url

    r = http("GET", url + "/healthz")
    t.ok(r.status == 200 and r.json()["database"] == "ok", "healthz checks the database", r.body)

    # Refusals: each a JSON error with a stable code and both languages.
    r = http("POST", url + "/api/v1/certificates", ISSUE)
    t.ok(r.status == 401 and r.json()["error"]["code"] == "unauthorized", "no token: 401", r.body)
    err = r.json()["error"]
    t.ok(err["message"] and err["message_zh"], "errors carry an English and a Chinese message", err)
    r = http("POST", url + "/api/v1/certificates", ISSUE, svc.auth("ac_not_a_token"))
    t.eq(r.status, 401, "unknown token: 401")
    r = http("POST", url + "/api/v1/certificates", b"{not json", svc.auth())
    t.ok(r.status == 400 and r.json()["error"]["code"] == "invalid_json", "bad JSON: 400", r.body)
    cases = [
        ({"product": None}, 400, "missing_field"),
        ({"product": "不存在的菜"}, 422, "unknown_product"),
        ({"quantity": 0}, 400, "invalid_quantity"),
        ({"quantity": -3}, 400, "invalid_quantity"),
        ({"quantity": "25"}, 400, "missing_field"),
        ({"quantity": 1.23456}, 400, "invalid_quantity"),
        ({"unit": "furlong"}, 400, "invalid_unit"),
        ({"origin": ""}, 400, "invalid_origin"),
        ({"origin_code": "3505241"}, 400, "invalid_origin_code"),
        ({"origin_code": "990524100201"}, 400, "invalid_origin_code"),
        ({"basis": "trust_me"}, 400, "invalid_basis"),
        ({"labels": 0}, 400, "invalid_labels"),
        ({"labels": 100000}, 400, "invalid_labels"),
        ({"printer": "no-such-kiosk"}, 422, "unknown_printer"),
        ({"issuer": svc.producer + 1}, 403, "forbidden_issuer"),
        ({"colour": "red"}, 400, "unknown_field"),
    ]
    before = psql(svc.db, "SELECT count(*) FROM certificate")
    for change, status, code in cases:
        body = dict(ISSUE)
        for k, v in change.items():
            if v is None:
                body.pop(k)
            else:
                body[k] = v
        r = http("POST", url + "/api/v1/certificates", body, svc.auth())
        got = r.json().get("error", {}).get("code") if r.body.startswith(b"{") else None
        t.ok(r.status == status and got == code, f"{change} refused with {status} {code}", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate"), before, "refused requests stored nothing")

    # Issue with three labels on the kiosk printer.
    t0 = time.time()
    r = http("POST", url + "/api/v1/certificates", ISSUE, svc.auth(**{"Idempotency-Key": "kiosk-7-0001"}))
    t.ok(r.status == 201, "issue: 201", r.body)
    cert = r.json()
    items = cert.get("items", [])
    codes = [i["code"] for i in items]
    t.eq([i["index"] for i in items], [1, 2, 3], "three items indexed 1..3")
    t.eq(len(set(codes)), 3, "three distinct item codes")
    prefix = url.upper() + "/V/"
    t.ok(all(c.startswith(prefix) and c == c.upper() for c in codes),
         "codes are upper-case URLs (QR alphanumeric mode)", codes)
    t.ok(re.fullmatch(r"\d{12}", cert.get("number", "")) is not None, "a 12-digit number", cert.get("number"))
    t.eq((cert["product"]["name"], cert["quantity"], cert["unit"], cert["basis"], cert["style"]),
         ("豇豆", 25, "kg", "quality_control", 1), "certificate fields as requested")
    t.eq(cert["issuer"]["id"], svc.producer, "issuer defaults to the token's subject")
    t.ok(cert.get("print_job") and cert["print_job"]["id"] > 0, "a print job was created", cert.get("print_job"))

    # Committed before the answer: the row is there with its three codes.
    row = psql(svc.db, f"SELECT labels, array_length(item_codes, 1), issuer_id FROM certificate WHERE serial = {cert['id']}")
    t.eq(row, f"3|3|{svc.producer}", "certificate and its item codes are in PostgreSQL")

    # Idempotency: the same request again gives the same certificate, nothing new.
    r = http("POST", url + "/api/v1/certificates", ISSUE, svc.auth(**{"Idempotency-Key": "kiosk-7-0001"}))
    t.ok(r.status == 200 and r.json()["id"] == cert["id"] and
         [i["code"] for i in r.json()["items"]] == codes, "retry with the same Idempotency-Key returns the same certificate", r.body)
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate WHERE idempotency_key = 'kiosk-7-0001'"), "1",
         "the retry stored nothing new")
    other = dict(ISSUE, quantity=30)
    r = http("POST", url + "/api/v1/certificates", other, svc.auth(**{"Idempotency-Key": "kiosk-7-0001"}))
    t.ok(r.status == 422 and r.json()["error"]["code"] == "idempotency_key_reused",
         "the same key for a different request is refused", r.body)

    r = http("GET", url + f"/api/v1/certificates/{cert['id']}", headers=svc.auth())
    t.ok(r.status == 200 and r.json()["number"] == cert["number"], "GET the certificate back", r.body)

    # The print job reaches the virtual printer and completes.
    job = wait_print_job(svc, cert["print_job"]["id"])
    elapsed = time.time() - t0
    t.eq(job.get("state"), "completed", "the print job completes at the virtual printer")
    t.note(f"request to job completed at the virtual printer: {elapsed * 1000:.0f} ms")

    cups_id = job.get("cups_job_id")
    files = []
    deadline = time.time() + 20
    while time.time() < deadline and not files:
        files = [f for f in label_files() if f"{cups_id}" in os.path.basename(f)] if cups_id else []
        if not files:
            files = label_files()[-1:]
        time.sleep(0.2)
    t.ok(files, "the label file landed in the labels directory", os.environ.get("AGRICERT_TEST_LABELS_DIR", ""))
    scanned = read_label(files[-1]) if files else []
    t.eq(sorted(scanned), sorted(codes), "zbarimg reads the three item codes back from the printed pages")

    # Every code scans as genuine; the HTML page says 真实有效.
    for idx, code in enumerate(codes, 1):
        r = scan(svc, code)
        body = r.json() if r.status == 200 else {}
        t.ok(body.get("valid") is True and body.get("status") == "valid" and body.get("item") == idx,
             f"item {idx} verifies as valid", r.body)
    r = http("GET", codes[0].replace(prefix, url + "/V/"), headers={"Accept": "text/html"})
    t.ok(r.status == 200 and "真实有效" in r.text and "豇豆" in r.text, "the scan page says 真实有效", r.text[:200])
    t.ok("13859001234" not in r.text and "138****1234" in r.text, "the public page masks the phone number")

    # A code with one changed character is not genuine.
    changed = altered(payload(codes[0]), 40)
    r = scan(svc, changed)
    t.ok(r.status == 200 and r.json()["valid"] is False and r.json()["status"] in ("bad_signature", "malformed"),
         "a code with one changed character verifies as invalid", r.body)
    r = http("GET", url + "/v/NOT-A-CODE", headers={"Accept": "application/json"})
    t.ok(r.json()["status"] == "malformed", "garbage is malformed, not a crash", r.body)
    r = http("GET", url + "/v/" + changed)
    t.ok("真实有效" not in r.text and "疑似假冒" in r.text and "签名" not in r.text,
         "the page for a forged code says so in plain Chinese", r.text[:300])

    # Offline: the published key and the openssl command line agree.
    r = http("GET", url + "/api/v1/keys")
    keys = r.json()["keys"]
    t.ok(len(keys) == 1 and keys[0]["alg"] == "Ed25519" and "PUBLIC KEY" in keys[0]["pem"] and
         "PRIVATE" not in r.text, "GET /api/v1/keys publishes the public key only", r.body)
    pem = keys[0]["pem"]
    t.ok(all(openssl_verify(pem, c) for c in codes), "openssl pkeyutl -verify accepts every genuine code")
    t.ok(not openssl_verify(pem, flipped(codes[1], 20, 0x01)), "openssl rejects a code with one flipped bit")

    # One log line per request, with method, path, status, duration and id.
    log = svc.read_log()
    t.ok(re.search(r"http: POST /api/v1/certificates 201 [0-9.]+ms id=\S+", log) is not None,
         "requests are logged with method, path, status, duration and id", log[-2000:])

    # SIGTERM: stop accepting, finish in flight, exit cleanly.
    rc = svc.stop(signal.SIGTERM)
    t.eq(rc, 0, "SIGTERM stops agricertd cleanly")
    t.ok("stopped" in svc.read_log(), "the log says it stopped")
    t.ok(psql(svc.db, f"SELECT count(*) FROM certificate WHERE serial = {cert['id']}") == "1",
         "the certificate outlives the service")

    # A job a crash left between the commit and CUPS is printed at the next start.
    stuck = psql(svc.db, "INSERT INTO print_job (serial, printer_id, created_at) VALUES "
                         f"({cert['id']}, 'demo-kiosk', now() - interval '2 minutes') RETURNING id").split()[0]
    svc.start()
    t.eq(wait_print_job(svc, stuck).get("state"), "completed", "a print job left queued by a crash is printed at the next start")
    t.eq(svc.stop(), 0, "stopped again")


if __name__ == "__main__":
    main()
