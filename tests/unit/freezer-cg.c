// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * criu dump --freeze-cgroup with the real criu binary of the build tree:
 * a busy child in a v1 freezer cgroup and in a v2 cgroup is dumped with -R
 * and keeps running, the cgroup thawed again; pre-dump works the same; a
 * path that is no freezer cgroup, or a cgroup the task is not in, fails
 * and leaves the task running; a cgroup found frozen stays frozen;
 * --leave-stopped leaves the cgroup thawed and the task stopped; a default
 * dump (kill) through the cgroup restores with restore -d. Needs root and
 * both freezers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A flat list of TAP points, the plan at the end. */
static int tap_n, tap_nfailed;

static void tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap_ok(bool cond, const char *fmt, ...)
{
	va_list args;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	if (!cond)
		tap_nfailed++;
}

static void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tap_diag(const char *fmt, ...)
{
	va_list args;

	printf("# ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

static int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_nfailed ? 1 : 0;
}

#define V1_ROOT "/sys/fs/cgroup/freezer"
#define V2_ROOT "/sys/fs/cgroup/unified"

static char criu[4096], libdir[4096], tmp[] = "/tmp/criu-freezer-cg.XXXXXX";
static char v1[256], v1b[256], v2[256];

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

/* The file's first line, or "" */
static const char *read_line(const char *dir, const char *file)
{
	static char buf[256];
	char path[512];
	ssize_t n;
	int fd;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static bool v2_frozen(const char *cg)
{
	char path[512], line[128];
	bool frozen = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strcmp(line, "frozen 1\n"))
			frozen = true;
	fclose(f);
	return frozen;
}

static void busy_child(void)
{
	volatile unsigned long n = 0;

	/* No fds at all: the dump then needs no plugin. */
	for (int i = 0; i < 1024; i++)
		close(i);
	for (;;)
		n++;
}

static pid_t start_child(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		busy_child();
		_exit(0);
	}
	return pid;
}

/* utime + stime from /proc/PID/stat, or -1 (gone or a zombie). */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	char state;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &state, &ut, &st) != 3 ||
	    state == 'Z')
		return -1;
	return (long)(ut + st);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p ? p[2] : 0;
}

/* It uses CPU: its tick count moves within two seconds. */
static bool is_running(pid_t pid)
{
	long before = cpu_ticks(pid);

	if (before < 0)
		return false;
	for (int i = 0; i < 200; i++) {
		long now = cpu_ticks(pid);

		if (now < 0)
			return false;
		if (now != before)
			return true;
		usleep(10000);
	}
	return false;
}

static bool not_traced(pid_t pid)
{
	char path[64], line[256];
	bool ok = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10))
			ok = atoi(line + 10) == 0;
	fclose(f);
	return ok;
}

/* Run criu ARGS... with stdout and stderr into OUT; its exit code, or -1. */
static int run_criu(const char *out, ...)
{
	const char *argv[32];
	int argc = 0, status;
	va_list ap;
	pid_t pid;

	argv[argc++] = criu;
	va_start(ap, out);
	while (argc < 28 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	if (libdir[0]) {
		argv[argc++] = "-L";
		argv[argc++] = libdir;
	}
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(criu, (char **)argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool file_has(const char *path, const char *text)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, text) != NULL;
}

static void show(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "Error") || strstr(line, "rror"))
			tap_diag("%s", line);
	fclose(f);
}

static void kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void mkdump(char *dir, size_t len, const char *name)
{
	snprintf(dir, len, "%s/%s", tmp, name);
	mkdir(dir, 0755);
}

static void move(const char *cg, const char *file, pid_t pid)
{
	char path[512], val[32];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	snprintf(val, sizeof(val), "%d", pid);
	if (write_file(path, val))
		tap_diag("cannot move %d into %s", pid, cg);
}

/* Dump -R through CG (its freezer state file STATE, thawed value THAWED). */
static void dump_running(const char *name, const char *cg, const char *procs, const char *state, const char *thawed)
{
	char dir[512], out[600], img[600], pidstr[32];
	pid_t pid = start_child();
	int rc;

	move(cg, procs, pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), name);
	snprintf(out, sizeof(out), "%s/out", dir);
	rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "-R", "--freeze-cgroup", cg, "-v4", "-o", "dump.log", NULL);
	snprintf(img, sizeof(img), "%s/pstree.img", dir);
	tap_ok(rc == 0 && access(img, F_OK) == 0, "%s: dump -R --freeze-cgroup succeeds", name);
	if (rc) {
		snprintf(img, sizeof(img), "%s/dump.log", dir);
		show(img);
		show(out);
	}
	tap_ok(is_running(pid) && not_traced(pid), "%s: the task keeps running, untraced", name);
	tap_ok(!strcmp(read_line(cg, state), thawed), "%s: the cgroup is %s again", name, thawed);
	kill_reap(pid);
}

