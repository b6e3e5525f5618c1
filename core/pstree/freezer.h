/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --freeze-cgroup PATH: seize the task through its freezer cgroup (facts
 * 1.11), so that nothing in the cgroup can run (or fork) while we attach.
 */
#ifndef CORE_PSTREE_FREEZER_H
#define CORE_PSTREE_FREEZER_H

#include <stdbool.h>
#include <sys/types.h>

#include "options/options.h"
#include "pstree/pstree.h"

struct freezer_cg {
	char *path;
	int version;	 /* 1: freezer.state, 2: cgroup.freeze */
	bool was_frozen; /* its state before we came */
};

/*
 * pstree_collect() of PID, through the freezer cgroup given by
 * --freeze-cgroup if there is one: freeze it, seize and interrupt the
 * task's threads in it, thaw it, then collect as usual. On failure the
 * cgroup is back in its original state and the task runs as before.
 */
int freezer_pstree_collect(struct options *o, pid_t pid, struct pstree *t);

/* Put the cgroup back in its original state (frozen or not) and free FZ. */
void freezer_put(struct freezer_cg *fz);

#endif /* CORE_PSTREE_FREEZER_H */
