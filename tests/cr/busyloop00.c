// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task that never sleeps: it spins computing a counter and a chained
 * hash of it, keeping both in registers and in memory. After restore the
 * loop must go on from where it was frozen: the counter keeps growing
 * past the value seen before the dump, and the hash chain recomputed from
 * scratch matches what the loop carried through the dump.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <stdint.h>

static inline uint64_t step(uint64_t h, uint64_t i)
{
	return (h ^ i) * 0x100000001b3ULL;
}

int main(int argc, char **argv)
{
	volatile uint64_t mem_counter = 0, mem_hash = 0xcbf29ce484222325ULL;
	uint64_t counter = 0, hash = 0xcbf29ce484222325ULL, check = 0xcbf29ce484222325ULL;
	uint64_t at_ready, i;

	test_init(argc, argv);

	/* Warm up so the loop has state worth keeping. */
	while (counter < 1000000) {
		counter++;
		hash = step(hash, counter);
	}
	mem_counter = counter;
	mem_hash = hash;
	at_ready = counter;

	test_daemon();
	while (test_go()) {
		counter++;
		hash = step(hash, counter);
		/* Copy to memory too, so both registers and pages are checked. */
		mem_counter = counter;
		mem_hash = hash;
	}

	if (counter <= at_ready)
		fail("counter went back: %llu at ready, %llu now", (unsigned long long)at_ready,
		     (unsigned long long)counter);
	if (mem_counter != counter || mem_hash != hash)
		fail("memory copy differs from the registers: counter %llu/%llu", (unsigned long long)mem_counter,
		     (unsigned long long)counter);
	for (i = 1; i <= counter; i++)
		check = step(check, i);
	if (check != hash)
		fail("hash chain broken after %llu steps", (unsigned long long)counter);
	test_msg("%llu steps", (unsigned long long)counter);
	pass();
}
