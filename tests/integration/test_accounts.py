"""Accounts (issue 5): phone + PIN at a kiosk and username + password for
staff, Argon2id hashes, lockout after 5 wrong PINs, a rate limit per kiosk,
sessions bound to their kiosk and its printer, logout."""

from harness import CANNEI, FENGCHENG, http, label_files, psql, read_label, run_test, wait_print_job

BODY = {"product": "豇豆", "quantity": 5, "unit": "kg", "origin": "福建省安溪县凤城镇",
        "origin_code": "350524103201", "basis": "quality_control", "labels": 1}


def main():
    run_test("accounts", run)


def run(t, svc):
    with open(svc.config, "a") as f:
        f.write("printer.other-kiosk = demo-kiosk 60x40@203\n")
    staff = svc.township_office(FENGCHENG, role=None).id
    svc.cli("account", "add", "phone_pin", svc.producer, "producer", "13859001234", "246810")
    svc.cli("account", "add", "password", staff, "township_regulator", "fengcheng", "correct horse battery")
    kiosk = svc.add_kiosk("demo-kiosk", "凤城镇示范村自助服务站", staff)
    kiosk2 = svc.add_kiosk("kiosk-2", "另一服务站", staff)
    svc.start()
    url = svc.url + "/api/v1/sessions"

    h = psql(svc.db, "SELECT secret_hash FROM account WHERE login = '13859001234'")
    t.ok(h.startswith("$argon2id$") and "246810" not in h, "the PIN is stored as an Argon2id hash", h)

    r = http("POST", url, {"phone": "13859001234", "pin": "246810"}, svc.auth(kiosk))
    t.ok(r.status == 201 and r.json()["kiosk"] == "demo-kiosk" and r.json()["role"] == "producer",
         "a producer logs in at the kiosk with phone and PIN", r.body)
    session = r.json().get("token", "")
    t.eq(psql(svc.db, "SELECT extract(epoch FROM expires_at - now())::int BETWEEN 800 AND 900 "
                      "FROM api_token WHERE kiosk_id = 'demo-kiosk' AND label = 'session'"), "t",
         "a kiosk session expires after 15 minutes")
    r = http("POST", svc.url + "/api/v1/certificates", dict(BODY, printer="demo-kiosk"), svc.auth(session))
    t.eq(r.status, 201, "the session issues and prints on its kiosk's printer")
    before = psql(svc.db, "SELECT count(*) FROM certificate")
    r = http("POST", svc.url + "/api/v1/certificates", dict(BODY, printer="other-kiosk"), svc.auth(session))
    t.ok(r.status == 403 and r.json()["error"]["code"] == "printer_not_allowed",
         "it may not print on another kiosk's printer", r.body)
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth(kiosk))
    t.eq(r.status, 403, "the kiosk's device token alone cannot issue")
    t.eq(psql(svc.db, "SELECT count(*) FROM certificate"), before, "the refused requests stored nothing")

    r = http("POST", url, {"phone": "1385900123", "pin": "246810"}, svc.auth(kiosk))
    t.ok(r.status == 400 and r.json()["error"]["field"] == "phone", "a malformed phone: 400", r.body)
    r = http("POST", url, {"phone": "13859001234", "pin": "12345"}, svc.auth(kiosk))
    t.ok(r.status == 400 and "6位" in r.json()["error"]["message_zh"], "a short PIN: 400 in plain Chinese", r.body)
    r = http("POST", url, {"phone": "13900000000", "pin": "246810"}, svc.auth(kiosk))
    t.eq(r.status, 401, "an unknown phone: 401")

    # Five wrong PINs lock the account (on the second kiosk: the rate limit is per kiosk).
    statuses = []
    for _ in range(5):
        r = http("POST", url, {"phone": "13859001234", "pin": "000000"}, svc.auth(kiosk2))
        statuses.append(r.status)
    t.eq(statuses, [401, 401, 401, 401, 423], "wrong PINs: 401 four times, then 423 locked")
    t.ok("锁定" in r.json()["error"]["message_zh"], "the lock is explained in Chinese", r.body)
    r = http("POST", url, {"phone": "13859001234", "pin": "246810"}, svc.auth(kiosk2))
    t.ok(r.status == 423 and r.json()["error"]["code"] == "account_locked",
         "even the right PIN is refused while locked", r.body)
    t.eq(psql(svc.db, "SELECT locked_until > now() FROM account WHERE login = '13859001234'"), "t",
         "the lock is recorded")

    # At most 10 attempts a minute from one kiosk.
    got = []
    for _ in range(8):
        got.append(http("POST", url, {"phone": "13900000001", "pin": "111111"}, svc.auth(kiosk2)).status)
    t.ok(429 in got and got.index(429) == 4, "the 11th attempt in a minute from a kiosk: 429", got)

    # Staff: username and password, not at a kiosk.
    r = http("POST", url, {"username": "fengcheng", "password": "correct horse battery"})
    t.ok(r.status == 201 and r.json()["role"] == "township_regulator" and r.json()["kiosk"] is None,
         "staff log in with username and password", r.body)
    staff_session = r.json().get("token", "")
    r = http("POST", url, {"username": "fengcheng", "password": "wrong"})
    t.eq(r.status, 401, "a wrong password: 401")
    r = http("POST", url, {"username": "fengcheng", "password": "correct horse battery"}, svc.auth(kiosk))
    t.eq(r.status, 403, "staff do not log in at a kiosk")
    r = http("GET", svc.url + f"/api/v1/subjects/{svc.producer}", headers=svc.auth(staff_session))
    t.eq(r.status, 200, "the staff session works")

    # Reprint: the same codes again, counted, by the issuer only.
    cert = http("POST", svc.url + "/api/v1/certificates", dict(BODY, labels=2), svc.auth(session)).json()
    codes = sorted(i["code"] for i in cert["items"])
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/reprint", {"printer": "demo-kiosk"}, svc.auth(session))
    t.ok(r.status == 201 and r.json()["reprints"] == 1 and r.json()["print_job"]["reprint"] is True,
         "the issuer reprints on its kiosk, counted", r.body)
    job = r.json().get("print_job", {}).get("id")
    state = wait_print_job(svc, job, session).get("state") if job else None
    t.eq(state, "completed", "the reprint job completes")
    files = label_files()
    scanned = sorted(read_label(files[-1])) if files else []
    t.eq(scanned, codes, "the reprint carries the same codes")
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/reprint", {"printer": "other-kiosk"}, svc.auth(session))
    t.eq(r.status, 403, "a kiosk session reprints only on its own printer")

    # Another producer sees and reprints nothing of this one's.
    other_token = svc.second_producer().token
    jobs_before = psql(svc.db, "SELECT count(*) FROM print_job")
    r = http("GET", svc.url + f"/api/v1/certificates/{cert['id']}", headers=svc.auth(other_token))
    t.eq(r.status, 403, "another producer may not read the certificate")
    r = http("GET", svc.url + f"/api/v1/print-jobs/{job}", headers=svc.auth(other_token))
    t.eq(r.status, 403, "nor its print job")
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/reprint", {"printer": "demo-kiosk"}, svc.auth(other_token))
    t.eq(r.status, 403, "nor reprint it")
    t.eq(psql(svc.db, "SELECT count(*) FROM print_job"), jobs_before, "and nothing was printed")

    # Revocation stays within a regulator's jurisdiction.
    canei_token = svc.township_office(CANNEI).token
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/revocation", {"reason": "x"}, svc.auth(canei_token))
    t.ok(r.status == 403 and r.json()["error"]["code"] == "outside_jurisdiction",
         "a regulator of another township may not revoke", r.body)
    t.eq(psql(svc.db, f"SELECT revoked_at IS NULL FROM certificate WHERE serial = {cert['id']}"), "t",
         "the certificate is unchanged")
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/revocation", {"reason": "标签信息与货品不符"},
             svc.auth(staff_session))
    t.eq(r.status, 200, "the producer's own township regulator may")
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/reprint", {"printer": "demo-kiosk"}, svc.auth(session))
    t.eq(r.status, 409, "a revoked certificate is not reprinted")

    # Logout revokes the session at once.
    r = http("DELETE", url + "/current", headers=svc.auth(session))
    t.eq(r.status, 204, "logout: 204")
    r = http("POST", svc.url + "/api/v1/certificates", BODY, svc.auth(session))
    t.eq(r.status, 401, "the session token no longer works")
    t.eq(svc.stop(), 0, "stopped")


if __name__ == "__main__":
    main()
