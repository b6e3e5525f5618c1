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

#include "run-ps.h"
#include "run.h"

static struct config cfg = {
	.timeout = 90,
	.python = "/usr/bin/python3",
};

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
		else if (!strcmp(key, "stop"))
			d->stop = !strcmp(val, "yes");
		else if (!strcmp(key, "timeout"))
			d->timeout = atoi(val);
		else if (!strcmp(key, "inherit"))
			inherit_parse(d, val, path);
		else if (strcmp(key, "description"))
			fprintf(stderr, "run: %s: unknown key \"%s\"\n", path, key);
	}
	fclose(f);
	return 0;
}

/* Wait until the root's state is (or, with !IS, is no longer) ST. */
static int wait_state(struct run *r, char st, bool is)
{
	char now;

	while (!task_state(r->pid, &now) && (now == st) != is)
		if (past(&r->deadline))
			return -ETIMEDOUT;
		else
			nap();
	return (now == st) == is ? 0 : -ESRCH;
}

/*
 * A "stop: yes" test: stop it, then queue a second SIGSTOP, which the
 * dump has to discard before it runs the parasite (facts 1.7).
 */
static int stop_test(struct run *r)
{
	if (kill(r->pid, SIGSTOP) || wait_state(r, 'T', true) || kill(r->pid, SIGSTOP)) {
		set_reason(r, "task %d did not stop on SIGSTOP", r->pid);
		return -EIO;
	}
	return 0;
}

/* Its state was compared (stopped); SIGCONT must resume it. */
static int resume_stopped(struct run *r)
{
	if (kill(r->pid, SIGCONT) || wait_state(r, 'T', false)) {
		set_reason(r, "task %d did not resume on SIGCONT", r->pid);
		return -EIO;
	}
	return 0;
}

/* Send SIGUSR1, wait for the test to exit and read its verdict. */
static enum result finish(struct run *r)
{
	char *out, *p, *verdict = NULL, st[64];
	int status, ret;

	if (r->desc.stop && resume_stopped(r))
		return RES_FAIL;
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

/* Dump (kills the task), reap it, restore, compare, finish. */
static enum result run_dump_restore(struct run *r, const char *snap)
{
	char out[PATH_MAX], st[64], extra[PATH_MAX + 64] = "";
	bool rpc = !strcmp(r->variant, "rpc"), ps = !strcmp(r->variant, "page-server");
	char ps_dir[PATH_MAX], dump_dir[PATH_MAX];
	enum result res;
	pid_t pid = 0, ps_pid = 0;
	int status, port;

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
	xsnprintf(ps_dir, sizeof(ps_dir), "%s/ps", r->dir);
	xsnprintf(dump_dir, sizeof(dump_dir), "%s/dump", r->dir);
	if (ps) {
		if (ps_start(r->cfg->criu, ps_dir, &ps_pid, &port, r->reason, sizeof(r->reason)))
			return RES_FAIL;
		r->helper = ps_pid;
		xsnprintf(extra, sizeof(extra), "--page-server --address 127.0.0.1 --port %d", port);
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
	if (ps) {
		r->helper = 0;
		if (ps_collect(ps_pid, ps_dir, dump_dir, 20, r->reason, sizeof(r->reason)))
			return RES_FAIL;
	}
	kill_all();
	if (r->desc.before_restore[0] && before_restore(r))
		return RES_FAIL;
	if (r->desc.restore_must_fail)
		return restore_must_fail(r, rpc);

	if (r->desc.nr_inherit) {
		if (inherit_prepare(r))
			return RES_FAIL;
		r->inherit_restore = true;
	}
	if (rpc) {
		xsnprintf(out, sizeof(out), "%s/restore.out", r->dir);
		status = rpc_cmd(r, "restore", "dump", out, &pid);
		if (status != 0) {
			describe_status(status, st, sizeof(st));
			set_reason(r, "restore failed (%s)", st);
			r->inherit_restore = false;
			return RES_FAIL;
		}
	} else if (criu_restore(r, "dump", &pid)) {
		r->inherit_restore = false;
		return RES_FAIL;
	}
	r->inherit_restore = false;
	r->reaped = false; /* a new task now has the pid */
	if (pid != r->pid) {
		set_reason(r, "restored as pid %d, was %d", pid, r->pid);
		r->pid = pid;
		return RES_FAIL;
	}
	if (check_state(r, snap, "after restore") || inherit_check_restored(r))
		return RES_FAIL;
	res = finish(r);
	return res == RES_PASS && inherit_check_end(r, true) ? RES_FAIL : res;
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

/* --no-cr: the program alone, to prove it passes when nothing is done to it. */
static enum result run_no_cr(struct run *r, const char *snap)
{
	nap_ms(200);
	enum result res;

	if (check_state(r, snap, "without C/R"))
		return RES_FAIL;
	res = finish(r);
	return res == RES_PASS && inherit_check_end(r, false) ? RES_FAIL : res;
}

static bool variant_known(const char *v)
{
	return !strcmp(v, "default") || !strcmp(v, "leave-running") || !strcmp(v, "pre-dump") || !strcmp(v, "rpc") ||
	       !strcmp(v, "page-server");
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

	if (inherit_start(r) || start_test(r)) {
		set_reason(r, "fork: %s", strerror(errno));
		goto out;
	}
	if (wait_ready(r) || inherit_ready(r))
		goto out;
	if (r->desc.stop && stop_test(r))
		goto out;
	snap = stable_snapshot(r->pid);
	if (!snap) {
		set_reason(r, "cannot read /proc/%d", r->pid);
		goto out;
	}
	if (!strcmp(variant, "no-cr"))
		res = run_no_cr(r, snap);
	else if (r->desc.must_fail)
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
	inherit_close(r);
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
		   "  --variant V        run only variant V (default, leave-running, pre-dump, rpc,\n"
		   "                     page-server)\n"
		   "  --all-variants     run every variant on every test\n"
		   "  --no-cr            run the programs only (no dump, no restore), to check them\n"
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
		{ "help", no_argument, NULL, 'h' },	     { "no-cr", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
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
		case 'N':
			cfg.no_cr = true;
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
			xsnprintf(d.variants, sizeof(d.variants), "default leave-running pre-dump rpc page-server");
		if (d.must_fail)
			xsnprintf(d.variants, sizeof(d.variants), "default");
		if (cfg.no_cr)
			xsnprintf(d.variants, sizeof(d.variants), "no-cr");
		xsnprintf(variants, sizeof(variants), "%s", d.variants);
		for (v = strtok_r(variants, " \t,", &save); v; v = strtok_r(NULL, " \t,", &save)) {
			double t0 = now_sec();
			enum result res;

			if (cfg.only_variant && strcmp(cfg.only_variant, v))
				continue;
			if (!variant_known(v) && !cfg.no_cr) {
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
	/* Names found in --srcdir were strdup'ed; those from the command line were not. */
	for (int i = 0; optind >= argc && i < nr_tests; i++)
		free(names[i]);
	return failed ? 1 : 0;
}
