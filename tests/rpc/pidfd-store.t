#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""pidfd_store_sk (criu_set_pidfd_store_sk): iterative pre-dumps over RPC
keep pidfds of the dumped tasks in the client's unnamed SOCK_DGRAM
socket and tell pid reuse apart from the same task, as CRIU does. The
task is tests/cr/busyloop00.
  1. PRE_DUMP #1 with a fresh socket: criu binds it to an abstract name,
     connects it to itself and leaves one message: the task's pid and a
     pidfd of the task.
  2. PRE_DUMP #2 (parent #1) with that socket: the task is recognized as
     the same one; a new pidfd message is queued.
  3. PRE_DUMP #3 (parent #2) with a fresh, empty socket: refused, naming
     the pidfd store, as CRIU refuses it.
  4. PRE_DUMP #4 (parent #2) with a store whose pidfd for the task's pid
     names a process that has exited: pid reuse is reported in the log.
  5. A pidfd_store_sk that is not a datagram socket: a clear error.
  6. A process tree (tests/cr/tree00): PRE_DUMP leaves one message per
     process of the tree, as CRIU stores every task; the next PRE_DUMP
     recognizes each of them.
"""
import array
import os
import shutil
import signal
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc, alive, reap, log_tail  # noqa: E402

tap = rpctest.Tap()
PROG = os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", "busyloop00")
ENV = {"CRIU_LIBS_DIR": os.path.join(rpctest.TOP_BUILDDIR, "plugindir")}


def pre_dump(d, n, pid, store, parent=None):
    os.mkdir(os.path.join(d, str(n)))
    fd = os.open(os.path.join(d, str(n)), os.O_DIRECTORY)
    try:
        req = rpc.criu_req()
        req.type = rpc.PRE_DUMP
        req.opts.images_dir_fd = fd
        req.opts.pid = pid
        req.opts.log_level = 4
        req.opts.log_file = "pre-dump.log"
        req.opts.pidfd_store_sk = store.fileno()
        if parent is not None:
            req.opts.parent_img = "../%d" % parent
        sk, proc = rpctest.swrk_socket(env=ENV)
        resp = rpctest.call(sk, req)
        sk.close()
        proc.wait(timeout=60)
        return resp, log_tail(os.path.join(d, str(n)), "pre-dump.log", 400)
    finally:
        os.close(fd)


def take(store):
    """The queued messages: [(pid, fd)]."""
    out = []
    while True:
        try:
            data, anc, _, _ = store.recvmsg(16, socket.CMSG_SPACE(4), socket.MSG_DONTWAIT)
        except BlockingIOError:
            return out
        fds = array.array("i")
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[:4])
        out.append((int.from_bytes(data, sys.byteorder, signed=True), fds[0] if fds else None))


def put(store, pid, fd):
    store.sendmsg([pid.to_bytes(4, sys.byteorder, signed=True)],
                  [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])


def fdinfo_pid(fd):
    with open("/proc/self/fdinfo/%d" % fd) as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    return None


def test_store():
    d = tempfile.mkdtemp(prefix="criu-pidfd-")
    proc = None
    store = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        proc = rpctest.start_task(PROG, d)
        pid = proc.pid
        resp, log = pre_dump(d, 1, pid, store)
        if not tap.ok(resp is not None and resp.success, "PRE_DUMP #1 with a fresh pidfd store", "%s\n%s" % (resp, log)):
            return
        name = store.getsockname()
        tap.ok(isinstance(name, bytes) and name.startswith(b"\0criu-pidfd-store-"),
               "criu bound the store socket to an abstract name (%r)" % name)
        msgs = take(store)
        tap.ok(len(msgs) == 1 and msgs[0][0] == pid and msgs[0][1] is not None and fdinfo_pid(msgs[0][1]) == pid,
               "the store holds one message: pid %d and a pidfd of it" % pid, msgs)
        for p, fd in msgs:
            put(store, p, fd)
            os.close(fd)

        resp, log = pre_dump(d, 2, pid, store, parent=1)
        tap.ok(resp is not None and resp.success and "is the task of the previous iteration" in log,
               "PRE_DUMP #2 with the same store recognizes the same task", "%s\n%s" % (resp, log[-3000:]))
        msgs = take(store)
        tap.ok(len(msgs) == 1 and msgs[0][0] == pid, "a pidfd of the task is queued again", msgs)

        fresh = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        resp, log = pre_dump(d, 3, pid, fresh, parent=2)
        fresh.close()
        tap.ok(resp is not None and not resp.success and "pidfd store is empty" in (resp.cr_errmsg + log),
               "PRE_DUMP #3 with an empty store and a parent is refused, naming the store",
               "%s\n%s" % (resp, log[-2000:]))
        tap.ok(alive(pid), "the task keeps running")

        # A pidfd of a process that has exited, filed under the task's pid.
        gone = os.fork()
        if gone == 0:
            os._exit(0)
        gone_fd = os.pidfd_open(gone)
        os.waitpid(gone, 0)
        put(store, pid, gone_fd)
        os.close(gone_fd)
        for _, fd in msgs:
            os.close(fd)
        resp, log = pre_dump(d, 4, pid, store, parent=2)
        tap.ok(resp is not None and resp.success and "pid %d was reused" % pid in log,
               "PRE_DUMP #4 reports pid reuse when the stored pidfd's task has exited",
               "%s\n%s" % (resp, log[-3000:]))
        for _, fd in take(store):
            os.close(fd)

        stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        resp, log = pre_dump(d, 5, pid, stream)
        stream.close()
        tap.ok(resp is not None and not resp.success and "SOCK_DGRAM" in (resp.cr_errmsg + log),
               "a stream socket as pidfd_store_sk is refused", "%s\n%s" % (resp, log[-2000:]))
    finally:
        store.close()
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        shutil.rmtree(d, ignore_errors=True)


def test_tree():
    d = tempfile.mkdtemp(prefix="criu-pidfd-")
    proc = None
    pids = []
    store = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        proc = rpctest.start_task(os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", "tree00"), d)
        pids = rpctest.tree_pids(proc.pid)
        resp, log = pre_dump(d, 1, proc.pid, store)
        if not tap.ok(resp is not None and resp.success, "PRE_DUMP #1 of a %d-process tree" % len(pids),
                      "%s\n%s" % (resp, log)):
            return
        msgs = take(store)
        tap.ok(len(pids) > 1 and sorted(p for p, _ in msgs) == sorted(pids) and
               all(fd is not None and fdinfo_pid(fd) == p for p, fd in msgs),
               "the store holds a pidfd of every process of the tree", (pids, msgs))
        for p, fd in msgs:
            put(store, p, fd)
            os.close(fd)
        resp, log = pre_dump(d, 2, proc.pid, store, parent=1)
        tap.ok(resp is not None and resp.success and
               all("pid %d is the task of the previous iteration" % p in log for p in pids),
               "PRE_DUMP #2 recognizes every process of the tree", "%s\n%s" % (resp, log[-3000:]))
        for _, fd in take(store):
            os.close(fd)
    finally:
        store.close()
        rpctest.kill_tree(pids, proc)
        shutil.rmtree(d, ignore_errors=True)


rpctest.run_test(tap, "pidfd store", test_store)
rpctest.run_test(tap, "pidfd store of a tree", test_tree)
tap.done()
