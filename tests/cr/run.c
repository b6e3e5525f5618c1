// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The C/R test runner. For every test program in tests/cr (one NAME.desc
 * each) and every variant it asks for, it starts the program, waits for
 * its pid file, records what is visible of the task from /proc, dumps it
 * with criu, restores it, checks the visible state came back, sends
 * SIGUSR1 and collects PASS or FAIL from the program's outfile.
 *
 * The runner makes itself a child subreaper and is the parent of all it
 * dumps: a restored task (criu restore -d) is reparented to it, and it
 * reaps everything itself, because pid 1 here reaps orphans only after
 * seconds and a zombie keeps the pid a restore needs.
 *
 * It prints one line per test and variant and ends with
 * "N passed, N failed" (", N skipped" only when a .checkskip said so).
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

#define MAX_ARGS 64
#define MAX_TESTS 256

enum result { RES_PASS, RES_FAIL, RES_SKIP };

struct config {
	const char *criu;
	const char *libdir;
	const char *srcdir;
	const char *bindir;
	const char *python;
	char workdir[PATH_MAX];
	const char *only_variant;
	int timeout;
	bool keep;
	bool verbose;
};

/* What a NAME.desc file says. */
struct desc {
	char variants[256];
	char opts[1024];
	char dump_opts[1024];
	char restore_opts[1024];
	char dump_error[512];
	char restore_error[512];
	char before_restore[1024];
	char program[64]; /* the program to run, when not the test's name */
	bool must_fail;
	bool restore_must_fail;
	int timeout;
};

/* One test and variant being run. */
struct run {
	const struct config *cfg;
	const char *name;
	const char *variant;
	struct desc desc;
	char dir[PATH_MAX];
	char pidfile[PATH_MAX];
	char outfile[PATH_MAX];
	pid_t pid;
	bool reaped;	   /* the test died and was reaped while criu ran */
	int reaped_status; /* its wait status then */
	struct timespec deadline;
	char reason[1024];
	/* extra files whose tail is shown on failure */
	char logs[6][PATH_MAX];
	int nr_logs;
};

static struct config cfg = {
	.timeout = 90,
	.python = "/usr/bin/python3",
};

/* ------------------------------------------------------------------ */
/* small helpers */

/* snprintf that truncates silently: paths here are far below PATH_MAX. */
static int xsnprintf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int xsnprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return ret;
}

static void set_reason(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->reason[0])
		return; /* keep the first cause */
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool past(const struct timespec *deadline)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec > deadline->tv_sec || (ts.tv_sec == deadline->tv_sec && ts.tv_nsec >= deadline->tv_nsec);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static void nap(void)
{
	nap_ms(10);
}

/* Read a whole small file into a malloc'ed string; NULL on error. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&buf, &len);
	if (!m) {
		fclose(f);
		return NULL;
	}
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	fclose(m);
	return buf;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Print the last LINES lines of PATH, indented. */
static void print_tail(const char *path, int lines)
{
	char *buf = read_file(path), *p;
	int n = 0;

	if (!buf) {
		printf("    --- %s: (missing)\n", path);
		return;
	}
	p = buf + strlen(buf);
	if (p > buf && p[-1] == '\n')
		p--;
	while (p > buf && n <= lines) {
		p--;
		if (*p == '\n')
			n++;
	}
	if (*p == '\n')
		p++;
	printf("    --- tail of %s\n", path);
	while (*p) {
		char *nl = strchr(p, '\n');
		int len = nl ? (int)(nl - p) : (int)strlen(p);

		printf("    | %.*s\n", len, p);
		p += len + (nl ? 1 : 0);
	}
	free(buf);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) ? 0 : 0;
	unlink(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Split S at blanks into ARGV (appending after *ARGC); S is modified. */
static void split_args(char *s, char **argv, int *argc)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(s, " \t", &save); tok && *argc < MAX_ARGS - 1; tok = strtok_r(NULL, " \t", &save))
		argv[(*argc)++] = tok;
	argv[*argc] = NULL;
}

