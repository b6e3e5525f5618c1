// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Page contents: PAGEMAP_SCAN, vmsplice in the parasite, splice in criu.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "mem: "
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "pagemap.pb-c.h"

#include "mem/page-xfer.h"
#include "mem/pages.h"

#define MEM_PIPES 8
#define MEM_PIPE_SIZE (1 << 20)
#define SCAN_VEC 1024
#define PE_PRESENT 4

struct range {
	uint64_t start, end;
	uint64_t img_vaddr; /* vaddr written to the pagemap entry */
};

struct ranges {
	struct range *r;
	size_t n, cap;
};

static int ranges_add(struct ranges *rs, uint64_t start, uint64_t end, uint64_t img_vaddr)
{
	if (rs->n && rs->r[rs->n - 1].end == start &&
	    rs->r[rs->n - 1].img_vaddr + (start - rs->r[rs->n - 1].start) == img_vaddr) {
		rs->r[rs->n - 1].end = end;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 256;
		struct range *nr = realloc(rs->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct range){ start, end, img_vaddr };
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

struct scan_query {
	uint64_t inverted, mask, anyof;
};

/* Pages we keep: present or swapped; no guard pages; for private maps not file-backed. */
static const struct scan_query q_private = {
	.inverted = K_PAGE_IS_FILE | K_PAGE_IS_PFNZERO | K_PAGE_IS_GUARD,
	.mask = K_PAGE_IS_FILE | K_PAGE_IS_PFNZERO | K_PAGE_IS_GUARD,
	.anyof = K_PAGE_IS_PRESENT | K_PAGE_IS_SWAPPED,
};
static const struct scan_query q_shmem = {
	.inverted = K_PAGE_IS_GUARD,
	.mask = K_PAGE_IS_GUARD,
	.anyof = K_PAGE_IS_PRESENT | K_PAGE_IS_SWAPPED,
};
static const struct scan_query q_guard = {
	.mask = K_PAGE_IS_GUARD,
};

/* Call ADD for every matching region of [START, END). IMG_BASE maps addresses into the image. */
static int scan(int pmfd, pid_t pid, uint64_t start, uint64_t end, const struct scan_query *q,
		struct ranges *out, int64_t img_delta)
{
	struct k_page_region vec[SCAN_VEC];
	struct k_pm_scan_arg arg;
	uint64_t pos = start;
	int ret;

	while (pos < end) {
		long n;

		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = pos;
		arg.end = end;
		arg.vec = (uint64_t)(uintptr_t)vec;
		arg.vec_len = SCAN_VEC;
		arg.category_inverted = q->inverted;
		arg.category_mask = q->mask;
		arg.category_anyof_mask = q->anyof;
		arg.return_mask = K_PAGE_IS_PRESENT | K_PAGE_IS_SWAPPED | K_PAGE_IS_GUARD;
		n = ioctl(pmfd, K_PAGEMAP_SCAN, &arg);
		if (n < 0) {
			ret = -errno;
			pr_perror("PAGEMAP_SCAN of pid %d at %#llx-%#llx failed", pid,
				  (unsigned long long)pos, (unsigned long long)end);
			return ret;
		}
		for (long i = 0; i < n; i++) {
			ret = ranges_add(out, vec[i].start, vec[i].end,
					 (uint64_t)((int64_t)vec[i].start + img_delta));
			if (ret)
				return ret;
		}
		if (arg.walk_end <= pos)
			break;
		pos = arg.walk_end;
	}
	return 0;
}

static int open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		pr_perror("cannot open %s", path);
	}
	return fd;
}

