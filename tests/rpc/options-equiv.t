#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every option row of the seed table that has an RPC field, set once
through each door: the command line, an INI config file, a raw RPC
request (criu swrk, driven with pycriu's rpc_pb2) and libcriu (the
lib-opts helper). The effective value must be the same four times.

CLI and INI values come from `criu ... --show-config`; RPC and libcriu
values from the effective-configuration block criu logs at -v4 at the
start of each request."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc  # noqa: E402

tap = rpctest.Tap()
LIB_OPTS = os.path.join(rpctest.TOP_BUILDDIR, "tests", "rpc", "lib-opts")

target = subprocess.Popen(["sleep", "1000"])
P = str(target.pid)


class Case:
    def __init__(self, row, action, cli, ini, rpc_set, lib, keys=None, rpc_extra=b""):
        self.row = row            # the seed table's option name
        self.action = action      # "dump" or "restore"
        self.cli = cli            # extra CLI arguments
        self.ini = ini            # INI lines for [global], or None (no INI form)
        self.rpc_set = rpc_set    # fn(opts, ctx) filling criu_opts
        self.rpc_extra = rpc_extra  # raw criu_opts fields pycriu lacks
        self.lib = lib            # [setter, args...] or None (no libcriu setter)
        self.keys = keys or [row]


def setattr_opt(name, value):
    return lambda o, c: setattr(o, name, value)


def flag(row, field, setter, action="dump", cli=None):
    return Case(row, action, cli or ["--" + row], [row + " = true"], setattr_opt(field, True),
                [setter, "1"])


def add_veth(o, c):
    v = o.veths.add()
    v.if_in, v.if_out = "eth0", "veth9"


def add_ext_mnt(o, c):
    m = o.ext_mnt.add()
    m.key, m.val = "/mnt/a", "ext-a"


def add_cg_root(o, c):
    r = o.cg_root.add()
    r.ctrl, r.path = "cpu", "/rpc-test"


def add_inherit_fd(o, c):
    i = o.inherit_fd.add()
    i.key, i.fd = "pipe[4242]", 7


def add_unix_sk(o, c):
    o.ext_unix_sk = True
    o.unix_sk_ino.add().inode = 4242


def set_ps(o, c):
    o.ps.address = "127.0.0.1"
    o.ps.port = 12345


def set_work_dir(o, c):
    o.work_dir_fd = c["work_fd"]


