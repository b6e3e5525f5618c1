// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the runner compares across a dump and restore: a snapshot of
 * what /proc shows of the task, as sorted lines, and the comparison that
 * allows the restored task a moment to settle.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* One /proc/PID/maps line, parsed. */
struct vma {
	unsigned long start, end, off;
	char perms[8], dev[16], path[PATH_MAX];
	unsigned long ino;
	bool valid;
};

static bool parse_vma(const char *line, struct vma *v)
{
	int pos = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &v->start, &v->end, v->perms, &v->off, v->dev, &v->ino, &pos) <
	    6)
		return false;
	xsnprintf(v->path, sizeof(v->path), "%s", line + pos);
	v->path[strcspn(v->path, "\n")] = '\0';
	/* Shared memory and deleted files get new inodes on restore. */
	if (strstr(v->path, "(deleted)") || !strncmp(v->path, "/SYSV", 5) || !strncmp(v->path, "/memfd:", 7))
		v->ino = 0;
	v->valid = true;
	return true;
}

static void print_vma(FILE *out, const struct vma *v)
{
	fprintf(out, "map %lx-%lx %s %lx %s %lu %s\n", v->start, v->end, v->perms, v->off, v->dev, v->ino, v->path);
}

static void snap_maps(FILE *out, pid_t pid)
{
	char path[64], line[PATH_MAX + 128];
	struct vma prev = { .valid = false }, cur;
	FILE *f;

	xsnprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(out, "maps unreadable\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!parse_vma(line, &cur))
			continue;
		/* A VMA may come back split or merged differently: compare ranges. */
		if (prev.valid && prev.end == cur.start && !strcmp(prev.perms, cur.perms) &&
		    !strcmp(prev.dev, cur.dev) && prev.ino == cur.ino && !strcmp(prev.path, cur.path) &&
		    (cur.ino == 0 || prev.off + (prev.end - prev.start) == cur.off)) {
			prev.end = cur.end;
			continue;
		}
		if (prev.valid)
			print_vma(out, &prev);
		prev = cur;
	}
	if (prev.valid)
		print_vma(out, &prev);
	fclose(f);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void snap_fds(FILE *out, pid_t pid)
{
	char path[PATH_MAX], link[PATH_MAX], line[256];
	int fds[4096], n = 0, i;
	struct dirent *de;
	DIR *d;

	xsnprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		fprintf(out, "fds unreadable\n");
		return;
	}
	while ((de = readdir(d)) && n < 4096)
		if (de->d_name[0] != '.')
			fds[n++] = atoi(de->d_name);
	closedir(d);
	qsort(fds, (size_t)n, sizeof(int), cmp_int);

	for (i = 0; i < n; i++) {
		char pos[64] = "", flags[64] = "", *b;
		ssize_t len;
		FILE *f;

		xsnprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fds[i]);
		len = readlink(path, link, sizeof(link) - 1);
		link[len > 0 ? len : 0] = '\0';
		/* socket:[INO] and pipe:[INO]: the inode is new after restore. */
		b = strchr(link, '[');
		if (b && (!strncmp(link, "socket:", 7) || !strncmp(link, "pipe:", 5)))
			strcpy(b, "[]");

		xsnprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fds[i]);
		f = fopen(path, "re");
		if (f) {
			while (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				if (!strncmp(line, "pos:", 4))
					xsnprintf(pos, sizeof(pos), "%s", line + 4 + strspn(line + 4, " \t"));
				else if (!strncmp(line, "flags:", 6))
					xsnprintf(flags, sizeof(flags), "%s", line + 6 + strspn(line + 6, " \t"));
			}
			fclose(f);
		}
		fprintf(out, "fd %d %s pos %s flags %s\n", fds[i], link, pos, flags);
	}
}

static void snap_link(FILE *out, pid_t pid, const char *what)
{
	char path[64], link[PATH_MAX];
	ssize_t len;

	xsnprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	fprintf(out, "%s %s\n", what, link);
}

/* The fields of /proc/PID/status that must survive C/R unchanged. */
static const char *const status_keys[] = {
	"Name",	  "Umask",  "Tgid",   "Pid",	    "PPid",    "TracerPid",	  "Uid",
	"Gid",	  "Groups", "NStgid", "NSpid",	    "NSpgid",  "NSsid",		  "Threads",
	"SigPnd", "ShdPnd", "SigBlk", "SigIgn",	    "SigCgt",  "CapInh",	  "CapPrm",
	"CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", NULL,
};

static void snap_status(FILE *out, pid_t pid, bool stopped)
{
	char path[64], line[1024];
	FILE *f;

	xsnprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(out, "status unreadable\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		for (int i = 0; status_keys[i]; i++) {
			if (!strcmp(line, status_keys[i])) {
				char *v = colon + 1;

				v += strspn(v, " \t");
				v[strcspn(v, "\n")] = '\0';
				/*
				 * A stopped task's queued SIGSTOP does nothing (SIGCONT
				 * discards it); the dump discards it, or queues one when
				 * it lets a stopped task go. Leave it out.
				 */
				if (stopped && (!strcmp(line, "SigPnd") || !strcmp(line, "ShdPnd"))) {
					fprintf(out, "status %s: %016llx\n", line,
						strtoull(v, NULL, 16) & ~(1ull << (SIGSTOP - 1)));
					continue;
				}
				fprintf(out, "status %s: %s\n", line, v);
			}
		}
	}
	fclose(f);
}

