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
 *      zombies die with their status, live tasks go on to their memory.
 *
 * A task that fails says why on its channel and exits; criu then kills
 * the whole tree (rst_tree_kill()).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "restore: "
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
		return rst_seize_task(c);
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
			if (t->tasks[i].barrier >= want)
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

static int go_all(struct rst_tree *t)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		int ret = send_go(&t->tasks[i]);

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
		ret = go_all(t);
	if (!ret)
		ret = wait_barrier(t, 2);
	if (ret)
		return ret;
	/* Helpers and zombies end now; their parents reap the helpers. */
	for (size_t i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i].kind != RST_TASK_LIVE)
			t->tasks[i].child = 0;
	ret = go_all(t);
	pr_info("%zu tasks created", t->nr_tasks);
	return ret;
}

void rst_tree_kill(struct rst_tree *t)
{
	/* Kill them all first, so that no parent reaps or waits meanwhile, then reap. */
	for (size_t i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i].child > 0)
			kill(t->tasks[i].child, SIGKILL);
	for (size_t i = 0; i < t->nr_tasks; i++)
		rst_kill_child(&t->tasks[i]);
}
