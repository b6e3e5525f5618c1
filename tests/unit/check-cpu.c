// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * core/cpu: CPUID reading, the --cpu-cap rules and cpuinfo.img. Images
 * are written to a fresh directory, edited the way a CPU of another host
 * would look, and checked; Debian's crit must read what we write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-tap.h"
#include "cpu/cpu.h"
#include "cpu/cpuinfo.h"
#include "images/image.h"

#include "cpuinfo.pb-c.h"

/* A scratch directory, removed (with its files) by tmpdir_done(). */
struct tmpdir {
	char path[64];
	int fd;
};

static void tmpdir_make(struct tmpdir *t)
{
	strcpy(t->path, "/tmp/criu-check-cpu-XXXXXX");
	REQUIRE(mkdtemp(t->path));
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	REQUIRE(t->fd >= 0);
}

static void tmpdir_done(struct tmpdir *t)
{
	char cmd[128];

	close(t->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	if (system(cmd))
		printf("# could not remove %s\n", t->path);
}

/* Everything logged while CAPTURE is on lands in a memfd we read back. */
static int log_capture_fd = -1;

static void capture_start(void)
{
	log_capture_fd = memfd_create("log", MFD_CLOEXEC);
	REQUIRE(log_capture_fd >= 0);
	log_set_fd(log_capture_fd);
}

/* Stop capturing; returns the text (free it). */
static char *capture_end(void)
{
	off_t len = lseek(log_capture_fd, 0, SEEK_END);
	char *buf = calloc(1, (size_t)len + 1);

	REQUIRE(buf);
	REQUIRE(pread(log_capture_fd, buf, (size_t)len, 0) == len);
	log_set_fd(STDERR_FILENO);
	close(log_capture_fd);
	log_capture_fd = -1;
	printf("# log: %s\n", buf[0] ? buf : "(empty)");
	return buf;
}

/* Overrides for write_image(): how the edited file differs from CI. */
struct edit {
	uint32_t capability_ver;
	size_t n_capability;
	size_t n_x86_entry;
	int vendor;
};

static void write_image(int dirfd, const struct cpu_info *ci, const struct edit *e)
{
	CpuinfoEntry ce = CPUINFO_ENTRY__INIT;
	CpuinfoX86Entry xe = CPUINFO_X86_ENTRY__INIT;
	CpuinfoX86Entry *xp[2] = { &xe, &xe };
	struct img_dir *dir;
	struct image *img;
	uint32_t cap[CPU_NCAPINTS + 1];

	memset(cap, 0, sizeof(cap));
	memcpy(cap, ci->cap, sizeof(ci->cap));
	xe.vendor_id = (CpuinfoX86Entry__Vendor)(e && e->vendor >= 0 ? e->vendor : (int)ci->vendor);
	xe.cpu_family = ci->family;
	xe.model = ci->model;
	xe.stepping = ci->stepping;
	xe.capability_ver = e && e->capability_ver ? e->capability_ver : CPU_CAPABILITY_VER;
	xe.n_capability = e && e->n_capability ? e->n_capability : CPU_NCAPINTS;
	xe.capability = cap;
	xe.has_xfeatures_mask = xe.has_xsave_size = xe.has_xsave_size_max = true;
	xe.xfeatures_mask = ci->xfeatures_mask;
	xe.xsave_size = ci->xsave_size;
	xe.xsave_size_max = ci->xsave_size_max;
	xe.model_id = (char *)ci->model_id;
	ce.n_x86_entry = e ? e->n_x86_entry : 1;
	ce.x86_entry = xp;

	REQUIRE(img_dir_adopt(fcntl(dirfd, F_DUPFD_CLOEXEC, 0), "test dir", &dir) == 0);
	REQUIRE(img_open_write(dir, CPUINFO_IMG, CPUINFO_MAGIC, &img) == 0);
	REQUIRE(img_write_msg(img, &ce.base) == 0);
	REQUIRE(img_close(img) == 0);
	img_dir_close(dir);
}

/* The first named instruction-set feature this CPU lacks, or -1. */
static int missing_ins_feature(const struct cpu_info *here)
{
	static const unsigned int candidates[] = {
		18 * 32 + 3,  /* avx512_4fmaps (Xeon Phi) */
		18 * 32 + 2,  /* avx512_4vnniw */
		9 * 32 + 26,  /* avx512pf */
		6 * 32 + 16,  /* fma4 (old AMD) */
		1 * 32 + 31,  /* 3dnow */
		18 * 32 + 24, /* amx_tile */
	};
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (!cpu_has(here, candidates[i]))
			return (int)candidates[i];
	return -1;
}

static void test_cpu_read(void)
{
	struct cpu_info ci, again;

	CHECK_EQ(cpu_read(&ci), 0);
	CHECK_EQ(cpu_read(&again), 0);
	CHECK(memcmp(&ci, &again, sizeof(ci)) == 0);
	printf("# %s family %u model %u stepping %u \"%s\" xfeatures %#llx xsave %u/%u\n", ci.vendor_id, ci.family,
	       ci.model, ci.stepping, ci.model_id, (unsigned long long)ci.xfeatures_mask, ci.xsave_size,
	       ci.xsave_size_max);
	CHECK(ci.vendor == CPU_VENDOR_INTEL || ci.vendor == CPU_VENDOR_AMD);
	CHECK(ci.family >= 6);
	CHECK(cpu_has(&ci, 0 * 32 + 0));  /* fpu */
	CHECK(cpu_has(&ci, 0 * 32 + 26)); /* sse2: every x86-64 CPU */
	CHECK(cpu_has(&ci, 1 * 32 + 29)); /* lm */
	CHECK(cpu_has(&ci, 3 * 32 + 20)); /* nopl, synthetic */
	CHECK(ci.model_id[0] != ' ');
	if (cpu_has(&ci, 4 * 32 + 27)) {
		CHECK_EQ(ci.xfeatures_mask & 3, 3);
		CHECK(ci.xsave_size >= 576 && ci.xsave_size <= ci.xsave_size_max);
	}
	CHECK(cpu_feature_name(9 * 32 + 16) && !strcmp(cpu_feature_name(9 * 32 + 16), "avx512f"));
	CHECK(!strcmp(cpu_word_source(9), "7.0 EBX"));
}

/* cpu_compare on structs: each rule, in both directions. */
static void test_compare_rules(void)
{
	struct cpu_info here, img;
	char *log;
	int f;

	cpu_read(&here);
	img = here;
	CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_ALL), 0);

	/* A poorer image is fine at every level. */
	memset(img.cap, 0, sizeof(img.cap));
	img.xfeatures_mask = 3;
	img.xsave_size = 576;
	CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_ALL), 0);

	/* A capability with no instructions: only the cpu level sees it. */
	img = here;
	img.cap[2] |= 1u; /* Transmeta's recovery mode */
	CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_FPU | CPU_CAP_INS), 0);
	capture_start();
	CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_CPU), -ENOTSUP);
	log = capture_end();
	CHECK(strstr(log, "CPU capabilities of the image missing on this CPU: word2(0x80860001 EDX):bit0"));
	free(log);

	f = missing_ins_feature(&here);
	if (f >= 0) {
		img = here;
		img.cap[f / 32] |= 1u << (f % 32);
		capture_start();
		CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_INS), -ENOTSUP);
		log = capture_end();
		CHECK(strstr(log, "Instruction set mismatch: the image needs"));
		CHECK(strstr(log, cpu_feature_name((unsigned int)f)));
		free(log);
		CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_FPU), 0);
		CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_NONE), 0);
	}

	/* Extended state: a component or a bigger area we do not have. */
	img = here;
	img.xfeatures_mask |= 1ULL << 18; /* AMX tile data */
	if (!(here.xfeatures_mask & (1ULL << 18))) {
		capture_start();
		CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_FPU), -ENOTSUP);
		log = capture_end();
		CHECK(strstr(log, "xsave features of the image not enabled on this CPU: 0x40000"));
		free(log);
		CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_INS | CPU_CAP_CPU), 0);
	}
	img = here;
	img.xsave_size = here.xsave_size + 64;
	capture_start();
	CHECK_EQ(cpu_compare(&img, &here, CPU_CAP_FPU), -ENOTSUP);
	log = capture_end();
	CHECK(strstr(log, "xsave area of the image does not fit"));
	free(log);
}

