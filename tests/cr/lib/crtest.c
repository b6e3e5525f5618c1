// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The C/R test library: argument parsing, the pid file handshake with the
 * runner, the SIGUSR1 wait and the verdict line. See crtest.h.
 */
#define _GNU_SOURCE
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *pidfile;
static char outfile[PATH_MAX];
static int out_fd = -1;	      /* kept outfile fd, see test_keep_outfile() */
static int pid_dirfd = -1;    /* the pid file's dir, held from test_keep_outfile() to test_daemon() */
static volatile int got_usr1; /* sig_atomic_t is int here; test_usr1_flag() */
static unsigned int nr_errors;
static bool daemonized;
static int ready_fd = -1; /* a child's end of its parent's test_fork() pipe */

static void usr1_handler(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--pidfile FILE] [--outfile FILE]\n", prog);
	exit(2);
}

/* Write all of BUF to FD, retrying on EINTR and short writes. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* One line to the outfile (or stderr when there is none). Keeps errno. */
static void out_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int saved_errno = errno;
	int len, fd;

	len = snprintf(line, sizeof(line), "%s", prefix);
	len += vsnprintf(line + len, sizeof(line) - (size_t)len - 1, fmt, ap);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';

	if (out_fd >= 0) {
		write_all(out_fd, line, (size_t)len);
	} else if (outfile[0] && daemonized) {
		fd = open(outfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		if (fd >= 0) {
			write_all(fd, line, (size_t)len);
			close(fd);
		}
	} else {
		/* Before test_daemon() the runner made stderr the outfile. */
		write_all(STDERR_FILENO, line, (size_t)len);
	}
	errno = saved_errno;
}

static void out_printf(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_line(prefix, fmt, ap);
	va_end(ap);
}

void test_init(int argc, char **argv)
{
	struct sigaction sa;
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		size_t n;

		if (!strncmp(arg, "--pidfile", 9) || !strncmp(arg, "--outfile", 9)) {
			n = 9;
			if (arg[n] == '=')
				val = arg + n + 1;
			else if (arg[n] == '\0' && i + 1 < argc)
				val = argv[++i];
			else
				usage(argv[0]);
			if (arg[2] == 'p') {
				pidfile = val;
			} else if (val[0] == '/') {
				snprintf(outfile, sizeof(outfile), "%s", val);
			} else {
				char cwd[PATH_MAX];

				if (!getcwd(cwd, sizeof(cwd)))
					usage(argv[0]);
				snprintf(outfile, sizeof(outfile), "%.2047s/%.2047s", cwd, val);
			}
		} else {
			usage(argv[0]);
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr1_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		fail("sigaction(SIGUSR1): %m");
}

void test_keep_outfile(void)
{
	if (out_fd >= 0 || !outfile[0])
		return;
	out_fd = open(outfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (out_fd < 0)
		fail("open %s: %m", outfile);
	if (pidfile) {
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", pidfile);
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), ".");
		pid_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pid_dirfd < 0)
			fail("open %s: %m", dir);
	}
}

