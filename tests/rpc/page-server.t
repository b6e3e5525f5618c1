#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The page server over RPC and the CLI, for real, with the task
tests/cr/busyloop00 (it spins until SIGUSR1 after restore, then checks
its state and prints PASS).
  1. RPC PAGE_SERVER (swrk, no port): the answer carries the daemon's pid
     and the port it picked; "criu dump --page-server" sends the pages
     there; the dump directory holds no pagemap or pages image; the page
     server exits after the transfer; with its images moved over, criu
     restore brings the task back and it passes.
  2. RPC PAGE_SERVER_CHLD with a chosen port, then RPC DUMP with
     opts.ps (address, port) on another connection, WAIT_PID for the
     page server (exit 0), RPC RESTORE, PASS.
  3. RPC PRE_DUMP with opts.ps into "criu page-server --daemon
     --pidfile" started from the CLI: the pre-dump's pages arrive there.
  4. A DUMP to a port where nobody listens fails with a message naming
     the page server and the task keeps running; a DUMP with --port 0
     is refused.
  5. The wire protocol from a client written here from CRIU's
     struct page_server_iov (not our dump): "criu page-server --port 0
     -d" says its port; OPEN2 answers has-parent 0, PARENT answers an
     int 0, ADD_F runs (adjacent ones merged into one entry, a gap
     starting a new one), the old ADD, a second OPEN2 for a shmem
     pagemap, CLOSE answers int32 0; the images hold exactly that.
  6. --ps-socket on both sides: a page server and a dump joined by a
     socketpair they inherit; restore, PASS.
  7. CLI pre-dump of process trees (tests/cr/tree00, tests/cr/
     shm_shared00) to a page server: it receives pagemap-PID.img for
     every process of the tree and one pagemap-shmem-SHMID.img per
     shared anonymous object (once, though several processes map it);
     the pre-dump directory gets none; the trees run on.
