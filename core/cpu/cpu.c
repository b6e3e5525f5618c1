// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reading the CPU with CPUID and comparing two CPUs for --cpu-cap.
 *
 * The values are the raw CPUID answers (what user code sees and may have
 * chosen its code paths by), not the kernel's filtered /proc/cpuinfo.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_PREFIX "cpu: "
#include <criu/log.h>

#include "cpu/cpu.h"

#define F(word, bit) ((word)*32u + (bit))

/* Where each capability word comes from (CRIU's enum cpuid_leafs). */
static const char *const cpu_word_sources[CPU_NCAPINTS] = {
	"1 EDX",	  "0x80000001 EDX", "0x80860001 EDX", "synthetic",	"1 ECX",
	"0xc0000001 EDX", "0x80000001 ECX", "synthetic",      "synthetic",	"7.0 EBX",
	"0xd.1 EAX",	  "7.0 ECX",	    "0xf.1 EDX",      "0x80000008 EBX", "6 EAX",
	"0x8000000a EDX", "0xf.0 EDX",	    "0x80000007 EBX", "7.0 EDX",
};

/*
 * Named features. INS marks the instruction-set extensions that
 * --cpu-cap=ins compares: a program may have picked code paths using
 * them. CRIU's list is a subset of this one (it misses FMA, the newer
 * AVX-512 groups, GFNI, VAES and a few more that programs do use).
 */
struct cpu_feature {
	unsigned int feature;
	const char *name;
	bool ins;
};

static const struct cpu_feature cpu_features[] = {
	{ F(0, 0), "fpu", true },
	{ F(0, 4), "tsc", true },
	{ F(0, 8), "cx8", true },
	{ F(0, 11), "sep", true },
	{ F(0, 15), "cmov", true },
	{ F(0, 19), "clflush", true },
	{ F(0, 23), "mmx", true },
	{ F(0, 24), "fxsr", true },
	{ F(0, 25), "sse", true },
	{ F(0, 26), "sse2", true },
	{ F(0, 28), "ht", false },
	{ F(0, 9), "apic", false },
	{ F(1, 11), "syscall", true },
	{ F(1, 20), "nx", false },
	{ F(1, 22), "mmxext", true },
	{ F(1, 26), "pdpe1gb", false },
	{ F(1, 27), "rdtscp", true },
	{ F(1, 29), "lm", false },
	{ F(1, 30), "3dnowext", true },
	{ F(1, 31), "3dnow", true },
	{ F(3, 16), "rep_good", true },
	{ F(3, 20), "nopl", true },
	{ F(4, 0), "pni", true },
	{ F(4, 1), "pclmulqdq", true },
	{ F(4, 3), "monitor", true },
	{ F(4, 5), "vmx", false },
	{ F(4, 9), "ssse3", true },
	{ F(4, 12), "fma", true },
	{ F(4, 13), "cx16", true },
	{ F(4, 19), "sse4_1", true },
	{ F(4, 20), "sse4_2", true },
	{ F(4, 21), "x2apic", false },
	{ F(4, 22), "movbe", true },
	{ F(4, 23), "popcnt", true },
	{ F(4, 25), "aes", true },
	{ F(4, 26), "xsave", true },
	{ F(4, 27), "osxsave", true },
	{ F(4, 28), "avx", true },
	{ F(4, 29), "f16c", true },
	{ F(4, 30), "rdrand", true },
	{ F(4, 31), "hypervisor", false },
	{ F(6, 0), "lahf_lm", true },
	{ F(6, 2), "svm", false },
	{ F(6, 5), "abm", true },
	{ F(6, 6), "sse4a", true },
	{ F(6, 7), "misalignsse", true },
	{ F(6, 8), "3dnowprefetch", true },
	{ F(6, 11), "xop", true },
	{ F(6, 16), "fma4", true },
	{ F(6, 21), "tbm", true },
	{ F(6, 29), "mwaitx", true },
	{ F(9, 0), "fsgsbase", true },
	{ F(9, 3), "bmi1", true },
	{ F(9, 4), "hle", true },
	{ F(9, 5), "avx2", true },
	{ F(9, 7), "smep", false },
	{ F(9, 8), "bmi2", true },
	{ F(9, 9), "erms", true },
	{ F(9, 11), "rtm", true },
	{ F(9, 14), "mpx", true },
	{ F(9, 16), "avx512f", true },
	{ F(9, 17), "avx512dq", true },
	{ F(9, 18), "rdseed", true },
	{ F(9, 19), "adx", true },
	{ F(9, 20), "smap", false },
	{ F(9, 21), "avx512ifma", true },
	{ F(9, 23), "clflushopt", true },
	{ F(9, 24), "clwb", true },
	{ F(9, 26), "avx512pf", true },
	{ F(9, 27), "avx512er", true },
	{ F(9, 28), "avx512cd", true },
	{ F(9, 29), "sha_ni", true },
	{ F(9, 30), "avx512bw", true },
	{ F(9, 31), "avx512vl", true },
	{ F(10, 0), "xsaveopt", true },
	{ F(10, 1), "xsavec", true },
	{ F(10, 2), "xgetbv1", true },
	{ F(10, 3), "xsaves", true },
	{ F(11, 1), "avx512vbmi", true },
	{ F(11, 3), "pku", false },
	{ F(11, 4), "ospke", false },
	{ F(11, 6), "avx512_vbmi2", true },
	{ F(11, 7), "shstk", false },
	{ F(11, 8), "gfni", true },
	{ F(11, 9), "vaes", true },
	{ F(11, 10), "vpclmulqdq", true },
	{ F(11, 11), "avx512_vnni", true },
	{ F(11, 12), "avx512_bitalg", true },
	{ F(11, 14), "avx512_vpopcntdq", true },
	{ F(11, 16), "la57", false },
	{ F(11, 22), "rdpid", true },
	{ F(11, 25), "cldemote", true },
	{ F(11, 27), "movdiri", true },
	{ F(11, 28), "movdir64b", true },
	{ F(13, 0), "clzero", true },
	{ F(18, 2), "avx512_4vnniw", true },
	{ F(18, 3), "avx512_4fmaps", true },
	{ F(18, 8), "avx512_vp2intersect", true },
	{ F(18, 14), "serialize", true },
	{ F(18, 20), "ibt", false },
	{ F(18, 22), "amx_bf16", true },
	{ F(18, 23), "avx512_fp16", true },
	{ F(18, 24), "amx_tile", true },
	{ F(18, 25), "amx_int8", true },
};

