// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signal state across the dump:
 *   - handlers installed with different SA_* flags (SA_SIGINFO,
 *     SA_RESTART, SA_NODEFER, SA_RESETHAND, SA_ONSTACK) and sa_masks,
 *     one signal ignored; sigaction() must return the same after restore;
 *   - an alternate signal stack (sigaltstack) that must be kept;
 *   - a blocked mask;
 *   - pending signals, all blocked: a standard one and three queued
 *     real-time ones sent to the process with sigqueue() and values, and
 *     a real-time one sent to the thread with rt_tgsigqueueinfo().
 * After restore the test checks the sets, then unblocks and checks every
 * pending signal is delivered once, with its value, real-time ones in
 * the order they were queued, SA_ONSTACK handlers on the alternate stack.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SIG_STD SIGUSR2
#define SIG_RT1 (SIGRTMIN + 1)
#define SIG_RT2 (SIGRTMIN + 2)
#define SIG_RESET (SIGRTMIN + 5)
#define SIG_NODEFER (SIGRTMIN + 6)

static char altstack[64 * 1024] __attribute__((aligned(16)));

static struct {
	int sig;
	int value;
	int code;
	int on_altstack;
} got[16];
static volatile int nr_got;

static void handler(int sig, siginfo_t *si, void *uc)
{
	char here;
	int n = nr_got;

	(void)uc;
	if (n < 16) {
		got[n].sig = sig;
		got[n].value = si->si_value.sival_int;
		got[n].code = si->si_code;
		got[n].on_altstack = &here >= altstack && &here < altstack + sizeof(altstack);
		nr_got = n + 1;
	}
}

static void plain_handler(int sig)
{
	(void)sig;
}

struct want_action {
	int sig;
	int flags;
	int mask_sig; /* one signal in sa_mask, 0 for none */
	bool siginfo;
};

static const struct want_action *want_actions(void)
{
	static struct want_action w[6];

	w[0] = (struct want_action){ SIG_STD, SA_SIGINFO | SA_RESTART | SA_ONSTACK, SIGHUP, true };
	w[1] = (struct want_action){ SIG_RT1, SA_SIGINFO | SA_RESTART, SIGINT, true };
	w[2] = (struct want_action){ SIG_RT2, SA_SIGINFO | SA_ONSTACK, 0, true };
	w[3] = (struct want_action){ SIG_RESET, SA_RESETHAND, SIGQUIT, false };
	w[4] = (struct want_action){ SIG_NODEFER, SA_NODEFER | SA_RESTART, 0, false };
	w[5] = (struct want_action){ 0, 0, 0, false };
	return w;
}

static void install(void)
{
	const struct want_action *w = want_actions();
	struct sigaction sa;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };

	if (sigaltstack(&ss, NULL))
		fail("sigaltstack: %m");
	for (; w->sig; w++) {
		memset(&sa, 0, sizeof(sa));
		if (w->siginfo)
			sa.sa_sigaction = handler;
		else
			sa.sa_handler = plain_handler;
		sa.sa_flags = w->flags;
		sigemptyset(&sa.sa_mask);
		if (w->mask_sig)
			sigaddset(&sa.sa_mask, w->mask_sig);
		if (sigaction(w->sig, &sa, NULL))
			fail("sigaction(%d): %m", w->sig);
	}
	if (signal(SIGWINCH, SIG_IGN) == SIG_ERR)
		fail("ignore SIGWINCH: %m");
}