/* Copy SRC to DST (size LEN), replacing %SRCDIR%, %BINDIR%, %DIR% and %PID%. */
static void expand(const struct run *r, const char *src, char *dst, size_t len)
{
	size_t o = 0;

	while (*src && o + 1 < len) {
		const char *val = NULL;
		char pid[16];
		size_t skip = 0;

		if (!strncmp(src, "%SRCDIR%", 8)) {
			val = r->cfg->srcdir;
			skip = 8;
		} else if (!strncmp(src, "%BINDIR%", 8)) {
			val = r->cfg->bindir;
			skip = 8;
		} else if (!strncmp(src, "%DIR%", 5)) {
			val = r->dir;
			skip = 5;
		} else if (!strncmp(src, "%PID%", 5)) {
			xsnprintf(pid, sizeof(pid), "%d", r->pid);
			val = pid;
			skip = 5;
		}
		if (val) {
			o += (size_t)xsnprintf(dst + o, len - o, "%s", val);
			if (o >= len)
				o = len - 1;
			src += skip;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = '\0';
}

/* ------------------------------------------------------------------ */
/* processes */

/*
 * Wait for PID to exit until DEADLINE (NULL: a few seconds). Returns 0
 * and sets *STATUS, or -ETIMEDOUT, or -ECHILD when it is not our child.
 */
static int wait_pid(pid_t pid, const struct timespec *deadline, int *status)
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
static int list_children(pid_t *out, int max)
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
static void kill_all(void)
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
static int task_state(pid_t pid, char *state)
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
 * Wait for a command we ran, until the deadline. Meanwhile reap the test
 * as soon as it dies, as a parent should: criu dump waits for the task it
 * killed to be reaped, and we are that task's parent.
 */
static int wait_cmd(struct run *r, pid_t pid, int *status)
{
	for (;;) {
		pid_t ret = waitpid(pid, status, WNOHANG | __WALL);

		if (ret == pid)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (r->pid > 0 && !r->reaped && waitpid(r->pid, &r->reaped_status, WNOHANG | __WALL) == r->pid)
			r->reaped = true;
		if (past(&r->deadline))
			return -ETIMEDOUT;
		nap();
	}
}

/*
 * Run ARGV with stdout and stderr appended to OUT, wait until DEADLINE.
 * Returns the wait status, or -ETIMEDOUT (the command is killed).
 */
static int run_cmd(struct run *r, char **argv, const char *out)
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

static void describe_status(int status, char *buf, size_t len)
{
	if (status == -ETIMEDOUT)
		xsnprintf(buf, len, "timed out");
	else if (status < 0)
		xsnprintf(buf, len, "%s", strerror(-status));
	else if (WIFEXITED(status))
		xsnprintf(buf, len, "exit code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		xsnprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		xsnprintf(buf, len, "status 0x%x", status);
}

/* Start the test program in its directory; it becomes a session leader. */
static int start_test(struct run *r)
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
		/* Only 0, 1 and 2: nothing inherited from make or the shell. */
		close_range(3, ~0U, 0);
		execl(prog, prog, "--pidfile", r->pidfile, "--outfile", r->outfile, (char *)NULL);
		fprintf(stderr, "run: exec %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	r->pid = pid;
	return 0;
}

/* Wait for the pid file of the test; fails when the test exits first. */
static int wait_ready(struct run *r)
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

/* ------------------------------------------------------------------ */
/* visible state */

/*
 * Normalize one /proc/PID/maps line into OUT, merging it into PREV when
 * it continues it. Returns true when PREV was extended.
 */
struct vma {
	unsigned long start, end, off;
	char perms[8], dev[16], path[PATH_MAX];
	unsigned long ino;
	bool valid;
};

static bool parse_vma(const char *line, struct vma *v)
{
	int pos = 0;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %n", &v->start, &v->end, v->perms, &v->off, v->dev, &v->ino, &pos) <
	    6)
		return false;
	xsnprintf(v->path, sizeof(v->path), "%s", line + pos);
	v->path[strcspn(v->path, "\n")] = '\0';
	/* Shared memory and deleted files get new inodes on restore. */
	if (strstr(v->path, "(deleted)") || !strncmp(v->path, "/SYSV", 5) || !strncmp(v->path, "/memfd:", 7))
		v->ino = 0;
	v->valid = true;
	return true;
}

static void print_vma(FILE *out, const struct vma *v)
{
	fprintf(out, "map %lx-%lx %s %lx %s %lu %s\n", v->start, v->end, v->perms, v->off, v->dev, v->ino, v->path);
}

static void snap_maps(FILE *out, pid_t pid)
{
	char path[64], line[PATH_MAX + 128];
	struct vma prev = { .valid = false }, cur;
	FILE *f;

	xsnprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(out, "maps unreadable\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!parse_vma(line, &cur))
			continue;
		/* A VMA may come back split or merged differently: compare ranges. */
		if (prev.valid && prev.end == cur.start && !strcmp(prev.perms, cur.perms) &&
		    !strcmp(prev.dev, cur.dev) && prev.ino == cur.ino && !strcmp(prev.path, cur.path) &&
		    (cur.ino == 0 || prev.off + (prev.end - prev.start) == cur.off)) {
			prev.end = cur.end;
			continue;
		}
		if (prev.valid)
			print_vma(out, &prev);
		prev = cur;
	}
	if (prev.valid)
		print_vma(out, &prev);
	fclose(f);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void snap_fds(FILE *out, pid_t pid)
{
	char path[PATH_MAX], link[PATH_MAX], line[256];
	int fds[4096], n = 0, i;
	struct dirent *de;
	DIR *d;

	xsnprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		fprintf(out, "fds unreadable\n");
		return;
	}
	while ((de = readdir(d)) && n < 4096)
		if (de->d_name[0] != '.')
			fds[n++] = atoi(de->d_name);
	closedir(d);
	qsort(fds, (size_t)n, sizeof(int), cmp_int);

	for (i = 0; i < n; i++) {
		char pos[64] = "", flags[64] = "", *b;
		ssize_t len;
		FILE *f;

		xsnprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fds[i]);
		len = readlink(path, link, sizeof(link) - 1);
		link[len > 0 ? len : 0] = '\0';
		/* socket:[INO] and pipe:[INO]: the inode is new after restore. */
		b = strchr(link, '[');
		if (b && (!strncmp(link, "socket:", 7) || !strncmp(link, "pipe:", 5)))
			strcpy(b, "[]");

		xsnprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fds[i]);
		f = fopen(path, "re");
		if (f) {
			while (fgets(line, sizeof(line), f)) {
				line[strcspn(line, "\n")] = '\0';
				if (!strncmp(line, "pos:", 4))
					xsnprintf(pos, sizeof(pos), "%s", line + 4 + strspn(line + 4, " \t"));
				else if (!strncmp(line, "flags:", 6))
					xsnprintf(flags, sizeof(flags), "%s", line + 6 + strspn(line + 6, " \t"));
			}
			fclose(f);
		}
		fprintf(out, "fd %d %s pos %s flags %s\n", fds[i], link, pos, flags);
	}
}

