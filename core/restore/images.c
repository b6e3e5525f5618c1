// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "read images": load every image the one task needs into
 * struct rst_ctx and check what later stages rely on, so that they can
 * trust it. Each complaint names the image file and the entry (from 1).
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criu/log.h>

#include "images/image.h"
#include "images/pbwire.h"
#include "log/log.h"
#include "plugins/plugins.h"
#include "restore/restore.h"

#define RST_TASK_SIZE ((1ull << 47) - 4096)
#define RST_PAGE 4096ull

typedef int (*rst_entry_cb)(struct rst_ctx *c, const char *name, unsigned long n,
			    ProtobufCMessage *msg);

/* Read one entry of a file that must exist. */
static int read_one(struct img_dir *dir, uint32_t magic, const ProtobufCMessageDescriptor *desc,
		    const char *name, ProtobufCMessage **out)
{
	struct image *img;
	int ret;

	err_ctx_set_image(name, 1);
	ret = img_open_read(dir, name, magic, IMG_MUST_EXIST, &img);
	if (ret)
		return ret;
	ret = img_read_one(img, desc, out);
	img_close(img);
	return ret < 0 ? ret : 0;
}

/* Read every entry of NAME (a missing file is empty) into a growing array. */
static int read_all(struct img_dir *dir, uint32_t magic, const ProtobufCMessageDescriptor *desc,
		    const char *name, unsigned int flags, void ***arr, size_t *nr)
{
	struct image *img;
	ProtobufCMessage *msg;
	size_t cap = 0;
	int ret;

	*arr = NULL;
	*nr = 0;
	ret = img_open_read(dir, name, magic, flags, &img);
	if (ret)
		return ret;
	for (;;) {
		err_ctx_set_image(name, (int)*nr + 1);
		ret = img_read_msg(img, desc, &msg);
		if (ret <= 0)
			break;
		if (*nr == cap) {
			void **n;

			cap = cap ? cap * 2 : 16;
			n = realloc(*arr, cap * sizeof(*n));
			if (!n) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
			*arr = n;
		}
		(*arr)[(*nr)++] = msg;
	}
	img_close(img);
	return ret < 0 ? ret : 0;
}

static int check_inventory(struct rst_tree *t)
{
	InventoryEntry *inv = t->inv;
	size_t i;

	err_ctx_set_image("inventory.img", 1);
	if (inv->img_version != CRTOOLS_IMAGES_V1_1) {
		pr_err("inventory.img: entry 1: image version %u is not supported (expected %u)",
		       inv->img_version, CRTOOLS_IMAGES_V1_1);
		return -EINVAL;
	}
	if (!inv->has_fdinfo_per_id || !inv->fdinfo_per_id) {
		pr_err("inventory.img: entry 1: images without fdinfo_per_id are too old");
		return -EINVAL;
	}
	if (!inv->plugins_entry)
		return 0;
	for (i = 0; i < inv->plugins_entry->n_plugins; i++) {
		const char *name = inv->plugins_entry->plugins[i];

		if (plugins_is_loaded(name))
			continue;
		err_ctx_set_remedy("install the plugin, or enable it in the [plugins] section, "
				   "or point -L at the directory that holds it");
		pr_err("inventory.img: the images need plugin '%s', which is not loaded", name);
		return -ENOENT;
	}
	return 0;
}

