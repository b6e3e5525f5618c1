/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bootstrap region (bootstrap.c): the one mapping that survives the
 * restorer's unmap-everything step. It holds the restorer blob, its args
 * and every array they point to, the sigframe, the blob's stack and the
 * space where the runtime vDSO is parked. Stage 1 maps it at an address
 * that is free both in criu's layout (this process, now) and in the
 * task's dumped layout, so nothing has to move later.
 */
#ifndef CORE_RESTORE_BOOTSTRAP_H
#define CORE_RESTORE_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include "restorer/restorer-args.h"

#define RST_BOOT_STACK (64u << 10)

struct rst_span {
	uint64_t start, end;
};

struct rst_boot {
	uint8_t *base;	   /* where the region is mapped (and runs) */
	size_t len;
	size_t pos;	   /* allocation cursor, from base */
	size_t limit;	   /* end of the allocatable part */
	size_t stack_top;  /* from base */
	uint64_t park;	   /* address of the vDSO parking space, or 0 */
	size_t park_len;
};

/*
 * Map a region for PAYLOAD bytes of args plus PARK_LEN bytes of parking
 * space, avoiding AVOID[] (the dumped VMAs) and everything mapped now, and
 * copy the relocated blob into it. 0 or a negative errno (logged).
 */
int rst_boot_map(struct rst_boot *b, size_t payload, size_t park_len, const struct rst_span *avoid,
		 size_t nr_avoid);
/* Zeroed space in the region, ALIGN a power of two; NULL (logged) when it is full. */
void *rst_boot_alloc(struct rst_boot *b, size_t len, size_t align);
/* The address of the blob's syscall instruction (criu's munmap stub). */
uint64_t rst_boot_syscall_insn(const struct rst_boot *b);
/* Unmap the region (stage 1 failed before the jump). */
void rst_boot_unmap(struct rst_boot *b);
/* Make the blob text executable and jump into it with ARGS. */
__attribute__((noreturn)) void rst_boot_jump(struct rst_boot *b, struct rst_args *args);

#endif /* CORE_RESTORE_BOOTSTRAP_H */
