#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Dump or restore one task through criu's RPC (swrk), for the runner's
`rpc` variant. It drives our criu with Debian's pycriu client, so the
request comes from a real CRIU client, not from our own code.

usage: rpc-cr.py dump|restore --criu PATH --dir DIR --pid PID
                 --pidfile FILE [--libdir DIR] [--inherit-fd K:KEY]...
Exit 0 on success; on failure print the RPC error and exit 1.
"""
import argparse
import os
import sys

import pycriu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["dump", "restore"])
    ap.add_argument("--criu", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--libdir")
    ap.add_argument("--inherit-fd", action="append", default=[],
                    help="K:KEY: criu's inherited fd K stands for KEY (restore)")
    args = ap.parse_args()

    if args.libdir:
        # RPC has no field for the plugin dir; criu reads it from here.
        os.environ["CRIU_LIBS_DIR"] = args.libdir

    c = pycriu.criu()
    c.use_binary(args.criu)
    dir_fd = os.open(args.dir, os.O_DIRECTORY)
    c.opts.images_dir_fd = dir_fd
    c.opts.log_level = 4
    c.opts.log_file = args.action + ".log"
    try:
        if args.action == "dump":
            c.opts.pid = args.pid
            c.dump()
        else:
            for spec in args.inherit_fd:
                fd, key = spec.split(":", 1)
                ifd = c.opts.inherit_fd.add()
                ifd.fd = int(fd)
                ifd.key = key
            resp = c.restore()
            with open(args.pidfile, "w") as f:
                f.write("%d\n" % resp.pid)
    except pycriu.CRIUException as e:
        print("rpc %s failed: %s" % (args.action, e), file=sys.stderr)
        return 1
    finally:
        os.close(dir_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
