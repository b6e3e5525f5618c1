// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu pre-dump: save the memory of a task while it keeps running, so a
 * later dump (--prev-images-dir) has less to do while the task is frozen.
 *
 * The task is frozen only for the memory transfer and always let go as it
 * was. This kernel has no soft-dirty bits (facts 4.8), and the uffd-WP
 * tracking that could replace them is not done yet, so the final dump
 * saves every page again and does not depend on these images; they are
 * still complete and CRIU-shaped (inventory with pre_dump_mode, pagemap,
 * pages, stats).
 */
#define _GNU_SOURCE
#define LOG_PREFIX "pre-dump: "
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "actions.h"
#include "dump/dump.h"
#include "dump/pidfd-store.h"
#include "log/log.h"
#include "options/options.h"
#include "pstree/freezer.h"
#include "pstree/pstree.h"

#define PRE_DUMP_SPLICE 1
#define PRE_DUMP_READ 2

static int predump_task(struct dump_ctx *dc, struct pstree_item *it, struct infect_ctx *ictx,
			struct dump_task *dt)
{
	int ret;

	dt->pid = it->pid;
	dt->vpid = it->vpid;
	dt->seized = &it->thr[0];
	dt->ictx = ictx;
	ret = dump_collect_ids(dc, dt);
	if (ret)
		return ret;
	err_ctx_set_stage("pre-dump memory");
	dump_note_written(dc, "pagemap-%d.img", dt->vpid);
	return mem_dump_pages(ictx, dc->dir, dc->ps_sk, dt->vpid, &dt->vmas, &dc->pages_id, &dc->mem);
}

int action_pre_dump(struct options *o, struct action_result *res)
{
	struct dump_ctx dc = { .o = o, .ps_sk = -1 };
	struct dump_task *dts = NULL;
	struct pstree tree = { 0 };
	const char *mode;
	uint64_t t0;
	pid_t pid;
	int ret, r;

	(void)res;
	mode = opt_str(o, OPT_PRE_DUMP_MODE);
	ret = dump_begin(&dc, "pre-dump", &pid);
	if (ret)
		goto out_dir;

	err_ctx_set_stage("seize");
	t0 = dump_now_us();
	ret = freezer_pstree_collect(o, pid, &tree);
	if (ret)
		goto out_dir;
	dc.freezing_us = dump_now_us() - t0;
	dc.frozen_start_us = dump_now_us();

	dts = calloc(tree.n, sizeof(*dts));
	if (!dts)
		ret = -ENOMEM;
	if (!ret)
		ret = pidfd_store_check_tree(&tree, opt_str(o, OPT_PREV_IMAGES_DIR) != NULL);
	/* The memory of every live process of the tree; zombies have none. */
	if (!ret)
		ret = dump_tree_each(&dc, &tree, dts, predump_task);
	if (!ret)
		ret = dump_tree_shmem(&dc, &tree, dts);
	if (!ret)
		ret = dump_write_inventory(&dc, &dts[0].ids,
					   mode && !strcmp(mode, "read") ? PRE_DUMP_READ
									 : PRE_DUMP_SPLICE);
	if (!ret)
		ret = dump_write_stats(&dc);

	ret = dump_ps_finish(&dc, ret);
	/* The next iteration tells these tasks from new ones with the same pids. */
	if (!ret)
		ret = pidfd_store_add_tree(&tree);
	if (ret)
		dump_remove_images(&dc);
	err_ctx_set_stage("release");
	/* A pre-dump never stops or kills: the tasks go on as they were. */
	r = pstree_release(&tree, INFECT_DETACH_RESUME);
	ret = ret ? ret : r;
	for (size_t i = 0; dts && i < tree.n; i++)
		dump_task_free(&dts[i]);
	free(dts);
	pstree_free(&tree);
	dump_ctx_free_tree(&dc);
out_dir:
	dump_end(&dc);
	if (!ret)
		pr_info("pre-dump of pid %d finished", pid);
	return ret;
}
