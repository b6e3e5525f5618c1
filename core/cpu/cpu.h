/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CPU criu runs on, read with CPUID, and the compatibility rules of
 * --cpu-cap between a CPU recorded in cpuinfo.img and this one.
 *
 * The capability words follow CRIU's x86 layout (capability_ver 2,
 * 19 words; the word numbers are an image ABI): word 0 is CPUID 1 EDX,
 * 1 is 0x80000001 EDX, 4 is 1 ECX, 6 is 0x80000001 ECX, 9/11/18 are
 * leaf 7 subleaf 0 EBX/ECX/EDX, 10 is 0xD subleaf 1 EAX, and so on (see
 * cpu.c). Word 3 holds two synthetic bits CRIU sets: REP_GOOD and NOPL.
 */
#ifndef CORE_CPU_CPU_H
#define CORE_CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define CPU_NCAPINTS_V1 12
#define CPU_NCAPINTS 19
#define CPU_CAPABILITY_VER 2

/* Values of cpuinfo_x86_entry.vendor (CRIU's enum). */
enum cpu_vendor {
	CPU_VENDOR_UNKNOWN = 0,
	CPU_VENDOR_INTEL = 1,
	CPU_VENDOR_AMD = 2,
};

/* --cpu-cap bits, as in CRIU and the RPC cpu_cap field. */
#define CPU_CAP_NONE 0x0u
#define CPU_CAP_FPU 0x1u   /* FPU and extended-state compatibility */
#define CPU_CAP_CPU 0x2u   /* every capability bit of the image */
#define CPU_CAP_INS 0x4u   /* the instruction-set bits of the image */
#define CPU_CAP_IMAGE 0x8u /* write cpuinfo.img on dump, check it on restore */
#define CPU_CAP_ALL (CPU_CAP_FPU | CPU_CAP_CPU | CPU_CAP_INS)
#define CPU_CAP_DEFAULT (CPU_CAP_FPU | CPU_CAP_INS)

struct cpu_info {
	enum cpu_vendor vendor;
	char vendor_id[13]; /* "AuthenticAMD" */
	uint32_t family, model, stepping;
	uint32_t cap[CPU_NCAPINTS];
	uint64_t xfeatures_mask; /* user xstate components (XCR0 & CPUID 0xD) */
	uint32_t xsave_size;	 /* XSAVE area for what XCR0 enables */
	uint32_t xsave_size_max; /* XSAVE area for everything the CPU has */
	char model_id[49];	 /* brand string, leading blanks removed */
};

struct cpu_xsave {
	uint64_t xfeatures;
	uint32_t xsave_size, xsave_size_max;
};

/* Read this CPU. Returns 0 (x86-64 always has CPUID). */
int cpu_read(struct cpu_info *ci);
/* Only the extended-state figures (for kerndat). */
int cpu_xsave_info(struct cpu_xsave *xs);

/* Feature FEATURE = word * 32 + bit. */
bool cpu_has(const struct cpu_info *ci, unsigned int feature);

/*
 * Can a task dumped on IMG run here, under the --cpu-cap bits CAP?
 * FPU: the image's FPU/FXSR/XSAVE bits are here, its xstate components
 * are a subset of ours and its XSAVE area fits ours. INS: every
 * instruction-set bit of the image is here. CPU: every capability bit of
 * the image is here. Returns 0, or -ENOTSUP after one pr_err line per
 * kind of difference, naming the features (or word and bit) that differ.
 */
int cpu_compare(const struct cpu_info *img, const struct cpu_info *here, unsigned int cap);

/* The CRIU name of feature WORD*32+BIT ("avx512f"), or NULL if unnamed. */
const char *cpu_feature_name(unsigned int feature);
/* The CPUID leaf and register of capability word WORD ("7.0 EBX"). */
const char *cpu_word_source(unsigned int word);

#endif /* CORE_CPU_CPU_H */
