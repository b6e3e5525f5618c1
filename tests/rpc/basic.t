#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VERSION, CHECK, FEATURE_CHECK, CPUINFO_DUMP/CHECK and an unknown
request, sent by Debian's pycriu through `criu swrk` (use_binary) and
through a `criu service` this test starts (use_sk)."""
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc  # noqa: E402
import pycriu  # noqa: E402

tap = rpctest.Tap()


def new_req(type_, keep_open=False):
    req = rpc.criu_req()
    req.type = type_
    if keep_open:
        req.keep_open = True
    return req


def t_version(mode, client):
    resp = client._send_req_and_recv_resp(new_req(rpc.VERSION))
    tap.ok(resp.success and resp.type == rpc.VERSION, "%s: VERSION succeeds" % mode, resp)
    tap.ok(resp.version.major_number == 4 and resp.version.minor_number == 2,
           "%s: VERSION says 4.2" % mode, resp.version)
    tap.ok(resp.version.name != "", "%s: VERSION carries our name" % mode, resp.version)


def t_check(mode, client):
    try:
        client.check()
        tap.ok(True, "%s: CHECK succeeds" % mode)
    except rpctest.CRIUExceptionExternal as e:
        # A kernel that lacks something is a valid, well-formed answer.
        tap.ok(e.errno != 0, "%s: CHECK answers (kernel says no: errno %d)" % (mode, e.errno))


def t_feature_check(mode, client):
    req = new_req(rpc.FEATURE_CHECK)
    req.features.mem_track = True
    req.features.lazy_pages = True
    req.features.pidfd_store = True
    resp = client._send_req_and_recv_resp(req)
    tap.ok(resp.success and resp.type == rpc.FEATURE_CHECK, "%s: FEATURE_CHECK succeeds" % mode, resp)
    tap.ok(resp.features.HasField("mem_track") and resp.features.HasField("lazy_pages") and
           resp.features.HasField("pidfd_store"), "%s: FEATURE_CHECK answers every asked feature" % mode,
           resp.features)
    # pidfd_open and pidfd_getfd exist on every kernel this project supports.
    tap.ok(resp.features.pidfd_store, "%s: pidfd_store is available" % mode, resp.features)

    req = new_req(rpc.FEATURE_CHECK)
    req.features.mem_track = True
    resp = client._send_req_and_recv_resp(req)
    tap.ok(resp.success and not resp.features.HasField("lazy_pages"),
           "%s: FEATURE_CHECK answers only what was asked" % mode, resp.features)


def t_cpuinfo(mode, client):
    d = tempfile.mkdtemp(prefix="criu-rpc-cpuinfo-")
    fd = os.open(d, os.O_DIRECTORY)
    try:
        req = new_req(rpc.CPUINFO_DUMP)
        req.opts.images_dir_fd = fd
        req.opts.log_file = "cpuinfo-dump.log"
        req.opts.log_level = 4
        resp = client._send_req_and_recv_resp(req)
        tap.ok(resp.success and resp.type == rpc.CPUINFO_DUMP, "%s: CPUINFO_DUMP succeeds" % mode,
               "%s\n%s" % (resp, read_log(d, "cpuinfo-dump.log")))
        tap.ok(os.path.exists(os.path.join(d, "cpuinfo.img")),
               "%s: CPUINFO_DUMP wrote cpuinfo.img into the client's dir" % mode, os.listdir(d))
        tap.ok(os.path.exists(os.path.join(d, "cpuinfo-dump.log")),
               "%s: the log went to the client's dir" % mode, os.listdir(d))

        req = new_req(rpc.CPUINFO_CHECK)
        req.opts.images_dir_fd = fd
        req.opts.log_file = "cpuinfo-check.log"
        resp = client._send_req_and_recv_resp(req)
        tap.ok(resp.success and resp.type == rpc.CPUINFO_CHECK,
               "%s: CPUINFO_CHECK on the same machine succeeds" % mode,
               "%s\n%s" % (resp, read_log(d, "cpuinfo-check.log")))

        # An image from a CPU with every feature: ENOTSUP, as CRIU answers.
        with open(os.path.join(d, "cpuinfo.img"), "rb") as f:
            img = pycriu.images.load(f)
        x = img["entries"][0]["x86_entry"][0]
        x["capability"] = [0xFFFFFFFF] * len(x["capability"])
        x["xfeatures_mask"] = 0xFFFFFFFFFFFF
        with open(os.path.join(d, "cpuinfo.img"), "wb") as f:
            pycriu.images.dump(img, f)
        resp = client._send_req_and_recv_resp(req)
        tap.ok(not resp.success and resp.cr_errno == errno.ENOTSUP and resp.cr_errmsg != "",
               "%s: CPUINFO_CHECK against a richer CPU fails with ENOTSUP" % mode, resp)

        # An images dir without cpuinfo.img: a failure with an errno and a message.
        os.unlink(os.path.join(d, "cpuinfo.img"))
        resp = client._send_req_and_recv_resp(req)
        tap.ok(not resp.success and resp.cr_errno != 0 and resp.cr_errmsg != "",
               "%s: CPUINFO_CHECK without an image fails with cr_errno and cr_errmsg" % mode, resp)

        # No images dir at all: a setup error (EBADRQC).
        req = new_req(rpc.CPUINFO_DUMP)
        req.opts.images_dir_fd = -1
        resp = client._send_req_and_recv_resp(req)
        tap.ok(not resp.success and resp.cr_errno == 56 and "images_dir" in resp.cr_errmsg,
               "%s: no images dir gives EBADRQC and says so" % mode, resp)
    finally:
        os.close(fd)
        shutil.rmtree(d, ignore_errors=True)


def read_log(d, name):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read()[-3000:]
    except OSError as e:
        return str(e)


def t_unknown(mode, client):
    req = new_req(rpc.NOTIFY)  # NOTIFY is not a request of its own
    resp = client._send_req_and_recv_resp(req)
    tap.ok(resp.type == rpc.EMPTY and not resp.success, "%s: an unexpected request type gets EMPTY, false" % mode,
           resp)


def t_wait_pid(mode, client):
    """WAIT_PID waits for a child of criu's worker; pid 1 is not one."""
    req = new_req(rpc.WAIT_PID)
    req.pid = 1
    resp = client._send_req_and_recv_resp(req)
    tap.ok(resp.type == rpc.WAIT_PID and not resp.success and resp.cr_errno == errno.ECHILD,
           "%s: WAIT_PID of a non-child fails with ECHILD" % mode, resp)


