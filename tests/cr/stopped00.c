// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task stopped by SIGSTOP before the dump, with a second SIGSTOP
 * queued (the runner does both: "stop: yes"). The runner checks that the
 * task is still stopped after restore (the /proc state compares
 * "stopped") and sends SIGCONT; this program checks that its SIGCONT
 * handler ran exactly once, i.e. that nobody continued it on the way and
 * that it did resume, and that SIGUSR1 came only after it.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t conts;

static void on_cont(int sig)
{
	(void)sig;
	conts++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_cont;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCONT, &sa, NULL))
		fail("sigaction(SIGCONT): %m");

	test_daemon();
	/*
	 * Not test_waitsig(): its sigsuspend() shows a different blocked
	 * mask than the one a task stopped on its way back into it has, and
	 * the runner compares the mask while the task is stopped.
	 */
	while (test_go())
		usleep(10000);

	if (conts != 1)
		fail("the SIGCONT handler ran %d times, want 1", (int)conts);
	pass();
}
