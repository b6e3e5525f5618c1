#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP: the dump side of process trees, with tests/cr/tree_dump00 (a tree
# of three levels with its own group and session, a child forked by a
# second thread, a zombie, a shared file offset, a shared fd table and shared anonymous memory). Checks the
# images with Debian's crit against what CRIU writes for such a tree,
# that dump -R, a failed dump (fault points) and a refused dump (a traced
# child) leave the whole tree running and untraced, that pre-dump and
# --freeze-cgroup work on trees, that the default dump kills the whole
# tree, and that the tree still passes its own checks after dump -R.
# The runner restores the tree (CR_TESTS). Needs root and crit.
set -u

b=${top_builddir:-.}
criu=$b/criu
prog=$b/tests/cr/tree_dump00
n=0
failed=0
kids=()

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP dumping needs root"
	exit 0
fi
if ! command -v crit >/dev/null; then
	echo "1..0 # SKIP crit (Debian package criu) is not installed"
	exit 0
fi

work=$(mktemp -d /tmp/tree_dump00.XXXXXX)
cleanup() {
	for p in "${kids[@]}"; do kill -9 "$p" 2>/dev/null; done
	[ -n "${tracer:-}" ] && kill -9 "$tracer" 2>/dev/null
	[ -n "${cg:-}" ] && { echo THAWED >"$cg/freezer.state"; rmdir "$cg"; } 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# Every descendant of $1 (children of each thread), depth first.
tree() {
	local p=$1 c
	echo "$p"
	for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done
}

# Start the program (in freezer cgroup $1 if given); sets root and pids.
start() {
	local d=$work/run.$n cgroup=${1:-}
	mkdir -p "$d"
	rm -f "$d/pid"
	(
		cd "$d" || exit 1
		[ -n "$cgroup" ] && echo $BASHPID >"$cgroup/cgroup.procs"
		exec "$prog" --pidfile "$d/pid" --outfile "$d/out"
	) </dev/null >/dev/null 2>&1 &
	for _ in $(seq 500); do [ -s "$d/pid" ] && break; sleep 0.02; done
	root=$(cat "$d/pid" 2>/dev/null)
	out=$d/out
	pids=$(tree "$root")
	kids+=($pids)
}

# Every process of the tree is still there, not traced, not stopped; the zombie is one.
all_running() {
	untraced && [ "$(echo "$pids" | wc -w)" = 7 ]
}

untraced() {
	local p st tr
	for p in $pids; do
		st=$(awk '/^State:/ {print $2}' /proc/"$p"/status 2>/dev/null)
		tr=$(awk '/^TracerPid:/ {print $2}' /proc/"$p"/status 2>/dev/null)
		case "$st" in
		R | S) [ "$tr" = 0 ] || { echo "# pid $p traced by $tr" >&2; return 1; } ;;
		Z) ;;
		*) echo "# pid $p is in state '$st'" >&2; return 1 ;;
		esac
	done
}

all_gone_but_zombies() {
	local p
	for _ in $(seq 300); do
		local left=0
		for p in $pids; do
			[ -e /proc/"$p" ] && [ "$(awk '/^State:/ {print $2}' /proc/"$p"/status 2>/dev/null)" != Z ] &&
				left=1
		done
		[ $left = 0 ] && return 0
		sleep 0.01
	done
	return 1
}

dump() { # dir, args...
	local d=$1
	shift
	mkdir -p "$d"
	"$criu" dump -L "$b/plugindir" -t "$root" -D "$d" -o dump.log -v4 "$@"
}

