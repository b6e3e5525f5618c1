// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One process with 50 threads, each with its own state: values in the
 * callee-saved registers rbx and r12-r15 held across a futex wait in
 * assembly, a signal mask, a __thread (TLS) value and its address. After
 * restore the main thread wakes them; each checks its registers, its
 * mask, its TLS value and address, and that gettid() is the tid it had,
 * and the main thread collects the results.
 */
#define _GNU_SOURCE
#include "lib/crtest.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_THREADS 50

struct thr {
	int idx;
	pid_t tid;
	uint64_t *tls_addr;
	sigset_t mask;
	volatile int ready;
	/* results */
	volatile int done;
	uint64_t bad_regs;
	pid_t tid_after;
	uint64_t tls_after;
	uint64_t *tls_addr_after;
	int mask_ok;
};

static struct thr thrs[NR_THREADS];
static int go; /* the futex the threads wait on */
static __thread uint64_t tls_val;

static uint64_t seed_of(int i)
{
	return 0x1234567890abcdefULL * (uint64_t)(i + 1) ^ ((uint64_t)i << 56);
}

/*
 * Load rbx and r12-r15 with values made from SEED, sleep on the futex
 * until *FLAG is set (only rax, rcx, r11 and the argument registers are
 * touched meanwhile), then report a bit for each register that changed.
 */
static uint64_t hold_regs(uint64_t seed, int *flag)
{
	uint64_t bad;

	asm volatile("mov %[seed], %%r12\n\t"
		     "mov %[seed], %%r13\n\t"
		     "not %%r13\n\t"
		     "lea 1(%[seed]), %%r14\n\t"
		     "mov %[seed], %%r15\n\t"
		     "rol $17, %%r15\n\t"
		     "mov %[seed], %%rbx\n\t"
		     "xor $0x5a5a5a5a, %%rbx\n\t"
		     "1:\n\t"
		     "cmpl $0, (%[flag])\n\t"
		     "jne 2f\n\t"
		     "mov $202, %%eax\n\t" /* futex(flag, FUTEX_WAIT_PRIVATE, 0, NULL) */
		     "mov %[flag], %%rdi\n\t"
		     "mov $128, %%esi\n\t"
		     "xor %%edx, %%edx\n\t"
		     "xor %%r10d, %%r10d\n\t"
		     "syscall\n\t"
		     "jmp 1b\n\t"
		     "2:\n\t"
		     "xor %%eax, %%eax\n\t"
		     "mov %[seed], %%rdx\n\t"
		     "cmp %%rdx, %%r12\n\t"
		     "je 3f\n\t"
		     "or $1, %%eax\n\t"
		     "3:\n\t"
		     "not %%rdx\n\t"
		     "cmp %%rdx, %%r13\n\t"
		     "je 4f\n\t"
		     "or $2, %%eax\n\t"
		     "4:\n\t"
		     "lea 1(%[seed]), %%rdx\n\t"
		     "cmp %%rdx, %%r14\n\t"
		     "je 5f\n\t"
		     "or $4, %%eax\n\t"
		     "5:\n\t"
		     "mov %[seed], %%rdx\n\t"
		     "rol $17, %%rdx\n\t"
		     "cmp %%rdx, %%r15\n\t"
		     "je 6f\n\t"
		     "or $8, %%eax\n\t"
		     "6:\n\t"
		     "mov %[seed], %%rdx\n\t"
		     "xor $0x5a5a5a5a, %%rdx\n\t"
		     "cmp %%rdx, %%rbx\n\t"
		     "je 7f\n\t"
		     "or $16, %%eax\n\t"
		     "7:\n\t"
		     : "=&a"(bad)
		     : [seed] "r"(seed), [flag] "r"(flag)
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "r12", "r13", "r14", "r15",
		       "memory", "cc");
	return bad;
}

/* A mask of its own for thread I; SIGUSR1 always blocked (the main thread takes it). */
static void make_mask(int i, sigset_t *m)
{
	sigemptyset(m);
	sigaddset(m, SIGUSR1);
	sigaddset(m, SIGRTMIN + i % 20);
	if (i & 1)
		sigaddset(m, SIGUSR2);
	if (i & 2)
		sigaddset(m, SIGHUP);
	if (i & 4)
		sigaddset(m, SIGALRM);
	if (i & 8)
		sigaddset(m, SIGWINCH);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	sigset_t now;

	pthread_sigmask(SIG_SETMASK, &t->mask, NULL);
	tls_val = seed_of(t->idx) * 7;
	t->tls_addr = &tls_val;
	t->tid = (pid_t)syscall(SYS_gettid);
	__atomic_store_n(&t->ready, 1, __ATOMIC_SEQ_CST);

	t->bad_regs = hold_regs(seed_of(t->idx), &go);

	t->tid_after = (pid_t)syscall(SYS_gettid);
	t->tls_after = tls_val;
	t->tls_addr_after = &tls_val;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	t->mask_ok = 1;
	for (int s = 1; s <= SIGRTMAX; s++)
		if (s != SIGKILL && s != SIGSTOP &&
		    sigismember(&now, s) != sigismember(&t->mask, s))
			t->mask_ok = 0;
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[NR_THREADS];

	test_init(argc, argv);
	for (int i = 0; i < NR_THREADS; i++) {
		thrs[i].idx = i;
		make_mask(i, &thrs[i].mask);
		if (pthread_create(&th[i], NULL, thread_main, &thrs[i]))
			fail("pthread_create %d", i);
	}
	for (int i = 0; i < NR_THREADS; i++)
		while (!__atomic_load_n(&thrs[i].ready, __ATOMIC_SEQ_CST))
			usleep(1000);

	test_daemon();
	test_waitsig();

	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &go, FUTEX_WAKE_PRIVATE, NR_THREADS, NULL, NULL, 0);
	for (int i = 0; i < NR_THREADS; i++) {
		struct thr *t = &thrs[i];

		if (pthread_join(th[i], NULL)) {
			test_error("thread %d: pthread_join failed", i);
			continue;
		}
		if (!t->done)
			test_error("thread %d (tid %d) did not finish", i, t->tid);
		if (t->bad_regs)
			test_error("thread %d (tid %d): registers changed (mask %#llx: 1 r12, 2 r13, "
				   "4 r14, 8 r15, 16 rbx)", i, t->tid, (unsigned long long)t->bad_regs);
		if (t->tid_after != t->tid)
			test_error("thread %d: tid %d, was %d", i, t->tid_after, t->tid);
		if (t->tls_after != seed_of(i) * 7 || t->tls_addr_after != t->tls_addr)
			test_error("thread %d: TLS value %#llx at %p, want %#llx at %p", i,
				   (unsigned long long)t->tls_after, (void *)t->tls_addr_after,
				   (unsigned long long)(seed_of(i) * 7), (void *)t->tls_addr);
		if (!t->mask_ok)
			test_error("thread %d (tid %d): signal mask changed", i, t->tid);
	}
	test_finish();
}
