#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""criu dedup (with the RPC tests because, like them, it drives criu
processes and real dumps from Python; dedup has no RPC request in CRIU).
  1. Made-up images, three generations (child -> parent -> grandparent):
     exactly the pages the child holds itself are punched out of the
     parent's and grandparent's pages images; pages the child does not
     have, or marks PE_PARENT, keep their bytes; file sizes stay.
  2. A real pre-dump and dump (--prev-images-dir) of tests/cr/busyloop00:
     criu dedup -D dump frees the parent's pages (this criu's dump saves
     every page, so all of them), and the restore from the dump still
     passes.
  3. The same with "dump --auto-dedup" instead of a separate dedup.
  4. dedup of a directory without a parent link fails, naming it.
"""
import ctypes
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import alive, reap, log_tail, varint  # noqa: E402

tap = rpctest.Tap()
PROG = os.path.join(rpctest.TOP_BUILDDIR, "tests", "cr", "busyloop00")
PLUGINDIR = os.path.join(rpctest.TOP_BUILDDIR, "plugindir")
ENV = dict(os.environ, CRIU_LIBS_DIR=PLUGINDIR)
PAGE = 4096
PE_PARENT, PE_PRESENT = 1, 4

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def pb(fields):
    """Encode (number, value) varint fields as protobuf."""
    return b"".join(varint(n << 3) + varint(v) for n, v in fields)


def write_pagemap(d, pid, pages_id, entries):
    """entries: (vaddr, nr_pages, flags); the data of present ones is
    page i of the entry filled with byte (vaddr >> 12) + i."""
    msgs = [pb([(1, pages_id)])]
    data = b""
    for vaddr, nr, flags in entries:
        msgs.append(pb([(1, vaddr), (2, nr), (4, flags), (5, nr)]))
        if flags & PE_PRESENT:
            data += b"".join(bytes([((vaddr >> 12) + i) & 0xff]) * PAGE for i in range(nr))
    with open(os.path.join(d, "pagemap-%d.img" % pid), "wb") as f:
        f.write(struct.pack("<II", 0x54564319, 0x56084025))
        for m in msgs:
            f.write(struct.pack("<I", len(m)) + m)
    with open(os.path.join(d, "pages-%d.img" % pages_id), "wb") as f:
        f.write(data)


def page_bytes(d, pages_id):
    """Per page of pages-N.img: its fill byte, or None when all zero."""
    with open(os.path.join(d, "pages-%d.img" % pages_id), "rb") as f:
        data = f.read()
    out = []
    for i in range(0, len(data), PAGE):
        p = data[i:i + PAGE]
        out.append(None if p == bytes(PAGE) else (p[0] if p == bytes([p[0]]) * PAGE else "mixed"))
    return out


def dedup(d):
    return subprocess.run([rpctest.CRIU, "dedup", "-D", d, "-o", "dedup.log", "-v4"],
                          capture_output=True, text=True, timeout=60)


def test_made_up():
    top = tempfile.mkdtemp(prefix="criu-dedup-")
    try:
        gp, parent, child = (os.path.join(top, n) for n in ("gp", "parent", "child"))
        for x in (gp, parent, child):
            os.mkdir(x)
        os.symlink("../gp", os.path.join(parent, "parent"))
        os.symlink("../parent", os.path.join(child, "parent"))
        # grandparent: 0x10000 x8 (fill 0x10..0x17)
        write_pagemap(gp, 7, 1, [(0x10000, 8, PE_PRESENT)])
        # parent: 0x10000 x4 (0x10..0x13), 0x14000 x4 in its parent, 0x20000 x2 (0x20, 0x21)
        write_pagemap(parent, 7, 1, [(0x10000, 4, PE_PRESENT), (0x14000, 4, PE_PARENT),
                                     (0x20000, 2, PE_PRESENT)])
        # child: 0x12000 x4 own, 0x21000 x1 in parent, 0x30000 x1 own (nobody else has it)
        write_pagemap(child, 7, 1, [(0x12000, 4, PE_PRESENT), (0x21000, 1, PE_PARENT),
                                    (0x30000, 1, PE_PRESENT)])
        sizes = [os.path.getsize(os.path.join(x, "pages-1.img")) for x in (gp, parent)]
        p = dedup(child)
        if not tap.ok(p.returncode == 0, "criu dedup -D child", p.stderr + log_tail(child, "dedup.log")):
            return
        tap.ok(page_bytes(parent, 1) == [0x10, 0x11, None, None, 0x20, 0x21],
               "parent: the child's own 0x12000-0x16000 punched; 0x10000, 0x11000 and the "
               "child's PE_PARENT 0x21000 kept", page_bytes(parent, 1))
        tap.ok(page_bytes(gp, 1) == [0x10, 0x11, None, None, None, None, 0x16, 0x17],
               "grandparent: 0x12000-0x16000 punched, the rest kept", page_bytes(gp, 1))
        tap.ok(page_bytes(child, 1) == [0x12, 0x13, 0x14, 0x15, 0x30], "the child's pages untouched",
               page_bytes(child, 1))
        tap.ok(sizes == [os.path.getsize(os.path.join(x, "pages-1.img")) for x in (gp, parent)],
               "the pages files keep their sizes (holes, not truncation)")
    finally:
        shutil.rmtree(top, ignore_errors=True)


def blocks(d):
    return sum(os.stat(os.path.join(d, n)).st_blocks for n in os.listdir(d)
               if n.startswith("pages-") and n.endswith(".img"))


def test_real(auto):
    d = tempfile.mkdtemp(prefix="criu-dedup-")
    pre, dump = os.path.join(d, "pre"), os.path.join(d, "dump")
    os.mkdir(pre)
    os.mkdir(dump)
    proc = None
    try:
        proc = rpctest.start_task(PROG, d)
        p = subprocess.run([rpctest.CRIU, "pre-dump", "-t", str(proc.pid), "-D", pre, "-o", "pre-dump.log"],
                           env=ENV, capture_output=True, text=True, timeout=60)
        if not tap.ok(p.returncode == 0, "pre-dump", p.stderr + log_tail(pre, "pre-dump.log")):
            return
        before = blocks(pre)
        p = subprocess.run([rpctest.CRIU, "dump", "-t", str(proc.pid), "-D", dump, "-o", "dump.log",
                            "--prev-images-dir", "../pre", "--track-mem"] + (["--auto-dedup"] if auto else []),
                           env=ENV, capture_output=True, text=True, timeout=60)
        if not tap.ok(p.returncode == 0, "dump --prev-images-dir ../pre%s" % (" --auto-dedup" if auto else ""),
                      p.stderr + log_tail(dump, "dump.log")):
            return
        proc.wait(timeout=30)
        if auto:
            tap.ok(before > 0 and blocks(pre) == 0,
                   "dump --auto-dedup frees the parent's pages (%d blocks before, %d after)" % (before, blocks(pre)),
                   log_tail(dump, "dump.log"))
        else:
            tap.ok(blocks(pre) == before, "without --auto-dedup the parent keeps its pages")
            p = dedup(dump)
            tap.ok(p.returncode == 0 and before > 0 and blocks(pre) == 0,
                   "criu dedup -D dump frees the parent's pages (%d blocks before, %d after)"
                   % (before, blocks(pre)), p.stderr + log_tail(dump, "dedup.log"))
        pidf = os.path.join(d, "restore.pid")
        p = subprocess.run([rpctest.CRIU, "restore", "-d", "-D", dump, "-o", "restore.log", "--pidfile", pidf],
                           env=ENV, capture_output=True, text=True, timeout=60)
        if not tap.ok(p.returncode == 0, "restore after dedup", p.stderr + log_tail(dump, "restore.log")):
            return
        pid = int(open(pidf).read())
        os.kill(pid, signal.SIGUSR1)
        reaped = reap(pid)
        with open(os.path.join(d, "test.out")) as f:
            out = f.read()
        tap.ok(reaped and "PASS" in out, "the restored task passes its check", out[-2000:])
    finally:
        if proc and alive(proc.pid):
            os.kill(proc.pid, signal.SIGKILL)
            reap(proc.pid, 5)
        shutil.rmtree(d, ignore_errors=True)


def test_no_parent():
    d = tempfile.mkdtemp(prefix="criu-dedup-")
    try:
        p = dedup(d)
        tap.ok(p.returncode != 0 and "parent" in p.stderr, "dedup without a parent link fails, saying so",
               p.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


rpctest.run_test(tap, "dedup of made-up images", test_made_up)
rpctest.run_test(tap, "dedup after a real pre-dump and dump", test_real, False)
rpctest.run_test(tap, "dump --auto-dedup", test_real, True)
rpctest.run_test(tap, "dedup without a parent", test_no_parent)
tap.done()