static void t_v1(void)
{
	dump_running("v1", v1, "tasks", "freezer.state", "THAWED");
}

static void t_v2(void)
{
	dump_running("v2", v2, "cgroup.procs", "cgroup.freeze", "0");
	tap_ok(!v2_frozen(v2), "v2: cgroup.events says frozen 0");
}

static void t_predump(void)
{
	char dir[512], out[600], pidstr[32];
	pid_t pid = start_child();
	int rc;

	move(v2, "cgroup.procs", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), "predump");
	snprintf(out, sizeof(out), "%s/out", dir);
	rc = run_criu(out, "pre-dump", "-t", pidstr, "-D", dir, "--freeze-cgroup", v2, NULL);
	tap_ok(rc == 0, "pre-dump --freeze-cgroup succeeds");
	if (rc)
		show(out);
	tap_ok(is_running(pid) && not_traced(pid), "pre-dump: the task keeps running, untraced");
	tap_ok(!strcmp(read_line(v2, "cgroup.freeze"), "0") && !v2_frozen(v2), "pre-dump: the cgroup is 0 again");
	kill_reap(pid);
}

static void t_bad_path(void)
{
	char dir[512], out[600], pidstr[32];
	const char *bad[] = { "/tmp", "/sys/fs/cgroup/freezer/no-such-cgroup-criu" };
	pid_t pid = start_child();

	move(v1, "tasks", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	for (int i = 0; i < 2; i++) {
		int rc;

		snprintf(dir, sizeof(dir), "%s/bad%d", tmp, i);
		mkdir(dir, 0755);
		snprintf(out, sizeof(out), "%s/out", dir);
		rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "-R", "--freeze-cgroup", bad[i], NULL);
		tap_ok(rc == 1, "bad path %s: exit 1 (got %d)", bad[i], rc);
		tap_ok(file_has(out, bad[i]), "bad path %s: the error names it", bad[i]);
		tap_ok(is_running(pid) && not_traced(pid), "bad path %s: the task runs on", bad[i]);
	}
	tap_ok(!strcmp(read_line(v1, "freezer.state"), "THAWED"), "bad path: its cgroup stays THAWED");
	kill_reap(pid);
}

static void t_not_member(void)
{
	char dir[512], out[600], pidstr[32];
	pid_t pid = start_child();
	int rc;

	move(v1, "tasks", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), "notmember");
	snprintf(out, sizeof(out), "%s/out", dir);
	rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "-R", "--freeze-cgroup", v1b, NULL);
	tap_ok(rc == 1 && file_has(out, "is not in freezer cgroup"), "task not in the cgroup: a clear error (exit %d)",
	       rc);
	tap_ok(is_running(pid) && not_traced(pid), "task not in the cgroup: it runs on");
	tap_ok(!strcmp(read_line(v1b, "freezer.state"), "THAWED"), "task not in the cgroup: it is THAWED");
	kill_reap(pid);
}

static void t_was_frozen(void)
{
	char dir[512], out[600], path[512], pidstr[32];
	pid_t pid = start_child();
	int rc;

	move(v1, "tasks", pid);
	snprintf(path, sizeof(path), "%s/freezer.state", v1);
	write_file(path, "FROZEN");
	for (int i = 0; i < 100 && strcmp(read_line(v1, "freezer.state"), "FROZEN"); i++)
		usleep(10000);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), "frozen");
	snprintf(out, sizeof(out), "%s/out", dir);
	rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "-R", "--freeze-cgroup", v1, NULL);
	tap_ok(rc == 0, "cgroup found frozen: dump succeeds");
	if (rc)
		show(out);
	tap_ok(!strcmp(read_line(v1, "freezer.state"), "FROZEN"), "cgroup found frozen: FROZEN again");
	write_file(path, "THAWED");
	tap_ok(is_running(pid) && not_traced(pid), "cgroup found frozen: runs once thawed");
	kill_reap(pid);
}

