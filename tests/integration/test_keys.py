"""Trust, end to end against a running agricertd: key rotation to an SM2 key
without downtime (SIGHUP), old codes keep verifying, retiring and revoking a
key, revoking a certificate, the openssl command line agreeing for both
algorithms, and a private key file others can read refused at start."""
import os
import signal
import subprocess
import time

from harness import flipped, http, openssl_verify, payload, psql, run_test, scan

BODY = {"product": "芹菜", "quantity": 8, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}


def main():
    run_test("keys", run, printers=False)


def reload(svc):
    svc.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)


def run(t, svc):
    regulator = svc.county_regulator().token
    svc.start()

    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    a = r.json()
    t.ok(r.status == 201 and a["key_id"] == 1, "issued with key 1 (Ed25519)", r.body)
    code_a = a["items"][0]["code"]

    # Rotate to a new SM2 key without a restart.
    kid = svc.cli("key", "new", "--alg", "sm2").stdout.strip()
    t.eq(kid, "2", "agricert key new --alg sm2 creates key 2")
    t.eq(oct(os.stat(os.path.join(svc.keys, "2.key")).st_mode & 0o777), "0o600", "the private key file is mode 600")
    reload(svc)
    keys = http("GET", svc.url + "/api/v1/keys").json()["keys"]
    by_kid = {k["kid"]: k for k in keys}
    t.ok(by_kid.get(2, {}).get("alg") == "SM2" and by_kid[2]["signing"] and not by_kid[1]["signing"],
         "after SIGHUP the new SM2 key signs", keys)
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    b = r.json()
    t.ok(r.status == 201 and b["key_id"] == 2, "issued with key 2 (SM2) without downtime", r.body)
    code_b = b["items"][0]["code"]
    t.eq(scan(svc, code_b).json()["status"], "valid", "the SM2 code verifies")
    t.eq(scan(svc, code_a).json()["status"], "valid", "the old Ed25519 code still verifies")
    t.ok(openssl_verify(by_kid[1]["pem"], code_a, "Ed25519"), "openssl verifies the Ed25519 code")
    t.ok(openssl_verify(by_kid[2]["pem"], code_b, "SM2"), "openssl (SM2, SM3, default ID) verifies the SM2 code")
    bad_text = flipped(code_b, 10, 0x40)
    t.ok(not openssl_verify(by_kid[2]["pem"], "X/" + bad_text, "SM2"), "openssl rejects an altered SM2 code")
    t.eq(scan(svc, "X/" + bad_text).json()["status"], "bad_signature", "agricertd rejects the altered SM2 code")
    t.ok("PRIVATE" not in http("GET", svc.url + "/api/v1/keys").text, "no private material is published")
    log = svc.read_log()
    t.ok("PRIVATE" not in log, "no private material is logged")

    # Retire key 1: it stops signing (it already had) and keeps verifying.
    svc.cli("key", "retire", "1")
    reload(svc)
    keys = {k["kid"]: k for k in http("GET", svc.url + "/api/v1/keys").json()["keys"]}
    t.eq(keys[1]["status"], "retired", "key 1 is retired")
    t.eq(scan(svc, code_a).json()["status"], "valid", "codes of a retired key still verify")

    # Revoke key 1: its codes are no longer trusted.
    svc.cli("key", "revoke", "1")
    reload(svc)
    t.eq(scan(svc, code_a).json()["status"], "key_revoked", "codes of a revoked key verify as key_revoked")
    t.eq(scan(svc, code_b).json()["status"], "valid", "codes of the other key are unaffected")

    # Revoking a certificate: regulators only, with a reason.
    url = svc.url + f"/api/v1/certificates/{b['id']}/revocation"
    r = http("POST", url, {"reason": "快检不合格"}, svc.auth())
    t.eq(r.status, 403, "a producer may not revoke")
    r = http("POST", url, {}, svc.auth(regulator))
    t.ok(r.status == 400 and r.json()["error"]["field"] == "reason", "a revocation needs a reason", r.body)
    t.eq(psql(svc.db, f"SELECT revoked_at IS NULL FROM certificate WHERE serial = {b['id']}"), "t",
         "refused revocations changed nothing")
    r = http("POST", url, {"reason": "快检不合格（毒死蜱超标）"}, svc.auth(regulator))
    t.ok(r.status == 200 and r.json()["status"] == "revoked" and r.json()["revoke_reason"] == "快检不合格（毒死蜱超标）",
         "a county regulator revokes with a reason", r.body)
    r = http("POST", url, {"reason": "again"}, svc.auth(regulator))
    t.ok(r.status == 409 and r.json()["error"]["code"] == "already_revoked", "revoking twice: 409", r.body)
    r = http("POST", svc.url + "/api/v1/certificates/999999999/revocation", {"reason": "x"}, svc.auth(regulator))
    t.eq(r.status, 404, "revoking an unknown certificate: 404")
    s = scan(svc, code_b).json()
    t.ok(s["status"] == "revoked" and s["valid"] is False and s["certificate"]["revoke_reason"] == "快检不合格（毒死蜱超标）"
         and s["certificate"]["revoked_at"], "its items scan as revoked, with reason and time", s)
    page = http("GET", svc.url + "/v/" + payload(code_b)).text
    t.ok("该合格证已被撤销" in page and "毒死蜱" in page, "the scan page says it was revoked and why")

    # Suspension takes effect at once, even for a token used a moment ago.
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    t.eq(r.status, 201, "the producer issues (its token is now cached)")
    r = http("POST", svc.url + f"/api/v1/subjects/{svc.producer}/status",
             {"status": "suspended", "reason": "快检不合格，停产整改"}, svc.auth(regulator))
    t.eq(r.status, 200, "the county regulator suspends the producer")
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    t.ok(r.status == 403 and r.json()["error"]["code"] == "subject_inactive" and "暂停" in r.json()["error"]["message_zh"],
         "a suspended producer cannot issue, told why in Chinese", r.body)
    http("POST", svc.url + f"/api/v1/subjects/{svc.producer}/status",
         {"status": "active", "reason": "整改完成"}, svc.auth(regulator))
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth())
    t.eq(r.status, 201, "reactivated, it issues again")

    # A private key file that others can read stops the service from starting.
    t.eq(svc.stop(), 0, "SIGTERM stops agricertd")
    os.chmod(os.path.join(svc.keys, "2.key"), 0o644)
    out = subprocess.run([os.path.join(os.environ["AGRICERT_BUILD"], "service/agricertd")], env=svc.env,
                         cwd=svc.tmp, capture_output=True, text=True, timeout=30)
    t.ok(out.returncode != 0 and "chmod 600" in out.stderr, "agricertd refuses a private key others can read",
         out.stderr[-500:])
    os.chmod(os.path.join(svc.keys, "2.key"), 0o600)


if __name__ == "__main__":
    main()
