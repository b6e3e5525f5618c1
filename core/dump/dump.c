// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu dump: freeze the task, read everything about it, write the images,
 * then kill it (default), or let it run (-R) or stay stopped (-s).
 *
 * Order: seize → VMAs from smaps (before our own mappings appear) →
 * infect → collect /proc and parasite state → fds (plugins) → mm, fs, ids,
 * core → memory contents → pstree, inventory, stats → cure → post-dump
 * hooks → release. Any failure cures the task and lets it go exactly as it
 * was (running, or stopped by its own signal), and removes the images
 * written so far, so a half-written directory never looks like a dump.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "stats.pb-c.h"

#include "actions.h"
#include "dump/dump.h"
#include "dump/pidfd-store.h"
#include "log/log.h"
#include "mem/page-xfer.h"
#include "options/options.h"
#include "plugins/plugins.h"
#include "pstree/freezer.h"
#include "pstree/pstree.h"
#include "rpc/notify.h"

uint64_t dump_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int dump_img_open(struct dump_ctx *dc, uint32_t magic, struct image **out, const char *fmt, ...)
{
	char name[256], **nw;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	ret = img_open_write(dc->dir, name, magic, out);
	if (ret)
		return ret;
	nw = realloc(dc->written, (dc->n_written + 1) * sizeof(*nw));
	if (nw) {
		dc->written = nw;
		dc->written[dc->n_written] = strdup(name);
		if (dc->written[dc->n_written])
			dc->n_written++;
	}
	return 0;
}

/* Remember image NAME, written by someone else (mem), for cleanup. */
void dump_note_written(struct dump_ctx *dc, const char *fmt, ...)
{
	char name[256], **nw;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	nw = realloc(dc->written, (dc->n_written + 1) * sizeof(*nw));
	if (!nw)
		return;
	dc->written = nw;
	dc->written[dc->n_written] = strdup(name);
	if (dc->written[dc->n_written])
		dc->n_written++;
}

void dump_note_written_cb(void *dc, const char *name)
{
	dump_note_written(dc, "%s", name);
}

void dump_note_plugin(struct dump_ctx *dc, const char *plugin)
{
	for (size_t i = 0; i < dc->n_plugins_used; i++)
		if (!strcmp(dc->plugins_used[i], plugin))
			return;
	if (dc->n_plugins_used < DUMP_MAX_PLUGINS)
		dc->plugins_used[dc->n_plugins_used++] = plugin;
}

/* Remove what this dump wrote: pages images too, which mem wrote directly. */
void dump_remove_images(struct dump_ctx *dc)
{
	int dfd = img_dir_fd(dc->dir);

	for (size_t i = 0; i < dc->n_written; i++)
		unlinkat(dfd, dc->written[i], 0);
	for (uint32_t id = 1; id <= dc->pages_id; id++) {
		char name[32];

		snprintf(name, sizeof(name), "pages-%u.img", id);
		unlinkat(dfd, name, 0);
	}
	pr_info("removed the images of the failed dump from %s", img_dir_path(dc->dir));
}

void dump_free_written(struct dump_ctx *dc)
{
	for (size_t i = 0; i < dc->n_written; i++)
		free(dc->written[i]);
	free(dc->written);
}

static int run_hooks(enum cp_stage stage, pid_t pid, int result)
{
	struct cp_hook_ctx ctx = {
		.size = sizeof(ctx), .stage = stage, .pid = pid, .real_pid = pid, .ret = result,
	};

	return plugins_run_hooks(&ctx);
}

static void fill_kobj_ids(TaskKobjIdsEntry *ids, const struct task_ids_info *i)
{
	task_kobj_ids_entry__init(ids);
	ids->vm_id = i->vm_id;
	ids->files_id = i->files_id;
	ids->fs_id = i->fs_id;
	ids->sighand_id = i->sighand_id;
#define NS(k, f)                              \
	if (i->ns_id[k]) {                    \
		ids->has_##f = true;          \
		ids->f = i->ns_id[k];         \
	}
	NS(0, pid_ns_id);
	NS(1, net_ns_id);
	NS(2, ipc_ns_id);
	NS(3, uts_ns_id);
	NS(4, mnt_ns_id);
	NS(5, user_ns_id);
	NS(6, cgroup_ns_id);
	NS(7, time_ns_id);
#undef NS
}

