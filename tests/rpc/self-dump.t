#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A process that dumps itself over RPC (pycriu's criu.dump() with no
pid): criu swrk, started detached by pycriu, dumps its own client. The
client's socket to criu is saved as CRIU does (USK_SERVICE), and after
`criu restore` the restored process reads, on that socket, the answer to
its DUMP with restored = true, so criu.dump() returns "restored". Once
restored with `criu restore -d`, once with an RPC RESTORE; then the
same with a C client of libcriu (tests/rpc/libcriu-self.c), whose
criu_dump() must return 1 after the restore.
The task is tests/rpc/self-dump-task.py.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402

tap = rpctest.Tap()
HERE = os.path.dirname(os.path.abspath(__file__))
TASK = os.path.join(HERE, "self-dump-task.py")
PLUGINDIR = os.path.join(rpctest.TOP_BUILDDIR, "plugindir")

# The restored task is reparented to us, so we can reap it.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def log_tail(d, name, n=25):
    try:
        with open(os.path.join(d, name)) as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return str(e)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def restore_cli(d):
    r = subprocess.run([rpctest.CRIU, "restore", "-D", d, "-o", "restore.log", "-v4", "-L", PLUGINDIR,
                        "-d"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    return r.returncode == 0, r.stderr


def restore_rpc(d):
    """RESTORE over RPC (criu swrk, pycriu), as a client would do it."""
    old = os.environ.get("CRIU_LIBS_DIR")
    os.environ["CRIU_LIBS_DIR"] = PLUGINDIR
    dfd = os.open(d, os.O_DIRECTORY)
    try:
        c = rpctest.swrk_client()
        c.opts.images_dir_fd = dfd
        c.opts.log_file = "restore.log"
        c.opts.log_level = 4
        resp = c.restore()
        return resp.pid > 0, "restored pid %d" % resp.pid
    except Exception as e:  # noqa: BLE001 - a failure to report
        return False, "%s: %s" % (type(e).__name__, e)
    finally:
        os.close(dfd)
        if old is None:
            del os.environ["CRIU_LIBS_DIR"]
        else:
            os.environ["CRIU_LIBS_DIR"] = old


def build_libcriu_task(d):
    """Build libcriu-self.c as a client would (pkg-config criu); its path, or None."""
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(rpctest.TOP_BUILDDIR, "lib"))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "criu"], env=env, capture_output=True,
                           text=True)
    out = os.path.join(d, "libcriu-self")
    # A sanitized build's library needs the sanitizer runtime first.
    lib = os.path.join(rpctest.TOP_BUILDDIR, "lib", ".libs", "libcriu.so")
    san = ["-fsanitize=address,undefined"] if b"libasan" in open(lib, "rb").read() else []
    cc = subprocess.run([os.environ.get("CC", "cc"), "-std=gnu11", "-Wall", "-Wextra", "-Werror"] + san
                        + ["-o", out, os.path.join(HERE, "libcriu-self.c")] + flags.stdout.split(),
                        capture_output=True, text=True)
    tap.ok(flags.returncode == 0 and cc.returncode == 0, "the libcriu self-dump client builds",
           flags.stderr + cc.stderr)
    return out if cc.returncode == 0 else None


def pycriu_task(d):
    return [sys.executable, TASK], {}


def libcriu_task(d):
    """Our libcriu, not another one the system may have (Debian's criu package brings one)."""
    prog = build_libcriu_task(d)
    return ([prog], {"LD_LIBRARY_PATH": os.path.join(rpctest.TOP_BUILDDIR, "lib", ".libs")}) if prog else (None, {})


def test_self_dump(how, restore, task=pycriu_task):
    d = tempfile.mkdtemp(prefix="criu-rpc-self-")
    result = os.path.join(d, "result.txt")
    out = os.path.join(d, "task.out")
    pid = None
    try:
        argv, env = task(d)
        if not argv:
            return

        def child_setup():
            os.setsid()

        with open(out, "ab") as o:
            proc = subprocess.Popen(argv + [rpctest.CRIU, d, result], cwd=d,
                                    stdin=subprocess.DEVNULL, stdout=o, stderr=o, close_fds=True,
                                    preexec_fn=child_setup, env=dict(os.environ, CRIU_LIBS_DIR=PLUGINDIR, **env))
        pid = proc.pid
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        dumped = os.path.exists(os.path.join(d, "inventory.img")) and not os.path.exists(result)
        if not tap.ok(dumped and proc.returncode == -signal.SIGKILL,
                      "%s: the task dumped itself and criu ended it (status %s)" % (how, proc.returncode),
                      "%s\n%s\n%s" % (log_tail(d, "task.out"), log_tail(d, "dump.log"),
                                      open(result).read() if os.path.exists(result) else "")):
            return
        tap.ok("is connected to criu's RPC socket" in open(os.path.join(d, "dump.log")).read(),
               "%s: the dump recognised the client's socket to criu" % how)

        ok, why = restore(d)
        if not tap.ok(ok, "%s: the restore of the self-dumped task succeeds" % how,
                      why + "\n" + log_tail(d, "restore.log")):
            return
        end = time.time() + 60
        while time.time() < end and alive(pid):
            time.sleep(0.05)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = None
        text = open(result).read().strip() if os.path.exists(result) else "(no result file)"
        tap.ok(text == "restored", "%s: after restore, the dump call answers restored (dump.restored = true)" % how,
               "%s\nstatus %s\n%s" % (text, status, log_tail(d, "task.out")))
        tap.ok(status == 0, "%s: the restored task exits 0 (%s)" % (how, status))
    finally:
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(d, ignore_errors=True)


rpctest.run_test(tap, "self dump, criu restore", test_self_dump, "criu restore", restore_cli)
rpctest.run_test(tap, "self dump, RPC restore", test_self_dump, "RPC restore", restore_rpc)
rpctest.run_test(tap, "libcriu self dump", test_self_dump, "libcriu", restore_cli, libcriu_task)
sys.exit(tap.done())