int mem_collect_guards(pid_t pid, struct vma_list *list)
{
	struct ranges rs = { 0 };
	size_t nr = list->n;
	int pmfd = -1, ret = 0;

	for (size_t i = 0; i < nr && !ret; i++) {
		if (!(list->v[i].vmflags & VMF_GUARD))
			continue;
		if (pmfd < 0) {
			pmfd = open_pagemap(pid);
			if (pmfd < 0)
				return pmfd;
		}
		ret = scan(pmfd, pid, list->v[i].start, list->v[i].end, &q_guard, &rs, 0);
	}
	if (pmfd >= 0)
		close(pmfd);
	for (size_t i = 0; i < rs.n && !ret; i++) {
		struct vma g = { .start = rs.r[i].start, .end = rs.r[i].end,
				 .status = VMA_AREA_GUARD, .flags = MAP_PRIVATE | MAP_ANONYMOUS,
				 .dump = VMA_DUMP_NONE };

		ret = mem_vma_list_add(list, &g);
	}
	free(rs.r);
	return ret;
}

/* Pages a pipe holds for one pagemap entry, when they go to a page server. */
struct piece {
	uint64_t vaddr; /* as in the image */
	uint32_t nr_pages;
};

struct pieces {
	struct piece *v;
	size_t n, cap;
};

struct xfer {
	struct infect_ctx *ctx;
	pid_t pid;
	int nr_pipes;
	int wfd[MEM_PIPES]; /* in the task */
	int rfd[MEM_PIPES]; /* in criu */
	size_t pipe_pages[MEM_PIPES];
	struct mem_stats *st;
	int sk;			     /* page server connection, or -1 */
	uint64_t dst_id;	     /* the page server's name of the current pagemap */
	struct pieces pc[MEM_PIPES]; /* with a page server: what each pipe holds */
};

static int pieces_add(struct pieces *pc, uint64_t vaddr, uint64_t nr_pages)
{
	if (pc->n == pc->cap) {
		size_t cap = pc->cap ? pc->cap * 2 : 64;
		struct piece *nv = realloc(pc->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		pc->v = nv;
		pc->cap = cap;
	}
	pc->v[pc->n++] = (struct piece){ vaddr, (uint32_t)nr_pages };
	return 0;
}

static void xfer_close(struct xfer *x)
{
	for (int i = 0; i < x->nr_pipes; i++) {
		if (!x->ctx->crashed && !x->ctx->task->dead)
			infect_syscall6(x->ctx, __NR_close, x->wfd[i], 0, 0, 0, 0, 0);
		close(x->rfd[i]);
	}
	x->nr_pipes = 0;
}

/* Open up to WANT pipes (each costs remote syscalls, so no more than needed). */
static int xfer_open(struct xfer *x, int want)
{
	for (int i = 0; i < want; i++) {
		int sz, ret;

		ret = infect_remote_pipe(x->ctx, &x->wfd[i], &x->rfd[i]);
		if (ret) {
			xfer_close(x);
			return ret;
		}
		x->nr_pipes++;
		/* 1 MiB is the most an unprivileged pipe may hold (facts 4.5). */
		sz = fcntl(x->rfd[i], F_SETPIPE_SZ, MEM_PIPE_SIZE);
		if (sz < 0)
			sz = fcntl(x->rfd[i], F_GETPIPE_SZ);
		if (sz < 4096) {
			pr_perror("cannot size the page pipe for pid %d", x->pid);
			xfer_close(x);
			return -EIO;
		}
		x->pipe_pages[i] = (size_t)sz / 4096;
	}
	x->st->page_pipes += (uint64_t)x->nr_pipes;
	return 0;
}

static int drain(struct xfer *x, int p, size_t bytes, int out_fd, const char *img)
{
	while (bytes) {
		ssize_t n = splice(x->rfd[p], NULL, out_fd, NULL, bytes, SPLICE_F_MOVE);

		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;

			pr_perror("cannot splice pages of pid %d into %s", x->pid, img);
			return err;
		}
		bytes -= (size_t)n;
	}
	return 0;
}

