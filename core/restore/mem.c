// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Restore stage "memory plan", in the new task (stage 1): turn mm-PID.img
 * and pagemap-PID.img into the restorer's VMA list and page runs, open the
 * files behind mappings and the pages image, and decide how the vDSO is
 * handled: when the runtime vDSO is the dumped one, the restorer moves the
 * runtime vvar block and vdso to the dumped addresses (fact 5.12).
 */
#define LOG_PREFIX "restore: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criu/log.h>
#include <pie/kabi.h>

#include "images/image.h"
#include "log/log.h"
#include "restore/files.h"
#include "restore/mem.h"

#define MAP_KEEP_FLAGS (K_MAP_SHARED | K_MAP_PRIVATE | K_MAP_DROPPABLE | K_MAP_ANONYMOUS | \
			K_MAP_GROWSDOWN | K_MAP_NORESERVE)

struct rt_vdso {
	uint64_t vvar_start, vvar_end; /* [vvar] and [vvar_vclock], as one block */
	uint64_t vdso_start, vdso_end;
};

/* Read the runtime layout; never assume sizes (7.1). */
static int read_rt_vdso(struct rt_vdso *rt)
{
	unsigned long long lo, hi;
	char line[512], name[64];
	FILE *f;

	memset(rt, 0, sizeof(*rt));
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		pr_perror("cannot open /proc/self/maps");
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		name[0] = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %63s", &lo, &hi, name) < 2)
			continue;
		if (!strcmp(name, "[vvar]") || !strcmp(name, "[vvar_vclock]")) {
			if (!rt->vvar_start || lo < rt->vvar_start)
				rt->vvar_start = lo;
			if (hi > rt->vvar_end)
				rt->vvar_end = hi;
		} else if (!strcmp(name, "[vdso]")) {
			rt->vdso_start = lo;
			rt->vdso_end = hi;
		}
	}
	fclose(f);
	return 0;
}

