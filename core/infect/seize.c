// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PTRACE_SEIZE + PTRACE_INTERRUPT, and the way back (facts 1.1-1.15).
 */
#define LOG_PREFIX "seize: "
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criu/log.h>

#include "infect/ptrace.h"
#include "infect/seize.h"

#define X86_64_CS 0x33
/* A task may take a few signal-delivery stops before our interrupt lands. */
#define SEIZE_MAX_SIGNAL_STOPS 64

int infect_proc_status_field(pid_t pid, const char *field, char *buf, size_t len)
{
	char path[64], line[512];
	size_t flen = strlen(field);
	int ret = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v;

		if (strncmp(line, field, flen) || line[flen] != ':')
			continue;
		v = line + flen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = 0;
		snprintf(buf, len, "%s", v);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* State letter from /proc/PID/stat (parsed after the last ')'). */
static int proc_state(pid_t pid, char *state)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	*state = p[2];
	return 0;
}

/* Tids the freezer path already seized and interrupted (core/pstree/freezer.c). */
static pid_t *preseized;
static size_t n_preseized;

void infect_set_preseized(pid_t *tids, size_t n)
{
	preseized = tids;
	n_preseized = n;
}

/* Is PID one of them? It is then taken off the list: it is ours now. */
static bool take_preseized(pid_t pid)
{
	for (size_t i = 0; i < n_preseized; i++)
		if (preseized[i] == pid) {
			preseized[i] = 0;
			return true;
		}
	return false;
}