static int write_pe(struct image *pm, const struct range *r)
{
	PagemapEntry pe = PAGEMAP_ENTRY__INIT;
	uint64_t nr = (r->end - r->start) / 4096;

	pe.vaddr = r->img_vaddr;
	pe.compat_nr_pages = nr > UINT32_MAX ? 0 : (uint32_t)nr;
	pe.has_nr_pages = true;
	pe.nr_pages = nr;
	pe.has_flags = true;
	pe.flags = PE_PRESENT;
	return img_write_msg(pm, &pe.base);
}

/* To a page server each piece goes as an ADD_F command and its data. */
static int drain_to_server(struct xfer *x, int p)
{
	int ret = 0;

	for (size_t i = 0; i < x->pc[p].n && !ret; i++) {
		const struct piece *pc = &x->pc[p].v[i];

		ret = ps_send_add(x->sk, x->dst_id, pc->vaddr, pc->nr_pages);
		if (!ret)
			ret = drain(x, p, (size_t)pc->nr_pages * 4096, x->sk, "the page server");
	}
	return ret;
}

/* Splice what the pipes in BYTES hold into OUT_FD (or to the page server). */
static int drain_set(struct xfer *x, const size_t bytes[MEM_PIPES], int out_fd, const char *img,
		     uint64_t *written)
{
	uint64_t t0 = now_us();
	int ret = 0;

	for (int p = 0; p < x->nr_pipes && !ret; p++) {
		if (!bytes[p])
			continue;
		if (x->sk >= 0)
			ret = drain_to_server(x, p);
		else
			ret = drain(x, p, bytes[p], out_fd, img);
		if (!ret)
			*written += bytes[p] / 4096;
	}
	x->st->memwrite_us += now_us() - t0;
	return ret;
}

/*
 * Fill the iovs for one batch into pipes [FIRST, FIRST + N) from the cursor (RI, OFF) on,
 * describing each range in PM before its pages go out, so that the pagemap
 * and the pages file stay in step. BYTES[pipe] gets what each pipe will hold.
 * Without PM (page server) the pieces of each pipe are noted instead.
 */
static int fill_batch(struct xfer *x, const struct ranges *rs, size_t *ri, uint64_t *off,
		      int first, int n, struct image *pm, size_t bytes[MEM_PIPES])
{
	struct parasite_dump_pages *dp = (void *)infect_parasite_args(x->ctx)->u.payload;
	size_t niov = 0;
	int ret = 0;

	memset(bytes, 0, MEM_PIPES * sizeof(bytes[0]));
	dp->nr_pipes = 0;
	for (int p = 0; p < n && *ri < rs->n; p++) {
		int pipe = first + p;
		size_t room = x->pipe_pages[pipe];

		dp->pipe_fd[p] = x->wfd[pipe];
		dp->nr_iov[p] = 0;
		x->pc[pipe].n = 0;
		while (room && *ri < rs->n) {
			const struct range *r = &rs->r[*ri];
			uint64_t left = (r->end - r->start - *off) / 4096;
			uint64_t take = left < room ? left : room;

			if (!pm)
				ret = pieces_add(&x->pc[pipe], r->img_vaddr + *off, take);
			else if (*off == 0)
				ret = write_pe(pm, r);
			if (ret)
				return ret;
			dp->iov[niov].base = r->start + *off;
			dp->iov[niov].len = take * 4096;
			niov++;
			dp->nr_iov[p]++;
			bytes[pipe] += take * 4096;
			room -= take;
			*off += take * 4096;
			if (r->start + *off == r->end) {
				(*ri)++;
				*off = 0;
			}
		}
		dp->nr_pipes++;
	}
	return 0;
}

/*
 * Send RS through the pipes into OUT_FD. With two or more pipes they form
 * two sets used in turn: while the parasite vmsplices a batch into one set,
 * criu splices the previous batch out of the other, so both CPUs work.
 */
