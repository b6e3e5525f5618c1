// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#define LOG_PREFIX "pstree: "
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "pstree.pb-c.h"

#include "dump/proc.h"
#include "pstree/freezer.h"
#include "pstree/pstree.h"

#define PSTREE_MAX_PASSES 5

static int list_threads(pid_t pid, pid_t **out, size_t *n)
{
	char path[64];
	struct dirent *de;
	pid_t *t = NULL;
	size_t nr = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		int err = errno == ENOENT ? -ESRCH : -errno;

		pr_perror("cannot open %s", path);
		return err;
	}
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name), *nt;

		if (tid <= 0)
			continue;
		nt = realloc(t, (nr + 1) * sizeof(*nt));
		if (!nt) {
			free(t);
			closedir(d);
			return -ENOMEM;
		}
		t = nt;
		t[nr++] = tid;
	}
	closedir(d);
	/* The leader first. */
	for (size_t i = 1; i < nr; i++)
		if (t[i] == pid) {
			t[i] = t[0];
			t[0] = pid;
		}
	*out = t;
	*n = nr;
	return 0;
}

/* Children of every thread (facts 1.4). */
static int count_children(pid_t pid, const pid_t *threads, size_t n, char *first, size_t len)
{
	int count = 0;

	first[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char name[64], buf[4096];

		snprintf(name, sizeof(name), "task/%d/children", threads[i]);
		if (proc_read_text(pid, name, buf, sizeof(buf)))
			continue;
		for (char *p = strtok(buf, " "); p; p = strtok(NULL, " ")) {
			if (!count)
				snprintf(first, len, "%s", p);
			count++;
		}
	}
	return count;
}

static int check_children(struct pstree_item *it)
{
	char child[32];
	int nc;

	nc = count_children(it->pid, it->threads, it->n_threads, child, sizeof(child));
	if (nc) {
		pr_err("pid %d has %d child process(es) (pid %s ...); dumping process trees is not "
		       "supported yet", it->pid, nc, child);
		return -EOPNOTSUPP;
	}
	return 0;
}

static bool known_thread(const struct pstree_item *it, pid_t tid)
{
	for (size_t i = 0; i < it->n_threads; i++)
		if (it->threads[i] == tid)
			return true;
	return false;
}

/*
 * Seize every thread of IT besides the leader. Threads may be created
 * while we seize (by threads not yet stopped), so scan again until a pass
 * finds nothing new (facts 1.5); threads that exit meanwhile are dropped.
 */
static int seize_threads(struct pstree_item *it, unsigned int timeout_s)
{
	for (int pass = 0; pass < PSTREE_MAX_PASSES; pass++) {
		pid_t *now = NULL;
		size_t n = 0;
		bool added = false;
		int ret;

		ret = list_threads(it->pid, &now, &n);
		if (ret)
			return ret;
		for (size_t i = 0; i < n; i++) {
			pid_t *nt;
			struct seized_task *ns;

			if (known_thread(it, now[i]))
				continue;
			nt = realloc(it->threads, (it->n_threads + 1) * sizeof(*nt));
			if (nt)
				it->threads = nt;
			ns = realloc(it->thr, (it->n_threads + 1) * sizeof(*ns));
			if (ns)
				it->thr = ns;
			if (!nt || !ns) {
				free(now);
				return -ENOMEM;
			}
			ret = infect_seize_thread(now[i], timeout_s, &it->thr[it->n_threads]);
			if (ret == -ESRCH)
				continue; /* it exited */
			if (ret) {
				free(now);
				return ret;
			}
			it->threads[it->n_threads++] = now[i];
			added = true;
		}
		free(now);
		if (!added)
			return 0;
	}
	pr_err("pid %d keeps creating threads; gave up after %d passes", it->pid, PSTREE_MAX_PASSES);
	return -EAGAIN;
}

int pstree_collect(pid_t root, unsigned int timeout_s, struct pstree *t)
{
	struct pstree_item *it;
	struct proc_stat st;
	int ret;

	memset(t, 0, sizeof(*t));
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	t->items = it;
	t->n = 1;
	it->pid = it->vpid = root;
	it->threads = malloc(sizeof(*it->threads));
	it->thr = calloc(1, sizeof(*it->thr));
	if (!it->threads || !it->thr) {
		ret = -ENOMEM;
		goto fail;
	}

	ret = infect_seize(root, timeout_s, &it->thr[0]);
	if (ret)
		goto fail;
	it->threads[0] = root;
	it->n_threads = 1;
	/* Read after seizing: now nothing changes under us. */
	ret = seize_threads(it, timeout_s);
	if (!ret)
		ret = check_children(it);
	if (!ret)
		ret = proc_read_stat(root, &st);
	if (ret)
		goto fail;
	it->ppid = 0;
	it->pgid = st.pgrp;
	it->sid = st.session;
	return 0;
fail:
	pstree_release(t, INFECT_DETACH_RESUME);
	pstree_free(t);
	return ret;
}

int pstree_release(struct pstree *t, enum infect_detach_mode mode)
{
	int ret = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct pstree_item *it = &t->items[i];

		if (!it->thr)
			continue;
		/* Killing: the leader's SIGKILL first, or its threads would wait forever. */
		if (mode == INFECT_DETACH_KILL && it->thr[0].attached && !it->thr[0].dead &&
		    kill(it->pid, SIGKILL)) {
			ret = ret ? ret : -errno;
			pr_perror("cannot kill pid %d", it->pid);
		}
		for (size_t k = it->n_threads; k-- > 0;) {
			int r = infect_detach(&it->thr[k], mode);

			ret = ret ? ret : r;
		}
	}
	return ret;
}

int pstree_write(const struct pstree *t, struct image *img)
{
	int ret = 0;

	for (size_t i = 0; i < t->n && !ret; i++) {
		const struct pstree_item *it = &t->items[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;
		uint32_t *thr = calloc(it->n_threads ? it->n_threads : 1, sizeof(*thr));

		if (!thr)
			return -ENOMEM;
		for (size_t k = 0; k < it->n_threads; k++)
			thr[k] = (uint32_t)it->threads[k];
		e.pid = (uint32_t)it->vpid;
		e.ppid = (uint32_t)it->ppid;
		e.pgid = (uint32_t)it->pgid;
		e.sid = (uint32_t)it->sid;
		e.n_threads = it->n_threads;
		e.threads = thr;
		ret = img_write_msg(img, &e.base);
		free(thr);
	}
	return ret;
}

void pstree_free(struct pstree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].threads);
		free(t->items[i].thr);
	}
	free(t->items);
	freezer_put(t->fz);
	memset(t, 0, sizeof(*t));
}
