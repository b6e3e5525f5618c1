// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-mem: dump and restore one process holding 1 GiB (BENCH_MEM_MIB)
 * of touched anonymous memory, with the images on tmpfs, and print the
 * figures: dump time (criu dump from start to exit), frozen time (from
 * the stats-dump image, read with `crit decode`), restore time, image
 * size. It is a benchmark, not a test: it fails only when the dump or
 * restore fails or the task's memory check after restore does.
 *
 * With --task and --label it measures any task that speaks the C/R test
 * protocol (pid file, SIGUSR1, PASS): `make bench` also runs it on
 * bench-tree-task, a tree of 100 processes and a process with 100
 * threads, and on the C/R test fds10k00, a process with 10,000 fds.
 *
 * Like the C/R runner it is a child subreaper and reaps everything. The
 * images (up to the memory size, in RAM) are removed unless --keep.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *criu, *libdir, *task, *label, *crit = "crit";
static char dir[PATH_MAX];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int path(char *buf, const char *name)
{
	return snprintf(buf, PATH_MAX, "%.3000s/%s", dir, name) >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* fork+exec ARGV with stdout to OUT (or inherited), wait; its wait status. */
static int run(char **argv, const char *out)
{
	pid_t pid = fork();
	int status, fd;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (out) {
			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd >= 0) {
				dup2(fd, STDOUT_FILENO);
				dup2(fd, STDERR_FILENO);
				close(fd);
			}
		}
		execvp(argv[0], argv);
		fprintf(stderr, "bench-mem: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/*
	 * Reap whatever else dies meanwhile: the dump kills the task (and
	 * its tree, whose orphans come to us), and criu waits for them to be
	 * reaped; left alone that wait is part of the dump time.
	 */
	for (;;) {
		pid_t r = waitpid(-1, &status, __WALL);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static off_t total_size;

static int add_size(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)p;
	(void)ftw;
	if (flag == FTW_F)
		total_size += st->st_size;
	return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

/* The last lines of a criu log, to stderr (the images are removed unless --keep). */
static void print_tail(const char *file)
{
	char *cmd;

	fflush(stdout);
	if (asprintf(&cmd, "tail -n 15 '%s' >&2", file) > 0) {
		if (system(cmd) != 0)
			fprintf(stderr, "bench-mem: no log %s\n", file);
		free(cmd);
	}
}

/* Kill and reap every child. */
static void reap_all(void)
{
	int status;

	for (int i = 0; i < 500; i++) {
		pid_t p = waitpid(-1, &status, WNOHANG | __WALL);

		if (p < 0)
			return;
		if (p == 0) {
			struct timespec ts = { 0, 10000000 };

			nanosleep(&ts, NULL);
		}
	}
}

/* frozen_time from `crit decode -i stats-dump`, in microseconds, or -1. */
static long frozen_time_us(const char *imgdir)
{
	char in[PATH_MAX], out[PATH_MAX], *argv[] = { (char *)crit, "decode", "-i", in, NULL };
	char line[512];
	long val = -1;
	FILE *f;

	snprintf(in, sizeof(in), "%.3000s/stats-dump", imgdir);
	if (path(out, "stats-dump.json") || run(argv, out) != 0)
		return -1;
	f = fopen(out, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "\"frozen_time\"");

		if (p && (p = strchr(p, ':')))
			val = strtol(p + 1, NULL, 10);
	}
	fclose(f);
	return val;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "criu", required_argument, NULL, 'c' }, { "libdir", required_argument, NULL, 'L' },
		{ "task", required_argument, NULL, 't' }, { "crit", required_argument, NULL, 'C' },
		{ "keep", no_argument, NULL, 'k' },	  { "label", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	char pidfile[PATH_MAX], outfile[PATH_MAX], imgdir[PATH_MAX], log[PATH_MAX], pidstr[16], rpidfile[PATH_MAX];
	char *cargv[24], *s, buf[256];
	double t0, dump_time, restore_time;
	int opt, status, ret = 1, fd, n;
	bool keep = false;
	long frozen;
	pid_t pid;

	while ((opt = getopt_long(argc, argv, "L:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			criu = optarg;
			break;
		case 'L':
			libdir = optarg;
			break;
		case 't':
			task = optarg;
			break;
		case 'C':
			crit = optarg;
			break;
		case 'k':
			keep = true;
			break;
		case 'l':
			label = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: bench-mem --criu PATH --task PATH [-L PLUGINDIR] [--crit PATH] [--keep]\n"
				"       [--label TEXT]   what the task holds, for the first line\n");
			return 2;
		}
	}
	if (!criu || !task) {
		fprintf(stderr, "bench-mem: --criu and --task are required\n");
		return 2;
	}
	/* The task runs in the work dir: absolute paths. */
	task = realpath(task, NULL);
	if (!task) {
		perror("bench-mem: --task");
		return 2;
	}
	if (libdir && !(libdir = realpath(libdir, NULL))) {
		perror("bench-mem: -L");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		perror("bench-mem: PR_SET_CHILD_SUBREAPER");
		return 2;
	}
	/* /dev/shm is tmpfs: the figures measure criu, not the disk. */
	snprintf(dir, sizeof(dir), "/dev/shm/criu-bench.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("bench-mem: mkdtemp");
		return 2;
	}
	if (path(pidfile, "task.pid") || path(outfile, "task.out") || path(imgdir, "img") || path(log, "dump.log") ||
	    path(rpidfile, "restore.pid"))
		return 2;
	mkdir(imgdir, 0755);
	if (label)
		printf("bench-mem: %s, images on tmpfs in %s\n", label, imgdir);
	else
		printf("bench-mem: %s MiB of touched anonymous memory, images on tmpfs in %s\n",
		       getenv("BENCH_MEM_MIB") ? getenv("BENCH_MEM_MIB") : "1024", imgdir);

	pid = fork();
	if (pid == 0) {
		setsid();
		if (chdir(dir))
			_exit(126);
		fd = open(outfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		close_range(3, ~0U, 0);
		execl(task, task, "--pidfile", pidfile, "--outfile", outfile, (char *)NULL);
		fprintf(stderr, "bench-mem: exec %s: %s\n", task, strerror(errno));
		_exit(127);
	}
	for (n = 0; access(pidfile, F_OK); n++) {
		struct timespec ts = { 0, 20000000 };

		if (n > 3000 || waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "bench-mem: the task did not get ready\n");
			goto out;
		}
		nanosleep(&ts, NULL);
	}
	snprintf(pidstr, sizeof(pidstr), "%d", pid);

	n = 0;
	cargv[n++] = (char *)criu;
	cargv[n++] = "dump";
	cargv[n++] = "-t";
	cargv[n++] = pidstr;
	cargv[n++] = "-D";
	cargv[n++] = imgdir;
	cargv[n++] = "-o";
	cargv[n++] = log;
	if (libdir) {
		cargv[n++] = "-L";
		cargv[n++] = (char *)libdir;
	}
	cargv[n] = NULL;
	t0 = now();
	status = run(cargv, NULL);
	dump_time = now() - t0;
	if (status != 0) {
		fprintf(stderr, "bench-mem: dump failed (status %#x)\n", status);
		print_tail(log);
		goto out;
	}
	reap_all(); /* the dump killed the task; run() reaped it */

	total_size = 0;
	nftw(imgdir, add_size, 16, FTW_PHYS);
	frozen = frozen_time_us(imgdir);

	if (path(log, "restore.log"))
		goto out;
	n = 1;
	cargv[n++] = "restore";
	cargv[n++] = "-d";
	cargv[n++] = "-D";
	cargv[n++] = imgdir;
	cargv[n++] = "-o";
	cargv[n++] = log;
	cargv[n++] = "--pidfile";
	cargv[n++] = rpidfile;
	if (libdir) {
		cargv[n++] = "-L";
		cargv[n++] = (char *)libdir;
	}
	cargv[n] = NULL;
	t0 = now();
	status = run(cargv, NULL);
	restore_time = now() - t0;
	if (status != 0) {
		fprintf(stderr, "bench-mem: restore failed (status %#x)\n", status);
		print_tail(log);
		goto out;
	}

	printf("dump time:     %8.3f s\n", dump_time);
	if (frozen >= 0)
		printf("frozen time:   %8.3f s (stats-dump)\n", (double)frozen / 1e6);
	else
		printf("frozen time:        n/a (no stats-dump, or %s cannot decode it)\n", crit);
	printf("restore time:  %8.3f s\n", restore_time);
	printf("image size:    %8.1f MiB\n", (double)total_size / (1 << 20));

	kill(pid, SIGUSR1);
	if (waitpid(pid, &status, 0) != pid) {
		fprintf(stderr, "bench-mem: the restored task is not our child: %s\n", strerror(errno));
		goto out;
	}
	fd = open(outfile, O_RDONLY);
	n = fd >= 0 ? (int)read(fd, buf, sizeof(buf) - 1) : -1;
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	s = strstr(buf, "PASS");
	printf("check after restore: %s\n", s && WIFEXITED(status) && !WEXITSTATUS(status) ? "PASS" : "FAIL");
	if (s && WIFEXITED(status) && !WEXITSTATUS(status))
		ret = 0;
out:
	/* The task's whole tree: it made itself a group (setsid), and nothing here leaves it. */
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	reap_all();
	if (keep)
		printf("bench-mem: files kept in %s\n", dir);
	else
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return ret;
}