static int xfer_ranges(struct xfer *x, const struct ranges *rs, struct image *pm, int out_fd,
		       const char *img, uint64_t *written)
{
	int sets = x->nr_pipes >= 2 ? 2 : 1, per = x->nr_pipes / sets, cur = 0;
	size_t bytes[MEM_PIPES], pending[MEM_PIPES] = { 0 };
	bool have_pending = false;
	size_t ri = 0;
	uint64_t off = 0; /* into rs->r[ri] */
	int ret = 0, r;

	while (ri < rs->n) {
		ret = fill_batch(x, rs, &ri, &off, cur * per, per, pm, bytes);
		if (ret)
			break;
		ret = infect_parasite_begin(x->ctx, PARASITE_CMD_DUMP_PAGES);
		if (ret)
			break;
		if (have_pending) {
			ret = drain_set(x, pending, out_fd, img, written);
			have_pending = false;
		}
		/* Whatever happened meanwhile, the parasite has to be waited for. */
		r = infect_parasite_end(x->ctx, PARASITE_CMD_DUMP_PAGES);
		ret = ret ? ret : r;
		if (ret)
			break;
		x->st->page_pipe_bufs++;
		if (sets == 1) {
			ret = drain_set(x, bytes, out_fd, img, written);
			if (ret)
				break;
		} else {
			memcpy(pending, bytes, sizeof(pending));
			have_pending = true;
			cur ^= 1;
		}
	}
	if (!ret && have_pending)
		ret = drain_set(x, pending, out_fd, img, written);
	return ret;
}

/*
 * Open a pagemap image PM_NAME with its head and the next pages image
 * (named into PAGES_NAME); *PAGES_FD is where page contents go. On failure
 * whatever was opened is left for close_set().
 */
static int open_set(const struct img_dir *dir, const char *pm_name, uint32_t *pages_id,
		    struct image **pm, struct image **pages, char pages_name[32], int *pages_fd)
{
	PagemapHead head = PAGEMAP_HEAD__INIT;
	int ret;

	*pm = *pages = NULL;
	head.pages_id = ++*pages_id;
	snprintf(pages_name, 32, "pages-%u.img", head.pages_id);
	ret = img_open_write(dir, pm_name, PAGEMAP_MAGIC, pm);
	if (!ret)
		ret = img_write_msg(*pm, &head.base);
	if (!ret)
		ret = img_open_write(dir, pages_name, PAGES_MAGIC, pages);
	if (ret)
		return ret;
	*pages_fd = img_fd(*pages);
	return *pages_fd < 0 ? *pages_fd : 0;
}

/* Close what open_set() opened; returns RET or the first close error. */
static int close_set(struct image *pm, struct image *pages, int ret)
{
	if (pages) {
		int r = img_close(pages);

		ret = ret ? ret : r;
	}
	if (pm) {
		int r = img_close(pm);

		ret = ret ? ret : r;
	}
	return ret;
}

/*
 * Write one pagemap image (head + entries) and its pages image for RS; or,
 * with a page server, send them there as DST_ID, for it to write.
 */
static int dump_set(struct xfer *x, const struct img_dir *dir, const char *pm_name,
		    uint64_t dst_id, const struct ranges *rs, uint32_t *pages_id, uint64_t *written)
{
	struct image *pm, *pages;
	char pages_name[32];
	int ret, fd;

	if (x->sk >= 0) {
		x->dst_id = dst_id;
		ret = ps_open(x->sk, dst_id);
		if (!ret)
			ret = xfer_ranges(x, rs, NULL, x->sk, "the page server", written);
		if (ret)
			pr_err("pid %d: sending %s to the page server failed", x->pid, pm_name);
		return ret;
	}
	ret = open_set(dir, pm_name, pages_id, &pm, &pages, pages_name, &fd);
	if (!ret)
		ret = xfer_ranges(x, rs, pm, fd, pages_name, written);
	return close_set(pm, pages, ret);
}

