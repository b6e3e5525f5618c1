#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP self-test of the C/R runner (tests/cr/run) against a fake criu, so
# the runner's own logic is checked without a working dump: leave-running
# keeps the task and collects its PASS, a dump that must fail is accepted
# only with a message naming pid, fd and plugin, a failed dump is a FAIL,
# and the summary line counts right. Needs root (the runner refuses
# otherwise); skipped without it.
set -u

b=${top_builddir:-.}
s=${top_srcdir:-.}
run=$b/tests/cr/run
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP the runner needs root"
	exit 0
fi

tmp=$(mktemp -d /tmp/runner-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# dump -R: succeed, leaving the task alone. Any other dump: fail, naming
# what the runner looks for ($1 = MSG selects the message).
cat >"$tmp/criu" <<'FAKE'
#!/bin/bash
args=" $* "
pid=$(sed -n 's/.* -t \([0-9]*\) .*/\1/p' <<<"$args")
case $args in
*" -R "*) exit 0 ;;
esac
if [ -f "${FAKE_MSG_FILE:-/nonexistent}" ]; then
	msg=$(cat "$FAKE_MSG_FILE")
	echo "Error: pid $pid: fd 37 (socket:[1]): ${msg}"
fi
exit 1
FAKE
chmod +x "$tmp/criu"

echo "1..5"

runner() {
	"$run" --criu "$tmp/criu" --srcdir "$s/tests/cr" --bindir "$b/tests/cr" \
		--workdir "$tmp/work" --timeout 30 "$@" >"$tmp/out" 2>&1
}

runner --variant leave-running busyloop00
rc=$?
if [ $rc = 0 ] && tail -n 1 "$tmp/out" | grep -qx '1 passed, 0 failed'; then
	ok "leave-running: the task keeps going and says PASS"
else
	not_ok "leave-running: the task keeps going and says PASS"
	sed 's/^/# /' "$tmp/out"
fi

echo "no loaded plugin handles it (the sockets plugin would)" >"$tmp/msg"
FAKE_MSG_FILE=$tmp/msg runner unsupported_fd00
rc=$?
if [ $rc = 0 ] && tail -n 1 "$tmp/out" | grep -qx '1 passed, 0 failed'; then
	ok "must-fail: a failed dump naming pid, fd and plugin passes"
else
	not_ok "must-fail: a failed dump naming pid, fd and plugin passes"
	sed 's/^/# /' "$tmp/out"
fi

echo "something went wrong" >"$tmp/msg"
FAKE_MSG_FILE=$tmp/msg runner unsupported_fd00
rc=$?
if [ $rc != 0 ] && grep -q 'does not name "sockets"' "$tmp/out"; then
	ok "must-fail: a message without the plugin's name is a FAIL"
else
	not_ok "must-fail: a message without the plugin's name is a FAIL"
	sed 's/^/# /' "$tmp/out"
fi

runner --variant default busyloop00 sleeping00
rc=$?
if [ $rc != 0 ] && tail -n 1 "$tmp/out" | grep -qx '0 passed, 2 failed' &&
	grep -q 'FAIL  busyloop00 (default): dump failed' "$tmp/out"; then
	ok "a failed dump is a FAIL, and the summary counts it"
else
	not_ok "a failed dump is a FAIL, and the summary counts it"
	sed 's/^/# /' "$tmp/out"
fi

# Nothing the runner started may be left: it kills and reaps everything.
sleep 0.2
if pgrep -f "$b/tests/cr/(busyloop00|sleeping00|unsupported_fd00)" >/dev/null; then
	not_ok "no test program left running"
	pgrep -af "$b/tests/cr/" | sed 's/^/# /'
else
	ok "no test program left running"
fi

[ $failed = 0 ]
