"""The README's two commands as anyone may run them: an unprivileged user with
sudo, and a clone in that user's 0700 home (Debian's default), where the
postgres and lp users cannot enter. The test makes the user (useradd, a
NOPASSWD sudoers.d entry), clones this repository into the home and, as that
user: runs deploy/run-local on a free port (AGRICERT_LISTEN) until /healthz
answers, prints a label on the virtual kiosk printer, stops it with
`deploy/run-local stop`; sees run-local refuse a taken address, saying so;
and runs `tests/run --suite unit`, which builds the sanitizer build and
starts PostgreSQL and cupsd the same way as the whole suite does (the whole
suite, run by CI, would take too long in here: the unit suite stands for it).
The user, its home and the sudoers entry are removed at the end.

Needs root (to make the user); the clone is of what is committed."""
import os
import pwd
import shutil
import socket
import subprocess
import time
import urllib.request

from harness import ROOT, Tap, free_port, http, skip_all, wait_for

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class User:
    """A throwaway account with sudo and a 0700 home holding a clone."""

    def __init__(self):
        self.name = f"actest{os.getpid() % 100000}"
        self.sudoers = f"/etc/sudoers.d/agricert-test-{self.name}"
        self.created = False
        self.home = None
        self.clone = None

    def create(self):
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group",
                        self.name], check=True, capture_output=True)
        self.created = True
        self.home = pwd.getpwnam(self.name).pw_dir
        os.chmod(self.home, 0o700)
        with open(self.sudoers, "w") as f:
            f.write(f"{self.name} ALL=(ALL:ALL) NOPASSWD: ALL\n")
        os.chmod(self.sudoers, 0o440)
        subprocess.run(["visudo", "-cf", self.sudoers], check=True, capture_output=True)
        self.clone = os.path.join(self.home, "agricert")
        subprocess.run(["git", "clone", "--quiet", ROOT, self.clone], check=True,
                       capture_output=True)
        subprocess.run(["chown", "-R", f"{self.name}:{self.name}", self.clone], check=True)

    def command(self, *args, **env):
        """argv running args in the clone as the user, with a clean environment."""
        base = {"HOME": self.home, "USER": self.name, "LOGNAME": self.name, "PATH": PATH,
                "LANG": "C.UTF-8"}
        base.update(env)
        return ["runuser", "-u", self.name, "--", "env", "-i",
                *[f"{k}={v}" for k, v in base.items()], *args]

    def run(self, *args, timeout=900, **env):
        return subprocess.run(self.command(*args, **env), cwd=self.clone, capture_output=True,
                              text=True, timeout=timeout)

    def remove(self):
        """Everything the test made: what run-local left running, its directory
        under /tmp, the user with its home, the sudoers entry."""
        if self.clone and os.path.isdir(self.clone):
            self.run("deploy/run-local", "stop", timeout=120)
            run_dir = os.path.join(self.clone, "var/run")
            if os.path.islink(run_dir):
                target = os.path.realpath(run_dir)
                if target.startswith("/tmp/agricert-"):
                    shutil.rmtree(target, ignore_errors=True)
        if os.path.exists(self.sudoers):
            os.remove(self.sudoers)
        if self.created:
            subprocess.run(["userdel", "--remove", "--force", self.name], capture_output=True)


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def print_label(t, url, clone):
    """Issues with printing on the demo kiosk and waits for the PDF in var/labels."""
    token = open(os.path.join(clone, "var/demo-token")).read().strip()
    auth = {"Authorization": f"Bearer {token}"}
    # 茶叶 is not tested before sale (deploy/data/products.csv).
    body = {"product": "茶叶", "quantity": 25, "unit": "kg", "origin": "福建省安溪县凤城镇",
            "origin_code": "350524103201", "basis": "quality_control", "labels": 1,
            "printer": "demo-kiosk"}
    r = http("POST", url + "/api/v1/certificates", body, auth)
    job = r.json().get("print_job", {}).get("id") if r.status == 201 else None
    state = {}

    def done():
        state.update(http("GET", f"{url}/api/v1/print-jobs/{job}", headers=auth).json())
        return state.get("state") in ("completed", "failed", "canceled", "aborted")

    t.ok(job is not None and wait_for(done, 60) and state.get("state") == "completed",
         "a label printed on the virtual kiosk printer (cupsd and lp reach the clone's files)",
         (r.status, r.body[:300], state))
    labels = os.path.join(clone, "var/labels")
    t.ok(os.path.isdir(labels) and len(os.listdir(labels)) >= 1, "the PDF is in var/labels",
         os.listdir(labels) if os.path.isdir(labels) else "no var/labels")