/* Make unreadable VMAs with pages to dump readable (UNDO: put them back). */
static int fix_prot(struct infect_ctx *ctx, const struct vma_list *list, bool undo)
{
	struct parasite_mprotect *mp = (void *)infect_parasite_args(ctx)->u.payload;
	size_t max = (infect_parasite_payload_size(ctx) - sizeof(*mp)) / sizeof(mp->v[0]);
	int ret;

	mp->nr = 0;
	for (size_t i = 0; i < list->n; i++) {
		const struct vma *v = &list->v[i];

		/* Shared memory is read by criu itself (mem_dump_shmem()). */
		if (v->dump == VMA_DUMP_NONE || v->dump == VMA_DUMP_SHMEM || (v->prot & PROT_READ))
			continue;
		if (v->vmflags & VMF_SEALED) {
			pr_err("pid %d: sealed unreadable VMA %#llx-%#llx cannot be dumped",
			       ctx->task->pid, (unsigned long long)v->start,
			       (unsigned long long)v->end);
			return -EPERM;
		}
		if (mp->nr == max)
			return -E2BIG;
		mp->v[mp->nr].start = v->start;
		mp->v[mp->nr].len = v->end - v->start;
		mp->v[mp->nr].prot = undo ? v->prot : (v->prot | PROT_READ);
		mp->nr++;
	}
	if (!mp->nr)
		return 0;
	ret = infect_parasite_call(ctx, PARASITE_CMD_MPROTECT);
	if (ret)
		pr_err("pid %d: cannot %s the protection of unreadable VMAs", ctx->task->pid,
		       undo ? "restore" : "relax");
	return ret;
}

static int collect_private(int pmfd, pid_t pid, const struct vma_list *list, struct ranges *rs,
			   struct mem_stats *st)
{
	int ret;

