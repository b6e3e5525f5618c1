/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process tree being dumped: which tasks, their pids, threads,
 * session and group, and their seize state.
 *
 * The tree is the root process and every descendant (facts 1.4-1.6),
 * in depth-first pre-order (a parent before its children), the order
 * CRIU writes pstree.img in. Zombies are part of it: they cannot be
 * seized, so they are read from /proc alone and dumped as dead tasks.
 */
#ifndef CORE_PSTREE_PSTREE_H
#define CORE_PSTREE_PSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "images/image.h"
#include "infect/seize.h"

/* Scan passes per task before giving up on one that keeps forking (facts 1.5). */
#define PSTREE_MAX_PASSES 5

struct pstree_item {
	pid_t pid;		   /* as criu sees it */
	pid_t vpid;		   /* in the image (the same until pid namespaces) */
	pid_t ppid, pgid, sid;	   /* in the image; ppid is 0 for the root */
	pid_t *threads;		   /* thread ids, the leader first */
	pid_t *vthreads;	   /* in the image, when the tree has its own pid namespace */
	struct seized_task *thr;   /* their seize state, in the same order */
	size_t n_threads;
	long parent;		   /* index in pstree.items, -1 for the root */
	bool zombie;		   /* dead, waiting for its parent: not seized */
	int exit_code;		   /* a zombie's, stat field 52 (wait status) */
};

struct pstree {
	struct pstree_item *items; /* items[0] is the root */
	size_t n;
	struct freezer_cg *fz;	   /* --freeze-cgroup left frozen: refrozen by pstree_free() */
};

/*
 * Seize the tree rooted at ROOT: every thread of every descendant, found
 * through /proc/PID/task/TID/children, depth first, scanning each task
 * again until a pass finds nothing new (at most PSTREE_MAX_PASSES). Waits
 * up to TIMEOUT_S seconds for each task to stop. Refuses, naming the pid,
 * a task traced by someone else, one that does not stop in time, and a
 * zombie with children. On failure nothing stays seized.
 */
int pstree_collect(pid_t root, unsigned int timeout_s, struct pstree *t);

/*
 * Let every seized task go (see infect_detach()); returns the first error.
 * Threads go before their leader. With INFECT_DETACH_KILL every process of
 * the tree gets SIGKILL first (while all of them are still stopped, so no
 * one can fork or escape), then every death is waited for; otherwise
 * children are released before their parents.
 */
int pstree_release(struct pstree *t, enum infect_detach_mode mode);

/* pstree.img: one PstreeEntry per process, the root first. */
int pstree_write(const struct pstree *t, struct image *img);

/*
 * pidns.c: the ids the tasks have in their own pid namespace (vpid, ppid,
 * pgid, sid, vthreads), for a tree whose root is a pid namespace's init.
 */
int pstree_virtualize(struct pstree *t);

/* The thread id K of IT in the image. */
static inline pid_t pstree_vtid(const struct pstree_item *it, size_t k)
{
	return it->vthreads ? it->vthreads[k] : it->threads[k];
}

/* Also puts a --freeze-cgroup cgroup back to its original state. */
void pstree_free(struct pstree *t);

#endif /* CORE_PSTREE_PSTREE_H */