#define N_FEATURES (sizeof(cpu_features) / sizeof(cpu_features[0]))

/* Feature bits the FPU level cares about. */
static const unsigned int cpu_fpu_features[] = { F(0, 0), F(0, 24), F(4, 26), F(4, 27) };

const char *cpu_feature_name(unsigned int feature)
{
	size_t i;

	for (i = 0; i < N_FEATURES; i++)
		if (cpu_features[i].feature == feature)
			return cpu_features[i].name;
	return NULL;
}

const char *cpu_word_source(unsigned int word)
{
	return word < CPU_NCAPINTS ? cpu_word_sources[word] : "?";
}

bool cpu_has(const struct cpu_info *ci, unsigned int feature)
{
	if (feature / 32 >= CPU_NCAPINTS)
		return false;
	return ci->cap[feature / 32] & (1u << (feature % 32));
}

static void cpu_set(struct cpu_info *ci, unsigned int feature, bool on)
{
	if (on)
		ci->cap[feature / 32] |= 1u << (feature % 32);
	else
		ci->cap[feature / 32] &= ~(1u << (feature % 32));
}

static void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__cpuid_count(leaf, sub, *a, *b, *c, *d);
}

static uint64_t cpu_xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* User xstate components: x87..Hi16_ZMM (0-7), PKRU (9), AMX (17, 18), APX (19). */
#define CPU_XFEATURE_USER_MASK 0xe02ffULL

static void cpu_read_xsave(struct cpu_info *ci, uint32_t max_leaf)
{
	uint32_t a, b, c, d;

	if (max_leaf < 0xd || !cpu_has(ci, F(4, 26)))
		return;
	cpuid_count(0xd, 0, &a, &b, &c, &d);
	ci->xfeatures_mask = ((uint64_t)d << 32 | a) & CPU_XFEATURE_USER_MASK;
	/* What the kernel enabled: XGETBV faults unless OSXSAVE is set. */
	if (cpu_has(ci, F(4, 27)))
		ci->xfeatures_mask &= cpu_xgetbv0();
	ci->xsave_size = b;
	ci->xsave_size_max = c;
}