# crit checks of a dump of the tree, in Python: the picture of what CRIU writes.
check_images() {
	python3 - "$1" "$pids" <<'EOF'
import json, os, subprocess, sys

d, pids = sys.argv[1], [int(p) for p in sys.argv[2].split()]
def dec(name):
    out = subprocess.run(["crit", "decode", "-i", os.path.join(d, name), "--pretty"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["entries"]
def stat(p):
    s = open(f"/proc/{p}/stat").read()
    f = s[s.rindex(")") + 2:].split()
    return {"state": f[0], "ppid": int(f[1]), "pgid": int(f[2]), "sid": int(f[3]),
            "exit": int(f[49])}
err = []
def expect(cond, what):
    if not cond:
        err.append(what)

# pstree.img: every process, root first, parents before children, ids as /proc has them.
pst = dec("pstree.img")
expect([e["pid"] for e in pst] == pids, f"pstree pids {[e['pid'] for e in pst]} != {pids}")
seen = set()
for e in pst:
    st = stat(e["pid"])
    expect(e["ppid"] == (0 if e["pid"] == pids[0] else st["ppid"]), f"ppid of {e['pid']}")
    expect(e["ppid"] == 0 or e["ppid"] in seen, f"{e['pid']} before its parent")
    expect(e["pgid"] == st["pgid"] and e["sid"] == st["sid"], f"pgid/sid of {e['pid']}")
    thr = sorted(int(t) for t in os.listdir(f"/proc/{e['pid']}/task"))
    expect(e["threads"][0] == e["pid"] and sorted(e["threads"]) == thr, f"threads of {e['pid']}")
    seen.add(e["pid"])
sids = {e["sid"] for e in pst}
pgids = {e["pgid"] for e in pst}
expect(len(sids) == 2 and len(pgids) == 3, f"sessions {sids} groups {pgids}")

zombies = [p for p in pids if stat(p)["state"] == "Z"]
live = [p for p in pids if p not in zombies]
expect(len(zombies) == 1, f"zombies {zombies}")
for z in zombies:
    core = dec(f"core-{z}.img")[0]
    expect(core["mtype"] == "X86_64", "zombie mtype")
    expect(core["tc"]["task_state"] == 2, "zombie task_state")
    expect(core["tc"]["exit_code"] == 7 << 8 == stat(z)["exit"], "zombie exit_code")
    expect("thread_info" not in core and "thread_core" not in core, "zombie has registers")
    for img in ("mm", "ids", "fs", "pagemap"):
        expect(not os.path.exists(f"{d}/{img}-{z}.img"), f"{img}-{z}.img for the zombie")
for p in live:
    core = dec(f"core-{p}.img")[0]
    expect(core["tc"]["task_state"] in (1, "Alive"), f"task_state of {p}")
    for img in ("mm", "ids", "fs", "pagemap"):
        expect(os.path.exists(f"{d}/{img}-{p}.img"), f"{img}-{p}.img missing")

# The shared open file: one files.img entry, every process's fd 10 refers to it.
files = dec("files.img")
data = [f for f in files if f.get("reg") and f["reg"]["name"].endswith(".data")]
expect(len(data) == 1, f"{len(data)} files.img entries for the shared file")
ids = {p: dec(f"ids-{p}.img")[0] for p in live}
fids = sorted({i["files_id"] for i in ids.values()})
expect(len(fids) == 5, f"files_ids {fids}: root and C share one")
expect(ids[live[0]]["files_id"] == ids[live[-1]]["files_id"], "C's files_id is not root's")
expect(sorted(f for f in os.listdir(d) if f.startswith("fdinfo-")) ==
       sorted(f"fdinfo-{i}.img" for i in fids), "one fdinfo image per fd table")
for i in fids:
    fd10 = [e for e in dec(f"fdinfo-{i}.img") if e["fd"] == 10]
    expect(len(fd10) == 1 and data and fd10[0]["id"] == data[0]["id"], f"fd 10 in fdinfo-{i}")
# exact ids count once: no entry id twice
allids = [f["id"] for f in files]
expect(len(allids) == len(set(allids)), "files.img ids repeat")

# Shared anonymous memory: one shmid everywhere, its pages written once (pages 0, 2, 3).
shm = set()
for p in live:
    vmas = [v for v in dec(f"mm-{p}.img")[0]["vmas"]
            if "VMA_ANON_SHARED" in v["status"] and int(v["end"], 0) - int(v["start"], 0) == 4 * 4096]
    expect(len(vmas) == 1, f"{p}: {len(vmas)} 4-page shared anonymous VMAs")
    shm |= {v["shmid"] for v in vmas}
expect(len(shm) == 1, f"shmids {shm}")
for s in shm:
    pm = dec(f"pagemap-shmem-{s}.img")
    got = [(int(e["vaddr"], 0) // 4096, e["nr_pages"]) for e in pm[1:]]
    expect(got == [(0, 1), (2, 2)], f"pagemap-shmem-{s}: {got}")
    pages = os.path.getsize(f"{d}/pages-{pm[0]['pages_id']}.img")
    expect(pages == 3 * 4096, f"shmem pages image holds {pages} bytes")
shmem_imgs = [f for f in os.listdir(d) if f.startswith("pagemap-shmem-")]
expect(len(shmem_imgs) == 2, f"pagemap-shmem images {shmem_imgs}: the test's two shared areas")
inv = dec("inventory.img")[0]
expect(inv["root_ids"]["files_id"] == ids[live[0]]["files_id"], "inventory root_ids")
for e in err:
    print("# " + e)
sys.exit(1 if err else 0)
EOF
}

echo "1..20"

# 1-4: dump -R; the images; everyone runs on.
start
check "tree of 7 under $root" [ "$(echo $pids | wc -w)" = 7 ]
check "dump -R of the tree" dump "$work/d1" -R
check "images are what CRIU writes for the tree (crit)" check_images "$work/d1"
check "dump -R leaves the whole tree running, untraced" all_running

# 5-6: failures at the fault points leave the tree running and no images.
for f in dump-before-cure dump-before-release; do
	CRIU_FAULT=$f dump "$work/f.$f" -R >/dev/null 2>&1
	rc=$?
	r=0
	[ $rc != 0 ] && [ -z "$(ls "$work/f.$f" | grep -v dump.log)" ] && all_running && r=1
	check "CRIU_FAULT=$f: fails, removes its images, tree runs on" [ $r = 1 ]
done

# 7: pre-dump of the tree.
mkdir -p "$work/pre"
"$criu" pre-dump -L "$b/plugindir" -t "$root" -D "$work/pre" -o pre.log -v4
rc=$?
npm=$(ls "$work/pre" | grep -c '^pagemap-[0-9]*\.img$')
r=0
[ $rc = 0 ] && [ "$npm" = 6 ] && [ "$(ls "$work/pre" | grep -c '^pagemap-shmem-')" = 2 ] && all_running && r=1
check "pre-dump of the tree: a pagemap per live process ($npm), shmem once, tree runs on" [ $r = 1 ]

# 8: the tree still does its own checks after all that (shared offset, fd table, zombie).
kill -USR1 "$root"
for _ in $(seq 500); do grep -q -e PASS -e FAIL "$out" 2>/dev/null && break; sleep 0.02; done
check "the tree passes its own checks after dump -R" grep -q PASS "$out"
[ -f "$out" ] && grep FAIL "$out" | sed 's/^/# /'
wait "$root" 2>/dev/null

# 9-10: a child traced by someone else: refused, naming the pid and the tracer.
start
victim=$(echo $pids | awk '{print $4}')
python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(0x4206, int(sys.argv[1]), 0, 0):
    sys.exit(1)
time.sleep(600)' "$victim" &
tracer=$!
for _ in $(seq 500); do
	[ "$(awk '/^TracerPid:/ {print $2}' /proc/"$victim"/status)" = "$tracer" ] && break
	sleep 0.01
done
dump "$work/d2" -R >"$work/d2.out" 2>&1
rc=$?
r=0
[ $rc != 0 ] && grep -q "pid $victim is already traced by pid $tracer" "$work/d2/dump.log" && r=1
[ $r = 1 ] || grep Error "$work/d2/dump.log" | sed 's/^/# /'
check "a child traced by another is refused, naming pid and tracer" [ $r = 1 ]
kill -9 "$tracer"
wait "$tracer" 2>/dev/null
tracer=
sleep 0.1
check "the refused dump left the tree running" all_running

# 11-13: --freeze-cgroup (v1 freezer) on the tree.
fz=/sys/fs/cgroup/freezer
if [ -w "$fz" ] && mkdir "$fz/crtree.$$" 2>/dev/null; then
	cg=$fz/crtree.$$
	kill -9 $pids 2>/dev/null
	start "$cg"
	check "dump -R --freeze-cgroup of the tree" dump "$work/d3" -R --freeze-cgroup "$cg"
	check "images of the frozen tree (crit)" check_images "$work/d3"
	r=0
	[ "$(cat "$cg/freezer.state")" = THAWED ] && all_running && r=1
	check "cgroup thawed, tree running" [ $r = 1 ]
	kill -9 $pids 2>/dev/null
	wait 2>/dev/null
	rmdir "$cg" && cg=
else
	for i in 1 2 3; do ok "# SKIP no writable v1 freezer"; done
fi

# 14: --leave-stopped stops every live process of the tree (and they go on after SIGCONT).
start
dump "$work/d7" -s >/dev/null 2>&1
rc=$?
r=0
if [ $rc = 0 ]; then
	r=1
	for p in $pids; do
		st=$(awk '/^State:/ {print $2}' /proc/"$p"/status)
		tr=$(awk '/^TracerPid:/ {print $2}' /proc/"$p"/status)
		[ "$st" = T ] || [ "$st" = Z ] || r=0
		[ "$tr" = 0 ] || r=0
	done
	kill -CONT $pids
	sleep 0.1
	all_running || r=0
fi
check "dump -s leaves every process of the tree stopped, untraced" [ $r = 1 ]
kill -9 $pids 2>/dev/null

# 15-16: the default dump kills the whole tree.
start
check "dump (kill) of the tree" dump "$work/d4"
check "every process of the tree is gone" all_gone_but_zombies

# 17-18: a child sharing root's mm (clone(CLONE_VM)) is refused, before any infection.
kill -9 $pids 2>/dev/null
TREE_DUMP00_CLONE_VM=1 start
dump "$work/d6" -R >/dev/null 2>&1
rc=$?
r=0
[ $rc != 0 ] && grep -q "shares its memory with pid $root" "$work/d6/dump.log" &&
	! grep -q ": parasite at " "$work/d6/dump.log" && r=1
check "a child sharing root's mm is refused, naming both pids" [ $r = 1 ]
check "and the tree runs on, untraced ($(echo $pids | wc -w) processes)" untraced
kill -9 $pids 2>/dev/null

# 19-20: a vfork parent in the tree never stops for ptrace: refused after --timeout, naming it;
# the part of the tree seized before it is let go.
TREE_DUMP00_VFORK=1 start
vparent=
for _ in $(seq 500); do
	pids=$(tree "$root")
	for p in $pids; do
		[ -n "$(cat /proc/"$p"/task/*/children 2>/dev/null)" ] || continue
		[ "$(awk '/^State:/ {print $2}' /proc/"$p"/status)" = D ] && vparent=$p
	done
	[ -n "$vparent" ] && break
	sleep 0.01
done
kids+=($pids)
dump "$work/d5" -R --timeout 2 >/dev/null 2>&1
rc=$?
r=0
[ $rc != 0 ] && grep -q "pid $vparent did not stop within 2 s" "$work/d5/dump.log" && r=1
check "a task that does not stop (vfork parent $vparent) is refused after --timeout" [ $r = 1 ]
leftover=0
for p in $pids; do
	st=$(awk '/^State:/ {print $2}' /proc/"$p"/status 2>/dev/null)
	tr=$(awk '/^TracerPid:/ {print $2}' /proc/"$p"/status 2>/dev/null)
	[ "${tr:-0}" != 0 ] && leftover=1
	[ "$st" = t ] || [ "$st" = T ] && leftover=1
done
check "and nothing of the tree stays traced or stopped" [ $leftover = 0 ]

exit $((failed ? 1 : 0))
