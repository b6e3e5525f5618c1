#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Everything that proves criu works, on a fresh Debian 12, as root:
#   1. install the build and test dependencies (scripts/setup-debian.sh);
#   2. gcc build, unit tests (make check);
#   3. sanitizer build (ASan + UBSan), unit tests again;
#   4. clang build (everything compiles, tests included; not run);
#   5. C/R tests of the gcc build (make crtest), the default variant of
#      each under the sanitizer build too, RPC tests when the tree has
#      them (make rpctest).
# Every result is added up: TAP results of the unit tests (from automake's
# .trs files), the C/R runner's counts, the RPC counts, and one result
# per build. The last line is "N passed, N failed" (", N skipped" only
# when something skipped); the exit status is non-zero when anything
# failed.
#
# Environment: BUILD_ROOT (default: build-test in the source tree),
# JOBS, SKIP_SETUP=1, SKIP_SANITIZERS=1, SKIP_CLANG=1, SKIP_CR=1,
# CRTEST_ARGS (passed to the C/R runner).
set -uo pipefail

# Unit tests time out per test (tests/unit/tap.h); a loaded 2-core machine
# and the sanitizer build are slow, so give every test more room.
export TAP_TIMEOUT_SCALE=${TAP_TIMEOUT_SCALE:-4}

src=$(cd "$(dirname "$0")/.." && pwd)
root=${BUILD_ROOT:-$src/build-test}
jobs=${JOBS:-$(nproc)}
passed=0
failed=0
skipped=0
summary=()

note() {
	printf '\n=== %s\n' "$*"
}

# result NAME pass|fail|skip [DETAIL]
result() {
	case $2 in
	pass) passed=$((passed + 1)) ;;
	fail) failed=$((failed + 1)) ;;
	skip) skipped=$((skipped + 1)) ;;
	esac
	summary+=("$(printf '%-5s %s%s' "${2^^}" "$1" "${3:+: $3}")")
}

# add_counts LABEL "N passed, N failed[, N skipped]"
add_counts() {
	local p f s
	p=$(sed -n 's/.*\b\([0-9]\+\) passed.*/\1/p' <<<"$2")
	f=$(sed -n 's/.*\b\([0-9]\+\) failed.*/\1/p' <<<"$2")
	s=$(sed -n 's/.*\b\([0-9]\+\) skipped.*/\1/p' <<<"$2")
	if [ -z "$p" ] || [ -z "$f" ]; then
		result "$1" fail "no result line"
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + ${s:-0}))
	summary+=("$(printf '%-5s %s: %s' "$([ "$f" = 0 ] && echo OK || echo FAIL)" "$1" "$2")")
}

# Sum the TAP results automake's driver wrote into BUILD/**/*.trs.
add_tap() {
	local label=$1 build=$2 p f s trs
	trs=$(find "$build" -name '*.trs' 2>/dev/null)
	if [ -z "$trs" ]; then
		result "$label" fail "no test results (.trs) found"
		return
	fi
	# shellcheck disable=SC2086
	p=$(cat $trs | grep -cE '^:test-result: (PASS|XFAIL)')
	# shellcheck disable=SC2086
	f=$(cat $trs | grep -cE '^:test-result: (FAIL|XPASS|ERROR)')
	# shellcheck disable=SC2086
	s=$(cat $trs | grep -cE '^:test-result: SKIP')
	add_counts "$label" "$p passed, $f failed, $s skipped"
	# shellcheck disable=SC2086
	grep -lE '^:test-result: (FAIL|XPASS|ERROR)' $trs 2>/dev/null | while read -r t; do
		echo "--- failed: ${t%.trs}.log"
		tail -n 30 "${t%.trs}.log" 2>/dev/null
	done
}

