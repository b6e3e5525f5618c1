// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seizing through a freezer cgroup (facts 1.11): freeze, PTRACE_SEIZE +
 * PTRACE_INTERRUPT every thread while nothing runs, thaw, and let
 * pstree_collect() take the traps (core/infect/seize.c knows the threads
 * are already ours). v1 uses freezer.state (FROZEN may take a few
 * re-writes while it reads FREEZING), v2 cgroup.freeze and cgroup.events.
 */
#define _GNU_SOURCE
#define LOG_PREFIX "freezer: "
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "infect/seize.h"
#include "pstree/freezer.h"

#define FREEZER_POLL_NS 10000000L /* 10 ms */

static int cg_read(const struct freezer_cg *fz, const char *file, char *buf, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", fz->path, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_perror("cannot open %s", path);
		return err;
	}
	n = read(fd, buf, len - 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err) {
		pr_perror("cannot read %s", path);
		return err;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int cg_write(const struct freezer_cg *fz, const char *file, const char *val)
{
	char path[4096];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", fz->path, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		err = -errno;
		pr_perror("cannot write %s to %s", val, path);
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/* Is the v2 cgroup frozen ("frozen 1" in cgroup.events)? */
static int v2_frozen(const struct freezer_cg *fz, bool *frozen)
{
	char path[4096], line[128];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "%s/cgroup.events", fz->path);
	f = fopen(path, "re");
	if (!f) {
		err = -errno;
		pr_perror("cannot open %s", path);
		return err;
	}
	*frozen = false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "frozen ", 7))
			*frozen = atoi(line + 7) == 1;
	fclose(f);
	return 0;
}

static int cg_is_frozen(const struct freezer_cg *fz, bool *frozen, bool *freezing)
{
	char buf[64];
	int ret;

	*freezing = false;
	if (fz->version == 2)
		return v2_frozen(fz, frozen);
	ret = cg_read(fz, "freezer.state", buf, sizeof(buf));
	if (ret)
		return ret;
	*frozen = !strcmp(buf, "FROZEN");
	*freezing = !strcmp(buf, "FREEZING");
	return 0;
}

static int cg_set(const struct freezer_cg *fz, bool freeze)
{
	if (fz->version == 2)
		return cg_write(fz, "cgroup.freeze", freeze ? "1" : "0");
	return cg_write(fz, "freezer.state", freeze ? "FROZEN" : "THAWED");
}

/* Freeze and wait until the whole cgroup is frozen, TIMEOUT_S bounded (0: 10 s). */
static int cg_freeze(const struct freezer_cg *fz, unsigned int timeout_s)
{
	struct timespec start, now, pause = { 0, FREEZER_POLL_NS };
	bool frozen, freezing;
	int ret;

	if (!timeout_s)
		timeout_s = 10;
	clock_gettime(CLOCK_MONOTONIC, &start);
	ret = cg_set(fz, true);
	while (!ret) {
		ret = cg_is_frozen(fz, &frozen, &freezing);
		if (ret || frozen)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_s) {
			pr_err("freezer cgroup %s did not freeze within %u s", fz->path, timeout_s);
			ret = -ETIMEDOUT;
			break;
		}
		nanosleep(&pause, NULL);
		/* v1 may stay FREEZING: writing FROZEN again retries the stragglers. */
		if (fz->version == 1)
			ret = cg_set(fz, true);
	}
	return ret;
}

static int proc_status_int(pid_t tid, const char *field, int *val)
{
	char buf[64];
	int ret = infect_proc_status_field(tid, field, buf, sizeof(buf));

	if (!ret)
		*val = atoi(buf);
	return ret;
}

/* The threads listed in the cgroup (v1 tasks, v2 cgroup.threads). */
static int cg_threads(const struct freezer_cg *fz, pid_t **out, size_t *n)
{
	const char *file = fz->version == 2 ? "cgroup.threads" : "tasks";
	char path[4096];
	pid_t *t = NULL, *nt;
	size_t nr = 0;
	long v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fz->path, file);
	f = fopen(path, "re");
	if (!f) {
		int err = -errno;

		pr_perror("cannot open %s", path);
		return err;
	}
	while (fscanf(f, "%ld", &v) == 1) {
		nt = realloc(t, (nr + 1) * sizeof(*nt));
		if (!nt) {
			free(t);
			fclose(f);
			return -ENOMEM;
		}
		t = nt;
		t[nr++] = (pid_t)v;
	}
	fclose(f);
	*out = t;
	*n = nr;
	return 0;
}

/*
 * Take the trap of a thread we seized but pstree_collect() did not take
 * over (an error before it, or a thread that was gone when it looked), and
 * let it go. Called with the cgroup thawed.
 */
static void release_leftover(pid_t tid, unsigned int timeout_s)
{
	struct timespec pause = { 0, 1000000 };
	long tries = (timeout_s ? timeout_s : 10) * 1000L;
	int status, sig = 0;
	pid_t r;

	for (long i = 0; i < tries; i++) {
		r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r < 0 && errno != EINTR)
			return; /* gone */
		if (r == tid) {
			if (!WIFSTOPPED(status))
				return; /* died */
			/* A signal-delivery stop: detaching hands it the signal back. */
			if ((status >> 16) == 0 && WSTOPSIG(status) != SIGTRAP)
				sig = WSTOPSIG(status);
			break;
		}
		nanosleep(&pause, NULL);
	}
	if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig))
		pr_perror("cannot detach from thread %d", tid);
}

