// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kerndat probes about memory: PAGEMAP_SCAN and guard regions, dirty
 * tracking (soft-dirty, uffd-WP async), userfaultfd, memfd and AIO rings.
 *
 * Dirty tracking is tested by doing it: CONFIG_MEM_SOFT_DIRTY=n kernels
 * accept the clear_refs write and then never set bit 55 (facts 4.8), so
 * a probe that only checks for errors would lie.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LOG_PREFIX "kerndat: "
#include <criu/log.h>

#include "check/kerndat-priv.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

#define KD_PM_SOFT_DIRTY (1ULL << 55)

/* Non-cooperative lazy restore needs to hear about these. */
#define KD_UFFD_NONCOOP \
	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

static long kd_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static long kd_pm_scan(int pagemap, void *start, size_t len, uint64_t flags, uint64_t mask, struct kd_page_region *vec,
		       size_t vec_len)
{
	struct kd_pm_scan_arg arg;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = flags;
	arg.start = (uint64_t)(unsigned long)start;
	arg.end = arg.start + len;
	arg.vec = (uint64_t)(unsigned long)vec;
	arg.vec_len = vec_len;
	arg.category_mask = mask;
	arg.return_mask = mask;
	return ioctl(pagemap, KD_PAGEMAP_SCAN, &arg);
}

static void kd_probe_pagemap_scan(struct kerndat *kd)
{
	struct kd_page_region vec[4];
	long ps = kd_page_size(), ret;
	char *p;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_debug("open /proc/self/pagemap: %s", strerror(errno));
		return;
	}
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto out_close;
	p[0] = 1;
	ret = kd_pm_scan(fd, p, ps, 0, KD_PAGE_IS_PRESENT, vec, 4);
	kd->pagemap_scan = ret == 1;
	if (!kd->pagemap_scan)
		pr_debug("PAGEMAP_SCAN: %ld %s", ret, strerror(errno));

	kd->guard_regions = madvise(p + ps, ps, KD_MADV_GUARD_INSTALL) == 0;
	if (kd->guard_regions && kd->pagemap_scan) {
		ret = kd_pm_scan(fd, p, 2 * ps, 0, KD_PAGE_IS_GUARD, vec, 4);
		kd->pagemap_scan_guard = ret == 1 && vec[0].start == (uint64_t)(unsigned long)(p + ps);
		if (!kd->pagemap_scan_guard)
			pr_debug("PAGEMAP_SCAN for guard pages: %ld %s", ret, strerror(errno));
	}
	munmap(p, 2 * ps);
out_close:
	close(fd);
}

static int kd_pagemap_entry(int fd, void *addr, uint64_t *ent)
{
	off_t off = (off_t)((unsigned long)addr / (unsigned long)kd_page_size()) * 8;

	return pread(fd, ent, sizeof(*ent), off) == sizeof(*ent) ? 0 : -EIO;
}

