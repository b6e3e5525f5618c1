// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The restorer's memory steps: park the runtime vDSO, drop criu's address
 * space, map the task's VMAs at their addresses, fill them from the pages
 * image, set the final protections and advice, and move the vDSO home.
 * Everything here runs with nothing mapped but the bootstrap region (and,
 * later, the task's own VMAs).
 */
#include "restorer.h"
#include "rst-sys.h"

#define RST_IOV_BATCH 256 /* iovecs per preadv; well under IOV_MAX */

struct rst_kiovec {
	uint64_t base;
	uint64_t len;
};

static const struct rst_vma *vma_at(const struct rst_args *a, uint32_t i)
{
	return &((const struct rst_vma *)(uintptr_t)a->vmas)[i];
}

/* The lowest and highest address of the runtime vvar block and vdso. */
static void rt_special_bounds(const struct rst_args *a, uint64_t *lo, uint64_t *hi)
{
	uint64_t l = UINT64_MAX, h = 0;

	if (a->rt_vvar_len) {
		l = a->rt_vvar_start;
		h = a->rt_vvar_start + a->rt_vvar_len;
	}
	if (a->rt_vdso_len) {
		if (a->rt_vdso_start < l)
			l = a->rt_vdso_start;
		if (a->rt_vdso_start + a->rt_vdso_len > h)
			h = a->rt_vdso_start + a->rt_vdso_len;
	}
	*lo = l;
	*hi = h;
}

static long move_area(uint64_t from, uint64_t len, uint64_t to)
{
	long r;

	if (!len || from == to)
		return 0;
	r = sys5(__NR_mremap, from, len, len, RST_MREMAP_MAYMOVE | RST_MREMAP_FIXED, to);
	if (r < 0)
		return r;
	return (uint64_t)r == to ? 0 : -RST_EINVAL;
}

/*
 * Move the runtime vvar block and vdso into the parking space, keeping
 * their relative layout (the vdso code reaches vvar RIP-relative). When
 * the image has no vDSO to match, they are simply left to be unmapped.
 */
void rst_park_vdso(const struct rst_args *a)
{
	uint64_t lo, hi;
	long r;

	if (!a->vdso_remap)
		return;
	rt_special_bounds(a, &lo, &hi);
	r = move_area(a->rt_vvar_start, a->rt_vvar_len, a->park + (a->rt_vvar_start - lo));
	if (r < 0)
		rst_fail(a, RST_STEP_PARK_VDSO, r, a->rt_vvar_start, a->park);
	r = move_area(a->rt_vdso_start, a->rt_vdso_len, a->park + (a->rt_vdso_start - lo));
	if (r < 0)
		rst_fail(a, RST_STEP_PARK_VDSO, r, a->rt_vdso_start, a->park);
}

/* Unmap everything but the bootstrap region (and [vsyscall], above task_size). */
void rst_unmap_old(const struct rst_args *a)
{
	uint64_t b_end = a->bootstrap_start + a->bootstrap_len;
	long r;

	r = sys2(__NR_munmap, 0, a->bootstrap_start);
	if (r < 0)
		rst_fail(a, RST_STEP_UNMAP_OLD, r, 0, a->bootstrap_start);
	if (b_end < a->task_size) {
		r = sys2(__NR_munmap, b_end, a->task_size - b_end);
		if (r < 0)
			rst_fail(a, RST_STEP_UNMAP_OLD, r, b_end, a->task_size);
	}
}

/* A VMA is filled from the image unless it is a shared file mapping. */
static int vma_needs_write(const struct rst_vma *v)
{
	return v->fd < 0 || (v->flags & RST_MAP_TYPE) != RST_MAP_SHARED;
}

static uint32_t vma_initial_prot(const struct rst_vma *v)
{
	if (vma_needs_write(v))
		return RST_PROT_READ | RST_PROT_WRITE;
	return v->prot;
}

void rst_map_vmas(const struct rst_args *a)
{
	uint32_t i;

	for (i = 0; i < a->nr_vmas; i++) {
		const struct rst_vma *v = vma_at(a, i);
		uint64_t len = v->end - v->start;
		long r;

		if (v->kind != RST_VMA_MAP)
			continue;
		r = sys6(__NR_mmap, v->start, len, vma_initial_prot(v),
			 v->flags | RST_MAP_FIXED_NOREPLACE, v->fd, v->pgoff);
		if (r >= 0 && (uint64_t)r != v->start) {
			/* A kernel that ignores NOREPLACE put it elsewhere. */
			sys2(__NR_munmap, r, len);
			r = -RST_EEXIST;
		}
		if (r < 0)
			rst_fail(a, RST_STEP_MAP_VMA, r, v->start, v->entry);
	}
}

/*
 * preadv the runs IOV[0..N), which are contiguous in one pages image,
 * advancing over short reads.
 */
static void fill_batch(const struct rst_args *a, const struct rst_iov *iov, uint32_t n)
{
	struct rst_kiovec kv[RST_IOV_BATCH];
	uint64_t off = iov[0].off;
	uint32_t done = 0, i;

	for (i = 0; i < n; i++) {
		kv[i].base = iov[i].addr;
		kv[i].len = iov[i].len;
	}
	while (done < n) {
		long r = sys5(__NR_preadv, iov[0].fd, &kv[done], n - done, off, 0);

		if (r == -RST_EINTR)
			continue;
		if (r < 0)
			rst_fail(a, RST_STEP_FILL_PAGES, r, kv[done].base, off);
		if (r == 0)
			rst_fail(a, RST_STEP_FILL_PAGES, -RST_EIO, kv[done].base, off);
		off += (uint64_t)r;
		while (done < n && (uint64_t)r >= kv[done].len) {
			r -= (long)kv[done].len;
			done++;
		}
		if (done < n) {
			kv[done].base += (uint64_t)r;
			kv[done].len -= (uint64_t)r;
		}
	}
}

void rst_fill_pages(const struct rst_args *a)
{
	const struct rst_iov *iov = (const struct rst_iov *)(uintptr_t)a->iovs;
	uint32_t i = 0;

	while (i < a->nr_iovs) {
		uint32_t n = 1;

		while (i + n < a->nr_iovs && n < RST_IOV_BATCH && iov[i + n].fd == iov[i].fd &&
		       iov[i + n - 1].off + iov[i + n - 1].len == iov[i + n].off)
			n++;
		fill_batch(a, &iov[i], n);
		i += n;
	}
}

/* Final protections, madvise bits and guard regions, once the contents are in. */
void rst_finish_vmas(const struct rst_args *a)
{
	const struct rst_range *g = (const struct rst_range *)(uintptr_t)a->guards;
	const struct rst_poke *pk = (const struct rst_poke *)(uintptr_t)a->pokes;
	uint32_t i, bit;
	long r;

	/* Still writable: every filled VMA was mapped read-write. */
	for (i = 0; i < a->nr_pokes; i++)
		memcpy((void *)(uintptr_t)pk[i].addr, pk[i].bytes, pk[i].len > 16 ? 16 : pk[i].len);

	for (i = 0; i < a->nr_vmas; i++) {
		const struct rst_vma *v = vma_at(a, i);
		uint64_t len = v->end - v->start;

		if (v->kind != RST_VMA_MAP)
			continue;
		if (vma_initial_prot(v) != v->prot) {
			r = sys3(__NR_mprotect, v->start, len, v->prot);
			if (r < 0)
				rst_fail(a, RST_STEP_MPROTECT, r, v->start, v->entry);
		}
		for (bit = 0; bit < 64; bit++) {
			if (!(v->madv & (1ull << bit)))
				continue;
			r = sys3(__NR_madvise, v->start, len, bit);
			if (r < 0)
				rst_fail(a, RST_STEP_MADVISE, r, v->start, bit);
		}
	}
	for (i = 0; i < a->nr_guards; i++) {
		r = sys3(__NR_madvise, g[i].start, g[i].len, RST_MADV_GUARD_INSTALL);
		if (r < 0)
			rst_fail(a, RST_STEP_GUARD, r, g[i].start, g[i].len);
	}
}

/* Move the parked runtime vvar block and vdso to the dumped addresses (5.12). */
void rst_remap_vdso(const struct rst_args *a)
{
	uint64_t lo, hi;
	long r;

	if (!a->vdso_remap)
		return;
	rt_special_bounds(a, &lo, &hi);
	r = move_area(a->park + (a->rt_vvar_start - lo), a->rt_vvar_len, a->dumped_vvar_start);
	if (r < 0)
		rst_fail(a, RST_STEP_REMAP_VDSO, r, a->dumped_vvar_start, a->rt_vvar_len);
	r = move_area(a->park + (a->rt_vdso_start - lo), a->rt_vdso_len, a->dumped_vdso_start);
	if (r < 0)
		rst_fail(a, RST_STEP_REMAP_VDSO, r, a->dumped_vdso_start, a->rt_vdso_len);
}
