/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What /proc tells about a task without a parasite (facts 3.6-3.13):
 * stat, status (creds, caps, seccomp, umask), limits, timers and a few
 * one-value files. Every parser treats the text as input and fails with
 * an error naming the file.
 */
#ifndef CORE_DUMP_PROC_H
#define CORE_DUMP_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
	char state;
	pid_t ppid, pgrp, session;
	unsigned int flags;	/* PF_* */
	int nice;
	uint64_t start_code, end_code, start_stack;
	uint64_t start_data, end_data, start_brk;
	uint64_t arg_start, arg_end, env_start, env_end;
	int exit_code;
};

struct proc_status {
	uint32_t uid[4], gid[4]; /* real, effective, saved, fs */
	uint32_t *groups;
	size_t n_groups;
	uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
	int no_new_privs;
	int seccomp;
	uint32_t umask;
	bool has_umask;
};

#define PROC_NR_RLIMITS 16
#define PROC_RLIM_INFINITY (~0ULL)

struct proc_rlimit {
	uint64_t cur, max;
};

struct proc_posix_timer {
	int32_t id;
	int32_t clock_id;
	int32_t signo;
	int32_t notify;	   /* sigev_notify, SIGEV_THREAD_ID included */
	int32_t notify_tid; /* for SIGEV_THREAD_ID */
	uint64_t sival;
};

int proc_read_stat(pid_t pid, struct proc_stat *st);
int proc_read_status(pid_t pid, struct proc_status *st);
void proc_status_free(struct proc_status *st);
int proc_read_limits(pid_t pid, struct proc_rlimit lim[PROC_NR_RLIMITS]);
/* *OUT is malloc'd (NULL when there are none). */
int proc_read_timers(pid_t pid, struct proc_posix_timer **out, size_t *n);
/* The raw u64 words of /proc/PID/auxv, up to and including AT_NULL. */
int proc_read_auxv(pid_t pid, uint64_t **out, size_t *n);

/* Read /proc/PID/NAME as text (trailing newline removed) into BUF. */
int proc_read_text(pid_t pid, const char *name, char *buf, size_t len);
/* The same, parsed as a number in BASE (10 or 16). */
int proc_read_num(pid_t pid, const char *name, int base, long long *val);

#endif /* CORE_DUMP_PROC_H */