int dump_write_inventory(struct dump_ctx *dc, const struct task_ids_info *root_ids,
			 uint32_t pre_dump_mode)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	PluginsEntry pe = PLUGINS_ENTRY__INIT;
	TaskKobjIdsEntry ids;
	struct image *img;
	int ret;

	inv.img_version = CRTOOLS_IMAGES_V1_1;
	inv.has_fdinfo_per_id = true;
	inv.fdinfo_per_id = true;
	inv.has_ns_per_id = true;
	inv.ns_per_id = true;
	inv.has_lsmtype = true;
	inv.lsmtype = LSMTYPE__NO_LSM;
	fill_kobj_ids(&ids, root_ids);
	inv.root_ids = &ids;
	if (pre_dump_mode) {
		inv.has_pre_dump_mode = true;
		inv.pre_dump_mode = pre_dump_mode;
	}
	if (dc->n_plugins_used) {
		pe.n_plugins = dc->n_plugins_used;
		pe.plugins = (char **)dc->plugins_used;
		inv.plugins_entry = &pe;
	}
	ret = dump_img_open(dc, INVENTORY_MAGIC, &img, "inventory.img");
	if (ret)
		return ret;
	ret = img_write_msg(img, &inv.base);
	return img_close(img) ?: ret;
}

static int write_pstree(struct dump_ctx *dc, const struct pstree *t)
{
	struct image *img;
	int ret;

	ret = dump_img_open(dc, PSTREE_MAGIC, &img, "pstree.img");
	if (ret)
		return ret;
	ret = pstree_write(t, img);
	return img_close(img) ?: ret;
}

int dump_write_stats(struct dump_ctx *dc)
{
	StatsEntry se = STATS_ENTRY__INIT;
	DumpStatsEntry ds = DUMP_STATS_ENTRY__INIT;
	struct image *img;
	int ret;

	ds.freezing_time = (uint32_t)dc->freezing_us;
	ds.frozen_time = (uint32_t)(dump_now_us() - dc->frozen_start_us);
	ds.memdump_time = (uint32_t)dc->mem.memdump_us;
	ds.memwrite_time = (uint32_t)dc->mem.memwrite_us;
	ds.pages_scanned = dc->mem.pages_scanned;
	ds.pages_skipped_parent = 0;
	ds.pages_written = dc->mem.pages_written;
	ds.pages_lazy = 0;
	ds.has_page_pipes = true;
	ds.page_pipes = dc->mem.page_pipes;
	ds.has_page_pipe_bufs = true;
	ds.page_pipe_bufs = dc->mem.page_pipe_bufs;
	ds.has_shpages_scanned = true;
	ds.shpages_scanned = dc->mem.shpages_scanned;
	ds.has_shpages_written = true;
	ds.shpages_written = dc->mem.shpages_written;
	se.dump = &ds;
	ret = dump_img_open(dc, STATS_MAGIC, &img, "stats-dump");
	if (ret)
		return ret;
	ret = img_write_msg(img, &se.base);
	ret = img_close(img) ?: ret;
	if (ret)
		return ret;
	pr_info("dump stats: frozen %u us, memdump %u us (write %u us), pages scanned %llu, "
		"written %llu", ds.frozen_time, ds.memdump_time, ds.memwrite_time,
		(unsigned long long)ds.pages_scanned, (unsigned long long)ds.pages_written);
	if (opt_bool(dc->o, OPT_DISPLAY_STATS)) {
		/* The lines CRIU prints for --display-stats. */
		pr_msg("Displaying dump stats:\n");
		pr_msg("Freezing time: %u us\n", ds.freezing_time);
		pr_msg("Frozen time: %u us\n", ds.frozen_time);
		pr_msg("Memory dump time: %u us\n", ds.memdump_time);
		pr_msg("Memory write time: %u us\n", ds.memwrite_time);
		pr_msg("IRMAP resolve time: 0 us\n");
		pr_msg("Memory pages scanned: %llu (0x%llx)\n", (unsigned long long)ds.pages_scanned,
		       (unsigned long long)ds.pages_scanned);
		pr_msg("Memory pages skipped from parent: 0 (0x0)\n");
		pr_msg("Memory pages written: %llu (0x%llx)\n", (unsigned long long)ds.pages_written,
		       (unsigned long long)ds.pages_written);
		pr_msg("Lazy memory pages: 0 (0x0)\n");
	}
	return 0;
}

/*
 * Where the images go. main() enters the work dir, which is the images dir
 * itself unless --work-dir is given, and in that case it made a relative
 * images dir absolute; RPC passes absolute paths.
 */
int dump_open_images_dir(struct options *o, struct img_dir **dir)
{
	const char *path = opt_str(o, OPT_IMAGES_DIR);

	if (!path || (path[0] != '/' && !opt_str(o, OPT_WORK_DIR)))
		path = ".";
	return img_dir_open(AT_FDCWD, path, dir);
}

/*
 * --prev-images-dir: link the previous (pre-)dump as "parent", as CRIU
 * does. Without dirty-page tracking (no soft-dirty here, facts 4.8) every
 * page is saved again, so the images stand on their own.
 */
