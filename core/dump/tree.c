// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Walking the seized tree for dump and pre-dump: each live process in
 * turn is read (VMAs first, before our own mappings appear), infected,
 * dumped and cured, while every other process of the tree stays stopped.
 * What processes share (open files, fd tables, shared memory) is found
 * along the way in struct dump_ctx and written once.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include <criu/log.h>

#include "dump/dump.h"
#include "log/log.h"
#include "options/options.h"
#include "pstree/pstree.h"

/*
 * Named fault-injection points, chosen with CRIU_FAULT=name[,name...], so
 * the tests can prove that a late failure still cures the tasks, lets them
 * go as they were and removes the images (STYLE 3).
 */
int dump_fault(const char *name)
{
	const char *env = getenv("CRIU_FAULT");
	size_t len = strlen(name);

	for (const char *p = env; p && *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] ? 1 : 0)) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len])) {
			pr_err("fault injected at %s", name);
			return -EIO;
		}
	}
	return 0;
}

static int dump_tree_task(struct dump_ctx *dc, struct pstree_item *it, struct dump_task *dt,
			  dump_task_fn fn)
{
	struct infect_ctx ictx = { 0 };
	int ret, r;

	err_ctx_set_task(it->pid, it->pid);
	err_ctx_set_stage("collect memory areas");
	ret = mem_collect_vmas(it->pid, opt_bool(dc->o, OPT_ALLOW_UPROBES), &dt->vmas);
	if (!ret)
		ret = mem_collect_guards(it->pid, &dt->vmas);
	if (ret)
		return ret;

	err_ctx_set_stage("infect");
	ret = infect_init(&ictx, &it->thr[0]);
	if (!ret)
		ret = infect_parasite_start(&ictx);
	if (!ret)
		ret = fn(dc, it, &ictx, dt);
	if (!ret)
		ret = dump_fault("dump-before-cure");

	err_ctx_set_stage("cure");
	r = infect_cure(&ictx);
	return ret ? ret : r;
}

/*
 * Two processes of the tree with one mm (CLONE_VM without CLONE_THREAD, a
 * vfork child and its parent) cannot be dumped: refuse before infecting
 * anything, as patching one would patch the other.
 */
static int check_shared_mm(const struct pstree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->items[i].zombie)
			continue;
		for (size_t k = 0; k < i; k++) {
			if (t->items[k].zombie ||
			    syscall(SYS_kcmp, t->items[i].pid, t->items[k].pid, KCMP_VM, 0, 0))
				continue;
			pr_err("pid %d shares its memory with pid %d (CLONE_VM without CLONE_THREAD, "
			       "or vfork); such trees cannot be dumped", t->items[i].pid,
			       t->items[k].pid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int dump_tree_each(struct dump_ctx *dc, struct pstree *t, struct dump_task *dts, dump_task_fn fn)
{
	int ret = check_shared_mm(t);

	if (ret)
		return ret;
	for (size_t i = 0; i < t->n; i++) {
		if (t->items[i].zombie)
			continue;
		ret = dump_tree_task(dc, &t->items[i], &dts[i], fn);
		if (ret) {
			pr_err("dump of pid %d failed", t->items[i].pid);
			return ret;
		}
	}
	err_ctx_set_task(t->items[0].pid, t->items[0].pid);
	return 0;
}

int dump_tree_shmem(struct dump_ctx *dc, const struct pstree *t, const struct dump_task *dts)
{
	struct mem_shmem_user *users = calloc(t->n, sizeof(*users));
	size_t n = 0;
	int ret;

	if (!users)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		if (t->items[i].zombie)
			continue;
		users[n].pid = t->items[i].pid;
		users[n].vmas = &dts[i].vmas;
		n++;
	}
	err_ctx_set_stage("dump shared memory");
	ret = mem_dump_shmem(dc->dir, dc->ps_sk, users, n, &dc->pages_id, &dc->mem,
			     dump_note_written_cb, dc);
	free(users);
	return ret;
}

void dump_ctx_free_tree(struct dump_ctx *dc)
{
	free(dc->fds_seen);
	free(dc->tasks);
	dc->fds_seen = NULL;
	dc->tasks = NULL;
	dc->n_fds_seen = dc->cap_fds_seen = dc->n_tasks = 0;
}
