/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Seizing and releasing one task with ptrace (facts section 1).
 *
 * infect_seize() attaches with PTRACE_SEIZE, stops the task with
 * PTRACE_INTERRUPT and records what it needs to let the task go exactly as
 * it was: its registers, its signal mask and whether it was group-stopped
 * (and by which signal). infect_detach() gives it back: running as before,
 * stopped, or killed. Both work per thread id; a process tree is seized by
 * calling them for every thread (core/pstree).
 */
#ifndef CORE_INFECT_SEIZE_H
#define CORE_INFECT_SEIZE_H

#include <stdbool.h>
#include <sys/types.h>

#include <pie/kabi.h>

/* CoreEntry.tc.task_state values (CRIU's TASK_ALIVE, TASK_DEAD, TASK_STOPPED). */
#define TASK_STATE_ALIVE 0x1
#define TASK_STATE_DEAD 0x2
#define TASK_STATE_STOPPED 0x3

struct seized_task {
	pid_t pid;		/* thread id as criu sees it */
	int state;		/* TASK_STATE_ALIVE or TASK_STATE_STOPPED at seize time */
	int stop_signo;		/* the signal that group-stopped it, if STOPPED */
	int seccomp_mode;	/* status "Seccomp:" (0 none, 1 strict, 2 filter) */
	struct k_user_regs regs; /* as found at seize; put back on detach */
	k_sigset_t sigmask;	/* as found at seize; put back on detach */
	bool attached;		/* ptrace-attached and stopped by us */
	bool dead;		/* it died while we held it */
	bool is_thread;		/* not a thread-group leader */
	int new_stop_signo;	/* a stop signal that arrived while we held it */
};

/*
 * Seize task PID and wait (up to TIMEOUT_S seconds, 0: no limit) until it
 * is stopped for us. Errors, logged with the pid: -ESRCH "No process with
 * pid N", -EBUSY already traced (names the tracer), -EINVAL a zombie or a
 * thread that is not a process leader, -EOPNOTSUPP a 32-bit task,
 * -ETIMEDOUT when it does not stop (uninterruptible sleep, vfork parent).
 */
int infect_seize(pid_t pid, unsigned int timeout_s, struct seized_task *t);

/*
 * The same for TID, a thread other than the leader of its process. Its
 * group-stop state is the process's; infect_detach() leaves stop and kill
 * signals to the leader. Detach threads before their leader.
 */
int infect_seize_thread(pid_t tid, unsigned int timeout_s, struct seized_task *t);

/*
 * TIDS (N of them) are already PTRACE_SEIZEd (with the options
 * infect_seize() would use) and PTRACE_INTERRUPTed, by the freezer-cgroup
 * path: infect_seize*() of one of them only waits for its trap, and zeroes
 * its entry. NULL, 0 clears the list.
 */
void infect_set_preseized(pid_t *tids, size_t n);

enum infect_detach_mode {
	INFECT_DETACH_RESUME,  /* as it was: running, or stopped by its own signal */
	INFECT_DETACH_STOPPED, /* --leave-stopped: leave it in a group stop */
	INFECT_DETACH_KILL,    /* the default after a dump: SIGKILL and wait for its death */
};

/* Is PID a zombie leader whose other threads still run (a dead thread-group leader)? */
bool infect_dead_leader(pid_t pid);

/* Wait (3 s at most, all together) until the killed PIDS are reaped by their parents. */
void infect_wait_reaped(const pid_t *pids, size_t n);

/*
 * Put back the registers and the sigmask saved by infect_seize() and let
 * the task go. Safe to call on a task that is not attached (does nothing)
 * or that died (only reaps). Returns 0 or the first error.
 */
int infect_detach(struct seized_task *t, enum infect_detach_mode mode);

/* Read the value of FIELD ("TracerPid") from /proc/PID/status into BUF. */
int infect_proc_status_field(pid_t pid, const char *field, char *buf, size_t len);

#endif /* CORE_INFECT_SEIZE_H */