static void snap_file(FILE *out, pid_t pid, const char *what)
{
	char path[64], *buf, *line, *save = NULL;

	xsnprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	buf = read_file(path);
	if (!buf) {
		fprintf(out, "%s unreadable\n", what);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(out, "%s %s\n", what, line);
	free(buf);
}

/* Everything the runner compares of one live process, as lines. */
static void snapshot_one(FILE *out, pid_t pid, bool stopped)
{
	snap_status(out, pid, stopped);
	snap_threads(out, pid);
	snap_link(out, pid, "cwd");
	snap_link(out, pid, "root");
	snap_file(out, pid, "limits");
	snap_file(out, pid, "personality");
	snap_file(out, pid, "timers");
	snap_fds(out, pid);
	snap_maps(out, pid);
}

static const char *state_name(char st)
{
	switch (st) {
	case 'Z':
	case 'X':
		return "zombie";
	case 'T':
		return "stopped";
	case 't':
		return "traced";
	default:
		return "running"; /* R, S, D ... come and go */
	}
}

/* Copy TEXT to OUT with "[PID] " before every line. */
static void put_prefixed(FILE *out, pid_t pid, const char *text)
{
	while (*text) {
		size_t l = strcspn(text, "\n");

		fprintf(out, "[%d] %.*s\n", pid, (int)l, text);
		text += l + (text[l] ? 1 : 0);
	}
}

/*
 * Everything the runner compares, as lines, for ROOT and every process
 * below it: each line starts with the process's pid. A zombie shows its
 * ids and exit status only (the rest of /proc is gone). Caller frees.
 */
char *snapshot(pid_t root)
{
	static pid_t pids[MAX_PROCS];
	char *buf = NULL, *one;
	size_t len = 0, one_len;
	FILE *out, *m;
	int n = list_tree(root, pids, MAX_PROCS);

	if (!n)
		return NULL;
	out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct proc_info pi;

		if (proc_stat(pids[i], &pi)) {
			fprintf(out, "[%d] gone while looked at\n", pids[i]);
			continue;
		}
		fprintf(out, "[%d] ppid %d pgid %d sid %d %s\n", pi.pid, pi.ppid, pi.pgid, pi.sid,
			state_name(pi.state));
		if (pi.state == 'Z' || pi.state == 'X') {
			fprintf(out, "[%d] exit status %#x\n", pi.pid, pi.exit_code);
			continue;
		}
		one = NULL;
		one_len = 0;
		m = open_memstream(&one, &one_len);
		if (!m)
			continue;
		snapshot_one(m, pids[i], pi.state == 'T');
		fclose(m);
		put_prefixed(out, pids[i], one);
		free(one);
	}
	fclose(out);
	return buf;
}

/* Is LINE (up to its newline) one of the lines of TEXT? */
static bool has_line(const char *text, const char *line, size_t len)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == len && !memcmp(p, line, len))
			return true;
		p += l + (nl ? 1 : 0);
	}
	return false;
}

/* Count the lines only in A and only in B; print them ("-", "+") if PRINT. */
int diff_lines(const char *a, const char *b, const char *when, bool print)
{
	int n = 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? b : a, *other = pass ? a : b;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);

			if (!has_line(other, p, l)) {
				if (!print)
					return 1;
				if (n == 0)
					printf("    visible state differs %s (- before, + after):\n", when);
				if (n < 40)
					printf("    %c %.*s\n", pass ? '+' : '-', (int)l, p);
				n++;
			}
			p += l + (nl ? 1 : 0);
		}
	}
	if (print && n >= 40)
		printf("    ... %d differences in all\n", n);
	return n;
}

/*
 * The state right after a restore may not have settled: the restored
 * task may not have run yet (it re-enters sigsuspend, which swaps the
 * blocked mask, and takes the signals a timer sent meanwhile). So retry
 * for up to a second before calling a difference a failure.
 */
#define SETTLE_TRIES 20

/* Compare the live tree with SNAP; also require its root alive and untraced. */
int check_state(struct run *r, const char *snap, const char *when)
{
	char *now = NULL, st = '?';
	int ret = 0;

	for (int i = 0; i < SETTLE_TRIES; i++) {
		if (i)
			nap_ms(50);
		free(now);
		now = NULL;
		if (r->reaped || task_state(r->pid, &st) || st == 'Z' || st == 'X') {
			set_reason(r, "task %d is gone %s", r->pid, when);
			return -ESRCH;
		}
		/* Traced: criu has not let go yet. Stopped is compared like the rest. */
		if (st == 't')
			continue;
		now = snapshot(r->pid);
		if (!now) {
			set_reason(r, "cannot read /proc/%d %s", r->pid, when);
			return -ENOMEM;
		}
		if (!diff_lines(snap, now, when, false))
			goto out;
	}
	if (st == 't') {
		set_reason(r, "task %d is still traced %s", r->pid, when);
		ret = -EBUSY;
	} else {
		diff_lines(snap, now, when, true);
		set_reason(r, "visible state differs %s", when);
		ret = -EINVAL;
	}
out:
	free(now);
	return ret;
}

/*
 * The state before the dump, once it is stable: the pid file comes a
 * moment before the test reaches its wait (test_waitsig() changes the
 * blocked mask on the way), so take snapshots until two agree.
 */
char *stable_snapshot(pid_t pid)
{
	char *prev = snapshot(pid), *cur;

	for (int i = 0; prev && i < SETTLE_TRIES; i++) {
		nap_ms(50);
		cur = snapshot(pid);
		if (!cur || !diff_lines(prev, cur, "", false)) {
			free(prev);
			return cur;
		}
		free(prev);
		prev = cur;
	}
	return prev;
}
