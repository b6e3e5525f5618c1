/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the restorer blob: the helpers its files share.
 */
#ifndef PARASITE_RESTORER_RESTORER_H
#define PARASITE_RESTORER_RESTORER_H

#include <stddef.h>
#include <stdint.h>

#include <pie/string.h>

#include "restorer-args.h"

#define RST_PAGE_SIZE 4096ul

/* Send a report to criu (no-op without a report fd). */
void rst_report(const struct rst_args *a, int kind, int step, long err, uint64_t arg,
		uint64_t arg2);
/* Report an error and exit the task; criu kills what is left. */
__attribute__((noreturn)) void rst_fail(const struct rst_args *a, int step, long err,
					uint64_t arg, uint64_t arg2);

/* restorer-mem.c: steps 5.7-5.12, in this order. */
void rst_park_vdso(const struct rst_args *a);
void rst_unmap_old(const struct rst_args *a);
void rst_map_vmas(const struct rst_args *a);
void rst_fill_pages(const struct rst_args *a);
void rst_finish_vmas(const struct rst_args *a);
void rst_remap_vdso(const struct rst_args *a);

/* restorer-creds.c */
void rst_restore_seccomp(const struct rst_args *a);
void rst_restore_creds(const struct rst_args *a);

/* The asm stubs in head.S. */
__attribute__((noreturn)) void rst_sigreturn(uint64_t rsp);
long rst_clone_thread(void *clone_args, uint64_t size, void (*fn)(void *), void *arg);

#endif /* PARASITE_RESTORER_RESTORER_H */
