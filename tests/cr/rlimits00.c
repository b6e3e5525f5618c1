// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Resource limits across the dump: several soft and hard limits lowered
 * to odd values (lowering needs no privilege; raising a hard limit would
 * need CAP_SYS_RESOURCE), one soft limit set to unlimited-capped-by-hard.
 * After restore getrlimit() must return exactly what was set.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <sys/resource.h>

static const struct {
	int res;
	const char *name;
	rlim_t soft, hard; /* RLIM_INFINITY in soft: keep the current hard */
} limits[] = {
	{ RLIMIT_NOFILE, "NOFILE", 777, 1999 },
	{ RLIMIT_CORE, "CORE", 0, 1 << 20 },
	{ RLIMIT_STACK, "STACK", 6 << 20, 7 << 20 },
	{ RLIMIT_NPROC, "NPROC", 3333, 4444 },
	{ RLIMIT_MSGQUEUE, "MSGQUEUE", 100000, 200000 },
	{ RLIMIT_SIGPENDING, "SIGPENDING", 555, 666 },
	{ RLIMIT_CPU, "CPU", 3000, 3600 },
	{ RLIMIT_NICE, "NICE", 0, 0 },
	{ RLIMIT_FSIZE, "FSIZE", 1ULL << 40, 1ULL << 41 },
	{ RLIMIT_MEMLOCK, "MEMLOCK", 65536, 131072 },
};

#define NR (sizeof(limits) / sizeof(limits[0]))

int main(int argc, char **argv)
{
	struct rlimit want[NR], got;

	test_init(argc, argv);
	for (size_t i = 0; i < NR; i++) {
		struct rlimit cur;

		if (getrlimit(limits[i].res, &cur))
			fail("getrlimit %s: %m", limits[i].name);
		/* Never above the current hard limit: we only lower. */
		want[i].rlim_max = limits[i].hard < cur.rlim_max ? limits[i].hard : cur.rlim_max;
		want[i].rlim_cur = limits[i].soft < want[i].rlim_max ? limits[i].soft : want[i].rlim_max;
		if (setrlimit(limits[i].res, &want[i]))
			fail("setrlimit %s: %m", limits[i].name);
	}

	test_daemon();
	test_waitsig();

	for (size_t i = 0; i < NR; i++) {
		if (getrlimit(limits[i].res, &got)) {
			test_error("getrlimit %s: %m", limits[i].name);
			continue;
		}
		if (got.rlim_cur != want[i].rlim_cur || got.rlim_max != want[i].rlim_max)
			test_error("RLIMIT_%s is %llu/%llu, want %llu/%llu", limits[i].name,
				   (unsigned long long)got.rlim_cur, (unsigned long long)got.rlim_max,
				   (unsigned long long)want[i].rlim_cur, (unsigned long long)want[i].rlim_max);
	}
	test_finish();
}