static void snap_link(FILE *out, pid_t pid, const char *what)
{
	char path[64], link[PATH_MAX];
	ssize_t len;

	xsnprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	len = readlink(path, link, sizeof(link) - 1);
	link[len > 0 ? len : 0] = '\0';
	fprintf(out, "%s %s\n", what, link);
}

/* The fields of /proc/PID/status that must survive C/R unchanged. */
static const char *const status_keys[] = {
	"Name",	  "Umask",  "Tgid",   "Pid",	    "PPid",    "TracerPid",	  "Uid",
	"Gid",	  "Groups", "NStgid", "NSpid",	    "NSpgid",  "NSsid",		  "Threads",
	"SigPnd", "ShdPnd", "SigBlk", "SigIgn",	    "SigCgt",  "CapInh",	  "CapPrm",
	"CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", NULL,
};

static void snap_status(FILE *out, pid_t pid)
{
	char path[64], line[1024];
	FILE *f;

	xsnprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(out, "status unreadable\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		for (int i = 0; status_keys[i]; i++) {
			if (!strcmp(line, status_keys[i])) {
				char *v = colon + 1;

				v += strspn(v, " \t");
				v[strcspn(v, "\n")] = '\0';
				fprintf(out, "status %s: %s\n", line, v);
			}
		}
	}
	fclose(f);
}

static void snap_file(FILE *out, pid_t pid, const char *what)
{
	char path[64], *buf, *line, *save = NULL;

	xsnprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	buf = read_file(path);
	if (!buf) {
		fprintf(out, "%s unreadable\n", what);
		return;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(out, "%s %s\n", what, line);
	free(buf);
}

/* Everything the runner compares, as lines. Caller frees. */
static char *snapshot(pid_t pid)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	snap_status(out, pid);
	snap_link(out, pid, "cwd");
	snap_link(out, pid, "root");
	snap_file(out, pid, "limits");
	snap_file(out, pid, "personality");
	snap_file(out, pid, "timers");
	snap_fds(out, pid);
	snap_maps(out, pid);
	fclose(out);
	return buf;
}

/* Is LINE (up to its newline) one of the lines of TEXT? */
static bool has_line(const char *text, const char *line, size_t len)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == len && !memcmp(p, line, len))
			return true;
		p += l + (nl ? 1 : 0);
	}
	return false;
}

/* Count the lines only in A and only in B; print them ("-", "+") if PRINT. */
static int diff_lines(const char *a, const char *b, const char *when, bool print)
{
	int n = 0;

	for (int pass = 0; pass < 2; pass++) {
		const char *p = pass ? b : a, *other = pass ? a : b;

		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t)(nl - p) : strlen(p);

			if (!has_line(other, p, l)) {
				if (!print)
					return 1;
				if (n == 0)
					printf("    visible state differs %s (- before, + after):\n", when);
				if (n < 40)
					printf("    %c %.*s\n", pass ? '+' : '-', (int)l, p);
				n++;
			}
			p += l + (nl ? 1 : 0);
		}
	}
	if (print && n >= 40)
		printf("    ... %d differences in all\n", n);
	return n;
}

/*
 * The state right after a restore may not have settled: the restored
 * task may not have run yet (it re-enters sigsuspend, which swaps the
 * blocked mask, and takes the signals a timer sent meanwhile). So retry
 * for up to a second before calling a difference a failure.
 */
#define SETTLE_TRIES 20

/* Compare the live task with SNAP; also require it running and untraced. */
static int check_state(struct run *r, const char *snap, const char *when)
{
	char *now = NULL, st = '?';
	int ret = 0;

	for (int i = 0; i < SETTLE_TRIES; i++) {
		if (i)
			nap_ms(50);
		free(now);
		now = NULL;
		if (r->reaped || task_state(r->pid, &st) || st == 'Z' || st == 'X') {
			set_reason(r, "task %d is gone %s", r->pid, when);
			return -ESRCH;
		}
		if (st == 'T' || st == 't')
			continue;
		now = snapshot(r->pid);
		if (!now) {
			set_reason(r, "cannot read /proc/%d %s", r->pid, when);
			return -ENOMEM;
		}
		if (!diff_lines(snap, now, when, false))
			goto out;
	}
	if (st == 'T' || st == 't') {
		set_reason(r, "task %d is stopped (%c) %s", r->pid, st, when);
		ret = -EBUSY;
	} else {
		diff_lines(snap, now, when, true);
		set_reason(r, "visible state differs %s", when);
		ret = -EINVAL;
	}
out:
	free(now);
	return ret;
}

/*
 * The state before the dump, once it is stable: the pid file comes a
 * moment before the test reaches its wait (test_waitsig() changes the
 * blocked mask on the way), so take snapshots until two agree.
 */
static char *stable_snapshot(pid_t pid)
{
	char *prev = snapshot(pid), *cur;

	for (int i = 0; prev && i < SETTLE_TRIES; i++) {
		nap_ms(50);
		cur = snapshot(pid);
		if (!cur || !diff_lines(prev, cur, "", false)) {
			free(prev);
			return cur;
		}
		free(prev);
		prev = cur;
	}
	return prev;
}

/* ------------------------------------------------------------------ */
/* criu */