void test_daemon(void)
{
	char tmp[PATH_MAX], buf[32];
	const char *name;
	int fd, len, dirfd;

	if (getsid(0) != getpid())
		setsid(); /* fails only for a group leader, which is fine */

	if (!pidfile) {
		test_msg("pid %d ready, send SIGUSR1 to check", getpid());
		return;
	}

	/* From here on lines go to the outfile by path. */
	daemonized = true;
	if (outfile[0]) {
		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
	}

	/*
	 * Write then rename, so the runner never reads half a pid. Relative
	 * to the dir held since test_keep_outfile() when there is one: the
	 * path may be out of reach by now (chroot).
	 */
	name = pid_dirfd >= 0 && strrchr(pidfile, '/') ? strrchr(pidfile, '/') + 1 : pidfile;
	dirfd = pid_dirfd >= 0 ? pid_dirfd : AT_FDCWD;
	snprintf(tmp, sizeof(tmp), "%.4000s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("open %s: %m", tmp);
	len = snprintf(buf, sizeof(buf), "%d\n", getpid());
	write_all(fd, buf, (size_t)len);
	if (close(fd) || renameat(dirfd, tmp, dirfd, name))
		fail("write %s: %m", pidfile);
	if (pid_dirfd >= 0) {
		close(pid_dirfd);
		pid_dirfd = -1;
	}
}

void test_waitsig(void)
{
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	/* Wait with the test's own mask, minus SIGUSR1. */
	sigdelset(&old, SIGUSR1);
	while (!got_usr1)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

bool test_go(void)
{
	return !got_usr1;
}

const volatile int *test_usr1_flag(void)
{
	return &got_usr1;
}

void test_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_line("", fmt, ap);
	va_end(ap);
}

void test_error(const char *fmt, ...)
{
	va_list ap;

	nr_errors++;
	va_start(ap, fmt);
	out_line("ERR: ", fmt, ap);
	va_end(ap);
}

unsigned int test_errors(void)
{
	return nr_errors;
}

void pass(void)
{
	out_printf("", "PASS");
	exit(0);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	out_line("FAIL: ", fmt, ap);
	va_end(ap);
	exit(1);
}

void test_finish(void)
{
	if (nr_errors)
		fail("%u check(s) failed, see the ERR lines above", nr_errors);
	pass();
}

/* splitmix64: a cheap, well-mixed 64-bit value per word. */
static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint8_t test_pattern_byte(uint64_t seed, size_t off)
{
	return (uint8_t)(mix64(seed ^ (off / 8)) >> (8 * (off % 8)));
}

void test_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	size_t off = 0;

	/* The pattern is defined per offset from BUF, in whole 8-byte words. */
	for (; off + 8 <= len; off += 8) {
		uint64_t v = mix64(seed ^ (off / 8));

		memcpy(p + off, &v, 8);
	}
	for (; off < len; off++)
		p[off] = test_pattern_byte(seed, off);
}

long test_check(const void *buf, size_t len, uint64_t seed)
{
	const uint8_t *p = buf;
	size_t off = 0;

	for (; off + 8 <= len; off += 8) {
		uint64_t v = mix64(seed ^ (off / 8)), have;

		memcpy(&have, p + off, 8);
		if (have != v)
			break;
	}
	for (; off < len; off++)
		if (p[off] != test_pattern_byte(seed, off))
			return (long)off;
	return -1;
}

pid_t test_fork(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %m");
	pid = fork();
	if (pid < 0)
		fail("fork: %m");
	if (pid == 0) {
		close(p[0]);
		if (ready_fd >= 0)
			close(ready_fd); /* our parent's own pipe to its parent */
		ready_fd = p[1];
		nr_errors = 0;
		/* As test_daemon() does for the root: no fds, lines go by path. */
		if (pidfile) {
			daemonized = true;
			if (outfile[0]) {
				close(STDIN_FILENO);
				close(STDOUT_FILENO);
				close(STDERR_FILENO);
			}
		}
		return 0;
	}
	close(p[1]);
	/* One byte from test_ready(), or EOF when the child exited first. */
	while (read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

void test_ready(void)
{
	if (ready_fd < 0)
		return;
	write_all(ready_fd, "r", 1);
	close(ready_fd);
	ready_fd = -1;
}

void test_child_exit(void)
{
	exit(nr_errors ? 1 : 0);
}

unsigned int test_wait_children(const pid_t *pids, unsigned int n)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < n; i++)
		if (kill(pids[i], SIGUSR1))
			test_error("kill(%d, SIGUSR1): %m", pids[i]);
	for (unsigned int i = 0; i < n; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i]) {
			test_error("waitpid(%d): %m (not our child any more?)", pids[i]);
			bad++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			if (WIFSIGNALED(status))
				test_error("child %d was killed by signal %d", pids[i], WTERMSIG(status));
			else
				test_error("child %d failed its checks (status %#x)", pids[i], status);
			bad++;
		}
	}
	return bad;
}
