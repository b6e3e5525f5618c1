// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mm-PID.img: the mm fields of /proc/PID/stat, brk from the parasite, the
 * auxv, the exe file and every VMA with the files.img id of its file.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criu/log.h>

#include "mm.pb-c.h"
#include "vma.pb-c.h"

#include "dump/dump.h"

struct mapped_file {
	dev_t dev;
	ino_t ino;
	uint32_t flags;
	uint32_t id;
};

/* Give every file-backed VMA the files.img id of its file, one id per file and mode. */
static int assign_file_ids(struct dump_ctx *dc, struct dump_task *dt)
{
	struct mapped_file *mf;
	size_t n = 0;
	int ret = 0;

	mf = calloc(dt->vmas.n ? dt->vmas.n : 1, sizeof(*mf));
	if (!mf)
		return -ENOMEM;
	for (size_t i = 0; i < dt->vmas.n && !ret; i++) {
		struct vma *v = &dt->vmas.v[i];
		char link[96];
		struct stat st;
		size_t k;

		if (!(v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)))
			continue;
		snprintf(link, sizeof(link), "/proc/%d/map_files/%llx-%llx", dt->pid,
			 (unsigned long long)v->start, (unsigned long long)v->end);
		if (stat(link, &st)) {
			ret = -errno;
			pr_perror("cannot stat %s (%s)", link, v->path ? v->path : "");
			break;
		}
		for (k = 0; k < n; k++)
			if (mf[k].dev == st.st_dev && mf[k].ino == st.st_ino && mf[k].flags == v->fdflags)
				break;
		if (k == n) {
			ret = dump_core_file(dc, dt->pid, CP_USE_MAP, v->fdflags, v->start, v->end,
					     &mf[n].id);
			if (ret)
				break;
			mf[n].dev = st.st_dev;
			mf[n].ino = st.st_ino;
			mf[n].flags = v->fdflags;
			n++;
		}
		v->shmid = mf[k].id;
	}
	free(mf);
	return ret;
}

static void fill_vma(VmaEntry *e, const struct vma *v)
{
	vma_entry__init(e);
	e->start = v->start;
	e->end = v->end;
	e->pgoff = v->pgoff;
	e->shmid = v->shmid;
	e->prot = v->prot;
	e->flags = v->flags;
	e->status = v->status;
	e->fd = -1;
	if (v->madv) {
		e->has_madv = true;
		e->madv = v->madv;
	}
	if (v->status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) {
		e->has_fdflags = true;
		e->fdflags = v->fdflags;
	}
}

int dump_task_mm(struct dump_ctx *dc, struct dump_task *dt)
{
	MmEntry mm = MM_ENTRY__INIT;
	VmaEntry *vmas = NULL, **vp = NULL;
	struct image *img;
	int ret;

	ret = dump_core_file(dc, dt->pid, CP_USE_EXE, O_RDONLY, 0, 0, &dt->exe_file_id);
	if (ret)
		return ret;
	ret = assign_file_ids(dc, dt);
	if (ret)
		return ret;

	mm.mm_start_code = dt->stat.start_code;
	mm.mm_end_code = dt->stat.end_code;
	mm.mm_start_data = dt->stat.start_data;
	mm.mm_end_data = dt->stat.end_data;
	mm.mm_start_stack = dt->stat.start_stack;
	mm.mm_start_brk = dt->stat.start_brk;
	mm.mm_brk = dt->misc.brk;
	mm.mm_arg_start = dt->stat.arg_start;
	mm.mm_arg_end = dt->stat.arg_end;
	mm.mm_env_start = dt->stat.env_start;
	mm.mm_env_end = dt->stat.env_end;
	mm.exe_file_id = dt->exe_file_id;
	mm.n_mm_saved_auxv = dt->n_auxv;
	mm.mm_saved_auxv = dt->auxv;
	mm.has_dumpable = true;
	mm.dumpable = dt->misc.dumpable;
	mm.has_thp_disabled = true;
	mm.thp_disabled = dt->misc.thp_disabled != 0;

	vmas = calloc(dt->vmas.n ? dt->vmas.n : 1, sizeof(*vmas));
	vp = calloc(dt->vmas.n ? dt->vmas.n : 1, sizeof(*vp));
	if (!vmas || !vp) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < dt->vmas.n; i++) {
		fill_vma(&vmas[i], &dt->vmas.v[i]);
		vp[i] = &vmas[i];
	}
	mm.n_vmas = dt->vmas.n;
	mm.vmas = vp;

	ret = dump_img_open(dc, MM_MAGIC, &img, "mm-%d.img", dt->vpid);
	if (ret)
		goto out;
	ret = img_write_msg(img, &mm.base);
	ret = img_close(img) ?: ret;
out:
	free(vmas);
	free(vp);
	return ret;
}
