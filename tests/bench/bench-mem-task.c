// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The task bench-mem dumps: it maps $BENCH_MEM_MIB MiB (default 1024) of
 * anonymous private memory, writes every page (its index in the first
 * word, so no page is a zero page), writes its pid file and waits for
 * SIGUSR1; then it checks every page kept its index.
 */
#define _GNU_SOURCE
#include "../cr/lib/crtest.h"

#include <stdlib.h>
#include <sys/mman.h>

#define PG 4096UL

int main(int argc, char **argv)
{
	const char *env = getenv("BENCH_MEM_MIB");
	unsigned long mib = env ? strtoul(env, NULL, 10) : 1024, pages, bad = 0;
	unsigned char *mem;

	test_init(argc, argv);
	if (mib == 0)
		fail("BENCH_MEM_MIB must be a positive number");
	pages = mib * (1UL << 20) / PG;
	mem = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap %lu MiB: %m", mib);
	for (unsigned long i = 0; i < pages; i++)
		*(unsigned long *)(mem + i * PG) = i ^ 0x5a5a5a5aUL;

	test_daemon();
	test_waitsig();

	for (unsigned long i = 0; i < pages; i++)
		if (*(unsigned long *)(mem + i * PG) != (i ^ 0x5a5a5a5aUL))
			bad++;
	if (bad)
		fail("%lu of %lu pages lost their contents", bad, pages);
	pass();
}
