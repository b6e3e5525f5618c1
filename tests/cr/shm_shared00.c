// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A MAP_SHARED|MAP_ANONYMOUS region (4 pages) shared by a parent and its
 * child. Both check the pattern written before the fork; after restore
 * the child writes new words into the first and last pages and exits,
 * and the parent must see them: one shared object, not two copies. The
 * parent then writes, and checks that a private mapping made before the
 * fork did not turn shared.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN (4 * 4096)
#define SEED 0x5eed

int main(int argc, char **argv)
{
	uint64_t *shm, *priv;
	long bad;
	pid_t child;

	test_init(argc, argv);
	shm = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED || priv == MAP_FAILED)
		fail("mmap: %m");
	test_fill(shm, LEN, SEED);
	priv[0] = 1;

	child = test_fork();
	if (child == 0) {
		test_ready();
		test_waitsig();
		bad = test_check(shm, LEN, SEED);
		if (bad >= 0)
			test_error("child: shared region differs at byte %ld", bad);
		if (priv[0] != 1)
			test_error("child: private page holds %llu, want 1", (unsigned long long)priv[0]);
		priv[0] = 2; /* the parent must not see this */
		shm[0] = 0xc0ffee;
		shm[LEN / 8 - 1] = 0xbadcafe;
		test_child_exit();
	}

	test_daemon();
	test_waitsig();

	bad = test_check(shm, LEN, SEED);
	if (bad >= 0)
		test_error("parent: shared region differs at byte %ld before the child wrote", bad);
	test_wait_children(&child, 1); /* the child writes, then exits */
	if (shm[0] != 0xc0ffee || shm[LEN / 8 - 1] != 0xbadcafe)
		test_error("the child's writes are not visible: %#llx %#llx (not one shared object)",
			   (unsigned long long)shm[0], (unsigned long long)shm[LEN / 8 - 1]);
	if (priv[0] != 1)
		test_error("the private page changed to %llu: it became shared", (unsigned long long)priv[0]);
	test_finish();
}