CASES = [
    Case("tree", "dump", [], ["tree = " + P], lambda o, c: None, ["criu_set_pid", P]),
    flag("leave-running", "leave_running", "criu_set_leave_running"),
    Case("leave-stopped", "dump", ["--leave-stopped"], ["leave-stopped = true"], lambda o, c: None, None,
         rpc_extra=rpctest.raw_field(69, True)),
    Case("images-dir", "dump", [], ["images-dir = @D"], lambda o, c: None, ["criu_set_images_dir_fd", "@D"]),
    Case("work-dir", "dump", ["-W", "@W"], ["work-dir = @W"], set_work_dir, ["criu_set_work_dir_fd", "@W"]),
    Case("log-file", "dump", ["-o", "eq.log"], ["log-file = eq.log"], setattr_opt("log_file", "eq.log"),
         ["criu_set_log_file", "eq.log"]),
    Case("root", "restore", ["--root", "/tmp"], ["root = /tmp"], setattr_opt("root", "/tmp"),
         ["criu_set_root", "/tmp"]),
    Case("ext-unix-sk", "dump", ["--ext-unix-sk=4242"], ["ext-unix-sk = 4242"], add_unix_sk,
         ["criu_add_unix_sk", "4242"]),
    flag("tcp-established", "tcp_established", "criu_set_tcp_established"),
    flag("evasive-devices", "evasive_devices", "criu_set_evasive_devices"),
    Case("veth-pair", "restore", ["--veth-pair", "eth0=veth9"], ["veth-pair = eth0=veth9"], add_veth,
         ["criu_add_veth_pair", "eth0", "veth9"]),
    flag("link-remap", "link_remap", "criu_set_link_remap"),
    flag("shell-job", "shell_job", "criu_set_shell_job"),
    flag("file-locks", "file_locks", "criu_set_file_locks"),
    Case("page-server", "dump", ["--page-server", "--address", "127.0.0.1", "--port", "12345"],
         ["page-server = true", "address = 127.0.0.1", "port = 12345"], set_ps,
         ["criu_set_page_server_address_port", "127.0.0.1", "12345"], keys=["page-server", "address", "port"]),
    Case("prev-images-dir", "dump", ["--prev-images-dir", "../parent"], ["prev-images-dir = ../parent"],
         setattr_opt("parent_img", "../parent"), ["criu_set_parent_images", "../parent"]),
    flag("track-mem", "track_mem", "criu_set_track_mem"),
    flag("auto-dedup", "auto_dedup", "criu_set_auto_dedup"),
    # The CLI adds to the default bits (as CRIU's); RPC sends the whole mask.
    Case("cpu-cap", "dump", ["--cpu-cap=none,fpu,cpu"], ["cpu-cap = none,fpu,cpu"], setattr_opt("cpu_cap", 3),
         ["criu_set_cpu_cap", "3"]),
    # Clients send 0xffffffff for "everything" (CRIU's IMAGE bit included).
    Case("cpu-cap=all", "dump", ["--cpu-cap=all"], ["cpu-cap = all"], setattr_opt("cpu_cap", 0xFFFFFFFF),
         ["criu_set_cpu_cap", "0xffffffff"], keys=["cpu-cap"]),
    flag("force-irmap", "force_irmap", "criu_set_force_irmap"),
    Case("exec-cmd", "restore", ["--exec-cmd", "--", "/bin/echo", "hi"], None,
         lambda o, c: o.exec_cmd.extend(["/bin/echo", "hi"]), ["criu_set_exec_cmd", "/bin/echo", "hi"]),
    Case("manage-cgroups", "dump", ["--manage-cgroups=full"], ["manage-cgroups = full"],
         setattr_opt("manage_cgroups_mode", rpc.FULL), ["criu_set_manage_cgroups_mode", "4"]),
    Case("cgroup-root", "restore", ["--cgroup-root", "cpu:/rpc-test"], ["cgroup-root = cpu:/rpc-test"],
         add_cg_root, ["criu_add_cg_root", "cpu", "/rpc-test"]),
    Case("inherit-fd", "restore", ["--inherit-fd", "fd[7]:pipe[4242]"], ["inherit-fd = fd[7]:pipe[4242]"],
         add_inherit_fd, ["criu_add_inherit_fd", "7", "pipe[4242]"]),
    Case("skip-mnt", "dump", ["--skip-mnt", "/mnt/skip"], ["skip-mnt = /mnt/skip"],
         lambda o, c: o.skip_mnt.append("/mnt/skip"), ["criu_add_skip_mnt", "/mnt/skip"]),
    Case("ext-mount-map", "dump", ["--ext-mount-map", "/mnt/a:ext-a"], ["ext-mount-map = /mnt/a:ext-a"],
         add_ext_mnt, ["criu_add_ext_mount", "/mnt/a", "ext-a"]),
    Case("enable-fs", "dump", ["--enable-fs", "ext4"], ["enable-fs = ext4"],
         lambda o, c: o.enable_fs.append("ext4"), ["criu_add_enable_fs", "ext4"]),
    flag("enable-external-sharing", "ext_sharing", "criu_set_ext_sharing"),
    flag("enable-external-masters", "ext_masters", "criu_set_ext_masters"),
    Case("network-lock", "dump", ["--network-lock", "nftables"], ["network-lock = nftables"],
         setattr_opt("network_lock", rpc.NFTABLES), ["criu_set_network_lock", "2"]),
    Case("restore-sibling", "restore", ["--restore-sibling"], ["restore-sibling = true"],
         setattr_opt("rst_sibling", True), None),
]


def subst(words, ctx):
    return [w.replace("@D", ctx["D"]).replace("@W", ctx["W"]) for w in words]


def base_args(case, ctx):
    args = [case.action, "-D", ctx["D"]]
    if case.action == "dump":
        args += ["-t", P]
    return args


def pick(cfg, keys):
    return {k: cfg.get(k, ["(not set)"]) for k in keys} if cfg is not None else None


def log_dir(case, ctx):
    return ctx["W"] if case.row == "work-dir" else ctx["D"]


