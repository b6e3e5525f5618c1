#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `criu check` and `criu cpuinfo dump|check` from the command line: exit
# codes and the words CRIU prints, every --feature name, and a cpuinfo.img
# edited with Debian's crit (a build dependency: missing, the test fails)
# to claim a capability this CPU lacks. TAP. Needs root, as criu check does.
builddir=${top_builddir:-.}
criu=${CRIU:-$builddir/criu}
crit=${CRIT:-crit}

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
# expect STATUS DESCRIPTION: compare $rc with STATUS.
expect() {
	if [ "$rc" -eq "$1" ]; then ok "$2"; else not_ok "$2 (exit $rc, want $1)"; sed 's/^/# /' "$out"; fi
}
# has TEXT DESCRIPTION: $out contains TEXT (a fixed string).
has() {
	if grep -qF -- "$1" "$out"; then ok "$2"; else not_ok "$2 (no \"$1\")"; sed 's/^/# /' "$out"; fi
}

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

run() {
	"$criu" "$@" >"$out" 2>&1
	rc=$?
}

run check
expect 0 "criu check exits 0"
has "Looks good." "criu check says Looks good."

run check --feature list
expect 0 "--feature list exits 0"
cp "$out" "$tmp/names"
count=$(grep -c . "$tmp/names")
if [ "$count" -eq 45 ]; then ok "--feature list has 45 names"; else not_ok "--feature list has $count names"; fi

bad=""
for name in $(cat "$tmp/names"); do
	run check --feature "$name"
	case "$rc" in
	0) grep -qF "$name is supported" "$out" || bad="$bad $name(no-supported-line)" ;;
	1) grep -qF "$name is not supported" "$out" || bad="$bad $name(no-reason)" ;;
	*) bad="$bad $name(exit-$rc)" ;;
	esac
	grep -q "Unknown feature" "$out" && bad="$bad $name(unknown)"
done
if [ -z "$bad" ]; then ok "every --feature name answers"; else not_ok "--feature answers:$bad"; fi

run check --feature no_such_feature
expect 1 "an unknown feature exits 1"
has "Unknown feature no_such_feature" "an unknown feature is named"

run check --feature mem_dirty_track
if [ "$rc" -eq 0 ]; then
	if grep -qE "soft-dirty|uffd-wp" "$out"; then ok "mem_dirty_track says which mechanism"
	else not_ok "mem_dirty_track does not say which mechanism"; fi
else
	ok "mem_dirty_track not supported here # SKIP"
fi

for opt in --extra --experimental --all; do
	run check $opt
	if [ "$rc" -eq 0 ]; then
		has "Looks good." "check $opt: exit 0 with Looks good."
	elif [ "$rc" -eq 1 ]; then
		has "Looks good but some kernel features are missing" "check $opt: exit 1 with Looks good but"
	else
		not_ok "check $opt exits $rc"
	fi
done

run check --ms
expect 1 "--ms is refused"

mkdir "$tmp/img" "$tmp/empty"
run cpuinfo dump -D "$tmp/img"
expect 0 "cpuinfo dump exits 0"
if [ -s "$tmp/img/cpuinfo.img" ]; then ok "cpuinfo dump wrote cpuinfo.img"; else not_ok "no cpuinfo.img"; fi

run cpuinfo check -D "$tmp/img"
expect 0 "cpuinfo check of our own dump exits 0"
run cpuinfo check --cpu-cap=all -D "$tmp/img"
expect 0 "cpuinfo check --cpu-cap=all of our own dump exits 0"

"$crit" decode -i "$tmp/img/cpuinfo.img" -o "$tmp/cpuinfo.json" >"$out" 2>&1
rc=$?
expect 0 "crit decode reads cpuinfo.img"

# Claim Transmeta's "recovery" bit (word 2, bit 0), which no current CPU has.
mkdir "$tmp/edited"
/usr/bin/python3 - "$tmp/cpuinfo.json" "$tmp/edited.json" <<'EOF' >"$out" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
d["entries"][0]["x86_entry"][0]["capability"][2] |= 1
json.dump(d, open(sys.argv[2], "w"))
EOF
rc=$?
expect 0 "edit the decoded cpuinfo"
"$crit" encode -i "$tmp/edited.json" -o "$tmp/edited/cpuinfo.img" >"$out" 2>&1
rc=$?
expect 0 "crit encode writes the edited cpuinfo.img"

run cpuinfo check --cpu-cap=cpu -D "$tmp/edited"
expect 1 "--cpu-cap=cpu refuses a capability this CPU lacks"
has "word2(0x80860001 EDX):bit0" "the message names the capability"
run cpuinfo check --cpu-cap=none -D "$tmp/edited"
expect 0 "--cpu-cap=none accepts it"

run cpuinfo check -D "$tmp/empty"
expect 1 "cpuinfo check without cpuinfo.img exits 1"
has "cpuinfo.img" "the missing file is named"

echo "1..$n"
exit $failed
