// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Processes of the C/R runner: starting a test program, waiting for its
 * pid file, running commands with a deadline, reaping and killing what
 * the runner (a child subreaper) has below it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/*
 * Wait for PID to exit until DEADLINE (NULL: a few seconds). Returns 0
 * and sets *STATUS, or -ETIMEDOUT, or -ECHILD when it is not our child.
 */
int wait_pid(pid_t pid, const struct timespec *deadline, int *status)
{
	struct timespec dl;

	if (!deadline) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += 10;
		deadline = &dl;
	}
	for (;;) {
		pid_t ret = waitpid(pid, status, WNOHANG | __WALL);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (past(deadline))
			return -ETIMEDOUT;
		nap();
	}
}

/* Our children, from /proc: every task whose PPid is us. */
int list_children(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char path[64], buf[512], *p;
		pid_t pid = (pid_t)atoi(de->d_name);
		FILE *f;

		if (pid <= 0)
			continue;
		xsnprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			p = strrchr(buf, ')');
			if (p && atoi(p + 4) == self)
				out[n++] = pid;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Kill and reap every child we have (tests, criu, what restore -d left). */
void kill_all(void)
{
	double until = now_sec() + 10;
	pid_t kids[256];
	int n, i, status;

	for (;;) {
		n = list_children(kids, 256);
		for (i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		while (waitpid(-1, &status, WNOHANG | __WALL) > 0)
			;
		if (n == 0 && waitpid(-1, &status, WNOHANG | __WALL) < 0)
			break;
		if (now_sec() > until) {
			fprintf(stderr, "run: warning: children left after 10s\n");
			break;
		}
		nap();
	}
}

/* Is PID alive (not a zombie) and not stopped or traced? */
int task_state(pid_t pid, char *state)
{
	char path[64], buf[512], *p;
	FILE *f;

	*state = '?';
	xsnprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	*state = p[2];
	return 0;
}

/*
 * Reap the dead children that are neither CMD, nor the test's root, nor
 * HELPER (whose exit status the variant checks): the processes of a
 * test's tree that the dump killed come to us (the subreaper) when their
 * parents die, and criu waits for them to go.
 */
static void reap_strays(pid_t cmd, pid_t root, pid_t helper)
{
	pid_t kids[256];
	int n = list_children(kids, 256), status;

	for (int i = 0; i < n; i++) {
		char st;

		if (kids[i] == cmd || kids[i] == root || (helper > 0 && kids[i] == helper))
			continue;
		if (!task_state(kids[i], &st) && st == 'Z')
			waitpid(kids[i], &status, WNOHANG | __WALL);
	}
}

/*
 * Wait for a command we ran, until the deadline. Meanwhile reap the test
 * as soon as it dies, as a parent should: criu dump waits for the task it
 * killed to be reaped, and we are that task's parent.
 */
int wait_cmd(struct run *r, pid_t pid, int *status)
{
	unsigned int naps = 0;

	for (;;) {
		pid_t ret = waitpid(pid, status, WNOHANG | __WALL);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (r->pid > 0 && !r->reaped && waitpid(r->pid, &r->reaped_status, WNOHANG | __WALL) == r->pid)
			r->reaped = true;
		if (++naps % 20 == 0) /* a /proc scan: every 200 ms is enough */
			reap_strays(pid, r->pid, r->helper);
		if (past(&r->deadline))
			return -ETIMEDOUT;
		nap();
	}
}

/*
 * Run ARGV with stdout and stderr appended to OUT, wait until DEADLINE.
 * Returns the wait status, or -ETIMEDOUT (the command is killed).
 */
int run_cmd(struct run *r, char **argv, const char *out)
{
	int status, ret, fd;
	pid_t pid;

	if (r->cfg->verbose) {
		printf("    $");
		for (int i = 0; argv[i]; i++)
			printf(" %s", argv[i]);
		printf("\n");
		fflush(stdout);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		if (chdir(r->dir) < 0)
			_exit(126);
		if (r->inherit_restore)
			inherit_criu_fds(r);
		else
			close_range(3, ~0U, 0);
		execv(argv[0], argv);
		fprintf(stderr, "run: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	ret = wait_cmd(r, pid, &status);
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		wait_pid(pid, NULL, &status);
		return -ETIMEDOUT;
	}
	return ret ? ret : status;
}


/* Start the test program in its directory; it becomes a session leader. */
int start_test(struct run *r)
{
	char prog[PATH_MAX];
	pid_t pid;
	int fd;

	xsnprintf(prog, sizeof(prog), "%s/%s", r->cfg->bindir, r->desc.program[0] ? r->desc.program : r->name);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setsid();
		if (chdir(r->dir) < 0)
			_exit(126);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		fd = open(r->outfile, O_WRONLY | O_CREAT | O_APPEND, 0666);
		if (fd >= 0) {
			fchmod(fd, 0666);
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		/* Only 0, 1 and 2 (and the desc's inherit pipes): nothing from make or the shell. */
		inherit_child_fds(r);
		execl(prog, prog, "--pidfile", r->pidfile, "--outfile", r->outfile, (char *)NULL);
		fprintf(stderr, "run: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	r->pid = pid;
	return 0;
}

/* Wait for the pid file of the test; fails when the test exits first. */
int wait_ready(struct run *r)
{
	char status_str[64];
	int status;

	for (;;) {
		char *s = read_file(r->pidfile);

		if (s) {
			pid_t pid = (pid_t)atoi(s);

			free(s);
			if (pid != r->pid) {
				set_reason(r, "pid file says %d, started %d", pid, r->pid);
				return -EINVAL;
			}
			return 0;
		}
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			describe_status(status, status_str, sizeof(status_str));
			set_reason(r, "test exited before it was ready (%s)", status_str);
			r->pid = 0;
			return -ECHILD;
		}
		if (past(&r->deadline)) {
			set_reason(r, "no pid file before the timeout");
			return -ETIMEDOUT;
		}
		nap();
	}
}
