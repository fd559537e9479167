"""Two agricertd instances on one database (issues 14 and 16): what one
changes, the other's caches drop within the documented bound (README,
"Several instances"): a logout on A, and the token is refused on B; a
revocation on A, and B's scans say revoked, although B answers scans of
that code from memory. Also when the listening connection is killed
(pg_terminate_backend) just before the change: the caches are emptied when
it is back, so nothing is missed. Many tries each; after the first refusal
or revoked verdict, never again the old answer."""
import os
import subprocess
import time

from harness import BUILD, free_port, http, issue, psql, run_test, scan, wait_for

TRIES = 15
BOUND_S = 1.0  # db/ac_listen.h: AC_LISTEN_DEAD_MS


class Other:
    """A second agricertd on the first one's database and keys."""

    def __init__(self, svc):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(svc.env, AGRICERT_LISTEN=f"127.0.0.1:{self.port}")
        self.log = open(os.path.join(svc.tmp, "agricertd-b.log"), "ab")
        self.proc = subprocess.Popen([os.path.join(BUILD, "service/agricertd")], env=self.env,
                                     cwd=svc.tmp, stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: self.healthy(), 30):
            raise RuntimeError("the second agricertd did not become healthy")

    def healthy(self):
        try:
            return http("GET", self.url + "/healthz", timeout=2).status == 200
        except OSError:
            return False

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(30)
        self.log.close()
        return rc


def listeners(svc):
    return int(psql(svc.db, "SELECT count(*) FROM pg_stat_activity "
                            "WHERE application_name = 'agricertd-listen'"))


def kill_listeners(svc):
    psql(svc.db, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                 "WHERE application_name = 'agricertd-listen'")


def until_changed(check, every):
    """Polls check() (True once the change is seen) every so many seconds for
    up to 3 s; returns the seconds it took (None: never), and whether the old
    answer came back in 10 checks after."""
    start = time.time()
    while time.time() - start < 3:
        if check():
            took = time.time() - start
            back = [i for i in range(10) if not check()]
            return took, bool(back)
        time.sleep(every)
    return None, False


def logout_try(svc, b, kill):
    token = svc.add_token(svc.producer, "producer")
    me = f"/api/v1/subjects/{svc.producer}"
    # B has it cached: it answered, and answers again from memory.
    cached = all(http("GET", b.url + me, None, svc.auth(token)).status == 200 for _ in range(3))
    if kill:
        kill_listeners(svc)
    out = http("DELETE", svc.url + "/api/v1/sessions/current", None, svc.auth(token)).status
    took, back = until_changed(lambda: http("GET", b.url + me, None, svc.auth(token)).status == 401,
                               0.005)
    return cached and out == 204, took, back


def revoke_try(svc, b, county, kill):
    cert = issue(svc, svc.token, "韭菜", 2, 1).json()
    code = cert["items"][0]["code"]
    valid = all(scan(b, code).json()["status"] == "valid" for _ in range(3))
    if kill:
        kill_listeners(svc)
    r = http("POST", svc.url + f"/api/v1/certificates/{cert['id']}/revocation",
             {"reason": "快检不合格"}, svc.auth(county))
    # Not too often: more than 20 scans of one code would raise a clone
    # suspicion, whose own notification would drop B's entry too.
    took, back = until_changed(lambda: scan(b, code).json()["status"] == "revoked", 0.1)
    return valid and r.status == 200, took, back


def report(t, what, results):
    t.ok(all(ok for ok, _, _ in results), f"{what}: each try set up and answered as it should")
    times = [took for _, took, _ in results]
    t.ok(all(x is not None and x <= BOUND_S for x in times),
         f"{what}: seen on B within {BOUND_S} s in all {len(results)} tries "
         f"(slowest {max((x for x in times if x is not None), default=0):.3f} s)", times)
    t.ok(not any(back for _, _, back in results), f"{what}: and never the old answer after")


def run(t, svc):
    svc.start()
    b = Other(svc)
    county = svc.county_regulator().token
    t.ok(wait_for(lambda: listeners(svc) == 2), "both instances listen for notifications")
    report(t, "logout on A", [logout_try(svc, b, False) for _ in range(TRIES)])
    report(t, "revocation on A", [revoke_try(svc, b, county, False) for _ in range(TRIES)])
    # A lost listening connection: what was sent meanwhile is not missed.
    report(t, "logout on A, listening connections killed",
           [logout_try(svc, b, True) for _ in range(5)])
    report(t, "revocation on A, listening connections killed",
           [revoke_try(svc, b, county, True) for _ in range(5)])
    t.ok(wait_for(lambda: listeners(svc) == 2), "both listen again")
    t.ok("could not keep listening" in open(os.path.join(svc.tmp, "agricertd-b.log"),
                                            errors="replace").read(),
         "B logged the lost connection")
    t.eq(b.stop(), 0, "B stops cleanly")
    t.eq(svc.stop(), 0, "A stops cleanly")


if __name__ == "__main__":
    run_test("instances", run, printers=False)