static void test_dump_then_check(void)
{
	struct tmpdir t;
	struct cpu_info here, img;
	uint32_t head[2];
	int fd;

	tmpdir_make(&t);
	CHECK_EQ(cpuinfo_dump_dir(t.fd), 0);
	fd = openat(t.fd, CPUINFO_IMG, O_RDONLY);
	REQUIRE(fd >= 0);
	CHECK_EQ(read(fd, head, sizeof(head)), sizeof(head));
	close(fd);
	CHECK_EQ(head[0], 0x54564319); /* IMG_COMMON_MAGIC */
	CHECK_EQ(head[1], 0x61404013); /* CPUINFO */

	cpu_read(&here);
	CHECK_EQ(cpuinfo_read_dir(t.fd, &img), 0);
	CHECK(memcmp(img.cap, here.cap, sizeof(here.cap)) == 0);
	CHECK_EQ(img.family, here.family);
	CHECK_EQ(img.xfeatures_mask, here.xfeatures_mask);
	CHECK_EQ(img.xsave_size, here.xsave_size);
	CHECK(!strcmp(img.model_id, here.model_id));

	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_DEFAULT), 0);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), 0);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_CPU), 0);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_NONE), 0);
	tmpdir_done(&t);
}

/* An image that claims a capability this CPU lacks. */
static void test_edited_image(void)
{
	struct cpu_info here, fake;
	struct tmpdir t;
	char *log;

	cpu_read(&here);
	fake = here;
	fake.cap[2] |= 1u;
	tmpdir_make(&t);
	write_image(t.fd, &fake, NULL);

	capture_start();
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_CPU), -ENOTSUP);
	log = capture_end();
	CHECK(strstr(log, "word2(0x80860001 EDX):bit0"));
	CHECK(strstr(log, "cpuinfo.img"));
	free(log);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_NONE), 0);
	/* The default (fpu,ins) does not look at such a bit. */
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_DEFAULT), 0);
	tmpdir_done(&t);
}