/* Build "criu ACTION ... " into ARGV using BUF for the expanded options. */
static void criu_argv(struct run *r, const char *action, const char *dir, const char *log, char **argv, char *buf,
		      size_t len, const char *more)
{
	char tmp[4096];
	int argc = 0;

	argv[argc++] = (char *)r->cfg->criu;
	argv[argc++] = (char *)action;
	/* Everything expanded goes into BUF, then gets split in place. */
	xsnprintf(tmp, sizeof(tmp), "-D %s -o %s -v4 %s%s %s %s", dir, log, r->cfg->libdir ? "-L " : "",
		  r->cfg->libdir ? r->cfg->libdir : "", r->desc.opts, more ? more : "");
	expand(r, tmp, buf, len);
	split_args(buf, argv, &argc);
}

static int criu_dump(struct run *r, const char *action, const char *sub, const char *extra, char *out_path,
		     size_t out_len)
{
	char dir[PATH_MAX], log[PATH_MAX], buf[4096], more[2048];
	char *argv[MAX_ARGS];

	xsnprintf(dir, sizeof(dir), "%s/%s", r->dir, sub);
	mkdir(dir, 0755);
	xsnprintf(log, sizeof(log), "%s/%s.log", dir, action);
	xsnprintf(out_path, out_len, "%s/%s.out", r->dir, sub);
	xsnprintf(more, sizeof(more), "-t %d %s %s", r->pid, r->desc.dump_opts, extra ? extra : "");
	criu_argv(r, action, dir, log, argv, buf, sizeof(buf), more);
	if (r->nr_logs < 5) {
		xsnprintf(r->logs[r->nr_logs++], PATH_MAX, "%s", log);
		xsnprintf(r->logs[r->nr_logs++], PATH_MAX, "%s", out_path);
	}
	return run_cmd(r, argv, out_path);
}

static int criu_restore(struct run *r, const char *sub, pid_t *pid)
{
	char dir[PATH_MAX], log[PATH_MAX], out[PATH_MAX], pidf[PATH_MAX], buf[4096], more[2048], st[64];
	char *argv[MAX_ARGS], *s;
	int status;

	xsnprintf(dir, sizeof(dir), "%s/%s", r->dir, sub);
	xsnprintf(log, sizeof(log), "%s/restore.log", dir);
	xsnprintf(out, sizeof(out), "%s/restore.out", r->dir);
	xsnprintf(pidf, sizeof(pidf), "%s/restore.pid", r->dir);
	xsnprintf(more, sizeof(more), "-d --pidfile %s %s", pidf, r->desc.restore_opts);
	criu_argv(r, "restore", dir, log, argv, buf, sizeof(buf), more);
	if (r->nr_logs < 5) {
		xsnprintf(r->logs[r->nr_logs++], PATH_MAX, "%s", log);
		xsnprintf(r->logs[r->nr_logs++], PATH_MAX, "%s", out);
	}
	status = run_cmd(r, argv, out);
	if (status != 0) {
		describe_status(status, st, sizeof(st));
		set_reason(r, "restore failed (%s)", st);
		return -EIO;
	}
	s = read_file(pidf);
	if (!s) {
		set_reason(r, "restore left no pid file %s", pidf);
		return -ENOENT;
	}
	*pid = (pid_t)atoi(s);
	free(s);
	return 0;
}

/* The same dump and restore through RPC (swrk), by Debian's pycriu. */
static int rpc_cmd(struct run *r, const char *action, const char *sub, const char *out, pid_t *pid)
{
	char script[PATH_MAX], dir[PATH_MAX], pidstr[16], pidf[PATH_MAX];
	char *argv[MAX_ARGS];
	int argc = 0, status;
	char *s;

	xsnprintf(script, sizeof(script), "%s/rpc-cr.py", r->cfg->srcdir);
	xsnprintf(dir, sizeof(dir), "%s/%s", r->dir, sub);
	xsnprintf(pidstr, sizeof(pidstr), "%d", r->pid);
	xsnprintf(pidf, sizeof(pidf), "%s/restore.pid", r->dir);
	mkdir(dir, 0755);
	argv[argc++] = (char *)r->cfg->python;
	argv[argc++] = script;
	argv[argc++] = (char *)action;
	argv[argc++] = "--criu";
	argv[argc++] = (char *)r->cfg->criu;
	argv[argc++] = "--dir";
	argv[argc++] = dir;
	argv[argc++] = "--pid";
	argv[argc++] = pidstr;
	argv[argc++] = "--pidfile";
	argv[argc++] = pidf;
	if (r->cfg->libdir) {
		argv[argc++] = "--libdir";
		argv[argc++] = (char *)r->cfg->libdir;
	}
	argv[argc] = NULL;
	if (r->nr_logs < 5) {
		xsnprintf(r->logs[r->nr_logs], PATH_MAX, "%s/%s.log", dir, action);
		r->nr_logs++;
		xsnprintf(r->logs[r->nr_logs++], PATH_MAX, "%s", out);
	}
	status = run_cmd(r, argv, out);
	if (status == 0 && pid) {
		s = read_file(pidf);
		if (!s)
			return -ENOENT;
		*pid = (pid_t)atoi(s);
		free(s);
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* one test */

static int read_desc(const char *path, struct desc *d)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	memset(d, 0, sizeof(*d));
	xsnprintf(d->variants, sizeof(d->variants), "default");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *key = line + strspn(line, " \t"), *val;

		line[strcspn(line, "\n")] = '\0';
		if (*key == '#' || *key == '\0')
			continue;
		val = strchr(key, ':');
		if (!val) {
			fprintf(stderr, "run: %s: bad line \"%s\"\n", path, line);
			continue;
		}
		*val++ = '\0';
		val += strspn(val, " \t");
		if (!strcmp(key, "variants"))
			xsnprintf(d->variants, sizeof(d->variants), "%s", val);
		else if (!strcmp(key, "opts"))
			xsnprintf(d->opts, sizeof(d->opts), "%s", val);
		else if (!strcmp(key, "dump-opts"))
			xsnprintf(d->dump_opts, sizeof(d->dump_opts), "%s", val);
		else if (!strcmp(key, "restore-opts"))
			xsnprintf(d->restore_opts, sizeof(d->restore_opts), "%s", val);
		else if (!strcmp(key, "dump-error"))
			xsnprintf(d->dump_error, sizeof(d->dump_error), "%s", val);
		else if (!strcmp(key, "restore-error"))
			xsnprintf(d->restore_error, sizeof(d->restore_error), "%s", val);
		else if (!strcmp(key, "program"))
			xsnprintf(d->program, sizeof(d->program), "%s", val);
		else if (!strcmp(key, "before-restore"))
			xsnprintf(d->before_restore, sizeof(d->before_restore), "%s", val);
		else if (!strcmp(key, "expect") && !strcmp(val, "restore-fails"))
			d->restore_must_fail = true;
		else if (!strcmp(key, "expect"))
			d->must_fail = !strcmp(val, "dump-fails");
		else if (!strcmp(key, "timeout"))
			d->timeout = atoi(val);
		else if (strcmp(key, "description"))
			fprintf(stderr, "run: %s: unknown key \"%s\"\n", path, key);
	}
	fclose(f);
	return 0;
}