bool infect_dead_leader(pid_t pid)
{
	char path[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n > 1;
}

static int check_seizable(pid_t pid, bool thread, bool ours)
{
	char buf[64], state;
	int ret;

	ret = proc_state(pid, &state);
	if (ret == -ESRCH) {
		pr_err("No process with pid %d", pid);
		return -ESRCH;
	}
	if (ret) {
		pr_err("cannot read /proc/%d/stat: %s", pid, strerror(-ret));
		return ret;
	}
	if ((state == 'Z' || state == 'X') && !thread && infect_dead_leader(pid)) {
		pr_err("pid %d: its main thread has ended while other threads run on (a dead "
		       "thread-group leader); dumping such a process is not supported", pid);
		return -EOPNOTSUPP;
	}
	if (state == 'Z' || state == 'X') {
		pr_err("pid %d is a zombie (dead, waiting for its parent); it cannot be dumped on "
		       "its own", pid);
		return -EINVAL;
	}
	if (!thread && !infect_proc_status_field(pid, "Tgid", buf, sizeof(buf)) &&
	    atoi(buf) != pid) {
		pr_err("pid %d is a thread of process %s; dump the process instead", pid, buf);
		return -EINVAL;
	}
	if (!ours && !infect_proc_status_field(pid, "TracerPid", buf, sizeof(buf)) &&
	    atoi(buf) != 0) {
		pr_err("pid %d is already traced by pid %s; detach that tracer (debugger, strace) first",
		       pid, buf);
		return -EBUSY;
	}
	return 0;
}

/* Wait for the stop our PTRACE_INTERRUPT asked for, TIMEOUT_S bounded. */
static int wait_stop_timeout(pid_t pid, unsigned int timeout_s, int *status)
{
	struct timespec start, now, pause = { 0, 200000 };
	pid_t r;

	if (!timeout_s)
		return infect_wait(pid, status);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		r = waitpid(pid, status, __WALL | WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR) {
			int err = -errno;

			pr_perror("waiting for %d failed", pid);
			return err;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_s) {
			pr_err("pid %d did not stop within %u s (uninterruptible sleep or a vfork "
			       "parent?)", pid, timeout_s);
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Classify stops until the task sits in our interrupt (or group) stop. A
 * signal that was being delivered at the moment we interrupted is given
 * back to the task, which handles it and then traps for us.
 */
static int wait_seized(struct seized_task *t, unsigned int timeout_s)
{
	char sbuf[128];
	int status, ret;

	for (int i = 0; i < SEIZE_MAX_SIGNAL_STOPS; i++) {
		ret = wait_stop_timeout(t->pid, timeout_s, &status);
		if (ret)
			return ret;
		if (!WIFSTOPPED(status)) {
			pr_err("pid %d %s while being seized", t->pid,
			       infect_status_str(status, sbuf, sizeof(sbuf)));
			t->dead = true;
			return -ESRCH;
		}
		if ((status >> 16) == K_PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(status);

			if (sig == SIGTRAP) {
				t->state = TASK_STATE_ALIVE;
			} else if (is_stop_signal(sig)) {
				t->state = TASK_STATE_STOPPED;
				t->stop_signo = sig;
			} else {
				pr_err("pid %d: unexpected event stop with signal %d", t->pid, sig);
				return -EIO;
			}
			return 0;
		}
		/* A signal-delivery stop: let the signal through, our interrupt stays pending. */
		if (ptrace(PTRACE_CONT, t->pid, NULL, (void *)(long)WSTOPSIG(status))) {
			ret = -errno;
			pr_perror("cannot resume %d to deliver signal %d", t->pid, WSTOPSIG(status));
			return ret;
		}
	}
	pr_err("pid %d keeps receiving signals; giving up seizing it", t->pid);
	return -EAGAIN;
}

/* A signal mask field ("SigPnd") of /proc/PID/status; 0 when unreadable. */
static uint64_t status_mask(pid_t pid, const char *field)
{
	char buf[64];

	if (infect_proc_status_field(pid, field, buf, sizeof(buf)))
		return 0;
	return strtoull(buf, NULL, 16);
}

/*
 * How many queued stop signals the task would take as soon as it runs:
 * SIGSTOP always; SIGTSTP, SIGTTIN and SIGTTOU when they are neither
 * blocked, ignored nor caught (otherwise they are ordinary pending
 * signals, dumped as such). Each queue (private, shared) holds at most
 * one of each.
 */
static int count_pending_stops(pid_t pid, int *first)
{
	static const int sigs[] = { SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU };
	uint64_t pnd = status_mask(pid, "SigPnd"), shd = status_mask(pid, "ShdPnd");
	uint64_t skip = status_mask(pid, "SigBlk") | status_mask(pid, "SigIgn") |
			status_mask(pid, "SigCgt");
	int n = 0;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		uint64_t bit = 1ull << (sigs[i] - 1);
		int k = !!(pnd & bit) + !!(shd & bit);

		if (sigs[i] != SIGSTOP && (skip & bit))
			continue;
		if (k && !n)
			*first = sigs[i];
		n += k;
	}
	return n;
}

/*
 * Swallow the queued stop signals (facts 1.7, CRIU's skip_sigstop): left
 * queued, one would stop the task in the middle of the parasite's work.
 * Resume the task and take each one's signal-delivery stop without
 * passing the signal on; other signals that come first go through. The
 * task stays in a ptrace stop. A running task that had one queued is
 * dumped as stopped by it, as it would have been a moment later.
 */
static int skip_pending_stops(struct seized_task *t, unsigned int timeout_s)
{
	int first = 0, n = count_pending_stops(t->pid, &first), status, sig, ret, pass = 0;
	char sbuf[128];

	if (!n)
		return 0;
	pr_info("pid %d has %d stop signal(s) queued; discarding them", t->pid, n);
	for (int i = 0; n > 0 && i < SEIZE_MAX_SIGNAL_STOPS; i++) {
		if (ptrace(PTRACE_CONT, t->pid, NULL, (void *)(long)pass)) {
			ret = -errno;
			pr_perror("cannot resume pid %d to discard its stop signals", t->pid);
			return ret;
		}
		ret = wait_stop_timeout(t->pid, timeout_s, &status);
		if (ret)
			return ret;
		if (!WIFSTOPPED(status)) {
			pr_err("pid %d %s while its stop signals were discarded", t->pid,
			       infect_status_str(status, sbuf, sizeof(sbuf)));
			t->dead = true;
			return -ESRCH;
		}
		sig = WSTOPSIG(status);
		/* A group-stopped task traps once more for its group stop first. */
		if ((status >> 16) == K_PTRACE_EVENT_STOP) {
			pass = 0;
			continue;
		}
		/* Another signal may be due first: deliver it, the stop signal follows. */
		pass = is_stop_signal(sig) ? 0 : sig;
		if (!pass)
			n--;
	}
	if (n) {
		pr_err("pid %d keeps receiving signals; giving up seizing it", t->pid);
		return -EAGAIN;
	}
	if (t->state != TASK_STATE_STOPPED) {
		t->state = TASK_STATE_STOPPED;
		t->stop_signo = first;
	}
	return 0;
}

static int seize_one(pid_t pid, unsigned int timeout_s, bool thread, struct seized_task *t)
{
	long opts = PTRACE_O_TRACESYSGOOD;
	char buf[64];
	bool ours = take_preseized(pid);
	int ret;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->is_thread = thread;

	ret = check_seizable(pid, thread, ours);
	if (ret && ours) {
		/* Already attached and interrupted: take its trap and let it go. */
		t->attached = true;
		if (!wait_seized(t, timeout_s))
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
		t->attached = false;
		return ret;
	}
	if (ret)
		return ret;
	if (!infect_proc_status_field(pid, "Seccomp", buf, sizeof(buf)))
		t->seccomp_mode = atoi(buf);
	/* Keep the task's filters from judging the parasite's syscalls (facts 1.12). */
	if (t->seccomp_mode)
		opts |= PTRACE_O_SUSPEND_SECCOMP;

	if (ours) {
		/* Seized and interrupted while its cgroup was frozen: only its trap is left. */
		t->attached = true;
		goto wait;
	}
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)opts)) {
		ret = -errno;
		if (ret == -ESRCH) {
			pr_err("No process with pid %d", pid);
		} else if (ret == -EPERM &&
			   !infect_proc_status_field(pid, "TracerPid", buf, sizeof(buf)) &&
			   atoi(buf)) {
			pr_err("pid %d is already traced by pid %s", pid, buf);
			ret = -EBUSY;
		} else {
			pr_perror("cannot seize pid %d", pid);
		}
		return ret;
	}
	t->attached = true;

	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL)) {
		ret = -errno;
		pr_perror("cannot interrupt pid %d", pid);
		goto fail;
	}
