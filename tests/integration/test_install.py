"""Installing on a server (README.md, "Installing on a server"): `meson install
--destdir` of the test build into a temporary directory and what lands there
(the three programs with --version and --help, sql/, the web pages, the
configuration with absolute paths, the systemd unit with its account and
state directory, the nginx site); the unit through `systemd-analyze verify`
and `security`, the sysusers.d and tmpfiles.d snippets applied with --root;
`agricert config check` on the installed configuration, fine and broken."""
import filecmp
import json
import os
import re
import shutil
import subprocess

from harness import BUILD, ROOT, run_test, skip_all

# What the programs' --help must name.
OPTIONS = {
    "agricertd": ["--config", "--help", "--version"],
    "agricert": ["-c FILE", "--help", "--version", "config check", "migrate", "key new",
                 "--alg", "--bundle", "--dry-run", "purge receipts"],
    "agricert-verify": ["--bundle ", "--bundle-key", "--bundle-kid", "--state", "--lang",
                        "--json", "--help", "--version"],
}
SANDBOXING = ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
              "CapabilityBoundingSet=\n", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
              "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes"]


def main():
    for tool in ("meson", "systemd-analyze", "systemd-sysusers", "systemd-tmpfiles"):
        if shutil.which(tool) is None:
            skip_all(f"{tool} is not installed (deploy/install-deps installs it)")
    run_test("install", run, printers=False)


