// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Running criu for the runner: dump, pre-dump and restore on the command
 * line, and through RPC with Debian's pycriu (rpc-cr.py); a restore that
 * must fail and leave nothing behind.
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

int criu_dump(struct run *r, const char *action, const char *sub, const char *extra, char *out_path,
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

int criu_restore(struct run *r, const char *sub, pid_t *pid)
{
	char dir[PATH_MAX], log[PATH_MAX], out[PATH_MAX], pidf[PATH_MAX], buf[4096], more[2048], st[64];
	char inh[1024];
	char *argv[MAX_ARGS], *s;
	int status;

	xsnprintf(dir, sizeof(dir), "%s/%s", r->dir, sub);
	xsnprintf(log, sizeof(log), "%s/restore.log", dir);
	xsnprintf(out, sizeof(out), "%s/restore.out", r->dir);
	xsnprintf(pidf, sizeof(pidf), "%s/restore.pid", r->dir);
	inherit_cli_opts(r, inh, sizeof(inh));
	xsnprintf(more, sizeof(more), "-d --pidfile %s %s%s", pidf, r->desc.restore_opts, inh);
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
int rpc_cmd(struct run *r, const char *action, const char *sub, const char *out, pid_t *pid)
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
	for (int i = 0; r->inherit_restore && i < r->desc.nr_inherit; i++) {
		argv[argc++] = "--inherit-fd";
		argv[argc++] = r->inh[i].rpc;
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

/* Run the desc's before-restore shell command in the test's dir. */
int before_restore(struct run *r)
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
enum result restore_must_fail(struct run *r, bool rpc)
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
