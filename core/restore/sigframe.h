/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Building the rt_sigframe the restorer returns through (sigframe.c).
 */
#ifndef CORE_RESTORE_SIGFRAME_H
#define CORE_RESTORE_SIGFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "images/core.pb-c.h"

/* This CPU's xsave layout: enabled features, total size, component offsets. */
struct rst_xsave_layout {
	uint64_t xcr0;
	uint32_t size;	  /* the standard-format area, 512 without xsave */
	uint32_t off[16]; /* CPUID.(0xd, i).EBX */
	uint32_t len[16]; /* CPUID.(0xd, i).EAX */
};

/* Read CPUID/XCR0. 0 or -EINVAL (logged) if CPUID reports nonsense. */
int rst_xsave_layout_get(struct rst_xsave_layout *l);
/* Bytes a frame needs from its (64-byte aligned) start. */
size_t rst_sigframe_size(const struct rst_xsave_layout *l);
/*
 * Build the frame for CORE at FRAME, which is where it will be used (the
 * fpstate pointer in it is absolute). The sigreturn takes rsp = FRAME + 8.
 * IMAGE names the core image in messages. 0 or a negative errno (logged).
 */
int rst_sigframe_build(uint8_t *frame, const CoreEntry *core, const struct rst_xsave_layout *l,
		       const char *image);

#endif /* CORE_RESTORE_SIGFRAME_H */
