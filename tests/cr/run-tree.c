// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process tree of a test, as /proc shows it: the test's pid and every
 * process below it (children, their children ...), zombies included, with
 * the fields a restore must bring back for each: parent, process group,
 * session, state and, for a zombie, its exit status. The runner is a
 * subreaper, so nothing of the tree escapes to pid 1; a process whose
 * parent died is the runner's child and no longer part of the tree.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"

/* Fields of /proc/PID/stat, after the ")" that ends the command name. */
int proc_stat(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[2048], *p, *save = NULL, *tok;
	int field = 3; /* the state is field 3 of stat(5) */
	FILE *f;

	memset(pi, 0, sizeof(*pi));
	pi->pid = pid;
	xsnprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')) || p[1] != ' ')
		return -EIO;
	for (tok = strtok_r(p + 2, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), field++) {
		switch (field) {
		case 3:
			pi->state = tok[0];
			break;
		case 4:
			pi->ppid = atoi(tok);
			break;
		case 5:
			pi->pgid = atoi(tok);
			break;
		case 6:
			pi->sid = atoi(tok);
			break;
		case 52:
			pi->exit_code = atoi(tok);
			break;
		}
	}
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/*
 * ROOT and its descendants into OUT (at most MAX), sorted by pid. Returns
 * how many, 0 when ROOT is gone.
 */
int list_tree(pid_t root, pid_t *out, int max)
{
	static struct { pid_t pid, ppid; } all[MAX_PROCS];
	int n_all = 0, n = 0, grown = 1;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((de = readdir(d)) && n_all < MAX_PROCS) {
		struct proc_info pi;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid > 0 && !proc_stat(pid, &pi)) {
			all[n_all].pid = pid;
			all[n_all++].ppid = pi.ppid;
		}
	}
	closedir(d);
	for (int i = 0; i < n_all; i++)
		if (all[i].pid == root)
			out[n++] = root;
	/* Add children of what we have until nothing new comes. */
	while (grown && n < max) {
		grown = 0;
		for (int i = 0; i < n_all && n < max; i++) {
			bool in = false, parent_in = false;

			for (int j = 0; j < n; j++) {
				in |= out[j] == all[i].pid;
				parent_in |= out[j] == all[i].ppid;
			}
			if (!in && parent_in) {
				out[n++] = all[i].pid;
				grown = 1;
			}
		}
	}
	qsort(out, (size_t)n, sizeof(*out), cmp_pid);
	return n;
}

/* The thread ids of PID, sorted, as one line. */
void snap_threads(FILE *out, pid_t pid)
{
	char path[64];
	pid_t tids[MAX_THREADS];
	struct dirent *de;
	int n = 0;
	DIR *d;

	xsnprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		fprintf(out, "threads unreadable\n");
		return;
	}
	while ((de = readdir(d)) && n < MAX_THREADS)
		if (de->d_name[0] != '.')
			tids[n++] = (pid_t)atoi(de->d_name);
	closedir(d);
	qsort(tids, (size_t)n, sizeof(*tids), cmp_pid);
	fprintf(out, "threads");
	for (int i = 0; i < n; i++)
		fprintf(out, " %d", tids[i]);
	fprintf(out, "\n");
}
