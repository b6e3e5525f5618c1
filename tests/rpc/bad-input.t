#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bad input against the server: garbage bytes, a truncated message, a
10 MiB message, an unknown request type, an empty packet, bad options.
Each connection is answered or closed; the service keeps serving the
others, and swrk never crashes."""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpctest  # noqa: E402
from rpctest import rpc  # noqa: E402

tap = rpctest.Tap()


def version_req():
    req = rpc.criu_req()
    req.type = rpc.VERSION
    return req


def answered_or_closed(sk):
    """'answer' (with the answer), 'closed', or 'silent' (a hang)."""
    try:
        resp = rpctest.recv_resp(sk, timeout=20)
    except socket.timeout:
        return "silent", None
    except Exception as e:  # a reset counts as closing
        return "closed", e
    return ("closed", None) if resp is None else ("answer", resp)


def good_version(svc):
    sk = svc.connect()
    try:
        rpctest.send_req(sk, version_req())
        resp = rpctest.recv_resp(sk)
        return resp is not None and resp.success and resp.version.major_number == 4
    finally:
        sk.close()


def big_send(sk, data):
    """Root may raise the send buffer past wmem_max; a message this big
    cannot be sent otherwise."""
    SO_SNDBUFFORCE = 32
    sk.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, len(data) * 2 + (1 << 20))
    sk.send(data)


def ten_mib(mode, connect):
    """Linux cannot queue a 10 MiB unix SEQPACKET packet (a packet is one
    skb of at most ~0.5 MiB), so the client's send fails and criu never
    sees it; if a kernel ever lets it through, criu must refuse it."""
    sk = connect()
    try:
        try:
            big_send(sk, rpctest.raw_field(2, b"\0" * (10 << 20)))
        except OSError as e:
            sk.send(rpctest.req_bytes(version_req()))
            resp = rpctest.recv_resp(sk)
            tap.ok(resp is not None and resp.success,
                   "%s: the kernel refuses a 10 MiB packet (%s); the connection still works" %
                   (mode, e.strerror))
            return
        how, resp = answered_or_closed(sk)
        tap.ok(how == "closed" or (how == "answer" and not resp.success),
               "%s: a 10 MiB message is refused (%s)" % (mode, how), resp)
    finally:
        sk.close()


full = version_req().SerializeToString()
opts_req = rpc.criu_req()
opts_req.type = rpc.CHECK
opts_req.opts.images_dir_fd = -1
opts_req.opts.log_file = "x" * 200
long_req = opts_req.SerializeToString()

CASES = [
    ("garbage bytes", lambda sk: sk.send(b"\xff\xfe\x00garbage\x13\x37" * 10)),
    ("a truncated message", lambda sk: sk.send(long_req[: len(long_req) // 2])),
    ("a message without its required type", lambda sk: sk.send(rpctest.raw_field(4, 1))),
    # The server is started with CRIU_RPC_MAX_REQ=65536 for this one.
    ("a message over the size limit", lambda sk: big_send(sk, rpctest.raw_field(2, b"\0" * (256 << 10)))),
    ("an unknown request type 99", lambda sk: sk.send(rpctest.varint(1 << 3) + rpctest.varint(99))),
]


def run_case(mode, connect, name, send, expect_answer=None):
    sk = connect()
    try:
        send(sk)
        how, resp = answered_or_closed(sk)
        ok = how != "silent"
        detail = "%s %s" % (how, resp)
        if how == "answer":
            ok = ok and not resp.success and resp.type == rpc.EMPTY
        if expect_answer and how != "answer":
            ok = False
        tap.ok(ok, "%s: %s is answered with an error or the connection closed (%s)" % (mode, name, how),
               detail)
    finally:
        sk.close()


LIMIT = {"CRIU_RPC_MAX_REQ": "65536"}
svc = rpctest.Service(env=LIMIT)
try:
    tap.ok(svc.ready, "service started")
    rpctest.run_test(tap, "service: 10 MiB", ten_mib, "service", svc.connect)
    tap.ok(svc.alive() and good_version(svc), "service: still serves others after a 10 MiB send")
    for name, send in CASES:
        rpctest.run_test(tap, "service: " + name, run_case, "service", svc.connect, name, send,
                         name.startswith("an unknown"))
        tap.ok(svc.alive() and good_version(svc), "service: still serves others after %s" % name)

    # A client that connects and goes away at once.
    sk = svc.connect()
    sk.close()
    # An empty packet.
    sk = svc.connect()
    sk.send(b"")
    how, _ = answered_or_closed(sk)
    tap.ok(how != "silent", "service: an empty packet ends that connection (%s)" % how)
    sk.close()
    tap.ok(svc.alive() and good_version(svc), "service: still serves after empty packets and hang-ups")

    # Bad options: answered with EBADRQC and a message, not a crash.
    sk = svc.connect()
    req = rpc.criu_req()
    req.type = rpc.CHECK
    req.opts.images_dir_fd = -1
    req.opts.log_file = "../escape.log"
    resp = rpctest.call(sk, req)
    sk.close()
    tap.ok(resp is not None and not resp.success and resp.cr_errno == 56 and "log_file" in resp.cr_errmsg,
           "service: a log_file with a '/' is refused with EBADRQC", resp)

    # A client fd that does not exist.
    sk = svc.connect()
    req = rpc.criu_req()
    req.type = rpc.CPUINFO_DUMP
    req.opts.images_dir_fd = 987
    resp = rpctest.call(sk, req)
    sk.close()
    tap.ok(resp is not None and not resp.success and resp.cr_errmsg != "",
           "service: a bad images_dir_fd is an error answer", resp)

    # A pid that does not exist: ESRCH.
    sk = svc.connect()
    req = rpc.criu_req()
    req.type = rpc.DUMP
    req.opts.images_dir_fd = -1
    req.opts.pid = 0x3ffffff0
    req.opts.log_file = "esrch.log"
    sk.send(rpctest.req_bytes(req, rpctest.raw_field(68, svc.dir)))  # images_dir
    resp = rpctest.recv_resp(sk)
    sk.close()
    tap.ok(resp is not None and not resp.success and resp.cr_errno == 3,
           "service: DUMP of a pid that does not exist gives ESRCH", resp)
    tap.ok(svc.alive() and good_version(svc), "service: still serves at the end")
finally:
    svc.stop()

# swrk: the same bad input on its single connection; it must not crash.
for name, send in CASES:
    def connect():
        sk, proc = rpctest.swrk_socket(env=LIMIT)
        connect.proc = proc
        return sk
    rpctest.run_test(tap, "swrk: " + name, run_case, "swrk", connect, name, send,
                     name.startswith("an unknown"))
    try:
        rc = connect.proc.wait(timeout=20)
    except Exception:
        connect.proc.kill()
        rc = None
    tap.ok(rc is not None and rc >= 0, "swrk: exits (not killed by a signal) after %s (rc %s)" % (name, rc))

tap.done()
