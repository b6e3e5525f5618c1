#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# --shell-job (-j), for real: util-linux's script runs a shell in a new
# session whose controlling terminal is a new pty, and keeps the master.
# The shell starts shell-job-task (stdout and stderr on the pty slave,
# session and group those of the shell, outside the dumped tree), dumps
# it without -j (must fail naming the tty fd), then with -j, restores it
# with -j -d, and the restored task must go on writing its count to the
# pty, as a member of criu's session. Last, criu without a terminal must
# refuse to restore it with -j. script copies what the master reads
# to pty.out, which is checked here. TAP. Needs root.
builddir=${top_builddir:-.}
criu=${CRIU:-$builddir/criu}
task=$builddir/tests/unit/shell-job-task
plugins=$builddir/plugindir

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $*"
}
show() {
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

echo "1..7"
if ! command -v script >/dev/null 2>&1; then
	not_ok "script (util-linux) not found"
	exit 1
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/noj" "$tmp/img"

cat >"$tmp/inner.sh" <<IN
"$task" &
pid=\$!
sleep 0.3
"$criu" dump -L "$plugins" -t \$pid -D "$tmp/noj" -o dump.log -v4
echo "NOJ-RC=\$?"
"$criu" dump -L "$plugins" -j -t \$pid -D "$tmp/img" -o dump.log -v4
echo "DUMP-RC=\$?"
echo "MARK-DUMPED"
sleep 0.3
"$criu" restore -L "$plugins" -j -d -D "$tmp/img" -o restore.log -v4 --pidfile "$tmp/pid"
echo "RESTORE-RC=\$?"
echo "MARK-RESTORED"
sleep 0.5
if [ -s "$tmp/pid" ]; then
	rpid=\$(cat "$tmp/pid")
	echo "SID \$(cut -d' ' -f6 /proc/\$rpid/stat) SHELL \$(cut -d' ' -f6 /proc/\$\$/stat)"
	kill -9 \$rpid
fi
kill -9 \$pid 2>/dev/null
exit 0
IN

script -q -c "sh $tmp/inner.sh" /dev/null >"$tmp/pty.out" 2>&1 </dev/null
tr -d '\r' <"$tmp/pty.out" >"$tmp/out"
out=$tmp/out

if grep -q "^NOJ-RC=0" "$out"; then
	not_ok "dump without -j refuses the tty"
	show "$out" "$tmp/noj/dump.log"
elif grep -q "devices: pid [0-9]* fd [012]: /dev/pts/[0-9]* is a pty slave whose master is not in the dumped tree.*--shell-job" "$tmp/noj/dump.log"; then
	ok "dump without -j refuses the tty, naming its fd and --shell-job"
else
	not_ok "dump without -j names the tty fd"
	show "$tmp/noj/dump.log"
fi
if grep -q "^DUMP-RC=0" "$out" && [ -s "$tmp/img/tty-info.img" ]; then
	ok "dump -j writes tty-info.img"
else
	not_ok "dump -j"
	show "$out" "$tmp/img/dump.log"
fi
if grep -q "^RESTORE-RC=0" "$out"; then
	ok "restore -j -d"
else
	not_ok "restore -j -d"
	show "$out" "$tmp/img/restore.log"
fi
# The count before the dump, and what the pty got after the restore.
last=$(sed -n '/^MARK-DUMPED/q;s/^tick \([0-9]*\)$/\1/p' "$out" | tail -n 1)
after=$(sed -n '/^MARK-RESTORED/,$s/^tick \([0-9]*\)$/\1/p' "$out")
first=$(echo "$after" | head -n 1)
if [ -n "$last" ] && [ -n "$first" ] && [ "$first" -gt "$last" ]; then
	ok "the restored task writes to the pty, counting on ($last, then $first)"
else
	not_ok "the restored task writes to the pty (before: '$last', after: '$first')"
	show "$out"
fi
if sed -n '/^MARK-DUMPED/,/^MARK-RESTORED/p' "$out" | grep -q "^tick 0$"; then
	not_ok "no new task started from 0"
else
	ok "no new task started from 0"
fi
sid=$(sed -n 's/^SID \([0-9]*\) SHELL \([0-9]*\)$/\1 \2/p' "$out")
if [ -n "$sid" ] && [ "${sid% *}" = "${sid#* }" ]; then
	ok "the restored task is in criu's session (${sid% *})"
else
	not_ok "the restored task is in criu's session ('$sid')"
	show "$out"
fi
# criu without a terminal (a new session, stdin not a tty) refuses -j.
sleep 0.2
setsid -w "$criu" restore -L "$plugins" -j -d -D "$tmp/img" -o restore2.log -v4 \
	</dev/null >/dev/null 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "needs criu to run on a terminal" "$tmp/img/restore2.log"; then
	ok "restore -j without a terminal is refused"
else
	not_ok "restore -j without a terminal is refused (exit $rc)"
	show "$tmp/img/restore2.log"
fi
exit $failed