/* One pstree.img entry into task C: pid, group, session and thread ids. */
static int check_pstree_entry(struct rst_ctx *c, PstreeEntry *p, size_t n)
{
	err_ctx_set_image("pstree.img", (int)n + 1);
	if (p->pid < 1 || p->pid > 0x3fffffff || p->pgid > 0x3fffffff || p->sid > 0x3fffffff) {
		pr_err("pstree.img: entry %zu: bad pid %u (group %u, session %u)", n + 1, p->pid,
		       p->pgid, p->sid);
		return -EINVAL;
	}
	c->pstree = p;
	c->pid = (pid_t)p->pid;
	c->pgid = (pid_t)p->pgid;
	c->sid = (pid_t)p->sid;
	if (p->n_threads > 1024) {
		pr_err("pstree.img: entry %zu: pid %u has %zu threads (more than 1024)", n + 1, p->pid,
		       p->n_threads);
		return -EOPNOTSUPP;
	}
	/* The leader first, then the other threads in image order. */
	c->tids = calloc(p->n_threads + 1, sizeof(*c->tids));
	if (!c->tids)
		return -ENOMEM;
	c->tids[0] = c->pid;
	c->nr_threads = 1;
	for (size_t i = 0; i < p->n_threads; i++) {
		pid_t t = (pid_t)p->threads[i];

		if (t == c->pid)
			continue;
		if (t < 1 || p->threads[i] > 0x3fffffff) {
			pr_err("pstree.img: entry %zu: pid %u: bad thread id %u", n + 1, p->pid,
			       p->threads[i]);
			return -EINVAL;
		}
		for (size_t k = 0; k < c->nr_threads; k++) {
			if (c->tids[k] == t) {
				pr_err("pstree.img: entry %zu: pid %u: thread %d listed twice", n + 1,
				       p->pid, t);
				return -EINVAL;
			}
		}
		c->tids[c->nr_threads++] = t;
	}
	if (p->n_threads && c->nr_threads == p->n_threads + 1) {
		pr_err("pstree.img: entry %zu: pid %u is not among its own threads", n + 1, p->pid);
		return -EINVAL;
	}
	return 0;
}

static struct rst_ctx *task_by_pid(struct rst_tree *t, pid_t pid)
{
	for (size_t i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i].pid == pid)
			return &t->tasks[i];
	return NULL;
}

/*
 * pstree.img lists parents before their children (CRIU writes it depth
 * first); check that, link each task to its parent, and refuse shapes the
 * restore cannot make: a pid twice, a session whose leader is gone.
 */