	for (size_t i = 0; i < list->n; i++) {
		const struct vma *v = &list->v[i];
		size_t before = rs->n;
		uint64_t pages = 0;

		if (v->dump == VMA_DUMP_WHOLE) {
			ret = ranges_add(rs, v->start, v->end, v->start);
		} else if (v->dump == VMA_DUMP_PRIVATE) {
			ret = scan(pmfd, pid, v->start, v->end, &q_private, rs, 0);
		} else {
			continue;
		}
		if (ret)
			return ret;
		st->pages_scanned += (v->end - v->start) / 4096;
		/* A range merged into the previous VMA's last one counts in that one. */
		for (size_t k = before ? before - 1 : 0; k < rs->n; k++)
			if (rs->r[k].end > v->start && rs->r[k].start < v->end) {
				uint64_t s = rs->r[k].start > v->start ? rs->r[k].start : v->start;
				uint64_t e = rs->r[k].end < v->end ? rs->r[k].end : v->end;

				pages += (e - s) / 4096;
			}
		st->pages_skipped += (v->end - v->start) / 4096 - pages;
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->img_vaddr < y->img_vaddr ? -1 : x->img_vaddr > y->img_vaddr;
}

/* Ranges of RS in the image's (offset) space, sorted, overlaps merged. */
static void normalize(struct ranges *rs)
{
	size_t out = 0;

	for (size_t i = 0; i < rs->n; i++) {
		uint64_t len = rs->r[i].end - rs->r[i].start;

		rs->r[i].start = rs->r[i].img_vaddr;
		rs->r[i].end = rs->r[i].img_vaddr + len;
	}
	if (rs->n)
		qsort(rs->r, rs->n, sizeof(rs->r[0]), cmp_range);
	for (size_t i = 0; i < rs->n; i++) {
		if (out && rs->r[i].start <= rs->r[out - 1].end) {
			if (rs->r[i].end > rs->r[out - 1].end)
				rs->r[out - 1].end = rs->r[i].end;
			continue;
		}
		rs->r[out] = rs->r[i];
		rs->r[out].img_vaddr = rs->r[out].start;
		out++;
	}
	rs->n = out;
}

/* The pages of every mapping of shared object SHMID in every task, as offsets into it. */
static int shmem_ranges(const struct mem_shmem_user *users, size_t n, uint64_t shmid,
			struct ranges *rs, const struct mem_shmem_user **first_u,
			const struct vma **first_v, struct mem_stats *st)
{
	int ret = 0;

	for (size_t u = 0; u < n && !ret; u++) {
		int pmfd = -1;

		for (size_t i = 0; i < users[u].vmas->n && !ret; i++) {
			const struct vma *v = &users[u].vmas->v[i];

			if (v->dump != VMA_DUMP_SHMEM || v->shmid != shmid)
				continue;
			if (pmfd < 0) {
				pmfd = open_pagemap(users[u].pid);
				if (pmfd < 0)
					return pmfd;
			}
			if (!*first_v) {
				*first_u = &users[u];
				*first_v = v;
			}
			st->shpages_scanned += (v->end - v->start) / 4096;
			ret = scan(pmfd, users[u].pid, v->start, v->end, &q_shmem, rs,
				   (int64_t)v->pgoff - (int64_t)v->start);
		}
		if (pmfd >= 0)
			close(pmfd);
	}
	if (!ret)
		normalize(rs);
	return ret;
}

/* Write RS of shared object SHMID, mapped at MAP, into its images in DIR. */
static int write_shmem_images(const struct img_dir *dir, uint64_t shmid, const uint8_t *map,
			      const struct ranges *rs, uint32_t *pages_id, struct mem_stats *st)
{
	struct image *pm, *pages;
	char pm_name[64], pages_name[32];
	int ret, out;

	snprintf(pm_name, sizeof(pm_name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	ret = open_set(dir, pm_name, pages_id, &pm, &pages, pages_name, &out);
	for (size_t i = 0; i < rs->n && !ret; i++) {
		const uint8_t *p = map + rs->r[i].start;
		size_t left = rs->r[i].end - rs->r[i].start;

		ret = write_pe(pm, &rs->r[i]);
		while (!ret && left) {
			ssize_t w = write(out, p, left);

			if (w <= 0) {
				ret = w < 0 ? -errno : -EIO;
				pr_perror("cannot write shared memory %llu into %s",
					  (unsigned long long)shmid, pages_name);
				break;
			}
			p += w;
			left -= (size_t)w;
		}
		if (!ret)
			st->shpages_written += (rs->r[i].end - rs->r[i].start) / 4096;
	}
	return close_set(pm, pages, ret);
}

/* Send RS of shared object SHMID, mapped at MAP, to the page server on SK (it writes the images). */
static int send_shmem(int sk, uint64_t shmid, const uint8_t *map, const struct ranges *rs,
		      struct mem_stats *st)
{
	uint64_t dst_id = ps_dst_id(PS_TYPE_SHMEM, shmid);
	int ret = ps_open(sk, dst_id);

	for (size_t i = 0; i < rs->n && !ret; i++) {
		uint64_t nr = (rs->r[i].end - rs->r[i].start) / 4096;

		ret = ps_send_pages(sk, dst_id, rs->r[i].img_vaddr, map + rs->r[i].start, nr);
		if (!ret)
			st->shpages_written += nr;
	}
	if (ret)
		pr_err("sending shared memory %llu to the page server failed: %s",
		       (unsigned long long)shmid, strerror(-ret));
	return ret;
}

/*
 * Write RS of the object mapped at V of task U from criu's own mapping of
 * it: into DIR, or to the page server on PS_SK when that is >= 0.
 */
static int write_shmem(const struct img_dir *dir, int ps_sk, uint64_t shmid,
		       const struct mem_shmem_user *u, const struct vma *v, const struct ranges *rs,
		       uint32_t *pages_id, struct mem_stats *st)
{
	char path[96];
	uint64_t size = rs->n ? rs->r[rs->n - 1].end : 0, t0;
	void *map = MAP_FAILED;
	int ret, fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", u->pid,
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open shared memory %llu through %s", (unsigned long long)shmid,
			  path);
		return ret;
	}
	if (size) {
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			pr_perror("cannot map shared memory %llu (%s)", (unsigned long long)shmid,
				  path);
			close(fd);
			return ret;
		}
	}
	close(fd);

