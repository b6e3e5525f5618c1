// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vDSO after restore. glibc found the vDSO at start-up (AT_SYSINFO_EHDR)
 * and calls into it for clock_gettime() and gettimeofday(). After restore:
 *   - a [vdso] mapping still starts at that address and holds an ELF
 *     header, so glibc's cached pointers are valid;
 *   - clock_gettime() through glibc agrees with the raw syscall (within
 *     50 ms) for CLOCK_REALTIME, MONOTONIC, BOOTTIME and the COARSE ones,
 *     and goes on increasing over many calls;
 *   - gettimeofday() and time() agree with the raw syscall;
 *   - the clocks did not go back compared with before the dump.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const struct {
	clockid_t id;
	const char *name;
} clocks[] = {
	{ CLOCK_REALTIME, "REALTIME" },
	{ CLOCK_MONOTONIC, "MONOTONIC" },
	{ CLOCK_BOOTTIME, "BOOTTIME" },
	{ CLOCK_REALTIME_COARSE, "REALTIME_COARSE" },
	{ CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
};

#define NR_CLOCKS (sizeof(clocks) / sizeof(clocks[0]))

static double ts_sec(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

static bool vdso_mapped_at(unsigned long addr)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && strtoul(line, NULL, 16) == addr)
			found = true;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct timespec before[NR_CLOCKS], lib, raw, prev;
	unsigned long vdso;
	struct timeval tv;

	test_init(argc, argv);
	vdso = getauxval(AT_SYSINFO_EHDR);
	if (!vdso)
		fail("no AT_SYSINFO_EHDR: this test needs a vDSO");
	if (!vdso_mapped_at(vdso))
		fail("[vdso] is not at AT_SYSINFO_EHDR %#lx before the dump", vdso);
	for (size_t i = 0; i < NR_CLOCKS; i++)
		clock_gettime(clocks[i].id, &before[i]);

	test_daemon();
	test_waitsig();

	if (!vdso_mapped_at(vdso))
		test_error("[vdso] is not at %#lx (AT_SYSINFO_EHDR) after restore", vdso);
	else if (memcmp((const void *)vdso, "\177ELF", 4))
		test_error("no ELF header at the vDSO address after restore");

	for (size_t i = 0; i < NR_CLOCKS; i++) {
		double diff;

		if (clock_gettime(clocks[i].id, &lib) || syscall(SYS_clock_gettime, clocks[i].id, &raw)) {
			test_error("clock_gettime(%s): %m", clocks[i].name);
			continue;
		}
		diff = ts_sec(&lib) - ts_sec(&raw);
		if (diff > 0.05 || diff < -0.05)
			test_error("CLOCK_%s: vDSO %.6f and syscall %.6f differ by %.3f s", clocks[i].name,
				   ts_sec(&lib), ts_sec(&raw), diff);
		if (ts_sec(&lib) < ts_sec(&before[i]))
			test_error("CLOCK_%s went back across the dump: %.6f then %.6f", clocks[i].name,
				   ts_sec(&before[i]), ts_sec(&lib));
		prev = lib;
		for (int n = 0; n < 10000; n++) {
			clock_gettime(clocks[i].id, &lib);
			if (ts_sec(&lib) < ts_sec(&prev)) {
				test_error("CLOCK_%s went back between two calls", clocks[i].name);
				break;
			}
			prev = lib;
		}
	}

	gettimeofday(&tv, NULL);
	syscall(SYS_clock_gettime, CLOCK_REALTIME, &raw);
	if ((double)tv.tv_sec + (double)tv.tv_usec / 1e6 - ts_sec(&raw) > 0.05 ||
	    ts_sec(&raw) - ((double)tv.tv_sec + (double)tv.tv_usec / 1e6) > 0.05)
		test_error("gettimeofday() disagrees with the syscall");
	if (labs((long)time(NULL) - (long)raw.tv_sec) > 1)
		test_error("time() disagrees with the syscall");
	test_finish();
}
