// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A process tree, for dumping trees (and, once restore handles them,
 * restoring them):
 *
 *	root (session leader)
 *	 ├─ A     setpgid(0, 0): its own process group
 *	 │   └─ A1    setsid(): its own session; has a second thread T
 *	 │       ├─ A1a   in A1's session and group (three levels below root)
 *	 │       └─ A1b   forked by thread T, so only T's children list has it
 *	 ├─ Z     exited with status 7, never reaped: a zombie
 *	 └─ C     clone(CLONE_FILES): shares root's fd table
 *
 * Every live process holds the same open file description of a file,
 * whose offset root set to 3 before forking, and maps one shared
 * anonymous area: root wrote pages 0 and 2 before forking, A wrote page 3
 * after (so only A's page tables have it), page 1 was never touched.
 *
 * After SIGUSR1 (root only; it tells the others through shared memory)
 * every live process checks its group, session, the file offset and the
 * shared pages; A then moves the shared offset to 8, which root must see;
 * C dups an fd to 100, which root must see in its own table; the zombie
 * must still be there with status 7.
 *
 * With TREE_DUMP00_VFORK set, root also has a child that vfork()s a
 * sleeping child: a vfork parent never stops for ptrace, which a dump must
 * refuse after --timeout (then the tree is not meant to be checked).
 *
 * With TREE_DUMP00_CLONE_VM set, root also has a child made with
 * clone(CLONE_VM) alone: it shares root's mm, which a dump must refuse.
 *
 * A C/R test (CR_TESTS); tests/cr/tree_dump00.sh also checks its dump
 * side in detail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/crtest.h"

#define PAGE 4096
#define SHM_PAGES 4
#define SHARED_FD 10
#define DUP_FD 100

enum { P_ROOT, P_A, P_A1, P_A1A, P_A1B, P_C, P_NR };

struct ctl {
	volatile int go;		/* root saw SIGUSR1: check now */
	volatile int result[P_NR];	/* 1 ok, 2 failed */
	volatile int moved;		/* A moved the shared offset */
	volatile int dupped;		/* C made DUP_FD */
	volatile long beat[P_NR];	/* heartbeats, so a test can see them run */
	volatile pid_t pid[P_NR];
	char why[P_NR][128];
};

static struct ctl *ctl;
static uint8_t *shm;

static void nap(void)
{
	nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
}

static bool page_ok(int pg, bool written)
{
	if (written)
		return test_check(shm + pg * PAGE, PAGE, 100 + (uint64_t)pg) < 0;
	for (int i = 0; i < PAGE; i++)
		if (shm[pg * PAGE + i])
			return false;
	return true;
}

static void verdict(int me, const char *why)
{
	if (why)
		snprintf(ctl->why[me], sizeof(ctl->why[me]), "%s", why);
	ctl->result[me] = why ? 2 : 1;
}

/* What every live process checks about itself. */
static const char *check_common(pid_t pgid, pid_t sid)
{
	if (getpgrp() != pgid)
		return "wrong process group";
	if (getsid(0) != sid)
		return "wrong session";
	if (lseek(SHARED_FD, 0, SEEK_CUR) != 3)
		return "shared file offset is not 3";
	if (!page_ok(0, true) || !page_ok(1, false) || !page_ok(2, true) || !page_ok(3, true))
		return "shared anonymous pages differ";
	return NULL;
}

/* Heartbeat until root says go, then check. */
static void child_wait(int me)
{
	while (!ctl->go) {
		ctl->beat[me]++;
		nap();
	}
}

/* A1a or A1b (ME): in A1's session and group. */
static void run_a1_child(int me, pid_t a1)
{
	ctl->pid[me] = getpid();
	child_wait(me);
	verdict(me, check_common(a1, a1));
	for (;;)
		pause();
}

/* A1's second thread: forks A1b and then just waits. */
static void *a1_thread(void *arg)
{
	if (fork() == 0)
		run_a1_child(P_A1B, (pid_t)(long)arg);
	for (;;)
		pause();
	return NULL;
}

static void run_a1(void)
{
	pthread_t t;
	pid_t me;

	setsid();
	me = getpid();
	ctl->pid[P_A1] = me;
	if (fork() == 0)
		run_a1_child(P_A1A, me);
	if (pthread_create(&t, NULL, a1_thread, (void *)(long)me))
		verdict(P_A1, "pthread_create failed");
	child_wait(P_A1);
	verdict(P_A1, check_common(me, me));
	for (;;)
		pause();
}

static void run_a(pid_t root_sid)
{
	pid_t me;
	const char *why;

	setpgid(0, 0);
	me = getpid();
	ctl->pid[P_A] = me;
	test_fill(shm + 3 * PAGE, PAGE, 103);
	if (fork() == 0)
		run_a1();
	child_wait(P_A);
	why = check_common(me, root_sid);
	/* Only once everyone has seen offset 3. */
	while (!why && (!ctl->result[P_ROOT] || !ctl->result[P_A1] || !ctl->result[P_A1A] ||
			!ctl->result[P_A1B] || !ctl->result[P_C]))
		nap();
	if (!why && lseek(SHARED_FD, 8, SEEK_SET) != 8)
		why = "cannot move the shared offset";
	ctl->moved = 1;
	verdict(P_A, why);
	for (;;)
		pause();
}

static int run_c(void *arg)
{
	pid_t root = (pid_t)(long)arg;
	const char *why;

	ctl->pid[P_C] = getpid();
	child_wait(P_C);
	why = check_common(root, root);
	while (!why && !ctl->result[P_ROOT])
		nap();
	if (!why && dup2(SHARED_FD, DUP_FD) != DUP_FD)
		why = "dup2 failed";
	ctl->dupped = 1;
	verdict(P_C, why);
	for (;;)
		pause();
	return 0;
}

/* On its own stack in root's mm: only system calls, no libc state. */
static int sleep_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	siginfo_t si = { 0 };
	char path[64], *stack;
	pid_t root, z, a, c;
	int fd, st;

	test_init(argc, argv);
	if (getsid(0) != getpid() && setsid() < 0)
		fail("setsid: %m");
	root = getpid();

	ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shm = mmap(NULL, SHM_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	stack = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED || shm == MAP_FAILED || stack == MAP_FAILED)
		fail("mmap: %m");
	ctl->pid[P_ROOT] = root;
	test_fill(shm, PAGE, 100);
	test_fill(shm + 2 * PAGE, PAGE, 102);

	snprintf(path, sizeof(path), "tree_dump00.%d.data", root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, SHARED_FD) != SHARED_FD)
		fail("open %s: %m", path);
	close(fd);
	if (write(SHARED_FD, "0123456789", 10) != 10 || lseek(SHARED_FD, 3, SEEK_SET) != 3)
		fail("write %s: %m", path);

	a = fork();
	if (a == 0)
		run_a(root);
	z = fork();
	if (z == 0)
		_exit(7);
	c = clone(run_c, stack + 16 * PAGE, CLONE_FILES | SIGCHLD, (void *)(long)root);
	if (a < 0 || z < 0 || c < 0)
		fail("fork: %m");
	if (getenv("TREE_DUMP00_CLONE_VM") &&
	    clone(sleep_forever, stack + 8 * PAGE, CLONE_VM | SIGCHLD, NULL) < 0)
		fail("clone(CLONE_VM): %m");
	if (getenv("TREE_DUMP00_VFORK") && fork() == 0) {
		/* The vfork child only sleeps: the parent waits in the kernel all along. */
		if (vfork() == 0) {
			nanosleep(&(struct timespec){ 600, 0 }, NULL);
			_exit(0);
		}
		_exit(0);
	}
	/* The zombie must be one before we say ready; WNOWAIT leaves it unreaped. */
	if (waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT))
		fail("waitid: %m");
	while (!ctl->pid[P_A] || !ctl->pid[P_A1] || !ctl->pid[P_A1A] || !ctl->pid[P_A1B] ||
	       !ctl->pid[P_C] || !ctl->beat[P_A1A] || !ctl->beat[P_A1B] || !ctl->beat[P_C])
		nap();

	test_daemon();
	while (test_go()) {
		ctl->beat[P_ROOT]++;
		nap();
	}

	verdict(P_ROOT, check_common(root, root));
	ctl->go = 1;
	while (!ctl->moved || !ctl->dupped)
		nap();
	for (int i = 0; i < P_NR; i++) {
		while (!ctl->result[i])
			nap();
		if (ctl->result[i] != 1)
			test_error("pid %d: %s", ctl->pid[i], ctl->why[i]);
	}
	if (lseek(SHARED_FD, 0, SEEK_CUR) != 8)
		test_error("root does not see the offset A moved: the file is not shared");
	if (fcntl(DUP_FD, F_GETFD) < 0)
		test_error("root does not see fd %d made by C: the fd table is not shared", DUP_FD);
	if (waitpid(z, &st, WNOHANG) != z || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		test_error("the zombie %d is gone or has another exit status", z);
	for (int i = P_A; i < P_NR; i++)
		kill(ctl->pid[i], SIGKILL);
	test_finish();
}