def read_log(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def via_cli(case, ctx):
    env = dict(os.environ, HOME=ctx["D"])
    return pick(rpctest.show_config(base_args(case, ctx) + ["--no-default-config"] + subst(case.cli, ctx),
                                    env=env), case.keys)


def via_ini(case, ctx):
    conf = os.path.join(ctx["D"], "equiv.conf")
    with open(conf, "w") as f:
        f.write("[global]\n" + "\n".join(subst(case.ini, ctx)) + "\n")
    env = dict(os.environ, HOME=ctx["D"])
    return pick(rpctest.show_config(base_args(case, ctx) + ["--config", conf], env=env), case.keys)


def via_rpc(case, ctx):
    logname = "eq.log" if case.row == "log-file" else "rpc.log"
    logpath = os.path.join(log_dir(case, ctx), logname)
    if os.path.exists(logpath):
        os.unlink(logpath)
    req = rpc.criu_req()
    req.type = rpc.SINGLE_PRE_DUMP if case.action == "dump" else rpc.RESTORE
    req.opts.images_dir_fd = ctx["D_fd"]
    req.opts.log_level = 4
    req.opts.log_file = logname
    if case.action == "dump":
        req.opts.pid = target.pid
    case.rpc_set(req.opts, ctx)
    sk, proc = rpctest.swrk_socket()
    try:
        sk.send(rpctest.req_bytes(req, case.rpc_extra))
        ctx["rpc_resp"] = rpctest.recv_resp(sk, timeout=60)
    finally:
        sk.close()
        proc.wait(timeout=60)
    return pick(rpctest.effective_config(read_log(logpath)), case.keys)


def via_lib(case, ctx):
    logname = "eq.log" if case.row == "log-file" else "lib.log"
    logpath = os.path.join(log_dir(case, ctx), logname)
    if os.path.exists(logpath):
        os.unlink(logpath)
    action = "pre_dump" if case.action == "dump" else "restore"
    pid = P if case.action == "dump" else "0"
    p = subprocess.run([LIB_OPTS, rpctest.CRIU, action, ctx["D"], pid] + subst(case.lib, ctx),
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError("lib-opts: exit %d: %s" % (p.returncode, p.stderr.strip()))
    return pick(rpctest.effective_config(read_log(logpath)), case.keys)


def check_case(case):
    ctx = {"D": tempfile.mkdtemp(prefix="criu-eq-"), "W": tempfile.mkdtemp(prefix="criu-eq-w-")}
    ctx["D_fd"] = os.open(ctx["D"], os.O_DIRECTORY)
    ctx["work_fd"] = os.open(ctx["W"], os.O_DIRECTORY)
    try:
        cli = via_cli(case, ctx)
        baseline = pick(rpctest.show_config(base_args(case, ctx) + ["--no-default-config"],
                                            env=dict(os.environ, HOME=ctx["D"])), case.keys)
        if case.row not in ("tree", "images-dir"):
            tap.ok(cli != baseline, "%s: the command line changes the value (%s)" % (case.row, cli),
                   "baseline %s" % baseline)
        doors = [("INI", via_ini, case.ini), ("RPC", via_rpc, True), ("libcriu", via_lib, case.lib)]
        for door, fn, available in doors:
            if available is None:
                tap.diag("%s: no %s form in CRIU's interface" % (case.row, door))
                continue
            got = fn(case, ctx)
            tap.ok(got == cli, "%s: %s gives the same value as the command line" % (case.row, door),
                   "CLI %s\n%s %s\n%s" % (cli, door, got,
                                          ctx.get("rpc_resp", "") if door == "RPC" else ""))
    finally:
        os.close(ctx["D_fd"])
        os.close(ctx["work_fd"])
        shutil.rmtree(ctx["D"], ignore_errors=True)
        shutil.rmtree(ctx["W"], ignore_errors=True)


def rpc_check(opts_fn, d, env=None, service=None, extra=b""):
    """A CHECK request with options (swrk, or the given service)."""
    req = rpc.criu_req()
    req.type = rpc.CHECK
    req.opts.images_dir_fd = os.open(d, os.O_DIRECTORY)
    req.opts.log_level = 4
    opts_fn(req.opts)
    try:
        if service:
            sk, proc = service.connect(), None
        else:
            sk, proc = rpctest.swrk_socket(env=env)
        sk.send(rpctest.req_bytes(req, extra))
        resp = rpctest.recv_resp(sk, timeout=60)
        sk.close()
        if proc:
            proc.wait(timeout=60)
        return resp
    finally:
        os.close(req.opts.images_dir_fd)


def t_config_file():
    """criu_opts.config_file is read after the RPC options and overrides
    them, log-file included (CRIU's rule)."""
    d = tempfile.mkdtemp(prefix="criu-eq-conf-")
    try:
        conf = os.path.join(d, "rpc.conf")
        with open(conf, "w") as f:
            f.write("[global]\nshell-job = true\nlog-file = fromconf.log\n")

        def opts(o):
            o.shell_job = False
            o.log_file = "rpc.log"
            o.config_file = conf
        resp = rpc_check(opts, d)
        cfg = rpctest.effective_config(read_log(os.path.join(d, "fromconf.log")))
        tap.ok(resp is not None and cfg is not None and cfg.get("shell-job") == ["true"],
               "config_file overrides an RPC value and the log file", "%s\n%s" % (resp, cfg))

        def missing(o):
            o.config_file = os.path.join(d, "nonexistent.conf")
            o.log_file = "missing.log"
        resp = rpc_check(missing, d)
        tap.ok(resp is not None and not resp.success and resp.cr_errno == 56,
               "a config_file that does not exist is EBADRQC", resp)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def t_swrk_inherits_config():
    """swrk keeps what its own config files said ($CRIU_CONFIG_FILE); a
    service worker starts every request from the defaults."""
    d = tempfile.mkdtemp(prefix="criu-eq-env-")
    try:
        conf = os.path.join(d, "env.conf")
        with open(conf, "w") as f:
            f.write("[global]\ntcp-established = true\n")

        def opts(o):
            o.log_file = "swrk.log"
        rpc_check(opts, d, env={"CRIU_CONFIG_FILE": conf})
        cfg = rpctest.effective_config(read_log(os.path.join(d, "swrk.log")))
        tap.ok(cfg is not None and cfg.get("tcp-established") == ["true"],
               "swrk: $CRIU_CONFIG_FILE applies to requests", cfg)

        svc = rpctest.Service(env={"CRIU_CONFIG_FILE": conf})
        try:
            def opts2(o):
                o.log_file = "svc.log"
            rpc_check(opts2, d, service=svc)
            cfg = rpctest.effective_config(read_log(os.path.join(d, "svc.log")))
            tap.ok(cfg is not None and cfg.get("tcp-established") == ["false"],
                   "service: each request starts from the defaults", cfg)
        finally:
            svc.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def t_every_field():
    """Every criu_opts field pycriu knows, set at once: each converts
    (no field lacks a converter), and the request is answered."""
    d = tempfile.mkdtemp(prefix="criu-eq-all-")
    r, w = os.pipe()
    try:
        def fill(o):
            for f in o.DESCRIPTOR.fields:
                if f.name in ("images_dir_fd", "log_level", "config_file", "status_fd",
                              "pidfd_store_sk"):
                    continue
                if f.message_type is not None:
                    continue
                if f.label == f.LABEL_REPEATED:
                    getattr(o, f.name).append("x")
                elif f.enum_type is not None:
                    setattr(o, f.name, f.enum_type.values[-1].number)
                elif f.type == f.TYPE_BOOL:
                    setattr(o, f.name, True)
                elif f.type == f.TYPE_STRING:
                    setattr(o, f.name, "x")
                else:
                    setattr(o, f.name, 1)
            o.log_file = "all.log"
            o.work_dir_fd = o.images_dir_fd
            o.status_fd = w
            o.ps.address = "127.0.0.1"
            o.ps.port = 1
            add_veth(o, None)
            add_ext_mnt(o, None)
            add_cg_root(o, None)
            add_inherit_fd(o, None)
            o.unix_sk_ino.add().inode = 1
            j = o.join_ns.add()
            j.ns, j.ns_file = "net", "/proc/1/ns/net"
            o.empty_ns = 0x40000000  # CLONE_NEWNET
        resp = rpc_check(fill, d)
        log = read_log(os.path.join(d, "all.log"))
        tap.ok(resp is not None and "No converter" not in log and "rpc.proto does not have" not in log,
               "every criu_opts field converts", "%s\n%s" % (resp, log[-3000:]))
        tap.ok(resp is not None and resp.type == rpc.CHECK, "a request with every field is answered", resp)
    finally:
        os.close(r)
        os.close(w)
        shutil.rmtree(d, ignore_errors=True)


try:
    for case in CASES:
        rpctest.run_test(tap, case.row, check_case, case)
    for t in (t_config_file, t_swrk_inherits_config, t_every_field):
        rpctest.run_test(tap, t.__name__, t)
finally:
    target.kill()
    target.wait()

tap.done()
