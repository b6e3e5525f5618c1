#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run the RPC and libcriu tests (TAP programs) against a build tree and
# add up their results; the last line is "N passed, N failed".
# Usage: run.sh [TEST.t...]   (default: every tests/rpc/*.t)
# Environment: top_builddir, top_srcdir (make rpctest sets them).
set -uo pipefail

export top_builddir=${top_builddir:-.}
export top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
here=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
if [ $# -eq 0 ]; then
	set -- "$here"/*.t
fi

for t in "$@"; do
	name=$(basename "$t")
	echo "=== $name"
	out=$(timeout 1200 "$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed "s/^/$name: /"
	p=$(grep -c '^ok ' <<<"$out")
	f=$(grep -c '^not ok ' <<<"$out")
	# A test that died (or timed out) without a failing line still failed.
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "$name: exited with status $rc"
	fi
	if ! grep -q '^1\.\.[0-9]' <<<"$out"; then
		f=$((f + 1))
		echo "$name: no TAP plan (the test did not finish)"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
