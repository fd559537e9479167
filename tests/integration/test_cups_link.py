"""deploy/cups-up and cups-down through a link, as root (run-local's var/run
is a link to a directory under /tmp): everything cups-up starts (dbus, the
virtual IPP printer, cupsd, the raw ZPL and TSPL printers) is stopped by
cups-down, whichever of the two paths each was given. Found on a walk: cupsd,
ippeveprinter, dbus and the raw printers of a root run-local were left
running after `run-local stop`, named by the link's path."""
import os
import shutil
import subprocess
import tempfile

from harness import ROOT, Tap, skip_all


def processes_naming(*paths):
    """The command lines of live processes that name any of paths."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(p in cmd for p in paths):
            found.append(cmd.strip())
    return found


def main():
    if os.getuid() != 0:
        skip_all("needs root: the case is root's own run-local")
    t = Tap()
    base = tempfile.mkdtemp(prefix="cups-link.", dir=os.environ.get("AGRICERT_TEST_TMP"))
    os.chmod(base, 0o755)
    real = os.path.join(base, "real")
    os.mkdir(real)
    link = os.path.join(base, "link")
    os.symlink(real, link)
    cups = os.path.join(link, "cups")
    try:
        up = subprocess.run([os.path.join(ROOT, "deploy/cups-up"), cups, "auto"], capture_output=True,
                            text=True, timeout=120)
        t.ok(up.returncode == 0, "cups-up through the link", up.stdout + up.stderr)
        running = processes_naming(real, link)
        t.ok(any("cupsd" in c for c in running) and any("ippeveprinter" in c for c in running)
             and any("raw-printer" in c for c in running),
             "cupsd, ippeveprinter and the raw printers run", "\n".join(running))
        t.eq([c for c in running if link in c], [], "each names the real path, not the link's")
        down = subprocess.run([os.path.join(ROOT, "deploy/cups-down"), cups], capture_output=True,
                              text=True, timeout=60)
        t.eq(down.returncode, 0, "cups-down through the link")
        t.eq(processes_naming(real, link), [], "no process of it is left")
    finally:
        subprocess.run([os.path.join(ROOT, "deploy/cups-down"), cups], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
