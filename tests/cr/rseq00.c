// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * glibc's rseq registration across the dump. glibc (2.35+) registers a
 * struct rseq in the thread control block at start-up; the kernel writes
 * the current CPU into it on every return to user space, and
 * sched_getcpu() reads it from there. After restore:
 *   - the registration is still in place: registering the same area
 *     again fails with EBUSY (the kernel already has it, same signature);
 *   - cpu_id in the area agrees with the getcpu syscall, also after the
 *     task is moved to each CPU it may run on, so the kernel is updating
 *     the area of the restored task;
 *   - sched_getcpu() agrees too.
 * Without a glibc registration (tunable off) the test registers its own
 * area and checks the same.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RSEQ_SIG_X86 0x53053053

static struct rseq own_rseq __attribute__((aligned(32)));

static struct rseq *area;
static unsigned int area_size;

static int sys_rseq(struct rseq *rs, unsigned int len, int flags, unsigned int sig)
{
	return (int)syscall(SYS_rseq, rs, len, flags, sig);
}

static int raw_getcpu(void)
{
	unsigned int cpu;

	if (syscall(SYS_getcpu, &cpu, NULL, NULL))
		return -1;
	return (int)cpu;
}

static void check_cpu(const char *when)
{
	int raw = raw_getcpu(), lib = sched_getcpu();
	unsigned int seen = __atomic_load_n(&area->cpu_id, __ATOMIC_RELAXED);

	if ((int)seen != raw)
		test_error("%s: rseq cpu_id %u, getcpu says %d", when, seen, raw);
	if (lib != raw)
		test_error("%s: sched_getcpu() %d, getcpu says %d", when, lib, raw);
}

int main(int argc, char **argv)
{
	cpu_set_t allowed, one;
	int moved = 0;

	test_init(argc, argv);
	if (__rseq_size > 0) {
		area = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
		area_size = __rseq_size < 32 ? 32 : __rseq_size;
		test_msg("glibc rseq area at offset %td, size %u", __rseq_offset, __rseq_size);
	} else {
		area = &own_rseq;
		area_size = sizeof(own_rseq);
		if (sys_rseq(area, area_size, 0, RSEQ_SIG_X86))
			fail("rseq register: %m");
		test_msg("glibc did not register rseq, using our own area");
	}
	if ((int)area->cpu_id < 0)
		fail("rseq area not registered (cpu_id %d)", (int)area->cpu_id);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		fail("sched_getaffinity: %m");

	test_daemon();
	test_waitsig();

	if (sys_rseq(area, area_size, 0, RSEQ_SIG_X86) == 0)
		test_error("registering the area again succeeded: the restored task had no rseq");
	else if (errno != EBUSY)
		test_error("registering the area again: %s, want EBUSY (other area or signature)", strerror(errno));
	check_cpu("after restore");

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		char when[64];

		if (!CPU_ISSET(cpu, &allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;
		snprintf(when, sizeof(when), "pinned to cpu %d", cpu);
		check_cpu(when);
		moved++;
	}
	sched_setaffinity(0, sizeof(allowed), &allowed);
	test_msg("checked on %d CPUs", moved);
	test_finish();
}
