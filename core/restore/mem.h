/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory plan (mem.c): what the restorer maps, from which fds, and
 * which page runs of the pages image go where. Built in stage 1.
 */
#ifndef CORE_RESTORE_MEM_H
#define CORE_RESTORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "restore/bootstrap.h"
#include "restore/restore.h"

struct rst_parent;

struct rst_mem_plan {
	struct rst_vma *vmas;
	uint32_t nr_vmas;
	struct rst_iov *iovs;
	uint32_t nr_iovs;
	struct rst_range *guards;
	uint32_t nr_guards;
	struct rst_poke *pokes;	   /* vDSO proxy jumps */
	uint32_t nr_pokes;
	int *fds;	   /* opened here, closed by the restorer */
	uint32_t nr_fds;
	int pages_fd;	   /* -1 when no page is restored */
	int exe_fd;	   /* -1: keep the runtime exe link */
	struct rst_parent *parent; /* parent images, while planning */
	struct rst_span *avoid; /* the dumped layout, for the bootstrap address */
	size_t nr_avoid;

	/* vDSO (5.12) */
	bool vdso_remap;
	uint64_t rt_vvar_start, rt_vvar_len;
	uint64_t rt_vdso_start, rt_vdso_len;
	uint64_t dumped_vvar_start, dumped_vdso_start;
	size_t park_len;
};

/* Append a page run (merged with the last one when contiguous) or an fd to close. */
int rst_mem_add_iov(struct rst_mem_plan *p, size_t *cap, uint64_t addr, uint64_t len,
		    uint64_t off, int fd);
int rst_mem_add_fd(struct rst_mem_plan *p, int fd);

/* mem-parent.c: pages an incremental dump left in its parent images. */
struct rst_parent;
/* Add the runs for [ADDR, ADDR+LEN) from the nearest ancestor that has them. */
int rst_parent_pages(struct rst_ctx *c, struct rst_mem_plan *p, struct rst_parent **pp,
		     uint64_t addr, uint64_t len, size_t *cap);
void rst_parent_free(struct rst_parent *pp);

/*
 * vdso-proxy.c: the dumped vDSO DV differs from this kernel's, whose vvar
 * and vdso span [RT_LO, RT_HI): restore DV as plain memory whose functions
 * jump to this kernel's, moved where the task's layout has room.
 */
int rst_vdso_proxy(struct rst_ctx *c, struct rst_mem_plan *p, struct rst_vma *dv, uint64_t rt_lo,
		   uint64_t rt_hi);

/* Build the plan from the mm and pagemap images. 0 or a negative errno (logged). */
int rst_mem_plan(struct rst_ctx *c, struct rst_mem_plan *p);
/* Free it; with CLOSE, also close the fds it opened. */
void rst_mem_plan_free(struct rst_mem_plan *p, bool close_fds);

#endif /* CORE_RESTORE_MEM_H */