int rst_mem_add_fd(struct rst_mem_plan *p, int fd)
{
	int *n = realloc(p->fds, (p->nr_fds + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	p->fds = n;
	p->fds[p->nr_fds++] = fd;
	return 0;
}

/* One fd per file id, shared by all the VMAs that map it. */
struct file_fd {
	uint64_t id;
	int fd;
};

static int vma_fd(struct rst_ctx *c, struct rst_mem_plan *p, struct file_fd **cache, size_t *n,
		  const VmaEntry *v, size_t idx, int *out)
{
	struct file_fd *t;
	int fd, ret;

	for (size_t i = 0; i < *n; i++) {
		if ((*cache)[i].id == v->shmid) {
			*out = (*cache)[i].fd;
			return 0;
		}
	}
	if (v->shmid > UINT32_MAX) {
		pr_err("mm-%d.img: VMA %zu: file id %llu out of range", c->pid, idx,
		       (unsigned long long)v->shmid);
		return -EINVAL;
	}
	ret = rst_open_core_file(c, (uint32_t)v->shmid, CP_USE_MAP,
				 v->has_fdflags ? v->fdflags : O_RDONLY, &fd);
	if (ret) {
		pr_err("mm-%d.img: VMA %zu (%#llx-%#llx): cannot open the file it maps", c->pid, idx,
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return ret;
	}
	t = realloc(*cache, (*n + 1) * sizeof(*t));
	if (!t) {
		close(fd);
		return -ENOMEM;
	}
	*cache = t;
	if (rst_mem_add_fd(p, fd)) {
		close(fd);
		return -ENOMEM;
	}
	t[*n].id = v->shmid;
	t[*n].fd = fd;
	(*n)++;
	*out = fd;
	return 0;
}

static int shmem_fd(struct rst_ctx *c, struct rst_mem_plan *p, const VmaEntry *v, size_t idx,
		    int *out)
{
	uint64_t size = 0;
	int fd = rst_shared_shmem_fd(c, v->shmid, &size);

	if (fd < 0 || v->pgoff + (v->end - v->start) > size) {
		pr_err("mm-%d.img: VMA %zu (%#llx-%#llx): shared memory %llu was not made", c->pid,
		       idx, (unsigned long long)v->start, (unsigned long long)v->end,
		       (unsigned long long)v->shmid);
		return -EINVAL;
	}
	/*
	 * The plan maps a copy of its own, which its restorer closes: the
	 * object's fd may be on an fd table other tasks use as well.
	 */
	for (uint32_t k = 0; k < p->nr_vmas; k++) {
		const VmaEntry *o = c->mm->vmas[p->vmas[k].entry];

		if (p->vmas[k].fd >= 0 && (o->status & RST_VMA_ANON_SHARED) && o->shmid == v->shmid) {
			*out = p->vmas[k].fd;
			return 0;
		}
	}
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		pr_perror("pid %d: cannot copy the fd of shared memory %llu", c->pid,
			  (unsigned long long)v->shmid);
		return -errno;
	}
	if (rst_mem_add_fd(p, fd)) {
		close(fd);
		return -ENOMEM;
	}
	*out = fd;
	return 0;
}

static int plan_vmas(struct rst_ctx *c, struct rst_mem_plan *p)
{
	MmEntry *mm = c->mm;
	struct file_fd *cache = NULL;
	size_t nr_cache = 0;
	int ret = 0;

	p->vmas = calloc(mm->n_vmas + 1, sizeof(*p->vmas));
	p->guards = calloc(mm->n_vmas + 1, sizeof(*p->guards));
	p->avoid = calloc(mm->n_vmas + 1, sizeof(*p->avoid));
	if (!p->vmas || !p->guards || !p->avoid)
		return -ENOMEM;
	for (size_t i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		struct rst_vma *r;

		if (v->status & RST_VMA_AREA_VSYSCALL)
			continue;
		p->avoid[p->nr_avoid].start = v->start;
		p->avoid[p->nr_avoid++].end = v->end;
		if (v->status & RST_VMA_AREA_GUARD) {
			/* Not a VMA: guard pages inside another one (7.4). */
			p->guards[p->nr_guards].start = v->start;
			p->guards[p->nr_guards++].len = v->end - v->start;
			continue;
		}
		r = &p->vmas[p->nr_vmas++];
		r->start = v->start;
		r->end = v->end;
		r->pgoff = v->pgoff;
		r->prot = v->prot & (K_PROT_READ | K_PROT_WRITE | K_PROT_EXEC);
		r->flags = v->flags & MAP_KEEP_FLAGS;
		r->fd = -1;
		r->entry = (uint32_t)i;
		r->madv = v->has_madv ? v->madv : 0;
		if (v->status & RST_VMA_AREA_VDSO) {
			r->kind = RST_VMA_VDSO;
			continue;
		}
		if (v->status & RST_VMA_AREA_VVAR) {
			r->kind = RST_VMA_VVAR;
			continue;
		}
		r->kind = RST_VMA_MAP;
		if (v->status & (RST_VMA_FILE_PRIVATE | RST_VMA_FILE_SHARED)) {
			r->flags &= ~(uint32_t)K_MAP_ANONYMOUS;
			ret = vma_fd(c, p, &cache, &nr_cache, v, i, &r->fd);
			if (ret)
				break;
		} else if (v->status & RST_VMA_ANON_SHARED) {
			/* The object was made by the tree (shared.c): map it like a file. */
			ret = shmem_fd(c, p, v, i, &r->fd);
			if (ret)
				break;
			r->flags &= ~(uint32_t)K_MAP_ANONYMOUS;
		} else {
			r->flags |= K_MAP_ANONYMOUS;
			r->pgoff = 0;
		}
		if ((r->flags & 0x0f) == 0) {
			pr_err("mm-%d.img: VMA %zu (%#llx-%#llx): flags %#x have no mapping type",
			       c->pid, i, (unsigned long long)v->start, (unsigned long long)v->end,
			       v->flags);
			ret = -EINVAL;
			break;
		}
	}
	free(cache);
	return ret;
}

/* The VMA holding ADDR, or NULL (the list is sorted). */
static const struct rst_vma *vma_of(const struct rst_mem_plan *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_vmas;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (addr < p->vmas[mid].start)
			hi = mid;
		else if (addr >= p->vmas[mid].end)
			lo = mid + 1;
		else
			return &p->vmas[mid];
	}
	return NULL;
}

int rst_mem_add_iov(struct rst_mem_plan *p, size_t *cap, uint64_t addr, uint64_t len, uint64_t off,
		    int fd)
{
	if (p->nr_iovs && p->iovs[p->nr_iovs - 1].addr + p->iovs[p->nr_iovs - 1].len == addr &&
	    p->iovs[p->nr_iovs - 1].off + p->iovs[p->nr_iovs - 1].len == off &&
	    p->iovs[p->nr_iovs - 1].fd == fd) {
		p->iovs[p->nr_iovs - 1].len += len;
		return 0;
	}
	if (p->nr_iovs == *cap) {
		struct rst_iov *n = realloc(p->iovs, (*cap = *cap ? *cap * 2 : 64) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->iovs = n;
	}
	p->iovs[p->nr_iovs].addr = addr;
	p->iovs[p->nr_iovs].len = len;
	p->iovs[p->nr_iovs].off = off;
	p->iovs[p->nr_iovs].fd = fd;
	p->nr_iovs++;
	return 0;
}

/*
 * Page runs in pages-N.img order. A run may span adjacent VMAs; every page
 * must land in a VMA the restorer fills. vDSO pages are only compared.
 */
static int plan_pages(struct rst_ctx *c, struct rst_mem_plan *p, size_t *cap, uint64_t *total)
{
	uint64_t off = 0;
	int ret;

	for (size_t i = 0; i < c->nr_pm; i++) {
		const PagemapEntry *pe = c->pm[i];
		uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
		uint64_t addr = pe->vaddr, end = pe->vaddr + nr * K_PAGE_SIZE;
		bool parent = (pe->has_in_parent && pe->in_parent) ||
			      (pe->has_flags && (pe->flags & RST_PE_PARENT));

		if (!parent && pe->has_flags && !(pe->flags & RST_PE_PRESENT))
			continue;
		while (addr < end) {
			const struct rst_vma *v = vma_of(p, addr);
			uint64_t chunk;

			if (!v || (v->kind == RST_VMA_MAP && (v->flags & 0x0f) == K_MAP_SHARED)) {
				pr_err("pagemap-%d.img: entry %zu: page %#llx is %s", c->pid, i + 2,
				       (unsigned long long)addr,
				       v ? "in a shared mapping" : "outside every VMA");
				return -EINVAL;
			}
			chunk = (end < v->end ? end : v->end) - addr;
			if (v->kind == RST_VMA_MAP) {
				if (parent)
					ret = rst_parent_pages(c, p, &p->parent, addr, chunk, cap);
				else
					ret = rst_mem_add_iov(p, cap, addr, chunk, off, p->pages_fd);
				if (ret)
					return ret;
			}
			addr += chunk;
			if (!parent)
				off += chunk;
		}
	}
	*total = off;
	return 0;
}

/* Compare the dumped vdso pages with the runtime vdso, where the image has them. */
static int vdso_same_bytes(struct rst_ctx *c, struct rst_mem_plan *p, const struct rst_vma *v,
			   const struct rt_vdso *rt, bool *same)
{
	uint64_t off = 0, seen = 0;
	uint8_t *buf;
	int ret = 0;

	*same = true;
	if (p->pages_fd < 0)
		return 0;
	buf = malloc(K_PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < c->nr_pm && *same; i++) {
		const PagemapEntry *pe = c->pm[i];
		uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;

		if ((pe->has_flags && !(pe->flags & RST_PE_PRESENT)) ||
		    (pe->has_in_parent && pe->in_parent))
			continue;
		for (uint64_t k = 0; k < nr; k++, off += K_PAGE_SIZE) {
			uint64_t a = pe->vaddr + k * K_PAGE_SIZE;

			if (a < v->start || a >= v->end)
				continue;
			if (pread(p->pages_fd, buf, K_PAGE_SIZE, (off_t)off) != (ssize_t)K_PAGE_SIZE) {
				pr_err("%s: cannot read the vdso page at %#llx", c->pages_name,
				       (unsigned long long)a);
				ret = -EIO;
				goto out;
			}
			seen++;
			if (memcmp(buf, (void *)(uintptr_t)(rt->vdso_start + (a - v->start)),
				   K_PAGE_SIZE)) {
				*same = false;
				break;
			}
		}
	}
	if (!seen)
		pr_debug("the images hold no vdso pages; matching the vdso by size only");
out:
	free(buf);
	return ret;
}

static int plan_vdso(struct rst_ctx *c, struct rst_mem_plan *p)
{
	struct rst_vma *dv = NULL;
	uint64_t vvar_lo = 0, vvar_hi = 0, rt_lo, rt_hi;
	struct rt_vdso rt;
	bool same;
	int ret;

	for (uint32_t i = 0; i < p->nr_vmas; i++) {
		struct rst_vma *v = &p->vmas[i];

		if (v->kind == RST_VMA_VDSO)
			dv = v;
		if (v->kind == RST_VMA_VVAR) {
			if (!vvar_lo)
				vvar_lo = v->start;
			if (vvar_hi && v->start != vvar_hi) {
				pr_err("mm-%d.img: the vvar VMAs are not contiguous", c->pid);
				return -EINVAL;
			}
			vvar_hi = v->end;
		}
	}
	ret = read_rt_vdso(&rt);
	if (ret)
		return ret;
	p->rt_vvar_start = rt.vvar_start;
	p->rt_vvar_len = rt.vvar_end - rt.vvar_start;
	p->rt_vdso_start = rt.vdso_start;
	p->rt_vdso_len = rt.vdso_end - rt.vdso_start;
	if (!dv) {
		/* The task had unmapped its vDSO: it goes away with the rest (7.1). */
		pr_info("pid %d had no vdso; the runtime one is dropped", c->pid);
		return 0;
	}
	if (!rt.vdso_start) {
		pr_err("pid %d had a vdso, but criu runs without one", c->pid);
		return -EOPNOTSUPP;
	}
	ret = 0;
	if (dv->end - dv->start != p->rt_vdso_len || vvar_hi - vvar_lo != p->rt_vvar_len ||
	    (int64_t)(dv->start - vvar_lo) != (int64_t)(rt.vdso_start - rt.vvar_start))
		same = false;
	else
		ret = vdso_same_bytes(c, p, dv, &rt, &same);
	if (ret)
		return ret;
	rt_lo = rt.vvar_start && rt.vvar_start < rt.vdso_start ? rt.vvar_start : rt.vdso_start;
	rt_hi = rt.vdso_end > rt.vvar_end ? rt.vdso_end : rt.vvar_end;
	if (!same) {
		pr_info("pid %d: the dumped vDSO (%#llx, %llu bytes, vvar %llu bytes) differs from "
			"this kernel's (%llu bytes, vvar %llu bytes)", c->pid,
			(unsigned long long)dv->start, (unsigned long long)(dv->end - dv->start),
			(unsigned long long)(vvar_hi - vvar_lo), (unsigned long long)p->rt_vdso_len,
			(unsigned long long)p->rt_vvar_len);
		return rst_vdso_proxy(c, p, dv, rt_lo, rt_hi);
	}
	p->vdso_remap = true;
	p->dumped_vdso_start = dv->start;
	p->dumped_vvar_start = vvar_lo ? vvar_lo : dv->start - p->rt_vvar_len;
	p->park_len = rt_hi - rt_lo;
	return 0;
}

/* Open a pages image; a missing one is fine while no page is read from it. */
static int open_pages(struct rst_ctx *c, struct rst_mem_plan *p, const char *name, int *fd)
{
	*fd = openat(img_dir_fd(c->dir), name, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return 0;
		pr_perror("cannot open %s", name);
		return -errno;
	}
	return rst_mem_add_fd(p, *fd);
}

static int check_pages_size(const char *name, int fd, uint64_t need, const char *pagemap)
{
	struct stat st;

	if (!need)
		return 0;
	if (fd < 0) {
		pr_err("%s is missing, but %s needs %llu bytes of it", name, pagemap,
		       (unsigned long long)need);
		return -ENOENT;
	}
	if (fstat(fd, &st)) {
		pr_perror("cannot stat %s", name);
		return -errno;
	}
	if ((uint64_t)st.st_size < need) {
		pr_err("%s: %lld bytes, but %s needs %llu", name, (long long)st.st_size, pagemap,
		       (unsigned long long)need);
		return -EINVAL;
	}
	return 0;
}

static int open_exe(struct rst_ctx *c, struct rst_mem_plan *p)
{
	int fd, ret;

	p->exe_fd = -1;
	if (!c->mm->exe_file_id)
		return 0;
	ret = rst_open_core_file(c, c->mm->exe_file_id, CP_USE_EXE, O_RDONLY, &fd);
	if (ret) {
		/* /proc/PID/exe is cosmetic for most tasks: say so and go on. */
		pr_warn("pid %d: cannot open its exe file (id %u); /proc/%d/exe keeps criu's",
			c->pid, c->mm->exe_file_id, c->pid);
		return 0;
	}
	p->exe_fd = fd;
	return 0;
}

int rst_mem_plan(struct rst_ctx *c, struct rst_mem_plan *p)
{
	uint64_t need = 0;
	size_t cap = 0;
	char pagemap[64];
	int ret;

	memset(p, 0, sizeof(*p));
	p->pages_fd = -1;
	p->exe_fd = -1;
	err_ctx_set_stage("memory plan");
	snprintf(pagemap, sizeof(pagemap), "pagemap-%d.img", c->pid);
	ret = plan_vmas(c, p);
	if (!ret)
		ret = open_pages(c, p, c->pages_name, &p->pages_fd);
	/* The vDSO first: with the proxy, the dumped one is filled like any memory. */
	if (!ret)
		ret = plan_vdso(c, p);
	if (!ret)
		ret = plan_pages(c, p, &cap, &need);
	if (!ret)
		ret = check_pages_size(c->pages_name, p->pages_fd, need, pagemap);
	if (!ret)
		ret = open_exe(c, p);
	/* The ancestors' pages images stay open in the plan; their pagemaps are done with. */
	rst_parent_free(p->parent);
	p->parent = NULL;
	return ret;
}

void rst_mem_plan_free(struct rst_mem_plan *p, bool close_fds)
{
	if (close_fds) {
		for (uint32_t i = 0; i < p->nr_fds; i++)
			close(p->fds[i]);
		if (p->exe_fd >= 0)
			close(p->exe_fd);
	}
	rst_parent_free(p->parent);
	free(p->vmas);
	free(p->iovs);
	free(p->guards);
	free(p->pokes);
	free(p->fds);
	free(p->avoid);
	memset(p, 0, sizeof(*p));
	p->pages_fd = -1;
	p->exe_fd = -1;
}