int dump_link_parent(struct dump_ctx *dc)
{
	const char *prev = opt_str(dc->o, OPT_PREV_IMAGES_DIR);
	int dfd = img_dir_fd(dc->dir);

	if (!prev)
		return 0;
	unlinkat(dfd, "parent", 0);
	if (symlinkat(prev, dfd, "parent")) {
		int err = -errno;

		pr_perror("cannot link %s/parent to the previous images %s", img_dir_path(dc->dir),
			  prev);
		return err;
	}
	dump_note_written(dc, "parent");
	pr_warn("memory changes since %s are not tracked on this kernel; every page is saved again",
		prev);
	return 0;
}

int dump_ps_connect(struct dump_ctx *dc)
{
	dc->ps_sk = -1;
	if (!opt_bool(dc->o, OPT_PAGE_SERVER))
		return 0;
	return ps_connect(dc->o, &dc->ps_sk);
}

int dump_ps_finish(struct dump_ctx *dc, int ret)
{
	int r;

	if (dc->ps_sk < 0)
		return ret;
	r = ps_finish(dc->ps_sk, !ret);
	close(dc->ps_sk);
	dc->ps_sk = -1;
	return ret ? ret : r;
}

/* Everything between infection and cure, for one process of the tree. */
static int dump_one_task(struct dump_ctx *dc, struct pstree_item *it, struct infect_ctx *ictx,
			 struct dump_task *dt)
{
	int ret;

	dt->pid = it->pid;
	dt->vpid = it->vpid;
	dt->seized = &it->thr[0];
	dt->ictx = ictx;
	dt->thr = calloc(it->n_threads, sizeof(*dt->thr));
	if (!dt->thr)
		return -ENOMEM;
	dt->n_thr = it->n_threads;
	for (size_t i = 0; i < it->n_threads; i++) {
		dt->thr[i].tid = it->threads[i];
		dt->thr[i].vtid = pstree_vtid(it, i);
		dt->thr[i].seized = &it->thr[i];
	}

	err_ctx_set_stage("collect task state");
	ret = dump_collect_task(dc, dt);
	if (ret)
		return ret;
	ret = run_hooks(CP_STAGE_DUMP_TASK, it->pid, 0);
	if (ret)
		return ret;
	dump_file_services(dc);
	/* A shared fd table (CLONE_FILES) was dumped with the first process that has it. */
	if (!dt->files_shared)
		ret = dump_task_fds(dc, dt);
	if (!ret) {
		err_ctx_set_stage("dump task images");
		ret = dump_task_mm(dc, dt);
	}
	if (!ret)
		ret = dump_task_fs(dc, dt);
	dump_file_services(NULL);
	if (!ret)
		ret = dump_task_ids(dc, dt);
	if (!ret)
		ret = dump_task_core(dc, dt);
	if (ret)
		return ret;
	ret = dump_fault("dump-before-memory");
	if (ret)
		return ret;
	err_ctx_set_stage("dump memory");
	dump_note_written(dc, "pagemap-%d.img", dt->vpid);
	return mem_dump_pages(ictx, dc->dir, dc->ps_sk, dt->vpid, &dt->vmas, &dc->pages_id, &dc->mem);
}

