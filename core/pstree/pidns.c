// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ids a tree's tasks have in their own pid namespace. criu sees every
 * task by its pid in criu's namespace; the images hold the pids, groups,
 * sessions and thread ids the tasks see themselves (the last field of the
 * NSpid, NSpgid and NSsid lines of /proc/PID/status). A tree whose root is
 * the init (pid 1) of a pid namespace one level below criu's is restored
 * into a new one; a tree that is in another namespace but not its init,
 * or that spans namespaces, is refused with the reason.
 */
#define LOG_PREFIX "pstree: "
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "log/log.h"
#include "pstree/pstree.h"

#define NS_MAX_LEVELS 32

struct ns_ids {
	int levels;		       /* fields of NSpid */
	pid_t pid, pgid, sid;	       /* the innermost of each */
};

static int last_field(const char *line, int *count, pid_t *last)
{
	const char *p = strchr(line, ':');
	int n = 0;

	*last = 0;
	while (p && *++p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		*last = (pid_t)v;
		n++;
		p = end - 1;
	}
	*count = n;
	return n ? 0 : -EINVAL;
}

/* The ids of /proc/PID[/task/TID]/status in the task's own namespace. */
static int read_ns_ids(pid_t pid, pid_t tid, struct ns_ids *ids)
{
	char path[96], line[512];
	int n, got = 0;
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		int err = errno == ENOENT ? -ESRCH : -errno;

		pr_perror("cannot open %s", path);
		return err;
	}
	memset(ids, 0, sizeof(*ids));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NSpid:", 6) && !last_field(line, &ids->levels, &ids->pid))
			got |= 1;
		else if (!strncmp(line, "NSpgid:", 7) && !last_field(line, &n, &ids->pgid))
			got |= 2;
		else if (!strncmp(line, "NSsid:", 6) && !last_field(line, &n, &ids->sid))
			got |= 4;
	}
	fclose(f);
	if (!(got & 1)) {
		pr_err("%s has no NSpid line", path);
		return -EINVAL;
	}
	return 0;
}

static int own_levels(void)
{
	struct ns_ids self;

	return read_ns_ids(getpid(), 0, &self) ? -1 : self.levels;
}

int pstree_virtualize(struct pstree *t)
{
	struct ns_ids root, ids;
	int mine = own_levels(), ret;

	if (mine < 1)
		return -EINVAL;
	ret = read_ns_ids(t->items[0].pid, 0, &root);
	if (ret)
		return ret;
	if (root.levels == mine)
		return 0; /* criu's own namespace: the ids are the ones criu sees */
	if (root.levels != mine + 1 || root.pid != 1) {
		err_ctx_set_remedy("dump the init (pid 1) of the task's pid namespace instead");
		pr_err("pid %d is pid %d in a pid namespace %d level(s) below criu's; only a tree "
		       "whose root is the init of a namespace one level below can be dumped",
		       t->items[0].pid, root.pid, root.levels - mine);
		return -EOPNOTSUPP;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct pstree_item *it = &t->items[i];

		ret = read_ns_ids(it->pid, 0, &ids);
		if (ret)
			return ret;
		if (ids.levels != root.levels) {
			pr_err("pid %d is in another pid namespace than the root %d; nested pid "
			       "namespaces are not supported", it->pid, t->items[0].pid);
			return -EOPNOTSUPP;
		}
		it->vpid = ids.pid;
		it->pgid = ids.pgid;
		it->sid = ids.sid;
		it->vthreads = calloc(it->n_threads ? it->n_threads : 1, sizeof(*it->vthreads));
		if (!it->vthreads)
			return -ENOMEM;
		it->vthreads[0] = it->vpid;
		for (size_t k = 1; k < it->n_threads; k++) {
			ret = read_ns_ids(it->pid, it->threads[k], &ids);
			if (ret)
				return ret;
			it->vthreads[k] = ids.pid;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		t->items[i].ppid = t->items[i].parent < 0 ? 0 : t->items[t->items[i].parent].vpid;
	pr_info("the tree is pid namespace init %d (pid %d here) and its %zu descendant(s)",
		t->items[0].vpid, t->items[0].pid, t->n - 1);
	return 0;
}
