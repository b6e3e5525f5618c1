#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A two-minute demo, as root on Debian 12: installs what is needed, builds
# criu, starts a small process that counts, dumps it (which stops it),
# restores it, and shows it counting on from where it was, with the same
# pid. Everything it starts is killed at the end.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-demo}
work=
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	if [ -n "$work" ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT

say() {
	printf '\n\033[1m>>> %s\033[0m\n' "$*"
}

show_tail() {
	echo "--- last lines of $1:"
	tail -n 20 "$1" 2>/dev/null || true
}

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: run as root (sudo $0): criu needs it" >&2
	exit 1
fi

say "Installing the Debian packages (scripts/setup-debian.sh)"
"$src/scripts/setup-debian.sh"

say "Building criu in $build"
"$src/scripts/build.sh" "$build" >"$build.log" 2>&1 || {
	show_tail "$build.log"
	exit 1
}
criu="$build/criu"
plugins="$build/plugindir"
echo "built $criu ($("$criu" --version 2>/dev/null | head -n 1 || echo '?'))"

work=$(mktemp -d /tmp/criu-demo.XXXXXX)
cat >"$work/counter.c" <<'PROG'
/* Counts twice a second into the file named by argv[1]; holds no fds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec half = { 0, 500000000 };
	unsigned long n = 0;
	char line[64];

	if (argc < 2)
		return 2;
	setsid();
	close_range(0, ~0U, 0); /* whatever the shell passed on */
	for (;;) {
		int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
		int len = snprintf(line, sizeof(line), "pid %d count %lu\n", getpid(), ++n);

		if (fd >= 0) {
			if (write(fd, line, len) != len)
				return 1;
			close(fd);
		}
		nanosleep(&half, NULL);
	}
}
PROG
cc -O2 -o "$work/counter" "$work/counter.c"

say "Starting a process that counts"
(cd "$work" && exec ./counter "$work/count.log") &
pid=$!
sleep 2
tail -n 3 "$work/count.log"
before=$(tail -n 1 "$work/count.log" | awk '{print $4}')

say "criu dump -t $pid (the process is stopped and its state saved)"
mkdir "$work/img"
if ! "$criu" dump -t "$pid" -D "$work/img" -o dump.log -v4 -L "$plugins"; then
	show_tail "$work/img/dump.log"
	exit 1
fi
{ wait "$pid"; } 2>/dev/null || true
echo "process $pid is gone: $(kill -0 "$pid" 2>/dev/null && echo still running || echo yes)"
echo "images:"
ls -l "$work/img" | sed 's/^/  /'
last=$(tail -n 1 "$work/count.log" | awk '{print $4}')
echo "it had counted to $last"
sleep 2

say "criu restore -d (the process comes back)"
if ! "$criu" restore -d -D "$work/img" -o restore.log -v4 -L "$plugins" --pidfile "$work/restored.pid"; then
	show_tail "$work/img/restore.log"
	exit 1
fi
restored=$(cat "$work/restored.pid")
echo "restored as pid $restored (was $pid)"
sleep 2
tail -n 4 "$work/count.log"
now=$(tail -n 1 "$work/count.log" | awk '{print $4}')
now_pid=$(tail -n 1 "$work/count.log" | awk '{print $2}')

say "Result"
if [ "$restored" = "$pid" ] && [ "$now_pid" = "$pid" ] && [ "$now" -gt "$last" ] && [ "$last" -ge "$before" ]; then
	echo "OK: pid $pid counted to $last, was dumped, restored, and went on to $now"
	status=0
else
	echo "NOT OK: counted to $last before the dump, $now after; pid $pid, restored $restored"
	status=1
fi

say "Cleaning up"
kill -KILL "$restored" 2>/dev/null || true
pid=$restored
exit $status
