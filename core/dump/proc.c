// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#define LOG_PREFIX "dump: "
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criu/log.h>

#include "dump/proc.h"

int proc_read_text(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[96];
	ssize_t n;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	n = read(fd, buf, len - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (n < 0) {
		pr_perror("cannot read %s", path);
		return ret;
	}
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return 0;
}

int proc_read_num(pid_t pid, const char *name, int base, long long *val)
{
	char buf[64], *end;
	int ret = proc_read_text(pid, name, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoll(buf, &end, base);
	if (errno || end == buf) {
		pr_err("/proc/%d/%s: not a number: \"%s\"", pid, name, buf);
		return -EINVAL;
	}
	return 0;
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	char buf[2048], *p;
	unsigned long long f[52];
	int n = 0, ret;

	ret = proc_read_text(pid, "stat", buf, sizeof(buf));
	if (ret)
		return ret;
	/* comm (field 2) may hold spaces and ')': parse after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		pr_err("/proc/%d/stat: malformed", pid);
		return -EINVAL;
	}
	memset(st, 0, sizeof(*st));
	st->state = p[2];
	p += 3;
	/* Fields 4..52 follow; f[k] is field k. */
	for (int k = 4; k <= 52; k++) {
		char *end;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		f[k - 1] = strtoull(p, &end, 10);
		if (end == p)
			f[k - 1] = (unsigned long long)strtoll(p, &end, 10);
		if (end == p) {
			pr_err("/proc/%d/stat: field %d malformed", pid, k);
			return -EINVAL;
		}
		p = end;
		n = k;
	}
	if (n < 52) {
		pr_err("/proc/%d/stat: only %d fields", pid, n);
		return -EINVAL;
	}
#define F(k) (f[(k) - 1])
	st->ppid = (pid_t)F(4);
	st->pgrp = (pid_t)F(5);
	st->session = (pid_t)F(6);
	st->flags = (unsigned int)F(9);
	st->nice = (int)(long long)F(19);
	st->start_code = F(26);
	st->end_code = F(27);
	st->start_stack = F(28);
	st->start_data = F(45);
	st->end_data = F(46);
	st->start_brk = F(47);
	st->arg_start = F(48);
	st->arg_end = F(49);
	st->env_start = F(50);
	st->env_end = F(51);
	st->exit_code = (int)F(52);
#undef F
	return 0;
}

void proc_status_free(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
}

static int parse_ids(const char *v, uint32_t out[4])
{
	return sscanf(v, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &out[0], &out[1], &out[2],
		      &out[3]) == 4 ? 0 : -EINVAL;
}

static int parse_groups(const char *v, struct proc_status *st)
{
	const char *p = v;

	while (*p) {
		char *end;
		unsigned long g;
		uint32_t *ng;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			break;
		g = strtoul(p, &end, 10);
		if (end == p)
			return -EINVAL;
		ng = realloc(st->groups, (st->n_groups + 1) * sizeof(*ng));
		if (!ng)
			return -ENOMEM;
		st->groups = ng;
		st->groups[st->n_groups++] = (uint32_t)g;
		p = end;
	}
	return 0;
}

int proc_read_status(pid_t pid, struct proc_status *st)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int ret = 0, lineno = 0;
	FILE *f;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		char *v = strchr(line, ':');

		lineno++;
		if (!v)
			continue;
		*v++ = 0;
		v += strspn(v, " \t");
		if (!strcmp(line, "Uid"))
			ret = parse_ids(v, st->uid);
		else if (!strcmp(line, "Gid"))
			ret = parse_ids(v, st->gid);
		else if (!strcmp(line, "Groups"))
			ret = parse_groups(v, st);
		else if (!strcmp(line, "CapInh"))
			st->cap_inh = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapPrm"))
			st->cap_prm = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapEff"))
			st->cap_eff = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapBnd"))
			st->cap_bnd = strtoull(v, NULL, 16);
		else if (!strcmp(line, "CapAmb"))
			st->cap_amb = strtoull(v, NULL, 16);
		else if (!strcmp(line, "NoNewPrivs"))
			st->no_new_privs = atoi(v);
		else if (!strcmp(line, "Seccomp"))
			st->seccomp = atoi(v);
		else if (!strcmp(line, "Umask")) {
			st->umask = (uint32_t)strtoul(v, NULL, 8);
			st->has_umask = true;
		}
		if (ret)
			pr_err("%s:%d: cannot parse %s", path, lineno, line);
	}
	free(line);
	fclose(f);
	if (ret)
		proc_status_free(st);
	return ret;
}