static bool is_word_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Does TEXT contain WORD, not as part of a longer number or name? */
static bool has_word(const char *text, const char *word)
{
	size_t len = strlen(word);
	const char *p = text;

	while ((p = strcasestr(p, word))) {
		bool left = p == text || !is_word_char(p[-1]);
		bool right = !is_word_char(p[len]);

		if (left && right)
			return true;
		p++;
	}
	return false;
}

/* Every token of WORDS (the desc's dump-error or restore-error) must be in the log or output. */
static int check_error_words(struct run *r, const char *words, const char *action, const char *log,
			     const char *out)
{
	char want[1024], *tok, *save = NULL;
	char *a = read_file(log), *b = read_file(out);
	int ret = 0;

	expand(r, words, want, sizeof(want));
	for (tok = strtok_r(want, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if ((a && has_word(a, tok)) || (b && has_word(b, tok)))
			continue;
		set_reason(r, "the %s failed as expected, but its message does not name \"%s\"", action, tok);
		ret = -EINVAL;
		break;
	}
	free(a);
	free(b);
	return ret;
}

/* Send SIGUSR1, wait for the test to exit and read its verdict. */
static enum result finish(struct run *r)
{
	char *out, *p, *verdict = NULL, st[64];
	int status, ret;

	if (kill(r->pid, SIGUSR1)) {
		set_reason(r, "kill(%d, SIGUSR1): %s", r->pid, strerror(errno));
		return RES_FAIL;
	}
	ret = wait_pid(r->pid, &r->deadline, &status);
	if (ret == -ECHILD) {
		/* Not our child (should not happen as a subreaper): poll. */
		char s;

		while (!task_state(r->pid, &s) && s != 'Z' && !past(&r->deadline))
			nap();
		status = 0;
		ret = past(&r->deadline) ? -ETIMEDOUT : 0;
	}
	if (ret) {
		set_reason(r, "the test did not finish after SIGUSR1 (%s)", strerror(-ret));
		return RES_FAIL;
	}
	r->pid = 0;

	out = read_file(r->outfile);
	for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		if (!strncmp(p, "PASS", 4) || !strncmp(p, "FAIL", 4))
			verdict = p;
	if (verdict)
		verdict[strcspn(verdict, "\n")] = '\0';

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		describe_status(status, st, sizeof(st));
		set_reason(r, "test %s%s%s", st, verdict ? ": " : "", verdict ? verdict : "");
	} else if (!verdict || strcmp(verdict, "PASS")) {
		set_reason(r, "test said %s", verdict ? verdict : "nothing");
	}
	free(out);
	return r->reason[0] ? RES_FAIL : RES_PASS;
}

/* Run the desc's before-restore shell command in the test's dir. */
static int before_restore(struct run *r)
{
	char cmd[2048], out[PATH_MAX], st[64];
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	int status;

	expand(r, r->desc.before_restore, cmd, sizeof(cmd));
	xsnprintf(out, sizeof(out), "%s/before-restore.out", r->dir);
	status = run_cmd(r, argv, out);
	if (status != 0) {
		describe_status(status, st, sizeof(st));
		set_reason(r, "before-restore \"%s\" failed (%s)", cmd, st);
		return -EIO;
	}
	return 0;
}

