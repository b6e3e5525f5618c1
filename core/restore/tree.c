// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "fork the tree", criu's side. criu makes one report and
 * one go channel per task, forks the root, and from then on each task
 * forks its own children in its stage 1 (a session or group made by a
 * parent is inherited by fork; facts 5.3). Every new task says hello;
 * criu seizes it (live tasks only) and lets it go on. Then two barriers
 * over the whole tree:
 *
 *   1  every task exists, sessions are made, groups are led: the tasks
 *      join the process groups of others;
 *   2  every group is complete: helpers exit (their parents reap them),
 *      zombies die with their status, live tasks go on to plan their memory;
 *   3  every live task's stage 1 is over: the restorers may run (and close
 *      what tasks on one fd table share).
 *
 * A task that fails says why on its channel and exits; criu then kills
 * the whole tree (rst_tree_kill()).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criu/log.h>

#include "log/log.h"
#include "restore/restore.h"

/* criu holds 2 fds per task, and the root 2 more per task for a while. */
static void make_room_for_channels(size_t nr_tasks)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)nr_tasks * 4 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_warn("cannot raise the fd limit to %llu for %zu tasks: %s",
			(unsigned long long)rl.rlim_cur, nr_tasks, strerror(errno));
}

static int make_channels(struct rst_tree *t)
{
	make_room_for_channels(t->nr_tasks);
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];
		int rep[2], go[2];

		if (pipe2(rep, O_CLOEXEC)) {
			pr_perror("cannot create the report channel of pid %d", c->pid);
			return -errno;
		}
		if (pipe2(go, O_CLOEXEC)) {
			pr_perror("cannot create the go channel of pid %d", c->pid);
			close(rep[0]);
			close(rep[1]);
			return -errno;
		}
		c->report_rd = rep[0];
		c->report_wr = rep[1];
		c->go_rd = go[0];
		c->go_wr = go[1];
	}
	return 0;
}

/* The root took the tasks' ends with it: criu keeps its own, so EOF means gone. */
static void close_task_ends(struct rst_tree *t)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];

		if (c->report_wr >= 0)
			close(c->report_wr);
		if (c->go_rd >= 0)
			close(c->go_rd);
		c->report_wr = c->go_rd = -1;
	}
}

static int send_go(struct rst_ctx *c)
{
	char byte = 'g';

	if (write(c->go_wr, &byte, 1) != 1) {
		pr_perror("cannot let pid %d go on", c->pid);
		return -errno;
	}
	return 0;
}

/* A channel closed before the barrier: the task (or its parent) is gone. */
static int task_gone(struct rst_ctx *c)
{
	int status;

	if (c->seized && waitpid(c->child, &status, __WALL) == c->child) {
		c->child = 0;
		c->seized = false;
		if (WIFSIGNALED(status))
			pr_err("pid %d was killed by signal %d during restore", c->pid,
			       WTERMSIG(status));
		else
			pr_err("pid %d ended (status %#x) during restore", c->pid, status);
	} else if (!c->hello) {
		pr_err("pid %d was never created (its parent %d ended first)", c->pid,
		       c->parent ? c->parent->pid : 0);
	} else {
		pr_err("pid %d ended during restore", c->pid);
	}
	return -ECHILD;
}

/* A seized task that died or faulted without a word (a crash in stage 1). */
static int check_alive(struct rst_tree *t, int want)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];
		int status;

		if (c->barrier >= want || !c->seized || waitpid(c->child, &status, WNOHANG | __WALL) !=
								   c->child)
			continue;
		if (WIFSTOPPED(status)) {
			pr_err("pid %d stopped with signal %d in stage 1 of its restore", c->pid,
			       WSTOPSIG(status));
			return -ECHILD;
		}
		c->child = 0;
		c->seized = false;
		pr_err("pid %d ended (status %#x) in stage 1 of its restore", c->pid, status);
		return -ECHILD;
	}
	return 0;
}

/* The last NSpid of /proc/HOST[/task/TID]/status: the id in its own pid namespace. */
static pid_t inner_pid(const char *status_path)
{
	char line[256];
	pid_t v = -1;
	FILE *f = fopen(status_path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *last;

		if (strncmp(line, "NSpid:", 6))
			continue;
		last = strrchr(line, '\t');
		v = last ? (pid_t)atoi(last + 1) : -1;
		break;
	}
	fclose(f);
	return v;
}

/* Which child of HOST_PARENT (criu's view) is VPID in the new pid namespace. */
static pid_t host_pid_of(pid_t host_parent, pid_t vpid)
{
	char path[320], buf[4096];
	DIR *d;
	struct dirent *de;
	pid_t found = -1;

	snprintf(path, sizeof(path), "/proc/%d/task", host_parent);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		FILE *f;
		char *p, *end;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", host_parent, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
		for (p = buf; found < 0 && *p; p = end) {
			long h = strtol(p, &end, 10);

			if (end == p)
				break;
			snprintf(path, sizeof(path), "/proc/%ld/status", h);
			if (inner_pid(path) == vpid)
				found = (pid_t)h;
		}
	}
	closedir(d);
	return found;
}

pid_t rst_host_tid(const struct rst_ctx *c, size_t thread)
{
	if (!thread)
		return c->child > 0 ? c->child : c->pid;
	return c->htids ? c->htids[thread] : c->tids[thread];
}

