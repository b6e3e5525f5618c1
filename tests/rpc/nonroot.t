#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The service acts for anybody who can connect, so it checks who asks
(SO_PEERCRED): a client running as nobody may not dump a root-owned
process, nor use options that reach beyond what it owns; it may still
ask harmless things (VERSION, CHECK) and work on its own processes."""
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc  # noqa: E402

tap = rpctest.Tap()
NOBODY = pwd.getpwnam("nobody")


def as_nobody(fn):
    """Run fn() in a forked child with nobody's uid; return what it
    reports through a pipe (a repr of a tuple)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 0
        try:
            os.setgroups([])
            os.setgid(NOBODY.pw_gid)
            os.setuid(NOBODY.pw_uid)
            out = repr(fn())
        except Exception as e:  # noqa: BLE001
            out = repr(("exception", str(e)))
            code = 1
        os.write(w, out.encode())
        os._exit(code)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return eval(data.decode()) if data else ("nothing",)


def request(svc, build):
    def fn():
        sk = svc.connect()
        req = rpc.criu_req()
        extra = build(req) or b""
        sk.send(rpctest.req_bytes(req, extra))
        resp = rpctest.recv_resp(sk)
        sk.close()
        if resp is None:
            return ("closed",)
        return (resp.success, resp.cr_errno, resp.cr_errmsg, resp.type)
    return fn


svc = rpctest.Service()
# Images go to a directory nobody owns, so only the pid is in question.
imgdir = tempfile.mkdtemp(prefix="criu-rpc-nobody-")
os.chown(imgdir, NOBODY.pw_uid, NOBODY.pw_gid)
IMGDIR = rpctest.raw_field(68, imgdir)  # criu_opts.images_dir
TO_STDERR = rpctest.raw_field(71, True)  # criu_opts.log_to_stderr
target = subprocess.Popen(["sleep", "1000"])  # root-owned
mine = None
try:
    tap.ok(svc.ready, "service started")

    def dump_root(req):
        req.type = rpc.DUMP
        req.opts.images_dir_fd = -1
        req.opts.pid = target.pid
        return IMGDIR + TO_STDERR
    res = as_nobody(request(svc, dump_root))
    tap.ok(res[0] is False and res[1] == 1 and "may not act on pid %d" % target.pid in res[2],
           "nobody may not dump a root-owned pid: EPERM with a message", res)
    tap.ok(target.poll() is None, "the root-owned process is untouched")

    def pre_dump_root(req):
        extra = dump_root(req)
        req.type = rpc.SINGLE_PRE_DUMP
        return extra
    res = as_nobody(request(svc, pre_dump_root))
    tap.ok(res[0] is False and res[1] == 1, "nobody may not pre-dump a root-owned pid", res)

    def self_dump_with_root_opt(req):
        req.type = rpc.DUMP
        req.opts.images_dir_fd = -1
        req.opts.root = "/"
        return IMGDIR + TO_STDERR
    res = as_nobody(request(svc, self_dump_with_root_opt))
    tap.ok(res[0] is False and res[1] == 1 and "root" in res[2],
           "nobody may not use the root option", res)

    for field, setter in (("external", lambda r: r.opts.external.append("mnt[]")),
                          ("exec_cmd", lambda r: r.opts.exec_cmd.append("/bin/true")),
                          ("config_file", lambda r: setattr(r.opts, "config_file", "/etc/passwd")),
                          ("freeze_cgroup", lambda r: setattr(r.opts, "freeze_cgroup", "/sys/fs/cgroup"))):
        def build(req, setter=setter):
            req.type = rpc.CHECK
            req.opts.images_dir_fd = -1
            setter(req)
            return TO_STDERR
        res = as_nobody(request(svc, build))
        tap.ok(res[0] is False and res[1] == 1, "nobody may not use %s (EPERM)" % field, res)

    def restore(req):
        req.type = rpc.RESTORE
        req.opts.images_dir_fd = -1
        return IMGDIR + TO_STDERR
    res = as_nobody(request(svc, restore))
    tap.ok(res[0] is False and res[1] == 1, "nobody may not restore through the service", res)

    # A log file name planted as a symlink (or hard link) to a root file
    # in nobody's dir must not make criu write through it.
    victim = os.path.join(tempfile.mkdtemp(prefix="criu-rpc-victim-"), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, os.path.join(imgdir, "sym.log"))

    def planted(req, name):
        req.type = rpc.CHECK
        req.opts.images_dir_fd = -1
        req.opts.log_file = name
        return IMGDIR
    res = as_nobody(request(svc, lambda r: planted(r, "sym.log")))
    tap.ok(open(victim).read() == "precious\n" and res[0] is False,
           "a symlinked log file is refused, its target untouched", res)
    try:
        os.link(victim, os.path.join(imgdir, "hard.log"))
        res = as_nobody(request(svc, lambda r: planted(r, "hard.log")))
        tap.ok(open(victim).read() == "precious\n" and res[0] is False,
               "a hard-linked log file is refused, its target untouched", res)
    except OSError as e:
        tap.diag("no hard link across these dirs: %s" % e)
    res = as_nobody(request(svc, lambda r: planted(r, "own.log")))
    st = os.stat(os.path.join(imgdir, "own.log"))
    tap.ok(res[0] is True and st.st_uid == NOBODY.pw_uid,
           "a fresh log file in nobody's dir belongs to nobody", (res, st.st_uid))
    shutil.rmtree(os.path.dirname(victim), ignore_errors=True)

    def version(req):
        req.type = rpc.VERSION
    res = as_nobody(request(svc, version))
    tap.ok(res[0] is True, "nobody may ask for the VERSION", res)

    # A process of nobody's own passes the ownership check (the dump
    # itself may still fail for other reasons, but not with EPERM).
    mine = subprocess.Popen(["sleep", "1000"], user=NOBODY.pw_uid, group=NOBODY.pw_gid)

    def dump_mine(req):
        extra = dump_root(req)
        req.opts.pid = mine.pid
        req.opts.leave_running = True
        req.type = rpc.SINGLE_PRE_DUMP
        return extra
    res = as_nobody(request(svc, dump_mine))
    tap.ok(not (res[0] is False and res[1] == 1 and "may not act on" in res[2]),
           "nobody's own process passes the ownership check", res)

    def parent_elsewhere(req):
        extra = dump_mine(req)
        req.opts.parent_img = "/root"
        return extra
    res = as_nobody(request(svc, parent_elsewhere))
    tap.ok(res[0] is False and res[1] == 1 and "parent_img" in res[2],
           "nobody may not name a root-owned parent_img", res)
    tap.ok(svc.alive(), "the service is still running")
finally:
    target.kill()
    target.wait()
    if mine:
        mine.kill()
        mine.wait()
    svc.stop()
    shutil.rmtree(imgdir, ignore_errors=True)

tap.done()
