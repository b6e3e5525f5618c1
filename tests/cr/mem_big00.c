// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One 512 MiB anonymous private region with a distinct pattern on every
 * page (the page number and a per-page hash in each page's first and
 * last words, and a pattern through the whole of every 64th page). After
 * restore every page must hold its own bytes: a page missing, doubled or
 * shifted by the page transfer shows up at its exact index.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define PG 4096UL
#define SIZE (512UL << 20)
#define NR_PAGES (SIZE / PG)
#define SEED 0xb16b00b5ULL

static uint64_t page_word(uint64_t page)
{
	uint64_t x = page * 0x9e3779b97f4a7c15ULL ^ SEED;

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ULL;
}

int main(int argc, char **argv)
{
	unsigned char *mem;
	unsigned long bad = 0;

	test_init(argc, argv);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap 512 MiB: %m");
	for (uint64_t i = 0; i < NR_PAGES; i++) {
		uint64_t *w = (uint64_t *)(mem + i * PG), v = page_word(i);

		w[0] = i;
		w[1] = v;
		w[PG / 8 - 1] = ~v;
		if (i % 64 == 0)
			test_fill(&w[2], PG - 24, SEED + i);
	}

	test_daemon();
	test_waitsig();

	for (uint64_t i = 0; i < NR_PAGES; i++) {
		uint64_t *w = (uint64_t *)(mem + i * PG), v = page_word(i);
		long off = -1;

		if (w[0] != i || w[1] != v || w[PG / 8 - 1] != ~v)
			off = 0;
		else if (i % 64 == 0)
			off = test_check(&w[2], PG - 24, SEED + i);
		if (off >= 0 && bad++ < 10)
			test_error("page %lu of %lu is wrong (it says it is page %lu)", (unsigned long)i,
				   (unsigned long)NR_PAGES, (unsigned long)w[0]);
	}
	if (bad)
		fail("%lu of %lu pages wrong", bad, (unsigned long)NR_PAGES);
	pass();
}
