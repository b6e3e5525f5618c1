#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The task of self-dump.t: a Python process that dumps itself with
Debian's pycriu (criu.dump() with no pid, so pycriu starts criu swrk
detached and criu dumps the client), then says what the dump answered.

After its restore the process is back in criu.dump(), reading the answer
on its RPC socket: it must be success with dump.restored set. It writes
"restored" (or what it got instead) to the file given, and exits.
Usage: self-dump-task.py CRIU IMAGES_DIR RESULT_FILE
"""
import os
import sys

import pycriu

criu_bin, images, result = sys.argv[1:4]

c = pycriu.criu()
c.use_binary(criu_bin)
dfd = os.open(images, os.O_DIRECTORY)
c.opts.images_dir_fd = dfd
c.opts.log_file = "dump.log"
c.opts.log_level = 4
c.opts.leave_running = False
# Tell the runner we are about to dump ourselves.
sys.stdout.write("dumping pid %d\n" % os.getpid())
sys.stdout.flush()
try:
    resp = c.dump()
    what = "restored" if resp.HasField("restored") and resp.restored else "not restored: %s" % resp
except Exception as e:  # noqa: BLE001 - whatever happened is the answer
    what = "error: %s: %s" % (type(e).__name__, e)
with open(result, "w") as f:
    f.write(what + "\n")