def meson_info(what):
    out = subprocess.run(["meson", "introspect", what, BUILD], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def install_dirs():
    """prefix, bindir, ... as absolute paths, and the project's version."""
    opts = {o["name"]: o["value"] for o in meson_info("--buildoptions")}
    prefix = opts["prefix"]
    dirs = {k: os.path.join(prefix, opts[k]) for k in
            ("bindir", "sbindir", "datadir", "sysconfdir", "localstatedir")}
    dirs["prefix"] = prefix
    return dirs, meson_info("--projectinfo")["version"]


def settings(text):
    """The key = value lines of a configuration file."""
    out = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def rewritten(text, values):
    """text with each `key = ...` line of values given its new value (each must be there)."""
    for key, value in values.items():
        text, n = re.subn(rf"^{re.escape(key)} = .*$", f"{key} = {value}", text, flags=re.M)
        assert n == 1, f"no {key} line"
    return text


def clean_env():
    """No AGRICERT_* variables: the file alone counts."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AGRICERT_")}


def check_programs(t, dest, dirs, version):
    for name, where in (("agricertd", "sbindir"), ("agricert", "bindir"),
                        ("agricert-verify", "bindir")):
        path = dest + os.path.join(dirs[where], name)
        if not t.ok(os.access(path, os.X_OK), f"{name} is installed in {dirs[where]}"):
            continue
        v = subprocess.run([path, "--version"], capture_output=True, text=True)
        t.eq((v.returncode, v.stdout.strip()), (0, f"{name} {version}"),
             f"{name} --version prints the project's version")
        h = subprocess.run([path, "--help"], capture_output=True, text=True)
        missing = [o for o in OPTIONS[name] if o not in h.stdout]
        t.ok(h.returncode == 0 and not missing, f"{name} --help documents every option",
             f"rc {h.returncode}, missing {missing}\n{h.stdout}{h.stderr}")


def same_tree(src, dst):
    """Files of src missing from dst or different there."""
    wrong = []
    for dirpath, _, files in os.walk(src):
        for f in files:
            a = os.path.join(dirpath, f)
            b = os.path.join(dst, os.path.relpath(a, src))
            if not os.path.isfile(b) or not filecmp.cmp(a, b, shallow=False):
                wrong.append(os.path.relpath(a, src))
    return wrong


def check_config(t, dest, dirs):
    path = os.path.join(dirs["sysconfdir"], "agricert", "agricert.conf")
    with open(dest + path) as f:
        conf = settings(f.read())
    share = os.path.join(dirs["datadir"], "agricert")
    want = {"sql": os.path.join(share, "sql"), "web": os.path.join(share, "web"),
            "keys": os.path.join(dirs["localstatedir"], "lib", "agricert", "keys")}
    t.eq({k: conf.get(k) for k in want}, want,
         f"{path}: sql and web under datadir/agricert, keys under localstatedir/lib/agricert")
    t.ok(all(os.path.isabs(conf[k]) for k in ("sql", "web", "keys")), "with absolute paths")
    t.eq(conf.get("trusted_proxies"), "127.0.0.1, ::1", "nginx on loopback is the trusted proxy")
    t.ok("user=agricert_app" in conf.get("db", ""), "the service connects as agricert_app")
    t.eq(same_tree(os.path.join(ROOT, "sql"), dest + want["sql"]), [], "every migration landed")
    t.eq(same_tree(os.path.join(ROOT, "service/web"), dest + want["web"]), [],
         "every web page landed")
    return path


def check_unit(t, dest, dirs, config_path, tmp):
    unit_path = os.path.join(dirs["prefix"], "lib/systemd/system/agricertd.service")
    with open(dest + unit_path) as f:
        unit = f.read()
    agricertd = os.path.join(dirs["sbindir"], "agricertd")
    for line in ("Type=notify", f"ExecStart={agricertd} -c {config_path}",
                 "ExecReload=/bin/kill -HUP $MAINPID", "User=agricert", "StateDirectory=agricert"):
        t.ok(f"\n{line}\n" in unit, f"the unit has {line}")
    missing = [o.strip() for o in SANDBOXING if f"\n{o}" not in unit]
    t.ok(not missing, "and is sandboxed (ProtectSystem=strict, no capabilities, ...)", missing)

    # Checked with the installed program: the same unit, ExecStart pointing into the destdir.
    copy = os.path.join(tmp, "agricertd.service")
    with open(copy, "w") as f:
        f.write(unit.replace(f"ExecStart={agricertd}", f"ExecStart={dest}{agricertd}"))
    v = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True, cwd="/")
    t.ok(v.returncode == 0 and not (v.stdout + v.stderr).strip(),
         "systemd-analyze verify finds nothing to say about it", v.stdout + v.stderr)
    bad = os.path.join(tmp, "misspelt.service")
    with open(bad, "w") as f:
        f.write(open(copy).read().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    v = subprocess.run(["systemd-analyze", "verify", bad], capture_output=True, text=True, cwd="/")
    t.ok("ProtectSystm" in v.stdout + v.stderr, "(and does name a misspelt setting)",
         v.stdout + v.stderr)
    s = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20", copy],
                       capture_output=True, text=True, cwd="/")
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", s.stdout)
    t.ok(s.returncode == 0 and level, "systemd-analyze security: exposure 2.0 or lower",
         s.stdout[-600:] + s.stderr)
    if level:
        t.note(f"exposure level {level.group(1)}")


def check_account(t, dest, dirs):
    """sysusers.d makes the account, tmpfiles.d the key ring, both within dest."""
    sysusers = os.path.join(dest + dirs["prefix"], "lib/sysusers.d/agricert.conf")
    tmpfiles = os.path.join(dest + dirs["prefix"], "lib/tmpfiles.d/agricert.conf")
    os.makedirs(os.path.join(dest, "etc"), exist_ok=True)
    u = subprocess.run(["systemd-sysusers", f"--root={dest}", sysusers], capture_output=True,
                       text=True)
    passwd = open(os.path.join(dest, "etc/passwd")).read() if u.returncode == 0 else ""
    m = re.search(r"^agricert:x:(\d+):(\d+):[^:]*:([^:]*):(\S+)$", passwd, re.M)
    state = os.path.join(dirs["localstatedir"], "lib", "agricert")
    t.ok(m and m.group(3) == state and m.group(4) == "/usr/sbin/nologin",
         "sysusers.d: the system account agricert, home its state directory, no shell",
         u.stderr + passwd)
    c = subprocess.run(["systemd-tmpfiles", "--create", f"--root={dest}", tmpfiles],
                       capture_output=True, text=True)
    keys = dest + os.path.join(state, "keys")
    st = os.stat(keys) if os.path.isdir(keys) else None
    t.ok(c.returncode == 0 and st and m and st.st_uid == int(m.group(1)) and
         st.st_mode & 0o777 == 0o700,
         "tmpfiles.d: the key ring directory, the service's own, mode 0700", c.stderr)


def check_nginx_site(t, dest, dirs):
    site = dest + os.path.join(dirs["sysconfdir"], "nginx/sites-available/agricert.conf")
    t.ok(os.path.isfile(site) and filecmp.cmp(site, os.path.join(ROOT, "deploy/nginx/agricert.conf"),
                                              shallow=False),
         "the nginx site is in sites-available (tests/integration/test_proxy.py runs it)")


def config_check(dest, dirs, conf_text, tmp, name):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(conf_text)
    cli = dest + os.path.join(dirs["bindir"], "agricert")
    return subprocess.run([cli, "-c", path, "config", "check"], capture_output=True, text=True,
                          env=clean_env(), cwd=tmp)


def check_config_check(t, svc, dest, dirs, config_path):
    """agricert config check on the installed file, pointed at this test's database."""
    with open(dest + config_path) as f:
        installed = f.read()
    share = dest + os.path.join(dirs["datadir"], "agricert")
    good = rewritten(installed, {"db": svc.app_db, "db_owner": svc.db, "keys": svc.keys,
                                 "sql": os.path.join(share, "sql"), "web": os.path.join(share, "web")})
    r = config_check(dest, dirs, good, svc.tmp, "good.conf")
    t.ok(r.returncode == 0 and "FAIL" not in r.stdout, "config check: the installed file is usable",
         r.stdout + r.stderr)
    for line in ("ok    keys: 1 in", "key 1 signs", "ok    db: connected as agricert_app",
                 "ok    db_owner: connected as postgres", "ok    sql: ",
                 "warn  public_url: http://127.0.0.1:8080 is not https"):
        t.ok(line in r.stdout, f"config check says: {line}", r.stdout)

    os.chmod(os.path.join(svc.keys, "1.key"), 0o644)
    broken = rewritten(good, {"db": svc.app_db.replace(svc.dbname, "no_such_db"),
                              "sql": os.path.join(svc.tmp, "nowhere")})
    r = config_check(dest, dirs, broken, svc.tmp, "broken.conf")
    os.chmod(os.path.join(svc.keys, "1.key"), 0o600)
    t.eq(r.returncode, 1, "config check exits 1 on a problem")
    for line in ("FAIL  keys: private key file", "run chmod 600", "FAIL  db: could not connect",
                 "no_such_db", "FAIL  sql: could not open directory", "3 problems"):
        t.ok(line in r.stdout, f"and says what is wrong: {line}", r.stdout)
    r = config_check(dest, dirs, "colour = red\n", svc.tmp, "typo.conf")
    t.ok(r.returncode == 1 and "invalid setting \"colour\"" in r.stderr,
         "a file it cannot read is a problem too, named", r.stderr)


def run(t, svc):
    dirs, version = install_dirs()
    dest = os.path.join(svc.tmp, "dest")
    r = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild"],
                       capture_output=True, text=True)
    if not t.ok(r.returncode == 0, "meson install --destdir", r.stdout[-2000:] + r.stderr):
        return
    check_programs(t, dest, dirs, version)
    config_path = check_config(t, dest, dirs)
    check_unit(t, dest, dirs, config_path, svc.tmp)
    check_account(t, dest, dirs)
    check_nginx_site(t, dest, dirs)
    check_config_check(t, svc, dest, dirs, config_path)
    again = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild"],
                           capture_output=True, text=True)
    t.ok(again.returncode == 0 and os.path.exists(dest + config_path) and
         not os.path.exists(dest + config_path + ".new"),
         "installing again over an unchanged configuration keeps it", again.stderr)
    with open(dest + config_path, "a") as f:
        f.write("region = 350524\n")
    again = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild"],
                           capture_output=True, text=True)
    t.ok(again.returncode == 0 and "region = 350524" in open(dest + config_path).read() and
         os.path.exists(dest + config_path + ".new"),
         "and over an edited one keeps the edits, the new default beside it (.new)",
         again.stdout[-500:])


if __name__ == "__main__":
    main()
