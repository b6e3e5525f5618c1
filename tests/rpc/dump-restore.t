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
    return rpctest.start_task(PROG, d)


alive = rpctest.alive
reap = rpctest.reap
log_tail = rpctest.log_tail


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
        # After answering, the worker becomes this command (exec_cmd).
        req.opts.exec_cmd.extend(["/bin/sh", "-c", "echo executed > %s/exec.txt" % d])
        resp = rpc_call(req, notified)
        if not tap.ok(resp is not None and resp.success and resp.type == rpc.RESTORE,
                      "RPC RESTORE succeeds", "%s\n%s" % (resp, log_tail(d, "restore.log"))):
            return
        tap.ok(resp.restore.pid == pid, "restore.pid is the task's old pid (%d)" % resp.restore.pid)
        names = [n for n, _ in seen]
        tap.ok(names[:1] == ["pre-restore"] and "post-restore" in names and "pre-resume" in names
               and "post-resume" in names, "RPC RESTORE sends pre-restore .. post-resume (%s)" % names)
        tap.ok(("post-restore", pid) in seen, "post-restore carries the root pid", seen)
        tap.ok(rpctest.wait_for(lambda: os.path.exists(os.path.join(d, "exec.txt")), 10),
               "exec_cmd ran after the restore")

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
        seen = []

        def refuse(name, pid):
            seen.append(name)
            return name != "pre-dump"
        resp = rpc_call(dump_req(d_fd, proc.pid, "refused.log"), refuse)
        tap.ok(resp is not None and not resp.success and seen == ["pre-dump"] and "refused" in resp.cr_errmsg,
               "a refused pre-dump notification fails the DUMP (%s)" % seen,
               "%s\n%s" % (resp, log_tail(d, "refused.log")))
        tap.ok(alive(proc.pid), "the task keeps running after the failed dump")
    finally:
        if proc:
            proc.kill()
            proc.wait()
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_pre_dump_series():
    """PRE_DUMP, PRE_DUMP, DUMP on one connection (what criu_dump_iters
    sends), each into its own dir with the previous one as parent; then
    a restore from the last."""
    d = tempfile.mkdtemp(prefix="criu-rpc-iter-")
    dirs = [os.path.join(d, str(i)) for i in range(3)]
    for x in dirs:
        os.mkdir(x)
    fds = [os.open(x, os.O_DIRECTORY) for x in dirs]
    proc = None
    sk, swrk = rpctest.swrk_socket(env=ENV)
    try:
        proc = start_task(d)
        pid = proc.pid
        for i in range(3):
            req = rpc.criu_req()
            req.type = rpc.DUMP if i == 2 else rpc.PRE_DUMP
            req.opts.images_dir_fd = fds[i]
            req.opts.pid = pid
            req.opts.log_level = 4
            req.opts.log_file = "iter.log"
            if i:
                req.opts.parent_img = "../%d" % (i - 1)
            resp = rpctest.call(sk, req)
            if not tap.ok(resp is not None and resp.success and resp.type == req.type,
                          "iteration %d (%s) on one connection succeeds" % (i, "DUMP" if i == 2 else "PRE_DUMP"),
                          "%s\n%s" % (resp, log_tail(dirs[i], "iter.log"))):
                return
        proc.wait(timeout=30)
        req = rpc.criu_req()
        req.type = rpc.RESTORE
        req.opts.images_dir_fd = fds[2]
        req.opts.log_level = 4
        req.opts.log_file = "restore.log"
        resp = rpc_call(req, None)
        tap.ok(resp is not None and resp.success and resp.restore.pid == pid,
               "restore from the iterative dump", "%s\n%s" % (resp, log_tail(dirs[2], "restore.log")))
        if resp is not None and resp.success:
            os.kill(pid, signal.SIGUSR1)
            reap(pid)
            with open(os.path.join(d, "test.out")) as f:
                out = f.read()
            tap.ok("PASS" in out, "the task restored from pre-dumps passes its check", out[-2000:])
    finally:
        sk.close()
        swrk.wait(timeout=60)
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        for fd in fds:
            os.close(fd)
        shutil.rmtree(d, ignore_errors=True)


def test_bad_sequence():
    """After a PRE_DUMP only PRE_DUMP or DUMP may follow on that connection."""
    d = tempfile.mkdtemp(prefix="criu-rpc-seq-")
    fd = os.open(d, os.O_DIRECTORY)
    proc = None
    sk, swrk = rpctest.swrk_socket(env=ENV)
    try:
        proc = start_task(d)
        req = rpc.criu_req()
        req.type = rpc.PRE_DUMP
        req.opts.images_dir_fd = fd
        req.opts.pid = proc.pid
        req.opts.log_file = "seq.log"
        resp = rpctest.call(sk, req)
        if not tap.ok(resp is not None and resp.success, "PRE_DUMP succeeds",
                      "%s\n%s" % (resp, log_tail(d, "seq.log"))):
            return
        check = rpc.criu_req()
        check.type = rpc.CHECK
        resp = rpctest.call(sk, check)
        tap.ok(resp is not None and not resp.success and resp.type == rpc.EMPTY,
               "CHECK after PRE_DUMP is a bad sequence (EMPTY, false)", resp)
        tap.ok(alive(proc.pid), "the pre-dumped task runs on")
    finally:
        sk.close()
        swrk.wait(timeout=60)
        if proc:
            proc.kill()
            proc.wait()
        os.close(fd)
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


for t in (test_rpc_round_trip, test_refused_notification, test_pre_dump_series, test_bad_sequence,
          test_action_script):
    rpctest.run_test(tap, t.__name__, t)

tap.done()
