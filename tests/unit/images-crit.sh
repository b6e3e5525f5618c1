#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Debian's crit must read what we write: images-crit-gen writes a set of
# images of one task, `crit decode` must decode each one, and the decoded
# JSON must hold the values written; crit x must see them as one set.
# Also compares our magic table with crit's. TAP. crit is a build dependency (package criu): a missing crit
# fails the test.
builddir=${top_builddir:-.}
gen=$builddir/tests/unit/images-crit-gen
crit=${CRIT:-crit}
python=/usr/bin/python3

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

tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

# check FILE EXPR: decode FILE and evaluate the Python EXPR over the
# JSON: d is the whole image, e its entries.
check() {
	file=$1
	expr=$2
	if ! "$crit" decode -i "$tmp/$file" -o "$tmp/$file.json" 2>"$tmp/err"; then
		not_ok "crit decode $file"
		sed 's/^/# /' "$tmp/err"
		return
	fi
	ok "crit decode $file"
	if $python - "$tmp/$file.json" "$expr" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
e = d['entries']
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
		ok "$file: values as written"
	else
		not_ok "$file: values as written: $expr"
		head -c 3000 "$tmp/$file.json" | sed 's/^/# /'
		echo
	fi
}

if ! command -v "$crit" >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - crit not found: install the Debian package criu"
	exit 1
fi
ok "crit found: $(command -v "$crit")"

if "$gen" "$tmp"; then
	ok "images-crit-gen wrote the images"
else
	not_ok "images-crit-gen wrote the images"
	echo "1..$n"
	exit 1
fi

check inventory.img "d['magic'] == 'INVENTORY' and len(e) == 1 and e[0]['img_version'] == 2 and e[0]['fdinfo_per_id'] and e[0]['root_ids']['files_id'] == 2 and e[0]['root_ids']['time_ns_id'] == 12 and e[0]['ns_per_id'] and e[0]['dump_uptime'] == 123456789 and e[0]['network_lock_method'] == 1"
check pstree.img "d['magic'] == 'PSTREE' and e == [{'pid': 1, 'ppid': 0, 'pgid': 1, 'sid': 1, 'threads': [1, 2]}]"
check core-1.img "d['magic'] == 'CORE' and e[0]['mtype'] == 'X86_64' and e[0]['thread_info']['gpregs']['ip'] == 0x7f0000401136 and e[0]['thread_info']['gpregs']['orig_ax'] == 230 and e[0]['thread_info']['gpregs']['cs'] == 0x33 and e[0]['thread_info']['fpregs']['mxcsr'] == 0x1f80 and len(e[0]['thread_info']['fpregs']['xmm_space']) == 64 and e[0]['thread_info']['fpregs']['xsave']['xstate_bv'] == 7 and len(e[0]['thread_info']['tls']) == 3 and e[0]['thread_info']['tls'][2]['entry_number'] == 14 and e[0]['tc']['comm'] == 'sleep' and e[0]['tc']['rlimits']['rlimits'][7]['cur'] == 1024 and e[0]['tc']['sigactions'][1]['restorer'] == 0x7f0000402000 and e[0]['ids']['mnt_ns_id'] == 9 and e[0]['thread_core']['creds']['uid'] == 1000 and e[0]['thread_core']['creds']['groups'] == [1000, 27] and e[0]['thread_core']['rseq_entry']['signature'] == 0x53053053 and e[0]['thread_core']['seccomp_mode'] == 'disabled'"
check ids-1.img "d['magic'] == 'IDS' and e[0]['vm_id'] == 1 and e[0]['sighand_id'] == 4 and e[0]['cgroup_ns_id'] == 11"
check mm-1.img "d['magic'] == 'MM' and e[0]['mm_start_code'] == 0x400000 and e[0]['mm_brk'] == 0x1021000 and e[0]['exe_file_id'] == 7 and len(e[0]['vmas']) == 4 and e[0]['vmas'][2]['start'] == 0x7ffd0000 and e[0]['vmas'][0]['shmid'] == 7 and e[0]['vmas'][3]['fd'] == -1 and e[0]['mm_saved_auxv'][:2] == [33, 0x7ffd3000] and e[0]['dumpable'] == 1"
check pagemap-1.img "d['magic'] == 'PAGEMAP' and e[0] == {'pages_id': 1} and len(e) == 3 and e[1]['vaddr'] == 0x1000000 and e[1]['nr_pages'] == 3 and e[1]['flags'] == 4 and e[2]['vaddr'] == 0x7ffd1000 and e[2]['nr_pages'] == 1"
check fdinfo-2.img "d['magic'] == 'FDINFO' and [(x['fd'], x['id'], x['type']) for x in e] == [(0, 3, 'PIPE'), (1, 1, 'REG'), (2, 1, 'REG')] and e[2]['flags'] == 0o2000000"
check files.img "d['magic'] == 'FILES' and [(x['type'], x['id']) for x in e] == [('REG', 1), ('REG', 7), ('PIPE', 3), ('REG', 4), ('REG', 5)] and e[0]['reg']['name'] == '/var/log/app.log' and e[0]['reg']['pos'] == 4096 and e[0]['reg']['mnt_id'] == 25 and e[0]['reg']['size'] == 8192 and e[1]['reg']['name'] == '/usr/bin/sleep' and e[2]['pipe']['pipe_id'] == 424242 and e[4]['reg']['name'] == '/'"
check fs-1.img "d['magic'] == 'FS' and e == [{'cwd_id': 4, 'root_id': 5, 'umask': 0o22}]"
check stats-dump "d['magic'] == 'STATS' and e[0]['dump']['frozen_time'] == 35000 and e[0]['dump']['pages_scanned'] == 545 and e[0]['dump']['pages_written'] == 4"

# crit's explorer reads the images as a set: the tree with its core
# files, the fd tables through files.img and fs, the mappings through mm.
explore() {
	what=$1
	shift
	good=false
	if "$crit" x "$tmp" "$what" >"$tmp/x" 2>&1; then
		good=true
		for want in "$@"; do
			grep -q -- "$want" "$tmp/x" || good=false
		done
	fi
	if $good; then
		ok "crit x $what"
	else
		not_ok "crit x $what shows $*"
		sed 's/^/# /' "$tmp/x"
	fi
}
explore ps "1 *1 *1 *sleep"
explore fds "0: pipe\[424242\]" "1: /var/log/app.log" "cwd: /home/user" "root: /"
explore mems "exe *[ ]/usr/bin/sleep" "00400000-00402000 *r-x /usr/bin/sleep" "\[stack\]" "\[vdso\]"

# Our magic table against crit's; PIDFD is newer than Debian's crit.
if "$gen" --magics >"$tmp/magics" && $python - "$tmp/magics" <<'PY'; then
import sys
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from pycriu.images import magic
newer = {'PIDFD'}
bad = 0
ours = dict(l.split() for l in open(sys.argv[1]))
for name, val in ours.items():
    theirs = magic.by_name.get(name)
    if theirs is None:
        if name not in newer:
            print('# %s is not in crit' % name)
            bad = 1
    elif theirs != int(val, 16):
        print('# %s: ours %s, crit 0x%08x' % (name, val, theirs))
        bad = 1
for name in magic.by_name:
    if name not in ours and not name.startswith('CRTOOLS'):
        print('# crit has %s, we do not' % name)
        bad = 1
sys.exit(bad)
PY
	ok "every magic matches crit's table"
else
	not_ok "every magic matches crit's table"
fi

echo "1..$n"
exit $failed
