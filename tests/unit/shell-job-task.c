// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The program of the shell-job test: a single task that writes "tick N"
 * to its stdout (the test's pty) every 50 ms, counting on from where it
 * was, so that a restored task can be told from a new one.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	const struct timespec step = { .tv_sec = 0, .tv_nsec = 50 * 1000 * 1000 };
	char buf[64];

	for (unsigned long n = 0;; n++) {
		int len = snprintf(buf, sizeof(buf), "tick %lu\n", n);

		if (write(STDOUT_FILENO, buf, (size_t)len) != len)
			return 1;
		nanosleep(&step, NULL);
	}
}
