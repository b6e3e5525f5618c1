/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The process tree being dumped: which tasks, their pids, threads,
 * session and group, and their seize state.
 *
 * Today the tree is a root process (with all its threads) and no
 * children; the collection refuses children with a clear error. The
 * structure already has what a tree needs (parent links, vpids) so that
 * collecting children (facts 1.4, 1.5) fits in here.
 */
#ifndef CORE_PSTREE_PSTREE_H
#define CORE_PSTREE_PSTREE_H

#include <stddef.h>
#include <sys/types.h>

#include "images/image.h"
#include "infect/seize.h"

struct pstree_item {
	pid_t pid;		   /* as criu sees it */
	pid_t vpid;		   /* in the image (the same until pid namespaces) */
	pid_t ppid, pgid, sid;	   /* in the image; ppid is 0 for the root */
	pid_t *threads;		   /* thread ids, the leader first */
	struct seized_task *thr;   /* their seize state, in the same order */
	size_t n_threads;
	struct pstree_item *parent;
};

struct pstree {
	struct pstree_item *items; /* items[0] is the root */
	size_t n;
	struct freezer_cg *fz;	   /* --freeze-cgroup left frozen: refrozen by pstree_free() */
};

/*
 * Seize the tree rooted at ROOT, waiting up to TIMEOUT_S seconds for each
 * task to stop. On failure nothing stays seized.
 */
int pstree_collect(pid_t root, unsigned int timeout_s, struct pstree *t);

/*
 * Let every seized task go (see infect_detach()); returns the first error.
 * Threads go before their leader; with INFECT_DETACH_KILL the leader is
 * killed first and every thread's death is waited for.
 */
int pstree_release(struct pstree *t, enum infect_detach_mode mode);

/* pstree.img: one PstreeEntry per process, the root first. */
int pstree_write(const struct pstree *t, struct image *img);

/* Also puts a --freeze-cgroup cgroup back to its original state. */
void pstree_free(struct pstree *t);

#endif /* CORE_PSTREE_PSTREE_H */
