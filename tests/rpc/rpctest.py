# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the RPC tests: TAP output, the criu under test,
a service started for the test, and raw requests over the socket.

The tests drive criu with Debian's pycriu (package criu), the client
that real users have, and fall back to its generated rpc_pb2 for
requests its criu class has no method for.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import pycriu
import pycriu.rpc_pb2 as rpc

# pycriu's package exports the client class under its module's name.
CriuClient = pycriu.criu
CRIUExceptionExternal = pycriu.CRIUExceptionExternal

TOP_BUILDDIR = os.environ.get("top_builddir", os.getcwd())
TOP_SRCDIR = os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", ".."))
CRIU = os.path.abspath(os.path.join(TOP_BUILDDIR, "criu"))


class Tap:
    """TAP producer; the plan goes last, so tests can be added freely."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            if diag:
                for line in str(diag).splitlines():
                    print("# " + line)
        sys.stdout.flush()
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


def run_test(tap, name, fn, *args):
    """Run fn; an exception is a failure of that test, not of the file."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - report anything as a failure
        tap.ok(False, name, "%s: %s" % (type(e).__name__, e))
        return None


def swrk_client():
    c = CriuClient()
    c.use_binary(CRIU)
    return c


class Service:
    """criu service on a socket in a temporary directory."""

    def __init__(self, extra=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="criu-rpc-svc-")
        os.chmod(self.dir, 0o755)
        self.address = os.path.join(self.dir, "criu.sock")
        self.pidfile = os.path.join(self.dir, "criu.pid")
        self.log = os.path.join(self.dir, "service.log")
        r, w = os.pipe()
        cmd = [CRIU, "service", "--address", self.address, "--pidfile", self.pidfile,
               "--status-fd", str(w), "-v4", "-o", self.log, "-W", self.dir] + list(extra)
        self.proc = subprocess.Popen(cmd, pass_fds=(w,), stdin=subprocess.DEVNULL,
                                     env=dict(os.environ, **(env or {})))
        os.close(w)
        # The service writes one byte once it accepts connections.
        self.ready = os.read(r, 1) == b"\0"
        os.close(r)

    def alive(self):
        return self.proc.poll() is None

    def client(self):
        c = CriuClient()
        c.use_sk(self.address)
        return c

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(self.address)
        return s

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def swrk_socket(env=None):
    """Start criu swrk on a socket pair the way libcriu does; returns
    (socket, Popen)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc = subprocess.Popen([CRIU, "swrk", str(theirs.fileno())], pass_fds=(theirs.fileno(),),
                            stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})))
    theirs.close()
    return ours, proc


def send_req(sk, req):
    sk.send(req.SerializeToString())


def recv_resp(sk, timeout=30):
    """One criu_resp, or None when criu closed the connection."""
    sk.settimeout(timeout)
    size = len(sk.recv(1, socket.MSG_PEEK | socket.MSG_TRUNC))
    buf = sk.recv(max(size, 1))
    if not buf:
        return None
    resp = rpc.criu_resp()
    resp.ParseFromString(buf)
    return resp


def call(sk, req, on_notify=None):
    """Send req, answer notifications with on_notify(name, pid) -> bool,
    return the final answer (or None if the connection was closed)."""
    send_req(sk, req)
    while True:
        resp = recv_resp(sk)
        if resp is None or resp.type != rpc.NOTIFY:
            return resp
        ok = on_notify(resp.notify.script, resp.notify.pid) if on_notify else True
        ack = rpc.criu_req()
        ack.type = rpc.NOTIFY
        ack.notify_success = bool(ok)
        send_req(sk, ack)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def read_varint(buf, i):
    """Decode the varint at buf[i:]; returns (value, next index)."""
    val, shift = 0, 0
    while True:
        b = buf[i]
        i += 1
        val |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return val, i


def raw_field(number, value):
    """Encode a field that pycriu's (older) rpc.proto lacks."""
    if isinstance(value, bool) or isinstance(value, int):
        return varint(number << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint((number << 3) | 2) + varint(len(data)) + data


def req_bytes(req, extra_opts=b""):
    """Serialize req with extra raw criu_opts fields appended to opts."""
    if not extra_opts:
        return req.SerializeToString()
    opts = req.opts.SerializeToString() + extra_opts
    req.ClearField("opts")
    return req.SerializeToString() + raw_field(2, opts)


def effective_config(text):
    """The lines of the last effective-configuration block in a log:
    {key: [values]} (lists keep every item)."""
    blocks = []
    cur = None
    for line in text.splitlines():
        if line.startswith("("):  # "(00.000123) " timestamp
            line = line.split(") ", 1)[-1]
        if line.startswith("; criu effective configuration"):
            cur = {}
            blocks.append(cur)
            continue
        if cur is None:
            continue
        if line.startswith("[plugins]"):
            cur = None
            continue
        if line.startswith(";") or line.startswith("[") or "=" not in line:
            continue
        key, rest = line.split("=", 1)
        value = rest.split(" ; ", 1)[0].strip()
        cur.setdefault(key.strip(), []).append(value)
    return blocks[-1] if blocks else None


def show_config(args, env=None):
    """criu ARGS --show-config, parsed like effective_config."""
    # First: words after --exec-cmd belong to the command.
    p = subprocess.run([CRIU, "--show-config"] + args, capture_output=True, text=True,
                       env=env, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("criu %s --show-config: exit %d: %s" % (" ".join(args), p.returncode,
                                                                 p.stderr.strip()))
    return effective_config(p.stdout)


def wait_for(cond, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def start_task(prog, d):
    """Start C/R test program PROG in D as the C/R runner does; return its Popen."""
    pidfile = os.path.join(d, "test.pid")
    outfile = os.path.join(d, "test.out")

    def child_setup():
        os.setsid()
        os.closerange(3, 65536)

    with open(outfile, "ab") as out:
        proc = subprocess.Popen([prog, "--pidfile", pidfile, "--outfile", outfile], cwd=d,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                preexec_fn=child_setup, close_fds=True)
    if not wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(), 20):
        raise RuntimeError("the test program wrote no pid file")
    return proc


def tree_pids(root):
    """ROOT and its descendants, parents first (from /proc/PID/task/PID/children)."""
    out, todo = [], [root]
    while todo:
        p = todo.pop(0)
        out.append(p)
        with open("/proc/%d/task/%d/children" % (p, p)) as f:
            todo += [int(c) for c in f.read().split()]
    return out


def kill_tree(pids, proc):
    """SIGKILL every live pid of PIDS (a tree of start_task() PROC) and reap PROC."""
    for p in pids:
        if alive(p):
            os.kill(p, signal.SIGKILL)
    if proc:
        reap(proc.pid, 5)


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
