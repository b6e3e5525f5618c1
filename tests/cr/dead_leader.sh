#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: a process whose main thread has ended while another thread runs on
# (a dead thread-group leader) is refused by dump with a message that
# says so, and it keeps running untraced. Needs root.
set -u

b=${top_builddir:-.}
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi
echo "1..3"
work=$(mktemp -d /tmp/dead_leader.XXXXXX)
"$b/tests/cr/dead_leader" >"$work/pid" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
prog=$!
trap 'kill -9 $prog 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 500); do [ -s "$work/pid" ] && break; sleep 0.02; done
pid=$(cat "$work/pid")
failed=0
if "$b/criu" dump -L "$b/plugindir" -t "$pid" -D "$work" -o dump.log -R >"$work/out" 2>&1; then
	echo "not ok 1 - dump of a dead leader fails"
	failed=1
else
	echo "ok 1 - dump of a dead leader fails"
fi
if grep -q "pid $pid: its main thread has ended while other threads run on" "$work/out"; then
	echo "ok 2 - the error says why"
else
	echo "not ok 2 - the error says why"
	sed 's/^/# /' "$work/out"
	failed=1
fi
tracer=$(awk '/^TracerPid:/ {print $2}' /proc/"$pid"/task/*/status | sort -u | tr '\n' ' ')
if [ -d /proc/"$pid" ] && [ "$tracer" = "0 " ]; then
	echo "ok 3 - the process runs on, untraced"
else
	echo "not ok 3 - the process runs on, untraced (tracers: $tracer)"
	failed=1
fi
exit $failed