def t_keep_open(mode, client):
    """VERSION and FEATURE_CHECK may share one connection (keep_open)."""
    sk = client._comm.connect(False)
    try:
        for i in range(3):
            rpctest.send_req(sk, new_req(rpc.VERSION, keep_open=True))
            resp = rpctest.recv_resp(sk)
            if not (resp and resp.success):
                break
        tap.ok(resp is not None and resp.success, "%s: three VERSIONs on one keep_open connection" % mode, resp)
        # keep_open is not allowed for CHECK: dropped, connection closed.
        rpctest.send_req(sk, new_req(rpc.CHECK, keep_open=True))
        tap.ok(rpctest.recv_resp(sk) is None, "%s: CHECK with keep_open is dropped" % mode)
    finally:
        client._comm.disconnect()



def t_page_server_chld(mode, client):
    """PAGE_SERVER_CHLD with keep_open, then WAIT_PID on the same
    connection. While the page server itself is not there, the answer
    must be a clean error; once it is, a pid and a listening port."""
    d = tempfile.mkdtemp(prefix="criu-rpc-ps-")
    fd = os.open(d, os.O_DIRECTORY)
    sk = client._comm.connect(False)
    try:
        req = new_req(rpc.PAGE_SERVER_CHLD, keep_open=True)
        req.opts.images_dir_fd = fd
        req.opts.log_file = "ps.log"
        req.opts.ps.address = "127.0.0.1"
        resp = rpctest.call(sk, req)
        if resp is not None and resp.success:
            tap.ok(resp.ps.pid > 0 and resp.ps.port > 0,
                   "%s: PAGE_SERVER_CHLD gives pid %d, port %d" % (mode, resp.ps.pid, resp.ps.port), resp)
            socket.create_connection(("127.0.0.1", resp.ps.port), timeout=10).close()
            os.kill(resp.ps.pid, 15)
            wait = new_req(rpc.WAIT_PID)
            wait.pid = resp.ps.pid
            resp = rpctest.call(sk, wait)
            tap.ok(resp is not None and resp.success and resp.HasField("status"),
                   "%s: WAIT_PID reaps the page server" % mode, resp)
        else:
            tap.ok(resp is not None and resp.type == rpc.PAGE_SERVER_CHLD and resp.cr_errmsg != "",
                   "%s: PAGE_SERVER_CHLD failure is answered with a message (%s)" %
                   (mode, resp.cr_errmsg if resp else None), resp)
    finally:
        client._comm.disconnect()
        os.close(fd)
        shutil.rmtree(d, ignore_errors=True)