static int link_tree(struct rst_tree *t)
{
	for (size_t i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];

		err_ctx_set_image("pstree.img", (int)i + 1);
		for (size_t k = 0; k < i; k++) {
			if (t->tasks[k].pid == c->pid) {
				pr_err("pstree.img: pid %d is listed twice", c->pid);
				return -EINVAL;
			}
			for (size_t th = 1; th < t->tasks[k].nr_threads; th++)
				if (t->tasks[k].tids[th] == c->pid) {
					pr_err("pstree.img: pid %d is also a thread of pid %d",
					       c->pid, t->tasks[k].pid);
					return -EINVAL;
				}
		}
		if (i == 0)
			continue;
		for (size_t k = 0; k < i; k++)
			if (t->tasks[k].pid == (pid_t)c->pstree->ppid)
				c->parent = &t->tasks[k];
		if (!c->parent) {
			pr_err("pstree.img: entry %zu: the parent %u of pid %d is not listed before it",
			       i + 1, c->pstree->ppid, c->pid);
			return -EINVAL;
		}
		/* A session is inherited from the parent or started by its leader. */
		if (c->sid != c->pid && c->sid != c->parent->sid) {
			err_ctx_set_task(c->pid, c->pid);
			pr_err("pid %d is in session %d, but its parent %d is in session %d and the "
			       "session leader is not in the tree; this shape cannot be restored yet",
			       c->pid, c->sid, c->parent->pid, c->parent->sid);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/*
 * A process group whose leader is gone (it exited, the group lives on)
 * gets a helper task with the group's id: forked by the parent of the
 * group's first member, it makes the group, the members join it, and it
 * exits and is reaped before anything runs. The root's own group, if it
 * is not its own, is criu's to give (restore_sid_pgid()).
 */
static int add_helpers(struct rst_tree *t, size_t cap)
{
	size_t n = t->nr_tasks;

	for (size_t i = 1; i < n; i++) {
		struct rst_ctx *c = &t->tasks[i], *h;

		if (task_by_pid(t, c->pgid) || c->pgid == t->tasks[0].pgid)
			continue;
		if (t->nr_tasks == cap)
			return -ENOMEM;
		h = &t->tasks[t->nr_tasks];
		memset(h, 0, sizeof(*h));
		h->kind = RST_TASK_HELPER;
		h->idx = t->nr_tasks++;
		h->pid = c->pgid;
		h->pgid = c->pgid;
		h->sid = c->parent->sid;
		h->parent = c->parent;
		h->tree = t;
		h->opts = t->opts;
		h->dir = t->dir;
		h->inv = t->inv;
		h->report_rd = h->report_wr = h->go_rd = h->go_wr = -1;
		pr_info("process group %d has lost its leader: a helper with pid %d, child of %d, "
			"makes it again", c->pgid, c->pgid, c->parent->pid);
	}
	return 0;
}

static int check_core(struct rst_ctx *c, CoreEntry *core, const char *name, bool leader)
{
	ThreadInfoX86 *ti = core->thread_info;

	err_ctx_set_image(name, 1);
	if (core->mtype != CORE_ENTRY__MARCH__X86_64) {
		pr_err("%s: entry 1: architecture %d is not x86_64", name, core->mtype);
		return -EINVAL;
	}
	if (!ti || !ti->gpregs || !ti->fpregs || (leader && !core->tc)) {
		pr_err("%s: entry 1: registers or task state are missing", name);
		return -EINVAL;
	}
	if (ti->gpregs->has_mode && ti->gpregs->mode != USER_X86_REGS_MODE__NATIVE) {
		pr_err("%s: entry 1: 32-bit (compat) tasks are not supported", name);
		return -EOPNOTSUPP;
	}
	if (ti->fpregs->n_st_space != 32 || ti->fpregs->n_xmm_space != 64) {
		pr_err("%s: entry 1: FPU state has %zu st and %zu xmm words (expected 32 and 64)",
		       name, ti->fpregs->n_st_space, ti->fpregs->n_xmm_space);
		return -EINVAL;
	}
	if (leader && core->tc->task_state != 1 /* TASK_ALIVE */ && core->tc->task_state != 3) {
		pr_err("%s: entry 1: task state %u is not one a process can be restored in", name,
		       core->tc->task_state);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int check_vmas(struct rst_ctx *c, const char *name)
{
	uint64_t prev_end = 0;
	size_t i;

	for (i = 0; i < c->mm->n_vmas; i++) {
		VmaEntry *v = c->mm->vmas[i];

		err_ctx_set_image(name, 1);
		if (v->status & RST_VMA_AREA_VSYSCALL)
			continue;
		if (v->start >= v->end || v->start % RST_PAGE || v->end % RST_PAGE ||
		    v->end > RST_TASK_SIZE || v->start < prev_end) {
			pr_err("%s: VMA %zu (%#llx-%#llx) is empty, unaligned, out of order or above "
			       "the task size", name, i, (unsigned long long)v->start,
			       (unsigned long long)v->end);
			return -EINVAL;
		}
		if (v->status & RST_VMA_UNSUPP) {
			pr_err("%s: VMA %zu (%#llx-%#llx) is marked unsupported", name, i,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -EINVAL;
		}
		if (v->status & (RST_VMA_AREA_SYSVIPC | RST_VMA_AREA_SOCKET | RST_VMA_AREA_AIORING |
				 RST_VMA_AREA_SHSTK | RST_VMA_AREA_UPROBES)) {
			pr_err("%s: VMA %zu (%#llx-%#llx, status %#x): this kind of mapping is not "
			       "supported yet", name, i, (unsigned long long)v->start,
			       (unsigned long long)v->end, v->status);
			return -EOPNOTSUPP;
		}
		prev_end = v->end;
	}
	return 0;
}

static int read_pagemap(struct rst_ctx *c)
{
	char name[64];
	struct image *img;
	ProtobufCMessage *msg;
	size_t cap = 0;
	int ret;

	snprintf(name, sizeof(name), "pagemap-%d.img", c->pid);
	err_ctx_set_image(name, 1);
	ret = img_open_read(c->dir, name, PAGEMAP_MAGIC, IMG_MUST_EXIST, &img);
	if (ret)
		return ret;
	ret = img_read_one(img, &pagemap_head__descriptor, &msg);
	if (ret < 0)
		goto out;
	c->pm_head = (PagemapHead *)msg;
	snprintf(c->pages_name, sizeof(c->pages_name), "pages-%u.img", c->pm_head->pages_id);
	for (;;) {
		PagemapEntry *pe;
		uint64_t nr;

		err_ctx_set_image(name, (int)c->nr_pm + 2);
		ret = img_read_msg(img, &pagemap_entry__descriptor, &msg);
		if (ret <= 0)
			break;
		pe = (PagemapEntry *)msg;
		if (c->nr_pm == cap) {
			PagemapEntry **n;

			cap = cap ? cap * 2 : 64;
			n = realloc(c->pm, cap * sizeof(*n));
			if (!n) {
				protobuf_c_message_free_unpacked(msg, NULL);
				ret = -ENOMEM;
				break;
			}
			c->pm = n;
		}
		c->pm[c->nr_pm++] = pe;
		nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		if (pe->vaddr % RST_PAGE || !nr || nr > RST_TASK_SIZE / RST_PAGE ||
		    pe->vaddr + nr * RST_PAGE > RST_TASK_SIZE) {
			pr_err("%s: entry %zu: bad page run %#llx + %llu pages", name, c->nr_pm + 1,
			       (unsigned long long)pe->vaddr, (unsigned long long)nr);
			ret = -EINVAL;
			break;
		}
		if (pe->has_flags && (pe->flags & RST_PE_LAZY)) {
			pr_err("%s: entry %zu: lazy pages are not supported yet", name, c->nr_pm + 1);
			ret = -EOPNOTSUPP;
			break;
		}
	}
out:
	img_close(img);
	return ret < 0 ? ret : 0;
}

static int cmp_file_id(const void *a, const void *b)
{
	const struct rst_file *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int read_files(struct rst_tree *c)
{
	void **arr;
	size_t n, i;
	int ret;

	ret = read_all(c->dir, FILES_MAGIC, &file_entry__descriptor, "files.img", 0, &arr, &n);
	if (ret)
		return ret;
	c->files = calloc(n ? n : 1, sizeof(*c->files));
	if (!c->files) {
		for (i = 0; i < n; i++)
			protobuf_c_message_free_unpacked(arr[i], NULL);
		free(arr);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		FileEntry *fe = arr[i];

		c->files[i].id = fe->id;
		c->files[i].type = fe->type;
		c->files[i].fe = fe;
	}
	c->nr_files = n;
	free(arr);
	/* By id, for rst_file_find(); a task may have 10,000 fds. */
	qsort(c->files, n, sizeof(*c->files), cmp_file_id);
	for (i = 1; i < n; i++) {
		if (c->files[i].id == c->files[i - 1].id) {
			pr_err("files.img: two entries have the id %u", c->files[i].id);
			return -EINVAL;
		}
	}
	return 0;
}

/* The images of one live task: cores, ids, mm, pagemap, fs, fdinfo. */
static int read_live_task(struct rst_ctx *c)
{
	char name[64];
	void **arr = NULL;
	size_t n = 0, i;
	int ret;

	c->thread_cores = calloc(c->nr_threads, sizeof(*c->thread_cores));
	if (!c->thread_cores)
		return -ENOMEM;
	c->thread_cores[0] = c->core;
	for (i = 1; i < c->nr_threads; i++) {
		snprintf(name, sizeof(name), "core-%d.img", c->tids[i]);
		ret = read_one(c->dir, CORE_MAGIC, &core_entry__descriptor, name,
			       (ProtobufCMessage **)&c->thread_cores[i]);
		if (!ret)
			ret = check_core(c, c->thread_cores[i], name, false);
		if (ret)
			return ret;
	}

	snprintf(name, sizeof(name), "ids-%d.img", c->pid);
	ret = read_one(c->dir, IDS_MAGIC, &task_kobj_ids_entry__descriptor, name,
		       (ProtobufCMessage **)&c->ids);
	if (ret)
		return ret;

	snprintf(name, sizeof(name), "mm-%d.img", c->pid);
	ret = read_one(c->dir, MM_MAGIC, &mm_entry__descriptor, name, (ProtobufCMessage **)&c->mm);
	if (!ret)
		ret = check_vmas(c, name);
	if (ret)
		return ret;

	ret = read_pagemap(c);
	if (ret)
		return ret;

	snprintf(name, sizeof(name), "fs-%d.img", c->pid);
	ret = read_one(c->dir, FS_MAGIC, &fs_entry__descriptor, name, (ProtobufCMessage **)&c->fs);
	if (ret)
		return ret;

	snprintf(name, sizeof(name), "fdinfo-%u.img", c->ids->files_id);
	ret = read_all(c->dir, FDINFO_MAGIC, &fdinfo_entry__descriptor, name, 0, &arr, &n);
	if (ret)
		return ret;
	c->fdinfo = (FdinfoEntry **)arr;
	c->nr_fdinfo = n;
	return 0;
}

/* The leader's core tells a live task from a zombie (TASK_DEAD, with its wait status). */
static int read_task(struct rst_ctx *c)
{
	char name[64];
	int ret;

	err_ctx_set_task(c->pid, c->pid);
	snprintf(name, sizeof(name), "core-%d.img", c->pid);
	ret = read_one(c->dir, CORE_MAGIC, &core_entry__descriptor, name,
		       (ProtobufCMessage **)&c->core);
	if (ret)
		return ret;
	if (c->core->tc && c->core->tc->task_state == 2 /* TASK_DEAD */) {
		c->kind = RST_TASK_ZOMBIE;
		c->exit_status = (int)c->core->tc->exit_code;
		if (c->nr_threads > 1) {
			pr_err("%s: pid %d is a zombie with %zu threads", name, c->pid, c->nr_threads);
			return -EINVAL;
		}
		return 0;
	}
	ret = check_core(c, c->core, name, true);
	return ret ? ret : read_live_task(c);
}

int rst_images_read(struct rst_tree *t)
{
	void **arr = NULL;
	size_t n = 0, i;
	int ret;

	err_ctx_set_stage("read images");
	ret = img_dir_open(AT_FDCWD, t->opts.images_dir, &t->dir);
	if (ret)
		return ret;
	img_set_default_dir(t->dir);

	ret = read_one(t->dir, INVENTORY_MAGIC, &inventory_entry__descriptor, "inventory.img",
		       (ProtobufCMessage **)&t->inv);
	if (!ret)
		ret = check_inventory(t);
	if (ret)
		return ret;

	ret = read_all(t->dir, PSTREE_MAGIC, &pstree_entry__descriptor, "pstree.img",
		       IMG_MUST_EXIST, &arr, &n);
	if (!ret && !n) {
		err_ctx_set_image("pstree.img", 1);
		pr_err("pstree.img: no task in the images");
		ret = -EINVAL;
	}
	if (!ret && n > 4096) {
		pr_err("pstree.img: %zu tasks (more than 4096)", n);
		ret = -EOPNOTSUPP;
	}
	/* Room for a helper per task: their addresses must not move. */
	if (!ret && !(t->tasks = calloc(2 * n, sizeof(*t->tasks))))
		ret = -ENOMEM;
	for (i = 0; i < n; i++) {
		struct rst_ctx *c;

		if (ret) {
			protobuf_c_message_free_unpacked(arr[i], NULL);
			continue;
		}
		c = &t->tasks[t->nr_tasks];
		c->idx = t->nr_tasks++;
		c->tree = t;
		c->opts = t->opts;
		c->dir = t->dir;
		c->inv = t->inv;
		c->report_rd = c->report_wr = c->go_rd = c->go_wr = -1;
		ret = check_pstree_entry(c, arr[i], i);
	}
	free(arr);
	if (!ret)
		ret = link_tree(t);
	if (!ret)
		ret = add_helpers(t, 2 * n);
	if (ret)
		return ret;

	ret = read_files(t);
	if (ret)
		return ret;
	ret = read_all(t->dir, SECCOMP_MAGIC, &seccomp_entry__descriptor, "seccomp.img", 0, &arr,
		       &n);
	if (ret)
		return ret;
	if (n)
		t->seccomp = arr[0];
	for (i = 1; i < n; i++)
		protobuf_c_message_free_unpacked(arr[i], NULL);
	free(arr);

	for (i = 0; i < t->nr_tasks; i++) {
		struct rst_ctx *c = &t->tasks[i];

		c->files = t->files;
		c->nr_files = t->nr_files;
		c->seccomp = t->seccomp;
		if (c->kind == RST_TASK_HELPER)
			continue;
		ret = read_task(c);
		if (ret)
			return ret;
	}
	/* The root is pid 1: it was the init of its pid namespace, and is again (CRIU's rule). */
	t->new_pidns = t->tasks[0].pid == 1;
	if (t->tasks[0].kind != RST_TASK_LIVE) {
		pr_err("pstree.img: the root pid %d is a zombie", t->tasks[0].pid);
		return -EINVAL;
	}
	err_ctx_set_task(t->tasks[0].pid, t->tasks[0].pid);
	err_ctx_set_image(NULL, -1);
	return 0;
}

static void free_msg(void *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}

static void free_task(struct rst_ctx *c)
{
	size_t i;

	free_msg(c->pstree);
	if (c->thread_cores) {
		for (i = 0; i < c->nr_threads; i++)
			free_msg(c->thread_cores[i]);
	} else {
		free_msg(c->core);
	}
	free(c->thread_cores);
	free(c->tids);
	free(c->htids);
	free_msg(c->ids);
	free_msg(c->mm);
	free_msg(c->pm_head);
	for (i = 0; i < c->nr_pm; i++)
		free_msg(c->pm[i]);
	free(c->pm);
	free_msg(c->fs);
	for (i = 0; i < c->nr_fdinfo; i++)
		free_msg(c->fdinfo[i]);
	free(c->fdinfo);
}

void rst_images_free(struct rst_tree *t)
{
	size_t i;

	for (i = 0; i < t->nr_tasks; i++)
		free_task(&t->tasks[i]);
	free(t->tasks);
	free(t->shared);
	free(t->file_shared);
	t->file_shared = NULL;
	free_msg(t->inv);
	for (i = 0; i < t->nr_files; i++)
		free_msg(t->files[i].fe);
	free(t->files);
	free_msg(t->seccomp);
	if (t->dir) {
		img_set_default_dir(NULL);
		img_dir_close(t->dir);
	}
	t->tasks = NULL;
	t->nr_tasks = 0;
	t->shared = NULL;
	t->nr_shared = 0;
	t->inv = NULL;
	t->files = NULL;
	t->nr_files = 0;
	t->seccomp = NULL;
	t->dir = NULL;
}

const struct rst_file *rst_file_find(const struct rst_ctx *c, uint32_t id)
{
	size_t lo = 0, hi = c->nr_files;

	/* read_files() sorted them by id. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->files[mid].id == id)
			return &c->files[mid];
		if (c->files[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The kind's message as the plugin packed it: FileEntry field FIELDNO,
 * packed again from the unpacked copy. A kind this core's schema does not
 * know is kept by protobuf-c among the unknown fields; take it from there.
 */
int rst_file_payload(const struct rst_file *f, uint32_t fieldno, void **out, size_t *len)
{
	const ProtobufCMessage *m = &f->fe->base;
	const ProtobufCFieldDescriptor *fd;
	size_t i;

	*out = NULL;
	*len = 0;
	fd = protobuf_c_message_descriptor_get_field(m->descriptor, fieldno);
	if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *sub =
			*(const ProtobufCMessage *const *)((const char *)m + fd->offset);

		if (!sub)
			return -ENOENT;
		*len = protobuf_c_message_get_packed_size(sub);
		*out = malloc(*len ? *len : 1);
		if (!*out)
			return -ENOMEM;
		protobuf_c_message_pack(sub, *out);
		return 0;
	}
	for (i = 0; i < m->n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &m->unknown_fields[i];

		uint64_t plen;
		int k;

		if (u->tag != fieldno || u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			continue;
		/* protobuf-c keeps the length prefix in front of the bytes. */
		k = pbwire_get_varint(u->data, u->len, &plen);
		if (k < 0 || plen != u->len - (size_t)k)
			return -EINVAL;
		*out = malloc(plen ? plen : 1);
		if (!*out)
			return -ENOMEM;
		memcpy(*out, u->data + k, plen);
		*len = plen;
		return 0;
	}
	return -ENOENT;
}