/* Rows of /proc/PID/limits in RLIMIT_* order. */
static const char *const limit_names[PROC_NR_RLIMITS] = {
	"Max cpu time",	      "Max file size",	      "Max data size",	       "Max stack size",
	"Max core file size", "Max resident set",     "Max processes",	       "Max open files",
	"Max locked memory",  "Max address space",    "Max file locks",	       "Max pending signals",
	"Max msgqueue size",  "Max nice priority",    "Max realtime priority", "Max realtime timeout",
};

static int parse_limit(const char *s, uint64_t *v, const char **end)
{
	char *e;

	s += strspn(s, " ");
	if (!strncmp(s, "unlimited", 9)) {
		*v = PROC_RLIM_INFINITY;
		*end = s + 9;
		return 0;
	}
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (e == s || errno)
		return -EINVAL;
	*end = e;
	return 0;
}

int proc_read_limits(pid_t pid, struct proc_rlimit lim[PROC_NR_RLIMITS])
{
	char buf[4096], *line, *save = NULL;
	bool seen[PROC_NR_RLIMITS] = { 0 };
	int ret;

	ret = proc_read_text(pid, "limits", buf, sizeof(buf));
	if (ret)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (int i = 0; i < PROC_NR_RLIMITS; i++) {
			size_t l = strlen(limit_names[i]);
			const char *p;

			if (strncmp(line, limit_names[i], l) || line[l] != ' ')
				continue;
			if (parse_limit(line + l, &lim[i].cur, &p) || parse_limit(p, &lim[i].max, &p)) {
				pr_err("/proc/%d/limits: cannot parse \"%s\"", pid, line);
				return -EINVAL;
			}
			seen[i] = true;
		}
	}
	for (int i = 0; i < PROC_NR_RLIMITS; i++)
		if (!seen[i]) {
			pr_err("/proc/%d/limits: no \"%s\" row", pid, limit_names[i]);
			return -EINVAL;
		}
	return 0;
}

static int notify_type(const char *s)
{
	if (!strncmp(s, "signal", 6))
		return 0; /* SIGEV_SIGNAL */
	if (!strncmp(s, "none", 4))
		return 1; /* SIGEV_NONE */
	if (!strncmp(s, "thread", 6))
		return 2; /* SIGEV_THREAD */
	return -1;
}

int proc_read_timers(pid_t pid, struct proc_posix_timer **out, size_t *n)
{
	struct proc_posix_timer *t = NULL, *cur = NULL;
	char path[64], *line = NULL;
	size_t cap = 0, nr = 0;
	int ret = 0, lineno = 0;
	FILE *f;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		lineno++;
		if (!strncmp(line, "ID:", 3)) {
			struct proc_posix_timer *nt = realloc(t, (nr + 1) * sizeof(*nt));

			if (!nt) {
				ret = -ENOMEM;
				break;
			}
			t = nt;
			cur = &t[nr++];
			memset(cur, 0, sizeof(*cur));
			cur->id = atoi(line + 3);
		} else if (!cur) {
			ret = -EINVAL;
		} else if (!strncmp(line, "signal:", 7)) {
			unsigned long long sival;

			if (sscanf(line + 7, " %d/%llx", &cur->signo, &sival) != 2)
				ret = -EINVAL;
			cur->sival = sival;
		} else if (!strncmp(line, "notify:", 7)) {
			char *p = line + 7 + strspn(line + 7, " "), *slash = strchr(p, '/');
			int type = notify_type(p);

			if (type < 0 || !slash)
				ret = -EINVAL;
			else if (!strncmp(slash + 1, "tid.", 4)) {
				cur->notify = type | 4; /* SIGEV_THREAD_ID */
				cur->notify_tid = atoi(slash + 5);
			} else {
				cur->notify = type;
			}
		} else if (!strncmp(line, "ClockID:", 8)) {
			cur->clock_id = atoi(line + 8);
		}
		if (ret)
			pr_err("%s:%d: cannot parse \"%s\"", path, lineno, line);
	}
	free(line);
	fclose(f);
	if (ret) {
		free(t);
		return ret;
	}
	*out = t;
	*n = nr;
	return 0;
}

int proc_read_auxv(pid_t pid, uint64_t **out, size_t *n)
{
	char path[64];
	uint64_t *buf;
	ssize_t len;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/auxv", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_perror("cannot open %s", path);
		return ret;
	}
	buf = malloc(4096);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	len = read(fd, buf, 4096);
	ret = len < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		pr_perror("cannot read %s", path);
		free(buf);
		return ret;
	}
	*n = 0;
	/* Keep pairs up to and including AT_NULL. */
	for (size_t i = 0; i + 1 < (size_t)len / 8; i += 2) {
		*n = i + 2;
		if (buf[i] == 0)
			break;
	}
	*out = buf;
	return 0;
}