static void t_leave_stopped(void)
{
	char dir[512], out[600], pidstr[32];
	pid_t pid = start_child();
	int rc;

	move(v1, "tasks", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), "stopped");
	snprintf(out, sizeof(out), "%s/out", dir);
	rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "-s", "--freeze-cgroup", v1, NULL);
	tap_ok(rc == 0, "--leave-stopped: dump succeeds");
	if (rc)
		show(out);
	usleep(100000);
	tap_ok(proc_state(pid) == 'T' && not_traced(pid), "--leave-stopped: the task is stopped");
	tap_ok(!strcmp(read_line(v1, "freezer.state"), "THAWED"), "--leave-stopped: the cgroup is THAWED");
	kill_reap(pid);
}

static void t_dump_restore(void)
{
	char dir[512], out[600], pidstr[32];
	pid_t pid = start_child();
	int rc, status;

	move(v1, "tasks", pid);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	mkdump(dir, sizeof(dir), "cr");
	snprintf(out, sizeof(out), "%s/out-dump", dir);
	rc = run_criu(out, "dump", "-t", pidstr, "-D", dir, "--freeze-cgroup", v1, "-v4", "-o", "dump.log", NULL);
	tap_ok(rc == 0, "C/R: dump (kill) --freeze-cgroup succeeds");
	if (rc)
		show(out);
	tap_ok(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "C/R: the task was killed");
	tap_ok(!strcmp(read_line(v1, "freezer.state"), "THAWED"), "C/R: the cgroup is THAWED");
	snprintf(out, sizeof(out), "%s/out-restore", dir);
	rc = run_criu(out, "restore", "-D", dir, "-d", "-v4", "-o", "restore.log", NULL);
	tap_ok(rc == 0, "C/R: restore -d succeeds");
	if (rc) {
		char log[600];

		snprintf(log, sizeof(log), "%s/restore.log", dir);
		show(log);
		show(out);
	}
	tap_ok(is_running(pid), "C/R: the restored task runs");
	kill_reap(pid);
}

static void rm_tree(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("cannot remove %s", dir);
}

int main(void)
{
	const char *b = getenv("top_builddir");
	int ret;

	if (getuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	if (access(V1_ROOT "/freezer.state", F_OK) && access(V1_ROOT "/tasks", F_OK)) {
		printf("1..0 # SKIP no v1 freezer at " V1_ROOT "\n");
		return 0;
	}
	if (access(V2_ROOT "/cgroup.procs", F_OK)) {
		printf("1..0 # SKIP no cgroup2 at " V2_ROOT "\n");
		return 0;
	}
	snprintf(criu, sizeof(criu), "%s/criu", b ? b : ".");
	snprintf(libdir, sizeof(libdir), "%s/plugindir", b ? b : ".");
	if (access(libdir, F_OK))
		libdir[0] = 0;
	/* Restored tasks are reparented to us: reap them (facts 8.4). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(tmp)) {
		printf("1..0 # SKIP no temp dir\n");
		return 0;
	}
	snprintf(v1, sizeof(v1), V1_ROOT "/criu-frz-%d", getpid());
	snprintf(v1b, sizeof(v1b), V1_ROOT "/criu-frz-%d-b", getpid());
	snprintf(v2, sizeof(v2), V2_ROOT "/criu-frz-%d", getpid());
	tap_ok(!mkdir(v1, 0755) && !mkdir(v1b, 0755) && !mkdir(v2, 0755), "cgroups created");

	t_v1();
	t_v2();
	t_predump();
	t_bad_path();
	t_not_member();
	t_was_frozen();
	t_leave_stopped();
	t_dump_restore();

	/* Reap whatever is left (zombies of restored trees come late). */
	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(-1, NULL, WNOHANG);

		if (r < 0)
			break;
		if (r == 0)
			usleep(10000);
	}
	ret = 0;
	for (int i = 0; i < 100; i++) {
		const char *cgs[] = { v1, v1b, v2 };

		ret = 0;
		for (int k = 0; k < 3; k++)
			if (rmdir(cgs[k]) && errno != ENOENT)
				ret = 1;
		if (!ret)
			break;
		usleep(20000);
	}
	tap_ok(!ret, "cgroups removed");
	rm_tree(tmp);
	return tap_done();
}