static int seize_frozen(pid_t pid, pid_t tid)
{
	long opts = PTRACE_O_TRACESYSGOOD;
	int seccomp = 0, ret;

	/* The options infect_seize() would set (facts 1.12, 1.13). */
	if (!proc_status_int(tid, "Seccomp", &seccomp) && seccomp)
		opts |= PTRACE_O_SUSPEND_SECCOMP;
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts)) {
		int tracer = 0;

		ret = -errno;
		if (ret == -EPERM && !proc_status_int(tid, "TracerPid", &tracer) && tracer) {
			pr_err("pid %d: thread %d is already traced by pid %d", pid, tid, tracer);
			return -EBUSY;
		}
		pr_perror("pid %d: cannot seize thread %d", pid, tid);
		return ret;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		ret = -errno;
		pr_perror("pid %d: cannot interrupt thread %d", pid, tid);
		/* Frozen, not in a ptrace stop: PTRACE_DETACH would fail. Let it trap later. */
		return ret;
	}
	return 0;
}

static int freezer_open(const char *path, struct freezer_cg *fz)
{
	char file[4096];
	struct stat st;
	bool frozen, freezing;
	int ret;

	memset(fz, 0, sizeof(*fz));
	if (stat(path, &st)) {
		ret = -errno;
		pr_perror("--freeze-cgroup %s", path);
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("--freeze-cgroup %s: not a directory", path);
		return -ENOTDIR;
	}
	snprintf(file, sizeof(file), "%s/freezer.state", path);
	if (!access(file, F_OK)) {
		fz->version = 1;
	} else {
		snprintf(file, sizeof(file), "%s/cgroup.freeze", path);
		if (!access(file, F_OK))
			fz->version = 2;
	}
	if (!fz->version) {
		pr_err("--freeze-cgroup %s: not a freezer cgroup (no freezer.state, no cgroup.freeze)", path);
		return -EINVAL;
	}
	fz->path = strdup(path);
	if (!fz->path)
		return -ENOMEM;
	ret = cg_is_frozen(fz, &frozen, &freezing);
	if (ret) {
		free(fz->path);
		fz->path = NULL;
		return ret;
	}
	/* A v1 cgroup caught FREEZING was on its way to FROZEN. */
	fz->was_frozen = frozen || freezing;
	return 0;
}

void freezer_put(struct freezer_cg *fz)
{
	bool frozen, freezing;

	if (!fz)
		return;
	if (fz->path && !cg_is_frozen(fz, &frozen, &freezing)) {
		if (fz->was_frozen && !frozen)
			cg_freeze(fz, 0);
		else if (!fz->was_frozen && (frozen || freezing))
			cg_set(fz, false);
	}
	free(fz->path);
	free(fz);
}

static bool in_list(const pid_t *l, size_t n, pid_t v)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == v)
			return true;
	return false;
}

int freezer_pstree_collect(struct options *o, pid_t pid, struct pstree *t)
{
	unsigned int timeout_s = (unsigned int)opt_int(o, OPT_TIMEOUT);
	const char *path = opt_is_set(o, OPT_FREEZE_CGROUP) ? opt_str(o, OPT_FREEZE_CGROUP) : NULL;
	struct freezer_cg *fz;
	pid_t *all = NULL, *mine = NULL;
	size_t n_all = 0, n_mine = 0;
	bool frozen = false;
	int ret, tgid;

	if (!path || !*path)
		return pstree_collect(pid, timeout_s, t);

	fz = calloc(1, sizeof(*fz));
	if (!fz)
		return -ENOMEM;
	ret = freezer_open(path, fz);
	if (ret)
		goto out_free;

	/* Even a failed freeze may leave it FREEZING: thaw it on the way out. */
	frozen = true;
	ret = cg_freeze(fz, timeout_s);
	if (ret)
		goto thaw;
	ret = cg_threads(fz, &all, &n_all);
	if (ret)
		goto thaw;
	if (!in_list(all, n_all, pid)) {
		pr_err("pid %d is not in freezer cgroup %s", pid, fz->path);
		ret = -ESRCH;
		goto thaw;
	}
	mine = calloc(n_all, sizeof(*mine));
	if (!mine) {
		ret = -ENOMEM;
		goto thaw;
	}
	/*
	 * Every live thread of the cgroup: the tree under PID is found by
	 * pstree_collect() afterwards, and what it does not take (tasks of the
	 * cgroup outside the tree) is let go below. Zombies cannot be seized.
	 */
	for (size_t i = 0; i < n_all; i++) {
		char state[32];

		if (infect_proc_status_field(all[i], "State", state, sizeof(state)) ||
		    state[0] == 'Z' || state[0] == 'X' ||
		    proc_status_int(all[i], "Tgid", &tgid))
			continue;
		ret = seize_frozen(tgid, all[i]);
		if (ret == -ESRCH && all[i] != pid)
			continue; /* exited */
		if (ret)
			goto thaw;
		mine[n_mine++] = all[i];
	}
	pr_info("seized %zu thread(s) in frozen cgroup %s", n_mine, fz->path);

	/* The traps come right after the thaw (facts 1.11). */
	ret = cg_set(fz, false);
	if (ret)
		goto thaw;
	frozen = false;
	infect_set_preseized(mine, n_mine);
	ret = pstree_collect(pid, timeout_s, t);
	infect_set_preseized(NULL, 0);
thaw:
	if (frozen) {
		int r = cg_set(fz, false);

		if (r)
			pr_err("freezer cgroup %s stays frozen: cannot thaw it", fz->path);
	}
	/* Those pstree_collect() did not take over. */
	for (size_t i = 0; i < n_mine; i++)
		if (mine[i])
			release_leftover(mine[i], timeout_s);
	if (ret)
		pr_err("cannot seize pid %d through freezer cgroup %s", pid, fz->path);
out_free:
	free(all);
	free(mine);
	if (ret || !fz->was_frozen) {
		/* Back to its original state now; a frozen one is frozen again by pstree_free(). */
		freezer_put(fz);
		return ret;
	}
	t->fz = fz;
	return 0;
}
