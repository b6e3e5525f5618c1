// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Two eventfds: a plain one holding a large counter, and one in
 * semaphore mode holding 3. After restore the plain one reads back the
 * whole counter at once, and the semaphore one gives 1 three times, then
 * EAGAIN (it is non-blocking).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/crtest.h"

int main(int argc, char **argv)
{
	uint64_t big = 0x123456789abcULL, three = 3, v;
	int plain, sem;

	test_init(argc, argv);
	plain = eventfd(0, 0);
	sem = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK);
	if (plain < 0 || sem < 0)
		fail("eventfd: %m");
	if (write(plain, &big, 8) != 8 || write(sem, &three, 8) != 8)
		fail("write: %m");

	test_daemon();
	test_waitsig();

	if (read(plain, &v, 8) != 8 || v != big)
		test_error("plain eventfd read %#llx, expected %#llx", (unsigned long long)v,
			   (unsigned long long)big);
	for (int i = 0; i < 3; i++)
		if (read(sem, &v, 8) != 8 || v != 1)
			test_error("semaphore read %d gave %llu", i, (unsigned long long)v);
	if (read(sem, &v, 8) != -1 || errno != EAGAIN)
		test_error("the semaphore was not empty after three reads");
	test_finish();
}
