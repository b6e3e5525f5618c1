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

/* Children of every thread of IT (facts 1.4), appended to *KIDS. */
static int list_children(const struct pstree_item *it, pid_t **kids, size_t *n)
{
	*kids = NULL;
	*n = 0;
	for (size_t i = 0; i < it->n_threads; i++) {
		char name[64], buf[8192];
		int ret;

		snprintf(name, sizeof(name), "task/%d/children", it->threads[i]);
		ret = proc_read_text(it->pid, name, buf, sizeof(buf));
		if (ret == -ENOENT || ret == -ESRCH)
			continue; /* a thread that exited before we seized it */
		if (ret) {
			free(*kids);
			return ret;
		}
		for (char *sp, *p = strtok_r(buf, " \n", &sp); p; p = strtok_r(NULL, " \n", &sp)) {
			pid_t *nk = realloc(*kids, (*n + 1) * sizeof(*nk));

			if (!nk) {
				free(*kids);
				return -ENOMEM;
			}
			*kids = nk;
			(*kids)[(*n)++] = atoi(p);
		}
	}
	return 0;
}

static bool known_pid(const struct pstree *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i].pid == pid)
			return true;
	return false;
}

/* A new, empty item at the end of T (pointers into T->items move). */
static struct pstree_item *add_item(struct pstree *t, pid_t pid, long parent)
{
	struct pstree_item *ni = realloc(t->items, (t->n + 1) * sizeof(*ni)), *it;

	if (!ni)
		return NULL;
	t->items = ni;
	it = &t->items[t->n];
	memset(it, 0, sizeof(*it));
	it->pid = it->vpid = pid;
	it->parent = parent;
	it->threads = malloc(sizeof(*it->threads));
	it->thr = calloc(1, sizeof(*it->thr));
	/* Counted even when half made, so that pstree_free() frees it. */
	t->n++;
	if (!it->threads || !it->thr)
		return NULL;
	it->threads[0] = pid;
	return it;
}

static int read_ids(struct pstree_item *it)
{
	struct proc_stat st;
	int ret;

	ret = proc_read_stat(it->pid, &st);
	if (ret)
		return ret;
	it->pgid = st.pgrp;
	it->sid = st.session;
	it->exit_code = st.exit_code;
	return 0;
}

/*
 * A zombie child (facts 1.6): not seizable, read from /proc alone. Its
 * children were handed to a reaper when it exited, so a zombie with
 * children means something we do not understand: refuse it, as CRIU does.
 */
static int add_zombie(struct pstree *t, pid_t pid, long parent)
{
	struct pstree_item *it = add_item(t, pid, parent);
	pid_t *kids;
	size_t nk;
	int ret;

	if (!it)
		return -ENOMEM;
	if (infect_dead_leader(pid)) {
		pr_err("pid %d (child of %d): its main thread has ended while other threads run on "
		       "(a dead thread-group leader); dumping such a process is not supported", pid,
		       t->items[parent].pid);
		return -EOPNOTSUPP;
	}
	it->zombie = true;
	it->n_threads = 1;
	it->thr[0].pid = pid; /* never attached: infect_detach() leaves it alone */
	ret = read_ids(it);
	if (!ret)
		ret = list_children(it, &kids, &nk);
	if (ret)
		return ret;
	free(kids);
	if (nk) {
		pr_err("zombie pid %d (child of %d) has %zu child process(es); cannot dump it", pid,
		       t->items[parent].pid, nk);
		return -EINVAL;
	}
	it->ppid = t->items[parent].vpid;
	pr_info("pid %d (child of %d) is a zombie, exit status %#x", pid, t->items[parent].pid,
		it->exit_code);
	return 0;
}

static int proc_state_of(pid_t pid, char *state)
{
	struct proc_stat st;
	int ret = proc_read_stat(pid, &st);

	if (ret)
		return ret;
	*state = st.state;
	return 0;
}

static int collect_item(struct pstree *t, size_t idx, unsigned int timeout_s);

/*
 * Take child PID of T->items[PARENT] into the tree, then its subtree
 * (depth first). Sets *ADDED when it became part of the tree.
 */
