#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Dump and restore over RPC, for real, with notifications answered
from Python; and the same stages through --action-script on the CLI.

The task is tests/cr/busyloop00 (a C/R test program: it spins until
SIGUSR1 after restore, then checks its state and prints PASS).
  1. RPC DUMP (swrk) with notify_scripts: pre-dump and post-dump arrive;
     the task is gone afterwards.
  2. RPC RESTORE (swrk): pre-restore, post-restore (with the pid),
     pre-resume, post-resume; restore.pid is the old pid; after SIGUSR1
     the task says PASS.
  3. A DUMP whose pre-dump notification the client refuses fails, and
     the task keeps running.
  4. criu dump --action-script: the script sees CRTOOLS_SCRIPT_ACTION,
     CRTOOLS_IMAGE_DIR and (after restore) CRTOOLS_INIT_PID.
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
from rpctest import rpc  # noqa: E402

tap = rpctest.Tap()
PROG = os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", "busyloop00")
PLUGINDIR = os.path.join(rpctest.TOP_BUILDDIR, "plugindir")
ENV = {"CRIU_LIBS_DIR": PLUGINDIR}

# Restored detached tasks are reparented to us, so we can reap them.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def start_task(d):
    """Start the test program as the C/R runner does; return its pid."""
    pidfile = os.path.join(d, "test.pid")
    outfile = os.path.join(d, "test.out")

    def child_setup():
        os.setsid()
        os.closerange(3, 65536)

    with open(outfile, "ab") as out:
        proc = subprocess.Popen([PROG, "--pidfile", pidfile, "--outfile", outfile], cwd=d,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                preexec_fn=child_setup, close_fds=True)
    if not rpctest.wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 20):
        raise RuntimeError("the test program wrote no pid file")
    return proc


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def reap(pid, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            got, _ = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                return True
        except ChildProcessError:
            if not alive(pid):
                return True
        time.sleep(0.05)
    return False


def log_tail(d, name, n=25):
    try:
        with open(os.path.join(d, name)) as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return str(e)


def rpc_call(req, on_notify):
    sk, proc = rpctest.swrk_socket(env=ENV)
    try:
        return rpctest.call(sk, req, on_notify)
    finally:
        sk.close()
        proc.wait(timeout=120)


def dump_req(d_fd, pid, logname):
    req = rpc.criu_req()
    req.type = rpc.DUMP
    req.opts.images_dir_fd = d_fd
    req.opts.pid = pid
    req.opts.log_level = 4
    req.opts.log_file = logname
    req.opts.notify_scripts = True
    return req


def test_rpc_round_trip():
    d = tempfile.mkdtemp(prefix="criu-rpc-cr-")
    d_fd = os.open(d, os.O_DIRECTORY)
    proc = None
    try:
        proc = start_task(d)
        pid = proc.pid
        seen = []

        def notified(name, npid):
            seen.append((name, npid))
            return True

        resp = rpc_call(dump_req(d_fd, pid, "dump.log"), notified)
        if not tap.ok(resp is not None and resp.success and resp.type == rpc.DUMP,
                      "RPC DUMP of a running task succeeds", "%s\n%s" % (resp, log_tail(d, "dump.log"))):
            return
        names = [n for n, _ in seen]
        tap.ok("pre-dump" in names and "post-dump" in names and names.index("pre-dump") < names.index("post-dump"),
               "RPC DUMP sends pre-dump then post-dump notifications (%s)" % names)
        proc.wait(timeout=30)
        tap.ok(not alive(pid), "the dumped task is gone")

        seen.clear()
        req = rpc.criu_req()
        req.type = rpc.RESTORE
        req.opts.images_dir_fd = d_fd
        req.opts.log_level = 4
        req.opts.log_file = "restore.log"
        req.opts.notify_scripts = True
        resp = rpc_call(req, notified)
        if not tap.ok(resp is not None and resp.success and resp.type == rpc.RESTORE,
                      "RPC RESTORE succeeds", "%s\n%s" % (resp, log_tail(d, "restore.log"))):
            return
        tap.ok(resp.restore.pid == pid, "restore.pid is the task's old pid (%d)" % resp.restore.pid)
        names = [n for n, _ in seen]
        tap.ok(names[:1] == ["pre-restore"] and "post-restore" in names and "pre-resume" in names
               and "post-resume" in names, "RPC RESTORE sends pre-restore .. post-resume (%s)" % names)
        tap.ok(("post-restore", pid) in seen, "post-restore carries the root pid", seen)

        os.kill(pid, signal.SIGUSR1)
        reaped = reap(pid)
        with open(os.path.join(d, "test.out")) as f:
            out = f.read()
        tap.ok(reaped and "PASS" in out, "the restored task passes its check", out[-2000:])
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_refused_notification():
    d = tempfile.mkdtemp(prefix="criu-rpc-cr-")
    d_fd = os.open(d, os.O_DIRECTORY)
    proc = None
    try:
        proc = start_task(d)
        resp = rpc_call(dump_req(d_fd, proc.pid, "refused.log"), lambda name, pid: name != "pre-dump")
        tap.ok(resp is not None and not resp.success, "a refused pre-dump notification fails the DUMP",
               "%s\n%s" % (resp, log_tail(d, "refused.log")))
        tap.ok(alive(proc.pid), "the task keeps running after the failed dump")
    finally:
        if proc:
            proc.kill()
            proc.wait()
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_action_script():
    d = tempfile.mkdtemp(prefix="criu-rpc-cr-")
    d_fd = os.open(d, os.O_DIRECTORY)
    proc = None
    script = os.path.join(d, "hook.sh")
    record = os.path.join(d, "hooks.txt")
    with open(script, "w") as f:
        f.write('#!/bin/sh\necho "$CRTOOLS_SCRIPT_ACTION $CRTOOLS_IMAGE_DIR ${CRTOOLS_INIT_PID:-none}" >> %s\n'
                % record)
    os.chmod(script, 0o755)
    try:
        proc = start_task(d)
        pid = proc.pid
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(pid), "-D", d, "-o", "cli-dump.log", "-v4",
                            "-L", PLUGINDIR, "--action-script", script],
                           capture_output=True, text=True, timeout=120)
        if not tap.ok(p.returncode == 0, "criu dump --action-script succeeds",
                      p.stderr + log_tail(d, "cli-dump.log")):
            return
        proc.wait(timeout=30)
        lines = open(record).read().split("\n") if os.path.exists(record) else []
        actions = [l.split()[0] for l in lines if l]
        tap.ok("pre-dump" in actions and "post-dump" in actions,
               "the action script ran for pre-dump and post-dump (%s)" % actions)
        tap.ok(all(os.path.realpath(l.split()[1]) == os.path.realpath(d) for l in lines if l),
               "CRTOOLS_IMAGE_DIR names the images dir", lines)

        # Restore through the CLI with the same script: CRTOOLS_INIT_PID appears.
        open(record, "w").close()
        p = subprocess.run([rpctest.CRIU, "restore", "-d", "-D", d, "-o", "cli-restore.log", "-v4",
                            "-L", PLUGINDIR, "--action-script", script],
                           capture_output=True, text=True, timeout=120)
        if not tap.ok(p.returncode == 0, "criu restore -d --action-script succeeds",
                      p.stderr + log_tail(d, "cli-restore.log")):
            return
        lines = [l for l in open(record).read().split("\n") if l]
        tap.ok(any(l.startswith("post-restore ") and l.endswith(" %d" % pid) for l in lines),
               "post-restore sees CRTOOLS_INIT_PID=%d" % pid, lines)
        os.kill(pid, signal.SIGUSR1)
        reap(pid)
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


for t in (test_rpc_round_trip, test_refused_notification, test_action_script):
    rpctest.run_test(tap, t.__name__, t)

tap.done()
