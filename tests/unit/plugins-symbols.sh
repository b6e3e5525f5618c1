#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Symbol hygiene (TAP). The criu executable exports the plugin SDK and
# nothing else: every dynamic symbol it defines is a cp_* function (or one
# of the few the toolchain always adds), and every CP_EXPORT function the
# SDK headers declare is among them, so a plugin never fails to load for a
# missing SDK function. Each plugin exports criu_plugin_descriptor only.
#
# Needs top_builddir and top_srcdir (set by `make check`).

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
criu="$top_builddir/criu"
plugindir="$top_builddir/plugindir"
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# Defined dynamic symbols of $1, one name a line. A versioned one
# (stdout@GLIBC_2.2.5) is a library's variable copied into the executable
# by a copy relocation, not something we export: leave those out.
exports() {
	nm -D --defined-only "$1" | awk 'NF >= 3 && $3 !~ /@/ { print $3 }' | sort -u
}

# What the toolchain defines in every executable, and what the sanitizers
# add to an instrumented one.
toolchain_symbol() {
	case "$1" in
	_IO_stdin_used | __data_start | data_start | _edata | _end | __bss_start | \
		_init | _fini | _start | main | __dso_handle | __libc_csu_init | __libc_csu_fini)
		return 0 ;;
	__asan_* | ___asan_* | __odr_asan* | __ubsan_* | __lsan_* | __sanitizer_*)
		return 0 ;;
	esac
	return 1
}

plugins=$(ls "$plugindir"/*.so 2>/dev/null)
nplugins=$(echo "$plugins" | grep -c . || true)
echo "1..$((2 + nplugins))"

if ! command -v nm >/dev/null 2>&1; then
	skip "criu exports only cp_* symbols" "nm not found"
	skip "criu exports every SDK function" "nm not found"
	for so in $plugins; do
		skip "$(basename "$so") exports only criu_plugin_descriptor" "nm not found"
	done
	exit 0
fi

syms=$(exports "$criu")
extra=""
for s in $syms; do
	case "$s" in
	cp_*) ;;
	*) toolchain_symbol "$s" || extra="$extra $s" ;;
	esac
done
if [ -z "$extra" ]; then
	ok "criu exports only cp_* symbols"
else
	echo "# criu exports symbols that are not part of the SDK:$extra"
	not_ok "criu exports only cp_* symbols"
fi

# Every function the SDK headers declare with CP_EXPORT.
declared=$(cat "$top_srcdir/include/criu/plugin.h" "$top_srcdir/include/criu/log.h" |
	tr '\n' ' ' | tr ';' '\n' | grep 'CP_EXPORT' |
	sed -n 's/.*[ *]\(cp_[a-z_0-9]*\)(.*/\1/p' | sort -u)
# What the core library defines at all: a declared function it lacks is
# not written yet, which is a TODO, not a link problem.
core_lib="$top_builddir/core/.libs/libcriu-core.a"
core_defs=$(nm --defined-only "$core_lib" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u)
missing=""
todo=""
for s in $declared; do
	echo "$syms" | grep -qx "$s" && continue
	if echo "$core_defs" | grep -qx "$s"; then
		missing="$missing $s"
	else
		todo="$todo $s"
	fi
done
if ! echo "$syms" | grep -q '^cp_'; then
	# main() does not load plugins yet, so the linker left the SDK out.
	skip "criu exports every SDK function" "criu exports no SDK function yet"
elif [ -n "$missing" ]; then
	# The core has them, but the linker left their objects out of criu:
	# refer to them (core/plugins/loader.c, sdk_functions).
	echo "# in the core library but not exported by criu:$missing"
	not_ok "criu exports every SDK function"
elif [ -n "$todo" ]; then
	n=$((n + 1))
	echo "not ok $n - criu exports every SDK function # TODO not written yet:$todo"
else
	ok "criu exports every SDK function ($(echo "$declared" | wc -l) declared)"
fi

for so in $plugins; do
	name=$(basename "$so")
	got=$(exports "$so" | tr '\n' ' ')
	if [ "$got" = "criu_plugin_descriptor " ]; then
		ok "$name exports only criu_plugin_descriptor"
	else
		echo "# $name exports: $got"
		not_ok "$name exports only criu_plugin_descriptor"
	fi
done
exit $failed