wait:
	ret = wait_seized(t, timeout_s);
	/* Stop signals are the process's: the leader takes care of them. */
	if (!ret && !thread)
		ret = skip_pending_stops(t, timeout_s);
	if (ret)
		goto fail;

	ret = infect_get_regs(pid, &t->regs);
	if (ret)
		goto fail;
	if (t->regs.cs != X86_64_CS) {
		pr_err("pid %d runs 32-bit or LDT code (cs %#llx); only x86_64 tasks are supported",
		       pid, (unsigned long long)t->regs.cs);
		ret = -EOPNOTSUPP;
		goto fail;
	}
	ret = infect_get_sigmask(pid, &t->sigmask);
	if (ret)
		goto fail;
	pr_info("seized %s %d (%s)", thread ? "thread" : "pid", pid,
		t->state == TASK_STATE_STOPPED ? "stopped" : "running");
	return 0;
fail:
	if (!t->dead && t->attached)
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	t->attached = false;
	return ret;
}

int infect_seize(pid_t pid, unsigned int timeout_s, struct seized_task *t)
{
	return seize_one(pid, timeout_s, false, t);
}

int infect_seize_thread(pid_t tid, unsigned int timeout_s, struct seized_task *t)
{
	return seize_one(tid, timeout_s, true, t);
}

static void wait_gone(struct seized_task *t)
{
	char sbuf[128];
	int status;

	/* As tracer we see its death; if we are its parent this also reaps it. */
	for (;;) {
		if (infect_wait(t->pid, &status))
			return;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		/* Stops on the way to death (a group stop racing SIGKILL): let it go on. */
		pr_debug("pid %d %s on its way out", t->pid, infect_status_str(status, sbuf, sizeof(sbuf)));
		ptrace(PTRACE_CONT, t->pid, NULL, NULL);
	}
	t->dead = true;
}

void infect_wait_reaped(const pid_t *pids, size_t n)
{
	/*
	 * Not our children: they stay zombies until their parents reap them.
	 * Give the parents a moment, all of them together, so that a restore
	 * right after us finds the pids free (an orphan's reaper may be slow,
	 * facts 8.4; restore waits for zombies too).
	 */
	for (int i = 0; i < 300; i++) {
		size_t left = 0;

		for (size_t k = 0; k < n; k++) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/%d", pids[k]);
			left += !access(path, F_OK);
		}
		if (!left)
			return;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	pr_info("%zu killed process(es) are dead but not yet reaped by their parents", n);
}

int infect_detach(struct seized_task *t, enum infect_detach_mode mode)
{
	int ret = 0, sig = 0;

	if (!t->attached)
		return 0;
	if (t->dead) {
		t->attached = false;
		return 0;
	}

	if (mode == INFECT_DETACH_KILL) {
		/* A thread dies with its process: the leader's SIGKILL does it. */
		if (!t->is_thread && kill(t->pid, SIGKILL)) {
			ret = -errno;
			pr_perror("cannot kill pid %d", t->pid);
		}
		wait_gone(t);
		t->attached = false;
		return ret;
	}

	ret = infect_set_sigmask(t->pid, t->sigmask);
	if (!ret)
		ret = infect_set_regs(t->pid, &t->regs);

	if (t->is_thread)
		sig = 0; /* stop signals are process-wide: the leader sends them */
	else if (mode == INFECT_DETACH_STOPPED)
		sig = SIGSTOP;
	else if (t->state == TASK_STATE_STOPPED)
		sig = t->stop_signo;
	else if (t->new_stop_signo)
		sig = t->new_stop_signo;
	/*
	 * A stopped task must stop again once we let go: send the stop signal
	 * before detaching, so it is queued when the task resumes (facts 1.8).
	 */
	if (sig && kill(t->pid, sig)) {
		int err = -errno;

		pr_perror("cannot send signal %d to pid %d", sig, t->pid);
		if (!ret)
			ret = err;
	}
	if (ptrace(PTRACE_DETACH, t->pid, NULL, NULL)) {
		int err = -errno;

		pr_perror("cannot detach from pid %d", t->pid);
		if (!ret)
			ret = err;
	}
	t->attached = false;
	pr_info("released pid %d%s", t->pid, sig ? " (stopped)" : "");
	return ret;
}