TESTS = (t_version, t_check, t_feature_check, t_cpuinfo, t_unknown, t_wait_pid, t_keep_open,
         t_page_server_chld)

for t in TESTS:
    rpctest.run_test(tap, "swrk: " + t.__name__, t, "swrk", rpctest.swrk_client())

svc = rpctest.Service()
try:
    tap.ok(svc.ready, "service: reports ready on --status-fd")
    tap.ok(os.stat(svc.address).st_mode & 0o777 == 0o666, "service: socket is mode 0666")
    with open(svc.pidfile) as f:
        tap.ok(int(f.read()) == svc.proc.pid, "service: pidfile holds its pid")
    for t in TESTS:
        rpctest.run_test(tap, "service: " + t.__name__, t, "service", svc.client())
    tap.ok(svc.alive(), "service: still running after all requests")
finally:
    svc.stop()


def t_daemon():
    """criu service -d: the command returns once the daemon is ready."""
    d = tempfile.mkdtemp(prefix="criu-rpc-svcd-")
    pidfile = os.path.join(d, "pid")
    pid = None
    try:
        p = subprocess.run([rpctest.CRIU, "service", "-d", "--address", os.path.join(d, "s.sock"),
                            "--pidfile", pidfile, "-W", d, "-o", "svc.log"], timeout=60)
        tap.ok(p.returncode == 0, "daemon: criu service -d returns 0")
        pid = int(open(pidfile).read())
        tap.ok(pid > 0 and os.path.exists("/proc/%d" % pid), "daemon: the pidfile names the running daemon")
        c = rpctest.CriuClient()
        c.use_sk(os.path.join(d, "s.sock"))
        resp = c._send_req_and_recv_resp(new_req(rpc.VERSION))
        tap.ok(resp.success, "daemon: serves VERSION", resp)
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)
            rpctest.wait_for(lambda: not os.path.exists("/proc/%d" % pid), 10)
        shutil.rmtree(d, ignore_errors=True)


def t_swrk_usage():
    for args in ([], ["3", "4"]):
        p = subprocess.run([rpctest.CRIU, "swrk"] + args, capture_output=True, text=True, timeout=30)
        tap.ok(p.returncode == 1 and "Usage: criu swrk <fd>" in p.stderr,
               "criu swrk %s: usage, exit 1" % " ".join(args), p)
    p = subprocess.run([rpctest.CRIU, "swrk", "0"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    tap.ok(p.returncode == 1 and "not a socket" in p.stderr, "criu swrk on a non-socket fails", p)


def t_status_ready_script():
    """criu service --action-script: the script runs for status-ready."""
    d = tempfile.mkdtemp(prefix="criu-rpc-hook-")
    script = os.path.join(d, "hook.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\necho "$CRTOOLS_SCRIPT_ACTION" >> %s/hooks.txt\n' % d)
    os.chmod(script, 0o755)
    svc = rpctest.Service(extra=["--action-script", script])
    try:
        tap.ok(svc.ready, "service with --action-script gets ready")
        with open(os.path.join(d, "hooks.txt")) as f:
            tap.ok(f.read().split() == ["status-ready"], "the script ran once, for status-ready")
    finally:
        svc.stop()
        shutil.rmtree(d, ignore_errors=True)


rpctest.run_test(tap, "daemon", t_daemon)
rpctest.run_test(tap, "status-ready script", t_status_ready_script)
rpctest.run_test(tap, "swrk usage", t_swrk_usage)
tap.done()
