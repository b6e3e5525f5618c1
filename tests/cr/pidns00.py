#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: a tree whose root is the init of its own pid namespace
# (tests/cr/pidns00 under `unshare --pid --fork`) is dumped and restored
# into a new pid namespace, with the same pids inside it; then it checks
# itself. Also with dump -R, after which the tree must go on unchanged.
# Needs root and unshare (util-linux).
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

B = os.environ.get("top_builddir", ".")
CRIU = os.path.join(B, "criu")
PROG = os.path.join(B, "tests", "cr", "pidns00")
PLUGINS = os.path.join(B, "plugindir")
n = 0
failed = 0


def result(ok, what):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(("ok" if ok else "not ok") + f" {n} - {what}", flush=True)


def children(pid):
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def inner(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def reap_all(timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


def criu(*args, log):
    r = subprocess.run([CRIU, *args, "-L", PLUGINS, "-v4", "-o", log],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.stdout.write("".join("# " + l + "\n" for l in r.stdout.splitlines()[-10:]))
    return r.returncode


def start(d):
    os.makedirs(d)
    unshare = subprocess.Popen(["unshare", "--pid", "--fork", PROG, "--pidfile",
                                os.path.join(d, "pid"), "--outfile", os.path.join(d, "out")],
                               cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(os.path.join(d, "pid")) and open(os.path.join(d, "pid")).read():
            break
        time.sleep(0.02)
    kids = children(unshare.pid)
    return unshare, (kids[0] if kids else None)


def finish(root, d):
    """SIGUSR1 to the init; its verdict, once it wrote one."""
    out = os.path.join(d, "out")
    os.kill(root, signal.SIGUSR1)
    for _ in range(500):
        try:
            with open(out) as f:
                lines = f.read().strip().splitlines()
            if lines and (lines[-1] == "PASS" or lines[-1].startswith("FAIL")):
                return lines
        except OSError:
            pass
        time.sleep(0.02)
    return ["no verdict"]


def tree(pid):
    """PID and its descendants."""
    out = [pid]
    for c in children(pid):
        out += tree(c)
    return out


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    if not shutil.which("unshare"):
        print("1..0 # SKIP unshare (util-linux) is not installed")
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: restored tasks are ours
    print("1..7")
    work = tempfile.mkdtemp(prefix="pidns00.")
    try:
        for variant in ("default", "leave-running"):
            d = os.path.join(work, variant)
            unshare, root = start(d)
            result(root is not None and inner(root)[-1:] == [1],
                   f"{variant}: the program is pid 1 of a new pid namespace")
            if root is None:
                continue
            before = sorted(inner(p)[-1] for p in tree(root))
            dump = os.path.join(d, "dump")
            os.makedirs(dump)
            extra = ["-R"] if variant == "leave-running" else []
            rc = criu("dump", "-t", str(root), "-D", dump, *extra, log="dump.log")
            result(rc == 0, f"{variant}: dump")
            if variant == "leave-running":
                rc2 = criu("dump", "-t", str(root), "-D", dump, "-R", log="dump2.log")
                lines = finish(root, d)
                result(rc2 == 0 and lines[-1:] == ["PASS"],
                       f"{variant}: dumped twice, the tree goes on: {lines[-1:]}")
                unshare.wait()
                reap_all(1)
                continue
            unshare.wait()
            reap_all()
            rc = criu("restore", "-D", dump, "-d", "--pidfile", os.path.join(d, "rpid"),
                      log="restore.log")
            result(rc == 0, f"{variant}: restore into a new pid namespace")
            if rc:
                continue
            new = int(open(os.path.join(d, "rpid")).read())
            after = sorted(inner(p)[-1] for p in tree(new))
            init = inner(new)[-1:]
            lines = finish(new, d)
            result(init == [1] and after == before and lines[-1:] == ["PASS"],
                   f"{variant}: pids inside {after} (were {before}), verdict {lines[-1:]}")
            reap_all(1)
    finally:
        reap_all(1)
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    print(f"# {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