/* Zombies: a core image each, nothing else (their pstree entries come with the rest). */
static int dump_zombies(struct dump_ctx *dc, const struct pstree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		int ret;

		if (!t->items[i].zombie)
			continue;
		ret = dump_zombie_core(dc, &t->items[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static enum infect_detach_mode release_mode(struct options *o, int ret)
{
	if (opt_bool(o, OPT_LEAVE_STOPPED))
		return INFECT_DETACH_STOPPED;
	if (ret || opt_bool(o, OPT_LEAVE_RUNNING))
		return INFECT_DETACH_RESUME;
	return INFECT_DETACH_KILL;
}

int dump_begin(struct dump_ctx *dc, const char *action, pid_t *pid)
{
	struct options *o = dc->o;
	int ret;

	err_ctx_set_stage(action);
	if (!opt_is_set(o, OPT_TREE) || opt_int(o, OPT_TREE) <= 0) {
		pr_err("pid not specified");
		return -EINVAL;
	}
	*pid = (pid_t)opt_int(o, OPT_TREE);
	err_ctx_set_task(*pid, *pid);
	ret = dump_open_images_dir(o, &dc->dir);
	if (ret)
		return ret;
	img_set_default_dir(dc->dir);
	img_set_plugin_write_note(dump_note_written_cb, dc);
	ret = dump_link_parent(dc);
	if (!ret)
		ret = dump_ps_connect(dc);
	if (!ret)
		ret = pidfd_store_load(opt_str(o, OPT_PREV_IMAGES_DIR) != NULL);
	return ret;
}

void dump_end(struct dump_ctx *dc)
{
	dump_ps_finish(dc, -ECANCELED);
	pidfd_store_unload();
	img_set_plugin_write_note(NULL, NULL);
	img_set_default_dir(NULL);
	img_dir_close(dc->dir);
	dc->dir = NULL;
	dump_free_written(dc);
}

int action_dump(struct options *o, struct action_result *res)
{
	struct dump_ctx dc = { .o = o, .ps_sk = -1 };
	struct dump_task *dts = NULL;
	struct pstree tree = { 0 };
	bool locked = false;
	uint64_t t0;
	pid_t pid;
	int ret, r;

	(void)res;
	ret = dump_begin(&dc, "dump", &pid);
	if (ret)
		goto out_dir;
	ret = notify_event(o, "pre-dump", 0);
	if (ret)
		goto out_dir;
	ret = run_hooks(CP_STAGE_DUMP_INIT, 0, 0);
	if (ret)
		goto out_dir;

	err_ctx_set_stage("seize");
	t0 = dump_now_us();
	ret = freezer_pstree_collect(o, pid, &tree);
	if (ret)
		goto out_hooks;
	dc.freezing_us = dump_now_us() - t0;
	dc.frozen_start_us = dump_now_us();

	dts = calloc(tree.n, sizeof(*dts));
	if (!dts) {
		ret = -ENOMEM;
		goto release;
	}
	ret = pidfd_store_check_tree(&tree, opt_str(o, OPT_PREV_IMAGES_DIR) != NULL);
	if (ret)
		goto release;
	ret = run_hooks(CP_STAGE_NETWORK_LOCK, pid, 0);
	if (ret)
		goto release;
	locked = true;
	ret = notify_event(o, "query-ext-files", 0);
	if (ret)
		goto release;

	ret = dump_img_open(&dc, FILES_MAGIC, &dc.files, "files.img");
	if (ret)
		goto release;
	/* Every process in tree order (parents first), each infected, dumped and cured in turn. */
	ret = dump_tree_each(&dc, &tree, dts, dump_one_task);
	r = img_close(dc.files);
	dc.files = NULL;
	ret = ret ? ret : r;
	if (!ret)
		ret = dump_tree_shmem(&dc, &tree, dts);
	if (!ret)
		ret = dump_zombies(&dc, &tree);
	if (!ret)
		ret = write_pstree(&dc, &tree);
	if (!ret)
		ret = dump_write_inventory(&dc, &dts[0].ids, 0);
	if (!ret)
		ret = dump_write_stats(&dc);
	if (!ret)
		ret = dump_fault("dump-before-release");

	ret = dump_ps_finish(&dc, ret);
	/* Tasks left running may be dumped again: keep their pidfds for that. */
	if (!ret && opt_bool(o, OPT_LEAVE_RUNNING))
		ret = pidfd_store_add_tree(&tree);
	/* A refused post-dump lets the tasks run on (release_mode()). */
	if (!ret)
		ret = notify_event(o, "post-dump", 0);
release:
	if (locked && (ret || opt_bool(o, OPT_LEAVE_RUNNING))) {
		r = run_hooks(CP_STAGE_NETWORK_UNLOCK, pid, ret);
		ret = ret ? ret : r;
	}
	r = run_hooks(CP_STAGE_POST_DUMP, pid, ret);
	ret = ret ? ret : r;
	if (ret)
		dump_remove_images(&dc);
	err_ctx_set_stage("release");
	r = pstree_release(&tree, release_mode(o, ret));
	if (!ret && r)
		pr_warn("pid %d: the dump is complete but releasing the tree failed", pid);
	/*
	 * --auto-dedup: the parent's copies of what this dump saved are not
	 * needed. Only once the dump is complete, and its failure does not
	 * undo it: this dump restores whatever the parent lost.
	 */
	if (!ret && opt_bool(o, OPT_AUTO_DEDUP) && opt_str(o, OPT_PREV_IMAGES_DIR) &&
	    !opt_bool(o, OPT_PAGE_SERVER) && dump_dedup(dc.dir))
		pr_warn("--auto-dedup failed; the dump itself is complete");
	goto out_tasks;
out_hooks:
	run_hooks(CP_STAGE_POST_DUMP, pid, ret);
out_tasks:
	for (size_t i = 0; dts && i < tree.n; i++)
		dump_task_free(&dts[i]);
	free(dts);
	pstree_free(&tree);
	dump_ctx_free_tree(&dc);
out_dir:
	dump_end(&dc);
	if (!ret)
		pr_info("dump of pid %d finished", pid);
	return ret;
}
