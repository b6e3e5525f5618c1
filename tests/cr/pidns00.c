// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The init of a new pid namespace and its tree (run by pidns00.py under
 * `unshare --pid --fork`, so that this program is pid 1 there):
 *
 *	init (pid 1, session leader)
 *	 ├─ A      pid 2 inside, its own process group, with a second thread
 *	 │   └─ A1 pid 3 inside, in A's group
 *	 └─ Z      a zombie that exited with status 5
 *
 * After restore (SIGUSR1 to init, which tells the others through shared
 * memory) every process checks its pid, parent, group and session as the
 * namespace shows them; A's thread checks its tid; init reaps the zombie
 * and checks its status. The pids inside must be the dumped ones, while
 * the pids outside may be anything.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/crtest.h"

enum { P_A, P_A1, P_THR, P_NR };

struct ctl {
	volatile int go;
	volatile int ready[P_NR];
	volatile int result[P_NR]; /* 1 ok, 2 failed */
	char why[P_NR][128];
};

static struct ctl *ctl;

static void nap(void)
{
	nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
}

static void verdict(int who, const char *why)
{
	if (why)
		snprintf(ctl->why[who], sizeof(ctl->why[who]), "%s", why);
	ctl->result[who] = why ? 2 : 1;
}

static const char *check_ids(pid_t pid, pid_t ppid, pid_t pgid, pid_t sid)
{
	static __thread char buf[128];

	if (getpid() != pid || getppid() != ppid || getpgid(0) != pgid || getsid(0) != sid) {
		snprintf(buf, sizeof(buf), "pid %d ppid %d pgid %d sid %d, expected %d %d %d %d",
			 getpid(), getppid(), getpgid(0), getsid(0), pid, ppid, pgid, sid);
		return buf;
	}
	return NULL;
}

static void *a_thread(void *arg)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	(void)arg;
	ctl->ready[P_THR] = tid;
	while (!ctl->go)
		nap();
	verdict(P_THR, syscall(SYS_gettid) == tid && tid != 2 ? NULL : "the thread's tid changed");
	return NULL;
}

static void run_a1(void)
{
	ctl->ready[P_A1] = 1;
	while (!ctl->go)
		nap();
	verdict(P_A1, check_ids(3, 2, 2, 1));
	for (;;)
		pause();
}

static void run_a(void)
{
	pthread_t th;

	setpgid(0, 0);
	if (fork() == 0)
		run_a1();
	if (pthread_create(&th, NULL, a_thread, NULL))
		_exit(1);
	ctl->ready[P_A] = 1;
	while (!ctl->go)
		nap();
	verdict(P_A, check_ids(2, 1, 2, 1));
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	siginfo_t si = { 0 };
	pid_t a, z;
	int st;

	test_init(argc, argv);
	if (getpid() != 1)
		fail("not the init of a pid namespace (pid %d); run me under unshare --pid --fork",
		     getpid());
	setsid();
	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED)
		fail("mmap: %m");
	a = fork();
	if (a == 0)
		run_a();
	while (!ctl->ready[P_A] || !ctl->ready[P_A1] || !ctl->ready[P_THR])
		nap();
	z = fork();
	if (z == 0)
		_exit(5);
	if (a != 2)
		fail("A is pid %d in the new namespace, not 2", a);
	if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT))
		fail("waitid: %m");

	test_daemon();
	test_waitsig();

	if (getpid() != 1 || getsid(0) != 1 || getpgid(0) != 1)
		test_error("init is pid %d, session %d, group %d", getpid(), getsid(0), getpgid(0));
	ctl->go = 1;
	for (int i = 0; i < P_NR; i++) {
		for (int n = 0; !ctl->result[i] && n < 5000; n++)
			nap();
		if (ctl->result[i] != 1)
			test_error("process %d: %s", i, ctl->result[i] ? ctl->why[i] : "no answer");
	}
	if (waitpid(z, &st, WNOHANG) != z || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
		test_error("the zombie %d is gone or has another status", z);
	kill(-2, SIGKILL);
	test_finish();
}