"""

import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc, alive, reap, log_tail  # noqa: E402

tap = rpctest.Tap()
PROG = os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", "busyloop00")
PLUGINDIR = os.path.join(rpctest.TOP_BUILDDIR, "plugindir")
ENV = {"CRIU_LIBS_DIR": PLUGINDIR}

# The daemonized page server and restored tasks are reparented to us.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def page_images(d):
    return sorted(n for n in os.listdir(d)
                  if n.endswith(".img") and (n.startswith("pagemap-") or n.startswith("pages-")))


def move_page_images(src, dst):
    names = page_images(src)
    for n in names:
        os.rename(os.path.join(src, n), os.path.join(dst, n))
    return names


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ps_req(kind, d_fd, port=0, log="ps.log"):
    req = rpc.criu_req()
    req.type = kind
    req.opts.images_dir_fd = d_fd
    req.opts.log_level = 4
    req.opts.log_file = log
    req.opts.ps.address = "127.0.0.1"
    if port:
        req.opts.ps.port = port
    return req


def restore_and_check(d, pid, how):
    if how == "cli":
        p = subprocess.run([rpctest.CRIU, "restore", "-d", "-D", d, "-o", "restore.log", "-v4",
                            "--pidfile", os.path.join(d, "restore.pid")],
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=120)
        if not tap.ok(p.returncode == 0, "criu restore from the dump dir and the page server's images",
                      p.stderr + log_tail(d, "restore.log")):
            return
    else:
        d_fd = os.open(d, os.O_DIRECTORY)
        req = rpc.criu_req()
        req.type = rpc.RESTORE
        req.opts.images_dir_fd = d_fd
        req.opts.log_level = 4
        req.opts.log_file = "restore.log"
        sk, proc = rpctest.swrk_socket(env=ENV)
        resp = rpctest.call(sk, req)
        sk.close()
        proc.wait(timeout=60)
        os.close(d_fd)
        if not tap.ok(resp is not None and resp.success and resp.restore.pid == pid,
                      "RPC RESTORE with the page server's images", "%s\n%s" % (resp, log_tail(d, "restore.log"))):
            return
    os.kill(pid, signal.SIGUSR1)
    reaped = reap(pid)
    with open(os.path.join(d, "test.out")) as f:
        out = f.read()
    tap.ok(reaped and "PASS" in out, "the restored task passes its check", out[-2000:])


def test_rpc_page_server_cli_dump():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    psd = os.path.join(d, "ps")
    os.mkdir(psd)
    ps_fd = os.open(psd, os.O_DIRECTORY)
    proc = None
    try:
        proc = rpctest.start_task(PROG, d)
        sk, swrk = rpctest.swrk_socket(env=ENV)
        resp = rpctest.call(sk, ps_req(rpc.PAGE_SERVER, ps_fd))
        sk.close()
        swrk.wait(timeout=30)
        if not tap.ok(resp is not None and resp.success and resp.type == rpc.PAGE_SERVER
                      and resp.ps.pid > 0 and 0 < resp.ps.port < 65536,
                      "RPC PAGE_SERVER answers with the page server's pid and port",
                      "%s\n%s" % (resp, log_tail(psd, "ps.log"))):
            return
        ps_pid = resp.ps.pid
        tap.ok(alive(ps_pid), "the page server (pid %d) runs on after the answer" % ps_pid)
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(proc.pid), "-D", d, "-o", "dump.log", "-v4",
                            "--page-server", "--address", "127.0.0.1", "--port", str(resp.ps.port)],
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=120)
        if not tap.ok(p.returncode == 0, "criu dump --page-server --port %d" % resp.ps.port,
                      p.stderr + log_tail(d, "dump.log") + log_tail(psd, "ps.log")):
            return
        proc.wait(timeout=30)
        tap.ok(page_images(d) == [], "the dump wrote no pagemap or pages image itself", page_images(d))
        tap.ok(rpctest.wait_for(lambda: not alive(ps_pid), 20) and reap(ps_pid, 5),
               "the page server exits after the transfer")
        names = move_page_images(psd, d)
        tap.ok("pagemap-%d.img" % proc.pid in names and "pages-1.img" in names,
               "the page server wrote pagemap-%d.img and pages-1.img" % proc.pid, names)
        restore_and_check(d, proc.pid, "cli")
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        os.close(ps_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_chld_and_rpc_dump():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    psd = os.path.join(d, "ps")
    os.mkdir(psd)
    ps_fd = os.open(psd, os.O_DIRECTORY)
    d_fd = os.open(d, os.O_DIRECTORY)
    proc = None
    try:
        proc = rpctest.start_task(PROG, d)
        port = free_port()
        sk, swrk = rpctest.swrk_socket(env=ENV)
        req = ps_req(rpc.PAGE_SERVER_CHLD, ps_fd, port)
        req.keep_open = True
        resp = rpctest.call(sk, req)
        if not tap.ok(resp is not None and resp.success and resp.type == rpc.PAGE_SERVER_CHLD
                      and resp.ps.pid > 0 and resp.ps.port == port,
                      "RPC PAGE_SERVER_CHLD answers with the child's pid and port %d" % port,
                      "%s\n%s" % (resp, log_tail(psd, "ps.log"))):
            return
        ps_pid = resp.ps.pid

        dreq = rpc.criu_req()
        dreq.type = rpc.DUMP
        dreq.opts.images_dir_fd = d_fd
        dreq.opts.pid = proc.pid
        dreq.opts.log_level = 4
        dreq.opts.log_file = "dump.log"
        dreq.opts.ps.address = "127.0.0.1"
        dreq.opts.ps.port = port
        dsk, dswrk = rpctest.swrk_socket(env=ENV)
        dresp = rpctest.call(dsk, dreq)
        dsk.close()
        dswrk.wait(timeout=60)
        if not tap.ok(dresp is not None and dresp.success, "RPC DUMP with opts.ps sends to the page server",
                      "%s\n%s" % (dresp, log_tail(d, "dump.log"))):
            return
        proc.wait(timeout=30)
        wreq = rpc.criu_req()
        wreq.type = rpc.WAIT_PID
        wreq.pid = ps_pid
        wresp = rpctest.call(sk, wreq)
        sk.close()
        swrk.wait(timeout=30)
        tap.ok(wresp is not None and wresp.success and wresp.status == 0,
               "WAIT_PID: the page server child exited 0", "%s\n%s" % (wresp, log_tail(psd, "ps.log")))
        tap.ok(page_images(d) == [], "the RPC dump wrote no pagemap or pages image itself", page_images(d))
        move_page_images(psd, d)
        restore_and_check(d, proc.pid, "rpc")
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        os.close(ps_fd)
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_rpc_pre_dump_to_cli_daemon():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    psd = os.path.join(d, "ps")
    os.mkdir(psd)
    d_fd = os.open(d, os.O_DIRECTORY)
    proc = None
    try:
        proc = rpctest.start_task(PROG, d)
        port = free_port()
        pidfile = os.path.join(d, "ps.pid")
        p = subprocess.run([rpctest.CRIU, "page-server", "-D", psd, "--port", str(port), "--address",
                            "127.0.0.1", "--daemon", "--pidfile", pidfile, "-o", "ps.log", "-v4"],
                           capture_output=True, text=True, timeout=30)
        if not tap.ok(p.returncode == 0 and os.path.exists(pidfile),
                      "criu page-server --daemon returns once it listens, pidfile written",
                      p.stderr + log_tail(psd, "ps.log")):
            return
        ps_pid = int(open(pidfile).read())
        req = rpc.criu_req()
        req.type = rpc.PRE_DUMP
        req.opts.images_dir_fd = d_fd
        req.opts.pid = proc.pid
        req.opts.log_level = 4
        req.opts.log_file = "pre-dump.log"
        req.opts.ps.address = "127.0.0.1"
        req.opts.ps.port = port
        sk, swrk = rpctest.swrk_socket(env=ENV)
        resp = rpctest.call(sk, req)
        sk.close()
        swrk.wait(timeout=60)
        tap.ok(resp is not None and resp.success and alive(proc.pid),
               "RPC PRE_DUMP with opts.ps succeeds; the task runs on",
               "%s\n%s" % (resp, log_tail(d, "pre-dump.log")))
        tap.ok(rpctest.wait_for(lambda: not alive(ps_pid), 20)
               and "pagemap-%d.img" % proc.pid in page_images(psd) and page_images(d) == [],
               "the pre-dump's pages went to the page server, which then exited",
               "%s %s" % (page_images(psd), page_images(d)))
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        os.close(d_fd)
        shutil.rmtree(d, ignore_errors=True)


def test_no_server():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    proc = None
    try:
        proc = rpctest.start_task(PROG, d)
        port = free_port()
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(proc.pid), "-D", d, "-o", "dump.log", "-v4",
                            "--page-server", "--address", "127.0.0.1", "--port", str(port)],
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=60)
        tap.ok(p.returncode != 0 and "page server" in p.stderr,
               "a dump to a port where nobody listens fails naming the page server", p.stderr)
        tap.ok(alive(proc.pid), "the task keeps running after the failed dump")
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(proc.pid), "-D", d, "-o", "dump0.log",
                            "--page-server", "--address", "127.0.0.1", "--port", "0"],
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=60)
        tap.ok(p.returncode != 0 and "--port other than 0" in p.stderr and alive(proc.pid),
               "a dump to --port 0 is refused; the task runs on", p.stderr)
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        shutil.rmtree(d, ignore_errors=True)


def read_pagemap(path):
    """(pages_id, [(vaddr, nr_pages, flags)]) of a pagemap image."""
    def fields(buf):
        out, i = {}, 0
        while i < len(buf):
            key, i = rpctest.read_varint(buf, i)
            val, i = rpctest.read_varint(buf, i)
            out[key >> 3] = val
        return out
    with open(path, "rb") as f:
        data = f.read()
    msgs, i = [], 8
    while i < len(data):
        (n,) = struct.unpack_from("<I", data, i)
        msgs.append(fields(data[i + 4:i + 4 + n]))
        i += 4 + n
    return msgs[0][1], [(m[1], m.get(5, m[2]), m.get(4)) for m in msgs[1:]]


def test_wire_protocol():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    try:
        p = subprocess.run([rpctest.CRIU, "page-server", "-D", d, "--port", "0", "--address", "127.0.0.1",
                            "-d", "-o", "ps.log", "-v4"], capture_output=True, text=True, timeout=30)
        port = int(p.stdout.split("Port:")[1].split()[0]) if "Port:" in p.stdout else 0
        if not tap.ok(p.returncode == 0 and port > 0, "criu page-server --port 0 -d says the port it picked (%d)"
                      % port, p.stdout + p.stderr + log_tail(d, "ps.log")):
            return
        sk = socket.create_connection(("127.0.0.1", port), timeout=20)

        def iov(cmd, nr=0, vaddr=0, dst=0, flags=0):
            sk.sendall(struct.pack("=IIQQ", flags << 16 | cmd, nr, vaddr, dst))

        def page(b):
            return bytes([b]) * 4096
        pid_id, shm_id = 4321 << 8 | 1, 77 << 8 | 2
        iov(4, dst=pid_id)                                   # OPEN2
        has_parent = sk.recv(1)
        iov(5, dst=pid_id)                                   # PARENT
        parent = struct.unpack("=i", sk.recv(4))[0]
        iov(6, 2, 0x400000, pid_id, 4)                       # ADD_F present
        sk.sendall(page(1) + page(2))
        iov(6, 1, 0x402000, pid_id, 4)                       # adjacent: merged
        sk.sendall(page(3))
        iov(6, 3, 0x500000, pid_id, 1)                       # a parent hole: no data
        iov(1, 1, 0x600000, pid_id)                          # old ADD
        sk.sendall(page(4))
        iov(4, dst=shm_id)                                   # OPEN2 shmem
        sk.recv(1)
        iov(6, 1, 0, shm_id, 4)
        sk.sendall(page(5))
        iov(0x1023)                                          # CLOSE
        status = struct.unpack("=i", sk.recv(4))[0]
        sk.close()
        tap.ok(has_parent == b"\0" and parent == 0 and status == 0,
               "OPEN2 answers 1 byte, PARENT an int, CLOSE an int32 0",
               "%r %r %r" % (has_parent, parent, status))
        pid_pm = read_pagemap(os.path.join(d, "pagemap-4321.img"))
        shm_pm = read_pagemap(os.path.join(d, "pagemap-shmem-77.img"))
        tap.ok(pid_pm == (1, [(0x400000, 3, 4), (0x500000, 3, 1), (0x600000, 1, 4)]),
               "pagemap-4321.img: the adjacent runs merged, the hole and the old ADD as sent", pid_pm)
        tap.ok(shm_pm == (2, [(0, 1, 4)]), "pagemap-shmem-77.img uses pages-2.img", shm_pm)
        with open(os.path.join(d, "pages-1.img"), "rb") as f:
            p1 = f.read()
        with open(os.path.join(d, "pages-2.img"), "rb") as f:
            p2 = f.read()
        tap.ok(p1 == page(1) + page(2) + page(3) + page(4) and p2 == page(5),
               "pages-1.img and pages-2.img hold the data in order (%d, %d bytes)" % (len(p1), len(p2)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_ps_socket():
    d = tempfile.mkdtemp(prefix="criu-ps-")
    psd = os.path.join(d, "ps")
    os.mkdir(psd)
    proc = server = None
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        proc = rpctest.start_task(PROG, d)
        server = subprocess.Popen([rpctest.CRIU, "page-server", "-D", psd, "--ps-socket", str(a.fileno()),
                                   "-o", "ps.log", "-v4"], pass_fds=(a.fileno(),), stdin=subprocess.DEVNULL)
        a.close()
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(proc.pid), "-D", d, "-o", "dump.log", "-v4",
                            "--page-server", "--ps-socket", str(b.fileno())], pass_fds=(b.fileno(),),
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=120)
        b.close()
        if not tap.ok(p.returncode == 0, "dump --page-server --ps-socket FD",
                      p.stderr + log_tail(d, "dump.log") + log_tail(psd, "ps.log")):
            return
        proc.wait(timeout=30)
        tap.ok(server.wait(timeout=20) == 0 and page_images(d) == [] and len(page_images(psd)) >= 2,
               "page-server --ps-socket FD received the pages and exited 0", page_images(psd))
        move_page_images(psd, d)
        restore_and_check(d, proc.pid, "cli")
    finally:
        a.close()
        b.close()
        if server and server.poll() is None:
            server.kill()
            server.wait()
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        shutil.rmtree(d, ignore_errors=True)


def shmem_ids(pids):
    """Inodes of the shared anonymous objects the processes map."""
    ids = set()
    for p in pids:
        with open("/proc/%d/maps" % p) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and fields[5] in ("/dev/zero", "/SYSV00000000") and "s" in fields[1]:
                    ids.add(int(fields[4]))
    return ids


def pre_dump_tree(name):
    d = tempfile.mkdtemp(prefix="criu-ps-")
    psd = os.path.join(d, "ps")
    os.mkdir(psd)
    proc = None
    pids = []
    try:
        proc = rpctest.start_task(os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", name), d)
        pids = rpctest.tree_pids(proc.pid)
        shm = shmem_ids(pids)
        port = free_port()
        pidfile = os.path.join(d, "ps.pid")
        p = subprocess.run([rpctest.CRIU, "page-server", "-D", psd, "--port", str(port), "--address",
                            "127.0.0.1", "--daemon", "--pidfile", pidfile, "-o", "ps.log", "-v4"],
                           capture_output=True, text=True, timeout=30)
        if not tap.ok(p.returncode == 0, "%s: page server started" % name, p.stderr + log_tail(psd, "ps.log")):
            return
        ps_pid = int(open(pidfile).read())
        p = subprocess.run([rpctest.CRIU, "pre-dump", "-t", str(proc.pid), "-D", d, "-o", "pre-dump.log",
                            "-v4", "--page-server", "--address", "127.0.0.1", "--port", str(port)],
                           env=dict(os.environ, **ENV), capture_output=True, text=True, timeout=120)
        if not tap.ok(p.returncode == 0 and all(alive(x) for x in pids),
                      "%s: pre-dump of a %d-process tree to the page server; the tree runs on" % (name, len(pids)),
                      p.stderr + log_tail(d, "pre-dump.log") + log_tail(psd, "ps.log")):
            return
        tap.ok(rpctest.wait_for(lambda: not alive(ps_pid), 20) and reap(ps_pid, 5),
               "%s: the page server exits after the transfer" % name)
        got = page_images(psd)
        want = sorted(["pagemap-%d.img" % x for x in pids] + ["pagemap-shmem-%d.img" % x for x in shm])
        tap.ok(len(pids) > 1 and sorted(n for n in got if n.startswith("pagemap-")) == want
               and len([n for n in got if n.startswith("pages-")]) == len(want) and page_images(d) == [],
               "%s: the page server got a pagemap per process and one per shared object (%d), the "
               "pre-dump directory none" % (name, len(shm)), "%s\nwant %s\nlocal %s" % (got, want, page_images(d)))
    finally:
        rpctest.kill_tree(pids, proc)
        shutil.rmtree(d, ignore_errors=True)


def test_tree_pre_dump():
    pre_dump_tree("tree00")
    pre_dump_tree("shm_shared00")


rpctest.run_test(tap, "RPC PAGE_SERVER + CLI dump", test_rpc_page_server_cli_dump)
rpctest.run_test(tap, "PAGE_SERVER_CHLD + RPC dump", test_chld_and_rpc_dump)
rpctest.run_test(tap, "RPC pre-dump to a CLI page server", test_rpc_pre_dump_to_cli_daemon)
rpctest.run_test(tap, "no page server", test_no_server)
rpctest.run_test(tap, "the wire protocol", test_wire_protocol)
rpctest.run_test(tap, "--ps-socket", test_ps_socket)
rpctest.run_test(tap, "pre-dump of trees", test_tree_pre_dump)
tap.done()