/* Malformed files fail with an error naming cpuinfo.img, never a crash. */
static void test_bad_images(void)
{
	struct edit bad_ver = { .capability_ver = 7, .n_x86_entry = 1, .vendor = -1 };
	struct edit bad_words = { .capability_ver = 2, .n_capability = 12, .n_x86_entry = 1, .vendor = -1 };
	struct edit no_entry = { .n_x86_entry = 0, .vendor = -1 };
	struct edit two_entries = { .n_x86_entry = 2, .vendor = -1 };
	struct edit v1 = { .capability_ver = 1, .n_capability = 12, .n_x86_entry = 1, .vendor = -1 };
	struct cpu_info here, img;
	struct tmpdir t;
	char *log;
	int fd;

	cpu_read(&here);
	tmpdir_make(&t);
	capture_start();
	CHECK(cpuinfo_check_dir(t.fd, CPU_CAP_ALL) < 0); /* missing file */
	write_image(t.fd, &here, &bad_ver);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), -EINVAL);
	write_image(t.fd, &here, &bad_words);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), -EINVAL);
	write_image(t.fd, &here, &no_entry);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), -EINVAL);
	write_image(t.fd, &here, &two_entries);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), -EINVAL);
	log = capture_end();
	CHECK(strstr(log, "cpuinfo.img: unknown capability version 7"));
	CHECK(strstr(log, "cpuinfo.img: 12 capability words, version 2 has 19"));
	CHECK(strstr(log, "cpuinfo.img: 0 x86 entries, expected 1"));
	free(log);

	/* Version 1 images (12 words) are read; the other words come from here. */
	write_image(t.fd, &here, &v1);
	CHECK_EQ(cpuinfo_read_dir(t.fd, &img), 0);
	CHECK(memcmp(img.cap, here.cap, sizeof(img.cap)) == 0);
	CHECK_EQ(cpuinfo_check_dir(t.fd, CPU_CAP_ALL), 0);

	/* Garbage after a valid header. */
	fd = openat(t.fd, CPUINFO_IMG, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	CHECK_EQ(write(fd, "\x19\x43\x56\x54\x13\x40\x40\x61\xff\xff\xff\x7f", 12), 12);
	close(fd);
	capture_start();
	CHECK(cpuinfo_check_dir(t.fd, CPU_CAP_ALL) < 0);
	free(capture_end());
	tmpdir_done(&t);
}

/* Debian's crit decodes our file, and sees our values. */
static void test_crit_decode(void)
{
	char cmd[256], *json;
	struct cpu_info here;
	struct tmpdir t;
	FILE *f;
	long len;

	/* crit is a build dependency (Debian package criu): missing, it fails. */
	REQUIRE(system("command -v crit >/dev/null 2>&1") == 0);
	cpu_read(&here);
	tmpdir_make(&t);
	CHECK_EQ(cpuinfo_dump_dir(t.fd), 0);
	snprintf(cmd, sizeof(cmd), "crit decode -i %s/cpuinfo.img -o %s/cpuinfo.json", t.path, t.path);
	CHECK_EQ(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/cpuinfo.json", t.path);
	f = fopen(cmd, "r");
	REQUIRE(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	json = calloc(1, (size_t)len + 1);
	REQUIRE(json);
	CHECK_EQ(fread(json, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	CHECK(strstr(json, "\"magic\": \"CPUINFO\""));
	CHECK(strstr(json, "\"capability_ver\": 2"));
	snprintf(cmd, sizeof(cmd), "\"cpu_family\": %u", here.family);
	CHECK(strstr(json, cmd));
	snprintf(cmd, sizeof(cmd), "\"xsave_size\": %u", here.xsave_size);
	CHECK(strstr(json, cmd));
	CHECK(strstr(json, here.vendor == CPU_VENDOR_AMD ? "\"vendor_id\": \"AMD\"" : "\"vendor_id\": \"INTEL\""));
	free(json);
	tmpdir_done(&t);
}

int main(void)
{
	static const struct tap_test tests[] = {
		TAP_TEST(test_cpu_read),	 TAP_TEST(test_compare_rules), TAP_TEST(test_dump_then_check),
		TAP_TEST(test_edited_image), TAP_TEST(test_bad_images),	   TAP_TEST(test_crit_decode),
	};

	return tap_run(tests, TAP_COUNT(tests), &check_tap_opts);
}