static void cpu_read_brand(struct cpu_info *ci, uint32_t max_ext)
{
	uint32_t v[12];
	char *p;
	int i;

	if (max_ext < 0x80000004)
		return;
	for (i = 0; i < 3; i++)
		cpuid_count(0x80000002 + i, 0, &v[4 * i], &v[4 * i + 1], &v[4 * i + 2], &v[4 * i + 3]);
	memcpy(ci->model_id, v, 48);
	ci->model_id[48] = '\0';
	/* Intel right-justifies the string. */
	for (p = ci->model_id; *p == ' '; p++)
		;
	memmove(ci->model_id, p, strlen(p) + 1);
}

int cpu_read(struct cpu_info *ci)
{
	uint32_t max_leaf, max_ext, a, b, c, d;

	memset(ci, 0, sizeof(*ci));
	cpuid_count(0, 0, &max_leaf, &b, &c, &d);
	memcpy(ci->vendor_id, &b, 4);
	memcpy(ci->vendor_id + 4, &d, 4);
	memcpy(ci->vendor_id + 8, &c, 4);
	if (!strcmp(ci->vendor_id, "GenuineIntel"))
		ci->vendor = CPU_VENDOR_INTEL;
	else if (!strcmp(ci->vendor_id, "AuthenticAMD"))
		ci->vendor = CPU_VENDOR_AMD;

	if (max_leaf >= 1) {
		cpuid_count(1, 0, &a, &b, &c, &d);
		ci->family = (a >> 8) & 0xf;
		ci->model = (a >> 4) & 0xf;
		ci->stepping = a & 0xf;
		if (ci->family == 0xf)
			ci->family += (a >> 20) & 0xff;
		if (ci->family >= 6)
			ci->model += ((a >> 16) & 0xf) << 4;
		ci->cap[0] = d;
		ci->cap[4] = c;
	}
	if (max_leaf >= 6) {
		cpuid_count(6, 0, &a, &b, &c, &d);
		ci->cap[14] = a;
	}
	if (max_leaf >= 7) {
		cpuid_count(7, 0, &a, &b, &c, &d);
		ci->cap[9] = b;
		ci->cap[11] = c;
		ci->cap[18] = d;
	}
	if (max_leaf >= 0xd) {
		cpuid_count(0xd, 1, &a, &b, &c, &d);
		ci->cap[10] = a;
	}
	if (max_leaf >= 0xf) {
		cpuid_count(0xf, 0, &a, &b, &c, &d);
		ci->cap[16] = d;
		cpuid_count(0xf, 1, &a, &b, &c, &d);
		ci->cap[12] = d;
	}

	cpuid_count(0x80000000, 0, &max_ext, &b, &c, &d);
	if ((max_ext & 0xffff0000) != 0x80000000)
		max_ext = 0;
	if (max_ext >= 0x80000001) {
		cpuid_count(0x80000001, 0, &a, &b, &c, &d);
		ci->cap[1] = d;
		ci->cap[6] = c;
	}
	if (max_ext >= 0x80000007) {
		cpuid_count(0x80000007, 0, &a, &b, &c, &d);
		ci->cap[17] = b;
	}
	if (max_ext >= 0x80000008) {
		cpuid_count(0x80000008, 0, &a, &b, &c, &d);
		ci->cap[13] = b;
	}
	if (max_ext >= 0x8000000a) {
		cpuid_count(0x8000000a, 0, &a, &b, &c, &d);
		ci->cap[15] = d;
	}
	cpu_read_brand(ci, max_ext);

	/* The synthetic bits CRIU records: NOPL always on x86-64, REP_GOOD by family. */
	cpu_set(ci, F(3, 20), true);
	if ((ci->vendor == CPU_VENDOR_INTEL && ci->family == 6) || (ci->vendor == CPU_VENDOR_AMD && ci->family >= 0x10))
		cpu_set(ci, F(3, 16), true);
	/* AMD's 1 EDX bit 31 is not PBE; CRIU clears it. */
	if (ci->vendor == CPU_VENDOR_AMD)
		cpu_set(ci, F(0, 31), false);

	cpu_read_xsave(ci, max_leaf);
	return 0;
}

