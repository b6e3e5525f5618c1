#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libcriu as a client program sees it: build tests/rpc/libcriu-api.c
# against the installed-style headers with `pkg-config --cflags --libs
# criu` (the build tree's criu-uninstalled.pc), check the library's
# soname and that the program uses every exported symbol, then run it
# against our criu over swrk, a service socket and a given fd.

B=$(cd "${top_builddir:-.}" && pwd)
S=$(cd "${top_srcdir:-.}" && pwd)
n=0
failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

tmp=$(mktemp -d /tmp/criu-libcriu.XXXXXX)
svc=
cleanup() {
	[ -n "$svc" ] && kill "$svc" 2>/dev/null && wait "$svc" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

export PKG_CONFIG_PATH="$B/lib"
lib="$B/lib/.libs/libcriu.so"

pkg-config --exists criu
ok $? "pkg-config finds criu (criu-uninstalled.pc)"
[ "$(pkg-config --modversion criu)" = 4.2 ]
ok $? "criu.pc says version 4.2"

objdump -p "$lib" | grep -q 'SONAME *libcriu\.so\.2$'
ok $? "the soname is libcriu.so.2"

# A sanitized build's library needs the sanitizer runtime first.
san=
objdump -p "$lib" | grep NEEDED | grep -q asan && san="-fsanitize=address,undefined"
# shellcheck disable=SC2046
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror $san $(pkg-config --cflags criu) \
	-o "$tmp/libcriu-api" "$S/tests/rpc/libcriu-api.c" $(pkg-config --libs criu) 2>"$tmp/cc.err"
rc=$?
ok $rc "a client built with only criu.h and pkg-config compiles and links"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc.err"

nm -D --defined-only "$lib" | awk '$3 ~ /^criu_/ { print $3 }' | sort >"$tmp/exported"
# Functions are undefined (U) in the program; criu_lib_version is copied into it (B).
nm -D "$tmp/libcriu-api" | awk '$NF ~ /^criu_/ { sub(/@.*/, "", $NF); print $NF }' | sort -u >"$tmp/used"
[ "$(wc -l <"$tmp/exported")" = 142 ]
ok $? "libcriu exports 141 functions and criu_lib_version ($(wc -l <"$tmp/exported"))"
diff "$tmp/exported" "$tmp/used" >"$tmp/diff"
ok $? "the client uses every exported symbol"
sed 's/^/# /' "$tmp/diff"
nm -D --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^criu_/ && $3 !~ /^_/ { print $3 }' >"$tmp/extra"
[ ! -s "$tmp/extra" ]
ok $? "libcriu exports nothing else"
sed 's/^/# /' "$tmp/extra"

mkfifo "$tmp/ready"
"$B/criu" service --address "$tmp/criu.sock" -W "$tmp" -o service.log -v4 --status-fd 3 \
	3>"$tmp/ready" </dev/null &
svc=$!
head -c1 "$tmp/ready" >/dev/null
[ -S "$tmp/criu.sock" ]
ok $? "criu service is listening"

mkdir "$tmp/work"
(cd "$tmp/work" && LD_LIBRARY_PATH="$B/lib/.libs" "$tmp/libcriu-api" "$B/criu" "$tmp/criu.sock") \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
# Renumber the program's TAP lines after ours.
base=$n
awk -v base="$base" '
	/^(not )?ok [0-9]+/ { neg = ($1 == "not"); i = neg ? 3 : 2; $i = $i + base; print; next }
	/^1\.\./ { next }
	{ print "# " $0 }' "$tmp/out"
n=$((base + $(grep -cE '^(not )?ok [0-9]+' "$tmp/out")))
grep -q '^not ok' "$tmp/out" && failed=1
ok $rc "libcriu-api exits 0"
[ $rc = 0 ] || { sed 's/^/# /' "$tmp/err"; tail -20 "$tmp/work/"*.log 2>/dev/null | sed 's/^/# /'; }

# Dump and restore through libcriu: criu_dump(), criu_restore_child().
# shellcheck disable=SC2046
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror $san $(pkg-config --cflags criu) \
	-o "$tmp/libcriu-cr" "$S/tests/rpc/libcriu-cr.c" $(pkg-config --libs criu) 2>"$tmp/cc2.err"
rc=$?
ok $rc "the libcriu C/R client compiles and links"
[ $rc = 0 ] || sed 's/^/# /' "$tmp/cc2.err"
mkdir "$tmp/cr"
LD_LIBRARY_PATH="$B/lib/.libs" CRIU_LIBS_DIR="$B/plugindir" \
	"$tmp/libcriu-cr" "$B/criu" "$B/tests/cr/busyloop00" "$tmp/cr" >"$tmp/out2" 2>"$tmp/err2"
rc=$?
base=$n
awk -v base="$base" '
	/^(not )?ok [0-9]+/ { neg = ($1 == "not"); i = neg ? 3 : 2; $i = $i + base; print; next }
	/^1\.\./ { next }
	{ print "# " $0 }' "$tmp/out2"
n=$((base + $(grep -cE '^(not )?ok [0-9]+' "$tmp/out2")))
grep -q '^not ok' "$tmp/out2" && failed=1
ok $rc "libcriu-cr exits 0"
[ $rc = 0 ] || { sed 's/^/# /' "$tmp/err2"; tail -15 "$tmp/cr/"*.log 2>/dev/null | sed 's/^/# /'; }

# The same with the pages sent to a page server (criu_set_page_server_address_port).
mkdir "$tmp/cr-ps" "$tmp/ps"
port=$("$B/criu" page-server -D "$tmp/ps" --address 127.0.0.1 -d -o ps.log -v4 | sed -n 's/^Port: //p')
[ -n "$port" ]
ok $? "criu page-server -d picks a port and says it ($port)"
LD_LIBRARY_PATH="$B/lib/.libs" CRIU_LIBS_DIR="$B/plugindir" \
	"$tmp/libcriu-cr" "$B/criu" "$B/tests/cr/busyloop00" "$tmp/cr-ps" "$port" "$tmp/ps" >"$tmp/out3" 2>"$tmp/err3"
rc=$?
base=$n
awk -v base="$base" '
	/^(not )?ok [0-9]+/ { neg = ($1 == "not"); i = neg ? 3 : 2; $i = $i + base; print; next }
	/^1\.\./ { next }
	{ print "# " $0 }' "$tmp/out3"
n=$((base + $(grep -cE '^(not )?ok [0-9]+' "$tmp/out3")))
grep -q '^not ok' "$tmp/out3" && failed=1
ok $rc "libcriu-cr with a page server exits 0"
[ $rc = 0 ] || { sed 's/^/# /' "$tmp/err3"; tail -15 "$tmp/cr-ps/"*.log "$tmp/ps/"*.log 2>/dev/null | sed 's/^/# /'; }

echo "1..$n"
exit $failed