/* In a child: clear_refs resets soft-dirty for the whole process. */
static int kd_soft_dirty_child(void *arg, void *out)
{
	volatile char *p;
	uint64_t before = 0, after = 0;
	int pm, cr;

	(void)arg;
	(void)out;
	p = mmap(NULL, kd_page_size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	p[0] = 1;
	pm = open("/proc/self/pagemap", O_RDONLY);
	cr = open("/proc/self/clear_refs", O_WRONLY);
	if (pm < 0 || cr < 0)
		return 0;
	if (write(cr, "4", 1) != 1)
		return 0;
	if (kd_pagemap_entry(pm, (void *)p, &before))
		return 0;
	p[0] = 2;
	if (kd_pagemap_entry(pm, (void *)p, &after))
		return 0;
	return !(before & KD_PM_SOFT_DIRTY) && (after & KD_PM_SOFT_DIRTY);
}

static int kd_uffd_open(void)
{
	return (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
}

static int kd_uffd_api(int uffd, uint64_t features, uint64_t *offered)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (ioctl(uffd, UFFDIO_API, &api))
		return -errno;
	if (offered)
		*offered = api.features;
	return 0;
}

/*
 * In a child: register two pages for async write-protection, arm them
 * with one scan, write to the first and expect the next scan to report
 * exactly that page (facts 4.8).
 */
static int kd_wp_async_child(void *arg, void *out)
{
	uint64_t flags = KD_PM_SCAN_WP_MATCHING | KD_PM_SCAN_CHECK_WPASYNC;
	struct uffdio_register reg;
	struct kd_page_region vec[4];
	long ps = kd_page_size(), ret;
	volatile char *p;
	int uffd, pm;

	(void)arg;
	(void)out;
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	uffd = kd_uffd_open();
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (uffd < 0 || pm < 0)
		return 0;
	if (kd_uffd_api(uffd, KD_UFFD_FEATURE_WP_ASYNC | KD_UFFD_FEATURE_WP_UNPOPULATED, NULL))
		return 0;
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (unsigned long)p;
	reg.range.len = 2 * ps;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return 0;
	if (kd_pm_scan(pm, (void *)p, 2 * ps, flags, KD_PAGE_IS_WRITTEN, vec, 4) < 0)
		return 0;
	p[0] = 1;
	ret = kd_pm_scan(pm, (void *)p, 2 * ps, flags, KD_PAGE_IS_WRITTEN, vec, 4);
	return ret == 1 && vec[0].start == (unsigned long)p && vec[0].end == (unsigned long)p + (unsigned long)ps;
}

static void kd_probe_uffd(struct kerndat *kd)
{
	struct uffdio_register reg;
	long ps = kd_page_size();
	void *p;
	int uffd;

	uffd = kd_uffd_open();
	if (uffd < 0) {
		pr_debug("userfaultfd: %s", strerror(errno));
		return;
	}
	if (kd_uffd_api(uffd, 0, &kd->uffd_features)) {
		pr_debug("UFFDIO_API: %s", strerror(errno));
		close(uffd);
		return;
	}
	close(uffd);
	kd->uffd = true;
	kd->uffd_noncoop = (kd->uffd_features & KD_UFFD_NONCOOP) == KD_UFFD_NONCOOP;

	/* Plain (synchronous) WP registration of an anonymous range. */
	uffd = kd_uffd_open();
	if (uffd < 0)
		return;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED && kd_uffd_api(uffd, UFFD_FEATURE_PAGEFAULT_FLAG_WP, NULL) == 0) {
		memset(&reg, 0, sizeof(reg));
		reg.range.start = (unsigned long)p;
		reg.range.len = ps;
		reg.mode = UFFDIO_REGISTER_MODE_WP;
		kd->uffd_wp = ioctl(uffd, UFFDIO_REGISTER, &reg) == 0;
	}
	close(uffd);
	if (p != MAP_FAILED)
		munmap(p, ps);

	if (kd->uffd_wp && (kd->uffd_features & KD_UFFD_FEATURE_WP_ASYNC) && kd->pagemap_scan)
		kd->uffd_wp_async = kd_in_child("uffd-wp-async", kd_wp_async_child, NULL, NULL, 0);
}

static void kd_probe_memfd(struct kerndat *kd)
{
	int fd;

	fd = (int)syscall(SYS_memfd_create, "criu-kerndat", MFD_CLOEXEC);
	if (fd < 0) {
		pr_debug("memfd_create: %s", strerror(errno));
		return;
	}
	kd->memfd = true;
	close(fd);
	/* EINVAL means the flag is unknown; anything else is about pages. */
	fd = (int)syscall(SYS_memfd_create, "criu-kerndat", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd >= 0) {
		kd->memfd_hugetlb = true;
		close(fd);
	} else {
		kd->memfd_hugetlb = errno != EINVAL;
	}
}

/* The size of the VMA that starts at ADDR, from /proc/self/maps. */
static size_t kd_vma_size(unsigned long addr)
{
	unsigned long start, end;
	char line[512];
	size_t size = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start == addr) {
			size = end - start;
			break;
		}
	}
	fclose(f);
	return size;
}

/*
 * In a child: move an AIO ring with mremap and destroy the context by its
 * new address. That works only when the kernel follows the move, which
 * restore relies on to put rings back at their old addresses.
 */
static int kd_aio_remap_child(void *arg, void *out)
{
	aio_context_t ctx = 0;
	size_t size;
	void *dst, *moved;

	(void)arg;
	(void)out;
	if (syscall(SYS_io_setup, 16, &ctx))
		return 0;
	size = kd_vma_size((unsigned long)ctx);
	if (!size)
		return 0;
	dst = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return 0;
	moved = mremap((void *)ctx, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED)
		return 0;
	return syscall(SYS_io_destroy, (aio_context_t)(unsigned long)moved) == 0;
}

void kerndat_probe_mem(struct kerndat *kd)
{
	kd_probe_pagemap_scan(kd);
	kd->soft_dirty = kd_in_child("soft-dirty", kd_soft_dirty_child, NULL, NULL, 0);
	kd_probe_uffd(kd);
	kd_probe_memfd(kd);
	kd->aio_remap = kd_in_child("aio-remap", kd_aio_remap_child, NULL, NULL, 0);
}
