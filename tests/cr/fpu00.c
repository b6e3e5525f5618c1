// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Register state across the dump. An assembly loop (fpu00-asm.S) loads
 * patterns into the x87 stack and control word, MXCSR, the vector
 * registers of the widest set the CPU and kernel enable (SSE xmm0-15,
 * AVX ymm0-15, or AVX-512 zmm0-31 and k0-7) and nine general purpose
 * registers, spins without touching them until SIGUSR1 arrives after
 * restore, then stores them all; every byte must be what was loaded.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"
#include "fpu00.h"

#include <cpuid.h>
#include <string.h>

enum level { SSE, AVX, AVX512 };

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static enum level detect(void)
{
	unsigned int a, b, c, d;
	uint64_t xcr0;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return SSE;
	xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6)
		return SSE;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & bit_AVX512F) || (xcr0 & 0xe6) != 0xe6)
		return AVX;
	return AVX512;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "SSE", "AVX", "AVX-512" };
	static struct fpu_regs in, out;
	size_t vec_bytes, nr_vec;
	enum level lvl;

	test_init(argc, argv);
	lvl = detect();
	nr_vec = lvl == AVX512 ? 32 : 16;
	vec_bytes = lvl == SSE ? 16 : lvl == AVX ? 32 : 64;

	test_fill(in.vec, sizeof(in.vec), 0xf00);
	test_fill(in.k, sizeof(in.k), 0xf01);
	test_fill(in.gpr, sizeof(in.gpr), 0xf02);
	for (int i = 0; i < 8; i++)
		in.st[i] = 3.141592653589793 * (i + 1) + 1.0 / (i + 3);
	in.mxcsr = 0x7fc0; /* round toward zero, denormals are zero, all masked */
	in.fcw = 0x0e7f;   /* round toward zero, double precision, all masked */
	memset(&out, 0, sizeof(out));
	test_msg("holding %s registers", names[lvl]);

	test_daemon();
	switch (lvl) {
	case SSE:
		fpu_spin_sse(test_usr1_flag(), &in, &out);
		break;
	case AVX:
		fpu_spin_avx(test_usr1_flag(), &in, &out);
		break;
	case AVX512:
		fpu_spin_avx512(test_usr1_flag(), &in, &out);
		break;
	}

	for (size_t i = 0; i < nr_vec; i++)
		if (memcmp(in.vec[i], out.vec[i], vec_bytes))
			test_error("%s register %zu differs", names[lvl], i);
	if (lvl == AVX512)
		for (int i = 0; i < 8; i++)
			if (in.k[i] != out.k[i])
				test_error("k%d is %#x, want %#x", i, out.k[i], in.k[i]);
	for (int i = 0; i < 8; i++)
		if (memcmp(&in.st[i], &out.st[i], sizeof(double)))
			test_error("st(%d) is %.17g, want %.17g", i, out.st[i], in.st[i]);
	for (int i = 0; i < 9; i++)
		if (in.gpr[i] != out.gpr[i])
			test_error("general register %d is %#llx, want %#llx", i, (unsigned long long)out.gpr[i],
				   (unsigned long long)in.gpr[i]);
	if (out.mxcsr != in.mxcsr)
		test_error("MXCSR is %#x, want %#x", out.mxcsr, in.mxcsr);
	if (out.fcw != in.fcw)
		test_error("x87 control word is %#x, want %#x", out.fcw, in.fcw);
	test_finish();
}
