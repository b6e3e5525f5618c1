// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A tree of 10 processes in 3 levels, with process groups and two
 * sessions:
 *
 *   R  root, session R, group R
 *   |- B   joins group A          |- B1  (group A, inherited)
 *   |- C   joins group A
 *   |- D   setsid(): session D    |- D1, D2 (group D)
 *   |                             |- D3  own group D3 in session D
 *   |- E   own group E            |- E1  (group E)
 *   (A: made group A, then was killed and reaped: group A has no leader)
 *
 * Every process records its pid, parent, group and session before the
 * dump and checks them after restore (getpid() is the kernel's answer,
 * so a process restored under another pid fails). The root also checks
 * that pid A is free while group A still exists, and collects every
 * child's verdict through its exit code.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

struct ids {
	const char *name;
	pid_t pid, ppid, pgid, sid;
};

static void record(struct ids *me, const char *name)
{
	me->name = name;
	me->pid = getpid();
	me->ppid = getppid();
	me->pgid = getpgid(0);
	me->sid = getsid(0);
}

static void check(const struct ids *me)
{
	pid_t pid = getpid(), ppid = getppid(), pgid = getpgid(0), sid = getsid(0);

	if (pid != me->pid || ppid != me->ppid || pgid != me->pgid || sid != me->sid)
		test_error("%s: pid %d ppid %d pgid %d sid %d, want %d %d %d %d", me->name, pid, ppid,
			   pgid, sid, me->pid, me->ppid, me->pgid, me->sid);
}

static void want(bool ok, const char *what)
{
	if (!ok)
		fail("setup: %s: %m", what);
}

/* A leaf: record, wait, check. */
static pid_t leaf(const char *name, bool own_group)
{
	struct ids me;
	pid_t pid = test_fork();

	if (pid)
		return pid;
	if (own_group)
		want(!setpgid(0, 0), "setpgid");
	record(&me, name);
	test_ready();
	test_waitsig();
	check(&me);
	test_child_exit();
}

/*
 * A middle process: optionally its own session or group, optionally
 * into group JOIN, then children made by MAKE.
 */
static pid_t middle(const char *name, int how, pid_t join, unsigned int (*make)(pid_t *))
{
	pid_t kids[4], pid = test_fork();
	struct ids me;
	unsigned int n;

	if (pid)
		return pid;
	if (how == 1)
		want(setsid() > 0, "setsid");
	else if (how == 2)
		want(!setpgid(0, 0), "setpgid");
	else if (join)
		want(!setpgid(0, join), "join group A");
	n = make ? make(kids) : 0;
	record(&me, name);
	test_ready();
	test_waitsig();
	check(&me);
	test_wait_children(kids, n);
	test_child_exit();
}

static unsigned int make_b(pid_t *k)
{
	k[0] = leaf("B1", false);
	return 1;
}

static unsigned int make_d(pid_t *k)
{
	k[0] = leaf("D1", false);
	k[1] = leaf("D2", false);
	k[2] = leaf("D3", true);
	return 3;
}

static unsigned int make_e(pid_t *k)
{
	k[0] = leaf("E1", false);
	return 1;
}

int main(int argc, char **argv)
{
	pid_t kids[4], a;
	struct ids me;
	int status;

	test_init(argc, argv);
	if (getsid(0) != getpid())
		want(setsid() > 0, "setsid (root)");
	a = leaf("A", true);
	kids[0] = middle("B", 0, a, make_b);
	kids[1] = middle("C", 0, a, NULL);
	kids[2] = middle("D", 1, 0, make_d);
	kids[3] = middle("E", 2, 0, make_e);
	/* Group A outlives its leader. */
	want(!kill(a, SIGKILL), "kill A");
	want(waitpid(a, &status, 0) == a, "reap A");
	want(getpgid(kids[0]) == a && getpgid(kids[1]) == a, "B and C in group A");
	record(&me, "R");

	test_daemon();
	test_waitsig();

	check(&me);
	if (kill(a, 0) == 0 || errno != ESRCH)
		test_error("pid %d (the dead leader of group A) exists after restore", a);
	if (kill(-a, 0))
		test_error("group %d (B and C) is gone after restore: %m", a);
	if (getpgid(kids[0]) != a || getpgid(kids[1]) != a)
		test_error("B and C are in groups %d and %d, want %d", getpgid(kids[0]),
			   getpgid(kids[1]), a);
	if (getsid(kids[2]) != kids[2])
		test_error("D (%d) is in session %d, want its own", kids[2], getsid(kids[2]));
	test_wait_children(kids, 4);
	test_finish();
}