# build NAME DIR [CONFIGURE-ARGS...]: configure and make; a result either way.
build() {
	local name=$1 dir=$2
	shift 2
	note "build $name: configure $*"
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! (cd "$dir" && "$src/configure" -q "$@") >"$dir.configure.log" 2>&1; then
		tail -n 30 "$dir.configure.log"
		result "build $name" fail "configure failed"
		return 1
	fi
	if ! make -C "$dir" -j"$jobs" >"$dir.make.log" 2>&1; then
		grep -E 'error|Error' "$dir.make.log" | head -n 30
		result "build $name" fail "make failed (see $dir.make.log)"
		return 1
	fi
	result "build $name" pass
}

# unit NAME DIR: make check, then count the TAP results.
unit() {
	note "unit tests ($1)"
	timeout 1800 make -C "$2" -j"$jobs" check </dev/null >"$2.check.log" 2>&1
	grep -E '^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):' "$2.check.log" | grep -v '^PASS' | head -n 50
	if [ -z "$(find "$2" -name '*.trs' -print -quit)" ]; then
		# Nothing ran: show why (usually a test that does not build).
		grep -E 'error|Error' "$2.check.log" | head -n 20
	fi
	add_tap "unit tests ($1)" "$2"
}

if [ "$(id -u)" != 0 ]; then
	echo "test.sh: run as root (sudo $0): the C/R tests dump and restore for real"
	echo "0 passed, 1 failed"
	exit 1
fi

if [ "${SKIP_SETUP:-}" != 1 ]; then
	note "setup"
	if ! "$src/scripts/setup-debian.sh"; then
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

note "autogen"
if ! (cd "$src" && ./autogen.sh) >/dev/null 2>&1; then
	(cd "$src" && ./autogen.sh)
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$root"

gcc_ok=0
if build gcc "$root/gcc" CC=gcc; then
	gcc_ok=1
	unit gcc "$root/gcc"
fi

san_ok=0
if [ "${SKIP_SANITIZERS:-}" != 1 ]; then
	if build sanitizers "$root/san" CC=gcc --enable-sanitizers; then
		san_ok=1
		unit sanitizers "$root/san"
	fi
fi

if [ "${SKIP_CLANG:-}" != 1 ]; then
	if build clang "$root/clang" CC=clang; then
		note "clang: compile the tests too"
		if make -C "$root/clang" -j"$jobs" check TESTS= >"$root/clang.check.log" 2>&1; then
			result "build clang (tests)" pass
		else
			grep -E 'error' "$root/clang.check.log" | head -n 30
			result "build clang (tests)" fail "see $root/clang.check.log"
		fi
	fi
fi

if [ "${SKIP_CR:-}" != 1 ] && [ $gcc_ok = 1 ]; then
	note "C/R tests"
	timeout 3600 make -C "$root/gcc" -s crtest CRTEST_ARGS="${CRTEST_ARGS:-}" </dev/null 2>&1 |
		tee "$root/crtest.log"
	add_counts "C/R tests" "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$root/crtest.log" | tail -n 1)"

	# Stage 1 of every restored task runs criu's own code: under ASan and
	# UBSan too, the default variant of each test (the other variants run
	# the same code paths in the gcc build above).
	if [ $san_ok = 1 ]; then
		note "C/R tests (sanitizers, default variant)"
		timeout 3600 make -C "$root/san" -s crtest CRTEST_ARGS="--variant default ${CRTEST_ARGS:-}" \
			</dev/null 2>&1 | tee "$root/crtest-san.log"
		add_counts "C/R tests (sanitizers)" \
			"$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$root/crtest-san.log" | tail -n 1)"
	fi

	if grep -q '^rpctest:' "$root/gcc/Makefile"; then
		note "RPC tests"
		timeout 1800 make -C "$root/gcc" -s rpctest </dev/null 2>&1 | tee "$root/rpctest.log"
		add_counts "RPC tests" "$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$root/rpctest.log" | tail -n 1)"
	fi
fi

note "summary"
printf '%s\n' "${summary[@]}"
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