int cpu_xsave_info(struct cpu_xsave *xs)
{
	struct cpu_info ci;
	int ret;

	ret = cpu_read(&ci);
	if (ret)
		return ret;
	xs->xfeatures = ci.xfeatures_mask;
	xs->xsave_size = ci.xsave_size;
	xs->xsave_size_max = ci.xsave_size_max;
	return 0;
}

/* Append the name of FEATURE (or its word and bit) to BUF. */
static void cpu_list_feature(char *buf, size_t size, unsigned int feature)
{
	const char *name = cpu_feature_name(feature);
	size_t len = strlen(buf);

	if (len + 2 >= size)
		return;
	if (name)
		snprintf(buf + len, size - len, "%s%s", len ? " " : "", name);
	else
		snprintf(buf + len, size - len, "%sword%u(%s):bit%u", len ? " " : "", feature / 32,
			 cpu_word_source(feature / 32), feature % 32);
}

static bool cpu_is_ins(unsigned int feature)
{
	size_t i;

	for (i = 0; i < N_FEATURES; i++)
		if (cpu_features[i].feature == feature)
			return cpu_features[i].ins;
	return false;
}

static int cpu_compare_fpu(const struct cpu_info *img, const struct cpu_info *here)
{
	char missing[256] = "";
	uint64_t extra;
	size_t i;
	int ret = 0;

	for (i = 0; i < sizeof(cpu_fpu_features) / sizeof(cpu_fpu_features[0]); i++)
		if (cpu_has(img, cpu_fpu_features[i]) && !cpu_has(here, cpu_fpu_features[i]))
			cpu_list_feature(missing, sizeof(missing), cpu_fpu_features[i]);
	if (missing[0]) {
		pr_err("FPU features of the image missing on this CPU: %s", missing);
		ret = -ENOTSUP;
	}
	extra = img->xfeatures_mask & ~here->xfeatures_mask;
	if (extra) {
		pr_err("xsave features of the image not enabled on this CPU: %#llx "
		       "(image %#llx, here %#llx)",
		       (unsigned long long)extra, (unsigned long long)img->xfeatures_mask,
		       (unsigned long long)here->xfeatures_mask);
		ret = -ENOTSUP;
	}
	if (img->xsave_size > here->xsave_size) {
		pr_err("xsave area of the image does not fit: %u bytes, %u here", img->xsave_size, here->xsave_size);
		ret = -ENOTSUP;
	}
	return ret;
}

/* Bits of IMG missing in HERE, restricted to instruction sets if INS_ONLY. */
static int cpu_compare_bits(const struct cpu_info *img, const struct cpu_info *here, bool ins_only)
{
	char missing[1024] = "";
	unsigned int word, bit;

	for (word = 0; word < CPU_NCAPINTS; word++) {
		uint32_t lack = img->cap[word] & ~here->cap[word];

		for (bit = 0; lack && bit < 32; bit++) {
			unsigned int f = F(word, bit);

			if (!(lack & (1u << bit)) || (ins_only && !cpu_is_ins(f)))
				continue;
			cpu_list_feature(missing, sizeof(missing), f);
		}
	}
	if (!missing[0])
		return 0;
	if (ins_only)
		pr_err("Instruction set mismatch: the image needs %s, missing on this CPU", missing);
	else
		pr_err("CPU capabilities of the image missing on this CPU: %s", missing);
	return -ENOTSUP;
}

int cpu_compare(const struct cpu_info *img, const struct cpu_info *here, unsigned int cap)
{
	int ret = 0;

	if ((cap & CPU_CAP_FPU) && cpu_compare_fpu(img, here))
		ret = -ENOTSUP;
	if ((cap & CPU_CAP_INS) && cpu_compare_bits(img, here, true))
		ret = -ENOTSUP;
	if ((cap & CPU_CAP_CPU) && cpu_compare_bits(img, here, false))
		ret = -ENOTSUP;
	return ret;
}