static int collect_child(struct pstree *t, long parent, pid_t pid, unsigned int timeout_s,
			 bool *added)
{
	struct pstree_item *it;
	struct proc_stat st;
	char state = 0;
	int ret;

	*added = false;
	ret = proc_state_of(pid, &state);
	if (ret == -ESRCH || ret == -ENOENT)
		return 0; /* gone (reaped) since the listing */
	if (ret)
		return ret;
	if (state == 'Z' || state == 'X') {
		*added = true;
		return add_zombie(t, pid, parent);
	}
	it = add_item(t, pid, parent);
	if (!it)
		return -ENOMEM;
	ret = infect_seize(pid, timeout_s, &it->thr[0]);
	if (ret == -ESRCH || ret == -EINVAL) {
		/* It died meanwhile: a zombie now, or reaped already. */
		t->n--;
		free(it->threads);
		free(it->thr);
		if (!proc_state_of(pid, &state) && (state == 'Z' || state == 'X')) {
			*added = true;
			return add_zombie(t, pid, parent);
		}
		return 0;
	}
	if (ret) {
		pr_err("cannot seize pid %d, a child of %d", pid, t->items[parent].pid);
		return ret;
	}
	it->n_threads = 1;
	/*
	 * The pid may have died and been reused between the listing and the
	 * seize (facts 1.5): what we hold must still be the parent's child.
	 */
	ret = proc_read_stat(pid, &st);
	if (ret)
		return ret;
	if (st.ppid != t->items[parent].pid) {
		pr_info("pid %d is no longer a child of %d (pid reused); leaving it alone", pid,
			t->items[parent].pid);
		infect_detach(&t->items[t->n - 1].thr[0], INFECT_DETACH_RESUME);
		t->n--;
		free(t->items[t->n].threads);
		free(t->items[t->n].thr);
		return 0;
	}
	t->items[t->n - 1].ppid = t->items[parent].vpid;
	*added = true;
	return collect_item(t, t->n - 1, timeout_s);
}

/*
 * IT is seized (its leader): seize its threads, then its children and
 * their subtrees, again and again until a pass finds nothing new.
 */
static int collect_item(struct pstree *t, size_t idx, unsigned int timeout_s)
{
	int ret;

	ret = seize_threads(&t->items[idx], timeout_s);
	if (!ret)
		ret = read_ids(&t->items[idx]);
	if (ret)
		return ret;
	for (int pass = 0; pass < PSTREE_MAX_PASSES; pass++) {
		bool any = false;
		pid_t *kids;
		size_t nk;

		ret = list_children(&t->items[idx], &kids, &nk);
		if (ret)
			return ret;
		for (size_t k = 0; k < nk && !ret; k++) {
			bool added;

			if (known_pid(t, kids[k]))
				continue;
			ret = collect_child(t, (long)idx, kids[k], timeout_s, &added);
			any |= added;
		}
		free(kids);
		if (ret)
			return ret;
		if (!any)
			return 0;
	}
	pr_err("pid %d keeps creating child processes; gave up after %d passes",
	       t->items[idx].pid, PSTREE_MAX_PASSES);
	return -EAGAIN;
}

int pstree_collect(pid_t root, unsigned int timeout_s, struct pstree *t)
{
	struct pstree_item *it;
	int ret;

	memset(t, 0, sizeof(*t));
	it = add_item(t, root, -1);
	if (!it) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = infect_seize(root, timeout_s, &it->thr[0]);
	if (ret)
		goto fail;
	it->n_threads = 1;
	/* Read after seizing: now nothing changes under us. */
	ret = collect_item(t, 0, timeout_s);
	if (ret)
		goto fail;
	t->items[0].ppid = 0;
	ret = pstree_virtualize(t);
	if (ret)
		goto fail;
	pr_info("seized a tree of %zu process(es) under pid %d", t->n, root);
	return 0;
fail:
	pstree_release(t, INFECT_DETACH_RESUME);
	pstree_free(t);
	return ret;
}

static int kill_tree(struct pstree *t)
{
	int ret = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct pstree_item *it = &t->items[i];

		if (it->zombie || !it->thr || !it->thr[0].attached || it->thr[0].dead)
			continue;
		if (kill(it->pid, SIGKILL)) {
			ret = ret ? ret : -errno;
			pr_perror("cannot kill pid %d", it->pid);
		}
	}
	return ret;
}

int pstree_release(struct pstree *t, enum infect_detach_mode mode)
{
	int ret = 0;

	/* All of them at once: a killed parent leaves no stopped child behind to escape. */
	if (mode == INFECT_DETACH_KILL)
		ret = kill_tree(t);
	/* Children before parents, so that a resumed parent finds its children as they were. */
	for (size_t i = t->n; i-- > 0;) {
		struct pstree_item *it = &t->items[i];

		if (!it->thr)
			continue;
		for (size_t k = it->n_threads; k-- > 0;) {
			int r = infect_detach(&it->thr[k], mode);

			ret = ret ? ret : r;
		}
	}
	if (mode == INFECT_DETACH_KILL) {
		pid_t *pids = calloc(t->n + 1, sizeof(*pids));
		size_t n = 0;

		for (size_t i = 0; pids && i < t->n; i++)
			if (!t->items[i].zombie && t->items[i].thr && t->items[i].thr[0].dead)
				pids[n++] = t->items[i].pid;
		if (pids)
			infect_wait_reaped(pids, n);
		free(pids);
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
			thr[k] = (uint32_t)pstree_vtid(it, k);
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
		free(t->items[i].vthreads);
		free(t->items[i].thr);
	}
	free(t->items);
	freezer_put(t->fz);
	memset(t, 0, sizeof(*t));
}