def check_running(t, user, port):
    clone = user.clone
    uid = pwd.getpwnam(user.name).pw_uid
    pid = open(os.path.join(clone, "var/agricertd.pid")).read().strip()
    owner = os.stat(f"/proc/{pid}").st_uid if os.path.exists(f"/proc/{pid}") else None
    t.eq(owner, uid, "agricertd runs as the user")
    run_dir = os.path.realpath(os.path.join(clone, "var/run"))
    t.ok(run_dir.startswith(f"/tmp/agricert-{uid}-") and os.stat(run_dir).st_uid == uid,
         "PostgreSQL and cupsd live in the user's own directory under /tmp", run_dir)
    data = os.path.join(run_dir, "pg/data")
    t.ok(os.path.isdir(data) and os.stat(data).st_uid == pwd.getpwnam("postgres").pw_uid,
         "the cluster is postgres's")
    t.eq(oct(os.stat(user.home).st_mode & 0o777), "0o700", "the home stays 0700")
    print_label(t, f"http://127.0.0.1:{port}", clone)


def check_run_local(t, user, tmp):
    port = free_port()
    log_path = os.path.join(tmp, "run-local.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(user.command("deploy/run-local", AGRICERT_LISTEN=f"127.0.0.1:{port}"),
                                cwd=user.clone, stdout=log, stderr=subprocess.STDOUT)

    def healthy():
        if proc.poll() is not None:
            return True
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for(healthy, 900)
    up = proc.poll() is None
    t.ok(up, f"deploy/run-local as {user.name} answers /healthz on AGRICERT_LISTEN", tail(log_path))
    if up:
        t.ok(wait_for(lambda: f"agricert is running on http://127.0.0.1:{port}" in
                      open(log_path).read(), 10),
             "and says where it runs", tail(log_path))
        t.ok("demo data loaded:" in open(log_path).read(), "with the demo month loaded for the dashboard",
             tail(log_path))
        check_running(t, user, port)
    stop = user.run("deploy/run-local", "stop", timeout=120)
    t.ok(stop.returncode == 0 and "stopped" in stop.stdout, "deploy/run-local stop, as the user",
         stop.stdout + stop.stderr)
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    t.eq(rc, 0, "the first run-local ends, exit 0")
    run_dir = os.path.realpath(os.path.join(user.clone, "var/run"))
    t.ok(os.path.isdir(os.path.join(run_dir, "pg/data")) and
         not os.path.exists(os.path.join(run_dir, "pg/data/postmaster.pid")) and
         not os.path.exists(os.path.join(run_dir, "cups/cupsd.pid")),
         "PostgreSQL and cupsd are stopped, the data kept")
    t.eq(processes_under(run_dir), [], "no process of that run is left (cupsd, the printers, PostgreSQL)")


def processes_under(path):
    """The command lines of live processes that name path (a run's directory)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd:
            found.append(cmd.strip())
    return found


def check_taken_address(t, user):
    """Another program on the address: run-local stops and says why."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        r = user.run("deploy/run-local", AGRICERT_LISTEN=f"127.0.0.1:{port}", timeout=300)
    finally:
        taken.close()
    t.ok(r.returncode == 1 and f"127.0.0.1:{port} is in use" in r.stderr and
         "is running" not in r.stdout,
         "run-local on a taken address exits 1 and says the address is in use",
         r.stdout[-1500:] + r.stderr[-1500:])


def main():
    if os.getuid() != 0:
        skip_all("needs root to create a user")
    for tool in ("useradd", "userdel", "runuser", "sudo", "visudo", "git"):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            skip_all(f"{tool} is not installed (deploy/install-deps installs sudo)")
    if not os.path.isdir(os.path.join(ROOT, ".git")) and not os.path.isfile(os.path.join(ROOT, ".git")):
        skip_all("not a git clone")
    t = Tap()
    tmp = os.environ.get("AGRICERT_TEST_TMP", "/tmp")
    user = User()
    try:
        user.create()
        t.ok(True, f"user {user.name} with sudo and a 0700 home, the repository cloned into it")
        check_run_local(t, user, tmp)
        check_taken_address(t, user)
        start = time.time()
        r = user.run("tests/run", "--suite", "unit", timeout=1500)
        lines = [ln for ln in r.stdout.splitlines() if not ln.startswith("[")]
        last = (lines or [""])[-1]
        t.ok(r.returncode == 0 and ", 0 failed" in last and not last.startswith("0 passed"),
             f"tests/run --suite unit as the user: {last}",
             "\n".join(lines[-30:]) + r.stderr[-2000:])
        t.note(f"tests/run --suite unit took {time.time() - start:.0f} s")
        leftovers = [d for d in os.listdir("/tmp") if d.startswith("agricert-test.") and
                     os.stat(os.path.join("/tmp", d)).st_uid == pwd.getpwnam(user.name).pw_uid]
        t.eq(leftovers, [], "and removed its directory under /tmp, sudo for what is not the user's")
    finally:
        user.remove()
    t.done()


if __name__ == "__main__":
    main()
