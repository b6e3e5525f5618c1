// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#define LOG_PREFIX "pstree: "
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "pstree.pb-c.h"

#include "dump/proc.h"
#include "pstree/pstree.h"

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

static int check_shape(struct pstree_item *it)
{
	char child[32];
	int nc;

	if (it->n_threads > 1) {
		pr_err("pid %d has %zu threads; dumping multi-threaded processes is not supported yet",
		       it->pid, it->n_threads);
		return -EOPNOTSUPP;
	}
	nc = count_children(it->pid, it->threads, it->n_threads, child, sizeof(child));
	if (nc) {
		pr_err("pid %d has %d child process(es) (pid %s ...); dumping process trees is not "
		       "supported yet", it->pid, nc, child);
		return -EOPNOTSUPP;
	}
	return 0;
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

	ret = infect_seize(root, timeout_s, &it->seized);
	if (ret)
		goto fail;
	/* Read after seizing: now nothing changes under us. */
	ret = list_threads(root, &it->threads, &it->n_threads);
	if (!ret)
		ret = check_shape(it);
	if (!ret)
		ret = proc_read_stat(root, &st);
	if (ret)
		goto fail;
	it->ppid = 0;
	it->pgid = st.pgrp;
	it->sid = st.session;
	return 0;
fail:
	infect_detach(&it->seized, INFECT_DETACH_RESUME);
	pstree_free(t);
	return ret;
}

int pstree_release(struct pstree *t, enum infect_detach_mode mode)
{
	int ret = 0;

	for (size_t i = 0; i < t->n; i++) {
		int r = infect_detach(&t->items[i].seized, mode);

		ret = ret ? ret : r;
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
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].threads);
	free(t->items);
	memset(t, 0, sizeof(*t));
}