static void check_actions(void)
{
	const struct want_action *w = want_actions();
	struct sigaction sa;
	stack_t ss;

	if (sigaltstack(NULL, &ss))
		test_error("sigaltstack: %m");
	else if (ss.ss_sp != altstack || ss.ss_size != sizeof(altstack) || ss.ss_flags != 0)
		test_error("sigaltstack is %p+%zu flags %d, want %p+%zu flags 0", ss.ss_sp, ss.ss_size, ss.ss_flags,
			   (void *)altstack, sizeof(altstack));
	for (; w->sig; w++) {
		unsigned int mask_want = (unsigned int)w->flags | (w->siginfo ? SA_SIGINFO : 0U);

		if (sigaction(w->sig, NULL, &sa)) {
			test_error("sigaction(%d): %m", w->sig);
			continue;
		}
		if ((sa.sa_flags & (SA_SIGINFO | SA_RESTART | SA_NODEFER | SA_RESETHAND | SA_ONSTACK)) != mask_want)
			test_error("signal %d: flags %#x, want %#x", w->sig, (unsigned int)sa.sa_flags, mask_want);
		if (w->siginfo ? sa.sa_sigaction != handler : sa.sa_handler != plain_handler)
			test_error("signal %d: handler changed", w->sig);
		for (int s = 1; s < SIGRTMIN; s++)
			if (sigismember(&sa.sa_mask, s) != (s == w->mask_sig))
				test_error("signal %d: sa_mask bit %d is wrong", w->sig, s);
	}
	if (sigaction(SIGWINCH, NULL, &sa) || sa.sa_handler != SIG_IGN)
		test_error("SIGWINCH is no longer ignored");
}

static int tgsigqueue(int sig, int value)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = value;
	return (int)syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, &si);
}

int main(int argc, char **argv)
{
	sigset_t blocked, pending, cur;
	union sigval v;
	int i;

	test_init(argc, argv);
	install();

	sigemptyset(&blocked);
	sigaddset(&blocked, SIG_STD);
	sigaddset(&blocked, SIG_RT1);
	sigaddset(&blocked, SIG_RT2);
	sigaddset(&blocked, SIGHUP); /* blocked, never sent */
	if (sigprocmask(SIG_BLOCK, &blocked, NULL))
		fail("sigprocmask: %m");

	v.sival_int = 100;
	if (sigqueue(getpid(), SIG_STD, v))
		fail("sigqueue std: %m");
	for (i = 1; i <= 3; i++) {
		v.sival_int = 200 + i;
		if (sigqueue(getpid(), SIG_RT1, v))
			fail("sigqueue rt: %m");
	}
	if (tgsigqueue(SIG_RT2, 300))
		fail("rt_tgsigqueueinfo: %m");

	test_daemon();
	test_waitsig();

	check_actions();
	if (sigprocmask(SIG_BLOCK, NULL, &cur))
		fail("sigprocmask: %m");
	for (int s = 1; s < SIGRTMAX; s++)
		if (s != SIGUSR1 && sigismember(&cur, s) != sigismember(&blocked, s))
			test_error("blocked mask: signal %d is %s", s,
				   sigismember(&cur, s) ? "blocked" : "not blocked");
	sigpending(&pending);
	for (int s = 1; s < SIGRTMAX; s++) {
		bool want = s == SIG_STD || s == SIG_RT1 || s == SIG_RT2;

		if (sigismember(&pending, s) != want)
			test_error("pending: signal %d is %s", s, want ? "missing" : "there, unexpected");
	}

	/* Deliver: the standard one and the thread's, then the queue in order. */
	sigprocmask(SIG_UNBLOCK, &blocked, NULL);
	if (nr_got != 5) {
		test_error("%d signals delivered, want 5", nr_got);
	} else {
		int rt = 201;

		for (i = 0; i < 5; i++)
			test_msg("got %d value %d altstack %d", got[i].sig, got[i].value, got[i].on_altstack);
		for (i = 0; i < 5; i++) {
			int want_value = got[i].sig == SIG_STD ? 100 : got[i].sig == SIG_RT2 ? 300 : rt++;

			if (got[i].value != want_value || got[i].code != SI_QUEUE)
				test_error("signal %d: value %d code %d, want %d and SI_QUEUE", got[i].sig,
					   got[i].value, got[i].code, want_value);
			/* Others may nest on it too: the kernel stacks the frames. */
			if (got[i].sig != SIG_RT1 && !got[i].on_altstack)
				test_error("signal %d (SA_ONSTACK) ran off the alternate stack", got[i].sig);
		}
	}
	test_finish();
}
