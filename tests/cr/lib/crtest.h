/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library every C/R test program links, in the style of CRIU's zdtm
 * tests. A test:
 *
 *	test_init(argc, argv);	   parse --pidfile/--outfile
 *	... set up the state it checks ...
 *	test_daemon();		   state is ready: write the pid file
 *	test_waitsig();		   the runner dumps and restores us, then
 *				   sends SIGUSR1
 *	... verify ...
 *	pass(); or fail("why");	   one verdict line in the outfile, and exit
 *
 * Nothing here may change what the runner sees of the task between
 * test_daemon() and test_waitsig() returning: no allocation, no open fd,
 * no new mapping. Verdicts and messages are appended to the outfile by
 * path (opened and closed for each line), so a test holds no fd of its
 * own unless it asks for one with test_keep_outfile().
 */
#ifndef CRTEST_H
#define CRTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Parse the runner's arguments; installs the SIGUSR1 handler. */
void test_init(int argc, char **argv);

/*
 * The state is set up: become a session leader, drop the standard fds
 * (the runner gave us /dev/null and the outfile; without --pidfile they
 * stay), and write the pid file. Call it once, last before waiting.
 */
void test_daemon(void);

/* Sleep until SIGUSR1 has arrived (at once if it already has). */
void test_waitsig(void);

/* True until SIGUSR1 arrives: the condition of a busy loop. */
bool test_go(void);

/* The flag behind test_go(), for loops written in assembly: non-zero once SIGUSR1 came. */
const volatile int *test_usr1_flag(void);

/*
 * Keep the outfile open from now on, for a test that will lose access to
 * its path (chroot, a uid without write access). Makes the test hold a
 * regular-file fd across the dump. The pid file's directory is held too,
 * until test_daemon() has written the pid file.
 */
void test_keep_outfile(void);

/* A progress or diagnostic line in the outfile. */
void test_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Record one failed check (printed at once), go on checking. */
void test_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Number of test_error() calls so far. */
unsigned int test_errors(void);

/* Print "PASS" and exit 0. */
void pass(void) __attribute__((noreturn));

/* Print "FAIL: reason" and exit 1. */
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* pass() when no test_error() was recorded, else fail() with the count. */
void test_finish(void) __attribute__((noreturn));

/* Fill and check a deterministic pattern; the check returns the index of the first bad byte or -1. */
void test_fill(void *buf, size_t len, uint64_t seed);
long test_check(const void *buf, size_t len, uint64_t seed);

/* The pattern byte at offset OFF for SEED. */
uint8_t test_pattern_byte(uint64_t seed, size_t off);

/*
 * Process trees. A test with children forks them with test_fork() before
 * test_daemon(); test_fork() returns (in the parent) once the child has
 * called test_ready() or exited, so the tree is complete when the pid
 * file appears. A child holds no fd of the library: its standard fds are
 * closed and its lines go to the outfile by path. The runner sends
 * SIGUSR1 to the root only: every parent passes it on with
 * test_wait_children(), which also collects their verdicts (exit codes),
 * so the root's PASS covers the whole tree.
 *
 *	pid = test_fork();
 *	if (pid == 0) {
 *		... set up, record ids ...
 *		test_ready();
 *		test_waitsig();
 *		... verify with test_error() ...
 *		test_child_exit();
 *	}
 */

/* fork(); in the parent, wait until the child is ready (or gone). */
pid_t test_fork(void);

/* In a child of test_fork(): its state is set up. */
void test_ready(void);

/* In a child: exit 0 when no test_error() was recorded in it, else 1. */
void test_child_exit(void) __attribute__((noreturn));

/*
 * Send SIGUSR1 to the N children PIDS, reap them and record an error for
 * each that did not exit 0. Returns how many failed.
 */
unsigned int test_wait_children(const pid_t *pids, unsigned int n);

#endif /* CRTEST_H */
