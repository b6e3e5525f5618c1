// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Zombies across the dump: one child exited with code 7, another was
 * killed by SIGTERM; neither is reaped before the dump. After restore
 * the parent reaps each by its pid with waitpid() and checks the status
 * (and the runner compares their state and exit status in /proc). A
 * live child is in the tree too, to show the zombies keep their place
 * among live siblings.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wait until PID is a zombie, without reaping it. */
static void wait_zombie(pid_t pid)
{
	siginfo_t si;

	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT))
		fail("waitid(%d): %m", pid);
}

int main(int argc, char **argv)
{
	pid_t exited, killed, live;
	int status;

	test_init(argc, argv);
	exited = test_fork();
	if (exited == 0)
		_exit(7);
	killed = test_fork();
	if (killed == 0) {
		test_ready();
		for (;;)
			pause();
	}
	live = test_fork();
	if (live == 0) {
		test_ready();
		test_waitsig();
		if (getppid() == 1)
			test_error("live child: parent gone");
		test_child_exit();
	}
	if (kill(killed, SIGTERM))
		fail("kill: %m");
	wait_zombie(exited);
	wait_zombie(killed);

	test_daemon();
	test_waitsig();

	if (waitpid(exited, &status, WNOHANG) != exited)
		test_error("waitpid(%d) (exited with 7): %m", exited);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		test_error("child %d: status %#x, want exit code 7", exited, status);
	if (waitpid(killed, &status, WNOHANG) != killed)
		test_error("waitpid(%d) (killed by SIGTERM): %m", killed);
	else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		test_error("child %d: status %#x, want killed by SIGTERM", killed, status);
	test_wait_children(&live, 1);
	/* Nothing else was ours. */
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		test_error("an unexpected child is left");
	test_finish();
}
