#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: `restore --auto-dedup` punches the restored pages out of the pages
# images (their size stays), once the task runs; a plain restore leaves
# them whole. Uses tests/cr/busyloop00. Needs root.
set -u

b=${top_builddir:-.}
criu=$b/criu
prog=$b/tests/cr/busyloop00
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi
echo "1..6"
work=$(mktemp -d /tmp/auto_dedup.XXXXXX)
pid=
size_before=0 size_after=0 blocks_after=0
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

run() { # dedup?
	local d=$work/run.$n
	mkdir -p "$d/img"
	# Only fds 0-2: the test harness's own (its log) must not go into the images.
	(cd "$d" && exec "$prog" --pidfile "$d/pid" --outfile "$d/out" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-) \
		</dev/null >/dev/null 2>&1 &
	for _ in $(seq 500); do [ -s "$d/pid" ] && break; sleep 0.02; done
	pid=$(cat "$d/pid")
	"$criu" dump -L "$b/plugindir" -t "$pid" -D "$d/img" -o dump.log -v4 || return 1
	# The runner reaps what it starts; here the shell does, through wait.
	wait 2>/dev/null
	for _ in $(seq 300); do [ -e /proc/"$pid" ] || break; sleep 0.01; done
	size_before=$(stat -c %s "$d"/img/pages-*.img | head -1)
	"$criu" restore -L "$b/plugindir" -D "$d/img" -d -o restore.log -v4 "$@" || return 1
	size_after=$(stat -c %s "$d"/img/pages-*.img | head -1)
	blocks_after=$(stat -c %b "$d"/img/pages-*.img | head -1)
	kill -USR1 "$pid"
	for _ in $(seq 500); do grep -q -e PASS -e FAIL "$d/out" 2>/dev/null && break; sleep 0.02; done
	grep -q PASS "$d/out"
}

check "restore without --auto-dedup" run
check "the pages image is whole" [ "$blocks_after" -gt 0 ]
check "its size is kept" [ "$size_after" = "$size_before" ]
pid=
check "restore --auto-dedup, the task runs on" run --auto-dedup
check "the pages image has no blocks left" [ "$blocks_after" = 0 ]
check "its size is kept" [ "$size_after" = "$size_before" ]
exit $((failed != 0))