	t0 = now_us();
	if (ps_sk >= 0)
		ret = send_shmem(ps_sk, shmid, map, rs, st);
	else
		ret = write_shmem_images(dir, shmid, map, rs, pages_id, st);
	st->memwrite_us += now_us() - t0;
	if (map != MAP_FAILED)
		munmap(map, size);
	return ret;
}

int mem_dump_shmem(const struct img_dir *dir, int ps_sk, const struct mem_shmem_user *users, size_t n,
		   uint32_t *pages_id, struct mem_stats *st,
		   void (*written)(void *arg, const char *name), void *arg)
{
	uint64_t t0 = now_us();
	int ret = 0;

	for (size_t u = 0; u < n && !ret; u++) {
		for (size_t i = 0; i < users[u].vmas->n && !ret; i++) {
			const struct vma *v = &users[u].vmas->v[i];
			const struct mem_shmem_user *fu = NULL;
			const struct vma *fv = NULL;
			struct ranges rs = { 0 };
			char name[64];

			if (v->dump != VMA_DUMP_SHMEM)
				continue;
			ret = shmem_ranges(users, n, v->shmid, &rs, &fu, &fv, st);
			/* Only the first mapping met (in tree order) writes the object. */
			if (!ret && fv == v) {
				snprintf(name, sizeof(name), "pagemap-shmem-%llu.img",
					 (unsigned long long)v->shmid);
				written(arg, name);
				ret = write_shmem(dir, ps_sk, v->shmid, fu, fv, &rs, pages_id, st);
			}
			free(rs.r);
		}
	}
	st->memdump_us += now_us() - t0;
	return ret;
}

int mem_dump_pages(struct infect_ctx *ctx, const struct img_dir *dir, int ps_sk, pid_t vpid,
		   const struct vma_list *list, uint32_t *pages_id, struct mem_stats *st)
{
	struct xfer x = { .ctx = ctx, .pid = ctx->task->pid, .st = st, .sk = ps_sk };
	struct ranges rs = { 0 };
	uint64_t t0 = now_us();
	char name[64];
	int pmfd, ret, r;

	pmfd = open_pagemap(x.pid);
	if (pmfd < 0)
		return pmfd;
	ret = collect_private(pmfd, x.pid, list, &rs, st);
	if (ret)
		goto out_pm;
	{
		uint64_t pages = 0;
		int want;

		for (size_t i = 0; i < rs.n; i++)
			pages += (rs.r[i].end - rs.r[i].start) / 4096;
		want = (int)((pages + MEM_PIPE_SIZE / 4096 - 1) / (MEM_PIPE_SIZE / 4096));
		want = want < 1 ? 1 : want > MEM_PIPES ? MEM_PIPES : want;
		ret = xfer_open(&x, want);
	}
	if (ret)
		goto out_pm;
	ret = fix_prot(ctx, list, false);
	if (ret)
		goto out_xfer;

	snprintf(name, sizeof(name), "pagemap-%d.img", vpid);
	ret = dump_set(&x, dir, name, ps_dst_id(PS_TYPE_PID, (uint64_t)vpid), &rs, pages_id,
		       &st->pages_written);

	r = fix_prot(ctx, list, true);
	ret = ret ? ret : r;
out_xfer:
	xfer_close(&x);
	for (int p = 0; p < MEM_PIPES; p++)
		free(x.pc[p].v);
out_pm:
	close(pmfd);
	free(rs.r);
	st->memdump_us += now_us() - t0;
	return ret;
}