int rst_map_host_tids(struct rst_ctx *c)
{
	char path[96];
	DIR *d;
	struct dirent *de;

	if (!c->tree || !c->tree->new_pidns || c->nr_threads < 2 || c->htids)
		return 0;
	c->htids = calloc(c->nr_threads, sizeof(*c->htids));
	if (!c->htids)
		return -ENOMEM;
	c->htids[0] = c->child;
	snprintf(path, sizeof(path), "/proc/%d/task", c->child);
	d = opendir(path);
	if (!d) {
		pr_perror("cannot list the threads of pid %d", c->child);
		return -errno;
	}
	while ((de = readdir(d))) {
		pid_t h = (pid_t)atoi(de->d_name), v;

		if (h <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", c->child, h);
		v = inner_pid(path);
		for (size_t i = 1; i < c->nr_threads; i++)
			if (c->tids[i] == v)
				c->htids[i] = h;
	}
	closedir(d);
	for (size_t i = 1; i < c->nr_threads; i++) {
		if (!c->htids[i]) {
			pr_err("thread %d of pid %d is not there", c->tids[i], c->pid);
			return -ESRCH;
		}
	}
	return 0;
}

/* Who the new task C is to criu: the same pid, or its pid outside the new pid namespace. */
static int find_task(struct rst_ctx *c)
{
	if (!c->parent)
		return 0; /* rst_fork() got it from clone3 */
	if (!c->tree->new_pidns) {
		c->child = c->pid;
		return 0;
	}
	c->child = host_pid_of(c->parent->child, c->pid);
	if (c->child <= 0) {
		c->child = 0;
		pr_err("cannot find pid %d of the new pid namespace among the children of %d",
		       c->pid, c->parent->child);
		return -ESRCH;
	}
	pr_info("pid %d of the new pid namespace is %d outside", c->pid, c->child);
	return 0;
}

/* One report of task C, before its memory: hello, barriers, or a failure. */
static int tree_report(struct rst_ctx *c, int want)
{
	struct rst_report r;
	char text[RST_REPORT_TEXT];
	int ret;

	ret = rst_read_report(c, &r, text);
	if (ret <= 0)
		return ret ? ret : task_gone(c);
	switch (r.kind) {
	case RST_REPORT_HELLO:
		if (c->hello) {
			pr_err("pid %d said hello twice", c->pid);
			return -EIO;
		}
		c->hello = true;
		ret = find_task(c);
		return ret ? ret : rst_seize_task(c);
	case RST_REPORT_BARRIER:
		if (r.arg != (uint64_t)want || !c->hello) {
			pr_err("pid %d reached barrier %llu out of turn (expected %d)", c->pid,
			       (unsigned long long)r.arg, want);
			return -EIO;
		}
		c->barrier = want;
		return 0;
	default:
		ret = rst_handle_report(c, &r, text);
		if (ret >= 0) {
			pr_err("pid %d sent report %d before its memory was restored", c->pid, r.kind);
			ret = -EIO;
		}
		return ret;
	}
}

/* Serve the tasks' reports until each has reached barrier WANT. */
static int wait_barrier(struct rst_tree *t, int want)
{
	struct pollfd *p;
	size_t *which;
	int ret = 0;

	p = calloc(t->nr_tasks, sizeof(*p));
	which = calloc(t->nr_tasks, sizeof(*which));
	if (!p || !which) {
		free(p);
		free(which);
		return -ENOMEM;
	}
	for (;;) {
		size_t n = 0;

		for (size_t i = 0; i < t->nr_tasks; i++) {
			/* Helpers and zombies end after barrier 2. */
			if (t->tasks[i].barrier >= want || (want > 2 && t->tasks[i].kind != RST_TASK_LIVE))
				continue;
			p[n].fd = t->tasks[i].report_rd;
			p[n].events = POLLIN;
			p[n].revents = 0;
			which[n++] = i;
		}
		if (!n)
			break;
		ret = poll(p, n, 200);
		if (ret < 0 && errno != EINTR) {
			ret = -errno;
			pr_perror("poll on the restore channels");
			break;
		}
		if (ret <= 0) {
			/* The ancestors hold a task's channel too: a crash shows only to waitpid. */
			ret = check_alive(t, want);
			if (ret)
				break;
			continue;
		}
		ret = 0;
		for (size_t k = 0; k < n && !ret; k++)
			if (p[k].revents)
				ret = tree_report(&t->tasks[which[k]], want);
		if (ret)
			break;
	}
	free(p);
	free(which);
	return ret;
}

static int go_all(struct rst_tree *t, bool live_only)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		int ret;

		if (live_only && t->tasks[i].kind != RST_TASK_LIVE)
			continue;
		ret = send_go(&t->tasks[i]);

		if (ret)
			return ret;
	}
	return 0;
}

int rst_tree_start(struct rst_tree *t)
{
	int ret;

	err_ctx_set_stage("fork");
	ret = make_channels(t);
	if (ret)
		return ret;
	ret = rst_fork(&t->tasks[0]);
	close_task_ends(t);
	if (!ret)
		ret = wait_barrier(t, 1);
	if (!ret)
		ret = go_all(t, false);
	if (!ret)
		ret = wait_barrier(t, 2);
	if (ret)
		return ret;
	/* Helpers and zombies end now (their pids are not ours to kill any more). */
	ret = go_all(t, false);
	if (!ret)
		ret = wait_barrier(t, 3);
	if (!ret)
		ret = go_all(t, true);
	pr_info("%zu tasks created", t->nr_tasks);
	return ret;
}

void rst_tree_kill(struct rst_tree *t)
{
	/* Kill them all first, so that no parent reaps or waits meanwhile, then reap. */
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];

		/* A helper or zombie let go at barrier 2 is gone, and its pid may be reused. */
		if (c->kind != RST_TASK_LIVE && c->barrier >= 2)
			c->child = 0;
		if (c->child > 0)
			kill(c->child, SIGKILL);
	}
	/*
	 * Children first: a dying parent (above all a pid namespace's init)
	 * waits for its traced children, whose ends criu has to take first.
	 */
	for (size_t i = t->nr_tasks; i-- > 0;)
		rst_kill_child(&t->tasks[i]);
}