/* The names in DIR but those the runner makes, sorted, one per line (malloc'd). */
static char *dir_names(const char *dir)
{
	static const char *const ours[] = { "dump", "restore.out", "restore.pid", "before-restore.out", "test.out" };
	struct dirent **de;
	size_t len = 0, cap = 4096;
	char *s = malloc(cap);
	int n;

	if (!s)
		return NULL;
	s[0] = '\0';
	n = scandir(dir, &de, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		bool skip = de[i]->d_name[0] == '.';

		for (size_t k = 0; k < sizeof(ours) / sizeof(ours[0]) && !skip; k++)
			skip = !strcmp(de[i]->d_name, ours[k]);
		if (!skip && len + strlen(de[i]->d_name) + 2 < cap)
			len += (size_t)snprintf(s + len, cap - len, "%s\n", de[i]->d_name);
		free(de[i]);
	}
	if (n >= 0)
		free(de);
	return s;
}

/*
 * The restore must fail, say why, and leave nothing behind: no task with
 * the dumped pid, no process of ours, no new file in the test's dir.
 */
static enum result restore_must_fail(struct run *r, bool rpc)
{
	char out[PATH_MAX], log[PATH_MAX];
	char *before = dir_names(r->dir), *after;
	pid_t kids[8], pid = 0;
	enum result res = RES_FAIL;
	int status;

	xsnprintf(out, sizeof(out), "%s/restore.out", r->dir);
	xsnprintf(log, sizeof(log), "%s/dump/restore.log", r->dir);
	if (rpc) {
		status = rpc_cmd(r, "restore", "dump", out, &pid);
	} else {
		status = criu_restore(r, "dump", &pid);
		r->reason[0] = '\0'; /* its "restore failed" is what we want */
	}
	if (status == 0) {
		set_reason(r, "restore succeeded but was expected to fail");
		goto out;
	}
	if (check_error_words(r, r->desc.restore_error, "restore", log, out))
		goto out;
	if (kill(r->pid, 0) == 0 || errno != ESRCH) {
		set_reason(r, "the failed restore left pid %d behind", r->pid);
		goto out;
	}
	if (list_children(kids, 8) > 0) {
		set_reason(r, "the failed restore left process %d behind", kids[0]);
		goto out;
	}
	after = dir_names(r->dir);
	if (!before || !after || strcmp(before, after)) {
		set_reason(r, "the failed restore left files behind: before\n%safter\n%s", before ? before : "?",
			   after ? after : "?");
		free(after);
		goto out;
	}
	free(after);
	r->pid = 0;
	res = RES_PASS;
out:
	free(before);
	return res;
}

/* Dump (kills the task), reap it, restore, compare, finish. */
static enum result run_dump_restore(struct run *r, const char *snap)
{
	char out[PATH_MAX], st[64], extra[PATH_MAX + 64] = "";
	bool rpc = !strcmp(r->variant, "rpc");
	pid_t pid = 0;
	int status;

	if (!strcmp(r->variant, "pre-dump")) {
		status = criu_dump(r, "pre-dump", "pre", NULL, out, sizeof(out));
		if (status != 0) {
			describe_status(status, st, sizeof(st));
			set_reason(r, "pre-dump failed (%s)", st);
			return RES_FAIL;
		}
		if (check_state(r, snap, "after pre-dump"))
			return RES_FAIL;
		xsnprintf(extra, sizeof(extra), "--prev-images-dir ../pre --track-mem");
	}

	if (rpc) {
		xsnprintf(out, sizeof(out), "%s/dump.out", r->dir);
		status = rpc_cmd(r, "dump", "dump", out, NULL);
	} else
		status = criu_dump(r, "dump", "dump", extra, out, sizeof(out));
	if (status != 0) {
		describe_status(status, st, sizeof(st));
		set_reason(r, "dump failed (%s)", st);
		return RES_FAIL;
	}

	/* The dump killed the task: reap it (if not yet) so its pid is free again. */
	if (r->reaped) {
		status = r->reaped_status;
	} else if (wait_pid(r->pid, &r->deadline, &status)) {
		set_reason(r, "task %d still there after the dump", r->pid);
		return RES_FAIL;
	}
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		describe_status(status, st, sizeof(st));
		set_reason(r, "task ended by itself during the dump (%s)", st);
		r->pid = 0;
		return RES_FAIL;
	}
	kill_all();
	if (r->desc.before_restore[0] && before_restore(r))
		return RES_FAIL;
	if (r->desc.restore_must_fail)
		return restore_must_fail(r, rpc);

	if (rpc) {
		xsnprintf(out, sizeof(out), "%s/restore.out", r->dir);
		status = rpc_cmd(r, "restore", "dump", out, &pid);
		if (status != 0) {
			describe_status(status, st, sizeof(st));
			set_reason(r, "restore failed (%s)", st);
			return RES_FAIL;
		}
	} else if (criu_restore(r, "dump", &pid)) {
		return RES_FAIL;
	}
	r->reaped = false; /* a new task now has the pid */
	if (pid != r->pid) {
		set_reason(r, "restored as pid %d, was %d", pid, r->pid);
		r->pid = pid;
		return RES_FAIL;
	}
	if (check_state(r, snap, "after restore"))
		return RES_FAIL;
	return finish(r);
}

/* dump -R twice: the task must keep running, unchanged. */
static enum result run_leave_running(struct run *r, const char *snap)
{
	char out[PATH_MAX], st[64], sub[16], when[64];
	int status;

	for (int i = 1; i <= 2; i++) {
		xsnprintf(sub, sizeof(sub), "dump%d", i);
		xsnprintf(when, sizeof(when), "after dump -R #%d", i);
		status = criu_dump(r, "dump", sub, "-R", out, sizeof(out));
		if (status != 0) {
			describe_status(status, st, sizeof(st));
			set_reason(r, "dump -R #%d failed (%s)", i, st);
			return RES_FAIL;
		}
		if (check_state(r, snap, when))
			return RES_FAIL;
	}
	return finish(r);
}

