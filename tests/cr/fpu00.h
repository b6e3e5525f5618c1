/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The register image shared by fpu00.c and fpu00-asm.S; offsets are fixed. */
#ifndef FPU00_H
#define FPU00_H

#define FPU_VEC_OFF 0	 /* 32 vector registers, 64 bytes each */
#define FPU_K_OFF 2048	 /* 8 opmask registers, 2 bytes each (kmovw) */
#define FPU_ST_OFF 2064	 /* 8 x87 registers as doubles, st(0) first */
#define FPU_GPR_OFF 2128 /* rbx, r8 ... r15: 9 words */
#define FPU_MXCSR_OFF 2200
#define FPU_FCW_OFF 2204
#define FPU_SIZE 2208

#ifndef __ASSEMBLER__
#include <stdint.h>

struct fpu_regs {
	uint8_t vec[32][64];
	uint16_t k[8];
	double st[8];
	uint64_t gpr[9];
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad;
};

_Static_assert(sizeof(struct fpu_regs) == FPU_SIZE, "fpu_regs layout");

/*
 * Load every register of the set from IN, spin until *STOP is non-zero
 * without touching them, then store them all to OUT.
 */
void fpu_spin_sse(const volatile int *stop, const struct fpu_regs *in, struct fpu_regs *out);
void fpu_spin_avx(const volatile int *stop, const struct fpu_regs *in, struct fpu_regs *out);
void fpu_spin_avx512(const volatile int *stop, const struct fpu_regs *in, struct fpu_regs *out);
#endif

#endif /* FPU00_H */
