/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to core/check: the probe groups that fill struct kerndat, the
 * child-process helper they share, and the kernel ABI constants the 6.1
 * UAPI headers on the build host lack (values from the kernel UAPI; see
 * linux-cr-facts Appendix A). The names carry a KD_ prefix so they cannot
 * clash with a header that defines them later.
 */
#ifndef CORE_CHECK_KERNDAT_PRIV_H
#define CORE_CHECK_KERNDAT_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "check/kerndat.h"

#define KD_PAGE_IS_WPALLOWED (1ULL << 0)
#define KD_PAGE_IS_WRITTEN (1ULL << 1)
#define KD_PAGE_IS_FILE (1ULL << 2)
#define KD_PAGE_IS_PRESENT (1ULL << 3)
#define KD_PAGE_IS_SWAPPED (1ULL << 4)
#define KD_PAGE_IS_PFNZERO (1ULL << 5)
#define KD_PAGE_IS_HUGE (1ULL << 6)
#define KD_PAGE_IS_SOFT_DIRTY (1ULL << 7)
#define KD_PAGE_IS_GUARD (1ULL << 8)

#define KD_PM_SCAN_WP_MATCHING (1ULL << 0)
#define KD_PM_SCAN_CHECK_WPASYNC (1ULL << 1)

struct kd_page_region {
	uint64_t start, end, categories;
};

struct kd_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define KD_PAGEMAP_SCAN _IOWR('f', 16, struct kd_pm_scan_arg)

#define KD_UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)
#define KD_UFFD_FEATURE_WP_ASYNC (1ULL << 15)

#define KD_MADV_GUARD_INSTALL 102
#define KD_PR_TIMER_CREATE_RESTORE_IDS 77
#define KD_PR_TIMER_CREATE_RESTORE_IDS_GET 2
#define KD_PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#define KD_ARCH_MAP_VDSO_32 0x2002
#define KD_ARCH_MAP_VDSO_64 0x2003

/*
 * Run FN(ARG, OUT) in a forked child. OUT points to OUT_SIZE bytes shared
 * with the parent (zeroed first) and copied back into OUT on return, so a
 * probe can report details. FN returns 1 when the feature is there and 0
 * when it is not; that is what kd_in_child returns. A child that dies by
 * a signal or exits otherwise counts as 0 and is logged with WHAT.
 */
int kd_in_child(const char *what, int (*fn)(void *arg, void *out), void *arg, void *out, size_t out_size);

/* Read up to SIZE-1 bytes of PATH into BUF (NUL-terminated). 0 or -errno. */
int kd_read_file(const char *path, char *buf, size_t size);

/* Probe groups, one file each. Each fills its part of KD. */
void kerndat_probe_task(struct kerndat *kd);
void kerndat_probe_mem(struct kerndat *kd);
void kerndat_probe_files(struct kerndat *kd);
void kerndat_probe_net(struct kerndat *kd);
void kerndat_probe_vdso(struct kerndat *kd);

#endif /* CORE_CHECK_KERNDAT_PRIV_H */