/* The dump must fail, say why, and leave the task as it was. */
static enum result run_must_fail(struct run *r, const char *snap)
{
	char out[PATH_MAX], log[PATH_MAX];
	int status;

	status = criu_dump(r, "dump", "dump", NULL, out, sizeof(out));
	if (status == 0) {
		set_reason(r, "dump succeeded but was expected to fail");
		return RES_FAIL;
	}
	if (status == -ETIMEDOUT) {
		set_reason(r, "dump timed out (expected a clean failure)");
		return RES_FAIL;
	}
	if (WIFSIGNALED(status)) {
		set_reason(r, "dump crashed (signal %d), expected a clean failure", WTERMSIG(status));
		return RES_FAIL;
	}
	xsnprintf(log, sizeof(log), "%s/dump/dump.log", r->dir);
	if (check_error_words(r, r->desc.dump_error, "dump", log, out))
		return RES_FAIL;
	if (check_state(r, snap, "after the failed dump"))
		return RES_FAIL;
	return finish(r);
}

static bool variant_known(const char *v)
{
	return !strcmp(v, "default") || !strcmp(v, "leave-running") || !strcmp(v, "pre-dump") || !strcmp(v, "rpc");
}

static enum result run_test(const struct config *c, const char *name, const struct desc *d, const char *variant,
			    char *reason, size_t reason_len)
{
	static struct run run; /* big; one at a time */
	struct run *r = &run;
	char path[PATH_MAX], *snap = NULL;
	enum result res = RES_FAIL;
	int i;

	memset(r, 0, sizeof(*r));
	r->cfg = c;
	r->name = name;
	r->variant = variant;
	r->desc = *d;
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += d->timeout > 0 ? d->timeout : c->timeout;

	xsnprintf(r->dir, sizeof(r->dir), "%s/%s.%s", c->workdir, name, variant);
	rm_tree(r->dir);
	if (mkdir(r->dir, 0777) || chmod(r->dir, 0777)) {
		xsnprintf(reason, reason_len, "mkdir %s: %s", r->dir, strerror(errno));
		return RES_FAIL;
	}
	xsnprintf(r->pidfile, sizeof(r->pidfile), "%s/test.pid", r->dir);
	xsnprintf(r->outfile, sizeof(r->outfile), "%s/test.out", r->dir);

	xsnprintf(path, sizeof(path), "%s/%s.checkskip", c->srcdir, name);
	if (file_exists(path)) {
		char *argv[] = { "/bin/sh", path, NULL }, out[PATH_MAX];
		int status;

		xsnprintf(out, sizeof(out), "%s/checkskip.out", r->dir);
		status = run_cmd(r, argv, out);
		if (status != 0) {
			char *why = read_file(out);

			xsnprintf(reason, reason_len, "%s", why && *why ? why : "kernel feature missing");
			reason[strcspn(reason, "\n")] = '\0';
			free(why);
			return RES_SKIP;
		}
	}
	if (!strcmp(variant, "rpc") && access(c->python, X_OK)) {
		xsnprintf(reason, reason_len, "%s is missing for the rpc variant", c->python);
		return RES_FAIL;
	}

	if (start_test(r)) {
		set_reason(r, "fork: %s", strerror(errno));
		goto out;
	}
	if (wait_ready(r))
		goto out;
	snap = stable_snapshot(r->pid);
	if (!snap) {
		set_reason(r, "cannot read /proc/%d", r->pid);
		goto out;
	}
	if (r->desc.must_fail)
		res = run_must_fail(r, snap);
	else if (!strcmp(variant, "leave-running"))
		res = run_leave_running(r, snap);
	else
		res = run_dump_restore(r, snap);
out:
	if (res != RES_PASS && !r->reason[0])
		set_reason(r, "failed");
	if (res == RES_FAIL) {
		printf("FAIL  %s (%s): %s\n", name, variant, r->reason);
		for (i = 0; i < r->nr_logs; i++)
			print_tail(r->logs[i], 25);
		print_tail(r->outfile, 15);
		printf("    (files kept in %s)\n", r->dir);
	}
	xsnprintf(reason, reason_len, "%s", r->reason);
	free(snap);
	kill_all();
	if (res == RES_PASS && !c->keep)
		rm_tree(r->dir);
	return res;
}

/* ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.desc in the source dir, sorted. */
static int find_tests(const char *srcdir, char **names, int max)
{
	DIR *d = opendir(srcdir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".desc"))
			names[n++] = strndup(de->d_name, len - 5);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), cmp_str);
	return n;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: run [OPTIONS] [TEST...]\n"
		   "Dump and restore each C/R test program (all NAME.desc in --srcdir by default).\n"
		   "  --criu PATH        criu binary to test (required)\n"
		   "  -L, --libdir DIR   plugin dir, passed to criu as -L\n"
		   "  --srcdir DIR       where NAME.desc and NAME.checkskip are [.]\n"
		   "  --bindir DIR       where the test programs are [--srcdir]\n"
		   "  --workdir DIR      scratch dir [a new /tmp/crtest.XXXXXX]\n"
		   "  --variant V        run only variant V (default, leave-running, pre-dump, rpc)\n"
		   "  --all-variants     run every variant on every test\n"
		   "  --timeout SEC      per test and variant [90]\n"
		   "  --keep             keep the dirs of passed tests too\n"
		   "  -v, --verbose      print the commands\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "criu", required_argument, NULL, 'c' },    { "libdir", required_argument, NULL, 'L' },
		{ "srcdir", required_argument, NULL, 's' },  { "bindir", required_argument, NULL, 'b' },
		{ "workdir", required_argument, NULL, 'w' }, { "variant", required_argument, NULL, 'V' },
		{ "all-variants", no_argument, NULL, 'A' },  { "timeout", required_argument, NULL, 't' },
		{ "keep", no_argument, NULL, 'k' },	     { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	     { NULL, 0, NULL, 0 },
	};
	char *names[MAX_TESTS], reason[1024], criu_abs[PATH_MAX], lib_abs[PATH_MAX];
	int nr_tests, opt, passed = 0, failed = 0, skipped = 0;
	bool all_variants = false;

	cfg.srcdir = ".";
	while ((opt = getopt_long(argc, argv, "L:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cfg.criu = optarg;
			break;
		case 'L':
			cfg.libdir = optarg;
			break;
		case 's':
			cfg.srcdir = optarg;
			break;
		case 'b':
			cfg.bindir = optarg;
			break;
		case 'w':
			xsnprintf(cfg.workdir, sizeof(cfg.workdir), "%s", optarg);
			break;
		case 'V':
			cfg.only_variant = optarg;
			break;
		case 'A':
			all_variants = true;
			break;
		case 't':
			cfg.timeout = atoi(optarg);
			break;
		case 'k':
			cfg.keep = true;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!cfg.criu) {
		usage(stderr);
		return 2;
	}
	if (!cfg.bindir)
		cfg.bindir = cfg.srcdir;
	/* The tests run in their own dirs: make every path absolute. */
	if (!realpath(cfg.criu, criu_abs)) {
		fprintf(stderr, "run: criu %s: %s\n", cfg.criu, strerror(errno));
		return 2;
	}
	cfg.criu = criu_abs;
	if (cfg.libdir) {
		if (!realpath(cfg.libdir, lib_abs))
			xsnprintf(lib_abs, sizeof(lib_abs), "%s", cfg.libdir);
		cfg.libdir = lib_abs;
	}
	cfg.srcdir = realpath(cfg.srcdir, NULL);
	cfg.bindir = realpath(cfg.bindir, NULL);
	if (!cfg.srcdir || !cfg.bindir) {
		fprintf(stderr, "run: bad --srcdir or --bindir: %s\n", strerror(errno));
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "run: C/R tests need root\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		perror("run: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!cfg.workdir[0]) {
		xsnprintf(cfg.workdir, sizeof(cfg.workdir), "/tmp/crtest.XXXXXX");
		if (!mkdtemp(cfg.workdir)) {
			perror("run: mkdtemp");
			return 2;
		}
	} else if (mkdir(cfg.workdir, 0755) && errno != EEXIST) {
		fprintf(stderr, "run: mkdir %s: %s\n", cfg.workdir, strerror(errno));
		return 2;
	}
	chmod(cfg.workdir, 0755);

	if (optind < argc) {
		nr_tests = 0;
		for (int i = optind; i < argc && nr_tests < MAX_TESTS; i++)
			names[nr_tests++] = argv[i];
	} else {
		nr_tests = find_tests(cfg.srcdir, names, MAX_TESTS);
		if (nr_tests <= 0) {
			fprintf(stderr, "run: no NAME.desc in %s\n", cfg.srcdir);
			return 2;
		}
	}
	printf("C/R tests: criu %s%s%s, work dir %s\n", cfg.criu, cfg.libdir ? " -L " : "",
	       cfg.libdir ? cfg.libdir : "", cfg.workdir);

	for (int i = 0; i < nr_tests; i++) {
		char path[PATH_MAX], variants[256], *v, *save = NULL;
		struct desc d;

		xsnprintf(path, sizeof(path), "%s/%s.desc", cfg.srcdir, names[i]);
		if (read_desc(path, &d)) {
			printf("FAIL  %s: no %s\n", names[i], path);
			failed++;
			continue;
		}
		if (all_variants && !d.must_fail)
			xsnprintf(d.variants, sizeof(d.variants), "default leave-running pre-dump rpc");
		if (d.must_fail)
			xsnprintf(d.variants, sizeof(d.variants), "default");
		xsnprintf(variants, sizeof(variants), "%s", d.variants);
		for (v = strtok_r(variants, " \t,", &save); v; v = strtok_r(NULL, " \t,", &save)) {
			double t0 = now_sec();
			enum result res;

			if (cfg.only_variant && strcmp(cfg.only_variant, v))
				continue;
			if (!variant_known(v)) {
				printf("FAIL  %s (%s): unknown variant in %s\n", names[i], v, path);
				failed++;
				continue;
			}
			reason[0] = '\0';
			res = run_test(&cfg, names[i], &d, v, reason, sizeof(reason));
			switch (res) {
			case RES_PASS:
				printf("PASS  %s (%s) %.1fs\n", names[i], v, now_sec() - t0);
				passed++;
				break;
			case RES_SKIP:
				printf("SKIP  %s (%s): %s\n", names[i], v, reason);
				skipped++;
				break;
			case RES_FAIL:
				failed++;
				break;
			}
		}
	}
	kill_all();
	if (!failed && !cfg.keep)
		rmdir(cfg.workdir);

	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
